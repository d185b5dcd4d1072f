//! The registry layer (Go's `k8s.io/apiserver/pkg/registry`): each resource is a
//! [`GenericStore`](store) over typed hub objects behind the [`RestStorage`] trait the HTTP
//! handlers call. A resource served in several versions is kept once, as its hub type; the
//! versions meet it at the registry's edge ([`codec`]): a write is decoded as the request's
//! version, defaulted, converted to the hub, checked by the metadata rules and the resource's
//! [`Strategy`] (written against the hub), converted to the storage version and stored; a read
//! or a watch event goes the other way.

pub mod admission;
pub(crate) mod codec;
mod managed;
pub(crate) mod meta;
pub mod namespaces;
mod resource;
mod rest;
pub(crate) mod scale;
mod store;
mod stored;
mod strategy;
mod strict;
mod watch;
pub mod webhooks;

pub use codec::ProtobufEdge;
pub use resource::{Registration, Resource, RestConfig};
pub(crate) use rest::decode_continue;
pub use rest::{
    Deleted, EventKind, FieldValidation, ListItems, ListOptions, MorePages, ObjectList,
    ResourceVersionMatch, RestStorage, Scope, Seen, Subresource, Watch, WatchItem, WriteOptions,
    Written,
};
pub(crate) use store::FRESHNESS_WAIT;
/// The object JSON of a stored value (see [`stored`]).
pub(crate) fn open_stored(value: &[u8]) -> Result<&[u8], String> {
    stored::open(value).map(|o| o.json)
}

pub use strategy::{Context, DefaultStrategy, Strategy};
