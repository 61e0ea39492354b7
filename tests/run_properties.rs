//! End-to-end tests of the property trials inside `metaconform run`: the
//! real binary against the embedded reference server. The five `prop::*`
//! trials appear in the JUnit file and `results.json` beside the cases, pass
//! on the fault-free server, and each fails on a fault in its area.

use std::path::Path;
use std::process::Output;

use metaconform::report::failure::reason;
use metaconform::run::results::{RunResults, SkipKind, Verdict};

mod common;
use common::*;

const TRIALS: [&str; 5] = [
    "prop::charset",
    "prop::lengths",
    "prop::merge-replace",
    "prop::states",
    "prop::quota",
];

fn run(dir: &Path, args: &[&str]) -> Output {
    command()
        .arg("run")
        .arg("--only-cases")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .args(args)
        .output()
        .expect("run metaconform")
}

fn prop_verdicts(results: &RunResults) -> Vec<(String, Verdict)> {
    results
        .cases
        .iter()
        .filter(|c| c.area == "prop")
        .map(|c| (c.id.clone(), c.verdict))
        .collect()
}

#[test]
fn the_whole_run_includes_and_passes_the_five_trials() {
    let dir = Scratch::new("all");
    let out = run(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts = prop_verdicts(&results(&dir));
    let expected: Vec<(String, Verdict)> = TRIALS
        .iter()
        .map(|t| (t.to_string(), Verdict::Pass))
        .collect();
    assert_eq!(verdicts, expected);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let suite = r#"name="metaconform.prop" tests="5" failures="0" errors="0" skipped="0""#;
    assert!(
        junit.contains(suite),
        "no prop suite of 5 passing trials in the JUnit file"
    );
    for trial in TRIALS {
        assert!(
            junit.contains(&format!(
                r#"<testcase name="{trial}" classname="metaconform.prop" time="#
            )),
            "{trial} missing from the JUnit file"
        );
    }
}

#[test]
fn each_trial_fails_on_a_fault_in_its_area() {
    let faults = [
        ("prop::charset", "charset-allows-slash-or-unicode"),
        ("prop::lengths", "bytes-not-chars"),
        ("prop::merge-replace", "put-merges"),
        ("prop::states", "allow-shelved-writes"),
        ("prop::quota", "quota-off-by-one"),
    ];
    for (trial, fault) in faults {
        let dir = Scratch::new(fault);
        let out = run(&dir, &["--exact", trial, "--fault", fault]);
        assert_eq!(out.status.code(), Some(1), "{trial} with {fault}");
        let results = results(&dir);
        assert_eq!(
            prop_verdicts(&results),
            [(trial.to_string(), Verdict::Fail)]
        );
        let case = &results.cases[0];
        let step = case.failed_step();
        assert!(
            step.is_some() && case.exchanges.iter().any(|e| e.step == step),
            "{trial}: the finding names its step and carries its exchanges: {:?}",
            reason(case)
        );
        let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
        assert!(
            junit.contains("curl -sS -i -g -X "),
            "{trial}: no repro in {junit}"
        );
        assert!(junit.contains("<failure type=\"conformance\""), "{junit}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("FAIL {trial}")), "{stderr}");
    }
}

#[test]
fn filters_list_skip_and_no_props_select_trials_like_cases() {
    let dir = Scratch::new("list");
    let out = run(&dir, &["--list", "prop::"]);
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(id, _)| id))
        .collect();
    assert_eq!(ids, TRIALS, "{listed}");

    let out = run(&dir, &["--list", "prop::", "--skip", "quota", "--no-props"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");

    let out = run(&dir, &["prop::", "--skip", "charset", "--no-state-changes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = results(&dir);
    let ids: Vec<&str> = results.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "prop::lengths",
            "prop::merge-replace",
            "prop::states",
            "prop::quota"
        ]
    );
    let states = &results.cases[2];
    assert_eq!(states.verdict, Verdict::Skip);
    assert_eq!(states.skip_kind, Some(SkipKind::UserChoice));
}

#[test]
fn batch_action_dialects_pass_every_trial_on_the_fault_free_server() {
    // ecs-v1 and bms-v1 stop and start servers with batch jobs (spec §4.2):
    // the trials must bring a stopped server back and read a job's 200.
    for dialect in ["ecs-v1", "bms-v1"] {
        let dir = Scratch::new(dialect);
        let out = run(&dir, &["prop::", "--dialect", dialect]);
        assert!(
            out.status.success(),
            "{dialect}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdicts = prop_verdicts(&results(&dir));
        assert_eq!(verdicts.len(), 5, "{dialect}");
        assert!(
            verdicts.iter().all(|(_, v)| *v == Verdict::Pass),
            "{dialect}: {verdicts:?}"
        );
    }
}

#[test]
fn with_aksk_signing_the_trials_are_skipped_without_gating() {
    let dir = Scratch::new("aksk");
    // Skipped by choice, so no failure; but a selection of trials alone then
    // tested nothing, which is exit 4 (allowed by --no-tests=pass).
    let out = run(&dir, &["prop::", "--dialect", "ecs-v1", "--auth", "aksk"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("nothing was tested"), "{stderr}");
    let allowed = run(
        &dir,
        &[
            "prop::",
            "--dialect",
            "ecs-v1",
            "--auth",
            "aksk",
            "--no-tests=pass",
        ],
    );
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let results = results(&dir);
    assert_eq!(results.cases.len(), 5);
    for case in &results.cases {
        assert_eq!(case.verdict, Verdict::Skip, "{}", case.id);
        assert_eq!(case.skip_kind, Some(SkipKind::UserChoice), "{}", case.id);
        assert!(case.skip_reason.as_deref().unwrap_or("").contains("AK/SK"));
    }
}

/// Against a real endpoint (here `serve`, not the embedded server) the
/// states trial changes the lent server's state as the catalogue's state
/// cases do, and leaves it active; it used to be skipped "for the
/// dialect" on every endpoint. `--no-state-changes` still leaves it out.
#[test]
fn the_states_trial_runs_against_an_endpoint_and_leaves_the_server_active() {
    let serve = spawn_serve(&["--servers", "1"]);
    let dir = Scratch::new("states-endpoint");
    let endpoint = [
        "prop::states",
        "--endpoint",
        &serve.info.endpoint,
        "--token",
        &serve.info.token,
        "--server",
        &serve.info.servers[0],
        "--journal-dir",
    ];
    let journals = dir.join("journals");
    let journals = journals.to_str().expect("UTF-8 path");
    let out = run(&dir, &[&endpoint[..], &[journals]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts = prop_verdicts(&results(&dir));
    assert_eq!(verdicts, [("prop::states".to_string(), Verdict::Pass)]);
    let server = get_json(
        &format!("{}/servers/{}", serve.info.endpoint, serve.info.servers[0]),
        &serve.info.token,
    );
    assert_eq!(
        server["server"]["OS-EXT-STS:vm_state"], "active",
        "{server}"
    );

    let left_out = run(
        &dir,
        &[
            &endpoint[..],
            &[journals, "--no-state-changes", "--no-tests=pass"],
        ]
        .concat(),
    );
    assert_eq!(left_out.status.code(), Some(0));
    let results = results(&dir);
    assert_eq!(results.cases[0].skip_kind, Some(SkipKind::UserChoice));
}

/// `GET url` over loopback (HTTP/1.0, one request), the body as JSON.
fn get_json(url: &str, token: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nX-Auth-Token: {token}\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (_, body) = answer.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(body).expect("JSON body")
}
