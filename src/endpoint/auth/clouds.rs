//! Which cloud, with which settings: `clouds.yaml`, `secure.yaml` and the
//! `OS_*` variables, resolved the way openstacksdk resolves them (spec §7.2,
//! `openstack/config/loader.py`).
//!
//! This module owns the search order of the files, the deep merge of
//! `secure.yaml` into `clouds.yaml`, the `envvars` cloud made from `OS_*`
//! variables, which cloud is picked, the region, and the old key spellings
//! openstacksdk still accepts. It reads files but never the process
//! environment or `HOME` itself: callers pass an [`Env`] and the directories
//! to search ([`search_dirs`] gives the standard ones), so tests control
//! both.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Secret;

/// Environment variables by name: the process's ([`process_env`]) or a
/// test's.
pub type Env = BTreeMap<String, String>;

/// Variables that pick a cloud or a file but do not, alone, make the
/// `envvars` cloud exist.
pub const SELECTORS: &[&str] = &[
    "OS_CLOUD",
    "OS_REGION_NAME",
    "OS_CLIENT_CONFIG_FILE",
    "OS_CLIENT_SECURE_FILE",
    "OS_CLOUD_NAME",
];

/// The default name of the cloud made from `OS_*` variables.
pub const ENV_CLOUD: &str = "envvars";

/// The process environment (variables whose name and value are UTF-8).
pub fn process_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The directories searched for `clouds.*` and `secure.*`, in order: `cwd`,
/// the XDG user config dir, `~/.config/openstack` (or
/// `$SNAP_REAL_HOME/.config/openstack`), the XDG site dirs, `/etc/openstack`.
/// Repeats are dropped.
pub fn search_dirs(env: &Env, cwd: Option<&Path>) -> Vec<PathBuf> {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let home = var("HOME").map(PathBuf::from);
    let mut dirs: Vec<PathBuf> = Vec::new();
    dirs.extend(cwd.map(Path::to_path_buf));
    let xdg_home = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    dirs.extend(xdg_home.map(|d| d.join("openstack")));
    let unix_home = var("SNAP_REAL_HOME").map(PathBuf::from).or(home);
    dirs.extend(unix_home.map(|h| h.join(".config").join("openstack")));
    let site = var("XDG_CONFIG_DIRS").map_or("/etc/xdg", String::as_str);
    dirs.extend(
        site.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join("openstack")),
    );
    dirs.push(PathBuf::from("/etc/openstack"));
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let new = !seen.contains(d);
        seen.push(d.clone());
        new
    });
    dirs
}

const SUFFIXES: &[&str] = &["yaml", "yml", "json"];

/// What went wrong finding or reading the cloud configuration. Messages
/// name the file and say what to do; they never quote a setting's value.
#[derive(Debug, thiserror::Error)]
pub enum CloudsError {
    #[error("{var} names {}, which does not exist: fix the path or unset {var}", path.display())]
    MissingOverride { var: &'static str, path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: {message}: fix the syntax of this file", path.display(), at(*line, *column))]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {what}", path.display())]
    Shape { path: PathBuf, what: String },
    #[error(
        "OS_CLOUD_NAME is '{name}', but {} defines a cloud of that name too: rename one of them",
        path.display()
    )]
    EnvNameClash { name: String, path: PathBuf },
    #[error("no cloud named '{name}': {known}")]
    UnknownCloud { name: String, known: Known },
    #[error("which cloud? {known}; pick one with --os-cloud NAME or OS_CLOUD=NAME")]
    Ambiguous { known: Known },
    #[error(
        "no cloud is configured: no clouds.yaml, clouds.yml or clouds.json in {searched}, and no OS_* variables; write a clouds.yaml there (or point OS_CLIENT_CONFIG_FILE at one), or set OS_AUTH_URL and the other OS_* variables"
    )]
    NoCloud { searched: String },
    #[error(
        "{cloud}: region '{region}' is not one of its regions ({known}); region names are case-sensitive: fix --os-region / OS_REGION_NAME or the cloud's region_name / regions"
    )]
    UnknownRegion {
        cloud: String,
        region: String,
        known: String,
    },
    #[error("{cloud}: '{key}' {problem}")]
    Setting {
        cloud: String,
        key: String,
        problem: String,
    },
}

