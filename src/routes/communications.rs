//! Communications: every contact with a family, logged, followed up and acknowledged, with the
//! school's contact rules enforced on what is sent out.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::{student_with_family, viewable_links, Viewer};
use super::families::find_family;
use super::{
    parse_id, save_if_version, single, utc, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors,
};
use crate::auth::{Caller, Role, Scope};
use crate::db::schema::{communications as comms, guardian_student_links as links, guardians};
use crate::db::{DbConnection, MultiBackend};
use crate::domain::{plain_text, text_enum, Channel, LanguageTag};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, NoBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_communications)
        .service(create_communication)
        .service(get_communication)
        .service(update_communication)
        .service(delete_communication)
        .service(acknowledge_communication);
}

text_enum! {
    /// Which way a contact went.
    Direction {
        /// From the school to the family.
        Outbound => "outbound",
        /// From the family to the school.
        Inbound => "inbound",
    }
}

text_enum! {
    /// What a contact was about.
    Category {
        /// Anything else.
        General => "general",
        /// Learning and grades.
        Academic => "academic",
        /// Conduct.
        Behavior => "behavior",
        /// Attendance.
        Attendance => "attendance",
        /// Good news: praise, progress, thanks.
        PositiveNews => "positive_news",
        /// Meetings, workshops, school events.
        Event => "event",
        /// Forms, fees, logistics.
        Administrative => "administrative",
    }
}

text_enum! {
    /// Who may see a record.
    Visibility {
        /// School staff only.
        Staff => "staff",
        /// Staff and the family's guardians.
        Family => "family",
    }
}

text_enum! {
    /// The state of a communication's follow-up.
    FollowUp {
        /// A follow-up is open and not yet past due.
        Due => "due",
        /// A follow-up is open and past due.
        Overdue => "overdue",
        /// The follow-up is done.
        Done => "done",
    }
}

/// The fields of a communication a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommunicationInput {
    /// The family contacted (fixed once logged).
    pub family_id: Uuid,
    /// The student it was about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<Uuid>,
    /// The guardian contacted, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_id: Option<Uuid>,
    /// How.
    pub channel: Channel,
    /// Which way.
    pub direction: Direction,
    /// About what (default `general`).
    #[serde(default = "general")]
    pub category: Category,
    /// A subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub subject: Option<String>,
    /// What was said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: Option<String>,
    /// The language it happened in (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguageTag>,
    /// An interpreter took part.
    #[serde(default)]
    pub interpreter_used: bool,
    /// The message was translated into the family's language.
    #[serde(default)]
    pub translated: bool,
    /// When it happened (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// When someone must follow up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who may see it (default: `family` for outbound, `staff` for inbound notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

fn general() -> Category {
    Category::General
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a communication: any fields of `CommunicationInput` but `family_id`.
    ///
    /// Its schema is derived from `CommunicationInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct CommunicationPatch for CommunicationInput, fixed ["family_id"];
}

