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
//! the cloud locks the access key; spec §7.4); 4 when the selection (FILTER,
//! `--skip`, `--area`, `--tag`, the case folders) matched no case and no
//! trial, or every case it matched was skipped so that nothing was tested
//! (`--no-tests=pass|warn` allow both; see [`crate::cli::select`]). Skips that
//! are the dialect's nature (an operation it lacks, a state its API cannot
//! reach, a microversion it does not serve, a case for other dialects) and
//! skips written in the case file do not gate. Known failures are reported
//! but do not gate. The last line is always `N passed, N failed, N skipped`
//! (failed counts errors too); the line above it names the catalogue that
//! ran and its size.
//!
//! `--target NAME=FILE` (repeatable) runs several targets, one after
//! another, each through [`run_connected`] as one run; see
//! [`crate::cli::targets`].

use crate::endpoint::journal::SharedJournal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cases::LoadedCase;
use crate::cases::partition::Partition;
use crate::cli::common::{EndpointArgs, ServerSet};
use crate::cli::safety::{self, Ending};
use crate::cli::select::{Plan, SelectArgs};
use crate::cli::stdout;
use crate::cli::target_file::TargetArg;
use crate::cli::{CliError, Exit};
use crate::endpoint::Target;
use crate::endpoint::secrets::Scrubber;
use crate::fuzz::properties::{PropertyOptions, PropertyTrial};
use crate::profile::Profile;
use crate::report::html::{self, HtmlWriter};
use crate::report::json::JsonWriter;
use crate::report::junit::JunitWriter;
use crate::report::markdown::MarkdownWriter;
use crate::report::reporter::{Reporter, Subscribers};
use crate::report::subunit::SubunitWriter;
use crate::report::terminal::Terminal;
use crate::run::auth_guard::AuthGuard;
use crate::run::embedded;
use crate::run::events::{Event, EventSink};
use crate::run::execute::{Context, Session};
use crate::run::known_failures::KnownFailures;
use crate::run::properties;
use crate::run::redact::Redactor;
use crate::run::schedule::{preflight, run_and_report};
use crate::run::{RunOptions, results::RunResults};
use crate::serve::Fault;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// List the selected cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Run one shard of the selection: `count:K/N` deals the cases out in
    /// turn, `hash:K/N` by a hash of the id (stable when the selection
    /// changes); merge the shards' results with `metaconform merge`.
    #[arg(long, value_name = "count:K/N|hash:K/N")]
    pub partition: Option<Partition>,
    /// Output format of --list.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// One target of a multi-target run, NAME=FILE (repeatable): FILE is a
    /// TOML file with the target's dialect, microversion and endpoint or
    /// cloud (neither: the embedded server), credentials named by their
    /// environment variables (`metaconform schema target`). The targets
    /// run one after another with the same selection; each writes
    /// DIR/NAME/results.json (DIR: --json's folder), and the run writes
    /// DIR/matrix.json, one --junit with a testsuite per target, and
    /// --html with a matrix view. Not with the endpoint flags (--endpoint,
    /// --os-cloud, --dialect, --microversion, --server, ...): a target
    /// file says all that.
    #[arg(long = "target", value_name = "NAME=FILE")]
    pub targets: Vec<TargetArg>,
    /// Embedded server, Huawei dialects: how the project member
    /// authenticates, with the startup line's token or by signing every
    /// request with its AK/SK pair.
    #[arg(long, value_enum)]
    pub auth: Option<AuthMode>,
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
    /// The JUnit XML report: every case, with the whole transcript of those
    /// that failed (a file; not `-`, stdout carries the summary).
    #[arg(long, value_name = "FILE", default_value = "reports/junit.xml", value_parser = crate::cli::report_file)]
    pub junit: PathBuf,
    /// The results file: every case and every exchange, as JSON (a file;
    /// not `-`).
    #[arg(long, value_name = "FILE", default_value = "reports/results.json", value_parser = crate::cli::report_file)]
    pub json: PathBuf,
    /// A Markdown summary for a CI job summary (GitHub's
    /// `$GITHUB_STEP_SUMMARY`): totals, the gate, the failures (capped).
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub markdown: Option<PathBuf>,
    /// One self-contained HTML report (fetches nothing): every case by area
    /// with filters, each failure with its exchanges and curl repros.
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub html: Option<PathBuf>,
    /// Write no results.json and no JUnit: the baseline of
    /// `benches/reporters.sh`, which measures what the reporters cost.
    #[arg(long, hide = true, conflicts_with_all = ["json", "junit"])]
    pub no_report_files: bool,
    /// A subunit v2 stream of the run, for OpenStack's tooling (stestr
    /// load, subunit2html, subunit2sql), written case by case.
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub subunit: Option<PathBuf>,
    /// Cases run at once, each on its own server.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Baseline: a YAML list of `{id, reason, link?, expires?: YYYY-MM-DD}`;
    /// listed failures are reported but do not fail the run, until their
    /// entry expires (also --known-failures).
    #[arg(
        long = "baseline",
        visible_alias = "known-failures",
        value_name = "FILE"
    )]
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
    /// Fail a step whose answer its case only tolerates (a `tolerate`
    /// entry: arguably wrong, not broken) instead of passing it.
    #[arg(long)]
    pub strict: bool,
    /// Seconds to wait for a server to settle after an action.
    #[arg(long, default_value_t = 300)]
    pub state_timeout: u64,
    /// Request rate cap over the whole run, e.g. `5/s` (429 answers are
    /// retried after their Retry-After either way).
    #[arg(long, value_parser = crate::cli::fuzz::parse_rate)]
    pub rate: Option<f64>,
    /// Per-request timeout, e.g. `60s`.
    #[arg(long, default_value = "60s", value_parser = crate::cli::fuzz::parse_duration)]
    pub timeout: Duration,
    /// Flavor id the `resize` action asks for (must differ from each
    /// server's own flavor). Default: per resize, the first flavor of the
    /// endpoint's flavor list (by id) that is not the server's.
    #[arg(long, value_name = "ID")]
    pub resize_flavor: Option<String>,
    /// Generated examples per property trial (`prop::*`, run after the
    /// cases).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub prop_cases: u64,
    /// Leave out the property trials (`prop::*`).
    #[arg(long)]
    pub no_props: bool,
    /// With --endpoint: write nothing; read the servers, rehearse the run
    /// on the reference model seeded with what they hold, and list every
    /// write it would make, per server.
    #[arg(long)]
    pub dry_run: bool,
    /// Where the data-safety journal goes (with --endpoint): what each
    /// server held before the run, so it can be put back.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub journal_dir: PathBuf,
    #[command(flatten)]
    pub cloud: crate::cli::cloud::CloudArgs,
    #[command(flatten)]
    pub create: safety::CreateArgs,
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

