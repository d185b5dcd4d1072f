//! `metadata.managedFields` ↔ [`ManagedFields`]: manager identifiers as Kubernetes builds them,
//! entries sorted as Kubernetes sorts them, and the conflict message and `Status` causes it
//! answers with.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, Time};
use serde_json::Value;

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
    // Go's `json.Marshal` of the entry: fields in the struct's order, empty ones omitted.
    let quoted = |s: &str| Value::String(s.to_string()).to_string();
    let mut parts = Vec::with_capacity(4);
    if !manager.is_empty() {
        parts.push(format!("\"manager\":{}", quoted(manager)));
    }
    if !operation.is_empty() {
        parts.push(format!("\"operation\":{}", quoted(operation)));
    }
    if operation != APPLY && !api_version.is_empty() {
        parts.push(format!("\"apiVersion\":{}", quoted(api_version)));
    }
    if let Some(sub) = subresource.filter(|s| !s.is_empty()) {
        parts.push(format!("\"subresource\":{}", quoted(sub)));
    }
    format!("{{{}}}", parts.join(","))
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

/// How many `Update` entries an object keeps (Kubernetes' `DefaultMaxUpdateManagers`).
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The manager older `Update` entries are merged into when there are too many.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// Keeps at most `max` `Update` entries, as Kubernetes does: the oldest (by time, then
/// identifier) are merged, per API version, into an `ancient-changes` entry, which takes the
/// time of the newest entry merged into it. Appliers are never merged.
pub fn cap_update_managers(managed: &mut Managed, max: usize) {
    let mut updaters: Vec<String> = managed
        .fields
        .iter()
        .filter(|(_, owned)| !owned.applied)
        .map(|(id, _)| id.clone())
        .collect();
    if updaters.len() <= max {
        return;
    }
    let seconds = |id: &String| managed.times.get(id).map_or(0, |t| t.0.as_second());
    updaters.sort_by(|a, b| seconds(a).cmp(&seconds(b)).then_with(|| a.cmp(b)));
    let mut first_of_version: BTreeMap<String, String> = BTreeMap::new();
    let mut length = updaters.len();
    for manager in updaters {
        if length <= max {
            break;
        }
        let Some(owned) = managed.fields.get(&manager).cloned() else {
            continue;
        };
        let time = managed.times.get(&manager).cloned();
        let bucket = identifier(ANCIENT_CHANGES, UPDATE, &owned.api_version, None);
        match first_of_version.get(&owned.api_version) {
            Some(first) => {
                if !managed.fields.contains_key(&bucket)
                    && let Some(first_set) = managed.fields.remove(first)
                {
                    managed.times.remove(first);
                    managed.fields.insert(bucket.clone(), first_set);
                }
                let merged = managed
                    .fields
                    .get(&bucket)
                    .map(|b| b.set.union(&owned.set))
                    .unwrap_or_else(|| owned.set.clone());
                managed.fields.insert(
                    bucket.clone(),
                    VersionedSet {
                        set: merged,
                        api_version: owned.api_version.clone(),
                        applied: false,
                    },
                );
                managed.fields.remove(&manager);
                managed.times.remove(&manager);
                match time {
                    Some(t) => {
                        managed.times.insert(bucket, t);
                    }
                    None => {
                        managed.times.remove(&bucket);
                    }
                }
                length -= 1;
            }
            None => {
                first_of_version.insert(owned.api_version.clone(), manager);
            }
        }
    }
}

/// How a manager is named in a conflict: `"kubectl"`, or for an updater
/// `"ctl" using pager.k8s.co/v1beta1`. Never with its time: Go names the manager by its
/// identifier (`BuildManagerIdentifier`, which leaves the time out), so `printManager`'s
/// ` at <time>` never shows.
pub fn describe_manager(id: &str) -> String {
    let fields = parse_id(id);
    let mut out = format!("{:?}", fields.manager);
    if !fields.subresource.is_empty() {
        out.push_str(&format!(" with subresource {:?}", fields.subresource));
    }
    if fields.operation == UPDATE {
        out.push_str(&format!(" using {}", fields.api_version));
    }
    out
}

/// Kubernetes' message for an apply's conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let who = |c: &Conflict| describe_manager(&c.manager);
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
pub fn conflict_causes(conflicts: &[Conflict]) -> Vec<(String, String)> {
    conflicts
        .iter()
        .map(|c| {
            (
                display_path(&c.path),
                format!("conflict with {}", describe_manager(&c.manager)),
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
    fn update_managers_are_capped_into_ancient_changes() {
        let mut managed = Managed::default();
        for i in 0..12 {
            let id = identifier(&format!("m{i:02}"), UPDATE, "g/v1", None);
            managed.fields.insert(
                id.clone(),
                VersionedSet {
                    set: Set::from_paths([&[PathElement::field(format!("f{i}"))][..]]),
                    api_version: "g/v1".into(),
                    applied: false,
                },
            );
            managed.times.insert(
                id,
                Time(k8s_openapi::jiff::Timestamp::from_second(1_000 + i).unwrap()),
            );
        }
        let applier = identifier("a", APPLY, "g/v1", None);
        managed.fields.insert(
            applier.clone(),
            VersionedSet {
                set: Set::from_paths([&[PathElement::field("x")][..]]),
                api_version: "g/v1".into(),
                applied: true,
            },
        );
        cap_update_managers(&mut managed, MAX_UPDATE_MANAGERS);
        let updaters: Vec<&String> = managed
            .fields
            .iter()
            .filter(|(_, o)| !o.applied)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(updaters.len(), MAX_UPDATE_MANAGERS);
        let bucket = identifier(ANCIENT_CHANGES, UPDATE, "g/v1", None);
        // The three oldest (m00, m01, m02) are in the bucket, with the newest of their times.
        let merged = &managed.fields[&bucket].set;
        for f in ["f0", "f1", "f2"] {
            assert!(merged.has(&[PathElement::field(f)]), "{f}");
        }
        assert!(
            !managed
                .fields
                .contains_key(&identifier("m00", UPDATE, "g/v1", None))
        );
        assert!(
            managed
                .fields
                .contains_key(&identifier("m03", UPDATE, "g/v1", None))
        );
        assert_eq!(managed.times[&bucket].0.as_second(), 1_002);
        assert!(managed.fields.contains_key(&applier));
    }

    #[test]
    fn conflict_messages() {
        let apply = identifier("other", APPLY, "g/v1", None);
        let update = identifier("ctl", UPDATE, "g/v1", None);
        let path = |f: &str| vec![PathElement::field("spec"), PathElement::field(f)];
        let one = [Conflict {
            manager: apply.clone(),
            path: path("a"),
        }];
        assert_eq!(
            conflict_message(&one),
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
            conflict_message(&two),
            "Apply failed with 2 conflicts: conflicts with \"ctl\" using g/v1:\n- .spec.a\n- .spec.b"
        );
    }
}