fn at(line: usize, column: usize) -> String {
    if line > 0 {
        format!(":{line}:{column}")
    } else {
        String::new()
    }
}

/// The clouds that exist, for an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub names: Vec<String>,
    pub file: Option<PathBuf>,
    /// Where the file was looked for, when none was found.
    pub searched: String,
}

impl fmt::Display for Known {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed = if self.names.is_empty() {
            "none".to_string()
        } else {
            self.names.join(", ")
        };
        match &self.file {
            Some(file) => write!(
                f,
                "the clouds are {listed} (from {} and OS_* variables)",
                file.display()
            ),
            None => write!(
                f,
                "the clouds are {listed} (no clouds.yaml, .yml or .json in {})",
                self.searched
            ),
        }
    }
}

/// How the token is requested (`auth_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// `password`, `v3password`.
    Password,
    /// `v3applicationcredential`.
    ApplicationCredential,
    /// `token`, `v3token`: re-scope an existing token.
    Token,
}

impl AuthType {
    pub fn parse(text: &str) -> Option<AuthType> {
        match text.to_ascii_lowercase().as_str() {
            "password" | "v3password" => Some(AuthType::Password),
            "v3applicationcredential" | "applicationcredential" | "application_credential" => {
                Some(AuthType::ApplicationCredential)
            }
            "token" | "v3token" => Some(AuthType::Token),
            _ => None,
        }
    }
}

/// The `auth:` settings of a cloud after the old spellings are folded in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSettings {
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: Option<Secret>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    pub application_credential_secret: Option<Secret>,
    pub token: Option<Secret>,
}

impl AuthSettings {
    /// The secrets among the settings (password, application-credential
    /// secret, token), for scrubbing outputs.
    pub fn secrets(&self) -> Vec<Secret> {
        [
            &self.password,
            &self.application_credential_secret,
            &self.token,
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect()
    }
}

/// Where a cloud's settings came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        clouds: PathBuf,
        secure: Option<PathBuf>,
    },
    /// Made from `OS_*` variables.
    Environment,
}

/// One cloud, resolved: what [`super::keystone`] needs to get a token and
/// [`super::catalog`] to find the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    pub name: String,
    pub origin: Origin,
    /// A vendor profile (`profile`, old name `cloud`); not expanded here.
    pub profile: Option<String>,
    pub auth_type: AuthType,
    pub auth: AuthSettings,
    pub region_name: Option<String>,
    /// As written (`public`, `internal`, `admin` or a legacy `publicURL`…).
    pub interface: Option<String>,
    pub identity_api_version: Option<String>,
    pub compute_api_version: Option<String>,
    pub compute_endpoint_override: Option<String>,
    /// `false` when `verify: false` or `insecure: true`.
    pub verify: bool,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl Cloud {
    /// `cloud 'NAME' (FILE)` or `cloud 'envvars' (OS_* variables)`.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::File { clouds, .. } => {
                format!("cloud '{}' ({})", self.name, clouds.display())
            }
            Origin::Environment => format!("cloud '{}' (OS_* variables)", self.name),
        }
    }

    /// Where to fix a setting: the file, or the variable.
    pub fn fix_hint(&self, key: &str, var: &str) -> String {
        match &self.origin {
            Origin::File { clouds, .. } => {
                format!("set {key} for '{}' in {}", self.name, clouds.display())
            }
            Origin::Environment => format!("set {var}"),
        }
    }
}

/// The configuration found: the first clouds file, the first secure file
/// merged into it, and the `envvars` cloud. `Debug` shows names, never
/// settings (they hold secrets until resolved into [`Cloud`]).
#[derive(Clone)]
pub struct Config {
    pub clouds_file: Option<PathBuf>,
    pub secure_file: Option<PathBuf>,
    /// Where the files were searched, for messages.
    searched: Vec<PathBuf>,
    clouds: Map<String, Value>,
    env_cloud: Option<(String, Map<String, Value>)>,
    /// `OS_CLOUD`.
    os_cloud: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("clouds_file", &self.clouds_file)
            .field("secure_file", &self.secure_file)
            .field("clouds", &self.names())
            .finish()
    }
}

