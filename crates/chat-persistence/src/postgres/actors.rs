//! `system` on the app's database: the migration adds it to the app's actor enum, but a chat
//! holding a `system` message breaks the app's AI route (it refuses the role), so there it is
//! refused unless `database.app_system_actor` allows it.

use chat_domain::{Actor, ChatError, MessageBatch, StoreFailure};
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt as _;

use crate::fault::failure;
use crate::postgres::PgStore;
use crate::postgres::checkout::Retry;
use crate::prepared::prepared;

/// Whether the tables were the app's before the service's migrations (see the first one).
const ADOPTED: &str =
    "SELECT coalesce((SELECT bool_or(adopted) FROM chat_service_schema), false) AS adopted";

/// The app's actors: its enum's values, but `system`.
const APP_ACTORS: &str = "\
SELECT e.enumlabel AS label FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE a.attrelid = 'chat_conversation_message'::regclass AND a.attname = 'actor'
  AND e.enumlabel <> 'system'
ORDER BY e.enumsortorder";

#[derive(diesel::QueryableByName)]
struct Adopted {
    #[diesel(sql_type = Bool)]
    adopted: bool,
}

#[derive(diesel::QueryableByName)]
struct Label {
    #[diesel(sql_type = Text)]
    label: String,
}

impl PgStore {
    /// `ActorRefused` for a batch with a `system` message on the app's database, unless allowed.
    pub(super) async fn refuse_system_on_app_tables(
        &self,
        batch: &MessageBatch,
    ) -> Result<(), ChatError> {
        let has_system = batch.messages().iter().any(|m| m.actor == Actor::System);
        if self.app_system_actor || !has_system || !self.is_adopted().await? {
            return Ok(());
        }
        let labels = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    prepared(diesel::sql_query(APP_ACTORS))
                        .load::<Label>(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        Err(ChatError::ActorRefused {
            actor: Actor::System.as_str().to_owned(),
            options: labels.into_iter().map(|l| l.label).collect(),
        })
    }

    /// Whether the tables are the app's, asked once.
    pub(super) async fn is_adopted(&self) -> Result<bool, StoreFailure> {
        let adopted = self
            .adopted
            .get_or_try_init(|| async {
                self.checkout
                    .run(Retry::Read, |conn| {
                        async move {
                            prepared(diesel::sql_query(ADOPTED))
                                .get_result::<Adopted>(conn)
                                .await
                                .map_err(failure)
                        }
                        .scope_boxed()
                    })
                    .await
                    .map(|a| a.adopted)
            })
            .await?;
        Ok(*adopted)
    }
}
