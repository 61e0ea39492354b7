//! The cases that create a server with the metadata under test (`op:
//! create`, spec §3.4), end to end: `metaconform run --endpoint` against a
//! `metaconform serve` child. They pass on the faithful mock, fail when its
//! `POST /servers` skips the metadata rules, are skipped (and gate) without
//! `--image`/`--flavor`, and never leave a server behind: finished, failed,
//! interrupted with SIGINT, or killed and then `metaconform restore`d.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Scratch, journals, signal, spawn_serve, stderr_of, wait_with_timeout};
use metaconform::run::results::{SkipKind, Verdict};
use metaconform::serve::StartupInfo;

/// The cases of `cases/merge-replace/create-rules.yaml` that a mock whose
/// create skips the metadata rules passes anyway: the controls.
const CONTROLS: [&str; 4] = [
    "mr.create.rules.stored",
    "mr.create.rules.empty-map",
    "mr.create.rules.at-limits",
    "mr.create.rules.quota-at-limit",
];

/// How many cases the file holds.
const CREATE_CASES: usize = 11;

/// The ids of the project's servers, as its member lists them.
fn project_servers(info: &StartupInfo) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{}/servers", info.endpoint))
            .header("X-Auth-Token", &info.token)
            .send()
            .await
            .expect("list servers");
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().await.expect("body");
        let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let mut ids: Vec<String> = body["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids
    })
}

/// `run FILTER` against `info`'s first server, with `extra` flags.
fn start_run(dir: &Path, info: &StartupInfo, filter: &str, extra: &[&str]) -> Child {
    Command::new(BIN)
        .arg("run")
        .arg(filter)
        .args(["--endpoint", &info.endpoint, "--server", &info.servers[0]])
        .args(["--jobs", "1", "--no-props"])
        .args(extra)
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run")
}

const RECIPE: [&str; 4] = ["--image", "img-1", "--flavor", "1"];

/// Wait until a journal of `run` names a server the run created, and
/// return that journal.
fn wait_for_created_in_journal(dir: &Path, run: &mut Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let journal = journals(dir).into_iter().find(|path| {
            std::fs::read_to_string(path).is_ok_and(|text| text.contains("\"created\""))
        });
        if let Some(journal) = journal {
            return journal;
        }
        if let Some(status) = run.try_wait().expect("wait") {
            panic!(
                "the run ended ({status:?}) before journaling a created server: {}",
                stderr_of(run)
            );
        }
        assert!(Instant::now() < deadline, "no created server journaled");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// How many servers the cases' create steps made, each of which its own
/// case deleted (a `DELETE /servers/{id}` among its exchanges, not left to
/// the run's journal); panics on one its case did not delete.
fn deleted_by_their_cases(results: &metaconform::run::results::RunResults) -> usize {
    let mut made = 0;
    for case in &results.cases {
        let created = case.exchanges.iter().filter_map(|e| {
            let created = e.request.method == "POST" && e.request.url.ends_with("/servers");
            let status = e.response.as_ref().map(|r| r.status);
            let body = e.response.as_ref().map(|r| r.body.as_str()).unwrap_or("");
            let id = serde_json::from_str::<serde_json::Value>(body).ok()?["server"]["id"]
                .as_str()?
                .to_string();
            (created && status == Some(202)).then_some(id)
        });
        for id in created.collect::<Vec<_>>() {
            let deleted = case.exchanges.iter().any(|e| {
                e.request.method == "DELETE" && e.request.url.ends_with(&format!("/servers/{id}"))
            });
            assert!(deleted, "{}: server {id} not deleted by its case", case.id);
            made += 1;
        }
    }
    made
}

#[test]
fn create_cases_pass_on_the_mock_and_leave_no_server_behind() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-cases-pass");
    let mut run = start_run(&dir, info, "mr.create.rules.", &RECIPE);
    let status = wait_with_timeout(&mut run, Duration::from_secs(120));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(0), "{err}");
    let results = common::results(&dir);
    assert_eq!(results.cases.len(), CREATE_CASES, "{err}");
    assert!(results.cases.iter().all(|c| c.verdict == Verdict::Pass));
    let creates = results
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter(|e| e.request.method == "POST" && e.request.url.ends_with("/servers"))
        .count();
    assert!(creates >= CREATE_CASES, "{creates} create requests");
    assert_eq!(
        deleted_by_their_cases(&results),
        4,
        "the 4 controls made a server each"
    );
    assert_eq!(project_servers(info), before, "a server left behind\n{err}");
    assert!(journals(&dir).is_empty(), "{err}");
}

