//! Data safety on lent servers, end to end: `metaconform run --endpoint`
//! against a `metaconform serve` child whose servers hold a user's data,
//! finished, interrupted with SIGINT at many points, or killed with
//! SIGKILL and then `metaconform restore`d. Each time every server's
//! metadata, `vm_state` and lock must be exactly as the user left them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    BIN, Scratch, ServeProcess, journals, signal, spawn_serve, stderr_of, wait_with_timeout,
};
use metaconform::report::failure::reason;
use metaconform::serve::StartupInfo;
use serde_json::{Value, json};

/// What a user cares about on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    metadata: BTreeMap<String, Value>,
    vm_state: String,
    locked: bool,
    /// Server tags: the user's own, and a run's lease while it runs.
    tags: Vec<String>,
    /// The flavor's id: a resize a case confirmed must be undone.
    flavor: Value,
}

fn block<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// The endpoint URL of `token`'s own project.
fn project_url(info: &StartupInfo, alt: bool) -> String {
    match alt {
        false => info.endpoint.clone(),
        true => info
            .endpoint
            .replace(&info.project_id, &info.alt_project_id),
    }
}

async fn call(method: &str, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    call_at("2.9", method, url, token, body).await
}

async fn call_at(
    version: &str,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().expect("method"), url)
        .header("X-Auth-Token", token)
        .header("X-OpenStack-Nova-API-Version", version);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("serve answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Every server of both projects as the admin sees it.
fn everything(info: &StartupInfo) -> BTreeMap<String, Held> {
    let servers = info
        .servers
        .iter()
        .map(|s| (s, false))
        .chain(info.alt_servers.iter().map(|s| (s, true)));
    block(async {
        let mut out = BTreeMap::new();
        for (id, alt) in servers {
            let token = if alt { &info.alt_token } else { &info.token };
            let url = format!("{}/servers/{id}", project_url(info, alt));
            let (status, tags) = call_at("2.26", "GET", format!("{url}/tags"), token, None).await;
            assert_eq!(status, 200, "{tags}");
            let tags = serde_json::from_value(tags["tags"].clone()).expect("tags");
            let (status, body) = call("GET", url, token, None).await;
            assert_eq!(status, 200, "{body}");
            let server = &body["server"];
            let metadata = server["metadata"].as_object().expect("metadata").clone();
            out.insert(
                id.clone(),
                Held {
                    metadata: metadata.into_iter().collect(),
                    vm_state: server["OS-EXT-STS:vm_state"]
                        .as_str()
                        .expect("vm_state")
                        .into(),
                    locked: server["locked"].as_bool().expect("locked"),
                    tags,
                    flavor: server["flavor"]["id"].clone(),
                },
            );
        }
        out
    })
}

/// Give the servers a user's data: metadata everywhere, one server stopped
/// and locked by its owner, one paused.
fn lend(info: &StartupInfo) {
    block(async {
        let own = |id: &String| format!("{}/servers/{id}", project_url(info, false));
        let t = &info.token;
        let writes = [
            (
                0,
                json!({"metadata": {"owner": "team", "cost-centre": "42"}}),
            ),
            (1, json!({"metadata": {"a": "1", "b": "2"}})),
            (2, json!({"metadata": {"only": "me"}})),
        ];
        for (i, body) in writes {
            let url = format!("{}/metadata", own(&info.servers[i]));
            assert_eq!(call("PUT", url, t, Some(body)).await.0, 200);
        }
        // The user's own tag, and the lease of a run long gone (expired in
        // 2001): neither blocks a run, and neither is touched.
        for tag in ["team-blue", "metaconform-lease:deadbeef0000:1000000000"] {
            let url = format!("{}/tags/{tag}", own(&info.servers[0]));
            assert_eq!(call_at("2.26", "PUT", url, t, None).await.0, 201);
        }
        let act = |i: usize, body: Value| {
            let url = format!("{}/action", own(&info.servers[i]));
            async move { assert_eq!(call("POST", url, t, Some(body)).await.0, 202) }
        };
        act(1, json!({"os-stop": null})).await;
        act(1, json!({"lock": null})).await;
        act(2, json!({"pause": null})).await;
        let alt = format!(
            "{}/servers/{}/metadata",
            project_url(info, true),
            info.alt_servers[0]
        );
        let body = json!({"metadata": {"alt": "keep"}});
        assert_eq!(call("PUT", alt, &info.alt_token, Some(body)).await.0, 200);
    });
    // The mock applies actions after a short task: wait until settled.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let now = everything(info);
        let s = |i: usize| &now[&info.servers[i]];
        if s(1).vm_state == "stopped" && s(2).vm_state == "paused" {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the lent servers did not settle");
}

/// The flags of a run (or restore) against `info`; the member's token goes
/// through the environment.
fn identity_flags(info: &StartupInfo) -> Vec<String> {
    [
        ("--admin-token", &info.admin_token),
        ("--reader-token", &info.reader_token),
        ("--alt-token", &info.alt_token),
        ("--alt-project-id", &info.alt_project_id),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_string(), value.clone()])
    .collect()
}

/// What the cases that create servers (`op: create`) make them of: the
/// mock takes any image and flavor.
const RECIPE: [&str; 4] = ["--image", "img-1", "--flavor", "1"];

fn start_run(dir: &Path, info: &StartupInfo, filter: &str) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg(filter)
        .args(["--endpoint", &info.endpoint, "--jobs", "3"])
        .args(RECIPE)
        .args(identity_flags(info))
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for s in &info.servers {
        cmd.args(["--server", s]);
    }
    for s in &info.alt_servers {
        cmd.args(["--alt-server", s]);
    }
    cmd.spawn().expect("spawn run")
}

