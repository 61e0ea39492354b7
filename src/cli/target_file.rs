//! `run --target NAME=FILE`: the small TOML file that describes one target
//! of a multi-target run (its dialect, its microversion, where it is, and
//! the *names* of the environment variables holding its credentials), the
//! `NAME=FILE` argument, and the located errors of both.
//!
//! A target file never holds a secret: credentials are named by the
//! variable that holds them (`token_env = "OS_TOKEN"`), a key such as
//! `token` or `password` is refused with the fix, and so is a `*_env` value
//! that looks like a secret rather than a variable name. Every error names
//! `file:line:column` (the toml crate's spans) and what to write instead.
//!
//! ```toml
//! dialect = "nova"            # id or profile file (relative to this file)
//! microversion = "2.101"      # or "latest"; caps the dialect's range
//! endpoint = "https://compute.example/v2.1/PROJECT"   # or cloud = "NAME"
//! token_env = "OS_TOKEN"
//! server = ["SERVER_ID"]
//! ```
//!
//! Neither `endpoint` nor `cloud`: the dialect's embedded reference server.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::cli::cloud::MicroversionArg;

/// One target, as its file says.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Dialect id (`nova`, `nova-legacy`, `ecs-os`, `ecs-v1`, `bms-os`,
    /// `bms-v1`) or a profile file, relative to the target file. Default
    /// `nova`.
    #[serde(default)]
    pub dialect: Option<String>,
    /// The highest microversion to test, `2.N`, or `latest` (the
    /// endpoint's, or the dialect's own on the embedded server).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^(2\.[0-9]+|latest)$"))]
    pub microversion: Option<Spanned<String>>,
    /// The compute endpoint from the service catalog. Without it and
    /// without `cloud`, the embedded reference server of the dialect.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// A cloud of clouds.yaml to authenticate with (as `--os-cloud`).
    #[serde(default)]
    pub cloud: Option<String>,
    /// The cloud's region (as `--os-region`).
    #[serde(default)]
    pub region: Option<String>,
    /// The project id, when the endpoint does not end with it.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The environment variable holding the member's token (default
    /// `OS_TOKEN`).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub token_env: Option<Spanned<String>>,
    /// The environment variable holding an admin token.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub admin_token_env: Option<Spanned<String>>,
    /// The environment variable holding a reader token.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub reader_token_env: Option<Spanned<String>>,
    /// The environment variable holding the second project's token.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub alt_token_env: Option<Spanned<String>>,
    /// The second project's id.
    #[serde(default)]
    pub alt_project_id: Option<String>,
    /// The environment variable holding the Huawei access key.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub ak_env: Option<Spanned<String>>,
    /// The environment variable holding the Huawei secret key.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub sk_env: Option<Spanned<String>>,
    /// Servers the run may change (as `--server`).
    #[serde(default)]
    pub server: Vec<String>,
    /// Servers of the second project (as `--alt-server`).
    #[serde(default)]
    pub alt_server: Vec<String>,
    /// Servers no case has written to (as `--fresh-server`).
    #[serde(default)]
    pub fresh_server: Vec<String>,
}

/// `--target NAME=FILE`, before the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArg {
    pub name: String,
    pub file: PathBuf,
}

impl FromStr for TargetArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (name, file) = text.split_once('=').ok_or_else(|| {
            format!("'{text}' is not NAME=FILE: write e.g. v2.101=targets/v2.101.toml")
        })?;
        if !valid_name(name) {
            return Err(format!(
                "target name '{name}' may hold only letters, digits, '.', '_' and '-' (it names a folder of reports)"
            ));
        }
        if file.is_empty() {
            return Err(format!("target '{name}' names no file: write {name}=FILE"));
        }
        Ok(TargetArg {
            name: name.to_string(),
            file: PathBuf::from(file),
        })
    }
}

/// `[A-Za-z0-9._-]+`, and not `.` or `..` (it becomes a folder name).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A target file that cannot be used, with where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TargetFileError {
    #[error("error: cannot read target file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error: {}:{line}:{column}: {message}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Keys people write for a secret, answered with the `*_env` key to use.
const SECRET_KEYS: &[(&str, &str)] = &[
    ("token", "token_env"),
    ("admin_token", "admin_token_env"),
    ("reader_token", "reader_token_env"),
    ("alt_token", "alt_token_env"),
    ("ak", "ak_env"),
    ("sk", "sk_env"),
    (
        "password",
        "a clouds.yaml `cloud` (secure.yaml holds the password)",
    ),
    (
        "secret",
        "a clouds.yaml `cloud` (secure.yaml holds the secret)",
    ),
];

impl TargetFile {
    /// Read and check the file at `path`.
    pub fn load(path: &Path) -> Result<TargetFile, TargetFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TargetFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parse and check `text`, the content of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<TargetFile, TargetFileError> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            TargetFileError::At {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let file: TargetFile =
            toml::from_str(text).map_err(|e| at(e.span(), explain_toml_error(e.message())))?;
        file.check()
            .map_err(|(span, message)| at(Some(span), message))?;
        Ok(file)
    }

    /// Whether this target is the embedded reference server.
    pub fn embedded(&self) -> bool {
        self.endpoint.is_none() && self.cloud.is_none()
    }

    /// The microversion asked for, parsed (checked by [`Self::check`]).
    pub fn microversion_arg(&self) -> Option<MicroversionArg> {
        self.microversion.as_ref()?.get_ref().parse().ok()
    }

