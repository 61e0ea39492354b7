//! `run --target NAME=FILE ...`: several targets in one run, one after
//! another, with the same selection, each as a run of its own (its own
//! embedded server, or its own journal, lease and restore on a real
//! endpoint), then the reports of them all.
//!
//! The endpoint flags describe one target; target files describe each, so
//! the two are not mixed (`--endpoint`, `--os-cloud`, `--dialect`,
//! `--microversion`, `--server`, `--alt-server`, `--fresh-server`,
//! `--create-servers`, `--dry-run` with `--target` exit 2). What is the
//! same for every target stays a flag: the selection, `--jobs`, `--rate`,
//! `--timeout`, `--baseline`, `--fault` and `--auth` (embedded targets),
//! the TLS flags, the report paths.
//!
//! Reports: each target writes `DIR/NAME/results.json` (DIR: the folder of
//! `--json`, `reports` by default) and, with `--subunit FILE`, its own
//! stream `DIR/NAME/<FILE's name>` as it runs; after the last, the run
//! writes `DIR/matrix.json` ([`crate::report::matrix`]), `--junit` with a
//! testsuite per target, `--html` with the matrix view and `--markdown`
//! with a section per target, and prints the matrix summary. The exit code
//! gates across all targets as one run would: 130 when a target was
//! interrupted or a signal came between two targets (the later ones do
//! not run), else the first target error
//! (exit 2 or 3, the reports of the targets before it are still written),
//! else 1 when any target has a gating failure, else 0.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::cloud::CloudArgs;
use crate::cli::common::EndpointArgs;
use crate::cli::run::{Executed, Outputs, RunArgs, run_connected};
use crate::cli::select::Plan;
use crate::cli::stdout;
use crate::cli::target_file::{TargetArg, TargetFile};
use crate::cli::{CliError, Exit};
use crate::endpoint::auth::Connection;
use crate::report::html;
use crate::report::matrix::{Matrix, TargetRun};
use crate::report::reporter::{ReportError, write_file};
use crate::run::known_failures::KnownFailures;
use crate::run::results::RunResults;

/// One `--target`, its file read.
#[derive(Debug, Clone)]
pub struct NamedTarget {
    pub name: String,
    pub path: PathBuf,
    pub file: TargetFile,
}

/// A target that finished, with where its results went.
struct Finished {
    name: String,
    results_path: PathBuf,
    results: RunResults,
}

/// Run every `--target` of `args` (which has some).
pub fn run(args: RunArgs, plan: Plan, known: KnownFailures) -> Result<Exit, CliError> {
    refuse_endpoint_flags(&args)?;
    let targets = load_targets(&args.targets)?;
    for target in &targets {
        check_target(&args, target)?;
    }
    let runtime = crate::cli::runtime().map_err(|message| CliError(Exit::Usage, message))?;
    // Listens for the whole run, so a signal between two targets (when no
    // run listens) stops the next one from starting.
    let mut between = runtime
        .block_on(async { crate::cli::ShutdownSignals::install() })
        .map_err(|m| CliError(Exit::Usage, m))?;
    let dir = reports_dir(&args.json);
    let mut finished: Vec<Finished> = Vec::new();
    let mut stopped: Option<CliError> = None;
    let mut interrupted = false;
    for target in &targets {
        if runtime.block_on(signalled(&mut between)) {
            eprintln!(
                "interrupted: target {} and the ones after it did not run",
                target.name
            );
            interrupted = true;
            break;
        }
        say_target(target);
        let results_path = dir.join(&target.name).join("results.json");
        match run_target(&args, target, &runtime, plan.clone(), &known, &results_path) {
            Ok(Executed { exit, results }) => {
                interrupted = exit == Exit::Interrupted;
                if let Some(results) = results {
                    finished.push(Finished {
                        name: target.name.clone(),
                        results_path,
                        results,
                    });
                }
            }
            Err(CliError(exit, message)) => {
                stopped = Some(CliError(exit, format!("target {}: {message}", target.name)));
            }
        }
        if interrupted || stopped.is_some() {
            break;
        }
    }
    let reported = write_reports(&args, &dir, &finished);
    match (interrupted, stopped) {
        (true, _) => Ok(Exit::Interrupted),
        (false, Some(error)) => Err(error),
        (false, None) => {
            reported?;
            match gate(&finished) {
                Exit::Success => require_tested(&args, &finished),
                exit => Ok(exit),
            }
        }
    }
}

