//! `tolerate` and `run --strict` end to end: a case whose answer only a
//! `tolerate` entry accepts passes, fails under `--strict` with a typed
//! `tolerated` problem first, and a case that neither its `expect` nor its
//! `tolerate` accepts fails either way. Against the embedded mock, with
//! case files in a scratch folder.

mod common;

use common::{Scratch, command, results, text, write_file};
use metaconform::run::failure::{Cause, Problem};

/// The mock (nova) stores `a`; `expect` says it is refused, `tolerate`
/// accepts the store. `broken` tolerates nothing the mock does.
const CASES: &str = r#"
cases:
  - id: strict.tolerated
    name: "a key the mock accepts, expected refused, tolerated"
    spec: "2.1"
    dialects: [nova]
    given: {metadata: {keep: "1"}}
    steps:
      - op: merge
        metadata: {a: "v"}
        expect: {outcome: invalid-input, stored: {keep: "1"}}
        tolerate:
          - why: "the test's reason"
            expect: {outcome: ok, stored: {keep: "1", a: "v"}}
  - id: strict.not-tolerated
    name: "a tolerated answer that does not come is no pass"
    spec: "2.1"
    dialects: [nova]
    given: {metadata: {keep: "1"}}
    steps:
      - op: merge
        metadata: {a: "v"}
        expect: {outcome: invalid-input, stored: {keep: "1"}}
        tolerate:
          - why: "the test's reason"
            expect: {outcome: ok, stored: {keep: "1", a: "other"}}
"#;

fn run(dir: &Scratch, id: &str, strict: bool) -> (Option<i32>, String) {
    let mut args = vec!["run", id, "--exact", "--no-props", "--json", "results.json"];
    args.extend(["--only-cases", "cases", "--junit", "junit.xml"]);
    if strict {
        args.push("--strict");
    }
    let out = command().current_dir(dir).args(&args).output().unwrap();
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

fn problems(dir: &Scratch) -> Vec<Problem> {
    let results = results(dir);
    let failure = results.cases[0].failure.clone().expect("a failure");
    match failure.cause {
        Cause::Broken { problems, .. } => problems,
        other => panic!("not broken: {other:?}"),
    }
}

#[test]
fn a_tolerated_answer_passes_and_fails_under_strict() {
    let dir = Scratch::new("strict");
    write_file(&dir, "cases/strict/strict.yaml", CASES);
    let (code, out) = run(&dir, "strict.tolerated", false);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");

    let (code, out) = run(&dir, "strict.tolerated", true);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("tolerated, failed under --strict"), "{out}");
    let problems = problems(&dir);
    assert_eq!(
        problems[0],
        Problem::Tolerated {
            why: "the test's reason".into()
        }
    );
    assert!(
        matches!(problems[1], Problem::Outcome { got: 200, .. }),
        "{problems:?}"
    );
}

#[test]
fn an_answer_no_entry_tolerates_fails_with_or_without_strict() {
    let dir = Scratch::new("strict-not");
    write_file(&dir, "cases/strict/strict.yaml", CASES);
    for strict in [false, true] {
        let (code, out) = run(&dir, "strict.not-tolerated", strict);
        assert_eq!(code, Some(1), "{out}");
        let problems = problems(&dir);
        assert!(
            !problems
                .iter()
                .any(|p| matches!(p, Problem::Tolerated { .. })),
            "{problems:?}"
        );
    }
}

#[test]
fn check_refuses_a_tolerated_answer_without_a_reason() {
    let dir = Scratch::new("strict-why");
    let blank = CASES.replace("the test's reason", " ");
    write_file(&dir, "cases/strict/strict.yaml", &blank);
    let out = command()
        .current_dir(&*dir)
        .args(["check", "--cases", "cases"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr) + &text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a tolerated answer must say why"),
        "{stderr}"
    );
    let missing = CASES.replace("          - why: \"the test's reason\"\n", "          - ");
    write_file(&dir, "cases/strict/strict.yaml", &missing);
    let out = command()
        .current_dir(&*dir)
        .args(["check", "--cases", "cases"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_tolerance_scoped_to_other_dialects_excuses_nothing_here() {
    let dir = Scratch::new("strict-scoped");
    let scoped = CASES.replace(
        "          - why: \"the test's reason\"\n            expect: {outcome: ok, stored: {keep: \"1\", a: \"v\"}}",
        "          - why: \"the test's reason\"\n            dialects: [ecs-v1]\n            expect: {outcome: ok, stored: {keep: \"1\", a: \"v\"}}",
    );
    assert_ne!(scoped, CASES, "the fixture changed");
    write_file(&dir, "cases/strict/strict.yaml", &scoped);
    let (code, out) = run(&dir, "strict.tolerated", false);
    assert_eq!(code, Some(1), "{out}");
    let unknown = scoped.replace("dialects: [ecs-v1]", "dialects: [ecs-v9]");
    write_file(&dir, "cases/strict/strict.yaml", &unknown);
    let out = command()
        .current_dir(&*dir)
        .args(["check", "--cases", "cases"])
        .output()
        .unwrap();
    let said = text(&out.stderr) + &text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("unknown dialect 'ecs-v9'"), "{said}");
}
