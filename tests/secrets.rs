//! Secrets never reach an output, end to end: a `metaconform serve
//! --fault echo-token` child echoes each caller's token (or, signed with
//! AK/SK, its secret key) in a response header and in every error message;
//! `run` and `fuzz` go against it and every file they write, their stdout
//! and their stderr are searched for each secret. Each output must also
//! show the placeholder where the echo was, so the test fails if nothing
//! was echoed at all.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, Scratch, spawn_serve, text};
use metaconform::serve::StartupInfo;

/// Every file under `dir`, as text, with its path.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), text(&bytes)));
        }
    }
    out
}

/// Fail naming the output and the secret if any `secret` is in any output.
fn assert_clean(outputs: &[(String, String)], secrets: &[(&str, &str)]) {
    for (name, content) in outputs {
        for (what, secret) in secrets {
            assert!(
                !content.contains(secret),
                "{what} ({secret}) leaked into {name}"
            );
        }
    }
}

fn outputs_of(label: &str, output: &Output, dir: &Path) -> Vec<(String, String)> {
    let mut all = files(dir);
    all.push((format!("{label} stdout"), text(&output.stdout)));
    all.push((format!("{label} stderr"), text(&output.stderr)));
    all
}

/// The `X-Echo-Token` values of every response in the run's results.
fn echoed_values(dir: &Path) -> std::collections::BTreeSet<String> {
    common::results(&dir.join("reports"))
        .cases
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter_map(|e| e.response.as_ref())
        .flat_map(|r| &r.headers)
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-echo-token"))
        .map(|(_, value)| value.clone())
        .collect()
}

fn servers(info: &StartupInfo, cmd: &mut Command) {
    for s in &info.servers {
        cmd.args(["--server", s]);
    }
}

fn token_flags(info: &StartupInfo, cmd: &mut Command) {
    cmd.args(["--endpoint", &info.endpoint])
        .args(["--token", &info.token])
        .args(["--admin-token", &info.admin_token])
        .args(["--reader-token", &info.reader_token])
        .args(["--alt-token", &info.alt_token])
        .args(["--alt-project-id", &info.alt_project_id])
        .env_remove("OS_PROJECT_ID")
        .env_remove("OS_TOKEN");
}

#[test]
fn echoed_tokens_reach_no_output_of_run_or_fuzz() {
    let serve = spawn_serve(&[
        "--servers",
        "4",
        "--fault",
        "echo-token",
        "--fault",
        "wrong-conflict-code",
    ]);
    let info = &serve.info;
    let secrets = [
        ("member token", info.token.as_str()),
        ("admin token", info.admin_token.as_str()),
        ("reader token", info.reader_token.as_str()),
        ("alt token", info.alt_token.as_str()),
    ];
    let dir = Scratch::new("secrets-run");
    let mut run = Command::new(BIN);
    run.arg("run").current_dir(&dir);
    token_flags(info, &mut run);
    servers(info, &mut run);
    for s in &info.alt_servers {
        run.args(["--alt-server", s]);
    }
    let run = run.output().expect("run");
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let outputs = outputs_of("run", &run, &dir);
    assert_clean(&outputs, &secrets);
    let echoed = echoed_values(&dir);
    for var in [
        "$OS_TOKEN",
        "$METACONFORM_ADMIN_TOKEN",
        "$METACONFORM_READER_TOKEN",
        "$METACONFORM_ALT_TOKEN",
    ] {
        assert!(
            echoed.contains(var),
            "no echo of {var} in results.json ({echoed:?}): was anything echoed?"
        );
    }
    let results = std::fs::read_to_string(dir.join("reports/results.json")).expect("results");
    assert!(
        results.contains("(credential $OS_TOKEN)"),
        "no echo in a body"
    );

    let dir = Scratch::new("secrets-fuzz");
    let mut fuzz = Command::new(BIN);
    fuzz.args([
        "fuzz",
        "--sequences",
        "60",
        "--seed",
        "7",
        "--state-changes",
    ])
    .args(["--save", "saved", "--junit", "fuzz.xml"])
    .current_dir(&dir);
    token_flags(info, &mut fuzz);
    servers(info, &mut fuzz);
    let fuzz = fuzz.output().expect("fuzz");
    assert_eq!(fuzz.status.code(), Some(1), "{}", text(&fuzz.stderr));
    let outputs = outputs_of("fuzz", &fuzz, &dir);
    assert_clean(&outputs, &secrets);
    assert!(
        text(&fuzz.stdout).contains("(credential $"),
        "the fuzz findings show no echoed credential: was anything echoed?"
    );
    assert!(dir.join("saved").is_dir(), "fuzz saved no finding");
}

#[test]
fn an_echoed_secret_key_reaches_no_output_of_a_signed_run() {
    let serve = spawn_serve(&[
        "--dialect",
        "ecs-os",
        "--servers",
        "2",
        "--fault",
        "echo-token",
    ]);
    let info = &serve.info;
    let (ak, sk) = (
        info.ak.clone().expect("ecs-os prints an AK"),
        info.sk.clone().expect("ecs-os prints an SK"),
    );
    let dir = Scratch::new("secrets-aksk");
    let mut run = Command::new(BIN);
    run.args(["run", "metadata", "--dialect", "ecs-os", "--no-props"])
        .args(["--endpoint", &info.endpoint])
        .args(["--project-id", &info.project_id])
        .args(["--ak", &ak, "--sk", &sk])
        .args(["--admin-token", &info.admin_token])
        .env_remove("OS_TOKEN")
        .env_remove("OS_PROJECT_ID")
        .current_dir(&dir);
    servers(info, &mut run);
    let run = run.output().expect("run");
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{}",
        text(&run.stderr)
    );
    let outputs = outputs_of("signed run", &run, &dir);
    assert_clean(
        &outputs,
        &[("secret key", &sk), ("admin token", &info.admin_token)],
    );
    let echoed = echoed_values(&dir);
    assert!(
        echoed.contains("$HUAWEICLOUD_SDK_SK"),
        "no echoed secret key in results.json ({echoed:?}): was anything echoed?"
    );
}
