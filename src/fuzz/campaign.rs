//! A fuzzing campaign: workers, seeds, budget, deduplication and summary.
//!
//! Every worker has its own seed derived from the master seed and its own
//! servers, so a run is deterministic for a seed against a deterministic
//! endpoint, also with several workers: with `--sequences N`, worker `w` runs
//! sequences `w, w + jobs, w + 2·jobs, …`, each generated from
//! `(worker seed, sequence number)` alone. A failing sequence is shrunk and
//! re-checked once per cause; later sequences failing for a known cause only
//! count towards it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::task::JoinSet;

use crate::cases::format::Identity;
use crate::endpoint::Target;
use crate::endpoint::secrets::Scrubber;

use super::coverage;
use super::driver::{Driver, DriverError};
use super::novelty::Corpus;
use super::shrink::{ShrinkLimits, Shrunk, shrink};
use super::stateful::{self, Cause, Finding, Shape, execute};
use super::step::Step;

/// When a campaign stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRule {
    /// After this many sequences in total.
    Sequences(u64),
    /// After this much wall time.
    Budget(Duration),
}

/// Everything a campaign needs besides the target.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub seed: u64,
    pub stop: StopRule,
    pub jobs: usize,
    /// Requests per second over all workers.
    pub rate: Option<f64>,
    pub max_steps: usize,
    /// Server actions may be used (always on for the embedded server).
    pub state_changes: bool,
    /// Writers per concurrent step.
    pub writers: usize,
    pub shrink: ShrinkLimits,
    /// Keep the normalised request log (determinism checks).
    pub record_log: bool,
    pub timeout: Duration,
    /// Stop all workers once one finding has been shrunk.
    pub until_found: bool,
    /// Keep every request sent, per worker (the benchmark replays them).
    pub capture: bool,
    /// Set on the first SIGINT/SIGTERM: no new sequence starts.
    pub interrupt: crate::abort::Interrupt,
    /// Run the pairwise coverage phase ([`super::coverage`]) before the
    /// random sequences.
    pub coverage_phase: bool,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        CampaignConfig {
            seed: 0,
            stop: StopRule::Budget(Duration::from_secs(60)),
            jobs: 1,
            rate: None,
            max_steps: 12,
            state_changes: false,
            writers: 6,
            shrink: ShrinkLimits::default(),
            record_log: false,
            timeout: Duration::from_secs(30),
            until_found: false,
            capture: false,
            interrupt: Default::default(),
            coverage_phase: true,
        }
    }
}

/// What a campaign found and did.
#[derive(Debug, Default)]
pub struct CampaignReport {
    pub requests: u64,
    pub sequences: u64,
    pub elapsed: Duration,
    /// One shrunk, re-checked finding per cause.
    pub findings: Vec<Shrunk>,
    /// How many sequences failed for each cause.
    pub hits: BTreeMap<Cause, u64>,
    /// A signal stopped the campaign before its end (the sequences that
    /// were running finished).
    pub interrupted: bool,
    /// Why the campaign stopped early, if it did (only repeated
    /// authentication failures stop it).
    pub aborted: Option<DriverError>,
    /// Sequences that could not even start because the endpoint misbehaved
    /// while the servers were prepared, deduplicated by what went wrong:
    /// findings too, and the campaign went on past them.
    pub setup_troubles: Vec<SetupTrouble>,
    /// Requests sent to prepare servers (resets, state driving), of
    /// `requests`.
    pub setup_requests: u64,
    /// Normalised request lines, worker by worker (when recording).
    pub log: Vec<String>,
    pub backoffs: u64,
    /// Fresh connections made after transport errors.
    pub reconnects: u64,
    /// Every request sent, per worker (when capturing).
    pub captured: Vec<Vec<crate::endpoint::http::RecordedRequest>>,
    /// What the coverage phase did.
    pub coverage: CoverageSummary,
    /// The campaign's request count (over all workers) when each cause was
    /// first seen.
    pub first_seen: BTreeMap<Cause, u64>,
    /// Distinct classes of answers seen ([`super::novelty::AnswerClass`]).
    pub answer_classes: usize,
}

