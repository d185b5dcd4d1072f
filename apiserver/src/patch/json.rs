//! RFC 6902 JSON patch, one operation at a time, with Go's (evanphx/json-patch v4) error texts.

use super::*;

const JSON_PATCH_OPS: [&str; 6] = ["add", "remove", "replace", "move", "copy", "test"];

pub(super) fn apply_json_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let decode_err = |m: String| PatchError::BadRequest(format!("error decoding patch: {m}"));
    let parsed: Value = serde_json::from_slice(body).map_err(|e| decode_err(e.to_string()))?;
    let ops = match parsed {
        Value::Null => Vec::new(),
        Value::Array(a) => a,
        other => {
            return Err(decode_err(format!(
                "json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
                json_type(&other)
            )));
        }
    };
    for op in &ops {
        match op {
            Value::Null => {}
            Value::Object(m) => {
                for f in ["op", "path", "from"] {
                    if let Some(v) = m.get(f).filter(|v| !v.is_null() && !v.is_string()) {
                        return Err(decode_err(format!(
                            "json: cannot unmarshal {} into Go struct field jsonPatchOp.{f} of type string",
                            json_type(v)
                        )));
                    }
                }
            }
            other => {
                return Err(decode_err(format!(
                    "json: cannot unmarshal {} into Go value of type handlers.jsonPatchOp",
                    json_type(other)
                )));
            }
        }
    }
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.len()
        )));
    }
    let mut doc = original.clone();
    let mut copied = 0;
    for op in ops {
        apply_one_json_patch_op(&mut doc, op, &mut copied)?;
    }
    Ok(doc)
}

/// `copied`: what the patch's `copy` operations added so far, in bytes of JSON (at most
/// [`MAX_JSON_PATCH_COPY_BYTES`], as evanphx/json-patch counts under kube-apiserver).
fn apply_one_json_patch_op(
    doc: &mut Value,
    op: Value,
    copied: &mut usize,
) -> Result<(), PatchError> {
    let mut m = match op {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let kind = m
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    if !JSON_PATCH_OPS.contains(&kind.as_str()) {
        return Err(PatchError::invalid(format!("Unexpected kind: {kind}")));
    }
    let path = match m.get("path") {
        None => {
            return Err(PatchError::invalid(format!(
                "{kind} operation failed to decode path: operation missing path field: missing value"
            )));
        }
        Some(v) => v.as_str().unwrap_or("").to_string(),
    };
    // evanphx/json-patch rejects "" and paths without a leading '/' as missing.
    if !path.starts_with('/') {
        return Err(PatchError::invalid(missing_path_message(&kind, &path)));
    }
    let from = m.get("from").and_then(Value::as_str).map(str::to_string);
    if matches!(kind.as_str(), "move" | "copy") {
        let f = from.clone().unwrap_or_default();
        if !f.starts_with('/') {
            return Err(PatchError::invalid(missing_from_message(&kind, &f)));
        }
    }
    if matches!(kind.as_str(), "add" | "replace" | "test") && !m.contains_key("value") {
        m.insert("value".into(), Value::Null);
    }
    if kind == "copy"
        && let Some(value) = from.as_deref().and_then(|f| doc.pointer(f))
    {
        *copied += json_size(value);
        if *copied > MAX_JSON_PATCH_COPY_BYTES {
            return Err(PatchError::invalid(format!(
                "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MAX_JSON_PATCH_COPY_BYTES}"
            )));
        }
    }
    let parsed: json_patch::PatchOperation = serde_json::from_value(Value::Object(m))
        .map_err(|e| PatchError::invalid(format!("{kind} operation failed to decode: {e}")))?;
    json_patch::patch(doc, std::slice::from_ref(&parsed)).map_err(|e| {
        let msg = match e.kind {
            json_patch::PatchErrorKind::TestFailed => {
                format!("testing value {path} failed: test failed")
            }
            json_patch::PatchErrorKind::InvalidFromPointer => {
                missing_from_message(&kind, from.as_deref().unwrap_or(""))
            }
            json_patch::PatchErrorKind::CannotMoveInsideItself => format!(
                "move operation does not apply: cannot move {} inside itself to {path}",
                from.as_deref().unwrap_or("")
            ),
            _ => missing_path_message(&kind, &path),
        };
        PatchError::invalid(msg)
    })
}

fn missing_path_message(kind: &str, path: &str) -> String {
    match kind {
        "add" => {
            format!("add operation does not apply: doc is missing path: \"{path}\": missing value")
        }
        "remove" => format!(
            "remove operation does not apply: doc is missing path: \"{path}\": missing value"
        ),
        "replace" => {
            format!("replace operation does not apply: doc is missing key: {path}: missing value")
        }
        "test" => format!("test operation does not apply: is missing path: {path}: missing value"),
        other => format!(
            "{other} operation does not apply: doc is missing destination path: {path}: missing value"
        ),
    }
}

fn missing_from_message(kind: &str, from: &str) -> String {
    if kind == "copy" {
        format!(
            "copy operation does not apply: doc is missing from path: \"{from}\": missing value"
        )
    } else {
        format!("{kind} operation does not apply: doc is missing from path: {from}: missing value")
    }
}

/// The length of `value` as compact JSON, counted without writing it.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}