pub fn main(args: RunArgs) -> ExitCode {
    match run(args) {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn run(mut args: RunArgs) -> Result<Exit, CliError> {
    let mut profile = args.endpoint.profile()?;
    let mut plan = args.select.plan(args.select.catalogue()?, args.no_props)?;
    if !args.list && !args.coverage {
        args.select.require_some(&plan)?;
    }
    if let Some(partition) = args.partition {
        plan = shard(partition, plan);
    }
    if args.list {
        return list(&plan.cases, &plan.trials, args.format);
    }
    if args.coverage {
        return print_coverage(&plan.cases, &profile);
    }
    let known = load_known(&args, &plan)?;
    if !args.targets.is_empty() {
        return crate::cli::targets::run(args, plan, known);
    }
    let runtime = crate::cli::runtime().map_err(|message| CliError(Exit::Usage, message))?;
    let connection = runtime.block_on(crate::cli::cloud::connect(
        &args.cloud,
        &mut args.endpoint,
        &mut profile,
    ))?;
    let outputs = Outputs::of(&args);
    let select = args.select.clone();
    // A shard (`--partition`) is one part of a run: that it skipped all of
    // its share says nothing of the whole.
    let whole_run = args.partition.is_none();
    let executed = run_connected(args, &runtime, profile, connection, plan, &known, outputs)?;
    if let (Exit::Success, Some(results), true) = (executed.exit, &executed.results, whole_run) {
        select.require_tested(results)?;
    }
    Ok(executed.exit)
}

/// The baseline of `--baseline`, with a warning per expired entry and per
/// id that is not selected.
fn load_known(args: &RunArgs, plan: &Plan) -> Result<KnownFailures, CliError> {
    let known = match &args.known_failures {
        Some(path) => {
            KnownFailures::load(path).map_err(|d| CliError(Exit::Usage, d.to_string()))?
        }
        None => KnownFailures::default(),
    };
    for (id, day) in known.expired(crate::run::known_failures::today()) {
        eprintln!(
            "warning: the baseline entry for '{id}' expired on {day}: it no longer excuses a failure; review it (fix the endpoint, or renew the entry with a new expires)"
        );
    }
    let ids: Vec<&str> = plan
        .cases
        .iter()
        .map(|c| c.case.id.as_str())
        .chain(plan.trials.iter().map(|t| t.name))
        .collect();
    for id in known.unknown_ids(&ids) {
        eprintln!("warning: known-failures lists '{id}', which is not a selected case");
    }
    Ok(known)
}

/// One target's run, once its cloud (if any) is connected and `profile`
/// capped: the checks of the flags, then the cases, the reports of
/// `outputs` and the restore.
pub fn run_connected(
    args: RunArgs,
    runtime: &tokio::runtime::Runtime,
    profile: Profile,
    connection: crate::endpoint::auth::Connection,
    plan: Plan,
    known: &KnownFailures,
    outputs: Outputs,
) -> Result<Executed, CliError> {
    check_auth_flag(&args)?;
    let faults = parse_faults(&args)?;
    let remote = match &args.endpoint.endpoint {
        Some(endpoint) => {
            Some(remote_target(&args, endpoint, profile.clone())?.connected(connection))
        }
        None => None,
    };
    if args.create.recipe().is_some() && remote.is_none() {
        return Err(CliError(
            Exit::Usage,
            "error: --create-servers creates servers on --endpoint; the embedded server has its own".into(),
        ));
    }
    if args.dry_run && args.create.recipe().is_some() {
        return Err(CliError(
            Exit::Usage,
            "error: --dry-run lists the writes to lent servers; servers the run would create are new and empty: drop --create-servers".into(),
        ));
    }
    if args.dry_run {
        let target = remote.ok_or_else(|| {
            CliError(
                Exit::Usage,
                "error: --dry-run lists the writes to a lent endpoint's servers: pass --endpoint (the embedded server is disposable)".into(),
            )
        })?;
        let options = run_options(&args);
        return runtime
            .block_on(crate::cli::dry_run::execute(
                &args, options, plan.cases, target,
            ))
            .map(|exit| Executed {
                exit,
                results: None,
            });
    }
    let scrubber = remote
        .as_ref()
        .map(|t| Scrubber::new(&t.credentials))
        .unwrap_or_default();
    runtime
        .block_on(execute(args, profile, plan, known, faults, remote, outputs))
        .map_err(|e| e.scrubbed(&scrubber))
}

/// Where one run's reports go.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The results file.
    pub json: PathBuf,
    /// The report holding every exchange, named under the failures.
    pub transcripts: PathBuf,
    /// The JUnit, Markdown and HTML reports of this run alone (a
    /// multi-target run writes them once, for every target).
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// The subunit stream (a multi-target run writes one per target).
    pub subunit: Option<PathBuf>,
    /// The target's name in a multi-target run.
    pub target: Option<String>,
}

impl Outputs {
    /// The reports the flags ask for, of a one-target run.
    fn of(args: &RunArgs) -> Outputs {
        Outputs {
            json: args.json.clone(),
            transcripts: args.junit.clone(),
            junit: Some(args.junit.clone()),
            markdown: args.markdown.clone(),
            html: args.html.clone(),
            subunit: args.subunit.clone(),
            target: None,
        }
    }
}

/// How a run ended: its exit code, and its results when it wrote them.
#[derive(Debug)]
pub struct Executed {
    pub exit: Exit,
    pub results: Option<RunResults>,
}

fn run_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        jobs: usize::from(args.jobs),
        state_timeout: Duration::from_secs(args.state_timeout),
        no_state_changes: args.no_state_changes,
        resize_flavor: args.resize_flavor.clone(),
        strict: args.strict,
        interrupt: Default::default(),
        create_recipe: args.create.image_and_flavor(),
        journal: None,
    }
}

