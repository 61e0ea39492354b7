//! `metaconform run` end to end for every built-in dialect: the whole
//! catalogue against the embedded reference server must pass (skips only
//! for what the dialect cannot do), and a dialect that cannot empty a
//! server's metadata (bms-v1) is tested on fresh servers, or skipped with
//! the flag to pass on an endpoint that has none to give.

use std::path::Path;
use std::process::{Command, Output};

use metaconform::report::failure::reason;
use metaconform::run::results::{RunResults, SkipKind, Verdict};
use metaconform::serve::StartupInfo;

mod common;
use common::*;

const DIALECTS: [&str; 6] = [
    "nova",
    "nova-legacy",
    "ecs-os",
    "ecs-v1",
    "bms-os",
    "bms-v1",
];

/// `metaconform run ARGS` on the catalogue with reports in `dir`; `envs`
/// are added to a clean credential environment.
fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg("--only-cases")
        .arg(catalogue())
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .args(args)
        .env_remove("OS_TOKEN")
        .env_remove("METACONFORM_ENDPOINT")
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("CI", "true");
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("run metaconform")
}

/// How many catalogue cases (property trials aside) must pass on each
/// dialect's embedded mock: the counts of the catalogue as checked in. A
/// change that makes applicability skip cases "for the dialect's nature"
/// (or loses cases) drops below and fails here; adding cases never does.
/// Raise a number when cases are added; lower one only with the reason in
/// the commit.
const MIN_PASSED: [(&str, usize); 6] = [
    ("nova", 708),
    ("nova-legacy", 676),
    ("ecs-os", 574),
    ("ecs-v1", 321),
    ("bms-os", 473),
    ("bms-v1", 305),
];

/// The cases (not property trials) that passed.
fn passed_cases(results: &RunResults) -> usize {
    results
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass && !c.id.starts_with("prop::"))
        .count()
}

/// The summary counts every skip by kind, and the JUnit file carries the
/// same kinds (`<skipped type="...">`).
fn assert_skips_counted(dialect: &str, dir: &Path, results: &RunResults) {
    let by_kind = results.summary.skipped_by_kind;
    assert_eq!(
        by_kind.case + by_kind.dialect + by_kind.credentials + by_kind.user_choice,
        results.summary.skipped,
        "{dialect}: {by_kind:?}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let kinds = [
        ("case", by_kind.case),
        ("dialect", by_kind.dialect),
        ("credentials", by_kind.credentials),
        ("userchoice", by_kind.user_choice),
    ];
    for (kind, count) in kinds {
        let tag = format!("<skipped type=\"{kind}\"");
        assert_eq!(junit.matches(&tag).count(), count, "{dialect}: {tag}");
    }
}

