//! `run --baseline FILE` gates only on failures the baseline does not
//! list: it suppresses exactly its ids, an expired entry suppresses nothing
//! (with a warning), and a listed case that passes is reported as fixed.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, Scratch, text};

fn run_with(dir: &Path, fault: Option<&str>, baseline: &str) -> Output {
    let file = dir.join("baseline.yaml");
    std::fs::write(&file, baseline).expect("write baseline");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "mr.replace", "--no-props", "--jobs", "2"])
        .arg("--baseline")
        .arg(&file)
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .current_dir(dir);
    if let Some(fault) = fault {
        cmd.args(["--fault", fault]);
    }
    cmd.output().expect("run")
}

fn entries(ids: &[String], extra: &str) -> String {
    ids.iter()
        .map(|id| {
            format!("- {{id: {id}, reason: 'known', link: 'https://bugs.example/1'{extra}}}\n")
        })
        .collect()
}

#[test]
fn a_baseline_suppresses_exactly_its_ids_until_it_expires() {
    let dir = Scratch::new("baseline");
    let out = run_with(&dir, Some("put-merges"), "[]\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let mut failing: Vec<String> = common::results(&dir)
        .cases
        .iter()
        .filter(|c| c.gates())
        .map(|c| c.id.clone())
        .collect();
    failing.sort();
    assert!(
        failing.len() >= 2,
        "the fault failed too little: {failing:?}"
    );

    let all = entries(&failing, "");
    let out = run_with(&dir, Some("put-merges"), &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let all_but_one = entries(&failing[1..], "");
    let out = run_with(&dir, Some("put-merges"), &all_but_one);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let gating: Vec<String> = common::results(&dir)
        .cases
        .iter()
        .filter(|c| c.gates())
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(gating, vec![failing[0].clone()]);

    let expired = entries(&failing, ", expires: 2020-01-01");
    let out = run_with(&dir, Some("put-merges"), &expired);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("expired on 2020-01-01"), "{stderr}");

    let out = run_with(&dir, None, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = common::results(&dir).summary;
    assert_eq!(
        summary.fixed,
        failing.len(),
        "listed cases that pass are reported fixed"
    );
}
