//! Versions as entity tags, and `If-Match`.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};

use crate::error::ApiError;

/// The strong entity tag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A request's `If-Match` precondition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: the write goes ahead.
    Absent,
    /// `If-Match: *`: the resource must exist (it does, once loaded).
    Any,
    /// The versions the caller accepts.
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Parses the header's value.
    pub fn parse(value: &str) -> Result<IfMatch, ApiError> {
        let value = value.trim();
        if value == "*" {
            return Ok(IfMatch::Any);
        }
        let mut versions = Vec::new();
        for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            // Weak tags never match under If-Match's strong comparison.
            if tag.starts_with("W/") {
                continue;
            }
            // A bare `3` is taken as `"3"`: clients typing the header by hand forget the quotes.
            let inner = match tag.strip_prefix('"') {
                Some(rest) => rest.strip_suffix('"').filter(|t| !t.contains('"')),
                None => (!tag.contains('"')).then_some(tag),
            }
            .ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match must hold entity tags such as \"3\", as ETag gives them",
                )
            })?;
            // A tag that is not one of our versions can match nothing.
            versions.push(inner.parse::<i64>().unwrap_or(-1));
        }
        Ok(IfMatch::Versions(versions))
    }

    /// 412 unless the current version satisfies the precondition.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::Versions(v) if v.contains(&current) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed),
        }
    }
}

/// `If-Match` as an OpenAPI parameter, for every operation that honours it.
impl utoipa::IntoParams for IfMatch {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r#"^(\*|(W/)?"[^",]*"(\s*,\s*(W/)?"[^",]*")*)$"#));
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "The ETag the change is based on: a stale one is a 412; `*` matches any.",
            ))
            .schema(Some(schema))
            .build()]
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<IfMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch::Absent),
            Some(v) => v
                .to_str()
                .map_err(|_| ApiError::bad_request("If-Match is not readable"))
                .and_then(IfMatch::parse),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
        assert_eq!(
            IfMatch::parse("\"3\", \"4\"").unwrap(),
            IfMatch::Versions(vec![3, 4])
        );
        assert_eq!(IfMatch::parse("3").unwrap(), IfMatch::Versions(vec![3]));
        assert!(IfMatch::parse("\"3").is_err());
        assert!(IfMatch::parse("3\"").is_err());
        assert!(IfMatch::parse("W/\"3\"").unwrap().check(3).is_err());
        assert!(IfMatch::parse("\"abc\"").unwrap().check(1).is_err());
        assert!(IfMatch::Absent.check(9).is_ok());
    }
}