/// What the coverage phase planned and ran.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoverageSummary {
    /// Steps the phase planned (all workers together).
    pub steps: usize,
    /// Coverage sequences run (a sequence cut short by a finding runs its
    /// rest as another).
    pub sequences: u64,
    /// Requests those sequences sent, setup included.
    pub requests: u64,
    /// The budget ran out before the phase ended.
    pub cut_short: bool,
}

/// One way preparing a server failed, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupTrouble {
    pub server: String,
    /// What went wrong the first time.
    pub reason: String,
    pub count: u64,
    /// The campaign's request count when it was first seen (this worker's).
    pub first_at_request: u64,
}

impl SetupTrouble {
    /// What two troubles must share to be one: the reason with server
    /// ids and other long hex runs (8 characters or more) blanked, so the
    /// same trouble on two servers is one, and "answered 500" stays apart
    /// from "answered 404".
    fn class(&self) -> String {
        let mut out = String::new();
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            if run.len() >= 8 {
                out.push('#');
            } else {
                out.push_str(run);
            }
            run.clear();
        };
        for c in self.reason.chars() {
            if c.is_ascii_hexdigit() || c == '-' {
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
        flush(&mut run, &mut out);
        out
    }
}

/// Add `trouble` to `all`, counting it where its class is already there.
fn note_trouble(all: &mut Vec<SetupTrouble>, trouble: SetupTrouble) {
    match all.iter_mut().find(|t| t.class() == trouble.class()) {
        Some(seen) => seen.count += trouble.count,
        None => all.push(trouble),
    }
}

impl CampaignReport {
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
}

/// Every known secret replaced in what the report shows of the endpoint's
/// answers (findings, their exchanges, why the campaign stopped): the one
/// place fuzz output passes before it is printed, saved or written as
/// JUnit. The captured requests are left as sent (the benchmark re-sends
/// them and never prints them).
fn scrub(report: &mut CampaignReport, scrubber: &Scrubber) {
    for shrunk in &mut report.findings {
        let execution = &mut shrunk.execution;
        for (_, exchange) in &mut execution.exchanges {
            *exchange = scrubber.exchange(exchange);
        }
        if let Some(finding) = execution.finding.take() {
            execution.finding = Some(scrub_finding(finding, scrubber));
        }
        shrunk.finding = scrub_finding(shrunk.finding.clone(), scrubber);
    }
    for trouble in &mut report.setup_troubles {
        trouble.reason = scrubber.text(&trouble.reason);
    }
    report.aborted = report.aborted.take().map(|e| match e {
        DriverError::Auth(what) => DriverError::Auth(scrubber.text(&what)),
        DriverError::Setup { server, reason } => DriverError::Setup {
            server,
            reason: scrubber.text(&reason),
        },
    });
}

fn scrub_finding(finding: Finding, scrubber: &Scrubber) -> Finding {
    Finding {
        mismatch: finding.mismatch.scrubbed(scrubber),
        ..finding
    }
}

/// Why a campaign could not start.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{jobs} workers need at least {jobs} servers, the target has {servers}")]
    TooFewServers { jobs: usize, servers: usize },
    #[error("the target has no credentials for the owner (--token, or --ak and --sk)")]
    NoToken,
    #[error("{0}")]
    Transport(String),
    /// A worker task panicked: metaconform's bug, reported, never read as
    /// "no findings".
    #[error("a fuzz worker crashed: {0}")]
    Worker(String),
}

/// splitmix64: independent streams from one master seed.
pub fn derive_seed(master: u64, stream: u64) -> u64 {
    let mut z = master ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic proptest runner for one seed.
pub fn runner_for(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&derive_seed(seed, i as u64).to_le_bytes());
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    TestRunner::new_with_rng(Config::default(), rng)
}

/// Draw one value of `strategy` for `seed`.
pub fn draw<S: Strategy>(strategy: &S, seed: u64) -> Option<S::Value> {
    let mut runner = runner_for(seed);
    strategy.new_tree(&mut runner).ok().map(|t| t.current())
}

