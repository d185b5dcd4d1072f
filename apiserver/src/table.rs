//! Server-side printing: `Table` responses for `kubectl get` (lists, single objects and watch
//! events), with `Name`, the kind's printer columns and `Age`.

use kube_codegen_scheme::{PrinterColumn, ResourceInfo};
use serde_json::{Value, json};

use crate::object;

/// What a client asked for in its `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    /// `application/json;as=Table;v=v1;g=meta.k8s.io` (or `v1beta1`).
    Table {
        beta: bool,
    },
    /// `application/vnd.kubernetes.protobuf` (for versions with a protobuf message).
    Protobuf,
    /// `…;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1` (or `v1beta1`): objects reduced to
    /// their metadata, in JSON or protobuf.
    Metadata {
        beta: bool,
        protobuf: bool,
        /// `PartialObjectMetadataList` was asked for (a list's shape; a watch takes either).
        list: bool,
    },
}

/// One entry of an `Accept` header: its media type (lower case) and its `as`, `g` and `v`.
struct AcceptEntry {
    media: String,
    as_: Option<String>,
    g: Option<String>,
    v: Option<String>,
}

/// The clauses of an `Accept` header in the order a client prefers them, as goautoneg's
/// `ParseAccept` sorts them for Kubernetes' negotiation: by `q` (1 when not given; 0 when it
/// does not parse), highest first, then more specific before wildcards, else as written.
fn entries(accept: &str) -> impl Iterator<Item = AcceptEntry> + '_ {
    let mut clauses: Vec<(f32, u8, AcceptEntry)> = accept
        .split(',')
        .map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let (mut as_, mut g, mut v, mut q) = (None, None, None, 1.0);
            for p in parts {
                if let Some((k, val)) = p.split_once('=') {
                    match k.trim() {
                        "as" => as_ = Some(val.trim().to_string()),
                        "g" => g = Some(val.trim().to_string()),
                        "v" => v = Some(val.trim().to_string()),
                        "q" => q = val.trim().parse::<f32>().unwrap_or(0.0),
                        _ => {}
                    }
                }
            }
            let wildcards = media.split('/').filter(|part| *part == "*").count() as u8;
            (q, wildcards, AcceptEntry { media, as_, g, v })
        })
        .collect();
    // Stable: equally preferred clauses keep the client's order.
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    clauses.into_iter().map(|(_, _, e)| e)
}

fn is_json(media: &str) -> bool {
    matches!(media, "application/json" | "application/*" | "*/*")
}

fn is_protobuf(media: &str) -> bool {
    media == "application/vnd.kubernetes.protobuf"
}

/// Reads the `Accept` header; `protobuf`: whether the version has a protobuf message. The
/// first clause this server can produce wins, in goautoneg's order (by `q`, then specific
/// before wildcards, then as written), as in kube-apiserver's `NegotiateMediaTypeOptions`: a
/// Table (kubectl lists it first), partial metadata, JSON or protobuf. `Err` when the client
/// accepts nothing this server can produce (406 `NotAcceptable`).
pub fn negotiate(accept: Option<&str>, protobuf: bool) -> Result<Output, String> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Output::Json);
    };
    let first = entries(accept).find_map(|e| {
        let (g, v) = (e.g.as_deref(), e.v.as_deref());
        match e.as_.as_deref() {
            Some("Table")
                if is_json(&e.media)
                    && g == Some("meta.k8s.io")
                    && matches!(v, Some("v1" | "v1beta1")) =>
            {
                Some(Output::Table {
                    beta: v == Some("v1beta1"),
                })
            }
            // meta.k8s.io/v1beta1's list numbers its fields the other way round (items = 1,
            // metadata = 2): offered in JSON only, as client-go has asked for v1 since 1.15.
            Some(kind @ ("PartialObjectMetadata" | "PartialObjectMetadataList"))
                if g == Some("meta.k8s.io")
                    && ((v == Some("v1") && (is_json(&e.media) || is_protobuf(&e.media)))
                        || (v == Some("v1beta1") && is_json(&e.media))) =>
            {
                Some(Output::Metadata {
                    beta: v == Some("v1beta1"),
                    protobuf: is_protobuf(&e.media),
                    list: kind == "PartialObjectMetadataList",
                })
            }
            None if is_json(&e.media) => Some(Output::Json),
            None if protobuf && is_protobuf(&e.media) => Some(Output::Protobuf),
            _ => None,
        }
    });
    first.ok_or_else(|| {
        let protobuf = if protobuf {
            ", application/vnd.kubernetes.protobuf"
        } else {
            ""
        };
        format!(
            "only the following media types are accepted: application/json, application/yaml{protobuf}, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io (got {accept})"
        )
    })
}

