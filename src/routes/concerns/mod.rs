//! Concerns: what a family or staff member raised, worked as a case from open to closed, with an
//! owner, a response target and a timeline the family can follow.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::find_family;
use super::access::{student_with_family, viewable_links, Viewer};
use super::settings::{response_hours, ResponseHours};
use super::{parse_id, save_if_version, single, utc, CreateErrors, ReadErrors, UpdateErrors};
use crate::auth::{Caller, Role, Scope};
use crate::db::schema::{concern_events as events, concerns, guardian_student_links as links};
use crate::db::{DbConnection, MultiBackend};
use crate::domain::{plain_text, text_enum, whole_i32_opt};
use crate::error::{ApiError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{legacy_once, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_concerns)
        .service(create_concern)
        .service(get_concern)
        .service(update_concern)
        .service(transition_concern)
        .service(list_concern_comments)
        .service(create_concern_comment)
        .service(list_concern_events);
}

text_enum! {
    /// What a concern is about.
    ConcernCategory {
        /// Learning and grades.
        Academic => "academic",
        /// Conduct.
        Behavior => "behavior",
        /// Bullying.
        Bullying => "bullying",
        /// Physical or emotional safety.
        Safety => "safety",
        /// Attendance.
        Attendance => "attendance",
        /// Health.
        Health => "health",
        /// Transport.
        Transport => "transport",
        /// Fees and payments.
        Fees => "fees",
        /// How the school communicates.
        Communication => "communication",
        /// Anything else.
        Other => "other",
    }
}

text_enum! {
    /// How quickly a concern needs a response.
    Priority {
        /// Within the `low` target (default 7 days).
        Low => "low",
        /// Within the `normal` target (default 72 hours).
        Normal => "normal",
        /// Within the `high` target (default 24 hours).
        High => "high",
        /// Within the `urgent` target (default 4 hours).
        Urgent => "urgent",
    }
}

text_enum! {
    /// Where a concern stands.
    Status {
        /// Raised, not yet seen.
        Open => "open",
        /// Seen by the school.
        Acknowledged => "acknowledged",
        /// Being worked on.
        InProgress => "in_progress",
        /// Answered, with a `resolution`.
        Resolved => "resolved",
        /// Finished.
        Closed => "closed",
    }
}

text_enum! {
    /// Who raised a concern.
    RaisedBy {
        /// A guardian of the family.
        Family => "family",
        /// A member of staff.
        Staff => "staff",
    }
}

text_enum! {
    /// Who may see a comment or event.
    EventVisibility {
        /// Staff only.
        Internal => "internal",
        /// Staff and the family.
        Family => "family",
    }
}

text_enum! {
    /// What happened to a concern.
    EventKind {
        /// It was raised.
        Created => "created",
        /// Its status moved.
        Transition => "transition",
        /// Its assignee changed.
        Assignment => "assignment",
        /// Its priority changed (and with it `due_at`).
        PriorityChange => "priority_change",
        /// Its title, description, category or student changed.
        Edit => "edit",
        /// A comment was added.
        Comment => "comment",
        /// The family rated the outcome.
        Satisfaction => "satisfaction",
    }
}

impl Status {
    fn is_open(self) -> bool {
        matches!(
            self,
            Status::Open | Status::Acknowledged | Status::InProgress
        )
    }

    /// The moves a caller of `role` may make from here.
    fn legal_moves(self, role: Role) -> Vec<Status> {
        let closer = matches!(role, Role::Admin | Role::Pre);
        let mut moves = match self {
            Status::Open => vec![Status::Acknowledged],
            Status::Acknowledged => vec![Status::InProgress],
            Status::InProgress => vec![Status::Resolved],
            Status::Resolved => vec![Status::Closed, Status::InProgress],
            Status::Closed => vec![],
        };
        if closer && self.is_open() {
            moves.push(Status::Closed);
        }
        moves
    }
}

/// A new concern.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConcernInput {
    /// The family it concerns.
    pub family_id: Uuid,
    /// The student it is about, if one.
    #[serde(default)]
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// How quickly it needs a response (default `normal`).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// A short title.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The concern in the raiser's words.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// The member of staff who owns it (their token `sub`); staff only.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub assignee: Option<String>,
}

