//! `metaconform diff`: two runs against the embedded server, with and
//! without a fault, compared both ways; a bad file is a usage error.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, Scratch, text};
use metaconform::run::results::Verdict;
use serde_json::Value;

fn run_into(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let json = dir.join(format!("{name}.json"));
    let out = Command::new(BIN)
        .args(["run", "quota", "--no-props", "--jobs", "2"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(dir.join(format!("{name}.xml")))
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("run");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    json
}

fn diff(old: &Path, new: &Path, format: &str) -> Output {
    Command::new(BIN)
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(["--format", format])
        .output()
        .expect("diff")
}

fn ids(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {report}"))
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn a_fault_shows_as_new_failures_and_its_absence_as_fixed() {
    let dir = Scratch::new("diff");
    let clean = run_into(&dir, "clean", &[]);
    let faulty = run_into(&dir, "faulty", &["--fault", "quota-off-by-one"]);
    // every failing case is a new failure, advisory ones (the quota
    // message's wording) included; only the required ones gate
    let mut failing: Vec<String> = common::results_at(&faulty)
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
        .map(|c| c.id.clone())
        .collect();
    failing.sort();
    assert!(!failing.is_empty(), "the fault made nothing fail");

    let out = diff(&clean, &faulty, "json");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(ids(&report, "new_failures"), failing);
    for key in ["fixed", "still_failing", "added", "removed"] {
        assert!(ids(&report, key).is_empty(), "{key}: {report}");
    }

    let out = diff(&faulty, &clean, "json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(ids(&report, "fixed"), failing);
    assert!(ids(&report, "new_failures").is_empty());

    let out = diff(&clean, &clean, "human");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("0 new failures, 0 fixed, 0 still failing, 0 behaviour changed"),
        "{}",
        text(&out.stdout)
    );
    let out = diff(&clean, &faulty, "markdown");
    assert!(
        text(&out.stdout).contains("### new failures"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_file_that_is_not_results_is_a_usage_error_naming_it() {
    let dir = Scratch::new("diff-bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"format_version\": 1,\n \"cases\": 7}").unwrap();
    let out = diff(&bad, &bad, "human");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.json:") && stderr.contains("not a metaconform results file"),
        "{stderr}"
    );
}
