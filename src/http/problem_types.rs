//! Every kind of problem the API answers with, in one table: what `ApiError` writes into a
//! problem document's `type` and `title`, and what `GET /problems/<slug>` says about it.
//!
//! A problem's `type` is the URI reference `/problems/<slug>` on the service itself (RFC 9457
//! allows relative references, resolved against the request's URI), so it always resolves to the
//! page of the service that answered. This module depends on nothing else in the crate.

/// One kind of problem.
#[derive(Debug, PartialEq, Eq)]
pub struct ProblemType {
    /// The last segment of the `type` URI; stable, so clients may branch on it.
    pub slug: &'static str,
    /// The problem document's `title`, the same for every occurrence.
    pub title: &'static str,
    /// The HTTP status it comes with; `None` when it varies.
    pub status: Option<u16>,
    /// What it means.
    pub meaning: &'static str,
    /// What a client should do about it.
    pub advice: &'static str,
}

impl ProblemType {
    /// The `type` URI reference of this kind of problem.
    pub fn uri(&self) -> String {
        uri(self.slug)
    }
}

/// The `type` URI reference of the problem kind `slug`.
pub fn uri(slug: &str) -> String {
    format!("{PREFIX}{slug}")
}

/// Where the problem pages are served.
pub const PREFIX: &str = "/problems/";

