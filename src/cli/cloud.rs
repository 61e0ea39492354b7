//! The cloud flags `run` and `fuzz` share (`--os-cloud`, `--os-region`,
//! `--os-interface`, `--cacert`, `--insecure`, `--microversion`), and what
//! they do: pick a cloud from clouds.yaml or `OS_*` variables, get a
//! Keystone token, find the compute endpoint and the project, and hand
//! them to the subcommand as if `--endpoint`, `--project-id` and `--token`
//! had been given (spec §7.1, §7.2).
//!
//! A cloud is used when one is named (`--os-cloud`, `OS_CLOUD`) or the
//! environment has `OS_AUTH_URL`, and no member token was given (`--token`,
//! `OS_TOKEN`): a given token is used as it is, with `--endpoint`.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;

use crate::endpoint::auth::Connection;
use crate::endpoint::auth::catalog::{self, Interface};
use crate::endpoint::auth::clouds::{self, Cloud, Config, Env};
use crate::endpoint::auth::discovery;
use crate::endpoint::auth::keystone::{AuthRequest, Token};
use crate::endpoint::auth::tls::TlsConfig;
use crate::endpoint::auth::token_source::TokenSource;
use crate::endpoint::http::Transport;
use crate::model::microversion::Microversion;
use crate::profile::Profile;

/// Authenticate with a cloud as OpenStack clients do.
#[derive(Debug, Clone, Default, Args)]
pub struct CloudArgs {
    /// Cloud of clouds.yaml (found via OS_CLIENT_CONFIG_FILE, ./,
    /// ~/.config/openstack, /etc/openstack) to get a Keystone token from;
    /// the compute endpoint and project then come from the token. Without
    /// it, OS_AUTH_URL and the other OS_* variables make the cloud.
    #[arg(long, env = "OS_CLOUD", value_name = "NAME", hide_env_values = true)]
    pub os_cloud: Option<String>,
    /// Region of the cloud (picks among its regions and catalog endpoints).
    #[arg(long, env = "OS_REGION_NAME", value_name = "REGION")]
    pub os_region: Option<String>,
    /// Catalog interface of the compute endpoint: public (default),
    /// internal or admin (publicURL, internalURL, adminURL accepted).
    #[arg(long, env = "OS_INTERFACE", value_name = "INTERFACE")]
    pub os_interface: Option<String>,
    /// PEM bundle of the CAs to trust instead of the system's (Keystone
    /// and the endpoint).
    #[arg(long, env = "OS_CACERT", value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates (also `verify: false` or
    /// `insecure: true` in clouds.yaml).
    #[arg(long, env = "OS_INSECURE")]
    pub insecure: bool,
    /// The highest microversion the endpoint serves (`2.N`), or `latest`
    /// to read it from the endpoint's version document. Cases needing
    /// more are skipped and the model expects 406 above it.
    #[arg(long, value_name = "2.N|latest")]
    pub microversion: Option<MicroversionArg>,
}

/// `--microversion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MicroversionArg {
    Latest,
    Exactly(Microversion),
}

impl FromStr for MicroversionArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("latest") {
            return Ok(MicroversionArg::Latest);
        }
        Microversion::parse(text)
            .map(MicroversionArg::Exactly)
            .ok_or_else(|| format!("'{text}' is not a microversion: write 2.N or latest"))
    }
}

/// What authenticating gave: where to send requests, as whom.
#[derive(Debug)]
pub struct Session {
    pub cloud: Cloud,
    /// The endpoint in the dialect's form (`…/v2.1/{project}`).
    pub endpoint: String,
    pub project_id: String,
    pub token: Token,
    /// Renews `token` before it expires, for the rest of the run.
    pub renewal: Arc<TokenSource>,
}

/// Why the cloud flags could not be honoured: bad settings (exit 2) or a
/// Keystone or endpoint that would not cooperate (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Auth(String),
}

