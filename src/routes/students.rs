//! Students: the children of a family.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::{viewable_links, Viewer};
use super::families::{contains_pattern, find_family};
use super::links::archive_links;
use super::{
    parse_id, save_if_version, single, utc, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors,
};
use crate::auth::{Caller, Scope};
use crate::db::schema::{guardian_student_links as links, students};
use crate::db::{casefold, DbConnection};
use crate::domain::{identifier, plain_text};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_family_students)
        .service(create_student)
        .service(list_students)
        .service(get_student)
        .service(update_student)
        .service(delete_student);
}

/// The fields of a student a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StudentInput {
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "Sofía")]
    pub given_name: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "López García")]
    pub family_name: String,
    /// The SIS's id for the student; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(example = "SIS-S-88120")]
    pub external_id: Option<String>,
    /// Grade level as the school names it (`K`, `3`, `11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    #[validate(length(min = 1, max = 20), custom(function = identifier))]
    #[schema(example = "3")]
    pub grade_level: Option<String>,
    /// Date of birth: not in the future, not before 1900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_birth_date))]
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the student has an IEP.
    #[serde(default)]
    pub has_iep: bool,
}

fn plausible_birth_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if *d < earliest || *d > Utc::now().date_naive() {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a date from 1900-01-01 to today".into());
        return Err(e);
    }
    Ok(())
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a student: any fields of `StudentInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `StudentInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct StudentPatch for StudentInput;
}

/// A student.
#[derive(Debug, Serialize, ToSchema)]
pub struct Student {
    /// Liaison's id.
    pub id: Uuid,
    /// The family the student belongs to.
    pub family_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The SIS's id.
    pub external_id: Option<String>,
    /// Grade level.
    pub grade_level: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the student has an IEP.
    pub has_iep: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A student as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = students, treat_none_as_null = true)]
pub struct StudentRow {
    pub id: String,
    pub school_id: String,
    pub family_id: String,
    pub given_name: String,
    pub family_name: String,
    pub external_id: Option<String>,
    pub grade_level: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub has_iep: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

impl StudentRow {
    fn input(&self) -> StudentInput {
        StudentInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            external_id: self.external_id.clone(),
            grade_level: self.grade_level.clone(),
            date_of_birth: self.date_of_birth,
            has_iep: self.has_iep,
        }
    }

    fn set(&mut self, input: StudentInput) {
        self.given_name = input.given_name;
        self.family_name = input.family_name;
        self.external_id = input.external_id;
        self.grade_level = input.grade_level;
        self.date_of_birth = input.date_of_birth;
        self.has_iep = input.has_iep;
    }

