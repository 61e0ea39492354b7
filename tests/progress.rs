//! Progress counts every trial of the run: the cases, then the property
//! trials numbered on from them, all out of one total (it used to count to
//! the number of cases and then past it).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use metaconform::cases::load_dir;
use metaconform::endpoint::http::Transport;
use metaconform::fuzz::properties::property_trials;
use metaconform::run::events::{ReportError, Reporter};
use metaconform::run::execute::Context;
use metaconform::run::known_failures::KnownFailures;
use metaconform::run::redact::Redactor;
use metaconform::run::results::{CaseResult, RunResults};
use metaconform::run::schedule::run_and_report;
use metaconform::run::{RunOptions, embedded, properties};

/// Every `(done, total)` the reporters were told, after `started(total)`.
#[derive(Default)]
struct Recorder {
    started: Vec<usize>,
    progress: Vec<(usize, usize)>,
}

impl Reporter for Recorder {
    fn started(&mut self, total: usize) {
        self.started.push(total);
    }
    fn case_finished(&mut self, _: &CaseResult, done: usize, total: usize) {
        self.progress.push((done, total));
    }
    fn finished(&mut self, _: &RunResults) -> Result<(), ReportError> {
        Ok(())
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
        let mut reporters: [&mut dyn Reporter; 1] = [&mut recorder];
        let mut results = run_and_report(
            ctx.clone(),
            cases.clone(),
            &known,
            &mut reporters,
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
            &mut reporters,
            &mut results,
        )
        .await;
        server.shutdown().await;
        recorder
    });
    assert_eq!(recorder.started, [total]);
    let expected: Vec<(usize, usize)> = (1..=total).map(|done| (done, total)).collect();
    assert_eq!(recorder.progress, expected);
}
