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
/// would. `None` when the patch changes nothing.
pub fn merge_into<I>(
    current: &I,
    patch: serde_json::Map<String, Value>,
) -> Result<Option<I>, crate::error::ApiError>
where
    I: serde::Serialize + serde::de::DeserializeOwned + validator::Validate + PartialEq,
{
    let mut doc = serde_json::to_value(current).map_err(crate::error::ApiError::internal)?;
    apply(&mut doc, &Value::Object(patch));
    let next: I = crate::http::extract::from_value(doc)?;
    Ok((next != *current).then_some(next))
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
