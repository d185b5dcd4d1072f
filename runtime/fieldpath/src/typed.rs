//! Objects walked by their schema (Go's structured-merge-diff `typed`): the set of fields a value
//! sets, merging an applied configuration into an object, comparing two objects, and removing or
//! extracting the items of a set.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::path::{Path, PathElement, compare_values};
use crate::schema::{Atom, Deduced, ListKind, ListType, MapType, Schema, TypeRef};
use crate::set::Set;

/// A value that does not fit its schema (a duplicate list-map key, a missing key field, a set
/// item that is not a scalar).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// Where, as Kubernetes prints paths (`.spec.ports[port=80]`).
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

fn error(path: &[PathElement], message: impl Into<String>) -> ValidationError {
    ValidationError {
        path: crate::path::display_path(path),
        message: message.into(),
    }
}

/// What changed between two objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// The comparison without the paths of `ignored` (and what is under them).
    pub fn exclude(mut self, ignored: &Set) -> Comparison {
        self.added.remove_recursive(ignored);
        self.modified.remove_recursive(ignored);
        self.removed.remove_recursive(ignored);
        self
    }
}

/// Deeper than any real object: a walk stops there (serde_json refuses deeper input anyway).
const MAX_WALK_DEPTH: usize = 512;

/// A schema and the type of the objects walked.
#[derive(Clone, Copy, Debug)]
pub struct Typed<'a> {
    pub schema: &'a Schema,
    pub root: &'a TypeRef,
}

impl<'a> Typed<'a> {
    pub fn new(schema: &'a Schema, root: &'a TypeRef) -> Self {
        Typed { schema, root }
    }

    /// Every field, list item and map entry `value` sets.
    pub fn to_field_set(&self, value: &Value) -> Result<Set, ValidationError> {
        let mut set = Set::new();
        let mut path = Vec::new();
        self.field_set(value, self.root, &mut path, &mut set)?;
        Ok(set)
    }

    fn field_set(
        &self,
        value: &Value,
        tr: &TypeRef,
        path: &mut Path,
        set: &mut Set,
    ) -> Result<(), ValidationError> {
        match self.deduce(tr, Some(value), path)? {
            Deduced::Scalar | Deduced::Atom(Atom::Scalar(_)) | Deduced::UntypedList => {
                set.insert(path)
            }
            Deduced::Atom(Atom::List(list)) => {
                if list.kind == ListKind::Atomic {
                    set.insert(path);
                    return Ok(());
                }
                let Value::Array(items) = value else {
                    return Ok(());
                };
                for (i, item) in items.iter().enumerate() {
                    path.push(self.item_element(list, i, item, path)?);
                    self.field_set(item, &list.element, path, set)?;
                    set.insert(path);
                    path.pop();
                }
            }
            Deduced::Atom(Atom::Map(map)) => {
                if map.atomic {
                    set.insert(path);
                    return Ok(());
                }
                let Value::Object(entries) = value else {
                    return Ok(());
                };
                for (key, child) in entries {
                    let child_type = map.type_of(key).unwrap_or(TypeRef::Untyped);
                    path.push(PathElement::Field(key.clone()));
                    self.field_set(child, &child_type, path, set)?;
                    let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                    if empty || map.field(key).is_none() {
                        set.insert(path);
                    }
                    path.pop();
                }
            }
        }
        Ok(())
    }

    /// What of `value` does not fit its schema. The keys it does not declare, as
    /// structured-merge-diff reports them
    /// when it types an object (`.spec.bogus: field not declared in schema`): at any depth, the
    /// first of each object. Keys of open maps (`x-kubernetes-preserve-unknown-fields`,
    /// `additionalProperties`) and untyped values are declared. And, as it reports them too,
    /// values of the wrong shape: anything but an object (or `null`) where the schema has a
    /// map, anything but an array (or `null`) where it has a list.
    pub fn misfits(&self, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.misfits_in(value, self.root, &mut Vec::new(), &mut out, 0);
        out
    }

