//! `metadata.managedFields` (Go's `k8s.io/apiserver` field manager): every write records who
//! owns which fields — creates, updates and non-apply patches as `Update` entries, server-side
//! applies as `Apply` entries — computed by `kube-codegen-fieldpath` on the object in the
//! request's version, with the schema of each served version (from its generated OpenAPI) and
//! conversion through the hub for managers that wrote in another version.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube_codegen_fieldpath::managed::{self, APPLY, Managed, UPDATE};
use kube_codegen_fieldpath::{
    Atom, Conflict, ConvertError, PathElement, Schema, Set, TypeRef, Typed, UpdateError, Updater,
    Versions,
};
use kube_codegen_scheme::{Object, ResourceInfo};
use serde_json::{Map, Value, json};

use super::codec::{ReadValue, VersionCodec, WriteValue};
use super::meta;
use super::rest::Subresource;
use crate::status::{ApiError, Cause};

/// What an update's own ownership is computed under before it joins its manager's entry
/// (Kubernetes' name for it).
const CURRENT_OPERATION: &str = "current-operation";

/// `kubectl apply --server-side`'s default field manager: its applies may take over the fields
/// of kubectl's client-side apply (Go's `lastAppliedManager`).
const KUBECTL_SERVER_SIDE_APPLY: &str = "kubectl";

/// Where client-side `kubectl apply` records what it applied last.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The largest `last-applied-configuration` kept in sync (Go's `totalAnnotationSizeLimitB`).
const LAST_APPLIED_LIMIT: usize = 256 * 1024;

/// After an apply by `kubectl`, an object that carries client-side apply's annotation gets it
/// rewritten to what was just applied (without the annotation itself), as Go's
/// `lastAppliedUpdater` does: a later client-side `kubectl apply` then diffs against what the
/// object now holds, not against a stale configuration. An object without the annotation, or a
/// configuration too large for it, is left as it is.
fn sync_last_applied(object: &mut Value, config: &Value) {
    let Some(annotations) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if !annotations.contains_key(LAST_APPLIED) {
        return;
    }
    let mut applied = config.clone();
    if let Some(own) = applied
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        own.remove(LAST_APPLIED);
        if own.is_empty()
            && let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("annotations");
        }
    }
    // Go writes it with `json.Marshal` of a map: keys sorted.
    let text = sorted_json(&applied);
    if text.len() <= LAST_APPLIED_LIMIT {
        annotations.insert(LAST_APPLIED.into(), Value::String(text));
    }
}

