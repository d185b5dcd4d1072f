//! `metadata.managedFields` ↔ [`ManagedFields`]: manager identifiers as Kubernetes builds them,
//! entries sorted as Kubernetes sorts them, and the conflict message and `Status` causes it
//! answers with.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, Time};
use serde_json::{Map, Value};

use crate::merge::{Conflict, ManagedFields, VersionedSet};
use crate::path::display_path;
use crate::set::Set;

pub const APPLY: &str = "Apply";
pub const UPDATE: &str = "Update";

/// Decoded managed fields: the sets by manager identifier, and when each was last changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Managed {
    pub fields: ManagedFields,
    pub times: BTreeMap<String, Time>,
}

/// The identifier of a manager: the entry without its fields and time, and for an applier
/// without its version (an applier is one manager whatever version it applies in).
pub fn identifier(
    manager: &str,
    operation: &str,
    api_version: &str,
    subresource: Option<&str>,
) -> String {
    let mut id = Map::new();
    if !manager.is_empty() {
        id.insert("manager".into(), manager.into());
    }
    if !operation.is_empty() {
        id.insert("operation".into(), operation.into());
    }
    if operation != APPLY && !api_version.is_empty() {
        id.insert("apiVersion".into(), api_version.into());
    }
    if let Some(sub) = subresource.filter(|s| !s.is_empty()) {
        id.insert("subresource".into(), sub.into());
    }
    Value::Object(id).to_string()
}

/// The fields of an identifier.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Id {
    manager: String,
    operation: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    subresource: String,
}

fn parse_id(id: &str) -> Id {
    serde_json::from_str(id).unwrap_or_else(|_| Id {
        manager: id.to_string(),
        ..Id::default()
    })
}

/// Reads `metadata.managedFields`.
pub fn decode(entries: &[ManagedFieldsEntry]) -> Result<Managed, String> {
    let mut out = Managed::default();
    for (i, entry) in entries.iter().enumerate() {
        match entry.fields_type.as_deref() {
            Some("FieldsV1") => {}
            other => {
                return Err(format!(
                    "managedFields[{i}]: fieldsType {:?} is not FieldsV1",
                    other.unwrap_or("")
                ));
            }
        }
        let operation = entry.operation.as_deref().unwrap_or("");
        if operation != APPLY && operation != UPDATE {
            return Err(format!(
                "managedFields[{i}]: operation must be {APPLY} or {UPDATE}, not {operation:?}"
            ));
        }
        let api_version = entry.api_version.clone().unwrap_or_default();
        let set = match &entry.fields_v1 {
            Some(FieldsV1(v)) => {
                Set::from_fields_v1(v).map_err(|e| format!("managedFields[{i}]: {e}"))?
            }
            None => Set::new(),
        };
        let id = identifier(
            entry.manager.as_deref().unwrap_or(""),
            operation,
            &api_version,
            entry.subresource.as_deref(),
        );
        if out.fields.contains_key(&id) {
            return Err(format!(
                "managedFields[{i}]: duplicate entry for manager {id}"
            ));
        }
        if let Some(t) = &entry.time {
            out.times.insert(id.clone(), t.clone());
        }
        out.fields.insert(
            id,
            VersionedSet {
                set,
                api_version,
                applied: operation == APPLY,
            },
        );
    }
    Ok(out)
}