impl Config {
    /// Find and read the files (`OS_CLIENT_CONFIG_FILE` /
    /// `OS_CLIENT_SECURE_FILE` first, then `clouds.{yaml,yml,json}` /
    /// `secure.{…}` in each of `dirs`; the first file found wins) and build
    /// the `envvars` cloud from `env`.
    pub fn load(env: &Env, dirs: &[PathBuf]) -> Result<Config, CloudsError> {
        let clouds_file = find_file("clouds", "OS_CLIENT_CONFIG_FILE", env, dirs)?;
        let secure_file = find_file("secure", "OS_CLIENT_SECURE_FILE", env, dirs)?;
        let mut tree = match &clouds_file {
            Some(path) => read_tree(path)?,
            None => Map::new(),
        };
        if let Some(path) = &secure_file {
            merge(&mut tree, read_tree(path)?);
        }
        let shown = clouds_file.clone().or_else(|| secure_file.clone());
        let clouds = match tree.remove("clouds") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(clouds)) => clouds,
            Some(_) => {
                return Err(CloudsError::Shape {
                    path: shown.unwrap_or_default(),
                    what: "'clouds' must be a mapping of cloud names to settings".into(),
                });
            }
        };
        for (name, cloud) in &clouds {
            if !cloud.is_object() {
                return Err(CloudsError::Shape {
                    path: shown.clone().unwrap_or_default(),
                    what: format!("cloud '{name}' must be a mapping of settings"),
                });
            }
        }
        let env_name = env
            .get("OS_CLOUD_NAME")
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| ENV_CLOUD.to_string());
        if clouds.contains_key(&env_name) && env.contains_key("OS_CLOUD_NAME") {
            return Err(CloudsError::EnvNameClash {
                name: env_name,
                path: shown.unwrap_or_default(),
            });
        }
        let env_cloud = env_cloud(env).map(|c| (env_name, c));
        Ok(Config {
            clouds_file,
            secure_file,
            searched: dirs.to_vec(),
            clouds,
            env_cloud,
            os_cloud: env.get("OS_CLOUD").filter(|c| !c.is_empty()).cloned(),
        })
    }

    /// Every cloud's name: the file's, then the `envvars` cloud.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.clouds.keys().cloned().collect();
        names.extend(self.env_cloud.iter().map(|(n, _)| n.clone()));
        names
    }

    /// Whether the `OS_*` variables make a cloud (some variable besides the
    /// selectors is set).
    pub fn has_env_cloud(&self) -> bool {
        self.env_cloud.is_some()
    }

    /// The `envvars` cloud's auth URL, if it has one (`OS_AUTH_URL`).
    pub fn env_auth_url(&self) -> Option<&str> {
        self.env_cloud
            .as_ref()
            .and_then(|(_, c)| c.get("auth_url"))
            .and_then(Value::as_str)
    }

    /// The cloud's name that applies: `requested` (`--os-cloud`), else
    /// `OS_CLOUD`, else the `envvars` cloud if there is one, else the only
    /// cloud of the file.
    pub fn default_name(&self, requested: Option<&str>) -> Result<String, CloudsError> {
        if let Some(name) = requested
            .filter(|n| !n.is_empty())
            .or(self.os_cloud.as_deref())
        {
            return Ok(name.to_string());
        }
        if let Some((name, _)) = &self.env_cloud {
            return Ok(name.clone());
        }
        match self.clouds.len() {
            1 => Ok(self.clouds.keys().next().cloned().unwrap_or_default()),
            0 => Err(CloudsError::NoCloud {
                searched: self.searched(),
            }),
            _ => Err(CloudsError::Ambiguous {
                known: self.known(),
            }),
        }
    }

    fn known(&self) -> Known {
        Known {
            names: self.names(),
            file: self.clouds_file.clone(),
            searched: self.searched(),
        }
    }

    fn searched(&self) -> String {
        self.searched
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The cloud [`Config::default_name`] picks, resolved for `region`
    /// (`--os-region`; default: the cloud's first region).
    pub fn select(
        &self,
        requested: Option<&str>,
        region: Option<&str>,
    ) -> Result<Cloud, CloudsError> {
        let name = self.default_name(requested)?;
        let (raw, origin) = match &self.env_cloud {
            Some((env_name, cloud)) if *env_name == name => (cloud.clone(), Origin::Environment),
            _ => match self.clouds.get(&name).and_then(Value::as_object) {
                Some(cloud) => (
                    cloud.clone(),
                    Origin::File {
                        clouds: self.clouds_file.clone().unwrap_or_default(),
                        secure: self.secure_file.clone(),
                    },
                ),
                None => {
                    return Err(CloudsError::UnknownCloud {
                        name,
                        known: self.known(),
                    });
                }
            },
        };
        resolve(name, origin, raw, region.filter(|r| !r.is_empty()))
    }
}

