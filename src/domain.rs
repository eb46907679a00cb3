//! Domain types: values known to be valid once constructed. Each parses from the wire with a
//! message a client can act on.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a snake_case enumeration, sent and stored as text (an unknown stored value is an
/// error, never a default).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a stored or sent value.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::db::types::text_sql!(
            $name,
            stringify!($name),
            to = as_str,
            from = $name::parse
        );
    };
}
pub(crate) use text_enum;

text_enum! {
    /// How a contact happens.
    Channel {
        /// A phone call.
        Phone => "phone",
        /// E-mail.
        Email => "email",
        /// A text message.
        Sms => "sms",
        /// Face to face.
        InPerson => "in_person",
        /// A video call.
        Video => "video",
        /// A paper letter.
        Letter => "letter",
        /// A message in a parent portal or app.
        Portal => "portal",
    }
}

text_enum! {
    /// How an adult stands to a child or household.
    Relationship {
        /// Mother.
        Mother => "mother",
        /// Father.
        Father => "father",
        /// Parent (unspecified).
        Parent => "parent",
        /// Step-parent.
        Stepparent => "stepparent",
        /// Grandparent.
        Grandparent => "grandparent",
        /// Aunt or uncle.
        AuntUncle => "aunt_uncle",
        /// Adult sibling.
        Sibling => "sibling",
        /// Foster parent.
        FosterParent => "foster_parent",
        /// Legal guardian who is not a parent.
        LegalGuardian => "legal_guardian",
        /// Any other relation.
        Other => "other",
    }
}

/// An e-mail address (`local@domain`), with the domain lower-cased.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, format = "email", example = "maria.lopez@example.org")]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let err = || format!("`{s}` is not a valid e-mail address");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(err)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(err());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(err());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits). Spaces, dashes, dots and parentheses
/// are accepted on input and removed.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(try_from = "String", into = "String")]
pub struct E164Phone(String);

impl E164Phone {
    /// Parses a number.
    pub fn parse(s: &str) -> Result<Self, String> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(E164Phone(compact))
        } else {
            Err(format!(
                "`{s}` is not an E.164 phone number such as +14155550123"
            ))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP 47 language tag (`en`, `es-MX`, `zh-Hant-TW`), in canonical case.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Parses a tag by RFC 5646's syntax (language, extlang, script, region, variants,
    /// extensions, private use).
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("`{s}` is not a BCP 47 language tag such as en or es-MX");
        if s.is_empty()
            || s.len() > 64
            || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(err());
        }
        let parts: Vec<&str> = s.split('-').collect();
        let alpha = |p: &str| p.bytes().all(|b| b.is_ascii_alphabetic());
        let digit = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        let lang = parts[0];
        if !(alpha(lang) && (2..=8).contains(&lang.len()) && lang.len() != 4) {
            return Err(err());
        }
        out.push(lang.to_ascii_lowercase());
        i += 1;
        // Up to three extended language subtags after a 2–3 letter language.
        let mut ext = 0;
        while lang.len() <= 3
            && ext < 3
            && i < parts.len()
            && parts[i].len() == 3
            && alpha(parts[i])
        {
            out.push(parts[i].to_ascii_lowercase());
            i += 1;
            ext += 1;
        }
        if i < parts.len() && parts[i].len() == 4 && alpha(parts[i]) {
            let p = parts[i].to_ascii_lowercase();
            out.push(format!("{}{}", p[..1].to_ascii_uppercase(), &p[1..]));
            i += 1;
        }
        if i < parts.len()
            && ((parts[i].len() == 2 && alpha(parts[i]))
                || (parts[i].len() == 3 && digit(parts[i])))
        {
            out.push(parts[i].to_ascii_uppercase());
            i += 1;
        }
        while i < parts.len() {
            let p = parts[i];
            let variant =
                (5..=8).contains(&p.len()) || (p.len() == 4 && p.as_bytes()[0].is_ascii_digit());
            if !variant {
                break;
            }
            out.push(p.to_ascii_lowercase());
            i += 1;
        }
        // Extensions (a singleton and 2–8 character subtags) and private use (x and 1–8).
        while i < parts.len() {
            let single = parts[i];
            if single.len() != 1 {
                return Err(err());
            }
            let private = single.eq_ignore_ascii_case("x");
            let min = if private { 1 } else { 2 };
            out.push(single.to_ascii_lowercase());
            i += 1;
            let start = i;
            while i < parts.len()
                && (min..=8).contains(&parts[i].len())
                && (private || parts[i].len() > 1)
            {
                out.push(parts[i].to_ascii_lowercase());
                i += 1;
            }
            if i == start {
                return Err(err());
            }
            if private && i < parts.len() {
                return Err(err());
            }
        }
        Ok(LanguageTag(out.join("-")))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What `E164Phone::parse` accepts, for the OpenAPI document.
const E164_PATTERN: &str = r"^[ ().-]*\+[ ().-]*[1-9]([ ().-]*[0-9]){7,14}[ ().-]*$";

