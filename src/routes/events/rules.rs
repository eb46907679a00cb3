//! The rules of events, answers and bookings, apart from storage: what an audience is made of,
//! how an answer takes, keeps or frees a place, and how a series of slots is cut.

use chrono::{Duration, NaiveDateTime};

use super::wire::{Audience, AudienceScope, EventFields, RsvpResponse, RsvpStatus};
use crate::error::ApiError;

/// The most slots one request makes.
pub const MAX_SLOTS: i64 = 200;

/// What [`web_url`] accepts, as the OpenAPI document states it.
pub const WEB_URL_PATTERN: &str = "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$";

/// A URL a browser can open (`http` or `https`, then at least one character, none of them
/// white space or a control character): exactly [`WEB_URL_PATTERN`].
pub fn web_url(s: &str) -> Result<(), validator::ValidationError> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        // JavaScript's `\s` (the pattern's dialect) also counts U+FEFF as white space.
        !r.is_empty()
            && !r
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}')
    });
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid")
            .with_message("must be an http or https URL".into()))
    }
}

/// One member of an event's audience, as stored in `event_audience`.
pub type Member = (&'static str, String);

/// The members of an audience (`school`, a grade, a language, a family), or a 400 naming
/// `audience` when it has not exactly one part or a part is blank.
pub fn audience_members(a: &Audience) -> Result<Vec<Member>, ApiError> {
    let parts = [
        a.scope.is_some(),
        a.grade_levels.is_some(),
        a.languages.is_some(),
        a.family_ids.is_some(),
    ];
    if parts.iter().filter(|p| **p).count() != 1 {
        return Err(ApiError::field(
            "audience",
            "invalid",
            "give exactly one of scope, grade_levels, languages or family_ids",
        ));
    }
    let mut members: Vec<Member> = Vec::new();
    if let Some(AudienceScope::School) = a.scope {
        members.push(("school", String::new()));
    }
    for g in a.grade_levels.iter().flatten() {
        let g = g.trim();
        if g.is_empty() || g.len() > 20 {
            return Err(ApiError::field(
                "audience.grade_levels",
                "invalid",
                "a grade level is 1 to 20 characters",
            ));
        }
        members.push(("grade", g.to_string()));
    }
    for l in a.languages.iter().flatten() {
        members.push(("language", l.as_str().to_ascii_lowercase()));
    }
    for f in a.family_ids.iter().flatten() {
        members.push(("family", f.to_string()));
    }
    members.sort();
    members.dedup();
    Ok(members)
}

/// The language keys a family is reached by: each tag and its primary language (`es-MX` is
/// reached by an audience of `es-MX` or of `es`), lower-cased.
pub fn language_keys<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut keys = Vec::new();
    for t in tags {
        let t = t.to_ascii_lowercase();
        if let Some((primary, _)) = t.split_once('-') {
            keys.push(primary.to_string());
        }
        keys.push(t);
    }
    keys.sort();
    keys.dedup();
    keys
}

/// 400 unless an event's fields hold together: it ends no earlier than it starts.
pub fn check_event(f: &EventFields) -> Result<Vec<Member>, ApiError> {
    if f.ends_at < f.starts_at {
        return Err(ApiError::field(
            "ends_at",
            "before_start",
            "an event cannot end before it starts",
        ));
    }
    audience_members(&f.audience)
}

/// What an answer does to the event's places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// It keeps what it had (no place, or the place it holds, or its place on the waitlist).
    Keep,
    /// It needs a place (a new yes): take one if free, else the waitlist or a 409.
    Take,
    /// It gives up the place it held (a yes turned no or maybe): the next waitlisted family is
    /// promoted.
    Free,
    /// It leaves the waitlist.
    LeaveWaitlist,
}

/// What a change of answer from `before` (none: a first answer) to `response` does.
pub fn place_change(before: Option<RsvpStatus>, response: RsvpResponse) -> Place {
    let yes = response == RsvpResponse::Yes;
    match (before, yes) {
        (Some(RsvpStatus::Confirmed), true) | (Some(RsvpStatus::Waitlisted), true) => Place::Keep,
        (Some(RsvpStatus::Confirmed), false) => Place::Free,
        (Some(RsvpStatus::Waitlisted), false) => Place::LeaveWaitlist,
        (_, true) => Place::Take,
        (_, false) => Place::Keep,
    }
}