#[test]
fn create_cases_fail_when_create_skips_the_metadata_rules() {
    let serve = spawn_serve(&["--servers", "1", "--fault", "create-skips-metadata-rules"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-cases-fault");
    let mut run = start_run(&dir, info, "mr.create.rules.", &RECIPE);
    let status = wait_with_timeout(&mut run, Duration::from_secs(120));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(1), "{err}");
    let results = common::results(&dir);
    for case in &results.cases {
        let control = CONTROLS.contains(&case.id.as_str());
        let expected = if control {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        assert_eq!(case.verdict, expected, "{}", case.id);
    }
    assert_eq!(results.cases.len(), CREATE_CASES);
    // 4 controls, and the first create of each of the 7 refusals, which
    // the faulty mock accepted (the first failing step ends a case)
    assert_eq!(deleted_by_their_cases(&results), 4 + 7);
    // The refused creates the faulty mock accepted made servers: every
    // one is deleted all the same.
    assert_eq!(project_servers(info), before, "a server left behind\n{err}");
    assert!(journals(&dir).is_empty(), "{err}");
}

#[test]
fn without_image_and_flavor_create_cases_are_skipped_and_gate() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let dir = Scratch::new("create-cases-no-recipe");
    let mut run = start_run(&dir, info, "mr.create.rules.stored", &[]);
    let status = wait_with_timeout(&mut run, Duration::from_secs(60));
    let err = stderr_of(&mut run);
    assert_eq!(
        status.code(),
        Some(1),
        "a required case not run gates\n{err}"
    );
    let results = common::results(&dir);
    let case = &results.cases[0];
    assert_eq!(case.verdict, Verdict::Skip);
    assert_eq!(case.skip_kind, Some(SkipKind::Credentials));
    let reason = case.skip_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("--image REF --flavor REF"), "{reason}");
}

#[test]
fn sigint_during_a_create_case_still_deletes_its_server() {
    let serve = spawn_serve(&["--servers", "1", "--fault", "latency=150"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-cases-sigint");
    let mut run = start_run(&dir, info, "mr.create.rules.stored", &RECIPE);
    let _ = wait_for_created_in_journal(&dir, &mut run);
    signal(&run, "-INT");
    let status = wait_with_timeout(&mut run, Duration::from_secs(60));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(130), "{err}");
    assert_eq!(project_servers(info), before, "a server left behind\n{err}");
    assert!(journals(&dir).is_empty(), "{err}");
}

#[test]
fn restore_deletes_the_server_a_create_case_of_a_killed_run_made() {
    let serve = spawn_serve(&["--servers", "1", "--fault", "latency=150"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-cases-kill9");
    let mut run = start_run(&dir, info, "mr.create.rules.stored", &RECIPE);
    let journal = wait_for_created_in_journal(&dir, &mut run);
    signal(&run, "-KILL");
    let _ = wait_with_timeout(&mut run, Duration::from_secs(10));
    assert_eq!(
        project_servers(info).len(),
        before.len() + 1,
        "the run was killed after its case deleted the server: the test proves nothing"
    );
    let out = Command::new(BIN)
        .arg("restore")
        .arg(&journal)
        .env("OS_TOKEN", &info.token)
        .output()
        .expect("restore");
    let text = format!("{}{}", common::text(&out.stdout), common::text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(project_servers(info), before, "{text}");
    assert!(!journal.exists(), "restore removes the journal once done");
}

#[test]
fn legacy_create_cases_pass_on_the_mocks_v2_and_leave_no_server_behind() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-cases-legacy");
    let out = Command::new(BIN)
        .args(["run", "mr.create.legacy.", "--dialect", "nova-legacy"])
        .args(["--endpoint", &info.endpoint.replace("/v2.1/", "/v2/")])
        .args(["--server", &info.servers[0], "--no-props"])
        .args(RECIPE)
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .output()
        .expect("run");
    let err = common::text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let results = common::results(&dir);
    assert_eq!(results.summary.passed, 5, "{err}");
    let made = deleted_by_their_cases(&results);
    assert_eq!(made, 1, "the stored case made a server");
    let bodies: Vec<&str> = results
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter(|e| e.request.method == "POST" && e.request.url.ends_with("/servers"))
        .map(|e| e.request.body.as_str())
        .collect();
    assert!(!bodies.is_empty());
    assert!(bodies.iter().all(|b| !b.contains("networks")), "{bodies:?}");
    assert_eq!(project_servers(info), before, "a server left behind\n{err}");
}
