//! `pager-apiserver`: the pager API (`pager.k8s.co` Alerts in `v1alpha1` and `v1beta1`) served
//! from the generated code by the apiserver library, for unmodified kubectl. Alerts are stored in
//! one version and every other is converted through the hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apiserver::ApiServer;
use apiserver::auth::{self, Authentication, Guard};
use apiserver_storage::{AnyStore, EmbeddedStore, MemoryStore, StoreOptions};
use clap::{Parser, ValueEnum};

// Lists and watch fan-out allocate large short-lived buffers on many threads: mimalloc gives the
// memory back where glibc's per-thread arenas keep it (server RSS with 100,000 Alerts measured in
// the README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StorageKind {
    /// A crash-safe single file (redb): the default.
    Embedded,
    /// In memory: lost on exit (tests).
    Memory,
    /// An etcd 3 cluster (`--etcd-servers`): for several replicas.
    Etcd,
}

/// Serve pager.k8s.co Alerts with Kubernetes REST conventions.
#[derive(Parser, Debug)]
#[command(name = "pager-apiserver", version)]
struct Cli {
    /// Address to listen on. Plain HTTP is allowed on loopback only; elsewhere give TLS files.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// A YAML file of MutatingWebhookConfiguration and ValidatingWebhookConfiguration documents:
    /// admission webhooks every write goes through (read at start).
    #[arg(long)]
    admission_webhooks: Option<PathBuf>,
    /// The namespaces objects may be created in (standalone NamespaceLifecycle: creating in any
    /// other is `404 namespaces "<ns>" not found`); unset: any namespace.
    #[arg(long, value_delimiter = ',', conflicts_with = "namespaces_kubeconfig")]
    namespaces: Option<Vec<String>>,
    /// Namespace lifecycle from the main cluster: its namespaces watched through this
    /// kubeconfig (creating in a missing or terminating namespace is refused). With
    /// `--delegate-in-cluster` and neither namespace flag, the pod's own cluster's.
    #[arg(long)]
    namespaces_kubeconfig: Option<PathBuf>,
    /// At most this many Alerts created per namespace per minute (the `pager.k8s.co/rate-limit`
    /// admission plugin refuses more with 403); 0: no limit.
    #[arg(long, default_value_t = 0)]
    alerts_per_minute: u32,
    /// Where objects are stored.
    #[arg(long, value_enum, default_value = "embedded")]
    storage: StorageKind,
    /// The embedded store's file.
    #[arg(long, default_value = "pager.db")]
    data: PathBuf,
    /// etcd endpoints for `--storage etcd`, comma-separated (`http://127.0.0.1:2379,…`).
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:2379")]
    etcd_servers: Vec<String>,
    /// Prefix of every key in etcd (several servers can share a cluster under different ones).
    #[arg(long, default_value = "")]
    etcd_prefix: String,
    /// CA bundle (PEM) that signed etcd's serving certificate: TLS to etcd (`https://` servers).
    #[arg(long)]
    etcd_cafile: Option<PathBuf>,
    /// Client certificate (PEM) for etcd's `--client-cert-auth`.
    #[arg(long, requires = "etcd_keyfile")]
    etcd_certfile: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "etcd_certfile")]
    etcd_keyfile: Option<PathBuf>,
    /// How long one etcd call may take before the request fails with 504, in seconds.
    #[arg(long, default_value_t = 10)]
    etcd_request_timeout: u64,
    /// How long to wait for etcd at start, in seconds; then the server exits (and its pod is
    /// restarted).
    #[arg(long, default_value_t = 5)]
    etcd_connect_timeout: u64,
    /// Watch events kept for clients that resume from a resourceVersion; older ones get
    /// 410 Gone (`Expired`) and relist.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_HISTORY_CAPACITY)]
    watch_history: usize,
    /// The same history bounded in memory, in MiB of keys and values.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_HISTORY_BYTES / (1024 * 1024))]
    watch_history_mb: usize,
    /// Verify every page of the embedded store's file at start (it is read whole). Without it,
    /// the file is checked and repaired only after an unclean shutdown.
    #[arg(long)]
    verify_on_open: bool,
    /// Whether a garbage collector (kube-controller-manager's) acts on the server's objects, as
    /// kube-apiserver's flag: deletes with `propagationPolicy=Orphan|Foreground` then leave the
    /// object with the collector's `orphan`/`foregroundDeletion` finalizer for it to act on;
    /// off, every delete is a background one. Default: on when the server delegates to a cluster
    /// (`--delegate-in-cluster` or the delegation kubeconfigs), whose collector watches it; off
    /// standalone, where no collector runs and such objects would wait forever.
    #[arg(long, action = clap::ArgAction::Set)]
    enable_garbage_collector: Option<bool>,
    /// kube-apiserver's feature gates this server has, `Name=true|false`, comma-separated:
    /// `AllowUnsafeMalformedObjectDeletion` (default false) lets a DELETE with
    /// `ignoreStoreReadErrorWithClusterBreakingPotential: true` remove an object whose stored
    /// value does not decode (it needs the `unsafe-delete-ignore-read-errors` verb too).
    #[arg(long, value_delimiter = ',', value_parser = feature_gate)]
    feature_gates: Vec<(FeatureGate, bool)>,
    /// With `--storage etcd`: serve watches and lists that accept a recent state
    /// (`resourceVersion="0"`, `NotOlderThan`, continue tokens) from a watch cache in memory —
    /// one etcd watch per resource however many clients watch —, as kube-apiserver's
    /// `--watch-cache` (default on). Consistent lists and gets read etcd either way.
    #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
    watch_cache: bool,
    /// The embedded store's page cache, in MiB.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_CACHE_BYTES / (1024 * 1024))]
    cache_mb: usize,
    /// The embedded store's write-ahead log (`<data>-wal`), in MiB: a write is durable once
    /// appended there, the data file catching up without a sync of its own; 0 = no log (each
    /// group of writes synced into the data file).
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_WRITE_AHEAD_LOG_BYTES / (1024 * 1024))]
    write_ahead_log_mb: u64,
    /// Every this many seconds, compact the store's history up to the revision it had one
    /// interval earlier (kube-apiserver's `--etcd-compaction-interval`); 0 = never. Lists at and
    /// watches from older resourceVersions then get 410 Gone.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_COMPACTION_INTERVAL.as_secs())]
    compaction_interval: u64,
    /// PEM certificate chain for HTTPS (reloaded when it changes). Without it, a self-signed
    /// certificate is generated in `--cert-dir`.
    #[arg(long, requires = "tls_private_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, requires = "tls_cert_file")]
    tls_private_key_file: Option<PathBuf>,
    /// Where the generated serving certificate (`apiserver.crt`, `apiserver.key`) and its CA
    /// (`ca.crt`, for clients to trust) are written; an existing pair there is reused.
    #[arg(long, default_value = "apiserver.local.config/certificates")]
    cert_dir: PathBuf,
    /// DNS names and IP addresses of the generated certificate, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1")]
    tls_names: Vec<String>,
    /// The lowest TLS version accepted: VersionTLS12 (the default) or VersionTLS13
    /// (VersionTLS10 and VersionTLS11 are taken as VersionTLS12, with a warning).
    #[arg(long, value_name = "VERSION")]
    tls_min_version: Option<String>,
    /// The TLS 1.2 cipher suites offered, comma-separated, with Go's names as kube-apiserver
    /// takes them; suites rustls lacks (CBC, RSA key exchange) are left out with a warning.
    /// TLS 1.3's are always offered, as in Go. Default: rustls's (ECDHE with AES-GCM or
    /// ChaCha20-Poly1305).
    #[arg(long, value_delimiter = ',', value_name = "SUITES")]
    tls_cipher_suites: Vec<String>,
    /// Serve plain HTTP instead of HTTPS: development and tests, on loopback only.
    #[arg(long, conflicts_with_all = ["tls_cert_file", "client_ca_file", "requestheader_client_ca_file", "tls_min_version", "tls_cipher_suites"])]
    plain_http: bool,
    /// Client certificates signed by this CA (PEM) authenticate as their common name, with their
    /// organizations as groups.
    #[arg(long)]
    client_ca_file: Option<PathBuf>,
    /// The front proxy's CA (PEM): `X-Remote-User`/`-Group`/`-Extra-*` headers are trusted only
    /// on connections with a client certificate signed by it (and an allowed common name).
    #[arg(long)]
    requestheader_client_ca_file: Option<PathBuf>,
    /// Common names allowed for the front proxy's certificate, comma-separated; empty: any.
    #[arg(long, value_delimiter = ',')]
    requestheader_allowed_names: Vec<String>,
    /// Headers naming the user, in order.
    #[arg(long, value_delimiter = ',', default_value = "X-Remote-User")]
    requestheader_username_headers: Vec<String>,
    /// Headers giving the user's uid, in order (kube-aggregator sends `X-Remote-Uid` from
    /// Kubernetes 1.33); none by default, as kube-apiserver's flag. Must include `X-Remote-Uid`.
    #[arg(long, value_delimiter = ',')]
    requestheader_uid_headers: Vec<String>,
    /// Headers naming the groups.
    #[arg(long, value_delimiter = ',', default_value = "X-Remote-Group")]
    requestheader_group_headers: Vec<String>,
    /// Prefixes of headers carrying extra user attributes.
    #[arg(long, value_delimiter = ',', default_value = "X-Remote-Extra-")]
    requestheader_extra_headers_prefix: Vec<String>,
    /// kubeconfig of the main cluster for delegated authentication: bearer tokens are checked
    /// with TokenReviews, and front-proxy and client CAs not given by flags are read from
    /// `kube-system/extension-apiserver-authentication`.
    #[arg(long)]
    authentication_kubeconfig: Option<PathBuf>,
    /// kubeconfig of the main cluster for delegated authorization (SubjectAccessReviews).
    #[arg(long)]
    authorization_kubeconfig: Option<PathBuf>,
    /// Delegate authentication and authorization to the cluster this pod runs in, through its
    /// service account (instead of the two kubeconfigs).
    #[arg(long)]
    delegate_in_cluster: bool,
    /// How long TokenReview answers are cached, in seconds.
    #[arg(long, default_value_t = 10)]
    authentication_token_webhook_cache_ttl: u64,
    /// How long allowed SubjectAccessReview answers are cached, in seconds.
    #[arg(long, default_value_t = 10)]
    authorization_webhook_cache_authorized_ttl: u64,
    /// How long denied SubjectAccessReview answers are cached, in seconds.
    #[arg(long, default_value_t = 10)]
    authorization_webhook_cache_unauthorized_ttl: u64,
    /// Standalone authorization: a static RBAC-style rules file (YAML), instead of delegation.
    #[arg(long, conflicts_with_all = ["authorization_kubeconfig", "delegate_in_cluster"])]
    authorization_policy_file: Option<PathBuf>,
    /// Non-resource paths served to anyone, comma-separated (`*` at the end matches below, and
    /// is allowed nowhere else); resource requests are always authorized.
    #[arg(long, value_delimiter = ',', default_value = "/healthz,/readyz,/livez")]
    authorization_always_allow_paths: Vec<String>,
    /// Reads (not watches) served at once; beyond it, 429 with Retry-After. 0: no limit.
    #[arg(long, default_value_t = 400)]
    max_requests_inflight: usize,
    /// Writes served at once; beyond it, 429. 0: no limit.
    #[arg(long, default_value_t = 200)]
    max_mutating_requests_inflight: usize,
    /// Open watches; beyond it, 429. 0: no limit.
    #[arg(long, default_value_t = 1000)]
    max_watches: usize,
    /// Time a request other than a watch may take before a 504, in seconds (0: none).
    #[arg(long, default_value_t = 60)]
    request_timeout: u64,
    /// A watch whose client does not read for this many seconds is ended.
    #[arg(long, default_value_t = 10)]
    watch_send_timeout: u64,
    /// Requests without credentials are `system:anonymous` (then authorized like any other);
    /// `false`: they get 401.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    anonymous_auth: bool,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish, in seconds.
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
    /// The version Alerts are stored in. Alerts stored under another choice are still read.
    #[arg(long, value_parser = ["v1alpha1", "v1beta1"], default_value = "v1beta1")]
    storage_version: String,
}

