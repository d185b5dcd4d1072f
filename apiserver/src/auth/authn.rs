//! Authentication, the way k8s.io/apiserver does it for aggregated servers: front-proxy request
//! headers trusted only from a client certificate of the request-header CA with an allowed
//! common name, client certificates of the client CA, bearer tokens through a
//! [`TokenAuthenticator`] (delegated `TokenReview`), else anonymous (if allowed).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;
use rustls::pki_types::{CertificateDer, UnixTime, pem::PemObject};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::User;

/// The certificate chain a client presented on its TLS connection (leaf first), whose key the
/// client proved it holds; set as a request extension, and verified against the CAs here. Cheap to
/// clone: every request of a connection shares one, and with it the identity the chain proves,
/// worked out (chain verification, subject parsing) on the connection's first request only.
#[derive(Clone, Debug)]
pub struct PeerCertificates {
    chain: Arc<Vec<CertificateDer<'static>>>,
    /// What the chain proves, and under which generation of the CAs ([`DynamicCertificates`]):
    /// worked out again when they changed.
    identity: Arc<std::sync::Mutex<Option<CachedIdentity>>>,
    /// When every certificate of the chain is valid (the latest `notBefore`, the earliest
    /// `notAfter`, in Unix seconds): a cached identity is used only within it, so a
    /// certificate that expires while its connection stays open stops authenticating then,
    /// as Go checks the chain against the time of every request.
    valid: Option<(i64, i64)>,
}

/// A generation of the CAs, and what a chain proves under it.
type CachedIdentity = (u64, Arc<PeerIdentity>);

/// What a connection's certificate proves, for one [`Authentication`].
#[derive(Clone, Debug)]
struct PeerIdentity {
    /// Chains to the request-header CA: its common name.
    front_proxy: Option<String>,
    /// Chains to the client CA: the user (common name, organizations), or why it cannot be one.
    client: Option<Result<(String, Vec<String>), String>>,
}

impl PeerIdentity {
    /// Verified by neither CA (expired, another CA's, not for client authentication): a
    /// credential that fails, not an absent one.
    fn unverified(&self) -> bool {
        self.front_proxy.is_none() && self.client.is_none()
    }
}

impl PeerCertificates {
    pub fn new(chain: Vec<CertificateDer<'static>>) -> Self {
        let valid = chain
            .iter()
            .try_fold((i64::MIN, i64::MAX), |(from, until), cert| {
                let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
                let validity = parsed.validity();
                Some((
                    from.max(validity.not_before.timestamp()),
                    until.min(validity.not_after.timestamp()),
                ))
            });
        PeerCertificates {
            chain: Arc::new(chain),
            identity: Arc::default(),
            valid,
        }
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// What the chain proves under the CAs of `generation`: worked out once per connection and
    /// generation (a connection opened before the CAs changed is judged by the new ones).
    fn identity(
        &self,
        generation: u64,
        identify: impl FnOnce() -> PeerIdentity,
    ) -> Arc<PeerIdentity> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // Outside the chain's validity (or unknown: a chain that does not parse), every
        // request is judged afresh, against the time it is made.
        let in_validity = self
            .valid
            .is_some_and(|(from, until)| from <= now && now < until);
        let mut cached = self.identity.lock().unwrap_or_else(|p| p.into_inner());
        match &*cached {
            Some((g, identity)) if *g == generation && in_validity => identity.clone(),
            _ => {
                let identity = Arc::new(identify());
                *cached = Some((generation, identity.clone()));
                identity
            }
        }
    }
}

/// A CA bundle that client certificates are checked against.
#[derive(Clone)]
pub struct CertificateAuthority {
    pub(crate) certificates: Vec<CertificateDer<'static>>,
    verifier: Arc<dyn ClientCertVerifier>,
}

/// Two bundles are alike when they hold the same certificates.
impl PartialEq for CertificateAuthority {
    fn eq(&self, other: &Self) -> bool {
        self.certificates == other.certificates
    }
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CertificateAuthority({} certificates)",
            self.certificates.len()
        )
    }
}

