//! [`Client`]: one kind's client in one namespace (or of a cluster-scoped kind), over
//! `kube::Api`, with the kind's verbs checked at compile time; [`AllNamespaces`]: list and watch
//! of a namespaced kind across namespaces.

use std::fmt::Debug;
use std::marker::PhantomData;

use either::Either;
use futures::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{
    DeleteParams, ListParams, ObjectList, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::Status;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::check::{self, Naming};
use crate::protobuf::{self, ContentType};
use crate::verbs;
use crate::{Error, Result};

/// What a generated kind is to its client: a Kubernetes resource with `ObjectMeta` that
/// serialises as the wire expects.
pub trait ApiObject:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<K> ApiObject for K where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// The client of kind `K` whose verbs are the set `V` (a generated, uninhabited type with one
/// [`verbs`] impl per allowed verb). Namespaced kinds get one per namespace; cluster-scoped kinds
/// one for the cluster.
pub struct Client<K, V> {
    api: kube::Api<K>,
    client: kube::Client,
    namespace: Option<String>,
    /// The kind's protobuf message, when the client speaks protobuf ([`Client::content_type`]).
    protobuf: Option<kube_codegen_scheme::Protobuf<K>>,
    _verbs: PhantomData<fn() -> V>,
}

impl<K: ApiObject, V> Clone for Client<K, V> {
    fn clone(&self) -> Self {
        Client {
            api: self.api.clone(),
            client: self.client.clone(),
            namespace: self.namespace.clone(),
            protobuf: self.protobuf,
            _verbs: PhantomData,
        }
    }
}

impl<K: ApiObject, V> Client<K, V> {
    /// The client of a namespaced kind in `namespace`.
    pub fn namespaced(client: kube::Client, namespace: &str) -> Self
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        Client {
            api: kube::Api::namespaced(client.clone(), namespace),
            client,
            namespace: Some(namespace.to_string()),
            protobuf: None,
            _verbs: PhantomData,
        }
    }

    /// The client of a cluster-scoped kind.
    pub fn cluster(client: kube::Client) -> Self
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::ClusterResourceScope>,
    {
        Client {
            api: kube::Api::all(client.clone()),
            client,
            namespace: None,
            protobuf: None,
            _verbs: PhantomData,
        }
    }

    /// The `kube::Api` underneath, for what the typed client does not cover.
    pub fn api(&self) -> &kube::Api<K> {
        &self.api
    }

    /// Speaks `content_type`: with [`ContentType::Protobuf`], get, list, watch, create, update
    /// and update_status send and read the kind's protobuf message (when protobuf-gen gave it
    /// one; otherwise, and for the other verbs, JSON), as Go clientsets do with a protobuf
    /// `ContentType`.
    pub fn content_type(mut self, content_type: ContentType) -> Self
    where
        K: kube_codegen_scheme::Kind,
    {
        self.protobuf = protobuf_for::<K>(content_type);
        self
    }

    /// The namespace this client works in (`None` for a cluster-scoped kind).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub async fn get(&self, name: &str) -> Result<K>
    where
        V: verbs::Get,
    {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        if let Some(pb) = &self.protobuf {
            let request = self
                .request()
                .get(name, &Default::default())
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::request_object(&self.client, pb, request, false).await;
        }
        Ok(self.api.get(name).await?)
    }

    pub async fn list(&self, lp: &ListParams) -> Result<ObjectList<K>>
    where
        V: verbs::List,
    {
        self.in_scope()?;
        if let Some(pb) = &self.protobuf {
            check::list_params(lp)?;
            let request = self.request().list(lp).map_err(kube::Error::BuildRequest)?;
            return protobuf::request_list(&self.client, pb, request).await;
        }
        list(&self.api, lp).await
    }

    /// Events after `resource_version` (`"0"`: what exists first, as ADDED), typed.
    pub async fn watch(
        &self,
        wp: &WatchParams,
        resource_version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>>> + Send + use<K, V>>
    where
        V: verbs::Watch,
    {
        self.in_scope()?;
        if let Some(pb) = self.protobuf {
            check::selectors(wp.label_selector.as_deref(), wp.field_selector.as_deref())?;
            let request = self
                .request()
                .watch(wp, resource_version)
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::watch(&self.client, pb, request).await;
        }
        watch(&self.api, wp, resource_version).await
    }

    /// Creates `obj`; its namespace, when set, must be the client's; it needs a name or a
    /// `generateName`.
    pub async fn create(&self, pp: &PostParams, obj: &K) -> Result<K>
    where
        V: verbs::Create,
    {
        self.check(obj, Naming::NameOrGenerate)?;
        if let Some(pb) = &self.protobuf {
            let request = self
                .request()
                .create(pp, protobuf::body(pb, obj))
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::request_object(&self.client, pb, request, true).await;
        }
        Ok(self.api.create(pp, obj).await?)
    }

    /// Replaces the object named by `obj` (its `resourceVersion`, when set, is a precondition).
    pub async fn update(&self, pp: &PostParams, obj: &K) -> Result<K>
    where
        V: verbs::Update,
    {
        self.check(obj, Naming::Name)?;
        if let Some(pb) = &self.protobuf {
            let request = self
                .request()
                .replace(name_of(obj), pp, protobuf::body(pb, obj))
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::request_object(&self.client, pb, request, true).await;
        }
        Ok(self.api.replace(name_of(obj), pp, obj).await?)
    }

    /// Replaces the status of the object named by `obj` (nothing else changes).
    pub async fn update_status(&self, pp: &PostParams, obj: &K) -> Result<K>
    where
        V: verbs::UpdateStatus,
    {
        self.check(obj, Naming::Name)?;
        if let Some(pb) = &self.protobuf {
            let request = self
                .request()
                .replace_subresource("status", name_of(obj), pp, protobuf::body(pb, obj))
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::request_object(&self.client, pb, request, true).await;
        }
        Ok(self.api.replace_status(name_of(obj), pp, obj).await?)
    }

    /// Deletes; the object when finalizers keep it (marked for deletion), else the `Status`.
    pub async fn delete(&self, name: &str, dp: &DeleteParams) -> Result<Either<K, Status>>
    where
        V: verbs::Delete,
    {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        Ok(self.api.delete(name, dp).await?)
    }

    /// Deletes what `lp` selects.
    pub async fn delete_collection(
        &self,
        dp: &DeleteParams,
        lp: &ListParams,
    ) -> Result<Either<ObjectList<K>, Status>>
    where
        V: verbs::DeleteCollection,
    {
        self.in_scope()?;
        check::list_params(lp)?;
        Ok(self.api.delete_collection(dp, lp).await?)
    }

    /// A JSON, merge or strategic-merge patch (`Patch::Json`, `Patch::Merge`,
    /// `Patch::Strategic`).
    pub async fn patch<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K>
    where
        V: verbs::Patch,
    {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        Ok(self.api.patch(name, pp, patch).await?)
    }

    /// A server-side apply of `config` (an apply configuration: only the fields it sets are
    /// sent, and the manager owns them) as `pp`'s field manager (`PatchParams::apply("name")`,
    /// `.force()` to take fields other managers own). A conflict is a 409 naming each field and
    /// its manager.
    pub async fn apply<C>(&self, config: &C, pp: &PatchParams) -> Result<K>
    where
        V: verbs::Apply,
        C: crate::apply::ApplyConfiguration<Object = K> + Debug,
    {
        let name = self.apply_target(config, pp)?;
        Ok(self.api.patch(name, pp, &Patch::Apply(config)).await?)
    }

    /// A server-side apply of the `status` subresource: `config`'s status, owned by `pp`'s
    /// field manager.
    pub async fn apply_status<C>(&self, config: &C, pp: &PatchParams) -> Result<K>
    where
        V: verbs::ApplyStatus,
        C: crate::apply::ApplyConfiguration<Object = K> + Debug,
    {
        let name = self.apply_target(config, pp)?;
        Ok(self
            .api
            .patch_status(name, pp, &Patch::Apply(config))
            .await?)
    }

    /// The name an apply is sent to; a configuration without one, or parameters without a
    /// field manager, are refused before any request.
    fn apply_target<'c, C: crate::apply::ApplyConfiguration<Object = K>>(
        &self,
        config: &'c C,
        pp: &PatchParams,
    ) -> Result<&'c str> {
        self.in_scope()?;
        let name = config.name().ok_or_else(|| Error::InvalidObject {
            kind: K::KIND,
            field: "metadata.name",
            message: "an apply configuration needs a name".into(),
        })?;
        check::name(K::KIND, name)?;
        // As for the other writes: the configuration's namespace, when set, is the client's.
        check::namespaces(
            K::KIND,
            self.namespace.as_deref(),
            config.namespace().filter(|n| !n.is_empty()),
        )?;
        if pp.field_manager.as_deref().is_none_or(str::is_empty) {
            return Err(Error::InvalidObject {
                kind: K::KIND,
                field: "fieldManager",
                message:
                    "a server-side apply needs a field manager: PatchParams::apply(\"<manager>\")"
                        .into(),
            });
        }
        Ok(name)
    }

    /// A patch of the `status` subresource.
    pub async fn patch_status<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K>
    where
        V: verbs::Patch + verbs::UpdateStatus,
    {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        Ok(self.api.patch_status(name, pp, patch).await?)
    }

    /// `GET …/<name>[/<subresource>]` read as `R`: what generated `+genclient:method=` methods
    /// with `verb=get` call.
    pub async fn get_subresource<R: DeserializeOwned>(
        &self,
        subresource: Option<&str>,
        name: &str,
    ) -> Result<R> {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        let request = match subresource {
            Some(sub) => self.request().get_subresource(sub, name),
            None => self.request().get(name, &Default::default()),
        }
        .map_err(kube::Error::BuildRequest)?;
        Ok(self.client.request(request).await?)
    }

    /// `PUT …/<name>[/<subresource>]` with `input`, read as `R` (`verb=update` methods).
    pub async fn update_subresource<I: Serialize, R: DeserializeOwned>(
        &self,
        subresource: Option<&str>,
        name: &str,
        pp: &PostParams,
        input: &I,
    ) -> Result<R> {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        let body = serde_json::to_vec(input).map_err(kube::Error::SerdeError)?;
        let request = match subresource {
            Some(sub) => self.request().replace_subresource(sub, name, pp, body),
            None => self.request().replace(name, pp, body),
        }
        .map_err(kube::Error::BuildRequest)?;
        Ok(self.client.request(request).await?)
    }

    /// `POST …[/<name>/<subresource>]` with `input`, read as `R` (`verb=create` methods).
    pub async fn create_subresource<I: Serialize, R: DeserializeOwned>(
        &self,
        subresource: Option<&str>,
        name: &str,
        pp: &PostParams,
        input: &I,
    ) -> Result<R> {
        self.in_scope()?;
        let body = serde_json::to_vec(input).map_err(kube::Error::SerdeError)?;
        let request = match subresource {
            Some(sub) => {
                check::name(K::KIND, name)?;
                self.request().create_subresource(sub, name, pp, body)
            }
            None => self.request().create(pp, body),
        }
        .map_err(kube::Error::BuildRequest)?;
        Ok(self.client.request(request).await?)
    }

    /// `PATCH …/<name>[/<subresource>]`, read as `R` (`verb=patch` methods).
    pub async fn patch_subresource<P: Serialize, R: DeserializeOwned>(
        &self,
        subresource: Option<&str>,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<R> {
        self.in_scope()?;
        check::name(K::KIND, name)?;
        let request = match subresource {
            Some(sub) => self.request().patch_subresource(sub, name, pp, patch),
            None => self.request().patch(name, pp, patch),
        }
        .map_err(kube::Error::BuildRequest)?;
        Ok(self.client.request(request).await?)
    }

    fn request(&self) -> kube::core::Request {
        use kube::Resource;
        kube::core::Request::new(K::url_path(&(), self.namespace.as_deref()))
    }

    /// The client's namespace, when it has one, can be a URL path segment.
    fn in_scope(&self) -> Result<()> {
        match &self.namespace {
            Some(ns) => check::namespace(K::KIND, ns),
            None => Ok(()),
        }
    }

    fn check(&self, obj: &K, naming: Naming) -> Result<()> {
        check::object(K::KIND, obj.metadata(), self.namespace.as_deref(), naming)
    }
}

