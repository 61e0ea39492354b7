//! `metaconform fuzz`: flags, target set-up (an endpoint, or the embedded
//! mock when none is given), the campaign, and its summary, repro files and
//! JUnit report.
//!
//! Exit codes ([`Exit`], the same meanings as `run`'s): 0 no finding; 1 a
//! finding (a server that could not be prepared is one); 2 bad usage
//! (flags, `--jobs 0`, `--junit -`, too few servers); 3 the endpoint could
//! not be reached or kept refusing the credentials, or a server could not
//! be put back; 4 the campaign could not judge (a worker crashed) or a
//! finding could not be saved (never 1, so a self-test that counts exit 1
//! as "fault found" cannot mistake a broken campaign for a finding); 130
//! stopped by SIGINT or SIGTERM after putting the servers back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::cli::common::{EndpointArgs, ServerSet};
use crate::cli::safety;
use crate::cli::{CliError, Exit};
use crate::endpoint::{Credentials, Target};
use crate::fuzz::campaign::{self, CampaignConfig, CampaignError, CampaignReport, StopRule};
use crate::fuzz::driver::{Driver, DriverError};
use crate::fuzz::shrink::ShrinkLimits;
use crate::fuzz::{embedded, repro};
use crate::run::redact::Redactor;
use crate::serve::Fault;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("remote").args(["endpoint", "os_cloud"]).multiple(true)))]
pub struct FuzzArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// A disposable server of the project (repeatable; one per --jobs
    /// worker).
    #[arg(long = "server", value_name = "ID", requires = "remote")]
    pub servers: Vec<String>,
    /// A server of the second project (with --alt-project-id): sequences
    /// address it with this project's tokens and expect it untouched.
    #[arg(long = "alt-server", value_name = "ID", requires = "remote")]
    pub alt_servers: Vec<String>,
    /// Master seed (default: a fresh one, printed so the run can be replayed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Wall-time budget, e.g. `60s`, `2m`, `500ms`.
    #[arg(long, default_value = "60s", value_parser = parse_duration, conflicts_with_all = ["sequences", "cases"])]
    pub budget: Duration,
    /// Run exactly this many sequences instead of a time budget.
    #[arg(long, value_name = "N")]
    pub sequences: Option<u64>,
    /// The old name of --sequences (`run --cases` is a folder of case
    /// files): still accepted, with a warning.
    #[arg(
        long = "cases",
        value_name = "N",
        hide = true,
        conflicts_with = "sequences"
    )]
    pub cases: Option<u64>,
    /// Parallel workers (each needs its own server); at least 1.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Request rate cap over all workers, e.g. `20/s`.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Steps per generated sequence (at most).
    #[arg(long, default_value_t = 12)]
    pub max_steps: usize,
    /// Allow server actions (stop, pause, lock, ...) against a real endpoint.
    #[arg(long)]
    pub state_changes: bool,
    /// After the campaign, replay the same requests with a bare reqwest loop
    /// and print the fuzzer's throughput as a fraction of that ceiling.
    #[arg(long)]
    pub bench: bool,
    /// Stop as soon as one finding has been shrunk (CI self-tests).
    #[arg(long)]
    pub until_found: bool,
    /// Skip the coverage phase (every pair of input classes once, before the
    /// random sequences) and go straight to random sequences.
    #[arg(long)]
    pub no_coverage_phase: bool,
    /// Write each shrunk finding as a case file into this directory.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write a JUnit XML report to this file (not `-`: stdout carries the
    /// summary).
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub junit: Option<PathBuf>,
    /// Write the campaign as a results file (the format `run --json`
    /// writes: one failed case per finding, with its exchanges), for
    /// `metaconform diff` and scripts.
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub json: Option<PathBuf>,
    /// Where the data-safety journal goes (with --endpoint): what each
    /// server held before the campaign, so it can be put back.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub journal_dir: PathBuf,
    /// Embedded server only: inject this fault (see `serve --list-faults`).
    #[arg(long = "fault", conflicts_with = "endpoint")]
    pub faults: Vec<Fault>,
    /// Servers of the embedded mock (default: two per worker, at least 3).
    #[arg(long)]
    pub embedded_servers: Option<usize>,
    /// Seconds spent shrinking one finding, at most.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub shrink_budget: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub cloud: crate::cli::cloud::CloudArgs,
}

/// `60s`, `2m`, `500ms`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration; write e.g. 60s, 2m, 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{text}'; use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("'{text}': {e}"))
}