fn lent_serve() -> (ServeProcess, BTreeMap<String, Held>) {
    let serve = spawn_serve(&["--servers", "3"]);
    lend(&serve.info);
    let before = everything(&serve.info);
    (serve, before)
}

#[test]
fn a_finished_run_leaves_lent_servers_as_it_found_them() {
    let dir = Scratch::new("safekeeping-finished");
    let (serve, before) = lent_serve();
    let mut run = start_run(&dir, &serve.info, "mr.");
    let status = wait_with_timeout(&mut run, Duration::from_secs(120));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("journal: "),
        "the run names its journal: {err}"
    );
    assert_eq!(everything(&serve.info), before);
    assert!(
        journals(&dir).is_empty(),
        "a restored run removes its journal"
    );
}

#[test]
fn a_confirmed_resize_is_undone_on_a_lent_server() {
    let dir = Scratch::new("safekeeping-resize");
    let (serve, before) = lent_serve();
    assert!(before.values().all(|h| !h.flavor.is_null()), "{before:?}");
    let mut run = start_run(&dir, &serve.info, "states.actions.resize-confirm");
    let status = wait_with_timeout(&mut run, Duration::from_secs(120));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(0), "{err}");
    let results = common::results(&dir);
    assert!(
        results
            .cases
            .iter()
            .any(|c| c.id == "states.actions.resize-confirm"
                && c.verdict == metaconform::run::results::Verdict::Pass),
        "the resize case did not run"
    );
    assert_eq!(everything(&serve.info), before, "{err}");
}

#[test]
fn sigint_at_twenty_points_never_loses_a_lent_servers_state() {
    // 1 ms per answer stretches the run to a few seconds, so the signals
    // land in every phase: setup, cases, state changes, property trials.
    let serve = spawn_serve(&["--servers", "3", "--fault", "latency=1"]);
    lend(&serve.info);
    let before = everything(&serve.info);
    let listed = project_servers(&serve.info);
    let mut interrupted = 0;
    for trial in 0..20u64 {
        let dir = Scratch::new("safekeeping-sigint");
        let mut run = start_run(&dir, &serve.info, "");
        // Two signals before the journal can exist; the rest spread over
        // the run, counted from the journal's appearance.
        let delay = match trial {
            0 | 1 => Duration::from_millis(trial * 15),
            _ => {
                wait_for_journal(&dir, &mut run);
                Duration::from_millis((trial - 2) * 280)
            }
        };
        std::thread::sleep(delay);
        signal(&run, "-INT");
        let status = wait_with_timeout(&mut run, Duration::from_secs(120));
        let err = stderr_of(&mut run);
        if status.code() == Some(130) {
            interrupted += 1;
        }
        assert!(
            matches!(status.code(), Some(0 | 130) | None),
            "trial {trial} after {delay:?}: {status:?}\n{err}"
        );
        assert_eq!(
            everything(&serve.info),
            before,
            "trial {trial}: SIGINT after {delay:?} changed a lent server\n{err}"
        );
        assert!(
            journals(&dir).is_empty(),
            "trial {trial}: journal left\n{err}"
        );
        assert_eq!(
            project_servers(&serve.info),
            listed,
            "trial {trial}: a server a create case made is left\n{err}"
        );
    }
    assert!(
        interrupted >= 12,
        "only {interrupted} of 20 runs were interrupted mid-run"
    );
}

