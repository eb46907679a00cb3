//! JSON Merge Patch (RFC 7396), checked against the schema of the type it edits.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::{schema::Schema, RefOr};
use utoipa::ToSchema;
use validator::Validate;

use super::check::{Checker, Schemas};
use crate::error::{ApiError, FieldError};

/// Applies `patch` to `target` in place.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                apply(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A merge patch as received: the document, and the problems found in reading it (keys given
/// twice, NUL characters), answered with the rest by `merge_into`.
#[derive(Debug, Default)]
pub struct Patch {
    /// The patch document.
    pub map: Map<String, Value>,
    /// Problems already found in it.
    pub errors: Vec<FieldError>,
}

/// Applies a merge patch to a resource's editable fields and checks the result as a create
/// would, against `I`'s own schema. `None` when the patch changes nothing. Names the patch uses
/// that the resource does not have are refused even when their value is `null` (which applying
/// alone would silently drop), and `null` on a field with no empty state (a flag, a required
/// field) is refused rather than reset to a default: every error at once.
pub fn merge_into<I>(current: &I, patch: Patch) -> Result<Option<I>, ApiError>
where
    I: Serialize + DeserializeOwned + Validate + PartialEq + ToSchema + 'static,
{
    let mut checker = Checker::body(Schemas::of::<I>());
    checker.adopt(patch.errors);
    let mut map = patch.map;
    checker.patch(&mut map);
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    apply(&mut doc, &Value::Object(map));
    let next: I = checker.finish(doc)?;
    Ok((next != *current).then_some(next))
}

/// The OpenAPI schema of a merge patch of `I`: `I`'s fields less the `fixed` ones, none
/// required, each nullable exactly when `I` allows it empty. `merge_into` judges `null` by the
/// same schema, so the document and the server agree.
pub fn patch_schema_of<I: ToSchema>(fixed: &[&str]) -> RefOr<Schema> {
    let mut schema = I::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.required.clear();
        for name in fixed {
            object.properties.remove(*name);
        }
        let except = if fixed.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = fixed.iter().map(|n| format!("`{n}`")).collect();
            format!(" but {}", names.join(", "))
        };
        object.description = Some(format!(
            "A JSON Merge Patch (RFC 7396) of `{}`: any of its fields{except}. `null` clears a \
             field that may be empty (one whose schema allows `null`); on any other it is a 400.",
            I::name()
        ));
    }
    schema
}

/// Declares a merge-patch type whose OpenAPI schema is derived from the input type it edits
/// (`patch_schema_of`), so the published patch cannot drift from what `merge_into` accepts:
///
/// ```ignore
/// patch_schema! {
///     /// A merge patch of a link.
///     pub struct LinkPatch for LinkInput, fixed ["guardian_id"];
/// }
/// ```
macro_rules! patch_schema {
    ($(#[$meta:meta])* $vis:vis struct $patch:ident for $input:ty $(, fixed [$($fixed:literal),* $(,)?])? $(;)?) => {
        $(#[$meta])*
        $vis struct $patch;

        impl utoipa::PartialSchema for $patch {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::http::merge_patch::patch_schema_of::<$input>(&[$($($fixed),*)?])
            }
        }

        impl utoipa::ToSchema for $patch {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($patch))
            }

            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                <$input as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
pub(crate) use patch_schema;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7396_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a"]), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
        ];
        for (mut target, patch, want) in cases {
            apply(&mut target, &patch);
            assert_eq!(target, want);
        }
    }
}