/// `value` as JSON with every object's keys sorted, as Go marshals a `map[string]interface{}`.
fn sorted_json(value: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// One served version as ownership sees it.
struct VersionSchema {
    api_version: String,
    schema: Schema,
    root: TypeRef,
    /// Go's `GroupVersionKind.String()`: `pager.k8s.co/v1beta1, Kind=Alert`.
    gvk: String,
}

/// The field manager of one resource.
pub(crate) struct FieldManager<H> {
    versions: Vec<VersionSchema>,
    /// Per version (same index as the registry's), how objects convert.
    read_value: Vec<ReadValue<H>>,
    /// Per version, how a value converts into the hub (no defaults: see `codec::convert_value`).
    convert_value: Vec<fn(Value) -> Result<H, super::codec::DecodeError>>,
    write_value: Vec<WriteValue<H>>,
    /// Per version, the resource (for decoding errors).
    infos: Vec<ResourceInfo>,
    /// Fields nobody owns: type and object identity, system fields.
    strip: Set,
    /// Through the main resource nobody owns `status`; through `/status`, only `status` (per
    /// version).
    main_ignored: BTreeMap<String, Set>,
    status_ignored: BTreeMap<String, Set>,
    /// The live object of a create.
    empty: Value,
    /// The top-level fields of `empty` whose type requires properties: `{}` is no value of
    /// theirs (a status whose `ready` serde requires, say).
    requiring: BTreeSet<String>,
}

impl<H: Object + Clone> FieldManager<H> {
    pub(crate) fn new(versions: &[VersionCodec<H>]) -> Self {
        // The first version's top-level fields whose type requires properties: `{}` is no
        // value of theirs (see `empty` below).
        let mut requiring = BTreeSet::new();
        let schemas: Vec<VersionSchema> = versions
            .iter()
            .map(|codec| {
                let parsed: Map<String, Value> =
                    serde_json::from_str(codec.schemas).unwrap_or_default();
                let root = crate::openapi::kind_definition(&parsed, &codec.info);
                let all = crate::openapi::resolved_schemas(&parsed);
                if requiring.is_empty() {
                    requiring = fields_requiring_properties(&all, &root);
                }
                VersionSchema {
                    api_version: codec.info.api_version(),
                    schema: Schema::from_openapi(&all),
                    root: TypeRef::Named(root.clone()),
                    gvk: format!(
                        "{}/{}, Kind={}",
                        codec.info.group, codec.info.version, codec.info.kind
                    ),
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
            convert_value: versions.iter().map(|c| c.convert_value).collect(),
            write_value: versions.iter().map(|c| c.write_value).collect(),
            infos: versions.iter().map(|c| c.info).collect(),
            strip,
            main_ignored,
            status_ignored,
            empty: Value::Object(empty),
            requiring,
        }
    }

    fn updater(&self, subresource: Option<Subresource>) -> Updater<'_, Self> {
        Updater::new(self).ignoring(match subresource {
            Some(Subresource::Status) => &self.status_ignored,
            // `/scale` writes what the main resource writes (the spec's replicas).
            Some(Subresource::Scale) | None => &self.main_ignored,
        })
    }

    fn value(&self, index: usize, obj: &H) -> Result<Value, ApiError> {
        (self.write_value[index])(obj).map_err(ApiError::internal)
    }

    /// Records a create, update or non-apply patch by `manager` in version `index`: `new`'s
    /// managed fields are set. `old` is `None` for a create, which starts from the managed
    /// fields its request brings (Go's `decodeLiveOrNew` over an empty live object: a copy of an
    /// object keeps its owners).
    ///
    /// An update of an object that has none — reset by `[{}]`, or never tracked — is not
    /// tracked either, until an apply: Go's `skipNonAppliedManager` (whose probability of
    /// tracking a create is 1).
    pub(crate) fn update(
        &self,
        index: usize,
        subresource: Option<Subresource>,
        old: Option<&H>,
        new: &mut H,
        manager: &str,
    ) -> Result<(), ApiError> {
        // Owned is what is stored: Go computes the fields of the decoded object, where
        // `omitempty` has dropped an empty `labels: {}` or `finalizers: []`. Counted as present,
        // they made the writer own them on an object without them (its next apply of a label
        // conflicted), and rewrote an unchanged object on every update.
        meta::omit_empty(new.metadata_mut());
        let api_version = &self.versions[index].api_version;
        let mut managed = match old {
            None => requested(new),
            Some(old) => {
                let managed = self.live_or_new(old, new, subresource);
                if managed.fields.is_empty() {
                    set_managed(new.metadata_mut(), &managed);
                    return Ok(());
                }
                managed
            }
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
            .map_err(|e| self.error(e))?;
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
    ///
    /// A configuration setting a field its schema does not declare is refused (400), whatever
    /// `fieldValidation` says, as Kubernetes refuses to type it. An apply by `kubectl` takes the
    /// fields of kubectl's client-side apply that still hold what it applied last (Go's
    /// `lastAppliedManager`), so `kubectl apply --server-side` after `kubectl apply` does not
    /// conflict with `kubectl-client-side-apply`.
    pub(crate) fn apply(
        &self,
        index: usize,
        subresource: Option<Subresource>,
        old: Option<&H>,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApiError> {
        self.check_fits_schema(index, config)?;
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
        let updater = self.updater(subresource);
        let fields = std::mem::take(&mut managed.fields);
        // What a second, forced try starts from (only kubectl's applies may need one).
        let retry = (manager == KUBECTL_SERVER_SIDE_APPLY && !force).then(|| fields.clone());
        let applied = match updater.apply(&live, config, api_version, fields, &id, force) {
            Err(UpdateError::Conflicts(conflicts)) => match retry {
                None => Err(UpdateError::Conflicts(conflicts)),
                Some(fields) => {
                    let allowed =
                        old.and_then(|old| self.upgradable_from_client_side(index, old, &live));
                    let left: Vec<Conflict> = conflicts
                        .into_iter()
                        .filter(|c| allowed.as_ref().is_none_or(|a| !a.has(&c.path)))
                        .collect();
                    if left.is_empty() {
                        updater.apply(&live, config, api_version, fields, &id, true)
                    } else {
                        Err(UpdateError::Conflicts(left))
                    }
                }
            },
            other => other,
        };
        let (merged, fields) = applied.map_err(|e| match e {
            // The merge did not convert to another manager's version: a configuration whose
            // values do not fit the version (the live object always does) is the client's
            // fault, answered as decoding the merge would have answered it.
            UpdateError::Convert(e) => self
                .config_error(index, &live, config)
                .unwrap_or_else(|| self.error(UpdateError::Convert(e))),
            e => self.error(e),
        })?;
        managed.fields = fields;
        if let Some(mine) = managed.fields.get_mut(&id) {
            mine.set = mine.set.difference(&self.strip);
            if mine.set.is_empty() {
                managed.fields.remove(&id);
            }
        }
        let changed = merged.is_some();
        let mut object = merged.unwrap_or(live);
        // An apply that creates the object and leaves a top-level struct of the empty object
        // as it was (`{}`) leaves it absent when `{}` is no value of its type, as a create
        // without it does: Go's empty status decodes, a Rust status with required fields not.
        if old.is_none()
            && let Some(fields) = object.as_object_mut()
        {
            fields.retain(|name, value| {
                !(self.requiring.contains(name) && value.as_object().is_some_and(Map::is_empty))
            });
        }
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
        if manager == KUBECTL_SERVER_SIDE_APPLY {
            sync_last_applied(&mut object, config);
        }
        Ok(object)
    }

    /// Why `config` applied to `live` (both in version `index`) is no object of that version:
    /// the 400 (or 422) of decoding their merge, as the store answers an apply that needs no
    /// conversion. `None` when the merge decodes, or cannot be made (the caller then keeps the
    /// conversion's own error).
    fn config_error(&self, index: usize, live: &Value, config: &Value) -> Option<ApiError> {
        let version = &self.versions[index];
        let mut merged = Typed::new(&version.schema, &version.root)
            .merge(live, config)
            .ok()?;
        self.prune_nulls(index, &mut merged);
        let name = merged
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let e = (self.read_value[index])(merged).err()?;
        Some(super::store::decode_error(&self.infos[index], &name, e))
    }

    /// `body` (JSON in version `index`) without the `null`s its schema does not allow (a
    /// property not `nullable` nor holding arbitrary JSON), at any depth: what a CRD's
    /// structural schema prunes. `None` when there is no `null` to drop, or the body is not a
    /// JSON object.
    pub(crate) fn without_nulls(&self, index: usize, body: &[u8]) -> Option<Vec<u8>> {
        if !body.windows(4).any(|w| w == b"null") {
            return None;
        }
        let mut value: Value = serde_json::from_slice(body).ok()?;
        if !self.prune_nulls(index, &mut value) {
            return None;
        }
        serde_json::to_vec(&value).ok()
    }

    /// Removes from `value` (an object of version `index`) the `null`s its schema does not
    /// allow — where an apply's merge empties a field, or a client sent one for unset — and
    /// keeps those inside fields holding arbitrary JSON, which are the data. Whether any was
    /// removed.
    pub(crate) fn prune_nulls(&self, index: usize, value: &mut Value) -> bool {
        let version = &self.versions[index];
        Typed::new(&version.schema, &version.root).prune_nulls(value)
    }

    /// An apply configuration must fit its version's schema: only declared fields, each a map
    /// or a list where the schema has one (Go's `failed to create typed patch object`, which
    /// Kubernetes answers with a 500; a 400 here, as the client is at fault and a retry cannot
    /// help).
    fn check_fits_schema(&self, index: usize, config: &Value) -> Result<(), ApiError> {
        let version = &self.versions[index];
        let errors = Typed::new(&version.schema, &version.root).misfits(config);
        if errors.is_empty() {
            return Ok(());
        }
        let meta = |f: &str| {
            config
                .get("metadata")
                .and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        Err(ApiError::bad_request(format!(
            "failed to create typed patch object ({}/{}; {}): {}",
            meta("namespace"),
            meta("name"),
            version.gvk,
            validation_errors(&errors)
        )))
    }

    /// The fields of kubectl's last client-side apply (the `last-applied-configuration`
    /// annotation of `old`, in the request's version) whose live value is still the one it
    /// applied: an apply by `kubectl` may take them from other managers (Go's
    /// `allowedConflictsFromLastApplied`). `None` when there is no such annotation or it does
    /// not fit the version's schema.
    fn upgradable_from_client_side(&self, index: usize, old: &H, live: &Value) -> Option<Set> {
        let text = old
            .metadata()
            .annotations
            .as_ref()?
            .get(LAST_APPLIED)
            .filter(|t| !t.is_empty())?;
        let last: Value = serde_json::from_str(text).ok()?;
        let version = &self.versions[index];
        if !last.is_object()
            || last.get("apiVersion").and_then(Value::as_str) != Some(&version.api_version)
            || !Typed::new(&version.schema, &version.root)
                .misfits(&last)
                .is_empty()
        {
            return None;
        }
        let typed = Typed::new(&version.schema, &version.root);
        let set = typed.to_field_set(&last).ok()?;
        let changed = typed.compare(&last, live).ok()?;
        Some(
            set.difference(&changed.modified)
                .difference(&changed.added)
                .difference(&changed.removed),
        )
    }

    /// The managed fields a write starts from: the stored object's, unless the request sets
    /// its own (`[{}]`, one empty entry, resets them; what does not decode is ignored, as
    /// Kubernetes does, so a client that does not know managed fields cannot lose them).
    /// Through a subresource, always the stored object's.
    ///
    /// An empty list is not set, as for Kubernetes' custom resources (whose metadata is decoded
    /// into `ObjectMeta` and back, dropping it): the stored ones are kept.
    fn live_or_new(&self, old: &H, new: &H, subresource: Option<Subresource>) -> Managed {
        let live = || decode_or_empty(old.metadata().managed_fields.as_deref());
        if subresource.is_some() {
            return live();
        }
        match new.metadata().managed_fields.as_deref() {
            None | Some([]) => live(),
            Some([one]) if *one == ManagedFieldsEntry::default() => Managed::default(),
            Some(_) => match requested(new) {
                m if !m.fields.is_empty() => m,
                _ => live(),
            },
        }
    }

    fn error(&self, e: UpdateError) -> ApiError {
        match e {
            UpdateError::Conflicts(conflicts) => {
                let mut err = ApiError::new(409, "Conflict", managed::conflict_message(&conflicts));
                for (field, message) in managed::conflict_causes(&conflicts) {
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
        // An apply's merge keeps its configuration's nulls (fields it empties); the object
        // written has them unset, and so does the typed hub it converts through.
        let mut object = object.clone();
        self.prune_nulls(from, &mut object);
        let hub = (self.convert_value[from])(object)
            .map_err(|_| ConvertError::Failed(format!("{from_version} does not decode")))?;
        (self.write_value[to])(&hub).map_err(ConvertError::Failed)
    }
}

/// Go's `ValidationErrors.Error()`.
fn validation_errors(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => {
            let mut lines = vec!["errors:".to_string()];
            lines.extend(many.iter().map(|e| format!("  {e}")));
            lines.join("\n")
        }
    }
}

fn subresource_name(subresource: Option<Subresource>) -> Option<&'static str> {
    subresource.map(Subresource::as_str)
}

/// The managed fields a request's object brings: none when they do not decode (ignored, as
/// Kubernetes does) or are the reset `[{}]`.
fn requested<H: Object>(new: &H) -> Managed {
    match new.metadata().managed_fields.as_deref() {
        None | Some([]) => Managed::default(),
        Some([one]) if *one == ManagedFieldsEntry::default() => Managed::default(),
        Some(entries) => managed::decode(entries).unwrap_or_default(),
    }
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

/// The properties of definition `root` whose schema (by `$ref`, or an `allOf` of one) requires
/// properties of its own.
fn fields_requiring_properties(all: &Map<String, Value>, root: &str) -> BTreeSet<String> {
    let definition = |name: &str| all.get(name);
    let referenced = |schema: &Value| {
        let reference = schema.get("$ref").or_else(|| {
            schema
                .get("allOf")
                .and_then(Value::as_array)
                .filter(|all| all.len() == 1)
                .and_then(|all| all[0].get("$ref"))
        })?;
        let name = reference.as_str()?.rsplit('/').next()?;
        definition(name)
    };
    let Some(properties) = definition(root)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
    else {
        return BTreeSet::new();
    };
    properties
        .iter()
        .filter(|(_, schema)| {
            referenced(schema)
                .and_then(|d| d.get("required"))
                .and_then(Value::as_array)
                .is_some_and(|required| !required.is_empty())
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definitions() -> Map<String, Value> {
        match json!({
            "T": {"type": "object", "properties": {
                "apiVersion": {"type": "string"},
                "spec": {"allOf": [{"$ref": "#/components/schemas/Spec"}]},
                "free": {"type": "object"},
                "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"known": {"$ref": "#/components/schemas/Leaf"}}},
                "any": {"x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "byName": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Leaf"}},
                "extra": {"type": "object", "additionalProperties": true, "properties": {"a": {"type": "string"}}},
                "closed": {"type": "object", "additionalProperties": false},
                "missing": {"$ref": "#/components/schemas/Nowhere"},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": true,
                             "properties": {"spec": {"$ref": "#/components/schemas/Leaf"}}}
            }},
            "Spec": {"type": "object", "properties": {
                "title": {"type": "string"},
                "args": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "ports": {"type": "array", "items": {"$ref": "#/components/schemas/Port"},
                          "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"]},
                "owners": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"},
                           "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"}
            }},
            "Leaf": {"type": "object", "properties": {"name": {"type": "string"}}},
            "Port": {"type": "object", "properties": {
                "port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}
            }}
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// What the shared schema walk (`kube_codegen_fieldpath::Typed::undeclared`) reports.
    fn undeclared_fields(defs: &Map<String, Value>, root: &str, value: &Value) -> Vec<String> {
        let schema = Schema::from_openapi(defs);
        let root = TypeRef::Named(root.into());
        if schema.resolve(&root).is_none() {
            return Vec::new();
        }
        Typed::new(&schema, &root).misfits(value)
    }

    fn undeclared(value: Value) -> Vec<String> {
        undeclared_fields(&definitions(), "T", &value)
    }

    #[test]
    fn declared_fields_pass() {
        let ok = json!({
            "apiVersion": "v1",
            "spec": {"title": "t", "args": [{"name": "a"}], "tags": ["x"],
                     "ports": [{"port": 80}], "owners": [{"name": "o"}]},
            "free": {"anything": {"at": ["all"]}},
            "open": {"known": {"name": "n"}, "unknown": {"deep": 1}},
            "any": {"x": [1, {"y": 2}]},
            "port": "http",
            "labels": {"a": "b"},
            "byName": {"k": {"name": "n"}},
            "extra": {"a": "1", "b": {"c": 2}},
            "missing": {"whatever": 1},
            "embedded": {"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"name": "s"}},
        });
        assert_eq!(undeclared(ok), Vec::<String>::new());
        // A value of the wrong shape is refused as structured-merge-diff refuses it (the merge
        // would otherwise drop it, and the apply answer 200 changing nothing); scalars of the
        // wrong type are the typed decoding's to report.
        assert_eq!(
            undeclared(json!({"spec": "not an object", "labels": [1], "port": 80, "any": 1})),
            vec![
                ".spec: expected map, got a string",
                ".labels: expected map, got a list"
            ]
        );
        assert_eq!(
            undeclared(json!({"spec": {"tags": {"a": 1}, "args": null}})),
            vec![".spec.tags: expected list, got a map"]
        );
    }

    /// openapi-gen writes a `#[serde(flatten)]`ed type it can only `$ref` (another crate's, or
    /// another version's) as an `allOf` beside the struct's own properties: both are declared.
    #[test]
    fn flattened_refs_add_to_the_properties_beside_them() {
        let mut defs = definitions();
        defs.insert(
            "Flat".into(),
            json!({"type": "object", "properties": {"replicas": {"type": "integer"}},
                   "allOf": [{"$ref": "#/components/schemas/Leaf"}, {"$ref": "#/components/schemas/Inner"}]}),
        );
        defs.insert(
            "Inner".into(),
            json!({"type": "object", "properties": {"x": {"type": "integer"}},
                   "allOf": [{"$ref": "#/components/schemas/Port"}]}),
        );
        let ok = json!({"replicas": 3, "name": "n", "x": 1, "port": 80});
        assert_eq!(undeclared_fields(&defs, "Flat", &ok), Vec::<String>::new());
        assert_eq!(
            undeclared_fields(&defs, "Flat", &json!({"replicas": 3, "bogus": 1})),
            [".bogus: field not declared in schema"]
        );
    }

    #[test]
    fn undeclared_fields_are_named_at_any_depth() {
        let cases = [
            (json!({"bogus": 1}), vec![".bogus"]),
            (
                json!({"spec": {"title": "t", "bogus": {"deep": 1}}}),
                vec![".spec.bogus"],
            ),
            (
                json!({"spec": {"args": [{"name": "a"}, {"x": null}]}}),
                vec![".spec.args[1].x"],
            ),
            (
                json!({"spec": {"ports": [{"port": 80, "x": 1}, {"port": 81, "protocol": "UDP", "y": 1}]}}),
                vec![
                    ".spec.ports[port=80,protocol=\"TCP\"].x",
                    ".spec.ports[port=81,protocol=\"UDP\"].y",
                ],
            ),
            (
                json!({"spec": {"owners": [{"name": "o", "z": 1}]}}),
                vec![".spec.owners[name=\"o\"].z"],
            ),
            // Known fields of an object that keeps unknown ones are still checked.
            (
                json!({"open": {"known": {"bad": 1}}}),
                vec![".open.known.bad"],
            ),
            (json!({"byName": {"k": {"bad": 1}}}), vec![".byName.k.bad"]),
            (json!({"closed": {"a": 1}}), vec![".closed.a"]),
            (
                json!({"embedded": {"status": {}}}),
                vec![".embedded.status"],
            ),
            // An object's first such key ends its walk (keys before it are walked).
            (json!({"a": 1, "b": 2, "spec": {"c": 3}}), vec![".a"]),
            (
                json!({"spec": {"c": 3}, "a": 1, "b": 2}),
                vec![".spec.c", ".a"],
            ),
        ];
        for (value, want) in cases {
            let want: Vec<String> = want
                .into_iter()
                .map(|p| format!("{p}: field not declared in schema"))
                .collect();
            assert_eq!(undeclared(value.clone()), want, "{value}");
        }
        // Items that cannot be named (the merge reports them) are skipped, not guessed at.
        assert_eq!(
            undeclared(json!({"spec": {"ports": [{"x": 1}], "tags": [{"x": 1}]}})),
            Vec::<String>::new()
        );
        assert_eq!(
            undeclared_fields(&definitions(), "Nope", &json!({"a": 1})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn errors_print_as_go_prints_them() {
        assert_eq!(validation_errors(&["a: x".into()]), "a: x");
        assert_eq!(
            validation_errors(&["a: x".into(), "b: y".into()]),
            "errors:\n  a: x\n  b: y"
        );
    }
}
