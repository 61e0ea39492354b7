//! Older `results.json` formats keep loading: a format 2 file (written by
//! the metaconform of that format, one case failing under
//! `--fault key-limit-off-by-one`, one passing) reads back with its failure
//! sentence kept whole as a legacy reason, and `diff` compares it with a
//! run of today's format of the same cases; a format 3 file (the same run
//! by the metaconform of format 3, before case classes) reads back with
//! every case required and its typed failure whole.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, Scratch, text};
use metaconform::report::failure::reason;
use metaconform::run::results::{CaseClass, Cause, FORMAT_VERSION, Place, Verdict};

const SELECTION: [&str; 15] = [
    "run",
    "lengths.key.25",
    "--skip",
    "254",
    "--skip",
    "255.replace",
    "--skip",
    "255.set",
    "--skip",
    "x",
    "--skip",
    "256.replace",
    "--skip",
    "256.set",
    "--skip",
];

fn format2_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results/format2.json")
}

#[test]
fn a_format_2_file_loads_with_its_sentence_as_a_legacy_reason() {
    let old = common::results_at(&format2_sample());
    assert_eq!(old.format_version, 2);
    assert_ne!(FORMAT_VERSION, 2, "the sample is of an older format");
    let verdicts: Vec<_> = old
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("lengths.key.255.merge", Verdict::Pass),
            ("lengths.key.256.merge", Verdict::Fail)
        ]
    );
    assert!(old.cases[0].failure.is_none());
    let failed = &old.cases[1];
    let failure = failed.failure.as_ref().expect("a failure");
    assert_eq!(failure.at, Place::Case, "not parsed back into a step");
    assert!(
        matches!(&failure.cause, Cause::LegacyReason { text, step: Some(1) }
            if text == "step 1: (merge) expected outcome invalid-input (400 badRequest), got 200"),
        "{failure:?}"
    );
    assert_eq!(failed.failed_step(), Some(1));
    assert_eq!(
        reason(failed).as_deref(),
        Some("step 1: (merge) expected outcome invalid-input (400 badRequest), got 200")
    );
    assert!(failed.exchanges.iter().any(|e| e.step == Some(1)));
}

#[test]
fn a_format_3_file_loads_with_every_case_required() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results/format3.json");
    let old = common::results_at(&path);
    assert_eq!(old.format_version, 3);
    assert_ne!(FORMAT_VERSION, 3, "the sample is of an older format");
    assert!(old.cases.iter().all(|c| c.class == CaseClass::Required));
    assert_eq!(old.summary.advisory_failures, 0);
    let failed = &old.cases[1];
    assert_eq!(failed.id, "lengths.key.256.merge");
    assert!(failed.gates());
    assert_eq!(failed.failed_step(), Some(1));
    assert!(matches!(
        failed.failure.as_ref().map(|f| &f.cause),
        Some(Cause::Broken { .. })
    ));
}

#[test]
fn diff_compares_a_format_2_file_with_a_run_of_todays_format() {
    let dir = Scratch::new("format2-diff");
    let new = dir.join("new.json");
    let out = Command::new(BIN)
        .args(SELECTION)
        .args(["257", "--no-props", "--json"])
        .arg(&new)
        .arg("--junit")
        .arg(dir.join("new.xml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(common::results_at(&new).format_version, FORMAT_VERSION);
    let diff = Command::new(BIN)
        .arg("diff")
        .arg(format2_sample())
        .arg(&new)
        .args(["--format", "json"])
        .output()
        .expect("diff");
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff.stderr));
    let report: serde_json::Value = serde_json::from_slice(&diff.stdout).expect("json");
    assert_eq!(
        report["fixed"][0]["id"], "lengths.key.256.merge",
        "{report}"
    );
    assert_eq!(
        report["new_failures"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
}