/// Wait until `run` has written its journal (it is about to write).
fn wait_for_journal(dir: &Path, run: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while journals(dir).is_empty() {
        if let Some(status) = run.try_wait().expect("wait") {
            panic!(
                "the run ended ({status:?}) before writing a journal: {}",
                stderr_of(run)
            );
        }
        assert!(Instant::now() < deadline, "no journal written");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn restore_finishes_the_job_after_kill_9() {
    let dir = Scratch::new("safekeeping-kill9");
    let (serve, before) = lent_serve();
    let mut run = start_run(&dir, &serve.info, "");
    wait_for_journal(&dir, &mut run);
    std::thread::sleep(Duration::from_millis(400));
    signal(&run, "-KILL");
    let _ = wait_with_timeout(&mut run, Duration::from_secs(10));
    let journal = journals(&dir)
        .pop()
        .expect("the killed run's journal is left");
    assert_ne!(
        everything(&serve.info),
        before,
        "the run was killed before it changed anything: the test proves nothing"
    );
    let out = Command::new(BIN)
        .arg("restore")
        .arg(&journal)
        .args(identity_flags(&serve.info))
        .env("OS_TOKEN", &serve.info.token)
        .output()
        .expect("restore");
    let text = format!("{}{}", common::text(&out.stdout), common::text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(everything(&serve.info), before, "{text}");
    assert!(!journal.exists(), "restore removes the journal once done");
    assert!(
        !text.contains(&serve.info.token),
        "restore printed a token: {text}"
    );
}

fn start_fuzz(dir: &Path, info: &StartupInfo, sequences: &str) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("fuzz")
        .args([
            "--endpoint",
            &info.endpoint,
            "--seed",
            "7",
            "--state-changes",
        ])
        .args(["--sequences", sequences, "--jobs", "2"])
        .args(identity_flags(info))
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for s in &info.servers {
        cmd.args(["--server", s]);
    }
    cmd.spawn().expect("spawn fuzz")
}

#[test]
fn a_fuzz_campaign_puts_lent_servers_back_finished_or_interrupted() {
    let serve = spawn_serve(&["--servers", "4", "--fault", "latency=1"]);
    lend(&serve.info);
    let before = everything(&serve.info);

    let dir = Scratch::new("safekeeping-fuzz-done");
    let mut fuzz = start_fuzz(&dir, &serve.info, "20");
    let status = wait_with_timeout(&mut fuzz, Duration::from_secs(120));
    let err = stderr_of(&mut fuzz);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("journal: "), "{err}");
    assert_eq!(everything(&serve.info), before, "{err}");
    assert!(journals(&dir).is_empty(), "{err}");

    for delay in [100, 700] {
        let dir = Scratch::new("safekeeping-fuzz-sigint");
        let mut fuzz = start_fuzz(&dir, &serve.info, "100000");
        wait_for_journal(&dir, &mut fuzz);
        std::thread::sleep(Duration::from_millis(delay));
        signal(&fuzz, "-INT");
        let status = wait_with_timeout(&mut fuzz, Duration::from_secs(120));
        let err = stderr_of(&mut fuzz);
        assert_eq!(status.code(), Some(130), "{err}");
        assert_eq!(
            everything(&serve.info),
            before,
            "SIGINT after {delay} ms\n{err}"
        );
        assert!(journals(&dir).is_empty(), "{err}");
    }
}

/// Run `filter` against `info`'s servers as the member only (no admin, so
/// nothing can reset a server out of `error`).
fn run_as_member(
    dir: &Path,
    info: &StartupInfo,
    filter: &str,
    servers: &[String],
) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg(filter)
        .args(["--endpoint", &info.endpoint, "--jobs", "3", "--no-props"])
        .args(RECIPE)
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID");
    for s in servers {
        cmd.args(["--server", s]);
    }
    let out = cmd.output().expect("run");
    (out.status.code(), common::text(&out.stderr))
}