macro_rules! problem_types {
    ($( $(#[$doc:meta])* $name:ident = ($slug:literal, $status:expr, $title:literal,
        $meaning:literal, $advice:literal); )*) => {
        $(
            $(#[$doc])*
            pub const $name: ProblemType = ProblemType {
                slug: $slug,
                title: $title,
                status: $status,
                meaning: $meaning,
                advice: $advice,
            };
        )*
        /// Every kind of problem, in the order the index lists them.
        pub const ALL: &[&ProblemType] = &[$(&$name),*];
    };
}

problem_types! {
    /// 400 with field errors.
    VALIDATION = ("validation", Some(400), "Invalid request",
        "Some part of the request (a body field, a query parameter, a path parameter) is not \
         valid. The `errors` list names each one with a stable `code` and a message; every \
         invalid field is reported at once.",
        "Correct each field named in `errors` and send the request again. Nothing was written.");
    /// 400 without field errors.
    BAD_REQUEST = ("bad-request", Some(400), "Bad request",
        "The request is malformed as a whole: a body that is not JSON, a header that cannot be \
         read, an `If-Match` that is not a list of entity tags.",
        "Read `detail`, fix the request and send it again. Nothing was written.");
    /// 401: no credentials, or credentials of the wrong scheme.
    UNAUTHORIZED = ("unauthorized", Some(401), "Unauthorized",
        "The request carries no usable credentials: no `Authorization` header, a scheme other \
         than `Bearer`, or a token whose caller the school no longer knows.",
        "Send `Authorization: Bearer <token>` with a token from the school's identity provider \
         (or `liaison token`).");
    /// 401: the token is not a JWT.
    TOKEN_MALFORMED = ("token-malformed", Some(401), "Malformed token",
        "The bearer token is not a well-formed JWT: three base64url parts, a JSON header and \
         a JSON object of claims.",
        "Send the token exactly as it was issued, without quotes, spaces or line breaks.");
    /// 401: the signature does not verify.
    TOKEN_BAD_SIGNATURE = ("token-bad-signature", Some(401), "Token signature does not verify",
        "The token's signature does not verify with the key this service is configured with. \
         It was signed with another key, or altered after signing.",
        "Get a token from the identity provider this service trusts; a token for another \
         environment (test, another school's deployment) will not do.");
    /// 401: signed with another algorithm than the configured one.
    TOKEN_WRONG_ALGORITHM = ("token-wrong-algorithm", Some(401), "Token algorithm not accepted",
        "The token's header names an algorithm other than the one this service is configured \
         with. The algorithm is fixed by configuration; a token never chooses it, and `none` is \
         never accepted.",
        "Have the identity provider sign tokens for this service with its configured \
         algorithm (`LIAISON_JWT_ALGORITHM`).");
    /// 401: past `exp`.
    TOKEN_EXPIRED = ("token-expired", Some(401), "Token expired",
        "The token's `exp` has passed (beyond the configured clock leeway).",
        "Get a new token and send the request again.");
    /// 401: before `nbf`.
    TOKEN_NOT_YET_VALID = ("token-not-yet-valid", Some(401), "Token not yet valid",
        "The token's `nbf` (not before) is still in the future (beyond the configured clock \
         leeway).",
        "Wait until the token becomes valid, or check the clocks of the identity provider and \
         of the client: one of them is probably wrong.");
    /// 401: a required claim is absent.
    TOKEN_MISSING_CLAIM = ("token-missing-claim", Some(401), "Token lacks a required claim",
        "The token lacks a claim this service requires; `detail` names it. Every token needs \
         `sub`, `role`, `school_id` and `exp`; a guardian's also `guardian_id`; `iss` and `aud` \
         when the service is configured to check them.",
        "Have the identity provider include the named claim.");
    /// 401: a claim has the wrong type or an unusable value.
    TOKEN_INVALID_CLAIM = ("token-invalid-claim", Some(401), "Token has an invalid claim",
        "A claim of the token has the wrong type or a value this service cannot use (an \
         unknown role, an empty `school_id`, a `guardian_id` that is not a Liaison id); \
         `detail` names it.",
        "Have the identity provider issue the named claim as the README describes it.");
    /// 401: wrong `iss`.
    TOKEN_WRONG_ISSUER = ("token-wrong-issuer", Some(401), "Token issuer not accepted",
        "The token's `iss` is not the issuer this service is configured to trust.",
        "Get a token from the identity provider this service trusts.");
    /// 401: wrong `aud`.
    TOKEN_WRONG_AUDIENCE = ("token-wrong-audience", Some(401), "Token audience not accepted",
        "The token's `aud` does not name this service: it was issued for another one.",
        "Request a token whose audience is this service.");
    /// 403.
    FORBIDDEN = ("forbidden", Some(403), "Forbidden",
        "The token is valid, but it lacks the scope this operation needs (`detail` names it), \
         or the caller's access is restricted.",
        "Use a token whose role and `scope` include the named scope. Nothing was written.");
    /// 404.
    NOT_FOUND = ("not-found", Some(404), "Not found",
        "There is no such resource, or none that this caller may know of: another school's \
         records, and for a guardian anything outside their family, answer the same way.",
        "Check the id and the path. Do not retry unchanged.");
    /// 405.
    METHOD_NOT_ALLOWED = ("method-not-allowed", Some(405), "Method not allowed",
        "The path exists, but not with this method. The `Allow` header lists the methods it \
         answers.",
        "Use one of the methods in `Allow`.");
    /// 409.
    CONFLICT = ("conflict", Some(409), "Conflict",
        "The request conflicts with what is stored: a unique value such as `external_id` is \
         taken, or a concurrent request changed the same data.",
        "Read `detail`; fetch the current state, resolve the conflict and send the request \
         again. Nothing was written.");
    /// 409 for a workflow move.
    ILLEGAL_TRANSITION = ("illegal-transition", Some(409), "Illegal transition",
        "The requested status change is not allowed from the resource's current status, or \
         not for this caller. `allowed` lists the moves that are legal now.",
        "Choose one of the moves in `allowed`, or fetch the resource to see its status.");
    /// 409: leaving an admissions stage whose required checklist items are not done.
    CHECKLIST_INCOMPLETE = ("checklist-incomplete", Some(409), "Checklist incomplete",
        "The applicant cannot move on from its stage: required checklist items of that stage \
         are not done. `errors` lists each one (`field` is `checklist.<item key>`, `message` \
         its label).",
        "Mark the listed items done (`PATCH` the applicant with `{\"checklist\": {\"<key>\": \
         true}}`) and move it again. Nothing was written.");
    /// 409: deleting an admissions stage that applicants are in.
    STAGE_IN_USE = ("stage-in-use", Some(409), "Stage in use",
        "The admissions stage cannot be deleted: applicants are in it (`detail` says how \
         many), or it is the pipeline's last open or last won stage.",
        "Move the applicants to another stage first (or keep the stage). Nothing was written.");
    /// 410: destroyed on request.
    GONE = ("gone", Some(410), "Gone",
        "The resource existed, but its content was destroyed on request (an IEP note, under \
         IDEA 34 CFR 300.624). Only a tombstone remains: its id, kind and dates, and who \
         destroyed it, when and why, which `detail` states. It will not come back.",
        "Do not retry. Remove the resource from local copies; the audit log keeps the record \
         of its destruction.");
    /// 412.
    PRECONDITION_FAILED = ("precondition-failed", Some(412), "Precondition failed",
        "The resource has changed since the version named in `If-Match`: someone else wrote \
         first.",
        "Fetch the resource again, reapply the change to its new state and send it with the \
         new `ETag` in `If-Match`. Nothing was written.");
    /// 413.
    PAYLOAD_TOO_LARGE = ("payload-too-large", Some(413), "Payload too large",
        "The request body is larger than the endpoint takes (1 MiB for JSON).",
        "Send a smaller body; split large work into several requests.");
    /// 414.
    URI_TOO_LONG = ("uri-too-long", Some(414), "URI too long",
        "The request's URI (path and query string) is longer than the service reads (8 KiB).",
        "Shorten the query: filter by fewer values per request and page through the results.");
    /// 415.
    UNSUPPORTED_MEDIA_TYPE = ("unsupported-media-type", Some(415), "Unsupported media type",
        "The body is not of a media type the endpoint takes (`application/json`, or \
         `application/merge-patch+json` for PATCH), or it is compressed: bodies are taken \
         uncompressed only.",
        "Send the body uncompressed with the `Content-Type` the endpoint documents.");
    /// 422 in general.
    UNPROCESSABLE = ("unprocessable", Some(422), "Unprocessable request",
        "The request is well-formed, but refers to something that cannot be used: a record \
         that does not exist, is archived, or belongs with another family. `errors` names the \
         field.",
        "Correct the named reference. Nothing was written.");
    /// 422: an `Idempotency-Key` reused with another body.
    IDEMPOTENCY_KEY_REUSED = ("idempotency-key-reused", Some(422), "Idempotency-Key reused",
        "This `Idempotency-Key` was already used, within the last 24 hours, for a request \
         with another body or path. A key stands for one request only.",
        "Use a new key for a new request; retry a request only with its own key and the very \
         same body.");
    /// 422: an all-or-nothing import had rows that failed, so nothing was written.
    IMPORT_FAILED = ("import-failed", Some(422), "Import failed",
        "A bulk import (`POST /v1/imports/...`) found rows it could not take. By default an \
         import is all or nothing, so nothing of the file was written. The problem document \
         carries the import's report: the counts, and for each failed row its line number and \
         its field errors (the first 1,000; `errors_truncated` says when more were cut).",
        "Correct the rows listed and send the whole file again, or send it with \
         `?mode=partial` to write the rows that are good and leave the failed ones out.");
    /// 422: the guardian may not be contacted.
    CONTACT_NOT_ALLOWED = ("contact-not-allowed", Some(422), "Contact not allowed",
        "The communication is outbound to a guardian whose `contact_allowed` is false (for \
         example under a court order): nothing may be sent to them.",
        "Do not contact this guardian. Contact the household or another guardian, and check \
         with the school before changing `contact_allowed`.");
    /// 422: contact about this student is restricted.
    CONTACT_RESTRICTED = ("contact-restricted", Some(422), "Contact restricted",
        "The communication is outbound to a guardian about a student, and their link to that \
         student is `contact_restricted`: nothing may be sent to them about this child.",
        "Do not contact this guardian about this student; contact another guardian of the \
         child.");
    /// 422: an SMS without consent.
    SMS_CONSENT_MISSING = ("sms-consent-missing", Some(422), "SMS consent missing",
        "The communication is an outbound SMS, but the guardian (or the household) has not \
         agreed to text messages (`sms_opt_in` is false).",
        "Use another channel, or record the guardian's consent (`sms_opt_in: true`) first.");
    /// 422: an IEP note for a student without an IEP.
    NO_IEP = ("no-iep", Some(422), "Student has no IEP",
        "IEP collaboration notes are kept only for a student with an IEP, and this student's \
         `has_iep` is false.",
        "Check the student. If the student now has an IEP, set `has_iep: true` on the student \
         first (families:write), then write the note. Nothing was written.");
    /// 429.
    RATE_LIMITED = ("rate-limited", Some(429), "Too many requests",
        "The caller sent more requests of this kind (reads, writes or imports; or failed token \
         requests) than its quota allows. The `RateLimit-*` header fields of every `/v1` answer \
         say how much of the quota is left; `Retry-After` says when to try again.",
        "Wait the seconds in `Retry-After`, then send the request again; spread large jobs \
         out, or ask the school to raise the quota. Nothing was written.");
    /// 431.
    HEADERS_TOO_LARGE = ("headers-too-large", Some(431), "Request headers too large",
        "The request's header fields together are larger than the service reads (16 KiB).",
        "Send fewer or shorter headers; large cookies or tokens are the usual cause.");
    /// 500.
    INTERNAL = ("internal", Some(500), "Internal server error",
        "The service failed in a way it did not expect. The cause is logged with the request \
         id; it is never sent.",
        "Retry later. If it persists, report it quoting `request_id`.");
    /// 503.
    UNAVAILABLE = ("unavailable", Some(503), "Service unavailable",
        "The database is not answering.",
        "Retry after the delay in `Retry-After`.");
    /// Any other status a component answered with.
    HTTP_ERROR = ("http-error", None, "HTTP error",
        "The HTTP layer refused the request with a status that has no problem type of its \
         own; `status` and `detail` say which.",
        "Read `detail`. Most often the request itself is at fault.");
}

/// The problem kind named `slug`, if there is one.
pub fn find(slug: &str) -> Option<&'static ProblemType> {
    ALL.iter().copied().find(|p| p.slug == slug)
}

