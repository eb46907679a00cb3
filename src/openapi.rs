//! The OpenAPI document: a base (info, security scheme, shared schemas) that the registered
//! handlers complete.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Liaison",
        description = "The system of record and JSON API for a school's family relations: families, \
guardians, students and the links between them, every contact with them, and the concerns they raise.\n\nEvery `/v1` request carries \
`Authorization: Bearer <JWT>`; each operation names the scope it needs. Errors are RFC 9457 \
`application/problem+json`. Lists are keyset-paginated with `limit` and `cursor`. Single \
resources carry `version` and an `ETag`; PATCH (JSON Merge Patch) and DELETE honour `If-Match`. \
Creating POSTs honour `Idempotency-Key`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Security),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "families", description = "Households and their contact preferences."),
        (name = "guardians", description = "The adults of a family."),
        (name = "students", description = "The children of a family."),
        (name = "links", description = "Which adult stands in which relation to which child."),
        (name = "communications", description = "Every contact with a family, logged."),
        (name = "concerns", description = "What families and staff raise, worked from open to closed."),
        (name = "settings", description = "A school's settings."),
        (name = "service", description = "Liveness, readiness and this document."),
    )
)]
struct Base;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The base the handlers are added to.
pub fn base() -> Document {
    Base::openapi()
}

/// Final touches once the handlers are in.
pub fn finish(api: Document) -> Document {
    api
}

/// The complete document, as `/v1/openapi.json` serves it.
pub fn document() -> Document {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes::configure)
        .split_for_parts();
    finish(api)
}

/// The document as pretty JSON, as committed in `openapi/v1.json`.
pub fn to_json(api: &Document) -> String {
    api.to_pretty_json().unwrap_or_default()
}
