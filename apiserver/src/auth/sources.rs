//! Where front-proxy and client-certificate authentication come from, followed while the server
//! runs, as k8s.io/apiserver's `DelegatingAuthenticationOptions` wires them: CA files given by
//! flags (`DynamicFileCAContent`: re-read when they change), else the main cluster's
//! `kube-system/extension-apiserver-authentication` ConfigMap (`ConfigMapCAController` and
//! `RequestHeaderAuthRequestController`: watched). A change that cannot be used — a file that is
//! no longer a CA bundle, a ConfigMap whose bundle went missing — is logged and the settings in
//! force stay, as in Go.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;

use super::authn::{
    CertificateAuthority, CertificateSettings, DynamicCertificates, RequestHeader, WeakCertificates,
};

/// The ConfigMap the main cluster publishes its authentication settings in.
pub const AUTHENTICATION_CONFIG_MAP: (&str, &str) =
    ("kube-system", "extension-apiserver-authentication");

/// A front-proxy CA file and the header names that go with it (the `--requestheader-*` flags).
#[derive(Clone, Debug)]
pub struct RequestHeaderFile {
    pub ca_file: PathBuf,
    pub username_headers: Vec<String>,
    /// `--requestheader-uid-headers` (none by default, as in Go).
    pub uid_headers: Vec<String>,
    pub group_headers: Vec<String>,
    pub extra_headers_prefixes: Vec<String>,
}

/// The sources of [`CertificateSettings`]: flags first, the cluster's ConfigMap for what they
/// leave out.
#[derive(Clone, Default)]
pub struct CertificateSources {
    /// The main cluster (`--authentication-kubeconfig`): its ConfigMap is read for the client CA
    /// and the front proxy's settings the files below do not give.
    pub cluster: Option<kube::Client>,
    /// `--client-ca-file`.
    pub client_ca_file: Option<PathBuf>,
    /// `--requestheader-client-ca-file` and the header flags.
    pub request_header_file: Option<RequestHeaderFile>,
    /// `--requestheader-allowed-names`: replaces the ConfigMap's list when not empty.
    pub allowed_names: Vec<String>,
    /// How often the files are checked for changes (Go: a minute, and on file events).
    pub file_check_interval: Duration,
}

impl std::fmt::Debug for CertificateSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateSources")
            .field("cluster", &self.cluster.is_some())
            .field("client_ca_file", &self.client_ca_file)
            .field("request_header_file", &self.request_header_file)
            .field("allowed_names", &self.allowed_names)
            .finish()
    }
}

/// What each source says at one moment.
#[derive(Clone, Default)]
struct Parts {
    cluster_client_ca: Option<CertificateAuthority>,
    cluster_request_header: Option<RequestHeader>,
    client_ca_file: Option<CertificateAuthority>,
    request_header_file: Option<CertificateAuthority>,
}

impl CertificateSources {
    /// Reads every source (an error if one cannot be read now: the server should not start
    /// half-configured), then follows them in the background for as long as the runtime runs.
    pub async fn start(mut self) -> Result<DynamicCertificates, String> {
        let mut parts = Parts::default();
        // Both CAs given as files: the ConfigMap is not read at all, as Go's delegated
        // authentication skips the lookup then (no Role in kube-system needed).
        if self.client_ca_file.is_some() && self.request_header_file.is_some() {
            self.cluster = None;
        }
        if let Some(client) = &self.cluster {
            match config_map_api(client)
                .get(AUTHENTICATION_CONFIG_MAP.1)
                .await
            {
                Ok(cm) => {
                    (parts.cluster_client_ca, parts.cluster_request_header) = from_config_map(&cm)?;
                }
                // No ConfigMap is no configuration there, as Go reads it (a cluster without
                // front-proxy authentication); followed, should it appear.
                Err(kube::Error::Api(s)) if s.code == 404 => tracing::warn!(
                    "{}/{} does not exist: no client or front-proxy CA from the cluster",
                    AUTHENTICATION_CONFIG_MAP.0,
                    AUTHENTICATION_CONFIG_MAP.1
                ),
                Err(e) => {
                    return Err(format!(
                        "reading {}/{}: {e}",
                        AUTHENTICATION_CONFIG_MAP.0, AUTHENTICATION_CONFIG_MAP.1
                    ));
                }
            }
        }
        // Stamped before they are read: a change from here on is seen by the follower.
        let stamps = (
            self.client_ca_file.as_deref().and_then(stamp),
            self.request_header_file
                .as_ref()
                .and_then(|r| stamp(&r.ca_file)),
        );
        if let Some(path) = &self.client_ca_file {
            parts.client_ca_file = Some(CertificateAuthority::from_pem_file(path)?);
        }
        if let Some(rh) = &self.request_header_file {
            parts.request_header_file = Some(CertificateAuthority::from_pem_file(&rh.ca_file)?);
        }
        let settings = self.compose(&parts)?;
        let dynamic = DynamicCertificates::new(settings);
        let parts = std::sync::Arc::new(std::sync::Mutex::new(parts));
        // The followers hold the settings weakly: they end once the server is gone.
        if self.client_ca_file.is_some() || self.request_header_file.is_some() {
            tokio::spawn(follow_files(
                self.clone(),
                stamps,
                parts.clone(),
                dynamic.downgrade(),
            ));
        }
        if let Some(client) = self.cluster.clone() {
            tokio::spawn(follow_config_map(
                self.clone(),
                client,
                parts,
                dynamic.downgrade(),
            ));
        }
        Ok(dynamic)
    }

