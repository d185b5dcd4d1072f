//! The shape of objects as field ownership sees it (Go's structured-merge-diff `schema`):
//! scalars, structs and maps (granular or atomic), lists (atomic, sets, or maps keyed by some of
//! their items' fields), and untyped values whose shape is read from the value itself. Read from
//! OpenAPI definitions with Kubernetes' extensions (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, the patch strategy of older schemas).

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Where a type is defined.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeRef {
    /// A definition of the schema, by name.
    Named(String),
    /// Defined in place.
    Inline(Box<Atom>),
    /// Shape read from the value (Go's `__untyped_deduced_`): maps granular, lists atomic.
    Untyped,
}

/// One type.
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    Scalar(Scalar),
    List(ListType),
    /// A struct (named fields), a map (`element` for every key), or both.
    Map(MapType),
}

/// What a scalar holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    String,
    /// Integers and floats.
    Numeric,
    Boolean,
    /// Any scalar.
    Untyped,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListType {
    pub element: TypeRef,
    pub kind: ListKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ListKind {
    /// Replaced as a whole; owned as a whole.
    Atomic,
    /// Items are scalars, each owned on its own.
    Set,
    /// Items are objects identified by these fields.
    Map { keys: Vec<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapType {
    /// Named fields, in their schema's order.
    pub fields: Vec<(String, Field)>,
    /// The type of keys that are not named fields (`None`: untyped).
    pub element: Option<TypeRef>,
    /// `x-kubernetes-map-type: atomic`: replaced and owned as a whole.
    pub atomic: bool,
    /// Whether keys that are neither fields nor typed by `element` are accepted
    /// (`x-kubernetes-preserve-unknown-fields`, `additionalProperties: true`, or an object
    /// schema that names nothing): a closed struct's other keys are "not declared in schema".
    pub open: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub type_ref: TypeRef,
    /// The schema's `default` (used for list-map keys an item omits).
    pub default: Option<Value>,
    /// `nullable: true` (on the property or the definition it names): `null` is a value here.
    pub nullable: bool,
}

impl MapType {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    /// The type of the value under `key`: its field's, else the element type.
    pub fn type_of(&self, key: &str) -> Option<TypeRef> {
        match self.field(key) {
            Some(f) => Some(f.type_ref.clone()),
            None => Some(self.element.clone().unwrap_or(TypeRef::Untyped)),
        }
    }
}

/// Named types.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    types: HashMap<String, Atom>,
}

static UNTYPED_MAP: std::sync::LazyLock<Atom> = std::sync::LazyLock::new(|| {
    Atom::Map(MapType {
        fields: Vec::new(),
        element: Some(TypeRef::Untyped),
        atomic: false,
        open: true,
    })
});

impl Schema {
    /// The atom `tr` names (for `Untyped`, a granular map of untyped values; lists and scalars
    /// are told apart by [`deduce`](Self::deduce)).
    pub fn resolve<'a>(&'a self, tr: &'a TypeRef) -> Option<&'a Atom> {
        match tr {
            TypeRef::Named(name) => self.types.get(name),
            TypeRef::Inline(atom) => Some(atom),
            TypeRef::Untyped => Some(&UNTYPED_MAP),
        }
    }

    /// The atom of `value` under `tr`: an untyped value's shape is the value's.
    pub fn deduce<'a>(&'a self, tr: &'a TypeRef, value: Option<&Value>) -> Option<Deduced<'a>> {
        if *tr == TypeRef::Untyped {
            return Some(match value {
                Some(Value::Object(_)) => Deduced::Atom(&UNTYPED_MAP),
                Some(Value::Array(_)) => Deduced::UntypedList,
                _ => Deduced::Scalar,
            });
        }
        self.resolve(tr).map(Deduced::Atom)
    }

    /// The schema of OpenAPI `definitions` (v2 `#/definitions/…` or v3
    /// `#/components/schemas/…` references), every definition a named type.
    pub fn from_openapi(definitions: &Map<String, Value>) -> Schema {
        let mut types = HashMap::new();
        for (name, schema) in definitions {
            types.insert(name.clone(), atom_of(schema, definitions));
        }
        Schema { types }
    }

    /// Adds a named type.
    pub fn insert(&mut self, name: impl Into<String>, atom: Atom) {
        self.types.insert(name.into(), atom);
    }
}

/// What a value is under its type.
#[derive(Clone, Copy, Debug)]
pub enum Deduced<'a> {
    Atom(&'a Atom),
    /// An untyped list: atomic, its items untyped.
    UntypedList,
    /// An untyped scalar.
    Scalar,
}

/// The type a property's schema names.
fn type_ref_of(schema: &Value, defs: &Map<String, Value>) -> TypeRef {
    if let Some(target) = reference(schema) {
        return if defs.contains_key(&target) {
            TypeRef::Named(target)
        } else {
            TypeRef::Untyped
        };
    }
    match schema {
        Value::Object(_) if is_untyped(schema) => TypeRef::Untyped,
        Value::Object(_) => TypeRef::Inline(Box::new(atom_of(schema, defs))),
        _ => TypeRef::Untyped,
    }
}

/// The definition `schema` names: `$ref`, or `allOf: [{$ref}]` (a reference with a description
/// beside it). An `allOf` beside properties of the schema's own adds to them instead (see
/// [`add_object`]).
pub fn reference(schema: &Value) -> Option<String> {
    let target = |v: &Value| {
        v.get("$ref").and_then(Value::as_str).map(|r| {
            r.rsplit('/')
                .next()
                .unwrap_or(r)
                .replace("~1", "/")
                .replace("~0", "~")
        })
    };
    let wrapper = schema.get("properties").is_none() && schema.get("type").is_none();
    target(schema).or_else(|| match schema.get("allOf") {
        Some(Value::Array(all)) if all.len() == 1 && wrapper => target(&all[0]),
        _ => None,
    })
}

fn is_untyped(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        && schema.get("properties").is_none()
        || schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        || (schema.get("type").is_none()
            && schema.get("properties").is_none()
            && schema.get("additionalProperties").is_none()
            && schema.get("items").is_none()
            && reference(schema).is_none())
}

fn atom_of(schema: &Value, defs: &Map<String, Value>) -> Atom {
    if let Some(target) = reference(schema) {
        return match defs.get(&target) {
            // A definition that only points at another (rare): that one's shape.
            Some(def) if reference(def).is_none() => atom_of(def, defs),
            _ => Atom::Scalar(Scalar::Untyped),
        };
    }
    let ty = schema.get("type").and_then(Value::as_str);
    match ty {
        Some("array") => {
            let element = schema
                .get("items")
                .map_or(TypeRef::Untyped, |items| type_ref_of(items, defs));
            let list_type = schema.get("x-kubernetes-list-type").and_then(Value::as_str);
            let keys: Vec<String> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let merge_key = schema
                .get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str);
            let merges = schema
                .get("x-kubernetes-patch-strategy")
                .and_then(Value::as_str)
                .is_some_and(|s| s.split(',').any(|s| s == "merge"));
            let kind = match list_type {
                Some("atomic") => ListKind::Atomic,
                Some("set") => ListKind::Set,
                Some("map") => ListKind::Map { keys },
                // Older schemas say it with the patch strategy (as Kubernetes reads them).
                _ => match (merges, merge_key) {
                    (true, Some(key)) => ListKind::Map {
                        keys: vec![key.to_string()],
                    },
                    (true, None) => ListKind::Set,
                    _ => ListKind::Atomic,
                },
            };
            Atom::List(ListType { element, kind })
        }
        Some("object") | None
            if schema.get("properties").is_some()
                || schema.get("additionalProperties").is_some()
                || ty.is_some() =>
        {
            let mut map = MapType {
                fields: Vec::new(),
                element: None,
                atomic: schema.get("x-kubernetes-map-type").and_then(Value::as_str)
                    == Some("atomic"),
                open: false,
            };
            add_object(&mut map, schema, defs, 0);
            // An embedded resource's type meta and metadata need not be in its schema.
            if schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
                for name in ["apiVersion", "kind", "metadata"] {
                    if map.field(name).is_none() {
                        map.fields.push((
                            name.to_string(),
                            Field {
                                type_ref: TypeRef::Untyped,
                                default: None,
                                nullable: false,
                            },
                        ));
                    }
                }
            }
            Atom::Map(map)
        }
        Some("string") => Atom::Scalar(Scalar::String),
        Some("integer" | "number") => Atom::Scalar(Scalar::Numeric),
        Some("boolean") => Atom::Scalar(Scalar::Boolean),
        _ => Atom::Scalar(Scalar::Untyped),
    }
}

