use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A flunder.
/// +genclient
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flunder {
    pub metadata: ObjectMeta,
    pub spec: FlunderSpec,
    pub status: Option<FlunderStatus>,
}

/// One reference and what it refers to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlunderSpec {
    /// The name of a flunder or a fischer.
    #[serde(default)]
    pub reference: String,
    /// +default="Flunder"
    pub reference_type: Option<ReferenceType>,
    /// +default={"app": "wardle"}
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: Vec<Limit>,
    /// +default=[8000, 9000]
    pub window: Option<Box<Window>>,
    /// Limits by tier, some unset: a map of lists of optional converted values (moved through
    /// the hub entry by entry).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, Vec<Option<Limit>>>,
    /// Members by group: sets in a map (a `HashMap` of `HashSet`s in the hub).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, std::collections::BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Never set (its type has no values): a field of an empty enum.
    pub never: Option<Never>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReferenceType {
    Flunder,
    Fischer,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub name: String,
    /// +default=10
    pub max: Option<i64>,
    /// How often the limit resets (metav1.Duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<kube::core::Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window(pub i32, pub i32);

/// Two limits side by side (this version only): a tuple struct whose fields hold defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitPair(pub Limit, pub Option<Box<Limit>>);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlunderStatus {
    pub phase: Option<Phase>,
    /// v1alpha1's own type, named from the crate root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<crate::apis::wardle::v1alpha1::LegacyNote>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Phase {
    Pending,
    Ready {
        since: String,
    },
    Failed(String),
    /// Held back by a limit: a tuple variant of a converted type.
    Throttled(Box<Limit>),
}

/// A fischer.
/// +genclient
/// +genclient:nonNamespaced
/// +genclient:onlyVerbs=get,list
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fischer {
    pub metadata: ObjectMeta,
    pub disallowed_flunders: Vec<String>,
}

/// A marker without data: converted without reading it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Marker;

/// A type with no values (a placeholder for future variants): converted by a `match` with no
/// arms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Never {}
