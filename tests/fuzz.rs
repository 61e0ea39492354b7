//! End-to-end checks of the fuzzer against the embedded mock: no false
//! positives on the fault-free server, every semantic fault found and shrunk,
//! the same seed giving the same requests, and the CLI's exit codes and
//! saved repro files.

use std::time::Duration;

use metaconform::fuzz::campaign::{self, CampaignConfig, CampaignReport, StopRule};
use metaconform::fuzz::embedded;
use metaconform::fuzz::shrink::ShrinkLimits;
use metaconform::serve::Fault;

fn config(seed: u64, sequences: u64) -> CampaignConfig {
    CampaignConfig {
        seed,
        stop: StopRule::Sequences(sequences),
        // budgeted in runs, not seconds: the same shrink on any machine
        shrink: ShrinkLimits {
            budget: Duration::MAX,
            max_runs: 300,
        },
        ..CampaignConfig::default()
    }
}

async fn campaign_with(faults: Vec<Fault>, config: CampaignConfig) -> CampaignReport {
    let profile = metaconform::profile::builtin("nova").expect("nova");
    let servers = (2 * config.jobs).max(3);
    let (server, target) = embedded::start(profile, servers, faults, config.seed)
        .await
        .expect("serve");
    let report = campaign::run(&target, &config).await.expect("campaign");
    server.shutdown().await;
    report
}

