//! `run` and `fuzz` take one set of endpoint and credential flags
//! (`EndpointArgs`, `CloudArgs`), with the same names and meanings; fuzz's
//! old spellings (`--dialects-dir`, `--cases N`) still parse; and fuzz
//! builds its remote target from those flags as run does (`--token-file`,
//! the second project) and signs with AK/SK as run does.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use clap::{Args, Parser};
use common::{BIN, Scratch, spawn_serve, text};
use metaconform::cli::cloud::CloudArgs;
use metaconform::cli::common::EndpointArgs;
use metaconform::cli::{Cli, Command as Subcommand};

/// Variables that would hand the binary credentials or a cloud behind the
/// test's back.
const AMBIENT: &[&str] = &[
    "OS_TOKEN",
    "OS_PROJECT_ID",
    "OS_CLOUD",
    "OS_AUTH_URL",
    "METACONFORM_ENDPOINT",
    "METACONFORM_ADMIN_TOKEN",
    "METACONFORM_READER_TOKEN",
    "METACONFORM_ALT_TOKEN",
    "METACONFORM_ALT_PROJECT_ID",
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
];

fn metaconform(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in AMBIENT {
        cmd.env_remove(var);
    }
    cmd.output().expect("run metaconform")
}

/// Every `--long` flag of a flattened clap struct.
fn longs_of(augment: fn(clap::Command) -> clap::Command) -> Vec<String> {
    augment(clap::Command::new("probe"))
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// The `--long` flags a help text lists.
fn flags_in_help(help: &str) -> BTreeSet<String> {
    help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == '(')
        .filter(|w| w.starts_with("--"))
        .map(|w| {
            w.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .collect()
}

fn help_of(subcommand: &str) -> BTreeSet<String> {
    let out = metaconform(&[subcommand, "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    flags_in_help(&text(&out.stdout))
}

#[test]
fn run_and_fuzz_list_the_same_endpoint_and_credential_flags() {
    let run = help_of("run");
    let fuzz = help_of("fuzz");
    let mut shared = longs_of(EndpointArgs::augment_args);
    assert!(shared.len() >= 13, "{shared:?}");
    shared.extend(longs_of(CloudArgs::augment_args));
    shared.extend(["--server".to_string(), "--alt-server".to_string()]);
    let missing = |help: &BTreeSet<String>| -> Vec<&String> {
        shared.iter().filter(|f| !help.contains(*f)).collect()
    };
    assert!(missing(&run).is_empty(), "run lacks {:?}", missing(&run));
    assert!(missing(&fuzz).is_empty(), "fuzz lacks {:?}", missing(&fuzz));
    // One name each: the old spellings are hidden, --cases is run's folder.
    assert!(fuzz.contains("--sequences"), "{fuzz:?}");
    for old in ["--cases", "--dialects-dir"] {
        assert!(!fuzz.contains(old), "fuzz --help still lists {old}");
    }
    assert!(run.contains("--cases"), "{run:?}");
}

fn fuzz_args(argv: &[&str]) -> Result<metaconform::cli::fuzz::FuzzArgs, clap::Error> {
    let argv = ["metaconform", "fuzz"].iter().chain(argv);
    match Cli::try_parse_from(argv)?.command {
        Subcommand::Fuzz(args) => Ok(*args),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn fuzz_old_spellings_still_parse() {
    let args = fuzz_args(&["--dialects-dir", "X", "--cases", "7"]).expect("parses");
    assert_eq!(args.endpoint.dialect_dir, Some(PathBuf::from("X")));
    assert_eq!((args.cases, args.sequences), (Some(7), None));

    let args = fuzz_args(&["--dialect-dir", "Y", "--sequences", "3"]).expect("parses");
    assert_eq!(args.endpoint.dialect_dir, Some(PathBuf::from("Y")));
    assert_eq!((args.cases, args.sequences), (None, Some(3)));

    for clash in [
        &["--sequences", "3", "--cases", "4"][..],
        &["--sequences", "3", "--budget", "5s"][..],
        &["--cases", "3", "--budget", "5s"][..],
    ] {
        assert!(fuzz_args(clash).is_err(), "{clash:?} should not parse");
    }
}

#[test]
fn fuzz_cases_warns_that_it_is_now_sequences() {
    let out = metaconform(&["fuzz", "--seed", "5", "--cases", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: fuzz --cases N is now --sequences N"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("3 sequence(s)"),
        "{}",
        text(&out.stdout)
    );
}

/// `fuzz --endpoint` against a Huawei `serve` process whose member signs
/// every request with AK/SK (`--ak`, `--sk-file`); no token for the member.
fn fuzz_signed(dialect: &str, sk_of: impl Fn(&str) -> String) -> (Output, String) {
    let served = spawn_serve(&["--dialect", dialect, "--servers", "2"]);
    let info = &served.info;
    let ak = info.ak.clone().expect("Huawei dialects print an AK");
    let sk = sk_of(info.sk.as_deref().expect("Huawei dialects print an SK"));
    let dir = Scratch::new("fuzz-aksk");
    let sk_file = dir.join("sk");
    std::fs::write(&sk_file, format!("{sk}\n")).expect("write sk");
    let mut args: Vec<String> = [
        "fuzz",
        "--dialect",
        dialect,
        "--seed",
        "7",
        "--sequences",
        "25",
        "--endpoint",
        &info.endpoint,
        "--project-id",
        &info.project_id,
        "--ak",
        &ak,
        "--sk-file",
        sk_file.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &info.servers {
        args.extend(["--server".to_string(), s.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (metaconform(&args), sk)
}

#[test]
fn fuzz_signs_with_ak_sk_as_run_does() {
    for dialect in ["ecs-os", "ecs-v1"] {
        let (out, sk) = fuzz_signed(dialect, str::to_string);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{dialect}: {stdout}{stderr}");
        assert!(stdout.contains("findings: 0"), "{dialect}: {stdout}");
        assert!(
            !stdout.contains(&sk) && !stderr.contains(&sk),
            "{dialect}: the SK leaked"
        );
    }
}

#[test]
fn fuzz_with_a_wrong_sk_stops_on_authentication() {
    // Change the last character to one it is not.
    let wrong = |sk: &str| {
        let last = if sk.ends_with('x') { 'y' } else { 'x' };
        format!("{}{last}", &sk[..sk.len() - 1])
    };
    let (out, sk) = fuzz_signed("ecs-v1", wrong);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_ne!(
        out.status.code(),
        Some(1),
        "not a finding: {stdout}{stderr}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("401"),
        "{stdout}{stderr}"
    );
    assert!(
        !stdout.contains(&sk) && !stderr.contains(&sk),
        "the SK leaked"
    );
}

#[test]
fn fuzz_without_a_token_is_a_usage_error() {
    let out = metaconform(&[
        "fuzz",
        "--endpoint",
        "http://127.0.0.1:9/v2.1/0123abcd",
        "--server",
        "s1",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--token-file"), "{stderr}");
}

/// `fuzz --endpoint` against a `serve` process, the member's token from
/// `--token-file`; `with_alt` adds the second project's server.
fn fuzz_remote(serve_args: &[&str], with_alt: bool) -> Output {
    let served = spawn_serve(serve_args);
    let info = &served.info;
    let dir = Scratch::new("fuzz-flags");
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{}\n", info.token)).expect("write token");
    let mut args: Vec<String> = [
        "fuzz",
        "--seed",
        "11",
        "--sequences",
        "60",
        "--until-found",
        "--endpoint",
        &info.endpoint,
        "--token-file",
        token_file.to_str().unwrap(),
        "--admin-token",
        &info.admin_token,
        "--reader-token",
        &info.reader_token,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &info.servers {
        args.extend(["--server".to_string(), s.clone()]);
    }
    if with_alt {
        args.extend([
            "--alt-token".to_string(),
            info.alt_token.clone(),
            "--alt-project-id".to_string(),
            info.alt_project_id.clone(),
        ]);
        for s in &info.alt_servers {
            args.extend(["--alt-server".to_string(), s.clone()]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    metaconform(&args)
}

#[test]
fn fuzz_takes_the_token_file_and_the_second_project() {
    let out = fuzz_remote(&["--servers", "2"], true);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("findings: 0"), "{stdout}");

    // The second project's server is addressed only when given: a mock
    // that shows it to the first project is caught with it, not without.
    let leaky = ["--servers", "2", "--fault", "cross-project-visible"];
    let out = fuzz_remote(&leaky, true);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let out = fuzz_remote(&leaky, false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
}

/// Every flag of every subcommand says what it is for in `--help`.
#[test]
fn every_flag_has_help_text() {
    use clap::CommandFactory;
    let cli = Cli::command();
    let mut bare = Vec::new();
    for sub in cli.get_subcommands() {
        for arg in sub.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
                bare.push(format!("{} {}", sub.get_name(), arg.get_id()));
            }
        }
    }
    assert!(bare.is_empty(), "flags without help: {bare:?}");
}

#[test]
fn serve_help_lists_every_built_in_dialect() {
    let out = metaconform(&["serve", "--help"]);
    let help = text(&out.stdout);
    for id in metaconform::profile::builtin_ids() {
        assert!(help.contains(id), "serve --help lacks {id}: {help}");
    }
    let run = text(&metaconform(&["run", "--help"]).stdout);
    for id in metaconform::profile::builtin_ids() {
        assert!(run.contains(id), "run --help lacks {id}");
    }
}

/// `run` and `fuzz` refuse `--jobs 0` alike (exit 2, same message).
#[test]
fn jobs_zero_is_refused_by_run_and_fuzz_alike() {
    let mut messages = Vec::new();
    for sub in ["run", "fuzz"] {
        let out = metaconform(&[sub, "--jobs", "0"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sub}: {stderr}");
        messages.push(stderr.lines().next().unwrap_or_default().to_string());
    }
    assert_eq!(messages[0], messages[1]);
    assert!(messages[0].contains("0 is not in 1.."), "{messages:?}");
}

/// `--junit -` (and `--json -`) is refused before anything runs, and no
/// file named `-` appears.
#[test]
fn a_report_on_stdout_is_refused_clearly() {
    let dir = Scratch::new("dash");
    for args in [
        &["run", "--junit", "-"][..],
        &["run", "--json", "-"][..],
        &["fuzz", "--sequences", "1", "--junit", "-"][..],
    ] {
        let out = Command::new(BIN)
            .current_dir(&dir)
            .args(args)
            .env_remove("OS_TOKEN")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("stdout carries the summary"), "{stderr}");
    }
    assert!(!dir.join("-").exists());
}

/// A report that cannot be written is said once, and the run fails.
#[test]
fn an_unwritable_report_is_reported_once() {
    let dir = Scratch::new("unwritable");
    std::fs::write(dir.join("file"), "").unwrap();
    let junit = dir.join("file/junit.xml");
    let out = metaconform(&[
        "run",
        "charset.alone.41",
        "--exact",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        dir.join("results.json").to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("cannot write").count(), 1, "{stderr}");
    assert!(stderr.contains("file/junit.xml"), "{stderr}");
    assert!(dir.join("results.json").exists());
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = metaconform(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["metaconform", "only-cases", "no-tests"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    assert_eq!(metaconform(&["completions", "tcsh"]).status.code(), Some(2));
}

/// `fuzz` and `check` print to a stdout nobody reads any more (`| head
/// -0`) without panicking: the lines are lost, the exit code is the
/// command's own.
#[test]
fn a_closed_stdout_never_panics_fuzz_or_check() {
    use std::process::Stdio;
    let catalogue = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let catalogue = catalogue.to_str().unwrap();
    for args in [
        &["fuzz", "--seed", "1", "--sequences", "3"][..],
        &["check", "--cases", catalogue][..],
    ] {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("OS_TOKEN")
            .env_remove("METACONFORM_ENDPOINT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
