//! The endpoint and credential flags, defined once and flattened into every
//! subcommand that talks to an endpoint (`run`, `fuzz`, `restore`), and
//! turning them into [`Credentials`] and a [`Target`].

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::{CliError, Exit};
use crate::endpoint::{AccessKeyPair, Credentials, Target};
use crate::profile::format::ErrorShape;
use crate::profile::{self, Profile};

/// Where the endpoint is, which dialect it speaks and whose credentials to use.
#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// The service-catalog URL (for nova: https://HOST/v2.1/PROJECT_ID).
    /// Without it, the embedded reference server is started.
    #[arg(long, env = "METACONFORM_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The project the token is scoped to (default: the endpoint's last
    /// path segment, when the dialect's endpoint ends with the project).
    #[arg(long, env = "OS_PROJECT_ID")]
    pub project_id: Option<String>,
    /// Project member's token.
    #[arg(long, env = "OS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read the project member's token from this file (wins over
    /// --token and OS_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Huawei access key: the project member's requests are signed with
    /// AK/SK (`SDK-HMAC-SHA256`, spec §7.4) instead of carrying a token.
    /// With --endpoint only; needs --sk or --sk-file; wins over the token.
    /// `run` and `restore` only for now: `fuzz` cannot sign and refuses it.
    #[arg(long, env = "HUAWEICLOUD_SDK_AK", hide_env_values = true)]
    pub ak: Option<String>,
    /// The secret key of --ak. Never printed.
    #[arg(long, env = "HUAWEICLOUD_SDK_SK", hide_env_values = true)]
    pub sk: Option<String>,
    /// Read the secret key of --ak from this file (wins over --sk and
    /// HUAWEICLOUD_SDK_SK).
    #[arg(long)]
    pub sk_file: Option<PathBuf>,
    /// Admin token (admin cases, reaching `error`, bypassing locks).
    #[arg(long, env = "METACONFORM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Read-only token of the same project.
    #[arg(long, env = "METACONFORM_READER_TOKEN", hide_env_values = true)]
    pub reader_token: Option<String>,
    /// Token of a second project (isolation cases).
    #[arg(long, env = "METACONFORM_ALT_TOKEN", hide_env_values = true)]
    pub alt_token: Option<String>,
    /// The second project's id, with --alt-token (isolation cases address
    /// its servers under it).
    #[arg(long, env = "METACONFORM_ALT_PROJECT_ID")]
    pub alt_project_id: Option<String>,
    /// Dialect id (nova, nova-legacy, ecs-os, ecs-v1, bms-os, bms-v1) or a
    /// profile file.
    #[arg(long, default_value = "nova")]
    pub dialect: String,
    /// Directory whose `<id>.yaml` profiles replace the built-in ones.
    /// (`--dialects-dir`, fuzz's old name, is still accepted.)
    #[arg(long, value_name = "DIR", alias = "dialects-dir")]
    pub dialect_dir: Option<PathBuf>,
    /// Not a flag: the clouds.yaml secrets (password, application-credential
    /// secret) a Keystone token was obtained with, never to be printed.
    #[arg(skip)]
    pub cloud_secrets: Vec<crate::endpoint::auth::Secret>,
}

/// The servers a target may touch, as flags give them.
#[derive(Debug, Default)]
pub struct ServerSet {
    pub servers: Vec<String>,
    pub alt_servers: Vec<String>,
    pub fresh_servers: Vec<String>,
}

impl EndpointArgs {
    /// The dialect profile `--dialect` (and `--dialect-dir`) name.
    pub fn profile(&self) -> Result<Profile, CliError> {
        profile::resolve(&self.dialect, self.dialect_dir.as_deref())
            .map_err(|d| CliError(Exit::Usage, d.to_string()))
    }

    /// The credentials the flags give: the member's token (or AK/SK pair)
    /// is required, the other identities are optional.
    pub fn credentials(&self, profile: &Profile) -> Result<Credentials, CliError> {
        let access_key = access_key(self, profile)?;
        let token = match (&self.token_file, &self.token) {
            _ if access_key.is_some() => None,
            (Some(file), _) => Some(read_secret(file, "--token-file")?),
            (None, Some(t)) => Some(t.clone()),
            (None, None) => {
                return Err(CliError(
                    Exit::Usage,
                    "error: --endpoint needs a token: pass --token-file FILE, set OS_TOKEN, or --token (Huawei dialects: or --ak with --sk/--sk-file)"
                        .into(),
                ));
            }
        };
        Ok(Credentials {
            token,
            access_key,
            admin_token: self.admin_token.clone(),
            reader_token: self.reader_token.clone(),
            alt_token: self.alt_token.clone(),
            alt_project_id: self.alt_project_id.clone(),
            secrets: self.cloud_secrets.clone(),
            renewal: None,
        })
    }

