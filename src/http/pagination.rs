//! Keyset pagination: `limit`, an opaque `cursor`, `{"data", "next_cursor"}` and a `Link` header.

use actix_web::{http::header, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit`.
pub const MAX_LIMIT: u32 = 200;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Rows to return.
    pub limit: i64,
    /// The sort key of the last row of the previous page, if any.
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` and decodes `cursor`; `valid_key` says whether a decoded key has the
    /// shape this list's keys have.
    pub fn new(
        limit: Option<u32>,
        cursor: Option<&str>,
        valid_key: impl Fn(&str) -> bool,
    ) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                "range",
                format!("must be from 1 to {MAX_LIMIT}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => {
                let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|k| valid_key(k))
                    .ok_or_else(|| {
                        ApiError::field("cursor", "invalid", "is not a cursor this list gave out")
                    })?;
                Some(key)
            }
        };
        Ok(PageRequest {
            limit: i64::from(limit),
            after,
        })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to a page and computes the next cursor from the last row's key.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> String,
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(&key(r)))
        } else {
            None
        };
        Page {
            data: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// A 200 answer with the page and, when there is a next page, its `Link`.
pub fn respond<T: Serialize>(req: &HttpRequest, page: &Page<T>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(next) = &page.next_cursor {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            if k != "cursor" {
                query.append_pair(&k, &v);
            }
        }
        query.append_pair("cursor", next);
        res.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), query.finish()),
        ));
    }
    res.json(page)
}

/// Whether a cursor key is a Liaison id.
pub fn is_id(key: &str) -> bool {
    uuid::Uuid::parse_str(key).is_ok()
}
