//! Registering a resource: its hub type, the versions it is served in, and its strategy.

use std::marker::PhantomData;
use std::sync::Arc;

use apiserver_storage::AnyStore;
use kube_codegen_scheme::{ConvertHub, Kind, Object, ResourceInfo, SetDefaults};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::admission::{Chain, MutatingAdmission, ValidatingAdmission};
use super::codec::{Identity, ThroughHub, VersionCodec};
use super::rest::RestStorage;
use super::store::GenericStore;
use super::strategy::{DefaultStrategy, Strategy};

/// A resource to serve: what [`crate::ApiServerBuilder::resource`] registers.
///
/// Served in one version, the kind is its own hub:
///
/// ```no_run
/// # use apiserver::Resource;
/// let alerts = Resource::<pager::v1alpha1::Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS);
/// ```
///
/// Served in several, every version converts through the internal hub (conversion-gen's
/// `ConvertHub`), and the strategy is written once, against the hub:
///
/// ```no_run
/// # use apiserver::{Cause, Context, Resource, Strategy};
/// use pager::{v1alpha1, v1beta1};
/// struct AlertRules;
/// impl Strategy<pager::Alert> for AlertRules {
///     fn validate(&self, _ctx: &Context<'_>, alert: &pager::Alert) -> Vec<Cause> {
///         if alert.spec.content.is_empty() {
///             vec![Cause::new("FieldValueRequired", "spec.content", "Required value")]
///         } else {
///             Vec::new()
///         }
///     }
/// }
/// let alerts = Resource::<pager::Alert>::hub()
///     .version::<v1alpha1::Alert>(v1alpha1::OPENAPI_SCHEMAS)
///     .version::<v1beta1::Alert>(v1beta1::OPENAPI_SCHEMAS)
///     .strategy(AlertRules);
/// ```
pub struct Resource<H, S = DefaultStrategy> {
    versions: Vec<VersionCodec<H>>,
    strategy: S,
    admission: Chain<H>,
    _hub: PhantomData<fn() -> H>,
}

impl<K> Resource<K, DefaultStrategy>
where
    K: Kind + Object + Clone + Serialize + DeserializeOwned + SetDefaults + Send + Sync + 'static,
{
    /// A kind served in its own version only (its own hub), with its group/version's generated
    /// OpenAPI schemas.
    pub fn new(schemas: &'static str) -> Self {
        Resource {
            versions: vec![VersionCodec::new::<K, Identity>(schemas)],
            strategy: DefaultStrategy,
            admission: Chain::default(),
            _hub: PhantomData,
        }
    }
}

impl<H> Resource<H, DefaultStrategy>
where
    H: Object + Clone + Send + Sync + 'static,
{
    /// A resource kept as the hub type `H`; add the versions it is served in with
    /// [`Resource::version`].
    pub fn hub() -> Self {
        Resource {
            versions: Vec::new(),
            strategy: DefaultStrategy,
            admission: Chain::default(),
            _hub: PhantomData,
        }
    }
}

impl<H: 'static, S> Resource<H, S> {
    /// Serves the resource in `V`'s version too, converted through the hub.
    pub fn version<V>(mut self, schemas: &'static str) -> Self
    where
        V: Kind + ConvertHub<Hub = H> + Serialize + DeserializeOwned + SetDefaults + 'static,
        H: Clone,
    {
        self.versions
            .push(VersionCodec::new::<V, ThroughHub>(schemas));
        self
    }

    /// The resource's rules (validation, update rules, selectable fields), over the hub type.
    pub fn strategy<S2: Strategy<H>>(self, strategy: S2) -> Resource<H, S2> {
        Resource {
            versions: self.versions,
            strategy,
            admission: self.admission,
            _hub: PhantomData,
        }
    }

    /// Adds a mutating admission plugin: it sees every write after defaulting and before
    /// validation, and may change the object (plugins run in the order they are added).
    pub fn mutating(mut self, plugin: impl MutatingAdmission<H>) -> Self {
        self.admission.mutating.push(Box::new(plugin));
        self
    }

    /// Adds a validating admission plugin: it sees every write (deletes too) after validation
    /// and before storage, and may refuse it.
    pub fn validating(mut self, plugin: impl ValidatingAdmission<H>) -> Self {
        self.admission.validating.push(Box::new(plugin));
        self
    }
}

/// How the server builds a registered resource ([`Registration::into_rest`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct RestConfig {
    /// The version objects are written in (one of the served versions).
    pub storage_version: String,
    /// Lists in the version an object was stored in are written from its stored bytes, without
    /// decoding and encoding it ([`crate::ApiServerBuilder::serve_stored_bytes`]).
    pub serve_stored_bytes: bool,
    /// The server's admission webhooks ([`crate::ApiServerBuilder::admission_webhooks`]).
    pub webhooks: Option<Arc<super::webhooks::Webhooks>>,
    /// Namespace lifecycle's source ([`crate::ApiServerBuilder::namespaces`]).
    pub namespaces: Option<Arc<dyn super::namespaces::NamespaceSource>>,
    /// Deletes leave the garbage collector's finalizers
    /// ([`crate::ApiServerBuilder::garbage_collection`]).
    pub garbage_collection: bool,
    /// A delete may remove an object that does not decode
    /// ([`crate::ApiServerBuilder::unsafe_malformed_object_deletion`]).
    pub unsafe_malformed_object_deletion: bool,
    /// How long a read or watch from a revision the store has not reached waits for it
    /// ([`crate::ApiServerBuilder::freshness_wait`]).
    pub freshness_wait: std::time::Duration,
}

/// A registered resource before the server is built: its versions' facts and schemas, and how
/// it becomes a [`RestStorage`] over the server's store.
pub trait Registration: Send + 'static {
    fn served(&self) -> Vec<(ResourceInfo, &'static str)>;
    /// The resource over `store`, as `config` says (its storage version is one of the served
    /// versions).
    fn into_rest(self: Box<Self>, store: AnyStore, config: &RestConfig) -> Arc<dyn RestStorage>;
}

impl<H, S> Registration for Resource<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    fn served(&self) -> Vec<(ResourceInfo, &'static str)> {
        self.versions.iter().map(|v| (v.info, v.schemas)).collect()
    }

    fn into_rest(self: Box<Self>, store: AnyStore, config: &RestConfig) -> Arc<dyn RestStorage> {
        GenericStore::new(store, self.versions, self.strategy, self.admission, config).shared()
    }
}
