//! Strategic merge patch: a port of apimachinery's `strategicpatch.StrategicMergeMapPatch`
//! (the apply half), driven by a [`PatchSchema`].

use super::*;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const ERR_BAD_PATCH_FORMAT_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

type Obj = Map<String, Value>;
type Entry = (String, Value);

/// Applies a strategic merge patch (already parsed) to `original`.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: &dyn PatchSchema,
) -> Result<Value, PatchError> {
    let patch = match patch {
        // Go unmarshals `null` into a nil map: nothing to do.
        Value::Null => return Ok(original.clone()),
        Value::Object(p) => p.clone(),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type(other)
            )));
        }
    };
    let original = match original {
        Value::Object(o) => o.clone(),
        Value::Null => Obj::new(),
        _ => return Err(PatchError::BadRequest("invalid JSON document".into())),
    };
    let smp = Smp { schema };
    let mut path = Vec::new();
    smp.merge_map(original, patch, &mut path).map(Value::Object)
}

/// Go `%v` formatting of a JSON value, for error messages.
fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                go_float(n.as_f64().unwrap_or(0.0))
            } else {
                n.to_string()
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_fmt(&m[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go `%v` of a float64 (`%g` with the shortest representation).
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Go type name used by `mergepatch.ErrBadArgType`.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::Internal(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

fn err_no_merge_key(m: &Obj, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(&Value::Object(m.clone()))
    ))
}

fn is_directive_key(k: &str) -> bool {
    k == DIRECTIVE_MARKER
        || k == RETAIN_KEYS_DIRECTIVE
        || k.starts_with(&format!("{SET_ELEMENT_ORDER_PREFIX}/"))
        || k.starts_with(&format!("{DELETE_FROM_PRIMITIVE_LIST_PREFIX}/"))
}

/// Drops nulls in maps and directive keys (what decoding into a Go struct does).
fn strip(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, v)| !v.is_null() && !is_directive_key(k))
                .map(|(k, v)| (k, strip(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip).collect()),
        other => other,
    }
}

/// Go's `removeDirectives`: maps carrying `$patch` are dropped (`None`).
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// A patch value taken as is (no counterpart in the original): Go's
/// `discardNullValuesFromPatch` + `removeDirectives`, then [`strip`].
fn clean_new(v: Value) -> Option<Value> {
    remove_directives(v).map(strip)
}

/// Go's `extractKey`.
fn extract_key(s: &str, prefix: &str) -> Result<String, PatchError> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
                PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_PRIMITIVE_LIST.into())
            }
            SET_ELEMENT_ORDER_PREFIX => {
                PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_SET_ELEMENT_ORDER.into())
            }
            _ => PatchError::Internal(format!("fail to find unknown prefix {prefix:?} in {s}")),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Scalar(u8),
}

fn kind_of(v: &Value) -> Result<Kind, PatchError> {
    Ok(match v {
        Value::Object(_) => Kind::Map,
        Value::Array(_) => return Err(PatchError::invalid(ERR_NO_LIST_OF_LISTS)),
        Value::Null => Kind::Scalar(0),
        Value::Bool(_) => Kind::Scalar(1),
        Value::Number(_) => Kind::Scalar(2),
        Value::String(_) => Kind::Scalar(3),
    })
}

/// Go's `sliceElementType`; `None` when all slices are empty.
fn slice_element_kind(slices: &[&[Value]]) -> Result<Option<Kind>, PatchError> {
    let mut prev: Option<Kind> = None;
    for s in slices {
        for v in s.iter() {
            let k = kind_of(v)?;
            match prev {
                None => prev = Some(k),
                Some(p) if p != k => {
                    let all: Vec<String> = slices
                        .iter()
                        .map(|s| go_fmt(&Value::Array(s.to_vec())))
                        .collect();
                    return Err(PatchError::Internal(format!(
                        "list element types are not identical: [{}]",
                        all.join(" ")
                    )));
                }
                _ => {}
            }
        }
    }
    Ok(prev)
}

/// Merge key values of an element: `None` when the element is not a map.
type KeyVal<'a> = Option<Vec<Option<&'a Value>>>;

fn key_val<'a>(v: &'a Value, keys: &[String]) -> KeyVal<'a> {
    let m = v.as_object()?;
    Some(keys.iter().map(|k| m.get(k)).collect())
}

