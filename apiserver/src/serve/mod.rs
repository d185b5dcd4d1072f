//! Serving the router: HTTPS with rustls (HTTP/2 and HTTP/1.1), the client certificate of each
//! connection handed to authentication, the serving certificate reloaded when its files change,
//! a graceful shutdown, and connections closed when idle; or plain HTTP (loopback development).

pub mod certs;
mod coalesce;
mod policy;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;

use crate::auth::PeerCertificates;
pub use certs::{CertKeyFiles, ReloadingCert, self_signed};
use coalesce::Coalesce;
pub use policy::{TlsMinVersion, TlsPolicy};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Concurrent streams a client may open on one HTTP/2 connection: k8s.io/apiserver's
/// `RecommendedOptions` for aggregated API servers, whose client is typically kube-aggregator's
/// proxy multiplexing many requests, long-running watches included, into one connection.
/// (hyper's default, 200, would leave the 201st watch of that connection waiting.)
pub const HTTP2_MAX_STREAMS_PER_CONNECTION: u32 = 1000;

/// The request headers a client may send, the request line or `:path` included: Go's
/// `http.DefaultMaxHeaderBytes` (1 MiB), kube-apiserver's limit. hyper's defaults (16 KiB over
/// HTTP/2) answered a long `labelSelector` with a 431, and past 64 KiB with a GOAWAY that ended
/// every other stream of the connection — behind kube-aggregator, everyone's watches. (hyper
/// keeps its own 64 KiB limit on an HTTP/1.1 request line: a 414.)
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// How many header fields an HTTP/1.1 request may have. Go counts only their bytes; hyper's
/// default of 100 answered 431 to a user in many groups behind kube-aggregator, which sends one
/// `X-Remote-Group` header per group (and one `X-Remote-Extra-*` per extra value). Parsing a
/// request reserves room for this many (about 64 KiB). HTTP/2 counts only the bytes.
pub const MAX_HEADER_FIELDS: usize = 1000;

/// How long an HTTP/1 client may take to send a request's headers: k8s.io/apiserver's
/// `ReadHeaderTimeout`, counted as Go's net/http counts it — from the connection's start for its
/// first request (a connection that sends nothing, or drips its headers, is closed after it), and
/// from the first byte of each later one. A keep-alive connection idle between requests is the
/// idle timeout's ([`IDLE_TIMEOUT`]): clients keep pooled connections for 90 s, and one closed
/// sooner fails the request its client sends on it at that moment. Request bodies and responses
/// (watches) are not limited by it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);

/// How long a connection may stay open with no request in progress, kube-apiserver's
/// `IdleTimeout` for HTTP/1 and HTTP/2 alike (it matches Go's `http.DefaultTransport` keep-alive).
/// An HTTP/2 connection is then closed with a GOAWAY, so its client opens a new one for its next
/// request instead of failing it; an HTTP/1 keep-alive connection simply closes (not while a
/// request's headers are arriving: they have the header timeout). Without it, keep-alive
/// connections, and HTTP/2 ones that open no stream (or whose last one ended long ago), would
/// hold their descriptors for ever.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// How [`serve_with`] serves.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// After the shutdown signal: how long open connections get to finish.
    pub grace: Duration,
    /// A connection with no request in progress for this long is closed ([`IDLE_TIMEOUT`]).
    pub idle_timeout: Duration,
    /// An HTTP/1 request's headers, or an HTTP/2 connection's preface, must arrive within this
    /// long ([`HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            grace: Duration::from_secs(10),
            idle_timeout: IDLE_TIMEOUT,
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Asks for a client certificate and checks that the client holds its key, but leaves judging
/// the chain to authentication (which verifies it against the client and request-header CAs), as
/// kube-apiserver's `tls.RequestClientCert` does: an expired certificate, or one of another CA,
/// is a 401 `Status` the client can read, not a handshake failure it cannot.
#[derive(Debug)]
struct RequestClientCert(Arc<dyn rustls::server::danger::ClientCertVerifier>);

impl rustls::server::danger::ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// HTTPS settings.
pub struct Tls {
    cert: Arc<ReloadingCert>,
    policy: Arc<TlsPolicy>,
    /// Replaced when the client CAs change ([`Tls::follow`]); each handshake takes the current one.
    config: Arc<std::sync::RwLock<Arc<rustls::ServerConfig>>>,
}