/// This shard's cases and trials: the trials are dealt out after the
/// cases, as if they followed them in one list. The catalogue line says
/// which shard ran.
fn shard(partition: Partition, plan: Plan) -> Plan {
    let offset = plan.cases.len();
    let cases = partition.apply(plan.cases, |c| c.case.id.as_str());
    let trials: Vec<PropertyTrial> = plan
        .trials
        .into_iter()
        .enumerate()
        .filter(|(i, t)| partition.keeps(offset + i, t.name))
        .map(|(_, t)| t)
        .collect();
    let catalogue_line = format!(
        "{}; this shard ({partition}): {} and {}",
        plan.catalogue_line,
        crate::cases::sources::plural(cases.len(), "case"),
        crate::cases::sources::plural(trials.len(), "trial")
    );
    Plan {
        cases,
        trials,
        catalogue_line,
        ..plan
    }
}

fn list(
    cases: &[LoadedCase],
    trials: &[PropertyTrial],
    format: ListFormat,
) -> Result<Exit, CliError> {
    let text = match format {
        ListFormat::Human => {
            let mut text = String::new();
            for c in cases {
                text.push_str(&format!("{}: {}\n", c.case.id, c.case.name));
            }
            for t in trials {
                text.push_str(&format!("{}: {}\n", t.name, properties::describe(t.name).0));
            }
            text
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
            let text = serde_json::to_string_pretty(&entries).map_err(|e| {
                CliError(Exit::Usage, format!("error: cannot render the list: {e}"))
            })?;
            format!("{text}\n")
        }
    };
    stdout::emit(&text)?;
    Ok(Exit::Success)
}

