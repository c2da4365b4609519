//! Queries whose shape is the same on both backends, built once per schema by macro: each
//! backend only executes them (async on PostgreSQL, inside `spawn_blocking` on SQLite). The
//! order column comes from the domain's allow-list, never from a string. `$now` is the
//! backend's "now" (PostgreSQL's transaction time; a fixed-format instant on SQLite).

/// `owner`'s chats in `order` after `cursor`, at most `limit`. `$time` turns a
/// `DateTime<Utc>` into the backend's bind value.
macro_rules! chats_page_query {
    ($schema:ident, $db:ty, $time:path, $owner:expr, $order:expr, $cursor:expr, $limit:expr) => {{
        use $crate::schema::$schema::chat_conversation as c;
        let order: &chat_domain::ChatOrder = $order;
        let mut q = c::table
            .filter(c::neptun_user_id.eq($owner.get()))
            .select($crate::rows::chat_columns!(c))
            .into_boxed::<$db>();
        if let Some(cursor) = $cursor {
            q = q.filter($crate::queries::chats_after!(
                $schema, $db, $time, order, cursor
            ));
        }
        $crate::prepared::prepared_if(
            order.keys().len() <= $crate::prepared::CACHED_ORDER_KEYS,
            $crate::queries::chats_in_order!($schema, q, order)
                .limit(i64::try_from($limit).unwrap_or(i64::MAX)),
        )
    }};
}

/// The app's model column is an enum, ordered by declaration: compared and ordered as text.
macro_rules! model_text {
    () => {
        diesel::dsl::sql::<diesel::sql_types::Text>("CAST(model AS TEXT)")
    };
}

/// The keyset condition "after `cursor` in `order`", for keys `k1..kn` and the id: beyond on
/// k1, or equal on k1 and beyond on k2, ..., or equal on all and beyond on the id, each
/// "beyond" in its own pair's direction.
macro_rules! chats_after {
    ($schema:ident, $db:ty, $time:path, $order:expr, $cursor:expr) => {{
        use chat_domain::{ChatSortField as F, Direction, SortKey};
        use $crate::schema::$schema::chat_conversation as c;
        type Cond = Box<dyn BoxableExpression<c::table, $db, SqlType = diesel::sql_types::Bool>>;
        let (order, cursor): (&chat_domain::ChatOrder, &chat_domain::ChatCursor) =
            ($order, $cursor);
        let keys = order.keys();
        /// `(equal, beyond)` for `$col` at `$value`, beyond in direction `$asc`.
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
        // `(equal, beyond)` for key `i`, the id after the last; made afresh for each use (boxed
        // expressions cannot be cloned). `None`: a cursor that does not fit its order, which
        // the HTTP adapter refuses.
        let key = |i: usize| -> Option<(Cond, Cond)> {
            let Some(sort) = keys.get(i) else {
                let asc = order.id_direction() == Direction::Asc;
                return Some(compare!(c::id, cursor.id.get(), asc));
            };
            let asc = sort.direction == Direction::Asc;
            match (sort.field, cursor.keys.get(i)?) {
                (F::Name, SortKey::Text(v)) => Some(compare!(c::name, v.clone(), asc)),
                (F::Model, SortKey::Text(v)) => {
                    Some(compare!($crate::queries::model_text!(), v.clone(), asc))
                }
                (F::CreatedAt, SortKey::Time(t)) => Some(compare!(
                    $crate::rows::stamp!(c::created_at),
                    $time(*t),
                    asc
                )),
                (F::UpdatedAt, SortKey::Time(t)) => Some(compare!(
                    $crate::rows::stamp!(c::updated_at),
                    $time(*t),
                    asc
                )),
                (F::Id, _) => Some(compare!(c::id, cursor.id.get(), asc)),
                _ => None,
            }
        };
        // Ids are positive: `id < 0` is false, the start of the disjunction.
        let mut any_beyond: Cond = Box::new(c::id.lt(0));
        for i in 0..=keys.len() {
            // Equal on every key before `i`, beyond on key `i`.
            let mut term = key(i).map(|(_, beyond)| beyond);
            for j in 0..i {
                term = term
                    .zip(key(j))
                    .map(|(t, (equal, _))| -> Cond { Box::new(equal.and(t)) });
            }
            match term {
                Some(term) => any_beyond = Box::new(any_beyond.or(term)),
                None => {
                    any_beyond = Box::new(c::id.lt(0));
                    break;
                }
            }
        }
        any_beyond
    }};
}

