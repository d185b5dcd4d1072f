//! Path elements: how a field, a list item or a map entry is named inside a field set, ordered
//! and written (`f:name`, `k:{"key":…}`, `v:value`, `i:index` in FieldsV1) the way Kubernetes
//! orders and writes them.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// One step of a path.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A struct field or a map key.
    Field(String),
    /// An item of a list keyed by some of its fields (`x-kubernetes-list-type: map`), the key
    /// fields sorted by name.
    Key(Vec<(String, Value)>),
    /// An item of a set (`x-kubernetes-list-type: set`): the item itself.
    Value(Value),
    /// An item of an atomic list or a list without keys, by position.
    Index(usize),
}

/// A path from the root of an object.
pub type Path = Vec<PathElement>;

impl PathElement {
    pub fn field(name: impl Into<String>) -> Self {
        PathElement::Field(name.into())
    }

    /// A key element; `fields` are sorted by name.
    pub fn key(mut fields: Vec<(String, Value)>) -> Self {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    /// The element as a FieldsV1 object key.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut out = String::from("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(name.clone()).to_string());
                    out.push(':');
                    out.push_str(&value.to_string());
                }
                out.push('}');
                out
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Reads a FieldsV1 object key; `Ok(None)` for an element type this version does not know
    /// (skipped, as Kubernetes does).
    pub fn from_fields_v1_key(key: &str) -> Result<Option<Self>, String> {
        let Some((kind, rest)) = key.split_once(':') else {
            return Err(format!("missing colon: {key}"));
        };
        match kind {
            "f" => Ok(Some(PathElement::Field(rest.to_string()))),
            "v" => serde_json::from_str(rest)
                .map(|v| Some(PathElement::Value(v)))
                .map_err(|e| format!("{key}: {e}")),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(map)) => Ok(Some(PathElement::key(map.into_iter().collect()))),
                Ok(_) => Err(format!("{key}: a key must be a JSON object")),
                Err(e) => Err(format!("{key}: {e}")),
            },
            "i" => rest
                .parse()
                .map(|i| Some(PathElement::Index(i)))
                .map_err(|e| format!("{key}: {e}")),
            _ if kind.len() == 1 => Ok(None),
            _ => Err(format!("key must be 2 characters long: {key}")),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    /// `.name`, `[key="a",port=80]`, `[="value"]`, `[3]`: the form conflicts are reported in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", display_value(value))?;
                }
                f.write_str("]")
            }
            PathElement::Value(value) => write!(f, "[={}]", display_value(value)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path as conflicts name it: `.spec.containers[name="app"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A value as Kubernetes prints it in a path (strings quoted, the rest as is).
fn display_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(display_value)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", display_value(v)))
            .collect(),
        other => other.to_string(),
    }
}

/// Kubernetes' order of values: numbers (integers and floats compared as numbers), then
/// strings, booleans, lists, maps, null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (x, y) in x.iter().zip(y) {
                let c = compare_values(x, y);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            // Keys in lexical order; a key only one side has decides (Go's MapCompare).
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for (i, key) in keys.into_iter().enumerate() {
                let c = if i == x.len() {
                    Ordering::Less
                } else if i == y.len() {
                    Ordering::Greater
                } else {
                    match (x.get(key), y.get(key)) {
                        (None, _) => Ordering::Greater,
                        (_, None) => Ordering::Less,
                        (Some(a), Some(b)) => compare_values(a, b),
                    }
                };
                if c != Ordering::Equal {
                    return c;
                }
            }
            Ordering::Equal
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b) {
        let c = an.cmp(bn).then_with(|| compare_values(av, bv));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_round_trip_through_fields_v1_keys() {
        for pe in [
            PathElement::field("spec"),
            PathElement::key(vec![
                ("port".into(), json!(80)),
                ("name".into(), json!("a\"b")),
            ]),
            PathElement::Value(json!("x")),
            PathElement::Value(json!(1.5)),
            PathElement::Index(3),
        ] {
            let key = pe.to_fields_v1_key();
            assert_eq!(PathElement::from_fields_v1_key(&key).unwrap(), Some(pe));
        }
        assert_eq!(
            PathElement::key(vec![
                ("port".into(), json!(80)),
                ("name".into(), json!("a"))
            ])
            .to_fields_v1_key(),
            r#"k:{"name":"a","port":80}"#
        );
        assert_eq!(PathElement::from_fields_v1_key("z:x").unwrap(), None);
        assert!(PathElement::from_fields_v1_key("f").is_err());
        assert!(PathElement::from_fields_v1_key("k:[1]").is_err());
    }

    #[test]
    fn order_is_kubernetes_order() {
        let mut elements = vec![
            PathElement::Index(0),
            PathElement::Value(json!(null)),
            PathElement::Value(json!(true)),
            PathElement::Value(json!("a")),
            PathElement::Value(json!(2)),
            PathElement::Value(json!(1.5)),
            PathElement::key(vec![("a".into(), json!(1))]),
            PathElement::field("b"),
            PathElement::field("a"),
        ];
        elements.sort();
        let keys: Vec<String> = elements.iter().map(|e| e.to_fields_v1_key()).collect();
        assert_eq!(
            keys,
            [
                "f:a",
                "f:b",
                r#"k:{"a":1}"#,
                "v:1.5",
                "v:2",
                r#"v:"a""#,
                "v:true",
                "v:null",
                "i:0"
            ]
        );
        assert_eq!(compare_values(&json!(1), &json!(1.0)), Ordering::Equal);
    }

    #[test]
    fn paths_print_as_kubernetes_prints_them() {
        let path = vec![
            PathElement::field("spec"),
            PathElement::key(vec![("name".into(), json!("app"))]),
            PathElement::field("image"),
        ];
        assert_eq!(display_path(&path), r#".spec[name="app"].image"#);
        assert_eq!(PathElement::Value(json!("x")).to_string(), r#"[="x"]"#);
    }
}
