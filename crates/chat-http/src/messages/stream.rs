//! A page of messages written to the socket a part at a time, as the socket takes them, in
//! exactly the bytes `serde_json` writes for [`MessageListResponse`]: the answer is never one
//! buffer, and no message's text is copied into an answer type first.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::wire::{JsIso, write_str};
use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use chat_domain::{ChatMessage, ReadBudget, message_bytes};

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

    /// About the bytes of the next part: a small answer does not take a whole part's memory.
    fn part_estimate(&self) -> usize {
        let mut bytes = 64;
        for m in self.messages.as_slice() {
            if bytes >= PART {
                break;
            }
            bytes += ReadBudget::cost(message_bytes(m));
        }
        bytes
    }

    /// The next part: the head first, then messages, then the tail.
    fn part(&mut self) -> Result<Vec<u8>, serde_json::Error> {
        let mut buf = Vec::with_capacity(self.part_estimate());
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
            write_message(&mut buf, &message);
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

/// Appends `m` to `buf` in the bytes `serde_json` writes for [`super::ChatMessageDto`]: the
/// fields in its order, no text copied into a value first.
fn write_message(buf: &mut Vec<u8>, m: &ChatMessage) {
    let mut number = itoa::Buffer::new();
    buf.extend_from_slice(b"{\"id\":");
    buf.extend_from_slice(number.format(m.id.get()).as_bytes());
    buf.extend_from_slice(b",\"chat_conversation_id\":");
    buf.extend_from_slice(number.format(m.chat_id.get()).as_bytes());
    buf.extend_from_slice(b",\"neptun_user_id\":");
    buf.extend_from_slice(number.format(m.user_id.get()).as_bytes());
    buf.extend_from_slice(b",\"message\":");
    write_str(buf, &m.text);
    buf.extend_from_slice(b",\"actor\":");
    write_str(buf, m.actor.as_str());
    buf.extend_from_slice(b",\"created_at\":");
    JsIso(m.created_at).write(buf);
    buf.extend_from_slice(b",\"updated_at\":");
    JsIso(m.updated_at).write(buf);
    buf.push(b'}');
}

#[cfg(test)]
mod tests {
    use chat_domain::{Actor, ChatId, MessageId, UserId};
    use chrono::{DateTime, TimeZone as _, Utc};

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