    fn view(self) -> Student {
        Student {
            id: parse_id(&self.id),
            family_id: parse_id(&self.family_id),
            given_name: self.given_name,
            family_name: self.family_name,
            external_id: self.external_id,
            grade_level: self.grade_level,
            date_of_birth: self.date_of_birth,
            has_iep: self.has_iep,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active student of the caller's school that the caller may see.
pub fn find_student(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<StudentRow, ApiError> {
    viewer.check_student(conn, id)?;
    Ok(students::table
        .filter(students::school_id.eq(&viewer.school_id))
        .filter(students::id.eq(id))
        .filter(students::archived_at.is_null())
        .select(StudentRow::as_select())
        .first(conn)?)
}

/// Filters of the school-wide student list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStudentsQuery {
    /// Students of this family.
    pub family_id: Option<Uuid>,
    /// Students whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The student with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Students in this grade level.
    #[param(max_length = 20)]
    #[validate(length(max = 20))]
    pub grade_level: Option<String>,
    /// Students with (or without) an IEP.
    pub has_iep: Option<bool>,
    /// Students changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of a family's student list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamilyStudentsQuery {
    /// Students whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The student with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Students in this grade level.
    #[param(max_length = 20)]
    #[validate(length(max = 20))]
    pub grade_level: Option<String>,
    /// Students with (or without) an IEP.
    pub has_iep: Option<bool>,
    /// Students changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: ListStudentsQuery,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let family = q.family_id.map(|f| f.to_string());
            if let (Some(f), None) = (&family, &viewer.guardian) {
                find_family(conn, &viewer, f)?;
            }
            let mut sql = students::table
                .filter(students::school_id.eq(viewer.school_id.clone()))
                .filter(students::archived_at.is_null())
                .select(StudentRow::as_select())
                .order(students::id.asc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(g) = &viewer.guardian {
                // A guardian lists their own family's children, or (school-wide) every child
                // a current link lets them see, whichever family the child belongs to.
                if let Some(f) = &family {
                    find_family(conn, &viewer, f)?;
                }
                let visible: Vec<String> =
                    viewable_links(g).select(links::student_id).load(conn)?;
                sql = sql.filter(students::id.eq_any(visible));
            }
            if let Some(f) = family {
                sql = sql.filter(students::family_id.eq(f));
            }
            if let Some(text) = &q.q {
                let pattern = contains_pattern(text);
                sql = sql.filter(
                    casefold(students::given_name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(casefold(students::family_name).like(pattern).escape('\\')),
                );
            }
            if let Some(ext) = q.external_id {
                sql = sql.filter(students::external_id.eq(ext));
            }
            if let Some(grade) = q.grade_level {
                sql = sql.filter(students::grade_level.eq(grade));
            }
            if let Some(iep) = q.has_iep {
                sql = sql.filter(students::has_iep.eq(iep));
            }
            if let Some(since) = q.updated_since {
                sql = sql.filter(students::updated_at.ge(since.naive_utc()));
            }
            if let Some(after) = &page.after {
                sql = sql.filter(students::id.gt(after.clone()));
            }
            let rows = sql.load::<StudentRow>(conn)?;
            Ok(page.finish(rows, |r| r.id.clone(), StudentRow::view))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// List students
///
/// The school's students, oldest first; `family_id` narrows to one family. A guardian sees the
/// children a current link with `can_view_records` lets them see. Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(ListStudentsQuery),
    responses((status = 200, description = "A page of students", body = Page<Student>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/students")]
pub async fn list_students(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListStudentsQuery>,
) -> Result<HttpResponse, ApiError> {
    list(req, caller, state, query.0).await
}

/// List a family's students
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(("id" = Uuid, Path, description = "The family's id"), ListFamilyStudentsQuery),
    responses((status = 200, description = "A page of the family's students", body = Page<Student>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}/students")]
pub async fn list_family_students(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<ListFamilyStudentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let q = ListStudentsQuery {
        family_id: Some(id.into_inner()),
        q: q.q,
        external_id: q.external_id,
        grade_level: q.grade_level,
        has_iep: q.has_iep,
        updated_since: q.updated_since,
        limit: q.limit,
        cursor: q.cursor,
    };
    list(req, caller, state, q).await
}

/// Add a student to a family
///
/// Honours `Idempotency-Key`. Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    request_body = StudentInput,
    params(
        ("id" = Uuid, Path, description = "The family's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Created", body = Student,
            headers(("Location" = String, description = "The new student's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/families/{id}/students")]
pub async fn create_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<StudentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let family_id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    let created = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            idempotency::once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                find_family(conn, &viewer, &family_id)?;
                let mut row = StudentRow {
                    id: Uuid::now_v7().to_string(),
                    school_id: caller.school_id.clone(),
                    family_id,
                    given_name: String::new(),
                    family_name: String::new(),
                    external_id: None,
                    grade_level: None,
                    date_of_birth: None,
                    has_iep: false,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    archived_at: None,
                };
                row.set(body.value);
                diesel::insert_into(students::table)
                    .values(&row)
                    .execute(conn)?;
                let location = format!("/v1/students/{}", row.id);
                Created::new(&row.view(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a student
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(("id" = Uuid, Path, description = "The student's id")),
    responses(
        (status = 200, description = "The student", body = Student,
            headers(("ETag" = String, description = "The student's version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}")]
pub async fn get_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let id = id.into_inner().to_string();
    let today = state.clock.today();
    let student = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(find_student(conn, &viewer, &id)?.view())
        })
        .await?;
    Ok(single(&student, student.version))
}

/// Change a student
///
/// A JSON Merge Patch of the fields of `StudentInput`. Honours `If-Match`.
/// Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        IfMatch,
    ),
    request_body(content = StudentPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed student", body = Student,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/students/{id}")]
pub async fn update_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    let student = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_student(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            let mut row = current.clone();
            row.set(input);
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            Ok(row.view())
        })
        .await?;
    Ok(single(&student, student.version))
}

fn save(conn: &mut DbConnection, row: &StudentRow, expected: i64) -> Result<(), ApiError> {
    save_if_version!(conn, students, row, expected)
}

/// Archive a student
///
/// The student and their links leave every list and GET; the records are kept. Honours
/// `If-Match`. Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/students/{id}")]
pub async fn delete_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_student(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let mut row = current.clone();
            row.archived_at = Some(now);
            row.updated_at = now;
            row.version += 1;
            save(conn, &row, current.version)?;
            archive_links(conn, &viewer.school_id, Some(&id), None, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