/// Merge key values, with Go's errors for non-maps and (for a single merge key) a missing key.
fn require_key_val<'a>(
    v: &'a Value,
    keys: &[String],
) -> Result<Vec<Option<&'a Value>>, PatchError> {
    let Some(m) = v.as_object() else {
        return Err(err_bad_arg_type("map[string]interface {}", v));
    };
    if keys.len() == 1 && !m.contains_key(&keys[0]) {
        return Err(err_no_merge_key(m, &keys[0]));
    }
    Ok(keys.iter().map(|k| m.get(k)).collect())
}

/// What Go's `index` compares an element by — a scalar's value, a map's merge-key values —
/// as text, equal exactly when the values are (`serde_json::Value`'s equality: numbers by
/// their representation, objects whatever their key order). Lookups in loops go through it
/// and a hash map, so that a patch costs time linear in its lists, not quadratic: a list of
/// 100,000 entries must not hold a worker for a minute.
fn identity(item: &Value, keys: &[String], kind: Kind) -> String {
    let mut out = String::new();
    match kind {
        Kind::Map => match key_val(item, keys) {
            None => out.push('!'),
            Some(values) => {
                for v in values {
                    match v {
                        None => out.push('-'),
                        Some(v) => {
                            out.push('+');
                            canonical(v, &mut out);
                        }
                    }
                    out.push('\0');
                }
            }
        },
        Kind::Scalar(_) => canonical(item, &mut out),
    }
    out
}

/// `v` as JSON with every object's keys sorted (an object's equality ignores their order).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (k, v) in entries {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for v in items {
                canonical(v, out);
                out.push(',');
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The first position of each element of a list by [`identity`]: Go's `index` in constant time.
struct Positions(std::collections::HashMap<String, usize>);

impl Positions {
    fn of(list: &[Value], keys: &[String], kind: Kind) -> Self {
        let mut first = std::collections::HashMap::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            first.entry(identity(v, keys, kind)).or_insert(i);
        }
        Positions(first)
    }

    fn index_of(&self, item: &Value, keys: &[String], kind: Kind) -> Option<usize> {
        self.0.get(&identity(item, keys, kind)).copied()
    }
}

fn contains_directive_marker(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
}

/// Go's `extractToDeleteItems`: (non-delete items, `$patch: delete` items).
fn extract_to_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut keep = Vec::new();
    let mut del = Vec::new();
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type("map[string]interface {}", &v));
        };
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            del.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, del))
}

/// Go's `normalizeSliceOrder`.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    keys: &[String],
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let (mut to_sort, to_delete) = if kind == Kind::Map {
        for v in to_sort.iter().chain(order) {
            require_key_val(v, keys)?;
        }
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let positions = Positions::of(order, keys, kind);
    to_sort.sort_by_cached_key(|v| positions.index_of(v, keys, kind).unwrap_or(usize::MAX));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// Go's `mergeSortedSlice`: interleaves server-only items (`left`) into patch items (`right`).
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    keys: &[String],
    kind: Kind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let positions = Positions::of(server_order, keys, kind);
    let at = |v: Value| (positions.index_of(&v, keys, kind), v);
    let mut left = left.into_iter().map(at).peekable();
    let mut right = right.into_iter().map(at).peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next().map(|(_, v)| v)),
            (None, Some(_)) => out.extend(right.next().map(|(_, v)| v)),
            (Some(&(li, _)), Some(&(ri, _))) => {
                if matches!((li, ri), (Some(li), Some(ri)) if li < ri) {
                    out.extend(left.next().map(|(_, v)| v));
                } else {
                    out.extend(right.next().map(|(_, v)| v));
                }
            }
        }
    }
    out
}

/// Go's `normalizeElementOrder`.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    keys: &[String],
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let patch = normalize_slice_order(patch, patch_order, keys, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, keys, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        keys,
        kind,
    ))
}