/// The run tested something (see
/// [`crate::cli::select::SelectArgs::require_tested`]): exit 4 when no
/// target did. A target whose every case was skipped while others ran is
/// what a version matrix may show (cases of a later microversion skip on
/// a capped target): a warning naming it.
fn require_tested(args: &RunArgs, finished: &[Finished]) -> Result<Exit, CliError> {
    let untested: Vec<(&str, CliError)> = finished
        .iter()
        .filter_map(|t| {
            let error = args.select.require_tested(&t.results).err()?;
            Some((t.name.as_str(), error))
        })
        .collect();
    if !untested.is_empty() && untested.len() == finished.len() {
        let (_, CliError(exit, message)) = &untested[0];
        return Err(CliError(*exit, format!("{message} (on every target)")));
    }
    for (name, CliError(_, message)) in untested {
        let message = message.trim_start_matches("error: ");
        eprintln!("warning: target {name}: {message}");
    }
    Ok(Exit::Success)
}

/// Whether a signal came since `signals` last looked (without waiting).
async fn signalled(signals: &mut crate::cli::ShutdownSignals) -> bool {
    tokio::select! {
        biased;
        _ = signals.recv() => true,
        () = std::future::ready(()) => false,
    }
}

/// 1 when any target's run gates, as one run's would; else 0.
fn gate(finished: &[Finished]) -> Exit {
    match finished
        .iter()
        .any(|f| crate::cli::run::exit_code(&f.results) == Exit::Failures)
    {
        true => Exit::Failures,
        false => Exit::Success,
    }
}

