//! The registry's face to the HTTP handlers: typed request options and results, and
//! [`RestStorage`], one resource with every served version behind a trait object (Go's
//! `rest.Storage` interfaces).

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use kube_codegen_scheme::ResourceInfo;
use serde_json::Value;

use crate::patch::PatchType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// Where a request points: the version it speaks and its namespace.
#[derive(Clone, Debug)]
pub struct Scope {
    pub version: String,
    /// `None` for cluster-scoped resources and for collections across all namespaces.
    pub namespace: Option<String>,
    /// Who asks (`None` without authentication): what admission is told.
    pub user: Option<Arc<crate::auth::User>>,
    /// What the guard allowed (`None` without one): a write that turns out to create the
    /// object (a server-side apply) asks it for `create` too.
    pub authorized: Option<Arc<crate::auth::Authorized>>,
}

/// `fieldValidation`: what to do with fields the version does not know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// Answer with a `Warning` header per unknown field (the default).
    #[default]
    Warn,
    /// Refuse the request (400).
    Strict,
}

/// Options of create, update and patch.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: everything but storing.
    pub dry_run: bool,
    pub field_validation: FieldValidation,
    /// Who writes (`fieldManager`, else the client's User-Agent): the owner of the fields the
    /// write sets, in `metadata.managedFields`.
    pub field_manager: String,
    /// `force=true` on a server-side apply: take the fields other managers own.
    pub force: bool,
}

/// The subresource an update or patch addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subresource {
    /// `/status`: the write changes status and nothing else.
    Status,
    /// `/scale`: the write changes the replicas the kind's `+scale` names (under `spec`), as
    /// the main resource would; admission and field ownership say `scale`.
    Scale,
}

impl Subresource {
    /// The URL segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
        }
    }
}

/// `resourceVersionMatch` of a list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// Unset: `resourceVersion` "0" means any, another value at least that one.
    #[default]
    Unset,
    /// At least the given `resourceVersion`.
    NotOlderThan,
    /// Exactly the given `resourceVersion`.
    Exact,
}

/// Options of list, watch and deletecollection.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// At most this many items (after selection); `None` = all.
    pub limit: Option<usize>,
    /// A `continue` token's revision and last key.
    pub continue_from: Option<(u64, String)>,
    /// `resourceVersion` of a list (`None`: the most recent).
    pub resource_version: Option<u64>,
    pub resource_version_match: ResourceVersionMatch,
    /// The caller writes the list as it reads it: an unlimited list may come in pages read at
    /// the list's revision while the response is written ([`ObjectList::more`]), so its
    /// memory does not grow with its size.
    pub streamed: bool,
}

/// A write's answer: the object in the request's version, and warnings for the client.
#[derive(Debug)]
pub struct Written {
    pub object: Value,
    pub warnings: Vec<String>,
    /// The write created the object (a create, or an apply to an object that did not exist).
    pub created: bool,
}

/// A delete's answer.
#[derive(Debug)]
pub enum Deleted {
    /// Deleted: the object as it was last stored.
    Gone(Value),
    /// Finalizers are pending: the object, now marked with a `deletionTimestamp`.
    Pending(Value),
}

/// A list's answer, in the request's version.
#[derive(Debug)]
pub struct ObjectList {
    /// The items (with [`more`](Self::more), the first page of them).
    pub items: ListItems,
    /// The pages after `items`, read at the list's revision as they are asked for (only for
    /// [`ListOptions::streamed`] lists).
    pub more: Option<MorePages>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    /// Objects after this page, when known (no selectors: Kubernetes' `remainingItemCount`).
    pub remaining_item_count: Option<u64>,
}

/// The rest of a list, page by page; an error ends the list (a response already begun is cut
/// short).
pub struct MorePages(pub BoxStream<'static, Result<ListItems, ApiError>>);

impl std::fmt::Debug for MorePages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MorePages")
    }
}

/// A list's items in the request's version, each written as JSON only when the response is
/// (stored bytes served as they are, or a hub object encoded in the version).
pub struct ListItems(Box<dyn ItemSource>);

/// Where a [`ListItems`]' objects come from.
pub(crate) trait ItemSource: Send + Sync + 'static {
    fn len(&self) -> usize;
    /// Appends item `i` as JSON (nothing on error).
    fn write_json(&self, i: usize, out: &mut Vec<u8>) -> Result<(), String>;
}

impl ListItems {
    pub(crate) fn new(source: impl ItemSource) -> Self {
        ListItems(Box::new(source))
    }

