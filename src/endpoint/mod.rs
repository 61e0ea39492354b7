//! The endpoint under test as a value: where it is, which dialect it speaks,
//! whose credentials to use and which servers it may touch.
//!
//! Nothing here is global: a run builds a [`Target`] (from flags, from the
//! embedded server's startup line, later from clouds.yaml) and passes it down.

pub mod auth;
pub mod error_body;
pub mod flavors;
pub mod http;
pub mod journal;
pub mod lease;
pub mod lossless_json;
pub mod preflight;
pub mod provision;
pub mod raw;
pub mod requests;
pub mod safekeeping;
pub mod secrets;
pub mod servers;
pub mod sign;
pub mod throttle;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::cases::format::Identity;
use crate::profile::Profile;

/// A Huawei access key and its secret (spec §7.4). `Debug` never shows
/// the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyPair {
    pub ak: String,
    pub sk: String,
}

impl AccessKeyPair {
    /// The borrowed form [`sign`] takes.
    pub fn key(&self) -> sign::AccessKey<'_> {
        sign::AccessKey {
            ak: &self.ak,
            sk: &self.sk,
        }
    }
}

impl std::fmt::Debug for AccessKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyPair")
            .field("ak", &self.ak)
            .field("sk", &"<redacted>")
            .finish()
    }
}

/// Credentials for the identities a case may use (spec §7.3, §7.4).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Project member of `project_id`.
    pub token: Option<String>,
    /// The project member's AK/SK: when set, the member's requests are
    /// signed (`SDK-HMAC-SHA256`, with `X-Project-Id`) instead of carrying
    /// `token`. The other identities always use tokens.
    pub access_key: Option<AccessKeyPair>,
    pub admin_token: Option<String>,
    pub reader_token: Option<String>,
    /// Member of a second project, for isolation cases.
    pub alt_token: Option<String>,
    pub alt_project_id: Option<String>,
    /// Other secrets the command holds and must never print: the
    /// clouds.yaml password, application-credential secret or token a
    /// Keystone token was obtained with ([`secrets::Scrubber`]).
    pub secrets: Vec<auth::Secret>,
    /// Where the member's token came from Keystone: the source that renews
    /// it before it expires (the transport swaps it into each request).
    pub renewal: Option<std::sync::Arc<auth::token_source::TokenSource>>,
}

impl Credentials {
    /// The access key that signs `identity`'s requests: the project
    /// member's, when the user gave one (every other identity uses a token).
    pub fn signing_key(&self, identity: Identity) -> Option<&AccessKeyPair> {
        match identity {
            Identity::Owner => self.access_key.as_ref(),
            _ => None,
        }
    }

    /// The token of `identity`: `Ok(None)` for [`Identity::None`] and for a
    /// member who signs with AK/SK instead, `Err` with the flag to pass when
    /// the user did not give it.
    pub fn token_of(&self, identity: Identity) -> Result<Option<&str>, &'static str> {
        if self.signing_key(identity).is_some() {
            return Ok(None);
        }
        let (token, flag) = match identity {
            Identity::None => return Ok(None),
            Identity::Owner => (&self.token, "--token"),
            Identity::Admin => (&self.admin_token, "--admin-token"),
            Identity::Reader => (&self.reader_token, "--reader-token"),
            Identity::Alt => (&self.alt_token, "--alt-token"),
        };
        token.as_deref().map(Some).ok_or(flag)
    }
}

/// An endpoint to test.
#[derive(Debug, Clone)]
pub struct Target {
    /// The service-catalog URL: for `nova`, `http://host:port/v2.1/<project>`;
    /// for Huawei v1 the host root.
    pub endpoint: String,
    pub project_id: String,
    pub profile: Profile,
    pub credentials: Credentials,
    /// Servers the run may use (owned by `project_id`).
    pub servers: Vec<String>,
    /// Servers of the alt project (isolation cases).
    pub alt_servers: Vec<String>,
    /// Servers no case has written to, each used by one case only: how a
    /// dialect that cannot empty a server's metadata is tested (see
    /// [`Target::can_reset_metadata`]).
    pub fresh_servers: Vec<String>,
    /// The target is disposable (the embedded server): replace-all and state
    /// changes are always allowed.
    pub disposable: bool,
    /// How the HTTP client checks certificates (`--cacert`, `--insecure`,
    /// clouds.yaml `cacert`/`verify`).
    pub tls: auth::tls::TlsConfig,
}

