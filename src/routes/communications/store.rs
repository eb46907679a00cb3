//! Communications as stored, their queries, and the loading of whom a contact reaches.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::rules::{Contact, ContactTarget, GuardianTarget, Household};
use super::wire::{Category, Communication, CommunicationInput, Direction, FollowUp, Visibility};
use crate::auth::policy::{self, Viewer};
use crate::auth::Caller;
use crate::db::schema::communications as comms;
use crate::db::types::stored_time;
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::{Channel, LanguageTag};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{ApplicantId, CommunicationId, FamilyId, GuardianId, StudentId};
use crate::routes::{admissions, families, guardians, links, utc};

/// A communication as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = comms, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct CommunicationRow {
    pub id: CommunicationId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub family_id: Option<FamilyId>,
    pub student_id: Option<StudentId>,
    pub guardian_id: Option<GuardianId>,
    pub channel: Channel,
    pub direction: Direction,
    pub category: Category,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub language: Option<LanguageTag>,
    pub interpreter_used: bool,
    pub translated: bool,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub occurred_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub follow_up_due_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub follow_up_done_at: Option<NaiveDateTime>,
    pub author: String,
    pub author_role: String,
    pub visibility: Visibility,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
    pub applicant_id: Option<ApplicantId>,
}

