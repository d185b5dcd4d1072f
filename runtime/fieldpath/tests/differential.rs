//! Differential test against the reference implementation (see `smd/harness.rs`) on a fixture
//! richer than any real kind.

#[path = "smd/harness.rs"]
mod harness;

use serde_json::{Value, json};

/// A richer fixture than any real kind: list-maps with one and two keys, nested list-maps,
/// sets of strings and of numbers, atomic lists and maps, granular maps, deep structs.
fn fixture() -> Value {
    json!({
        "T": {"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}}
            }},
            "spec": {"$ref": "#/definitions/S"},
            "status": {"type": "object", "properties": {
                "phase": {"type": "string"},
                "conditions": {"type": "array", "items": {"$ref": "#/definitions/Cond"},
                               "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
            }}
        }},
        "S": {"type": "object", "properties": {
            "replicas": {"type": "integer"},
            "name": {"type": "string"},
            "paused": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "args": {"type": "array", "items": {"type": "string"}},
            "ports": {"type": "array", "items": {"$ref": "#/definitions/P"},
                      "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"]},
            "containers": {"type": "array", "items": {"$ref": "#/definitions/C"},
                           "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
            "selector": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
                "app": {"type": "string"}, "tier": {"type": "string"}
            }},
            "config": {"type": "object", "additionalProperties": {"type": "string"}},
            "nested": {"type": "object", "properties": {
                "a": {"type": "object", "properties": {
                    "b": {"type": "string"}, "c": {"type": "integer"},
                    "d": {"type": "object", "properties": {"e": {"type": "string"}}}
                }}
            }}
        }},
        "P": {"type": "object", "properties": {
            "port": {"type": "integer"}, "protocol": {"type": "string"}, "name": {"type": "string"}
        }},
        "C": {"type": "object", "properties": {
            "name": {"type": "string"},
            "image": {"type": "string"},
            "env": {"type": "array", "items": {"$ref": "#/definitions/E"},
                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
            "ports": {"type": "array", "items": {"type": "integer"}, "x-kubernetes-list-type": "set"}
        }},
        "E": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}},
        "Cond": {"type": "object", "properties": {"type": {"type": "string"}, "status": {"type": "string"}}}
    })
}

#[test]
fn applies_and_updates_match_structured_merge_diff() {
    let sequences: u64 = std::env::var("SMD_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let defs = fixture();
    let Some((compared, conflicts, errors, changed)) =
        harness::compare_sequences(defs.as_object().unwrap(), "T", sequences, &|_| {})
    else {
        return;
    };
    assert!(compared >= sequences as usize * 10);
    assert!(conflicts > 10, "only {conflicts} conflicting steps");
    assert!(
        errors * 20 < compared,
        "{errors} of {compared} steps failed"
    );
    assert!(
        changed * 2 > compared,
        "only {changed} steps changed the object"
    );
    eprintln!(
        "{compared} steps compared: {conflicts} with conflicts, {errors} refused, {changed} changed the object"
    );
}