/// The kind of problem for a bare HTTP status (a component's refusal): the one kind that stands
/// for that status in general, else `HTTP_ERROR`.
pub fn for_status(status: u16) -> &'static ProblemType {
    const GENERAL: [&ProblemType; 16] = [
        &BAD_REQUEST,
        &UNAUTHORIZED,
        &FORBIDDEN,
        &NOT_FOUND,
        &METHOD_NOT_ALLOWED,
        &CONFLICT,
        &GONE,
        &PRECONDITION_FAILED,
        &PAYLOAD_TOO_LARGE,
        &URI_TOO_LONG,
        &UNSUPPORTED_MEDIA_TYPE,
        &UNPROCESSABLE,
        &HEADERS_TOO_LARGE,
        &RATE_LIMITED,
        &INTERNAL,
        &UNAVAILABLE,
    ];
    GENERAL
        .into_iter()
        .find(|p| p.status == Some(status))
        .unwrap_or(&HTTP_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_url_safe() {
        let mut seen = std::collections::HashSet::new();
        for p in ALL {
            assert!(seen.insert(p.slug), "{} twice", p.slug);
            assert!(
                !p.slug.is_empty() && p.slug.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                p.slug
            );
            assert!(!p.title.is_empty() && !p.meaning.is_empty() && !p.advice.is_empty());
            assert_eq!(find(p.slug), Some(*p));
        }
        assert_eq!(find("nothing-such"), None);
        assert_eq!(VALIDATION.uri(), "/problems/validation");
    }

    /// The README's table of problem types names every slug, so clients can find them all.
    #[test]
    fn the_readme_lists_every_slug() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        for p in ALL {
            assert!(
                readme.contains(&format!("| `{}` |", p.slug)),
                "README.md does not list the problem type `{}`",
                p.slug
            );
        }
    }

    #[test]
    fn bare_statuses_map_to_their_general_kind() {
        assert_eq!(for_status(404).slug, "not-found");
        assert_eq!(for_status(414).slug, "uri-too-long");
        assert_eq!(for_status(431).slug, "headers-too-large");
        assert_eq!(for_status(418).slug, "http-error");
        assert_eq!(for_status(400).slug, "bad-request");
    }
}