/// The slots `[start, end)` cut into `minutes`: their starts and ends, or a 400.
pub fn slot_series(
    start: NaiveDateTime,
    end: NaiveDateTime,
    minutes: i64,
) -> Result<Vec<(NaiveDateTime, NaiveDateTime)>, ApiError> {
    if !(5..=480).contains(&minutes) {
        return Err(ApiError::field(
            "slot_minutes",
            "out_of_range",
            "a slot lasts 5 to 480 minutes",
        ));
    }
    if end <= start {
        return Err(ApiError::field(
            "ends_at",
            "before_start",
            "the series must end after it starts",
        ));
    }
    let step = Duration::minutes(minutes);
    let count = (end - start).num_minutes() / minutes;
    if count < 1 {
        return Err(ApiError::field(
            "slot_minutes",
            "too_long",
            "no whole slot fits between starts_at and ends_at",
        ));
    }
    if count > MAX_SLOTS {
        return Err(ApiError::field(
            "slot_minutes",
            "too_many",
            format!("a series makes at most {MAX_SLOTS} slots"),
        ));
    }
    Ok((0..count)
        .map(|i| (start + step * i as i32, start + step * (i as i32 + 1)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LanguageTag;
    use uuid::Uuid;

    #[test]
    fn a_web_url_is_http_or_https_with_no_space_or_control_character() {
        for ok in [
            "https://meet.example.org/abc?x=1",
            "http://é.example/ü",
            "https://x",
        ] {
            assert!(web_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.org",
            "https://",
            "https://a b",
            "https://a\u{9f}b",
            "https://a\u{85}",
            "https://a\u{a0}",
            "https://a\u{feff}",
            "https://a\u{7f}",
            "https://a\u{3000}",
        ] {
            assert!(web_url(bad).is_err(), "{bad:?}");
        }
    }

    fn audience() -> Audience {
        Audience {
            scope: None,
            grade_levels: None,
            languages: None,
            family_ids: None,
        }
    }

    #[test]
    fn an_audience_has_exactly_one_part() {
        assert!(audience_members(&audience()).is_err());
        let both = Audience {
            scope: Some(AudienceScope::School),
            grade_levels: Some(vec!["3".into()]),
            ..audience()
        };
        assert!(audience_members(&both).is_err());
        let school = Audience {
            scope: Some(AudienceScope::School),
            ..audience()
        };
        assert_eq!(
            audience_members(&school).unwrap(),
            vec![("school", String::new())]
        );
        let fam = Uuid::now_v7();
        let named = Audience {
            family_ids: Some(vec![fam, fam]),
            ..audience()
        };
        assert_eq!(
            audience_members(&named).unwrap(),
            vec![("family", fam.to_string())]
        );
        let langs = Audience {
            languages: Some(vec![LanguageTag::parse("es-MX").unwrap()]),
            ..audience()
        };
        assert_eq!(
            audience_members(&langs).unwrap(),
            vec![("language", "es-mx".to_string())]
        );
    }

    #[test]
    fn a_regional_language_is_reached_by_its_primary_language() {
        assert_eq!(language_keys(["es-MX", "en"]), vec!["en", "es", "es-mx"]);
    }

    #[test]
    fn answers_take_keep_and_free_places() {
        use RsvpResponse::*;
        use RsvpStatus::*;
        assert_eq!(place_change(None, Yes), Place::Take);
        assert_eq!(place_change(None, Maybe), Place::Keep);
        assert_eq!(place_change(Some(Answered), Yes), Place::Take);
        assert_eq!(place_change(Some(Confirmed), Yes), Place::Keep);
        assert_eq!(place_change(Some(Confirmed), No), Place::Free);
        assert_eq!(place_change(Some(Waitlisted), Maybe), Place::LeaveWaitlist);
        assert_eq!(place_change(Some(Waitlisted), Yes), Place::Keep);
    }

    #[test]
    fn a_series_is_cut_into_whole_slots() {
        let at = |h, m| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 10)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        let s = slot_series(at(16, 0), at(19, 0), 10).unwrap();
        assert_eq!(s.len(), 18);
        assert_eq!(s[17], (at(18, 50), at(19, 0)));
        assert_eq!(slot_series(at(16, 0), at(16, 25), 10).unwrap().len(), 2);
        assert!(slot_series(at(16, 0), at(16, 5), 10).is_err());
        assert!(slot_series(at(16, 0), at(15, 0), 10).is_err());
        assert!(slot_series(at(16, 0), at(19, 0), 1).is_err());
    }
}
