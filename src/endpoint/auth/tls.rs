//! TLS settings of the HTTP client: a private CA bundle (`cacert`,
//! `OS_CACERT`, `--cacert`), a client certificate (`cert` + `key`), and
//! turning verification off (`verify: false`, `insecure: true`,
//! `--insecure`).
//!
//! As with Python's `requests` (`verify=<bundle>`), a CA bundle replaces
//! the system roots rather than adding to them. The PEM files are read
//! once, when the settings are made, so a bad path fails before anything
//! is sent; [`TlsConfig::apply`] then configures every reqwest client
//! [`crate::endpoint::http::Transport`] builds.

use std::fmt;
use std::path::{Path, PathBuf};

/// How the client checks (and presents) certificates. The default checks
/// servers against the system's roots.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// Accept any server certificate.
    pub insecure: bool,
    ca: Option<(PathBuf, Vec<reqwest::Certificate>)>,
    identity: Option<(PathBuf, reqwest::Identity)>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("insecure", &self.insecure)
            .field("cacert", &self.ca.as_ref().map(|(p, _)| p))
            .field("cert", &self.identity.as_ref().map(|(p, _)| p))
            .finish()
    }
}

/// A PEM file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a usable PEM {what}: {problem}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        problem: String,
    },
    #[error(
        "a client certificate needs its key: set key (OS_KEY) next to cert (OS_CERT), or put both in the cert file"
    )]
    KeyWithoutCert,
}

impl TlsConfig {
    /// Read `cacert` (a PEM bundle) and the client certificate `cert` with
    /// its `key` (or both in `cert`).
    pub fn load(
        cacert: Option<&Path>,
        cert: Option<&Path>,
        key: Option<&Path>,
        insecure: bool,
    ) -> Result<TlsConfig, TlsError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                what,
                path: path.to_path_buf(),
                source,
            })
        };
        let ca = match cacert {
            Some(path) => {
                let pem = read("CA bundle (cacert)", path)?;
                let certs =
                    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| TlsError::Pem {
                        what: "CA bundle (cacert)",
                        path: path.to_path_buf(),
                        problem: e.to_string(),
                    })?;
                if certs.is_empty() {
                    return Err(TlsError::Pem {
                        what: "CA bundle (cacert)",
                        path: path.to_path_buf(),
                        problem: "no CERTIFICATE block".into(),
                    });
                }
                Some((path.to_path_buf(), certs))
            }
            None => None,
        };
        let identity = match (cert, key) {
            (None, None) => None,
            (None, Some(_)) => return Err(TlsError::KeyWithoutCert),
            (Some(cert), key) => {
                let mut pem = read("client certificate (cert)", cert)?;
                if let Some(key) = key {
                    pem.push(b'\n');
                    pem.extend(read("client key (key)", key)?);
                }
                // The message of a bad key never quotes it.
                let identity = reqwest::Identity::from_pem(&pem).map_err(|_| TlsError::Pem {
                    what: "client certificate and key (cert, key)",
                    path: cert.to_path_buf(),
                    problem: "expected a CERTIFICATE and a PRIVATE KEY block".into(),
                })?;
                Some((cert.to_path_buf(), identity))
            }
        };
        Ok(TlsConfig {
            insecure,
            ca,
            identity,
        })
    }

    /// Whether this is the default (system roots, no client certificate).
    pub fn is_default(&self) -> bool {
        !self.insecure && self.ca.is_none() && self.identity.is_none()
    }

    /// Configure `builder` with these settings.
    pub fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if let Some((_, certs)) = &self.ca {
            builder = builder.tls_certs_only(certs.iter().cloned());
        }
        if let Some((_, identity)) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        if self.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_bad_files_name_the_path() {
        let e =
            TlsConfig::load(Some(Path::new("/nonexistent/ca.pem")), None, None, false).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let dir = std::env::temp_dir().join(format!("metaconform-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("ca.pem");
        std::fs::write(&bad, "not a certificate\n").unwrap();
        let e = TlsConfig::load(Some(&bad), None, None, false).unwrap_err();
        assert!(
            e.to_string().contains("is not a usable PEM CA bundle"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(
            TlsConfig::load(None, None, Some(Path::new("k.pem")), false),
            Err(TlsError::KeyWithoutCert)
        ));
    }

    #[test]
    fn a_pem_bundle_loads_and_builds_a_client() {
        // The system's bundle, where the machine has one.
        let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
        if !bundle.is_file() {
            return;
        }
        let tls = TlsConfig::load(Some(bundle), None, None, false).unwrap();
        assert!(!tls.is_default());
        assert!(tls.apply(reqwest::Client::builder()).build().is_ok());
        assert!(format!("{tls:?}").contains("ca-certificates.crt"));
    }

    #[test]
    fn insecure_builds_a_client() {
        let tls = TlsConfig::load(None, None, None, true).unwrap();
        assert!(!tls.is_default());
        assert!(tls.apply(reqwest::Client::builder()).build().is_ok());
        assert!(TlsConfig::default().is_default());
        assert_eq!(
            format!("{:?}", TlsConfig::default()),
            "TlsConfig { insecure: false, cacert: None, cert: None }"
        );
    }
}
