//! Field sets: which fields, list items and map entries of an object someone owns, as a tree
//! (`members` are paths that end here, `children` paths that go on), and their FieldsV1 JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::path::{Path, PathElement};
use crate::schema::{Atom, Schema, TypeRef};

/// A set of paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    members: BTreeSet<PathElement>,
    /// Never holds an empty set.
    children: BTreeMap<PathElement, Set>,
}

impl Set {
    /// The empty set (usable in statics).
    pub const EMPTY: Set = Set {
        members: BTreeSet::new(),
        children: BTreeMap::new(),
    };

    pub fn new() -> Self {
        Set::default()
    }

    /// The set of `paths`.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a [PathElement]>) -> Self {
        let mut set = Set::new();
        for p in paths {
            set.insert(p);
        }
        set
    }

    /// Adds `path` (the empty path adds nothing).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// The paths under `pe`.
    pub fn with_prefix(&self, pe: &PathElement) -> Option<&Set> {
        self.children.get(pe)
    }

    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &Set)> {
        self.children.iter()
    }

    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    pub fn intersection(&self, other: &Set) -> Set {
        Set {
            members: self.members.intersection(&other.members).cloned().collect(),
            children: self
                .children
                .iter()
                .filter_map(|(pe, mine)| {
                    let theirs = other.children.get(pe)?;
                    let both = mine.intersection(theirs);
                    (!both.is_empty()).then(|| (pe.clone(), both))
                })
                .collect(),
        }
    }

    /// The paths of `self` not in `other` (a path's descendants are kept unless removed too).
    pub fn difference(&self, other: &Set) -> Set {
        Set {
            members: self.members.difference(&other.members).cloned().collect(),
            children: self
                .children
                .iter()
                .filter_map(|(pe, mine)| match other.children.get(pe) {
                    None => Some((pe.clone(), mine.clone())),
                    Some(theirs) => {
                        let rest = mine.difference(theirs);
                        (!rest.is_empty()).then(|| (pe.clone(), rest))
                    }
                })
                .collect(),
        }
    }

    /// The paths of `self` neither in `other` nor under one of its members.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        Set {
            members: self.members.difference(&other.members).cloned().collect(),
            children: self
                .children
                .iter()
                .filter(|(pe, _)| !other.members.contains(pe))
                .filter_map(|(pe, mine)| match other.children.get(pe) {
                    None => Some((pe.clone(), mine.clone())),
                    Some(theirs) => {
                        let rest = mine.recursive_difference(theirs);
                        (!rest.is_empty()).then(|| (pe.clone(), rest))
                    }
                })
                .collect(),
        }
    }

    /// Removes, in place, the paths of `other` and everything under its members (what
    /// [`recursive_difference`](Self::recursive_difference) returns, without copying).
    pub fn remove_recursive(&mut self, other: &Set) {
        if other.is_empty() || self.is_empty() {
            return;
        }
        for m in &other.members {
            self.members.remove(m);
            self.children.remove(m);
        }
        self.children
            .retain(|pe, mine| match other.children.get(pe) {
                Some(theirs) => {
                    mine.remove_recursive(theirs);
                    !mine.is_empty()
                }
                None => true,
            });
    }

    /// Every path, depth first in order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        // Members and children in one order, as Kubernetes iterates them.
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            let take_member = match (members.peek(), children.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(m), Some((c, _))) => *m <= *c,
            };
            if take_member {
                let m = members.next().expect("peeked");
                prefix.push(m.clone());
                out.push(prefix.clone());
                prefix.pop();
            } else {
                let (pe, child) = children.next().expect("peeked");
                prefix.push(pe.clone());
                child.collect_paths(prefix, out);
                prefix.pop();
            }
        }
    }

    /// The set plus, for every path through a struct's named field, that field itself (a set
    /// holding `a.b.c` also holds `a` when `a` is a struct field, but not `a.b` when `a` is a
    /// map): what pruning compares.
    pub fn ensure_named_fields_are_members(&self, schema: &Schema, tr: &TypeRef) -> Set {
        let atom = schema.resolve(tr);
        let mut members = self.members.clone();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            let child_type = match (pe, atom) {
                (PathElement::Field(name), Some(Atom::Map(map))) => {
                    if map.field(name).is_some() {
                        members.insert(pe.clone());
                    }
                    map.type_of(name)
                }
                (PathElement::Key(_), Some(Atom::List(list))) => Some(list.element.clone()),
                _ => None,
            };
            let child = match child_type {
                Some(t) => child.ensure_named_fields_are_members(schema, &t),
                None => child.ensure_named_fields_are_members(schema, &TypeRef::Untyped),
            };
            children.insert(pe.clone(), child);
        }
        Set { members, children }
    }

    /// The set as a FieldsV1 object (`{"f:spec":{"f:replicas":{}}}`, `".": {}` where a path
    /// with children is a member too), keys in Kubernetes' element order when serde_json keeps
    /// insertion order (`preserve_order`, as the API server builds it).
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_contents(false))
    }

    fn fields_v1_contents(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        // Members and children merged in the elements' order, as Kubernetes writes them.
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            let next_member = match (members.peek(), children.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(m), Some((c, _))) => *m < *c,
            };
            if next_member {
                let m = members.next().expect("peeked");
                out.insert(m.to_fields_v1_key(), Value::Object(Map::new()));
            } else {
                let (pe, child) = children.next().expect("peeked");
                // A path that is a member and has children is written once, with `"."`.
                let member = members.peek() == Some(&pe);
                if member {
                    members.next();
                }
                out.insert(
                    pe.to_fields_v1_key(),
                    Value::Object(child.fields_v1_contents(member)),
                );
            }
        }
        out
    }

    /// Reads a FieldsV1 object. Element types this version does not know are skipped.
    pub fn from_fields_v1(value: &Value) -> Result<Set, String> {
        let Value::Object(map) = value else {
            return Err("FieldsV1 must be a JSON object".into());
        };
        let (set, _) = read_fields_v1(map)?;
        Ok(set)
    }
}

