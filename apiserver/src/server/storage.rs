//! The storage edge: keys, storage errors as `Status`es, and objects into and out of storage —
//! converted through the hub between the version a request names and the version stored.

use super::*;

/// `/registry/<group>/<plural>/[<namespace>/][<name>]`.
pub(super) fn key(
    info: &kube_codegen_scheme::ResourceInfo,
    ns: Option<&str>,
    name: Option<&str>,
) -> String {
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

pub(super) fn storage_error(
    e: StorageError,
    info: &kube_codegen_scheme::ResourceInfo,
    name: &str,
) -> ApiError {
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
        other => ApiError::internal(other.to_string()),
    }
}

impl State {
    /// The version `info`'s resource is stored in.
    pub(super) fn storage_version<'a>(
        &'a self,
        info: &'a kube_codegen_scheme::ResourceInfo,
    ) -> &'a str {
        self.storage_versions
            .get(&(info.group.to_string(), info.plural.to_string()))
            .map_or(info.version, String::as_str)
    }

    /// Converts an object's JSON from one version of `info`'s kind to another, through the hub.
    pub(super) fn convert(
        &self,
        info: &kube_codegen_scheme::ResourceInfo,
        bytes: &[u8],
        from: &str,
        to: &str,
    ) -> Result<Vec<u8>, kube_codegen_scheme::CodecError> {
        let hub = self
            .conversions
            .decode(&Gvk::new(info.group, from, info.kind), bytes)?;
        self.conversions
            .encode(&Gvk::new(info.group, to, info.kind), &*hub)
    }
}

/// A stored value as the object clients see, in the version `info` names (converted through
/// the hub when it was stored in another version, whatever the storage version is now), with
/// `resourceVersion`.
pub(super) fn from_storage(
    st: &State,
    info: &kube_codegen_scheme::ResourceInfo,
    kv: &apiserver_storage::KeyValue,
) -> Result<Value, ApiError> {
    // Which version the object was written in: a scan of its `apiVersion`, not a full parse.
    #[derive(serde::Deserialize)]
    struct TypeMeta<'a> {
        #[serde(rename = "apiVersion", borrow, default)]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }
    let stored_version = serde_json::from_slice::<TypeMeta>(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?
        .api_version
        .and_then(|av| av.rsplit_once('/').map(|(_, v)| v.to_string()));
    let mut obj: Value = match stored_version {
        Some(stored) if stored != info.version => {
            let hub = st
                .conversions
                .decode(&Gvk::new(info.group, &stored, info.kind), &kv.value)
                .and_then(|hub| {
                    st.conversions
                        .encode_value(&Gvk::new(info.group, info.version, info.kind), &*hub)
                });
            hub.map_err(|e| {
                ApiError::internal(format!(
                    "{} stored as {}/{stored} cannot be read as {}: {e}",
                    info.kind,
                    info.group,
                    info.api_version()
                ))
            })?
        }
        _ => serde_json::from_slice(&kv.value)
            .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?,
    };
    object::set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

/// The object as stored: in its resource's storage version, without `resourceVersion` (the
/// store's revision is the truth).
pub(super) fn to_storage(
    st: &State,
    info: &kube_codegen_scheme::ResourceInfo,
    obj: &Value,
) -> Result<Bytes, ApiError> {
    let mut o = obj.clone();
    object::meta_mut(&mut o).remove("resourceVersion");
    let bytes = serde_json::to_vec(&o).map_err(|e| ApiError::internal(e.to_string()))?;
    let storage = st.storage_version(info);
    if storage == info.version {
        return Ok(Bytes::from(bytes));
    }
    st.convert(info, &bytes, info.version, storage)
        .map(Bytes::from)
        .map_err(|e| {
            ApiError::bad_request(format!(
                "{} cannot be stored as {}/{storage}: {e}",
                info.kind, info.group
            ))
        })
}
