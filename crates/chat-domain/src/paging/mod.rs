//! Reading in pages: chat order, keyset cursors, page sizes. Keyset (not offset) paging, so that
//! rows written or deleted while a client pages neither repeat nor go missing.

mod budget;

pub use budget::{ReadBudget, ReadCount, chat_bytes, message_bytes};

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::chat::Chat;
use crate::ids::{ChatId, MessageId};
use crate::message::ChatMessage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

impl FromStr for Direction {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "asc" => Ok(Direction::Asc),
            "desc" => Ok(Direction::Desc),
            _ => Err(()),
        }
    }
}

/// The columns a chat list may be ordered by (an allow-list: nothing else reaches SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatSortField {
    Id,
    Name,
    Model,
    CreatedAt,
    UpdatedAt,
}

impl ChatSortField {
    pub const ALL: [ChatSortField; 5] = [
        ChatSortField::Id,
        ChatSortField::Name,
        ChatSortField::Model,
        ChatSortField::CreatedAt,
        ChatSortField::UpdatedAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChatSortField::Id => "id",
            ChatSortField::Name => "name",
            ChatSortField::Model => "model",
            ChatSortField::CreatedAt => "created_at",
            ChatSortField::UpdatedAt => "updated_at",
        }
    }
}

/// One `column:direction` pair of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortBy {
    pub field: ChatSortField,
    pub direction: Direction,
}

/// The app's `order_by`: `column:direction` pairs, comma-separated, most significant first,
/// each column at most once (`updated_at:asc,name:desc`). Rows that tie on every pair are
/// ordered by id, in the last pair's direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatOrder(Vec<SortBy>);

impl ChatOrder {
    pub fn keys(&self) -> &[SortBy] {
        &self.0
    }

    /// The direction of the final tie-break by id.
    pub fn id_direction(&self) -> Direction {
        self.0.last().map_or(Direction::Desc, |key| key.direction)
    }
}

impl Default for ChatOrder {
    /// The app's default: newest activity first, then by name.
    fn default() -> Self {
        Self(vec![
            SortBy {
                field: ChatSortField::UpdatedAt,
                direction: Direction::Desc,
            },
            SortBy {
                field: ChatSortField::Name,
                direction: Direction::Desc,
            },
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "order_by must be column:direction pairs separated by commas, each column at most once; \
     columns: {columns}; directions: asc, desc",
    columns = ChatSortField::ALL.map(ChatSortField::as_str).join(", ")
)]
pub struct InvalidOrder;

impl FromStr for ChatOrder {
    type Err = InvalidOrder;

    fn from_str(s: &str) -> Result<Self, InvalidOrder> {
        let mut keys: Vec<SortBy> = Vec::new();
        for pair in s.split(',') {
            let (field, direction) = pair.split_once(':').ok_or(InvalidOrder)?;
            let field = ChatSortField::ALL
                .into_iter()
                .find(|f| f.as_str() == field)
                .ok_or(InvalidOrder)?;
            let direction = direction.parse().map_err(|()| InvalidOrder)?;
            if keys.iter().any(|k| k.field == field) {
                return Err(InvalidOrder);
            }
            keys.push(SortBy { field, direction });
        }
        Ok(Self(keys))
    }
}

impl fmt::Display for ChatOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{}:{}", key.field.as_str(), key.direction.as_str())?;
        }
        Ok(())
    }
}

/// The value of one sort column in the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Ordering by id: the id is the whole key.
    Id,
    Text(String),
    Time(DateTime<Utc>),
}

impl SortKey {
    fn of(chat: &Chat, field: ChatSortField) -> Self {
        match field {
            ChatSortField::Id => SortKey::Id,
            ChatSortField::Name => SortKey::Text(chat.name.clone()),
            ChatSortField::Model => SortKey::Text(chat.model.clone()),
            ChatSortField::CreatedAt => SortKey::Time(chat.created_at),
            ChatSortField::UpdatedAt => SortKey::Time(chat.updated_at),
        }
    }