impl Tls {
    /// Serves `files` (reloaded when they change: see [`Tls::watch`]); client certificates are
    /// asked for (hinting `client_cas`: the client CA and the request-header CA,
    /// [`crate::auth::Authentication::client_cas`]), and the client must hold the key of the one
    /// it gives; whether it chains to a CA is authentication's to judge, with a 401. With no CAs,
    /// none are asked for.
    pub fn new(
        files: CertKeyFiles,
        client_cas: &[CertificateDer<'static>],
    ) -> Result<Self, String> {
        Tls::with_policy(files, client_cas, TlsPolicy::default())
    }

    /// [`Tls::new`] offering the versions and cipher suites of `policy`
    /// (`--tls-min-version`, `--tls-cipher-suites`).
    pub fn with_policy(
        files: CertKeyFiles,
        client_cas: &[CertificateDer<'static>],
        policy: TlsPolicy,
    ) -> Result<Self, String> {
        let cert = Arc::new(ReloadingCert::new(files)?);
        let config = server_config(&cert, client_cas, &policy)?;
        Ok(Tls {
            cert,
            policy: Arc::new(policy),
            config: Arc::new(std::sync::RwLock::new(config)),
        })
    }

    /// Checks the certificate files every `interval` and serves new ones from the next
    /// handshake on; runs until dropped (spawn it).
    pub fn watch(&self, interval: Duration) -> impl Future<Output = ()> + Send + 'static {
        let cert = self.cert.clone();
        async move {
            let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
            loop {
                ticks.tick().await;
                match cert.reload_if_changed() {
                    Ok(true) => tracing::info!("serving certificate reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "serving certificate not reloaded"),
                }
            }
        }
    }

    /// Asks for client certificates of the CAs `certificates` holds, from the next handshake
    /// after each change (Go clients send no certificate when theirs matches none of the CAs
    /// asked for, so a rotated CA must be asked for too); runs until the settings are dropped
    /// everywhere else (spawn it).
    pub fn follow(
        &self,
        certificates: &crate::auth::DynamicCertificates,
    ) -> impl Future<Output = ()> + Send + 'static {
        let cert = self.cert.clone();
        let policy = self.policy.clone();
        let config = self.config.clone();
        // Weak: the task ends once nothing else holds the settings (the server is gone).
        let certificates = certificates.downgrade();
        let mut changes = certificates.upgrade().map(|c| c.subscribe());
        async move {
            while let Some(current) = certificates.upgrade().map(|c| c.current()) {
                match server_config(&cert, &current.client_cas(), &policy) {
                    Ok(next) => *config.write().unwrap_or_else(|p| p.into_inner()) = next,
                    Err(e) => tracing::warn!(error = %e, "client CAs not applied to TLS"),
                }
                drop(current);
                let Some(rx) = changes.as_mut() else { return };
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self.config.read().unwrap_or_else(|p| p.into_inner());
        tokio_rustls::TlsAcceptor::from(config.clone())
    }
}

/// The TLS server's settings: `cert`, and client certificates asked for (hinting `client_cas`).
fn server_config(
    cert: &Arc<ReloadingCert>,
    client_cas: &[CertificateDer<'static>],
    policy: &TlsPolicy,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = policy.provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(policy.versions())
        .map_err(|e| e.to_string())?;
    let builder = if client_cas.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for ca in client_cas {
            roots
                .add(ca.clone())
                .map_err(|e| format!("client CA: {e}"))?;
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("client CA: {e}"))?;
        builder.with_client_cert_verifier(Arc::new(RequestClientCert(verifier)))
    };
    let mut config = builder.with_cert_resolver(cert.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets open
/// connections finish within `grace`. With `tls`, every connection is HTTPS and its client
/// certificate, if any, reaches the handlers as a [`PeerCertificates`] extension. Idle
/// connections are closed after [`IDLE_TIMEOUT`]; [`serve_with`] sets it.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let options = ServeOptions {
        grace,
        ..ServeOptions::default()
    };
    serve_with(listener, router, tls, shutdown, options).await
}

/// [`serve`] with every setting given.
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send,
    options: ServeOptions,
) -> std::io::Result<()> {
    let tls = tls.map(Arc::new);
    // `true` once the server stops: every connection then closes gracefully. Each connection
    // task holds an `alive` sender; when all are gone, every connection has ended.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let (alive_tx, mut alive_rx) = tokio::sync::mpsc::channel::<()>(1);
    let timeouts = Timeouts {
        idle: options.idle_timeout,
        header_read: options.header_read_timeout,
    };
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: keep serving what is open.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        // The configuration now: the client CAs may have changed since the last connection.
        let acceptor = tls.as_ref().map(|t| t.acceptor());
        let closing = closing_rx.clone();
        let alive = alive_tx.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let Some(acceptor) = acceptor else {
                // The header timeout counts from here.
                let due = tokio::time::Instant::now() + timeouts.header_read;
                let activity = Arc::new(Activity::new());
                let http2 = starts_http2(&tcp, due).await;
                let io = TokioIo::new(Transport::new(tcp, http2, &activity, timeouts, due));
                run_connection(io, router, None, closing, activity, timeouts, remote).await;
                return;
            };
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .filter(|c| !c.is_empty())
                .map(|c| PeerCertificates::new(c.iter().map(|c| c.clone().into_owned()).collect()));
            let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let activity = Arc::new(Activity::new());
            let due = tokio::time::Instant::now() + timeouts.header_read;
            let io = TokioIo::new(Transport::new(stream, http2, &activity, timeouts, due));
            run_connection(io, router, peer, closing, activity, timeouts, remote).await;
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    drop(alive_tx);
    tokio::select! {
        _ = alive_rx.recv() => {}
        _ = tokio::time::sleep(options.grace) => tracing::warn!("grace period over: closing remaining connections"),
    }
    Ok(())
}

/// Whether a plain-HTTP client opened with HTTP/2's preface (`PRI * HTTP/2.0…`, prior
/// knowledge), from the first bytes, without consuming them. Only how writes are batched and the
/// header timeout depend on it (hyper tells the protocols apart itself), so a client that sends
/// nothing before `due` (the header timeout), or only part of the first four bytes for 50 ms,
/// counts as HTTP/1.1.
async fn starts_http2(tcp: &tokio::net::TcpStream, due: tokio::time::Instant) -> bool {
    const PREFACE: &[u8] = b"PRI ";
    let peek = async {
        let mut buf = [0u8; 4];
        for _ in 0..50 {
            match tcp.peek(&mut buf).await {
                Ok(n) if n >= PREFACE.len() || n == 0 => return buf[..n] == *PREFACE,
                // Fewer bytes so far, and they could be the preface: wait a little for more.
                Ok(n) if PREFACE.starts_with(&buf[..n]) => {
                    tokio::time::sleep(Duration::from_millis(1)).await
                }
                Ok(_) | Err(_) => return false,
            }
        }
        false
    };
    tokio::time::timeout_at(due, peek).await.unwrap_or(false)
}

/// A connection's timeouts.
#[derive(Clone, Copy)]
struct Timeouts {
    idle: Duration,
    header_read: Duration,
}

/// The connection as hyper reads and writes it (its writes gathered for HTTP/2: [`Coalesce`]).
///
/// It keeps the header timeout ([`HEADER_READ_TIMEOUT`]) as Go's net/http does, in place of
/// hyper's, which also runs while a keep-alive connection waits for its next request: an HTTP/1
/// request's headers must be complete within it, counted from the connection's start for the
/// first request and from its first byte for later ones (while they arrive, the connection is
/// not idle). An HTTP/2 connection must send its whole preface within it (hyper-util has to read
/// the preface to tell HTTP/2 from HTTP/1, so a silent connection would otherwise wait for ever,
/// over TLS too after its handshake); its streams are then h2's, and its idleness the idle
/// timeout's. The protocol is told from the bytes read, not from the write batching's guess.
struct Transport<T: tokio::io::AsyncWrite + Unpin> {
    inner: Coalesce<T>,
    /// What the bytes read so far say the protocol is.
    protocol: Protocol,
    activity: Arc<Activity>,
    header_read: Duration,
    /// When the awaited headers are overdue (reset for each request).
    headers_due: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// While a request's headers are awaited: how many requests had begun when the wait
    /// started (one more, and they arrived).
    awaiting: Option<u64>,
}

impl<T: tokio::io::AsyncWrite + Unpin> Transport<T> {
    /// `due`: when the first request's headers (or over HTTP/2, its first byte) are overdue;
    /// `http2`: whether ALPN or the first bytes said HTTP/2 (its writes are gathered).
    fn new(
        inner: T,
        http2: bool,
        activity: &Arc<Activity>,
        timeouts: Timeouts,
        due: tokio::time::Instant,
    ) -> Self {
        activity.headers_arriving(true);
        Transport {
            inner: Coalesce::new(inner, http2),
            protocol: Protocol::Unknown { matched: 0 },
            activity: activity.clone(),
            header_read: timeouts.header_read,
            headers_due: Box::pin(tokio::time::sleep_until(due)),
            awaiting: Some(activity.begun()),
        }
    }
}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> tokio::io::AsyncRead
    for Transport<T>
{
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let read = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        let arrived = &buf.filled()[before..];
        if let Protocol::Unknown { matched } = this.protocol {
            this.protocol = Protocol::after(matched, arrived);
        }
        match this.protocol {
            // Its preface is in: HTTP/2 times nothing more here.
            Protocol::Http2 => {
                if this.awaiting.take().is_some() {
                    this.activity.headers_arriving(false);
                }
            }
            // The first request's headers (or the preface) are awaited since the start.
            Protocol::Unknown { .. } => {}
            Protocol::Http1 => {
                let begun = this.activity.begun();
                if this.awaiting.is_some_and(|b| b != begun) {
                    // A request began: its headers are in (and `begin` said so).
                    this.awaiting = None;
                }
                if !arrived.is_empty() && this.awaiting.is_none() && this.activity.is_idle() {
                    // The first bytes of the next request on a keep-alive connection.
                    let due = tokio::time::Instant::now() + this.header_read;
                    this.headers_due.as_mut().reset(due);
                    this.awaiting = Some(begun);
                    this.activity.headers_arriving(true);
                }
            }
        }
        if read.is_pending()
            && this.awaiting.is_some()
            && this.headers_due.as_mut().poll(cx).is_ready()
        {
            return std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete request headers within the header timeout",
            )));
        }
        read
    }
}

