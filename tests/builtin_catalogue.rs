//! The catalogue is compiled into the binary: `metaconform run` outside a
//! checkout (no `./cases`) still has every case, and a local `./cases`
//! folder wins over the built-in copy.

use std::process::Command;

mod common;
use common::*;

fn metaconform() -> Command {
    Command::new(BIN)
}

fn listed(dir: &std::path::Path) -> Vec<String> {
    let out = metaconform()
        .args(["run", "--list", "--no-props"])
        .current_dir(dir)
        .output()
        .expect("run the binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn runs_outside_a_checkout_with_the_builtin_catalogue() {
    let empty = Scratch::new("no-cases");
    let from_builtin = listed(&empty);
    let from_checkout = listed(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        from_builtin.len() >= 300,
        "only {} cases",
        from_builtin.len()
    );
    assert_eq!(from_builtin, from_checkout);
}

#[test]
fn a_local_cases_folder_wins_over_the_builtin_copy() {
    let dir = Scratch::new("local-cases");
    let area = dir.join("cases").join("mine");
    std::fs::create_dir_all(&area).expect("mkdir");
    std::fs::write(
        area.join("one.yaml"),
        "cases:\n  - id: mine.one\n    name: one\n    spec: \"3.1\"\n    steps:\n      - op: list\n        expect: {outcome: ok}\n",
    )
    .expect("write");
    let ids = listed(&dir);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0].contains("mine.one"), "{ids:?}");
}