/// `$q` ordered by `order`'s pairs, then by id in the last pair's direction.
macro_rules! chats_in_order {
    ($schema:ident, $q:expr, $order:expr) => {{
        use chat_domain::{ChatSortField as F, Direction};
        use $crate::rows::stamp;
        use $crate::schema::$schema::chat_conversation as c;
        let (mut q, order) = ($q, $order);
        for sort in order.keys() {
            let asc = sort.direction == Direction::Asc;
            q = match (sort.field, asc) {
                (F::Id, true) => q.then_order_by(c::id.asc()),
                (F::Id, false) => q.then_order_by(c::id.desc()),
                (F::Name, true) => q.then_order_by(c::name.asc()),
                (F::Name, false) => q.then_order_by(c::name.desc()),
                (F::Model, true) => q.then_order_by($crate::queries::model_text!().asc()),
                (F::Model, false) => q.then_order_by($crate::queries::model_text!().desc()),
                (F::CreatedAt, true) => q.then_order_by(stamp!(c::created_at).asc()),
                (F::CreatedAt, false) => q.then_order_by(stamp!(c::created_at).desc()),
                (F::UpdatedAt, true) => q.then_order_by(stamp!(c::updated_at).asc()),
                (F::UpdatedAt, false) => q.then_order_by(stamp!(c::updated_at).desc()),
            };
        }
        match order.id_direction() {
            Direction::Asc => q.then_order_by(c::id.asc()),
            Direction::Desc => q.then_order_by(c::id.desc()),
        }
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
            q = q.filter(m::id.gt($crate::schema::sql_types::IdBind(after.get())));
        }
        if let Some(before) = query.before {
            q = q.filter(m::id.lt($crate::schema::sql_types::IdBind(before.get())));
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
        let ids: Vec<$crate::schema::sql_types::IdBind> =
            $choose(&$crate::rows::id_actor_pairs(pairs)?)
                .into_iter()
                .map(|id| $crate::schema::sql_types::IdBind(id.get()))
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
    any_user, chats_after, chats_in_order, chats_page_query, delete_chat, delete_chats,
    delete_chosen, get_chat, insert_chat, insert_user, messages_page_query, model_text, owned_chat,
    rename_chat,
};

#[cfg(test)]
mod tests {
    use chat_domain::{
        Chat, ChatCursor, ChatId, ChatOrder, Direction, MessageId, MessageListQuery, PageLimit,
        UserId,
    };
    use chrono::{DateTime, Utc};
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;

    fn same(t: DateTime<Utc>) -> DateTime<Utc> {
        t
    }

    fn cached(query: &impl QueryFragment<Pg>) -> bool {
        query.is_safe_to_cache_prepared(&Pg).unwrap()
    }

    /// Reading a chat, a page of its messages and a page of chats (in the default order, after
    /// a cursor or not) are prepared once per connection, not parsed and planned each time.
    #[test]
    fn the_hot_reads_are_prepared_once_per_connection() {
        let (owner, chat) = (UserId::new(1).unwrap(), ChatId::new(2).unwrap());
        let page = MessageListQuery {
            after: Some(MessageId::new(3)),
            before: None,
            direction: Direction::Desc,
            limit: PageLimit::new(10, 100).unwrap(),
        };
        assert!(cached(&messages_page_query!(postgres, Pg, chat, &page, 10)));
        assert!(cached(&get_chat!(postgres, owner, chat)));
        let order = ChatOrder::default();
        let row = Chat {
            id: chat,
            owner,
            name: "n".into(),
            model: "m".into(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let cursor = ChatCursor::after(&row, &order);
        for after in [None, Some(&cursor)] {
            assert!(cached(&chats_page_query!(
                postgres, Pg, same, owner, &order, after, 10
            )));
        }
    }

    /// Orders of many pairs are planned per use, so the prepared statements a connection holds
    /// stay few whatever orders clients ask for.
    #[test]
    fn long_chat_orders_are_not_cached() {
        let owner = UserId::new(1).unwrap();
        let order: ChatOrder = "name:asc,created_at:desc,updated_at:asc".parse().unwrap();
        let query = chats_page_query!(postgres, Pg, same, owner, &order, None, 10);
        assert!(!cached(&query));
    }
}
