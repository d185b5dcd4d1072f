//! Server-side apply's field ownership, as Kubernetes computes it (Go's
//! `sigs.k8s.io/structured-merge-diff` and the `managedFields` bookkeeping of
//! `k8s.io/apiserver`), over `serde_json::Value` objects — JSON is the point here: ownership is
//! about the fields an object's JSON sets.
//!
//! - [`path`]: path elements (`f:`, `k:`, `v:`, `i:`) and their order;
//! - [`set`]: field sets and their FieldsV1 encoding;
//! - [`schema`]: object shapes read from OpenAPI (`x-kubernetes-list-type`, `…-map-keys`,
//!   `x-kubernetes-map-type`);
//! - [`typed`]: field sets of objects, merge, compare, remove and extract by schema;
//! - [`merge`]: the updater — ownership after an update or an apply, conflicts, pruning;
//! - [`known`]: `ObjectMeta`'s definitions for schema sets that only reference them;
//! - [`managed`]: `metadata.managedFields` entries, manager identifiers, conflict messages.

pub mod known;
pub mod managed;
pub mod merge;
pub mod path;
pub mod schema;
pub mod set;
pub mod typed;

pub use merge::{
    Conflict, ConvertError, ManagedFields, UpdateError, Updater, VersionedSet, Versions,
};
pub use path::{Path, PathElement};
pub use schema::{Atom, ListKind, ListType, MapType, Scalar, Schema, TypeRef};
pub use set::Set;
pub use typed::{Comparison, Typed, ValidationError};
