//! What kube-codegen's generated clientsets stand on.
//!
//! client-gen writes, per kind, a verb set (an uninhabited type implementing the [`verbs`] its
//! `+genclient` tags allow) and a type alias `Client<Kind, KindVerbs>`; the methods live here,
//! once, over `kube::Api`, each requiring its verb — so a verb a kind does not have is a compile
//! error, not a 405 at run time. Parameters are kube's own (`PostParams`, `ListParams`,
//! `WatchParams`, `DeleteParams`, `PatchParams`, `Patch`). Objects and selectors are checked
//! before any request ([`Error::InvalidObject`], [`Error::InvalidSelector`]).
//!
//! With the `fake` feature, [`fake`] serves a clientset from the real API-server library over an
//! in-memory store, in-process.

pub mod apply;
mod check;
mod error;
mod protobuf;
mod typed;
pub mod verbs;

#[cfg(feature = "fake")]
pub mod fake;

pub use error::{Error, Result};
pub use protobuf::ContentType;
pub use typed::{AllNamespaces, ApiObject, Client};

pub use either::Either;
/// The crate whose `json_patch::Patch` [`Patch::Json`] takes (the version kube uses), so that a
/// JSON patch needs no dependency of its own.
pub use json_patch;
/// kube's parameter and result types, re-exported for generated code and its users.
pub use kube::api::{
    DeleteParams, ListParams, ObjectList, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
pub use kube::core::Status;

#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
