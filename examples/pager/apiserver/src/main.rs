//! `pager-apiserver`: the pager API (`pager.k8s.co` Alerts in `v1alpha1` and `v1beta1`) served
//! from the generated code by the apiserver library, for unmodified kubectl. Alerts are stored in
//! one version and every other is converted through the hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apiserver::ApiServer;
use apiserver_storage::{AnyStore, EmbeddedStore, MemoryStore, StoreOptions};
use clap::{Parser, ValueEnum};

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
    /// Watch events kept for clients that resume from a resourceVersion; older ones get
    /// 410 Gone (`Expired`) and relist.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_HISTORY_CAPACITY)]
    watch_history: usize,
    /// Every this many seconds, compact the store's history up to the revision it had one
    /// interval earlier (kube-apiserver's `--etcd-compaction-interval`); 0 = never. Lists at and
    /// watches from older resourceVersions then get 410 Gone.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_COMPACTION_INTERVAL.as_secs())]
    compaction_interval: u64,
    /// PEM certificate chain for HTTPS.
    #[arg(long, requires = "tls_private_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, requires = "tls_cert_file")]
    tls_private_key_file: Option<PathBuf>,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish, in seconds.
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
    /// The version Alerts are stored in. Alerts stored under another choice are still read.
    #[arg(long, value_parser = ["v1alpha1", "v1beta1"], default_value = "v1beta1")]
    storage_version: String,
}

#[tokio::main]
async fn main() -> ExitCode {
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
    let options = StoreOptions {
        history_capacity: cli.watch_history,
        ..StoreOptions::default()
    };
    let store = match cli.storage {
        StorageKind::Memory => AnyStore::Memory(MemoryStore::with_options(options)),
        StorageKind::Embedded => AnyStore::Embedded(
            EmbeddedStore::open_with_options(&cli.data, options)
                .map_err(|e| format!("cannot open {}: {e}", cli.data.display()))?,
        ),
        StorageKind::Etcd => AnyStore::from(
            apiserver_storage::EtcdStore::connect(
                &cli.etcd_servers,
                apiserver_storage::EtcdOptions {
                    tls: etcd_tls(&cli)?,
                    prefix: cli.etcd_prefix.clone(),
                    request_timeout: std::time::Duration::from_secs(cli.etcd_request_timeout),
                    store: options,
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
    // Stopped before the server is dropped, so the store closes with it.
    let compactor = (cli.compaction_interval > 0).then(|| {
        tokio::spawn(apiserver_storage::compact_periodically(
            store.clone(),
            std::time::Duration::from_secs(cli.compaction_interval),
            |e| tracing::warn!(error = %e, "compaction failed; retrying at the next interval"),
        ))
    });
    let server = ApiServer::builder(store)
        .resource(pager_apiserver::alerts())
        .storage_version("pager.k8s.co", &cli.storage_version)
        .build()?;
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
    match (&cli.tls_cert_file, &cli.tls_private_key_file) {
        (Some(cert), Some(key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| format!("cannot load TLS files: {e}"))?;
            tracing::info!(listen = %cli.listen, "serving HTTPS");
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                stopping.await;
                h.graceful_shutdown(Some(grace));
            });
            axum_server::bind_rustls(cli.listen, config)
                .handle(handle)
                .serve(app.into_make_service())
                .await?;
        }
        _ => {
            if !cli.listen.ip().is_loopback() {
                return Err(format!(
                    "refusing to serve plain HTTP on {}: give --tls-cert-file and --tls-private-key-file, or listen on loopback",
                    cli.listen
                )
                .into());
            }
            let listener = tokio::net::TcpListener::bind(cli.listen).await?;
            tracing::info!(listen = %listener.local_addr()?, "serving plain HTTP on loopback");
            // The bound address on stdout lets tests use port 0.
            println!("listening on {}", listener.local_addr()?);
            let serve = axum::serve(listener, app).with_graceful_shutdown(stopping);
            let mut rx = stop_rx;
            tokio::select! {
                r = serve => r?,
                // In-flight requests get the grace period, not longer.
                _ = async {
                    let _ = rx.wait_for(|s| *s).await;
                    tokio::time::sleep(grace).await;
                } => tracing::warn!("grace period over: closing remaining connections"),
            }
        }
    }
    if let Some(compactor) = compactor {
        compactor.abort();
        let _ = compactor.await;
    }
    tracing::info!("stopped");
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
