//! The checks Kubernetes makes of a CRD's schema, made of generated schemas when a server is
//! built: every `x-kubernetes-list-map-keys` names a property of the list's items, and every
//! `default` fits the schema it defaults (no unknown fields, the right types).
//!
//! kube-codegen checks both against the types it reads; a type it cannot see (a k8s-openapi
//! `Toleration` as a list's element, a `ResourceRequirements` default) is checked here, where
//! its schema is known. Unchecked, a wrong key rejected every write holding the list (422), and
//! a default that did not fit was published and then dropped by the defaulter.

use serde_json::{Map, Value};

/// The problems of `own` (one group/version's definitions, the types it references resolved
/// in `all`), one message each, naming the definition and the property path.
pub fn problems(own: &Map<String, Value>, all: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, schema) in own {
        let mut walk = Walk {
            all,
            definition: name,
            out: &mut out,
        };
        walk.schema(schema, &mut String::new(), 0);
    }
    out
}

/// How deep a schema is walked in place (references are definitions of their own).
const MAX_DEPTH: usize = 64;

struct Walk<'a> {
    all: &'a Map<String, Value>,
    definition: &'a str,
    out: &'a mut Vec<String>,
}

impl Walk<'_> {
    fn schema(&mut self, schema: &Value, path: &mut String, depth: usize) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(default) = obj.get("default") {
            let mut problems = Vec::new();
            fits(
                self.all,
                default,
                schema,
                &mut String::new(),
                &mut problems,
                0,
            );
            for p in problems {
                self.out.push(format!(
                    "{}: the default of {} does not fit its schema: {p}",
                    self.definition,
                    shown(path)
                ));
            }
        }
        if obj.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
            self.list_map_keys(obj, path);
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (key, prop) in props {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                self.schema(prop, path, depth + 1);
                path.truncate(len);
            }
        }
        for nested in ["items", "additionalProperties"] {
            if let Some(s) = obj.get(nested) {
                let len = path.len();
                path.push_str(if nested == "items" { "[*]" } else { "{*}" });
                self.schema(s, path, depth + 1);
                path.truncate(len);
            }
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            for s in obj
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.schema(s, path, depth + 1);
            }
        }
    }

    fn list_map_keys(&mut self, list: &Map<String, Value>, path: &str) {
        let keys: Vec<&str> = list
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let Some((item_name, item)) = list.get("items").map(|i| resolve(self.all, i)) else {
            return;
        };
        if preserves_unknown(item) {
            return;
        }
        let props = item.get("properties").and_then(Value::as_object);
        for key in keys {
            if props.is_some_and(|p| p.contains_key(key)) {
                continue;
            }
            let known: Vec<&str> = props
                .into_iter()
                .flat_map(|p| p.keys().map(String::as_str))
                .collect();
            self.out.push(format!(
                "{}: {} is a list keyed by `{key}`, which its items ({}) do not have{}",
                self.definition,
                shown(path),
                item_name.unwrap_or("an inline object"),
                match closest(key, &known) {
                    Some(near) => format!(" (did you mean `{near}`?)"),
                    None if known.is_empty() => String::new(),
                    None => format!(" (their fields: {})", known.join(", ")),
                }
            ));
        }
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() {
        "the type".into()
    } else {
        format!("`{path}`")
    }
}

