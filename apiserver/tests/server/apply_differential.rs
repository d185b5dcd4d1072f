//! The pager's `Alert` (its generated OpenAPI schema with the apimachinery definitions the
//! server serves) through the differential harness: generated applies and updates give the same
//! objects, field sets and conflicts here and in sigs.k8s.io/structured-merge-diff.

#[path = "../../../runtime/fieldpath/tests/smd/harness.rs"]
mod harness;

use serde_json::Value;

#[test]
fn pager_alerts_match_structured_merge_diff() {
    let schemas: serde_json::Map<String, Value> =
        serde_json::from_str(pager::v1beta1::OPENAPI_SCHEMAS).unwrap();
    let defs = apiserver::openapi::resolved_schemas(&schemas);
    // What clients write: labels, annotations, finalizers, owner references, spec and status
    // (the server's own metadata fields are stripped from ownership anyway).
    let shape = |obj: &mut Value| {
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            meta.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "labels" | "annotations" | "finalizers" | "ownerReferences"
                )
            });
        }
        if let Some(o) = obj.as_object_mut() {
            o.remove("apiVersion");
            o.remove("kind");
        }
    };
    let Some((compared, conflicts, errors, changed)) =
        harness::compare_sequences(&defs, "co.k8s.pager.v1beta1.Alert", 120, &shape)
    else {
        return;
    };
    assert!(compared >= 1200);
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
        "pager: {compared} steps compared: {conflicts} with conflicts, {errors} refused, {changed} changed the object"
    );
}