/// The flags a subcommand already has that a cloud fills in.
pub struct Remote<'a> {
    /// `--endpoint`: kept when given (it overrides the catalog).
    pub endpoint: &'a mut Option<String>,
    /// `--project-id`: must match the token's project when given.
    pub project_id: &'a mut Option<String>,
    /// `--token`: a given token is used as it is, without Keystone.
    pub token: &'a mut Option<String>,
    /// `--token-file` was given (a token, too).
    pub token_file: bool,
}

/// How long Keystone and the version document may take.
const KEYSTONE_TIMEOUT: Duration = Duration::from_secs(30);

impl CloudArgs {
    /// Whether the flags and `env` ask for a cloud: one is named, or
    /// `OS_AUTH_URL` is set.
    pub fn wanted(&self, env: &Env) -> bool {
        self.os_cloud.as_deref().is_some_and(|c| !c.is_empty())
            || env.get("OS_AUTH_URL").is_some_and(|u| !u.is_empty())
    }

    /// The TLS settings of the flags, over those of `cloud`.
    pub fn tls(&self, cloud: Option<&Cloud>) -> Result<TlsConfig, String> {
        let cacert = self
            .cacert
            .clone()
            .or_else(|| cloud.and_then(|c| c.cacert.clone()));
        let insecure = self.insecure || cloud.is_some_and(|c| !c.verify);
        TlsConfig::load(
            cacert.as_deref(),
            cloud.and_then(|c| c.cert.as_deref()),
            cloud.and_then(|c| c.key.as_deref()),
            insecure,
        )
        .map_err(|e| e.to_string())
    }

    /// Authenticate if [`CloudArgs::wanted`] and no token was given, and
    /// fill in `remote`; apply `--microversion` to `profile`. Returns the
    /// TLS settings every request must use and the member token's renewal.
    pub async fn fill(
        &self,
        env: &Env,
        dirs: &[PathBuf],
        remote: Remote<'_>,
        profile: &mut Profile,
    ) -> Result<Connection, CloudError> {
        let token_given = remote.token.is_some() || remote.token_file;
        let mut renewal = None;
        let tls = if self.wanted(env) && !token_given {
            let (session, tls) = self
                .connect(env, dirs, remote.endpoint.as_deref(), profile)
                .await?;
            if let Some(given) = remote.project_id.as_deref()
                && given != session.project_id
            {
                return Err(CloudError::Config(format!(
                    "--project-id (or OS_PROJECT_ID) is {given}, but the token of {} is scoped to project {}: drop one of them",
                    session.cloud.describe(),
                    session.project_id
                )));
            }
            eprintln!("{}", describe(&session));
            *remote.endpoint = Some(session.endpoint);
            *remote.project_id = Some(session.project_id);
            *remote.token = Some(session.token.value.expose().to_string());
            renewal = Some(session.renewal);
            tls
        } else {
            if self.os_cloud.is_some() && token_given && remote.endpoint.is_none() {
                return Err(CloudError::Config(
                    "a cloud is named (--os-cloud or OS_CLOUD) but a token is given too (--token or OS_TOKEN): drop the token to authenticate with the cloud, or pass --endpoint to use the token as it is".into(),
                ));
            }
            match remote.endpoint {
                // The embedded mock speaks plain http: a stale OS_CACERT
                // must not stop it.
                None => TlsConfig::default(),
                Some(_) => self.tls(None).map_err(CloudError::Config)?,
            }
        };
        self.apply_microversion(
            profile,
            remote.endpoint.as_deref(),
            remote.token.as_deref(),
            &tls,
        )
        .await?;
        Ok(Connection { tls, renewal })
    }

