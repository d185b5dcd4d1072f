//! [`GenericStore`]: one resource over the storage, on typed hub objects — Go's
//! `genericregistry.Store`. Writes go decode (the request's version, strict) → default →
//! convert to the hub → metadata rules → strategy → convert to the storage version → storage;
//! reads go storage (in whatever version each object was written) → hub → the request's
//! version.

use kube_codegen_apimachinery::validation::go_quote;
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

mod delete;
mod list;
mod write;

/// How long a read-modify-write keeps retrying when other writers got there first. etcd3's
/// `GuaranteedUpdate` retries until the request's context ends: a write without a
/// `resourceVersion` precondition must not fail just because others wrote meanwhile (on etcd,
/// 20 concurrent label patches of one object had made a few of them 409 after 16 attempts).
const UPDATE_RETRY_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a read or watch from a `resourceVersion` the store has not reached waits for it
/// (a replica behind the one that answered the client's write) before the 504 "Too large
/// resource version", by default: kube-apiserver's watch cache's `blockTimeout`.
pub(crate) const FRESHNESS_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The attempts of one read-modify-write: immediate at first, then after a short random pause
/// that grows with the attempts (writers that keep colliding spread out instead of spinning).
struct Attempts {
    done: u32,
    until: std::time::Instant,
}

impl Attempts {
    fn new() -> Self {
        Attempts {
            done: 0,
            until: std::time::Instant::now() + UPDATE_RETRY_WINDOW,
        }
    }

    /// The 409 once every attempt collided with another writer.
    fn exhausted(info: &ResourceInfo, name: &str) -> ApiError {
        ApiError::conflict(
            info.plural,
            info.group,
            name,
            "too many concurrent writers; try again",
        )
    }

    /// Whether to make one more attempt (waiting first when the last few collided).
    async fn another(&mut self) -> bool {
        self.done += 1;
        if self.done == 1 {
            return true;
        }
        if std::time::Instant::now() >= self.until {
            return false;
        }
        if self.done > 3 {
            // Up to 1 ms × attempts (capped at 50 ms), spread by the clock's low bits: no RNG
            // dependency for what only needs to differ between concurrent writers.
            let cap_us = (self.done.min(50) as u64) * 1000;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos() as u64);
            let pause = (nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % cap_us.max(1);
            tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
        }
        true
    }
}

