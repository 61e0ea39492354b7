//! Running many cases at once, each worker on its own server.
//!
//! `--jobs N` workers are started (at most one per server the target
//! offers); each takes the next case, runs it on its server, and the run
//! emits its start and its result as events ([`super::events`]) as soon as
//! they are known. Where the target cannot
//! empty a server's metadata between cases, each case that runs takes a
//! server of [`Target::fresh_servers`](crate::endpoint::Target) instead, and is
//! skipped (naming `--fresh-server`) when none is left. Before anything runs,
//! the endpoint's pre-flight checks the endpoint and every identity with
//! reads: if that fails, nothing runs (exit 3).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::abort::AbortOnDrop;

use crate::cases::format::{Identity, ServerRef};

use super::applicability::{Skip, needs_fresh_server, no_fresh_server};
use super::events::{Event, EventSink};
use super::execute::{Assignment, Context, Session, not_run, run_case, skipped};
use super::known_failures::KnownFailures;
use super::results::{
    CaseResult, FORMAT_VERSION, RunInfo, RunResults, Summary, Verdict, millis, now_rfc3339,
    strip_endpoint_secrets,
};
use super::servers::Housekeeping;
use crate::cases::LoadedCase;

/// The endpoint could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// The endpoint's pre-flight ([`crate::endpoint::preflight::announce`]):
/// reads only, one line per check; on failure nothing runs (exit 3).
pub async fn preflight(ctx: &Context) -> Result<(), Unreachable> {
    crate::endpoint::preflight::announce(&mut Session::new(ctx))
        .await
        .map_err(|e| Unreachable(e.0))
}

/// What a worker tells the run as it goes.
#[derive(Debug)]
pub enum Progress {
    /// The case at this index began running.
    Started(usize),
    /// The case at this index has its result.
    Finished(usize, Box<CaseResult>),
}

/// Run `cases`, emit each start and result to `events` as it comes, and return
/// the whole run (in case order). `known` marks known failures; `trailing`
/// trials will follow (the property trials), so progress counts to
/// `cases + trailing`.
pub async fn run_and_report(
    ctx: Arc<Context>,
    cases: Arc<Vec<LoadedCase>>,
    known: &KnownFailures,
    events: &mut dyn EventSink,
    embedded: bool,
    trailing: usize,
) -> RunResults {
    let started_at = now_rfc3339();
    let started = Instant::now();
    let count = cases.len();
    let total = count + trailing;
    events.emit(Event::RunStarted { total });
    let admission = super::events::Admission {
        known,
        redactor: &ctx.redactor,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Only `run_all` sends `Started`, with the index into `cases`.
    let cases_of_events = cases.clone();
    // A broken setup primitive: one root-cause finding, every case blocked
    // (no case, nothing depends on it).
    let broken = match cases.is_empty() || ctx.options.interrupt.requested() {
        true => None,
        false => super::primitives::verify(&ctx).await,
    };
    // The root-cause finding takes a slot of its own.
    let (slots, total, runner) = match broken {
        Some(broken) => (
            count + 1,
            total + 1,
            AbortOnDrop::spawn(report_blocked(broken, cases, tx)),
        ),
        // Aborted if this future is dropped (Ctrl-C): no case may go on
        // writing while the servers are being restored.
        None => (
            count,
            total,
            AbortOnDrop::spawn(run_all(ctx.clone(), cases, tx)),
        ),
    };
    let mut slots: Vec<Option<CaseResult>> = vec![None; slots];
    let mut done = 0;
    while let Some(progress) = rx.recv().await {
        let (index, result) = match progress {
            Progress::Started(index) => {
                if let Some(case) = cases_of_events.get(index) {
                    events.emit(Event::CaseStarted { id: &case.case.id });
                }
                continue;
            }
            Progress::Finished(index, result) => (index, admission.admit(*result)),
        };
        done += 1;
        events.emit(Event::CaseFinished {
            result: &result,
            done,
            total,
        });
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(result);
        }
    }
    let _ = runner.join().await;
    let cases: Vec<CaseResult> = slots.into_iter().flatten().collect();
    let mut summary = Summary::default();
    for case in &cases {
        summary.count(case);
    }
    RunResults {
        format_version: FORMAT_VERSION,
        run: RunInfo {
            dialect: ctx.target.profile.id().to_string(),
            endpoint: strip_endpoint_secrets(&ctx.target.endpoint),
            embedded,
            started_at,
            duration_ms: millis(started.elapsed()),
            metaconform_version: env!("CARGO_PKG_VERSION").to_string(),
            interrupted: ctx.options.interrupt.requested(),
            partition: None,
            target: None,
            microversion: tested_microversion(&ctx.target.profile),
            strict: ctx.options.strict,
        },
        summary,
        cases,
    }
}

/// The highest microversion a run on `profile` tests, as the results file
/// records it.
pub fn tested_microversion(profile: &crate::profile::Profile) -> Option<String> {
    profile.rules.microversions.map(|(_, hi)| hi.to_string())
}

/// The root-cause finding (index 0), then every case blocked by it.
async fn report_blocked(
    broken: super::primitives::Broken,
    cases: Arc<Vec<LoadedCase>>,
    results: mpsc::UnboundedSender<Progress>,
) {
    let _ = results.send(Progress::Finished(0, Box::new(broken.0.clone())));
    for (index, case) in cases.iter().enumerate() {
        let skip = Skip {
            kind: super::results::SkipKind::Blocked,
            reason: broken.blocking_reason(),
        };
        if results
            .send(Progress::Finished(index + 1, Box::new(skipped(case, skip))))
            .is_err()
        {
            return;
        }
    }
}

