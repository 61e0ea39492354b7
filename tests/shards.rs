//! `run --partition` and `metaconform merge`: shards of one selection,
//! merged, equal the unsharded run (apart from timings and server ids),
//! under both schemes; shards that do not belong together, repeated or
//! missing shards are refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, Scratch, text};
use metaconform::run::results::RunResults;

const FILTER: &str = "charset.";

fn run_shard(dir: &Path, name: &str, partition: Option<&str>) -> PathBuf {
    let json = dir.join(format!("{name}.json"));
    let mut cmd = Command::new(BIN);
    cmd.args(["run", FILTER, "--no-props", "--jobs", "2"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(dir.join(format!("{name}.xml")));
    if let Some(p) = partition {
        cmd.args(["--partition", p]);
    }
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    json
}

fn verdicts(results: &RunResults) -> Vec<(String, String)> {
    results
        .cases
        .iter()
        .map(|c| (c.id.clone(), format!("{:?}/{:?}", c.verdict, c.skip_kind)))
        .collect()
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let dir = Scratch::new("shards");
    let whole = common::results_at(&run_shard(&dir, "whole", None));
    assert!(whole.cases.len() > 20, "{}", whole.cases.len());
    for scheme in ["count", "hash"] {
        let shards: Vec<PathBuf> = (1..=3)
            .map(|k| {
                run_shard(
                    &dir,
                    &format!("{scheme}-{k}"),
                    Some(&format!("{scheme}:{k}/3")),
                )
            })
            .collect();
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| common::results_at(s).cases.len())
            .collect();
        assert!(
            sizes.iter().all(|n| *n > 0),
            "{scheme}: an empty shard {sizes:?}"
        );
        let merged = dir.join(format!("{scheme}-merged.json"));
        let out = Command::new(BIN)
            .arg("merge")
            .args(&shards)
            .arg("--json")
            .arg(&merged)
            .arg("--junit")
            .arg(dir.join(format!("{scheme}-merged.xml")))
            .output()
            .expect("merge");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let merged = common::results_at(&merged);
        assert_eq!(verdicts(&merged), verdicts(&whole), "{scheme}");
        assert_eq!(merged.summary, whole.summary, "{scheme}");
    }
}

/// `merge SHARDS --json DIR/m.json`, expected to be refused (exit 2); its
/// stderr.
fn refused_merge(dir: &Path, shards: &[&PathBuf]) -> String {
    let out = Command::new(BIN)
        .arg("merge")
        .args(shards)
        .arg("--json")
        .arg(dir.join("m.json"))
        .output()
        .expect("merge");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

#[test]
fn shards_of_different_runs_or_overlapping_shards_are_refused() {
    let dir = Scratch::new("shards-bad");
    let one = run_shard(&dir, "one", Some("count:1/2"));
    let stderr = refused_merge(&dir, &[&one, &one]);
    assert!(stderr.contains("given twice"), "{stderr}");
    // A shard that never arrived is not a smaller green run.
    let stderr = refused_merge(&dir, &[&one]);
    assert!(stderr.contains("shard(s) 2 of 2 missing"), "{stderr}");
    // An unsharded run is no shard.
    let whole = run_shard(&dir, "whole", None);
    let stderr = refused_merge(&dir, &[&whole]);
    assert!(stderr.contains("no shard"), "{stderr}");
    let out = Command::new(BIN)
        .args(["run", "--partition", "count:3/2"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn the_merge_job_gates_and_writes_the_human_reports() {
    let dir = Scratch::new("shards-gate");
    let shard = |k: usize, extra: &[&str]| {
        let json = dir.join(format!("gate-{k}.json"));
        let out = Command::new(BIN)
            .args(["run", FILTER, "--no-props", "--jobs", "2"])
            .args(["--fault", "charset-allows-slash-or-unicode"])
            .args(["--partition", &format!("count:{k}/2")])
            .arg("--json")
            .arg(&json)
            .arg("--junit")
            .arg(dir.join(format!("gate-{k}.xml")))
            .args(extra)
            .output()
            .expect("run");
        (json, out.status.code())
    };
    let merge = |shards: &[PathBuf]| {
        Command::new(BIN)
            .arg("merge")
            .args(shards)
            .arg("--json")
            .arg(dir.join("merged.json"))
            .arg("--html")
            .arg(dir.join("report.html"))
            .arg("--markdown")
            .arg(dir.join("summary.md"))
            .arg("--gate")
            .output()
            .expect("merge")
    };
    let (one, _) = shard(1, &[]);
    let (two, _) = shard(2, &[]);
    let out = merge(&[one, two]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let merged = common::results_at(&dir.join("merged.json"));
    let failing: Vec<String> = merged
        .cases
        .iter()
        .filter(|c| c.gates())
        .map(|c| c.id.clone())
        .collect();
    assert!(!failing.is_empty(), "the fault failed nothing");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    let markdown = std::fs::read_to_string(dir.join("summary.md")).expect("markdown");
    for id in &failing {
        assert!(html.contains(id.as_str()), "{id}");
    }
    // the summary's table is capped; its first row is the first failure
    assert!(markdown.contains(failing[0].as_str()), "{markdown}");
    assert!(markdown.contains("**Gate: fails**"), "{markdown}");

    // the shards' baseline lists every failure: the merged run is green
    let baseline: String = failing
        .iter()
        .map(|id| format!("- {{id: {id}, reason: known}}\n"))
        .collect();
    let file = common::write_file(&dir, "baseline.yaml", &baseline);
    let file = file.to_str().expect("utf-8 path");
    let (one, code_one) = shard(1, &["--baseline", file]);
    let (two, code_two) = shard(2, &["--baseline", file]);
    assert_eq!((code_one, code_two), (Some(0), Some(0)));
    let out = merge(&[one.clone(), two.clone()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = std::fs::read_to_string(dir.join("summary.md")).expect("markdown");
    assert!(markdown.contains("**Gate: passes**"), "{markdown}");

    // a shard stopped by a signal wrote the cases it reached: not green
    let mut stopped: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&two).expect("shard 2")).expect("json");
    stopped["run"]["interrupted"] = serde_json::Value::Bool(true);
    std::fs::write(&two, stopped.to_string()).expect("rewrite shard 2");
    let out = merge(&[one, two]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stdout));
    let markdown = std::fs::read_to_string(dir.join("summary.md")).expect("markdown");
    assert!(markdown.contains("**Gate: incomplete**"), "{markdown}");
}
