//! Creating a chat on PostgreSQL, whose `model` column may be the app's enum; reading a page of
//! chats within the read budget.

use chat_domain::{
    Chat, CreateChatError, NewChat, ReadBudget, ReadCount, StoreFailure, chat_bytes,
};
use diesel::QueryResult;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::{Stream, TryStreamExt as _};
use scoped_futures::ScopedFutureExt as _;

use crate::fault::{create_chat_error, failure};
use crate::postgres::checkout::{Checkout, Retry};
use crate::prepared::prepared;
use crate::rows::ChatRow;

/// A new chat, its model taking the column's type (text, or the app's enum), as the messages
/// do in `append`.
const INSERT_CHAT: &str = "\
INSERT INTO chat_conversation (name, model, neptun_user_id, created_at, updated_at)
SELECT c.name, c.model, $2, now(), now()
FROM json_populate_record(NULL::chat_conversation, $1::json) AS c
RETURNING id, name, model::text AS model, neptun_user_id, created_at, updated_at";

/// The values the `model` column accepts, when it is an enum (the app's tables): none else.
const MODEL_OPTIONS: &str = "\
SELECT e.enumlabel AS label FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE a.attrelid = 'chat_conversation'::regclass AND a.attname = 'model'
ORDER BY e.enumsortorder";

#[derive(diesel::QueryableByName)]
struct Label {
    #[diesel(sql_type = Text)]
    label: String,
}

/// Why [`insert_chat`] failed: a value the table refused (maybe a model its enum lacks), or
/// anything else.
pub enum InsertChatError {
    Refused(DieselError),
    Other(CreateChatError),
}

impl From<StoreFailure> for InsertChatError {
    fn from(e: StoreFailure) -> Self {
        Self::Other(e.into())
    }
}

pub async fn insert_chat(
    conn: &mut AsyncPgConnection,
    chat: &NewChat,
) -> Result<Chat, InsertChatError> {
    let fields = serde_json::json!({"name": chat.name.as_str(), "model": chat.model.as_str()});
    let row = prepared(
        diesel::sql_query(INSERT_CHAT)
            .bind::<Text, _>(fields.to_string())
            .bind::<Integer, _>(chat.owner.get()),
    )
    .get_result::<ChatRow>(conn)
    .await
    .map_err(InsertChatError::Refused)?;
    Chat::try_from(row).map_err(|e| InsertChatError::Other(StoreFailure::Unknown(e).into()))
}

/// A model the enum column refused: the values it accepts, for the client.
pub async fn unknown_model(checkout: &Checkout, e: DieselError, chat: &NewChat) -> CreateChatError {
    let refused = matches!(&e, DieselError::DatabaseError(_, info)
        if info.message().starts_with("invalid input value for enum"));
    if !refused {
        return create_chat_error(e, chat);
    }
    let options = checkout
        .run(Retry::Read, |conn| {
            async move {
                prepared(diesel::sql_query(MODEL_OPTIONS))
                    .load::<Label>(conn)
                    .await
                    .map_err(failure)
            }
            .scope_boxed()
        })
        .await;
    match options {
        Ok(labels) => CreateChatError::UnknownModel {
            model: chat.model.as_str().to_owned(),
            options: labels.into_iter().map(|l| l.label).collect(),
        },
        Err(failure) => failure.into(),
    }
}

/// The chats of a page's rows as they arrive, while a [`ReadCount`] of the read budget wants
/// more: the rows past it are never decoded, and the connection drops them as they come.
pub async fn chats_within(
    rows: impl Stream<Item = QueryResult<ChatRow>>,
    budget: ReadBudget,
) -> Result<Vec<Chat>, StoreFailure> {
    let mut rows = std::pin::pin!(rows);
    let (mut chats, mut count) = (Vec::new(), ReadCount::new(budget));
    while count.wants_more() {
        let Some(row) = rows.try_next().await.map_err(failure)? else {
            break;
        };
        let chat = Chat::try_from(row).map_err(StoreFailure::Unknown)?;
        count.count(chat_bytes(&chat));
        chats.push(chat);
    }
    Ok(chats)
}
