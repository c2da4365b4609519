//! How domain values are written on the wire, where more than one resource writes them.

use std::borrow::Cow;

use chat_domain::Actor;
use chrono::{DateTime, Datelike as _, SecondsFormat, Timelike as _, Utc};
use serde::{Serialize, Serializer};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// As JavaScript's `Date.prototype.toISOString` writes it: `2024-03-20T10:00:00.000Z`.
pub fn js_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A timestamp as [`js_iso`] writes it, formatted on the stack where it can be: what the list
/// answers write for every row.
#[derive(Clone, Copy)]
pub struct JsIso(pub DateTime<Utc>);

impl JsIso {
    /// The text, for years 0 to 9999 (every other is written by [`js_iso`]).
    fn digits(self) -> Option<[u8; 24]> {
        // Once: each field of a `DateTime` would apply its offset again.
        let t = self.0.naive_utc();
        if !(0..=9999).contains(&t.year()) {
            return None;
        }
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, t.year().unsigned_abs());
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 3, t.nanosecond() % 1_000_000_000 / 1_000_000);
        Some(buf)
    }

    /// Appends the JSON string to `buf`.
    pub fn write(self, buf: &mut Vec<u8>) {
        match self.digits() {
            Some(digits) => {
                buf.push(b'"');
                buf.extend_from_slice(&digits);
                buf.push(b'"');
            }
            None => write_str(buf, &js_iso(self.0)),
        }
    }
}

impl Serialize for JsIso {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.digits() {
            // Only ASCII digits and separators were written.
            Some(digits) => {
                serializer.serialize_str(std::str::from_utf8(&digits).unwrap_or_default())
            }
            None => serializer.serialize_str(&js_iso(self.0)),
        }
    }
}

/// Appends `text` to `buf` as a JSON string, in exactly the bytes `serde_json` writes: a text
/// with nothing to escape (most of them) is copied whole, without looking at it byte by byte.
pub fn write_str(buf: &mut Vec<u8>, text: &str) {
    // No short cut out of the fold, so that it runs on whole vectors of bytes.
    let escapes = text.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escapes {
        let mut ser = serde_json::Serializer::new(buf);
        // Writing to a Vec cannot fail, and a &str is always valid JSON.
        let _ = ser.serialize_str(text);
    } else {
        buf.reserve(text.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(text.as_bytes());
        buf.push(b'"');
    }
}

/// Every actor's name, in the domain's order (the contract's, and error messages').
pub fn actor_names() -> [&'static str; Actor::ALL.len()] {
    Actor::ALL.map(Actor::as_str)
}

/// The document's schema of an actor, made from the domain's list of actors.
pub struct ActorName;

impl PartialSchema for ActorName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Who wrote a message."))
            .enum_values(Some(actor_names()))
            .into()
    }
}

impl ToSchema for ActorName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ActorName")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn texts_and_timestamps_are_written_as_serde_json_writes_them() {
        let texts = [
            "",
            "plain",
            "quote \" backslash \\ newline \n tab \t",
            "é 😀 \u{1} \u{7f} \u{1f} \u{2028}",
        ];
        for text in texts {
            let mut buf = Vec::new();
            write_str(&mut buf, text);
            assert_eq!(buf, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        let t = Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap();
        for t in [
            t,
            t + chrono::Duration::microseconds(123_999),
            Utc.timestamp_opt(-62_198_755_200, 0).unwrap(),
        ] {
            let mut buf = Vec::new();
            JsIso(t).write(&mut buf);
            assert_eq!(buf, serde_json::to_vec(&js_iso(t)).unwrap());
            assert_eq!(serde_json::to_vec(&JsIso(t)).unwrap(), buf);
        }
    }

    #[test]
    fn timestamps_are_written_as_javascript_does() {
        let t = Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap();
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.000Z");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.123Z");
    }
}
