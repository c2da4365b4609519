//! Messages: who speaks, what may be said, and how many may be said at once.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, MessageId, UserId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    User,
    Assistant,
    System,
}

impl Actor {
    /// Every actor, in the order the contract lists them (and error messages name them).
    pub const ALL: [Actor; 3] = [Actor::User, Actor::Assistant, Actor::System];

    pub const fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Assistant => "assistant",
            Actor::System => "system",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown actor {0:?}")]
pub struct UnknownActor(pub String);

impl FromStr for Actor {
    type Err = UnknownActor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Actor::ALL
            .into_iter()
            .find(|actor| actor.as_str() == s)
            .ok_or_else(|| UnknownActor(s.to_owned()))
    }
}

/// Limits that come from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLimits {
    max_message_chars: usize,
    max_batch: usize,
}

impl MessageLimits {
    /// Generous: what bounds a request is the body's byte budget (`limits.max_body_bytes`),
    /// not a count a long AI answer or a long playground would reach.
    pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 1_048_576;
    pub const DEFAULT_MAX_BATCH: usize = 10_000;

    /// Both limits must be at least 1: a limit of 0 would refuse every request.
    pub fn new(max_message_chars: usize, max_batch: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(
            max_message_chars >= 1,
            "limits.max_message_chars must be at least 1"
        );
        anyhow::ensure!(max_batch >= 1, "limits.max_batch must be at least 1");
        Ok(Self {
            max_message_chars,
            max_batch,
        })
    }

    pub fn max_message_chars(&self) -> usize {
        self.max_message_chars
    }

    pub fn max_batch(&self) -> usize {
        self.max_batch
    }
}

impl Default for MessageLimits {
    fn default() -> Self {
        Self {
            max_message_chars: Self::DEFAULT_MAX_MESSAGE_CHARS,
            max_batch: Self::DEFAULT_MAX_BATCH,
        }
    }
}

/// One rule a message text breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextViolation {
    /// No character other than white space.
    Blank,
    /// More characters (Unicode scalar values, not bytes) than the limit.
    TooLong { max: usize },
    /// U+0000, which PostgreSQL cannot store in `text`; refused on every backend alike.
    ContainsNul,
}

/// Every rule a message text breaks (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid message text: {violations:?}")]
pub struct MessageTextError {
    pub violations: Vec<TextViolation>,
}