/// Splits `merged` into (items present in `by`, the others).
fn partition_by_presence(
    merged: Vec<Value>,
    by: &[Value],
    keys: &[String],
    kind: Kind,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut patch = Vec::new();
    let mut server_only = Vec::new();
    if kind == Kind::Map {
        // Go's `findMapInSliceBasedOnKeyValue` fails on a non-map.
        for (i, v) in by.iter().enumerate() {
            if !v.is_object() {
                return Err(PatchError::Internal(format!(
                    "value for key {i} is not a map."
                )));
            }
        }
    }
    let positions = Positions::of(by, keys, kind);
    for v in merged {
        if kind == Kind::Map {
            require_key_val(&v, keys)?;
        }
        let found = positions.index_of(&v, keys, kind).is_some();
        if found {
            patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((patch, server_only))
}

fn dedup_scalars(list: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    list.into_iter()
        .filter(|v| seen.insert(identity(v, &[], Kind::Scalar(0))))
        .collect()
}

struct Smp<'a> {
    schema: &'a dyn PatchSchema,
}

impl Smp<'_> {
    /// (strategy without retainKeys, merge keys) of the field at `path`.
    fn lookup(&self, path: &[String]) -> Result<(String, Vec<String>), PatchError> {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let meta = self.schema.field(&refs);
        let strategies: Vec<&str> = match meta.strategy.as_deref() {
            None | Some("") => Vec::new(),
            Some(s) => s.split(',').map(str::trim).collect(),
        };
        let strategy = match strategies.as_slice() {
            [] => "",
            [one] if *one == RETAIN_KEYS_STRATEGY => "",
            [one] => one,
            [a, b] if *a == RETAIN_KEYS_STRATEGY => b,
            [a, b] if *b == RETAIN_KEYS_STRATEGY => a,
            _ => {
                return Err(PatchError::Internal(format!(
                    "unexpected patch strategy: [{}]",
                    strategies.join(" ")
                )));
            }
        };
        // Only the patch strategy and merge key count, as in Go (`patchStrategy`/`patchMergeKey`
        // struct tags, or their OpenAPI extensions for kubectl): a `listType=map` list without
        // them is replaced whole, which is what kubectl means when it sends the whole list (its
        // three-way patch of such a list names no deletions). Server-side apply is what merges
        // by `listMapKeys`.
        let keys: Vec<String> = meta
            .merge_key
            .into_iter()
            .filter(|k| !k.is_empty())
            .collect();
        Ok((strategy.to_string(), keys))
    }

    fn merge_map(
        &self,
        mut original: Obj,
        mut patch: Obj,
        path: &mut Vec<String>,
    ) -> Result<Obj, PatchError> {
        if let Some(d) = patch.get(DIRECTIVE_MARKER).cloned() {
            return handle_directive_in_merge_map(&d, patch);
        }
        apply_retain_keys_directive(&mut original, &mut patch)?;
        self.merge_patch_into_original(&mut original, &mut patch, path)?;

        // Regular keys first, then parallel deletion lists (Go iterates its map in random order;
        // this is the order kubectl-generated patches assume).
        let (deletes, regular): (Vec<Entry>, Vec<Entry>) = patch
            .into_iter()
            .partition(|(k, _)| k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX));
        for (k, patch_v) in regular.into_iter().chain(deletes) {
            let (is_delete_list, k) = if k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                (true, extract_key(&k, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?)
            } else {
                (false, k)
            };
            if patch_v.is_null() {
                original.shift_remove(&k);
                continue;
            }
            let Some(orig_v) = original.get_mut(&k) else {
                if !is_delete_list && let Some(v) = clean_new(patch_v) {
                    original.insert(k, v);
                }
                continue;
            };
            match (orig_v, patch_v) {
                (Value::Object(o), Value::Object(p)) => {
                    path.push(k);
                    let (strategy, _) = self.lookup(path)?;
                    let merged = if strategy == REPLACE_DIRECTIVE {
                        match strip(Value::Object(p)) {
                            Value::Object(m) => m,
                            _ => Obj::new(),
                        }
                    } else {
                        self.merge_map(std::mem::take(o), p, path)?
                    };
                    *o = merged;
                    path.pop();
                }
                (Value::Array(o), Value::Array(p)) => {
                    path.push(k);
                    let (strategy, keys) = self.lookup(path)?;
                    let merged = self.merge_slice_handler(
                        std::mem::take(o),
                        p,
                        path,
                        &strategy,
                        &keys,
                        is_delete_list,
                    )?;
                    *o = merged;
                    path.pop();
                }
                (slot, patch_v) => {
                    if !is_delete_list {
                        match clean_new(patch_v) {
                            Some(v) => *slot = v,
                            None => {
                                original.shift_remove(&k);
                            }
                        }
                    }
                }
            }
        }
        Ok(original)
    }

    /// Go's `mergePatchIntoOriginal` (server side: `MergeParallelList` true).
    fn merge_patch_into_original(
        &self,
        original: &mut Obj,
        patch: &mut Obj,
        path: &mut Vec<String>,
    ) -> Result<(), PatchError> {
        let order_keys: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
            .cloned()
            .collect();
        for key in order_keys {
            let Some(order_v) = patch.shift_remove(&key) else {
                continue;
            };
            let order = match order_v {
                Value::Array(a) => a,
                other => return Err(err_bad_arg_type("[]interface {}", &other)),
            };
            let okey = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
            let orig_list = match original.get(&okey) {
                None => None,
                Some(Value::Array(a)) => Some(a.clone()),
                Some(other) => return Err(err_bad_arg_type("[]interface {}", other)),
            };
            let patch_list = match patch.get(&okey) {
                None => None,
                Some(Value::Array(a)) => Some(a.clone()),
                Some(other) => return Err(err_bad_arg_type("[]interface {}", other)),
            };
            path.push(okey.clone());
            let result = (|| {
                let (strategy, keys) = self.lookup(path)?;
                if let Some(pl) = &patch_list {
                    validate_patch_with_set_order_list(pl, &order, &keys)?;
                }
                let merged = match (&orig_list, &patch_list) {
                    (Some(o), None) => o.clone(),
                    (None, Some(p)) => p.iter().cloned().filter_map(clean_new).collect(),
                    (Some(o), Some(p)) => self.merge_slice_handler(
                        o.clone(),
                        p.clone(),
                        path,
                        &strategy,
                        &keys,
                        false,
                    )?,
                    (None, None) => return Ok(None),
                };
                let o: &[Value] = orig_list.as_deref().unwrap_or(&[]);
                let p: &[Value] = patch_list.as_deref().unwrap_or(&[]);
                let kind = slice_element_kind(&[o, p])?.unwrap_or(Kind::Scalar(0));
                let keys: &[String] = if kind == Kind::Map { &keys } else { &[] };
                let (patch_items, server_only) = partition_by_presence(merged, &order, keys, kind)?;
                normalize_element_order(patch_items, server_only, &order, o, keys, kind).map(Some)
            })();
            path.pop();
            if let Some(both) = result? {
                original.insert(okey.clone(), Value::Array(both));
            }
            patch.shift_remove(&okey);
        }
        Ok(())
    }

    fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        path: &mut Vec<String>,
        strategy: &str,
        keys: &[String],
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        if strategy == MERGE_DIRECTIVE {
            self.merge_slice(original, patch, path, keys, is_delete_list)
        } else {
            // Go returns the patch list as is (and a parallel deletion list of a non-merge list
            // replaces it, too).
            Ok(patch.into_iter().map(strip).collect())
        }
    }

    /// Go's `mergeSlice`.
    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        path: &mut Vec<String>,
        keys: &[String],
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        let kind = slice_element_kind(&[&original, &patch])?.unwrap_or(Kind::Scalar(0));
        let (merged, patch, original, keys): (Vec<Value>, Vec<Value>, Vec<Value>, &[String]) =
            if kind != Kind::Map {
                if is_delete_list {
                    let deleted = Positions::of(&patch, &[], kind);
                    return Ok(original
                        .into_iter()
                        .filter(|v| deleted.index_of(v, &[], kind).is_none())
                        .collect());
                }
                let mut both = original.clone();
                both.extend(patch.iter().cloned());
                (dedup_scalars(both), patch, original, &[])
            } else {
                if keys.is_empty() {
                    return Err(PatchError::Internal(
                        "cannot merge lists without merge key for type map".into(),
                    ));
                }
                let (original, patch) = merge_slice_with_special_elements(original, patch, keys)?;
                let merged = self.merge_slice_without_special_elements(
                    original.clone(),
                    &patch,
                    keys,
                    path,
                )?;
                (merged, patch, original, keys)
            };
        let (patch_items, server_only) = partition_by_presence(merged, &patch, keys, kind)?;
        normalize_element_order(patch_items, server_only, &patch, &original, keys, kind)
    }

    fn merge_slice_without_special_elements(
        &self,
        mut original: Vec<Value>,
        patch: &[Value],
        keys: &[String],
        path: &mut Vec<String>,
    ) -> Result<Vec<Value>, PatchError> {
        // Go's `findMapInSliceBasedOnKeyValue` fails on a non-map.
        for (i, v) in original.iter().enumerate() {
            if !v.is_object() {
                return Err(PatchError::Internal(format!(
                    "value for key {i} is not a map."
                )));
            }
        }
        let mut positions = Positions::of(&original, keys, Kind::Map);
        for v in patch {
            // With one merge key, the patch's element has it (or this fails), and an original
            // element without it matches nothing.
            require_key_val(v, keys)?;
            match positions.index_of(v, keys, Kind::Map) {
                Some(i) => {
                    let o = match std::mem::take(&mut original[i]) {
                        Value::Object(o) => o,
                        _ => Obj::new(),
                    };
                    let p = v.as_object().cloned().unwrap_or_default();
                    original[i] = Value::Object(self.merge_map(o, p, path)?);
                }
                None => {
                    if let Some(v) = clean_new(v.clone()) {
                        positions
                            .0
                            .entry(identity(&v, keys, Kind::Map))
                            .or_insert(original.len());
                        original.push(v);
                    }
                }
            }
        }
        Ok(original)
    }
}

