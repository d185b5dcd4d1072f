//! Observed state: the second file of the package.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::{Deserialize, Serialize};

/// FleetStatus is what the controller observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetStatus {
    /// Lifecycle phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<FleetPhase>,
    /// Pods that exist.
    #[serde(default)]
    pub replicas: i32,
    /// The generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// Current conditions, one per type.
    /// +listType=map
    /// +listMapKey=type
    /// +patchStrategy=merge
    /// +patchMergeKey=type
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// FleetPhase is where a fleet is in its life.
/// +enum
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FleetPhase {
    /// Pods are being created.
    Pending,
    /// Every pod is ready.
    Running,
    /// Some pods are not ready.
    Degraded,
}

/// ReservationStatus says whether the capacity was granted. No `Clone`: deepcopy-gen writes it.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationStatus {
    /// Required (no `#[serde(default)]`): a status always says whether the capacity was
    /// granted, so `{}` is not a status.
    pub granted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_at: Option<Time>,
    /// Why the reservation is not (yet) granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
