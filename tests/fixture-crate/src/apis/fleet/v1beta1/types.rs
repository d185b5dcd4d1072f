//! Kinds and specs of v1beta1.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::api::core::v1::Toleration as PodToleration;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::core::Duration;
use serde::{Deserialize, Serialize};

use super::status::{FleetStatus, ReservationStatus};

/// Fleet is a set of identical pods, scaled through the `scale` subresource.
/// +genclient
/// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale
/// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s_openapi::api::autoscaling::v1::Scale,result=k8s_openapi::api::autoscaling::v1::Scale
/// +shortName=fl,flt
/// +categories=all,fleet-all
/// +scale=specReplicasPath=.spec.replicas,statusReplicasPath=.status.replicas,labelSelectorPath=.spec.selector
/// +printcolumn:name=Replicas,type=integer,jsonPath=.spec.replicas
/// +printcolumn:name=Phase,type=string,jsonPath=.status.phase,description="Current phase",priority=1
/// +printcolumn:name=Age,type=date,jsonPath=.metadata.creationTimestamp
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fleet {
    pub metadata: ObjectMeta,
    /// Stateless or stateful: a raw identifier, `type` on the wire.
    pub r#type: FleetType,
    pub spec: FleetSpec,
    pub status: Option<FleetStatus>,
    /// When the fleet was last scaled: `lastScaleTime` on the wire.
    pub last_scale_time: Option<Time>,
    /// Scaling history, newest first.
    pub scale_history: Option<Vec<ScaleRecord>>,
}

/// FleetSpec is the desired state of a fleet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSpec {
    /// Number of pods.
    /// +default=3
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Scheduling priority.
    /// +default="normal"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class: Option<PriorityClass>,
    /// Template of the pods.
    pub template: PodTemplateSpec,
    /// Which pods belong to the fleet.
    pub selector: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    /// Ports, unique by name and protocol.
    /// +listType=map
    /// +listMapKey=name
    /// +listMapKey=protocol
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<FleetPort>,
    /// Ports by zone and rack, some racks unknown: as deeply nested as real types get (an
    /// alias keeps clippy's `type_complexity` quiet here; generated code names it expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racks: Option<Racks>,
    /// Settings handed to the pods as they are: arbitrary JSON, `null`s included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// Ports only some pods open; replaced as a whole.
    /// +listType=atomic
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ports: Option<Vec<FleetPort>>,
    /// Finalizers added to every pod, each once.
    /// +listType=set
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// Zones the pods spread over.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub zones: BTreeSet<String>,
    /// Node labels the pods must match, as one unit.
    /// +mapType=atomic
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Resources reserved for the fleet as a whole.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, Quantity>,
    /// Pods that may be unavailable during a rollout: a count or a percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
    /// How pods are replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Requests and limits of each pod (through a module alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_resources: Option<corev1::ResourceRequirements>,
    /// Tolerations of each pod (through a renamed import).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<PodToleration>,
    /// Relative weight of each zone.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub zone_weights: HashMap<String, Weight>,
    /// Set to let the fleet's pods preempt others: written `preempt: {}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preempt: Option<Preempt>,
}

/// An empty object on the wire (`{}`, as cert-manager's `selfSigned: {}`): a braced struct with
/// no fields, whose generated code must leave nothing unused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Preempt {}

/// A port of every pod of a fleet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetPort {
    /// Port name, unique per protocol.
    pub name: String,
    /// `TCP` or `UDP`.
    pub protocol: String,
    pub port: i32,
    /// Number or name of the port on the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
    /// What the port is for: a raw identifier in a serde type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub r#type: String,
}

/// PriorityClass is a fleet's scheduling priority.
/// +enum
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PriorityClass {
    /// Scheduled like any pod.
    #[default]
    Normal,
    /// Scheduled before normal fleets.
    HighPriority,
    /// Never preempted.
    #[serde(rename = "system-critical")]
    SystemCritical,
}

/// FleetType says whether pods keep their identity.
/// +enum
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FleetType {
    #[default]
    Stateless,
    Stateful,
}

