//! `metadata.managedFields` (Go's `k8s.io/apiserver` field manager): every write records who
//! owns which fields — creates, updates and non-apply patches as `Update` entries, server-side
//! applies as `Apply` entries — computed by `kube-codegen-fieldpath` on the object in the
//! request's version, with the schema of each served version (from its generated OpenAPI) and
//! conversion through the hub for managers that wrote in another version.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube_codegen_fieldpath::managed::{self, APPLY, Managed, UPDATE};
use kube_codegen_fieldpath::{
    Atom, ConvertError, PathElement, Schema, Set, TypeRef, Typed, UpdateError, Updater, Versions,
};
use kube_codegen_scheme::Object;
use serde_json::{Map, Value, json};

use super::codec::{ReadValue, VersionCodec, WriteValue};
use super::meta;
use super::rest::Subresource;
use crate::status::{ApiError, Cause};

/// What an update's own ownership is computed under before it joins its manager's entry
/// (Kubernetes' name for it).
const CURRENT_OPERATION: &str = "current-operation";

/// One served version as ownership sees it.
struct VersionSchema {
    api_version: String,
    schema: Schema,
    root: TypeRef,
}

/// The field manager of one resource.
pub(crate) struct FieldManager<H> {
    versions: Vec<VersionSchema>,
    /// Per version (same index as the registry's), how objects convert.
    read_value: Vec<ReadValue<H>>,
    write_value: Vec<WriteValue<H>>,
    /// Fields nobody owns: type and object identity, system fields.
    strip: Set,
    /// Through the main resource nobody owns `status`; through `/status`, only `status` (per
    /// version).
    main_ignored: BTreeMap<String, Set>,
    status_ignored: BTreeMap<String, Set>,
    /// The live object of a create.
    empty: Value,
}

impl<H: Object + Clone> FieldManager<H> {
    pub(crate) fn new(versions: &[VersionCodec<H>]) -> Self {
        let schemas: Vec<VersionSchema> = versions
            .iter()
            .map(|codec| {
                let parsed: Map<String, Value> =
                    serde_json::from_str(codec.schemas).unwrap_or_default();
                let root = crate::openapi::kind_definition(&parsed, &codec.info);
                let all = crate::openapi::resolved_schemas(&parsed);
                VersionSchema {
                    api_version: codec.info.api_version(),
                    schema: Schema::from_openapi(&all),
                    root: TypeRef::Named(root),
                }
            })
            .collect();
        let field = |f: &str| PathElement::field(f);
        let meta = |f: &str| vec![field("metadata"), field(f)];
        let mut strip = Set::new();
        strip.insert(&[field("apiVersion")]);
        strip.insert(&[field("kind")]);
        strip.insert(&[field("metadata")]);
        for f in [
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        ] {
            strip.insert(&meta(f));
        }
        let mut main_ignored = Set::new();
        main_ignored.insert(&[field("status")]);
        // Everything at the top but status (and the type, stripped anyway).
        let mut status_ignored = Set::new();
        // What a create starts from, as Kubernetes' empty object serializes: every top-level
        // struct present and empty.
        let mut empty = Map::new();
        if let Some(first) = schemas.first()
            && let Some(Atom::Map(m)) = first.schema.resolve(&first.root)
        {
            for (name, f) in &m.fields {
                if !matches!(name.as_str(), "status" | "apiVersion" | "kind") {
                    status_ignored.insert(&[field(name)]);
                }
                if let Some(Atom::Map(inner)) = first.schema.resolve(&f.type_ref)
                    && !inner.atomic
                    && !inner.fields.is_empty()
                {
                    empty.insert(name.clone(), json!({}));
                }
            }
        }
        let per_version = |set: &Set| -> BTreeMap<String, Set> {
            schemas
                .iter()
                .map(|v| (v.api_version.clone(), set.clone()))
                .collect()
        };
        let (main_ignored, status_ignored) =
            (per_version(&main_ignored), per_version(&status_ignored));
        FieldManager {
            versions: schemas,
            read_value: versions.iter().map(|c| c.read_value).collect(),
            write_value: versions.iter().map(|c| c.write_value).collect(),
            strip,
            main_ignored,
            status_ignored,
            empty: Value::Object(empty),
        }
    }

