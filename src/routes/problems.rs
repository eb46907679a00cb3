//! The pages that problem `type` URIs resolve to: `GET /problems` (the index) and
//! `GET /problems/{slug}`. They need no token. JSON by default; HTML for a client that prefers it
//! (a browser following the link from a problem document).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::problem_types::{self, ProblemType};

/// What one kind of problem means.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemTypeDoc {
    /// The `type` of problem documents of this kind.
    #[schema(example = "/problems/precondition-failed")]
    #[serde(rename = "type")]
    pub type_: String,
    /// The last segment of `type`.
    #[schema(example = "precondition-failed")]
    pub slug: String,
    /// The `title` of problem documents of this kind.
    #[schema(example = "Precondition failed")]
    pub title: String,
    /// The HTTP status that comes with it; `null` when it varies.
    #[schema(example = 412)]
    pub status: Option<u16>,
    /// What it means.
    pub meaning: String,
    /// What a client should do about it.
    pub what_to_do: String,
}

impl From<&ProblemType> for ProblemTypeDoc {
    fn from(p: &ProblemType) -> Self {
        ProblemTypeDoc {
            type_: p.uri(),
            slug: p.slug.into(),
            title: p.title.into(),
            status: p.status,
            meaning: p.meaning.into(),
            what_to_do: p.advice.into(),
        }
    }
}

/// Every kind of problem the API answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemTypeIndex {
    /// The kinds, in a fixed order.
    pub data: Vec<ProblemTypeDoc>,
}

/// The `slug` path parameter, listing the slugs that exist.
struct Slug;

impl utoipa::IntoParams for Slug {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(problem_types::ALL.iter().map(|p| p.slug)));
        vec![ParameterBuilder::new()
            .name("slug")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("The last segment of a problem's `type`."))
            .schema(Some(schema))
            .build()]
    }
}

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_problem_types).service(get_problem_type);
}

/// Every kind of problem
///
/// The index of the pages that problem `type` URIs resolve to. Needs no token. HTML when the
/// client prefers `text/html`, JSON otherwise.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "Every kind of problem", content(
            (ProblemTypeIndex = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "Unexpected query parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems")]
pub async fn list_problem_types(req: HttpRequest) -> HttpResponse {
    if prefers_html(&req) {
        let items: String = problem_types::ALL
            .iter()
            .map(|p| {
                format!(
                    "<li><a href=\"{}\">{}</a> — {}{}</li>\n",
                    p.uri(),
                    p.slug,
                    html(p.title),
                    p.status.map(|s| format!(" ({s})")).unwrap_or_default()
                )
            })
            .collect();
        return page(
            "Problem types",
            &format!(
                "<h1>Problem types</h1>\n<p>Every error of this API is an RFC 9457 \
                 <code>application/problem+json</code> document whose <code>type</code> is one \
                 of these.</p>\n<ul>\n{items}</ul>"
            ),
        );
    }
    json(&ProblemTypeIndex {
        data: problem_types::ALL.iter().map(|p| (*p).into()).collect(),
    })
}

/// What a kind of problem means
///
/// The page a problem's `type` resolves to: what the problem means and what to do about it.
/// Needs no token. HTML when the client prefers `text/html`, JSON otherwise.
#[utoipa::path(
    tag = "service",
    params(Slug),
    responses(
        (status = 200, description = "The kind of problem", content(
            (ProblemTypeDoc = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "Unexpected query parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind of problem", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems/{slug}")]
pub async fn get_problem_type(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // Read from the route rather than a `web::Path` argument: utoipa would document such an
    // argument as a second `slug` parameter beside `Slug`'s, and a document that lists one
    // parameter twice is not valid OpenAPI (generated clients refuse it).
    let slug = req.match_info().get("slug").unwrap_or_default();
    let p = problem_types::find(slug).ok_or(ApiError::NotFound)?;
    if prefers_html(&req) {
        let status = p
            .status
            .map(|s| format!("<p>HTTP status: {s}</p>\n"))
            .unwrap_or_default();
        return Ok(page(
            p.title,
            &format!(
                "<h1>{title}</h1>\n<p><code>type</code>: <code>{uri}</code></p>\n{status}\
                 <h2>What it means</h2>\n<p>{meaning}</p>\n<h2>What to do</h2>\n<p>{advice}</p>\n\
                 <p><a href=\"/problems\">Every problem type</a></p>",
                title = html(p.title),
                uri = p.uri(),
                meaning = html(p.meaning),
                advice = html(p.advice),
            ),
        ));
    }
    Ok(json(&ProblemTypeDoc::from(p)))
}

/// Whether the client ranks `text/html` above `application/json` in `Accept` (RFC 9110
/// §12.5.1: the most specific matching range gives each its quality). Ties go to JSON, so
/// `*/*` and no `Accept` at all get JSON.
fn prefers_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let quality = |ty: &str, sub: &str| -> f32 {
        let mut best: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let (rt, rs) = media.split_once('/').unwrap_or((media.as_str(), ""));
            let specificity = match (rt, rs) {
                _ if rt == ty && rs == sub => 3,
                _ if rt == ty && rs == "*" => 2,
                ("*", "*") => 1,
                _ => continue,
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    quality("text", "html") > quality("application", "json")
}

fn json<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::VARY, HeaderValue::from_static("Accept")))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(body)
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, HeaderValue::from_static("Accept")))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <title>{} — Liaison</title></head>\n<body>\n{body}\n</body>\n</html>\n",
            html(title)
        ))
}

/// Escapes text for HTML and sets `code` in backticks as code.
fn html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}
