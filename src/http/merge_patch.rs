//! JSON Merge Patch (RFC 7396).

use serde_json::Value;

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

/// Applies a merge patch to a resource's editable fields and checks the result as a create
/// would. `None` when the patch changes nothing. Names the patch uses that the resource does not
/// have are refused even when their value is `null` (which applying alone would silently drop).
pub fn merge_into<I>(
    current: &I,
    patch: serde_json::Map<String, Value>,
) -> Result<Option<I>, crate::error::ApiError>
where
    I: serde::Serialize
        + serde::de::DeserializeOwned
        + validator::Validate
        + PartialEq
        + utoipa::ToSchema,
{
    let schemas = crate::openapi::schemas();
    let mut unknown = Vec::new();
    unknown_names(
        schemas,
        schemas.get(I::name().as_ref()),
        &patch,
        "",
        &mut unknown,
    );
    if !unknown.is_empty() {
        return Err(crate::error::ApiError::invalid(
            unknown
                .into_iter()
                .map(|f| {
                    crate::error::FieldError::new(
                        f,
                        "unknown_field",
                        "is not a field of this resource",
                    )
                })
                .collect(),
        ));
    }
    let mut doc = serde_json::to_value(current).map_err(crate::error::ApiError::internal)?;
    apply(&mut doc, &Value::Object(patch));
    let next: I = crate::http::extract::from_value(doc)?;
    Ok((next != *current).then_some(next))
}

/// Collects the names in `patch` that the object `schema` (resolving `$ref`s and nullable
/// `oneOf`s among `schemas`) does not declare, for closed objects only.
fn unknown_names(
    schemas: &Value,
    schema: Option<&Value>,
    patch: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let Some(schema) = schema.map(|s| resolve(schemas, s)) else {
        return;
    };
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        return;
    }
    for (name, value) in patch {
        let field = format!("{prefix}{name}");
        match schema.pointer(&format!(
            "/properties/{}",
            name.replace('~', "~0").replace('/', "~1")
        )) {
            None => out.push(field),
            Some(prop) => {
                if let Value::Object(inner) = value {
                    unknown_names(schemas, Some(prop), inner, &format!("{field}."), out);
                }
            }
        }
    }
}

/// Follows a `$ref`, or the non-null arm of a nullable `oneOf`, to the schema it names.
fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return schemas
            .get(name)
            .map(|s| resolve(schemas, s))
            .unwrap_or(schema);
    }
    if let Some(arms) = schema.get("oneOf").and_then(Value::as_array) {
        if let Some(arm) = arms
            .iter()
            .find(|a| a.get("type") != Some(&Value::String("null".into())))
        {
            return resolve(schemas, arm);
        }
    }
    schema
}

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
