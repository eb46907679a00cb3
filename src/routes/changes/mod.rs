//! The change feed: every create, update and archive of the school, in commit order, so an SIS
//! syncs incrementally. A poller keeps the `next_cursor` of each read and passes it as `since`;
//! it then never misses a change nor sees one twice, whatever runs concurrently.

pub mod store;
pub mod wire;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::Engine;

use self::store::ChangeRow;
pub use self::wire::{Change, ChangePage, ListChangesQuery};
use super::ReadErrors;
use crate::auth::{Caller, Scope, Scopes};
use crate::db::ResourceType;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_changes);
}

/// List changes
///
/// The school's creates, updates and archives after `since`, in commit order: each with its
/// `seq`, the record's `type`, `id` and `external_id`, the `operation` and the record's new
/// `version`. `next_cursor` is always given, on an empty page too; pass it as `since` to read
/// on. A change is never missed or repeated, even under concurrent writes: a change becomes
/// visible only once every change before it is committed. Only kinds of record the caller may
/// also read are served (`families:read` for families, guardians, students and links,
/// `communications:read` for communications, `concerns:read` for concerns, their comments and
/// the settings, which `GET /v1/settings` serves with that scope, `iep:read` for IEP notes,
/// `admissions:read` for admission stages and applicants).
///
/// Scope: `changes:read`.
#[utoipa::path(
    tag = "changes",
    params(ListChangesQuery),
    responses(
        (status = 200, description = "A page of changes, in commit order", body = ChangePage,
            headers(("Link" = String, description = "The next read (always given)"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/changes")]
pub async fn list_changes(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ChangesRead)?;
    let q = query.0;
    let limit = page_size(q.limit)?;
    let since = starting_point(q.since.as_deref(), q.cursor.as_deref())?;
    let kinds = kinds(q.types.as_deref(), caller.scopes)?;
    let school = caller.school_id.clone();
    let page = state
        .db
        .read(move |conn| {
            // The mark is read first, then the page up to it: what the page holds, and the
            // cursor when the page is short, are both at or below a number that was already
            // committed with every smaller one, so nothing can later appear behind the cursor.
            let upto = store::committed_up_to(conn, &school)?;
            if since > upto {
                return Err(ApiError::field(
                    "since",
                    "invalid",
                    "is ahead of this school's changes: not a cursor this feed gave out",
                ));
            }
            let rows = store::page(conn, &school, since, upto, kinds.as_deref(), limit)?;
            let next = next_position(&rows, limit, upto);
            Ok(ChangePage {
                data: rows.into_iter().map(ChangeRow::view).collect(),
                next_cursor: encode_cursor(next),
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, next_link(&req, &page.next_cursor)))
        .json(page))
}

/// The page size: 1 to 200, 50 when not given.
fn page_size(limit: Option<u32>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(ApiError::field(
            "limit",
            "range",
            format!("must be from 1 to {MAX_LIMIT}"),
        ))
    }
}

/// The cursor of a position in the feed: the URL-safe base64 (no padding) of the decimal
/// sequence number. Opaque to clients; the benchmark builds cursors the same way.
pub fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seq.to_string())
}

/// The position a cursor names, if it is one this feed makes.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Where to read from: `since`, or its synonym `cursor`; 0 (before the first change) when
/// neither is given.
fn starting_point(since: Option<&str>, cursor: Option<&str>) -> Result<i64, ApiError> {
    let (field, value) = match (since, cursor) {
        (Some(s), Some(c)) if s != c => {
            return Err(ApiError::field(
                "cursor",
                "conflict",
                "`cursor` is a synonym of `since`: give one, or both equal",
            ))
        }
        (Some(s), _) => ("since", s),
        (None, Some(c)) => ("cursor", c),
        (None, None) => return Ok(0),
    };
    decode_cursor(value)
        .ok_or_else(|| ApiError::field(field, "invalid", "is not a cursor this feed gave out"))
}

/// The scope a caller needs to read records of this kind, and so to see their changes.
pub fn read_scope(kind: ResourceType) -> Scope {
    match kind {
        ResourceType::Families
        | ResourceType::Guardians
        | ResourceType::Students
        | ResourceType::Links => Scope::FamiliesRead,
        ResourceType::Communications => Scope::CommunicationsRead,
        // The settings are read with `concerns:read` (`GET /v1/settings`): they are the
        // concerns' response targets.
        ResourceType::Concerns | ResourceType::ConcernComments | ResourceType::Settings => {
            Scope::ConcernsRead
        }
        ResourceType::IepNotes => Scope::IepRead,
        ResourceType::AdmissionStages | ResourceType::Applicants => Scope::AdmissionsRead,
        ResourceType::Events
        | ResourceType::Rsvps
        | ResourceType::Attendance
        | ResourceType::EventFeedback
        | ResourceType::EventSlots
        | ResourceType::Bookings
        | ResourceType::Resources
        | ResourceType::Referrals => Scope::EngagementRead,
        // Service accounts are the admin's to see (`GET /v1/clients` needs `clients:write`).
        ResourceType::Clients => Scope::ClientsWrite,
    }
}

/// The kinds of record to serve: those named in `types` (each of which the caller must be
/// able to read: else 403 naming the scope), or every kind the caller may read. `None` means
/// every kind there is, so the query needs no filter.
fn kinds(types: Option<&str>, scopes: Scopes) -> Result<Option<Vec<ResourceType>>, ApiError> {
    let readable = |k: &ResourceType| scopes.contains(read_scope(*k));
    let Some(types) = types else {
        let all: Vec<ResourceType> = ResourceType::ALL.iter().copied().filter(readable).collect();
        return Ok((all.len() < ResourceType::ALL.len()).then_some(all));
    };
    let mut asked = Vec::new();
    for name in types.split(',') {
        let kind = ResourceType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = ResourceType::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::field(
                "types",
                "invalid",
                format!(
                    "`{}` is not a kind of record; use a comma-separated list of {}",
                    name.escape_debug(),
                    known.join(", ")
                ),
            )
        })?;
        if !readable(&kind) {
            return Err(ApiError::Forbidden(format!(
                "changes of `{kind}` need the scope `{}`",
                read_scope(kind)
            )));
        }
        if !asked.contains(&kind) {
            asked.push(kind);
        }
    }
    Ok(Some(asked))
}