    /// Items already encoded as values.
    pub fn from_values(values: Vec<Value>) -> Self {
        struct Values(Vec<Value>);
        impl ItemSource for Values {
            fn len(&self) -> usize {
                self.0.len()
            }
            fn write_json(&self, i: usize, out: &mut Vec<u8>) -> Result<(), String> {
                serde_json::to_writer(out, &self.0[i]).map_err(|e| e.to_string())
            }
        }
        ListItems::new(Values(values))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Appends item `i` as JSON.
    pub fn write_json(&self, i: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let len = out.len();
        self.0.write_json(i, out).map_err(|e| {
            out.truncate(len);
            ApiError::internal(e)
        })
    }

    /// Every item as a JSON value (for tables, which read columns out of them).
    pub fn to_values(&self) -> Result<Vec<Value>, ApiError> {
        let mut buf = Vec::new();
        (0..self.len())
            .map(|i| {
                buf.clear();
                self.write_json(i, &mut buf)?;
                serde_json::from_slice(&buf).map_err(|e| ApiError::internal(e.to_string()))
            })
            .collect()
    }
}

impl std::fmt::Debug for ListItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ListItems({} items)", self.len())
    }
}

/// An object as one version sees it at one revision, encoded once for every watcher of that
/// version: its JSON, and — each made once, on first use, and shared — the watch-event lines
/// that carry it and its JSON value (for tables).
#[derive(Debug)]
pub struct Seen {
    json: Bytes,
    lines: [std::sync::OnceLock<Bytes>; 3],
    /// Protobuf watch frames, made like the lines: once, for every watcher of the version.
    frames: [std::sync::OnceLock<Result<Bytes, String>>; 3],
    object: std::sync::OnceLock<Result<Value, String>>,
}

/// The type of a watch event that carries an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

impl Seen {
    pub(crate) fn new(json: Bytes) -> Self {
        Seen {
            json,
            lines: Default::default(),
            frames: Default::default(),
            object: Default::default(),
        }
    }

    /// The object as JSON.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// `{"type":"<kind>","object":<object>}` and a newline, as k8s-openapi's `WatchEvent` writes
    /// it: the same bytes for every watcher.
    pub fn line(&self, kind: EventKind) -> Bytes {
        self.lines[kind as usize]
            .get_or_init(|| {
                let kind = kind.as_str();
                let mut line = Vec::with_capacity(self.json.len() + 40);
                line.extend_from_slice(b"{\"type\":\"");
                line.extend_from_slice(kind.as_bytes());
                line.extend_from_slice(b"\",\"object\":");
                line.extend_from_slice(&self.json);
                line.extend_from_slice(b"}\n");
                Bytes::from(line)
            })
            .clone()
    }