/// What `LanguageTag::parse` accepts (RFC 5646 well-formed tags), for the OpenAPI document.
const LANGUAGE_TAG_PATTERN: &str = concat!(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{5,8})",
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?",
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*",
    r"(?:-[A-WYZa-wyz0-9](?:-[A-Za-z0-9]{2,8})+)*(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?$"
);

/// Declares the OpenAPI schema of a string domain type: its pattern and an example.
macro_rules! string_schema {
    ($t:ident, $pattern:expr, $max:expr, $example:literal, $description:literal) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .pattern(Some($pattern))
                    .max_length(Some($max))
                    .description(Some($description))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl ToSchema for $t {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($t))
            }
        }
    };
}
string_schema!(
    E164Phone,
    E164_PATTERN,
    40,
    "+14155550123",
    "A phone number in E.164 form; spaces, dashes, dots and parentheses are removed."
);
string_schema!(
    LanguageTag,
    LANGUAGE_TAG_PATTERN,
    64,
    "es-MX",
    "A BCP 47 language tag, returned in canonical case."
);

/// Deserializes a whole number, also when written as `5.0` (JSON Schema's integers include it).
pub fn whole_i32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e12 => Some(f as i64),
        _ => None,
    };
    whole
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| D::Error::custom(format!("expected a whole number, got {n}")))
}

/// `whole_i32` for an optional field (`null` is none).
pub fn whole_i32_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_i32")] i32);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

macro_rules! string_conversions {
    ($($t:ident),+) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}
string_conversions!(Email, E164Phone, LanguageTag);

crate::db::types::text_sql!(
    Email,
    "e-mail address",
    to = as_str,
    from = |s: &str| Email::parse(s).ok()
);
crate::db::types::text_sql!(
    E164Phone,
    "phone number",
    to = as_str,
    from = |s: &str| E164Phone::parse(s).ok()
);
crate::db::types::text_sql!(
    LanguageTag,
    "language tag",
    to = as_str,
    from = |s: &str| LanguageTag::parse(s).ok()
);

/// Validator: text that is not only white space and has no control characters (new lines and
/// tabs are allowed).
pub fn plain_text(s: &str) -> Result<(), validator::ValidationError> {
    if s.trim().is_empty() {
        let mut e = validator::ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        return Err(e);
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        let mut e = validator::ValidationError::new("invalid");
        e.message = Some("must not contain control characters".into());
        return Err(e);
    }
    Ok(())
}

/// Validator: a single-line identifier (an SIS id): no white space at the ends, no control
/// characters.
pub fn identifier(s: &str) -> Result<(), validator::ValidationError> {
    if s.is_empty() || s.trim() != s || s.chars().any(char::is_control) {
        let mut e = validator::ValidationError::new("invalid");
        e.message =
            Some("must be non-empty, without surrounding spaces or control characters".into());
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("Ana@Example.ORG").unwrap().as_str(),
            "Ana@example.org"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "ana@localhost",
            "a b@x.org",
            "ana@-x.org",
            "a@x..org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            E164Phone::parse("+1 (415) 555-0123").unwrap().as_str(),
            "+14155550123"
        );
        for bad in [
            "4155550123",
            "+0123456789",
            "+1",
            "+1234567890123456",
            "+1415abc0123",
        ] {
            assert!(E164Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags() {
        for (input, canonical) in [
            ("en", "en"),
            ("ES-mx", "es-MX"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("de-CH-1901", "de-CH-1901"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
            ("zh-yue-HK", "zh-yue-HK"),
            ("en-x-private", "en-x-private"),
        ] {
            assert_eq!(LanguageTag::parse(input).unwrap().as_str(), canonical);
        }
        for bad in [
            "",
            "e",
            "english1",
            "en_US",
            "en-",
            "en--US",
            "abcd",
            "en-US-u",
            "en-a-bb-x",
            "123",
            "en-x-toolongtag1",
        ] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        #[derive(Deserialize)]
        struct N {
            #[serde(default, deserialize_with = "whole_i32_opt")]
            n: Option<i32>,
        }
        let parse = |s: &str| serde_json::from_str::<N>(s).map(|n| n.n);
        assert_eq!(parse(r#"{"n": 5}"#).unwrap(), Some(5));
        assert_eq!(parse(r#"{"n": 5.0}"#).unwrap(), Some(5));
        assert_eq!(parse(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        assert!(parse(r#"{"n": 5.5}"#).is_err());
        assert!(parse(r#"{"n": 3000000000}"#).is_err());
        assert!(parse(r#"{"n": "5"}"#).is_err());
    }

    #[test]
    fn enums_round_trip() {
        for c in [Channel::Phone, Channel::InPerson, Channel::Portal] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(
            Relationship::parse("aunt_uncle"),
            Some(Relationship::AuntUncle)
        );
        assert_eq!(Relationship::parse("Mother"), None);
    }
}