/// Every case passed or was skipped for the dialect's nature (an operation
/// it lacks, a state it cannot reach, a case for other dialects), and at
/// least the dialect's [`MIN_PASSED`] passed.
fn assert_clean(dialect: &str, out: &Output, results: &RunResults) {
    let trouble: Vec<String> = results
        .cases
        .iter()
        .filter(|c| match c.verdict {
            Verdict::Pass => false,
            Verdict::Skip => c.skip_kind != Some(SkipKind::Dialect),
            Verdict::Fail | Verdict::Error => true,
        })
        .map(|c| format!("{}: {:?} {:?}", c.id, c.verdict, reason(c)))
        .collect();
    assert!(
        trouble.is_empty(),
        "{dialect}: {} case(s) not clean:\n{}\n{}",
        trouble.len(),
        trouble.join("\n"),
        text(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{dialect}: {}",
        text(&out.stderr)
    );
    let minimum = MIN_PASSED
        .iter()
        .find(|(d, _)| *d == dialect)
        .map_or(1, |(_, n)| *n);
    let passed = passed_cases(results);
    assert!(
        passed >= minimum,
        "{dialect}: {passed} cases passed, at least {minimum} must (skipped: {:?})",
        results.summary.skipped_by_kind
    );
}

#[test]
fn every_dialect_passes_the_catalogue_against_the_embedded_server() {
    let handles: Vec<_> = DIALECTS
        .iter()
        .map(|dialect| {
            std::thread::spawn(move || {
                let dir = Scratch::new(dialect);
                let out = run(&dir, &["--dialect", dialect], &[]);
                let results = results(&dir);
                assert_skips_counted(dialect, &dir, &results);
                (dialect, out, results)
            })
        })
        .collect();
    for handle in handles {
        let (dialect, out, results) = handle.join().unwrap();
        assert_eq!(results.run.dialect, *dialect);
        assert_clean(dialect, &out, &results);
    }
}

fn serve(dialect: &str, servers: usize) -> ServeProcess {
    spawn_serve(&["--dialect", dialect, "--servers", &servers.to_string()])
}

/// `--endpoint` flags for a `serve` process: the first server as the
/// worker's, the next `fresh` as `--fresh-server`.
fn remote_flags(info: &StartupInfo, fresh: usize) -> Vec<String> {
    let mut flags = vec![
        "--dialect".to_string(),
        info.dialect.clone(),
        "--endpoint".into(),
        info.endpoint.clone(),
        "--project-id".into(),
        info.project_id.clone(),
        "--admin-token".into(),
        info.admin_token.clone(),
        "--reader-token".into(),
        info.reader_token.clone(),
        "--alt-token".into(),
        info.alt_token.clone(),
        "--alt-project-id".into(),
        info.alt_project_id.clone(),
        "--alt-server".into(),
        info.alt_servers[0].clone(),
        "--server".into(),
        info.servers[0].clone(),
        "--jobs".into(),
        "1".into(),
    ];
    for s in info.servers.iter().skip(1).take(fresh) {
        flags.extend(["--fresh-server".to_string(), s.clone()]);
    }
    flags
}

#[test]
fn bms_v1_on_an_endpoint_skips_without_fresh_servers_and_runs_with_them() {
    let filter = ["auth."];
    let served = serve("bms-v1", 20);
    let token = [("OS_TOKEN", served.info.token.as_str())];

    let dir = Scratch::new("bms-v1-none");
    let mut args: Vec<String> = remote_flags(&served.info, 0);
    args.extend(filter.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&dir, &argv, &token);
    let none = results(&dir);
    let blocked: Vec<_> = none
        .cases
        .iter()
        .filter(|c| c.skip_kind == Some(SkipKind::Credentials))
        .collect();
    assert!(!blocked.is_empty(), "no case asked for a fresh server");
    for case in &blocked {
        let reason = case.skip_reason.as_deref().unwrap_or_default();
        assert!(reason.contains("--fresh-server"), "{}: {reason}", case.id);
        assert!(reason.contains("bms-os"), "{}: {reason}", case.id);
    }
    assert!(
        none.cases.iter().all(|c| c.verdict != Verdict::Error),
        "a case without a fresh server was an error"
    );
    assert_eq!(out.status.code(), Some(1), "a skip the user can fix gates");
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("--fresh-server").count(),
        2,
        "the reason is shown once, then counted: {stderr}"
    );
    assert!(
        stderr.contains(&format!("SKIP  {} cases in all: ", blocked.len())),
        "{stderr}"
    );

    let dir = Scratch::new("bms-v1-fresh");
    let mut args = remote_flags(&served.info, blocked.len());
    args.extend(filter.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&dir, &argv, &token);
    let fresh = results(&dir);
    assert_clean("bms-v1 with fresh servers", &out, &fresh);
    let ran = fresh
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass)
        .count();
    assert_eq!(ran, blocked.len(), "every blocked case ran on its server");
}

