//! [`GenericStore`]: one resource over the storage, on typed hub objects — Go's
//! `genericregistry.Store`. Writes go decode (the request's version, strict) → default →
//! convert to the hub → metadata rules → strategy → convert to the storage version → storage;
//! reads go storage (in whatever version each object was written) → hub → the request's
//! version.

use std::collections::BTreeMap;

use apiserver_storage::{AnyStore, KeyValue, Storage, StorageError};
use bytes::Bytes;
use futures::future::BoxFuture;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ObjectMeta};
use kube_codegen_scheme::{Object, ResourceInfo};
use serde_json::Value;

use super::admission::{Attributes, Chain, Operation, RequestOptions};
use super::codec::{DecodeError, Decoded, VersionCodec};
use super::managed::FieldManager;
use super::meta;
use super::rest::{
    Deleted, FieldValidation, ItemSource, ListItems, ListOptions, MorePages, ObjectList,
    RestStorage, Scope, Seen, Subresource, Watch, WriteOptions, encode_continue,
};
use super::stored;
use super::strategy::{Context, Strategy};
use super::watch::EventCache;
use crate::patch::{OpenApiPatchSchema, PatchType};
use crate::status::{ApiError, Cause};

/// Which request an update is (what admission is told, and whether the field manager records it
/// as an update: an apply records its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Update,
    Patch,
    Apply,
}

/// Keys read per storage call by a list written as it is read ([`ListOptions::streamed`]).
const LIST_PAGE: usize = 500;

/// How often a read-modify-write is retried when another writer got there first.
const UPDATE_ATTEMPTS: usize = 16;

pub(crate) struct GenericStore<H, S> {
    pub(super) store: AnyStore,
    pub(super) versions: Vec<VersionCodec<H>>,
    /// Index of the storage version in `versions`.
    storage: usize,
    pub(super) strategy: S,
    /// Per version (same index): the schemas strategic-merge patches follow.
    patch_schemas: Vec<OpenApiPatchSchema>,
    pub(super) events: EventCache<H>,
    /// Lists serve stored bytes as they are when they are in the requested version.
    serve_stored: bool,
    /// `metadata.managedFields` bookkeeping.
    fields: FieldManager<H>,
    /// The resource's admission plugins.
    admission: Chain<H>,
    /// The server's admission webhooks.
    webhooks: Option<std::sync::Arc<super::webhooks::Webhooks>>,
    /// Namespace lifecycle's source.
    namespaces: Option<std::sync::Arc<dyn super::namespaces::NamespaceSource>>,
    /// Deletes leave the garbage collector's finalizers (`orphan`, `foregroundDeletion`).
    garbage_collection: bool,
    /// This store's own `Arc` (set by [`GenericStore::shared`]): what a list read page by page
    /// while its response is written holds on to.
    me: std::sync::Weak<Self>,
}