    /// The protobuf watch frame of this event, made by `frame` from the object's JSON the first
    /// time a watcher asks and shared after that.
    pub fn frame(
        &self,
        kind: EventKind,
        frame: impl FnOnce(&str, &[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<Bytes, ApiError> {
        self.frames[kind as usize]
            .get_or_init(|| frame(kind.as_str(), &self.json).map(Bytes::from))
            .clone()
            .map_err(ApiError::internal)
    }

    /// The object as a JSON value.
    pub fn object(&self) -> Result<&Value, ApiError> {
        self.object
            .get_or_init(|| serde_json::from_slice(&self.json).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| ApiError::internal(e.clone()))
    }
}

/// One event of a watch, in the watcher's version.
#[derive(Debug)]
pub enum WatchItem {
    Added(Arc<Seen>),
    Modified(Arc<Seen>),
    Deleted(Arc<Seen>),
    /// The initial events of a streaming list are over (a BOOKMARK annotated
    /// `k8s.io/initial-events-end: "true"`).
    InitialEventsEnd,
    /// Every change up to this event's revision has been delivered (a BOOKMARK, when the client
    /// allows them): answers [`Watch::progress`] requests, so a quiet watch's position keeps up
    /// with the store's revision.
    Progress,
    /// The watch cannot go on (e.g. 410 Gone); the stream ends after it.
    Error(ApiError),
}

/// A started watch: the revision it starts after and its events (initial ADDEDs first, when
/// asked for).
pub struct Watch {
    pub from: u64,
    pub events: BoxStream<'static, (u64, WatchItem)>,
    /// Asks for a [`WatchItem::Progress`] in order with the events, when the store answers such
    /// requests (in-process stores do; etcd sends its progress notifications on its own).
    pub progress: Option<apiserver_storage::ProgressHandle>,
}

/// One resource (all its served versions), as the handlers call it.
pub trait RestStorage: Send + Sync + 'static {
    /// Facts of the resource in `version`, if served.
    fn info(&self, version: &str) -> Option<&ResourceInfo>;
    /// Every served version's facts, in registration order.
    fn served(&self) -> Vec<&ResourceInfo>;
    /// The version objects are written in.
    fn storage_version(&self) -> &str;
    /// The generated OpenAPI schemas of a served version.
    fn schemas(&self, version: &str) -> Option<&'static str>;
    /// The protobuf message of a served version, if it has one.
    fn protobuf(&self, version: &str) -> Option<super::codec::ProtobufEdge>;
    /// Fields usable in a `fieldSelector` besides `metadata.name` (and `metadata.namespace`).
    fn selectable_fields(&self) -> &'static [&'static str];

    /// One object. With a `resource_version` other than 0, at that revision or later: a
    /// revision the store has not reached is a 504 `Timeout` (`Too large resource version`).
    fn get<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        resource_version: Option<u64>,
    ) -> BoxFuture<'a, Result<Value, ApiError>>;
    fn list<'a>(
        &'a self,
        scope: &'a Scope,
        opts: &'a ListOptions,
    ) -> BoxFuture<'a, Result<ObjectList, ApiError>>;
    /// Creates from a JSON body.
    fn create<'a>(
        &'a self,
        scope: &'a Scope,
        body: &'a [u8],
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<Written, ApiError>>;
    /// Replaces from a JSON body.
    fn update<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        subresource: Option<Subresource>,
        body: &'a [u8],
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<Written, ApiError>>;
    fn patch<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        subresource: Option<Subresource>,
        patch: (PatchType, &'a [u8]),
        opts: WriteOptions,
    ) -> BoxFuture<'a, Result<Written, ApiError>>;
    fn delete<'a>(
        &'a self,
        scope: &'a Scope,
        name: &'a str,
        opts: &'a DeleteOptions,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<Deleted, ApiError>>;
    /// Deletes what `list` selects; answers what was deleted (or marked for deletion).
    fn delete_collection<'a>(
        &'a self,
        scope: &'a Scope,
        list: &'a ListOptions,
        opts: &'a DeleteOptions,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<ObjectList, ApiError>>;
    /// Watches from `resource_version` (`None` or 0: from now, after ADDEDs of what exists).
    /// With `send_initial_events` true, what exists comes first as ADDEDs whatever the
    /// `resource_version`, then an [`WatchItem::InitialEventsEnd`] (a streaming list); false
    /// with no `resource_version` (or 0), no ADDEDs: changes from now on.
    fn watch(
        self: Arc<Self>,
        scope: Scope,
        opts: ListOptions,
        resource_version: Option<u64>,
        send_initial_events: Option<bool>,
    ) -> BoxFuture<'static, Result<Watch, ApiError>>;
}

/// A `continue` token: the list's revision and the last key returned.
pub(crate) fn encode_continue(rv: u64, start: &str) -> String {
    continue_token(i64::try_from(rv).unwrap_or(i64::MAX), start)
}

/// The token a 410 for a compacted `continue` token offers instead (Go's
/// `handleCompactedErrorForPaging`): revision -1, "the rest of the list at the latest
/// revision", an inconsistent list the client may choose to finish.
pub(crate) fn encode_inconsistent_continue(start: &str) -> String {
    continue_token(-1, start)
}

fn continue_token(rv: i64, start: &str) -> String {
    use base64::Engine;
    let token = serde_json::json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

/// Reads a `continue` token, refusing what Go's `storage.DecodeContinue` refuses (with its
/// messages): not ours, revision 0, an empty start key, or one that is not a clean path. The
/// revision -1 of [`encode_inconsistent_continue`] comes back as 0: "at the latest revision".
pub(crate) fn decode_continue(token: &str) -> Result<(u64, String), &'static str> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Token {
        v: String,
        rv: i64,
        start: String,
    }
    const INVALID: &str = "continue key is not valid";
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| INVALID)?;
    let token: Token = serde_json::from_slice(&raw).map_err(|_| INVALID)?;
    if token.v != "meta.k8s.io/v1" {
        return Err("continue key is not valid: server does not recognize this encoded version");
    }
    let rv = match token.rv {
        -1 => 0,
        rv if rv > 0 => rv as u64,
        _ => {
            return Err(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            );
        }
    };
    if token.start.is_empty() {
        return Err("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
    }
    // Against traversal (Go compares the key with its path.Clean): no `.` or `..` segment.
    // (Empty segments stay: the core group's keys have one.)
    let clean = token.start.split('/').all(|s| s != "." && s != "..");
    if !clean {
        return Err(INVALID);
    }
    Ok((rv, token.start))
}
