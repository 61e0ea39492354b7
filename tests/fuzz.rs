//! End-to-end checks of the fuzzer against the embedded mock.

use std::time::Duration;

use metaconform::fuzz::campaign::{self, CampaignConfig, StopRule};
use metaconform::fuzz::embedded;
use metaconform::serve::Fault;

fn config(seed: u64, cases: u64) -> CampaignConfig {
    CampaignConfig {
        seed,
        stop: StopRule::Cases(cases),
        shrink: metaconform::fuzz::shrink::ShrinkLimits {
            budget: Duration::from_secs(10),
            max_runs: 300,
        },
        ..CampaignConfig::default()
    }
}

async fn campaign(faults: Vec<Fault>, seed: u64, cases: u64) -> campaign::CampaignReport {
    let profile = metaconform::profile::builtin("nova").expect("nova");
    let (server, target) = embedded::start(profile, 3, faults, seed)
        .await
        .expect("serve");
    let report = campaign::run(&target, &config(seed, cases))
        .await
        .expect("campaign");
    server.shutdown().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_free_server_gives_no_findings() {
    for seed in [1, 2, 3] {
        let report = campaign(vec![], seed, 40).await;
        let shown: Vec<String> = report
            .findings
            .iter()
            .map(|s| metaconform::fuzz::repro::render(s, &Default::default()))
            .collect();
        assert!(
            report.findings.is_empty(),
            "seed {seed}:\n{}",
            shown.join("\n")
        );
        assert!(report.aborted.is_none(), "{:?}", report.aborted);
        assert!(report.requests > 100, "{}", report.requests);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn explore_faults() {
    for info in metaconform::serve::list_faults() {
        if info.parameter.is_some() {
            continue;
        }
        let fault: Fault = info.name.parse().expect("fault");
        let started = std::time::Instant::now();
        let report = campaign(vec![fault], 7, 60).await;
        let causes: Vec<String> = report
            .findings
            .iter()
            .map(|s| {
                format!(
                    "{} [{} steps, re-check {}]",
                    s.finding.cause(),
                    s.steps.len(),
                    s.reproduced
                )
            })
            .collect();
        println!(
            "{:32} {:5.1}s req={} {:?} {:?}",
            info.name,
            started.elapsed().as_secs_f64(),
            report.requests,
            causes,
            report.aborted
        );
    }
}
