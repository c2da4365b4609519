//! Queries whose shape is the same on both backends, built once per schema by macro: each
//! backend only executes them (async on PostgreSQL, inside `spawn_blocking` on SQLite). The
//! order column comes from the domain's allow-list, never from a string. `$now` is the
//! backend's "now" (PostgreSQL's transaction time; a fixed-format instant on SQLite).

/// `owner`'s chats in `order` after `cursor`, at most `limit`. The keyset condition for keys
/// `k1..kn` and the id is "beyond on k1, or equal on k1 and beyond on k2, ..., or equal on all
/// and beyond on id", each "beyond" in its own pair's direction. `$time` turns a
/// `DateTime<Utc>` into the backend's bind value.
macro_rules! chats_page_query {
    ($schema:ident, $db:ty, $time:path, $owner:expr, $order:expr, $cursor:expr, $limit:expr) => {{
        use chat_domain::{ChatSortField as F, Direction, SortKey};
        use diesel::sql_types::Bool;
        use $crate::schema::$schema::chat_conversation as c;
        type Cond = Box<dyn BoxableExpression<c::table, $db, SqlType = Bool>>;
        let order: &chat_domain::ChatOrder = $order;
        let mut q = c::table
            .filter(c::neptun_user_id.eq($owner.get()))
            .select($crate::rows::chat_columns!(c))
            .into_boxed::<$db>();
        /// `(equal, beyond)` for column `$col` at `$value`, beyond in direction `$asc`.
        macro_rules! compare {
            ($col:expr, $value:expr, $asc:expr) => {{
                let equal: Cond = Box::new($col.eq($value.clone()));
                let beyond: Cond = if $asc {
                    Box::new($col.gt($value))
                } else {
                    Box::new($col.lt($value))
                };
                (equal, beyond)
            }};
        }
        if let Some(cursor) = $cursor {
            let cursor: &chat_domain::ChatCursor = cursor;
            let id_asc = order.id_direction() == Direction::Asc;
            let mut all_equal: Option<Cond> = None;
            let mut any_beyond: Option<Cond> = None;
            let keys = order.keys().iter().zip(&cursor.keys);
            let pairs = keys.map(|(sort, key)| {
                let asc = sort.direction == Direction::Asc;
                match (sort.field, key) {
                    (F::Name, SortKey::Text(v)) => Some(compare!(c::name, v.clone(), asc)),
                    (F::Model, SortKey::Text(v)) => Some(compare!(c::model, v.clone(), asc)),
                    (F::CreatedAt, SortKey::Time(t)) => {
                        Some(compare!(c::created_at, $time(*t), asc))
                    }
                    (F::UpdatedAt, SortKey::Time(t)) => {
                        Some(compare!(c::updated_at, $time(*t), asc))
                    }
                    (F::Id, _) => Some(compare!(c::id, cursor.id.get(), asc)),
                    // A cursor whose keys do not fit its order: the HTTP adapter refuses these.
                    _ => None,
                }
            });
            let id_pair = std::iter::once(Some(compare!(c::id, cursor.id.get(), id_asc)));
            for pair in pairs.chain(id_pair) {
                let Some((equal, beyond)) = pair else {
                    any_beyond = Some(Box::new(c::id.lt(0)));
                    break;
                };
                let term: Cond = match all_equal.take() {
                    Some(prefix) => Box::new(prefix.and(beyond)),
                    None => beyond,
                };
                any_beyond = Some(match any_beyond.take() {
                    Some(any) => Box::new(any.or(term)),
                    None => term,
                });
                all_equal = Some(equal);
            }
            if let Some(condition) = any_beyond {
                q = q.filter(condition);
            }
        }
        for sort in order.keys() {
            let asc = sort.direction == Direction::Asc;
            q = match (sort.field, asc) {
                (F::Id, true) => q.then_order_by(c::id.asc()),
                (F::Id, false) => q.then_order_by(c::id.desc()),
                (F::Name, true) => q.then_order_by(c::name.asc()),
                (F::Name, false) => q.then_order_by(c::name.desc()),
                (F::Model, true) => q.then_order_by(c::model.asc()),
                (F::Model, false) => q.then_order_by(c::model.desc()),
                (F::CreatedAt, true) => q.then_order_by(c::created_at.asc()),
                (F::CreatedAt, false) => q.then_order_by(c::created_at.desc()),
                (F::UpdatedAt, true) => q.then_order_by(c::updated_at.asc()),
                (F::UpdatedAt, false) => q.then_order_by(c::updated_at.desc()),
            };
        }
        q = match order.id_direction() {
            Direction::Asc => q.then_order_by(c::id.asc()),
            Direction::Desc => q.then_order_by(c::id.desc()),
        };
        q.limit(i64::try_from($limit).unwrap_or(i64::MAX))
    }};
}

