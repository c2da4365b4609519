//! Hand-written SQL that is prepared once per connection. diesel's `sql_query` marks itself
//! unsafe to cache, because its text may be built at run time and would grow the cache without
//! bound; so on PostgreSQL every use parsed and planned it anew, in a round trip of its own.
//! The service's texts are constants: [`prepared`] vouches for that, and the connection's
//! statement cache then keys the statement by its text and bind types like any query the DSL
//! builds. `database.statement_cache = false` still turns all caching off.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A `sql_query` (with its binds) whose text is a constant of the service.
#[derive(Debug, Clone)]
#[must_use = "a statement runs only when loaded or executed"]
pub struct Prepared<Q>(Q);

/// Marks `query` as safe to prepare once per connection. Only for fixed texts: a text built
/// from input would make a cache entry per distinct text.
pub fn prepared<Q>(query: Q) -> Prepared<Q> {
    Prepared(query)
}

impl<Q, DB> QueryFragment<DB> for Prepared<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
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