impl CertificateAuthority {
    /// Every certificate of a PEM file.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every certificate of a PEM bundle (at least one).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
        if certificates.is_empty() {
            return Err("no certificate in the CA bundle".into());
        }
        let mut roots = rustls::RootCertStore::empty();
        for c in &certificates {
            roots
                .add(c.clone())
                .map_err(|e| format!("not a usable CA certificate: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| format!("CA bundle: {e}"))?;
        Ok(CertificateAuthority {
            certificates,
            verifier,
        })
    }

    /// Whether `chain` (leaf first) chains to this CA and is valid now.
    pub fn verifies(&self, chain: &[CertificateDer<'static>]) -> bool {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return false;
        };
        self.verifier
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .is_ok()
    }
}

/// Front-proxy authentication: who kube-aggregator says the user is.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestHeader {
    /// The front proxy's client certificate must chain to this CA.
    pub ca: CertificateAuthority,
    /// Allowed common names of that certificate; empty: any.
    pub allowed_names: Vec<String>,
    /// Headers naming the user; the first present wins (`X-Remote-User`).
    pub username_headers: Vec<String>,
    /// Headers giving the user's uid; the first present wins (`X-Remote-Uid`, which
    /// kube-aggregator sends from Kubernetes 1.33). None by default, as in Go: trusted only once
    /// configured (`--requestheader-uid-headers`, or the cluster's ConfigMap).
    pub uid_headers: Vec<String>,
    /// Headers listing groups (`X-Remote-Group`, repeated).
    pub group_headers: Vec<String>,
    /// Prefixes of headers carrying extra attributes (`X-Remote-Extra-<key>`).
    pub extra_headers_prefixes: Vec<String>,
}

impl RequestHeader {
    /// With Kubernetes' default header names.
    pub fn new(ca: CertificateAuthority) -> Self {
        RequestHeader {
            ca,
            allowed_names: Vec::new(),
            username_headers: vec!["X-Remote-User".into()],
            uid_headers: Vec::new(),
            group_headers: vec!["X-Remote-Group".into()],
            extra_headers_prefixes: vec!["X-Remote-Extra-".into()],
        }
    }
}

pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<User>, String>> + Send + 'a>>;

/// Turns a bearer token into a user: `Ok(None)` for a token that is not valid, `Err` when the
/// backend could not say.
pub trait TokenAuthenticator: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, token: &'a str) -> TokenFuture<'a>;
}

/// Front-proxy and client-certificate authentication as configured at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CertificateSettings {
    pub request_header: Option<RequestHeader>,
    /// Client certificates of this CA authenticate as their common name, with their
    /// organizations as groups.
    pub client_ca: Option<CertificateAuthority>,
}

impl CertificateSettings {
    /// The CAs the TLS server asks client certificates of (its `certificate_authorities`
    /// hint: Go clients send no certificate when theirs matches none).
    pub fn client_cas(&self) -> Vec<CertificateDer<'static>> {
        let mut all = Vec::new();
        if let Some(rh) = &self.request_header {
            all.extend(rh.ca.certificates.iter().cloned());
        }
        if let Some(ca) = &self.client_ca {
            all.extend(ca.certificates.iter().cloned());
        }
        all
    }
}

/// [`CertificateSettings`] shared by everything that authenticates, and replaced while the
/// server runs when their source changes — a CA file rewritten, the cluster's
/// `extension-apiserver-authentication` ConfigMap updated — as Go's dynamic CA controllers
/// replace them: the next request is judged by the new CAs, and the TLS server hints them from
/// the next handshake ([`crate::serve::Tls::follow`]). Clones share one setting.
#[derive(Clone)]
pub struct DynamicCertificates {
    inner: Arc<DynamicInner>,
}

struct DynamicInner {
    current: std::sync::RwLock<(u64, Arc<CertificateSettings>)>,
    changes: tokio::sync::watch::Sender<u64>,
}

/// A [`DynamicCertificates`] that does not keep it alive: what background tasks following a
/// source hold, so that they end once the server that used the settings is gone.
#[derive(Clone)]
pub struct WeakCertificates(std::sync::Weak<DynamicInner>);

impl WeakCertificates {
    pub fn upgrade(&self) -> Option<DynamicCertificates> {
        self.0.upgrade().map(|inner| DynamicCertificates { inner })
    }
}