/// Cases per spec rule: those `profile`'s dialect runs, and those of the
/// whole catalogue; exit 1 when a rule has no case at all.
fn print_coverage(cases: &[LoadedCase], profile: &Profile) -> Result<Exit, CliError> {
    let planned = embedded::planning_target(profile.clone());
    let dialect = profile.id();
    let applying: Vec<LoadedCase> = cases
        .iter()
        .filter(|c| crate::run::applicability::for_dialect(&c.case, &planned))
        .cloned()
        .collect();
    let mut text = format!(
        "{} of {} cases apply to {dialect}\n",
        applying.len(),
        cases.len()
    );
    let ours = crate::cases::coverage(&applying);
    let all = crate::cases::coverage(cases);
    for rule in crate::cases::RULES {
        let count = |counts: &std::collections::BTreeMap<String, usize>| {
            counts.get(rule.section).copied().unwrap_or(0)
        };
        text.push_str(&format!(
            "§{:<6} {:>4} cases ({:>4} in all)  {}\n",
            rule.section,
            count(&ours),
            count(&all),
            rule.title
        ));
    }
    let sections = |missing: Vec<crate::cases::Rule>| -> String {
        missing
            .iter()
            .map(|r| r.section)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let not_here = crate::cases::missing(&ours);
    if !not_here.is_empty() {
        text.push_str(&format!(
            "rules {dialect} runs no case of: {}\n",
            sections(not_here)
        ));
    }
    let missing = crate::cases::missing(&all);
    let exit = if missing.is_empty() {
        text.push_str("every rule has at least one case\n");
        Exit::Success
    } else {
        text.push_str(&format!("rules without cases: {}\n", sections(missing)));
        Exit::Failures
    };
    stdout::emit(&text)?;
    Ok(exit)
}

/// `--auth` is for the embedded server only.
fn check_auth_flag(args: &RunArgs) -> Result<(), CliError> {
    if args.auth.is_some() && args.endpoint.endpoint.is_some() {
        return Err(CliError(
            Exit::Usage,
            "error: --auth picks the embedded server's credentials; with --endpoint pass --ak and --sk (or --sk-file) to sign with AK/SK, or a token".into(),
        ));
    }
    Ok(())
}

fn parse_faults(args: &RunArgs) -> Result<Vec<Fault>, CliError> {
    if !args.faults.is_empty() && args.endpoint.endpoint.is_some() {
        return Err(CliError(
            Exit::Usage,
            "error: --fault applies to the embedded server only; drop --endpoint, or start `metaconform serve --fault ...` and point --endpoint at it".into(),
        ));
    }
    args.faults
        .iter()
        .map(|f| f.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError(Exit::Usage, format!("error: --fault: {e}")))
}

/// The target the flags describe, or what is missing.
fn remote_target(args: &RunArgs, endpoint: &str, profile: Profile) -> Result<Target, CliError> {
    if args.servers.is_empty() && args.create.recipe().is_none() {
        return Err(CliError(
            Exit::Usage,
            "error: --endpoint needs servers to test: pass --server ID (a server of the project that the run may change; one per --jobs), or --create-servers N --image REF --flavor REF".into(),
        ));
    }
    if args.create.recipe().is_some() && !crate::endpoint::provision::can_create(&profile) {
        return Err(CliError(
            Exit::Usage,
            format!(
                "error: --create-servers creates servers the Nova way (POST /servers, microversion 2.37); the {} dialect does not: pass --server ID",
                profile.id()
            ),
        ));
    }
    let servers = ServerSet {
        servers: args.servers.clone(),
        alt_servers: args.alt_servers.clone(),
        fresh_servers: args.fresh_servers.clone(),
    };
    args.endpoint.target(endpoint, profile, servers)
}

async fn execute(
    args: RunArgs,
    profile: Profile,
    plan: Plan,
    known: &KnownFailures,
    faults: Vec<Fault>,
    remote: Option<Target>,
    outputs: Outputs,
) -> Result<Executed, CliError> {
    let Plan {
        cases,
        trials,
        catalogue_line,
        ..
    } = plan;
    let embedded_run = remote.is_none();
    let options = run_options(&args);
    let (server, target) = match remote {
        Some(target) => (None, target),
        None => {
            let fresh = fresh_servers_needed(&cases, profile.clone(), &options);
            let (server, target) =
                embedded::start_with_fresh(profile, usize::from(args.jobs), fresh, faults)
                    .await
                    .map_err(|e| {
                        CliError(
                            Exit::Unreachable,
                            format!("error: cannot start the embedded server: {e}"),
                        )
                    })?;
            let dialect = target.profile.id().to_string();
            let target = match args.auth {
                Some(AuthMode::Aksk) => embedded::use_access_key(target, server.info())
                    .ok_or_else(|| {
                        CliError(
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
    let transport = target
        .transport(args.timeout)
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?
        .paced(args.rate);
    let mut ctx = Context {
        redactor: Redactor::new(&target.credentials),
        target,
        transport,
        options,
        auth_guard: Arc::default(),
    };
    let mut signals =
        crate::cli::ShutdownSignals::install().map_err(|m| CliError(Exit::Usage, m))?;
    let lent = !ctx.target.servers.is_empty();
    if lent && let Err(e) = preflight(&ctx).await {
        return Err(CliError(Exit::Unreachable, format!("error: {e}")));
    }
    let journal = match ctx.target.disposable {
        true => None,
        false => Some(SharedJournal::new(
            safety::take_snapshot(&mut Session::new(&ctx), &args.journal_dir).await?,
        )),
    };
    // Every server created from here on (by --create-servers or by a
    // case's create step) is recorded in it.
    ctx.options.journal = journal.clone();
    if let (Some((count, recipe)), Some(journal)) = (args.create.recipe(), journal.as_ref())
        && let Err(e) = provision(&mut ctx, journal, count, &recipe, lent).await
    {
        let mut session = Session::new(&ctx);
        safety::put_back(&mut session, journal.current(), &mut signals, false).await?;
        return Err(e);
    }
    let ctx = Arc::new(ctx);
    // with --no-report-files no JUnit file holds the transcripts
    let transcripts = (!args.no_report_files).then(|| outputs.transcripts.clone());
    let mut terminal = Terminal::detect(transcripts).with_catalogue(catalogue_line);
    let mut json = JsonWriter { path: outputs.json };
    let mut junit = outputs.junit.map(|path| JunitWriter { path });
    let baseline_given = args.known_failures.is_some();
    let mut markdown = outputs.markdown.map(|path| MarkdownWriter {
        path,
        baseline_given,
    });
    let mut html = outputs.html.map(|path| HtmlWriter {
        path,
        header: html::Header {
            microversions: microversion_range(&ctx.target),
            baseline_given,
        },
    });
    let mut reporters: Vec<&mut dyn Reporter> = vec![&mut terminal];
    if !args.no_report_files {
        reporters.push(&mut json);
        if let Some(junit) = junit.as_mut() {
            reporters.push(junit);
        }
    }
    if let Some(markdown) = markdown.as_mut() {
        reporters.push(markdown);
    }
    if let Some(html) = html.as_mut() {
        reporters.push(html);
    }
    let mut subunit = outputs.subunit.map(SubunitWriter::new);
    if let Some(subunit) = subunit.as_mut() {
        reporters.push(subunit);
    }
    let mut subscribers = Subscribers::new(reporters);
    let trial_options = PropertyOptions {
        rate: args.rate,
        ..properties::options(args.prop_cases)
    };
    let phase = run_phase(
        &ctx,
        cases,
        &trials,
        trial_options,
        known,
        &mut subscribers,
        embedded_run,
    );
    let ending = safety::finish_or_interrupt(phase, &mut signals, &ctx.options.interrupt).await;
    // Reports first: an interrupted run still leaves its summary and files,
    // even if the restore below is abandoned.
    let (results, reported) = match ending {
        Ending::Finished(mut results) | Ending::Interrupted(mut results, _) => {
            results.run.partition = args.partition.map(|p| p.to_string());
            results.run.target = outputs.target.clone();
            subscribers.emit(Event::RunFinished { results: &results });
            (Some(results), finish(subscribers))
        }
        Ending::Abandoned(_) => (None, Ok(())),
    };
    let restored = match journal {
        Some(journal) => {
            let mut session = Session::new(&ctx);
            let interrupted = ctx.options.interrupt.requested();
            safety::put_back(&mut session, journal.current(), &mut signals, interrupted).await
        }
        None => Ok(()),
    };
    if let Some(server) = server {
        server.shutdown().await;
    }
    restored?;
    reported?;
    let exit = match &results {
        Some(results) if !results.run.interrupted => exit_code(results),
        _ => Exit::Interrupted,
    };
    if exit != Exit::Interrupted && ctx.auth_guard.tripped() {
        return Err(CliError(Exit::Unreachable, AuthGuard::message()));
    }
    Ok(Executed { exit, results })
}

/// Create the `--create-servers` servers and add them to the target; the
/// pre-flight check runs on them when no server was lent.
async fn provision(
    ctx: &mut Context,
    journal: &SharedJournal,
    count: u16,
    recipe: &crate::endpoint::provision::Recipe,
    lent: bool,
) -> Result<(), CliError> {
    let run = crate::endpoint::journal::Journal::run_id(&journal.current().path);
    let created = safety::create_servers(&mut Session::new(ctx), &run, count, recipe).await?;
    ctx.target.servers.extend(created);
    if !lent {
        preflight(ctx)
            .await
            .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    }
    Ok(())
}

/// The cases, then the property trials (unless AK/SK signing was refused).
async fn run_phase(
    ctx: &Arc<Context>,
    cases: Vec<LoadedCase>,
    trials: &[PropertyTrial],
    trial_options: PropertyOptions,
    known: &KnownFailures,
    events: &mut dyn EventSink,
    embedded: bool,
) -> RunResults {
    let mut results = run_and_report(
        ctx.clone(),
        Arc::new(cases),
        known,
        events,
        embedded,
        trials.len(),
    )
    .await;
    if !ctx.auth_guard.tripped() {
        properties::run_and_append(
            trials,
            &ctx.target,
            &ctx.options,
            trial_options,
            &crate::run::events::Admission {
                known,
                redactor: &ctx.redactor,
            },
            events,
            &mut results,
        )
        .await;
    }
    results
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

/// The profile's microversion range, for the HTML report's header.
fn microversion_range(target: &Target) -> Option<String> {
    let (lo, hi) = target.profile.rules.microversions?;
    Some(format!("{lo} to {hi}"))
}

/// The reports that could not be written, named once each, in one error.
fn finish(subscribers: Subscribers<'_>) -> Result<(), CliError> {
    let failed: Vec<String> = subscribers
        .errors()
        .into_iter()
        .map(|e| format!("error: reports incomplete: {e}"))
        .collect();
    match failed.is_empty() {
        true => Ok(()),
        false => Err(CliError(Exit::Failures, failed.join("\n"))),
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
