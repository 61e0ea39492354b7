//! `metaconform explain` and `metaconform schema`: a case told with its
//! history across two real runs (clean, then with a fault that breaks it),
//! an unknown id refused with the nearest ids, and schemas that refuse what
//! the loaders refuse.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, Scratch, text};
use serde_json::Value;

const CASE: &str = "lengths.key.256.merge";

fn run_into(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let json = dir.join(format!("{name}.json"));
    let out = Command::new(BIN)
        .args(["run", CASE, "--exact", "--no-props", "--json"])
        .arg(&json)
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

#[test]
fn a_case_is_explained_with_its_history() {
    let dir = Scratch::new("explain");
    let clean = run_into(&dir, "clean", &[]);
    let broken = run_into(&dir, "broken", &["--fault", "key-limit-off-by-one"]);
    let out = Command::new(BIN)
        .args(["explain", CASE])
        .arg(&clean)
        .arg(&broken)
        .output()
        .expect("explain");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with(&format!("{CASE}: ")), "{shown}");
    assert!(shown.contains("spec §"), "{shown}");
    assert!(shown.contains("step 1: merge"), "{shown}");
    assert!(shown.contains("runs on: nova"), "{shown}");
    let history: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.contains("history:"))
        .skip(1)
        .collect();
    assert_eq!(history.len(), 2, "{shown}");
    assert!(
        history[0].contains("clean.json") && history[0].contains("pass: 400"),
        "{shown}"
    );
    assert!(
        history[1].contains("broken.json") && history[1].contains("fail: 200"),
        "{shown}"
    );
}

#[test]
fn an_unknown_id_is_a_usage_error_naming_the_nearest_ids() {
    let out = Command::new(BIN)
        .args(["explain", "lengths.key.256.mrge"])
        .output()
        .expect("explain");
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out.stderr);
    assert!(message.contains("no case has the id"), "{message}");
    assert!(message.contains(CASE), "{message}");
}

#[test]
fn schemas_refuse_unknown_fields_like_the_loaders() {
    for kind in ["case", "profile", "baseline"] {
        let out = Command::new(BIN)
            .args(["schema", kind])
            .output()
            .expect("schema");
        assert_eq!(out.status.code(), Some(0), "{kind}");
        let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let closed = |def: &str| schema["$defs"][def]["additionalProperties"] == Value::Bool(false);
        match kind {
            "case" => {
                assert_eq!(schema["additionalProperties"], Value::Bool(false));
                assert!(
                    closed("Case") && closed("Step") && closed("Expect"),
                    "{schema}"
                );
            }
            "profile" => assert_eq!(schema["additionalProperties"], Value::Bool(false)),
            _ => {
                assert_eq!(schema["type"], "array");
                assert!(closed("KnownFailure"), "{schema}");
            }
        }
    }
    let out = Command::new(BIN)
        .args(["schema", "results"])
        .output()
        .expect("schema");
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        schema["properties"]["format_version"].is_object(),
        "{schema}"
    );
}