    fn misfits_in(
        &self,
        value: &Value,
        tr: &TypeRef,
        path: &mut Path,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let Ok(deduced) = self.deduce(tr, Some(value), path) else {
            return;
        };
        match (deduced, value) {
            (Deduced::Atom(Atom::List(list)), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    // An item that cannot be named (a missing key) is the merge's to report.
                    let Ok(pe) = self.item_element(list, i, item, path) else {
                        continue;
                    };
                    path.push(pe);
                    self.misfits_in(item, &list.element, path, out, depth + 1);
                    path.pop();
                }
            }
            (Deduced::Atom(Atom::Map(map)), Value::Object(entries)) => {
                for (key, child) in entries {
                    path.push(PathElement::Field(key.clone()));
                    match (map.field(key), &map.element) {
                        (Some(f), _) => self.misfits_in(child, &f.type_ref, path, out, depth + 1),
                        (None, Some(element)) => {
                            self.misfits_in(child, element, path, out, depth + 1)
                        }
                        (None, None) if map.open => {}
                        (None, None) => {
                            out.push(format!(
                                "{}: field not declared in schema",
                                crate::path::display_path(path)
                            ));
                            path.pop();
                            // structured-merge-diff stops at an object's first such key.
                            break;
                        }
                    }
                    path.pop();
                }
            }
            (Deduced::Atom(atom @ (Atom::Map(_) | Atom::List(_))), value) if !value.is_null() => {
                let expected = if matches!(atom, Atom::Map(_)) {
                    "map"
                } else {
                    "list"
                };
                out.push(format!(
                    "{}: expected {expected}, got {}",
                    crate::path::display_path(path),
                    shape(value)
                ));
            }
            _ => {}
        }
    }

    /// Drops the `null`s of `value` its schema does not allow — a declared field or map value
    /// that is not `nullable` and not untyped (a `null` there is arbitrary JSON's own) — at any
    /// depth, as a CRD's structural schema prunes them; whether any was dropped.
    pub fn prune_nulls(&self, value: &mut Value) -> bool {
        self.prune_in(value, self.root, 0)
    }

    fn prune_in(&self, value: &mut Value, tr: &TypeRef, depth: usize) -> bool {
        if depth > MAX_WALK_DEPTH {
            return false;
        }
        let Ok(deduced) = self.deduce(tr, Some(value), &[]) else {
            return false;
        };
        let mut dropped = false;
        match (deduced, value) {
            (Deduced::Atom(Atom::List(list)), Value::Array(items)) => {
                for item in items.iter_mut().filter(|i| !i.is_null()) {
                    dropped |= self.prune_in(item, &list.element, depth + 1);
                }
            }
            (Deduced::Atom(Atom::Map(map)), Value::Object(entries)) => {
                let mut remove = Vec::new();
                for (key, child) in entries.iter_mut() {
                    let (child_type, nullable) = match (map.field(key), &map.element) {
                        (Some(f), _) => (&f.type_ref, f.nullable),
                        (None, Some(element)) => (element, false),
                        (None, None) => continue,
                    };
                    if !child.is_null() {
                        dropped |= self.prune_in(child, child_type, depth + 1);
                    } else if !nullable && *child_type != TypeRef::Untyped {
                        remove.push(key.clone());
                    }
                }
                dropped |= !remove.is_empty();
                for key in remove {
                    entries.remove(&key);
                }
            }
            _ => {}
        }
        dropped
    }

    /// `config` applied onto `live`: scalars and atomic values replaced, granular maps merged
    /// key by key, list-maps and sets item by item (live items first, in their order, then new
    /// ones in the config's).
    pub fn merge(&self, live: &Value, config: &Value) -> Result<Value, ValidationError> {
        let mut walker = Walker {
            typed: *self,
            mode: Mode::Merge,
            path: Vec::new(),
        };
        Ok(walker
            .walk(Some(live), Some(config), self.root)?
            .unwrap_or(Value::Null))
    }

    /// What changed from `old` to `new`.
    pub fn compare(&self, old: &Value, new: &Value) -> Result<Comparison, ValidationError> {
        let mut walker = Walker {
            typed: *self,
            mode: Mode::Compare(Comparison::default()),
            path: Vec::new(),
        };
        walker.walk(Some(old), Some(new), self.root)?;
        match walker.mode {
            Mode::Compare(c) => Ok(c),
            Mode::Merge => unreachable!("compare walks in compare mode"),
        }
    }

    /// `value` without the items of `set` (a map or list left empty becomes null, as in
    /// Kubernetes).
    pub fn remove_items(&self, value: &Value, set: &Set) -> Value {
        self.remove(value, set, self.root, false)
    }

    /// Only the items of `set` in `value`.
    pub fn extract_items(&self, value: &Value, set: &Set) -> Value {
        self.remove(value, set, self.root, true)
    }

    fn remove(&self, value: &Value, set: &Set, tr: &TypeRef, extract: bool) -> Value {
        let Ok(deduced) = self.deduce(tr, Some(value), &[]) else {
            return value.clone();
        };
        match deduced {
            Deduced::Scalar | Deduced::Atom(Atom::Scalar(_)) => value.clone(),
            Deduced::UntypedList => {
                if extract {
                    value.clone()
                } else {
                    Value::Null
                }
            }
            Deduced::Atom(Atom::List(list)) => {
                let Value::Array(items) = value else {
                    return Value::Null;
                };
                if items.is_empty() {
                    return Value::Null;
                }
                if list.kind == ListKind::Atomic {
                    return if extract { value.clone() } else { Value::Null };
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let Ok(pe) = self.item_element(list, i, item, &[]) else {
                        out.push(item.clone());
                        continue;
                    };
                    if set.has(std::slice::from_ref(&pe)) {
                        if extract {
                            out.push(item.clone());
                        }
                        continue;
                    }
                    match set.with_prefix(&pe) {
                        Some(subset) => out.push(self.remove(item, subset, &list.element, extract)),
                        None if extract => {}
                        None => out.push(item.clone()),
                    }
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Array(out)
                }
            }
            Deduced::Atom(Atom::Map(map)) => {
                let Value::Object(entries) = value else {
                    return Value::Null;
                };
                if entries.is_empty() {
                    return Value::Null;
                }
                if map.atomic {
                    return if extract { value.clone() } else { Value::Null };
                }
                let mut out = Map::new();
                for (key, child) in entries {
                    let pe = PathElement::Field(key.clone());
                    let child_type = map.type_of(key).unwrap_or(TypeRef::Untyped);
                    if set.has(std::slice::from_ref(&pe)) {
                        if extract {
                            out.insert(key.clone(), child.clone());
                        }
                        continue;
                    }
                    match set.with_prefix(&pe) {
                        Some(subset) => {
                            out.insert(
                                key.clone(),
                                self.remove(child, subset, &child_type, extract),
                            );
                        }
                        None if extract => {}
                        None => {
                            out.insert(key.clone(), child.clone());
                        }
                    }
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Object(out)
                }
            }
        }
    }

    fn deduce(
        &self,
        tr: &'a TypeRef,
        value: Option<&Value>,
        path: &[PathElement],
    ) -> Result<Deduced<'a>, ValidationError> {
        self.schema.deduce(tr, value).ok_or_else(|| {
            error(
                path,
                format!("schema error: no type found matching: {tr:?}"),
            )
        })
    }

    /// The path element of a list item.
    fn item_element(
        &self,
        list: &ListType,
        index: usize,
        item: &Value,
        path: &[PathElement],
    ) -> Result<PathElement, ValidationError> {
        match &list.kind {
            ListKind::Atomic => Ok(PathElement::Index(index)),
            ListKind::Set => match item {
                Value::Object(_) => Err(error(
                    path,
                    format!(
                        "element {index}: associative list without keys has an element that's a map type"
                    ),
                )),
                Value::Array(_) => Err(error(
                    path,
                    format!(
                        "element {index}: not supported: associative list with lists as elements"
                    ),
                )),
                Value::Null => Err(error(
                    path,
                    format!(
                        "element {index}: associative list without keys has an element that's an explicit null"
                    ),
                )),
                scalar => Ok(PathElement::Value(scalar.clone())),
            },
            ListKind::Map { keys } => {
                let Value::Object(fields) = item else {
                    return Err(error(
                        path,
                        format!(
                            "element {index}: associative list with keys may not have {} elements",
                            if item.is_null() { "a null" } else { "non-map" }
                        ),
                    ));
                };
                let element = match self.schema.resolve(&list.element) {
                    Some(Atom::Map(m)) => Some(m),
                    _ => None,
                };
                let mut key = Vec::with_capacity(keys.len());
                for name in keys {
                    let value = fields.get(name).cloned().or_else(|| {
                        element
                            .and_then(|m: &MapType| m.field(name))
                            .and_then(|f| f.default.clone())
                    });
                    match value {
                        Some(v) => key.push((name.clone(), v)),
                        None => {
                            return Err(error(
                                path,
                                format!(
                                    "element {index}: associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                                    name
                                ),
                            ));
                        }
                    }
                }
                Ok(PathElement::key(key))
            }
        }
    }
}

