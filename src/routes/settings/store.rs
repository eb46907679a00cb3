//! A school's settings as stored: one row per school, none until an admin first changes them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::wire::{ResponseHours, Settings, SettingsInput};
use crate::db::schema::school_settings;
use crate::db::{native, DbConnection, Record, ResourceType};
use crate::routes::utc;

/// A school's settings as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = school_settings, primary_key(school_id))]
pub struct SettingsRow {
    pub school_id: String,
    pub urgent_response_hours: i32,
    pub high_response_hours: i32,
    pub normal_response_hours: i32,
    pub low_response_hours: i32,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
}

/// The settings are one record per school, identified by the school itself: the table has no
/// `id` column, so `stored_in!` does not fit and insert and save are written out.
impl Record for SettingsRow {
    const TYPE: ResourceType = ResourceType::Settings;

    fn record_id(&self) -> String {
        self.school_id.clone()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
    fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        native!(conn, |c| diesel::insert_into(school_settings::table)
            .values(self)
            .execute(c))
    }
    fn save(&self, conn: &mut DbConnection, expected: i64) -> QueryResult<usize> {
        native!(conn, |c| diesel::update(
            school_settings::table
                .filter(school_settings::school_id.eq(&self.school_id))
                .filter(school_settings::version.eq(expected)),
        )
        .set(self)
        .execute(c))
    }
}

impl SettingsRow {
    /// The defaults of a school that never changed its settings, at version 0 (not stored).
    pub fn defaults(school: &str, now: NaiveDateTime) -> SettingsRow {
        let mut row = SettingsRow {
            school_id: school.to_string(),
            urgent_response_hours: 0,
            high_response_hours: 0,
            normal_response_hours: 0,
            low_response_hours: 0,
            version: 0,
            updated_at: now,
        };
        row.set(SettingsInput {
            concern_response_hours: ResponseHours::default(),
        });
        row
    }

    /// The response targets.
    pub fn hours(&self) -> ResponseHours {
        ResponseHours {
            urgent: self.urgent_response_hours,
            high: self.high_response_hours,
            normal: self.normal_response_hours,
            low: self.low_response_hours,
        }
    }

    /// The fields a client sets, as they stand.
    pub fn input(&self) -> SettingsInput {
        SettingsInput {
            concern_response_hours: self.hours(),
        }
    }

    /// Sets the client's fields.
    pub fn set(&mut self, input: SettingsInput) {
        let h = input.concern_response_hours;
        self.urgent_response_hours = h.urgent;
        self.high_response_hours = h.high;
        self.normal_response_hours = h.normal;
        self.low_response_hours = h.low;
    }

    /// The wire form; version 0 (the defaults, never stored) has no `updated_at`.
    pub fn view(&self) -> Settings {
        Settings {
            concern_response_hours: self.hours(),
            version: self.version,
            updated_at: (self.version > 0).then(|| utc(self.updated_at)),
        }
    }
}

/// The school's stored settings, if it ever changed them.
pub fn find(conn: &mut DbConnection, school: &str) -> QueryResult<Option<SettingsRow>> {
    native!(conn, |c| school_settings::table
        .filter(school_settings::school_id.eq(school))
        .select(SettingsRow::as_select())
        .first(c)
        .optional())
}

/// The school's settings, the defaults when it set none.
pub fn current(
    conn: &mut DbConnection,
    school: &str,
    now: NaiveDateTime,
) -> QueryResult<SettingsRow> {
    Ok(find(conn, school)?.unwrap_or_else(|| SettingsRow::defaults(school, now)))
}

/// The school's response targets (the defaults when it set none).
pub fn response_hours(conn: &mut DbConnection, school: &str) -> QueryResult<ResponseHours> {
    Ok(find(conn, school)?
        .map(|row| row.hours())
        .unwrap_or_default())
}
