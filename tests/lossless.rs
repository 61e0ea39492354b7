//! Answers Python endpoints write and serde_json refuses: an unpaired
//! surrogate escape (`\udc80`) in a stored value is a finding of its own,
//! in `run` (a failure, not an error: the answer was read) and in `fuzz`
//! (a finding, not "not JSON" and an early stop).

mod common;

use std::process::Command;

use common::{BIN, Scratch, text};
use metaconform::report::failure::reason;
use metaconform::run::results::Verdict;

#[test]
fn run_reports_a_stored_lone_surrogate_as_a_failure() {
    let dir = Scratch::new("lossless-run");
    let out = Command::new(BIN)
        .args(["run", "mr.merge", "--no-props", "--fault", "lone-surrogate"])
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let results = common::results(&dir);
    let flagged: Vec<_> = results
        .cases
        .iter()
        .filter(|c| reason(c).is_some_and(|r| r.contains("unpaired surrogate")))
        .collect();
    assert!(!flagged.is_empty(), "no case saw the surrogate");
    assert!(flagged.iter().all(|c| c.verdict == Verdict::Fail));
}

#[test]
fn fuzz_finds_a_stored_lone_surrogate_and_does_not_stop_early() {
    let out = Command::new(BIN)
        .args([
            "fuzz",
            "--seed",
            "3",
            "--sequences",
            "20",
            "--fault",
            "lone-surrogate",
        ])
        .output()
        .expect("fuzz");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("unpaired surrogate"), "{stdout}");
    assert!(!stdout.contains("stopped early"), "{stdout}");
}

#[test]
fn a_lent_server_holding_a_lone_surrogate_is_left_alone() {
    let serve = common::spawn_serve(&["--servers", "1", "--fault", "lone-surrogate"]);
    let info = &serve.info;
    let server = &info.servers[0];
    // The user's data: one value, which the faulty endpoint then answers
    // with an unpaired surrogate appended.
    let url = format!("{}/servers/{server}/metadata", info.endpoint);
    let status = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            reqwest::Client::new()
                .put(url)
                .header("X-Auth-Token", &info.token)
                .header("Content-Type", "application/json")
                .body(r#"{"metadata": {"owner": "team"}}"#)
                .send()
                .await
                .expect("serve answers")
                .status()
                .as_u16()
        });
    assert_eq!(status, 200);
    let dir = Scratch::new("lossless-lent");
    let out = Command::new(BIN)
        .args([
            "run",
            "mr.merge",
            "--no-props",
            "--endpoint",
            &info.endpoint,
        ])
        .args(["--server", server])
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // Refused before the first write (pre-flight reads it already).
    assert!(
        stderr.contains("unpaired surrogate") && stderr.contains("leaves this server alone"),
        "{stderr}"
    );
    let journals = std::fs::read_dir(dir.join("journals")).map_or(0, |d| d.count());
    assert_eq!(journals, 0, "{stderr}");
}