enum Mode {
    Merge,
    Compare(Comparison),
}

struct Walker<'a> {
    typed: Typed<'a>,
    mode: Mode,
    path: Path,
}

impl<'a> Walker<'a> {
    /// Walks `lhs` and `rhs` together; in merge mode returns the merged value (`None`: absent).
    fn walk(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        tr: &'a TypeRef,
    ) -> Result<Option<Value>, ValidationError> {
        let deduced = self.typed.deduce(tr, rhs.or(lhs), &self.path)?;
        let (out, leaf) = match deduced {
            Deduced::Scalar | Deduced::Atom(Atom::Scalar(_)) | Deduced::UntypedList => {
                (self.leaf(lhs, rhs), true)
            }
            Deduced::Atom(Atom::List(list)) => {
                let l = lhs.and_then(Value::as_array);
                let r = rhs.and_then(Value::as_array);
                let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
                if list.kind == ListKind::Atomic || empty {
                    (self.leaf(lhs, rhs), true)
                } else {
                    (self.list_items(list, l, r)?, false)
                }
            }
            Deduced::Atom(Atom::Map(map)) => {
                let l = lhs.and_then(Value::as_object);
                let r = rhs.and_then(Value::as_object);
                let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
                if map.atomic || empty {
                    (self.leaf(lhs, rhs), true)
                } else {
                    (self.map_items(map, l, r)?, false)
                }
            }
        };
        if !leaf && let Mode::Compare(c) = &mut self.mode {
            if lhs.is_none() {
                c.added.insert(&self.path);
            } else if rhs.is_none() {
                c.removed.insert(&self.path);
            }
        }
        Ok(out)
    }

