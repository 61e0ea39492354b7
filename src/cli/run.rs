//! `metaconform run`: the conformance suite against an endpoint, or against
//! the embedded reference server when no `--endpoint` is given.
//!
//! Exit codes ([`Exit`]): 0 when every case that ran passed and no case was
//! skipped for a reason the user could have avoided; 1 on a failure, a
//! per-case error, or a skip for a missing credential or server (pass the
//! flag the skip names, or list the case in `--known-failures`); 2 on bad
//! usage or invalid case, profile or known-failures files; 3 when the
//! endpoint could not be reached or set up at all (nothing ran), or when
//! AK/SK-signed requests got 3 consecutive 401s (the run stops there, before
//! the cloud locks the access key; spec §7.4). Skips that
//! are the dialect's nature (an operation it lacks, a state its API cannot
//! reach, a microversion it does not serve, a case for other dialects) and
//! skips written in the case file do not gate. Known failures are reported
//! but do not gate. The last line is always `N passed, N failed, N skipped`
//! (failed counts errors too).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cases::{LoadedCase, default_source, load_builtin, load_dir};
use crate::cli::Exit;
use crate::fuzz::properties::PropertyTrial;
use crate::profile::format::ErrorShape;
use crate::profile::{self, Profile};
use crate::report::junit::JunitWriter;
use crate::run::auth_guard::AuthGuard;
use crate::run::embedded;
use crate::run::events::{JsonWriter, Reporter, Terminal};
use crate::run::execute::Context;
use crate::run::known_failures::KnownFailures;
use crate::run::properties;
use crate::run::redact::Redactor;
use crate::run::schedule::{preflight, run_and_report};
use crate::run::{RunOptions, results::RunResults};
use crate::serve::Fault;
use crate::endpoint::http::Transport;
use crate::endpoint::{AccessKeyPair, Credentials, Target};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run only cases whose id contains this text.
    pub filter: Option<String>,
    /// The filter (and --skip) must match the whole id.
    #[arg(long)]
    pub exact: bool,
    /// Leave out cases whose id contains this text (repeatable).
    #[arg(long = "skip", value_name = "PATTERN")]
    pub skip: Vec<String>,
    /// List the selected cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Output format of --list.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
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
    #[arg(long, env = "HUAWEICLOUD_SDK_AK", hide_env_values = true)]
    pub ak: Option<String>,
    /// The secret key of --ak. Never printed.
    #[arg(long, env = "HUAWEICLOUD_SDK_SK", hide_env_values = true)]
    pub sk: Option<String>,
    /// Read the secret key of --ak from this file (wins over --sk and
    /// HUAWEICLOUD_SDK_SK).
    #[arg(long)]
    pub sk_file: Option<PathBuf>,
    /// Embedded server, Huawei dialects: how the project member
    /// authenticates, with the startup line's token or by signing every
    /// request with its AK/SK pair.
    #[arg(long, value_enum)]
    pub auth: Option<AuthMode>,
    /// Admin token (admin cases, reaching `error`, bypassing locks).
    #[arg(long, env = "METACONFORM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Read-only token of the same project.
    #[arg(long, env = "METACONFORM_READER_TOKEN", hide_env_values = true)]
    pub reader_token: Option<String>,
    /// Token of a second project (isolation cases).
    #[arg(long, env = "METACONFORM_ALT_TOKEN", hide_env_values = true)]
    pub alt_token: Option<String>,
    #[arg(long, env = "METACONFORM_ALT_PROJECT_ID")]
    pub alt_project_id: Option<String>,
    /// A server of the project the run may change (repeatable; one per job).
    #[arg(long = "server", value_name = "ID")]
    pub servers: Vec<String>,
    /// A server no case has written to, used by one case only (repeatable):
    /// dialects that cannot empty metadata (bms-v1) need one per case.
    #[arg(long = "fresh-server", value_name = "ID")]
    pub fresh_servers: Vec<String>,
    /// A server of the second project (repeatable).
    #[arg(long = "alt-server", value_name = "ID")]
    pub alt_servers: Vec<String>,
    /// Dialect id or profile file.
    #[arg(long, default_value = "nova")]
    pub dialect: String,
    /// Directory whose `<id>.yaml` profiles replace the built-in ones.
    #[arg(long)]
    pub dialect_dir: Option<PathBuf>,
    /// Folder of case files.
    /// Default: `./cases` if present, else the catalogue built into the binary.
    #[arg(long)]
    pub cases: Option<PathBuf>,
    #[arg(long, default_value = "reports/junit.xml")]
    pub junit: PathBuf,
    #[arg(long, default_value = "reports/results.json")]
    pub json: PathBuf,
    /// Cases run at once, each on its own server.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// YAML list of `{id, reason}`: reported, but not failing the run.
    #[arg(long)]
    pub known_failures: Option<PathBuf>,
    /// Embedded server only: inject a fault (see `serve --list-faults`).
    #[arg(long = "fault", value_name = "NAME[=VALUE]")]
    pub faults: Vec<String>,
    /// Print which spec rules have cases and which do not, and exit.
    #[arg(long)]
    pub coverage: bool,
    /// Skip cases that change server states or locks.
    #[arg(long)]
    pub no_state_changes: bool,
    /// Seconds to wait for a server to settle after an action.
    #[arg(long, default_value_t = 300)]
    pub state_timeout: u64,
    /// Flavor id the `resize` action asks for (must differ from the
    /// servers' own flavor).
    #[arg(long, default_value = "2")]
    pub resize_flavor: String,
    /// Generated examples per property trial (`prop::*`, run after the
    /// cases).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub prop_cases: u64,
    /// Leave out the property trials (`prop::*`).
    #[arg(long)]
    pub no_props: bool,
}