impl Record for CommunicationRow {
    const TYPE: ResourceType = ResourceType::Communications;
    stored_in!(comms);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn family_id(&self) -> Option<String> {
        self.family_id.map(|f| f.to_string())
    }
    fn student_id(&self) -> Option<String> {
        self.student_id.map(|s| s.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for CommunicationRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

/// A client's time as both databases keep it: to the microsecond.
fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

impl CommunicationRow {
    /// A new communication of `school` at version 1, logged by `author` at `now`, with the
    /// client's fields.
    pub fn new(
        school: &str,
        author: &Caller,
        input: CommunicationInput,
        now: NaiveDateTime,
    ) -> Self {
        let mut row = CommunicationRow {
            id: CommunicationId::new(),
            school_id: school.to_string(),
            family_id: input.family_id.map(FamilyId),
            applicant_id: input.applicant_id.map(ApplicantId),
            student_id: None,
            guardian_id: None,
            channel: input.channel,
            direction: input.direction,
            category: input.category,
            subject: None,
            body: None,
            language: None,
            interpreter_used: false,
            translated: false,
            occurred_at: now,
            follow_up_due_at: None,
            follow_up_done_at: None,
            author: author.sub.clone(),
            author_role: author.role.as_str().to_string(),
            visibility: Visibility::Family,
            acknowledged_at: None,
            acknowledged_by: None,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input, now);
        row
    }

    /// The fields a client sets, as they stand: what a merge patch applies to.
    pub fn input(&self) -> CommunicationInput {
        CommunicationInput {
            family_id: self.family_id.map(FamilyId::uuid),
            applicant_id: self.applicant_id.map(ApplicantId::uuid),
            student_id: self.student_id.map(StudentId::uuid),
            guardian_id: self.guardian_id.map(GuardianId::uuid),
            channel: self.channel,
            direction: self.direction,
            category: self.category,
            subject: self.subject.clone(),
            body: self.body.clone(),
            language: self.language.clone(),
            interpreter_used: self.interpreter_used,
            translated: self.translated,
            occurred_at: Some(utc(self.occurred_at)),
            follow_up_due_at: self.follow_up_due_at.map(utc),
            follow_up_done_at: self.follow_up_done_at.map(utc),
            visibility: Some(self.visibility),
        }
    }

    /// Sets the client's fields; what they leave out takes its default (`occurred_at`: `now`;
    /// `visibility`: `family` for outbound, `staff` for inbound notes).
    pub fn set(&mut self, input: CommunicationInput, now: NaiveDateTime) {
        self.family_id = input.family_id.map(FamilyId);
        self.applicant_id = input.applicant_id.map(ApplicantId);
        self.student_id = input.student_id.map(StudentId);
        self.guardian_id = input.guardian_id.map(GuardianId);
        self.channel = input.channel;
        self.direction = input.direction;
        self.category = input.category;
        self.subject = input.subject;
        self.body = input.body;
        self.language = input.language;
        self.interpreter_used = input.interpreter_used;
        self.translated = input.translated;
        self.occurred_at = input.occurred_at.map(stored).unwrap_or(now);
        self.follow_up_due_at = input.follow_up_due_at.map(stored);
        self.follow_up_done_at = input.follow_up_done_at.map(stored);
        self.visibility = input.visibility.unwrap_or(match input.direction {
            Direction::Outbound => Visibility::Family,
            Direction::Inbound => Visibility::Staff,
        });
    }

    /// What the contact rules judge of it.
    pub fn contact(&self) -> Contact {
        Contact {
            guardian: self.guardian_id,
            student: self.student_id,
            channel: self.channel,
            direction: self.direction,
            language: self.language.clone(),
            interpreter_used: self.interpreter_used,
            translated: self.translated,
        }
    }

    /// The wire form.
    pub fn view(self) -> Communication {
        Communication {
            id: self.id.uuid(),
            family_id: self.family_id.map(FamilyId::uuid),
            applicant_id: self.applicant_id.map(ApplicantId::uuid),
            student_id: self.student_id.map(StudentId::uuid),
            guardian_id: self.guardian_id.map(GuardianId::uuid),
            channel: self.channel,
            direction: self.direction,
            category: self.category,
            subject: self.subject,
            body: self.body,
            language: self.language.map(String::from),
            interpreter_used: self.interpreter_used,
            translated: self.translated,
            occurred_at: utc(self.occurred_at),
            follow_up_due_at: self.follow_up_due_at.map(utc),
            follow_up_done_at: self.follow_up_done_at.map(utc),
            author: self.author,
            visibility: self.visibility,
            acknowledged_at: self.acknowledged_at.map(utc),
            acknowledged_by: self.acknowledged_by,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            warnings: None,
        }
    }
}

/// The active communications of the viewer's school that the viewer may see: for a guardian,
/// those shared with their family, about the family or a child they may see. A boxed query for
/// whichever backend the enclosing `native!` picks.
macro_rules! visible {
    ($viewer:expr) => {{
        let viewer: &Viewer = $viewer;
        let mut sql = comms::table
            .filter(comms::school_id.eq(viewer.school_id.clone()))
            .filter(comms::archived_at.is_null())
            .into_boxed();
        // An applicant's household is admissions' business until it is a family.
        if !viewer.sees_applicants {
            sql = sql.filter(comms::family_id.is_not_null());
        }
        if let Some((family, students)) = viewer.record_scope() {
            sql = sql
                .filter(comms::family_id.eq(family))
                .filter(comms::visibility.eq(Visibility::Family))
                .filter(
                    comms::student_id
                        .is_null()
                        .or(comms::student_id.eq_any(students.to_vec())),
                );
        }
        sql
    }};
}

/// The first `limit` rows of `sql` before the keyset position `after`, newest first. The plain
/// `occurred_at <=` is implied by the rest, but it is what lets the database seek straight to
/// the cursor in the time index instead of walking every newer row: deep pages cost what the
/// first one does.
macro_rules! newest_first {
    ($sql:expr, $after:expr, $limit:expr) => {{
        let mut sql = $sql;
        let after: Option<&(NaiveDateTime, String)> = $after;
        if let Some((at, id)) = after {
            sql = sql.filter(comms::occurred_at.le(*at)).filter(
                comms::occurred_at
                    .lt(*at)
                    .or(comms::occurred_at.eq(*at).and(comms::id.lt(id.clone()))),
            );
        }
        sql.order((comms::occurred_at.desc(), comms::id.desc()))
            .limit($limit)
            .select(CommunicationRow::as_select())
    }};
}

/// Loads an active communication the viewer may see, else 404.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: CommunicationId,
) -> Result<CommunicationRow, ApiError> {
    let school = viewer.school_id.as_str();
    let row = native!(conn, |c| comms::table
        .filter(comms::school_id.eq(school))
        .filter(comms::id.eq(id))
        .filter(comms::archived_at.is_null())
        .select(CommunicationRow::as_select())
        .first(c))?;
    let seen = match row.family_id {
        Some(family) => {
            viewer.sees_record(family, row.student_id, row.visibility == Visibility::Family)
        }
        None => viewer.sees_applicants && !viewer.is_guardian(),
    };
    if seen {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The filters of a communication list.
#[derive(Debug, Default)]
pub struct Filters {
    /// With this family.
    pub family: Option<FamilyId>,
    /// With this applicant's household.
    pub applicant: Option<ApplicantId>,
    /// About this student.
    pub student: Option<StudentId>,
    /// With this guardian.
    pub guardian: Option<GuardianId>,
    /// By this channel.
    pub channel: Option<Channel>,
    /// In this direction.
    pub direction: Option<Direction>,
    /// In this category.
    pub category: Option<Category>,
    /// Happened at or after.
    pub occurred_from: Option<DateTime<Utc>>,
    /// Happened before.
    pub occurred_to: Option<DateTime<Utc>>,
    /// The state of the follow-up, judged at `now`.
    pub follow_up: Option<FollowUp>,
    /// Logged by this author (a token `sub`).
    pub author: Option<String>,
}

impl Filters {
    /// The family, when it is the only filter.
    fn family_alone(&self) -> Option<FamilyId> {
        // Every field named, so that a new filter cannot be missed here.
        let Filters {
            family,
            applicant,
            student,
            guardian,
            channel,
            direction,
            category,
            occurred_from,
            occurred_to,
            follow_up,
            author,
        } = self;
        let others = applicant.is_some()
            || student.is_some()
            || guardian.is_some()
            || channel.is_some()
            || direction.is_some()
            || category.is_some()
            || occurred_from.is_some()
            || occurred_to.is_some()
            || follow_up.is_some()
            || author.is_some();
        if others {
            None
        } else {
            *family
        }
    }
}

/// A page of the communications the viewer may see, newest first by `occurred_at`; follow-ups
/// are judged due or overdue at `now`.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &Filters,
    now: NaiveDateTime,
    page: &PageRequest,
) -> Result<Vec<CommunicationRow>, ApiError> {
    let after = page.after.as_deref().and_then(parse_time_key);
    if let Some(family) = f.family_alone() {
        return family_page(conn, viewer, family, after.as_ref(), page.fetch());
    }
    Ok(native!(conn, |c| {
        let mut sql = visible!(viewer);
        if let Some(family) = f.family {
            sql = sql.filter(comms::family_id.eq(family));
        }
        if let Some(applicant) = f.applicant {
            sql = sql.filter(comms::applicant_id.eq(applicant));
        }
        if let Some(student) = f.student {
            sql = sql.filter(comms::student_id.eq(student));
        }
        if let Some(guardian) = f.guardian {
            sql = sql.filter(comms::guardian_id.eq(guardian));
        }
        if let Some(channel) = f.channel {
            sql = sql.filter(comms::channel.eq(channel));
        }
        if let Some(direction) = f.direction {
            sql = sql.filter(comms::direction.eq(direction));
        }
        if let Some(category) = f.category {
            sql = sql.filter(comms::category.eq(category));
        }
        if let Some(from) = f.occurred_from {
            sql = sql.filter(comms::occurred_at.ge(from.naive_utc()));
        }
        if let Some(to) = f.occurred_to {
            sql = sql.filter(comms::occurred_at.lt(to.naive_utc()));
        }
        // Due and overdue follow-ups say `follow_up_due_at IS NOT NULL`: their comparison implies
        // it, but SQLite sees that only on the column itself, not on `stored_time`, and without it
        // the partial index of open follow-ups would not serve them.
        match f.follow_up {
            Some(FollowUp::Due) => {
                sql = sql
                    .filter(comms::follow_up_done_at.is_null())
                    .filter(comms::follow_up_due_at.is_not_null())
                    .filter(stored_time(comms::follow_up_due_at).ge(now))
            }
            Some(FollowUp::Overdue) => {
                sql = sql
                    .filter(comms::follow_up_done_at.is_null())
                    .filter(comms::follow_up_due_at.is_not_null())
                    .filter(stored_time(comms::follow_up_due_at).lt(now))
            }
            Some(FollowUp::Done) => sql = sql.filter(comms::follow_up_done_at.is_not_null()),
            None => {}
        }
        if let Some(author) = &f.author {
            sql = sql.filter(comms::author.eq(author.clone()));
        }
        newest_first!(sql, after.as_ref(), page.fetch()).load(c)
    })?)
}

/// A family's communications the viewer may see, newest first, after `after`: the
/// communications part of the family timeline.
pub fn family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<CommunicationRow>, ApiError> {
    if viewer.record_scope().is_none() {
        return Ok(staff_family_page(conn, viewer, family, after, limit)?);
    }
    Ok(native!(conn, |c| {
        let sql = visible!(viewer).filter(comms::family_id.eq(family));
        newest_first!(sql, after, limit).load(c)
    })?)
}

/// `family_page` for staff, who see all of a family's communications: the rows `visible!` and
/// `newest_first!` select for them (`family_id = ?` already leaves out an applicant's), as a
/// query of one fixed shape that diesel prepares once and keeps; a boxed query writes its SQL
/// out again on every request (a twentieth of a family's list under `perf`).
fn staff_family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<CommunicationRow>> {
    let school = viewer.school_id.as_str();
    native!(conn, |c| {
        let sql = comms::table
            .filter(comms::school_id.eq(school))
            .filter(comms::archived_at.is_null())
            .filter(comms::family_id.eq(family));
        let newest_first = (comms::occurred_at.desc(), comms::id.desc());
        match after {
            None => sql
                .order(newest_first)
                .limit(limit)
                .select(CommunicationRow::as_select())
                .load(c),
            Some((at, id)) => sql
                .filter(comms::occurred_at.le(*at))
                .filter(
                    comms::occurred_at
                        .lt(*at)
                        .or(comms::occurred_at.eq(*at).and(comms::id.lt(id))),
                )
                .order(newest_first)
                .limit(limit)
                .select(CommunicationRow::as_select())
                .load(c),
        }
    })
}

/// A keyset position in a newest-first list: the time and id of the last item seen.
pub fn time_key(at: NaiveDateTime, id: impl std::fmt::Display) -> String {
    format!("{}|{id}", at.and_utc().timestamp_micros())
}

/// Parses `time_key`'s output.
pub fn parse_time_key(key: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = key.split_once('|')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Uuid::parse_str(id).ok()?;
    Some((at, id.to_string()))
}

/// Whether a cursor key is a `time_key`.
pub fn is_time_key(key: &str) -> bool {
    parse_time_key(key).is_some()
}

/// Loads whom a communication reaches, for the contact rules, checking its references on the
/// way: the family must be one the viewer may see (else 404); a named guardian must be one of
/// the family's (else 422 on `guardian_id`); a named student must go with the family (else 422
/// on `student_id`) and, for a guardian, be a child they may see (else 404).
pub fn contact_target(
    conn: &mut DbConnection,
    viewer: &Viewer,
    row: &CommunicationRow,
) -> Result<ContactTarget, ApiError> {
    let Some(family_id) = row.family_id else {
        return applicant_target(conn, viewer, row);
    };
    let family = families::store::find(conn, viewer, family_id)?;
    let guardian = match row.guardian_id {
        None => None,
        Some(id) => match guardians::store::find(conn, viewer, id) {
            Ok(g) if g.family_id == family_id => Some(g),
            Ok(_) | Err(ApiError::NotFound) => {
                return Err(ApiError::unprocessable_field(
                    "guardian_id",
                    "not_found",
                    "no such guardian in this family",
                ))
            }
            Err(e) => return Err(e),
        },
    };
    if let Some(student) = row.student_id {
        if !policy::student_goes_with_family(conn, &viewer.school_id, family_id, student)? {
            return Err(ApiError::unprocessable_field(
                "student_id",
                "not_found",
                "no such student with this family",
            ));
        }
        viewer.student(student)?;
    }
    let guardian = match guardian {
        None => None,
        Some(g) => {
            let restricted_for_student = match row.student_id {
                Some(student) => {
                    links::store::contact_restricted(conn, &viewer.school_id, student, g.id)?
                }
                None => false,
            };
            Some(GuardianTarget {
                contact_allowed: g.contact_allowed,
                sms_opt_in: g.sms_opt_in,
                preferred_language: g.preferred_language,
                restricted_for_student,
            })
        }
    };
    Ok(ContactTarget {
        household: Household {
            sms_opt_in: family.sms_opt_in,
            language: family.primary_language,
        },
        guardian,
    })
}

/// Whom a communication with an applicant's household reaches: the applicant must be one of
/// the school's (and the caller must see applicants), else 404; such a communication names no
/// guardian or student (there are none yet: 422). The household's consent and language are
/// the applicant's contact's.
fn applicant_target(
    conn: &mut DbConnection,
    viewer: &Viewer,
    row: &CommunicationRow,
) -> Result<ContactTarget, ApiError> {
    let Some(applicant) = row.applicant_id else {
        return Err(ApiError::field(
            "family_id",
            "required",
            "give family_id, or applicant_id before there is a family",
        ));
    };
    if !viewer.sees_applicants || viewer.is_guardian() {
        return Err(ApiError::NotFound);
    }
    let found = admissions::store::find(conn, &viewer.school_id, applicant)?;
    for (field, named) in [
        ("guardian_id", row.guardian_id.is_some()),
        ("student_id", row.student_id.is_some()),
    ] {
        if named {
            return Err(ApiError::unprocessable_field(
                field,
                "not_allowed",
                "an applicant's household has no guardian or student records yet",
            ));
        }
    }
    Ok(ContactTarget {
        household: Household {
            sms_opt_in: found.guardian_sms_opt_in,
            language: found.guardian_preferred_language,
        },
        guardian: None,
    })
}

/// 422 on `applicant_id` unless a communication that names both a family and an applicant
/// names an applicant enrolled into that family (and the caller may see applicants).
pub fn check_enrolled_applicant(
    conn: &mut DbConnection,
    viewer: &Viewer,
    row: &CommunicationRow,
) -> Result<(), ApiError> {
    let (Some(family), Some(applicant)) = (row.family_id, row.applicant_id) else {
        return Ok(());
    };
    let enrolled_here = viewer.sees_applicants
        && !viewer.is_guardian()
        && match admissions::store::find(conn, &viewer.school_id, applicant) {
            Ok(a) => a.family_id == Some(family),
            Err(ApiError::NotFound) => false,
            Err(e) => return Err(e),
        };
    if enrolled_here {
        Ok(())
    } else {
        Err(ApiError::unprocessable_field(
            "applicant_id",
            "not_found",
            "no such applicant enrolled into this family",
        ))
    }
}

/// The communications logged with an applicant's household that no family holds yet (archived
/// ones too: they move with the rest on enrolment).
pub fn of_applicant(
    conn: &mut DbConnection,
    school: &str,
    applicant: ApplicantId,
) -> QueryResult<Vec<CommunicationRow>> {
    native!(conn, |c| comms::table
        .filter(comms::school_id.eq(school))
        .filter(comms::applicant_id.eq(applicant))
        .filter(comms::family_id.is_null())
        .order(comms::id.asc())
        .select(CommunicationRow::as_select())
        .load(c))
}
