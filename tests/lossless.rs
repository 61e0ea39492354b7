//! Answers Python endpoints write and serde_json refuses: an unpaired
//! surrogate escape (`\udc80`) in a stored value is a finding of its own,
//! in `run` (a failure, not an error: the answer was read) and in `fuzz`
//! (a finding, not "not JSON" and an early stop).

mod common;

use std::process::Command;

use common::{BIN, Scratch, text};
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
        .filter(|c| {
            c.reason
                .as_deref()
                .is_some_and(|r| r.contains("unpaired surrogate"))
        })
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