/// The fields a merge patch edits. Staff edit all but `satisfaction`; a guardian only rates
/// `satisfaction`, once, after the concern is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConcernFields {
    /// The student it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// Priority; changing it recomputes `due_at` from the creation time.
    pub priority: Priority,
    /// A short title.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// The owner (a staff `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub assignee: Option<String>,
    /// The family's rating of the outcome, 1 to 5.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_i32_opt"
    )]
    #[schema(minimum = 1, maximum = 5)]
    #[validate(range(min = 1, max = 5))]
    pub satisfaction: Option<i32>,
}

/// A merge patch of a concern.
///
/// Its schema is derived from the input's by `openapi::finish`, so the two cannot drift.
#[derive(ToSchema)]
pub struct ConcernPatch {}

/// A concern.
#[derive(Debug, Serialize, ToSchema)]
pub struct Concern {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// The student it is about.
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// How quickly it needs a response.
    pub priority: Priority,
    /// A short title.
    pub title: String,
    /// The description.
    pub description: Option<String>,
    /// Who raised it (a token `sub`).
    pub raised_by: String,
    /// Whether the family or staff raised it.
    pub raised_by_kind: RaisedBy,
    /// The member of staff who owns it.
    pub assignee: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// When a first response is due (creation plus the priority's response target).
    pub due_at: DateTime<Utc>,
    /// Past `due_at` with neither a first response nor a resolution.
    pub overdue: bool,
    /// The school's first response: its first transition or family-visible comment.
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it was last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The answer given.
    pub resolution: Option<String>,
    /// The family's rating, 1 to 5.
    pub satisfaction: Option<i32>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A concern as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = concerns, treat_none_as_null = true)]
pub struct ConcernRow {
    pub id: String,
    pub school_id: String,
    pub family_id: String,
    pub student_id: Option<String>,
    pub category: String,
    pub priority: String,
    pub title: String,
    pub description: Option<String>,
    pub raised_by: String,
    pub raised_by_kind: String,
    pub assignee: Option<String>,
    pub status: String,
    pub due_at: NaiveDateTime,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn target(hours: &ResponseHours, p: Priority) -> Duration {
    Duration::hours(i64::from(match p {
        Priority::Urgent => hours.urgent,
        Priority::High => hours.high,
        Priority::Normal => hours.normal,
        Priority::Low => hours.low,
    }))
}

impl ConcernRow {
    fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Open)
    }

    fn priority(&self) -> Priority {
        Priority::parse(&self.priority).unwrap_or(Priority::Normal)
    }

    fn fields(&self) -> ConcernFields {
        ConcernFields {
            student_id: self.student_id.as_deref().map(parse_id),
            category: ConcernCategory::parse(&self.category).unwrap_or(ConcernCategory::Other),
            priority: self.priority(),
            title: self.title.clone(),
            description: self.description.clone(),
            assignee: self.assignee.clone(),
            satisfaction: self.satisfaction,
        }
    }

    /// The wire form, with `overdue` judged at `now`.
    pub fn view(self, now: NaiveDateTime) -> Concern {
        let overdue =
            self.due_at < now && self.first_response_at.is_none() && self.resolved_at.is_none();
        Concern {
            id: parse_id(&self.id),
            family_id: parse_id(&self.family_id),
            student_id: self.student_id.as_deref().map(parse_id),
            category: ConcernCategory::parse(&self.category).unwrap_or(ConcernCategory::Other),
            priority: self.priority(),
            status: self.status(),
            title: self.title,
            description: self.description,
            raised_by: self.raised_by,
            raised_by_kind: RaisedBy::parse(&self.raised_by_kind).unwrap_or(RaisedBy::Staff),
            assignee: self.assignee,
            due_at: utc(self.due_at),
            overdue,
            first_response_at: self.first_response_at.map(utc),
            resolved_at: self.resolved_at.map(utc),
            closed_at: self.closed_at.map(utc),
            resolution: self.resolution,
            satisfaction: self.satisfaction,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Confines a concern query to what the viewer may see: for a guardian, their family's concerns
/// about the family or a child they may see.
fn visible<'a>(
    conn: &mut DbConnection,
    viewer: &Viewer,
    query: concerns::BoxedQuery<'a, MultiBackend>,
) -> Result<concerns::BoxedQuery<'a, MultiBackend>, ApiError> {
    let query = query.filter(concerns::school_id.eq(viewer.school_id.clone()));
    let Some(g) = &viewer.guardian else {
        return Ok(query);
    };
    let children: Vec<String> = viewable_links(g).select(links::student_id).load(conn)?;
    Ok(query
        .filter(concerns::family_id.eq(g.family_id.clone()))
        .filter(
            concerns::student_id
                .is_null()
                .or(concerns::student_id.eq_any(children)),
        ))
}

