//! An `UPDATE … SET … WHERE …` whose prepared statement the connection keeps.
//!
//! Diesel marks every `UpdateStatement` unsafe to cache, so SQLite parses and plans it again on
//! every execution (a guarded save of a wide row: tens of thousands of instructions, more than
//! running it). This statement is built from the same parts (the table, a changeset, a
//! predicate) and leaves the caching to diesel's statement cache, keyed by its SQL text and bind
//! types, so two updates of different shapes never share a statement.

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::query_source::QuerySource;
use diesel::{QueryResult, RunQueryDsl, Table};

/// `UPDATE table SET changeset WHERE predicate`, cached once prepared.
pub struct CachedUpdate<T: QuerySource, V, W> {
    from: T::FromClause,
    values: V,
    predicate: W,
}

/// Updates the rows of `table` that `predicate` selects with `changeset`.
pub fn update<T, C, W>(table: T, changeset: C, predicate: W) -> CachedUpdate<T, C::Changeset, W>
where
    T: Table,
    C: AsChangeset<Target = T>,
{
    CachedUpdate {
        from: table.from_clause(),
        values: changeset.as_changeset(),
        predicate,
    }
}

impl<T, V, W, DB> QueryFragment<DB> for CachedUpdate<T, V, W>
where
    DB: Backend,
    T: QuerySource,
    T::FromClause: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.values.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.predicate.walk_ast(out.reborrow())?;
        Ok(())
    }
}

// No static id: the cache keys the statement by its SQL text and bind types.
impl<T: QuerySource, V, W> QueryId for CachedUpdate<T, V, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T: QuerySource, V, W, Conn> RunQueryDsl<Conn> for CachedUpdate<T, V, W> {}