impl<H, S> GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    pub(crate) fn new(
        store: AnyStore,
        versions: Vec<VersionCodec<H>>,
        strategy: S,
        admission: Chain<H>,
        config: &super::resource::RestConfig,
    ) -> Self {
        let storage = versions
            .iter()
            .position(|v| v.info.version == config.storage_version)
            .unwrap_or(0);
        let (webhooks, namespaces, serve_stored, garbage_collection) = (
            config.webhooks.clone(),
            config.namespaces.clone(),
            config.serve_stored_bytes,
            config.garbage_collection,
        );
        let patch_schemas = versions
            .iter()
            .map(|v| {
                // The builder refused schemas that are not JSON before getting here.
                let schemas: serde_json::Map<String, Value> =
                    serde_json::from_str(v.schemas).unwrap_or_default();
                // With the apimachinery definitions the kind refers to: `metadata.finalizers`
                // and `ownerReferences` merge by their own strategies.
                let schemas = crate::openapi::resolved_schemas(&schemas);
                OpenApiPatchSchema::new(
                    &schemas,
                    &crate::openapi::kind_definition(&schemas, &v.info),
                )
            })
            .collect();
        let this = GenericStore {
            store,
            storage,
            strategy,
            patch_schemas,
            events: EventCache::default(),
            serve_stored,
            admission,
            webhooks,
            namespaces,
            garbage_collection,
            fields: FieldManager::new(&versions),
            versions,
            me: std::sync::Weak::new(),
        };
        // With a watch cache (etcd), the resource's watches and recent lists are served from it.
        this.store.cache(&this.key(None, None));
        this
    }

    /// The store in an `Arc` that knows itself.
    pub(crate) fn shared(self) -> std::sync::Arc<Self> {
        std::sync::Arc::new_cyclic(|me| GenericStore {
            me: me.clone(),
            ..self
        })
    }

    /// The resource's facts (group, plural, scope) as the storage version has them.
    fn resource(&self) -> &ResourceInfo {
        &self.versions[self.storage].info
    }

    pub(super) fn codec(&self, version: &str) -> Result<(usize, &VersionCodec<H>), ApiError> {
        self.versions
            .iter()
            .enumerate()
            .find(|(_, c)| c.info.version == version)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                )
            })
    }

    /// `/registry/<group>/<plural>/[<namespace>/][<name>]`: one key for every version.
    pub(super) fn key(&self, ns: Option<&str>, name: Option<&str>) -> String {
        let info = self.resource();
        let mut k = format!("/registry/{}/{}/", info.group, info.plural);
        if let Some(ns) = ns {
            k.push_str(ns);
            k.push('/');
        }
        if let Some(n) = name {
            k.push_str(n);
        }
        k
    }

    pub(super) fn storage_error(&self, e: StorageError, name: &str) -> ApiError {
        let info = self.resource();
        match e {
            StorageError::AlreadyExists { .. } => {
                ApiError::already_exists(info.plural, info.group, name)
            }
            StorageError::NotFound { .. } => ApiError::not_found(info.plural, info.group, name),
            StorageError::Conflict { .. } => ApiError::conflict(
                info.plural,
                info.group,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ),
            StorageError::Expired { requested, oldest } => {
                ApiError::expired(format!("too old resource version: {requested} ({oldest})"))
            }
            StorageError::TooLarge { size, limit, .. } => ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("Request entity too large: {size} bytes, limit is {limit}"),
            ),
            StorageError::Unavailable(reason) => ApiError::new(
                503,
                "ServiceUnavailable",
                format!("the storage is unavailable: {reason}"),
            ),
            StorageError::Timeout(reason) => ApiError::new(
                504,
                "Timeout",
                format!("the storage did not answer in time: {reason}"),
            ),
            other => ApiError::internal(other.to_string()),
        }
    }

    /// A stored value as a hub object with its `resourceVersion`, read in the version it was
    /// written in (named by its codec's fingerprint, or else by its `apiVersion`: the storage
    /// version may have changed since).
    pub(super) fn decode_stored(&self, kv: &KeyValue) -> Result<H, ApiError> {
        let opened = self.open(kv)?;
        self.decode_opened(kv, &opened)
    }

    /// A stored value's header read (see [`stored`]).
    pub(super) fn open<'v>(&self, kv: &'v KeyValue) -> Result<stored::Opened<'v>, ApiError> {
        stored::open(&kv.value)
            .map_err(|e| ApiError::internal(format!("{} {}: {e}", self.resource().kind, kv.key)))
    }

    fn decode_opened(&self, kv: &KeyValue, opened: &stored::Opened<'_>) -> Result<H, ApiError> {
        let info = self.resource();
        let by_fingerprint = opened
            .fingerprint
            .and_then(|f| self.versions.iter().find(|c| c.fingerprint == f));
        let codec = match by_fingerprint {
            Some(codec) => codec,
            None => match stored_version(opened.json)? {
                None => &self.versions[self.storage],
                Some(v) => self
                    .versions
                    .iter()
                    .find(|c| c.info.version == v)
                    .ok_or_else(|| {
                        ApiError::internal(format!(
                            "{} {} is stored as {}/{v}, which is not served",
                            info.kind, kv.key, info.group
                        ))
                    })?,
            },
        };
        let mut hub = (codec.read_stored)(opened.json).map_err(|e| {
            ApiError::internal(format!(
                "stored {} {} cannot be read as {}: {}",
                info.kind,
                kv.key,
                codec.info.api_version(),
                describe(e)
            ))
        })?;
        hub.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
        Ok(hub)
    }

    /// The object as stored: in the storage version, without `resourceVersion` (the store's
    /// revision is the truth), sealed with where `resourceVersion` goes back when the bytes are
    /// served as they are.
    fn to_storage(&self, obj: &mut H) -> Result<Bytes, ApiError> {
        let codec = &self.versions[self.storage];
        let info = self.resource();
        let failed = |e: String| {
            ApiError::bad_request(format!(
                "{} cannot be stored as {}: {e}",
                info.kind,
                info.api_version()
            ))
        };
        let rv = obj
            .metadata_mut()
            .resource_version
            .replace(stored::sentinel().to_string());
        let mut json = Vec::with_capacity(512);
        let written = (codec.write_json)(obj, &mut json);
        obj.metadata_mut().resource_version = None;
        let sealed = match written {
            Ok(()) => match stored::seal(&json, codec.fingerprint) {
                Some(sealed) => Ok(sealed),
                None => {
                    json.clear();
                    (codec.write_json)(obj, &mut json)
                        .map(|()| stored::seal_unspliced(&json, codec.fingerprint))
                }
            },
            Err(e) => Err(e),
        };
        obj.metadata_mut().resource_version = rv;
        sealed.map(Bytes::from).map_err(failed)
    }

    /// A hub object in a served version.
    pub(super) fn encode(&self, codec: &VersionCodec<H>, obj: &H) -> Result<Value, ApiError> {
        (codec.write_value)(obj).map_err(|e| {
            ApiError::internal(format!(
                "{} cannot be written as {}: {e}",
                codec.info.kind,
                codec.info.api_version()
            ))
        })
    }

    /// `kv` in `codec`'s version, for watchers: its stored bytes when that codec wrote them,
    /// else decoded (`obj`, the hub object it holds) and encoded.
    pub(super) fn seen(
        &self,
        codec: &VersionCodec<H>,
        kv: &KeyValue,
        obj: &H,
    ) -> Result<Seen, ApiError> {
        let mut json = Vec::with_capacity(kv.value.len() + 16);
        let opened = self.open(kv)?;
        match opened.splice {
            Some(splice) if self.serve_stored && opened.fingerprint == Some(codec.fingerprint) => {
                stored::write_served(&mut json, opened.json, splice, kv.mod_revision);
            }
            _ => (codec.write_json)(obj, &mut json).map_err(|e| {
                ApiError::internal(format!(
                    "{} cannot be written as {}: {e}",
                    codec.info.kind,
                    codec.info.api_version()
                ))
            })?,
        }
        Ok(Seen::new(Bytes::from(json)))
    }

    /// A create or update body: type meta checked against the URL, decoded strictly as the
    /// request's version, defaulted, converted to the hub, its namespace checked.
    fn decode_body(
        &self,
        codec: &VersionCodec<H>,
        scope: &Scope,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<(H, Vec<String>), ApiError> {
        let info = &codec.info;
        check_type_meta(info, body)?;
        let decoded = (codec.read)(body).map_err(|e| decode_error(info, e))?;
        let warnings = field_warnings(info, &decoded.field_issues, opts.field_validation)?;
        let mut obj = decoded.object;
        self.check_namespace(scope, obj.metadata_mut())?;
        Ok((obj, warnings))
    }

    fn check_namespace(&self, scope: &Scope, meta: &mut ObjectMeta) -> Result<(), ApiError> {
        let body = meta.namespace.as_deref().filter(|n| !n.is_empty());
        match (&scope.namespace, body) {
            (Some(url), Some(body)) if url != body => Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            )),
            (Some(url), None) => {
                meta.namespace = Some(url.clone());
                Ok(())
            }
            (None, Some(_)) if !self.resource().namespaced => {
                meta.namespace = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether `obj` is selected by the label and field selectors of `opts`.
    pub(super) fn matches(&self, opts: &ListOptions, obj: &H) -> bool {
        let meta = obj.metadata();
        let no_labels = BTreeMap::new();
        if !opts
            .labels
            .matches(meta.labels.as_ref().unwrap_or(&no_labels))
        {
            return false;
        }
        opts.fields.matches(|field| match field {
            "metadata.name" => meta.name.clone(),
            "metadata.namespace" => meta.namespace.clone(),
            other => self.strategy.field_value(obj, other),
        })
    }

    fn invalid(&self, codec: &VersionCodec<H>, name: &str, causes: Vec<Cause>) -> ApiError {
        ApiError::invalid(codec.info.kind, codec.info.group, name, causes)
    }

    /// Whether two objects differ only in metadata and status (compared as the storage version
    /// writes them, so no `PartialEq` is asked of API types): what `generation` counts.
    fn same_spec(&self, a: &H, b: &H) -> Result<bool, ApiError> {
        let codec = &self.versions[self.storage];
        Ok(crate::object::spec_equal(
            &self.encode(codec, a)?,
            &self.encode(codec, b)?,
        ))
    }

    /// The update rules: status kept or taken alone, system fields kept, generation counted,
    /// validation. Returns whether the result must be deleted instead (the last finalizer of a
    /// deleting object removed).
    fn prepare_update(
        &self,
        ctx: &Context<'_>,
        codec: &VersionCodec<H>,
        subresource: Option<Subresource>,
        new: &mut H,
        old: &H,
    ) -> Result<bool, ApiError> {
        let name = meta::name(old.metadata()).to_string();
        // A uid in the written object is a precondition (Go's `Store.Update`): an object
        // replaced under the same name is not overwritten by a write meant for its predecessor.
        if let Some(uid) = new.metadata().uid.as_deref().filter(|u| !u.is_empty())
            && Some(uid) != old.metadata().uid.as_deref()
        {
            let info = &codec.info;
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                &name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    old.metadata().uid.as_deref().unwrap_or_default()
                ),
            ));
        }
        if subresource == Some(Subresource::Status) {
            // `/status` changes status (and who owns what) and nothing else.
            let rv = new.metadata().resource_version.clone();
            let managed = new.metadata_mut().managed_fields.take();
            let mut merged = old.clone();
            merged.swap_status(new);
            *new = merged;
            new.metadata_mut().resource_version = rv;
            new.metadata_mut().managed_fields = managed;
        } else if codec.info.has_status {
            // The main resource ignores status.
            let mut stored = old.clone();
            new.swap_status(&mut stored);
        }
        if meta::name(new.metadata()) != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta::name(new.metadata())
            )));
        }
        meta::keep_system_fields(new.metadata_mut(), old.metadata());
        self.strategy.prepare_for_update(ctx, new, old);
        if !self.same_spec(new, old)? {
            new.metadata_mut().generation = Some(old.metadata().generation.unwrap_or(0) + 1);
        }
        let mut causes = meta::validate_update(new.metadata());
        causes.extend(self.strategy.validate_update(ctx, new, old));
        if !causes.is_empty() {
            return Err(self.invalid(codec, &name, causes));
        }
        Ok(meta::is_deleting(new.metadata()) && !meta::has_finalizers(new.metadata()))
    }

    /// The read-modify-write loop every update shares (PUT, PATCH, apply, `/status`). With
    /// `track`, the write's field ownership is recorded as an update by the field manager
    /// (an apply records its own in `modify`).
    async fn guaranteed_update<F>(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        opts: &WriteOptions,
        request: Request,
        mut modify: F,
    ) -> Result<super::rest::Written, ApiError>
    where
        F: FnMut(&H) -> Result<(H, Vec<String>), ApiError>,
    {
        meta::check_path_name(name)?;
        let (index, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let ctx = Context {
            version: &scope.version,
            namespace: scope.namespace.as_deref(),
            dry_run: opts.dry_run,
        };
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self
                .store
                .get(&k)
                .await
                .map_err(|e| self.storage_error(e, name))?
                .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
            let old = self.decode_stored(&current)?;
            let (mut new, mut warnings) = modify(&old)?;
            if request != Request::Apply {
                self.fields.update(
                    index,
                    subresource,
                    Some(&old),
                    &mut new,
                    &opts.field_manager,
                )?;
            }
            let field_manager = opts.field_manager.as_str();
            let attrs = Attributes {
                operation: Operation::Update,
                resource: info,
                subresource: subresource.map(|Subresource::Status| "status"),
                namespace: scope.namespace.as_deref(),
                name,
                user: scope.user.as_deref(),
                dry_run: opts.dry_run,
                options: match request {
                    Request::Update => RequestOptions::Update { field_manager },
                    Request::Patch => RequestOptions::Patch {
                        field_manager,
                        force: false,
                    },
                    Request::Apply => RequestOptions::Patch {
                        field_manager,
                        force: opts.force,
                    },
                },
            };
            // Mutating admission after the write's defaults, before the update rules.
            self.admission.admit(&attrs, &mut new, Some(&old))?;
            warnings.extend(
                self.webhooks_mutate(codec, &attrs, &mut new, Some(&old))
                    .await?,
            );
            // A resourceVersion in the request is a precondition.
            let precondition = match new.metadata().resource_version.as_deref() {
                None | Some("") => None,
                Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                    self.invalid(
                        codec,
                        name,
                        vec![Cause::new(
                            "FieldValueInvalid",
                            "metadata.resourceVersion",
                            format!("Invalid value: \"{rv}\": must be an integer"),
                        )],
                    )
                })?),
            };
            if let Some(rv) = precondition
                && rv != current.mod_revision
            {
                return Err(self.storage_error(
                    StorageError::Conflict {
                        key: k.clone(),
                        current: current.mod_revision,
                    },
                    name,
                ));
            }
            let delete_now = self.prepare_update(&ctx, codec, subresource, &mut new, &old)?;
            self.admission.validate(&attrs, Some(&new), Some(&old))?;
            warnings.extend(
                self.webhooks_validate(codec, &attrs, Some(&new), Some(&old))
                    .await?,
            );
            new.metadata_mut().resource_version = Some(current.mod_revision.to_string());
            let written = |obj: &H, warnings: Vec<String>| {
                Ok(super::rest::Written {
                    object: self.encode(codec, obj)?,
                    warnings,
                    created: false,
                })
            };
            if opts.dry_run {
                return written(&new, warnings);
            }
            let result = if delete_now {
                self.store.delete(&k, Some(current.mod_revision)).await
            } else {
                let bytes = self.to_storage(&mut new)?;
                self.store
                    .update(&k, bytes, Some(current.mod_revision))
                    .await
            };
            match result {
                Ok(kv) => {
                    new.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
                    return written(&new, warnings);
                }
                // Someone wrote in between: without a precondition of the caller's, try again.
                Err(StorageError::Conflict { .. }) if precondition.is_none() => continue,
                Err(e) => return Err(self.storage_error(e, name)),
            }
        }
        Err(ApiError::conflict(
            info.plural,
            info.group,
            name,
            "too many concurrent writers; try again",
        ))
    }

    async fn create_object(
        &self,
        scope: &Scope,
        body: &[u8],
        opts: WriteOptions,
    ) -> Result<super::rest::Written, ApiError> {
        let (_, codec) = self.codec(&scope.version)?;
        let (obj, warnings) = self.decode_body(codec, scope, body, &opts)?;
        self.create_decoded(scope, obj, warnings, &opts, false)
            .await
    }

    /// The create path after decoding: system fields, status cleared, ownership (an update by
    /// the writer, or the managed fields an apply worked out: `applied`), validation, storage.
    async fn create_decoded(
        &self,
        scope: &Scope,
        mut obj: H,
        mut warnings: Vec<String>,
        opts: &WriteOptions,
        applied: bool,
    ) -> Result<super::rest::Written, ApiError> {
        let (index, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        meta::prepare_for_create(obj.metadata_mut());
        obj.clear_status();
        if !applied {
            // A client cannot bring managed fields of its own to a create.
            obj.metadata_mut().managed_fields = None;
            self.fields
                .update(index, None, None, &mut obj, &opts.field_manager)?;
        }
        let ctx = Context {
            version: &scope.version,
            namespace: scope.namespace.as_deref(),
            dry_run: opts.dry_run,
        };
        let name = meta::name(obj.metadata()).to_string();
        let attrs = Attributes {
            operation: Operation::Create,
            resource: info,
            subresource: None,
            namespace: scope.namespace.as_deref(),
            name: &name,
            user: scope.user.as_deref(),
            dry_run: opts.dry_run,
            options: if applied {
                RequestOptions::Patch {
                    field_manager: &opts.field_manager,
                    force: opts.force,
                }
            } else {
                RequestOptions::Create {
                    field_manager: &opts.field_manager,
                }
            },
        };
        // Namespace lifecycle first, then mutating admission after defaulting (in decoding),
        // before the strategy and validation.
        if let (Some(source), Some(ns)) = (&self.namespaces, scope.namespace.as_deref())
            && info.namespaced
        {
            super::namespaces::admit_create(source.as_ref(), info, &name, ns).await?;
        }
        self.admission.admit(&attrs, &mut obj, None)?;
        warnings.extend(self.webhooks_mutate(codec, &attrs, &mut obj, None).await?);
        self.strategy.prepare_for_create(&ctx, &mut obj);
        let name = meta::name(obj.metadata()).to_string();
        let mut causes = meta::validate_create(obj.metadata(), codec.info.namespaced);
        causes.extend(self.strategy.validate(&ctx, &obj));
        if !causes.is_empty() {
            return Err(self.invalid(codec, &name, causes));
        }
        // Validating admission after validation, before storage (dry runs too).
        self.admission.validate(&attrs, Some(&obj), None)?;
        warnings.extend(
            self.webhooks_validate(codec, &attrs, Some(&obj), None)
                .await?,
        );
        let k = self.key(scope.namespace.as_deref(), Some(&name));
        if opts.dry_run {
            let exists = self
                .store
                .get(&k)
                .await
                .map_err(|e| self.storage_error(e, &name))?;
            if exists.is_some() {
                return Err(ApiError::already_exists(info.plural, info.group, &name));
            }
        } else {
            let bytes = self.to_storage(&mut obj)?;
            let kv = self
                .store
                .create(&k, bytes)
                .await
                .map_err(|e| self.storage_error(e, &name))?;
            obj.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
        }
        Ok(super::rest::Written {
            object: self.encode(codec, &obj)?,
            warnings,
            created: true,
        })
    }

    async fn patch_object(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        (kind, body): (PatchType, &[u8]),
        opts: WriteOptions,
    ) -> Result<super::rest::Written, ApiError> {
        let (index, codec) = self.codec(&scope.version)?;
        if kind == PatchType::Apply {
            return self
                .apply_object(scope, name, subresource, body, &opts)
                .await;
        }
        let schema = &self.patch_schemas[index];
        self.guaranteed_update(scope, name, subresource, &opts, Request::Patch, |old| {
            // JSON is the point here: the patch applies to the object as the client sees it.
            let original = self.encode(codec, old)?;
            let patched = crate::patch::apply(kind, &original, body, schema).map_err(|e| {
                let err = ApiError::new(e.code(), e.reason(), e.message().to_string());
                match e.cause() {
                    Some(c) => err.with_cause(Cause::new("UnexpectedServerResponse", "", c)),
                    None => err,
                }
            })?;
            let Decoded {
                object: mut obj,
                field_issues,
            } = (codec.read_value)(patched).map_err(|e| decode_error(&codec.info, e))?;
            let warnings = field_warnings(&codec.info, &field_issues, opts.field_validation)?;
            // A patch keeps the stored resourceVersion unless it sets one (a precondition).
            if obj.metadata().resource_version == old.metadata().resource_version {
                obj.metadata_mut().resource_version = None;
            }
            self.check_namespace(scope, obj.metadata_mut())?;
            Ok((obj, warnings))
        })
        .await
    }

    /// A server-side apply (`application/apply-patch+yaml`): the configuration merged into
    /// the object by the field manager (409 on fields other managers own, unless forced), then
    /// the update rules; applying to an object that does not exist creates it.
    async fn apply_object(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<super::rest::Written, ApiError> {
        meta::check_path_name(name)?;
        let (index, codec) = self.codec(&scope.version)?;
        let config = apply_config(&codec.info, scope, name, body)?;
        let manager = &opts.field_manager;
        // Twice at most: a create that loses a race applies to what the other writer created.
        for _ in 0..2 {
            let updated = self
                .guaranteed_update(scope, name, subresource, opts, Request::Apply, |old| {
                    let merged = self.fields.apply(
                        index,
                        subresource,
                        Some(old),
                        &config,
                        manager,
                        opts.force,
                    )?;
                    self.decode_applied(codec, scope, merged, &config, opts)
                })
                .await;
            match updated {
                Err(e) if e.code == 404 && e.reason == "NotFound" && subresource.is_none() => {
                    let merged = self
                        .fields
                        .apply(index, None, None, &config, manager, opts.force)?;
                    let (obj, warnings) =
                        self.decode_applied(codec, scope, merged, &config, opts)?;
                    match self.create_decoded(scope, obj, warnings, opts, true).await {
                        Err(e) if e.reason == "AlreadyExists" => continue,
                        created => return created,
                    }
                }
                other => return other,
            }
        }
        Err(ApiError::conflict(
            codec.info.plural,
            codec.info.group,
            name,
            "the object was created and deleted while it was applied; try again",
        ))
    }

    /// The merged object of an apply, decoded as the request's version.
    fn decode_applied(
        &self,
        codec: &VersionCodec<H>,
        scope: &Scope,
        mut merged: Value,
        config: &Value,
        opts: &WriteOptions,
    ) -> Result<(H, Vec<String>), ApiError> {
        // Fields emptied by pruning are null, as in Kubernetes; a typed object has them unset.
        drop_nulls(&mut merged);
        let Decoded {
            object: mut obj,
            field_issues,
        } = (codec.read_value)(merged).map_err(|e| decode_error(&codec.info, e))?;
        let warnings = field_warnings(&codec.info, &field_issues, opts.field_validation)?;
        // The configuration's resourceVersion, if it has one, is a precondition.
        obj.metadata_mut().resource_version = config
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty())
            .map(str::to_string);
        self.check_namespace(scope, obj.metadata_mut())?;
        Ok((obj, warnings))
    }

    /// The mutating webhooks on `obj`, each seeing it in the version its rules name; what they
    /// changed is decoded back. Returns their warnings.
    async fn webhooks_mutate(
        &self,
        codec: &VersionCodec<H>,
        attrs: &Attributes<'_>,
        obj: &mut H,
        old: Option<&H>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(hooks) = self.webhooks.as_ref().filter(|h| !h.is_empty()) else {
            return Ok(Vec::new());
        };
        let labels = self.namespace_labels(attrs).await?;
        let mut current = (codec.info.version.to_string(), self.encode(codec, obj)?);
        let before = current.clone();
        let warnings = {
            let view = View {
                store: self,
                object: None,
                old,
            };
            hooks.mutate(attrs, &labels, &view, &mut current).await?
        };
        if current != before {
            let (_, last) = self.codec(&current.0)?;
            *obj = (last.read_value)(current.1)
                .map_err(|e| decode_error(&last.info, e))?
                .object;
        }
        Ok(warnings)
    }

    /// The validating webhooks, each seeing the objects in the version its rules name.
    /// Returns their warnings.
    async fn webhooks_validate(
        &self,
        _codec: &VersionCodec<H>,
        attrs: &Attributes<'_>,
        obj: Option<&H>,
        old: Option<&H>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(hooks) = self.webhooks.as_ref().filter(|h| !h.is_empty()) else {
            return Ok(Vec::new());
        };
        let labels = self.namespace_labels(attrs).await?;
        let view = View {
            store: self,
            object: obj,
            old,
        };
        hooks.validate(attrs, &labels, &view).await
    }

    /// The labels of the request's namespace, for webhooks' `namespaceSelector`s (none without
    /// a namespace source, or for a namespace it does not know).
    async fn namespace_labels(
        &self,
        attrs: &Attributes<'_>,
    ) -> Result<BTreeMap<String, String>, ApiError> {
        match (&self.namespaces, attrs.namespace) {
            (Some(source), Some(ns)) => Ok(source
                .lookup(ns)
                .await?
                .map(|n| n.labels)
                .unwrap_or_default()),
            _ => Ok(BTreeMap::new()),
        }
    }

    async fn list_objects(
        &self,
        scope: &Scope,
        opts: &ListOptions,
    ) -> Result<ObjectList, ApiError> {
        let (_, codec) = self.codec(&scope.version)?;
        let prefix = self.key(scope.namespace.as_deref(), None);
        let (mut start_after, mut list_rv) = match &opts.continue_from {
            Some((rv, start)) => (Some(start.clone()), Some(*rv)),
            None => (None, None),
        };
        // Every page after the first reads the first page's revision (the token pins it), and
        // `resourceVersionMatch=Exact` reads the one asked for: a consistent snapshot.
        if list_rv.is_none()
            && opts.resource_version_match == super::rest::ResourceVersionMatch::Exact
        {
            list_rv = opts.resource_version.filter(|rv| *rv > 0);
        }
        let pinned = list_rv;
        // Kubernetes' "any" (`resourceVersion="0"`) and "not older than" lists may be answered
        // from a watch cache; a list without a resourceVersion is a consistent read.
        let not_older_than = match (pinned, opts.resource_version) {
            (None, Some(rv)) => Some(rv),
            _ => None,
        };
        // An unlimited list its caller writes as it reads: pages read at the first page's
        // revision while the response is written, so that neither the response nor the list is
        // ever whole in memory. Every store reads recent revisions (the memory store from its
        // bounded event window): a list read for longer than its store keeps that revision ends
        // early with an error, as a paged list's next page would get 410 Gone.
        let this = (opts.streamed && opts.limit.is_none() && opts.continue_from.is_none())
            .then(|| self.me.upgrade())
            .flatten();
        let mut items = Vec::new();
        let mut next = None;
        let mut more_after = None;
        let mut remaining_count;
        // Read pages until the selector-filtered page is full (or the keys run out).
        loop {
            let want = match this {
                Some(_) => Some(LIST_PAGE),
                None => opts.limit.map(|n| n - items.len()),
            };
            let page = self
                .store
                .list(
                    &prefix,
                    apiserver_storage::ListOptions {
                        start_after: start_after.clone(),
                        limit: want,
                        // Later pages read the first one's revision: one snapshot.
                        revision: list_rv,
                        not_older_than,
                        // Pages read while written have no `remainingItemCount` to give.
                        skip_count: this.is_some(),
                    },
                )
                .await
                .map_err(|e| self.storage_error(e, ""))?;
            list_rv.get_or_insert(page.revision);
            remaining_count = page.remaining_count;
            for kv in &page.items {
                if let Some(item) = self.list_item(codec, opts, kv)? {
                    items.push(item);
                }
            }
            let last = page.items.last().map(|kv| kv.key.clone());
            if !page.remaining || last.is_none() {
                break;
            }
            if this.is_some() {
                more_after = last;
                break;
            }
            start_after = last.clone();
            if opts.limit.is_some_and(|n| items.len() >= n) {
                next = last;
                break;
            }
        }
        let resource_version = list_rv.unwrap_or(0);
        check_list_revision(opts, resource_version)?;
        // Only without selectors do the keys left say how many objects are left.
        let unselected = opts.labels.is_empty() && opts.fields.is_empty();
        let continue_token = next.map(|start| encode_continue(resource_version, &start));
        let more = match (this, more_after) {
            (Some(this), Some(after)) => Some(MorePages(this.more_pages(
                scope.version.clone(),
                prefix,
                after,
                resource_version,
                opts.clone(),
            ))),
            _ => None,
        };
        Ok(ObjectList {
            items: ListItems::new(Items {
                items,
                write_json: codec.write_json,
            }),
            more,
            resource_version,
            remaining_item_count: remaining_count
                .filter(|_| unselected && continue_token.is_some()),
            continue_token,
        })
    }

    /// The pages of a list after the key `after`, each read at `revision` when asked for.
    fn more_pages(
        self: std::sync::Arc<Self>,
        version: String,
        prefix: String,
        after: String,
        revision: u64,
        opts: ListOptions,
    ) -> futures::stream::BoxStream<'static, Result<ListItems, ApiError>> {
        use futures::StreamExt;
        futures::stream::unfold(Some(after), move |after| {
            let this = self.clone();
            let (version, prefix, opts) = (version.clone(), prefix.clone(), opts.clone());
            async move {
                let after = after?;
                let page = async {
                    let (_, codec) = this.codec(&version)?;
                    let page = this
                        .store
                        .list(
                            &prefix,
                            apiserver_storage::ListOptions {
                                start_after: Some(after),
                                limit: Some(LIST_PAGE),
                                revision: Some(revision),
                                not_older_than: None,
                                skip_count: true,
                            },
                        )
                        .await
                        .map_err(|e| this.storage_error(e, ""))?;
                    let mut items = Vec::new();
                    for kv in &page.items {
                        if let Some(item) = this.list_item(codec, &opts, kv)? {
                            items.push(item);
                        }
                    }
                    let next = page
                        .remaining
                        .then(|| page.items.last().map(|kv| kv.key.clone()))
                        .flatten();
                    Ok::<_, ApiError>((
                        ListItems::new(Items {
                            items,
                            write_json: codec.write_json,
                        }),
                        next,
                    ))
                }
                .await;
                Some(match page {
                    Ok((items, next)) => (Ok(items), next),
                    Err(e) => (Err(e), None),
                })
            }
        })
        .boxed()
    }

    /// One stored object of a list, if the selectors select it: served from its stored bytes
    /// when the requested version's codec wrote them (no decoding unless a selector needs a
    /// field other than the name, namespace and labels), else decoded into the hub.
    fn list_item(
        &self,
        codec: &VersionCodec<H>,
        opts: &ListOptions,
        kv: &KeyValue,
    ) -> Result<Option<Item<H>>, ApiError> {
        let opened = self.open(kv)?;
        let splice = opened
            .splice
            .filter(|_| self.serve_stored && opened.fingerprint == Some(codec.fingerprint));
        let Some(splice) = splice else {
            let obj = self.decode_opened(kv, &opened)?;
            return Ok(self.matches(opts, &obj).then(|| Item::Hub(Box::new(obj))));
        };
        let selected = if opts.labels.is_empty() && opts.fields.is_empty() {
            true
        } else if opts
            .fields
            .requirements()
            .iter()
            .all(|r| matches!(r.field.as_str(), "metadata.name" | "metadata.namespace"))
        {
            let meta = stored::probe_meta(opened.json).map_err(|e| {
                ApiError::internal(format!("{} {}: {e}", self.resource().kind, kv.key))
            })?;
            meta.selected_by(&opts.labels, &opts.fields)
        } else {
            self.matches(opts, &self.decode_opened(kv, &opened)?)
        };
        Ok(selected.then(|| Item::Stored {
            value: kv.value.clone(),
            json_start: opened.json_start,
            splice,
            rv: kv.mod_revision,
        }))
    }

    async fn delete_object(
        &self,
        scope: &Scope,
        name: &str,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        meta::check_path_name(name)?;
        let (_, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let preconditions = opts.preconditions.as_ref();
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self
                .store
                .get(&k)
                .await
                .map_err(|e| self.storage_error(e, name))?
                .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
            let mut obj = self.decode_stored(&current)?;
            if let Some(uid) = preconditions.and_then(|p| p.uid.as_deref())
                && Some(uid) != obj.metadata().uid.as_deref()
            {
                return Err(ApiError::conflict(
                    info.plural,
                    info.group,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        obj.metadata().uid.as_deref().unwrap_or_default()
                    ),
                ));
            }
            if let Some(rv) = preconditions.and_then(|p| p.resource_version.as_deref())
                && rv.parse::<u64>().ok() != Some(current.mod_revision)
            {
                return Err(ApiError::conflict(
                    info.plural,
                    info.group,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        current.mod_revision
                    ),
                ));
            }
            let attrs = Attributes {
                operation: Operation::Delete,
                resource: info,
                subresource: None,
                namespace: scope.namespace.as_deref(),
                name,
                user: scope.user.as_deref(),
                dry_run,
                options: RequestOptions::Delete(opts),
            };
            self.admission.validate(&attrs, None, Some(&obj))?;
            self.webhooks_validate(codec, &attrs, None, Some(&obj))
                .await?;
            // A garbage collector watching this server orphans the object's dependents, or
            // deletes them first, when asked to by a finalizer of its own.
            let gc_changed =
                self.garbage_collection && meta::set_gc_finalizers(obj.metadata_mut(), opts);
            if meta::has_finalizers(obj.metadata()) {
                // Finalizers pending: mark, answer with the object; deletion happens when
                // they are gone.
                if !meta::is_deleting(obj.metadata()) || gc_changed {
                    meta::mark_deleting(obj.metadata_mut());
                    if !dry_run {
                        let bytes = self.to_storage(&mut obj)?;
                        match self
                            .store
                            .update(&k, bytes, Some(current.mod_revision))
                            .await
                        {
                            Ok(kv) => {
                                obj.metadata_mut().resource_version =
                                    Some(kv.mod_revision.to_string())
                            }
                            Err(StorageError::Conflict { .. }) => continue,
                            Err(e) => return Err(self.storage_error(e, name)),
                        }
                    }
                }
                return Ok(Deleted::Pending(self.encode(codec, &obj)?));
            }
            if dry_run {
                return Ok(Deleted::Gone(self.encode(codec, &obj)?));
            }
            match self.store.delete(&k, Some(current.mod_revision)).await {
                Ok(kv) => {
                    obj.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
                    return Ok(Deleted::Gone(self.encode(codec, &obj)?));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(self.storage_error(e, name)),
            }
        }
        Err(ApiError::conflict(
            info.plural,
            info.group,
            name,
            "too many concurrent writers; try again",
        ))
    }

    async fn delete_selected(
        &self,
        scope: &Scope,
        list: &ListOptions,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<ObjectList, ApiError> {
        self.codec(&scope.version)?;
        let prefix = self.key(scope.namespace.as_deref(), None);
        let page = self
            .store
            .list(&prefix, apiserver_storage::ListOptions::default())
            .await
            .map_err(|e| self.storage_error(e, ""))?;
        let mut deleted = Vec::new();
        for kv in &page.items {
            let obj = self.decode_stored(kv)?;
            if !self.matches(list, &obj) {
                continue;
            }
            let one = Scope {
                version: scope.version.clone(),
                namespace: obj.metadata().namespace.clone(),
                user: scope.user.clone(),
            };
            match self
                .delete_object(&one, meta::name(obj.metadata()), opts, dry_run)
                .await
            {
                Ok(Deleted::Gone(v) | Deleted::Pending(v)) => deleted.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ObjectList {
            items: ListItems::from_values(deleted),
            more: None,
            resource_version: page.revision,
            continue_token: None,
            remaining_item_count: None,
        })
    }
}

impl<H, S> RestStorage for GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    fn info(&self, version: &str) -> Option<&ResourceInfo> {
        self.codec(version).ok().map(|(_, c)| &c.info)
    }

    fn served(&self) -> Vec<&ResourceInfo> {
        self.versions.iter().map(|c| &c.info).collect()
    }

    fn storage_version(&self) -> &str {
        self.resource().version
    }

    fn schemas(&self, version: &str) -> Option<&'static str> {
        self.codec(version).ok().map(|(_, c)| c.schemas)
    }

    fn protobuf(&self, version: &str) -> Option<super::codec::ProtobufEdge> {
        self.codec(version).ok().and_then(|(_, c)| c.protobuf)
    }

    fn selectable_fields(&self) -> &'static [&'static str] {
        self.strategy.selectable_fields()
    }

    fn get<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Value, ApiError>> {
        Box::pin(async move {
            meta::check_path_name(name)?;
            let (_, codec) = self.codec(&scope.version)?;
            let kv = self
                .store
                .get(&self.key(scope.namespace.as_deref(), Some(name)))
                .await
                .map_err(|e| self.storage_error(e, name))?
                .ok_or_else(|| ApiError::not_found(codec.info.plural, codec.info.group, name))?;
            self.encode(codec, &self.decode_stored(&kv)?)
        })
    }

    fn list<'a>(
        &'a self,
        scope: &'a Scope,
        opts: &'a ListOptions,
    ) -> BoxFuture<'a, Result<ObjectList, ApiError>> {
        Box::pin(self.list_objects(scope, opts))
    }

    fn create<'a>(
        &'a self,
        scope: &'a Scope,
        body: &'a [u8],
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<super::rest::Written, ApiError>> {
        Box::pin(self.create_object(scope, body, opts))
    }

    fn update<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        subresource: Option<Subresource>,
        body: &'a [u8],
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<super::rest::Written, ApiError>> {
        Box::pin(async move {
            let (_, codec) = self.codec(&scope.version)?;
            let (new, warnings) = self.decode_body(codec, scope, body, &opts)?;
            self.guaranteed_update(scope, name, subresource, &opts, Request::Update, |_old| {
                Ok((new.clone(), warnings.clone()))
            })
            .await
        })
    }

    fn patch<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        subresource: Option<Subresource>,
        patch: (PatchType, &'a [u8]),
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<super::rest::Written, ApiError>> {
        Box::pin(self.patch_object(scope, name, subresource, patch, opts))
    }

    fn delete<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        opts: &'a DeleteOptions,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<Deleted, ApiError>> {
        Box::pin(self.delete_object(scope, name, opts, dry_run))
    }

    fn delete_collection<'a>(
        &'a self,
        scope: &'a Scope,
        list: &'a ListOptions,
        opts: &'a DeleteOptions,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<ObjectList, ApiError>> {
        Box::pin(self.delete_selected(scope, list, opts, dry_run))
    }

    fn watch(
        self: std::sync::Arc<Self>,
        scope: Scope,
        opts: ListOptions,
        resource_version: Option<u64>,
        send_initial_events: bool,
    ) -> BoxFuture<'static, Result<Watch, ApiError>> {
        Box::pin(super::watch::start(
            self,
            scope,
            opts,
            resource_version,
            send_initial_events,
        ))
    }
}

