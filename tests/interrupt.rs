//! An interrupted run still finishes its reports: SIGINT in the middle of a
//! run against the embedded server lets the running cases finish, writes
//! a JUnit file that parses and results marked `interrupted`, prints the
//! summary and exits 130. A second signal stops at once.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Scratch, text};
use quick_xml::events::Event;

/// `run` against the embedded server, each answer `latency` ms late so a
/// signal lands mid-run.
fn start(dir: &Scratch, latency: u32) -> Child {
    Command::new(BIN)
        .args([
            "run",
            "--jobs",
            "2",
            "--fault",
            &format!("latency={latency}"),
        ])
        .current_dir(dir)
        .env_remove("OS_TOKEN")
        .env_remove("METACONFORM_ENDPOINT")
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run")
}

fn signal(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Whether the JUnit text is well-formed XML, and the `interrupted`
/// property of its suites and its test case count.
fn parse_junit(xml: &str) -> (bool, usize) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut marked, mut cases) = (false, 0);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return (marked, cases),
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name();
                if name.as_ref() == b"testcase" {
                    cases += 1;
                }
                if name.as_ref() == b"property" {
                    let attr = |key: &[u8]| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == key)
                            .map(|a| a.value.into_owned())
                    };
                    marked |= attr(b"name").as_deref() == Some(b"interrupted".as_slice())
                        && attr(b"value").as_deref() == Some(b"true".as_slice());
                }
            }
            Ok(_) => {}
            Err(e) => panic!(
                "junit.xml is not well-formed at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
}

#[test]
fn sigint_mid_run_leaves_valid_reports_marked_interrupted() {
    let dir = Scratch::new("interrupt");
    // A previous run's reports must not survive as if they were this one's.
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    std::fs::write(dir.join("reports/results.json"), "stale").unwrap();
    std::fs::write(dir.join("reports/junit.xml"), "stale").unwrap();
    let mut run = start(&dir, 3);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        run.try_wait().unwrap().is_none(),
        "the run ended before the signal"
    );
    let signalled = Instant::now();
    signal(&run);
    let out = run.wait_with_output().expect("wait");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(signalled.elapsed() < Duration::from_secs(30), "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    assert!(stdout.contains("interrupted: "), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" skipped") && last.contains(" passed, "),
        "no summary line: {stdout}"
    );

    let results = common::results(&dir.join("reports"));
    assert!(
        results.run.interrupted,
        "results.json not marked interrupted"
    );
    let ran = results.cases.len();
    assert!(ran > 0 && ran < 700, "{ran} cases in an interrupted run");
    assert_eq!(
        results.summary.passed
            + results.summary.failed
            + results.summary.errors
            + results.summary.skipped,
        ran
    );

    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("junit.xml");
    let (marked, cases) = parse_junit(&junit);
    assert!(marked, "junit.xml has no interrupted property");
    assert_eq!(cases, ran, "junit.xml and results.json disagree");
}

#[test]
fn a_second_signal_stops_waiting_for_running_cases_and_still_restores() {
    let serve = common::spawn_serve(&["--servers", "2", "--fault", "latency=300"]);
    let info = &serve.info;
    let dir = Scratch::new("interrupt-twice");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--no-props", "--jobs", "2"])
        .args(["--endpoint", &info.endpoint, "--token", &info.token])
        .current_dir(&dir)
        .env_remove("OS_TOKEN")
        .env_remove("OS_PROJECT_ID")
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for s in &info.servers {
        cmd.args(["--server", s]);
    }
    let mut run = cmd.spawn().expect("spawn run");
    // The journal is written just before the first write: from then on the
    // run's work is under way, each request taking 300 ms.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal_written(&dir) {
        assert!(Instant::now() < deadline, "no journal");
        assert!(run.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(400));
    signal(&run);
    std::thread::sleep(Duration::from_millis(150));
    assert!(
        run.try_wait().unwrap().is_none(),
        "the run ended on the first signal"
    );
    signal(&run);
    let out = run.wait_with_output().expect("wait");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("again: stopping at once"), "{stderr}");
    assert!(
        !dir.join("reports/results.json").exists(),
        "a stopped-at-once run wrote reports"
    );
    assert!(
        !journal_written(&dir),
        "the servers were not put back: {stderr}"
    );
}

fn journal_written(dir: &Scratch) -> bool {
    std::fs::read_dir(dir.join("reports")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("journal-"))
    })
}

#[test]
fn sigint_mid_campaign_prints_the_summary_and_writes_junit_marked_interrupted() {
    let dir = Scratch::new("interrupt-fuzz");
    let mut fuzz = Command::new(BIN)
        .args(["fuzz", "--sequences", "1000000", "--seed", "3"])
        .args(["--fault", "latency=2", "--junit", "fuzz.xml"])
        .current_dir(&dir)
        .env_remove("OS_TOKEN")
        .env_remove("METACONFORM_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fuzz");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        fuzz.try_wait().unwrap().is_none(),
        "the campaign ended early"
    );
    signal(&fuzz);
    let out = fuzz.wait_with_output().expect("wait");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains(" sequence(s), "), "no summary: {stdout}");
    assert!(stdout.contains("interrupted by a signal"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("fuzz.xml")).expect("fuzz.xml");
    let (marked, cases) = parse_junit(&junit);
    assert!(marked && cases >= 1, "{junit}");
}
