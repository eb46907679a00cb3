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
