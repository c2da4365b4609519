//! Group commit: appends that arrive while an append statement runs go to PostgreSQL together,
//! as one statement (one round trip, one commit, one WAL flush for all of them). Each request
//! stays atomic and gets exactly its rows back; nothing is kept between statements, so
//! instances stay stateless. Why and how: docs/adr/0002-group-commit.md.
//!
//! One append statement runs at a time per instance ([`STATEMENTS_IN_FLIGHT`]), because a
//! commit waits for its WAL flush, which covers one statement: the fewer and larger the
//! statements, the more requests each flush carries. No append waits on another's chat: the
//! statement holding the turn skips chats others hold, and an append whose chat was skipped
//! then waits for its own chat alone, without the turn. At most `database.append_queue`
//! appends wait for a turn; past that, an append is refused as unavailable (503).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chat_domain::{ChatError, ChatId, ChatMessage, MessageBatch, StoreFailure, UserId};
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::fault::failure;
use crate::postgres::append::{APPEND_GROUP, Lock, append_alone, append_rows, found, json_rows};
use crate::postgres::checkout::{Checkout, Retry};
use crate::prepared::prepared;
use crate::rows::MessageRow;

/// How many append statements one instance runs at once; more appends wait and go together.
pub const STATEMENTS_IN_FLIGHT: usize = 1;
/// How long an append statement may run before the next one may start beside it: longer than
/// a group of 1,000 rows takes, far shorter than a client waits.
pub const STALLED_AFTER: Duration = Duration::from_millis(100);
/// The most rows one group statement inserts.
const GROUP_ROWS: usize = 1000;

/// An append waiting for its group's statement.
struct Pending {
    owner: UserId,
    chat: ChatId,
    rows: usize,
    json: String,
    answer: oneshot::Sender<Result<Vec<MessageRow>, StoreFailure>>,
    /// Its place in the queue, given back once its group's statement starts.
    place: Option<OwnedSemaphorePermit>,
}

/// Hands appends to one collecting task, started by the first append.
#[derive(Clone)]
pub struct Grouper {
    checkout: Checkout,
    queue: Arc<OnceLock<mpsc::UnboundedSender<Pending>>>,
    /// The append statements running: at most [`STATEMENTS_IN_FLIGHT`] that have not stalled.
    in_flight: Arc<Semaphore>,
    /// The places of the appends waiting for a turn (`database.append_queue` of them).
    places: Arc<Semaphore>,
    /// The runtime the store was built on (the service's main one), which outlives the HTTP
    /// workers' while they drain: a group must not stop before the requests waiting on it.
    runtime: Option<tokio::runtime::Handle>,
}

impl Grouper {
    pub fn new(checkout: Checkout, queue_places: usize) -> Self {
        Self {
            checkout,
            queue: Arc::default(),
            in_flight: Arc::new(Semaphore::new(STATEMENTS_IN_FLIGHT)),
            places: Arc::new(Semaphore::new(queue_places)),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Appends the batch: at once if a statement is free (no group waits: the semaphore
    /// serves waiters first), else with whatever other appends are waiting.
    pub async fn append(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let json = json_rows(owner, chat, batch);
        if let Ok(turn) = self.in_flight.clone().try_acquire_owned() {
            let skipping =
                append_alone(&self.checkout, owner, chat, json.clone(), Lock::SkipLocked);
            let rows = until_stalled(turn, skipping).await?;
            let rows = match rows.is_empty() {
                // Its chat is another's, or locked: wait for it without the turn.
                true => append_alone(&self.checkout, owner, chat, json, Lock::Wait).await?,
                false => rows,
            };
            return found(rows, owner, chat);
        }
        let Ok(place) = self.places.clone().try_acquire_owned() else {
            return Err(ChatError::Store(StoreFailure::Unavailable(
                anyhow::anyhow!("the append queue is full (database.append_queue)"),
            )));
        };
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            owner,
            chat,
            rows: batch.len(),
            json,
            answer,
            place: Some(place),
        };
        let queue = self.queue.get_or_init(|| self.start());
        if let Err(mpsc::error::SendError(pending)) = queue.send(pending) {
            // The collector's runtime has stopped (a shutdown): go alone.
            let rows = append_alone(&self.checkout, owner, chat, pending.json, Lock::Wait).await?;
            return found(rows, owner, chat);
        }
        let rows = answered.await.map_err(|_| {
            StoreFailure::Unknown(anyhow::anyhow!(
                "the append's group ended without an answer"
            ))
        })??;
        found(rows, owner, chat)
    }

    fn start(&self) -> mpsc::UnboundedSender<Pending> {
        let (queue, waiting) = mpsc::unbounded_channel();
        let collector = collect(waiting, self.checkout.clone(), self.in_flight.clone());
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn(collector)),
            None => drop(tokio::spawn(collector)),
        }
        queue
    }
}

