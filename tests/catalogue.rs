//! The whole case catalogue against the embedded reference server, one
//! libtest-mimic trial per case: `cargo test --test catalogue -- FILTER`
//! runs the cases whose id contains FILTER, like any test.
//!
//! Cases the nova dialect cannot run (other dialects, unreachable states)
//! are ignored trials; every other case must pass, and at least
//! `MIN_RUNNABLE` of them must run (the trial `catalogue.minimum-runnable`). Each trial borrows one
//! of the mock's servers from a pool, so trials run in parallel on
//! different servers exactly as `metaconform run --jobs N` does.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use metaconform::cases::{LoadedCase, load_dir};
use metaconform::endpoint::http::Transport;
use metaconform::report::failure::reason;
use metaconform::run::execute::{Assignment, Context, run_case};
use metaconform::run::redact::Redactor;
use metaconform::run::results::Verdict;
use metaconform::run::{RunOptions, applicability, embedded};

/// Servers of the mock, lent to one trial at a time.
struct Pool {
    free: Mutex<Vec<(String, Option<String>)>>,
    returned: Condvar,
}

impl Pool {
    fn take(&self) -> (String, Option<String>) {
        let mut free = self.free.lock().unwrap();
        loop {
            if let Some(pair) = free.pop() {
                return pair;
            }
            free = self.returned.wait(free).unwrap();
        }
    }

    fn give_back(&self, pair: (String, Option<String>)) {
        self.free.lock().unwrap().push(pair);
        self.returned.notify_one();
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let cases = load_dir(&dir).unwrap_or_else(|diags| {
        for d in diags {
            eprintln!("{d}");
        }
        panic!("the catalogue does not load");
    });
    let profile = metaconform::profile::builtin("nova").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let servers = args
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(4, |n| n.get()))
        .max(1);
    let (server, target) = runtime
        .block_on(embedded::start(profile, servers, Vec::new()))
        .unwrap();
    let pool = Arc::new(Pool {
        free: Mutex::new(
            target
                .servers
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), target.alt_servers.get(i).cloned()))
                .collect(),
        ),
        returned: Condvar::new(),
    });
    let ctx = Arc::new(Context {
        redactor: Redactor::new(&target.credentials),
        auth_guard: Arc::default(),
        transport: Transport::new(Duration::from_secs(30)).unwrap(),
        options: RunOptions::default(),
        target,
    });
    let handle = runtime.handle().clone();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| trial(case, &ctx, &pool, &handle))
        .collect();
    let runnable = trials.iter().filter(|t| !t.has_ignored_flag()).count();
    trials.push(minimum_runnable(runnable));
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(server.shutdown());
    conclusion.exit();
}

/// Cases of the checked-in catalogue that applicability lets run on the
/// nova mock. Every other case becomes an ignored trial, which passes
/// silently: a change that skips cases "for the dialect's nature" would
/// leave the suite green, so the count must not drop below this. Raise it
/// when cases are added; lower it only with the reason in the commit.
const MIN_RUNNABLE: usize = 708;

/// A trial that fails when fewer than [`MIN_RUNNABLE`] cases run.
fn minimum_runnable(runnable: usize) -> Trial {
    Trial::test("catalogue.minimum-runnable", move || {
        if runnable >= MIN_RUNNABLE {
            Ok(())
        } else {
            Err(Failed::from(format!(
                "only {runnable} cases of the catalogue run on the nova mock, at least {MIN_RUNNABLE} must: applicability skips cases it used to run"
            )))
        }
    })
}

fn trial(
    case: LoadedCase,
    ctx: &Arc<Context>,
    pool: &Arc<Pool>,
    handle: &tokio::runtime::Handle,
) -> Trial {
    let ignored = applicability::check(&case.case, &ctx.target, &ctx.options).is_err();
    let (ctx, pool, handle) = (ctx.clone(), pool.clone(), handle.clone());
    let name = case.case.id.clone();
    let area = case.area.clone();
    Trial::test(name, move || {
        let (server, alt) = pool.take();
        let assignment = Assignment {
            server: &server,
            alt_server: alt.as_deref(),
        };
        let result = handle.block_on(run_case(&ctx, &case, assignment));
        pool.give_back((server.clone(), alt.clone()));
        match result.verdict {
            Verdict::Pass => Ok(()),
            Verdict::Skip => Err(Failed::from(format!(
                "skipped at run time: {}",
                reason(&result).unwrap_or_default()
            ))),
            Verdict::Fail | Verdict::Error => Err(Failed::from(format!(
                "{:?}: {}",
                result.verdict,
                reason(&result).unwrap_or_default()
            ))),
        }
    })
    .with_kind(area)
    .with_ignored_flag(ignored)
}
