//! Benchmark: the whole case catalogue against the embedded reference
//! server, next to a raw reqwest loop against the same server in the same
//! run, sending the same requests.
//!
//! `cargo bench --bench catalogue [-- --jobs N --rounds R]`
//!
//! The runner's rate (requests per second, setup, state changes, read-backs
//! and cleanup included) is reported as a share of the raw loop's, which
//! replays every request the runner sent, with the same concurrency, and
//! does nothing else: no planning, no checks, no records. The target is at
//! least 40%.
//!
//! Each round also runs the catalogue again with the reporters subscribed
//! (terminal, `results.json`, JUnit, written to a temporary folder, the
//! files included in the time) and reports what they add to the run without
//! them. The target is under 10%.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use metaconform::cases::load_dir;
use metaconform::endpoint::Target;
use metaconform::endpoint::http::{RecordedRequest, Transport};
use metaconform::report::json::JsonWriter;
use metaconform::report::junit::JunitWriter;
use metaconform::report::reporter::{Reporter, Subscribers};
use metaconform::report::terminal::Terminal;
use metaconform::run::events::{Event, EventSink};
use metaconform::run::execute::Context;
use metaconform::run::known_failures::KnownFailures;
use metaconform::run::redact::Redactor;
use metaconform::run::results::{RunResults, Verdict};
use metaconform::run::schedule::run_and_report;
use metaconform::run::{RunOptions, embedded, token_var};

fn flag(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let jobs = flag("--jobs", 4);
    let rounds = flag("--rounds", 3);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let cases = Arc::new(load_dir(&dir).unwrap_or_else(|_| panic!("the catalogue does not load")));
    let profile = metaconform::profile::builtin("nova").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (server, target) = embedded::start(profile, jobs, Vec::new()).await.unwrap();
        let ctx = Arc::new(Context {
            redactor: Redactor::new(&target.credentials),
            auth_guard: Arc::default(),
            transport: Transport::new(Duration::from_secs(30)).unwrap(),
            options: RunOptions {
                jobs,
                ..RunOptions::default()
            },
            target: target.clone(),
        });
        let known = KnownFailures::default();
        // Warm-up: connections, allocator, caches.
        let warm = run_and_report(ctx.clone(), cases.clone(), &known, &mut (), true, 0).await;
        let requests = replayable(&warm, &target);
        println!(
            "catalogue: {} cases ({} passed), {} requests per run, {jobs} jobs",
            warm.cases.len(),
            warm.cases.iter().filter(|c| c.verdict == Verdict::Pass).count(),
            requests.len()
        );
        let requests = Arc::new(requests);
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        for round in 1..=rounds {
            let started = Instant::now();
            let results = run_and_report(ctx.clone(), cases.clone(), &known, &mut (), true, 0).await;
            let runner = started.elapsed();
            let sent = exchanges(&results);
            let raw = raw_loop(&client, &requests, jobs).await;
            let reported = with_reporters(&ctx, &cases, &known).await;
            let runner_rate = sent as f64 / runner.as_secs_f64();
            let raw_rate = requests.len() as f64 / raw.as_secs_f64();
            println!(
                "round {round}: runner {:.0} ms, {sent} requests, {runner_rate:.0} req/s | raw reqwest {:.0} ms, {} requests, {raw_rate:.0} req/s | ratio {:.0}% (target >= 40%)",
                runner.as_secs_f64() * 1000.0,
                raw.as_secs_f64() * 1000.0,
                requests.len(),
                100.0 * runner_rate / raw_rate
            );
            println!(
                "round {round}: reporters on {:.0} ms, off {:.0} ms: they add {:+.1}% (target < 10%)",
                reported.as_secs_f64() * 1000.0,
                runner.as_secs_f64() * 1000.0,
                100.0 * (reported.as_secs_f64() / runner.as_secs_f64() - 1.0)
            );
        }
        server.shutdown().await;
    });
}

/// One more catalogue run with the terminal, JSON and JUnit reporters
/// subscribed, its files written; how long it took.
async fn with_reporters(
    ctx: &Arc<Context>,
    cases: &Arc<Vec<metaconform::cases::LoadedCase>>,
    known: &KnownFailures,
) -> Duration {
    let dir = std::env::temp_dir().join(format!("metaconform-bench-{}", std::process::id()));
    let mut terminal = Terminal::detect(None);
    let mut json = JsonWriter {
        path: dir.join("results.json"),
    };
    let mut junit = JunitWriter {
        path: dir.join("junit.xml"),
    };
    let reporters: Vec<&mut dyn Reporter> = vec![&mut terminal, &mut json, &mut junit];
    let mut subscribers = Subscribers::new(reporters);
    let started = Instant::now();
    let results =
        run_and_report(ctx.clone(), cases.clone(), known, &mut subscribers, true, 0).await;
    subscribers.emit(Event::RunFinished { results: &results });
    let took = started.elapsed();
    let errors = subscribers.errors();
    assert!(errors.is_empty(), "{errors:?}");
    let _ = std::fs::remove_dir_all(&dir);
    took
}

fn exchanges(results: &RunResults) -> usize {
    results.cases.iter().map(|c| c.exchanges.len()).sum()
}

/// Every request of a run, with the tokens put back in.
fn replayable(results: &RunResults, target: &Target) -> Vec<RecordedRequest> {
    use metaconform::cases::format::Identity;
    let creds = &target.credentials;
    let token = |var: &str| {
        [
            Identity::Owner,
            Identity::Admin,
            Identity::Reader,
            Identity::Alt,
        ]
        .into_iter()
        .find(|i| token_var(*i) == Some(var))
        .and_then(|i| metaconform::run::token_of(creds, i).ok().flatten())
        .unwrap_or_default()
        .to_string()
    };
    results
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .map(|e| RecordedRequest {
            method: e.request.method.clone(),
            url: e.request.url.clone(),
            headers: e
                .request
                .headers
                .iter()
                .map(|(n, v)| match v.strip_prefix('$') {
                    Some(var) if n.eq_ignore_ascii_case("x-auth-token") => (n.clone(), token(var)),
                    _ => (n.clone(), v.clone()),
                })
                .collect(),
            body: match &e.request.body_hex {
                Some(hex) => hex::decode(hex).unwrap_or_default(),
                None => e.request.body.clone().into_bytes(),
            },
        })
        .collect()
}

/// Send every request with `jobs` concurrent senders through a plain
/// reqwest client, reading each body; nothing else.
async fn raw_loop(
    client: &reqwest::Client,
    requests: &Arc<Vec<RecordedRequest>>,
    jobs: usize,
) -> Duration {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..jobs {
        let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
        tasks.spawn(async move {
            while let Some(r) = requests.get(next.fetch_add(1, Ordering::Relaxed)) {
                let method = reqwest::Method::from_bytes(r.method.as_bytes())
                    .unwrap_or(reqwest::Method::GET);
                let mut builder = client.request(method, &r.url).body(r.body.clone());
                for (n, v) in &r.headers {
                    builder = builder.header(n, v);
                }
                if let Ok(response) = builder.send().await {
                    let _ = response.bytes().await;
                }
            }
        });
    }
    tasks.join_all().await;
    started.elapsed()
}