/// `schema` with references followed (structured-merge-diff's reading, shared with field
/// ownership), and the definition it names if any.
fn resolve<'a>(all: &'a Map<String, Value>, schema: &'a Value) -> (Option<&'a str>, &'a Value) {
    let mut name = None;
    let mut at = schema;
    for _ in 0..MAX_DEPTH {
        let Some((k, v)) = kube_codegen_fieldpath::schema::reference(at)
            .and_then(|target| all.get_key_value(target.as_str()))
        else {
            break;
        };
        name = Some(k.as_str());
        at = v;
    }
    (name, at)
}

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// Whether `value` fits `schema` as Kubernetes validates a CRD's default (after pruning, which
/// an unknown field must survive): each problem with the path it is at.
fn fits(
    all: &Map<String, Value>,
    value: &Value,
    schema: &Value,
    path: &mut String,
    problems: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    // `nullable` may sit on a reference's wrapper (`{"allOf": [{"$ref"}], "nullable": true}`).
    let wrapper_nullable = schema.get("nullable") == Some(&Value::Bool(true));
    let (_, schema) = resolve(all, schema);
    let at = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!(" at `{path}`")
        }
    };
    if value.is_null() {
        let nullable = wrapper_nullable || schema.get("nullable") == Some(&Value::Bool(true));
        if !nullable && schema.get("type").is_some() {
            problems.push(format!("null{} is not allowed", at(path)));
        }
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            problems.push(format!(
                "{value}{} is neither an integer nor a string",
                at(path)
            ));
        }
        return;
    }
    let expected = schema.get("type").and_then(Value::as_str);
    let ok = match expected {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(_) => true,
    };
    if !ok {
        problems.push(format!(
            "{value}{} is not of type {}",
            at(path),
            expected.unwrap_or("?")
        ));
        return;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        problems.push(format!("{value}{} is none of its enum's values", at(path)));
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties");
            for (key, v) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match (props.and_then(|p| p.get(key)), extra) {
                    (Some(s), _) => fits(all, v, s, path, problems, depth + 1),
                    (None, Some(s)) if s.is_object() => fits(all, v, s, path, problems, depth + 1),
                    (None, Some(Value::Bool(true))) => {}
                    (None, _) if preserves_unknown(schema) || props.is_none() => {}
                    (None, _) => {
                        let known: Vec<&str> = props
                            .into_iter()
                            .flat_map(|p| p.keys().map(String::as_str))
                            .collect();
                        problems.push(format!(
                            "unknown field `{path}`{}",
                            match closest(key, &known) {
                                Some(near) => format!(" (did you mean `{near}`?)"),
                                None => String::new(),
                            }
                        ));
                    }
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    fits(all, v, s, path, problems, depth + 1);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// The name of `names` closest to `name` (a typo's fix), if one is close: a transposition
/// (`kye`) is one edit.
fn closest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    names
        .iter()
        .map(|n| {
            (
                strsim::damerau_levenshtein(&lower, &n.to_ascii_lowercase()),
                *n,
            )
        })
        .filter(|(d, n)| *d <= (n.len().max(name.len()) / 3).max(1))
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn list_map_keys_must_be_properties_of_the_items() {
        let all = defs(json!({
            "io.k8s.api.core.v1.Toleration": {"type": "object", "properties": {
                "key": {"type": "string"}, "effect": {"type": "string"}}},
            "x.Spec": {"type": "object", "properties": {
                "tolerations": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["kye", "effect"],
                    "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Toleration"}]}},
                "open": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["any"],
                    "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}
        }));
        let own = defs(json!({"x.Spec": all["x.Spec"].clone()}));
        assert_eq!(
            problems(&own, &all),
            [
                "x.Spec: `.tolerations` is a list keyed by `kye`, which its items (io.k8s.api.core.v1.Toleration) do not have (did you mean `key`?)"
            ]
        );
    }

    #[test]
    fn defaults_must_fit_their_schema() {
        let all = defs(json!({
            "io.k8s.api.core.v1.ResourceRequirements": {"type": "object", "properties": {
                "limits": {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": true}},
                "requests": {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": true}}}},
            "x.Spec": {"type": "object", "properties": {
                "resources": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements"}],
                    "default": {"limits": 5}},
                "sidecar": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements"}],
                    "default": {"limit": {"cpu": "1"}}},
                "good": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements"}],
                    "default": {"limits": {"cpu": "1", "memory": 3}}},
                "cleared": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements"}],
                    "nullable": true, "default": null},
                "replicas": {"type": "integer", "default": "one"},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "c"},
                "ports": {"type": "array", "items": {"type": "integer"}, "default": [80, "http"]}}}
        }));
        let own = defs(json!({"x.Spec": all["x.Spec"].clone()}));
        let mut found = problems(&own, &all);
        found.sort();
        assert_eq!(
            found,
            [
                "x.Spec: the default of `.mode` does not fit its schema: \"c\" is none of its enum's values",
                "x.Spec: the default of `.ports` does not fit its schema: \"http\" at `[1]` is not of type integer",
                "x.Spec: the default of `.replicas` does not fit its schema: \"one\" is not of type integer",
                "x.Spec: the default of `.resources` does not fit its schema: 5 at `limits` is not of type object",
                "x.Spec: the default of `.sidecar` does not fit its schema: unknown field `limit` (did you mean `limits`?)",
            ]
        );
    }
}
