//! Idempotent writes (the IETF `Idempotency-Key` draft, with Stripe's semantics): a client
//! names a write with a key; the first answer is kept with the key, in the same transaction as
//! the write, and a retry of the same request gets that answer back instead of writing again.

use std::sync::Arc;

/// A client's name for one write: 1 to [`Self::MAX_CHARS`] printable ASCII characters, the
/// first and last not a space (HTTP trims a header value's edges). Keys are per user: two users may use the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {} characters", IdempotencyKey::MAX_CHARS)]
    TooLong,
    #[error("may hold printable ASCII characters only")]
    NotPrintable,
    #[error("may not begin or end with a space")]
    EdgeSpace,
}

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;

    pub fn new(key: &str) -> Result<Self, KeyError> {
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if !key.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(KeyError::NotPrintable);
        }
        if key.starts_with(' ') || key.ends_with(' ') {
            return Err(KeyError::EdgeSpace);
        }
        // All ASCII now, so bytes are characters.
        if key.len() > Self::MAX_CHARS {
            return Err(KeyError::TooLong);
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An answer as it was first given: what every retry with the key gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Turns a write's result into the answer kept with its key. Run by the store inside the
/// write's transaction; an error rolls the write back (a failure, never a kept answer).
pub type Record<T> = Arc<dyn Fn(&T) -> anyhow::Result<Recorded> + Send + Sync>;

/// A write to be made at most once per key.
pub struct Once<T> {
    pub key: IdempotencyKey,
    /// Names the operation, for whoever reads the kept keys.
    pub operation: &'static str,
    /// Tells one request from another: a retry must have the same, or it is refused.
    pub fingerprint: Vec<u8>,
    pub record: Record<T>,
}

impl<T> Clone for Once<T> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            operation: self.operation,
            fingerprint: self.fingerprint.clone(),
            record: self.record.clone(),
        }
    }
}

/// What a write that may carry a key answers.
#[derive(Debug)]
pub enum Written<T> {
    /// Made without a key: the result itself.
    Done(T),
    /// Made with a key: the kept answer, and whether it is a replay of an earlier request's.
    Kept { answer: Recorded, replayed: bool },
}

/// Why a key cannot be used for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyConflict {
    #[error("a request with this idempotency key is still in progress")]
    InProgress,
    #[error("this idempotency key was used for a different request")]
    Mismatch,
}

/// A key as a store keeps it: whose, and for which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptKey {
    pub fingerprint: Vec<u8>,
    pub answer: Recorded,
}

impl KeptKey {
    /// What a request with this key's fingerprint gets: the kept answer, or a conflict.
    pub fn replay<T>(self, fingerprint: &[u8]) -> Result<Written<T>, KeyConflict> {
        if self.fingerprint != fingerprint {
            return Err(KeyConflict::Mismatch);
        }
        Ok(Written::Kept {
            answer: self.answer,
            replayed: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::new("a").is_ok());
        assert!(IdempotencyKey::new("retry 1: ~!").is_ok());
        assert!(IdempotencyKey::new(&"k".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::new(""), Err(KeyError::Empty));
        assert_eq!(
            IdempotencyKey::new(&"k".repeat(256)),
            Err(KeyError::TooLong)
        );
        for bad in ["tab\t", "nul\0", "é", "line\n", "del\u{7f}"] {
            assert_eq!(
                IdempotencyKey::new(bad),
                Err(KeyError::NotPrintable),
                "{bad:?}"
            );
        }
        for bad in [" ", " lead", "trail "] {
            assert_eq!(
                IdempotencyKey::new(bad),
                Err(KeyError::EdgeSpace),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_kept_key_replays_only_the_same_request() {
        let kept = KeptKey {
            fingerprint: vec![1, 2],
            answer: Recorded {
                status: 200,
                body: b"{}".to_vec(),
            },
        };
        assert_eq!(
            kept.clone().replay::<()>(&[1, 3]).err(),
            Some(KeyConflict::Mismatch)
        );
        match kept.replay::<()>(&[1, 2]) {
            Ok(Written::Kept { answer, replayed }) => {
                assert!(replayed);
                assert_eq!(answer.body, b"{}");
            }
            other => panic!("{other:?}"),
        }
    }
}
