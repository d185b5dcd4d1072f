//! Which TLS versions and cipher suites the server offers: k8s.io/apiserver's
//! `--tls-min-version` and `--tls-cipher-suites`, read with Go's names so that a manifest written
//! for kube-apiserver (or a CIS benchmark's list) works unchanged.
//!
//! rustls speaks TLS 1.2 and 1.3 with AEAD suites and ECDHE key exchange only. A name Go knows
//! but rustls cannot offer (CBC, RC4, 3DES, RSA key exchange) is left out with a warning: the
//! server offers a subset of what was asked, never more. A name nobody knows is an error, as it
//! is for kube-apiserver. As in Go, the list restricts TLS 1.2 only: TLS 1.3's suites are not
//! configurable (each is as strong as the others), and the order given does not matter.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::cipher_suite as ring_suites;
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};

/// The lowest TLS version the server accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMinVersion {
    #[default]
    Tls12,
    Tls13,
}

/// What `--tls-min-version` and `--tls-cipher-suites` ask for, checked.
#[derive(Clone, Debug, Default)]
pub struct TlsPolicy {
    min_version: TlsMinVersion,
    /// The TLS 1.2 suites offered; `None`: rustls's defaults.
    tls12_suites: Option<Vec<SupportedCipherSuite>>,
    /// Why some of what was asked for is not offered, for the caller to log.
    warnings: Vec<String>,
}

/// Go's TLS 1.2 suite names that rustls offers.
static OFFERED: [(&str, &SupportedCipherSuite); 6] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        &ring_suites::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        &ring_suites::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        &ring_suites::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        &ring_suites::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        &ring_suites::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        &ring_suites::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// Go's other names of two of them.
const ALIASES: [(&str, &str); 2] = [
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    ),
];

fn offered(name: &str) -> Option<SupportedCipherSuite> {
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, n)| n);
    OFFERED.iter().find(|(n, _)| *n == name).map(|(_, s)| **s)
}

