use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// A cluster-scoped widget.
/// +genclient
/// +genclient:nonNamespaced
#[derive(Debug, Default, PartialEq)]
pub struct Gizmo {
    pub metadata: ObjectMeta,
    pub spec: GizmoSpec,
    /// A set: a JSON array of unique, ordered items.
    pub tags: std::collections::BTreeSet<String>,
    /// A map kept in insertion order (generated code names `IndexMap`, not `BTreeMap`).
    pub steps: indexmap::IndexMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GizmoSpec {
    pub size: i32,
}