/// The text of a message: not blank, not over the limit, storable. Kept exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn new(text: String, limits: &MessageLimits) -> Result<Self, MessageTextError> {
        let mut violations = Vec::new();
        if crate::text::is_blank(&text) {
            violations.push(TextViolation::Blank);
        }
        // `nth` stops counting at the limit instead of walking a huge text to its end.
        if text.chars().nth(limits.max_message_chars).is_some() {
            violations.push(TextViolation::TooLong {
                max: limits.max_message_chars,
            });
        }
        if text.contains('\0') {
            violations.push(TextViolation::ContainsNul);
        }
        if violations.is_empty() {
            Ok(Self(text))
        } else {
            Err(MessageTextError { violations })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A message not stored yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub text: MessageText,
    pub actor: Actor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchSizeError {
    #[error("a batch needs at least one message")]
    Empty,
    #[error("a batch holds at most {max} messages")]
    TooMany { max: usize },
}

/// The messages of one request, in request order: at least one, at most the configured maximum.
/// Both body shapes of the contract (one message, or a list) become one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBatch(Vec<NewMessage>);

impl MessageBatch {
    pub fn new(messages: Vec<NewMessage>, limits: &MessageLimits) -> Result<Self, BatchSizeError> {
        Self::check_len(messages.len(), limits)?;
        Ok(Self(messages))
    }

    /// One message is always a valid batch.
    pub fn single(message: NewMessage) -> Self {
        Self(vec![message])
    }

    /// The size rule alone, so that an adapter can report it beside the rules each message breaks.
    pub fn check_len(len: usize, limits: &MessageLimits) -> Result<(), BatchSizeError> {
        if len == 0 {
            Err(BatchSizeError::Empty)
        } else if len > limits.max_batch {
            Err(BatchSizeError::TooMany {
                max: limits.max_batch,
            })
        } else {
            Ok(())
        }
    }

    pub fn messages(&self) -> &[NewMessage] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a batch is never empty. Here because `len` without it is a lint.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A stored message. Its text is whatever the store holds (rows may be seeded by plain SQL),
/// so it is a `String`, not a `MessageText`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub text: String,
    pub actor: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which messages "delete the last exchange" removes, as the app does: every trailing `user`
/// message (questions never answered), then, if at least two messages are left, the last two
/// of those (the last answer and what it answered). `messages` are the chat's, oldest first;
/// the result is in the same order.
pub fn last_exchange(messages: &[(MessageId, Actor)]) -> Vec<MessageId> {
    let trailing_users = messages
        .iter()
        .rev()
        .take_while(|(_, actor)| *actor == Actor::User)
        .count();
    let rest = messages.len() - trailing_users;
    let first = if rest >= 2 { rest - 2 } else { rest };
    messages[first..].iter().map(|(id, _)| *id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(chars: usize, batch: usize) -> MessageLimits {
        MessageLimits::new(chars, batch).unwrap()
    }

    #[test]
    fn actor_round_trips_and_refuses_others() {
        for actor in Actor::ALL {
            assert_eq!(actor.as_str().parse::<Actor>(), Ok(actor));
        }
        assert_eq!("bot".parse::<Actor>(), Err(UnknownActor("bot".into())));
        assert!("User".parse::<Actor>().is_err());
    }

    #[test]
    fn text_is_kept_verbatim() {
        let text = MessageText::new("  hi \n".into(), &limits(10, 1)).unwrap();
        assert_eq!(text.as_str(), "  hi \n");
    }

    #[test]
    fn blank_text_is_refused() {
        for blank in ["", " ", "\t\n\r", "\u{a0}\u{2003}", "\u{feff}"] {
            let err = MessageText::new(blank.into(), &limits(10, 1)).unwrap_err();
            assert_eq!(err.violations, vec![TextViolation::Blank], "{blank:?}");
        }
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let l = limits(3, 1);
        assert!(MessageText::new("ééé".into(), &l).is_ok()); // 6 bytes, 3 characters
        assert!(MessageText::new("😀😀😀".into(), &l).is_ok());
        let err = MessageText::new("éééé".into(), &l).unwrap_err();
        assert_eq!(err.violations, vec![TextViolation::TooLong { max: 3 }]);
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let err = MessageText::new("    \0".into(), &limits(3, 1)).unwrap_err();
        assert_eq!(
            err.violations,
            vec![
                TextViolation::TooLong { max: 3 },
                TextViolation::ContainsNul
            ]
        );
        let err = MessageText::new(" \0 ".into(), &limits(2, 1)).unwrap_err();
        assert_eq!(
            err.violations,
            vec![
                TextViolation::TooLong { max: 2 },
                TextViolation::ContainsNul
            ]
        );
    }

    #[test]
    fn nul_is_refused() {
        let err = MessageText::new("a\0b".into(), &limits(10, 1)).unwrap_err();
        assert_eq!(err.violations, vec![TextViolation::ContainsNul]);
    }

    #[test]
    fn batch_size_is_bounded() {
        let l = limits(10, 2);
        let msg = NewMessage {
            text: MessageText::new("x".into(), &l).unwrap(),
            actor: Actor::User,
        };
        assert_eq!(MessageBatch::new(vec![], &l), Err(BatchSizeError::Empty));
        assert_eq!(
            MessageBatch::new(vec![msg.clone(); 2], &l).map(|b| b.len()),
            Ok(2)
        );
        assert_eq!(
            MessageBatch::new(vec![msg; 3], &l),
            Err(BatchSizeError::TooMany { max: 2 })
        );
    }

    #[test]
    fn the_last_exchange_is_trailing_questions_and_the_last_pair() {
        use Actor::{Assistant as A, System as S, User as U};
        let ids = |actors: &[Actor]| -> Vec<(MessageId, Actor)> {
            actors
                .iter()
                .enumerate()
                .map(|(i, a)| (MessageId::new(i as i64 + 1), *a))
                .collect()
        };
        let got = |actors: &[Actor]| -> Vec<i64> {
            last_exchange(&ids(actors))
                .iter()
                .map(|id| id.get())
                .collect()
        };
        assert_eq!(got(&[]), Vec::<i64>::new());
        assert_eq!(got(&[U]), vec![1]);
        assert_eq!(got(&[U, A]), vec![1, 2]);
        assert_eq!(got(&[S, U, A, U, A]), vec![4, 5]);
        assert_eq!(got(&[U, A, U, U]), vec![1, 2, 3, 4]);
        assert_eq!(got(&[S, U, A, U]), vec![2, 3, 4]);
        // One message left after the trailing questions: it stays, as in the app.
        assert_eq!(got(&[S, U, U]), vec![2, 3]);
        assert_eq!(got(&[A]), Vec::<i64>::new());
    }

    #[test]
    fn zero_limits_are_refused() {
        assert!(MessageLimits::new(0, 1).is_err());
        assert!(MessageLimits::new(1, 0).is_err());
    }
}