/// Run `cases`; each start and result is sent on `results` with its index.
pub async fn run_all(
    ctx: Arc<Context>,
    cases: Arc<Vec<LoadedCase>>,
    results: mpsc::UnboundedSender<Progress>,
) {
    let workers = ctx.options.jobs.clamp(1, ctx.target.servers.len().max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let fresh_needed = cases
        .iter()
        .filter(|c| needs_fresh_server(&c.case, &ctx.target, &ctx.options))
        .count();
    // Workers share an alt server when there are fewer alt servers than
    // workers: cases that use one take its lock, so one case's lock or
    // write on it cannot meet another's.
    let alt_locks: Arc<BTreeMap<String, tokio::sync::Mutex<()>>> = Arc::new(
        ctx.target
            .alt_servers
            .iter()
            .map(|s| (s.clone(), tokio::sync::Mutex::new(())))
            .collect(),
    );
    let fresh_next = Arc::new(AtomicUsize::new(0));
    let quarantined = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let shared = Shared {
            ctx: ctx.clone(),
            cases: cases.clone(),
            next: next.clone(),
            results: results.clone(),
            alt_locks: alt_locks.clone(),
            fresh_next: fresh_next.clone(),
            fresh_needed,
            quarantined: quarantined.clone(),
        };
        tasks.spawn(async move { work(worker, &shared).await });
    }
    tasks.join_all().await;
    // Every worker's server was quarantined: the cases no worker took are
    // errors naming why, never silently missing from the run.
    let causes = quarantined.lock().map(|q| q.clone()).unwrap_or_default();
    if causes.is_empty() || ctx.options.interrupt.requested() {
        return;
    }
    let why: Vec<String> = causes.iter().map(|(s, c)| format!("{s}: {c}")).collect();
    let reason = format!(
        "not run: every server of the run was quarantined ({})",
        why.join("; ")
    );
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(case) = cases.get(index) else {
            return;
        };
        if results
            .send(Progress::Finished(
                index,
                Box::new(not_run(case, reason.clone())),
            ))
            .is_err()
        {
            return;
        }
    }
}

/// After a case ended in error, whether its server can still be used: one
/// more attempt to bring it back (settled, unlocked, active). A server that
/// cannot be is taken out of the run, so its trouble does not turn every
/// later case on it into an unrelated error.
async fn still_usable(ctx: &Context, server: &str) -> Result<(), String> {
    let mut session = Session::new(ctx);
    session
        .bring_back(server, true, Identity::Owner)
        .await
        .map_err(|e| e.0)
}

/// What the workers of one run share.
struct Shared {
    ctx: Arc<Context>,
    cases: Arc<Vec<LoadedCase>>,
    next: Arc<AtomicUsize>,
    results: mpsc::UnboundedSender<Progress>,
    alt_locks: Arc<BTreeMap<String, tokio::sync::Mutex<()>>>,
    /// The next of the target's fresh servers to hand out.
    fresh_next: Arc<AtomicUsize>,
    /// How many cases of the run need a fresh server.
    fresh_needed: usize,
    /// Servers taken out of the run, with the reason.
    quarantined: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Shared {
    /// The server `case` runs on: the worker's `own`, or, where the target
    /// cannot empty metadata between cases, the next fresh server (a skip
    /// when none is left).
    fn server_for<'s>(&'s self, case: &LoadedCase, own: &'s str) -> Result<&'s str, Skip> {
        let target = &self.ctx.target;
        if !needs_fresh_server(&case.case, target, &self.ctx.options) {
            return Ok(own);
        }
        let index = self.fresh_next.fetch_add(1, Ordering::Relaxed);
        target
            .fresh_servers
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| no_fresh_server(target, self.fresh_needed))
    }
}

/// Whether any step of the case addresses the second project's server.
fn uses_alt_server(case: &LoadedCase) -> bool {
    case.case
        .steps
        .iter()
        .any(|s| s.value.server == ServerRef::Alt)
}

async fn work(worker: usize, shared: &Shared) {
    let ctx = &*shared.ctx;
    let target = &ctx.target;
    let Some(server) = target.servers.get(worker) else {
        return;
    };
    let alt = &target.alt_servers;
    let alt_server = alt.get(worker).or(alt.first());
    let assignment = Assignment {
        server,
        alt_server: alt_server.map(String::as_str),
    };
    if ctx.options.interrupt.requested() {
        return;
    }
    baseline(ctx, server).await;
    loop {
        if ctx.options.interrupt.requested() {
            return;
        }
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(case) = shared.cases.get(index) else {
            return;
        };
        if ctx.auth_guard.tripped() {
            return;
        }
        let lock = alt_server
            .filter(|_| uses_alt_server(case))
            .and_then(|s| shared.alt_locks.get(s));
        let _guard = match lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let result = match shared.server_for(case, server) {
            Ok(server) => {
                let _ = shared.results.send(Progress::Started(index));
                run_case(
                    ctx,
                    case,
                    Assignment {
                        server,
                        ..assignment
                    },
                )
                .await
            }
            Err(skip) => skipped(case, skip),
        };
        let errored = result.verdict == Verdict::Error;
        if shared
            .results
            .send(Progress::Finished(index, Box::new(result)))
            .is_err()
        {
            return;
        }
        if errored && let Err(cause) = still_usable(ctx, server).await {
            let cause = ctx.redactor.text(&cause);
            eprintln!(
                "error: server {server} cannot be brought back ({cause}): quarantined for the rest of the run; the other servers take its cases"
            );
            if let Ok(mut q) = shared.quarantined.lock() {
                q.push((server.to_string(), cause));
            }
            return;
        }
    }
}

/// Bring a worker's server to active and unlocked before its first case;
/// if that fails, the first case's setup reports it.
async fn baseline(ctx: &Context, server: &str) {
    let mut session = Session::new(ctx);
    let _ = session.bring_back(server, true, Identity::Owner).await;
}
