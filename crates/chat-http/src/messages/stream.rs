//! A page of messages written to the socket a part at a time, as the socket takes them, in
//! exactly the bytes `serde_json` writes for [`MessageListResponse`]: the answer is never one
//! buffer, and no message's text is copied into an answer type first.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use chat_domain::ChatMessage;
use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use serde::{Serialize, Serializer};

#[cfg(test)]
use super::response::MessageListResponse;

/// About how many bytes each part carries: an answer up to this size goes whole, with its
/// length.
const PART: usize = 256 * 1024;

pub struct MessageListBody {
    /// A part made before the body was handed over (see [`Self::start`]).
    pending: Option<Vec<u8>>,
    messages: std::vec::IntoIter<ChatMessage>,
    has_more: bool,
    next_cursor: Option<i64>,
    written: usize,
    done: bool,
}

impl MessageListBody {
    pub fn new(messages: Vec<ChatMessage>, has_more: bool, next_cursor: Option<i64>) -> Self {
        Self {
            pending: None,
            messages: messages.into_iter(),
            has_more,
            next_cursor,
            written: 0,
            done: false,
        }
    }

    /// The whole answer when it fits one part (it is sent with its length then), else the body
    /// that streams it.
    pub fn start(mut self) -> Result<Result<Vec<u8>, Self>, serde_json::Error> {
        let first = self.part()?;
        if self.done {
            return Ok(Ok(first));
        }
        self.pending = Some(first);
        Ok(Err(self))
    }

    /// The next part: the head first, then messages, then the tail.
    fn part(&mut self) -> Result<Vec<u8>, serde_json::Error> {
        let mut buf = Vec::with_capacity(PART + 1024);
        if self.written == 0 {
            buf.extend_from_slice(b"{\"chatMessages\":[");
        }
        while buf.len() < PART {
            let Some(message) = self.messages.next() else {
                buf.extend_from_slice(b"],\"has_more\":");
                serde_json::to_writer(&mut buf, &self.has_more)?;
                buf.extend_from_slice(b",\"next_cursor\":");
                serde_json::to_writer(&mut buf, &self.next_cursor)?;
                buf.push(b'}');
                self.done = true;
                break;
            };
            if self.written > 0 {
                buf.push(b',');
            }
            serde_json::to_writer(&mut buf, &MessageRef::from(&message))?;
            self.written += 1;
        }
        Ok(buf)
    }
}

impl MessageBody for MessageListBody {
    type Error = serde_json::Error;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if let Some(first) = this.pending.take() {
            return Poll::Ready(Some(Ok(Bytes::from(first))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(this.part().map(Bytes::from)))
    }
}

/// A message as [`super::ChatMessageDto`] writes it, borrowing its text.
#[derive(Serialize)]
struct MessageRef<'a> {
    id: i64,
    chat_conversation_id: i32,
    neptun_user_id: i32,
    message: &'a str,
    actor: &'static str,
    created_at: JsIso,
    updated_at: JsIso,
}

impl<'a> From<&'a ChatMessage> for MessageRef<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        Self {
            id: m.id.get(),
            chat_conversation_id: m.chat_id.get(),
            neptun_user_id: m.user_id.get(),
            message: &m.text,
            actor: m.actor.as_str(),
            created_at: JsIso(m.created_at),
            updated_at: JsIso(m.updated_at),
        }
    }
}

/// A timestamp as [`crate::wire::js_iso`] writes it, formatted on the stack.
struct JsIso(DateTime<Utc>);

impl Serialize for JsIso {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        if !(0..=9999).contains(&t.year()) {
            return serializer.serialize_str(&crate::wire::js_iso(t));
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
        // Only ASCII digits and separators were written.
        serializer.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{Actor, ChatId, MessageId, UserId};
    use chrono::TimeZone as _;

    use super::*;
    use crate::messages::ChatMessageDto;

    fn message(id: i64, text: &str, at: DateTime<Utc>) -> ChatMessage {
        ChatMessage {
            id: MessageId::new(id),
            chat_id: ChatId::new(7).unwrap(),
            user_id: UserId::new(3).unwrap(),
            text: text.to_owned(),
            actor: Actor::Assistant,
            created_at: at,
            updated_at: at,
        }
    }

    fn streamed(body: MessageListBody) -> Vec<u8> {
        let body = match body.start().unwrap() {
            Ok(whole) => return whole,
            Err(body) => body,
        };
        let mut body = std::pin::pin!(body);
        let mut out = Vec::new();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        while let Poll::Ready(Some(part)) = body.as_mut().poll_next(&mut cx) {
            out.extend_from_slice(&part.unwrap());
        }
        out
    }

    #[test]
    fn the_bytes_are_serde_jsons() {
        let times = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap()
                + chrono::Duration::microseconds(123_999),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        let texts = [
            "plain",
            "quote \" backslash \\ newline \n tab \t",
            "é 😀 \u{1} \u{7f}",
            &"x".repeat(300_000),
        ];
        for (has_more, cursor) in [(false, None), (true, Some(42))] {
            let messages: Vec<ChatMessage> = (0..12)
                .map(|i| {
                    message(
                        i,
                        texts[i as usize % texts.len()],
                        times[i as usize % times.len()],
                    )
                })
                .collect();
            let expected = serde_json::to_vec(&MessageListResponse {
                chat_messages: messages.iter().map(ChatMessageDto::from).collect(),
                has_more,
                next_cursor: cursor,
            })
            .unwrap();
            let got = streamed(MessageListBody::new(messages, has_more, cursor));
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        let empty = serde_json::to_vec(&MessageListResponse {
            chat_messages: vec![],
            has_more: false,
            next_cursor: None,
        })
        .unwrap();
        assert_eq!(streamed(MessageListBody::new(vec![], false, None)), empty);
    }
}
