//! What kube-codegen's register-gen output stands on: static facts about each kind
//! ([`KindInfo`]), a registry of kinds by group/version/kind and by resource ([`Scheme`]), and the
//! codec check generated `Deserialize` impls call.

use std::collections::BTreeMap;

#[doc(hidden)]
pub mod __private {
    pub use serde;
}

/// An extra column for `kubectl get` tables (`+printcolumn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: &'static str,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    pub type_: &'static str,
    pub json_path: &'static str,
    pub description: &'static str,
    pub format: &'static str,
    pub priority: i32,
}

/// Static facts about a kind, generated from its `types.rs` and tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub list_kind: &'static str,
    /// Lower-case plural: the URL path segment.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub printer_columns: &'static [PrinterColumn],
    /// The kind has a `status` field (served as the `status` subresource).
    pub has_status: bool,
}

impl ResourceInfo {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Implemented by generated code for every kind.
pub trait Kind: k8s_openapi::Resource {
    const INFO: ResourceInfo;
}

/// Group, version and kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }
}

/// A registry of kinds: what generated `add_to_scheme` functions fill.
#[derive(Clone, Debug, Default)]
pub struct Scheme {
    kinds: BTreeMap<Gvk, ResourceInfo>,
}

impl Scheme {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a kind. Registering the same kind twice is harmless.
    pub fn add<K: Kind>(&mut self) -> &mut Self {
        self.add_info(K::INFO)
    }

    pub fn add_info(&mut self, info: ResourceInfo) -> &mut Self {
        self.kinds
            .insert(Gvk::new(info.group, info.version, info.kind), info);
        self
    }

    pub fn get(&self, gvk: &Gvk) -> Option<&ResourceInfo> {
        self.kinds.get(gvk)
    }

    /// Finds a kind by group, version and plural, singular or short name (what a URL or
    /// `kubectl get <name>` gives).
    pub fn resource(&self, group: &str, version: &str, name: &str) -> Option<&ResourceInfo> {
        self.kinds.values().find(|i| {
            i.group == group
                && i.version == version
                && (i.plural == name || i.singular == name || i.short_names.contains(&name))
        })
    }

    /// Every registered kind, ordered by group, version and kind.
    pub fn kinds(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.kinds.values()
    }
}

/// Checks the `apiVersion` and `kind` read from the wire against the kind being decoded.
/// Generated `Deserialize` impls call this and turn the message into a serde error.
///
/// Absent values pass: a Kubernetes list response leaves them off its items (the list's own
/// `apiVersion` names them), and k8s-openapi's types accept that too. Present values must match.
pub fn check_type_meta<K: k8s_openapi::Resource>(
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Result<(), String> {
    if let Some(api_version) = api_version
        && api_version != K::API_VERSION
    {
        return Err(format!(
            "apiVersion is `{api_version}`, expected `{}` for kind {}",
            K::API_VERSION,
            K::KIND
        ));
    }
    if let Some(kind) = kind
        && kind != K::KIND
    {
        return Err(format!(
            "kind is `{kind}`, expected `{}` for apiVersion {}",
            K::KIND,
            K::API_VERSION
        ));
    }
    Ok(())
}
