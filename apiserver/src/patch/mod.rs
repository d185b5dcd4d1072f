//! JSON patch, JSON merge patch and strategic merge patch.
//!
//! [`apply`] applies a PATCH request body to the current object (already converted to the
//! request version, as JSON) the way k8s.io/apiserver's `handlers/patch.go` does:
//!
//! * `application/json-patch+json` (RFC 6902) via the `json-patch` crate, one operation at a time
//!   so the first failing operation is the one reported, with Go-like (evanphx/json-patch v4)
//!   error texts; at most [`MAX_JSON_PATCH_OPERATIONS`] operations (413 beyond).
//! * `application/merge-patch+json` (RFC 7386) via `json_patch::merge`.
//! * `application/strategic-merge-patch+json`: a port of apimachinery's
//!   `strategicpatch.StrategicMergeMapPatch` (apply half) driven by a [`PatchSchema`] — either
//!   [`NoSchema`] or [`OpenApiPatchSchema`] (OpenAPI v3 component schemas with
//!   `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, and additionally
//!   `x-kubernetes-list-type: map` + `x-kubernetes-list-map-keys`).
//!
//! Error classes follow Go: malformed bodies are 400 BadRequest, JSON-patch operation failures
//! (failed `test`, missing path, unknown op) are 422 Invalid with the generic message
//! "the server rejected our request due to an error in our request" and the detail as a cause,
//! too many operations is 413, and strategic-merge failures Go does not classify (e.g. a list
//! element without its merge key) are a plain 500 (Status reason empty), exactly as
//! `kubectl` shows them ("Error from server: map: map[…] does not contain declared merge key:
//! name").
//!
//! Known deviations from Go, all due to the server storing unstructured JSON instead of decoding
//! into a Go struct afterwards: values copied verbatim from a strategic merge patch (new keys,
//! replaced lists/maps) are cleaned of `null`s and of left-over directive keys (`$patch`,
//! `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`), which is what Go's typed
//! decoding achieves implicitly.

use serde_json::{Map, Value};

mod json;
mod merge;
mod strategic;

use json::apply_json_patch;
use merge::apply_merge_patch;
pub use strategic::strategic_merge;

/// Go's `maxJSONPatchOperations`.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// How much a JSON patch's `copy` operations may add, in bytes of JSON, all together
/// (kube-apiserver's `JSONPatchMaxCopyBytes`, 3 MiB): without a bound, a few dozen copies of a
/// value into itself double it each time, beyond any memory.
pub const MAX_JSON_PATCH_COPY_BYTES: usize = 3 * 1024 * 1024;

/// Status message Go uses for JSON-patch application failures and other 422s built with
/// `errors.NewGenericServerResponse(422, …)`.
pub const INVALID_GENERIC_MESSAGE: &str =
    "the server rejected our request due to an error in our request";

/// The patch types an API server accepts (server-side apply excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    StrategicMerge,
    /// `application/apply-patch+yaml`: a server-side apply (YAML or JSON), which the registry's
    /// field manager merges rather than [`apply`].
    Apply,
}

impl PatchType {
    /// Maps a `Content-Type` header (parameters such as `; charset=utf-8` ignored,
    /// case-insensitive) to a patch type. `None` means 415 UnsupportedMediaType.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let media = ct.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/json-patch+json") {
            Some(PatchType::Json)
        } else if media.eq_ignore_ascii_case("application/merge-patch+json") {
            Some(PatchType::Merge)
        } else if media.eq_ignore_ascii_case("application/strategic-merge-patch+json") {
            Some(PatchType::StrategicMerge)
        } else if media.eq_ignore_ascii_case("application/apply-patch+yaml") {
            Some(PatchType::Apply)
        } else {
            None
        }
    }

    /// The media type of this patch type.
    pub fn content_type(&self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// Why a patch could not be applied, classified like the Go API server classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// 400 BadRequest: the body is malformed (not JSON, wrong shape, bad directive format).
    BadRequest(String),
    /// 413 RequestEntityTooLarge: too many JSON-patch operations.
    TooLarge(String),
    /// 422 Invalid. `message` is the Status message; `cause`, when present, is the detailed
    /// error Go puts in `details.causes[0]` with `type: "UnexpectedServerResponse"`.
    Invalid {
        message: String,
        cause: Option<String>,
    },
    /// A plain (non-Status) error in Go: 500 with an empty (Unknown) reason.
    Internal(String),
}