/// Where the next read starts. After a full page, at its last change (more may follow at
/// once). After a short page, at the committed mark the page was read up to: every change up to
/// it has been served or is of a kind not asked for, so the reader skips those for good.
fn next_position(rows: &[ChangeRow], limit: i64, upto: i64) -> i64 {
    match rows.last() {
        Some(last) if rows.len() as i64 >= limit => last.seq,
        _ => upto,
    }
}

/// The `Link` to the next read: this request's query with `since` set to the next cursor.
fn next_link(req: &HttpRequest, next: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "since" && k != "cursor" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("since", next);
    format!("<{}?{}>; rel=\"next\"", req.path(), query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::db::Operation;

    fn row(seq: i64) -> ChangeRow {
        ChangeRow {
            seq,
            resource_type: ResourceType::Families,
            resource_id: "f".into(),
            external_id: None,
            operation: Operation::Create,
            version: 1,
            changed_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn cursors_are_base64url_of_the_decimal_seq() {
        assert_eq!(encode_cursor(0), "MA");
        assert_eq!(encode_cursor(1042), "MTA0Mg");
        for seq in [0, 1, 9, 10, 199, 1_000_000, 999_999_999_999] {
            assert_eq!(decode_cursor(&encode_cursor(seq)), Some(seq));
        }
        // Padding, another alphabet's characters, signs, blanks, other text: not a cursor.
        for bad in [
            "MA==",
            "",
            "LTE",
            "IDE",
            "YWJj",
            "Kw",
            "!!",
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA",
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_and_cursor_are_synonyms() {
        assert_eq!(starting_point(None, None).unwrap(), 0);
        assert_eq!(starting_point(Some("MTA"), None).unwrap(), 10);
        assert_eq!(starting_point(None, Some("MTA")).unwrap(), 10);
        assert_eq!(starting_point(Some("MTA"), Some("MTA")).unwrap(), 10);
        assert!(starting_point(Some("MTA"), Some("MTE")).is_err());
        assert!(starting_point(Some("nope"), None).is_err());
    }

    #[test]
    fn a_kind_is_served_only_to_who_may_read_it() {
        let integration = Role::Integration.scopes();
        // Everything the SIS may read, and nothing else.
        assert_eq!(
            kinds(None, integration).unwrap(),
            Some(vec![
                ResourceType::Families,
                ResourceType::Guardians,
                ResourceType::Students,
                ResourceType::Links,
                ResourceType::Communications,
                ResourceType::AdmissionStages,
                ResourceType::Applicants,
                ResourceType::Events,
                ResourceType::Rsvps,
                ResourceType::Attendance,
                ResourceType::EventFeedback,
                ResourceType::EventSlots,
                ResourceType::Bookings,
                ResourceType::Resources,
                ResourceType::Referrals,
            ])
        );
        // The admin reads every kind: no filter at all.
        assert_eq!(kinds(None, Role::Admin.scopes()).unwrap(), None);
        assert_eq!(
            kinds(Some("links,families,links"), integration).unwrap(),
            Some(vec![ResourceType::Links, ResourceType::Families])
        );
        match kinds(Some("families,concerns"), integration) {
            Err(ApiError::Forbidden(why)) => assert!(why.contains("concerns:read"), "{why}"),
            other => panic!("{other:?}"),
        }
        for bad in ["", "families,", "Families", "family", "families, guardians"] {
            assert!(
                matches!(
                    kinds(Some(bad), integration),
                    Err(ApiError::BadRequest { .. })
                ),
                "{bad}"
            );
        }
        for kind in ResourceType::ALL {
            assert!(Role::Admin.scopes().contains(read_scope(*kind)));
        }
    }

    #[test]
    fn the_cursor_moves_to_the_last_change_or_to_the_committed_mark() {
        // A full page: more may follow right after its last change.
        assert_eq!(next_position(&[row(4), row(7)], 2, 30), 7);
        // A short page (the rest was of other kinds, or nothing more is committed yet).
        assert_eq!(next_position(&[row(4)], 2, 30), 30);
        assert_eq!(next_position(&[], 2, 30), 30);
        assert_eq!(next_position(&[], 2, 0), 0);
    }
}