/// Whether a client that accepts `accept` gets errors in protobuf: it lists protobuf before
/// JSON (client-go's protobuf clients send `application/vnd.kubernetes.protobuf, application/json`).
pub fn prefers_protobuf(accept: Option<&str>) -> bool {
    accept
        .map(|a| {
            entries(a)
                .find(|e| is_json(&e.media) || is_protobuf(&e.media))
                .is_some_and(|e| is_protobuf(&e.media) && e.as_.is_none())
        })
        .unwrap_or(false)
}

/// Whether a client that accepts `accept` takes JSON (no header: anything).
pub fn accepts_json(accept: Option<&str>) -> bool {
    match accept.filter(|a| !a.trim().is_empty()) {
        None => true,
        Some(a) => entries(a).any(|e| is_json(&e.media) && e.as_.is_none()),
    }
}

/// Whether a client that accepts `accept` takes plain protobuf (no `as=` transform).
pub fn accepts_protobuf(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| entries(a).any(|e| is_protobuf(&e.media) && e.as_.is_none()))
}

/// Whether a client that accepts `accept` lists YAML (`application/yaml`, plain) before JSON and
/// protobuf: it gets YAML, as from Go's YAML serializer.
/// When the client prefers YAML: the `Accept` to answer with in JSON before the answer is
/// written as YAML — the YAML entry as JSON, its transform kept (`application/yaml;as=Table;
/// v=v1;g=meta.k8s.io` is a Table in YAML, as kube-apiserver serves one).
pub fn yaml_answer(accept: Option<&str>) -> Option<String> {
    let entry = entries(accept?)
        .find(|e| is_json(&e.media) || is_protobuf(&e.media) || e.media == "application/yaml")?;
    if entry.media != "application/yaml" {
        return None;
    }
    let mut json = "application/json".to_string();
    for (key, value) in [("as", &entry.as_), ("v", &entry.v), ("g", &entry.g)] {
        if let Some(value) = value {
            json.push_str(&format!(";{key}={value}"));
        }
    }
    Some(json)
}

/// `includeObject`: what each row carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(format!("unrecognized includeObject value: \"{other}\"")),
        }
    }
}

pub fn column_definitions(info: &ResourceInfo) -> Value {
    let mut cols = vec![json!({
        "name": "Name", "type": "string", "format": "name", "priority": 0,
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    })];
    for c in info.printer_columns {
        cols.push(json!({
            "name": c.name, "type": c.type_, "format": c.format,
            "description": c.description, "priority": c.priority,
        }));
    }
    cols.push(json!({
        "name": "Age", "type": "date", "format": "", "priority": 0,
        "description": "CreationTimestamp is a timestamp representing the server time when this object was created."
    }));
    Value::Array(cols)
}

/// One row for an object.
pub fn row(info: &ResourceInfo, obj: &Value, include: IncludeObject) -> Value {
    let mut cells = vec![json!(object::name(obj).unwrap_or_default())];
    for c in info.printer_columns {
        cells.push(cell(c, obj));
    }
    let age = object::meta_str(obj, "creationTimestamp")
        .map(|t| object::human_duration(object::age_seconds(t)))
        .unwrap_or_else(|| "<unknown>".into());
    cells.push(json!(age));
    let mut row = json!({ "cells": cells });
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
            });
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

fn cell(c: &PrinterColumn, obj: &Value) -> Value {
    let found = jsonpath_value(obj, c.json_path);
    match (found, c.type_) {
        (None, _) => Value::Null,
        (Some(Value::String(s)), "date") => {
            json!(object::human_duration(object::age_seconds(&s)))
        }
        (Some(v @ (Value::Array(_) | Value::Object(_))), _) => json!(v.to_string()),
        (Some(v), _) => v,
    }
}

/// The value a printer column's JSONPath (`.status.sent`, `.spec.items[0].name`) selects.
pub fn jsonpath_value(obj: &Value, path: &str) -> Option<Value> {
    let query = if path.starts_with('$') {
        path.to_string()
    } else {
        format!("${path}")
    };
    use jsonpath_rust::JsonPath;
    let found = obj.query(&query).ok()?;
    found.into_iter().next().cloned()
}