    /// The settings the parts make: a file wins over the ConfigMap, the allowed-names flag over
    /// the ConfigMap's list.
    fn compose(&self, parts: &Parts) -> Result<CertificateSettings, String> {
        let mut request_header = match (&self.request_header_file, &parts.request_header_file) {
            (Some(flags), Some(ca)) => Some(RequestHeader {
                ca: ca.clone(),
                allowed_names: Vec::new(),
                username_headers: flags.username_headers.clone(),
                uid_headers: flags.uid_headers.clone(),
                group_headers: flags.group_headers.clone(),
                extra_headers_prefixes: flags.extra_headers_prefixes.clone(),
            }),
            _ => parts.cluster_request_header.clone(),
        };
        if !self.allowed_names.is_empty() {
            let Some(rh) = &mut request_header else {
                return Err("--requestheader-allowed-names needs the front proxy's CA: \
                     --requestheader-client-ca-file, or --authentication-kubeconfig / \
                     --delegate-in-cluster with a cluster that publishes it"
                    .into());
            };
            rh.allowed_names = self.allowed_names.clone();
        }
        Ok(CertificateSettings {
            request_header,
            client_ca: parts
                .client_ca_file
                .clone()
                .or_else(|| parts.cluster_client_ca.clone()),
        })
    }

    /// Applies `change` to the parts and the result to `dynamic`; an unusable result is logged
    /// and leaves everything as it was. `false` once the settings are gone (the follower ends).
    fn update(
        &self,
        parts: &std::sync::Mutex<Parts>,
        dynamic: &WeakCertificates,
        change: impl FnOnce(&mut Parts),
    ) -> bool {
        let Some(dynamic) = dynamic.upgrade() else {
            return false;
        };
        let mut parts = parts.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = parts.clone();
        change(&mut next);
        match self.compose(&next) {
            Ok(settings) => {
                *parts = next;
                if dynamic.replace(settings) {
                    tracing::info!("client certificate authorities reloaded");
                }
            }
            Err(e) => tracing::warn!(error = %e, "authentication settings not reloaded"),
        }
        true
    }
}

fn config_map_api(client: &kube::Client) -> kube::Api<ConfigMap> {
    kube::Api::namespaced(client.clone(), AUTHENTICATION_CONFIG_MAP.0)
}

/// The client CA and the front proxy's settings the ConfigMap holds (Go's key names).
pub fn from_config_map(
    cm: &ConfigMap,
) -> Result<(Option<CertificateAuthority>, Option<RequestHeader>), String> {
    let empty = Default::default();
    let data = cm.data.as_ref().unwrap_or(&empty);
    let name = AUTHENTICATION_CONFIG_MAP.1;
    let list = |key: &str| -> Result<Vec<String>, String> {
        match data.get(key).map(|s| s.trim()) {
            None | Some("") => Ok(Vec::new()),
            Some(json) => serde_json::from_str(json).map_err(|e| format!("{name} {key}: {e}")),
        }
    };
    let ca = |key: &str| -> Result<Option<CertificateAuthority>, String> {
        data.get(key)
            .filter(|pem| !pem.trim().is_empty())
            .map(|pem| {
                CertificateAuthority::from_pem(pem.as_bytes())
                    .map_err(|e| format!("{name} {key}: {e}"))
            })
            .transpose()
    };
    let client_ca = ca("client-ca-file")?;
    let request_header = match ca("requestheader-client-ca-file")? {
        None => None,
        Some(ca) => {
            let mut rh = RequestHeader::new(ca);
            rh.allowed_names = list("requestheader-allowed-names")?;
            for (key, field) in [
                ("requestheader-username-headers", &mut rh.username_headers),
                // Published by kube-apiserver from its `--requestheader-uid-headers`.
                ("requestheader-uid-headers", &mut rh.uid_headers),
                ("requestheader-group-headers", &mut rh.group_headers),
                (
                    "requestheader-extra-headers-prefix",
                    &mut rh.extra_headers_prefixes,
                ),
            ] {
                let values = list(key)?;
                if !values.is_empty() {
                    *field = values;
                }
            }
            Some(rh)
        }
    };
    Ok((client_ca, request_header))
}

/// What a file looked like when last read: checked cheaply, read again when it changes (a
/// rewrite in place, or a new file renamed over it as Kubernetes' secret volumes do).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