/// A chat's messages by id within the query's bounds, in its direction, at most `limit`.
macro_rules! messages_page_query {
    ($schema:ident, $db:ty, $chat:expr, $query:expr, $limit:expr) => {{
        use chat_domain::Direction;
        use $crate::schema::$schema::chat_conversation_message as m;
        let query: &chat_domain::MessageListQuery = $query;
        let mut q = m::table
            .filter(m::chat_conversation_id.eq($chat.get()))
            .select($crate::rows::message_columns!(m))
            .into_boxed::<$db>();
        if let Some(after) = query.after {
            q = q.filter(m::id.gt(after.get()));
        }
        if let Some(before) = query.before {
            q = q.filter(m::id.lt(before.get()));
        }
        q = match query.direction {
            Direction::Asc => q.order(m::id.asc()),
            Direction::Desc => q.order(m::id.desc()),
        };
        q.limit(i64::try_from($limit).unwrap_or(i64::MAX))
    }};
}

/// The caller's chat row, if the chat is the owner's.
macro_rules! owned_chat {
    ($schema:ident, $owner:expr, $chat:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        c::table
            .filter(c::id.eq($chat.get()))
            .filter(c::neptun_user_id.eq($owner.get()))
    }};
}

/// Inserts a user with `email`, returning its id.
macro_rules! insert_user {
    ($schema:ident, $email:expr) => {{
        use $crate::schema::$schema::neptun_user as u;
        diesel::insert_into(u::table)
            .values(u::primary_email.eq($email))
            .returning(u::id)
    }};
}

/// Inserts the chat `$chat` (a `NewChat`) stamped `$now`, returning its row.
macro_rules! insert_chat {
    ($schema:ident, $chat:expr, $now:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        let chat: &chat_domain::NewChat = $chat;
        diesel::insert_into(c::table)
            .values((
                c::name.eq(chat.name.as_str().to_owned()),
                c::model.eq(chat.model.as_str().to_owned()),
                c::neptun_user_id.eq(chat.owner.get()),
                c::created_at.eq($now),
                c::updated_at.eq($now),
            ))
            .returning($crate::rows::chat_columns!(c))
    }};
}

/// Any one user id: whether the database holds a user at all.
macro_rules! any_user {
    ($schema:ident) => {{
        use $crate::schema::$schema::neptun_user as u;
        u::table.select(u::id)
    }};
}

/// The owner's chat's row.
macro_rules! get_chat {
    ($schema:ident, $owner:expr, $chat:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        $crate::queries::owned_chat!($schema, $owner, $chat).select($crate::rows::chat_columns!(c))
    }};
}

/// Renames the owner's chat and stamps it `$now`, returning its row.
macro_rules! rename_chat {
    ($schema:ident, $owner:expr, $chat:expr, $name:expr, $now:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        diesel::update($crate::queries::owned_chat!($schema, $owner, $chat))
            .set((c::name.eq($name), c::updated_at.eq($now)))
            .returning($crate::rows::chat_columns!(c))
    }};
}

/// Deletes the owner's chat (its messages go with it: the foreign key cascades), returning it.
macro_rules! delete_chat {
    ($schema:ident, $owner:expr, $chat:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        diesel::delete($crate::queries::owned_chat!($schema, $owner, $chat))
            .returning($crate::rows::chat_columns!(c))
    }};
}

/// Deletes those of the chats with ids `$ids` (a `Vec<i32>`) that are the owner's.
macro_rules! delete_chats {
    ($schema:ident, $owner:expr, $ids:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        diesel::delete(
            c::table
                .filter(c::neptun_user_id.eq($owner.get()))
                .filter(c::id.eq_any($ids)),
        )
    }};
}

/// Inside the caller's transaction, which holds the chat: reads the ids and actors of the
/// chat's messages (oldest first), deletes those `$choose` picks, stamps the chat `$now` if any
/// went, and evaluates to the deleted rows. `$($await)?` is `await` on the async backend.
macro_rules! delete_chosen {
    ($schema:ident, $conn:expr, $chat:expr, $choose:expr, $now:expr $(, $await:tt)?) => {{
        use $crate::schema::$schema::{chat_conversation as c, chat_conversation_message as m};
        let pairs: Vec<(i64, String)> = m::table
            .filter(m::chat_conversation_id.eq($chat.get()))
            .select((m::id, m::actor))
            .order(m::id.asc())
            .load($conn)
            $(.$await)??;
        let ids: Vec<i64> = $choose(&$crate::rows::id_actor_pairs(pairs)?)
            .into_iter()
            .map(chat_domain::MessageId::get)
            .collect();
        if ids.is_empty() {
            Ok(Vec::new())
        } else {
            let rows: Vec<$crate::rows::MessageRow> = diesel::delete(m::table.filter(m::id.eq_any(ids)))
                .returning($crate::rows::message_columns!(m))
                .get_results($conn)
                $(.$await)??;
            diesel::update(c::table.find($chat.get()))
                .set(c::updated_at.eq($now))
                .execute($conn)
                $(.$await)??;
            Ok(rows)
        }
    }};
}

pub(crate) use {
    any_user, chats_page_query, delete_chat, delete_chats, delete_chosen, get_chat, insert_chat,
    insert_user, messages_page_query, owned_chat, rename_chat,
};