/// A list read at `revision` against the `resourceVersion` it asked for: newer than asked is
/// fine (`NotOlderThan`, or unset); older than asked is a 504 as in Kubernetes ("Too large
/// resource version"). `Exact` lists were read at the revision asked for.
fn check_list_revision(opts: &ListOptions, revision: u64) -> Result<(), ApiError> {
    let Some(asked) = opts.resource_version.filter(|rv| *rv > 0) else {
        return Ok(());
    };
    if asked > revision {
        return Err(ApiError::new(
            504,
            "Timeout",
            format!("Too large resource version: {asked}, current: {revision}"),
        ));
    }
    Ok(())
}

/// The version a stored object was written in: a scan of its `apiVersion`, not a full parse.
fn stored_version(bytes: &[u8]) -> Result<Option<String>, ApiError> {
    #[derive(serde::Deserialize)]
    struct TypeMeta<'a> {
        #[serde(rename = "apiVersion", borrow, default)]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }
    let meta = serde_json::from_slice::<TypeMeta>(bytes)
        .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?;
    Ok(meta
        .api_version
        .and_then(|av| av.rsplit_once('/').map(|(_, v)| v.to_string())))
}

/// A body's `apiVersion` and `kind`, when given, must be the URL's.
fn check_type_meta(info: &ResourceInfo, body: &[u8]) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct TypeMeta<'a> {
        #[serde(rename = "apiVersion", borrow, default)]
        api_version: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    let meta = serde_json::from_slice::<TypeMeta>(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if let Some(av) = meta.api_version.as_deref()
        && av != info.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    if let Some(kind) = meta.kind.as_deref()
        && kind != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            info.kind
        )));
    }
    Ok(())
}