async fn follow_files(
    sources: CertificateSources,
    mut stamps: (Option<Stamp>, Option<Stamp>),
    parts: std::sync::Arc<std::sync::Mutex<Parts>>,
    dynamic: WeakCertificates,
) {
    let client_ca = sources.client_ca_file.clone();
    let request_header = sources
        .request_header_file
        .as_ref()
        .map(|r| r.ca_file.clone());
    let mut ticks =
        tokio::time::interval(sources.file_check_interval.max(Duration::from_millis(10)));
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if dynamic.upgrade().is_none() {
            return;
        }
        for (path, last, is_client) in [
            (&client_ca, &mut stamps.0, true),
            (&request_header, &mut stamps.1, false),
        ] {
            let Some(path) = path else { continue };
            let now = stamp(path);
            if now == *last {
                continue;
            }
            *last = now;
            match CertificateAuthority::from_pem_file(path) {
                Ok(ca) => {
                    let alive = sources.update(&parts, &dynamic, |p| {
                        if is_client {
                            p.client_ca_file = Some(ca);
                        } else {
                            p.request_header_file = Some(ca);
                        }
                    });
                    if !alive {
                        return;
                    }
                }
                // Mid-rewrite, deleted, or no longer a bundle: the CA in force stays.
                Err(e) => tracing::warn!(error = %e, "CA file not reloaded"),
            }
        }
    }
}

async fn follow_config_map(
    sources: CertificateSources,
    client: kube::Client,
    parts: std::sync::Arc<std::sync::Mutex<Parts>>,
    dynamic: WeakCertificates,
) {
    use kube::runtime::{WatchStreamExt, watcher};
    let (ns, name) = AUTHENTICATION_CONFIG_MAP;
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = std::pin::pin!(watcher(config_map_api(&client), config).default_backoff());
    while let Some(event) = events.next().await {
        if dynamic.upgrade().is_none() {
            return;
        }
        let cm = match event {
            Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm)) => cm,
            Ok(watcher::Event::Delete(_)) => {
                tracing::warn!(
                    "{ns}/{name} was deleted: the authentication settings in force stay"
                );
                continue;
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "watching the cluster's authentication ConfigMap");
                continue;
            }
        };
        match from_config_map(&cm) {
            Ok((client_ca, request_header)) => {
                // A bundle that went missing is an error in Go, for that bundle alone: the one
                // in force stays, and the other is taken as it now is.
                let alive = sources.update(&parts, &dynamic, |p| {
                    match client_ca {
                        Some(ca) => p.cluster_client_ca = Some(ca),
                        None if p.cluster_client_ca.is_some() => tracing::warn!(
                            "{ns}/{name} lost client-ca-file: the client CA in force stays"
                        ),
                        None => {}
                    }
                    match request_header {
                        Some(rh) => p.cluster_request_header = Some(rh),
                        None if p.cluster_request_header.is_some() => tracing::warn!(
                            "{ns}/{name} lost requestheader-client-ca-file: the front proxy's CA in force stays"
                        ),
                        None => {}
                    }
                });
                if !alive {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "authentication settings not reloaded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA certificate, PEM.
    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap()
            .pem()
    }

    /// Both CAs given as files: the cluster's ConfigMap is not read (a cluster that cannot be
    /// reached, or a Role not granted, stops nothing), as Go skips the lookup then.
    #[tokio::test]
    async fn both_ca_files_skip_the_config_map() {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca_pem();
        let ca_file = dir.path().join("ca.crt");
        std::fs::write(&ca_file, ca).unwrap();
        // Nothing listens there: a lookup would fail.
        let config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        let cluster = kube::Client::try_from(config).unwrap();
        let sources = |request_header: bool| CertificateSources {
            cluster: Some(cluster.clone()),
            client_ca_file: Some(ca_file.clone()),
            request_header_file: request_header.then(|| RequestHeaderFile {
                ca_file: ca_file.clone(),
                username_headers: vec!["X-Remote-User".into()],
                uid_headers: Vec::new(),
                group_headers: vec!["X-Remote-Group".into()],
                extra_headers_prefixes: vec!["X-Remote-Extra-".into()],
            }),
            file_check_interval: Duration::from_secs(60),
            ..CertificateSources::default()
        };
        assert!(sources(true).start().await.is_ok());
        // One of them from the cluster: read, and its failure stops the start.
        assert!(sources(false).start().await.is_err());
    }

    /// The uid headers kube-apiserver publishes are read with the others; none when it
    /// publishes none.
    #[test]
    fn the_config_maps_uid_headers_are_read() {
        let ca = ca_pem();
        let config_map = |uid_headers: Option<&str>| {
            let mut data = std::collections::BTreeMap::from([(
                "requestheader-client-ca-file".to_string(),
                ca.clone(),
            )]);
            if let Some(uid) = uid_headers {
                data.insert("requestheader-uid-headers".into(), uid.into());
            }
            ConfigMap {
                data: Some(data),
                ..ConfigMap::default()
            }
        };
        let uid_headers = |cm: ConfigMap| from_config_map(&cm).unwrap().1.unwrap().uid_headers;
        assert_eq!(
            uid_headers(config_map(Some("[\"X-Remote-Uid\"]"))),
            ["X-Remote-Uid"]
        );
        assert!(uid_headers(config_map(None)).is_empty());
    }
}