#[test]
fn a_server_that_cannot_be_brought_back_is_quarantined_not_a_cascade() {
    let serve = spawn_serve(&["--servers", "3"]);
    let info = &serve.info;
    let broken = info.servers[2].clone();
    block(async {
        let url = format!("{}/servers/{broken}/action", info.endpoint);
        let body = json!({"os-resetState": {"state": "error"}});
        assert_eq!(
            call("POST", url, &info.admin_token, Some(body)).await.0,
            202
        );
    });

    // Two good servers and the broken one: one error, then the good
    // servers take every other case.
    let dir = Scratch::new("quarantine-some");
    let (code, err) = run_as_member(&dir, info, "mr.", &info.servers);
    let results = common::results(&dir);
    let errors: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.verdict == metaconform::run::results::Verdict::Error)
        .collect();
    assert!(
        err.contains(&format!("server {broken} cannot be brought back")),
        "{err}"
    );
    assert!(
        errors.len() <= 1,
        "a cascade of errors: {:?}",
        errors.iter().map(|c| reason(c)).collect::<Vec<_>>()
    );
    let s = results.summary;
    assert!(
        s.passed >= 10 && s.passed + s.skipped + errors.len() == results.cases.len(),
        "{s:?}\n{err}"
    );
    assert_eq!(code, Some(if errors.is_empty() { 0 } else { 1 }), "{err}");

    // Only the broken server: every case is an error that names why.
    let dir = Scratch::new("quarantine-all");
    let (code, err) = run_as_member(&dir, info, "mr.", std::slice::from_ref(&broken));
    let results = common::results(&dir);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(results.summary.passed, 0);
    // The cases for another dialect (mr.create.legacy.*) are skipped as such.
    let for_nova: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.skip_kind != Some(metaconform::run::results::SkipKind::Dialect))
        .collect();
    let quarantined = for_nova
        .iter()
        .filter(|c| reason(c).is_some_and(|r| r.contains("quarantined")))
        .count();
    assert!(
        quarantined + 1 >= for_nova.len() && !for_nova.is_empty(),
        "{} cases, {quarantined} name the quarantine",
        for_nova.len()
    );
}