    fn leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
        match &mut self.mode {
            Mode::Merge => rhs.or(lhs).cloned(),
            Mode::Compare(c) => {
                match (lhs, rhs) {
                    (None, _) => c.added.insert(&self.path),
                    (_, None) => c.removed.insert(&self.path),
                    (Some(l), Some(r)) if !equal(l, r) => c.modified.insert(&self.path),
                    _ => {}
                }
                None
            }
        }
    }

    fn list_items(
        &mut self,
        list: &'a ListType,
        lhs: Option<&Vec<Value>>,
        rhs: Option<&Vec<Value>>,
    ) -> Result<Option<Value>, ValidationError> {
        // Keys are looked up through the indexes: lists of many thousands of items
        // (finalizers, owner references) cost n log n, not n².
        let (lhs_groups, lhs_index) = self.grouped(list, lhs)?;
        let (rhs_groups, rhs_index) = self.grouped(list, rhs)?;
        // An apply's configuration must name each item once, as in structured-merge-diff.
        // Updates may hold duplicates (Kubernetes 1.29+ reads them with `AllowDuplicates`: two
        // equal finalizers are no error), so the object an apply lands on may too: the items
        // of a duplicated key are one unit, compared whole, and replaced whole by an applied
        // item of that key.
        if matches!(self.mode, Mode::Merge)
            && let Some((pe, _)) = rhs_groups.iter().find(|(_, items)| items.len() > 1)
        {
            return Err(error(&self.path, format!("duplicate entries for key {pe}")));
        }
        let theirs_of = |pe: &PathElement| rhs_index.get(pe).map(|&i| rhs_groups[i].1.as_slice());
        let mut out = Vec::new();
        for (pe, mine) in &lhs_groups {
            let theirs = theirs_of(pe);
            if mine.len() > 1 || theirs.is_some_and(|t| t.len() > 1) {
                match (&self.mode, theirs) {
                    (Mode::Merge, Some(theirs)) => {
                        self.path.push(pe.clone());
                        let merged = self.walk(None, Some(theirs[0]), &list.element);
                        self.path.pop();
                        out.extend(merged?);
                    }
                    (Mode::Merge, None) => out.extend(mine.iter().map(|v| (*v).clone())),
                    (Mode::Compare(_), _) => {
                        self.duplicated_unit(pe, mine, theirs.unwrap_or_default())
                    }
                }
                continue;
            }
            self.path.push(pe.clone());
            let merged = self.walk(Some(mine[0]), theirs.map(|t| t[0]), &list.element);
            self.path.pop();
            out.extend(merged?);
        }
        for (pe, theirs) in &rhs_groups {
            if lhs_index.contains_key(pe) {
                continue;
            }
            if theirs.len() > 1 {
                self.duplicated_unit(pe, &[], theirs);
                continue;
            }
            self.path.push(pe.clone());
            let merged = self.walk(None, Some(theirs[0]), &list.element);
            self.path.pop();
            out.extend(merged?);
        }
        Ok((!out.is_empty()).then_some(Value::Array(out)))
    }

    /// The items of `list` in `values` by path element, in first-seen order (one item per key,
    /// unless the list holds a key more than once), and where each key's group is.
    #[allow(clippy::type_complexity)]
    fn grouped<'v>(
        &self,
        list: &ListType,
        values: Option<&'v Vec<Value>>,
    ) -> Result<
        (
            Vec<(PathElement, Vec<&'v Value>)>,
            BTreeMap<PathElement, usize>,
        ),
        ValidationError,
    > {
        let mut groups: Vec<(PathElement, Vec<&'v Value>)> = Vec::new();
        let mut index: BTreeMap<PathElement, usize> = BTreeMap::new();
        for (i, item) in values.into_iter().flatten().enumerate() {
            let pe = self.typed.item_element(list, i, item, &self.path)?;
            match index.get(&pe) {
                Some(&at) => groups[at].1.push(item),
                None => {
                    index.insert(pe.clone(), groups.len());
                    groups.push((pe, vec![item]));
                }
            }
        }
        Ok((groups, index))
    }

    /// A key some side holds more than once, compared as one unit (compare mode only).
    fn duplicated_unit(&mut self, pe: &PathElement, mine: &[&Value], theirs: &[&Value]) {
        let Mode::Compare(c) = &mut self.mode else {
            return;
        };
        self.path.push(pe.clone());
        match (mine.is_empty(), theirs.is_empty()) {
            (true, _) => c.added.insert(&self.path),
            (_, true) => c.removed.insert(&self.path),
            _ if mine.len() != theirs.len()
                || mine.iter().zip(theirs).any(|(a, b)| !equal(a, b)) =>
            {
                c.modified.insert(&self.path)
            }
            _ => {}
        }
        self.path.pop();
    }

    fn map_items(
        &mut self,
        map: &'a MapType,
        lhs: Option<&Map<String, Value>>,
        rhs: Option<&Map<String, Value>>,
    ) -> Result<Option<Value>, ValidationError> {
        let mut out = Map::new();
        let keys = lhs.into_iter().flat_map(|m| m.keys()).chain(
            rhs.into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| lhs.is_none_or(|l| !l.contains_key(*k))),
        );
        for key in keys {
            let child_type = match map.field(key) {
                Some(f) => &f.type_ref,
                None => map.element.as_ref().unwrap_or(&TypeRef::Untyped),
            };
            self.path.push(PathElement::Field(key.clone()));
            let merged = self.walk(
                lhs.and_then(|m| m.get(key)),
                rhs.and_then(|m| m.get(key)),
                child_type,
            );
            self.path.pop();
            if let Some(v) = merged? {
                out.insert(key.clone(), v);
            }
        }
        Ok((!out.is_empty()).then_some(Value::Object(out)))
    }
}

