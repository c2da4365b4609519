//! How domain values are written on the wire, where more than one resource writes them.

use std::borrow::Cow;

use chat_domain::Actor;
use chrono::{DateTime, SecondsFormat, Utc};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// As JavaScript's `Date.prototype.toISOString` writes it: `2024-03-20T10:00:00.000Z`.
pub fn js_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
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
    fn timestamps_are_written_as_javascript_does() {
        let t = Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap();
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.000Z");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.123Z");
    }
}
