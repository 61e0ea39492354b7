//! Case classes and the gate, end to end against the embedded server: an
//! advisory case's failure is reported (results, JUnit as skipped, the
//! terminal) but never gates; the same case required gates; a required
//! case that cannot run for a reason the user did not choose (here a
//! `skip:` in its file) gates unless the baseline lists it, and JUnit
//! says `<failure>` so a JUnit-gated CI agrees with the exit code; an
//! advisory new failure in `diff` is listed and does not gate.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Scratch, command, text, write_file};
use metaconform::run::results::{CaseClass, Verdict};

/// A case that fails against the faithful mock: listing an empty map
/// answers 200, not 418.
fn failing_case(id: &str, class: &str) -> String {
    format!(
        "  - id: {id}\n    name: wrong on purpose\n    spec: '2.1'\n    class: {class}\n    dialects: [nova]\n    steps:\n      - op: list\n        expect: {{status: 418}}\n"
    )
}

fn passing_case(id: &str) -> String {
    format!(
        "  - id: {id}\n    name: an empty list\n    spec: '2.1'\n    dialects: [nova]\n    steps:\n      - op: list\n        expect: {{status: 200, body: {{metadata: {{}}}}}}\n"
    )
}

fn run_cases(dir: &Path, cases: &str, extra: &[&str]) -> Output {
    let folder = dir.join("mine");
    let _ = std::fs::remove_dir_all(&folder);
    write_file(&folder, "area/cases.yaml", &format!("cases:\n{cases}"));
    command()
        .args(["run", "--no-props", "--only-cases"])
        .arg(&folder)
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("run the binary")
}

fn junit(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml written")
}

#[test]
fn an_advisory_failure_is_reported_and_does_not_gate() {
    let dir = Scratch::new("classes-advisory");
    let cases = failing_case("mine.advisory", "advisory") + &passing_case("mine.ok");
    let out = run_cases(&dir, &cases, &[]);
    let said = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("FAIL mine.advisory (advisory: does not gate)"),
        "{said}"
    );
    let results = common::results(&dir);
    let case = results
        .cases
        .iter()
        .find(|c| c.id == "mine.advisory")
        .expect("the advisory case ran");
    assert_eq!(case.verdict, Verdict::Fail);
    assert_eq!(case.class, CaseClass::Advisory);
    assert_eq!(results.summary.advisory_failures, 1);
    let xml = junit(&dir);
    assert!(xml.contains("type=\"advisory-failure\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn the_same_case_required_gates() {
    let dir = Scratch::new("classes-required");
    let out = run_cases(&dir, &failing_case("mine.required", "required"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(common::results(&dir).summary.advisory_failures, 0);
    assert!(junit(&dir).contains("<failure"));
}

#[test]
fn a_required_case_skipped_by_its_file_gates_unless_baselined() {
    let dir = Scratch::new("classes-skip");
    let skipped = "  - id: mine.skipped\n    name: not yet\n    spec: '2.1'\n    skip: waiting for a server that can do it\n    steps:\n      - op: list\n        expect: {status: 200}\n";
    let cases = format!("{skipped}{}", passing_case("mine.ok"));
    let summary = dir.join("summary.md");
    let summary_arg = summary.to_str().expect("utf-8 path");
    let out = run_cases(&dir, &cases, &["--markdown", summary_arg]);
    let said = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("SKIP  mine.skipped"), "{said}");
    assert!(said.contains("failures:\n    mine.skipped"), "{said}");
    let xml = junit(&dir);
    assert!(xml.contains("type=\"required-case-not-run\""), "{xml}");
    let markdown = std::fs::read_to_string(&summary).expect("summary written");
    assert!(
        markdown.contains("`mine.skipped` | skip |") && markdown.contains("required, not run"),
        "{markdown}"
    );

    let baseline = write_file(
        &dir,
        "baseline.yaml",
        "- {id: mine.skipped, reason: 'waits for #12'}\n",
    );
    let baseline = baseline.to_str().expect("utf-8 path");
    let out = run_cases(&dir, &cases, &["--baseline", baseline]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let advisory = skipped.replace("    skip:", "    class: advisory\n    skip:");
    let out = run_cases(&dir, &format!("{advisory}{}", passing_case("mine.ok")), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn diff_lists_a_new_advisory_failure_without_gating() {
    let dir = Scratch::new("classes-diff");
    let out = run_cases(&dir, &passing_case("mine.case"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    std::fs::rename(dir.join("results.json"), dir.join("old.json")).expect("keep old");

    let now_failing = failing_case("mine.case", "advisory");
    let out = run_cases(&dir, &now_failing, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let diff = |new: &str| {
        command()
            .args(["diff", "old.json", new])
            .current_dir(&dir)
            .output()
            .expect("diff")
    };
    let out = diff("results.json");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("new failures (1)"), "{stdout}");
    assert!(stdout.contains("advisory: does not gate"), "{stdout}");

    let out = run_cases(&dir, &failing_case("mine.case", "required"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(diff("results.json").status.code(), Some(1));
}
