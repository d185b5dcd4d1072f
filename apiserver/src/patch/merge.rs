//! RFC 7386 JSON merge patch.

use super::*;

pub(super) fn apply_merge_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let mut patch: Value = serde_json::from_slice(body)
        .map_err(|e| PatchError::BadRequest(format!("error decoding patch: {e}")))?;
    match &patch {
        Value::Object(_) => {}
        // evanphx/json-patch: a `null` patch is ErrBadJSONPatch.
        Value::Null => return Err(PatchError::BadRequest("Invalid JSON Patch".into())),
        other => {
            return Err(PatchError::BadRequest(format!(
                "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type(other)
            )));
        }
    }
    // evanphx/json-patch also prunes nulls inside objects nested in arrays of the patch.
    prune_nulls_in_arrays(&mut patch, false);
    let mut doc = original.clone();
    json_patch::merge(&mut doc, &patch);
    Ok(doc)
}

fn prune_nulls_in_arrays(v: &mut Value, in_array: bool) {
    match v {
        Value::Object(m) => {
            if in_array {
                m.retain(|_, v| !v.is_null());
            }
            for (_, c) in m.iter_mut() {
                prune_nulls_in_arrays(c, in_array);
            }
        }
        Value::Array(a) => {
            for c in a.iter_mut() {
                prune_nulls_in_arrays(c, true);
            }
        }
        _ => {}
    }
}
