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
    // Valid for a year from an hour ago, as Go's `GenerateSelfSignedCertKey` makes them (an
    // hour back for clocks running a little behind), not for ever.
    let valid_from = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let valid_until = valid_from + time::Duration::days(365);
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| err("CA certificate", &e))?;
    ca_params.not_before = valid_from;
    ca_params.not_after = valid_until;
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
    params.not_before = valid_from;
    params.not_after = valid_until;
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

/// What the certificate and key files hold: compared whole, as Go's dynamic certificate
/// content compares them (a pair replaced under its old modification times is still new).
type Stamps = Option<(Vec<u8>, Vec<u8>)>;

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
    Some((
        std::fs::read(&files.cert).ok()?,
        std::fs::read(&files.key).ok()?,
    ))
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated certificates last a year from an hour ago, as Go's self-signed ones.
    #[test]
    fn generated_certificates_last_a_year() {
        let dir = tempfile::tempdir().unwrap();
        let files = self_signed(dir.path(), &["localhost".into()]).unwrap();
        let pem = std::fs::read(&files.cert).unwrap();
        let now = unix_now() as i64;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.unwrap();
            let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).unwrap();
            let validity = parsed.validity();
            let from = validity.not_before.timestamp();
            let until = validity.not_after.timestamp();
            assert!((now - 3700..=now - 3500).contains(&from), "{from} vs {now}");
            assert!(
                (until - from - 365 * 86400).abs() < 5,
                "valid for {} s",
                until - from
            );
        }
    }

    /// A pair replaced under its old modification times is still reloaded: the files' contents
    /// are compared, not their times.
    #[test]
    fn a_pair_replaced_under_its_old_times_is_reloaded() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let files = self_signed(a.path(), &["localhost".into()]).unwrap();
        let other = self_signed(b.path(), &["localhost".into()]).unwrap();
        let cert = ReloadingCert::new(files.clone()).unwrap();
        assert!(!cert.reload_if_changed().unwrap());
        let before = cert.key();
        for (from, to) in [(&other.cert, &files.cert), (&other.key, &files.key)] {
            let modified = std::fs::metadata(to).unwrap().modified().unwrap();
            std::fs::copy(from, to).unwrap();
            std::fs::File::options()
                .write(true)
                .open(to)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        }
        assert!(cert.reload_if_changed().unwrap());
        assert_ne!(before.cert, cert.key().cert);
        assert!(!cert.reload_if_changed().unwrap());
    }
}