#[cfg(test)]
impl Target {
    /// A disposable target of `profile` at `endpoint`: one server, no
    /// credentials (unit tests add what they need).
    pub(crate) fn for_tests(endpoint: &str, profile: Profile) -> Target {
        Target {
            endpoint: endpoint.into(),
            project_id: "p".into(),
            profile,
            credentials: Default::default(),
            servers: vec!["s".into()],
            alt_servers: vec![],
            fresh_servers: vec![],
            disposable: true,
            tls: Default::default(),
        }
    }
}

impl Target {
    /// The target a startup line describes (also for `metaconform serve` run
    /// as a separate process).
    pub fn from_startup(info: &crate::serve::StartupInfo, profile: Profile) -> Target {
        Target {
            endpoint: info.endpoint.clone(),
            project_id: info.project_id.clone(),
            profile,
            credentials: Credentials {
                token: Some(info.token.clone()),
                access_key: None,
                admin_token: Some(info.admin_token.clone()),
                reader_token: Some(info.reader_token.clone()),
                alt_token: Some(info.alt_token.clone()),
                alt_project_id: Some(info.alt_project_id.clone()),
                secrets: Vec::new(),
                renewal: None,
            },
            servers: info.servers.clone(),
            alt_servers: info.alt_servers.clone(),
            fresh_servers: Vec::new(),
            disposable: true,
            tls: Default::default(),
        }
    }

    /// Expand a profile path (`/servers/{server}/metadata/{key}`) against the
    /// endpoint. `key` is percent-encoded here, every byte but the unreserved
    /// set, so `/` and `%` in keys reach the server as data.
    pub fn url(&self, path: &str, server: &str, key: Option<&str>) -> String {
        let mut out = path
            .replace("{project}", &self.project_id)
            .replace("{server}", server);
        if let Some(key) = key {
            out = out.replace("{key}", &encode_segment(key));
        }
        format!("{}{}", self.endpoint.trim_end_matches('/'), out)
    }

    /// Whether the runner can empty a server's user metadata between
    /// cases: with delete-one, or with replace-all where that cannot remove
    /// system keys (the dialect owns none, or the target is disposable).
    /// Where it cannot, every case that runs needs a fresh server.
    pub fn can_reset_metadata(&self) -> bool {
        use crate::model::pipeline::Op;
        self.replace_clears_metadata() || self.profile.op(&Op::Delete(String::new())).is_some()
    }

    /// Whether replace-all may set a server's whole user map (spec §2.7
    /// safety rule): the dialect has it and owns no system keys it would
    /// delete, or the target is disposable (the embedded server).
    pub fn replace_clears_metadata(&self) -> bool {
        use crate::model::pipeline::Op;
        self.profile.op(&Op::Replace).is_some()
            && (self.profile.file.system_keys.is_empty() || self.disposable)
    }

    /// Who `identity` is on the wire: its token, or, for a member who signs
    /// with AK/SK, the `X-Project-Id` header the signature covers (spec
    /// §7.4). The transport signs what carries a [`Credentials::signing_key`].
    pub fn sender<'s>(
        &'s self,
        identity: Identity,
        microversion: Option<&'s str>,
    ) -> requests::Sender<'s> {
        let signed = self.credentials.signing_key(identity).is_some();
        requests::Sender {
            token: self.credentials.token_of(identity).ok().flatten(),
            microversion,
            project_header: signed.then_some(self.project_id.as_str()),
        }
    }

    /// This target reached through `connection` (TLS settings, token
    /// renewal).
    pub fn connected(mut self, connection: auth::Connection) -> Target {
        self.tls = connection.tls;
        self.credentials.renewal = connection.renewal;
        self
    }

    /// A transport to this target: its TLS settings, its member token
    /// renewed, each request bounded by `timeout`.
    pub fn transport(
        &self,
        timeout: std::time::Duration,
    ) -> Result<http::Transport, http::TransportError> {
        Ok(http::Transport::with_tls(timeout, &self.tls)?
            .renewing(self.credentials.renewal.clone()))
    }

    /// The URL of a server resource (`/servers/{server}` etc.), relative to
    /// the endpoint.
    pub fn server_url(&self, path: &str, server: &str) -> String {
        self.url(path, server, None)
    }
}

/// Every byte but the RFC 3986 unreserved set `A-Za-z0-9-_.~`: what path
/// segments and the AK/SK canonical request (spec §7.4) encode.
pub const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode one path segment (RFC 3986 unreserved characters stay).
pub fn encode_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, NOT_UNRESERVED).to_string()
}
