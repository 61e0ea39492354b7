//! Authentication against a real cloud as OpenStack users already configure
//! it (spec §7.1, §7.2): which cloud and settings ([`clouds`]), the Keystone
//! v3 token request ([`keystone`]), the compute endpoint in the service
//! catalog ([`catalog`]), tokens that renew themselves before they expire
//! ([`token_source`]), the TLS settings of the HTTP client ([`tls`]) and the
//! microversion range the compute API announces ([`discovery`]).
//!
//! Secrets (passwords, application-credential secrets, tokens) are held in
//! [`Secret`], whose `Debug` and `Display` never show them; error messages
//! never quote them.

pub mod catalog;
pub mod clouds;
pub mod discovery;
#[cfg(test)]
mod fake;
pub mod keystone;
pub mod tls;
pub mod token_source;

use std::fmt;

/// A secret string: `Debug` and `Display` print `<redacted>`; read it with
/// [`Secret::expose`] where it is sent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the request that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `text` with every non-empty secret of `secrets` replaced by
/// `<redacted>`: for messages that quote what a server answered.
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.expose(), "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(
            scrub("bad password hunter2!", &[&s]),
            "bad password <redacted>!"
        );
    }
}

/// What authenticating gives every request to an endpoint: the TLS
/// settings, and the source that renews the member's token when it came
/// from Keystone.
#[derive(Debug, Default)]
pub struct Connection {
    pub tls: tls::TlsConfig,
    pub renewal: Option<std::sync::Arc<token_source::TokenSource>>,
}
