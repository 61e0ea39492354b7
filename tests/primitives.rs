//! One root cause, not hundreds: when the runner's own reset does not
//! empty a map (`--fault put-merges`: `PUT` merges), the run reports a
//! single finding naming the broken primitive with its exchange, every
//! case as blocked by it, and exits 1, on the embedded server and on a
//! lent one (which is left as it was found). A healthy endpoint has no
//! such finding.

mod common;

use std::process::Command;

use common::{BIN, Scratch, results, spawn_serve, text};
use metaconform::report::failure::reason;
use metaconform::run::results::{RunResults, SkipKind, Verdict};

fn run(dir: &Scratch, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("run")
        .args(["--junit", "junit.xml", "--json", "results.json"])
        .args(args)
        .current_dir(dir)
        .env_remove("OS_TOKEN")
        .env_remove("OS_PROJECT_ID")
        .env_remove("METACONFORM_ENDPOINT")
        .env("CI", "true")
        .output()
        .expect("run metaconform")
}

/// Exactly one finding among the cases, `setup::reset-metadata`, quoting
/// what was sent and read back; every case blocked by it. (The property
/// trials still run: their driver starts from what it reads back after a
/// reset, so the broken reset cannot cascade into them; `prop::merge-replace`
/// finds the fault itself.)
fn assert_one_root_cause(results: &RunResults) {
    let findings: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Skip && !c.id.starts_with("prop::"))
        .collect();
    assert_eq!(
        findings.len(),
        1,
        "{:#?}",
        findings.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    let root = findings[0];
    assert_eq!(root.id, "setup::reset-metadata");
    assert_eq!(root.verdict, Verdict::Fail);
    let reason = reason(root).unwrap_or_default();
    assert!(
        reason.contains("reset by replace-all does not empty metadata")
            && reason.contains(r#"sent `PUT …/metadata {"metadata":{}}`"#)
            && reason.contains(r#"read back {"metaconform-probe":"1"}"#),
        "{reason}"
    );
    assert!(
        !root.exchanges.is_empty(),
        "the finding carries its exchanges"
    );
    let blocked = results
        .cases
        .iter()
        .filter(|c| c.skip_kind == Some(SkipKind::Blocked))
        .count();
    let trials = results
        .cases
        .iter()
        .filter(|c| c.id.starts_with("prop::"))
        .count();
    assert_eq!(
        blocked,
        results.cases.len() - 1 - trials,
        "every other case is blocked"
    );
    assert!(results.cases.len() > 700, "{}", results.cases.len());
}

#[test]
fn put_merges_is_one_root_cause_on_the_embedded_server() {
    let healthy = Scratch::new("primitives-healthy");
    let out = run(&healthy, &["--no-props", "metadata"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !results(&healthy)
            .cases
            .iter()
            .any(|c| c.id.starts_with("setup::")),
        "a healthy endpoint has no root-cause finding"
    );

    let dir = Scratch::new("primitives-put-merges");
    let out = run(&dir, &["--fault", "put-merges"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_one_root_cause(&results(&dir));
}

#[test]
fn put_merges_is_one_root_cause_on_a_lent_server_left_as_found() {
    let serve = spawn_serve(&["--servers", "2", "--fault", "put-merges"]);
    let info = &serve.info;
    let dir = Scratch::new("primitives-lent");
    // Without the trials: their writes are not for the probe to clean up,
    // and a replace-all restore cannot remove them on a PUT that merges
    // (the run then keeps the journal, exit 3, as it must).
    let mut args = vec![
        "--no-props",
        "--endpoint",
        &info.endpoint,
        "--token",
        &info.token,
    ];
    for s in &info.servers {
        args.extend(["--server", s.as_str()]);
    }
    let out = run(&dir, &args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("not restored"), "{stderr}");
    assert_one_root_cause(&results(&dir));
}
