//! The case catalogue and its loader, end to end: the shipped catalogue is
//! valid and complete, broken files give located diagnostics, and
//! `metaconform check` reports both through its exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use metaconform::cases::format::{Case, StepOp};
use metaconform::cases::{LoadedCase, RULES, coverage, load_dir, missing};
use metaconform::model::outcome::OutcomeKind;
use metaconform::model::pipeline::Op;
use metaconform::profile;

fn catalogue_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

fn catalogue() -> Vec<LoadedCase> {
    match load_dir(&catalogue_dir()) {
        Ok(cases) => cases,
        Err(diags) => {
            let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!(
                "catalogue has {} problems:\n{}",
                diags.len(),
                text.join("\n")
            );
        }
    }
}

/// A fresh scratch folder under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metaconform-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn catalogue_loads_and_expands_to_at_least_300_cases() {
    let cases = catalogue();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let areas: BTreeSet<&str> = cases.iter().map(|c| c.area.as_str()).collect();
    for area in [
        "charset",
        "lengths",
        "merge-replace",
        "per-key",
        "states",
        "quota",
        "malformed",
        "auth",
        "versions",
        "autorecovery",
    ] {
        assert!(areas.contains(area), "no cases in area {area}: {areas:?}");
    }
    let ids: Vec<&str> = cases.iter().map(|c| c.case.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "load_dir sorts by id");
}

#[test]
fn catalogue_covers_every_rule_section() {
    let cases = catalogue();
    let counts = coverage(&cases);
    let gaps = missing(&counts);
    assert!(gaps.is_empty(), "rules without a case: {gaps:?}");
    assert!(counts.len() >= RULES.len());
}

/// The abstract operations a case's steps use.
fn ops_used(case: &Case) -> Vec<Op> {
    let key = || String::from("k");
    let full = full_api();
    case.steps
        .iter()
        .filter_map(|s| match s.value.op {
            StepOp::List => Some(Op::List),
            StepOp::Merge => Some(Op::Merge),
            StepOp::Replace => Some(Op::Replace),
            StepOp::Get => Some(Op::Get(key())),
            StepOp::Set => Some(Op::Set(key())),
            StepOp::Delete => Some(Op::Delete(key())),
            StepOp::Concurrent => s.value.concurrent.as_ref().map(|c| match c.op {
                StepOp::Set => Op::Set(key()),
                _ => Op::Merge,
            }),
            StepOp::Raw => s
                .value
                .raw
                .as_ref()
                .and_then(|r| full.op_at(&r.method, &r.path)),
            StepOp::Action | StepOp::Create => None,
        })
        .collect()
}

/// The dialect with all six operations: a raw request addresses the
/// operation it has there, which a listed dialect must then have too.
fn full_api() -> profile::Profile {
    profile::builtin("nova").unwrap()
}

