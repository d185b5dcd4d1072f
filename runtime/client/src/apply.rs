//! Server-side apply from typed clients: what applyconfiguration-gen's apply configurations stand
//! on — [`ObjectMetaApplyConfiguration`], the [`ApplyConfiguration`] trait the typed clients'
//! `apply`/`apply_status` take, and [`extract`], which reads back what one field manager owns
//! (Go's `ExtractAlert`), with the same field-set machinery as the API server
//! (`kube-codegen-fieldpath`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube_codegen_fieldpath::{Schema, Set, TypeRef, Typed};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `metadata` of an apply configuration: every field optional, only what is set is sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMetaApplyConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A precondition: the apply is refused unless the object has this uid — it was not deleted
    /// and created again under the same name since it was read (a 422, `field is immutable`, as
    /// kube-apiserver refuses it: `is_invalid()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// A precondition: the apply is refused (409) unless the object is at this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Vec<OwnerReference>>,
}

impl ObjectMetaApplyConfiguration {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Asks the server to name the object: this prefix and a random suffix (Go's
    /// `WithGenerateName`). An apply names its object, so this is only sent along.
    pub fn generate_name(mut self, generate_name: impl Into<String>) -> Self {
        self.generate_name = Some(generate_name.into());
        self
    }

    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Applies only to the object with this uid (Go's `WithUID`).
    pub fn uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = Some(uid.into());
        self
    }

    /// Applies only to the object at this version (Go's `WithResourceVersion`).
    pub fn resource_version(mut self, resource_version: impl Into<String>) -> Self {
        self.resource_version = Some(resource_version.into());
        self
    }

    /// Adds labels (the ones given; others already set are kept).
    pub fn labels<K: Into<String>, V: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map = self.labels.get_or_insert_with(BTreeMap::new);
        map.extend(labels.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds annotations (the ones given; others already set are kept).
    pub fn annotations<K: Into<String>, V: Into<String>>(
        mut self,
        annotations: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map = self.annotations.get_or_insert_with(BTreeMap::new);
        map.extend(annotations.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds finalizers.
    pub fn finalizers<F: Into<String>>(mut self, finalizers: impl IntoIterator<Item = F>) -> Self {
        let list = self.finalizers.get_or_insert_with(Vec::new);
        list.extend(finalizers.into_iter().map(Into::into));
        self
    }

    /// Adds owner references.
    pub fn owner_references(mut self, refs: impl IntoIterator<Item = OwnerReference>) -> Self {
        let list = self.owner_references.get_or_insert_with(Vec::new);
        list.extend(refs);
        self
    }

    /// `other` laid over this: each field `other` sets replaces this one's (a map or list
    /// whole), each it leaves unset keeps this one's value — `new("a", "ns")`'s name and
    /// namespace stay unless `other` names them. What a kind's `.metadata(…)` does.
    pub fn merge(self, other: ObjectMetaApplyConfiguration) -> Self {
        // Destructured: a field added later must be merged here too (rustc says so).
        let ObjectMetaApplyConfiguration {
            name,
            generate_name,
            namespace,
            uid,
            resource_version,
            labels,
            annotations,
            finalizers,
            owner_references,
        } = other;
        ObjectMetaApplyConfiguration {
            name: name.or(self.name),
            generate_name: generate_name.or(self.generate_name),
            namespace: namespace.or(self.namespace),
            uid: uid.or(self.uid),
            resource_version: resource_version.or(self.resource_version),
            labels: labels.or(self.labels),
            annotations: annotations.or(self.annotations),
            finalizers: finalizers.or(self.finalizers),
            owner_references: owner_references.or(self.owner_references),
        }
    }
}

/// An apply configuration of a kind (applyconfiguration-gen writes one per kind).
pub trait ApplyConfiguration: Serialize {
    /// The kind it configures.
    type Object;
    /// `metadata.name`: where the apply is sent.
    fn name(&self) -> Option<&str>;
    /// `metadata.namespace`, when set: it must be the client's.
    fn namespace(&self) -> Option<&str> {
        None
    }
}

/// Why [`extract`] could not read what a manager owns.
#[derive(Debug)]
pub enum ExtractError {
    /// The manager applied through another version of the kind: extract with that version's
    /// types.
    OtherVersion { applied: String, asked: String },
    /// The object's managed fields or its shape do not read (the message says which).
    Invalid(String),
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::OtherVersion { applied, asked } => write!(
                f,
                "the manager applied through {applied}; extract with the types of {applied}, not {asked}"
            ),
            ExtractError::Invalid(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ExtractError {}

/// What `field_manager` applied to `object` (through `subresource`, `None` for the object
/// itself), as an apply configuration `C` — with the object's `apiVersion`, `kind`, name and
/// namespace, which identify it. `schemas` are the version's generated `OPENAPI_SCHEMAS` and
/// `definition` the kind's definition among them. A manager that never applied gets a
/// configuration with just the object's identity.
pub fn extract<K, C>(
    object: &K,
    field_manager: &str,
    subresource: Option<&str>,
    schemas: &str,
    definition: &str,
) -> Result<C, ExtractError>
where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
        + Serialize,
    C: DeserializeOwned,
{
    let meta = object.metadata();
    let entry = meta.managed_fields.iter().flatten().find(|e| {
        e.manager.as_deref() == Some(field_manager)
            && e.operation.as_deref() == Some(kube_codegen_fieldpath::managed::APPLY)
            && e.subresource.as_deref().filter(|s| !s.is_empty()) == subresource
    });
    let mut out = Map::new();
    if let Some(entry) = entry {
        let applied = entry.api_version.clone().unwrap_or_default();
        if applied != K::API_VERSION {
            return Err(ExtractError::OtherVersion {
                applied,
                asked: K::API_VERSION.to_string(),
            });
        }
        let set = match &entry.fields_v1 {
            Some(f) => Set::from_fields_v1(&f.0).map_err(ExtractError::Invalid)?,
            None => Set::new(),
        };
        let mut definitions: Map<String, Value> = serde_json::from_str(schemas)
            .map_err(|e| ExtractError::Invalid(format!("the schemas are not JSON: {e}")))?;
        for (name, def) in kube_codegen_fieldpath::known::apimachinery_definitions() {
            definitions.entry(name).or_insert(def);
        }
        let schema = Schema::from_openapi(&definitions);
        let root = TypeRef::Named(definition.to_string());
        let value = serde_json::to_value(object)
            .map_err(|e| ExtractError::Invalid(format!("the object does not serialize: {e}")))?;
        if let Value::Object(owned) = Typed::new(&schema, &root).extract_items(&value, &set) {
            out = owned;
        }
    }
    out.insert("apiVersion".into(), K::API_VERSION.into());
    out.insert("kind".into(), K::KIND.into());
    let m = out
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = m {
        if let Some(name) = &meta.name {
            m.insert("name".into(), name.clone().into());
        }
        if let Some(ns) = &meta.namespace {
            m.insert("namespace".into(), ns.clone().into());
        }
    }
    serde_json::from_value(Value::Object(out))
        .map_err(|e| ExtractError::Invalid(format!("the owned fields do not read back: {e}")))
}

#[cfg(test)]
mod tests {
    use super::ObjectMetaApplyConfiguration;

    fn named() -> ObjectMetaApplyConfiguration {
        ObjectMetaApplyConfiguration::new()
            .name("m")
            .namespace("default")
    }

    /// What a kind's `.metadata(m)` does after `new("m", "default")`: `m`'s finalizers and uid
    /// are added, the name and namespace `m` leaves unset are kept (the apply still has an
    /// object to go to).
    #[test]
    fn merge_keeps_the_name_and_namespace_the_other_leaves_unset() {
        let merged = named().merge(
            ObjectMetaApplyConfiguration::new()
                .finalizers(["example.com/cleanup"])
                .uid("u-1"),
        );
        assert_eq!(merged.name.as_deref(), Some("m"));
        assert_eq!(merged.namespace.as_deref(), Some("default"));
        assert_eq!(merged.uid.as_deref(), Some("u-1"));
        assert_eq!(
            merged.finalizers,
            Some(vec!["example.com/cleanup".to_string()])
        );
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            serde_json::json!({
                "name": "m",
                "namespace": "default",
                "uid": "u-1",
                "finalizers": ["example.com/cleanup"],
            })
        );
    }

    /// A field the other sets replaces the one set before (a map or list whole).
    #[test]
    fn merge_takes_the_fields_the_other_sets() {
        let merged = named().labels([("a", "1")]).finalizers(["x"]).merge(
            ObjectMetaApplyConfiguration::new()
                .name("n")
                .labels([("b", "2")]),
        );
        assert_eq!(merged.name.as_deref(), Some("n"));
        assert_eq!(merged.namespace.as_deref(), Some("default"));
        assert_eq!(
            merged.labels,
            Some([("b".to_string(), "2".to_string())].into())
        );
        assert_eq!(merged.finalizers, Some(vec!["x".to_string()]));
        assert_eq!(named().merge(Default::default()), named());
    }

    #[test]
    fn generate_name_is_set_and_sent() {
        let meta = ObjectMetaApplyConfiguration::new().generate_name("alert-");
        assert_eq!(meta.generate_name.as_deref(), Some("alert-"));
        assert_eq!(
            serde_json::to_value(&meta).unwrap(),
            serde_json::json!({"generateName": "alert-"})
        );
    }
}
