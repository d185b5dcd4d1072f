//! `pager-apiserver`: the pager API (`pager.k8s.co/v1alpha1` Alerts) served from the generated
//! code by the apiserver library, for unmodified kubectl.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apiserver::{ApiServer, Cause, Resource, Strategy};
use apiserver_storage::{AnyStore, EmbeddedStore, MemoryStore, StoreOptions};
use clap::{Parser, ValueEnum};
use pager::v1alpha1::Alert;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StorageKind {
    /// A crash-safe single file (redb): the default.
    Embedded,
    /// In memory: lost on exit (tests).
    Memory,
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
    /// Watch events kept for clients that resume from a resourceVersion; older ones get
    /// 410 Gone (`Expired`) and relist.
    #[arg(long, default_value_t = apiserver_storage::DEFAULT_HISTORY_CAPACITY)]
    watch_history: usize,
    /// PEM certificate chain for HTTPS.
    #[arg(long, requires = "tls_private_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, requires = "tls_cert_file")]
    tls_private_key_file: Option<PathBuf>,
}

/// Alert rules: a message is required and bounded; `status.sent` is selectable, so a controller
/// can list unsent alerts with `fieldSelector=status.sent=false`.
struct AlertStrategy;

impl Strategy<Alert> for AlertStrategy {
    fn validate(&self, alert: &Alert) -> Vec<Cause> {
        let mut causes = Vec::new();
        if alert.spec.message.trim().is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                "spec.message",
                "Required value: an alert needs a message",
            ));
        } else if alert.spec.message.len() > 4096 {
            causes.push(Cause::new(
                "FieldValueTooLong",
                "spec.message",
                "Too long: may not be more than 4096 bytes",
            ));
        }
        causes
    }

    fn selectable_fields(&self) -> &'static [&'static str] {
        &["status.sent"]
    }

    fn field_value(&self, alert: &Alert, field: &str) -> Option<String> {
        match field {
            "status.sent" => Some(alert.status.as_ref().is_some_and(|s| s.sent).to_string()),
            _ => None,
        }
    }
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
    };
    let app = ApiServer::builder(store)
        .resource(
            Resource::<Alert, _>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(AlertStrategy),
        )
        .build()?
        .into_router();
    match (&cli.tls_cert_file, &cli.tls_private_key_file) {
        (Some(cert), Some(key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| format!("cannot load TLS files: {e}"))?;
            tracing::info!(listen = %cli.listen, "serving HTTPS");
            axum_server::bind_rustls(cli.listen, config)
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
            axum::serve(listener, app).await?;
        }
    }
    Ok(())
}