    /// The `*_env` keys with their values, in file order of the struct.
    fn env_keys(&self) -> [(&'static str, Option<&Spanned<String>>); 6] {
        [
            ("token_env", self.token_env.as_ref()),
            ("admin_token_env", self.admin_token_env.as_ref()),
            ("reader_token_env", self.reader_token_env.as_ref()),
            ("alt_token_env", self.alt_token_env.as_ref()),
            ("ak_env", self.ak_env.as_ref()),
            ("sk_env", self.sk_env.as_ref()),
        ]
    }

    /// What no type can say: variable names that are names, a well-formed
    /// microversion, an endpoint without user info.
    fn check(&self) -> Result<(), (Range<usize>, String)> {
        for (key, value) in self.env_keys() {
            if let Some(value) = value {
                check_env_name(key, value)?;
            }
        }
        if let Some(mv) = &self.microversion {
            mv.get_ref()
                .parse::<MicroversionArg>()
                .map_err(|e| (mv.span(), format!("microversion: {e}")))?;
        }
        if let Some(endpoint) = &self.endpoint
            && let Ok(url) = reqwest::Url::parse(endpoint.get_ref())
            && (!url.username().is_empty() || url.password().is_some())
        {
            return Err((
                endpoint.span(),
                "endpoint: the URL carries user info; a target file holds no secret: drop it and name the token's variable with token_env".into(),
            ));
        }
        Ok(())
    }
}

/// A variable name, not a secret: `[A-Z_][A-Z0-9_]*`, at most 64
/// characters, and not a long run of letters and digits without `_` (a
/// Huawei access key is 20 such characters; variable names have words).
fn check_env_name(key: &str, value: &Spanned<String>) -> Result<(), (Range<usize>, String)> {
    let name = value.get_ref();
    let shaped = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let key_like = name.len() >= 16 && !name.contains('_');
    if shaped && !key_like && name.len() <= 64 {
        return Ok(());
    }
    Err((
        value.span(),
        format!(
            "{key} must name an environment variable (e.g. {key} = \"{}\"), and this value looks like a secret: a target file never holds one; put the secret in a variable and name it here",
            default_variable(key)
        ),
    ))
}

/// The variable the flags read for `key`, as an example.
fn default_variable(key: &str) -> &'static str {
    match key {
        "admin_token_env" => "METACONFORM_ADMIN_TOKEN",
        "reader_token_env" => "METACONFORM_READER_TOKEN",
        "alt_token_env" => "METACONFORM_ALT_TOKEN",
        "ak_env" => "HUAWEICLOUD_SDK_AK",
        "sk_env" => "HUAWEICLOUD_SDK_SK",
        _ => "OS_TOKEN",
    }
}

/// The toml crate's message, with the fix for a secret written as a key.
fn explain_toml_error(message: &str) -> String {
    let message = message.trim_end();
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key);
    match unknown.and_then(|k| SECRET_KEYS.iter().find(|(s, _)| *s == k)) {
        Some((key, instead)) => format!(
            "`{key}`: a target file never holds a secret; name the environment variable that holds it with {instead}"
        ),
        None => message.to_string(),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TargetFile, String> {
        TargetFile::parse(Path::new("t.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file_parses() {
        let file = parse(
            "dialect = \"nova\"\nmicroversion = \"2.101\"\nendpoint = \"https://c/v2.1/p\"\ntoken_env = \"OS_TOKEN\"\nserver = [\"s1\", \"s2\"]\n",
        )
        .unwrap();
        assert_eq!(file.server, ["s1", "s2"]);
        assert_eq!(
            file.microversion_arg(),
            Some(MicroversionArg::Exactly(
                crate::model::microversion::Microversion::new(2, 101)
            ))
        );
        assert!(!file.embedded());
        assert!(parse("").unwrap().embedded());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_place() {
        let e = parse("dialect = \"nova\"\n  endpiont = \"x\"\n").unwrap_err();
        assert!(e.starts_with("error: t.toml:2:3: "), "{e}");
        assert!(e.contains("endpiont"), "{e}");
    }

    #[test]
    fn a_secret_key_or_a_secret_value_is_refused_with_the_fix() {
        let e = parse("token = \"gAAAAABk\"\n").unwrap_err();
        assert!(e.contains("t.toml:1:1") && e.contains("token_env"), "{e}");
        let e = parse("dialect = \"nova\"\ntoken_env = \"gAAAAABkX-9z\"\n").unwrap_err();
        assert!(
            e.contains("t.toml:2:13") && e.contains("looks like a secret"),
            "{e}"
        );
        let e = parse("ak_env = \"QTWAOYTTINDUT2QVKYUC\"\n").unwrap_err();
        assert!(e.contains("looks like a secret"), "{e}");
        assert!(parse("ak_env = \"HUAWEICLOUD_SDK_AK\"\n").is_ok());
        let e = parse("endpoint = \"https://u:p@h/v2.1/p\"\n").unwrap_err();
        assert!(e.contains("t.toml:1:12") && e.contains("user info"), "{e}");
    }

    #[test]
    fn a_bad_microversion_is_named_with_its_place() {
        let e = parse("\nmicroversion = \"2.x\"\n").unwrap_err();
        assert!(e.starts_with("error: t.toml:2:16: microversion:"), "{e}");
        assert!(parse("microversion = \"latest\"\n").is_ok());
    }

    #[test]
    fn target_names_are_folder_safe() {
        let arg: TargetArg = "v2.101=t/x.toml".parse().unwrap();
        assert_eq!(arg.name, "v2.101");
        assert_eq!(arg.file, PathBuf::from("t/x.toml"));
        for bad in ["a/b=x", "=x", "..=x", "a b=x", "noequals", "a="] {
            assert!(bad.parse::<TargetArg>().is_err(), "{bad}");
        }
    }
}
