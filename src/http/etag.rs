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

/// What `If-Match` may hold, as the OpenAPI document states it: `*`, or a comma-separated list
/// of entity tags (`"3"`, `W/"3"`; empty list elements and blanks around them allowed, as RFC
/// 9110 §5.6.1 asks) — and, a documented quirk, bare digits (`3`) read as the tag `"3"`, since
/// people typing the header by hand forget the quotes. `IfMatch::parse` accepts exactly what this
/// pattern matches (a unit test compares them).
pub const IF_MATCH_PATTERN: &str = r#"^[ \t]*(\*|(,[ \t]*)*(W/"[!#-~]*"|"[!#-~]*"|[0-9]+)([ \t]*,([ \t]*(W/"[!#-~]*"|"[!#-~]*"|[0-9]+))?)*)[ \t]*$"#;

impl IfMatch {
    /// Parses the header's value: `IF_MATCH_PATTERN`, or a 400.
    pub fn parse(value: &str) -> Result<IfMatch, ApiError> {
        let blank = |b: u8| b == b' ' || b == b'\t';
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.is_empty() {
            return Err(ApiError::bad_request(
                "If-Match is empty: send the ETag the change is based on (such as \"3\"), or `*`",
            ));
        }
        if value == "*" {
            return Ok(IfMatch::Any);
        }
        let malformed = || {
            ApiError::bad_request(
                "If-Match must be `*` or a comma-separated list of entity tags such as \"3\", as ETag gives them",
            )
        };
        let bytes = value.as_bytes();
        let mut versions = Vec::new();
        let mut tags = 0;
        let mut i = 0;
        loop {
            while i < bytes.len() && blank(bytes[i]) {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if bytes[i] == b',' {
                i += 1;
                continue;
            }
            let weak = bytes[i..].starts_with(b"W/");
            if weak {
                i += 2;
            }
            let tag = if bytes.get(i) == Some(&b'"') {
                let start = i + 1;
                let len = bytes[start..]
                    .iter()
                    .position(|&b| b == b'"')
                    .ok_or_else(malformed)?;
                let tag = &value[start..start + len];
                // etagc (RFC 9110 §8.8.3) less obs-text, which a readable header cannot hold.
                if !tag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
                    return Err(malformed());
                }
                i = start + len + 1;
                tag
            } else if !weak && bytes.get(i).is_some_and(u8::is_ascii_digit) {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                &value[start..i]
            } else {
                return Err(malformed());
            };
            tags += 1;
            // Weak tags never match under If-Match's strong comparison, and a tag that is not
            // one of our versions, written as ETag writes it, matches nothing.
            if !weak {
                if let Some(v) = tag.parse::<i64>().ok().filter(|v| v.to_string() == tag) {
                    versions.push(v);
                }
            }
            while i < bytes.len() && blank(bytes[i]) {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if bytes[i] != b',' {
                return Err(malformed());
            }
            i += 1;
        }
        if tags == 0 {
            return Err(malformed());
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
            .pattern(Some(IF_MATCH_PATTERN));
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "The ETag the change is based on (`\"3\"`; a bare `3` is read the same): a stale \
                 one is a 412; `*` matches any. Several tags may be listed, comma-separated. An \
                 empty or malformed value is a 400.",
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
        assert_eq!(IfMatch::parse(" * ").unwrap(), IfMatch::Any);
        assert_eq!(
            IfMatch::parse("\"3\", \"4\"").unwrap(),
            IfMatch::Versions(vec![3, 4])
        );
        assert_eq!(IfMatch::parse("3").unwrap(), IfMatch::Versions(vec![3]));
        assert_eq!(
            IfMatch::parse(", \"3\" ,, W/\"4\",").unwrap(),
            IfMatch::Versions(vec![3])
        );
        for bad in [
            "",
            " ",
            ",",
            " , ,",
            "\"3",
            "3\"",
            "W/3",
            "*, \"3\"",
            "\"3\" \"4\"",
            "three",
            "\"a b\"",
            "W/ \"3\"",
            "\"3\";",
        ] {
            assert!(IfMatch::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IfMatch::parse("W/\"3\"").unwrap().check(3).is_err());
        assert!(IfMatch::parse("\"abc\"").unwrap().check(1).is_err());
        // Only the tag ETag writes matches: "03" is another tag than "3".
        assert!(IfMatch::parse("\"03\"").unwrap().check(3).is_err());
        assert!(IfMatch::parse("\"+3\"").unwrap().check(3).is_err());
        assert!(IfMatch::parse("\"99999999999999999999\"")
            .unwrap()
            .check(3)
            .is_err());
        assert!(IfMatch::parse("\"1\", \"3\"").unwrap().check(3).is_ok());
        assert!(IfMatch::Absent.check(9).is_ok());
    }

    /// The server accepts exactly what the documented pattern matches: every string the pattern
    /// rejects is a 400, and none it matches is.
    #[test]
    fn the_parser_and_the_documented_pattern_agree() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
        let agree = |s: &str| {
            assert_eq!(
                pattern.is_match(s),
                IfMatch::parse(s).is_ok(),
                "pattern and parser disagree on {s:?}"
            );
        };
        for s in [
            "",
            "*",
            "**",
            " * ",
            "\t*\t",
            "3",
            "03",
            "\"3\"",
            "W/\"3\"",
            "w/\"3\"",
            "\"\"",
            "\"a,b\"",
            "\"3\",",
            ",\"3\"",
            "\"3\" , \"4\"",
            "\"3\"\"4\"",
            "3 4",
            "3,4",
            "W/3",
            "\"3",
            "\"é\"",
            "\"\\\"",
            "\"!#~\"",
            "\u{7f}",
        ] {
            agree(s);
        }
        // And on many strings made of the characters that matter.
        let alphabet: Vec<char> = " \t,\"W/*07a!#~\\é".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..100_000 {
            let len = (next() % 10) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            agree(&s);
        }
        // And on lists of whole tags, well or badly joined, which characters alone rarely make.
        let pieces = [
            "\"3\"", "W/\"4\"", "12", ",", ", ", " ", "\t", "*", "\"", "W/", "\"a,b\"", "\"\"",
        ];
        for _ in 0..100_000 {
            let len = (next() % 6) as usize;
            let s: String = (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            agree(&s);
        }
    }
}
