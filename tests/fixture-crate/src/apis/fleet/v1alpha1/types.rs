use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// Fleet is a set of identical pods. In v1alpha1 the pod count is `size` and the template is
/// optional.
/// +genclient
/// +shortName=fl
/// +printcolumn:name=Size,type=integer,jsonPath=.spec.size
/// +scale=specReplicasPath=.spec.size,statusReplicasPath=.status.readyReplicas
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fleet {
    pub metadata: ObjectMeta,
    pub spec: FleetSpec,
    pub status: Option<FleetStatus>,
}

/// FleetSpec is the desired state of a fleet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSpec {
    /// Number of pods.
    pub size: i32,
    /// Template of the pods.
    /// +optional
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,
    /// Node labels the pods must match, as one unit.
    /// +mapType=atomic
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Ports by name.
    /// +listType=map
    /// +listMapKey=name
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<FleetPort>,
}

/// A named port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetPort {
    pub name: String,
    pub port: i32,
}

/// FleetStatus is what was observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetStatus {
    /// Pods that are ready.
    #[serde(default)]
    pub ready_replicas: i32,
}

/// Policy governs fleets cluster-wide: `policies`, not `policys`.
/// +genclient
/// +genclient:nonNamespaced
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    pub metadata: ObjectMeta,
    pub spec: PolicySpec,
}

/// PolicySpec is a flat list of rule names in v1alpha1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySpec {
    /// Names of the rules, each once.
    /// +listType=set
    #[serde(default)]
    pub rule_names: Vec<String>,
    /// Whether violations block admission.
    #[serde(default)]
    pub enforce: bool,
}