#[test]
fn ecs_v1_passes_with_the_member_signing_every_request_with_aksk() {
    let dir = Scratch::new("ecs-v1-aksk");
    // The property trials cannot sign (tests/run_properties.rs checks they
    // are skipped without gating).
    let out = run(
        &dir,
        &["--dialect", "ecs-v1", "--auth", "aksk", "--no-props"],
        &[],
    );
    let results = results(&dir);
    assert_clean("ecs-v1 --auth aksk", &out, &results);
    let mut signed = 0;
    for record in results.cases.iter().flat_map(|c| &c.exchanges) {
        let header = |name: &str| {
            record
                .request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if let Some(authorization) = header("Authorization") {
            signed += 1;
            assert_eq!(authorization, "<redacted>");
            assert!(header("X-Auth-Token").is_none(), "signed and a token");
            assert!(
                header("X-Project-Id").is_some(),
                "signed without X-Project-Id"
            );
            assert!(header("X-Sdk-Date").is_some());
        }
    }
    assert!(signed > 100, "only {signed} signed requests");
}

#[test]
fn aksk_on_an_endpoint_redacts_the_secret_and_stops_on_401() {
    let served = serve("ecs-v1", 2);
    let ak = served.info.ak.clone().expect("ecs-v1 prints an AK");
    let sk = served.info.sk.clone().expect("ecs-v1 prints an SK");
    let mut flags = remote_flags(&served.info, 0);
    flags.extend(["auth.".to_string()]);
    let argv: Vec<&str> = flags.iter().map(String::as_str).collect();

    let dir = Scratch::new("aksk-remote");
    let sk_file = dir.join("sk");
    std::fs::write(&sk_file, format!("{sk}\n")).unwrap();
    let mut good = argv.clone();
    good.extend(["--ak", &ak, "--sk-file", sk_file.to_str().unwrap()]);
    let out = run(&dir, &good, &[]);
    let results = results(&dir);
    assert_clean("ecs-v1 remote AK/SK", &out, &results);
    let reports = [
        std::fs::read_to_string(dir.join("results.json")).unwrap(),
        std::fs::read_to_string(dir.join("junit.xml")).unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    ];
    for report in &reports {
        assert!(!report.contains(&sk), "the SK leaked");
    }

    let dir = Scratch::new("aksk-bad");
    // Change the last character to one it is not (a fixed "x" is the
    // same SK whenever the printed one already ends in x).
    let last = if sk.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &sk[..sk.len() - 1]);
    let out = run(
        &dir,
        &argv,
        &[("HUAWEICLOUD_SDK_AK", &ak), ("HUAWEICLOUD_SDK_SK", &wrong)],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("401") && stderr.contains("--sk"),
        "{stderr}"
    );
    assert!(!stderr.contains(&wrong) && !text(&out.stdout).contains(&wrong));
}

#[test]
fn a_failing_case_reads_well_in_the_terminal() {
    let dir = Scratch::new("fault");
    let out = run(
        &dir,
        &[
            "--fault",
            "ignore-lock",
            "--exact",
            "states.locked.owner.merge",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    let block: Vec<&str> = stderr.lines().collect();
    assert!(
        block[0].starts_with("FAIL states.locked.owner.merge: "),
        "{stderr}"
    );
    assert_eq!(block[1], "  step 1 (merge)", "{stderr}");
    // the embedded mock is held to the profile's emit: status and code
    assert_eq!(
        block[2], "    expected outcome locked (409 conflictingRequest)",
        "{stderr}"
    );
    assert_eq!(block[3], "         got 200", "{stderr}");
    assert!(
        block[4].contains(r#"{"lock":null} 202"#),
        "the lock is shown: {stderr}"
    );
    assert!(
        block[5].starts_with("  > POST http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(block[6].starts_with("  < 200 "), "{stderr}");
    assert!(
        block[7].starts_with("  repro: curl ") && block[7].contains("\"X-Auth-Token: $OS_TOKEN\""),
        "{stderr}"
    );
    assert!(!stderr.contains("demo:"), "a token leaked: {stderr}");
    assert!(
        stdout.contains("failures:\n    states.locked.owner.merge\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 1 failed, 0 skipped\n"),
        "{stdout}"
    );
}