fn find(conn: &mut DbConnection, viewer: &Viewer, id: &str) -> Result<ConcernRow, ApiError> {
    let query = concerns::table
        .filter(concerns::id.eq(id.to_string()))
        .into_boxed();
    Ok(visible(conn, viewer, query)?
        .select(ConcernRow::as_select())
        .first(conn)?)
}

fn save(conn: &mut DbConnection, row: &ConcernRow, expected: i64) -> Result<(), ApiError> {
    save_if_version!(conn, concerns, row, expected)
}

/// An entry of a concern's timeline.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: String,
    pub school_id: String,
    pub concern_id: String,
    pub kind: String,
    pub actor: String,
    pub actor_role: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub body: Option<String>,
    pub visibility: String,
    pub created_at: NaiveDateTime,
}

/// What a new event says.
struct NewEvent<'a> {
    kind: EventKind,
    from: Option<String>,
    to: Option<String>,
    body: Option<String>,
    visibility: EventVisibility,
    caller: &'a Caller,
    at: NaiveDateTime,
}

fn record(conn: &mut DbConnection, concern: &ConcernRow, e: NewEvent<'_>) -> QueryResult<EventRow> {
    let row = EventRow {
        id: Uuid::now_v7().to_string(),
        school_id: concern.school_id.clone(),
        concern_id: concern.id.clone(),
        kind: e.kind.as_str().into(),
        actor: e.caller.sub.clone(),
        actor_role: e.caller.role.as_str().into(),
        from_value: e.from,
        to_value: e.to,
        body: e.body,
        visibility: e.visibility.as_str().into(),
        created_at: e.at,
    };
    diesel::insert_into(events::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// An event in a concern's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernEvent {
    /// Liaison's id.
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (a token `sub`).
    pub actor: String,
    /// Their role.
    pub actor_role: String,
    /// The value before (a status, priority or assignee).
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
    /// A transition's note, or a comment's text.
    pub body: Option<String>,
    /// Who may see it.
    pub visibility: EventVisibility,
    /// When.
    pub at: DateTime<Utc>,
}

/// A comment on a concern.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernComment {
    /// Liaison's id.
    pub id: Uuid,
    /// The concern.
    pub concern_id: Uuid,
    /// Who wrote it (a token `sub`).
    pub author: String,
    /// Their role.
    pub author_role: String,
    /// The text.
    pub body: String,
    /// Who may see it.
    pub visibility: EventVisibility,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl EventRow {
    fn event(self) -> ConcernEvent {
        ConcernEvent {
            id: parse_id(&self.id),
            kind: EventKind::parse(&self.kind).unwrap_or(EventKind::Edit),
            actor: self.actor,
            actor_role: self.actor_role,
            from: self.from_value,
            to: self.to_value,
            body: self.body,
            visibility: EventVisibility::parse(&self.visibility)
                .unwrap_or(EventVisibility::Internal),
            at: utc(self.created_at),
        }
    }

    fn comment(self) -> ConcernComment {
        ConcernComment {
            id: parse_id(&self.id),
            concern_id: parse_id(&self.concern_id),
            author: self.actor,
            author_role: self.actor_role,
            body: self.body.unwrap_or_default(),
            visibility: EventVisibility::parse(&self.visibility)
                .unwrap_or(EventVisibility::Internal),
            created_at: utc(self.created_at),
        }
    }
}

/// Filters of the concern list.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListConcernsQuery {
    /// Concerns in any of these statuses, comma-separated (`open,acknowledged`).
    #[param(
        max_length = 200,
        pattern = "^(open|acknowledged|in_progress|resolved|closed)(,(open|acknowledged|in_progress|resolved|closed))*$"
    )]
    #[validate(length(max = 200))]
    pub status: Option<String>,
    /// Of this priority.
    pub priority: Option<Priority>,
    /// In this category.
    pub category: Option<ConcernCategory>,
    /// Owned by this member of staff (`me` for the caller).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub assignee: Option<String>,
    /// Of this family.
    pub family_id: Option<Uuid>,
    /// About this student.
    pub student_id: Option<Uuid>,
    /// `true`: past due with neither a first response nor a resolution; `false`: the others.
    pub overdue: Option<bool>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn parse_statuses(list: &str) -> Result<Vec<String>, ApiError> {
    list.split(',')
        .map(str::trim)
        .map(|s| {
            Status::parse(s).map(|st| st.as_str().to_string()).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "invalid",
                    format!("unknown status `{s}`, expected any of open, acknowledged, in_progress, resolved, closed"),
                )
            })
        })
        .collect()
}

