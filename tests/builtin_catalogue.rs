//! The catalogue is compiled into the binary: `metaconform run` outside a
//! checkout (no `./cases`) still has every case, and a local `./cases`
//! folder never replaces it (it used to, silently); `--cases cases` adds it.

use std::process::Command;

mod common;
use common::*;

fn metaconform() -> Command {
    Command::new(BIN)
}

fn listed(dir: &std::path::Path) -> Vec<String> {
    listed_with(dir, &[])
}

fn listed_with(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = metaconform()
        .args(["run", "--list", "--no-props"])
        .args(args)
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
fn a_local_cases_folder_is_added_only_when_asked() {
    let dir = Scratch::new("local-cases");
    write_file(
        &dir,
        "cases/mine/one.yaml",
        "cases:\n  - id: mine.one\n    name: one\n    spec: \"3.1\"\n    steps:\n      - op: list\n        expect: {outcome: ok}\n",
    );
    let builtin = listed(&Scratch::new("no-cases"));
    let ids = listed(&dir);
    assert_eq!(ids, builtin, "./cases must not replace the catalogue");
    let added = listed_with(&dir, &["--cases", "cases"]);
    assert_eq!(added.len(), builtin.len() + 1);
    assert!(
        added.iter().any(|id| id.starts_with("mine.one:")),
        "{added:?}"
    );
    let only = listed_with(&dir, &["--only-cases", "cases"]);
    assert_eq!(only.len(), 1, "{only:?}");
}