/// How the project member authenticates against the embedded server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// `X-Auth-Token` with the startup line's `token` (the default).
    Token,
    /// Every member request signed with the startup line's `ak`/`sk`.
    Aksk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// A reason to stop before running, with its exit code.
struct Stop(Exit, String);

pub fn main(args: RunArgs) -> ExitCode {
    match run(args) {
        Ok(exit) => exit.into(),
        Err(Stop(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn run(args: RunArgs) -> Result<Exit, Stop> {
    let profile = profile::resolve(&args.dialect, args.dialect_dir.as_deref())
        .map_err(|d| Stop(Exit::Usage, d.to_string()))?;
    let cases = select(load_cases(args.cases.as_deref())?, &args);
    let trials = select_trials(&args);
    if args.list {
        return list(&cases, &trials, args.format);
    }
    if args.coverage {
        return Ok(print_coverage(&cases));
    }
    let known = match &args.known_failures {
        Some(path) => KnownFailures::load(path).map_err(|d| Stop(Exit::Usage, d.to_string()))?,
        None => KnownFailures::default(),
    };
    let ids: Vec<&str> = cases
        .iter()
        .map(|c| c.case.id.as_str())
        .chain(trials.iter().map(|t| t.name))
        .collect();
    for id in known.unknown_ids(&ids) {
        eprintln!("warning: known-failures lists '{id}', which is not a selected case");
    }
    check_auth_flag(&args)?;
    let faults = parse_faults(&args)?;
    let remote = match &args.endpoint {
        Some(endpoint) => Some(remote_target(&args, endpoint, profile.clone())?),
        None => None,
    };
    let runtime = crate::cli::runtime().map_err(|message| Stop(Exit::Usage, message))?;
    runtime.block_on(execute(args, profile, cases, trials, known, faults, remote))
}

fn load_cases(dir: Option<&Path>) -> Result<Vec<LoadedCase>, Stop> {
    let dir = dir.map(Path::to_path_buf).or_else(default_source);
    let loaded = match &dir {
        Some(dir) => load_dir(dir),
        None => load_builtin(),
    };
    let shown = dir.map_or("<builtin>".to_string(), |d| d.display().to_string());
    loaded.map_err(|diags| {
        let mut text: String = diags.iter().map(|d| format!("{d}\n")).collect();
        text.push_str(&format!(
            "error: {} problem(s) in the case files under {}",
            diags.len(),
            shown
        ));
        Stop(Exit::Usage, text)
    })
}

/// The cases the filter, `--exact` and `--skip` select (libtest rules).
pub fn select(cases: Vec<LoadedCase>, args: &RunArgs) -> Vec<LoadedCase> {
    let matches = |id: &str, pattern: &str| {
        if args.exact {
            id == pattern
        } else {
            id.contains(pattern)
        }
    };
    cases
        .into_iter()
        .filter(|c| {
            args.filter
                .as_deref()
                .is_none_or(|f| matches(&c.case.id, f))
        })
        .filter(|c| !args.skip.iter().any(|s| matches(&c.case.id, s)))
        .collect()
}

/// The property trials FILTER, `--exact` and `--skip` select; none with
/// `--no-props`.
fn select_trials(args: &RunArgs) -> Vec<PropertyTrial> {
    if args.no_props {
        return Vec::new();
    }
    properties::select(args.filter.as_deref(), args.exact, &args.skip)
}

fn list(cases: &[LoadedCase], trials: &[PropertyTrial], format: ListFormat) -> Result<Exit, Stop> {
    match format {
        ListFormat::Human => {
            for c in cases {
                println!("{}: {}", c.case.id, c.case.name);
            }
            for t in trials {
                println!("{}: {}", t.name, properties::describe(t.name).0);
            }
        }
        ListFormat::Json => {
            let entries: Vec<serde_json::Value> = cases
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.case.id,
                        "name": c.case.name,
                        "area": c.area,
                        "spec": c.case.spec,
                        "file": c.file.display().to_string(),
                        "line": c.line,
                        "tags": c.case.tags,
                        "dialects": c.case.dialects,
                    })
                })
                .chain(trials.iter().map(properties::list_entry))
                .collect();
            let text = serde_json::to_string_pretty(&entries)
                .map_err(|e| Stop(Exit::Usage, format!("error: cannot render the list: {e}")))?;
            println!("{text}");
        }
    }
    Ok(Exit::Success)
}