fn name_of<K: ApiObject>(obj: &K) -> &str {
    obj.metadata().name.as_deref().unwrap_or_default()
}

/// List and watch of a namespaced kind in every namespace.
pub struct AllNamespaces<K, V> {
    api: kube::Api<K>,
    client: kube::Client,
    /// The kind's protobuf message, when the client speaks protobuf
    /// ([`AllNamespaces::content_type`]).
    protobuf: Option<kube_codegen_scheme::Protobuf<K>>,
    _verbs: PhantomData<fn() -> V>,
}

impl<K: ApiObject, V> Clone for AllNamespaces<K, V> {
    fn clone(&self) -> Self {
        AllNamespaces {
            api: self.api.clone(),
            client: self.client.clone(),
            protobuf: self.protobuf,
            _verbs: PhantomData,
        }
    }
}

impl<K: ApiObject, V> AllNamespaces<K, V> {
    pub fn new(client: kube::Client) -> Self
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        AllNamespaces {
            api: kube::Api::all(client.clone()),
            client,
            protobuf: None,
            _verbs: PhantomData,
        }
    }

    /// Speaks `content_type`, as [`Client::content_type`] does: with [`ContentType::Protobuf`],
    /// list and watch read the kind's protobuf message when protobuf-gen gave it one.
    pub fn content_type(mut self, content_type: ContentType) -> Self
    where
        K: kube_codegen_scheme::Kind,
    {
        self.protobuf = protobuf_for::<K>(content_type);
        self
    }

    /// The `kube::Api` underneath (what `kube::runtime::watcher` takes).
    pub fn api(&self) -> &kube::Api<K> {
        &self.api
    }

    pub async fn list(&self, lp: &ListParams) -> Result<ObjectList<K>>
    where
        V: verbs::List,
    {
        if let Some(pb) = &self.protobuf {
            check::list_params(lp)?;
            let request = self.request().list(lp).map_err(kube::Error::BuildRequest)?;
            return protobuf::request_list(&self.client, pb, request).await;
        }
        list(&self.api, lp).await
    }

    pub async fn watch(
        &self,
        wp: &WatchParams,
        resource_version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>>> + Send + use<K, V>>
    where
        V: verbs::Watch,
    {
        if let Some(pb) = self.protobuf {
            check::selectors(wp.label_selector.as_deref(), wp.field_selector.as_deref())?;
            let request = self
                .request()
                .watch(wp, resource_version)
                .map_err(kube::Error::BuildRequest)?;
            return protobuf::watch(&self.client, pb, request).await;
        }
        watch(&self.api, wp, resource_version).await
    }

    fn request(&self) -> kube::core::Request {
        use kube::Resource;
        kube::core::Request::new(K::url_path(&(), None))
    }
}

/// The kind's protobuf message when a client speaks protobuf (`None`: JSON, or a kind without a
/// message).
fn protobuf_for<K: kube_codegen_scheme::Kind>(
    content_type: ContentType,
) -> Option<kube_codegen_scheme::Protobuf<K>> {
    match content_type {
        ContentType::Protobuf => K::PROTOBUF,
        ContentType::Json => None,
    }
}

/// A list, its selectors checked first (shared by both clients).
async fn list<K: ApiObject>(api: &kube::Api<K>, lp: &ListParams) -> Result<ObjectList<K>> {
    check::list_params(lp)?;
    Ok(api.list(lp).await?)
}

/// A typed watch, its selectors checked first (shared by both clients).
async fn watch<K: ApiObject>(
    api: &kube::Api<K>,
    wp: &WatchParams,
    resource_version: &str,
) -> Result<futures::stream::BoxStream<'static, Result<WatchEvent<K>>>> {
    check::selectors(wp.label_selector.as_deref(), wp.field_selector.as_deref())?;
    let stream = api.watch(wp, resource_version).await?;
    Ok(stream.map_err(Error::from).boxed())
}