fn describe(report: &CampaignReport) -> String {
    let shown: Vec<String> = report
        .findings
        .iter()
        .map(|s| metaconform::report::finding::render(s, &Default::default()))
        .collect();
    format!("aborted: {:?}\n{}", report.aborted, shown.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_free_server_gives_no_findings() {
    for seed in [1, 2, 3, 4] {
        let report = campaign_with(vec![], config(seed, 40)).await;
        assert!(
            report.findings.is_empty() && report.aborted.is_none(),
            "seed {seed}: {}",
            describe(&report)
        );
        assert!(report.requests > 100, "{}", report.requests);
    }
}

/// Faults whose every response is unreadable: the fuzzer notices at once,
/// when its own read of the server (before the first step) fails, records
/// that as a finding and goes on to the end of its budget.
const BREAKS_EVERY_RESPONSE: &[&str] = &["truncate-body", "non-json-body"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_semantic_fault_is_found_and_shrunk() {
    let mut missed = Vec::new();
    for info in metaconform::serve::list_faults() {
        // `echo-token` breaks no API rule: tests/secrets.rs uses it. A
        // catalogue fault breaks a writer the fuzzer does not drive (it
        // creates no servers): tests/create_cases.rs finds it.
        let catalogue = info.kind == metaconform::serve::FaultKind::Catalogue;
        if info.parameter.is_some() || info.name == "echo-token" || catalogue {
            continue;
        }
        let fault: Fault = info.name.parse().expect("fault");
        if BREAKS_EVERY_RESPONSE.contains(&info.name) {
            // A finding, and the campaign runs its whole budget.
            let report = campaign_with(vec![fault], config(11, 20)).await;
            let noticed = report.aborted.is_none()
                && report.sequences == 20
                && report
                    .setup_troubles
                    .iter()
                    .any(|t| t.reason.contains("not JSON"));
            if !noticed {
                missed.push(format!("{}: {}", info.name, describe(&report)));
            }
            continue;
        }
        let report = campaign_with(vec![fault], config(11, 60)).await;
        let minimal = report
            .findings
            .iter()
            .any(|s| s.reproduced && s.steps.len() <= 3 && s.execution.exchanges.len() <= 10);
        if !minimal {
            missed.push(format!("{}: {}", info.name, describe(&report)));
        }
    }
    assert!(
        missed.is_empty(),
        "faults not found or not shrunk:\n{}",
        missed.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_sends_the_same_requests() {
    for jobs in [1, 2] {
        let mut logs = Vec::new();
        for _ in 0..2 {
            let mut c = config(21, 16);
            c.jobs = jobs;
            c.record_log = true;
            let report = campaign_with(vec![], c).await;
            assert!(report.log.len() > 50, "{}", report.log.len());
            logs.push(report.log);
        }
        assert_eq!(logs[0], logs[1], "jobs {jobs}");
        let mut other = config(22, 16);
        other.jobs = jobs;
        other.record_log = true;
        let report = campaign_with(vec![], other).await;
        assert_ne!(logs[0], report.log, "another seed must send other requests");
    }
}

#[test]
fn cli_exit_codes_and_saved_case_file() {
    let bin = env!("CARGO_BIN_EXE_metaconform");
    let clean = std::process::Command::new(bin)
        .args(["fuzz", "--seed", "5", "--sequences", "15"])
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{out}");
    assert!(out.contains("findings: 0"), "{out}");

    let dir = std::env::temp_dir().join(format!("metaconform-fuzz-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let faulty = std::process::Command::new(bin)
        .args([
            "fuzz",
            "--seed",
            "5",
            "--sequences",
            "40",
            "--fault",
            "put-merges",
            "--junit",
        ])
        .arg(dir.join("fuzz.xml"))
        .arg("--save")
        .arg(dir.join("regressions"))
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&faulty.stdout);
    assert_eq!(faulty.status.code(), Some(1), "{out}");
    assert!(out.contains("finding: replace: body"), "{out}");
    assert!(
        out.contains("curl -sS -i -g -X PUT") && out.contains("\"X-Auth-Token: $OS_TOKEN\""),
        "{out}"
    );
    assert!(!out.contains("demo:"), "token leaked: {out}");
    // the finding is an ordinary failed case in the one JUnit writer's file,
    // its exchanges and their repros in its transcript
    let junit = std::fs::read_to_string(dir.join("fuzz.xml")).expect("fuzz.xml");
    assert!(
        junit.contains(r#"<testcase name="fuzz::replace: body" classname="metaconform.fuzz""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<failure type="conformance" message="step "#),
        "{junit}"
    );
    assert!(
        junit.contains("## step 1 (") && junit.contains("$ curl -sS -i -g -X PUT"),
        "{junit}"
    );
    assert!(!junit.contains("demo:"), "token leaked: {junit}");
    let saved: Vec<_> = std::fs::read_dir(dir.join("regressions"))
        .expect("saved dir")
        .collect();
    assert!(!saved.is_empty());
    // the saved repro is a valid case file
    let check = std::process::Command::new(bin)
        .args(["check", "--cases"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let usage = std::process::Command::new(bin)
        .args(["fuzz", "--budget", "5 parsecs"])
        .output()
        .expect("run");
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn property_trials_pass_clean_and_fail_on_their_fault() {
    use metaconform::fuzz::properties::{PropertyOptions, TrialVerdict, property_trials};
    let profile = metaconform::profile::builtin("nova").expect("nova");
    let expectations = [
        ("prop::charset", "charset-allows-slash-or-unicode"),
        ("prop::lengths", "value-limit-off-by-one"),
        ("prop::merge-replace", "put-merges"),
        ("prop::states", "allow-shelved-writes"),
        ("prop::quota", "quota-off-by-one"),
    ];
    let trials = property_trials();
    assert_eq!(
        trials.iter().map(|t| t.name).collect::<Vec<_>>(),
        expectations.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    let options = PropertyOptions {
        examples: 40,
        seed: 3,
        ..PropertyOptions::default()
    };
    for (trial, (_, fault)) in trials.iter().zip(expectations) {
        let (clean, target) = embedded::start(profile.clone(), 3, vec![], 0)
            .await
            .expect("serve");
        let result = (trial.run)(target, options).await;
        clean.shutdown().await;
        assert!(
            matches!(result.verdict, TrialVerdict::Pass),
            "{} on the clean server: {:?}",
            trial.name,
            result.verdict
        );
        let faults = vec![fault.parse().expect("fault")];
        let (faulty, target) = embedded::start(profile.clone(), 3, faults, 0)
            .await
            .expect("serve");
        let result = (trial.run)(target, options).await;
        faulty.shutdown().await;
        assert!(
            matches!(result.verdict, TrialVerdict::Fail(_)),
            "{} missed {fault}: {:?}",
            trial.name,
            result.verdict
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_nova_family_dialects_give_no_findings() {
    for dialect in ["nova-legacy", "ecs-os", "bms-os"] {
        let profile = metaconform::profile::builtin(dialect).expect("profile");
        let (server, target) = embedded::start(profile, 3, vec![], 0).await.expect("serve");
        let report = campaign::run(&target, &config(5, 30))
            .await
            .expect("campaign");
        server.shutdown().await;
        assert!(
            report.findings.is_empty() && report.aborted.is_none(),
            "{dialect}: {}",
            describe(&report)
        );
        assert!(report.requests > 100, "{dialect}: {}", report.requests);
    }
}
