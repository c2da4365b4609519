//! Queries whose shape is the same on both backends, built once per schema by macro: each
//! backend only executes them (async on PostgreSQL, inside `spawn_blocking` on SQLite). The
//! order column comes from the domain's allow-list, never from a string.

/// `owner`'s chats in `order` after `cursor` (a keyset: `(column, id)` beyond the cursor's),
/// at most `limit`. `$time` turns a `DateTime<Utc>` into the backend's bind value.
macro_rules! chats_page_query {
    ($schema:ident, $db:ty, $time:path, $owner:expr, $order:expr, $cursor:expr, $limit:expr) => {{
        use chat_domain::{ChatSortField as F, Direction, SortKey};
        use $crate::schema::$schema::chat_conversation as c;
        let order: chat_domain::ChatOrder = $order;
        let asc = order.direction == Direction::Asc;
        let mut q = c::table
            .filter(c::neptun_user_id.eq($owner.get()))
            .select($crate::rows::chat_columns!(c))
            .into_boxed::<$db>();
        /// Rows strictly beyond `(value, id)` in the page's direction.
        macro_rules! beyond {
            ($col:expr, $value:expr, $id:expr) => {
                if asc {
                    q.filter(
                        $col.gt($value.clone())
                            .or($col.eq($value).and(c::id.gt($id))),
                    )
                } else {
                    q.filter(
                        $col.lt($value.clone())
                            .or($col.eq($value).and(c::id.lt($id))),
                    )
                }
            };
        }
        if let Some(cursor) = $cursor {
            let id = cursor.id.get();
            q = match (order.field, &cursor.key) {
                (F::Id, _) if asc => q.filter(c::id.gt(id)),
                (F::Id, _) => q.filter(c::id.lt(id)),
                (F::Name, SortKey::Text(v)) => beyond!(c::name, v.clone(), id),
                (F::Model, SortKey::Text(v)) => beyond!(c::model, v.clone(), id),
                (F::CreatedAt, SortKey::Time(t)) => beyond!(c::created_at, $time(*t), id),
                (F::UpdatedAt, SortKey::Time(t)) => beyond!(c::updated_at, $time(*t), id),
                // The HTTP adapter refuses such cursors; an empty page is the safe answer.
                _ => q.filter(c::id.lt(0)),
            };
        }
        q = match (order.field, asc) {
            (F::Id, true) => q.order(c::id.asc()),
            (F::Id, false) => q.order(c::id.desc()),
            (F::Name, true) => q.order((c::name.asc(), c::id.asc())),
            (F::Name, false) => q.order((c::name.desc(), c::id.desc())),
            (F::Model, true) => q.order((c::model.asc(), c::id.asc())),
            (F::Model, false) => q.order((c::model.desc(), c::id.desc())),
            (F::CreatedAt, true) => q.order((c::created_at.asc(), c::id.asc())),
            (F::CreatedAt, false) => q.order((c::created_at.desc(), c::id.desc())),
            (F::UpdatedAt, true) => q.order((c::updated_at.asc(), c::id.asc())),
            (F::UpdatedAt, false) => q.order((c::updated_at.desc(), c::id.desc())),
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

pub(crate) use {chats_page_query, messages_page_query, owned_chat};
