//! `.ci/fuzz-all.sh`, the fuzzer self-test CI runs, must fail whenever it
//! has not tested: an empty or short fault list, a campaign that aborted
//! (exit 4) read as a finding, a crashed worker on the fault-free server. A
//! stand-in binary (`METACONFORM_BIN`) plays each broken answer; one run
//! with the real binary on one fault shows the happy path, saved repro
//! replayed included.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::*;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/fuzz-all.sh")
}

/// Run the self-test with `bin` as the binary under test.
fn self_test(bin: &Path, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .arg("1")
        .env("METACONFORM_BIN", bin)
        .env_remove("FUZZ_ONLY")
        .env_remove("FUZZ_BUDGET")
        .env("FUZZ_SEQUENCES", "40");
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("run bash")
}

/// A stand-in `metaconform`: `serve --list-faults ...` runs `list`, `fuzz`
/// without `--fault` runs `clean`, `fuzz --fault` runs `faulty` (shell
/// snippets).
fn stand_in(dir: &Path, list: &str, clean: &str, faulty: &str) -> PathBuf {
    let path = dir.join("metaconform");
    let body = format!(
        "#!/usr/bin/env bash\n\
         case \"$1\" in\n\
           serve) {list} ;;\n\
           fuzz) if [[ \" $* \" == *' --fault '* ]]; then {faulty}; else {clean}; fi ;;\n\
           *) exit 99 ;;\n\
         esac\n"
    );
    std::fs::write(&path, body).expect("write stand-in");
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    path
}

/// Sixteen made-up semantic faults, one a line as `--list-faults` prints.
const SIXTEEN: &str = "for i in $(seq 1 16); do echo \"fault-$i   a fault\"; done";

fn assert_fails(out: &Output, exit: Option<i32>, says: &str) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "the self-test passed:\n{all}");
    if exit.is_some() {
        assert_eq!(out.status.code(), exit, "{all}");
    }
    assert!(all.contains(says), "expected '{says}' in:\n{all}");
}

#[test]
fn an_empty_fault_list_fails_the_self_test() {
    let dir = Scratch::new("selftest-empty");
    let bin = stand_in(&dir, "true", "exit 0", "exit 1");
    let out = self_test(&bin, &[]);
    assert_fails(&out, Some(2), "lists 0 fault(s), at least 16 expected");
}

#[test]
fn a_short_or_failing_fault_list_fails_the_self_test() {
    let dir = Scratch::new("selftest-short");
    let short = stand_in(&dir, "echo 'put-merges  x'", "exit 0", "exit 1");
    assert_fails(&self_test(&short, &[]), Some(2), "lists 1 fault(s)");
    let broken = stand_in(&dir, "exit 3", "exit 0", "exit 1");
    let out = self_test(&broken, &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("every fault found"));
}

#[test]
fn a_filter_that_selects_nothing_fails_the_self_test() {
    let out = self_test(Path::new(BIN), &[("FUZZ_ONLY", "^no-such-fault$")]);
    assert_fails(&out, Some(2), "selects no semantic fault");
}

#[test]
fn a_crashed_worker_on_the_clean_server_fails_the_self_test() {
    let dir = Scratch::new("selftest-crash");
    let crash = "echo 'error: a fuzz worker crashed: task 1 panicked'; exit 4";
    let bin = stand_in(&dir, SIXTEEN, crash, "exit 1");
    assert_fails(
        &self_test(&bin, &[]),
        Some(1),
        "fault-free campaign aborted",
    );
}

#[test]
fn an_aborted_campaign_is_not_a_found_fault() {
    let dir = Scratch::new("selftest-abort");
    let abort = "echo 'stopped early: cannot prepare server s: gone'; exit 4";
    let bin = stand_in(&dir, SIXTEEN, "exit 0", abort);
    let out = self_test(&bin, &[]);
    assert_fails(&out, Some(1), "ABORTED fault-1: stopped early");
    assert!(!text(&out.stdout).contains("every fault found"));
}

#[test]
fn a_found_fault_without_a_saved_repro_fails_the_self_test() {
    let dir = Scratch::new("selftest-unsaved");
    let bin = stand_in(
        &dir,
        SIXTEEN,
        "exit 0",
        "echo '[1 failing sequence(s)]'; exit 1",
    );
    assert_fails(&self_test(&bin, &[]), Some(1), "UNSAVED fault-1");
}

#[test]
fn one_real_fault_is_found_saved_and_replayed() {
    let out = self_test(Path::new(BIN), &[("FUZZ_ONLY", "^put-merges$")]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("found   put-merges"), "{all}");
    assert!(all.contains("1 repro(s) replayed"), "{all}");
}