    /// Pick the cloud, get a token, find the compute endpoint. `endpoint`
    /// (`--endpoint`) replaces the catalog's, like
    /// `compute_endpoint_override`.
    pub async fn connect(
        &self,
        env: &Env,
        dirs: &[PathBuf],
        endpoint: Option<&str>,
        profile: &Profile,
    ) -> Result<(Session, TlsConfig), CloudError> {
        let config_error = |e: &dyn std::fmt::Display| CloudError::Config(e.to_string());
        let config = Config::load(env, dirs).map_err(|e| config_error(&e))?;
        let cloud = config
            .select(self.os_cloud.as_deref(), self.os_region.as_deref())
            .map_err(|e| config_error(&e))?;
        let tls = self.tls(Some(&cloud)).map_err(CloudError::Config)?;
        let request = AuthRequest::from_cloud(&cloud).map_err(|e| config_error(&e))?;
        let transport =
            Transport::with_tls(KEYSTONE_TIMEOUT, &tls).map_err(|e| config_error(&e))?;
        let token = request
            .send(&transport)
            .await
            .map_err(|e| CloudError::Auth(e.to_string()))?;
        let renewal = TokenSource::new(request, transport).with_token(token.clone());
        let project_id = token.project_id.clone().ok_or_else(|| {
            CloudError::Auth(format!(
                "{}: Keystone's token names no project; scope it with project_id or project_name",
                cloud.describe()
            ))
        })?;
        let catalog_url = match endpoint.or(cloud.compute_endpoint_override.as_deref()) {
            Some(url) => url.to_string(),
            None => {
                let interface = match self.os_interface.as_deref().or(cloud.interface.as_deref()) {
                    Some(text) => text.parse::<Interface>().map_err(CloudError::Config)?,
                    None => Interface::Public,
                };
                let region = self.os_region.as_deref().or(cloud.region_name.as_deref());
                catalog::pick(&token.catalog, "compute", interface, region)
                    .map_err(|e| CloudError::Auth(format!("{}: {e}", cloud.describe())))?
                    .url
                    .clone()
            }
        };
        let endpoint = if endpoint.is_some() {
            catalog_url
        } else {
            catalog::dialect_endpoint(&catalog_url, &project_id, &profile.file.endpoint_path)
        };
        Ok((
            Session {
                cloud,
                endpoint,
                project_id,
                token,
                renewal: Arc::new(renewal),
            },
            tls,
        ))
    }

    /// `--microversion` applied to `profile`: its served range capped at
    /// the given maximum, or at the one `endpoint` announces for `latest`
    /// (no `endpoint`, the embedded mock: the dialect's own maximum).
    pub async fn apply_microversion(
        &self,
        profile: &mut Profile,
        endpoint: Option<&str>,
        token: Option<&str>,
        tls: &TlsConfig,
    ) -> Result<(), CloudError> {
        let Some(asked) = self.microversion else {
            return Ok(());
        };
        let Some((lo, hi)) = profile.rules.microversions else {
            return Err(CloudError::Config(format!(
                "--microversion: the {} dialect has no microversions",
                profile.id()
            )));
        };
        let max = match (asked, endpoint) {
            (MicroversionArg::Exactly(v), _) => v,
            (MicroversionArg::Latest, None) => hi,
            (MicroversionArg::Latest, Some(endpoint)) => {
                let transport = Transport::with_tls(KEYSTONE_TIMEOUT, tls)
                    .map_err(|e| CloudError::Config(e.to_string()))?;
                let root = catalog::compute_root(endpoint);
                let (_, max) = discovery::microversion_range(&transport, root, token)
                    .await
                    .map_err(|e| CloudError::Auth(format!("--microversion latest: {e}")))?;
                eprintln!("note: the endpoint serves microversions up to {max}");
                max
            }
        };
        if max < lo {
            return Err(CloudError::Config(format!(
                "--microversion {max} is below the {} dialect's minimum {lo}",
                profile.id()
            )));
        }
        if max > hi {
            eprintln!(
                "note: microversion {max} is above the {} dialect's {hi}; testing up to {hi}",
                profile.id()
            );
        }
        profile.rules.microversions = Some((lo, max.min(hi)));
        Ok(())
    }
}