impl Default for DynamicCertificates {
    fn default() -> Self {
        Self::new(CertificateSettings::default())
    }
}

impl std::fmt::Debug for DynamicCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DynamicCertificates")
            .field(&self.current())
            .finish()
    }
}

impl DynamicCertificates {
    pub fn new(settings: CertificateSettings) -> Self {
        DynamicCertificates {
            inner: Arc::new(DynamicInner {
                current: std::sync::RwLock::new((0, Arc::new(settings))),
                changes: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    pub fn downgrade(&self) -> WeakCertificates {
        WeakCertificates(Arc::downgrade(&self.inner))
    }

    /// The settings now.
    pub fn current(&self) -> Arc<CertificateSettings> {
        self.versioned().1
    }

    fn versioned(&self) -> (u64, Arc<CertificateSettings>) {
        let guard = self.inner.current.read().unwrap_or_else(|p| p.into_inner());
        (guard.0, guard.1.clone())
    }

    /// Replaces the settings; `false` (and nothing changes) when they are the same.
    pub fn replace(&self, settings: CertificateSettings) -> bool {
        let generation = {
            let mut guard = self
                .inner
                .current
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if *guard.1 == settings {
                return false;
            }
            guard.0 += 1;
            guard.1 = Arc::new(settings);
            guard.0
        };
        self.inner.changes.send_replace(generation);
        true
    }

    /// Changes from now on: the receiver's value is a generation, bumped by each replacement.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }
}

/// How requests are authenticated. The default authenticates nobody: every request is
/// anonymous.
#[derive(Clone, Default)]
pub struct Authentication {
    /// Front-proxy and client-certificate authentication (replaceable while serving).
    pub certificates: DynamicCertificates,
    pub tokens: Option<Arc<dyn TokenAuthenticator>>,
    /// Requests nobody authenticated are `system:anonymous` (else 401).
    pub anonymous: bool,
}

/// Why a request is not authenticated (a 401).
#[derive(Debug, PartialEq, Eq)]
pub struct Unauthorized(pub String);

impl Authentication {
    /// The CAs the TLS server must accept client certificates from, now.
    pub fn client_cas(&self) -> Vec<CertificateDer<'static>> {
        self.certificates.current().client_cas()
    }

    /// Who made a request, as Go's delegating authenticator decides: the front proxy's
    /// headers, a client certificate and a bearer token are tried in turn and the first that
    /// names a user wins; one that fails (an untrusted certificate, a common name the front
    /// proxy may not have, an invalid token) does not stop the others, but when none names a
    /// user any failure is a 401; only a request that offered nothing is anonymous (if allowed).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: Option<&PeerCertificates>,
    ) -> Result<User, Unauthorized> {
        let (generation, settings) = self.certificates.versioned();
        let identity = peer.map(|p| p.identity(generation, || identify(&settings, &p.chain)));
        let identity = identity.as_deref();
        let mut failures: Vec<String> = Vec::new();
        if let (Some(rh), Some(identity)) = (&settings.request_header, identity) {
            match &identity.front_proxy {
                Some(cn) if !rh.allowed_names.is_empty() && !rh.allowed_names.contains(cn) => {
                    failures.push(format!(
                        "request-header client certificate with common name {cn:?} is not allowed"
                    ));
                }
                // Without a user header the front proxy names nobody: the others decide.
                Some(_) => {
                    if let Some(user) = from_headers(rh, headers) {
                        return Ok(user.authenticated());
                    }
                }
                None => failures.push("the client certificate is not the front proxy's".into()),
            }
        }
        if let (Some(_), Some(identity)) = (&settings.client_ca, identity) {
            match &identity.client {
                Some(Ok((name, groups))) => {
                    return Ok(User {
                        name: name.clone(),
                        groups: groups.clone(),
                        ..User::default()
                    }
                    .authenticated());
                }
                Some(Err(why)) => failures.push(why.clone()),
                None => {
                    failures.push("the client certificate is not verified by the client CA".into())
                }
            }
        }
        if let Some(token) = bearer(headers)
            && let Some(tokens) = &self.tokens
        {
            match tokens.authenticate(&token).await {
                Ok(Some(user)) => return Ok(user.authenticated()),
                Ok(None) => failures.push("invalid bearer token".into()),
                Err(e) => failures.push(format!("token review failed: {e}")),
            }
        }
        // A certificate that proves nothing is a failed credential: 401, never anonymous (Go's
        // anonymous authenticator runs only when the others fail without an error).
        if identity.is_some_and(PeerIdentity::unverified) && failures.is_empty() {
            failures.push("the client certificate is not verified by a configured CA".into());
        }
        if !failures.is_empty() {
            return Err(Unauthorized(failures.join("; ")));
        }
        if self.anonymous {
            return Ok(User::anonymous());
        }
        Err(Unauthorized("no credentials".into()))
    }
}

/// What `chain` proves under `settings`.
fn identify(settings: &CertificateSettings, chain: &[CertificateDer<'static>]) -> PeerIdentity {
    let subject = || chain.first().and_then(subject);
    let front_proxy = settings
        .request_header
        .as_ref()
        .filter(|rh| rh.ca.verifies(chain))
        .map(|_| subject().map(|s| s.0).unwrap_or_default());
    let client = settings
        .client_ca
        .as_ref()
        .filter(|ca| ca.verifies(chain))
        .map(|_| match subject() {
            None => Err("client certificate without a subject".to_string()),
            Some((name, _)) if name.is_empty() => {
                Err("client certificate without a common name".to_string())
            }
            Some(s) => Ok(s),
        });
    PeerIdentity {
        front_proxy,
        client,
    }
}

/// The bearer token, read as Go's `bearertoken` authenticator reads it: the header trimmed,
/// split on single spaces into at most three parts, the second the token (`Bearer  x`, with two
/// spaces, has an empty token: none). The header is taken as the bytes sent: a token that is not
/// ASCII is still a token (the review refuses it: a 401), never an anonymous request.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(http::header::AUTHORIZATION)?;
    let value = String::from_utf8_lossy(raw.as_bytes());
    let mut parts = value.trim().splitn(3, ' ');
    let scheme = parts.next()?;
    let token = parts.next()?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The user the front proxy names, if it names one, read as Go's `headerrequest` reads it:
/// the user and the uid from the first of their headers whose first value is not empty (a
/// header's later values are not read, as Go's `Header.Get`); every non-empty group value;
/// extras by lower-cased, then percent-decoded key (kept as sent when the escapes are invalid).
/// Values are taken as the bytes sent (a UTF-8 name such as `josé` is that name).
fn from_headers(rh: &RequestHeader, headers: &HeaderMap) -> Option<User> {
    let text = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .map(text)
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
    };
    let first_set = |names: &[String]| {
        names
            .iter()
            .filter_map(|h| headers.get(h.as_str()).map(text))
            .find(|v| !v.is_empty())
    };
    let name = first_set(&rh.username_headers)?;
    let uid = first_set(&rh.uid_headers).unwrap_or_default();
    let groups = rh.group_headers.iter().flat_map(|h| values(h)).collect();
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Header names arrive lowercased.
    let prefixes: Vec<String> = rh
        .extra_headers_prefixes
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect();
    for prefix in &prefixes {
        for (header, value) in headers {
            if let Some(key) = header.as_str().strip_prefix(prefix.as_str()) {
                // Keys are percent-encoded by the proxy (they may contain '/').
                extra
                    .entry(unescape_extra_key(&key.to_ascii_lowercase()))
                    .or_default()
                    .push(text(value));
            }
        }
    }
    Some(User {
        name,
        uid,
        groups,
        extra,
    })
}

/// Go's `unescapeExtraKey`: `url.PathUnescape`, or the key as given when it does not decode
/// (an escape is `%` and two hex digits: no sign, which Rust's integer parser would take).
pub(crate) fn unescape_extra_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => return key.to_string(),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The common name and organizations of a certificate's subject. A subject with several common
/// names has the last, as Go's `pkix.Name` reads it (`FillFromRDNSequence`), for the user name and
/// for the front proxy's allowed names alike: a certificate must not be one user here and
/// another in kube-apiserver.
pub fn subject(cert: &CertificateDer<'_>) -> Option<(String, Vec<String>)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = parsed.subject();
    let cn = subject
        .iter_common_name()
        // The last one, even when it is no text this parser reads: never an earlier one
        // instead (the certificate would name another user than Go reads). No name: no user.
        .last()
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let orgs = subject
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .map(str::to_string)
        .collect();
    Some((cn, orgs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_bytes(value).unwrap(),
        );
        h
    }

    /// Go's `bearertoken`: split on single spaces, the second part the token.
    #[test]
    fn bearer_tokens_are_read_as_go_reads_them() {
        assert_eq!(bearer(&auth(b"Bearer abc")).as_deref(), Some("abc"));
        assert_eq!(bearer(&auth(b"bearer abc extra")).as_deref(), Some("abc"));
        assert_eq!(bearer(&auth(b"  Bearer abc  ")).as_deref(), Some("abc"));
        assert_eq!(
            bearer(&auth(b"Bearer  abc")),
            None,
            "two spaces: an empty token"
        );
        assert_eq!(bearer(&auth(b"Basic abc")), None);
        // Not ASCII: still a token for the review to refuse, never an anonymous request.
        assert_eq!(
            bearer(&auth("Bearer jösé".as_bytes())).as_deref(),
            Some("jösé")
        );
    }

    /// Extra keys: lower-cased, then unescaped; kept as sent when an escape is invalid.
    #[test]
    fn extra_keys_are_unescaped_as_go_does() {
        assert_eq!(unescape_extra_key("scopes%41"), "scopesA");
        assert_eq!(unescape_extra_key("acme.com%2fproject"), "acme.com/project");
        assert_eq!(unescape_extra_key("a%2fb%zz"), "a%2fb%zz");
        assert_eq!(unescape_extra_key("trailing%4"), "trailing%4");
        assert_eq!(unescape_extra_key("k%+2f"), "k%+2f", "no sign in an escape");
    }

    /// A CA, and a client certificate it signs whose subject has the common names `cns` in
    /// order (rcgen keeps one value per attribute type: the second goes in under the bare OID).
    fn ca_and_client(cns: &[&str]) -> (CertificateAuthority, PeerCertificates) {
        let values: Vec<rcgen::DnValue> = cns
            .iter()
            .map(|cn| rcgen::DnValue::Utf8String((*cn).into()))
            .collect();
        ca_and_client_with(values)
    }

    /// [`ca_and_client`] with the common names' string types chosen.
    fn ca_and_client_with(cns: Vec<rcgen::DnValue>) -> (CertificateAuthority, PeerCertificates) {
        ca_and_client_until(cns, None)
    }

    /// [`ca_and_client_with`], the client certificate expiring at `until` when given.
    fn ca_and_client_until(
        cns: Vec<rcgen::DnValue>,
        until: Option<time::OffsetDateTime>,
    ) -> (CertificateAuthority, PeerCertificates) {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "test-ca");
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let common_name = [
            rcgen::DnType::CommonName,
            rcgen::DnType::CustomDnType(vec![2, 5, 4, 3]),
        ];
        for (ty, cn) in common_name.into_iter().zip(cns) {
            leaf.distinguished_name.push(ty, cn);
        }
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        if let Some(until) = until {
            leaf.not_before = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
            leaf.not_after = until;
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = leaf
            .signed_by(&key, &rcgen::Issuer::from_params(&ca, &ca_key))
            .unwrap();
        (
            CertificateAuthority::from_pem(ca_cert.pem().as_bytes()).unwrap(),
            PeerCertificates::new(vec![cert.der().clone()]),
        )
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn authenticate(
        settings: CertificateSettings,
        headers: &HeaderMap,
        peer: &PeerCertificates,
    ) -> Result<User, Unauthorized> {
        let authentication = Authentication {
            certificates: DynamicCertificates::new(settings),
            ..Authentication::default()
        };
        futures::executor::block_on(authentication.authenticate(headers, Some(peer)))
    }

    /// A certificate that expires while its connection stays open stops authenticating then:
    /// what a connection's chain proves is not reused past the chain's validity, as Go checks
    /// the chain against the time of every request.
    #[test]
    fn an_expired_certificate_stops_authenticating_on_its_open_connection() {
        let until = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
        let (ca, peer) = ca_and_client_until(
            vec![rcgen::DnValue::Utf8String("carol".into())],
            Some(until),
        );
        let authentication = Authentication {
            certificates: DynamicCertificates::new(CertificateSettings {
                client_ca: Some(ca),
                ..CertificateSettings::default()
            }),
            ..Authentication::default()
        };
        let ask = || {
            futures::executor::block_on(authentication.authenticate(&HeaderMap::new(), Some(&peer)))
        };
        assert_eq!(ask().unwrap().name, "carol");
        std::thread::sleep(std::time::Duration::from_millis(3100));
        assert!(ask().is_err(), "an expired certificate still authenticated");
    }

    /// A subject with several common names is its last one, as Go reads it: the user a client
    /// certificate names.
    #[test]
    fn a_client_certificate_is_its_last_common_name() {
        let (ca, peer) = ca_and_client(&["system:admin", "bob"]);
        assert_eq!(subject(&peer.chain()[0]).unwrap().0, "bob");
        let settings = CertificateSettings {
            client_ca: Some(ca),
            ..CertificateSettings::default()
        };
        let user = authenticate(settings, &HeaderMap::new(), &peer).unwrap();
        assert_eq!(user.name, "bob");
    }

    /// A last common name this parser cannot read as text is no name — never the one before it,
    /// which would make the certificate another user here than in kube-apiserver.
    #[test]
    fn an_unreadable_last_common_name_is_never_the_one_before_it() {
        let bmp = rcgen::string::BmpString::try_from("mallory").unwrap();
        let (_, peer) = ca_and_client_with(vec![
            rcgen::DnValue::Utf8String("system:admin".into()),
            rcgen::DnValue::BmpString(bmp),
        ]);
        let name = subject(&peer.chain()[0]).unwrap().0;
        assert_ne!(name, "system:admin");
    }

    /// The front proxy's allowed names are checked against the last common name too.
    #[test]
    fn the_front_proxys_allowed_names_see_the_last_common_name() {
        let proxied = headers(&[("X-Remote-User", "alice")]);
        for (cns, allowed) in [
            (["front-proxy-client", "intruder"], false),
            (["intruder", "front-proxy-client"], true),
        ] {
            let (ca, peer) = ca_and_client(&cns);
            let mut rh = RequestHeader::new(ca);
            rh.allowed_names = vec!["front-proxy-client".into()];
            let settings = CertificateSettings {
                request_header: Some(rh),
                ..CertificateSettings::default()
            };
            let user = authenticate(settings, &proxied, &peer);
            assert_eq!(user.is_ok(), allowed, "{cns:?}: {user:?}");
        }
    }

    /// The uid comes from the configured uid headers (none by default, as in Go); user and uid
    /// are the first value of the first header that has one, and an empty first value names
    /// nobody, as Go's `Header.Get` reads them.
    #[test]
    fn front_proxy_uid_and_user_headers_are_read_as_go_reads_them() {
        let (ca, _) = ca_and_client(&["front-proxy-client"]);
        let mut rh = RequestHeader::new(ca);
        let sent = headers(&[("X-Remote-User", "alice"), ("X-Remote-Uid", "u-1")]);
        assert_eq!(from_headers(&rh, &sent).unwrap().uid, "");
        rh.uid_headers = vec!["X-Remote-Uid".into()];
        let user = from_headers(&rh, &sent).unwrap();
        assert_eq!((user.name.as_str(), user.uid.as_str()), ("alice", "u-1"));
        let empty_first = headers(&[("X-Remote-User", ""), ("X-Remote-User", "mallory")]);
        assert_eq!(from_headers(&rh, &empty_first), None);
        let two = headers(&[
            ("X-Remote-User", "alice"),
            ("X-Remote-User", "mallory"),
            ("X-Remote-Uid", ""),
            ("X-Remote-Uid", "u-2"),
        ]);
        let user = from_headers(&rh, &two).unwrap();
        assert_eq!((user.name.as_str(), user.uid.as_str()), ("alice", ""));
    }
}