/// Takes the waiting appends when a statement's turn is free, as many as one statement may carry.
async fn collect(
    mut waiting: mpsc::UnboundedReceiver<Pending>,
    checkout: Checkout,
    in_flight: Arc<Semaphore>,
) {
    while let Some(first) = waiting.recv().await {
        // Waiting for the turn is what lets a group form.
        let Ok(turn) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut rows = first.rows;
        let mut group = vec![first];
        while rows < GROUP_ROWS {
            match waiting.try_recv() {
                Ok(next) => {
                    rows += next.rows;
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        for pending in &mut group {
            pending.place = None;
        }
        let checkout = checkout.clone();
        tokio::spawn(async move {
            let unsettled = until_stalled(turn, run(&checkout, group)).await;
            settle_alone(&checkout, unsettled);
        });
    }
}

/// Runs `statement` on its turn, which it gives up when it ends or once it has run for
/// [`STALLED_AFTER`], whichever comes first.
async fn until_stalled<T>(turn: OwnedSemaphorePermit, statement: impl Future<Output = T>) -> T {
    let mut statement = std::pin::pin!(statement);
    match tokio::time::timeout(STALLED_AFTER, &mut statement).await {
        Ok(done) => done,
        Err(_) => {
            drop(turn);
            statement.await
        }
    }
}

/// One statement for the group; each append whose chat was written gets its rows (or every
/// append the failure). Returns the appends whose chat was not written: locked by another
/// transaction, or not found.
async fn run(checkout: &Checkout, group: Vec<Pending>) -> Vec<Pending> {
    // Their ratio is the mean group size: how much the coalescing saves.
    metrics::counter!("db_append_groups_total").increment(1);
    metrics::counter!("db_append_group_members_total").increment(group.len() as u64);
    let json = match group.as_slice() {
        [one] => one.json.clone(),
        _ => group_json(&group),
    };
    let single = (group.len() == 1).then(|| (group[0].owner, group[0].chat));
    let result = checkout
        .run(Retry::Aborted, |conn| {
            let json = json.clone();
            async move {
                match single {
                    Some((owner, chat)) => {
                        append_rows(conn, owner, chat, json, Lock::SkipLocked).await
                    }
                    None => prepared(diesel::sql_query(APPEND_GROUP).bind::<Text, _>(json))
                        .load::<MessageRow>(conn)
                        .await
                        .map_err(failure),
                }
            }
            .scope_boxed()
        })
        .await;
    answer(group, result)
}

/// Each append a group left unwritten, alone and waiting for its own chat's lock, each on a
/// task of its own: none waits for another's chat.
fn settle_alone(checkout: &Checkout, unsettled: Vec<Pending>) {
    for pending in unsettled {
        let checkout = checkout.clone();
        tokio::spawn(async move {
            let Pending {
                owner,
                chat,
                json,
                answer,
                ..
            } = pending;
            let rows = append_alone(&checkout, owner, chat, json, Lock::Wait).await;
            let _ = answer.send(rows);
        });
    }
}

/// The rows of every append, as one JSON array.
fn group_json(group: &[Pending]) -> String {
    let mut json = String::with_capacity(group.iter().map(|p| p.json.len()).sum::<usize>() + 2);
    json.push('[');
    for (i, pending) in group.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // Each is a non-empty array: its elements without the brackets.
        json.push_str(&pending.json[1..pending.json.len() - 1]);
    }
    json.push(']');
    json
}

/// Gives each append its rows: a chat's rows were inserted in the group's order, so the
/// appends to one chat take them in turn, oldest first, as many as each sent. Returns the
/// appends that got none.
fn answer(group: Vec<Pending>, result: Result<Vec<MessageRow>, StoreFailure>) -> Vec<Pending> {
    let mut rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            for pending in group {
                let _ = pending.answer.send(Err(copy(&e)));
            }
            return Vec::new();
        }
    };
    rows.sort_by_key(|r| r.id);
    let mut by_chat: HashMap<(i32, i32), VecDeque<MessageRow>> = HashMap::new();
    for row in rows {
        let key = (row.chat_conversation_id, row.neptun_user_id);
        by_chat.entry(key).or_default().push_back(row);
    }
    let mut unwritten = Vec::new();
    for pending in group {
        let key = (pending.chat.get(), pending.owner.get());
        match by_chat.get_mut(&key) {
            Some(rows) => {
                let mine = rows.drain(..pending.rows.min(rows.len())).collect();
                let _ = pending.answer.send(Ok(mine));
            }
            None => unwritten.push(pending),
        }
    }
    unwritten
}