/// Which request an update is (what admission is told, and whether the field manager records it
/// as an update: an apply records its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Update,
    Patch,
    Apply,
}

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
    /// A delete may remove an object that does not decode (see
    /// [`crate::ApiServerBuilder::unsafe_malformed_object_deletion`]).
    unsafe_delete: bool,
    /// How long a read from a revision still to come waits for it ([`FRESHNESS_WAIT`]).
    freshness_wait: std::time::Duration,
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
        let freshness_wait = config.freshness_wait;
        let unsafe_delete = config.unsafe_malformed_object_deletion;
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
            unsafe_delete,
            freshness_wait,
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

    /// Waits up to its freshness wait ([`FRESHNESS_WAIT`] by default) for the store to reach
    /// `revision`, as kube-apiserver's watch cache waits to be fresh enough: the store's
    /// revision then, or the 504 "Too large resource version" with the last one seen.
    pub(crate) async fn wait_for_revision(&self, revision: u64) -> Result<u64, ApiError> {
        let deadline = tokio::time::Instant::now() + self.freshness_wait;
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            let current = match self.store.known_revision() {
                Some(known) if known >= revision => known,
                _ => self
                    .store
                    .revision()
                    .await
                    .map_err(|e| self.storage_error(e, ""))?,
            };
            if current >= revision {
                return Ok(current);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(ApiError::too_large_resource_version(revision, current));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(100));
        }
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
            // (A watch that falls behind ends before this; anywhere else it means: start again.)
            StorageError::Behind { delivered } => {
                ApiError::expired(format!("the watch fell behind after {delivered}"))
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

    /// The value stored under `key` (the object `name`), or its 404.
    pub(super) async fn stored(
        &self,
        key: &str,
        info: &ResourceInfo,
        name: &str,
    ) -> Result<KeyValue, ApiError> {
        self.store
            .get(key)
            .await
            .map_err(|e| self.storage_error(e, name))?
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))
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
            None => match stored_version(opened.json).map_err(|e| {
                ApiError::internal(format!("stored {} {} is not JSON: {e}", info.kind, kv.key))
            })? {
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
        // Whatever writes it, an object is stored as Go's `omitempty` would write it.
        meta::omit_empty(obj.metadata_mut());
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
        (codec.write_value)(obj).map_err(|e| self.unwritable(codec, e))
    }

    /// A hub object that could not be written in `codec`'s version (a conversion failed).
    pub(super) fn unwritable(&self, codec: &VersionCodec<H>, e: String) -> ApiError {
        ApiError::internal(format!(
            "{} cannot be written as {}: {e}",
            codec.info.kind,
            codec.info.api_version()
        ))
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
            _ => (codec.write_json)(obj, &mut json).map_err(|e| self.unwritable(codec, e))?,
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
        let decoded = match (codec.read)(body) {
            Ok(decoded) => decoded,
            // A `null` for a field that cannot hold one (a non-`Option` field, as the official
            // Python client sends a dict's `None`s): absent instead, as a CRD's structural schema
            // prunes it, then decoded again. If that fails too, the first error stands, unless
            // the pruned field is one the version requires: then that is the error (422), as a
            // CRD's validation reports a required field pruned of its `null`.
            Err(e) => {
                let (index, _) = self.codec(&scope.version)?;
                let mode = opts.field_validation;
                match self
                    .fields
                    .without_nulls(index, body)
                    .map(|p| (codec.read)(&p))
                {
                    Some(Ok(decoded)) => decoded,
                    Some(Err(required)) if required.is_required() => {
                        let err = decode_error_in(info, &name_in_body(body), required, mode);
                        return Err(self.with_metadata_causes(err, scope, body));
                    }
                    Some(Err(_)) | None => {
                        let err = decode_error_in(info, &name_in_body(body), e, mode);
                        return Err(self.with_metadata_causes(err, scope, body));
                    }
                }
            }
        };
        let warnings = field_warnings(info, &decoded.field_issues, opts.field_validation)?;
        let mut obj = decoded.object;
        self.check_namespace(scope, obj.metadata_mut())?;
        Ok((obj, warnings))
    }

    /// A 422 about the body's schema, with the problems of its `metadata` first, as a CRD's
    /// validation reports them together (ObjectMeta's rules, then the schema's): one answer
    /// names everything to fix. Anything else, or metadata that does not read, is `err` as is.
    fn with_metadata_causes(&self, mut err: ApiError, scope: &Scope, body: &[u8]) -> ApiError {
        #[derive(serde::Deserialize)]
        struct Metadata {
            metadata: ObjectMeta,
        }
        if err.code != 422 {
            return err;
        }
        let Some(details) = err.details.as_mut() else {
            return err;
        };
        let Ok(Metadata { mut metadata }) = serde_json::from_slice::<Metadata>(body) else {
            return err;
        };
        if self.check_namespace(scope, &mut metadata).is_err() {
            return err;
        }
        let mut causes = super::meta::validate_create(&metadata, self.resource().namespaced);
        if causes.is_empty() {
            return err;
        }
        causes.append(&mut details.causes);
        let info = self.resource();
        ApiError::invalid(
            info.kind,
            info.group,
            details.name.as_deref().unwrap_or_default(),
            causes,
        )
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
        resource_version: Option<u64>,
    ) -> BoxFuture<'a, Result<Value, ApiError>> {
        Box::pin(async move {
            meta::check_path_name(name)?;
            let (_, codec) = self.codec(&scope.version)?;
            // A resourceVersion (other than "0") asks for the object at that revision or later
            // (Go's etcd3 `Get`, `validateMinimumResourceVersion`): a revision the store does not
            // reach soon is a 504, before whether the object exists. The store's revision is read
            // first, so the object read after it is at least that recent.
            if let Some(asked) = resource_version.filter(|rv| *rv > 0) {
                self.wait_for_revision(asked).await?;
            }
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
        send_initial_events: Option<bool>,
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

/// The version a stored object was written in: a scan of its `apiVersion`, not a full parse.
fn stored_version(bytes: &[u8]) -> Result<Option<String>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct TypeMeta<'a> {
        #[serde(rename = "apiVersion", borrow, default)]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }
    let meta = serde_json::from_slice::<TypeMeta>(bytes)?;
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
    let meta = match serde_json::from_slice::<TypeMeta>(body) {
        Ok(meta) => meta,
        // `kind` or `apiVersion` given twice: the last one counts, as for any other key
        // (`fieldValidation` judges the repeat when the body is decoded).
        Err(e) if e.to_string().starts_with("duplicate field") => {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
            })?;
            let field = |k: &str| match value.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(std::borrow::Cow::Owned(s.clone()))),
                Some(other) => Err(ApiError::bad_request(format!(
                    "the request body is not valid JSON: {k}: invalid type: {other}, expected a string"
                ))),
            };
            TypeMeta {
                api_version: field("apiVersion")?,
                kind: field("kind")?,
            }
        }
        Err(e) => {
            return Err(ApiError::bad_request(format!(
                "the request body is not valid JSON: {e}"
            )));
        }
    };
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