/// Go's TLS 1.3 suite names: accepted, always offered.
const TLS13_NAMES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// The rest of Go's names (`tls.CipherSuites()` and `tls.InsecureCipherSuites()`): suites
/// rustls does not implement.
const NOT_OFFERED_NAMES: [&str; 16] = [
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

impl TlsPolicy {
    /// Reads `--tls-min-version` (`VersionTLS10` … `VersionTLS13`, as kube-apiserver; empty:
    /// the default, TLS 1.2) and `--tls-cipher-suites` (Go's names; none: rustls's defaults).
    pub fn from_flags(min_version: Option<&str>, cipher_suites: &[String]) -> Result<Self, String> {
        let mut warnings = Vec::new();
        let min_version = match min_version.map(str::trim).unwrap_or("") {
            "" | "VersionTLS12" => TlsMinVersion::Tls12,
            "VersionTLS13" => TlsMinVersion::Tls13,
            old @ ("VersionTLS10" | "VersionTLS11") => {
                warnings.push(format!(
                    "--tls-min-version={old}: TLS 1.0 and 1.1 are not offered (rustls speaks TLS 1.2 and 1.3), so the minimum is TLS 1.2"
                ));
                TlsMinVersion::Tls12
            }
            other => {
                return Err(format!(
                    "--tls-min-version: unknown version {other:?} (one of VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13)"
                ));
            }
        };
        let names: Vec<&str> = cipher_suites
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Ok(TlsPolicy {
                min_version,
                tls12_suites: None,
                warnings,
            });
        }
        let mut suites: Vec<SupportedCipherSuite> = Vec::new();
        let (mut left_out, mut unknown) = (Vec::new(), Vec::new());
        let mut tls12_asked = false;
        for name in names {
            if let Some(suite) = offered(name) {
                tls12_asked = true;
                if !suites.iter().any(|s| s.suite() == suite.suite()) {
                    suites.push(suite);
                }
            } else if NOT_OFFERED_NAMES.contains(&name) {
                tls12_asked = true;
                left_out.push(name);
            } else if !TLS13_NAMES.contains(&name) {
                unknown.push(name);
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "--tls-cipher-suites: unknown cipher suite {} (Go's names, as kube-apiserver takes them; offered: {})",
                unknown.join(", "),
                Self::offered_names().join(", ")
            ));
        }
        if !left_out.is_empty() {
            warnings.push(format!(
                "--tls-cipher-suites: {} not offered (rustls implements no CBC, RC4, 3DES or RSA key-exchange suite)",
                left_out.join(", ")
            ));
        }
        if tls12_asked && suites.is_empty() && min_version == TlsMinVersion::Tls12 {
            return Err(format!(
                "--tls-cipher-suites: none of the TLS 1.2 suites listed can be offered; list one of {}, or set --tls-min-version=VersionTLS13",
                Self::offered_names().join(", ")
            ));
        }
        if min_version == TlsMinVersion::Tls13 && tls12_asked {
            warnings.push(
                "--tls-cipher-suites: TLS 1.2 suites have no effect with --tls-min-version=VersionTLS13".into(),
            );
        }
        Ok(TlsPolicy {
            min_version,
            tls12_suites: Some(suites),
            warnings,
        })
    }

    /// The Go names of the TLS 1.2 suites the server can offer.
    pub fn offered_names() -> Vec<&'static str> {
        OFFERED.iter().map(|(n, _)| *n).collect()
    }

    /// What was asked for but is not offered, one message each (log them).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn min_version(&self) -> TlsMinVersion {
        self.min_version
    }

    /// The crypto provider offering the chosen suites: every TLS 1.3 suite, and the TLS 1.2
    /// ones asked for (all of ring's when none were).
    pub(crate) fn provider(&self) -> Arc<CryptoProvider> {
        let mut provider = rustls::crypto::ring::default_provider();
        if let Some(tls12) = &self.tls12_suites {
            provider.cipher_suites.retain(|s| match s {
                SupportedCipherSuite::Tls13(_) => true,
                SupportedCipherSuite::Tls12(_) => tls12.iter().any(|t| t.suite() == s.suite()),
            });
        }
        Arc::new(provider)
    }

    /// The protocol versions offered.
    pub(crate) fn versions(&self) -> &'static [&'static SupportedProtocolVersion] {
        static FROM_12: [&SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static ONLY_13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self.min_version {
            TlsMinVersion::Tls12 => &FROM_12,
            TlsMinVersion::Tls13 => &ONLY_13,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(policy: &TlsPolicy) -> Vec<String> {
        policy
            .provider()
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect()
    }

    #[test]
    fn no_flags_offer_rustls_defaults_from_tls_1_2() {
        let policy = TlsPolicy::from_flags(None, &[]).unwrap();
        assert_eq!(policy.min_version(), TlsMinVersion::Tls12);
        assert_eq!(policy.versions().len(), 2);
        assert_eq!(
            policy.provider().cipher_suites.len(),
            rustls::crypto::ring::default_provider().cipher_suites.len()
        );
        assert!(policy.warnings().is_empty());
    }

    #[test]
    fn a_go_list_restricts_tls_1_2_and_keeps_tls_1_3() {
        // A CIS-benchmark style list as written for kube-apiserver.
        let list: Vec<String> = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
            .split(',')
            .map(String::from)
            .collect();
        let policy = TlsPolicy::from_flags(Some("VersionTLS12"), &list).unwrap();
        let offered = names(&policy);
        assert!(offered.contains(&"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()));
        assert!(offered.contains(&"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".to_string()));
        // Go's other name of a suite is the same suite.
        let alias = TlsPolicy::from_flags(
            None,
            &["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into()],
        )
        .unwrap();
        assert!(names(&alias).contains(&"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".to_string()));
        assert!(!offered.iter().any(|n| n.contains("ECDSA")
            || n.contains("AES_256_GCM_SHA384") && n.starts_with("TLS_ECDHE")));
        assert_eq!(
            offered.iter().filter(|n| n.starts_with("TLS13_")).count(),
            3
        );
        assert_eq!(policy.warnings().len(), 1);
        assert!(policy.warnings()[0].contains("TLS_RSA_WITH_AES_256_GCM_SHA384"));
        assert!(policy.warnings()[0].contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
    }

    #[test]
    fn unknown_names_and_versions_are_errors() {
        let e = TlsPolicy::from_flags(None, &["TLS_MADE_UP".into()]).unwrap_err();
        assert!(e.contains("unknown cipher suite TLS_MADE_UP"), "{e}");
        let e = TlsPolicy::from_flags(Some("TLS1.2"), &[]).unwrap_err();
        assert!(e.contains("unknown version \"TLS1.2\""), "{e}");
    }

    #[test]
    fn only_suites_rustls_lacks_cannot_serve_tls_1_2() {
        let e = TlsPolicy::from_flags(None, &["TLS_RSA_WITH_AES_128_CBC_SHA".into()]).unwrap_err();
        assert!(
            e.contains("none of the TLS 1.2 suites listed can be offered"),
            "{e}"
        );
        // With TLS 1.3 as the minimum, the TLS 1.2 list has no effect.
        let policy = TlsPolicy::from_flags(
            Some("VersionTLS13"),
            &["TLS_RSA_WITH_AES_128_CBC_SHA".into()],
        )
        .unwrap();
        assert_eq!(policy.versions().len(), 1);
        // Only TLS 1.3 names: TLS 1.2 has no suite left, as in Go.
        let policy = TlsPolicy::from_flags(None, &["TLS_AES_128_GCM_SHA256".into()]).unwrap();
        assert!(names(&policy).iter().all(|n| n.starts_with("TLS13_")));
    }

    #[test]
    fn old_minimums_are_raised_to_tls_1_2_with_a_warning() {
        let policy = TlsPolicy::from_flags(Some("VersionTLS10"), &[]).unwrap();
        assert_eq!(policy.min_version(), TlsMinVersion::Tls12);
        assert!(policy.warnings()[0].contains("TLS 1.0 and 1.1 are not offered"));
    }
}