/// The children of an object, and whether it is a member itself (`"."`, or no children).
fn read_fields_v1(map: &Map<String, Value>) -> Result<(Set, bool), String> {
    let mut set = Set::new();
    let mut is_member = false;
    for (key, value) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::from_fields_v1_key(key)? else {
            continue;
        };
        let Value::Object(inner) = value else {
            return Err(format!("FieldsV1: {key} must hold a JSON object"));
        };
        let (grandchildren, child_is_member) = read_fields_v1(inner)?;
        if child_is_member {
            set.members.insert(pe.clone());
        }
        if !grandchildren.is_empty() {
            set.children.insert(pe, grandchildren);
        }
    }
    if set.is_empty() {
        is_member = true;
    }
    Ok((set, is_member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::field(name)
    }

    #[test]
    fn fields_v1_round_trips() {
        let doc = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:ports": {
                    "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}
                },
                "f:replicas": {}
            }
        });
        let set = Set::from_fields_v1(&doc).unwrap();
        assert!(set.has(&[f("metadata"), f("labels")]));
        assert!(set.has(&[f("metadata"), f("labels"), f("app")]));
        assert!(!set.has(&[f("metadata")]));
        assert!(set.has(&[f("spec"), f("replicas")]));
        assert_eq!(set.to_fields_v1(), doc);
        assert_eq!(
            serde_json::to_string(&set.to_fields_v1()).unwrap(),
            serde_json::to_string(&doc).unwrap()
        );
    }

    #[test]
    fn set_algebra() {
        let a = Set::from_paths([&[f("a"), f("b")][..], &[f("a")][..], &[f("c")][..]]);
        let b = Set::from_paths([&[f("a")][..], &[f("d")][..]]);
        assert_eq!(
            a.difference(&b),
            Set::from_paths([&[f("a"), f("b")][..], &[f("c")][..]])
        );
        assert_eq!(a.recursive_difference(&b), Set::from_paths([&[f("c")][..]]));
        let mut in_place = a.clone();
        in_place.remove_recursive(&b);
        assert_eq!(in_place, a.recursive_difference(&b));
        let deep = Set::from_paths([&[f("a"), f("b"), f("x")][..], &[f("a"), f("y")][..]]);
        let mut in_place = deep.clone();
        let under = Set::from_paths([&[f("a"), f("b")][..]]);
        in_place.remove_recursive(&under);
        assert_eq!(in_place, deep.recursive_difference(&under));
        assert_eq!(a.intersection(&b), Set::from_paths([&[f("a")][..]]));
        let u = a.union(&b);
        assert!(u.has(&[f("d")]) && u.has(&[f("a"), f("b")]));
        assert!(Set::new().intersection(&a).is_empty());
        assert_eq!(
            a.paths(),
            vec![vec![f("a")], vec![f("a"), f("b")], vec![f("c")]]
        );
    }
}
