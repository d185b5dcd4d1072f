//! Internal (hub) types: every field any version has, no serde (never on the wire).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, ObjectMeta};

/// Fleet is a set of identical pods (internal hub version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fleet {
    pub metadata: ObjectMeta,
    pub spec: FleetSpec,
    pub status: Option<FleetStatus>,
}

/// FleetSpec holds every field of every version. No `Clone`: deepcopy-gen writes it.
#[derive(Debug, Default, PartialEq)]
pub struct FleetSpec {
    pub replicas: i32,
    pub priority_class: PriorityClass,
    pub template: PodTemplateSpec,
    pub selector: Option<LabelSelector>,
    pub ports: Vec<FleetPort>,
    pub zones: BTreeSet<String>,
    pub node_selector: BTreeMap<String, String>,
    pub resources: BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    pub max_unavailable: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
    pub strategy: Option<Strategy>,
}

/// A named port (no `Clone`).
#[derive(Debug, Default, PartialEq)]
pub struct FleetPort {
    pub name: String,
    pub protocol: String,
    pub port: i32,
    pub r#type: Option<String>,
}

/// How the hub spells a priority (no `Clone`, no `Copy`).
#[derive(Debug, Default, PartialEq)]
pub enum PriorityClass {
    #[default]
    Normal,
    HighPriority,
    SystemCritical,
}

/// How pods are replaced (no `Clone`): every variant shape.
#[derive(Debug, PartialEq)]
pub enum Strategy {
    Recreate,
    RollingUpdate {
        max_surge: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString,
    },
    Canary(Vec<i32>, Option<String>),
}

/// FleetStatus is what was observed.
#[derive(Debug, Default, PartialEq)]
pub struct FleetStatus {
    pub replicas: i32,
    pub conditions: Vec<Condition>,
}

/// Policy governs fleets cluster-wide (internal hub version; no `Clone` on the kind either).
#[derive(Debug, Default, PartialEq)]
pub struct Policy {
    pub metadata: ObjectMeta,
    pub spec: PolicySpec,
}

/// PolicySpec holds the rules.
#[derive(Debug, Default, PartialEq)]
pub struct PolicySpec {
    pub rules: Vec<Rule>,
}

/// A rule and the rules nested under it.
#[derive(Debug, Default, PartialEq)]
pub struct Rule {
    pub name: String,
    pub children: Vec<Rule>,
    pub otherwise: Option<Box<Rule>>,
}
