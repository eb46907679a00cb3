//! How our own types are stored: enumerations and typed ids as text, on both backends.
//!
//! A value the database holds that the code does not know (an enumeration value from a newer
//! version, a damaged id) is a deserialization error, which the request reports as a 500 and
//! logs with its request id: never a silent fallback to some default.

/// Implements diesel's text conversions for `$t` on SQLite, PostgreSQL and the
/// `MultiConnection` backend: `$to` is a method giving the stored text (a `&str`, or a `String`
/// with `owned`), `$from` parses it back (returning `Option`).
macro_rules! text_sql {
    ($t:ty, $what:expr, to = $to:ident, from = $from:expr) => {
        $crate::db::types::text_sql!(@impl $t, $what, Borrowed $to, $from);
    };
    ($t:ty, $what:expr, owned = $to:ident, from = $from:expr) => {
        $crate::db::types::text_sql!(@impl $t, $what, Owned $to, $from);
    };
    (@impl $t:ty, $what:expr, $cow:ident $to:ident, $from:expr) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $t {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                let text: std::borrow::Cow<'b, str> = std::borrow::Cow::$cow(self.$to());
                match text {
                    std::borrow::Cow::Borrowed(s) => out.set_value(s),
                    std::borrow::Cow::Owned(s) => out.set_value(s),
                }
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $t {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                let text: std::borrow::Cow<'_, str> = std::borrow::Cow::$cow(self.$to());
                out.write_all(text.as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $t {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $t {
            fn from_sql(
                value: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::from_sql(value)?;
                $crate::db::types::parsed(($from)(text.as_str()), $what, &text)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $t {
            fn from_sql(
                value: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(value.as_bytes())?;
                $crate::db::types::parsed(($from)(text), $what, text)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $t {
            fn from_sql(
                value: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                value.from_sql::<Self, diesel::sql_types::Text>()
            }
        }
    };
}
pub(crate) use text_sql;

/// The parsed value, or the error that names what the database held.
pub fn parsed<T>(value: Option<T>, what: &str, text: &str) -> diesel::deserialize::Result<T> {
    value.ok_or_else(|| {
        // Never echo long or odd stored text into logs.
        let shown: String = text.chars().take(40).collect();
        format!("the database holds an unknown {what} `{shown}`").into()
    })
}

use chrono::NaiveDateTime;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A stored time as rows read it (`#[diesel(deserialize_as = Stamp)]` on a `NaiveDateTime`
/// field; `OptStamp` on an optional one). SQLite keeps times as text, which diesel reads by trying
/// a list of chrono formats in turn: an eighth of the cost of a list of fifty families under
/// callgrind. This reads the one format SQLite rows have (`2026-12-01 09:05:07.123456`, as diesel
/// writes it) directly and leaves anything else to diesel; PostgreSQL's binary times go through
/// diesel as they are. (Writes keep diesel's own conversion: `serialize_as` would make every
/// insert copy its row.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// `Stamp` for a nullable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct OptStamp(pub Option<Stamp>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}
impl From<NaiveDateTime> for Stamp {
    fn from(t: NaiveDateTime) -> Self {
        Stamp(t)
    }
}
impl From<OptStamp> for Option<NaiveDateTime> {
    fn from(s: OptStamp) -> Self {
        s.0.map(|s| s.0)
    }
}
impl From<Option<NaiveDateTime>> for OptStamp {
    fn from(t: Option<NaiveDateTime>) -> Self {
        OptStamp(t.map(Stamp))
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits (a `T` is taken for
/// the space too); `None` for anything else.
fn parse_stamp(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20, b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    date.and_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)
}

/// Writes `t` as diesel does for SQLite (`%Y-%m-%d %H:%M:%S%.f`: 0, 3, 6 or 9 fraction digits);
/// `None` for what is left to chrono (years beyond 0..=9999, leap seconds). The tests check the
/// reader against it.
#[cfg(test)]
fn format_stamp(t: &NaiveDateTime) -> Option<String> {
    use chrono::{Datelike, Timelike};
    /// Writes `v` as `digits` decimal digits at `at`.
    fn put(buf: &mut [u8; 29], at: usize, digits: usize, mut v: u32) {
        for i in (at..at + digits).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut nano = t.nanosecond();
    if nano >= 1_000_000_000 {
        return None;
    }
    let mut buf = *b"0000-00-00 00:00:00.000000000";
    put(&mut buf, 0, 4, year);
    put(&mut buf, 5, 2, t.month());
    put(&mut buf, 8, 2, t.day());
    put(&mut buf, 11, 2, t.hour());
    put(&mut buf, 14, 2, t.minute());
    put(&mut buf, 17, 2, t.second());
    let digits = if nano == 0 {
        0
    } else if nano % 1_000_000 == 0 {
        nano /= 1_000_000;
        3
    } else if nano % 1_000 == 0 {
        nano /= 1_000;
        6
    } else {
        9
    };
    let end = if digits == 0 {
        19
    } else {
        put(&mut buf, 20, digits, nano);
        20 + digits
    };
    std::str::from_utf8(&buf[..end]).ok().map(str::to_string)
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if let Some(t) = parse_stamp(value.read_text()) {
            return Ok(Stamp(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(
        value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB> FromSql<Nullable<Timestamp>, DB> for OptStamp
where
    DB: diesel::backend::Backend,
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        <Stamp as FromSql<Timestamp, DB>>::from_sql(value).map(|s| OptStamp(Some(s)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(OptStamp(None)),
        }
    }
}

/// A stored time compared as the text SQLite holds: `stored_time(concerns::due_at).lt(now)`,
/// for a comparison made row by row as a query walks an index, never one an index seeks on.
///
/// SQLite gives a column declared `TIMESTAMP` numeric affinity, so each comparison of one with a
/// text value first tries to read both as numbers, fails, and then compares the text. Walking
/// the unanswered concerns for the overdue queue (about 1,800 index entries a page on the
/// benchmark's data), that failed reading was a seventh of the server's CPU time (perf:
/// `applyNumericAffinity`, `sqlite3AtoF`). On SQLite this writes the column as
/// `CAST(col AS TEXT)`, which compares the stored text at once: the same answer for every time
/// stored as text, which is how diesel writes them. An index cannot seek on the cast, hence the
/// rule above; and a partial index `WHERE col IS NOT NULL` serves the query only if it says so
/// itself, as SQLite infers that from a comparison on the column, not on the cast. PostgreSQL's
/// times are typed: there the column is written as it is.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct StoredTime<E>(E);

/// See [`StoredTime`].
pub fn stored_time<E>(column: E) -> StoredTime<E> {
    StoredTime(column)
}

impl<E: diesel::Expression> diesel::Expression for StoredTime<E> {
    type SqlType = E::SqlType;
}

impl<E: diesel::AppearsOnTable<QS>, QS> diesel::AppearsOnTable<QS> for StoredTime<E> {}

impl<E: diesel::SelectableExpression<QS>, QS> diesel::SelectableExpression<QS> for StoredTime<E> {}

impl<E: diesel::expression::ValidGrouping<GB>, GB> diesel::expression::ValidGrouping<GB>
    for StoredTime<E>
{
    type IsAggregate = E::IsAggregate;
}

impl<E: QueryFragment<Sqlite>> QueryFragment<Sqlite> for StoredTime<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> diesel::QueryResult<()> {
        out.push_sql("CAST(");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" AS TEXT)");
        Ok(())
    }
}

impl<E: QueryFragment<Pg>> QueryFragment<Pg> for StoredTime<E> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        self.0.walk_ast(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times are written as diesel writes them for SQLite and read back whole.
    #[test]
    fn stamps_round_trip_in_diesels_format() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for i in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % (300 * 365 * 86_400)) as i64 - 70 * 365 * 86_400;
            let nanos = match i % 4 {
                0 => 0,
                1 => ((seed >> 8) % 1000) as u32 * 1_000_000,
                2 => ((seed >> 8) % 1_000_000) as u32 * 1_000,
                _ => ((seed >> 8) % 1_000_000_000) as u32,
            };
            let t = chrono::DateTime::from_timestamp(secs, nanos)
                .unwrap()
                .naive_utc();
            let text = format_stamp(&t).unwrap();
            assert_eq!(text, t.format("%Y-%m-%d %H:%M:%S%.f").to_string());
            assert_eq!(parse_stamp(&text), Some(t));
            assert_eq!(parse_stamp(&text.replace(' ', "T")), Some(t));
        }
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01 9:05:07",
            "2026-13-01 09:05:07",
            "2026-12-01 09:05:07.",
            "2026-12-01 09:05:07.1234567890",
            "2026-12-01 09:05:07Z",
            "x026-12-01 09:05:07",
        ] {
            assert_eq!(parse_stamp(bad), None, "{bad}");
        }
    }
}