fn describe(e: DecodeError) -> String {
    match e {
        DecodeError::Invalid(m) => m,
        DecodeError::Convert(c) => format!("conversion to the hub failed: {c}"),
    }
}

fn decode_error(info: &ResourceInfo, e: DecodeError) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: {}",
        describe(e),
        kind = info.kind,
        version = info.version
    ))
}

/// `fieldValidation` over the unknown and duplicate fields of a body: Strict refuses, Warn
/// answers with warnings, Ignore drops them.
fn field_warnings(
    info: &ResourceInfo,
    issues: &[String],
    mode: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    if issues.is_empty() || mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let msgs = issues.to_vec();
    if mode == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            msgs.join(", "),
            kind = info.kind,
            version = info.version
        )));
    }
    Ok(msgs)
}

/// One item of a list.
enum Item<H> {
    /// Stored bytes in the requested version, served with their `resourceVersion` put back.
    Stored {
        value: Bytes,
        json_start: usize,
        splice: stored::Splice,
        rv: u64,
    },
    /// A hub object, encoded in the requested version when written (boxed: a hub object is
    /// many times the size of the other variant, and a list holds many items).
    Hub(Box<H>),
}

/// A list's items and how hub objects are written in the requested version.
struct Items<H> {
    items: Vec<Item<H>>,
    write_json: fn(&H, &mut Vec<u8>) -> Result<(), String>,
}