/// `20/s`, `20` (per second) or `600/m`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, per) = text.split_once('/').unwrap_or((text, "s"));
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a rate; write e.g. 20/s"))?;
    let per_second = match per.trim() {
        "s" => value,
        "m" => value / 60.0,
        other => return Err(format!("unknown rate unit '{other}'; use /s or /m")),
    };
    if per_second > 0.0 && per_second.is_finite() {
        Ok(per_second)
    } else {
        Err(format!("'{text}' must be a positive rate"))
    }
}

pub fn main(args: FuzzArgs) -> ExitCode {
    let outcome = crate::cli::runtime()
        .map_err(|message| CliError(Exit::Usage, message))
        .and_then(|runtime| runtime.block_on(run(args)));
    match outcome {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

async fn run(mut args: FuzzArgs) -> Result<Exit, CliError> {
    let mut profile = args.endpoint.profile()?;
    let seed = args.seed.unwrap_or_else(fresh_seed);
    if args.cases.is_some() {
        eprintln!(
            "warning: fuzz --cases N is now --sequences N (run --cases names a folder of case files); --cases will go away"
        );
    }
    let longest = crate::endpoint::lease::LONGEST_RUN;
    if args.endpoint.endpoint.is_some()
        && args.sequences.or(args.cases).is_none()
        && args.budget > longest
    {
        return Err(CliError(
            Exit::Usage,
            format!(
                "error: --budget {:?} is longer than a lease on the servers lasts ({} h): another run could take them mid-campaign; split the campaign",
                args.budget,
                longest.as_secs() / 3600
            ),
        ));
    }
    let config = CampaignConfig {
        seed,
        stop: match args.sequences.or(args.cases) {
            Some(n) => StopRule::Sequences(n),
            None => StopRule::Budget(args.budget),
        },
        jobs: usize::from(args.jobs),
        rate: args.rate,
        max_steps: args.max_steps.max(1),
        state_changes: args.state_changes,
        shrink: ShrinkLimits {
            budget: args.shrink_budget,
            ..ShrinkLimits::default()
        },
        timeout: args.timeout,
        until_found: args.until_found,
        capture: args.bench,
        coverage_phase: !args.no_coverage_phase,
        ..CampaignConfig::default()
    };
    let connection =
        crate::cli::cloud::connect(&args.cloud, &mut args.endpoint, &mut profile).await?;
    let (server, target) = match &args.endpoint.endpoint {
        Some(endpoint) => (
            None,
            remote_target(&args, endpoint, profile)?.connected(connection),
        ),
        None => {
            let count = args.embedded_servers.unwrap_or((2 * config.jobs).max(3));
            let (server, target) = embedded::start(profile, count, args.faults.clone(), seed)
                .await
                .map_err(|e| {
                    CliError(
                        Exit::Unreachable,
                        format!("error: cannot start the embedded server: {e}"),
                    )
                })?;
            (Some(server), target)
        }
    };
    let where_ = match &server {
        Some(_) if args.faults.is_empty() => "embedded server".to_string(),
        Some(_) => format!("embedded server with faults {}", fault_names(&args)),
        None => target.endpoint.clone(),
    };
    crate::say!(
        "metaconform fuzz: dialect {}, seed {seed}, {} worker(s), {where_}",
        target.profile.id(),
        config.jobs
    );
    let mut signals =
        crate::cli::ShutdownSignals::install().map_err(|m| CliError(Exit::Usage, m))?;
    let mut keeper = housekeeper(&target, &config)?;
    crate::endpoint::preflight::announce(&mut keeper)
        .await
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    let journal = match target.disposable {
        true => None,
        false => Some(safety::take_snapshot(&mut keeper, &args.journal_dir).await?),
    };
    let campaign = campaign::run(&target, &config);
    let outcome = match safety::finish_or_interrupt(campaign, &mut signals, &config.interrupt).await
    {
        safety::Ending::Finished(report) | safety::Ending::Interrupted(report, _) => Ok(report),
        safety::Ending::Abandoned(signal) => Err(signal),
    };
    let interrupted = config.interrupt.requested();
    let restored = match journal {
        Some(journal) => safety::put_back(&mut keeper, journal, &mut signals, interrupted).await,
        None => Ok(()),
    };
    let report = match outcome {
        Ok(report) => report,
        Err(_) => {
            restored?;
            return Ok(Exit::Interrupted);
        }
    };
    restored?;
    let report = report.map_err(|e| {
        let exit = match e {
            CampaignError::Transport(_) => Exit::Unreachable,
            CampaignError::TooFewServers { .. } | CampaignError::NoToken => Exit::Usage,
            CampaignError::Worker(_) => Exit::Untested,
        };
        CliError(exit, format!("error: {e}")).scrubbed(&crate::endpoint::secrets::Scrubber::new(
            &target.credentials,
        ))
    })?;
    print_summary(&report, &target.credentials);
    if args.bench {
        print_bench(&report).await;
    }
    if let Some(s) = server {
        s.shutdown().await;
    }
    let saved = save_findings(args.save.as_deref(), &report, &target, seed);
    write_reports(&args, &report, &target, seed)
        .map_err(|e| CliError(Exit::Usage, format!("error: {e}")))?;
    if report.interrupted {
        return Ok(Exit::Interrupted);
    }
    Ok(exit_for(&report, saved))
}

/// The connection that snapshots and restores the servers, outside the
/// campaign's workers (paced like them).
fn housekeeper(target: &Target, config: &CampaignConfig) -> Result<Driver, CliError> {
    let transport = target
        .transport(config.timeout)
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    Ok(Driver::new(target.clone(), transport, config.rate, false))
}

/// The remote target the flags describe, built as `run` builds its own
/// ([`EndpointArgs::target`]), or what is missing.
fn remote_target(
    args: &FuzzArgs,
    endpoint: &str,
    profile: crate::profile::Profile,
) -> Result<Target, CliError> {
    if args.servers.is_empty() {
        return Err(CliError(
            Exit::Usage,
            "error: --endpoint needs servers to fuzz: pass --server ID (a disposable server of the project; one per --jobs)".into(),
        ));
    }
    if !args.alt_servers.is_empty() && args.endpoint.alt_project_id.is_none() {
        eprintln!(
            "warning: --alt-server without --alt-project-id (or METACONFORM_ALT_PROJECT_ID): the second project's server is not addressed"
        );
    }
    let servers = ServerSet {
        servers: args.servers.clone(),
        alt_servers: args.alt_servers.clone(),
        fresh_servers: Vec::new(),
    };
    let target = args.endpoint.target(endpoint, profile, servers)?;
    Ok(target)
}

fn fault_names(args: &FuzzArgs) -> String {
    let names: Vec<String> = args.faults.iter().map(|f| format!("{f:?}")).collect();
    names.join(", ")
}

fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    campaign::derive_seed(now, u64::from(std::process::id()))
}

fn print_summary(report: &CampaignReport, credentials: &Credentials) {
    crate::say!(
        "{} sequence(s), {} request(s) in {:.1}s ({:.0} requests/s){}{}",
        report.sequences,
        report.requests,
        report.elapsed.as_secs_f64(),
        report.throughput(),
        if report.backoffs > 0 {
            format!(", {} throttling back-off(s)", report.backoffs)
        } else {
            String::new()
        },
        if report.reconnects > 0 {
            format!(
                ", {} fresh connection(s) after transport errors",
                report.reconnects
            )
        } else {
            String::new()
        }
    );
    print_coverage(report);
    crate::say!(
        "findings: {} distinct cause(s), {} distinct answer class(es) seen",
        report.findings.len(),
        report.answer_classes
    );
    for shrunk in &report.findings {
        let cause = shrunk.finding.cause();
        let hits = report.hits.get(&cause).copied().unwrap_or(1);
        let first = report
            .first_seen
            .get(&cause)
            .map(|at| format!(", first seen at request {at}"))
            .unwrap_or_default();
        crate::say!(
            "
[{hits} failing sequence(s){first}] {}",
            crate::report::finding::render(shrunk, &Redactor::new(credentials))
        );
    }
    for trouble in &report.setup_troubles {
        crate::say!(
            "\n[{} sequence(s) could not start] preparing server {} failed (first at request {}): {}",
            trouble.count,
            trouble.server,
            trouble.first_at_request,
            trouble.reason
        );
    }
    if report.requests > 0 {
        crate::say!(
            "budget: {} of {} request(s) prepared servers ({:.0}%), the rest tested",
            report.setup_requests,
            report.requests,
            100.0 * report.setup_requests as f64 / report.requests as f64
        );
    }
    if let Some(reason) = &report.aborted {
        crate::say!("stopped early: {reason}");
    }
    if report.interrupted {
        println!("interrupted by a signal: the sequences above are those that ran");
    }
}

fn print_coverage(report: &CampaignReport) {
    let coverage = &report.coverage;
    if coverage.sequences == 0 {
        return;
    }
    crate::say!(
        "coverage phase: {} step(s) (concurrency, callers, pairwise input classes, quota, server states) in {} sequence(s), {} request(s){}; then {} random sequence(s)",
        coverage.steps,
        coverage.sequences,
        coverage.requests,
        if coverage.cut_short {
            " (cut short: the budget ran out first)"
        } else {
            ""
        },
        report.sequences
    );
}

async fn print_bench(report: &CampaignReport) {
    let requests = report.captured.iter().map(Vec::len).sum();
    match crate::fuzz::bench::raw_replay(&report.captured).await {
        Ok(raw_elapsed) => {
            let bench = crate::fuzz::bench::BenchReport {
                requests,
                fuzz_elapsed: report.elapsed,
                raw_elapsed,
            };
            crate::say!(
                "bench: fuzz {:.0} requests/s, raw reqwest replay of the same {} requests {:.0} requests/s: {:.0}% of the ceiling",
                bench.fuzz_rate(),
                requests,
                bench.raw_rate(),
                bench.ratio() * 100.0
            );
        }
        Err(e) => eprintln!("bench: raw replay failed: {e}"),
    }
}

/// Write case files; returns whether every finding could be saved.
fn save_findings(dir: Option<&Path>, report: &CampaignReport, target: &Target, seed: u64) -> bool {
    let Some(dir) = dir else {
        return true;
    };
    let mut all = true;
    let mut saved = 0;
    for shrunk in &report.findings {
        match repro::save(dir, shrunk, &target.profile, seed) {
            Ok(path) => {
                saved += 1;
                crate::say!("saved {}", path.display());
            }
            Err(e) => {
                all = false;
                eprintln!("note: {} not saved: {e}", shrunk.finding.cause());
            }
        }
    }
    if saved > 0 {
        crate::say!(
            "run them with the whole catalogue: metaconform run --cases {}",
            dir.display()
        );
    }
    all
}

/// The campaign as a run ([`crate::run::findings::campaign_results`]),
/// written by the one JUnit writer and the one results writer.
fn write_reports(
    args: &FuzzArgs,
    report: &CampaignReport,
    target: &Target,
    seed: u64,
) -> Result<(), crate::report::reporter::ReportError> {
    if args.junit.is_none() && args.json.is_none() {
        return Ok(());
    }
    let redactor = Redactor::new(&target.credentials);
    let results = crate::run::findings::campaign_results(report, target, seed, &redactor);
    if let Some(path) = &args.junit {
        let xml = crate::report::junit::render(&results)?;
        crate::report::reporter::write_file(path, &xml)?;
    }
    if let Some(path) = &args.json {
        crate::report::json::JsonWriter { path: path.clone() }.write(&results)?;
    }
    Ok(())
}

/// The exit code of a finished campaign (see the module doc): an abort or
/// an unsaved finding outranks findings, so exit 1 always means "found".
fn exit_for(report: &CampaignReport, saved: bool) -> Exit {
    match &report.aborted {
        Some(DriverError::Auth(_)) => Exit::Unreachable,
        Some(DriverError::Setup { .. }) => Exit::Untested,
        None if !saved => Exit::Untested,
        None if !report.findings.is_empty() || !report.setup_troubles.is_empty() => Exit::Failures,
        None => Exit::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abort_or_an_unsaved_finding_never_exits_1() {
        let setup = CampaignReport {
            aborted: Some(DriverError::Setup {
                server: "s".into(),
                reason: "gone".into(),
            }),
            ..CampaignReport::default()
        };
        assert_eq!(exit_for(&setup, true), Exit::Untested);
        let auth = CampaignReport {
            aborted: Some(DriverError::Auth("401".into())),
            ..CampaignReport::default()
        };
        assert_eq!(exit_for(&auth, true), Exit::Unreachable);
        assert_eq!(exit_for(&CampaignReport::default(), false), Exit::Untested);
        assert_eq!(exit_for(&CampaignReport::default(), true), Exit::Success);
    }

    #[test]
    fn durations_and_rates_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_rate("20/s"), Ok(20.0));
        assert_eq!(parse_rate("120/m"), Ok(2.0));
        assert!(parse_rate("0").is_err());
    }
}