    /// Whether the key's kind is the one `field` has (a cursor from elsewhere may lie).
    fn fits(&self, field: ChatSortField) -> bool {
        matches!(
            (field, self),
            (ChatSortField::Id, SortKey::Id)
                | (ChatSortField::Name | ChatSortField::Model, SortKey::Text(_))
                | (
                    ChatSortField::CreatedAt | ChatSortField::UpdatedAt,
                    SortKey::Time(_)
                )
        )
    }
}

/// Where the next page of chats starts: after the row with these keys (one per pair of the
/// order) and this id, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCursor {
    pub order: ChatOrder,
    pub keys: Vec<SortKey>,
    pub id: ChatId,
}

impl ChatCursor {
    /// The cursor that continues after `chat` in `order`.
    pub fn after(chat: &Chat, order: &ChatOrder) -> Self {
        let keys = order
            .keys()
            .iter()
            .map(|k| SortKey::of(chat, k.field))
            .collect();
        Self {
            order: order.clone(),
            keys,
            id: chat.id,
        }
    }

    /// Whether there is a key for each pair of the order, of the kind its column has.
    pub fn fits(&self) -> bool {
        self.keys.len() == self.order.keys().len()
            && self
                .order
                .keys()
                .iter()
                .zip(&self.keys)
                .all(|(sort, key)| key.fits(sort.field))
    }
}

/// How many rows a page holds: 1 to the route's maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageLimitError {
    #[error("a page holds at least 1 row")]
    TooSmall,
    #[error("a page holds at most {max} rows")]
    TooBig { max: usize },
}

impl PageLimit {
    /// The most an explicit `limit` may ask for.
    pub const CHATS_MAX: usize = 200;
    pub const MESSAGES_MAX: usize = 1000;
    /// How many rows a read without `limit` returns at most before it pages: the app reads
    /// whole chats and whole chat lists, so a client that does not page gets everything up to
    /// this ceiling (a setting; this is its default).
    pub const DEFAULT_CEILING: PageLimit = PageLimit(10_000);

    /// What a read without `limit` gets: everything, up to `ceiling` rows.
    pub fn whole(ceiling: PageLimit) -> Self {
        ceiling
    }

    pub fn new(value: u64, max: usize) -> Result<Self, PageLimitError> {
        if value == 0 {
            return Err(PageLimitError::TooSmall);
        }
        match usize::try_from(value) {
            Ok(v) if v <= max => Ok(Self(v)),
            _ => Err(PageLimitError::TooBig { max }),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// A request for a page of chats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatListQuery {
    pub order: ChatOrder,
    pub limit: PageLimit,
    pub after: Option<ChatCursor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPage {
    pub chats: Vec<Chat>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ChatCursor>,
}

/// A request for a page of a chat's messages, by id: `after`/`before` bound the range
/// (exclusive), `direction` says which end comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageListQuery {
    pub after: Option<MessageId>,
    pub before: Option<MessageId>,
    pub direction: Direction,
    pub limit: PageLimit,
}

impl MessageListQuery {
    /// Oldest first unless the client asks otherwise.
    pub const DEFAULT_DIRECTION: Direction = Direction::Asc;

    /// The bound the next page moves (`after` ascending, `before` descending) and the one it
    /// keeps, in that order.
    pub fn bounds(&self) -> [(&'static str, Option<MessageId>); 2] {
        match self.direction {
            Direction::Asc => [("after", self.after), ("before", self.before)],
            Direction::Desc => [("before", self.before), ("after", self.after)],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    pub messages: Vec<ChatMessage>,
    /// Whether more messages lie beyond the last one in the page's direction.
    pub has_more: bool,
}

impl MessagePage {
    /// The id the next page continues from (`after` ascending, `before` descending).
    pub fn next_cursor(&self) -> Option<MessageId> {
        self.has_more
            .then(|| self.messages.last().map(|m| m.id))
            .flatten()
    }

    /// The query for the next page of `query`: past this page's last message in its direction;
    /// the other bound, if any, stays. `None` on the last page.
    pub fn next_query(&self, query: &MessageListQuery) -> Option<MessageListQuery> {
        let last = Some(self.next_cursor()?);
        Some(match query.direction {
            Direction::Asc => MessageListQuery {
                after: last,
                ..*query
            },
            Direction::Desc => MessageListQuery {
                before: last,
                ..*query
            },
        })
    }
}

#[cfg(test)]
mod tests;
