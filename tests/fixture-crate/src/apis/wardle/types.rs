use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::HashMap;

/// A flunder (internal version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flunder {
    pub metadata: ObjectMeta,
    pub spec: FlunderSpec,
    pub status: Option<FlunderStatus>,
}

/// Both references, one of them set according to `reference_type`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlunderSpec {
    pub flunder_reference: String,
    pub fischer_reference: String,
    pub reference_type: Option<ReferenceType>,
    /// A `HashMap` here, a `BTreeMap` in the versions: converted entry by entry.
    pub labels: HashMap<String, String>,
    pub limits: Vec<Limit>,
    pub window: Option<Box<Window>>,
    /// Limits by tier, some unset: a map of lists of optional converted values (moved through
    /// the hub entry by entry).
    pub tiers: HashMap<String, Vec<Option<Limit>>>,
    /// Members by group: sets in a map (`BTreeMap` of `BTreeSet`s in the versions).
    pub groups: HashMap<String, std::collections::HashSet<String>>,
    /// Never set (its type has no values): a field of an empty enum.
    pub never: Option<Never>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceType {
    Flunder,
    Fischer,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limit {
    pub name: String,
    pub max: Option<i64>,
    /// How often the limit resets (metav1.Duration).
    pub period: Option<kube::core::Duration>,
}

/// Two ports, a tuple on the wire.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window(pub i32, pub i32);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlunderStatus {
    pub phase: Option<Phase>,
    /// v1alpha1's own type, which the hub keeps as it is (moved through the hub, never
    /// converted).
    pub legacy: Option<super::v1alpha1::LegacyNote>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Pending,
    Ready {
        since: String,
    },
    Failed(String),
    /// Held back by a limit: a tuple variant of a converted type.
    Throttled(Box<Limit>),
}

/// A cluster-scoped fischer (internal version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fischer {
    pub metadata: ObjectMeta,
    pub disallowed_flunders: Vec<String>,
}

/// A marker without data: converted without reading it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marker;

/// A type with no values (a placeholder for future variants): converted by a `match` with no
/// arms.
#[derive(Clone, Debug, PartialEq)]
pub enum Never {}