/// The standard search directories for this process (current directory,
/// HOME's and the system's config dirs).
pub fn standard_dirs(env: &Env) -> Vec<PathBuf> {
    let cwd = std::env::current_dir().ok();
    clouds::search_dirs(env, cwd.as_deref())
}

/// One line for the terminal: which cloud, which endpoint, until when.
pub fn describe(session: &Session) -> String {
    let until = session
        .token
        .expires_at
        .and_then(|t| t.duration_since(SystemTime::now()).ok())
        .map_or(String::new(), |left| {
            let minutes = left.as_secs() / 60;
            format!(", token valid for {minutes} min (renewed before it expires)")
        });
    format!(
        "authenticated with {}: compute endpoint {}, project {}{until}",
        session.cloud.describe(),
        session.endpoint,
        session.project_id
    )
}

/// `--os-cloud` / `OS_*` for any command with endpoint flags: authenticate
/// and fill `--endpoint`, `--project-id` and `--token` where they are not
/// given; the TLS settings either way. Configuration errors exit 2,
/// Keystone and catalog failures 3.
pub async fn connect(
    cloud: &CloudArgs,
    flags: &mut crate::cli::common::EndpointArgs,
    profile: &mut crate::profile::Profile,
) -> Result<Connection, crate::cli::CliError> {
    use crate::cli::{CliError, Exit};
    let env = crate::endpoint::auth::clouds::process_env();
    let remote = Remote {
        endpoint: &mut flags.endpoint,
        project_id: &mut flags.project_id,
        token: &mut flags.token,
        token_file: flags.token_file.is_some(),
    };
    cloud
        .fill(&env, &standard_dirs(&env), remote, profile)
        .await
        .map_err(|e| match e {
            CloudError::Config(m) => CliError(Exit::Usage, format!("error: {m}")),
            CloudError::Auth(m) => CliError(Exit::Unreachable, format!("error: {m}")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microversion_flag_parses() {
        assert_eq!("latest".parse(), Ok(MicroversionArg::Latest));
        assert_eq!(
            "2.60".parse(),
            Ok(MicroversionArg::Exactly(Microversion::new(2, 60)))
        );
        assert!("2.x".parse::<MicroversionArg>().is_err());
    }

    #[tokio::test]
    async fn microversion_caps_the_dialect_range() {
        let mut profile = crate::profile::builtin("nova").unwrap();
        let (lo, hi) = profile.rules.microversions.unwrap();
        let args = CloudArgs {
            microversion: Some("2.60".parse().unwrap()),
            ..CloudArgs::default()
        };
        let tls = TlsConfig::default();
        args.apply_microversion(&mut profile, None, None, &tls)
            .await
            .unwrap();
        assert_eq!(
            profile.rules.microversions,
            Some((lo, Microversion::new(2, 60)))
        );
        // `latest` without an endpoint (the embedded mock) is the dialect's.
        let mut profile = crate::profile::builtin("nova").unwrap();
        let latest = CloudArgs {
            microversion: Some(MicroversionArg::Latest),
            ..CloudArgs::default()
        };
        latest
            .apply_microversion(&mut profile, None, None, &tls)
            .await
            .unwrap();
        assert_eq!(profile.rules.microversions, Some((lo, hi)));
        // Dialects without microversions refuse the flag.
        let mut v1 = crate::profile::builtin("ecs-v1").unwrap();
        assert!(
            args.apply_microversion(&mut v1, None, None, &tls)
                .await
                .is_err()
        );
    }

    #[test]
    fn a_cloud_is_wanted_when_named_or_when_os_auth_url_is_set() {
        let none = CloudArgs::default();
        assert!(!none.wanted(&Env::new()));
        let env: Env = [("OS_AUTH_URL".to_string(), "https://k".to_string())].into();
        assert!(none.wanted(&env));
        let named = CloudArgs {
            os_cloud: Some("c".into()),
            ..CloudArgs::default()
        };
        assert!(named.wanted(&Env::new()));
    }
}
