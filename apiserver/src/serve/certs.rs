//! Serving certificates: loaded from PEM files, reloaded when the files change, or generated
//! self-signed at start (rcgen) when none is given.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate chain and its private key, as PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertKeyFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The files a generated certificate is written to in its directory: `apiserver.crt`,
/// `apiserver.key` (mode 0600) and `ca.crt`, the CA that signed it, for clients to trust (an
/// `APIService`'s `caBundle`, a kubeconfig's `certificate-authority`).
pub const GENERATED_CERT: &str = "apiserver.crt";
pub const GENERATED_KEY: &str = "apiserver.key";
pub const GENERATED_CA: &str = "ca.crt";

/// The serving certificate in `dir`, generated (with a CA of its own) for `names` (DNS names
/// and IP addresses) if `dir` has none yet; an existing one is used as it is, as kube's
/// `--cert-dir` does.
pub fn self_signed(dir: &Path, names: &[String]) -> Result<CertKeyFiles, String> {
    let files = CertKeyFiles {
        cert: dir.join(GENERATED_CERT),
        key: dir.join(GENERATED_KEY),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    if names.is_empty() {
        return Err("a generated serving certificate needs at least one name".into());
    }
    let err = |what: &str, e: &dyn std::fmt::Display| format!("generating the {what}: {e}");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| err("CA certificate", &e))?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("{}-ca@{}", names[0], unix_now()),
    );
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = rcgen::KeyPair::generate().map_err(|e| err("CA key", &e))?;
    let ca = ca_params
        .self_signed(&ca_key)
        .map_err(|e| err("CA certificate", &e))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| err("serving certificate (bad name?)", &e))?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("{}@{}", names[0], unix_now()),
    );
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = rcgen::KeyPair::generate().map_err(|e| err("serving key", &e))?;
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| err("serving certificate", &e))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |path: &Path, contents: &str, private: bool| -> Result<(), String> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        use std::io::Write;
        options
            .open(path)
            .and_then(|mut f| f.write_all(contents.as_bytes()))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    write(&dir.join(GENERATED_CA), &ca.pem(), false)?;
    write(&files.key, &key.serialize_pem(), true)?;
    // The chain: the serving certificate, then its CA.
    write(&files.cert, &format!("{}{}", cert.pem(), ca.pem()), false)?;
    Ok(files)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads a certificate chain and key into rustls' form.
pub fn load(files: &CertKeyFiles) -> Result<Arc<CertifiedKey>, String> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("{}: {e}", files.key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("{} and {}: {e}", files.cert.display(), files.key.display()))?;
    Ok(Arc::new(certified))
}

/// When the certificate and key files were last modified.
type Stamps = Option<(SystemTime, SystemTime)>;

/// The serving certificate, swapped in place when its files change.
#[derive(Debug)]
pub struct ReloadingCert {
    files: CertKeyFiles,
    current: RwLock<(Arc<CertifiedKey>, Stamps)>,
}

impl ReloadingCert {
    pub fn new(files: CertKeyFiles) -> Result<Self, String> {
        let key = load(&files)?;
        let stamp = stamps(&files);
        Ok(ReloadingCert {
            files,
            current: RwLock::new((key, stamp)),
        })
    }

    /// Reloads if either file changed since the last load; a file that does not load keeps the
    /// old certificate (and is reported). Returns whether a new certificate is in use.
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let stamp = stamps(&self.files);
        if stamp == self.current.read().unwrap_or_else(|p| p.into_inner()).1 {
            return Ok(false);
        }
        let key = load(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = (key, stamp);
        Ok(true)
    }

    fn key(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }
}

fn stamps(files: &CertKeyFiles) -> Stamps {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((m(&files.cert)?, m(&files.key)?))
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }
}