/// The first existing file of `OS_…_FILE`, then `stem.{yaml,yml,json}` in
/// each directory.
fn find_file(
    stem: &str,
    var: &'static str,
    env: &Env,
    dirs: &[PathBuf],
) -> Result<Option<PathBuf>, CloudsError> {
    if let Some(path) = env.get(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(CloudsError::MissingOverride { var, path });
        }
        return Ok(Some(path));
    }
    Ok(dirs
        .iter()
        .flat_map(|d| SUFFIXES.iter().map(move |s| d.join(format!("{stem}.{s}"))))
        .find(|p| p.is_file()))
}

/// A clouds or secure file as a JSON tree (YAML by serde-saphyr, `.json` by
/// serde_json).
fn read_tree(path: &Path) -> Result<Map<String, Value>, CloudsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CloudsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let json = path.extension().is_some_and(|e| e == "json");
    let value: Value = if json {
        serde_json::from_str(&text).map_err(|e| CloudsError::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?
    } else if text.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(&text).map_err(|e| {
            let (line, column) = e
                .location()
                .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
            CloudsError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message: first_line(&e.to_string()),
            }
        })?
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Err(CloudsError::Shape {
            path: path.to_path_buf(),
            what: "the file is empty: write `clouds:` with at least one cloud, or remove it".into(),
        }),
        _ => Err(CloudsError::Shape {
            path: path.to_path_buf(),
            what: "the file must be a mapping with a top-level `clouds:` key".into(),
        }),
    }
}