impl<H: Send + Sync + 'static> ItemSource for Items<H> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn write_json(&self, i: usize, out: &mut Vec<u8>) -> Result<(), String> {
        match &self.items[i] {
            Item::Stored {
                value,
                json_start,
                splice,
                rv,
            } => {
                stored::write_served(out, &value[*json_start..], *splice, *rv);
                Ok(())
            }
            Item::Hub(obj) => (self.write_json)(obj, out),
        }
    }
}

/// An apply configuration: YAML or JSON, an object of the URL's version and kind (both
/// required), named as the URL names it, without managed fields of its own.
fn apply_config(
    info: &ResourceInfo,
    scope: &Scope,
    name: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the apply configuration is not UTF-8"))?;
    let mut config: Value = serde_saphyr::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let Some(obj) = config.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the apply configuration must be an object",
        ));
    };
    let field = |obj: &serde_json::Map<String, Value>, f: &str| {
        obj.get(f).and_then(Value::as_str).map(str::to_string)
    };
    match (field(obj, "apiVersion"), field(obj, "kind")) {
        (Some(av), Some(kind)) if av == info.api_version() && kind == info.kind => {}
        (Some(av), Some(kind)) => {
            return Err(ApiError::bad_request(format!(
                "the apply configuration is a {av}, Kind={kind}; expected a {}, Kind={}",
                info.api_version(),
                info.kind
            )));
        }
        _ => {
            return Err(ApiError::bad_request(
                "the apply configuration must set apiVersion and kind",
            ));
        }
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    if meta.get("managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        Some(_) => {}
        None => {
            meta.insert("name".into(), Value::String(name.to_string()));
        }
    }
    if let Some(ns) = &scope.namespace
        && meta.get("namespace").is_none()
    {
        meta.insert("namespace".into(), Value::String(ns.clone()));
    }
    Ok(config)
}

/// Removes null members of objects, recursively.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A write's objects as every served version sees them, for webhooks.
struct View<'a, H, S> {
    store: &'a GenericStore<H, S>,
    object: Option<&'a H>,
    old: Option<&'a H>,
}

impl<H, S> super::webhooks::VersionedView for View<'_, H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    fn served(&self) -> Vec<&ResourceInfo> {
        self.store.versions.iter().map(|c| &c.info).collect()
    }

    fn object(&self, version: &str) -> Result<Option<Value>, ApiError> {
        let (_, codec) = self.store.codec(version)?;
        self.object.map(|o| self.store.encode(codec, o)).transpose()
    }

    fn old(&self, version: &str) -> Result<Option<Value>, ApiError> {
        let (_, codec) = self.store.codec(version)?;
        self.old.map(|o| self.store.encode(codec, o)).transpose()
    }

    fn convert(&self, object: &Value, from: &str, to: &str) -> Result<Value, ApiError> {
        let (_, from) = self.store.codec(from)?;
        let hub = (from.read_value)(object.clone())
            .map_err(|e| decode_error(&from.info, e))?
            .object;
        let (_, to) = self.store.codec(to)?;
        self.store.encode(to, &hub)
    }
}
