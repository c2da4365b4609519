//! A page bounded by bytes as well as by rows: the page ends before the row that would take it
//! past the read budget (a page always holds at least one row), so a read of a chat of large
//! messages, or of many chats with long names, pages instead of building an answer of any size.
//! The store stops at the budget too (see `ChatStore::list_messages`, `ChatStore::list_chats`),
//! so the rows past it are never loaded.

use crate::chat::Chat;
use crate::message::ChatMessage;
use crate::paging::{ChatOrder, ChatPage, MessagePage, PageLimit};

/// The most bytes of rows one read answers (`limits.read_budget_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget(usize);

impl ReadBudget {
    pub const DEFAULT: ReadBudget = ReadBudget(2 * 1024 * 1024);
    /// What a row costs besides its texts: roughly the rest of its JSON (ids, actor, two
    /// timestamps, the keys).
    pub const ROW_COST: usize = 200;

    /// `None` for 0 bytes, which would refuse every read.
    pub fn new(bytes: usize) -> Option<Self> {
        (bytes > 0).then_some(Self(bytes))
    }

    pub fn get(self) -> usize {
        self.0
    }

    /// What a row whose texts take `text_bytes` costs the budget.
    pub fn cost(text_bytes: usize) -> usize {
        text_bytes + Self::ROW_COST
    }

    /// Up to `limit` of `rows` (up to `limit + 1` of them, in order) that fit the budget: they
    /// end at the limit, or before the row that would pass the budget; and whether more follow.
    fn cut<T>(self, rows: Vec<T>, limit: PageLimit, text_bytes: fn(&T) -> usize) -> (Vec<T>, bool) {
        let mut page = Vec::with_capacity(rows.len().min(limit.get()));
        let mut bytes = 0;
        for row in rows {
            let cost = Self::cost(text_bytes(&row));
            if page.len() == limit.get() || (!page.is_empty() && bytes + cost > self.0) {
                return (page, true);
            }
            bytes += cost;
            page.push(row);
        }
        (page, false)
    }
}

/// How a store that reads rows one at a time knows when it has enough: it reads another row
/// while the total cost of the rows before the last one read is within the budget, so the row
/// that passes the budget comes too (it tells that more follow), and at most one after it.
#[derive(Debug)]
pub struct ReadCount {
    budget: usize,
    /// The total cost of the rows before the last one read.
    ahead: usize,
    total: usize,
}

impl ReadCount {
    pub fn new(budget: ReadBudget) -> Self {
        Self {
            budget: budget.0,
            ahead: 0,
            total: 0,
        }
    }

    /// Whether to read another row.
    pub fn wants_more(&self) -> bool {
        self.ahead <= self.budget
    }

    /// Counts a row read whose texts take `text_bytes`.
    pub fn count(&mut self, text_bytes: usize) {
        (self.ahead, self.total) = (self.total, self.total + ReadBudget::cost(text_bytes));
    }

    /// Reads `rows` one at a time while the budget wants more, or up to the first error.
    pub fn read<T, E>(
        budget: ReadBudget,
        rows: impl IntoIterator<Item = Result<T, E>>,
        text_bytes: impl Fn(&T) -> usize,
    ) -> Result<Vec<T>, E> {
        let (mut read, mut count, mut rows) = (Vec::new(), Self::new(budget), rows.into_iter());
        while count.wants_more() {
            let Some(row) = rows.next() else { break };
            let row = row?;
            count.count(text_bytes(&row));
            read.push(row);
        }
        Ok(read)
    }
}

/// The bytes of a message's text, what the budget counts of it.
pub fn message_bytes(m: &ChatMessage) -> usize {
    m.text.len()
}

/// The bytes of a chat's texts (its name and model), what the budget counts of it.
pub fn chat_bytes(c: &Chat) -> usize {
    c.name.len() + c.model.len()
}

impl MessagePage {
    /// The page of `rows` (up to `limit + 1` of them, in order) within `limit` and the budget.
    pub fn within(rows: Vec<ChatMessage>, limit: PageLimit, budget: ReadBudget) -> Self {
        let (messages, has_more) = budget.cut(rows, limit, message_bytes);
        Self { messages, has_more }
    }
}

impl ChatPage {
    /// The page of `rows` (up to `limit + 1` of them, in `order`) within `limit` and the budget.
    pub fn within(
        rows: Vec<Chat>,
        limit: PageLimit,
        budget: ReadBudget,
        order: &ChatOrder,
    ) -> Self {
        let (chats, more) = budget.cut(rows, limit, chat_bytes);
        let next = more
            .then(|| {
                chats
                    .last()
                    .map(|last| crate::paging::ChatCursor::after(last, order))
            })
            .flatten();
        Self { chats, next }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::{ChatId, MessageId, UserId};
    use crate::message::Actor;

    fn message(id: i64, bytes: usize) -> ChatMessage {
        ChatMessage {
            id: MessageId::new(id),
            chat_id: ChatId::new(1).unwrap(),
            user_id: UserId::new(1).unwrap(),
            text: "x".repeat(bytes),
            actor: Actor::User,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn limit(n: usize) -> PageLimit {
        PageLimit::new(n as u64, usize::MAX).unwrap()
    }

    #[test]
    fn the_budget_ends_a_page_before_the_message_that_passes_it() {
        let rows = (1..=5).map(|i| message(i, 300)).collect();
        let page = MessagePage::within(rows, limit(100), ReadBudget::new(1000).unwrap());
        assert_eq!(
            page.messages.len(),
            2,
            "500 + 500 bytes fit, a third would not"
        );
        assert!(page.has_more);
        assert_eq!(page.next_cursor(), Some(MessageId::new(2)));
    }

    #[test]
    fn a_page_holds_one_message_however_large() {
        let rows = vec![message(1, 5000), message(2, 1)];
        let page = MessagePage::within(rows, limit(100), ReadBudget::new(10).unwrap());
        assert_eq!((page.messages.len(), page.has_more), (1, true));
    }

    #[test]
    fn the_limit_still_holds() {
        let rows = (1..=11).map(|i| message(i, 1)).collect();
        let page = MessagePage::within(rows, limit(10), ReadBudget::DEFAULT);
        assert_eq!((page.messages.len(), page.has_more), (10, true));
        let rows = (1..=10).map(|i| message(i, 1)).collect();
        let page = MessagePage::within(rows, limit(10), ReadBudget::DEFAULT);
        assert_eq!((page.messages.len(), page.has_more), (10, false));
    }
}