/// Strategy is how pods are replaced: a union discriminated by `type`. No `Clone`:
/// deepcopy-gen writes it, variant by variant.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Strategy {
    /// Delete every pod, then create the new ones.
    Recreate,
    /// Replace pods a few at a time.
    RollingUpdate {
        #[serde(rename = "maxSurge")]
        max_surge: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString,
    },
    /// Move traffic in steps.
    Canary(CanarySteps),
}

/// The steps of a canary rollout, in percent.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CanarySteps {
    pub steps: Vec<i32>,
    /// A port range, `[first, last]` on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<PortRange>,
}

/// A relative weight: a newtype, a plain number on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Weight(pub u32);

/// An inclusive port range: a tuple struct, `[first, last]` on the wire. No `Clone`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct PortRange(pub i32, pub i32);

/// One scaling event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleRecord {
    pub time: Time,
    pub from_replicas: i32,
    pub to_replicas: i32,
}

/// FleetSnapshot is a read-only copy of a fleet's spec and status at one time.
/// +genclient
/// +genclient:readonly
/// +shortName=fsnap
#[derive(Clone, Debug, PartialEq)]
pub struct FleetSnapshot {
    pub metadata: ObjectMeta,
    /// The fleet this is a copy of.
    pub fleet_name: String,
    /// When the copy was taken (required on the wire: `Time` has no default).
    pub captured_at: Time,
    pub spec: FleetSpec,
    /// The status at that time, boxed.
    pub observed: Option<Box<FleetStatus>>,
}

/// Policy governs fleets cluster-wide: `policies`, not `policys`.
/// +genclient
/// +genclient:nonNamespaced
/// +categories=fleet-all
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    pub metadata: ObjectMeta,
    pub spec: PolicySpec,
}

/// PolicySpec is a tree of rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySpec {
    /// Top-level rules, by name.
    /// +listType=map
    /// +listMapKey=name
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Fleets the policy applies to (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    /// What happens on a violation.
    /// +default="Warn"
    #[serde(default)]
    pub enforcement: Enforcement,
}

/// A rule, the rules nested under it and the rule to apply when it does not match: `Box`
/// recursion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub name: String,
    /// A CEL expression.
    pub expression: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<Box<Rule>>,
}

/// Enforcement is what a policy violation does.
/// +enum
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Enforcement {
    /// Admit and warn.
    #[default]
    Warn,
    /// Reject.
    Deny,
}

/// Reservation holds capacity for a fleet. Its status is written by the scheduler only, so the
/// client has no `updateStatus`.
/// +genclient
/// +genclient:noStatus
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reservation {
    pub metadata: ObjectMeta,
    pub spec: ReservationSpec,
    pub status: Option<ReservationStatus>,
}

/// ReservationSpec is the capacity to hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationSpec {
    pub fleet_name: String,
    /// Capacity by resource name.
    #[serde(default)]
    pub capacity: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Time>,
    /// How long an unused reservation is kept (metav1.Duration: a Go duration string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace: Option<Duration>,
}

/// Chassis is a physical machine: `chassis` is its own plural. The kind derives no `Clone`
/// (deepcopy-gen writes it), and neither do its spec and the marker type.
/// +genclient
/// +genclient:nonNamespaced
/// +resourceName=chassis
/// +shortName=ch
#[derive(Debug, Default, PartialEq)]
pub struct Chassis {
    pub metadata: ObjectMeta,
    pub spec: ChassisSpec,
    /// Free-form notes per slot (a `HashMap` on a kind).
    pub slot_notes: HashMap<String, String>,
}

/// ChassisSpec describes the hardware.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChassisSpec {
    pub rack: String,
    #[serde(default)]
    pub slots: u32,
    /// Weight of each slot.
    #[serde(default)]
    pub slot_weights: HashMap<String, Weight>,
    /// Slots that must stay empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved: Option<PortRange>,
}

/// A marker type with no fields: a unit struct. No `Clone`: deepcopy-gen writes it.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decommissioned;

/// Racks of ports by zone.
pub type Racks = Vec<Option<Box<BTreeMap<String, Vec<Option<FleetPort>>>>>>;