/// Deep equality with numbers compared as numbers (1 == 1.0).
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare_values(a, b) == std::cmp::Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// What a JSON value is, in a message.
fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> (Schema, TypeRef) {
        let defs = json!({
            "T": {"type": "object", "properties": {
                "name": {"type": "string"},
                "replicas": {"type": "integer"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "args": {"type": "array", "items": {"type": "string"}},
                "ports": {"type": "array", "items": {"$ref": "#/definitions/P"},
                          "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"]},
                "sel": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
            }},
            "P": {"type": "object", "properties": {
                "port": {"type": "integer"}, "name": {"type": "string"}, "proto": {"type": "string"}
            }}
        });
        (
            Schema::from_openapi(defs.as_object().unwrap()),
            TypeRef::Named("T".into()),
        )
    }

    #[test]
    fn field_sets_follow_the_schema() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let set = t
            .to_field_set(&json!({
                "name": "a",
                "labels": {"x": "1"},
                "tags": ["b", "a"],
                "args": ["z"],
                "ports": [{"port": 80, "name": "http"}],
                "sel": {"a": "1"}
            }))
            .unwrap();
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:args": {},
                "f:labels": {"f:x": {}},
                "f:name": {},
                "f:ports": {"k:{\"port\":80}": {".": {}, "f:name": {}, "f:port": {}}},
                "f:sel": {},
                "f:tags": {"v:\"a\"": {}, "v:\"b\"": {}}
            })
        );
        let err = t
            .to_field_set(&json!({"ports": [{"name": "x"}]}))
            .unwrap_err();
        assert!(err.message.contains("omits key field \"port\""), "{err}");
        assert_eq!(err.path, ".ports");
    }

    #[test]
    fn merge_replaces_atomics_and_merges_granular_values() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let live = json!({
            "name": "a", "replicas": 1, "labels": {"x": "1"}, "tags": ["a"], "args": ["1", "2"],
            "ports": [{"port": 80, "name": "http"}, {"port": 443}], "sel": {"a": "1", "b": "2"}
        });
        let config = json!({
            "replicas": 2, "labels": {"y": "2"}, "tags": ["b"], "args": ["3"],
            "ports": [{"port": 8080}, {"port": 80, "proto": "TCP"}], "sel": {"a": "9"}
        });
        assert_eq!(
            t.merge(&live, &config).unwrap(),
            json!({
                "name": "a", "replicas": 2, "labels": {"x": "1", "y": "2"}, "tags": ["a", "b"],
                "args": ["3"],
                "ports": [{"port": 80, "name": "http", "proto": "TCP"}, {"port": 443}, {"port": 8080}],
                "sel": {"a": "9"}
            })
        );
        let dup = t.merge(&live, &json!({"tags": ["b", "b"]})).unwrap_err();
        assert!(dup.message.contains("duplicate entries"), "{dup}");
    }

    #[test]
    fn compare_names_added_modified_and_removed_paths() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let c = t
            .compare(
                &json!({"name": "a", "labels": {"x": "1"}, "ports": [{"port": 80}]}),
                &json!({"name": "b", "labels": {"y": "1"}, "replicas": 1.0}),
            )
            .unwrap();
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:labels": {"f:y": {}}, "f:replicas": {}})
        );
        assert_eq!(c.modified.to_fields_v1(), json!({"f:name": {}}));
        assert_eq!(
            c.removed.to_fields_v1(),
            json!({"f:labels": {"f:x": {}}, "f:ports": {".": {}, "k:{\"port\":80}": {".": {}, "f:port": {}}}})
        );
        assert!(
            t.compare(&json!({"replicas": 1}), &json!({"replicas": 1.0}))
                .unwrap()
                .is_same()
        );
    }

    /// Long set and map lists (thousands of finalizers or owner references) compare and merge
    /// item by item through their keys' index: every change found, the merge in order.
    #[test]
    fn long_keyed_lists_compare_and_merge_by_key() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let n = 20_000;
        let tags: Vec<String> = (0..n).map(|i| format!("example.com/f{i}")).collect();
        let ports: Vec<Value> = (0..n).map(|i| json!({"port": i, "name": "p"})).collect();
        let old = json!({"tags": tags, "ports": ports});
        let mut new = old.clone();
        new["tags"][n / 2] = json!("example.com/other");
        new["ports"][n - 1]["name"] = json!("changed");
        let c = t.compare(&old, &new).unwrap();
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:tags": {"v:\"example.com/other\"": {}}})
        );
        assert_eq!(
            c.removed.to_fields_v1(),
            json!({"f:tags": {format!("v:\"example.com/f{}\"", n / 2): {}}})
        );
        assert_eq!(
            c.modified.to_fields_v1(),
            json!({"f:ports": {format!("k:{{\"port\":{}}}", n - 1): {"f:name": {}}}})
        );
        let merged = t
            .merge(
                &old,
                &json!({"tags": ["example.com/new"], "ports": [{"port": 0, "name": "q"}]}),
            )
            .unwrap();
        assert_eq!(merged["tags"].as_array().unwrap().len(), n + 1);
        assert_eq!(merged["tags"][n], "example.com/new");
        assert_eq!(merged["ports"][0], json!({"port": 0, "name": "q"}));
        assert_eq!(merged["ports"].as_array().unwrap().len(), n);
    }

    #[test]
    fn compare_takes_a_duplicated_key_as_one_unit() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        // Unchanged duplicates are no change; a duplicate's group changing is one modification.
        let same = json!({"tags": ["a", "a"], "ports": [{"port": 80}, {"port": 80, "name": "h"}]});
        assert!(t.compare(&same, &same).unwrap().is_same());
        let c = t
            .compare(
                &json!({"tags": ["a", "a", "b"], "ports": [{"port": 80}, {"port": 80}]}),
                &json!({"tags": ["a", "b", "c", "c"], "ports": [{"port": 80}, {"port": 80, "name": "h"}]}),
            )
            .unwrap();
        assert_eq!(
            c.modified.to_fields_v1(),
            json!({"f:ports": {"k:{\"port\":80}": {}}, "f:tags": {"v:\"a\"": {}}})
        );
        assert_eq!(c.added.to_fields_v1(), json!({"f:tags": {"v:\"c\"": {}}}));
        assert!(c.removed.is_empty(), "{:?}", c.removed);
    }

    #[test]
    fn an_apply_lands_on_duplicates_an_update_left() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let live = json!({"tags": ["a", "a", "b"], "name": "x"});
        // Not named by the configuration: kept as they are.
        assert_eq!(
            t.merge(&live, &json!({"name": "y"})).unwrap(),
            json!({"tags": ["a", "a", "b"], "name": "y"})
        );
        // Named: the applied item replaces the duplicates.
        assert_eq!(
            t.merge(&live, &json!({"tags": ["a"]})).unwrap(),
            json!({"tags": ["a", "b"], "name": "x"})
        );
    }

    #[test]
    fn remove_and_extract_items() {
        let (schema, root) = schema();
        let t = Typed::new(&schema, &root);
        let obj = json!({"name": "a", "labels": {"x": "1", "y": "2"}, "ports": [{"port": 80, "name": "h"}, {"port": 1}]});
        let set = Set::from_fields_v1(&json!({
            "f:labels": {"f:x": {}}, "f:ports": {"k:{\"port\":1}": {}}
        }))
        .unwrap();
        assert_eq!(
            t.remove_items(&obj, &set),
            json!({"name": "a", "labels": {"y": "2"}, "ports": [{"port": 80, "name": "h"}]})
        );
        assert_eq!(
            t.extract_items(&obj, &set),
            json!({"labels": {"x": "1"}, "ports": [{"port": 1}]})
        );
        let all = Set::from_fields_v1(&json!({"f:labels": {"f:x": {}, "f:y": {}}})).unwrap();
        assert_eq!(
            t.remove_items(&json!({"labels": {"x": "1", "y": "2"}}), &all),
            json!({"labels": null})
        );
    }
}
