//! `run --target NAME=FILE`: a 5-target version matrix against the
//! embedded server (`/v2.1` at 2.1, 2.101, 2.102 and latest, legacy `/v2`)
//! shows the spec's version differences in `matrix.json`, writes a results
//! file per target that `diff` reads, one JUnit file with a testsuite per
//! target and an HTML matrix; target files that are wrong (an unknown key,
//! a secret, a bad microversion), a name given twice and the endpoint
//! flags beside `--target` exit 2 naming what to fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Scratch, command, text, write_file};
use serde_json::Value;

/// The five targets, in column order: (name, file text).
const TARGETS: [(&str, &str); 5] = [
    ("v2.1", "dialect = \"nova\"\nmicroversion = \"2.1\"\n"),
    ("v2.101", "microversion = \"2.101\"\n"),
    ("v2.102", "microversion = \"2.102\"\n"),
    ("latest", "microversion = \"latest\"\n"),
    ("v2", "dialect = \"nova-legacy\"\n"),
];

fn run_targets(dir: &Path, targets: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = command();
    cmd.args(["run", "--area", "versions", "--no-props", "--jobs", "2"]);
    for (name, body) in targets {
        let file = write_file(dir, &format!("targets/{name}.toml"), body);
        cmd.arg("--target")
            .arg(format!("{name}={}", file.display()));
    }
    let reports = dir.join("reports");
    cmd.arg("--json")
        .arg(reports.join("results.json"))
        .arg("--junit")
        .arg(reports.join("junit.xml"))
        .arg("--html")
        .arg(reports.join("report.html"))
        .arg("--subunit")
        .arg(reports.join("run.subunit"))
        .arg("--markdown")
        .arg(reports.join("summary.md"))
        .args(extra);
    cmd.output().expect("run the binary")
}

fn json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// `matrix.cases[id][target]` as (verdict, statuses).
fn cell(matrix: &Value, id: &str, target: &str) -> (String, Vec<Value>) {
    let cell = &matrix["cases"][id][target];
    assert!(cell.is_object(), "no cell {id} x {target}");
    let verdict = cell["verdict"].as_str().unwrap_or_default().to_string();
    let statuses = cell["statuses"].as_array().cloned().unwrap_or_default();
    (verdict, statuses)
}

