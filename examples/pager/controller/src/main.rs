//! `pager-controller`: sends each unsent pager Alert to a Pushbullet-style notifier and marks it
//! sent. Kubernetes connection from the usual kubeconfig or in-cluster configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pager_client::Clientset;
use pager_controller::{Config, Metrics, Notifier, Token};

/// Send pager Alerts to a Pushbullet-style notifier.
#[derive(Parser, Debug)]
#[command(name = "pager-controller", version)]
struct Cli {
    /// The notifier's base URL (`POST <url>/v2/pushes`).
    #[arg(long, env = "PAGER_NOTIFIER_URL")]
    notifier_url: String,
    /// The notifier's access token, read from this file (a mounted secret), and again whenever
    /// it changes (a rotated secret).
    #[arg(long, env = "PAGER_NOTIFIER_TOKEN_FILE", conflicts_with = "token_env")]
    token_file: Option<PathBuf>,
    /// Read the token from the environment variable PAGER_NOTIFIER_TOKEN.
    #[arg(long = "token-from-env", id = "token_env")]
    token_env: bool,
    /// Workers processing alerts concurrently (at least 1).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    workers: u32,
    /// Only alerts of this namespace (default: all).
    #[arg(long)]
    namespace: Option<String>,
    /// This controller's name in claims (stable across restarts; default: the host name).
    #[arg(long, env = "POD_NAME")]
    id: Option<String>,
    /// How long a claim keeps other controllers away, in seconds (longer than a push may take:
    /// at least the push timeout).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    claim_ttl: u64,
    /// Timeout of one push, in seconds (at least 1).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    push_timeout: u64,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    #[arg(long, default_value = "127.0.0.1:9090")]
    metrics_listen: SocketAddr,
    /// Logs as JSON lines.
    #[arg(long)]
    json_logs: bool,
}

fn token(cli: &Cli) -> Result<Token, String> {
    if let Some(path) = &cli.token_file {
        return Token::from_file(path);
    }
    if cli.token_env {
        return match std::env::var("PAGER_NOTIFIER_TOKEN") {
            Ok(t) if !t.trim().is_empty() => Ok(Token::new(t.trim())),
            Ok(_) => Err("PAGER_NOTIFIER_TOKEN is empty".to_string()),
            Err(_) => Err("PAGER_NOTIFIER_TOKEN is not set".to_string()),
        };
    }
    Err("give the notifier token: --token-file FILE (or PAGER_NOTIFIER_TOKEN_FILE), or --token-from-env with PAGER_NOTIFIER_TOKEN".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if cli.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pager-controller: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let token = token(&cli)?;
    // A claim that expires while its push may still run lets another controller push too.
    if cli.claim_ttl < cli.push_timeout {
        return Err(format!(
            "--claim-ttl ({} s) is shorter than --push-timeout ({} s): another controller could \
             take over an alert while its push runs, and push it again",
            cli.claim_ttl, cli.push_timeout
        )
        .into());
    }
    let notifier = Notifier::new(
        &cli.notifier_url,
        token,
        Duration::from_secs(cli.push_timeout),
    )?;
    let cs = Clientset::try_default().await?;
    let config = Config {
        id: cli.id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "pager-controller".into())
        }),
        workers: cli.workers as usize,
        namespace: cli.namespace.clone(),
        claim_ttl: Duration::from_secs(cli.claim_ttl),
        ..Config::default()
    };
    let metrics = Metrics::default();
    let served = metrics.clone();
    let readiness = metrics.clone();
    let app = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        // Ready once the caches synced, until shutdown begins: a replica that cannot reach its
        // API server is not counted ready (`/healthz` says only that the process serves).
        .route(
            "/readyz",
            axum::routing::get(move || {
                let ready = readiness.ready.get() == 1;
                async move {
                    if ready {
                        (axum::http::StatusCode::OK, "ok")
                    } else {
                        (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            "caches not synced",
                        )
                    }
                }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(move || {
                let m = served.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.encode(),
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(cli.metrics_listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "serving /healthz, /readyz and /metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the /healthz, /readyz and /metrics server stopped");
        }
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("signal received");
        stop.send_replace(true);
    });
    tracing::info!(id = %config.id, notifier = %cli.notifier_url, "starting");
    pager_controller::run(cs, notifier, config, metrics, stopped).await;
    Ok(())
}