    fn updater(&self, subresource: Option<Subresource>) -> Updater<'_, Self> {
        Updater::new(self).ignoring(match subresource {
            Some(Subresource::Status) => &self.status_ignored,
            None => &self.main_ignored,
        })
    }

    fn value(&self, index: usize, obj: &H) -> Result<Value, ApiError> {
        (self.write_value[index])(obj).map_err(ApiError::internal)
    }

    /// Records a create, update or non-apply patch by `manager` in version `index`: `new`'s
    /// managed fields are set. `old` is `None` for a create (whose request cannot bring
    /// managed fields of its own).
    pub(crate) fn update(
        &self,
        index: usize,
        subresource: Option<Subresource>,
        old: Option<&H>,
        new: &mut H,
        manager: &str,
    ) -> Result<(), ApiError> {
        let api_version = &self.versions[index].api_version;
        let mut managed = match old {
            None => Managed::default(),
            Some(old) => self.live_or_new(old, new, subresource),
        };
        let live = match old {
            Some(old) => self.value(index, old)?,
            None => self.empty.clone(),
        };
        let now = self.value(index, new)?;
        let fields = self
            .updater(subresource)
            .update(
                &live,
                &now,
                api_version,
                std::mem::take(&mut managed.fields),
                CURRENT_OPERATION,
            )
            .map_err(|e| self.error(e, &managed))?;
        managed.fields = fields;
        let id = managed::identifier(manager, UPDATE, api_version, subresource_name(subresource));
        if let Some(mut current) = managed.fields.remove(CURRENT_OPERATION) {
            current.set = current.set.difference(&self.strip);
            if !current.set.is_empty() {
                if let Some(previous) = managed.fields.get(&id) {
                    current.set = current.set.union(&previous.set);
                }
                managed.fields.insert(id.clone(), current);
                managed.times.insert(id, meta::now());
            }
        }
        managed::cap_update_managers(&mut managed, managed::MAX_UPDATE_MANAGERS);
        set_managed(new.metadata_mut(), &managed);
        Ok(())
    }

    /// A server-side apply of `config` (JSON in version `index`) by `manager` onto `old`
    /// (`None`: the object does not exist yet): the merged object in the request's version,
    /// its managed fields set.
    pub(crate) fn apply(
        &self,
        index: usize,
        subresource: Option<Subresource>,
        old: Option<&H>,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApiError> {
        let api_version = &self.versions[index].api_version;
        let mut managed = match old {
            Some(old) => decode_or_empty(old.metadata().managed_fields.as_deref()),
            None => Managed::default(),
        };
        let live = match old {
            Some(old) => self.value(index, old)?,
            None => self.empty.clone(),
        };
        let id = managed::identifier(manager, APPLY, api_version, subresource_name(subresource));
        let (merged, fields) = self
            .updater(subresource)
            .apply(
                &live,
                config,
                api_version,
                std::mem::take(&mut managed.fields),
                &id,
                force,
            )
            .map_err(|e| self.error(e, &managed))?;
        managed.fields = fields;
        if let Some(mine) = managed.fields.get_mut(&id) {
            mine.set = mine.set.difference(&self.strip);
            if mine.set.is_empty() {
                managed.fields.remove(&id);
            }
        }
        let changed = merged.is_some();
        let mut object = merged.unwrap_or(live);
        if changed {
            managed.times.insert(id, meta::now());
        }
        managed
            .times
            .retain(|id, _| managed.fields.contains_key(id));
        let entries = serde_json::to_value(managed::encode(&managed))
            .map_err(|e| ApiError::internal(format!("managed fields do not encode: {e}")))?;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("managedFields".into(), entries);
        } else if let Some(obj) = object.as_object_mut() {
            obj.insert("metadata".into(), json!({"managedFields": entries}));
        }
        Ok(object)
    }

    /// The managed fields a write starts from: the stored object's, unless the request sets
    /// its own (`[]` or `[{}]` resets them; what does not decode is ignored, as Kubernetes
    /// does, so a client that does not know managed fields cannot lose them). Through a
    /// subresource, always the stored object's.
    fn live_or_new(&self, old: &H, new: &H, subresource: Option<Subresource>) -> Managed {
        let live = || decode_or_empty(old.metadata().managed_fields.as_deref());
        if subresource.is_some() {
            return live();
        }
        match new.metadata().managed_fields.as_deref() {
            None => live(),
            Some([]) => Managed::default(),
            Some([one]) if *one == ManagedFieldsEntry::default() => Managed::default(),
            Some(entries) => match managed::decode(entries) {
                Ok(m) if !m.fields.is_empty() => m,
                _ => live(),
            },
        }
    }

    fn error(&self, e: UpdateError, managed: &Managed) -> ApiError {
        match e {
            UpdateError::Conflicts(conflicts) => {
                let mut err = ApiError::new(
                    409,
                    "Conflict",
                    managed::conflict_message(&conflicts, &managed.times),
                );
                for (field, message) in managed::conflict_causes(&conflicts, &managed.times) {
                    err = err.with_cause(Cause::new("FieldManagerConflict", field, message));
                }
                err
            }
            UpdateError::Invalid(e) => ApiError::new(
                422,
                "Invalid",
                format!("the object does not fit its schema: {e}"),
            ),
            UpdateError::Convert(e) => ApiError::internal(format!(
                "managed fields could not be worked out across versions: {e}"
            )),
        }
    }
}

impl<H: Object + Clone> Versions for FieldManager<H> {
    fn typed(&self, api_version: &str) -> Option<Typed<'_>> {
        self.versions
            .iter()
            .find(|v| v.api_version == api_version)
            .map(|v| Typed::new(&v.schema, &v.root))
    }

    fn convert(&self, object: &Value, api_version: &str) -> Result<Value, ConvertError> {
        let to = self
            .versions
            .iter()
            .position(|v| v.api_version == api_version)
            .ok_or_else(|| ConvertError::MissingVersion(api_version.to_string()))?;
        let from_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let from = self
            .versions
            .iter()
            .position(|v| v.api_version == from_version)
            .ok_or_else(|| ConvertError::MissingVersion(from_version.to_string()))?;
        if from == to {
            return Ok(object.clone());
        }
        let hub = (self.read_value[from])(object.clone())
            .map_err(|_| ConvertError::Failed(format!("{from_version} does not decode")))?
            .object;
        (self.write_value[to])(&hub).map_err(ConvertError::Failed)
    }
}

fn subresource_name(subresource: Option<Subresource>) -> Option<&'static str> {
    subresource.map(|Subresource::Status| "status")
}

/// Stored managed fields that do not decode are dropped (a write must not fail for them).
fn decode_or_empty(entries: Option<&[ManagedFieldsEntry]>) -> Managed {
    match entries {
        None => Managed::default(),
        Some(entries) => managed::decode(entries).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored managedFields do not decode; starting afresh");
            Managed::default()
        }),
    }
}

fn set_managed(
    meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    managed: &Managed,
) {
    let entries = managed::encode(managed);
    meta.managed_fields = (!entries.is_empty()).then_some(entries);
}
