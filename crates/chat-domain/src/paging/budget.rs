//! A page of messages bounded by bytes as well as by rows: the page ends before the message
//! that would take it past the read budget (a page always holds at least one message), so a
//! read of a chat of large messages pages instead of building an answer of any size. The store
//! stops at the budget too (see `ChatStore::list_messages`), so the rows past it are never
//! loaded.

use crate::message::ChatMessage;
use crate::paging::{MessagePage, PageLimit};

/// The most bytes of messages one read answers (`limits.read_budget_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget(usize);

impl ReadBudget {
    pub const DEFAULT: ReadBudget = ReadBudget(2 * 1024 * 1024);
    /// What a message costs besides its text: roughly the rest of its JSON (ids, actor, two
    /// timestamps, the keys).
    pub const ROW_COST: usize = 200;

    /// `None` for 0 bytes, which would refuse every read.
    pub fn new(bytes: usize) -> Option<Self> {
        (bytes > 0).then_some(Self(bytes))
    }

    pub fn get(self) -> usize {
        self.0
    }

    /// What a message of `text_bytes` costs the budget.
    pub fn cost(text_bytes: usize) -> usize {
        text_bytes + Self::ROW_COST
    }
}

impl MessagePage {
    /// The page of up to `limit` of `rows` (up to `limit + 1` of them, in order) that fit the
    /// budget: it ends at the limit, or before the message that would pass the budget, and
    /// says whether more follow.
    pub fn within(rows: Vec<ChatMessage>, limit: PageLimit, budget: ReadBudget) -> Self {
        let mut messages = Vec::with_capacity(rows.len().min(limit.get()));
        let (mut bytes, mut has_more) = (0, false);
        for row in rows {
            let cost = ReadBudget::cost(row.text.len());
            let full = messages.len() == limit.get()
                || (!messages.is_empty() && bytes + cost > budget.get());
            if full {
                has_more = true;
                break;
            }
            bytes += cost;
            messages.push(row);
        }
        Self { messages, has_more }
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