/// serde_json's message without its ` at line L column C` tail (the error
/// shows the position itself).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The first line of a serde-saphyr message (later lines quote the source,
/// which may hold a secret).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// Deep-merge `over` into `base`: mappings merge key by key, anything else
/// in `over` replaces (openstacksdk `_util.merge_clouds`).
pub fn merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The `envvars` cloud: every `OS_*` variable but `OS_TEST*`, `OS_STD*` and
/// `OS_LOG*`, as a lower-case key without `OS_`; none when only selectors
/// are set.
fn env_cloud(env: &Env) -> Option<Map<String, Value>> {
    let keys: Vec<&String> = env
        .keys()
        .filter(|k| k.starts_with("OS_"))
        .filter(|k| {
            !["OS_TEST", "OS_STD", "OS_LOG"]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .collect();
    if keys.iter().all(|k| SELECTORS.contains(&k.as_str())) {
        return None;
    }
    Some(
        keys.into_iter()
            .map(|k| (k[3..].to_ascii_lowercase(), Value::String(env[k].clone())))
            .collect(),
    )
}

/// The auth-plugin options that live under `auth:` (and may be written at
/// the top level of a cloud, as the `envvars` cloud always does).
const AUTH_KEYS: &[&str] = &[
    "auth_url",
    "username",
    "user_id",
    "password",
    "project_id",
    "project_name",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret",
    "token",
];

/// Of [`AUTH_KEYS`], those where a top-level value beats the one under
/// `auth:` (openstacksdk `_fix_backwards_auth`: top-level values may be
/// overrides); for the others `auth:` wins (`_validate_auth`).
const TOP_LEVEL_WINS: &[&str] = &[
    "project_id",
    "project_name",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "token",
];

/// Old spellings and their current names.
const ALIASES: &[(&str, &str)] = &[
    ("tenant_id", "project_id"),
    ("tenant_name", "project_name"),
    ("auth_token", "token"),
    ("auth_plugin", "auth_type"),
    ("endpoint_type", "interface"),
];

fn normalize_keys(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(k, v)| (k.replace('-', "_"), v))
        .collect()
}

/// Rename [`ALIASES`] in `map`; a current name already present wins.
fn fold_aliases(map: &mut Map<String, Value>) {
    for (old, new) in ALIASES {
        if let Some(value) = map.remove(*old) {
            map.entry(new.to_string()).or_insert(value);
        }
    }
}

/// A raw cloud mapping → [`Cloud`].
fn resolve(
    name: String,
    origin: Origin,
    raw: Map<String, Value>,
    region: Option<&str>,
) -> Result<Cloud, CloudsError> {
    let what = match &origin {
        Origin::File { clouds, .. } => format!("cloud '{name}' ({})", clouds.display()),
        Origin::Environment => format!("cloud '{name}' (OS_* variables)"),
    };
    let setting = |key: &str, problem: &str| CloudsError::Setting {
        cloud: what.clone(),
        key: key.to_string(),
        problem: problem.to_string(),
    };
    let mut top = normalize_keys(raw);
    let mut auth = match top.remove("auth") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => normalize_keys(a),
        Some(_) => return Err(setting("auth", "must be a mapping of auth settings")),
    };

    // Regions: `regions: [a, {name, values}]` or `region_name: a[,b]`.
    let regions = known_regions(&top).map_err(|p| setting("regions", &p))?;
    let chosen = match region {
        Some(wanted) if !regions.is_empty() => regions
            .iter()
            .find(|(n, _)| n == wanted)
            .cloned()
            .ok_or_else(|| CloudsError::UnknownRegion {
            cloud: what.clone(),
            region: wanted.to_string(),
            known: regions
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?,
        Some(wanted) => (wanted.to_string(), Map::new()),
        None => regions.first().cloned().unwrap_or_default(),
    };
    top.remove("regions");
    for (key, value) in normalize_keys(chosen.1) {
        match (key.as_str(), value) {
            ("auth", Value::Object(a)) => merge(&mut auth, normalize_keys(a)),
            (_, value) => {
                top.insert(key, value);
            }
        }
    }
    let region_name = (!chosen.0.is_empty()).then_some(chosen.0);
    top.remove("region_name");

    fold_aliases(&mut top);
    fold_aliases(&mut auth);
    for key in AUTH_KEYS {
        if let Some(value) = top.remove(*key)
            && (TOP_LEVEL_WINS.contains(key) || !auth.contains_key(*key))
        {
            auth.insert(key.to_string(), value);
        }
    }
    // One `domain_*` for both user and project, when project-scoped
    // (openstacksdk `_handle_domain_id`).
    let project_scoped = auth.contains_key("project_id") || auth.contains_key("project_name");
    if project_scoped {
        for (general, specific) in [
            ("domain_id", ["user_domain_id", "project_domain_id"]),
            ("domain_name", ["user_domain_name", "project_domain_name"]),
        ] {
            if let Some(value) = auth.remove(general) {
                for key in specific {
                    auth.entry(key.to_string()).or_insert_with(|| value.clone());
                }
            }
        }
    }

    let text = |map: &Map<String, Value>, key: &str| -> Result<Option<String>, CloudsError> {
        scalar(map.get(key)).map_err(|()| setting(key, "must be a string"))
    };
    let secret = |key: &str| -> Result<Option<Secret>, CloudsError> {
        Ok(text(&auth, key)?.map(Secret::new))
    };
    let settings = AuthSettings {
        auth_url: text(&auth, "auth_url")?,
        username: text(&auth, "username")?,
        user_id: text(&auth, "user_id")?,
        password: secret("password")?,
        project_id: text(&auth, "project_id")?,
        project_name: text(&auth, "project_name")?,
        user_domain_name: text(&auth, "user_domain_name")?,
        user_domain_id: text(&auth, "user_domain_id")?,
        project_domain_name: text(&auth, "project_domain_name")?,
        project_domain_id: text(&auth, "project_domain_id")?,
        application_credential_id: text(&auth, "application_credential_id")?,
        application_credential_name: text(&auth, "application_credential_name")?,
        application_credential_secret: secret("application_credential_secret")?,
        token: secret("token")?,
    };
    let auth_type = match text(&top, "auth_type")? {
        Some(t) => AuthType::parse(&t).ok_or_else(|| {
            setting(
                "auth_type",
                &format!(
                    "is '{t}', which metaconform does not support: use password (v3password), v3applicationcredential or token (v3token)"
                ),
            )
        })?,
        None => infer_auth_type(&settings),
    };
    let insecure =
        boolean(top.get("insecure")).map_err(|()| setting("insecure", "must be true or false"))?;
    let verify =
        boolean(top.get("verify")).map_err(|()| setting("verify", "must be true or false"))?;
    let path = |key: &str| -> Result<Option<PathBuf>, CloudsError> {
        Ok(text(&top, key)?
            .filter(|p| !p.is_empty())
            .map(PathBuf::from))
    };
    let cloud = Cloud {
        profile: text(&top, "profile")?.or(match origin {
            // `OS_CLOUD` lands in the env cloud as `cloud`: a selector,
            // not a profile.
            Origin::Environment => None,
            Origin::File { .. } => text(&top, "cloud")?,
        }),
        name,
        auth_type,
        auth: settings,
        region_name,
        interface: text(&top, "interface")?,
        identity_api_version: text(&top, "identity_api_version")?,
        compute_api_version: text(&top, "compute_api_version")?,
        compute_endpoint_override: text(&top, "compute_endpoint_override")?,
        verify: insecure != Some(true) && verify != Some(false),
        cacert: path("cacert")?,
        cert: path("cert")?,
        key: path("key")?,
        origin,
    };
    Ok(cloud)
}

/// `auth_type` when the cloud does not say: `password`, unless the
/// settings only fit an application credential or a token.
fn infer_auth_type(auth: &AuthSettings) -> AuthType {
    let no_user = auth.username.is_none() && auth.user_id.is_none();
    if auth.application_credential_secret.is_some() && auth.password.is_none() {
        AuthType::ApplicationCredential
    } else if auth.token.is_some() && auth.password.is_none() && no_user {
        AuthType::Token
    } else {
        AuthType::Password
    }
}

/// A region's name and the settings it overrides (`values`).
type Region = (String, Map<String, Value>);

/// `(name, values)` of each region the cloud lists.
fn known_regions(top: &Map<String, Value>) -> Result<Vec<Region>, String> {
    let list = match (top.get("regions"), top.get("region_name")) {
        (Some(Value::Array(list)), _) => list.clone(),
        (Some(_), _) => return Err("must be a list of region names or {name, values}".into()),
        (None, Some(Value::Array(list))) => list.clone(),
        (None, Some(Value::String(names))) => names
            .split(',')
            .map(|n| Value::String(n.trim().to_string()))
            .collect(),
        (None, Some(_)) => return Err("region_name must be a string".into()),
        (None, None) => Vec::new(),
    };
    list.into_iter()
        .map(|entry| match entry {
            Value::String(name) => Ok((name, Map::new())),
            Value::Object(mut region) => {
                let name = region
                    .remove("name")
                    .and_then(|n| n.as_str().map(str::to_string))
                    .ok_or("an entry without a `name`")?;
                let values = match region.remove("values") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(values)) => values,
                    Some(_) => return Err(format!("region '{name}': `values` must be a mapping")),
                };
                if let Some(extra) = region.keys().next() {
                    return Err(format!(
                        "region '{name}': unknown key '{extra}' (only name and values)"
                    ));
                }
                Ok((name, values))
            }
            _ => Err("entries must be names or {name, values}".into()),
        })
        .filter(|r| !matches!(r, Ok((n, _)) if n.is_empty()))
        .collect()
}

/// A string, number or boolean as text; `Err` for lists and mappings.
fn scalar(value: Option<&Value>) -> Result<Option<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(()),
    }
}

/// A boolean, or `"true"`/`"false"` (any case; openstacksdk's
/// `get_boolean` reads any other string as false; so do we, but `yes`,
/// `1` and `on` count as true too, as they plainly mean it).
fn boolean(value: Option<&Value>) -> Result<Option<bool>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => Ok(Some(matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "1" | "on"
        ))),
        Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
        Some(_) => Err(()),
    }
}

#[cfg(test)]
mod tests;