/// A logged communication.
#[derive(Debug, Serialize, ToSchema)]
pub struct Communication {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// The student it was about.
    pub student_id: Option<Uuid>,
    /// The guardian contacted.
    pub guardian_id: Option<Uuid>,
    /// How.
    pub channel: Channel,
    /// Which way.
    pub direction: Direction,
    /// About what.
    pub category: Category,
    /// Subject line.
    pub subject: Option<String>,
    /// What was said.
    pub body: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// An interpreter took part.
    pub interpreter_used: bool,
    /// Translated into the family's language.
    pub translated: bool,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When a follow-up is due.
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who logged it (the token's `sub`).
    pub author: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// When a guardian acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it: the guardian's id, or the staff member who recorded it.
    pub acknowledged_by: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Remarks on a write that was accepted but deserves a look (`language_mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

/// A communication as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = comms, treat_none_as_null = true)]
pub struct CommunicationRow {
    pub id: String,
    pub school_id: String,
    pub family_id: String,
    pub student_id: Option<String>,
    pub guardian_id: Option<String>,
    pub channel: String,
    pub direction: String,
    pub category: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub language: Option<String>,
    pub interpreter_used: bool,
    pub translated: bool,
    pub occurred_at: NaiveDateTime,
    pub follow_up_due_at: Option<NaiveDateTime>,
    pub follow_up_done_at: Option<NaiveDateTime>,
    pub author: String,
    pub author_role: String,
    pub visibility: String,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

impl CommunicationRow {
    fn input(&self) -> CommunicationInput {
        CommunicationInput {
            family_id: parse_id(&self.family_id),
            student_id: self.student_id.as_deref().map(parse_id),
            guardian_id: self.guardian_id.as_deref().map(parse_id),
            channel: Channel::parse(&self.channel).unwrap_or(Channel::Phone),
            direction: Direction::parse(&self.direction).unwrap_or(Direction::Outbound),
            category: Category::parse(&self.category).unwrap_or(Category::General),
            subject: self.subject.clone(),
            body: self.body.clone(),
            language: self
                .language
                .as_deref()
                .and_then(|l| LanguageTag::parse(l).ok()),
            interpreter_used: self.interpreter_used,
            translated: self.translated,
            occurred_at: Some(utc(self.occurred_at)),
            follow_up_due_at: self.follow_up_due_at.map(utc),
            follow_up_done_at: self.follow_up_done_at.map(utc),
            visibility: Visibility::parse(&self.visibility),
        }
    }

    fn set(&mut self, input: CommunicationInput, now: NaiveDateTime) {
        self.family_id = input.family_id.to_string();
        self.student_id = input.student_id.map(|s| s.to_string());
        self.guardian_id = input.guardian_id.map(|g| g.to_string());
        self.channel = input.channel.as_str().into();
        self.direction = input.direction.as_str().into();
        self.category = input.category.as_str().into();
        self.subject = input.subject;
        self.body = input.body;
        self.language = input.language.map(String::from);
        self.interpreter_used = input.interpreter_used;
        self.translated = input.translated;
        self.occurred_at = input
            .occurred_at
            .map(|t| micros(t.naive_utc()))
            .unwrap_or(now);
        self.follow_up_due_at = input.follow_up_due_at.map(|t| micros(t.naive_utc()));
        self.follow_up_done_at = input.follow_up_done_at.map(|t| micros(t.naive_utc()));
        let default_visibility = match input.direction {
            Direction::Outbound => Visibility::Family,
            Direction::Inbound => Visibility::Staff,
        };
        self.visibility = input
            .visibility
            .unwrap_or(default_visibility)
            .as_str()
            .into();
    }

    /// The wire form.
    pub fn view(self) -> Communication {
        Communication {
            id: parse_id(&self.id),
            family_id: parse_id(&self.family_id),
            student_id: self.student_id.as_deref().map(parse_id),
            guardian_id: self.guardian_id.as_deref().map(parse_id),
            channel: Channel::parse(&self.channel).unwrap_or(Channel::Phone),
            direction: Direction::parse(&self.direction).unwrap_or(Direction::Outbound),
            category: Category::parse(&self.category).unwrap_or(Category::General),
            subject: self.subject,
            body: self.body,
            language: self.language,
            interpreter_used: self.interpreter_used,
            translated: self.translated,
            occurred_at: utc(self.occurred_at),
            follow_up_due_at: self.follow_up_due_at.map(utc),
            follow_up_done_at: self.follow_up_done_at.map(utc),
            author: self.author,
            visibility: Visibility::parse(&self.visibility).unwrap_or(Visibility::Staff),
            acknowledged_at: self.acknowledged_at.map(utc),
            acknowledged_by: self.acknowledged_by,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            warnings: None,
        }
    }
}

/// Times as both databases keep them: to the microsecond.
fn micros(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// What a guardian may see of a family's communications: family-visible ones about the family
/// or about a child they may see.
fn guardian_filter<'a>(
    conn: &mut DbConnection,
    viewer: &Viewer,
    query: comms::BoxedQuery<'a, MultiBackend>,
) -> Result<comms::BoxedQuery<'a, MultiBackend>, ApiError> {
    let Some(g) = &viewer.guardian else {
        return Ok(query);
    };
    let visible: Vec<String> = viewable_links(g).select(links::student_id).load(conn)?;
    Ok(query
        .filter(comms::family_id.eq(g.family_id.clone()))
        .filter(comms::visibility.eq(Visibility::Family.as_str()))
        .filter(
            comms::student_id
                .is_null()
                .or(comms::student_id.eq_any(visible)),
        ))
}

/// Loads an active communication the caller may see.
fn find(conn: &mut DbConnection, viewer: &Viewer, id: &str) -> Result<CommunicationRow, ApiError> {
    let query = comms::table
        .filter(comms::school_id.eq(viewer.school_id.clone()))
        .filter(comms::id.eq(id.to_string()))
        .filter(comms::archived_at.is_null())
        .into_boxed();
    Ok(guardian_filter(conn, viewer, query)?
        .select(CommunicationRow::as_select())
        .first(conn)?)
}

/// A 422 with its own problem type, for the contact rules.
fn refused(kind: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Unprocessable {
        kind,
        detail: detail.into(),
        errors: Vec::new(),
    }
}

/// Checks the references of a communication (the student and guardian belong with the family)
/// and, for outbound ones when `rules` is set, the contact rules. Returns the warnings of an
/// accepted write.
fn check(
    conn: &mut DbConnection,
    viewer: &Viewer,
    input: &CommunicationInput,
    rules: bool,
) -> Result<Vec<String>, ApiError> {
    let family_id = input.family_id.to_string();
    let family = find_family(conn, viewer, &family_id)?;
    let school = viewer.school_id.as_str();
    let guardian = match input.guardian_id {
        None => None,
        Some(g) => {
            let row: Option<(String, bool, bool, Option<String>)> = guardians::table
                .filter(guardians::school_id.eq(school))
                .filter(guardians::id.eq(g.to_string()))
                .filter(guardians::archived_at.is_null())
                .select((
                    guardians::family_id,
                    guardians::contact_allowed,
                    guardians::sms_opt_in,
                    guardians::preferred_language,
                ))
                .first(conn)
                .optional()?;
            match row {
                Some(r) if r.0 == family_id => Some(r),
                _ => {
                    return Err(ApiError::unprocessable_field(
                        "guardian_id",
                        "not_found",
                        "no such guardian in this family",
                    ))
                }
            }
        }
    };
    if let Some(s) = input.student_id {
        let student = s.to_string();
        if !student_with_family(conn, school, &family_id, &student)? {
            return Err(ApiError::unprocessable_field(
                "student_id",
                "not_found",
                "no such student with this family",
            ));
        }
        if viewer.guardian.is_some() {
            viewer.check_student(conn, &student)?;
        }
    }
    if input.direction != Direction::Outbound || !rules {
        return Ok(Vec::new());
    }
    // Who is being contacted: the named guardian, or else the household.
    let (who, sms_consent, preferred) = match &guardian {
        Some((_, contact_allowed, sms_opt_in, preferred_language)) => {
            if !contact_allowed {
                return Err(refused(
                    "contact-not-allowed",
                    "this guardian may not be contacted (contact_allowed is false)",
                ));
            }
            if let (Some(s), Some(g)) = (input.student_id, input.guardian_id) {
                let restricted: i64 = links::table
                    .filter(links::school_id.eq(school))
                    .filter(links::student_id.eq(s.to_string()))
                    .filter(links::guardian_id.eq(g.to_string()))
                    .filter(links::archived_at.is_null())
                    .filter(links::contact_restricted.eq(true))
                    .count()
                    .get_result(conn)?;
                if restricted > 0 {
                    return Err(refused(
                        "contact-restricted",
                        "contact with this guardian about this student is restricted (contact_restricted on their link)",
                    ));
                }
            }
            // A guardian with no language of their own goes by the household's.
            let preferred = preferred_language
                .clone()
                .or_else(|| family.primary_language.clone());
            ("guardian", *sms_opt_in, preferred)
        }
        None => ("family", family.sms_opt_in, family.primary_language.clone()),
    };
    if input.channel == Channel::Sms && !sms_consent {
        return Err(refused(
            "sms-consent-missing",
            format!("this {who} has not agreed to text messages (sms_opt_in is false)"),
        ));
    }
    let mut warnings = Vec::new();
    if let (Some(lang), Some(preferred)) = (&input.language, preferred) {
        if !same_language(lang.as_str(), &preferred) && !input.interpreter_used && !input.translated
        {
            warnings.push(format!(
                "language_mismatch: sent in {lang} but the {who} prefers {preferred}, with no interpreter or translation"
            ));
        }
    }
    Ok(warnings)
}

/// Whether two language tags name the same language (`es` and `es-MX` do).
fn same_language(a: &str, b: &str) -> bool {
    let primary = |t: &str| t.split('-').next().unwrap_or("").to_ascii_lowercase();
    primary(a) == primary(b)
}

/// Filters of the communication list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommunicationsQuery {
    /// Communications with this family.
    pub family_id: Option<Uuid>,
    /// About this student.
    pub student_id: Option<Uuid>,
    /// With this guardian.
    pub guardian_id: Option<Uuid>,
    /// By this channel.
    pub channel: Option<Channel>,
    /// In this direction.
    pub direction: Option<Direction>,
    /// In this category.
    pub category: Option<Category>,
    /// That happened at or after this time (RFC 3339).
    pub occurred_from: Option<DateTime<Utc>>,
    /// That happened before this time (RFC 3339).
    pub occurred_to: Option<DateTime<Utc>>,
    /// Whose follow-up is `due` (open, not yet past due), `overdue` (open, past due) or `done`.
    #[param(inline)]
    pub follow_up: Option<FollowUp>,
    /// Logged by this author (a token `sub`; `me` for the caller).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub author: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A keyset position in a newest-first list: the time and id of the last item seen.
pub fn time_key(at: NaiveDateTime, id: &str) -> String {
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

/// Keeps the communications before `(at, id)` in newest-first order. The plain `occurred_at <=`
/// is implied by the rest, but it is what lets the database seek straight to the cursor in the
/// time index instead of walking every newer row: deep pages cost what the first one does.
fn older_than(
    sql: comms::BoxedQuery<'_, MultiBackend>,
    at: NaiveDateTime,
    id: String,
) -> comms::BoxedQuery<'_, MultiBackend> {
    sql.filter(comms::occurred_at.le(at)).filter(
        comms::occurred_at
            .lt(at)
            .or(comms::occurred_at.eq(at).and(comms::id.lt(id))),
    )
}

/// A family's communications the viewer may see, newest first, after `after`: the
/// communications part of the family timeline.
pub fn family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family_id: &str,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<CommunicationRow>, ApiError> {
    let mut sql = comms::table
        .filter(comms::school_id.eq(viewer.school_id.clone()))
        .filter(comms::family_id.eq(family_id.to_string()))
        .filter(comms::archived_at.is_null())
        .into_boxed();
    sql = guardian_filter(conn, viewer, sql)?;
    if let Some((at, id)) = after {
        sql = older_than(sql, *at, id.clone());
    }
    Ok(sql
        .order((comms::occurred_at.desc(), comms::id.desc()))
        .limit(limit)
        .select(CommunicationRow::as_select())
        .load(conn)?)
}

/// List communications
///
/// Newest first by `occurred_at`. A guardian sees their family's family-visible communications
/// about the family or a child they may see. Scope: `communications:read`.
#[utoipa::path(
    tag = "communications",
    params(ListCommunicationsQuery),
    responses((status = 200, description = "A page of communications", body = Page<Communication>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/communications")]
pub async fn list_communications(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListCommunicationsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), is_time_key)?;
    let now = state.clock.now();
    let today = now.date();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let mut sql = comms::table
                .filter(comms::school_id.eq(viewer.school_id.clone()))
                .filter(comms::archived_at.is_null())
                .into_boxed();
            sql = guardian_filter(conn, &viewer, sql)?;
            if let Some(f) = q.family_id {
                sql = sql.filter(comms::family_id.eq(f.to_string()));
            }
            if let Some(s) = q.student_id {
                sql = sql.filter(comms::student_id.eq(s.to_string()));
            }
            if let Some(g) = q.guardian_id {
                sql = sql.filter(comms::guardian_id.eq(g.to_string()));
            }
            if let Some(c) = q.channel {
                sql = sql.filter(comms::channel.eq(c.as_str()));
            }
            if let Some(d) = q.direction {
                sql = sql.filter(comms::direction.eq(d.as_str()));
            }
            if let Some(c) = q.category {
                sql = sql.filter(comms::category.eq(c.as_str()));
            }
            if let Some(from) = q.occurred_from {
                sql = sql.filter(comms::occurred_at.ge(from.naive_utc()));
            }
            if let Some(to) = q.occurred_to {
                sql = sql.filter(comms::occurred_at.lt(to.naive_utc()));
            }
            match q.follow_up {
                Some(FollowUp::Due) => {
                    sql = sql
                        .filter(comms::follow_up_done_at.is_null())
                        .filter(comms::follow_up_due_at.ge(now))
                }
                Some(FollowUp::Overdue) => {
                    sql = sql
                        .filter(comms::follow_up_done_at.is_null())
                        .filter(comms::follow_up_due_at.lt(now))
                }
                Some(FollowUp::Done) => sql = sql.filter(comms::follow_up_done_at.is_not_null()),
                None => {}
            }
            if let Some(author) = q.author {
                let author = if author == "me" {
                    caller.sub.clone()
                } else {
                    author
                };
                sql = sql.filter(comms::author.eq(author));
            }
            if let Some((at, id)) = page.after.as_deref().and_then(parse_time_key) {
                sql = older_than(sql, at, id);
            }
            let rows = sql
                .order((comms::occurred_at.desc(), comms::id.desc()))
                .limit(page.fetch())
                .select(CommunicationRow::as_select())
                .load::<CommunicationRow>(conn)?;
            Ok(page.finish(
                rows,
                |r| time_key(r.occurred_at, &r.id),
                CommunicationRow::view,
            ))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Log a communication
///
/// Outbound communications obey the contact rules, each refused with a 422 of its own `type`:
/// `contact-not-allowed` (the guardian's `contact_allowed` is false), `contact-restricted` (their
/// link to the named student is `contact_restricted`), `sms-consent-missing` (SMS without
/// `sms_opt_in`). A language other than the guardian's (or family's) preferred one, without
/// `interpreter_used` or `translated`, is accepted with a `language_mismatch` warning.
/// Guardians may log only inbound `portal` messages for their own family. Honours
/// `Idempotency-Key`. Scope: `communications:write`.
#[utoipa::path(
    tag = "communications",
    request_body = CommunicationInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Logged", body = Communication,
            headers(("Location" = String, description = "The communication's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/communications")]
pub async fn create_communication(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<CommunicationInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    let now = state.clock.now();
    let today = now.date();
    let created = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            idempotency::once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                let mut input = body.value;
                if let Some(g) = &viewer.guardian {
                    if input.direction != Direction::Inbound || input.channel != Channel::Portal {
                        return Err(ApiError::Forbidden(
                            "guardians may log only inbound portal messages".into(),
                        ));
                    }
                    if input.follow_up_due_at.is_some() || input.follow_up_done_at.is_some() {
                        return Err(ApiError::Forbidden(
                            "guardians may not set follow-ups".into(),
                        ));
                    }
                    match input.guardian_id {
                        Some(id) if id.to_string() != g.guardian_id => {
                            return Err(ApiError::Forbidden(
                                "guardians write only in their own name".into(),
                            ))
                        }
                        _ => input.guardian_id = Uuid::parse_str(&g.guardian_id).ok(),
                    }
                    input.visibility = Some(Visibility::Family);
                }
                let warnings = check(conn, &viewer, &input, true)?;
                let mut row = CommunicationRow {
                    id: Uuid::now_v7().to_string(),
                    school_id: viewer.school_id.clone(),
                    family_id: String::new(),
                    student_id: None,
                    guardian_id: None,
                    channel: String::new(),
                    direction: String::new(),
                    category: String::new(),
                    subject: None,
                    body: None,
                    language: None,
                    interpreter_used: false,
                    translated: false,
                    occurred_at: now,
                    follow_up_due_at: None,
                    follow_up_done_at: None,
                    author: caller.sub.clone(),
                    author_role: caller.role.as_str().into(),
                    visibility: String::new(),
                    acknowledged_at: None,
                    acknowledged_by: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    archived_at: None,
                };
                row.set(input, now);
                diesel::insert_into(comms::table)
                    .values(&row)
                    .execute(conn)?;
                let location = format!("/v1/communications/{}", row.id);
                let mut view = row.view();
                view.warnings = (!warnings.is_empty()).then_some(warnings);
                Created::new(&view, location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a communication
///
/// Scope: `communications:read`.
#[utoipa::path(
    tag = "communications",
    params(("id" = Uuid, Path, description = "The communication's id")),
    responses(
        (status = 200, description = "The communication", body = Communication,
            headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/communications/{id}")]
pub async fn get_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let id = id.into_inner().to_string();
    let today = state.clock.today();
    let found = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(find(conn, &viewer, &id)?.view())
        })
        .await?;
    Ok(single(&found, found.version))
}

fn staff_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Guardian {
        Err(ApiError::Forbidden(
            "guardians cannot change the communication log".into(),
        ))
    } else {
        Ok(())
    }
}

/// Change a communication
///
/// A JSON Merge Patch of the fields of `CommunicationInput` (not `family_id`); the contact
/// rules apply to the result when it changes who is contacted, how, or in which language. Record a follow-up as done with `follow_up_done_at`. Honours
/// `If-Match`. Scope: `communications:write` (staff).
#[utoipa::path(
    tag = "communications",
    params(
        ("id" = Uuid, Path, description = "The communication's id"),
        IfMatch,
    ),
    request_body(content = CommunicationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed communication", body = Communication,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/communications/{id}")]
pub async fn update_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    staff_only(&caller)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = now.date();
    let updated = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            if input.family_id.to_string() != current.family_id {
                return Err(ApiError::field(
                    "family_id",
                    "immutable",
                    "cannot change; log the contact again",
                ));
            }
            // The contact rules judge a contact: they apply again only when what makes it one
            // changes (recording a follow-up on an old call stays possible).
            let before = current.input();
            let recontact = input.guardian_id != before.guardian_id
                || input.student_id != before.student_id
                || input.channel != before.channel
                || input.direction != before.direction
                || input.language != before.language
                || input.interpreter_used != before.interpreter_used
                || input.translated != before.translated;
            let warnings = check(conn, &viewer, &input, recontact)?;
            let mut row = current.clone();
            row.set(input, now);
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            let mut view = row.view();
            view.warnings = (!warnings.is_empty()).then_some(warnings);
            Ok(view)
        })
        .await?;
    Ok(single(&updated, updated.version))
}

fn save(conn: &mut DbConnection, row: &CommunicationRow, expected: i64) -> Result<(), ApiError> {
    save_if_version!(conn, comms, row, expected)
}

/// Archive a communication
///
/// It leaves every list and GET; the record is kept. Honours `If-Match`.
/// Scope: `communications:write` (staff).
#[utoipa::path(
    tag = "communications",
    params(
        ("id" = Uuid, Path, description = "The communication's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/communications/{id}")]
pub async fn delete_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    staff_only(&caller)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = now.date();
    state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let mut row = current.clone();
            row.archived_at = Some(now);
            row.updated_at = now;
            row.version += 1;
            save(conn, &row, current.version)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Acknowledge a communication
///
/// A guardian's read receipt: sets `acknowledged_at` and `acknowledged_by` (the guardian's id).
/// Staff may record an acknowledgement given another way (by phone, in person); it is then by
/// them. Acknowledging again changes nothing and answers the same. Scope: `communications:write`.
#[utoipa::path(
    tag = "communications",
    params(("id" = Uuid, Path, description = "The communication's id")),
    responses(
        (status = 200, description = "The acknowledged communication", body = Communication,
            headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/communications/{id}/acknowledge")]
pub async fn acknowledge_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = now.date();
    let acknowledged = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find(conn, &viewer, &id)?;
            if current.acknowledged_at.is_some() {
                return Ok(current.view());
            }
            let mut row = current.clone();
            row.acknowledged_at = Some(now);
            row.acknowledged_by = Some(match &viewer.guardian {
                Some(g) => g.guardian_id.clone(),
                None => caller.sub.clone(),
            });
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            Ok(row.view())
        })
        .await?;
    Ok(single(&acknowledged, acknowledged.version))
}