/// Adds what the object schema `schema` declares to `map`: its properties, its
/// `additionalProperties`, and those of the schemas its `allOf` adds beside its own properties
/// (a flattened type openapi-gen writes as a `$ref`), followed to their definitions.
fn add_object(map: &mut MapType, schema: &Value, defs: &Map<String, Value>, depth: usize) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            if map.field(name).is_some() {
                continue;
            }
            let target = reference(prop).and_then(|t| defs.get(&t));
            let nullable = |s: &Value| s.get("nullable") == Some(&Value::Bool(true));
            map.fields.push((
                name.clone(),
                Field {
                    type_ref: type_ref_of(prop, defs),
                    default: prop.get("default").cloned(),
                    nullable: nullable(prop) || target.is_some_and(nullable),
                },
            ));
        }
    }
    match schema.get("additionalProperties") {
        Some(Value::Object(_)) if map.element.is_none() => {
            map.element = schema
                .get("additionalProperties")
                .map(|ap| type_ref_of(ap, defs));
        }
        Some(Value::Bool(true)) => map.open = true,
        _ => {}
    }
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        map.open = true;
    }
    let has_own = schema.get("properties").is_some() || schema.get("type").is_some();
    let members: &[Value] = match schema.get("allOf") {
        Some(Value::Array(all)) if has_own => all,
        _ => &[],
    };
    if map.fields.is_empty()
        && map.element.is_none()
        && members.is_empty()
        && schema.get("additionalProperties").is_none()
    {
        // An object schema that names nothing takes anything.
        map.open = true;
    }
    for member in members {
        if depth >= MAX_DEPTH {
            map.open = true;
            break;
        }
        let resolved = reference(member)
            .and_then(|t| defs.get(&t))
            .unwrap_or(member);
        if is_untyped(resolved) {
            map.open = true;
        } else {
            add_object(map, resolved, defs, depth + 1);
        }
    }
}