/// What a client is told of a panic in defaulting or conversion (its message is in the log).
const PANICKED: &str =
    "defaulting or converting the object panicked; look in the server's logs for details";

fn describe(e: DecodeError) -> String {
    match e {
        DecodeError::Invalid {
            message,
            field: Some(field),
        } => format!("{field}: {message}"),
        DecodeError::Invalid { message, .. } => message,
        DecodeError::Required(field) => format!("{field}: Required value"),
        DecodeError::NotSupported {
            field,
            value,
            supported,
        } => format!("{field}: {}", not_supported(&value, &supported)),
        DecodeError::Convert(c) => format!("conversion to the hub failed: {c}"),
        DecodeError::Panicked => PANICKED.to_string(),
        DecodeError::Schema { errors, .. } => errors
            .into_iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Go's `field.NotSupported` wording.
fn not_supported(value: &str, supported: &[String]) -> String {
    let listed: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
    format!(
        "Unsupported value: {}: supported values: {}",
        go_quote(value),
        listed.join(", ")
    )
}

/// A body that does not decode as the version: a missing required field or an enum value the
/// enum does not have is a 422 naming it (as a CRD's schema reports it, `spec.message: Required
/// value`), anything else a 400 naming where.
/// All of them at once when the body has several (one 422, as a CRD's schema validation
/// lists them).
pub(super) fn decode_error(info: &ResourceInfo, name: &str, e: DecodeError) -> ApiError {
    if let DecodeError::Panicked = e {
        return ApiError::internal(PANICKED);
    }
    let causes = match &e {
        DecodeError::Schema { errors, .. } => errors.iter().filter_map(schema_cause).collect(),
        e => schema_cause(e).into_iter().collect::<Vec<_>>(),
    };
    if !causes.is_empty() {
        return ApiError::invalid(info.kind, info.group, name, causes);
    }
    ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: {}",
        describe(e),
        kind = info.kind,
        version = info.version
    ))
}

/// The 422 cause of a missing required field or an unsupported enum value.
fn schema_cause(e: &DecodeError) -> Option<Cause> {
    match e {
        DecodeError::Required(field) => {
            Some(Cause::new("FieldValueRequired", field, "Required value"))
        }
        DecodeError::NotSupported {
            field,
            value,
            supported,
        } => Some(Cause::new(
            "FieldValueNotSupported",
            field,
            not_supported(value, supported),
        )),
        _ => None,
    }
}

/// [`decode_error`] for a client's body: under `fieldValidation=Strict`, its unknown and
/// duplicate fields are the error (400) before any validation, as Go's strict decoding fails
/// before a CRD's schema validation runs.
pub(super) fn decode_error_in(
    info: &ResourceInfo,
    name: &str,
    e: DecodeError,
    mode: FieldValidation,
) -> ApiError {
    if let DecodeError::Schema { field_issues, .. } = &e
        && let Err(strict) = field_warnings(info, field_issues, mode)
    {
        return strict;
    }
    decode_error(info, name, e)
}

/// `metadata.name` of a JSON object, for messages about it ("" when it has none).
fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.name` of a body that did not decode, for the message about it: read leniently,
/// "" when the body does not have one a lenient read finds.
fn name_in_body(body: &[u8]) -> String {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Named {
        metadata: Meta,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Meta {
        name: String,
    }
    serde_json::from_slice::<Named>(body)
        .map(|n| n.metadata.name)
        .unwrap_or_default()
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