/// Writes `metadata.managedFields`: appliers first, then by time, manager, version and
/// subresource (Kubernetes' order).
pub fn encode(managed: &Managed) -> Vec<ManagedFieldsEntry> {
    let mut entries: Vec<ManagedFieldsEntry> = managed
        .fields
        .iter()
        .map(|(id, owned)| {
            let id_fields = parse_id(id);
            ManagedFieldsEntry {
                manager: Some(id_fields.manager).filter(|s| !s.is_empty()),
                operation: Some(if owned.applied { APPLY } else { UPDATE }.to_string()),
                api_version: Some(owned.api_version.clone()).filter(|s| !s.is_empty()),
                time: managed.times.get(id).cloned(),
                fields_type: Some("FieldsV1".into()),
                fields_v1: Some(FieldsV1(owned.set.to_fields_v1())),
                subresource: Some(id_fields.subresource).filter(|s| !s.is_empty()),
            }
        })
        .collect();
    entries.sort_by(|p, q| {
        let seconds = |e: &ManagedFieldsEntry| e.time.as_ref().map_or(0, |t| t.0.as_second());
        p.operation
            .cmp(&q.operation)
            .then_with(|| seconds(p).cmp(&seconds(q)))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    entries
}

/// How a manager is named in a conflict: `"kubectl"`, or for an updater
/// `"ctl" using pager.k8s.co/v1beta1 at 2026-01-01T00:00:00Z`.
pub fn describe_manager(id: &str, time: Option<&Time>) -> String {
    let fields = parse_id(id);
    let mut out = format!("{:?}", fields.manager);
    if !fields.subresource.is_empty() {
        out.push_str(&format!(" with subresource {:?}", fields.subresource));
    }
    if fields.operation == UPDATE {
        out.push_str(&format!(" using {}", fields.api_version));
        if let Some(t) = time {
            out.push_str(&format!(" at {}", t.0.strftime("%Y-%m-%dT%H:%M:%SZ")));
        }
    }
    out
}

/// Kubernetes' message for an apply's conflicts.
pub fn conflict_message(conflicts: &[Conflict], times: &BTreeMap<String, Time>) -> String {
    let who = |c: &Conflict| describe_manager(&c.manager, times.get(&c.manager));
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            who(one),
            display_path(&one.path)
        );
    }
    let mut by_manager: BTreeMap<&str, Vec<&Conflict>> = BTreeMap::new();
    for c in conflicts {
        by_manager.entry(c.manager.as_str()).or_default().push(c);
    }
    let mut lines = Vec::new();
    for list in by_manager.values() {
        lines.push(format!("conflicts with {}:", who(list[0])));
        for c in list {
            lines.push(format!("- {}", display_path(&c.path)));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// One `Status` cause per conflict: `FieldManagerConflict`, the field, the manager.
pub fn conflict_causes(
    conflicts: &[Conflict],
    times: &BTreeMap<String, Time>,
) -> Vec<(String, String)> {
    conflicts
        .iter()
        .map(|c| {
            (
                display_path(&c.path),
                format!(
                    "conflict with {}",
                    describe_manager(&c.manager, times.get(&c.manager))
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::PathElement;
    use serde_json::json;

    #[test]
    fn identifiers_are_kubernetes_identifiers() {
        assert_eq!(
            identifier("kubectl", APPLY, "pager.k8s.co/v1beta1", None),
            r#"{"manager":"kubectl","operation":"Apply"}"#
        );
        assert_eq!(
            identifier("ctl", UPDATE, "pager.k8s.co/v1beta1", Some("status")),
            r#"{"manager":"ctl","operation":"Update","apiVersion":"pager.k8s.co/v1beta1","subresource":"status"}"#
        );
    }

    #[test]
    fn entries_round_trip_in_kubernetes_order() {
        let entries: Vec<ManagedFieldsEntry> = serde_json::from_value(json!([
            {"manager": "b", "operation": "Update", "apiVersion": "g/v1", "time": "2026-01-01T00:00:01Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:b": {}}}},
            {"manager": "a", "operation": "Update", "apiVersion": "g/v1", "time": "2026-01-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:a": {}}}},
            {"manager": "z", "operation": "Apply", "apiVersion": "g/v1", "time": "2026-01-01T00:00:09Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:z": {}}}, "subresource": "status"}
        ]))
        .unwrap();
        let managed = decode(&entries).unwrap();
        let out = encode(&managed);
        let names: Vec<_> = out.iter().map(|e| e.manager.clone().unwrap()).collect();
        assert_eq!(names, ["z", "a", "b"]);
        assert_eq!(out[0].subresource.as_deref(), Some("status"));
        assert_eq!(decode(&out).unwrap(), managed);
        let bad: Vec<ManagedFieldsEntry> = serde_json::from_value(
            json!([{"manager": "a", "operation": "Patch", "fieldsType": "FieldsV1"}]),
        )
        .unwrap();
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn conflict_messages() {
        let times = BTreeMap::new();
        let apply = identifier("other", APPLY, "g/v1", None);
        let update = identifier("ctl", UPDATE, "g/v1", None);
        let path = |f: &str| vec![PathElement::field("spec"), PathElement::field(f)];
        let one = [Conflict {
            manager: apply.clone(),
            path: path("a"),
        }];
        assert_eq!(
            conflict_message(&one, &times),
            r#"Apply failed with 1 conflict: conflict with "other": .spec.a"#
        );
        let two = [
            Conflict {
                manager: update.clone(),
                path: path("a"),
            },
            Conflict {
                manager: update,
                path: path("b"),
            },
        ];
        assert_eq!(
            conflict_message(&two, &times),
            "Apply failed with 2 conflicts: conflicts with \"ctl\" using g/v1:\n- .spec.a\n- .spec.b"
        );
    }
}