/// A `Table` of `objects`. `headers` is false for the second and later watch events. A list's
/// `resourceVersion`, `continue` and `remainingItemCount` are carried over, as Kubernetes'
/// table convertors copy them from the list's metadata.
#[allow(clippy::too_many_arguments)]
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    include: IncludeObject,
    beta: bool,
    resource_version: Option<String>,
    continue_token: Option<String>,
    remaining_item_count: Option<u64>,
    headers: bool,
) -> Value {
    let mut metadata = serde_json::Map::new();
    if let Some(rv) = resource_version {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    if let Some(c) = continue_token {
        metadata.insert("continue".into(), json!(c));
    }
    if let Some(n) = remaining_item_count {
        metadata.insert("remainingItemCount".into(), json!(n));
    }
    json!({
        "kind": "Table",
        "apiVersion": if beta { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
        "metadata": metadata,
        "columnDefinitions": if headers { column_definitions(info) } else { Value::Array(vec![]) },
        "rows": objects.iter().map(|o| row(info, o, include)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_clauses_are_taken_by_preference() {
        assert!(yaml_answer(Some("application/yaml;q=0.5, application/json")).is_none());
        assert!(yaml_answer(Some("application/json;q=0.1, application/yaml")).is_some());
        assert!(
            yaml_answer(Some("*/*, application/yaml")).is_some(),
            "specific before wildcard"
        );
        assert_eq!(
            yaml_answer(Some("application/yaml, application/json")).as_deref(),
            Some("application/json")
        );
        // A transform asked for in YAML is answered as that transform, written as YAML.
        assert_eq!(
            yaml_answer(Some(
                "application/yaml;as=Table;v=v1;g=meta.k8s.io, application/json"
            ))
            .as_deref(),
            Some("application/json;as=Table;v=v1;g=meta.k8s.io")
        );
        assert!(prefers_protobuf(Some(
            "application/json;q=0.9, application/vnd.kubernetes.protobuf"
        )));
        assert_eq!(
            negotiate(
                Some("application/vnd.kubernetes.protobuf;q=0.5, application/json"),
                true
            ),
            Ok(Output::Json)
        );
        // A Table is a clause like the others: JSON listed first, or preferred by `q`, wins.
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io";
        assert_eq!(
            negotiate(Some(&format!("application/json, {table}")), false),
            Ok(Output::Json)
        );
        assert_eq!(
            negotiate(Some(&format!("{table};q=0.1, application/json")), false),
            Ok(Output::Json)
        );
        assert_eq!(
            negotiate(Some(&format!("*/*, {table}")), false),
            Ok(Output::Table { beta: false }),
            "specific before wildcard"
        );
        assert_eq!(
            negotiate(Some(&format!("{table}, application/json")), false),
            Ok(Output::Table { beta: false })
        );
    }

    #[test]
    fn accept_headers() {
        assert_eq!(negotiate(None, false), Ok(Output::Json));
        assert_eq!(negotiate(Some("application/json"), false), Ok(Output::Json));
        assert_eq!(
            negotiate(
                Some(
                    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
                ),
                true
            ),
            Ok(Output::Table { beta: false })
        );
        assert!(negotiate(Some("application/yaml"), false).is_err());
        assert!(negotiate(Some("application/json;as=Foo;v=v1;g=meta.k8s.io"), false).is_err());
        assert_eq!(negotiate(Some("*/*"), false), Ok(Output::Json));
        // Protobuf when the version has it and the client lists it first.
        let pb = "application/vnd.kubernetes.protobuf, application/json";
        assert_eq!(negotiate(Some(pb), true), Ok(Output::Protobuf));
        assert_eq!(negotiate(Some(pb), false), Ok(Output::Json));
        assert_eq!(
            negotiate(
                Some("application/json, application/vnd.kubernetes.protobuf"),
                true
            ),
            Ok(Output::Json)
        );
        assert!(negotiate(Some("application/vnd.kubernetes.protobuf"), false).is_err());
        assert!(prefers_protobuf(Some(pb)));
        assert!(!prefers_protobuf(Some(
            "application/json, application/vnd.kubernetes.protobuf"
        )));
        assert!(!prefers_protobuf(None));
        // client-go's metadata client: protobuf metadata first, then JSON metadata, then JSON;
        // protobuf metadata needs no message of the version's own.
        let metadata = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
        for protobuf in [true, false] {
            assert_eq!(
                negotiate(Some(metadata), protobuf),
                Ok(Output::Metadata {
                    beta: false,
                    protobuf: true,
                    list: true
                })
            );
        }
        assert_eq!(
            negotiate(
                Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1"),
                false
            ),
            Ok(Output::Metadata {
                beta: true,
                protobuf: false,
                list: false
            })
        );
        // v1beta1 in protobuf is not offered: the next entry answers.
        assert_eq!(
            negotiate(
                Some(
                    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"
                ),
                true
            ),
            Ok(Output::Metadata {
                beta: true,
                protobuf: false,
                list: true
            })
        );
        // Another group or version is not metadata: the next entry answers.
        assert_eq!(
            negotiate(
                Some(
                    "application/json;as=PartialObjectMetadata;g=example.com;v=v1,application/json"
                ),
                false
            ),
            Ok(Output::Json)
        );
    }

    #[test]
    fn jsonpath_cells() {
        let obj = json!({"status": {"sent": true}, "spec": {"items": [{"n": "a"}]}});
        assert_eq!(jsonpath_value(&obj, ".status.sent"), Some(json!(true)));
        assert_eq!(jsonpath_value(&obj, ".spec.items[0].n"), Some(json!("a")));
        assert_eq!(jsonpath_value(&obj, ".status.missing"), None);
    }
}