/// Deeper `allOf` nesting than any real schema has: a loop, taken as open.
const MAX_DEPTH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_kubernetes_extensions() {
        let defs = json!({
            "T": {"type": "object", "properties": {
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "ports": {"type": "array", "items": {"$ref": "#/definitions/P"},
                          "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"]},
                "owners": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/P"}]},
                           "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "uid"},
                "args": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "sel": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {"a": {"type": "string"}}},
                "any": {"x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true},
                "meta": {"allOf": [{"$ref": "#/components/schemas/P"}], "description": "d"}
            }},
            "P": {"type": "object", "properties": {"port": {"type": "integer", "default": 80}}}
        });
        let schema = Schema::from_openapi(defs.as_object().unwrap());
        let root = TypeRef::Named("T".into());
        let Some(Atom::Map(t)) = schema.resolve(&root) else {
            panic!()
        };
        let list = |name: &str| match schema.resolve(&t.field(name).unwrap().type_ref) {
            Some(Atom::List(l)) => l.kind.clone(),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(list("tags"), ListKind::Set);
        assert_eq!(
            list("ports"),
            ListKind::Map {
                keys: vec!["port".into(), "protocol".into()]
            }
        );
        assert_eq!(
            list("owners"),
            ListKind::Map {
                keys: vec!["uid".into()]
            }
        );
        assert_eq!(list("args"), ListKind::Atomic);
        assert_eq!(t.field("any").unwrap().type_ref, TypeRef::Untyped);
        assert_eq!(t.field("port").unwrap().type_ref, TypeRef::Untyped);
        assert_eq!(
            t.field("meta").unwrap().type_ref,
            TypeRef::Named("P".into())
        );
        match schema.resolve(&t.field("sel").unwrap().type_ref) {
            Some(Atom::Map(m)) => assert!(m.atomic),
            other => panic!("{other:?}"),
        }
        match schema.resolve(&t.field("labels").unwrap().type_ref) {
            Some(Atom::Map(m)) => assert!(!m.atomic && m.element.is_some()),
            other => panic!("{other:?}"),
        }
    }

    /// A struct flattening a type written as a `$ref` (`allOf` beside its properties) has that
    /// type's fields too; preserve-unknown-fields or `additionalProperties: true` open a struct,
    /// and `nullable` (on a property or its definition) is read.
    #[test]
    fn flattened_members_open_structs_and_nullable_fields() {
        let defs = json!({
            "T": {"type": "object",
                  "properties": {"replicas": {"type": "integer"}, "note": {"type": "string", "nullable": true},
                                 "inner": {"allOf": [{"$ref": "#/components/schemas/N"}]}},
                  "allOf": [{"$ref": "#/components/schemas/P"}]},
            "P": {"type": "object", "properties": {"port": {"type": "integer"}}},
            "N": {"type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true,
                  "properties": {"a": {"type": "string"}}}
        });
        let schema = Schema::from_openapi(defs.as_object().unwrap());
        let map = |name: &str| match schema.resolve(&TypeRef::Named(name.into())) {
            Some(Atom::Map(m)) => m.clone(),
            other => panic!("{other:?}"),
        };
        let t = map("T");
        let mut names: Vec<&str> = t.fields.iter().map(|(n, _)| n.as_str()).collect();
        names.sort();
        assert_eq!(names, ["inner", "note", "port", "replicas"]);
        assert!(!t.open);
        assert!(t.field("note").unwrap().nullable);
        assert!(t.field("inner").unwrap().nullable, "from its definition");
        assert!(!t.field("replicas").unwrap().nullable);
        assert!(map("N").open);
    }
}