fn print_coverage(cases: &[LoadedCase]) -> Exit {
    let counts = crate::cases::coverage(cases);
    for rule in crate::cases::RULES {
        let n = counts.get(rule.section).copied().unwrap_or(0);
        println!("§{:<6} {:>4} cases  {}", rule.section, n, rule.title);
    }
    let missing = crate::cases::missing(&counts);
    if missing.is_empty() {
        println!("every rule has at least one case");
        Exit::Success
    } else {
        let sections: Vec<&str> = missing.iter().map(|r| r.section).collect();
        println!("rules without cases: {}", sections.join(", "));
        Exit::Failures
    }
}

/// `--auth` is for the embedded server only.
fn check_auth_flag(args: &RunArgs) -> Result<(), Stop> {
    if args.auth.is_some() && args.endpoint.is_some() {
        return Err(Stop(
            Exit::Usage,
            "error: --auth picks the embedded server's credentials; with --endpoint pass --ak and --sk (or --sk-file) to sign with AK/SK, or a token".into(),
        ));
    }
    Ok(())
}

fn parse_faults(args: &RunArgs) -> Result<Vec<Fault>, Stop> {
    if !args.faults.is_empty() && args.endpoint.is_some() {
        return Err(Stop(
            Exit::Usage,
            "error: --fault applies to the embedded server only; drop --endpoint, or start `metaconform serve --fault ...` and point --endpoint at it".into(),
        ));
    }
    args.faults
        .iter()
        .map(|f| f.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Stop(Exit::Usage, format!("error: --fault: {e}")))
}

/// The target the flags describe, or what is missing.
fn remote_target(args: &RunArgs, endpoint: &str, profile: Profile) -> Result<Target, Stop> {
    let usage = |m: String| Stop(Exit::Usage, m);
    if args.servers.is_empty() {
        return Err(usage(
            "error: --endpoint needs servers to test: pass --server ID (a server of the project that the run may change; one per --jobs)".into(),
        ));
    }
    let access_key = access_key(args, &profile)?;
    let token = match (&args.token_file, &args.token) {
        _ if access_key.is_some() => None,
        (Some(file), _) => Some(read_secret(file, "--token-file")?),
        (None, Some(t)) => Some(t.clone()),
        (None, None) => {
            return Err(usage(
                "error: --endpoint needs a token: pass --token-file FILE, set OS_TOKEN, or --token (Huawei dialects: or --ak with --sk/--sk-file)"
                    .into(),
            ));
        }
    };
    let project_id = match &args.project_id {
        Some(p) => p.clone(),
        None => project_from_endpoint(endpoint, &profile).ok_or_else(|| {
            usage(format!(
                "error: cannot tell the project id from {endpoint}: pass --project-id"
            ))
        })?,
    };
    Ok(Target {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        project_id,
        profile,
        credentials: Credentials {
            token,
            access_key,
            admin_token: args.admin_token.clone(),
            reader_token: args.reader_token.clone(),
            alt_token: args.alt_token.clone(),
            alt_project_id: args.alt_project_id.clone(),
        },
        servers: args.servers.clone(),
        alt_servers: args.alt_servers.clone(),
        fresh_servers: args.fresh_servers.clone(),
        disposable: false,
    })
}