/// A case that lists its dialects runs on each of them: listing a dialect
/// without one of the case's routes (raw ones included) is a mistake.
#[test]
fn listed_dialects_have_every_route_the_case_uses() {
    let profiles: BTreeMap<String, profile::Profile> = profile::builtin_ids()
        .map(|id| (id.to_string(), profile::builtin(id).unwrap()))
        .collect();
    let mut wrong = Vec::new();
    for loaded in catalogue() {
        let Some(listed) = &loaded.case.dialects else {
            continue;
        };
        for d in listed {
            for op in ops_used(&loaded.case) {
                if profiles[d].op(&op).is_none() {
                    wrong.push(format!(
                        "{} lists {d}, which has no {}",
                        loaded.case.id,
                        op.name()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Keys a case stores on purpose: `given.metadata` and the keys of steps
/// that expect success. On legacy `/v2` a step whose every key is outside
/// the pattern stores them (Nova's soft validator, spec §6.1): its keys are
/// left out.
fn keys_meant_to_be_stored(case: &Case, dialect: &str, profile: &profile::Profile) -> Vec<String> {
    let rule = &profile.rules.metadata.key;
    let mut keys: Vec<String> = case.given.metadata.keys().cloned().collect();
    for step in &case.steps {
        let step = &step.value;
        let expect = step.expect_for.get(dialect).unwrap_or(&step.expect);
        if expect.outcome != Some(OutcomeKind::Ok) {
            continue;
        }
        let mut written: Vec<String> = step
            .metadata
            .iter()
            .flat_map(|m| m.keys().cloned())
            .collect();
        if step.op == StepOp::Set {
            written.extend(step.key.clone());
        }
        let soft_validated = profile.rules.legacy && written.iter().all(|k| rule.check(k).is_err());
        if !soft_validated {
            keys.extend(written);
        }
    }
    keys
}

/// Cross-check with the profiles: a case never relies on storing a key the
/// dialect's profile refuses (space and ':' on Huawei, spec §8 rows 5 and
/// 8); such cases must be restricted to the dialects that allow the key.
#[test]
fn positive_steps_only_use_keys_the_dialect_allows() {
    let profiles: BTreeMap<String, profile::Profile> = profile::builtin_ids()
        .map(|id| (id.to_string(), profile::builtin(id).unwrap()))
        .collect();
    let mut wrong = Vec::new();
    for loaded in catalogue() {
        let case = &loaded.case;
        let dialects: Vec<&String> = match &case.dialects {
            Some(list) => list.iter().collect(),
            None => profiles.keys().collect(),
        };
        for d in dialects {
            let rule = &profiles[d].rules.metadata.key;
            for key in keys_meant_to_be_stored(case, d, &profiles[d]) {
                if rule.check(&key).is_err() {
                    wrong.push(format!("{} stores {key:?} on {d}", case.id));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_case_runs_on_some_dialect_and_nova_family_runs_most() {
    let profiles: BTreeMap<String, profile::Profile> = profile::builtin_ids()
        .map(|id| (id.to_string(), profile::builtin(id).unwrap()))
        .collect();
    let cases = catalogue();
    let mut per_dialect: BTreeMap<&str, usize> = BTreeMap::new();
    for loaded in &cases {
        let case = &loaded.case;
        let listed: Vec<&str> = match &case.dialects {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => profiles.keys().map(String::as_str).collect(),
        };
        let runs_on: Vec<&str> = listed
            .into_iter()
            .filter(|d| {
                ops_used(case)
                    .iter()
                    .all(|op| profiles[*d].op(op).is_some())
            })
            .collect();
        assert!(
            !runs_on.is_empty(),
            "{} ({}:{}) runs on no dialect: none of its dialects has all its operations",
            case.id,
            loaded.file.display(),
            loaded.line
        );
        for d in runs_on {
            *per_dialect.entry(d).or_default() += 1;
        }
    }
    assert!(per_dialect["nova"] >= 300, "{per_dialect:?}");
    assert!(per_dialect["nova-legacy"] >= 300, "{per_dialect:?}");
    for id in profiles.keys() {
        assert!(
            per_dialect.get(id.as_str()).copied().unwrap_or(0) > 0,
            "{id} runs no case"
        );
    }
}

#[test]
fn bad_files_give_located_diagnostics() {
    let dir = scratch("bad");
    write(
        &dir,
        "a/unknown-field.yaml",
        "cases:\n  - id: x.one\n    name: n\n    spec: \"2.1\"\n    steps:\n      - op: list\n        expct: {outcome: ok}\n",
    );
    write(
        &dir,
        "a/wrong-op-fields.yaml",
        "cases:\n  - id: x.two\n    name: n\n    spec: \"2.1\"\n    steps:\n      - op: set\n        metadata: {a: \"1\"}\n        expect: {outcome: ok}\n",
    );
    write(
        &dir,
        "a/dup-1.yaml",
        "cases:\n  - id: x.dup\n    name: n\n    spec: \"2.1\"\n    steps: [{op: list, expect: {outcome: ok}}]\n",
    );
    write(
        &dir,
        "b/dup-2.yaml",
        "\n\ncases:\n  - id: x.dup\n    name: n\n    spec: \"2.1\"\n    steps: [{op: list, expect: {outcome: ok}}]\n",
    );
    write(
        &dir,
        "b/bad-table.yaml",
        "tables:\n  - rows: [{c: a}]\n    each_char: \"xy\"\n    case: {id: \"t.${c}\", name: n, spec: \"2.1\", steps: []}\n",
    );
    write(&dir, "b/misnamed.yml", "cases: []\n");
    // Profiles are not cases: a broken file under dialects/ is not read.
    write(&dir, "dialects/nova.yaml", "not: [a case");

    let diags = load_dir(&dir).expect_err("broken files must fail");
    let find = |file: &str, needle: &str| {
        diags
            .iter()
            .find(|d| d.file.ends_with(file) && d.message.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' for {file} in {diags:#?}"))
    };
    let unknown = find("unknown-field.yaml", "expct");
    assert_eq!(unknown.line, 7);
    let wrong = find(
        "wrong-op-fields.yaml",
        "`metadata` does not apply to `op: set`",
    );
    assert_eq!(wrong.line, 6);
    assert!(wrong.help.as_deref().unwrap_or("").contains("op: set"));
    find("wrong-op-fields.yaml", "needs `key`");
    find("wrong-op-fields.yaml", "exactly one of `value` and `meta`");
    let dup = find("dup-2.yaml", "duplicate case id 'x.dup'");
    assert_eq!(dup.line, 4);
    assert!(dup.message.contains("dup-1.yaml:2:"), "{}", dup.message);
    let table = find("bad-table.yaml", "both `rows` and `each_char`");
    assert_eq!(table.line, 2);
    assert!(
        diags
            .iter()
            .all(|d| !d.file.ends_with("dialects/nova.yaml"))
    );
    find("misnamed.yml", "not read");
    assert_eq!(diags.len(), 7, "{diags:#?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn check_command(cases: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_metaconform"))
        .args(["check", "--cases"])
        .arg(cases)
        .output()
        .unwrap()
}

#[test]
fn check_command_accepts_the_catalogue() {
    let out = check_command(&catalogue_dir());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("{} cases in ", catalogue().len());
    assert!(stdout.starts_with(&expected), "{stdout}");
    assert!(stdout.trim_end().ends_with(" files"), "{stdout}");
}

#[test]
fn check_command_reports_broken_files_with_exit_2() {
    let dir = scratch("check");
    let file = write(
        &dir,
        "area/broken.yaml",
        "cases:\n  - id: ok.id\n    name: n\n    spec: \"2.1\"\n    steps:\n      - op: get\n        expect: {outcome: ok}\n",
    );
    let out = check_command(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let location = format!("{}:6:", file.display());
    assert!(stderr.contains(&location), "no {location} in:\n{stderr}");
    assert!(stderr.contains("needs `key`"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_command_locates_bad_create_steps() {
    let dir = scratch("check-create");
    let file = write(
        &dir,
        "area/create.yaml",
        concat!(
            "cases:\n",
            "  - id: c.one\n",
            "    name: n\n",
            "    spec: \"3.4\"\n",
            "    steps:\n",
            "      - op: create\n",
            "        key: k\n",
            "        as: admin\n",
            "        metadata: {a: \"1\"}\n",
            "        server_fields: {metadata: \"x\"}\n",
            "        expect: {outcome: ok}\n",
            "  - id: c.two\n",
            "    name: n\n",
            "    spec: \"3.4\"\n",
            "    requires: [create, admin]\n",
            "    steps:\n",
            "      - {op: create, server: alt, microversion: \"2.1\", expect: {status: 202}}\n",
            "      - {op: merge, server_fields: {a: 1}, metadata: {}, expect: {status: 200}}\n",
            "      - {op: create, server_fields: {min_count: 2}, expect: {status: 202}}\n",
        ),
    );
    let out = check_command(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let at = |line: usize, needle: &str| {
        let location = format!("{}:{line}:", file.display());
        let found = stderr
            .split("\nerror")
            .any(|block| block.contains(&location) && block.contains(needle));
        assert!(found, "no '{needle}' at {location} in:\n{stderr}");
    };
    at(
        2,
        "uses `op: create` but does not list `requires: [create]`",
    );
    at(6, "`key` does not apply to `op: create`");
    at(6, "`as` does not apply to `op: create`");
    at(6, "`metadata` and `server_fields.metadata` both set");
    at(6, "`outcome: ok` on `op: create`");
    at(17, "`server` does not apply to `op: create`");
    at(17, "`microversion` does not apply to `op: create`");
    at(18, "`server_fields` does not apply to `op: merge`");
    // Nova would make two servers and name one: the other could not be deleted.
    at(19, "`min_count` does not apply to `op: create`");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_command_fails_on_a_missing_folder() {
    let out = check_command(Path::new("/nonexistent/metaconform-cases"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the cases directory"));
}

/// A case file too big for the YAML parser's limits is one located error
/// that names the file and the limit, with what to do; a diagnostic on a
/// 200 KB line shows the part around the column, not the whole line.
#[test]
fn huge_files_and_long_lines_get_short_clear_diagnostics() {
    let dir = std::env::temp_dir().join(format!("metaconform-huge-{}", std::process::id()));
    let area = dir.join("big");
    std::fs::create_dir_all(&area).unwrap();
    let mut text = String::from("cases:\n");
    for i in 0..50_000 {
        text.push_str(&format!(
            "  - id: big.c{i}\n    name: n\n    spec: \"2.1\"\n    steps: [{{op: list, expect: {{outcome: ok}}}}]\n"
        ));
    }
    assert!(text.len() > 4_000_000);
    std::fs::write(area.join("huge.yaml"), &text).unwrap();
    let out = check_command(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("huge.yaml"), "{stderr}");
    assert!(
        stderr.contains("the file is too large to load: more than 250000 YAML nodes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: split the cases into several files"),
        "{stderr}"
    );
    assert!(!stderr.contains("budget breached"), "{stderr}");

    std::fs::remove_file(area.join("huge.yaml")).unwrap();
    let long = format!(
        "cases: [{{id: x, name: {}, colour: red, spec: \"2.1\", steps: []}}]\n",
        "a".repeat(200_000)
    );
    std::fs::write(area.join("long.yaml"), long).unwrap();
    let out = check_command(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("colour: red"), "{stderr}");
    assert!(
        stderr.len() < 2_000,
        "{} bytes of diagnostics",
        stderr.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
