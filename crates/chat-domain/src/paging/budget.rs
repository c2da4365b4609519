//! A page of messages bounded by bytes as well as by rows: the page ends before the message
//! that would take it past the read budget (a page always holds at least one message), so a
//! read of a chat of large messages pages instead of building an answer of any size. The store
//! is asked in chunks, so that a page cut by the budget never loads the rows past it.

use crate::ids::MessageId;
use crate::message::ChatMessage;
use crate::paging::{Direction, MessageListQuery, MessagePage, PageLimit};

/// The most bytes of messages one read answers (`limits.read_budget_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget(usize);

impl ReadBudget {
    pub const DEFAULT: ReadBudget = ReadBudget(2 * 1024 * 1024);

    /// `None` for 0 bytes, which would refuse every read.
    pub fn new(bytes: usize) -> Option<Self> {
        (bytes > 0).then_some(Self(bytes))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// What a message costs the budget: its text and, roughly, the rest of its JSON (ids, actor,
/// two timestamps, the keys).
fn cost(message: &ChatMessage) -> usize {
    const FIELDS: usize = 200;
    message.text.len() + FIELDS
}

/// Rows asked of the store first, before their sizes are known: few enough that a chunk of
/// large messages stays near the budget's size. A page asked for by a small `limit` (the UI's
/// pages) is asked for whole, in one round trip.
const FIRST_CHUNK: usize = 16;
/// The largest `limit` whose page is asked for whole.
const WHOLE_PAGE: usize = 64;
/// The most rows asked of the store at a time, once they are known to be small.
const CHUNK: usize = 500;

/// A page being filled from the store's rows, chunk after chunk.
pub struct PageBuilder {
    limit: PageLimit,
    budget: ReadBudget,
    messages: Vec<ChatMessage>,
    bytes: usize,
    more: bool,
}

impl PageBuilder {
    pub fn new(limit: PageLimit, budget: ReadBudget) -> Self {
        Self {
            limit,
            budget,
            messages: Vec::new(),
            bytes: 0,
            more: false,
        }
    }

    /// How many rows to ask for next: the rest of the page and one more, to learn whether
    /// more follow; at most what the budget left holds at the mean size so far (a few at
    /// first), and at most a chunk.
    pub fn rows_to_ask(&self) -> usize {
        let fits = match self.messages.len() {
            0 if self.limit.get() <= WHOLE_PAGE => self.limit.get() + 1,
            0 => FIRST_CHUNK,
            n => {
                let mean = (self.bytes / n).max(1);
                self.budget.get().saturating_sub(self.bytes) / mean + 1
            }
        };
        (self.limit.get() - self.messages.len() + 1)
            .min(fits.max(1))
            .min(CHUNK)
    }

    /// Takes rows in order until the page is full (by rows or by bytes); the last message
    /// taken, or `None` once the page is full or no row came.
    pub fn take(&mut self, rows: Vec<ChatMessage>) -> Option<MessageId> {
        let came = !rows.is_empty();
        for row in rows {
            let cost = cost(&row);
            let full = self.messages.len() == self.limit.get()
                || (!self.messages.is_empty() && self.bytes + cost > self.budget.get());
            if full {
                self.more = true;
                return None;
            }
            self.bytes += cost;
            self.messages.push(row);
        }
        came.then(|| self.messages.last().map(|m| m.id)).flatten()
    }

    pub fn finish(self) -> MessagePage {
        MessagePage {
            messages: self.messages,
            has_more: self.more,
        }
    }
}

impl MessageListQuery {
    /// This query, continuing past `last` in its direction.
    pub fn past(&self, last: MessageId) -> Self {
        match self.direction {
            Direction::Asc => Self {
                after: Some(last),
                ..*self
            },
            Direction::Desc => Self {
                before: Some(last),
                ..*self
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::{ChatId, UserId};
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
        let mut page = PageBuilder::new(limit(100), ReadBudget::new(1000).unwrap());
        assert_eq!(page.rows_to_ask(), FIRST_CHUNK);
        let rows = (1..=5).map(|i| message(i, 300)).collect();
        assert_eq!(page.take(rows), None);
        let page = page.finish();
        assert_eq!(
            page.messages.len(),
            2,
            "500 + 500 bytes fit, a third would not"
        );
        assert!(page.has_more);
        assert_eq!(page.next_cursor(), Some(MessageId::new(2)));
    }

    #[test]
    fn large_rows_are_asked_for_a_few_at_a_time() {
        let mut page = PageBuilder::new(limit(10_000), ReadBudget::new(1 << 20).unwrap());
        let rows = (1..=16).map(|i| message(i, 16 * 1024 - 200)).collect();
        assert_eq!(
            page.take(rows),
            Some(MessageId::new(16)),
            "the budget holds 64 of them"
        );
        assert_eq!(
            page.rows_to_ask(),
            49,
            "48 more fit, and one to learn whether more follow"
        );
        let mut page = PageBuilder::new(limit(10_000), ReadBudget::new(1 << 20).unwrap());
        let rows = (1..=10).map(|i| message(i, 64 * 1024 - 200)).collect();
        page.take(rows);
        assert_eq!(
            page.rows_to_ask(),
            7,
            "6 more fit, and one to learn whether more follow"
        );
    }

    #[test]
    fn a_page_holds_one_message_however_large() {
        let mut page = PageBuilder::new(limit(100), ReadBudget::new(10).unwrap());
        page.take(vec![message(1, 5000), message(2, 1)]);
        let page = page.finish();
        assert_eq!(page.messages.len(), 1);
        assert!(page.has_more);
    }

    #[test]
    fn rows_come_in_chunks_and_the_limit_still_holds() {
        let mut page = PageBuilder::new(limit(1200), ReadBudget::DEFAULT);
        assert_eq!(page.rows_to_ask(), FIRST_CHUNK);
        let chunk = |from: i64, n: usize| (from..from + n as i64).map(|i| message(i, 10)).collect();
        assert_eq!(page.take(chunk(1, FIRST_CHUNK)), Some(MessageId::new(16)));
        assert_eq!(page.rows_to_ask(), CHUNK, "small rows: a full chunk");
        assert_eq!(page.take(chunk(17, CHUNK)), Some(MessageId::new(516)));
        assert_eq!(page.take(chunk(517, CHUNK)), Some(MessageId::new(1016)));
        assert_eq!(page.rows_to_ask(), 185);
        let rest: Vec<_> = (1017..=1201).map(|i| message(i, 10)).collect();
        assert_eq!(page.take(rest), None, "the 1,201st is past the limit");
        let page = page.finish();
        assert_eq!(page.messages.len(), 1200);
        assert!(page.has_more);
    }

    #[test]
    fn a_small_page_is_asked_for_whole() {
        let page = PageBuilder::new(limit(50), ReadBudget::DEFAULT);
        assert_eq!(page.rows_to_ask(), 51);
    }

    #[test]
    fn a_chat_that_ends_ends_the_page() {
        let mut page = PageBuilder::new(limit(100), ReadBudget::DEFAULT);
        assert_eq!(page.take(vec![message(1, 1)]), Some(MessageId::new(1)));
        let page = page.finish();
        assert_eq!((page.messages.len(), page.has_more), (1, false));
    }
}