/// The shape of sequences for a target.
pub fn shape_for(target: &Target, config: &CampaignConfig, own_servers: usize) -> Shape {
    let creds = &target.credentials;
    let mut identities = vec![Identity::Owner];
    if creds.admin_token.is_some() {
        identities.push(Identity::Admin);
    }
    if creds.reader_token.is_some() {
        identities.push(Identity::Reader);
    }
    let state_changes = config.state_changes || target.disposable;
    let replace = target.replace_clears_metadata();
    Shape {
        own_servers,
        max_steps: config.max_steps,
        actions: stateful::available_actions(
            &target.profile,
            state_changes,
            creds.admin_token.is_some(),
        ),
        identities,
        replace,
        writers: config.writers,
        alt_server: !target.alt_servers.is_empty() && creds.alt_project_id.is_some(),
    }
}

/// The sequence a worker runs as its `index`-th case.
pub fn sequence_for(target: &Target, shape: &Shape, worker_seed: u64, index: u64) -> Vec<Step> {
    sequences_for(target, shape, worker_seed, &[index])
        .pop()
        .unwrap_or_default()
}

/// The sequences for several case numbers, building the strategy once (it
/// is not `Send`, so it never lives across an `.await`).
pub fn sequences_for(
    target: &Target,
    shape: &Shape,
    worker_seed: u64,
    indices: &[u64],
) -> Vec<Vec<Step>> {
    let strategy = stateful::sequence(&target.profile, shape);
    indices
        .iter()
        .map(|&i| draw(&strategy, derive_seed(worker_seed, i)).unwrap_or_default())
        .collect()
}

/// Sequences generated per batch.
const BATCH: u64 = 64;

struct Shared {
    hits: Mutex<BTreeMap<Cause, u64>>,
    /// Campaign request count at each cause's first sighting.
    first_seen: Mutex<BTreeMap<Cause, u64>>,
    /// Requests sent by all workers, as last reported by each.
    sent: AtomicU64,
    stop: AtomicBool,
}

struct WorkerResult {
    requests: u64,
    setup_requests: u64,
    setup_troubles: Vec<SetupTrouble>,
    sequences: u64,
    findings: Vec<Shrunk>,
    aborted: Option<DriverError>,
    log: Vec<String>,
    backoffs: u64,
    reconnects: u64,
    captured: Vec<crate::endpoint::http::RecordedRequest>,
    coverage: CoverageSummary,
    answer_classes: usize,
}

/// Run a campaign against `target`.
pub async fn run(
    target: &Target,
    config: &CampaignConfig,
) -> Result<CampaignReport, CampaignError> {
    let creds = &target.credentials;
    if creds.token.is_none() && creds.signing_key(Identity::Owner).is_none() {
        return Err(CampaignError::NoToken);
    }
    let jobs = config.jobs.max(1);
    if target.servers.len() < jobs {
        return Err(CampaignError::TooFewServers {
            jobs,
            servers: target.servers.len(),
        });
    }
    let per = (target.servers.len() / jobs).clamp(1, 2);
    let shared = Arc::new(Shared {
        hits: Mutex::new(BTreeMap::new()),
        first_seen: Mutex::new(BTreeMap::new()),
        sent: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for w in 0..jobs {
        let servers = target.servers[w * per..(w + 1) * per].to_vec();
        let transport = target
            .transport(config.timeout)
            .map_err(|e| CampaignError::Transport(e.to_string()))?;
        let worker = Worker {
            index: w as u64,
            jobs: jobs as u64,
            seed: derive_seed(config.seed, w as u64),
            servers,
            config: config.clone(),
            shared: shared.clone(),
            started,
        };
        let rate = config.rate.map(|r| r / jobs as f64);
        let mut driver = Driver::new(target.clone(), transport, rate, config.record_log);
        if config.capture {
            driver = driver.capture();
        }
        tasks.spawn(async move { (w, worker.run(driver).await) });
    }
    let results = gather(tasks, jobs).await.inspect_err(|_| {
        shared.stop.store(true, Ordering::Relaxed);
    })?;
    let mut report = CampaignReport::default();
    for result in results {
        report.requests += result.requests;
        report.setup_requests += result.setup_requests;
        for trouble in result.setup_troubles {
            note_trouble(&mut report.setup_troubles, trouble);
        }
        report.sequences += result.sequences;
        report.findings.extend(result.findings);
        report.log.extend(result.log);
        report.backoffs += result.backoffs;
        report.reconnects += result.reconnects;
        report.captured.push(result.captured);
        report.coverage.steps += result.coverage.steps;
        report.coverage.sequences += result.coverage.sequences;
        report.coverage.requests += result.coverage.requests;
        report.coverage.cut_short |= result.coverage.cut_short;
        report.answer_classes = report.answer_classes.max(result.answer_classes);
        if report.aborted.is_none() {
            report.aborted = result.aborted;
        }
    }
    report.elapsed = started.elapsed();
    report.interrupted = config.interrupt.requested();
    report.hits = shared.hits.lock().map(|h| h.clone()).unwrap_or_default();
    report.first_seen = shared
        .first_seen
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default();
    scrub(&mut report, &Scrubber::new(&target.credentials));
    report.findings.sort_by_key(|f| f.finding.cause());
    // Two workers may shrink different causes to one sequential cause.
    report.findings.dedup_by_key(|f| f.finding.cause());
    Ok(report)
}

/// Every worker's result, in worker order, once all have finished. The
/// first worker that panicked ends the campaign at once with
/// [`CampaignError::Worker`] (a broken campaign, never zero findings); the
/// other workers are aborted as the set drops.
async fn gather<T: 'static>(
    mut tasks: JoinSet<(usize, T)>,
    jobs: usize,
) -> Result<Vec<T>, CampaignError> {
    let mut results: Vec<Option<T>> = (0..jobs).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (w, result) = joined.map_err(|e| CampaignError::Worker(e.to_string()))?;
        results[w] = Some(result);
    }
    Ok(results.into_iter().flatten().collect())
}