#[test]
fn a_second_run_refuses_a_server_another_run_holds() {
    // The whole catalogue at 1 ms per answer: the first run is busy for
    // longer than the second takes to start; it is stopped with SIGINT.
    let serve = spawn_serve(&["--servers", "3", "--fault", "latency=1"]);
    lend(&serve.info);
    let before = everything(&serve.info);
    let first_dir = Scratch::new("lease-first");
    let mut first = start_run(&first_dir, &serve.info, "");
    wait_for_journal(&first_dir, &mut first);
    let held = everything(&serve.info);
    let lease: Vec<&String> = held[&serve.info.servers[0]]
        .tags
        .iter()
        .filter(|t| t.starts_with("metaconform-lease:") && !t.contains("deadbeef"))
        .collect();
    assert_eq!(lease.len(), 1, "the running run holds one lease: {held:?}");

    let second_dir = Scratch::new("lease-second");
    let mut second = start_run(&second_dir, &serve.info, "mr.");
    let status = wait_with_timeout(&mut second, Duration::from_secs(60));
    let err = stderr_of(&mut second);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(
        err.contains("is leased by another metaconform run") && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(journals(&second_dir).is_empty(), "{err}");

    assert!(
        first.try_wait().expect("wait").is_none(),
        "the first run ended before the second was refused: the test proves nothing"
    );
    signal(&first, "-INT");
    let status = wait_with_timeout(&mut first, Duration::from_secs(120));
    let err = stderr_of(&mut first);
    assert_eq!(status.code(), Some(130), "{err}");
    // Lease gone; the user's tag and the dead run's expired lease kept.
    assert_eq!(everything(&serve.info), before, "{err}");
}

/// `run FILTER` against the first lent server only, one job, as every
/// identity; `extra` flags appended. Returns (exit code, stdout, stderr).
fn run_on_first_server(
    dir: &Path,
    info: &StartupInfo,
    filter: &str,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("run")
        .arg(filter)
        .args(["--endpoint", &info.endpoint, "--jobs", "1", "--no-props"])
        .args(["--server", &info.servers[0]])
        .args(identity_flags(info))
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .args(extra)
        .env("OS_TOKEN", &info.token)
        .env_remove("OS_PROJECT_ID")
        .output()
        .expect("run");
    (
        out.status.code(),
        common::text(&out.stdout),
        common::text(&out.stderr),
    )
}

#[test]
fn dry_run_writes_nothing_and_lists_the_writes_the_run_then_makes() {
    let (serve, before) = lent_serve();
    let info = &serve.info;
    let filter = "mr.";
    let dir = Scratch::new("dry-run");
    // The create cases' servers get new ids on every run, twin or real:
    // their writes cannot be listed ahead by id.
    let skip_creates = ["--skip", "mr.create"];
    let (code, listing, err) = run_on_first_server(
        &dir,
        info,
        filter,
        &["--dry-run", skip_creates[0], skip_creates[1]],
    );
    assert_eq!(code, Some(0), "{listing}{err}");
    assert_eq!(everything(info), before, "a dry run changed a server");
    assert!(journals(&dir).is_empty() && !dir.join("results.json").exists());
    let server = &info.servers[0];
    assert!(
        listing.contains(&format!("server {server} (Project): ")),
        "{listing}"
    );
    let listed: Vec<String> = listing
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(!listed.is_empty(), "{listing}");

    // The real run makes exactly those writes, in that order.
    let (code, _, err) = run_on_first_server(&dir, info, filter, &skip_creates);
    assert_eq!(code, Some(0), "{err}");
    let results = common::results(&dir);
    let endpoint = info.endpoint.trim_end_matches('/');
    let made: Vec<String> = results
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter(|e| !matches!(e.request.method.as_str(), "GET" | "HEAD"))
        .map(|e| {
            let path = e
                .request
                .url
                .strip_prefix(endpoint)
                .unwrap_or(&e.request.url);
            format!("{} {path} {}", e.request.method, e.request.body)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    // The listing shortens a long body to its start and `…`.
    assert_eq!(listed.len(), made.len(), "{listed:#?}\n{made:#?}");
    for (shown, sent) in listed.iter().zip(&made) {
        match shown.strip_suffix('…') {
            Some(start) => assert!(sent.starts_with(start), "{shown}\n{sent}"),
            None => assert_eq!(shown, sent),
        }
    }
    assert_eq!(everything(info), before);
}

/// The ids of the project's servers, as the member lists them.
fn project_servers(info: &StartupInfo) -> Vec<String> {
    block(async {
        let url = format!("{}/servers", info.endpoint);
        let (status, body) = call("GET", url, &info.token, None).await;
        assert_eq!(status, 200, "{body}");
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

/// `run FILTER --create-servers N` against `info`, no lent server; the
/// member's token from `token`.
fn start_creating_run(dir: &Path, info: &StartupInfo, filter: &str, token: &str) -> Child {
    Command::new(BIN)
        .arg("run")
        .arg(filter)
        .args(["--endpoint", &info.endpoint, "--jobs", "2", "--no-props"])
        .args(["--create-servers", "2", "--image", "img-1", "--flavor", "1"])
        .arg("--journal-dir")
        .arg(dir.join("journals"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .env("OS_TOKEN", token)
        .env_remove("OS_PROJECT_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run")
}

#[test]
fn created_servers_are_tested_on_and_deleted_at_the_end() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-servers");
    let mut run = start_creating_run(&dir, info, "mr.", &info.token);
    let status = wait_with_timeout(&mut run, Duration::from_secs(120));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err.matches("created server ").count(), 2, "{err}");
    let results = common::results(&dir);
    let on_created = results
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter(|e| !before.iter().any(|id| e.request.url.contains(id.as_str())))
        .count();
    assert!(on_created > 0, "no request went to a created server");
    assert_eq!(
        project_servers(info),
        before,
        "created servers left behind\n{err}"
    );
    assert!(journals(&dir).is_empty(), "{err}");
}

#[test]
fn restore_deletes_the_servers_a_killed_run_created() {
    let serve = spawn_serve(&["--servers", "1", "--fault", "latency=1"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-kill9");
    let mut run = start_creating_run(&dir, info, "", &info.token);
    // Wait until both servers are created (journaled), then kill.
    let deadline = Instant::now() + Duration::from_secs(60);
    while project_servers(info).len() < before.len() + 2 {
        assert!(Instant::now() < deadline, "the run created no servers");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    signal(&run, "-KILL");
    let _ = wait_with_timeout(&mut run, Duration::from_secs(10));
    assert_eq!(project_servers(info).len(), before.len() + 2);
    let journal = journals(&dir).pop().expect("the killed run's journal");
    let out = Command::new(BIN)
        .arg("restore")
        .arg(&journal)
        .env("OS_TOKEN", &info.token)
        .output()
        .expect("restore");
    let text = format!("{}{}", common::text(&out.stdout), common::text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(project_servers(info), before, "{text}");
}

#[test]
fn a_creation_the_endpoint_refuses_leaves_nothing_behind() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let before = project_servers(info);
    let dir = Scratch::new("create-refused");
    // A reader may not create servers (403).
    let mut run = start_creating_run(&dir, info, "mr.", &info.reader_token);
    let status = wait_with_timeout(&mut run, Duration::from_secs(60));
    let err = stderr_of(&mut run);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot create server") && err.contains("403"),
        "{err}"
    );
    assert_eq!(project_servers(info), before);
    assert!(journals(&dir).is_empty(), "{err}");
}
