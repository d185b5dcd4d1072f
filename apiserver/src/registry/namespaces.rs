//! Namespace lifecycle (Go's `NamespaceLifecycle` admission plugin), server-wide as in
//! Kubernetes: creating an object in a namespace that does not exist is
//! `404 namespaces "<ns>" not found`; in one being deleted, `403 … is forbidden: unable to create
//! new content in namespace <ns> because it is being terminated`. Namespaces come from a
//! [`NamespaceSource`]: a fixed list for a standalone server, or the main cluster's, watched
//! through a kubeconfig ([`ClusterNamespaces`]). Their labels also serve webhooks'
//! `namespaceSelector`s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Namespace as NamespaceObject;

use crate::status::{ApiError, Cause};

/// A namespace as admission sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespace {
    /// Being deleted: nothing new may be created in it.
    pub terminating: bool,
    pub labels: BTreeMap<String, String>,
}

/// Where namespaces are known from.
pub trait NamespaceSource: Send + Sync + 'static {
    /// The namespace (`Ok(None)`: it does not exist).
    fn lookup<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Namespace>, ApiError>>;
}

/// A fixed list of namespaces (a standalone server: nothing to read them from).
#[derive(Clone, Debug, Default)]
pub struct StaticNamespaces(pub std::collections::BTreeSet<String>);

impl NamespaceSource for StaticNamespaces {
    fn lookup<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Namespace>, ApiError>> {
        Box::pin(std::future::ready(Ok(self
            .0
            .contains(name)
            .then(Namespace::default))))
    }
}

/// The main cluster's namespaces: an informer (kube's reflector) keeps them in memory; a name it
/// does not have is looked up live (it may have just been created), as Kubernetes does.
pub struct ClusterNamespaces {
    api: kube::Api<NamespaceObject>,
    store: kube::runtime::reflector::Store<NamespaceObject>,
    /// How long a live lookup may take before the write is refused as unavailable.
    timeout: Duration,
}

impl ClusterNamespaces {
    /// Starts watching the cluster's namespaces with `client` (spawns the informer on the
    /// current runtime).
    pub fn start(client: kube::Client) -> Arc<Self> {
        use futures::StreamExt;
        use kube::runtime::{WatchStreamExt, reflector, watcher};
        let api: kube::Api<NamespaceObject> = kube::Api::all(client);
        let (store, writer) = reflector::store();
        let stream = reflector(writer, watcher(api.clone(), watcher::Config::default()))
            .default_backoff()
            .applied_objects();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                if let Err(e) = event {
                    tracing::warn!(error = %e, "watching namespaces");
                }
            }
        });
        Arc::new(ClusterNamespaces {
            api,
            store,
            timeout: Duration::from_secs(10),
        })
    }

    fn from_object(ns: &NamespaceObject) -> Namespace {
        Namespace {
            terminating: ns.metadata.deletion_timestamp.is_some()
                || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating"),
            labels: ns.metadata.labels.clone().unwrap_or_default(),
        }
    }
}

impl NamespaceSource for ClusterNamespaces {
    fn lookup<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Namespace>, ApiError>> {
        Box::pin(async move {
            let key = kube::runtime::reflector::ObjectRef::new(name);
            if let Some(ns) = self.store.get(&key) {
                return Ok(Some(Self::from_object(&ns)));
            }
            match tokio::time::timeout(self.timeout, self.api.get_opt(name)).await {
                Ok(Ok(found)) => Ok(found.as_ref().map(Self::from_object)),
                Ok(Err(e)) => Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    format!("namespace {name} could not be looked up: {e}"),
                )),
                Err(_) => Err(ApiError::new(
                    504,
                    "Timeout",
                    format!("namespace {name} could not be looked up in time"),
                )),
            }
        })
    }
}

/// The lifecycle check of a create in `namespace` (of `resource`/`name`, for the message).
pub(crate) async fn admit_create(
    source: &dyn NamespaceSource,
    resource: &kube_codegen_scheme::ResourceInfo,
    name: &str,
    namespace: &str,
) -> Result<Namespace, ApiError> {
    match source.lookup(namespace).await? {
        Some(ns) if ns.terminating => Err(ApiError::forbidden(
            resource,
            name,
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        )
        .with_cause(Cause::new(
            "NamespaceTerminating",
            "metadata.namespace",
            format!("namespace {namespace} is being terminated"),
        ))),
        Some(ns) => Ok(ns),
        None => Err(ApiError::not_found("namespaces", "", namespace)),
    }
}
