//! `Idempotency-Key` on creating POSTs: the first answer is stored in the same transaction as the
//! write, and a retry with the same key and body gets it again.

use std::future::{ready, Ready};

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::idempotency_keys as ik;
use crate::db::{native, DbConnection, Tx};
use crate::error::ApiError;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// The request's `Idempotency-Key`, if it sent one. As an OpenAPI parameter it documents the
/// header on every creating POST.
#[derive(Debug, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Header, names("Idempotency-Key"))]
pub struct IdempotencyKey(
    /// Makes a retry safe: the same key and body replay the first answer for 24 hours
    /// (1 to 255 printable ASCII characters).
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]([ -~]*[!-~])?$"
    )]
    pub Option<String>,
);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(k)
                    if !k.is_empty()
                        && k.len() <= 255
                        && k.bytes().all(|b| b.is_ascii_graphic() || b == b' ') =>
                {
                    Ok(IdempotencyKey(Some(k.to_string())))
                }
                _ => Err(ApiError::bad_request(
                    "Idempotency-Key must be 1 to 255 printable ASCII characters",
                )),
            },
        })
    }
}

/// What a create answered: replayed byte for byte on a retry.
#[derive(Debug, Clone)]
pub struct Created {
    /// The JSON body.
    pub body: String,
    /// The new resource's path.
    pub location: String,
    /// Its ETag.
    pub etag: String,
    /// Whether this is a replay of an earlier answer.
    pub replayed: bool,
}

impl Created {
    /// A fresh answer for `body`, at `location`, at version `version`.
    pub fn new<T: serde::Serialize>(
        body: &T,
        location: String,
        version: i64,
    ) -> Result<Self, ApiError> {
        Ok(Created {
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
            location,
            etag: crate::http::etag::etag(version),
            replayed: false,
        })
    }

    /// The 201 answer.
    pub fn response(self) -> HttpResponse {
        let mut res = HttpResponse::build(StatusCode::CREATED);
        res.content_type("application/json")
            .insert_header((header::LOCATION, self.location))
            .insert_header((header::ETAG, self.etag));
        if self.replayed {
            res.insert_header(("idempotent-replayed", "true"));
        }
        res.body(self.body)
    }
}

/// A stored answer: request hash, body, location, ETag, when.
type StoredAnswer = (
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

/// Inside the create's transaction: replays the stored answer for a known key (422 when the
/// body differs), or runs `create` and stores its answer under the key.
pub fn once(
    tx: &mut Tx<'_>,
    key: &IdempotencyKey,
    fingerprint: &str,
    create: impl FnOnce(&mut Tx<'_>) -> Result<Created, ApiError>,
) -> Result<Created, ApiError> {
    let Some(key) = key.0.as_deref() else {
        return create(tx);
    };
    let now = tx.now();
    let (school, principal) = (tx.caller().school_id.clone(), tx.caller().sub.clone());
    if let Some(replay) = replay(tx.conn(), &school, &principal, key, fingerprint, now)? {
        return Ok(replay);
    }
    let created = create(tx)?;
    remember(
        tx.conn(),
        &school,
        &principal,
        key,
        fingerprint,
        &created,
        now,
    )?;
    Ok(created)
}

/// The stored answer to replay for this key, if it is still remembered; 422 when the key was
/// used with another request. Forgets an expired answer.
pub(crate) fn replay(
    conn: &mut DbConnection,
    school: &str,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Option<Created>, ApiError> {
    let cutoff = now - chrono::Duration::hours(RETENTION_HOURS);
    let mine = ik::table
        .filter(ik::school_id.eq(school))
        .filter(ik::principal.eq(principal))
        .filter(ik::idempotency_key.eq(key));
    let stored: Option<StoredAnswer> = native!(conn, |c| mine
        .select((
            ik::request_hash,
            ik::body,
            ik::location,
            ik::etag,
            ik::created_at,
        ))
        .first(c)
        .optional())?;
    let Some((hash, body, location, etag, at)) = stored else {
        return Ok(None);
    };
    if at <= cutoff {
        diesel::delete(mine).execute(conn)?;
        return Ok(None);
    }
    if hash != fingerprint {
        return Err(ApiError::Unprocessable {
            kind: "idempotency-key-reused",
            detail: "this Idempotency-Key was used with a different request; use a new key".into(),
            errors: Vec::new(),
        });
    }
    Ok(Some(Created {
        body,
        location: location.unwrap_or_default(),
        etag: etag.unwrap_or_default(),
        replayed: true,
    }))
}

/// Stores a create's answer under its key, in the create's transaction.
pub(crate) fn remember(
    conn: &mut DbConnection,
    school: &str,
    principal: &str,
    key: &str,
    fingerprint: &str,
    created: &Created,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let row = (
        ik::school_id.eq(school),
        ik::principal.eq(principal),
        ik::idempotency_key.eq(key),
        ik::request_hash.eq(fingerprint),
        ik::status.eq(201),
        ik::body.eq(&created.body),
        ik::location.eq(&created.location),
        ik::etag.eq(&created.etag),
        ik::created_at.eq(now),
    );
    native!(conn, |c| diesel::insert_into(ik::table)
        .values(row)
        .execute(c))
    .map_err(|e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::Conflict(
            "another request with this Idempotency-Key is in progress; retry".into(),
        ),
        other => other.into(),
    })?;
    Ok(())
}

/// Forgets keys past their retention.
pub fn purge(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        ik::table.filter(ik::created_at.lt(now - chrono::Duration::hours(RETENTION_HOURS))),
    )
    .execute(conn)
}