    /// `--project-id`, else the endpoint's last path segment where the
    /// dialect's endpoint ends with the project. A `--project-id` that
    /// contradicts that segment is refused: every case would address one
    /// project in the URL and another in its checks.
    pub fn project_id(&self, endpoint: &str, profile: &Profile) -> Result<String, CliError> {
        match &self.project_id {
            Some(p) => match project_from_endpoint(endpoint, profile) {
                Some(in_url) if in_url != *p => Err(CliError(
                    Exit::Usage,
                    format!(
                        "error: --project-id (or OS_PROJECT_ID) is {p}, but the endpoint {endpoint} is project {in_url}'s: drop --project-id, or pass the endpoint of project {p}"
                    ),
                )),
                _ => Ok(p.clone()),
            },
            None => project_from_endpoint(endpoint, profile).ok_or_else(|| {
                CliError(
                    Exit::Usage,
                    format!("error: cannot tell the project id from {endpoint}: pass --project-id"),
                )
            }),
        }
    }

    /// The remote target at `endpoint` with `servers`.
    pub fn target(
        &self,
        endpoint: &str,
        profile: Profile,
        servers: ServerSet,
    ) -> Result<Target, CliError> {
        check_url(endpoint)?;
        let credentials = self.credentials(&profile)?;
        let project_id = self.project_id(endpoint, &profile)?;
        Ok(Target {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            project_id,
            profile,
            credentials,
            servers: servers.servers,
            alt_servers: servers.alt_servers,
            fresh_servers: servers.fresh_servers,
            disposable: false,
            tls: Default::default(),
        })
    }
}

/// `--endpoint` must be an absolute http(s) URL with a host.
pub fn check_url(endpoint: &str) -> Result<(), CliError> {
    let refuse = |why: &str| {
        CliError(
            Exit::Usage,
            format!(
                "error: --endpoint {endpoint:?} {why}: pass the compute endpoint of the service catalog, e.g. https://compute.example/v2.1/PROJECT_ID"
            ),
        )
    };
    let url = reqwest::Url::parse(endpoint).map_err(|e| refuse(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(&format!(
            "is a {} URL, not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("has no host"));
    }
    Ok(())
}

/// The project member's AK/SK from `--ak` and `--sk`/`--sk-file`, if the
/// user gave one; only Huawei dialects accept signed requests.
fn access_key(args: &EndpointArgs, profile: &Profile) -> Result<Option<AccessKeyPair>, CliError> {
    let usage = |m: String| CliError(Exit::Usage, m);
    let sk = match (&args.sk_file, &args.sk) {
        (Some(file), _) => Some(read_secret(file, "--sk-file")?),
        (None, sk) => sk.clone(),
    };
    let (ak, sk) = match (&args.ak, sk) {
        (None, None) => return Ok(None),
        (Some(ak), Some(sk)) => (ak.clone(), sk),
        (Some(_), None) => {
            return Err(usage(
                "error: --ak needs its secret key: pass --sk-file FILE, set HUAWEICLOUD_SDK_SK, or --sk".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(usage(
                "error: a secret key without an access key: pass --ak or set HUAWEICLOUD_SDK_AK"
                    .into(),
            ));
        }
    };
    if profile.error_shape() != ErrorShape::Huawei {
        // Often just HUAWEICLOUD_SDK_* left in the environment: not fatal.
        eprintln!(
            "warning: ignoring --ak/--sk (or HUAWEICLOUD_SDK_AK/SK): AK/SK signing is Huawei's (spec §7.4) and {} takes tokens",
            profile.id()
        );
        return Ok(None);
    }
    Ok(Some(AccessKeyPair { ak, sk }))
}

/// A secret read from `file` (trimmed), for the flag `flag`.
fn read_secret(file: &Path, flag: &str) -> Result<String, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError(
            Exit::Usage,
            format!("error: cannot read {flag} {}: {e}", file.display()),
        )
    })?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(CliError(
            Exit::Usage,
            format!("error: {flag} {} is empty", file.display()),
        ));
    }
    Ok(secret)
}

/// The last path segment of `endpoint`, when the dialect's catalog endpoint
/// ends with the project (`/v2.1/{project}`).
fn project_from_endpoint(endpoint: &str, profile: &Profile) -> Option<String> {
    if !profile.file.endpoint_path.ends_with("{project}") {
        return None;
    }
    let url = reqwest::Url::parse(endpoint).ok()?;
    let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then(|| last.to_string())
}