/// The project member's AK/SK from `--ak` and `--sk`/`--sk-file`, if the
/// user gave one; only Huawei dialects accept signed requests.
fn access_key(args: &RunArgs, profile: &Profile) -> Result<Option<AccessKeyPair>, Stop> {
    let usage = |m: String| Stop(Exit::Usage, m);
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
fn read_secret(file: &Path, flag: &str) -> Result<String, Stop> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Stop(
            Exit::Usage,
            format!("error: cannot read {flag} {}: {e}", file.display()),
        )
    })?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(Stop(
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

async fn execute(
    args: RunArgs,
    profile: Profile,
    cases: Vec<LoadedCase>,
    trials: Vec<PropertyTrial>,
    known: KnownFailures,
    faults: Vec<Fault>,
    remote: Option<Target>,
) -> Result<Exit, Stop> {
    let embedded_run = remote.is_none();
    let options = RunOptions {
        jobs: usize::from(args.jobs),
        state_timeout: Duration::from_secs(args.state_timeout),
        no_state_changes: args.no_state_changes,
        resize_flavor: args.resize_flavor.clone(),
    };
    let (server, target) = match remote {
        Some(target) => (None, target),
        None => {
            let fresh = fresh_servers_needed(&cases, profile.clone(), &options);
            let (server, target) =
                embedded::start_with_fresh(profile, usize::from(args.jobs), fresh, faults)
                    .await
                    .map_err(|e| {
                        Stop(
                            Exit::Unreachable,
                            format!("error: cannot start the embedded server: {e}"),
                        )
                    })?;
            let dialect = target.profile.id().to_string();
            let target = match args.auth {
                Some(AuthMode::Aksk) => embedded::use_access_key(target, server.info())
                    .ok_or_else(|| {
                        Stop(
                            Exit::Usage,
                            format!(
                                "error: --auth aksk: the {dialect} mock has no AK/SK pair; AK/SK signing is for the Huawei dialects (ecs-v1, ecs-os, bms-v1, bms-os)"
                            ),
                        )
                    })?,
                Some(AuthMode::Token) | None => target,
            };
            (Some(server), target)
        }
    };
    let transport = Transport::new(Duration::from_secs(60))
        .map_err(|e| Stop(Exit::Unreachable, format!("error: {e}")))?;
    let ctx = Arc::new(Context {
        redactor: Redactor::new(&target.credentials),
        target,
        transport,
        options,
        auth_guard: Arc::default(),
    });
    let auth_guard = ctx.auth_guard.clone();
    let props_ctx = ctx.clone();
    if let Err(e) = preflight(&ctx).await {
        return Err(Stop(Exit::Unreachable, format!("error: {e}")));
    }
    let mut terminal = Terminal::detect(Some(args.junit.clone()));
    let mut json = JsonWriter { path: args.json };
    let mut junit = JunitWriter { path: args.junit };
    let results = {
        let mut reporters: [&mut dyn Reporter; 3] = [&mut json, &mut junit, &mut terminal];
        let mut results =
            run_and_report(ctx, Arc::new(cases), &known, &mut reporters, embedded_run).await;
        if !auth_guard.tripped() {
            properties::run_and_append(
                &trials,
                &props_ctx.target,
                &props_ctx.options,
                properties::options(args.prop_cases),
                &known,
                &mut reporters,
                &mut results,
            )
            .await;
        }
        finish(&results, &mut reporters)?;
        results
    };
    if let Some(server) = server {
        server.shutdown().await;
    }
    if auth_guard.tripped() {
        return Err(Stop(Exit::Unreachable, AuthGuard::message()));
    }
    Ok(exit_code(&results))
}

/// How many of `cases` need a fresh embedded server: those that run, when
/// the dialect cannot empty a server's metadata between cases.
fn fresh_servers_needed(cases: &[LoadedCase], profile: Profile, options: &RunOptions) -> usize {
    let planned = embedded::planning_target(profile);
    cases
        .iter()
        .filter(|c| crate::run::applicability::needs_fresh_server(&c.case, &planned, options))
        .count()
}

fn finish(results: &RunResults, reporters: &mut [&mut dyn Reporter]) -> Result<(), Stop> {
    let mut failed = None;
    for r in reporters.iter_mut() {
        if let Err(e) = r.finished(results) {
            eprintln!("error: {e}");
            failed = Some(e);
        }
    }
    match failed {
        Some(e) => Err(Stop(
            Exit::Failures,
            format!("error: reports incomplete: {e}"),
        )),
        None => Ok(()),
    }
}

/// 0 if nothing gates, else 1.
pub fn exit_code(results: &RunResults) -> Exit {
    if results.cases.iter().any(|c| c.gates()) {
        Exit::Failures
    } else {
        Exit::Success
    }
}