impl PatchError {
    fn invalid(cause: impl Into<String>) -> Self {
        PatchError::Invalid {
            message: INVALID_GENERIC_MESSAGE.to_string(),
            cause: Some(cause.into()),
        }
    }

    /// HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::TooLarge(_) => 413,
            PatchError::Invalid { .. } => 422,
            PatchError::Internal(_) => 500,
        }
    }

    /// `Status.reason` (`""` = StatusReasonUnknown, which Go uses for plain errors).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::TooLarge(_) => "RequestEntityTooLarge",
            PatchError::Invalid { .. } => "Invalid",
            PatchError::Internal(_) => "",
        }
    }

    /// `Status.message`.
    pub fn message(&self) -> &str {
        match self {
            PatchError::BadRequest(m) | PatchError::TooLarge(m) | PatchError::Internal(m) => m,
            PatchError::Invalid { message, .. } => message,
        }
    }

    /// Detail for `details.causes` (type `UnexpectedServerResponse`), if any.
    pub fn cause(&self) -> Option<&str> {
        match self {
            PatchError::Invalid { cause, .. } => cause.as_deref(),
            _ => None,
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cause() {
            Some(c) => write!(f, "{}: {c}", self.message()),
            None => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for PatchError {}

/// Patch metadata of one field, as read from the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPatchMeta {
    /// `x-kubernetes-patch-strategy`: "merge", "retainKeys", "merge,retainKeys", "replace".
    pub strategy: Option<String>,
    /// `x-kubernetes-patch-merge-key`.
    pub merge_key: Option<String>,
    /// `x-kubernetes-list-type`: "atomic", "set", "map".
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
}

/// Where strategic merge patch gets its per-field metadata from.
pub trait PatchSchema {
    /// Metadata of the field reached by `path`: JSON property names from the object root
    /// (list elements don't add a segment; map values of `additionalProperties` maps do, with the
    /// map key as segment).
    fn field(&self, path: &[&str]) -> FieldPatchMeta;
}

/// No metadata: maps merge, lists are replaced.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSchema;

impl PatchSchema for NoSchema {
    fn field(&self, _path: &[&str]) -> FieldPatchMeta {
        FieldPatchMeta::default()
    }
}

/// Patch metadata read from OpenAPI v3 component schemas (`#/components/schemas/<name>`, also
/// accepting `#/definitions/<name>`), starting at definition `root`.
#[derive(Debug, Clone)]
pub struct OpenApiPatchSchema {
    schemas: Map<String, Value>,
    root: String,
}

const MAX_REF_HOPS: usize = 64;

impl OpenApiPatchSchema {
    /// `schemas` maps definition names to schemas; `root` is the definition of the patched kind.
    pub fn new(schemas: &Map<String, Value>, root: &str) -> Self {
        OpenApiPatchSchema {
            schemas: schemas.clone(),
            root: root.to_string(),
        }
    }

    fn deref<'a>(&'a self, s: &'a Value) -> Option<&'a Value> {
        let r = s.get("$ref")?.as_str()?;
        let name = r
            .strip_prefix("#/components/schemas/")
            .or_else(|| r.strip_prefix("#/definitions/"))
            .unwrap_or(r);
        self.schemas.get(name)
    }

    /// Follows `$ref` and single-element `allOf` wrappers. `None` for unknown refs.
    fn resolve<'a>(&'a self, mut s: &'a Value) -> Option<&'a Value> {
        for _ in 0..MAX_REF_HOPS {
            if s.get("$ref").is_some() {
                s = self.deref(s)?;
                continue;
            }
            match s.get("allOf").and_then(Value::as_array) {
                Some(all)
                    if all.len() == 1
                        && s.get("properties").is_none()
                        && s.get("items").is_none()
                        && s.get("additionalProperties").is_none() =>
                {
                    s = &all[0];
                }
                _ => return Some(s),
            }
        }
        None
    }

    /// The schema of property `seg` of `schema` (arrays are looked through).
    fn property<'a>(&'a self, schema: &'a Value, seg: &str, depth: usize) -> Option<&'a Value> {
        if depth > MAX_REF_HOPS {
            return None;
        }
        let s = self.resolve(schema)?;
        if let Some(items) = s.get("items").filter(|i| i.is_object()) {
            return self.property(items, seg, depth + 1);
        }
        if let Some(p) = s.get("properties").and_then(|p| p.get(seg)) {
            return Some(p);
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for member in all {
                if let Some(p) = self.property(member, seg, depth + 1) {
                    return Some(p);
                }
            }
        }
        s.get("additionalProperties").filter(|a| a.is_object())
    }

    /// An extension of a property schema, looking through its `$ref`/`allOf` chain.
    fn extension<'a>(&'a self, prop: &'a Value, key: &str) -> Option<&'a Value> {
        let mut cur = prop;
        for _ in 0..MAX_REF_HOPS {
            if let Some(v) = cur.get(key) {
                return Some(v);
            }
            if cur.get("$ref").is_some() {
                cur = self.deref(cur)?;
            } else if let Some(all) = cur.get("allOf").and_then(Value::as_array) {
                cur = all.first()?;
            } else {
                return None;
            }
        }
        None
    }
}

impl PatchSchema for OpenApiPatchSchema {
    fn field(&self, path: &[&str]) -> FieldPatchMeta {
        let Some(mut cur) = self.schemas.get(&self.root) else {
            return FieldPatchMeta::default();
        };
        if path.is_empty() {
            return FieldPatchMeta::default();
        }
        for seg in path {
            match self.property(cur, seg, 0) {
                Some(p) => cur = p,
                None => return FieldPatchMeta::default(),
            }
        }
        let s = |k: &str| {
            self.extension(cur, k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        FieldPatchMeta {
            strategy: s("x-kubernetes-patch-strategy"),
            merge_key: s("x-kubernetes-patch-merge-key"),
            list_type: s("x-kubernetes-list-type"),
            list_map_keys: self
                .extension(cur, "x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Applies a PATCH body of type `kind` to `original`.
pub fn apply(
    kind: PatchType,
    original: &Value,
    patch: &[u8],
    schema: &dyn PatchSchema,
) -> Result<Value, PatchError> {
    match kind {
        PatchType::Json => apply_json_patch(original, patch),
        PatchType::Merge => apply_merge_patch(original, patch),
        PatchType::StrategicMerge => {
            let p: Value =
                serde_json::from_slice(patch).map_err(|e| PatchError::BadRequest(e.to_string()))?;
            strategic_merge(original, &p, schema)
        }
        PatchType::Apply => Err(PatchError::BadRequest(
            "a server-side apply is merged by the field manager, not applied as a patch".into(),
        )),
    }
}

/// How Go's `fmt.Sprintf("%+v", v)` prints `v` decoded from JSON into `interface{}` (integers
/// kept as `int64`, as Kubernetes decodes patches): `map[spec:map[replicas:3 tags:[a b]]]`, keys
/// sorted, `<nil>` for null. Go names a strategic merge patch that does not decode this way.
pub(crate) fn go_format(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Null => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => out.push_str(&i.to_string()),
                (None, Some(f)) => out.push_str(&go_float(f)),
                (None, None) => out.push_str(&n.to_string()),
            },
            Value::String(s) => out.push_str(s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push_str("map[");
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    write(&map[k], out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// A float as Go's `%v` prints it (`strconv`'s shortest `%g`): in exponent form below 1e-4 or
/// from 1e6 on (`1.5e+06`, `1e-05`).
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    // Rust writes `1.5e6` and `1e-5`; Go `1.5e+06` and `1e-05`.
    let s = format!("{f:e}");
    let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// The JSON type name Go's `encoding/json` uses in "cannot unmarshal X" errors.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod go_format_tests {
    use serde_json::json;

    #[test]
    fn values_print_as_gos_percent_v() {
        let v = json!({"spec": {"b": [1, "x", true, null], "a": 1.5, "big": 1234567.5, "small": 0.00001}});
        assert_eq!(
            super::go_format(&v),
            "map[spec:map[a:1.5 b:[1 x true <nil>] big:1.2345675e+06 small:1e-05]]"
        );
        assert_eq!(super::go_format(&json!(100000.5)), "100000.5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(original: Value, patch: Value, schema: &dyn PatchSchema) -> Result<Value, PatchError> {
        apply(
            PatchType::StrategicMerge,
            &original,
            patch.to_string().as_bytes(),
            schema,
        )
    }

    /// A schema given as (path, meta) pairs.
    struct TestSchema(Vec<(&'static str, FieldPatchMeta)>);

    impl PatchSchema for TestSchema {
        fn field(&self, path: &[&str]) -> FieldPatchMeta {
            let p = path.join(".");
            self.0
                .iter()
                .find(|(k, _)| *k == p)
                .map(|(_, m)| m.clone())
                .unwrap_or_default()
        }
    }

    fn merge_by(key: &str) -> FieldPatchMeta {
        FieldPatchMeta {
            strategy: Some("merge".into()),
            merge_key: Some(key.into()),
            ..Default::default()
        }
    }

    fn merge_set() -> FieldPatchMeta {
        FieldPatchMeta {
            strategy: Some("merge".into()),
            ..Default::default()
        }
    }

    fn schema() -> TestSchema {
        TestSchema(vec![
            ("spec.containers", merge_by("name")),
            ("spec.containers.ports", merge_by("containerPort")),
            ("metadata.finalizers", merge_set()),
            (
                "spec.receivers",
                FieldPatchMeta {
                    list_type: Some("map".into()),
                    list_map_keys: vec!["name".into()],
                    ..Default::default()
                },
            ),
            (
                "spec.endpoints",
                FieldPatchMeta {
                    list_type: Some("map".into()),
                    list_map_keys: vec!["host".into(), "port".into()],
                    ..Default::default()
                },
            ),
            (
                "spec.strategy",
                FieldPatchMeta {
                    strategy: Some("retainKeys".into()),
                    ..Default::default()
                },
            ),
            (
                "spec.selector",
                FieldPatchMeta {
                    strategy: Some("replace".into()),
                    ..Default::default()
                },
            ),
        ])
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/json-patch+json"),
            Some(PatchType::Json)
        );
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("Application/Strategic-Merge-Patch+JSON"),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+cbor"),
            None
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
        for t in [
            PatchType::Json,
            PatchType::Merge,
            PatchType::StrategicMerge,
            PatchType::Apply,
        ] {
            assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
        }
    }

    // ---------------------------------------------------------------- JSON patch

    fn jp(original: Value, patch: &str) -> Result<Value, PatchError> {
        apply(PatchType::Json, &original, patch.as_bytes(), &NoSchema)
    }

    #[test]
    fn json_patch_ops() {
        let orig = json!({"spec": {"a": 1, "list": [1, 2]}, "metadata": {"name": "x"}});
        let out = jp(
            orig.clone(),
            r#"[
                {"op":"test","path":"/spec/a","value":1},
                {"op":"replace","path":"/spec/a","value":2},
                {"op":"add","path":"/spec/list/-","value":3},
                {"op":"add","path":"/spec/b","value":{"c":true}},
                {"op":"remove","path":"/spec/list/0"},
                {"op":"copy","from":"/metadata/name","path":"/spec/name"},
                {"op":"move","from":"/spec/b","path":"/spec/moved"}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"a": 2, "list": [2, 3], "name": "x", "moved": {"c": true}},
                   "metadata": {"name": "x"}})
        );
        // null patch: no-op.
        assert_eq!(jp(orig.clone(), "null").unwrap(), orig);
        assert_eq!(jp(orig.clone(), "[]").unwrap(), orig);
    }

    #[test]
    fn json_patch_failures() {
        let orig = json!({"spec": {"a": 1}});
        // Failed test: 422 with the generic message and the detail as cause.
        let e = jp(
            orig.clone(),
            r#"[{"op":"test","path":"/spec/a","value":2}]"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(e.reason(), "Invalid");
        assert_eq!(e.message(), INVALID_GENERIC_MESSAGE);
        assert_eq!(e.cause(), Some("testing value /spec/a failed: test failed"));

        // Unknown op.
        let e = jp(orig.clone(), r#"[{"op":"frobnicate","path":"/spec/a"}]"#).unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(e.cause(), Some("Unexpected kind: frobnicate"));
        let e = jp(orig.clone(), r#"[{"path":"/spec/a"}]"#).unwrap_err();
        assert_eq!(e.cause(), Some("Unexpected kind: unknown"));

        // Bad paths.
        let e = jp(
            orig.clone(),
            r#"[{"op":"replace","path":"/spec/nope","value":1}]"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.cause(),
            Some("replace operation does not apply: doc is missing key: /spec/nope: missing value")
        );
        let e = jp(orig.clone(), r#"[{"op":"add","path":"/nope/x","value":1}]"#).unwrap_err();
        assert_eq!(
            e.cause(),
            Some("add operation does not apply: doc is missing path: \"/nope/x\": missing value")
        );
        let e = jp(orig.clone(), r#"[{"op":"remove","path":"spec"}]"#).unwrap_err();
        assert_eq!(e.code(), 422);
        let e = jp(orig.clone(), r#"[{"op":"replace","path":"","value":{}}]"#).unwrap_err();
        assert_eq!(e.code(), 422, "Go rejects the root path");
        let e = jp(orig.clone(), r#"[{"op":"remove"}]"#).unwrap_err();
        assert_eq!(
            e.cause(),
            Some(
                "remove operation failed to decode path: operation missing path field: missing value"
            )
        );
        let e = jp(orig.clone(), r#"[{"op":"move","from":"/x","path":"/y"}]"#).unwrap_err();
        assert_eq!(
            e.cause(),
            Some("move operation does not apply: doc is missing from path: /x: missing value")
        );

        // The first failing operation wins; nothing is half-applied (we return an error).
        let e = jp(
            orig.clone(),
            r#"[{"op":"replace","path":"/spec/a","value":5},{"op":"test","path":"/spec/a","value":1}]"#,
        )
        .unwrap_err();
        assert_eq!(e.cause(), Some("testing value /spec/a failed: test failed"));
    }

    #[test]
    fn json_patch_malformed_bodies() {
        let orig = json!({});
        let e = jp(orig.clone(), "not json").unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.reason(), "BadRequest");
        assert!(e.message().starts_with("error decoding patch: "), "{e}");
        let e = jp(orig.clone(), r#"{"op":"add"}"#).unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(
            e.message(),
            "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"
        );
        let e = jp(orig.clone(), r#"["add"]"#).unwrap_err();
        assert_eq!(e.code(), 400);
        let e = jp(orig.clone(), r#"[{"op":1,"path":"/a"}]"#).unwrap_err();
        assert_eq!(
            e.message(),
            "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"
        );
    }

    #[test]
    fn json_patch_operation_limit() {
        let op = r#"{"op":"test","path":"/a","value":1}"#;
        let ok = format!("[{}]", vec![op; MAX_JSON_PATCH_OPERATIONS].join(","));
        assert!(jp(json!({"a": 1}), &ok).is_ok());
        let too_many = format!("[{}]", vec![op; MAX_JSON_PATCH_OPERATIONS + 1].join(","));
        let e = jp(json!({"a": 1}), &too_many).unwrap_err();
        assert_eq!(e.code(), 413);
        assert_eq!(e.reason(), "RequestEntityTooLarge");
        assert_eq!(
            e.message(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
    }

    // ---------------------------------------------------------------- merge patch

    fn mp(original: Value, patch: &str) -> Result<Value, PatchError> {
        apply(PatchType::Merge, &original, patch.as_bytes(), &NoSchema)
    }

    #[test]
    fn merge_patch() {
        let orig = json!({"metadata": {"name": "a", "labels": {"x": "1", "y": "2"}},
                          "spec": {"list": [1, 2], "m": {"k": "v"}}});
        let out = mp(
            orig,
            r#"{"metadata":{"labels":{"x":null,"z":"3"}},"spec":{"list":[3],"new":{"a":null,"b":1},"objs":[{"a":null,"b":2}]}}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"name": "a", "labels": {"y": "2", "z": "3"}},
                   "spec": {"list": [3], "m": {"k": "v"}, "new": {"b": 1}, "objs": [{"b": 2}]}})
        );
    }

    #[test]
    fn merge_patch_malformed() {
        let e = mp(json!({}), "{").unwrap_err();
        assert_eq!(e.code(), 400);
        let e = mp(json!({}), "[1]").unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(
            e.message(),
            "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        let e = mp(json!({}), "null").unwrap_err();
        assert_eq!(e.message(), "Invalid JSON Patch");
        let e = mp(json!({}), "\"s\"").unwrap_err();
        assert_eq!(e.code(), 400);
    }

    // ---------------------------------------------------------------- strategic merge patch

    #[test]
    fn smp_maps_merge_and_null_deletes() {
        let orig =
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1, "y": {"z": 1}}});
        let out = smp(
            orig,
            json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"y": null, "w": {"q": null, "r": 1}}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"x": 1, "w": {"r": 1}}})
        );
    }

    #[test]
    fn smp_lists_replaced_by_default() {
        let orig = json!({"spec": {"items": [{"name": "a"}, {"name": "b"}], "tags": ["x"]}});
        let out = smp(
            orig,
            json!({"spec": {"items": [{"name": "c"}], "tags": ["y", "z"]}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"items": [{"name": "c"}], "tags": ["y", "z"]}})
        );
    }

    #[test]
    fn smp_merge_key_lists() {
        let orig = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "b:1"}
        ]}});
        let out = smp(
            orig.clone(),
            json!({"spec": {"containers": [
                {"name": "b", "image": "b:2"},
                {"name": "c", "image": "c:1", "env": null},
                {"name": "a", "ports": [{"containerPort": 443}]}
            ]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [
                {"name": "b", "image": "b:2"},
                {"name": "c", "image": "c:1"},
                {"name": "a", "image": "a:1", "ports": [{"containerPort": 443}, {"containerPort": 80}]}
            ]}})
        );
        // Go puts new patch items before server-only items when nothing orders them (cf. the
        // `kubectl patch` task page: the added container is listed first).

        // $patch: delete and $patch: replace inside lists.
        let out = smp(
            orig.clone(),
            json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "b", "image": "b:1"}]}})
        );
        let out = smp(
            orig.clone(),
            json!({"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"containers": [{"name": "z"}]}}));

        // Missing merge key: Go's plain error (500, empty reason).
        let e = smp(
            orig.clone(),
            json!({"spec": {"containers": [{"image": "foo"}]}}),
            &schema(),
        )
        .unwrap_err();
        assert_eq!(e.code(), 500);
        assert_eq!(e.reason(), "");
        assert_eq!(
            e.message(),
            "map: map[image:foo] does not contain declared merge key: name"
        );

        // Unknown list directive.
        let e = smp(
            orig,
            json!({"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}),
            &schema(),
        )
        .unwrap_err();
        assert_eq!(e.code(), 500);
    }

    /// A `listType=map` list without a patch strategy is replaced whole, as Go's strategic merge
    /// patch replaces it (only `patchStrategy`/`patchMergeKey` merge): kubectl's three-way patch
    /// of such a list sends the whole new list and no deletions, so merging it by key would keep
    /// entries the user removed.
    #[test]
    fn smp_list_type_map_without_a_patch_strategy_is_replaced() {
        let orig = json!({"spec": {"receivers": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}});
        let out = smp(
            orig,
            json!({"spec": {"receivers": [{"name": "b", "v": 3}, {"name": "c", "v": 4}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"receivers": [{"name": "b", "v": 3}, {"name": "c", "v": 4}]}})
        );
        // Composite keys.
        let orig = json!({"spec": {"endpoints": [{"host": "h", "port": 1, "w": 1}, {"host": "h", "port": 2, "w": 1}]}});
        let out = smp(
            orig,
            json!({"spec": {"endpoints": [{"host": "h", "port": 2, "w": 9}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"endpoints": [{"host": "h", "port": 2, "w": 9}]}})
        );
    }

    #[test]
    fn smp_primitive_set_lists() {
        let orig = json!({"metadata": {"finalizers": ["a", "b"]}});
        let out = smp(
            orig.clone(),
            json!({"metadata": {"finalizers": ["b", "c"]}}),
            &schema(),
        )
        .unwrap();
        // Go: patch items keep patch order, server-only items are interleaved by live order.
        assert_eq!(out, json!({"metadata": {"finalizers": ["a", "b", "c"]}}));
        let out = smp(
            orig.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"metadata": {"finalizers": ["b"]}}));
        // Deletion list for a missing list is a no-op.
        let out = smp(
            json!({"metadata": {}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"metadata": {}}));
        // Bad directive format.
        let e = smp(
            orig,
            json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
            &schema(),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.message(), "invalid patch format of primitive list");
    }

    #[test]
    fn smp_set_element_order() {
        let orig = json!({"metadata": {"finalizers": ["a", "b", "c"]},
                          "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let out = smp(
            orig,
            json!({
                "metadata": {"$setElementOrder/finalizers": ["c", "a", "b", "d"], "finalizers": ["d"]},
                "spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "n"}, {"name": "a"}],
                         "containers": [{"name": "n", "image": "i"}]}
            }),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["c", "a", "b", "d"]},
                   "spec": {"containers": [{"name": "b"}, {"name": "n", "image": "i"}, {"name": "a"}]}})
        );
        // Only a reorder (list not in the patch).
        let out = smp(
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "b"}, {"name": "a"}]}})
        );
        // Order for a list that exists nowhere is dropped.
        let out = smp(
            json!({"spec": {}}),
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}]}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {}}));
        // Bad format.
        let e = smp(json!({}), json!({"$setElementOrder": []}), &schema()).unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.message(), "invalid patch format of setElementOrder list");
    }

    #[test]
    fn smp_map_directives() {
        let orig = json!({"spec": {"m": {"a": 1, "b": 2}, "keep": true}});
        let out = smp(
            orig.clone(),
            json!({"spec": {"m": {"$patch": "replace", "c": 3}}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"m": {"c": 3}, "keep": true}}));
        // Go's `$patch: delete` on a map leaves an empty map.
        let out = smp(
            orig.clone(),
            json!({"spec": {"m": {"$patch": "delete"}}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"m": {}, "keep": true}}));
        // On a key not in the original, removeDirectives drops the value.
        let out = smp(
            orig.clone(),
            json!({"spec": {"n": {"$patch": "delete"}}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(out, orig);
        let e = smp(
            orig.clone(),
            json!({"spec": {"m": {"$patch": "bogus"}}}),
            &NoSchema,
        )
        .unwrap_err();
        assert_eq!(e.code(), 500);
        assert_eq!(
            e.message(),
            "unknown patch type: bogus in map: map[$patch:bogus]"
        );
        // Schema strategy "replace" on a map.
        let out = smp(
            json!({"spec": {"selector": {"a": "1"}}}),
            json!({"spec": {"selector": {"b": "2"}}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"selector": {"b": "2"}}}));
    }

    #[test]
    fn smp_retain_keys() {
        let orig = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let out = smp(
            orig.clone(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            &schema(),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"strategy": {"type": "Recreate"}}}));
        let e = smp(
            orig.clone(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}}),
            &schema(),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.message(), "invalid patch format of retainKeys");
        let e = smp(
            orig,
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            &schema(),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn smp_new_values_are_cleaned() {
        let out = smp(
            json!({}),
            json!({"spec": {"a": null, "b": {"c": null, "d": [{"$patch": "delete", "x": 1}, {"y": 2}]},
                            "$setElementOrder/z": [1]}}),
            &NoSchema,
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"b": {"d": [{"y": 2}]}}}));
    }

    #[test]
    fn smp_type_changes_and_errors() {
        // Type change: take the patch value.
        let out = smp(json!({"a": [1]}), json!({"a": {"b": 1}}), &NoSchema).unwrap();
        assert_eq!(out, json!({"a": {"b": 1}}));
        let out = smp(json!({"a": "s"}), json!({"a": [1]}), &NoSchema).unwrap();
        assert_eq!(out, json!({"a": [1]}));
        // Lists of lists in a merge list: 422.
        let s = TestSchema(vec![("l", merge_set())]);
        let e = smp(json!({"l": [[1]]}), json!({"l": [[2]]}), &s).unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(e.cause(), Some("lists of lists are not supported"));
        // Mixed element types.
        let e = smp(json!({"l": [1]}), json!({"l": ["x"]}), &s).unwrap_err();
        assert_eq!(e.code(), 500);
        // Merge list of maps without merge key.
        let e = smp(json!({"l": [{"a": 1}]}), json!({"l": [{"a": 2}]}), &s).unwrap_err();
        assert_eq!(e.code(), 500);
    }

    #[test]
    fn smp_malformed_bodies() {
        let e = apply(PatchType::StrategicMerge, &json!({}), b"nope", &NoSchema).unwrap_err();
        assert_eq!(e.code(), 400);
        let e = apply(PatchType::StrategicMerge, &json!({}), b"[1]", &NoSchema).unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(
            e.message(),
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        let out = apply(
            PatchType::StrategicMerge,
            &json!({"a": 1}),
            b"null",
            &NoSchema,
        )
        .unwrap();
        assert_eq!(out, json!({"a": 1}));
        let e = smp(json!({}), json!({"$patch": "delete"}), &NoSchema).unwrap();
        assert_eq!(e, json!({}));
    }

    // ---------------------------------------------------------------- OpenAPI schema

    fn openapi() -> Map<String, Value> {
        match json!({
            "co.k8s.pager.v1.Alert": {
                "type": "object",
                "properties": {
                    "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
                    "spec": {"allOf": [{"$ref": "#/components/schemas/co.k8s.pager.v1.AlertSpec"}]}
                }
            },
            "co.k8s.pager.v1.AlertSpec": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "receivers": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/co.k8s.pager.v1.Receiver"},
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"]
                    },
                    "byName": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/components/schemas/co.k8s.pager.v1.Receiver"}
                    },
                    "broken": {"$ref": "#/components/schemas/does.not.Exist"}
                }
            },
            "co.k8s.pager.v1.Receiver": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "channels": {
                        "type": "array",
                        "items": {"type": "string"},
                        "x-kubernetes-patch-strategy": "merge"
                    },
                    "targets": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                        "x-kubernetes-patch-strategy": "merge,retainKeys",
                        "x-kubernetes-patch-merge-key": "id"
                    }
                }
            },
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
                "type": "object",
                "properties": {
                    "finalizers": {
                        "type": "array",
                        "items": {"type": "string", "default": ""},
                        "x-kubernetes-list-type": "set",
                        "x-kubernetes-patch-strategy": "merge"
                    },
                    "ownerReferences": {
                        "type": "array",
                        "items": {"allOf": [{"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"}]},
                        "x-kubernetes-list-map-keys": ["uid"],
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-patch-merge-key": "uid",
                        "x-kubernetes-patch-strategy": "merge"
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
            "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
                "type": "object",
                "properties": {"uid": {"type": "string"}}
            }
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn openapi_schema_navigation() {
        let s = OpenApiPatchSchema::new(&openapi(), "co.k8s.pager.v1.Alert");
        let fin = s.field(&["metadata", "finalizers"]);
        assert_eq!(fin.strategy.as_deref(), Some("merge"));
        assert_eq!(fin.merge_key, None);
        assert_eq!(fin.list_type.as_deref(), Some("set"));
        let owners = s.field(&["metadata", "ownerReferences"]);
        assert_eq!(owners.merge_key.as_deref(), Some("uid"));
        assert_eq!(owners.list_map_keys, vec!["uid".to_string()]);
        let recv = s.field(&["spec", "receivers"]);
        assert_eq!(recv.list_type.as_deref(), Some("map"));
        assert_eq!(recv.list_map_keys, vec!["name".to_string()]);
        assert_eq!(recv.strategy, None);
        // Through list items ($ref) without an extra segment.
        let ch = s.field(&["spec", "receivers", "channels"]);
        assert_eq!(ch.strategy.as_deref(), Some("merge"));
        let t = s.field(&["spec", "receivers", "targets"]);
        assert_eq!(t.strategy.as_deref(), Some("merge,retainKeys"));
        assert_eq!(t.merge_key.as_deref(), Some("id"));
        // Through additionalProperties (map key as a segment).
        let ch = s.field(&["spec", "byName", "anykey", "channels"]);
        assert_eq!(ch.strategy.as_deref(), Some("merge"));
        // Unknown things: defaults, no panic.
        assert_eq!(s.field(&["spec", "nope"]), FieldPatchMeta::default());
        assert_eq!(s.field(&["spec", "broken", "x"]), FieldPatchMeta::default());
        assert_eq!(s.field(&["spec", "broken"]), FieldPatchMeta::default());
        assert_eq!(s.field(&[]), FieldPatchMeta::default());
        assert_eq!(
            s.field(&["metadata", "labels", "x", "y"]),
            FieldPatchMeta::default()
        );
        let unknown_root = OpenApiPatchSchema::new(&openapi(), "nope");
        assert_eq!(unknown_root.field(&["spec"]), FieldPatchMeta::default());
    }

    #[test]
    fn openapi_schema_drives_smp() {
        let s = OpenApiPatchSchema::new(&openapi(), "co.k8s.pager.v1.Alert");
        let orig = json!({
            "metadata": {"name": "a", "finalizers": ["x"], "ownerReferences": [{"uid": "1", "name": "o"}]},
            "spec": {"message": "m", "receivers": [
                {"name": "r1", "channels": ["email"], "targets": [{"id": "t1", "w": 1}]}
            ]}
        });
        let patch = json!({
            "metadata": {"finalizers": ["y"], "ownerReferences": [{"uid": "2", "name": "p"}]},
            "spec": {"receivers": [
                {"name": "r1", "channels": ["sms"], "targets": [{"id": "t2"}]},
                {"name": "r2"}
            ]}
        });
        let out = smp(orig, patch, &s).unwrap();
        assert_eq!(
            out,
            json!({
                "metadata": {"name": "a", "finalizers": ["y", "x"],
                             "ownerReferences": [{"uid": "2", "name": "p"}, {"uid": "1", "name": "o"}]},
                // `receivers` is a `listType=map` list without a patch strategy: replaced whole.
                "spec": {"message": "m", "receivers": [
                    {"name": "r1", "channels": ["sms"], "targets": [{"id": "t2"}]},
                    {"name": "r2"}
                ]}
            })
        );
    }
}