/// The folder the per-target results and the matrix go to: `--json`'s.
fn reports_dir(json: &Path) -> PathBuf {
    json.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The line that opens a target's part of the output.
fn say_target(target: &NamedTarget) {
    let where_ = match (&target.file.endpoint, &target.file.cloud) {
        (Some(endpoint), _) => endpoint.get_ref().clone(),
        (None, Some(cloud)) => format!("cloud {cloud}"),
        (None, None) => "embedded server".to_string(),
    };
    let microversion = target
        .file
        .microversion
        .as_ref()
        .map_or(String::new(), |m| format!(", microversion {}", m.get_ref()));
    crate::say!(
        "== target {} ({}{microversion}, {where_}) ==",
        target.name,
        target.file.dialect.as_deref().unwrap_or("nova")
    );
}

/// The endpoint flags describe one target: refuse them beside `--target`.
fn refuse_endpoint_flags(args: &RunArgs) -> Result<(), CliError> {
    let given = [
        (
            "--endpoint (or METACONFORM_ENDPOINT)",
            args.endpoint.endpoint.is_some(),
        ),
        ("--os-cloud (or OS_CLOUD)", args.cloud.os_cloud.is_some()),
        ("--dialect", args.endpoint.dialect != "nova"),
        ("--microversion", args.cloud.microversion.is_some()),
        ("--server", !args.servers.is_empty()),
        ("--alt-server", !args.alt_servers.is_empty()),
        ("--fresh-server", !args.fresh_servers.is_empty()),
        ("--create-servers", args.create.recipe().is_some()),
        ("--dry-run", args.dry_run),
    ];
    let mixed: Vec<&str> = given
        .iter()
        .filter(|(_, given)| *given)
        .map(|(flag, _)| *flag)
        .collect();
    match mixed.is_empty() {
        true => Ok(()),
        false => Err(CliError(
            Exit::Usage,
            format!(
                "error: --target describes each target in its file; {} describe(s) a single target: drop it, or put it in the target files (dialect, microversion, endpoint, cloud, server, ...)",
                mixed.join(", ")
            ),
        )),
    }
}

/// Read every target file, once the names are known to be unique.
pub fn load_targets(args: &[TargetArg]) -> Result<Vec<NamedTarget>, CliError> {
    let mut seen = BTreeSet::new();
    for arg in args {
        if !seen.insert(arg.name.as_str()) {
            return Err(CliError(
                Exit::Usage,
                format!(
                    "error: --target {} is given twice: each target needs its own name (it names its reports folder)",
                    arg.name
                ),
            ));
        }
    }
    let mut targets = Vec::with_capacity(args.len());
    for arg in args {
        let file = TargetFile::load(&arg.file).map_err(|e| CliError(Exit::Usage, e.to_string()))?;
        targets.push(NamedTarget {
            name: arg.name.clone(),
            path: arg.file.clone(),
            file,
        });
    }
    Ok(targets)
}

/// What can be checked of a target before any runs: its credentials'
/// variables are set and its dialect resolves (a usage error in the third
/// target must not come after the first two ran).
fn check_target(args: &RunArgs, target: &NamedTarget) -> Result<(), CliError> {
    let targs = target_args(args, target, process_env)?;
    targs
        .endpoint
        .profile()
        .map(|_| ())
        .map_err(|CliError(exit, message)| {
            CliError(exit, format!("target {}: {message}", target.name))
        })
}

/// A set, non-empty environment variable.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// One target's run: its flags from its file, its cloud connected (or only
/// its microversion applied, on the embedded server), then the run.
fn run_target(
    args: &RunArgs,
    target: &NamedTarget,
    runtime: &tokio::runtime::Runtime,
    plan: Plan,
    known: &KnownFailures,
    results_path: &Path,
) -> Result<Executed, CliError> {
    let mut targs = target_args(args, target, process_env)?;
    let mut profile = targs.endpoint.profile()?;
    let connection = match target.file.embedded() {
        true => {
            runtime
                .block_on(embedded_microversion(&targs.cloud, &mut profile))
                .map_err(|m| CliError(Exit::Usage, format!("error: {m}")))?;
            Connection::default()
        }
        false => runtime.block_on(crate::cli::cloud::connect(
            &targs.cloud,
            &mut targs.endpoint,
            &mut profile,
        ))?,
    };
    let outputs = Outputs {
        json: results_path.to_path_buf(),
        transcripts: args.junit.clone(),
        junit: None,
        markdown: None,
        html: None,
        subunit: subunit_path(args, results_path),
        target: Some(target.name.clone()),
    };
    run_connected(targs, runtime, profile, connection, plan, known, outputs)
}

/// `--subunit FILE` of one target: FILE's name in the target's reports
/// folder (a stream per target, as stestr loads one run at a time).
fn subunit_path(args: &RunArgs, results_path: &Path) -> Option<PathBuf> {
    let name = args.subunit.as_ref()?.file_name()?;
    Some(results_path.with_file_name(name))
}

/// The embedded server's microversion cap (no endpoint to ask).
async fn embedded_microversion(
    cloud: &CloudArgs,
    profile: &mut crate::profile::Profile,
) -> Result<(), String> {
    cloud
        .apply_microversion(profile, None, None, &Default::default())
        .await
        .map_err(|e| e.to_string())
}

/// `args` with the endpoint, cloud and server flags the target file gives
/// (credentials read from the variables it names, through `env`).
pub fn target_args(
    args: &RunArgs,
    target: &NamedTarget,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RunArgs, CliError> {
    let file = &target.file;
    let mut targs = args.clone();
    targs.targets = Vec::new();
    targs.endpoint = EndpointArgs {
        endpoint: file.endpoint.as_ref().map(|e| e.get_ref().clone()),
        project_id: file.project_id.clone(),
        token: member_token(target, &env)?,
        token_file: None,
        ak: named(target, "ak_env", file.ak_env.as_ref(), &env)?,
        sk: named(target, "sk_env", file.sk_env.as_ref(), &env)?,
        sk_file: None,
        admin_token: named(
            target,
            "admin_token_env",
            file.admin_token_env.as_ref(),
            &env,
        )?,
        reader_token: named(
            target,
            "reader_token_env",
            file.reader_token_env.as_ref(),
            &env,
        )?,
        alt_token: named(target, "alt_token_env", file.alt_token_env.as_ref(), &env)?,
        alt_project_id: file.alt_project_id.clone(),
        dialect: dialect(target),
        dialect_dir: args.endpoint.dialect_dir.clone(),
        cloud_secrets: Vec::new(),
    };
    targs.cloud = CloudArgs {
        os_cloud: file.cloud.clone(),
        os_region: file.region.clone(),
        microversion: file.microversion_arg(),
        ..args.cloud.clone()
    };
    targs.servers = file.server.clone();
    targs.alt_servers = file.alt_server.clone();
    targs.fresh_servers = file.fresh_server.clone();
    Ok(targs)
}

/// The member's token: from `token_env` (default `OS_TOKEN`) for an
/// endpoint; none for the embedded server, and none needed with a cloud.
fn member_token(
    target: &NamedTarget,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, CliError> {
    let file = &target.file;
    if file.embedded() {
        return Ok(None);
    }
    if let Some(named_var) = &file.token_env {
        return named(target, "token_env", Some(named_var), env);
    }
    let token = env("OS_TOKEN");
    if token.is_none() && file.cloud.is_none() && file.ak_env.is_none() {
        return Err(CliError(
            Exit::Usage,
            format!(
                "error: target {} ({}): its endpoint needs a token: set OS_TOKEN, or name the variable that holds it with token_env",
                target.name,
                target.path.display()
            ),
        ));
    }
    Ok(token)
}

/// The value of the variable a `*_env` key names; a named variable that
/// is unset is an error (the file asked for it).
fn named(
    target: &NamedTarget,
    key: &str,
    variable: Option<&toml::Spanned<String>>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, CliError> {
    let Some(variable) = variable else {
        return Ok(None);
    };
    let name = variable.get_ref();
    match env(name) {
        Some(value) => Ok(Some(value)),
        None => Err(CliError(
            Exit::Usage,
            format!(
                "error: target {} ({}): {key} names {name}, which is not set: export it, or fix the name",
                target.name,
                target.path.display()
            ),
        )),
    }
}

/// The dialect id, or a profile file taken relative to the target file.
fn dialect(target: &NamedTarget) -> String {
    let given = target.file.dialect.as_deref().unwrap_or("nova");
    let is_file = given.ends_with(".yaml") || given.ends_with(".yml");
    match (is_file, target.path.parent()) {
        (true, Some(folder)) if Path::new(given).is_relative() => {
            folder.join(given).display().to_string()
        }
        _ => given.to_string(),
    }
}

/// The matrix, the JUnit file, and the HTML and Markdown reports asked
/// for, of the targets that finished; then the matrix summary.
fn write_reports(args: &RunArgs, dir: &Path, finished: &[Finished]) -> Result<(), CliError> {
    let runs: Vec<TargetRun<'_>> = finished
        .iter()
        .map(|f| TargetRun {
            name: &f.name,
            results_path: f.results_path.display().to_string(),
            results: &f.results,
        })
        .collect();
    let matrix = Matrix::build(&runs);
    let named: Vec<(&str, &RunResults)> = finished
        .iter()
        .map(|f| (f.name.as_str(), &f.results))
        .collect();
    let baseline_given = args.known_failures.is_some();
    let mut errors: Vec<ReportError> = Vec::new();
    let matrix_path = dir.join("matrix.json");
    let mut keep = |r: Result<(), ReportError>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };
    keep(write_matrix(&matrix_path, &matrix));
    keep(write_file(
        &args.junit,
        &crate::report::junit::render_targets(&named),
    ));
    if let Some(path) = &args.html {
        let page = html::render_targets(&named, &matrix, baseline_given);
        keep(write_file(path, page.as_bytes()));
    }
    if let Some(path) = &args.markdown {
        keep(write_file(
            path,
            markdown(&named, baseline_given).as_bytes(),
        ));
    }
    let totals = totals(&named);
    stdout::emit(&format!(
        "{}matrix: {}\n{totals}\n",
        matrix.summary_text(),
        matrix_path.display()
    ))?;
    match errors.is_empty() {
        true => Ok(()),
        false => Err(CliError(
            Exit::Failures,
            errors
                .iter()
                .map(|e| format!("error: reports incomplete: {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}

fn write_matrix(path: &Path, matrix: &Matrix) -> Result<(), ReportError> {
    let text = serde_json::to_vec_pretty(matrix).map_err(|e| ReportError::Render {
        what: "matrix.json",
        message: e.to_string(),
    })?;
    write_file(path, &text)
}

/// A Markdown summary per target, each under a heading naming it.
fn markdown(named: &[(&str, &RunResults)], baseline_given: bool) -> String {
    named
        .iter()
        .map(|(name, results)| {
            let microversion = results
                .run
                .microversion
                .as_deref()
                .map_or(String::new(), |m| format!(", microversion {m}"));
            format!(
                "# target {name} ({}{microversion})\n\n{}",
                results.run.dialect,
                crate::report::markdown::render(results, baseline_given)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last line: every target's cases counted together.
fn totals(named: &[(&str, &RunResults)]) -> String {
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (_, results) in named {
        let s = &results.summary;
        passed += s.passed;
        failed += s.failed + s.errors;
        skipped += s.skipped;
    }
    format!(
        "{} targets: {passed} passed, {failed} failed, {skipped} skipped",
        named.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> RunArgs {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        let mut argv = vec!["run"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).run
    }

    fn target(text: &str) -> NamedTarget {
        NamedTarget {
            name: "t".into(),
            path: PathBuf::from("targets/t.toml"),
            file: TargetFile::parse(Path::new("targets/t.toml"), text).unwrap(),
        }
    }

    #[test]
    fn endpoint_flags_beside_targets_are_refused_by_name() {
        let e =
            refuse_endpoint_flags(&args(&["--microversion", "2.1", "--server", "s"])).unwrap_err();
        assert_eq!(e.0, Exit::Usage);
        assert!(e.1.contains("--microversion, --server"), "{}", e.1);
        assert!(refuse_endpoint_flags(&args(&["--jobs", "2"])).is_ok());
    }

    #[test]
    fn a_target_file_becomes_the_flags_with_credentials_from_the_named_variables() {
        let t = target(
            "dialect = \"nova\"\nmicroversion = \"2.60\"\nendpoint = \"https://c/v2.1/p\"\ntoken_env = \"MY_TOKEN\"\nserver = [\"s1\"]\n",
        );
        let env = |name: &str| (name == "MY_TOKEN").then(|| "tok".to_string());
        let targs = target_args(&args(&[]), &t, env).unwrap();
        assert_eq!(targs.endpoint.token.as_deref(), Some("tok"));
        assert_eq!(targs.endpoint.endpoint.as_deref(), Some("https://c/v2.1/p"));
        assert_eq!(targs.servers, ["s1"]);
        assert!(targs.cloud.microversion.is_some());
        let unset = target_args(&args(&[]), &t, |_| None).unwrap_err();
        assert!(
            unset
                .1
                .contains("token_env names MY_TOKEN, which is not set"),
            "{}",
            unset.1
        );
        // The embedded server takes no token, whatever the environment has.
        let embedded = target_args(&args(&[]), &target(""), |_| Some("x".into())).unwrap();
        assert_eq!(embedded.endpoint.token, None);
    }

    #[test]
    fn a_profile_file_is_relative_to_the_target_file() {
        assert_eq!(dialect(&target("dialect = \"p.yaml\"\n")), "targets/p.yaml");
        assert_eq!(
            dialect(&target("dialect = \"nova-legacy\"\n")),
            "nova-legacy"
        );
    }

    #[test]
    fn names_must_be_unique() {
        let arg: TargetArg = "a=x.toml".parse().unwrap();
        let e = load_targets(&[arg.clone(), arg]).unwrap_err();
        assert!(e.1.contains("--target a is given twice"), "{}", e.1);
    }
}