struct Worker {
    index: u64,
    jobs: u64,
    seed: u64,
    servers: Vec<String>,
    config: CampaignConfig,
    shared: Arc<Shared>,
    started: Instant,
}

/// Whether a worker goes on after a sequence.
enum Next {
    Go,
    Stop,
}

impl Worker {
    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed) || self.config.interrupt.requested()
    }

    fn next_case(&self, round: u64) -> Option<u64> {
        if self.stopping() {
            return None;
        }
        let case = round * self.jobs + self.index;
        match self.config.stop {
            StopRule::Sequences(n) if case >= n => None,
            StopRule::Budget(b) if self.started.elapsed() >= b => None,
            _ => Some(case),
        }
    }

    fn budget_left(&self) -> bool {
        match self.config.stop {
            StopRule::Budget(b) => self.started.elapsed() < b,
            StopRule::Sequences(_) => true,
        }
    }

    /// Count `cause`; `true` if it is new (and so worth shrinking). A new
    /// cause's first sighting is stamped with the campaign's request count.
    fn first_sighting(&self, cause: &Cause, unreported: u64) -> bool {
        let Ok(mut hits) = self.shared.hits.lock() else {
            return false;
        };
        let count = hits.entry(cause.clone()).or_insert(0);
        *count += 1;
        if *count == 1
            && let Ok(mut first) = self.shared.first_seen.lock()
        {
            let at = self.shared.sent.load(Ordering::Relaxed) + unreported;
            first.insert(cause.clone(), at);
        }
        *count == 1
    }

    async fn run(self, mut driver: Driver) -> WorkerResult {
        let shape = shape_for(&driver.target, &self.config, self.servers.len());
        let mut result = WorkerResult {
            requests: 0,
            setup_requests: 0,
            setup_troubles: Vec::new(),
            sequences: 0,
            findings: Vec::new(),
            aborted: None,
            log: Vec::new(),
            backoffs: 0,
            reconnects: 0,
            captured: Vec::new(),
            coverage: CoverageSummary::default(),
            answer_classes: 0,
        };
        let mut corpus = Corpus::default();
        let mut reported = 0;
        if self.config.coverage_phase {
            self.coverage_phase(&mut driver, &shape, &mut corpus, &mut reported, &mut result)
                .await;
        }
        let mut round = 0;
        let mut batch: std::collections::VecDeque<(u64, Vec<Step>)> = Default::default();
        while result.aborted.is_none()
            && let Some(case) = self.next_case(round)
        {
            round += 1;
            if batch.is_empty() {
                let indices: Vec<u64> = (0..BATCH).map(|k| case + k * self.jobs).collect();
                let drawn = sequences_for(&driver.target, &shape, self.seed, &indices);
                batch = indices.into_iter().zip(drawn).collect();
            }
            let Some((case, fresh)) = batch.pop_front() else {
                break;
            };
            let steps = corpus.next(fresh, self.seed, case, shape.max_steps);
            let (next, _) = self
                .one_case(&mut driver, &steps, &mut corpus, &mut reported, &mut result)
                .await;
            if let Next::Stop = next {
                break;
            }
            result.sequences += 1;
        }
        result.answer_classes = corpus.classes();
        result.requests = driver.requests;
        result.setup_requests = driver.setup_requests;
        result.backoffs = driver.backoffs();
        result.reconnects = driver.reconnects;
        result.log = driver.log.take().unwrap_or_default();
        result.captured = driver.captured.take().unwrap_or_default();
        result
    }

    /// This worker's share of the coverage phase (sequence `i` goes to
    /// worker `i mod jobs`). A sequence a finding cut short runs its
    /// remaining steps as a new sequence, so no input is skipped.
    async fn coverage_phase(
        &self,
        driver: &mut Driver,
        shape: &super::stateful::Shape,
        corpus: &mut Corpus,
        reported: &mut u64,
        result: &mut WorkerResult,
    ) {
        let planned = coverage::sequences(&driver.target.profile, shape);
        let mut queue: std::collections::VecDeque<Vec<Step>> = planned
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u64 % self.jobs == self.index)
            .map(|(_, steps)| steps)
            .collect();
        result.coverage.steps = queue.iter().map(Vec::len).sum();
        let before = driver.requests;
        while let Some(steps) = queue.pop_front() {
            if self.stopping() || !self.budget_left() {
                result.coverage.cut_short = true;
                break;
            }
            let (next, failed_at) = self
                .one_case(driver, &steps, corpus, reported, result)
                .await;
            result.coverage.sequences += 1;
            if let Next::Stop = next {
                break;
            }
            if let Some(at) = failed_at.filter(|&at| at + 1 < steps.len()) {
                queue.push_front(steps[at + 1..].to_vec());
            }
        }
        result.coverage.requests = driver.requests - before;
    }

    /// Run one sequence and file what it found: a finding (shrunk when its
    /// cause is new), a setup trouble (the campaign goes on), or a reason
    /// to stop. Also returns the index of the failing step, if one failed.
    async fn one_case(
        &self,
        driver: &mut Driver,
        steps: &[Step],
        corpus: &mut Corpus,
        reported: &mut u64,
        result: &mut WorkerResult,
    ) -> (Next, Option<usize>) {
        let outcome = self.case_finding(driver, steps, corpus, *reported).await;
        let unreported = driver.requests - *reported;
        self.shared.sent.fetch_add(unreported, Ordering::Relaxed);
        *reported = driver.requests;
        match outcome {
            Ok((shrunk, failed_at)) => {
                if let Some(shrunk) = shrunk {
                    result.findings.push(shrunk);
                    if self.config.until_found {
                        self.shared.stop.store(true, Ordering::Relaxed);
                    }
                }
                (Next::Go, failed_at)
            }
            Err(DriverError::Setup { server, reason }) => {
                // The endpoint misbehaved while a server was prepared:
                // a finding; back off a little and go on.
                let trouble = SetupTrouble {
                    server,
                    reason,
                    count: 1,
                    first_at_request: self.shared.sent.load(Ordering::Relaxed),
                };
                note_trouble(&mut result.setup_troubles, trouble);
                let streak = result.setup_troubles.iter().map(|t| t.count).sum::<u64>();
                let pause = Duration::from_millis(10 * streak.min(10));
                tokio::time::sleep(pause).await;
                if self.config.until_found {
                    self.shared.stop.store(true, Ordering::Relaxed);
                }
                (Next::Go, None)
            }
            Err(e) => {
                self.shared.stop.store(true, Ordering::Relaxed);
                result.aborted = Some(e);
                (Next::Stop, None)
            }
        }
    }

    /// Run `steps`; for a finding whose cause is new, shrink it.
    async fn case_finding(
        &self,
        driver: &mut Driver,
        steps: &[Step],
        corpus: &mut Corpus,
        reported: u64,
    ) -> Result<(Option<Shrunk>, Option<usize>), DriverError> {
        let run = execute(driver, &self.servers, steps).await?;
        corpus.observe(steps, &run.exchanges);
        let Some(finding) = run.finding else {
            return Ok((None, None));
        };
        let failed_at = Some(finding.step);
        if !self.first_sighting(&finding.cause(), driver.requests - reported) {
            return Ok((None, failed_at));
        }
        let shrunk = shrink(driver, &self.servers, steps, &finding, self.config.shrink).await?;
        // A concurrent finding its writes show one by one shrinks to that
        // sequential cause, which may be known already.
        let cause = shrunk.finding.cause();
        if cause != finding.cause() && !self.first_sighting(&cause, driver.requests - reported) {
            return Ok((None, failed_at));
        }
        Ok((Some(shrunk), failed_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::step::{Body, Call};

    fn target() -> Target {
        Target::for_tests("http://x", crate::profile::builtin("nova").expect("nova"))
    }

    #[tokio::test]
    async fn a_panicked_worker_aborts_the_campaign_and_its_peers() {
        struct Dropped(Arc<AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let peer_stopped = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        let guard = Dropped(peer_stopped.clone());
        tasks.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            (0, ())
        });
        tasks.spawn(async { panic!("worker bug") });
        let error = gather(tasks, 2).await.expect_err("a panic is an error");
        assert!(
            matches!(&error, CampaignError::Worker(m) if m.contains("panicked")),
            "{error}"
        );
        // the abort takes effect when the runtime next schedules the task
        for _ in 0..100 {
            if peer_stopped.load(Ordering::SeqCst) {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(
            peer_stopped.load(Ordering::SeqCst),
            "the other worker is aborted"
        );
    }

    #[tokio::test]
    async fn finished_workers_come_back_in_worker_order() {
        let mut tasks = JoinSet::new();
        for w in [2, 0, 1] {
            tasks.spawn(async move { (w, w * 10) });
        }
        assert_eq!(gather(tasks, 3).await.expect("no panic"), vec![0, 10, 20]);
    }

    #[test]
    fn same_seed_same_sequence_and_workers_differ() {
        let target = target();
        let shape = shape_for(&target, &CampaignConfig::default(), 1);
        let a = sequence_for(&target, &shape, derive_seed(9, 0), 3);
        let b = sequence_for(&target, &shape, derive_seed(9, 0), 3);
        let c = sequence_for(&target, &shape, derive_seed(9, 1), 3);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sequences_reach_the_quota_boundary() {
        let target = target();
        let shape = shape_for(&target, &CampaignConfig::default(), 1);
        let quota = target
            .profile
            .rules
            .metadata
            .quota
            .expect("nova has a quota");
        let mut sizes = std::collections::BTreeSet::new();
        for case in 0..60 {
            for step in sequence_for(&target, &shape, 7, case) {
                if let Call::Meta {
                    body: Some(Body::Json(b)),
                    ..
                } = &step.call
                    && let Some(m) = b.get("metadata").and_then(|m| m.as_object())
                {
                    sizes.insert(m.len());
                }
            }
        }
        assert!(sizes.contains(&(quota + 1)), "{sizes:?}");
    }

    #[test]
    fn setup_troubles_group_by_reason_not_by_server() {
        let trouble = |server: &str, status: u16| SetupTrouble {
            server: server.into(),
            reason: format!("GET server {server} answered {status}"),
            count: 1,
            first_at_request: 0,
        };
        let a = "7eac8209-70b2-4e00-8425-3b0a56761658";
        let b = "34dd8d32-07bc-4e24-8a31-72d13a7253c5";
        assert_eq!(trouble(a, 500).class(), trouble(b, 500).class());
        assert_ne!(trouble(a, 500).class(), trouble(a, 404).class());
    }
}
