//! Rows as diesel reads them, for either backend (`Queryable` is positional, so the same struct
//! reads PostgreSQL's and SQLite's columns), and their conversion into domain types. A row that
//! breaks a domain rule (possible only for rows seeded by hand) is an error, not a panic.

use anyhow::Context as _;
use chat_domain::{Actor, Chat, ChatError, ChatId, ChatMessage, MessageId, StoreFailure, UserId};
use chrono::{DateTime, Utc};
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Integer, Text, Timestamptz};

/// A timestamp column as it is read, ordered and compared: a NULL (rows the app wrote long
/// ago) reads as the Unix epoch, so it never fails a read and sorts as the oldest.
macro_rules! stamp {
    ($t:ident :: $col:ident) => {
        $crate::rows::Stamp($t::$col)
    };
}

/// `COALESCE(column, epoch)` (see [`stamp!`]). A fragment of fixed text rather than
/// `diesel::dsl::sql`, which diesel must assume varies: a query reading it would then be
/// parsed and planned anew on every use instead of prepared once per connection.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub struct Stamp<C>(pub C);

impl<C: Expression> Expression for Stamp<C> {
    type SqlType = C::SqlType;
}

impl<C: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Stamp<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("COALESCE(");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(", '1970-01-01 00:00:00.000+00:00')");
        Ok(())
    }
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Stamp<C> where Self: Expression {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for Stamp<C> where
    Self: AppearsOnTable<QS>
{
}

/// Columns in the order of `MessageRow`'s fields.
macro_rules! message_columns {
    ($m:path) => {{
        use $m as m;
        (
            m::id,
            m::message,
            m::actor,
            m::neptun_user_id,
            m::chat_conversation_id,
            $crate::rows::stamp!(m::created_at),
            $crate::rows::stamp!(m::updated_at),
        )
    }};
}

/// Columns in the order of `ChatRow`'s fields.
macro_rules! chat_columns {
    ($c:path) => {{
        use $c as c;
        (
            c::id,
            c::name,
            c::model,
            c::neptun_user_id,
            $crate::rows::stamp!(c::created_at),
            $crate::rows::stamp!(c::updated_at),
        )
    }};
}

pub(crate) use {chat_columns, message_columns, stamp};

/// `QueryableByName` (with PostgreSQL's types) serves the raw append statement there.
#[derive(Debug, Queryable, QueryableByName)]
pub struct MessageRow {
    #[diesel(sql_type = crate::schema::sql_types::AnyInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub message: String,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Integer)]
    pub neptun_user_id: i32,
    #[diesel(sql_type = Integer)]
    pub chat_conversation_id: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = anyhow::Error;

    fn try_from(row: MessageRow) -> anyhow::Result<Self> {
        Ok(ChatMessage {
            id: MessageId::new(row.id),
            chat_id: ChatId::new(row.chat_conversation_id.into())
                .with_context(|| format!("message {}: chat id", row.id))?,
            user_id: UserId::new(row.neptun_user_id.into())
                .with_context(|| format!("message {}: user id", row.id))?,
            actor: row
                .actor
                .parse()
                .with_context(|| format!("message {}: actor", row.id))?,
            text: row.message,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Rows as domain values, in the order given.
pub fn convert<R, T>(rows: Vec<R>) -> anyhow::Result<Vec<T>>
where
    T: TryFrom<R, Error = anyhow::Error>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Stored messages in id order (the order they were written in), as domain values.
pub fn into_messages(mut rows: Vec<MessageRow>) -> anyhow::Result<Vec<ChatMessage>> {
    // RETURNING's order is not promised by either backend; ids were drawn in request order.
    rows.sort_by_key(|r| r.id);
    convert(rows)
}

/// `(id, actor)` pairs as the domain's rules take them; an unknown actor (only possible in a
/// row seeded by hand) fails the query rather than being guessed.
pub fn id_actor_pairs(
    pairs: Vec<(i64, String)>,
) -> Result<Vec<(MessageId, Actor)>, diesel::result::Error> {
    pairs
        .into_iter()
        .map(|(id, actor)| {
            actor
                .parse()
                .map(|actor| (MessageId::new(id), actor))
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
        })
        .collect()
}

/// A chat row that may be missing: `ChatNotFound` then.
pub fn into_chat(row: Option<ChatRow>, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
    let row = row.ok_or(ChatError::ChatNotFound { owner, chat })?;
    Ok(Chat::try_from(row).map_err(StoreFailure::Unknown)?)
}

/// The id the database gave a new user.
pub fn into_user_id(id: i32) -> Result<UserId, StoreFailure> {
    UserId::new(id.into())
        .context("the database gave a user id out of range")
        .map_err(StoreFailure::Unknown)
}

/// `QueryableByName` (with PostgreSQL's types) serves the raw insert statement there.
#[derive(Debug, Queryable, QueryableByName)]
pub struct ChatRow {
    #[diesel(sql_type = Integer)]
    pub id: i32,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub model: String,
    #[diesel(sql_type = Integer)]
    pub neptun_user_id: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ChatRow> for Chat {
    type Error = anyhow::Error;

    fn try_from(row: ChatRow) -> anyhow::Result<Self> {
        Ok(Chat {
            id: ChatId::new(row.id.into()).with_context(|| format!("chat {}: id", row.id))?,
            owner: UserId::new(row.neptun_user_id.into())
                .with_context(|| format!("chat {}: owner", row.id))?,
            name: row.name,
            model: row.model,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
