//! Pre-flight, end to end: before any case or sequence, `run` and `fuzz`
//! refuse an endpoint that is not an http(s) URL (exit 2), a
//! `--project-id` that contradicts the endpoint (exit 2), an endpoint that
//! is not the dialect's API (exit 3, at once, naming what it answered),
//! and identities that are not what they claim (exit 3); against a
//! healthy endpoint they print one line per check and write nothing.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{BIN, Scratch, spawn_serve, text};
use metaconform::serve::StartupInfo;

/// A web server on loopback answering `200 text/html` to every request.
fn html_everywhere() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<html><body>Welcome to nginx!</body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/v2.1/0123abcd")
}

fn metaconform(dir: &Scratch, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("OS_TOKEN")
        .env_remove("OS_PROJECT_ID")
        .env_remove("OS_CLOUD")
        .env_remove("OS_AUTH_URL")
        .output()
        .expect("spawn metaconform")
}

#[test]
fn an_endpoint_that_is_not_a_url_is_a_usage_error() {
    let dir = Scratch::new("notaurl");
    for command in ["run", "fuzz"] {
        for endpoint in ["notaurl", "ftp://host/v2.1/p"] {
            let out = metaconform(
                &dir,
                &[
                    command,
                    "--endpoint",
                    endpoint,
                    "--server",
                    "s",
                    "--token",
                    "t",
                ],
            );
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {endpoint}: {err}");
            assert!(
                err.contains("--endpoint") && err.contains(endpoint),
                "{err}"
            );
        }
    }
}

#[test]
fn a_web_page_is_not_a_compute_api_exit_3_at_once() {
    let endpoint = html_everywhere();
    let dir = Scratch::new("html");
    for command in ["run", "fuzz"] {
        let started = Instant::now();
        let out = metaconform(
            &dir,
            &[
                command,
                "--endpoint",
                &endpoint,
                "--server",
                "s1",
                "--token",
                "t",
            ],
        );
        let took = started.elapsed();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{command}: {err}");
        assert!(took < Duration::from_secs(1), "{command} took {took:?}");
        assert!(
            err.contains("200 text/html") && err.contains("Welcome to nginx"),
            "{command} does not say what it got: {err}"
        );
        assert!(err.contains("not the nova compute API"), "{err}");
        assert!(
            !dir.join("reports/results.json").exists(),
            "a run was reported"
        );
    }
}

fn lent_run(dir: &Scratch, info: &StartupInfo, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "prop::quota",
        "--endpoint",
        &info.endpoint,
        "--token",
        &info.token,
        "--alt-project-id",
        &info.alt_project_id,
        "--server",
        &info.servers[0],
        "--alt-server",
        &info.alt_servers[0],
    ];
    args.extend_from_slice(extra);
    metaconform(dir, &args)
}

#[test]
fn every_identity_is_checked_with_one_line_each() {
    let serve = spawn_serve(&["--servers", "2"]);
    let info = &serve.info;
    let dir = Scratch::new("preflight-ok");
    let out = lent_run(
        &dir,
        info,
        &[
            "--admin-token",
            &info.admin_token,
            "--reader-token",
            &info.reader_token,
            "--alt-token",
            &info.alt_token,
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("pre-flight:"))
        .collect();
    for who in [
        "endpoint:",
        "member:",
        "reader:",
        "admin:",
        "second project:",
        "nothing written",
    ] {
        assert_eq!(
            lines.iter().filter(|l| l.contains(who)).count(),
            1,
            "one line for {who}: {err}"
        );
    }
}

#[test]
fn identities_that_are_not_what_they_claim_stop_the_run_before_it_starts() {
    let serve = spawn_serve(&["--servers", "2"]);
    let info = &serve.info;
    let dir = Scratch::new("preflight-bad");
    // The member's token passed as the admin's: it cannot see another
    // project's server.
    let out = lent_run(&dir, info, &["--admin-token", &info.token]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("is not an admin"), "{err}");
    // The member's token passed as the second project's.
    let out = lent_run(&dir, info, &["--alt-token", &info.token]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("second project (--alt-token"), "{err}");
    // A reader token that is not accepted at all.
    let out = lent_run(&dir, info, &["--reader-token", "nobody"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("reader (--reader-token)"), "{err}");
    assert!(
        !dir.join("reports/results.json").exists(),
        "a run was reported"
    );
}

#[test]
fn a_project_id_that_contradicts_the_endpoint_is_refused() {
    let serve = spawn_serve(&["--servers", "1"]);
    let info = &serve.info;
    let dir = Scratch::new("preflight-project");
    let out = lent_run(&dir, info, &["--project-id", &info.alt_project_id]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--project-id") && err.contains(&info.project_id),
        "{err}"
    );
}
