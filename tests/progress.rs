//! The run's event stream: progress counts every trial of the run (the
//! cases, then the property trials numbered on from them, all out of one
//! total; it used to count to the number of cases and then past it), and
//! every case or trial that runs starts before it finishes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use metaconform::cases::load_dir;
use metaconform::endpoint::http::Transport;
use metaconform::fuzz::properties::property_trials;
use metaconform::run::events::{Event, EventSink};
use metaconform::run::execute::Context;
use metaconform::run::known_failures::KnownFailures;
use metaconform::run::redact::Redactor;
use metaconform::run::schedule::run_and_report;
use metaconform::run::{RunOptions, embedded, properties};

/// What the run emitted: each `RunStarted` total, each `(done, total)`
/// of a finished case, and the ids started and finished in order.
#[derive(Default)]
struct Recorder {
    started: Vec<usize>,
    progress: Vec<(usize, usize)>,
    order: Vec<(&'static str, String)>,
}

impl EventSink for Recorder {
    fn emit(&mut self, event: Event<'_>) {
        match event {
            Event::RunStarted { total } => self.started.push(total),
            Event::CaseStarted { id } => self.order.push(("start", id.to_string())),
            Event::CaseFinished {
                result,
                done,
                total,
            } => {
                self.progress.push((done, total));
                self.order.push(("finish", result.id.clone()));
            }
            Event::FindingShrunk { .. } | Event::RunFinished { .. } => {}
        }
    }
}

#[test]
fn progress_counts_cases_and_trials_out_of_one_total() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-cases");
    let cases = Arc::new(load_dir(&dir).expect("fixtures load"));
    let trials = property_trials();
    let total = cases.len() + trials.len();
    let profile = metaconform::profile::builtin("nova").unwrap();
    let runtime = metaconform::cli::runtime().expect("a runtime");
    let recorder = runtime.block_on(async {
        let (server, target) = embedded::start(profile, 3, Vec::new()).await.unwrap();
        let ctx = Arc::new(Context {
            redactor: Redactor::new(&target.credentials),
            auth_guard: Arc::default(),
            transport: Transport::new(Duration::from_secs(30)).unwrap(),
            options: RunOptions {
                jobs: 3,
                ..RunOptions::default()
            },
            target: target.clone(),
        });
        let known = KnownFailures::default();
        let mut recorder = Recorder::default();
        let mut results = run_and_report(
            ctx.clone(),
            cases.clone(),
            &known,
            &mut recorder,
            true,
            trials.len(),
        )
        .await;
        let admission = metaconform::run::events::Admission {
            known: &known,
            redactor: &ctx.redactor,
        };
        properties::run_and_append(
            &trials,
            &target,
            &ctx.options,
            properties::options(1),
            &admission,
            &mut recorder,
            &mut results,
        )
        .await;
        server.shutdown().await;
        recorder
    });
    assert_eq!(recorder.started, [total]);
    let expected: Vec<(usize, usize)> = (1..=total).map(|done| (done, total)).collect();
    assert_eq!(recorder.progress, expected);
    // Every case that ran (and every trial) started once, before it
    // finished; nothing started without finishing (a case blocked or
    // skipped without running finishes without starting).
    let mut open: Vec<&str> = Vec::new();
    let mut started = 0;
    for (what, id) in &recorder.order {
        if *what == "start" {
            assert!(!open.contains(&id.as_str()), "{id} started twice");
            open.push(id);
            started += 1;
        } else {
            open.retain(|o| o != id);
        }
    }
    assert!(open.is_empty(), "started, never finished: {open:?}");
    assert!(
        started > trials.len(),
        "a case started: {:?}",
        recorder.order
    );
    for trial in &trials {
        assert!(
            recorder.order.contains(&("start", trial.name.to_string())),
            "{} never started",
            trial.name
        );
    }
}
