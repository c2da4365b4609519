//! Statements prepared once per connection. diesel's `sql_query` and `dsl::sql` mark
//! themselves unsafe to cache, because their text may be built at run time and would grow the
//! cache without bound; so on PostgreSQL every use parsed and planned them anew, in a round
//! trip of its own. The service's texts are constants, or one of a bounded set
//! ([`prepared_if`]): [`prepared`] vouches for that, and the connection's statement cache then
//! keys the statement by its text and bind types like any query the DSL builds.
//! `database.statement_cache = false` still turns all caching off.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A query whose text is one of a few fixed ones, prepared once per connection (or, with
/// `cache` false, parsed and planned for this one use).
#[derive(Debug, Clone)]
#[must_use = "a statement runs only when loaded or executed"]
pub struct Prepared<Q> {
    query: Q,
    cache: bool,
}

/// Marks `query` as safe to prepare once per connection. Only for fixed texts: a text built
/// from input would make a cache entry per distinct text.
pub fn prepared<Q>(query: Q) -> Prepared<Q> {
    prepared_if(true, query)
}

/// [`prepared`] when `cache`, else never cached. For a query whose text varies with the
/// request among a bounded set: `cache` keeps the set each connection prepares small.
pub fn prepared_if<Q>(cache: bool, query: Q) -> Prepared<Q> {
    Prepared { query, cache }
}

/// A chat list ordered by at most this many `order_by` pairs is prepared once per connection
/// (the default order has two): 90 orders, with and without a cursor. Longer orders (up to
/// 5! x 2^5 of them) are planned per use, so no client can make a connection hold thousands
/// of prepared statements.
pub const CACHED_ORDER_KEYS: usize = 2;

impl<Q, DB> QueryFragment<DB> for Prepared<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(self.cache)
    }
}

// No static id: the cache keys the statement by its SQL text.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Prepared<Q> {}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::sql_types::Integer;

    use super::*;

    #[test]
    fn a_fixed_text_may_be_cached_where_sql_query_may_not() {
        let query = || diesel::sql_query("SELECT $1 AS x").bind::<Integer, _>(1);
        assert!(!query().is_safe_to_cache_prepared(&Pg).unwrap());
        assert!(prepared(query()).is_safe_to_cache_prepared(&Pg).unwrap());
    }
}