/// A failure for each member of a group: the same kind, the same cause (as text).
fn copy(e: &StoreFailure) -> StoreFailure {
    match e {
        StoreFailure::Unavailable(cause) => StoreFailure::Unavailable(anyhow::anyhow!("{cause:#}")),
        StoreFailure::Unknown(cause) => StoreFailure::Unknown(anyhow::anyhow!("{cause:#}")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn pending(
        owner: i32,
        chat: i32,
        rows: usize,
    ) -> (
        Pending,
        oneshot::Receiver<Result<Vec<MessageRow>, StoreFailure>>,
    ) {
        let (answer, answered) = oneshot::channel();
        let (owner, chat) = (
            UserId::new(owner.into()).unwrap(),
            ChatId::new(chat.into()).unwrap(),
        );
        let json = format!(
            "[{}]",
            vec![format!("{{\"c\":{}}}", chat.get()); rows].join(",")
        );
        (
            Pending {
                owner,
                chat,
                rows,
                json,
                answer,
                place: None,
            },
            answered,
        )
    }

    fn row(id: i64, owner: i32, chat: i32) -> MessageRow {
        MessageRow {
            id,
            message: format!("m{id}"),
            actor: "user".into(),
            neptun_user_id: owner,
            chat_conversation_id: chat,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn each_append_gets_its_own_rows_in_order() {
        // Two appends to chat 5 (2 rows, then 1), one to chat 6, one to a chat not its owner's.
        let (a, ra) = pending(1, 5, 2);
        let (b, rb) = pending(1, 5, 1);
        let (c, rc) = pending(2, 6, 1);
        let (d, rd) = pending(3, 5, 2);
        let group = vec![a, b, c, d];
        assert_eq!(
            group_json(&group),
            r#"[{"c":5},{"c":5},{"c":5},{"c":6},{"c":5},{"c":5}]"#
        );
        // In any order, as RETURNING promises none.
        let unwritten = answer(
            group,
            Ok(vec![
                row(13, 1, 5),
                row(10, 1, 5),
                row(12, 2, 6),
                row(11, 1, 5),
            ]),
        );
        let ids = |r: oneshot::Receiver<Result<Vec<MessageRow>, StoreFailure>>| -> Vec<i64> {
            r.blocking_recv()
                .unwrap()
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids(ra), [10, 11]);
        assert_eq!(ids(rb), [13]);
        assert_eq!(ids(rc), [12]);
        // Chat 5 is not user 3's (or was locked): that append is left to go alone.
        assert_eq!(unwritten.len(), 1);
        assert_eq!((unwritten[0].owner.get(), unwritten[0].chat.get()), (3, 5));
        drop(unwritten);
        assert!(rd.blocking_recv().is_err(), "not answered by the group");
    }

    #[test]
    fn a_failed_statement_fails_every_append_alike() {
        let (a, ra) = pending(1, 5, 1);
        let (b, rb) = pending(2, 6, 1);
        let unwritten = answer(
            vec![a, b],
            Err(StoreFailure::Unavailable(anyhow::anyhow!("gone"))),
        );
        assert!(unwritten.is_empty());
        for r in [ra, rb] {
            assert!(matches!(
                r.blocking_recv().unwrap(),
                Err(StoreFailure::Unavailable(_))
            ));
        }
    }
}