/// A connection's protocol as the bytes read so far tell it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    /// The first `matched` bytes read are the start of HTTP/2's preface.
    Unknown {
        matched: usize,
    },
    Http1,
    Http2,
}

impl Protocol {
    /// HTTP/2's connection preface (RFC 9113 §3.4), with prior knowledge or after ALPN alike.
    const PREFACE: &'static [u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// What `arrived`, read after `matched` bytes of the preface, makes it.
    fn after(matched: usize, arrived: &[u8]) -> Protocol {
        let rest = &Self::PREFACE[matched..];
        let n = rest.len().min(arrived.len());
        if arrived[..n] != rest[..n] {
            Protocol::Http1
        } else if n == rest.len() {
            Protocol::Http2
        } else {
            Protocol::Unknown {
                matched: matched + n,
            }
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Transport<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one connection until it closes: when its client closes it, when the server stops
/// (`closing`), or after `idle_timeout` with no request in progress.
async fn run_connection<I>(
    io: I,
    router: axum::Router,
    peer: Option<PeerCertificates>,
    mut closing: tokio::sync::watch::Receiver<bool>,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    remote: SocketAddr,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let requests = activity.clone();
    let service =
        hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            if let Some(peer) = &peer {
                req.extensions_mut().insert(peer.clone());
            }
            // In progress until its response body is sent or dropped (a watch: until it ends).
            let in_progress = requests.begin();
            let response = router.clone().oneshot(req);
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    axum::body::Body::new(body.map_frame(move |frame| {
                        let _ = &in_progress;
                        frame
                    }))
                }))
            }
        });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        // Kept by the transport, as Go keeps it (hyper's also runs between requests).
        .header_read_timeout(None)
        .max_buf_size(MAX_HEADER_BYTES + 8192)
        .max_headers(MAX_HEADER_FIELDS);
    builder
        .http2()
        .max_concurrent_streams(HTTP2_MAX_STREAMS_PER_CONNECTION)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut shutting_down = false;
    // An idle connection told to go (HTTP/2's GOAWAY) that does not close: dropped once it
    // has stayed idle this long after, as Go's server closes idle connections outright.
    let mut hang_up: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%remote, error = %e, "connection ended");
                }
                return;
            }
            _ = closing.wait_for(|closing| *closing), if !shutting_down => {
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
            _ = activity.idle_for(timeouts.idle), if !shutting_down => {
                tracing::debug!(%remote, "closing an idle connection");
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
                hang_up = Some(Box::pin(tokio::time::sleep(timeouts.idle.min(GOAWAY_GRACE))));
            }
            _ = async { hang_up.as_mut().expect("set").await }, if hang_up.is_some() => {
                if activity.in_progress.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    tracing::debug!(%remote, "dropping an idle connection that did not close when told to");
                    return;
                }
                // A request runs (begun before the GOAWAY): it ends the connection itself.
                hang_up = None;
            }
        }
    }
}