fn differing(matrix: &Value, key: &str) -> Vec<String> {
    matrix[key]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_five_target_version_matrix_shows_the_spec_differences() {
    let dir = Scratch::new("targets");
    let out = run_targets(&dir, &TARGETS, &[]);
    let reports = dir.join("reports");
    let stdout = text(&out.stdout);

    // Each target wrote its own results, with its name and microversion.
    let mut gating = false;
    for (name, microversion) in [
        ("v2.1", Some("2.1")),
        ("v2.101", Some("2.101")),
        ("v2.102", Some("2.102")),
        ("latest", Some("2.104")),
        ("v2", Some("2.1")),
    ] {
        let results = common::results_at(&reports.join(name).join("results.json"));
        let stream = std::fs::read(reports.join(name).join("run.subunit")).expect("subunit");
        assert!(!stream.is_empty(), "{name}: an empty subunit stream");
        assert_eq!(results.run.target.as_deref(), Some(name));
        assert_eq!(results.run.microversion.as_deref(), microversion, "{name}");
        gating |= results.cases.iter().any(|c| c.gates());
    }
    // The exit code gates across every target, as one run would.
    assert_eq!(
        out.status.code(),
        Some(if gating { 1 } else { 0 }),
        "{stdout}\n{}",
        text(&out.stderr)
    );

    let matrix = json(&reports.join("matrix.json"));
    let names: Vec<&str> = matrix["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["v2.1", "v2.101", "v2.102", "latest", "v2"]);

    // Spec §6.2: unknown query parameters are refused from 2.102 on; the
    // cases needing 2.102 are skipped below it.
    for id in ["versions.query.list.2.102", "versions.query.get.2.102"] {
        for below in ["v2.1", "v2.101"] {
            assert_eq!(cell(&matrix, id, below), ("skip".into(), vec![]), "{id}");
        }
        for at in ["v2.102", "latest"] {
            assert_eq!(
                cell(&matrix, id, at),
                ("pass".into(), vec![400.into()]),
                "{id}"
            );
        }
    }
    // A capped target skips what it does not serve rather than failing it.
    assert_eq!(cell(&matrix, "versions.echo.2.102", "v2.101").0, "skip");
    assert_eq!(cell(&matrix, "versions.echo.2.102", "v2.102").0, "pass");
    // Legacy /v2 against /v2.1: its own cases run only there, and the
    // version-header cases only on /v2.1.
    assert_eq!(
        cell(&matrix, "legacy.version-headers-ignored", "v2").0,
        "pass"
    );
    assert_eq!(
        cell(&matrix, "legacy.version-headers-ignored", "latest").0,
        "skip"
    );
    assert_eq!(cell(&matrix, "versions.default-is-2.1", "v2").0, "skip");
    assert_eq!(cell(&matrix, "versions.default-is-2.1", "v2.1").0, "pass");
    let all = differing(&matrix, "differing");
    for id in [
        "versions.query.list.2.102",
        "legacy.version-headers-ignored",
        "versions.default-is-2.1",
    ] {
        assert!(all.contains(&id.to_string()), "{id} not in {all:?}");
    }
    // A case alike on every target is not listed.
    let ids = matrix["cases"].as_object().expect("cases");
    assert!(ids.len() > all.len(), "every case differs? {all:?}");

    // Target by target: 2.101 -> 2.102 shows the query cases; 2.102 ->
    // latest does not show the 2.102 ones (same there).
    let steps = matrix["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 4);
    let step = |from: &str| -> Vec<String> {
        let s = steps.iter().find(|s| s["from"] == from).expect("step");
        s["differing"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect()
    };
    assert!(step("v2.101").contains(&"versions.query.list.2.102".to_string()));
    assert!(!step("v2.102").contains(&"versions.query.list.2.102".to_string()));
    assert!(step("latest").contains(&"legacy.version-headers-ignored".to_string()));

    // The terminal says so, compactly.
    assert!(stdout.contains("cases differ between targets:"), "{stdout}");
    assert!(
        stdout.contains("  versions.query.list.2.102: v2.1=skip | v2.101=skip | v2.102=pass 400 | latest=pass 400 | v2=skip\n"),
        "{stdout}"
    );
    assert!(stdout.contains("5 targets: "), "{stdout}");

    // One JUnit file, a testsuite per target, the case ids unchanged.
    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("junit");
    assert_eq!(junit.matches("<testsuite ").count(), 5, "{junit}");
    for (name, _) in TARGETS {
        assert!(
            junit.contains(&format!("<testsuite name=\"{name}\" ")),
            "{name}"
        );
    }
    assert_eq!(
        junit
            .matches("<testcase name=\"versions.query.list.2.102\" ")
            .count(),
        5
    );

    // The Markdown summary: a section per target, in order.
    let markdown = std::fs::read_to_string(reports.join("summary.md")).expect("markdown");
    let headings: Vec<&str> = markdown.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(
        headings,
        [
            "# target v2.1 (nova, microversion 2.1)",
            "# target v2.101 (nova, microversion 2.101)",
            "# target v2.102 (nova, microversion 2.102)",
            "# target latest (nova, microversion 2.104)",
            "# target v2 (nova-legacy, microversion 2.1)",
        ]
    );

    // The HTML matrix: a row per case, the differing ones first.
    let html = std::fs::read_to_string(reports.join("report.html")).expect("html");
    assert_eq!(
        html.matches("<tr class=\"case matrix-row").count(),
        ids.len()
    );
    let first_same = html.find("data-group=\"same\"").expect("same group");
    let query_row = html
        .find("<code>versions.query.list.2.102</code>")
        .expect("query row");
    assert!(query_row < first_same);

    // `diff` reads two targets' results and names the version change.
    let diff = command()
        .args(["diff", "--format", "json"])
        .arg(reports.join("v2.101/results.json"))
        .arg(reports.join("v2.102/results.json"))
        .output()
        .expect("diff");
    let diff: Value = serde_json::from_slice(&diff.stdout).expect("diff JSON");
    assert!(
        diff.to_string().contains("versions.query.list.2.102"),
        "{diff}"
    );
}

/// A target file at `dir/t.toml` holding `body`, run as target `t`.
fn run_one_file(dir: &Path, body: &str) -> (Option<i32>, String, PathBuf) {
    let out = run_targets(dir, &[("t", body)], &[]);
    (
        out.status.code(),
        text(&out.stderr),
        dir.join("targets/t.toml"),
    )
}

#[test]
fn wrong_target_files_exit_2_naming_file_line_and_column() {
    let dir = Scratch::new("target-files");
    let cases = [
        (
            "dialect = \"nova\"\nendpiont = \"x\"\n",
            ":2:1: ",
            "endpiont",
        ),
        (
            "microversion = \"2.1\"\ntoken_env = \"gAAAAABkX-9zSecret\"\n",
            ":2:13: ",
            "looks like a secret",
        ),
        ("token = \"gAAAAABk\"\n", ":1:1: ", "token_env"),
        (
            "\nmicroversion = \"2.x\"\n",
            ":2:16: ",
            "write 2.N or latest",
        ),
    ];
    for (body, place, fix) in cases {
        let (code, stderr, file) = run_one_file(&dir, body);
        assert_eq!(code, Some(2), "{body}: {stderr}");
        let located = format!("{}{place}", file.display());
        assert!(
            stderr.contains(&located),
            "{body}: want {located} in {stderr}"
        );
        assert!(stderr.contains(fix), "{body}: {stderr}");
    }
}

#[test]
fn a_name_twice_and_endpoint_flags_beside_targets_exit_2() {
    let dir = Scratch::new("target-names");
    let twice = run_targets(&dir, &[("a", ""), ("a", "")], &[]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        text(&twice.stderr).contains("--target a is given twice"),
        "{}",
        text(&twice.stderr)
    );
    let mixed = run_targets(&dir, &[("a", "")], &["--microversion", "2.60"]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(
        text(&mixed.stderr).contains("--microversion"),
        "{}",
        text(&mixed.stderr)
    );
    assert!(!dir.join("reports/a").exists(), "nothing ran");
    // A later target's unknown dialect is refused before the first runs.
    let late = run_targets(&dir, &[("a", ""), ("b", "dialect = \"nova-v3\"\n")], &[]);
    assert_eq!(late.status.code(), Some(2), "{}", text(&late.stderr));
    assert!(
        text(&late.stderr).contains("target b: "),
        "{}",
        text(&late.stderr)
    );
    assert!(!dir.join("reports/a").exists(), "target a ran first");
}

#[test]
fn the_exit_code_gates_on_a_failure_in_any_target() {
    let dir = Scratch::new("target-gate");
    // A case that insists on 2.102 (no min_microversion): it passes where
    // 2.102 is served and fails (406) where the target is capped below.
    let cases = dir.join("gate");
    write_file(
        &cases,
        "needs.yaml",
        "cases:\n  - id: gate.needs-2.102\n    name: \"2.102 is served\"\n    spec: \"6.2\"\n    dialects: [nova]\n    steps:\n      - op: list\n        microversion: \"2.102\"\n        expect: {outcome: ok}\n",
    );
    let served = ("latest", "microversion = \"latest\"\n");
    let capped = ("capped", "microversion = \"2.101\"\n");
    for (targets, want) in [
        ([served, capped], 1),
        ([capped, served], 1),
        ([served, ("also", "microversion = \"2.102\"\n")], 0),
    ] {
        let mut cmd = command();
        cmd.args(["run", "--no-props", "--only-cases"]).arg(&cases);
        for (name, body) in targets {
            let file = write_file(&dir, &format!("{name}.toml"), body);
            cmd.arg("--target")
                .arg(format!("{name}={}", file.display()));
        }
        let reports = dir.join(format!("reports-{}-{}", targets[0].0, targets[1].0));
        cmd.arg("--json")
            .arg(reports.join("results.json"))
            .arg("--junit")
            .arg(reports.join("junit.xml"));
        let out = cmd.output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(want),
            "{targets:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

#[test]
fn endpoint_targets_take_their_token_from_the_named_variable_and_put_servers_back() {
    let serve = common::spawn_serve(&["--servers", "2"]);
    let info = &serve.info;
    let dir = Scratch::new("target-endpoint");
    let target = |microversion: &str| {
        format!(
            "endpoint = \"{}\"\nmicroversion = \"{microversion}\"\ntoken_env = \"MC_TARGET_TOKEN\"\nserver = [\"{}\"]\n",
            info.endpoint, info.servers[0]
        )
    };
    let (capped, latest) = (target("2.101"), target("latest"));
    let journals = dir.join("journals");
    let out = {
        let mut cmd = command();
        cmd.env("MC_TARGET_TOKEN", &info.token)
            .args(["run", "versions.query.list.", "--no-props", "--jobs", "1"])
            .arg("--journal-dir")
            .arg(&journals);
        for (name, body) in [("capped", &capped), ("latest", &latest)] {
            let file = write_file(&dir, &format!("{name}.toml"), body);
            cmd.arg("--target")
                .arg(format!("{name}={}", file.display()));
        }
        cmd.arg("--json")
            .arg(dir.join("reports/results.json"))
            .arg("--junit")
            .arg(dir.join("reports/junit.xml"))
            .output()
            .expect("run")
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let matrix = json(&dir.join("reports/matrix.json"));
    let id = "versions.query.list.2.102";
    assert_eq!(cell(&matrix, id, "capped").0, "skip");
    assert_eq!(
        cell(&matrix, id, "latest"),
        ("pass".into(), vec![400.into()])
    );
    assert_eq!(matrix["targets"][0]["embedded"], false);
    // The capped target skipped every case: named, but the run tested.
    assert!(
        text(&out.stderr).contains("warning: target capped: nothing was tested"),
        "{}",
        text(&out.stderr)
    );
    // Each target journalled its server and put it back (journal removed).
    let left: Vec<_> = std::fs::read_dir(&journals)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "journals left: {left:?}");
    // The token came from the variable and appears in no output.
    for name in ["capped", "latest"] {
        let results = std::fs::read_to_string(dir.join("reports").join(name).join("results.json"))
            .expect("results");
        assert!(!results.contains(&info.token), "{name}: the token leaked");
    }
    let stderr = text(&out.stderr);
    assert!(stderr.contains("journal"), "{stderr}");
    // `latest` asked the endpoint's version document.
    assert!(
        stderr.contains("the endpoint serves microversions up to"),
        "{stderr}"
    );
}

#[test]
fn sigint_during_the_first_target_stops_the_run_with_its_reports() {
    let dir = Scratch::new("target-sigint");
    let mut cmd = command();
    cmd.args(["run", "--area", "versions", "--no-props", "--jobs", "2"])
        .args(["--fault", "latency=150"]);
    for (name, body) in [("first", "microversion = \"2.101\"\n"), ("second", "")] {
        let file = write_file(&dir, &format!("{name}.toml"), body);
        cmd.arg("--target")
            .arg(format!("{name}={}", file.display()));
    }
    let reports = dir.join("reports");
    let child = cmd
        .arg("--json")
        .arg(reports.join("results.json"))
        .arg("--junit")
        .arg(reports.join("junit.xml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn run");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let first = common::results_at(&reports.join("first/results.json"));
    assert!(first.run.interrupted);
    assert!(!reports.join("second").exists(), "the second target ran");
    let matrix = json(&reports.join("matrix.json"));
    assert_eq!(matrix["targets"].as_array().map(Vec::len), Some(1));
    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("junit");
    assert!(junit.contains("<property name=\"interrupted\" value=\"true\"/>"));
}

/// A run whose every target skipped every case tested nothing: exit 4; one
/// target that ran is enough, the others are named in a warning.
#[test]
fn targets_that_all_test_nothing_exit_4() {
    let dir = Scratch::new("targets-untested");
    let run = |dialects: &[&str]| {
        let mut cmd = command();
        cmd.args(["run", "--tag", "python-json", "--no-props"]);
        for dialect in dialects {
            let file = write_file(
                &dir,
                &format!("{dialect}.toml"),
                &format!("dialect = \"{dialect}\"\n"),
            );
            cmd.arg("--target")
                .arg(format!("{dialect}={}", file.display()));
        }
        cmd.arg("--json")
            .arg(dir.join(format!("{}/results.json", dialects.join("-"))));
        cmd.output().expect("run")
    };
    let none = run(&["ecs-v1", "bms-v1"]);
    assert_eq!(none.status.code(), Some(4), "{}", text(&none.stderr));
    assert!(text(&none.stderr).contains("nothing was tested"));
    assert!(text(&none.stderr).contains("(on every target)"));
    let one = run(&["ecs-v1", "nova"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(text(&one.stderr).contains("warning: target ecs-v1: nothing was tested"));
}