/// List concerns
///
/// Newest first. A guardian sees their family's concerns about the family or a child they may
/// see. Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(ListConcernsQuery),
    responses((status = 200, description = "A page of concerns", body = Page<Concern>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns")]
pub async fn list_concerns(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListConcernsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let q = query.0;
    let statuses = q.status.as_deref().map(parse_statuses).transpose()?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let mut sql = visible(conn, &viewer, concerns::table.into_boxed())?;
            if let Some(s) = statuses {
                sql = sql.filter(concerns::status.eq_any(s));
            }
            if let Some(p) = q.priority {
                sql = sql.filter(concerns::priority.eq(p.as_str()));
            }
            if let Some(c) = q.category {
                sql = sql.filter(concerns::category.eq(c.as_str()));
            }
            if let Some(a) = q.assignee {
                let a = if a == "me" { caller.sub.clone() } else { a };
                sql = sql.filter(concerns::assignee.eq(a));
            }
            if let Some(f) = q.family_id {
                sql = sql.filter(concerns::family_id.eq(f.to_string()));
            }
            if let Some(s) = q.student_id {
                sql = sql.filter(concerns::student_id.eq(s.to_string()));
            }
            match q.overdue {
                Some(true) => {
                    sql = sql
                        .filter(concerns::due_at.lt(now))
                        .filter(concerns::first_response_at.is_null())
                        .filter(concerns::resolved_at.is_null())
                }
                Some(false) => {
                    sql = sql.filter(
                        concerns::due_at
                            .ge(now)
                            .or(concerns::first_response_at.is_not_null())
                            .or(concerns::resolved_at.is_not_null()),
                    )
                }
                None => {}
            }
            if let Some(since) = q.updated_since {
                sql = sql.filter(concerns::updated_at.ge(since.naive_utc()));
            }
            if let Some(after) = &page.after {
                sql = sql.filter(concerns::id.lt(after.clone()));
            }
            let rows = sql
                .order(concerns::id.desc())
                .limit(page.fetch())
                .select(ConcernRow::as_select())
                .load::<ConcernRow>(conn)?;
            Ok(page.finish(rows, |r| r.id.clone(), |r| r.view(now)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Raise a concern
///
/// Its `due_at` is now plus the response target of its priority (see `/v1/settings`).
/// Guardians raise concerns for their own family and the children they may see, and cannot
/// assign them. Honours `Idempotency-Key`. Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    request_body = ConcernInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Raised", body = Concern,
            headers(("Location" = String, description = "The concern's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns")]
pub async fn create_concern(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<ConcernInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let now = state.clock.now();
    let created = state
        .db
        .legacy_write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            legacy_once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                let input = body.value;
                if viewer.is_guardian() && input.assignee.is_some() {
                    return Err(ApiError::Forbidden(
                        "guardians cannot assign concerns".into(),
                    ));
                }
                let family_id = input.family_id.to_string();
                find_family(conn, &viewer, &family_id)?;
                if let Some(s) = input.student_id {
                    let student = s.to_string();
                    if !student_with_family(conn, &viewer.school_id, &family_id, &student)? {
                        return Err(ApiError::unprocessable_field(
                            "student_id",
                            "not_found",
                            "no such student with this family",
                        ));
                    }
                    viewer.check_student(conn, &student)?;
                }
                let priority = input.priority.unwrap_or(Priority::Normal);
                let hours = response_hours(conn, &viewer.school_id)?;
                let row = ConcernRow {
                    id: Uuid::now_v7().to_string(),
                    school_id: viewer.school_id.clone(),
                    family_id,
                    student_id: input.student_id.map(|s| s.to_string()),
                    category: input.category.as_str().into(),
                    priority: priority.as_str().into(),
                    title: input.title,
                    description: input.description,
                    raised_by: caller.sub.clone(),
                    raised_by_kind: if viewer.is_guardian() {
                        RaisedBy::Family
                    } else {
                        RaisedBy::Staff
                    }
                    .as_str()
                    .into(),
                    assignee: input.assignee,
                    status: Status::Open.as_str().into(),
                    due_at: now + target(&hours, priority),
                    first_response_at: None,
                    resolved_at: None,
                    closed_at: None,
                    resolution: None,
                    satisfaction: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                diesel::insert_into(concerns::table)
                    .values(&row)
                    .execute(conn)?;
                let event = |kind, to: Option<String>, visibility| NewEvent {
                    kind,
                    from: None,
                    to,
                    body: None,
                    visibility,
                    caller: &caller,
                    at: now,
                };
                record(
                    conn,
                    &row,
                    event(
                        EventKind::Created,
                        Some(Status::Open.as_str().into()),
                        EventVisibility::Family,
                    ),
                )?;
                if row.assignee.is_some() {
                    record(
                        conn,
                        &row,
                        event(
                            EventKind::Assignment,
                            row.assignee.clone(),
                            EventVisibility::Internal,
                        ),
                    )?;
                }
                let location = format!("/v1/concerns/{}", row.id);
                Created::new(&row.view(now), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a concern
///
/// Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id")),
    responses(
        (status = 200, description = "The concern", body = Concern, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}")]
pub async fn get_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let concern = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            Ok(find(conn, &viewer, &id)?.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// Change a concern
///
/// A JSON Merge Patch of `ConcernFields`. Staff edit the student, category, priority (which
/// recomputes `due_at`), title, description and assignee; each assignment and priority change
/// enters the concern's events. A guardian rates `satisfaction` (1–5), once, after the concern
/// is resolved. Status moves only by the transitions endpoint. Honours `If-Match`.
/// Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IfMatch,
    ),
    request_body(content = ConcernPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed concern", body = Concern, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/concerns/{id}")]
pub async fn update_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let concern = state
        .db
        .legacy_write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let current = find(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let before = current.fields();
            let Some(after) = merge_patch::merge_into(&before, patch.0)? else {
                return Ok(current.view(now));
            };
            let mut row = current.clone();
            let event = |kind, from: Option<String>, to: Option<String>, visibility| NewEvent {
                kind,
                from,
                to,
                body: None,
                visibility,
                caller: &caller,
                at: now,
            };
            let rating_changed = after.satisfaction != before.satisfaction;
            let others_changed = ConcernFields {
                satisfaction: before.satisfaction,
                ..after.clone()
            } != before;
            if viewer.is_guardian() {
                if others_changed {
                    return Err(ApiError::Forbidden(
                        "guardians may only rate satisfaction".into(),
                    ));
                }
                if before.satisfaction.is_some() {
                    return Err(ApiError::Conflict(
                        "the family has already rated this concern".into(),
                    ));
                }
                if !matches!(current.status(), Status::Resolved | Status::Closed) {
                    return Err(ApiError::Conflict(
                        "a concern can be rated once it is resolved".into(),
                    ));
                }
                row.satisfaction = after.satisfaction;
                record(
                    conn,
                    &row,
                    event(
                        EventKind::Satisfaction,
                        None,
                        after.satisfaction.map(|s| s.to_string()),
                        EventVisibility::Family,
                    ),
                )?;
            } else {
                if rating_changed {
                    return Err(ApiError::Forbidden(
                        "satisfaction is the family's to rate".into(),
                    ));
                }
                if let Some(s) = after.student_id.filter(|s| Some(*s) != before.student_id) {
                    if !student_with_family(
                        conn,
                        &viewer.school_id,
                        &current.family_id,
                        &s.to_string(),
                    )? {
                        return Err(ApiError::unprocessable_field(
                            "student_id",
                            "not_found",
                            "no such student with this family",
                        ));
                    }
                }
                if after.priority != before.priority {
                    let hours = response_hours(conn, &viewer.school_id)?;
                    row.due_at = current.created_at + target(&hours, after.priority);
                    let (from, to) = (
                        before.priority.as_str().into(),
                        after.priority.as_str().into(),
                    );
                    record(
                        conn,
                        &row,
                        event(
                            EventKind::PriorityChange,
                            Some(from),
                            Some(to),
                            EventVisibility::Internal,
                        ),
                    )?;
                }
                if after.assignee != before.assignee {
                    let e = event(
                        EventKind::Assignment,
                        before.assignee.clone(),
                        after.assignee.clone(),
                        EventVisibility::Internal,
                    );
                    record(conn, &row, e)?;
                }
                let edited = after.title != before.title
                    || after.description != before.description
                    || after.category != before.category
                    || after.student_id != before.student_id;
                if edited {
                    record(
                        conn,
                        &row,
                        event(EventKind::Edit, None, None, EventVisibility::Internal),
                    )?;
                }
                row.student_id = after.student_id.map(|s| s.to_string());
                row.category = after.category.as_str().into();
                row.priority = after.priority.as_str().into();
                row.title = after.title;
                row.description = after.description;
                row.assignee = after.assignee;
            }
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            Ok(row.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// A status move.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// The status to move to.
    pub to: Status,
    /// Why; required to close a concern that was never resolved.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 5000)]
    #[validate(length(min = 1, max = 5000), custom(function = plain_text))]
    pub note: Option<String>,
    /// The answer given; required to resolve unless the concern already has one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub resolution: Option<String>,
}

/// Move a concern's status
///
/// open → acknowledged → in_progress → resolved → closed; resolved → in_progress reopens;
/// an open, acknowledged or in-progress concern may be closed only by an admin or PRE, with a
/// `note`. Resolving needs a `resolution`. An illegal move is a 409 whose `allowed` lists the
/// legal ones. The school's first transition sets `first_response_at`. Honours `If-Match`:
/// of two concurrent moves from the same version, one wins and the other gets a 412.
/// Scope: `concerns:write` (staff).
#[utoipa::path(
    tag = "concerns",
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IfMatch,
    ),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The moved concern", body = Concern, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the caller may not make this move", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An illegal move; `allowed` lists the legal ones", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The concern changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns/{id}/transitions")]
pub async fn transition_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden(
            "the school moves a concern's status; guardians comment".into(),
        ));
    }
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let input = body.value;
    let concern = state
        .db
        .legacy_write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let current = find(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let from = current.status();
            let legal = from.legal_moves(caller.role);
            if !legal.contains(&input.to) {
                let closing_needs_role = input.to == Status::Closed && from.is_open();
                let detail = if closing_needs_role {
                    format!(
                        "only an admin or PRE may close a concern that is {}",
                        from.as_str()
                    )
                } else {
                    format!(
                        "a concern cannot move from {} to {}",
                        from.as_str(),
                        input.to.as_str()
                    )
                };
                return Err(ApiError::IllegalTransition {
                    detail,
                    allowed: legal.iter().map(|s| s.as_str().to_string()).collect(),
                });
            }
            let mut row = current.clone();
            match input.to {
                Status::Resolved => {
                    let resolution = input
                        .resolution
                        .clone()
                        .or(current.resolution.clone())
                        .ok_or_else(|| {
                            ApiError::field(
                                "resolution",
                                "required",
                                "is required to resolve a concern",
                            )
                        })?;
                    row.resolution = Some(resolution);
                    row.resolved_at = Some(now);
                }
                Status::Closed if from.is_open() => {
                    if input.note.is_none() {
                        return Err(ApiError::field(
                            "note",
                            "required",
                            "is required to close an unresolved concern",
                        ));
                    }
                    row.closed_at = Some(now);
                }
                Status::Closed => row.closed_at = Some(now),
                Status::InProgress if from == Status::Resolved => row.resolved_at = None,
                _ => {}
            }
            if input.resolution.is_some() && input.to != Status::Resolved {
                return Err(ApiError::field(
                    "resolution",
                    "unexpected",
                    "is given only when resolving",
                ));
            }
            row.status = input.to.as_str().into();
            row.first_response_at = row.first_response_at.or(Some(now));
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            record(
                conn,
                &row,
                NewEvent {
                    kind: EventKind::Transition,
                    from: Some(from.as_str().into()),
                    to: Some(input.to.as_str().into()),
                    body: input.note,
                    visibility: EventVisibility::Family,
                    caller: &caller,
                    at: now,
                },
            )?;
            Ok(row.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// Paging of a concern's comments or events.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A concern's events the viewer may see, oldest first; only comments with `comments_only`.
async fn events_page(
    state: web::Data<AppState>,
    caller: Caller,
    concern: String,
    q: EventsQuery,
    comments_only: bool,
) -> Result<(PageRequest, Vec<EventRow>), ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let fetch = page.clone();
    let rows = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            find(conn, &viewer, &concern)?;
            let mut sql = events::table
                .filter(events::school_id.eq(viewer.school_id.clone()))
                .filter(events::concern_id.eq(concern))
                .into_boxed();
            if viewer.is_guardian() {
                sql = sql.filter(events::visibility.eq(EventVisibility::Family.as_str()));
            }
            if comments_only {
                sql = sql.filter(events::kind.eq(EventKind::Comment.as_str()));
            }
            if let Some(after) = &fetch.after {
                sql = sql.filter(events::id.gt(after.clone()));
            }
            Ok(sql
                .order(events::id.asc())
                .limit(fetch.fetch())
                .select(EventRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok((page, rows))
}

/// A concern's events
///
/// Every creation, transition, assignment, priority change, edit, comment and rating, with
/// actor and time, oldest first. Guardians see only the family-visible ones.
/// Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id"), EventsQuery),
    responses((status = 200, description = "A page of events", body = Page<ConcernEvent>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}/events")]
pub async fn list_concern_events(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, rows) =
        events_page(state, caller, id.into_inner().to_string(), query.0, false).await?;
    Ok(pagination::respond(
        &req,
        &page.finish(rows, |r| r.id.clone(), EventRow::event),
    ))
}

/// A concern's comments
///
/// Oldest first. Guardians see only family-visible comments. Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id"), EventsQuery),
    responses((status = 200, description = "A page of comments", body = Page<ConcernComment>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}/comments")]
pub async fn list_concern_comments(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, rows) =
        events_page(state, caller, id.into_inner().to_string(), query.0, true).await?;
    Ok(pagination::respond(
        &req,
        &page.finish(rows, |r| r.id.clone(), EventRow::comment),
    ))
}

/// A new comment.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The text.
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: String,
    /// `internal` (staff only; the default for staff) or `family` (the family sees it; always
    /// so for guardians).
    #[serde(default)]
    pub visibility: Option<EventVisibility>,
}

/// Comment on a concern
///
/// A family-visible comment from staff is a response to the family: the first one sets
/// `first_response_at`. Guardians' comments are always family-visible. Honours
/// `Idempotency-Key`. Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    request_body = CommentInput,
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Added", body = ConcernComment,
            headers(("Location" = String, description = "The concern's comments"), ("ETag" = String, description = "Always \"1\": comments do not change"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns/{id}/comments")]
pub async fn create_concern_comment(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<CommentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let created = state
        .db
        .legacy_write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            legacy_once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                let current = find(conn, &viewer, &id)?;
                let input = body.value;
                let visibility = match (viewer.is_guardian(), input.visibility) {
                    (true, Some(EventVisibility::Internal)) => {
                        return Err(ApiError::Forbidden(
                            "guardians' comments are visible to the family".into(),
                        ))
                    }
                    (true, _) => EventVisibility::Family,
                    (false, v) => v.unwrap_or(EventVisibility::Internal),
                };
                let event = NewEvent {
                    kind: EventKind::Comment,
                    from: None,
                    to: None,
                    body: Some(input.body),
                    visibility,
                    caller: &caller,
                    at: now,
                };
                let comment = record(conn, &current, event)?;
                if !viewer.is_guardian()
                    && visibility == EventVisibility::Family
                    && current.first_response_at.is_none()
                {
                    let mut row = current.clone();
                    row.first_response_at = Some(now);
                    row.version += 1;
                    row.updated_at = now;
                    save(conn, &row, current.version)?;
                }
                let location = format!("/v1/concerns/{}/comments", current.id);
                Created::new(&comment.comment(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// A family's concerns the viewer may see, newest first by creation, after `after`: the
/// concerns part of the family timeline.
pub fn family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family_id: &str,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<ConcernRow>, ApiError> {
    let query = concerns::table
        .filter(concerns::family_id.eq(family_id.to_string()))
        .into_boxed();
    let mut sql = visible(conn, viewer, query)?;
    if let Some((at, id)) = after {
        // `created_at <=` lets the database seek to the cursor (see communications' `older_than`).
        sql = sql.filter(concerns::created_at.le(*at)).filter(
            concerns::created_at.lt(*at).or(concerns::created_at
                .eq(*at)
                .and(concerns::id.lt(id.clone()))),
        );
    }
    Ok(sql
        .order((concerns::created_at.desc(), concerns::id.desc()))
        .limit(limit)
        .select(ConcernRow::as_select())
        .load(conn)?)
}