/// How long an idle connection told to close (HTTP/2's GOAWAY, HTTP/1.1's `Connection: close`
/// on its next response) may take to close before it is dropped: as long again as the idle
/// timeout, this at most.
const GOAWAY_GRACE: Duration = Duration::from_secs(10);

/// The requests in progress on a connection, and since when it has had none.
struct Activity {
    in_progress: std::sync::atomic::AtomicUsize,
    /// Requests begun so far.
    begun: std::sync::atomic::AtomicU64,
    /// A later request's headers are arriving: the header timeout's, not the idle timeout's.
    headers_arriving: std::sync::atomic::AtomicBool,
    idle_since: std::sync::Mutex<tokio::time::Instant>,
}

/// One request in progress; it ends when this is dropped.
struct InProgress(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            in_progress: Default::default(),
            begun: Default::default(),
            headers_arriving: Default::default(),
            idle_since: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.begun.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.headers_arriving
            .store(false, std::sync::atomic::Ordering::SeqCst);
        InProgress(self.clone())
    }

    fn headers_arriving(&self, arriving: bool) {
        self.headers_arriving
            .store(arriving, std::sync::atomic::Ordering::SeqCst);
    }

    fn begun(&self) -> u64 {
        self.begun.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn is_idle(&self) -> bool {
        self.in_progress.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    /// When the connection will have been idle for `timeout`, if it is idle now.
    fn idle_deadline(&self, timeout: Duration) -> Option<tokio::time::Instant> {
        if self.in_progress.load(std::sync::atomic::Ordering::SeqCst) > 0
            || self
                .headers_arriving
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        Some(since + timeout)
    }

    /// Resolves once the connection has had no request in progress for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            match self.idle_deadline(timeout) {
                Some(deadline) if deadline <= tokio::time::Instant::now() => return,
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => tokio::time::sleep(timeout).await,
            }
        }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        // The time first: whoever sees no request in progress sees when the last one ended.
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
        self.0
            .in_progress
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// What a plain-HTTP connection that first sends `pieces` is taken for, and
    /// whether its writes are then gathered.
    async fn taken_for(pieces: &[&'static [u8]]) -> (bool, bool) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pieces = pieces.to_vec();
        let client = tokio::spawn(async move {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            for piece in pieces {
                tcp.write_all(piece).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tcp
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let due = tokio::time::Instant::now() + Duration::from_secs(5);
        let http2 = starts_http2(&tcp, due).await;
        let activity = Arc::new(Activity::new());
        let timeouts = Timeouts {
            idle: Duration::from_secs(5),
            header_read: Duration::from_secs(5),
        };
        let transport = Transport::new(tcp, http2, &activity, timeouts, due);
        let gathered = !tokio::io::AsyncWrite::is_write_vectored(&transport);
        drop(client.await.unwrap());
        (http2, gathered)
    }

    #[tokio::test]
    async fn h2c_connections_are_told_from_their_preface_and_gathered() {
        let preface: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        assert_eq!(taken_for(&[preface]).await, (true, true));
        // The preface in pieces, as a slow client may send it.
        assert_eq!(taken_for(&[b"PR", b"I * HTTP/2.0\r\n"]).await, (true, true));
        assert_eq!(
            taken_for(&[b"GET / HTTP/1.1\r\n\r\n"]).await,
            (false, false)
        );
        assert_eq!(
            taken_for(&[b"P", b"OST / HTTP/1.1\r\n"]).await,
            (false, false)
        );
    }
}
