//! `/openapi/v2` in protobuf: the Swagger 2.0 document as gnostic's `openapi.v2.Document`
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`), the only form client-go asks
//! for (kubectl 1.27 and 1.28 validate and patch with it). Written from the JSON document field
//! by field as gnostic numbers `OpenAPIv2.proto` (proto3: default values are not written);
//! values gnostic keeps as `Any` (`default`, `example`, `enum`, `x-*` extensions) carry their
//! YAML text, which JSON is.

use kube_codegen_protobuf::{Field, encode_bytes, encode_str};
use serde_json::{Map, Value};

/// The media type client-go sends, and the other spelling kube-openapi accepts.
pub const MEDIA_TYPES: [&str; 2] = [
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
];

/// The `openapi.v2.Document` of a Swagger 2.0 JSON document.
pub fn document(doc: &Value) -> Vec<u8> {
    let mut w = Msg::default();
    let o = obj(doc);
    w.str(1, o.get("swagger"));
    if let Some(info) = o.get("info") {
        w.msg(2, self::info(info));
    }
    w.str(3, o.get("host"));
    w.str(4, o.get("basePath"));
    w.strs(5, o.get("schemes"));
    w.strs(6, o.get("consumes"));
    w.strs(7, o.get("produces"));
    if let Some(paths) = o.get("paths") {
        w.msg(8, self::paths(paths));
    }
    if let Some(defs) = o.get("definitions") {
        let mut d = Msg::default();
        for (name, schema) in obj(defs) {
            d.msg(1, named(name, self::schema(schema)));
        }
        w.msg(9, d.0);
    }
    if let Some(tags) = o.get("tags").and_then(Value::as_array) {
        for t in tags {
            let t = obj(t);
            let mut m = Msg::default();
            m.str(1, t.get("name"));
            m.str(2, t.get("description"));
            m.extensions(4, t);
            w.msg(14, m.0);
        }
    }
    w.extensions(16, o);
    w.0
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object().unwrap_or(&EMPTY)
}

/// A message being written.
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn str(&mut self, tag: u32, v: Option<&Value>) {
        if let Some(s) = v.and_then(Value::as_str)
            && !s.is_empty()
        {
            encode_str(tag, s, &mut self.0);
        }
    }
    fn strs(&mut self, tag: u32, v: Option<&Value>) {
        for s in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = s.as_str() {
                encode_str(tag, s, &mut self.0);
            }
        }
    }
    fn bool(&mut self, tag: u32, v: Option<&Value>) {
        if v.and_then(Value::as_bool) == Some(true) {
            true.encode(tag, &mut self.0);
        }
    }
    fn f64(&mut self, tag: u32, v: Option<&Value>) {
        if let Some(f) = v.and_then(Value::as_f64)
            && f != 0.0
        {
            f.encode(tag, &mut self.0);
        }
    }
    fn i64(&mut self, tag: u32, v: Option<&Value>) {
        if let Some(i) = v.and_then(Value::as_i64)
            && i != 0
        {
            i.encode(tag, &mut self.0);
        }
    }
    fn msg(&mut self, tag: u32, bytes: Vec<u8>) {
        encode_bytes(tag, &bytes, &mut self.0);
    }
    /// An `Any` holding the value's YAML (its JSON).
    fn any(&mut self, tag: u32, v: &Value) {
        self.msg(tag, any(v));
    }
    fn anys(&mut self, tag: u32, v: Option<&Value>) {
        for item in v.and_then(Value::as_array).into_iter().flatten() {
            self.any(tag, item);
        }
    }
    /// The object's `x-*` keys as `NamedAny`s.
    fn extensions(&mut self, tag: u32, o: &Map<String, Value>) {
        for (k, v) in o.iter().filter(|(k, _)| k.starts_with("x-")) {
            self.msg(tag, named(k, any(v)));
        }
    }
}

fn any(v: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    encode_str(2, &v.to_string(), &mut m.0);
    m.0
}

/// `Named*`: `name` = 1, `value` = 2.
fn named(name: &str, value: Vec<u8>) -> Vec<u8> {
    let mut m = Msg::default();
    encode_str(1, name, &mut m.0);
    m.msg(2, value);
    m.0
}

fn info(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.str(1, o.get("title"));
    m.str(2, o.get("version"));
    m.str(3, o.get("description"));
    m.str(4, o.get("termsOfService"));
    m.extensions(7, o);
    m.0
}

fn paths(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.extensions(1, o);
    for (path, item) in o.iter().filter(|(k, _)| !k.starts_with("x-")) {
        m.msg(2, named(path, path_item(item)));
    }
    m.0
}

fn path_item(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.str(1, o.get("$ref"));
    for (tag, method) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(op) = o.get(method) {
            m.msg(tag, operation(op));
        }
    }
    for p in o
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(9, parameters_item(p));
    }
    m.extensions(10, o);
    m.0
}

fn operation(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.strs(1, o.get("tags"));
    m.str(2, o.get("summary"));
    m.str(3, o.get("description"));
    m.str(5, o.get("operationId"));
    m.strs(6, o.get("produces"));
    m.strs(7, o.get("consumes"));
    for p in o
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(8, parameters_item(p));
    }
    if let Some(r) = o.get("responses") {
        m.msg(9, responses(r));
    }
    m.strs(10, o.get("schemes"));
    m.bool(11, o.get("deprecated"));
    m.extensions(13, o);
    m.0
}

/// `ParametersItem`: a `Parameter` (1) or a `JsonReference` (2).
fn parameters_item(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    if o.contains_key("$ref") {
        m.msg(2, json_reference(o));
    } else {
        m.msg(1, parameter(o));
    }
    m.0
}

fn json_reference(o: &Map<String, Value>) -> Vec<u8> {
    let mut m = Msg::default();
    m.str(1, o.get("$ref"));
    m.str(2, o.get("description"));
    m.0
}

/// `Parameter`: a `BodyParameter` (1) or a `NonBodyParameter` (2), whose sub-schema is chosen
/// by `in`: header (1), formData (2), query (3), path (4).
fn parameter(o: &Map<String, Value>) -> Vec<u8> {
    let mut m = Msg::default();
    let place = o.get("in").and_then(Value::as_str).unwrap_or_default();
    if place == "body" {
        let mut b = Msg::default();
        b.str(1, o.get("description"));
        b.str(2, o.get("name"));
        b.str(3, o.get("in"));
        b.bool(4, o.get("required"));
        if let Some(s) = o.get("schema") {
            b.msg(5, schema(s));
        }
        b.extensions(6, o);
        m.msg(1, b.0);
        return m.0;
    }
    // Query and formData sub-schemas have `allowEmptyValue` (5) and number the rest one higher.
    let (which, empty_ok) = match place {
        "header" => (1, false),
        "formData" => (2, true),
        "path" => (4, false),
        _ => (3, true),
    };
    let shift = u32::from(empty_ok);
    let mut s = Msg::default();
    s.bool(1, o.get("required"));
    s.str(2, o.get("in"));
    s.str(3, o.get("description"));
    s.str(4, o.get("name"));
    if empty_ok {
        s.bool(5, o.get("allowEmptyValue"));
    }
    s.str(5 + shift, o.get("type"));
    s.str(6 + shift, o.get("format"));
    if let Some(items) = o.get("items") {
        s.msg(7 + shift, primitives_items(items));
    }
    s.str(8 + shift, o.get("collectionFormat"));
    if let Some(d) = o.get("default") {
        s.any(9 + shift, d);
    }
    validations(&mut s, o, 10 + shift);
    s.extensions(22 + shift, o);
    let mut non_body = Msg::default();
    non_body.msg(which, s.0);
    m.msg(2, non_body.0);
    m.0
}

/// The validation keywords shared by parameters, headers and primitive items, numbered from
/// `first` (`maximum`) to `first + 11` (`multipleOf`).
fn validations(m: &mut Msg, o: &Map<String, Value>, first: u32) {
    m.f64(first, o.get("maximum"));
    m.bool(first + 1, o.get("exclusiveMaximum"));
    m.f64(first + 2, o.get("minimum"));
    m.bool(first + 3, o.get("exclusiveMinimum"));
    m.i64(first + 4, o.get("maxLength"));
    m.i64(first + 5, o.get("minLength"));
    m.str(first + 6, o.get("pattern"));
    m.i64(first + 7, o.get("maxItems"));
    m.i64(first + 8, o.get("minItems"));
    m.bool(first + 9, o.get("uniqueItems"));
    m.anys(first + 10, o.get("enum"));
    m.f64(first + 11, o.get("multipleOf"));
}

fn primitives_items(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.str(1, o.get("type"));
    m.str(2, o.get("format"));
    if let Some(items) = o.get("items") {
        m.msg(3, primitives_items(items));
    }
    m.str(4, o.get("collectionFormat"));
    if let Some(d) = o.get("default") {
        m.any(5, d);
    }
    validations(&mut m, o, 6);
    m.extensions(18, o);
    m.0
}

fn responses(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    for (code, r) in o.iter().filter(|(k, _)| !k.starts_with("x-")) {
        let ro = obj(r);
        let mut value = Msg::default();
        if ro.contains_key("$ref") {
            value.msg(2, json_reference(ro));
        } else {
            value.msg(1, response(ro));
        }
        m.msg(1, named(code, value.0));
    }
    m.extensions(2, o);
    m.0
}

fn response(o: &Map<String, Value>) -> Vec<u8> {
    let mut m = Msg::default();
    m.str(1, o.get("description"));
    if let Some(s) = o.get("schema") {
        let mut item = Msg::default();
        item.msg(1, schema(s));
        m.msg(2, item.0);
    }
    m.extensions(5, o);
    m.0
}

fn schema(v: &Value) -> Vec<u8> {
    let o = obj(v);
    let mut m = Msg::default();
    m.str(1, o.get("$ref"));
    m.str(2, o.get("format"));
    m.str(3, o.get("title"));
    m.str(4, o.get("description"));
    if let Some(d) = o.get("default") {
        m.any(5, d);
    }
    m.f64(6, o.get("multipleOf"));
    m.f64(7, o.get("maximum"));
    m.bool(8, o.get("exclusiveMaximum"));
    m.f64(9, o.get("minimum"));
    m.bool(10, o.get("exclusiveMinimum"));
    m.i64(11, o.get("maxLength"));
    m.i64(12, o.get("minLength"));
    m.str(13, o.get("pattern"));
    m.i64(14, o.get("maxItems"));
    m.i64(15, o.get("minItems"));
    m.bool(16, o.get("uniqueItems"));
    m.i64(17, o.get("maxProperties"));
    m.i64(18, o.get("minProperties"));
    m.strs(19, o.get("required"));
    m.anys(20, o.get("enum"));
    match o.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            // A oneof member is written even when false: its presence is the value.
            let mut item = Msg::default();
            b.encode(2, &mut item.0);
            m.msg(21, item.0);
        }
        Some(s @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.msg(1, schema(s));
            m.msg(21, item.0);
        }
        _ => {}
    }
    match o.get("type") {
        Some(t @ Value::String(_)) => {
            let mut item = Msg::default();
            item.strs(1, Some(&Value::Array(vec![t.clone()])));
            m.msg(22, item.0);
        }
        Some(t @ Value::Array(_)) => {
            let mut item = Msg::default();
            item.strs(1, Some(t));
            m.msg(22, item.0);
        }
        _ => {}
    }
    match o.get("items") {
        Some(Value::Array(items)) => {
            let mut item = Msg::default();
            for s in items {
                item.msg(1, schema(s));
            }
            m.msg(23, item.0);
        }
        Some(s @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.msg(1, schema(s));
            m.msg(23, item.0);
        }
        _ => {}
    }
    for s in o
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(24, schema(s));
    }
    if let Some(props) = o.get("properties") {
        let mut p = Msg::default();
        for (name, s) in obj(props) {
            p.msg(1, named(name, schema(s)));
        }
        m.msg(25, p.0);
    }
    m.str(26, o.get("discriminator"));
    m.bool(27, o.get("readOnly"));
    if let Some(e) = o.get("example") {
        m.any(30, e);
    }
    m.extensions(31, o);
    m.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_codegen_protobuf::{decode_bytes, decode_key, skip};

    /// The (tag, bytes) pairs of a message's length-delimited fields.
    fn fields(mut buf: &[u8]) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(&mut buf).unwrap();
            if wire == kube_codegen_protobuf::WireType::LengthDelimited {
                out.push((tag, decode_bytes(wire, &mut buf).unwrap()));
            } else {
                skip(wire, tag, &mut buf).unwrap();
            }
        }
        out
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn documents_are_numbered_as_gnostic_numbers_them() {
        let doc = serde_json::json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "unversioned"},
            "paths": {"/apis/g/v1/things": {"get": {
                "operationId": "listThings",
                "parameters": [{"name": "limit", "in": "query", "type": "integer", "uniqueItems": true}],
                "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/T"}}},
                "x-kubernetes-action": "list"
            }}},
            "definitions": {"T": {
                "type": "object",
                "required": ["spec"],
                "properties": {"spec": {"type": "string"}},
                "x-kubernetes-group-version-kind": [{"group": "g", "kind": "T", "version": "v1"}]
            }}
        });
        let d = fields(&document(&doc));
        assert_eq!(text(&d[0].1), "2.0");
        let tags: Vec<u32> = d.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, [1, 2, 8, 9]);
        // definitions → NamedSchema "T" → Schema: required (19), properties (25), x-* (31).
        let defs = fields(&d[3].1);
        let named = fields(&defs[0].1);
        assert_eq!(text(&named[0].1), "T");
        let schema_tags: Vec<u32> = fields(&named[1].1).iter().map(|(t, _)| *t).collect();
        assert_eq!(schema_tags, [19, 22, 25, 31]);
        let ext = fields(&fields(&named[1].1)[3].1);
        assert_eq!(text(&ext[0].1), "x-kubernetes-group-version-kind");
        let yaml = text(&fields(&ext[1].1)[0].1);
        assert_eq!(
            serde_json::from_str::<Value>(&yaml).unwrap(),
            serde_json::json!([{"group": "g", "kind": "T", "version": "v1"}])
        );
        // paths → NamedPathItem → PathItem.get (2) → Operation: operationId (5),
        // parameters (8), responses (9), x-* (13).
        let path_item = fields(&fields(&fields(&d[2].1)[0].1)[1].1);
        assert_eq!(path_item[0].0, 2);
        let op_tags: Vec<u32> = fields(&path_item[0].1).iter().map(|(t, _)| *t).collect();
        assert_eq!(op_tags, [5, 8, 9, 13]);
    }
}