/// Go's `handleDirectiveInMergeMap`.
fn handle_directive_in_merge_map(directive: &Value, mut patch: Obj) -> Result<Obj, PatchError> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.shift_remove(DIRECTIVE_MARKER);
            match strip(Value::Object(patch)) {
                Value::Object(m) => Ok(m),
                _ => Ok(Obj::new()),
            }
        }
        Some(DELETE_DIRECTIVE) => Ok(Obj::new()),
        _ => Err(PatchError::Internal(format!(
            "unknown patch type: {} in map: {}",
            go_fmt(directive),
            go_fmt(&Value::Object(patch))
        ))),
    }
}

/// Go's `applyRetainKeysDirective` (server side).
fn apply_retain_keys_directive(original: &mut Obj, patch: &mut Obj) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(PatchError::BadRequest(
            ERR_BAD_PATCH_FORMAT_RETAIN_KEYS.into(),
        ));
    };
    let retained_keys: std::collections::HashSet<&str> =
        list.iter().filter_map(Value::as_str).collect();
    let retained = |k: &str| retained_keys.contains(k);
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(k) {
            return Err(PatchError::BadRequest(
                ERR_BAD_PATCH_FORMAT_RETAIN_KEYS.into(),
            ));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// Go's `validatePatchWithSetOrderList`.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    keys: &[String],
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if keys.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        if contains_directive_marker(&non_delete[pi]) {
            pi += 1;
            continue;
        }
        let equal = if keys.is_empty() {
            non_delete[pi] == order[si]
        } else {
            require_key_val(&non_delete[pi], keys)? == require_key_val(&order[si], keys)?
        };
        if equal {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(PatchError::Internal(format!(
            "the order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// Go's `mergeSliceWithSpecialElements`: applies `$patch: delete` / `$patch: replace` elements.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    keys: &[String],
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut without = Vec::new();
    let mut replace = false;
    // Every element a `$patch: delete` names, removed in one pass at the end.
    let mut deleted = std::collections::HashSet::new();
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type("map[string]interface {}", &v));
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            without.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let kv = require_key_val(&v, keys)?;
                if kv.iter().all(Option::is_none) {
                    return Err(err_no_merge_key(m, &keys.join(",")));
                }
                deleted.insert(identity(&v, keys, Kind::Map));
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(PatchError::Internal(
                    "merging lists cannot yet be specified in the patch".into(),
                ));
            }
            _ => {
                return Err(PatchError::Internal(format!(
                    "unknown patch type: {} in map: {}",
                    go_fmt(directive),
                    go_fmt(&v)
                )));
            }
        }
    }
    if !deleted.is_empty() {
        // Go's `findMapInSliceBasedOnKeyValue` fails on a non-map.
        for (i, v) in original.iter().enumerate() {
            if !v.is_object() {
                return Err(PatchError::Internal(format!(
                    "value for key {i} is not a map."
                )));
            }
        }
        original.retain(|o| !deleted.contains(&identity(o, keys, Kind::Map)));
    }
    if replace {
        return Ok((without.into_iter().map(strip).collect(), Vec::new()));
    }
    Ok((original, without))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The hashed lookups answer exactly what Go's linear `index` (by value, by merge keys)
    /// answers, for values whose equality is subtle: `1` and `1.0`, objects in another key
    /// order, absent and null keys.
    #[test]
    fn positions_agree_with_a_linear_search() {
        let scalars = [
            json!(1),
            json!(1.0),
            json!(-1),
            json!("1"),
            json!(true),
            json!(null),
            json!("a\u{0}b"),
            json!(""),
        ];
        let key_values = [
            None,
            Some(json!(null)),
            Some(json!(1)),
            Some(json!(1.0)),
            Some(json!("1")),
            Some(json!({"a": 1, "b": [1, {"c": 2, "d": 3}]})),
            Some(json!({"b": [1, {"d": 3, "c": 2}], "a": 1})),
            Some(json!({"a": 1, "b": [1.0, {"d": 3, "c": 2}]})),
        ];
        let mut maps = Vec::new();
        for k in &key_values {
            for j in &key_values[..3] {
                let mut m = Obj::new();
                if let Some(k) = k {
                    m.insert("k".into(), k.clone());
                }
                if let Some(j) = j {
                    m.insert("j".into(), j.clone());
                }
                m.insert("other".into(), json!(maps.len()));
                maps.push(Value::Object(m));
            }
        }
        let linear = |list: &[Value], item: &Value, keys: &[String], kind: Kind| match kind {
            Kind::Map => {
                let want = key_val(item, keys);
                list.iter().position(|v| key_val(v, keys) == want)
            }
            Kind::Scalar(_) => list.iter().position(|v| v == item),
        };
        let one = ["k".to_string()];
        let two = ["k".to_string(), "j".to_string()];
        let cases: [(&[Value], &[String], Kind); 3] = [
            (&scalars, &[], Kind::Scalar(0)),
            (&maps, &one, Kind::Map),
            (&maps, &two, Kind::Map),
        ];
        for (pool, keys, kind) in cases {
            // Every rotation of the pool, so that first positions differ.
            for start in 0..pool.len() {
                let list: Vec<Value> = pool[start..]
                    .iter()
                    .chain(&pool[..start])
                    .cloned()
                    .collect();
                let positions = Positions::of(&list, keys, kind);
                for item in pool {
                    assert_eq!(
                        positions.index_of(item, keys, kind),
                        linear(&list, item, keys, kind),
                        "{item} in {list:?} by {keys:?}"
                    );
                }
            }
        }
    }

    /// A deletion list and a list to merge of 100,000 entries each: linear work, not the
    /// quadratic scan that held a worker for a minute.
    #[test]
    fn long_primitive_lists_are_merged_in_linear_time() {
        let original: Vec<Value> = (0..100_000).map(|i| json!(format!("a.io/f{i}"))).collect();
        let deleted: Vec<Value> = (0..100_000)
            .map(|i| json!(format!("a.io/f{}", i * 2)))
            .collect();
        let schema = NoSchema;
        let smp = Smp { schema: &schema };
        let kept = smp
            .merge_slice(original.clone(), deleted, &mut Vec::new(), &[], true)
            .expect("deleted");
        assert_eq!(kept.len(), 50_000);
        assert_eq!(kept[0], json!("a.io/f1"));
        let added: Vec<Value> = (50_000..150_000)
            .map(|i| json!(format!("a.io/f{i}")))
            .collect();
        let merged = smp
            .merge_slice(original, added, &mut Vec::new(), &[], false)
            .expect("merged");
        assert_eq!(merged.len(), 150_000);
    }

    #[test]
    fn go_formatting_helpers() {
        assert_eq!(
            go_fmt(&json!({"b": [1, "x"], "a": null})),
            "map[a:<nil> b:[1 x]]"
        );
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(0.00001), "1e-05");
    }
}
