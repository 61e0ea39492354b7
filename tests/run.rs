//! End-to-end tests of `metaconform run`: the real binary, against the
//! embedded reference server or a `metaconform serve` process on 127.0.0.1
//! port 0.
//!
//! The fault loop is the acceptance test of the catalogue: every fault the
//! mock can inject must make at least one case fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use metaconform::report::failure::reason;
use metaconform::run::results::{RunResults, Verdict};
use metaconform::serve::StartupInfo;

mod common;
use common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-cases")
}

/// `metaconform run` with reports in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    command()
        .arg("run")
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .args(args)
        .output()
        .expect("run metaconform")
}

fn last_line(output: &Output) -> String {
    text(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// `(passed, failed, skipped)` from the final line, which must be exactly
/// `N passed, N failed, N skipped`.
fn counts(line: &str) -> (usize, usize, usize) {
    let parts: Vec<&str> = line.split(", ").collect();
    assert_eq!(parts.len(), 3, "final line: {line:?}");
    let number = |part: &str, word: &str| -> usize {
        let (n, w) = part.split_once(' ').expect("N word");
        assert_eq!(w, word, "final line: {line:?}");
        n.parse().expect("a count")
    };
    (
        number(parts[0], "passed"),
        number(parts[1], "failed"),
        number(parts[2], "skipped"),
    )
}

#[test]
fn embedded_default_passes_the_whole_catalogue_and_writes_reports() {
    let dir = Scratch::new("default");
    let cases = catalogue();
    let out = run(&dir, &["--only-cases", cases.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    let (passed, failed, skipped) = counts(&last_line(&out));
    assert_eq!(failed, 0);
    assert!(passed > 0, "the catalogue ran no case");

    let results = results(&dir);
    assert_eq!(
        results.format_version,
        metaconform::run::results::FORMAT_VERSION
    );
    assert!(results.run.embedded);
    assert_eq!(results.cases.len(), passed + skipped);
    for case in &results.cases {
        assert!(
            matches!(case.verdict, Verdict::Pass | Verdict::Skip),
            "{}: {:?} {:?}",
            case.id,
            case.verdict,
            reason(case)
        );
        // Property trials (area prop) keep their exchanges only on failure.
        if case.verdict == Verdict::Pass && case.area != "prop" {
            assert!(!case.exchanges.is_empty(), "{} kept no exchange", case.id);
        }
    }

    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml written");
    assert_eq!(junit.matches("<testcase ").count(), results.cases.len());
    assert!(!junit.contains("<failure") && !junit.contains("<error"));
    assert_eq!(junit.matches("<skipped").count(), skipped);
    // Skips are counted per suite and in the totals.
    let suite_skips: usize = junit
        .lines()
        .filter(|l| l.trim_start().starts_with("<testsuite "))
        .map(|l| attribute(l, "skipped"))
        .sum();
    assert_eq!(suite_skips, skipped);
    let totals = junit
        .lines()
        .find(|l| l.starts_with("<testsuites "))
        .expect("<testsuites>");
    assert_eq!(attribute(totals, "skipped"), skipped);
    assert_eq!(attribute(totals, "tests"), results.cases.len());
    // A passing case keeps its request lines, not its transcript.
    assert!(
        !junit.contains("curl "),
        "a passing run's JUnit holds repros"
    );
    assert!(junit.contains("step 1: "));
    // Size guard (format 1 wrote 3.6 MB of JUnit and 6.1 MB of JSON for
    // this run; now about 0.5 MB and 1.5 MB).
    let size = |name: &str| std::fs::metadata(dir.join(name)).unwrap().len();
    assert!(
        size("junit.xml") < 1_000_000,
        "junit.xml {} bytes",
        size("junit.xml")
    );
    assert!(
        size("results.json") < 2_000_000,
        "results.json {} bytes",
        size("results.json")
    );
    // Tokens never reach the reports; requests name the variable instead.
    let json = std::fs::read_to_string(dir.join("results.json")).unwrap();
    for report in [&junit, &json] {
        assert!(!report.contains("demo:") && !report.contains("admin:"));
    }
    let token_header = ("X-Auth-Token".to_string(), "$OS_TOKEN".to_string());
    assert!(
        results
            .cases
            .iter()
            .flat_map(|c| &c.exchanges)
            .any(|e| e.request.headers.contains(&token_header))
    );
}

/// The number in `name="N"` on an XML start tag line.
fn attribute(line: &str, name: &str) -> usize {
    let start = line
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len()
        + 3;
    let end = line[start..].find('"').unwrap() + start;
    line[start..end].parse().expect("a count")
}

#[test]
fn fixture_cases_pass_with_the_state_machinery() {
    let dir = Scratch::new("fixtures");
    let out = run(
        &dir,
        &[
            "--only-cases",
            fixtures().to_str().unwrap(),
            "--jobs",
            "3",
            "--no-props",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(last_line(&out), "7 passed, 0 failed, 1 skipped");
    let results = results(&dir);
    let skipped: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Skip)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].id, "fixture-only-ecs");
    assert!(
        skipped[0]
            .skip_reason
            .as_deref()
            .unwrap()
            .contains("ecs-v1")
    );
}

/// Fault names from `serve --list-faults`, with a value for those that
/// take one.
fn faults() -> Vec<String> {
    let out = Command::new(BIN)
        .args(["serve", "--list-faults"])
        .output()
        .expect("list faults");
    assert!(out.status.success());
    text(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(|name| match name.split_once('=') {
            // Every request delayed: a timing fault, no rule is broken.
            Some(("latency", _)) => "latency=1".to_string(),
            Some((name, _)) => format!("{name}=0.3"),
            None => name.to_string(),
        })
        .collect()
}

/// Faults that corrupt answers (every body, or a share of all requests):
/// the pre-flight's reads meet them before any case runs, and the run
/// stops there with exit 3, naming what the endpoint answered.
const CORRUPT_ANSWERS: &[&str] = &["truncate-body", "non-json-body", "error500=0.3"];

/// Whether `fault` is one pre-flight is to refuse, and it did: exit 3, the
/// answer named, no case run.
fn refused_by_preflight(fault: &str, out: &Output) -> bool {
    let stderr = text(&out.stderr);
    CORRUPT_ANSWERS.contains(&fault)
        && out.status.code() == Some(3)
        && stderr.contains("answered")
        && last_line(out).is_empty()
}

/// Ids of the cases that passed in a run.
fn passed_ids(results: &RunResults) -> std::collections::BTreeSet<String> {
    results
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass)
        .map(|c| c.id.clone())
        .collect()
}

/// A fault is caught when a case that passes against the healthy server
/// fails (or errors) with the fault injected; the baseline is measured in
/// the same test, so a case that fails anyway catches nothing.
#[test]
fn every_fault_makes_at_least_one_case_fail() {
    let cases = catalogue();
    let cases = cases.to_str().unwrap();
    let healthy = Scratch::new("healthy");
    run(&healthy, &["--only-cases", cases, "--jobs", "4"]);
    let baseline = passed_ids(&results(&healthy));
    assert!(
        !baseline.is_empty(),
        "no case passes against the healthy server"
    );
    let mut uncaught = Vec::new();
    for fault in faults() {
        // `echo-token` breaks no API rule (it adds text to messages and a
        // header): it exists for tests/secrets.rs, which checks that no
        // echoed secret reaches an output.
        if fault.starts_with("latency=") || fault == "echo-token" {
            continue;
        }
        let dir = Scratch::new("fault");
        let out = run(
            &dir,
            &["--only-cases", cases, "--fault", &fault, "--jobs", "4"],
        );
        if refused_by_preflight(&fault, &out) {
            continue;
        }
        let caught: Vec<String> = if dir.join("results.json").exists() {
            let now = passed_ids(&results(&dir));
            baseline.difference(&now).cloned().collect()
        } else {
            Vec::new()
        };
        if out.status.code() != Some(1) || caught.is_empty() {
            uncaught.push(format!(
                "{fault} (exit {:?}, {})",
                out.status.code(),
                last_line(&out)
            ));
        }
    }
    assert!(uncaught.is_empty(), "faults no case catches: {uncaught:#?}");
}

fn serve(args: &[&str]) -> ServeProcess {
    let mut all = vec!["--servers", "2"];
    all.extend_from_slice(args);
    spawn_serve(&all)
}

/// The flags describing a `serve` process as a remote endpoint; the main
/// token goes through the environment, as a user would pass it.
fn endpoint_flags(info: &StartupInfo) -> Vec<String> {
    let mut flags = vec![
        "--endpoint".to_string(),
        info.endpoint.clone(),
        "--admin-token".into(),
        info.admin_token.clone(),
        "--reader-token".into(),
        info.reader_token.clone(),
        "--alt-token".into(),
        info.alt_token.clone(),
        "--alt-project-id".into(),
        info.alt_project_id.clone(),
    ];
    for s in &info.servers {
        flags.extend(["--server".to_string(), s.clone()]);
    }
    for s in &info.alt_servers {
        flags.extend(["--alt-server".to_string(), s.clone()]);
    }
    flags
}

fn run_remote(dir: &Path, info: &StartupInfo, extra: &[&str]) -> Output {
    let flags = endpoint_flags(info);
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .args(&flags)
        .args(extra)
        .env("OS_TOKEN", &info.token)
        .env("CI", "true");
    cmd.output().expect("run metaconform")
}

#[test]
fn remote_endpoint_runs_and_catches_a_served_fault() {
    let dir = Scratch::new("remote");
    let fixtures = fixtures();
    let healthy = serve(&[]);
    let out = run_remote(
        &dir,
        &healthy.info,
        &["--only-cases", fixtures.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!results(&dir).run.embedded);

    let faulty = serve(&["--fault", "ignore-lock"]);
    let out = run_remote(
        &dir,
        &faulty.info,
        &["--only-cases", fixtures.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let results = results(&dir);
    let failed: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.id.as_str())
        .collect();
    // The states trial runs against an endpoint too, and finds the fault.
    assert_eq!(failed, vec!["fixture-paused-locked-set", "prop::states"]);
}

#[test]
fn known_failures_do_not_gate_and_fixed_ones_are_reported() {
    let dir = Scratch::new("known");
    let known = dir.join("known.yaml");
    std::fs::write(
        &known,
        "- {id: fixture-paused-locked-set, reason: lock ignored here}\n- {id: fixture-merge-keeps-keys, reason: was broken}\n",
    )
    .unwrap();
    let fixtures = fixtures();
    let args = [
        "--only-cases",
        fixtures.to_str().unwrap(),
        "--fault",
        "ignore-lock",
        "--known-failures",
        known.to_str().unwrap(),
        "--no-props",
    ];
    let out = run(&dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("FIXED fixture-merge-keeps-keys"));
    let results = results(&dir);
    assert_eq!(results.summary.known_failures, 1);
    assert_eq!(results.summary.fixed, 1);
}

#[test]
fn list_json_names_every_selected_case() {
    let dir = Scratch::new("list");
    let out = run(
        &dir,
        &[
            "--only-cases",
            fixtures().to_str().unwrap(),
            "--list",
            "--format",
            "json",
            "fixture-",
            "--skip",
            "concurrent",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON list");
    let ids: Vec<&str> = list.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert!(!ids.contains(&"fixture-concurrent-merge"));
    assert!(
        list.iter()
            .all(|e| e["area"] == "basic" && e["spec"].is_string())
    );

    let exact = run(
        &dir,
        &[
            "--only-cases",
            fixtures().to_str().unwrap(),
            "--list",
            "--exact",
            "fixture-action-pause",
        ],
    );
    assert_eq!(text(&exact.stdout).lines().count(), 1);
}

#[test]
fn invalid_case_files_exit_2_with_located_diagnostics() {
    let dir = Scratch::new("bad-cases");
    write_file(
        &dir,
        "cases/broken/bad.yaml",
        "cases:\n  - id: x\n    name: n\n    spec: \"2.1\"\n    stepz: []\n",
    );
    let out = run(&dir, &["--only-cases", dir.join("cases").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.yaml:5"), "{stderr}");
    assert!(!dir.join("results.json").exists());
}

#[test]
fn endpoint_without_servers_exits_2_and_says_what_to_pass() {
    let dir = Scratch::new("no-server");
    let out = run(
        &dir,
        &[
            "--only-cases",
            fixtures().to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9/v2.1/abc",
            "--token",
            "t",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--server"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn endpoint_nobody_listens_on_exits_3() {
    // A socket bound to a port but never listening: the port stays ours for
    // the whole test (no other process can take it between a bind, a drop
    // and the run), and every connection to it is refused.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let port = socket.local_addr().expect("addr").port();
    let dir = Scratch::new("unreachable");
    let endpoint = format!("http://127.0.0.1:{port}/v2.1/abc");
    let out = run(
        &dir,
        &[
            "--only-cases",
            fixtures().to_str().unwrap(),
            "--endpoint",
            &endpoint,
            "--token",
            "demo:abc",
            "--server",
            "s1",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot reach"));
    assert!(!text(&out.stderr).contains("demo:abc"));
    drop(socket);
}

#[test]
fn coverage_lists_every_rule_and_fails_when_one_has_no_case() {
    let dir = Scratch::new("coverage");
    let full = run(
        &dir,
        &["--only-cases", catalogue().to_str().unwrap(), "--coverage"],
    );
    assert_eq!(full.status.code(), Some(0), "{}", text(&full.stdout));
    assert!(text(&full.stdout).contains("§2.1"));
    let partial = run(
        &dir,
        &["--only-cases", fixtures().to_str().unwrap(), "--coverage"],
    );
    assert_eq!(partial.status.code(), Some(1));
    assert!(text(&partial.stdout).contains("rules without cases:"));

    // Each dialect counts the cases it runs: ecs-v1 has no nova-only case,
    // and nova none of the Huawei system-key rule (§2.7).
    let applying = |dialect: &str| -> (usize, String) {
        let out = run(&dir, &["--coverage", "--dialect", dialect]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let first = stdout.lines().next().unwrap_or_default().to_string();
        let n = first.split(' ').next().unwrap().parse().expect("a count");
        assert!(
            first.ends_with(&format!("cases apply to {dialect}")),
            "{first}"
        );
        (n, stdout)
    };
    let (nova, nova_text) = applying("nova");
    let (ecs, ecs_text) = applying("ecs-v1");
    assert!(ecs < nova && ecs > 0, "ecs-v1 {ecs}, nova {nova}");
    assert!(
        nova_text.contains("rules nova runs no case of: 2.7"),
        "{nova_text}"
    );
    assert!(!ecs_text.contains("no case of: 2.7"), "{ecs_text}");
}

#[test]
fn a_state_the_action_does_not_lead_to_is_an_error_not_a_hang() {
    let dir = Scratch::new("shelved");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-shelved");
    let out = run(
        &dir,
        &[
            "--only-cases",
            cases.to_str().unwrap(),
            "--state-timeout",
            "60",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let results = results(&dir);
    assert_eq!(results.cases[0].verdict, Verdict::Error);
    let reason = reason(&results.cases[0]).unwrap();
    assert!(
        reason.contains("settled in vm_state shelved_offloaded instead of shelved"),
        "{reason}"
    );
}

/// Every other dialect the embedded server serves runs each case whose
/// operations it has, and passes it.
#[test]
fn every_served_dialect_passes_the_cases_it_can_run() {
    let cases = catalogue();
    let mut failing = Vec::new();
    for dialect in ["nova-legacy", "ecs-os", "bms-os"] {
        let dir = Scratch::new(dialect);
        let out = run(
            &dir,
            &[
                "--only-cases",
                cases.to_str().unwrap(),
                "--dialect",
                dialect,
            ],
        );
        let (passed, failed, _) = counts(&last_line(&out));
        assert!(passed > 0, "{dialect} ran no case");
        if out.status.code() != Some(0) || failed > 0 {
            let results = results(&dir);
            let ids: Vec<&str> = results
                .cases
                .iter()
                .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
                .map(|c| c.id.as_str())
                .collect();
            failing.push(format!("{dialect}: {ids:?}"));
        }
    }
    assert!(failing.is_empty(), "{failing:#?}");
}

/// The embedded mock is judged by what the profile emits, a real endpoint
/// by the accept set: the same wrong case fails on the first and passes on
/// a `serve` process addressed as a remote endpoint.
#[test]
fn the_embedded_mock_is_held_to_its_emit_and_an_endpoint_to_the_accept_set() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-strict");
    let cases = cases.to_str().unwrap();
    let dir = Scratch::new("strict-embedded");
    let out = run(&dir, &["--only-cases", cases, "--no-props"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let reason = reason(&results(&dir).cases[0]).unwrap_or_default();
    assert!(
        reason.contains("expected outcome over-quota (403 forbidden), got 413"),
        "{reason}"
    );
    let served = serve(&[]);
    let remote = Scratch::new("strict-remote");
    let out = run_remote(
        &remote,
        &served.info,
        &["--only-cases", cases, "--no-props"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(results(&remote).cases[0].verdict, Verdict::Pass);
}