fn main() -> ExitCode {
    // No transparent huge pages: a server holding many small objects would pay RSS for partly
    // used 2 MiB pages (100,000 Alerts: 134 MB with them, 122 MB without). Set before the
    // runtime's threads allocate; it covers the whole process.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pager-apiserver: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve_main())
}

async fn serve_main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pager-apiserver: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    // Bad authentication or authorization flags are refused before anything starts.
    auth::check_always_allow_paths(&cli.authorization_always_allow_paths)
        .map_err(|e| format!("--authorization-always-allow-paths: {e}"))?;
    check_uid_headers(&cli.requestheader_uid_headers)?;
    // Serving every request is for a developer's own machine: anywhere else the server fails
    // closed, as an aggregated server of k8s.io/apiserver without its kubeconfigs denies
    // requests. (Plain HTTP there is refused for its own reason below.)
    if serves_everyone(&cli) && !cli.listen.ip().is_loopback() && !cli.plain_http {
        return Err(format!(
            "refusing to serve every request unauthenticated on {}: configure authentication and authorization (--delegate-in-cluster, --authentication-kubeconfig with --authorization-kubeconfig, --client-ca-file with --authorization-policy-file), or listen on loopback",
            cli.listen
        )
        .into());
    }
    // So are bad TLS flags; what they ask for that rustls cannot offer is said once.
    let policy = apiserver::serve::TlsPolicy::from_flags(
        cli.tls_min_version.as_deref(),
        &cli.tls_cipher_suites,
    )?;
    for warning in policy.warnings() {
        tracing::warn!("{warning}");
    }
    let options = StoreOptions {
        history_capacity: cli.watch_history,
        history_bytes: cli.watch_history_mb.saturating_mul(1024 * 1024),
        verify_on_open: cli.verify_on_open,
        cache_bytes: cli.cache_mb.saturating_mul(1024 * 1024),
        write_ahead_log_bytes: cli.write_ahead_log_mb.saturating_mul(1024 * 1024),
        ..StoreOptions::default()
    };
    let store = match cli.storage {
        StorageKind::Memory => AnyStore::Memory(MemoryStore::with_options(options.clone())),
        StorageKind::Embedded => AnyStore::Embedded(
            EmbeddedStore::open_with_options(&cli.data, options.clone())
                .map_err(|e| format!("cannot open {}: {e}", cli.data.display()))?,
        ),
        StorageKind::Etcd => AnyStore::from(
            apiserver_storage::EtcdStore::connect(
                &cli.etcd_servers,
                apiserver_storage::EtcdOptions {
                    tls: etcd_tls(&cli)?,
                    prefix: cli.etcd_prefix.clone(),
                    request_timeout: std::time::Duration::from_secs(cli.etcd_request_timeout),
                    connect_timeout: std::time::Duration::from_secs(cli.etcd_connect_timeout),
                    store: options.clone(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                format!(
                    "cannot connect to etcd at {}: {e}",
                    cli.etcd_servers.join(",")
                )
            })?,
        ),
    };
    let store = if cli.watch_cache {
        store.with_watch_cache(options)
    } else {
        store
    };
    // Stopped before the server is dropped, so the store closes with it.
    let compactor = (cli.compaction_interval > 0).then(|| {
        tokio::spawn(apiserver_storage::compact_periodically(
            store.clone(),
            std::time::Duration::from_secs(cli.compaction_interval),
            |e| tracing::warn!(error = %e, "compaction failed; retrying at the next interval"),
        ))
    });
    let (guard, certificates) = guard(&cli).await?;
    let mut server = ApiServer::builder(store)
        .resource(pager_apiserver::alerts_limited(
            (cli.alerts_per_minute > 0).then_some(cli.alerts_per_minute),
        ))
        .storage_version("pager.k8s.co", &cli.storage_version)
        .garbage_collection(cli.enable_garbage_collector.unwrap_or(
            cli.delegate_in_cluster
                || cli.authentication_kubeconfig.is_some()
                || cli.authorization_kubeconfig.is_some(),
        ))
        .unsafe_malformed_object_deletion(
            cli.feature_gates
                .iter()
                .rev()
                .find(|(gate, _)| *gate == FeatureGate::AllowUnsafeMalformedObjectDeletion)
                .is_some_and(|(_, on)| *on),
        )
        .max_requests_inflight(cli.max_requests_inflight)
        .max_mutating_requests_inflight(cli.max_mutating_requests_inflight)
        .max_watches(cli.max_watches)
        .request_timeout(std::time::Duration::from_secs(cli.request_timeout))
        .watch_send_timeout(std::time::Duration::from_secs(cli.watch_send_timeout));
    match (&cli.namespaces, &cli.namespaces_kubeconfig) {
        (Some(list), _) => {
            server = server.namespaces(std::sync::Arc::new(apiserver::StaticNamespaces(
                list.iter().cloned().collect(),
            )))
        }
        (None, Some(path)) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("--namespaces-kubeconfig {}: {e}", path.display()))?;
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .map_err(|e| format!("--namespaces-kubeconfig {}: {e}", path.display()))?;
            let client = kube::Client::try_from(config)
                .map_err(|e| format!("--namespaces-kubeconfig {}: {e}", path.display()))?;
            server = server.namespaces(apiserver::ClusterNamespaces::start(client));
        }
        // In the cluster, the cluster's namespaces, as sample-apiserver's NamespaceLifecycle
        // admission reads them through the pod's service account.
        (None, None) if cli.delegate_in_cluster => {
            let config = kube::Config::incluster()
                .map_err(|e| format!("--delegate-in-cluster (namespaces): {e}"))?;
            let client = kube::Client::try_from(config)
                .map_err(|e| format!("--delegate-in-cluster (namespaces): {e}"))?;
            server = server.namespaces(apiserver::ClusterNamespaces::start(client));
        }
        (None, None) => {}
    }
    if let Some(path) = &cli.admission_webhooks {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--admission-webhooks {}: {e}", path.display()))?;
        let webhooks = apiserver::Webhooks::from_yaml(&text)
            .map_err(|e| format!("--admission-webhooks {}: {e}", path.display()))?;
        server = server.admission_webhooks(webhooks);
    }
    match guard {
        Some(guard) => server = server.guard(guard),
        // Only on loopback: elsewhere `run` refused to start.
        None => tracing::warn!(
            "no authentication or authorization configured: every request is served (loopback, development only)"
        ),
    }
    let server = server.build()?;
    let watches = server.shutdown_handle();
    let app = server.into_router();
    let grace = std::time::Duration::from_secs(cli.shutdown_grace);
    // SIGTERM or SIGINT: stop accepting, end watch streams, let requests finish within the
    // grace period; the store is closed when the server is dropped.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        watches.trigger();
        stop_tx.send_replace(true);
    });
    let stopping = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let addr = listener.local_addr()?;
    let tls = if cli.plain_http {
        if !cli.listen.ip().is_loopback() {
            return Err(format!(
                "refusing to serve plain HTTP on {}: drop --plain-http (HTTPS is the default), or listen on loopback",
                cli.listen
            )
            .into());
        }
        tracing::info!(listen = %addr, "serving plain HTTP on loopback");
        None
    } else {
        let files = match (&cli.tls_cert_file, &cli.tls_private_key_file) {
            (Some(cert), Some(key)) => apiserver::serve::CertKeyFiles {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => {
                let files = apiserver::serve::self_signed(&cli.cert_dir, &cli.tls_names)?;
                tracing::info!(
                    ca = %cli.cert_dir.join(apiserver::serve::certs::GENERATED_CA).display(),
                    "serving a self-signed certificate"
                );
                files
            }
        };
        let tls = apiserver::serve::Tls::with_policy(
            files,
            &certificates.current().client_cas(),
            policy,
        )?;
        tokio::spawn(tls.watch(std::time::Duration::from_secs(5)));
        tokio::spawn(tls.follow(&certificates));
        tracing::info!(listen = %addr, "serving HTTPS");
        Some(tls)
    };
    // The bound address on stdout lets tests use port 0.
    println!("listening on {addr}");
    apiserver::serve::serve(listener, app, tls, stopping, grace).await?;
    if let Some(compactor) = compactor {
        compactor.abort();
        let _ = compactor.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Authentication and authorization from the flags (`None`: none configured), and the CAs
/// client certificates may come from (followed while serving).
async fn guard(
    cli: &Cli,
) -> Result<(Option<Guard>, auth::DynamicCertificates), Box<dyn std::error::Error>> {
    let kube_client = |kubeconfig: Option<&PathBuf>| {
        let in_cluster = cli.delegate_in_cluster;
        let kubeconfig = kubeconfig.cloned();
        async move {
            let config = match (kubeconfig, in_cluster) {
                (Some(path), _) => {
                    let kc = kube::config::Kubeconfig::read_from(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    kube::Config::from_custom_kubeconfig(kc, &Default::default())
                        .await
                        .map_err(|e| format!("{}: {e}", path.display()))?
                }
                (None, true) => {
                    kube::Config::incluster().map_err(|e| format!("--delegate-in-cluster: {e}"))?
                }
                (None, false) => return Ok::<_, String>(None),
            };
            kube::Client::try_from(config)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    };
    let secs = std::time::Duration::from_secs;
    let mut authentication = Authentication {
        anonymous: cli.anonymous_auth,
        ..Authentication::default()
    };
    let mut sources = auth::CertificateSources {
        client_ca_file: cli.client_ca_file.clone(),
        request_header_file: cli.requestheader_client_ca_file.as_ref().map(|ca_file| {
            auth::RequestHeaderFile {
                ca_file: ca_file.clone(),
                username_headers: cli.requestheader_username_headers.clone(),
                uid_headers: cli.requestheader_uid_headers.clone(),
                group_headers: cli.requestheader_group_headers.clone(),
                extra_headers_prefixes: cli.requestheader_extra_headers_prefix.clone(),
            }
        }),
        allowed_names: cli.requestheader_allowed_names.clone(),
        // Go checks its CA files every minute and on file events; a stat a second stands
        // for both.
        file_check_interval: secs(1),
        ..auth::CertificateSources::default()
    };
    let mut configured = sources.client_ca_file.is_some() || sources.request_header_file.is_some();
    if let Some(client) = kube_client(cli.authentication_kubeconfig.as_ref()).await? {
        // The cluster's ConfigMap for what flags leave out, followed while serving.
        sources.cluster = Some(client.clone());
        authentication.tokens = Some(std::sync::Arc::new(auth::DelegatedTokens::new(
            client,
            secs(cli.authentication_token_webhook_cache_ttl),
        )));
        configured = true;
    }
    authentication.certificates = sources.start().await?;
    let authz_kubeconfig = cli.authorization_kubeconfig.as_ref();
    let authorizer: Option<std::sync::Arc<dyn auth::Authorizer>> =
        if let Some(client) = kube_client(authz_kubeconfig).await? {
            Some(std::sync::Arc::new(auth::DelegatedAuthorizer::new(
                client,
                secs(cli.authorization_webhook_cache_authorized_ttl),
                secs(cli.authorization_webhook_cache_unauthorized_ttl),
            )))
        } else if let Some(path) = &cli.authorization_policy_file {
            Some(std::sync::Arc::new(auth::Policy::from_file(path)?))
        } else {
            None
        };
    let certificates = authentication.certificates.clone();
    if !configured && authorizer.is_none() {
        debug_assert!(serves_everyone(cli));
        return Ok((None, certificates));
    }
    let authorizer = authorizer.unwrap_or_else(|| {
        tracing::warn!("no authorizer configured (--authorization-kubeconfig, --delegate-in-cluster or --authorization-policy-file): every authenticated request is allowed, anonymous ones are refused");
        std::sync::Arc::new(auth::AuthenticatedOnly)
    });
    let mut guard = Guard::new(authentication, authorizer);
    guard.always_allow_paths = cli.authorization_always_allow_paths.clone();
    Ok((Some(guard), certificates))
}

/// Whether no flag configures authentication or authorization: `guard` then makes no guard.
fn serves_everyone(cli: &Cli) -> bool {
    cli.client_ca_file.is_none()
        && cli.requestheader_client_ca_file.is_none()
        && cli.authentication_kubeconfig.is_none()
        && cli.authorization_kubeconfig.is_none()
        && cli.authorization_policy_file.is_none()
        && !cli.delegate_in_cluster
}

/// `--requestheader-uid-headers` as kube-apiserver checks it: no blank name, and, when set,
/// `X-Remote-Uid` among them (what kube-aggregator sends: without it the uid would be lost).
fn check_uid_headers(headers: &[String]) -> Result<(), String> {
    if headers.iter().any(|h| h.trim().is_empty()) {
        return Err("empty value in \"requestheader-uid-headers\"".into());
    }
    if !headers.is_empty()
        && !headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("X-Remote-Uid"))
    {
        return Err(
            "--requestheader-uid-headers is set without specifying the standard \
                    X-Remote-Uid header - API aggregation will not work"
                .into(),
        );
    }
    Ok(())
}

/// TLS to etcd from `--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile`.
fn etcd_tls(cli: &Cli) -> Result<Option<apiserver_storage::EtcdTls>, String> {
    let read =
        |p: &PathBuf| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let Some(ca) = &cli.etcd_cafile else {
        if cli.etcd_certfile.is_some() {
            return Err("--etcd-certfile needs --etcd-cafile".into());
        }
        return Ok(None);
    };
    let client = match (&cli.etcd_certfile, &cli.etcd_keyfile) {
        (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
        _ => None,
    };
    Ok(Some(apiserver_storage::EtcdTls {
        ca: read(ca)?,
        client,
        server_name: None,
    }))
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The feature gates `--feature-gates` knows (kube-apiserver's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FeatureGate {
    AllowUnsafeMalformedObjectDeletion,
}

/// `Name=true|false`, as kube-apiserver reads each of `--feature-gates`; an unknown gate is an
/// error, as there.
fn feature_gate(s: &str) -> Result<(FeatureGate, bool), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("missing bool value for {s}"))?;
    let gate = match name.trim() {
        "AllowUnsafeMalformedObjectDeletion" => FeatureGate::AllowUnsafeMalformedObjectDeletion,
        other => return Err(format!("unrecognized feature gate: {other}")),
    };
    let on = value
        .trim()
        .parse::<bool>()
        .map_err(|_| format!("invalid value of {name}={value}, err: not a bool"))?;
    Ok((gate, on))
}

#[cfg(test)]
mod feature_gate_tests {
    use super::{Cli, FeatureGate, feature_gate};
    use clap::Parser;

    #[test]
    fn gates_read_as_kube_apiserver_reads_them() {
        assert_eq!(
            feature_gate("AllowUnsafeMalformedObjectDeletion=true"),
            Ok((FeatureGate::AllowUnsafeMalformedObjectDeletion, true))
        );
        assert!(
            feature_gate("NoSuchGate=true")
                .unwrap_err()
                .contains("unrecognized feature gate: NoSuchGate")
        );
        assert!(feature_gate("AllowUnsafeMalformedObjectDeletion").is_err());
        assert!(feature_gate("AllowUnsafeMalformedObjectDeletion=yes").is_err());
        let cli = Cli::try_parse_from([
            "pager-apiserver",
            "--feature-gates",
            "AllowUnsafeMalformedObjectDeletion=true,AllowUnsafeMalformedObjectDeletion=false",
        ])
        .unwrap();
        assert_eq!(
            cli.feature_gates,
            vec![
                (FeatureGate::AllowUnsafeMalformedObjectDeletion, true),
                (FeatureGate::AllowUnsafeMalformedObjectDeletion, false)
            ]
        );
    }
}
