//! No silent under-testing, end to end with the real binary: `--cases DIR`
//! adds to the built-in catalogue and `--only-cases DIR` replaces it, a
//! `./cases` folder is never read unasked (the old README's
//! `fuzz --save cases/regressions` no longer shrinks the next run), an id
//! defined twice is exit 2 naming both files, the summary names the
//! catalogue, an empty selection is exit 4, and `--area`/`--tag` select by
//! the case's folder and its tags.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, Scratch, catalogue, command, text, write_file};
use metaconform::cases::load_builtin;

/// `metaconform ARGS` in `dir`, reports there too, no ambient credentials.
fn metaconform(dir: &Path, args: &[&str]) -> Output {
    command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run metaconform")
}

/// The ids and areas `run --list --format json ARGS` prints in `dir`.
fn listed(dir: &Path, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["run", "--list", "--format", "json", "--no-props"];
    all.extend_from_slice(args);
    let out = metaconform(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON list");
    list.iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("id"), field("area"))
        })
        .collect()
}

fn builtin_count() -> usize {
    load_builtin().expect("the built-in catalogue loads").len()
}

/// A fuzz finding saved the way the old README said (`--save
/// cases/regressions`) leaves the next plain `run` on the whole catalogue;
/// `--cases DIR` adds the saved case, which then runs and passes against the
/// healthy server, and the summary says so.
#[test]
fn fuzz_save_then_run_keeps_the_whole_catalogue_and_adds_the_saved_case() {
    let dir = Scratch::new("fuzz-save");
    let fuzz = metaconform(
        &dir,
        &[
            "fuzz",
            "--seed",
            "1",
            "--fault",
            "put-merges",
            "--sequences",
            "200",
            "--until-found",
            "--save",
            "cases/regressions",
        ],
    );
    let fuzz_out = text(&fuzz.stdout);
    assert_eq!(
        fuzz.status.code(),
        Some(1),
        "{fuzz_out}{}",
        text(&fuzz.stderr)
    );
    assert!(
        fuzz_out.contains("metaconform run --cases cases/regressions"),
        "{fuzz_out}"
    );
    let saved: Vec<_> = std::fs::read_dir(dir.join("cases/regressions"))
        .expect("saved folder")
        .collect();
    assert_eq!(saved.len(), 1, "{fuzz_out}");

    let builtin = builtin_count();
    assert!(builtin > 700, "{builtin}");
    let plain = listed(&dir, &[]);
    assert_eq!(
        plain.len(),
        builtin,
        "./cases must not replace the catalogue"
    );

    let added = listed(&dir, &["--cases", "cases/regressions"]);
    assert_eq!(added.len(), builtin + 1);
    let fuzz_ids: Vec<&(String, String)> = added
        .iter()
        .filter(|(id, _)| id.starts_with("fuzz-"))
        .collect();
    assert_eq!(fuzz_ids.len(), 1, "{fuzz_ids:?}");
    assert_eq!(
        fuzz_ids[0].1, "regressions",
        "top-level files take the folder's name as area"
    );

    let only = listed(&dir, &["--only-cases", "cases/regressions"]);
    assert_eq!(only.len(), 1);

    let run = metaconform(
        &dir,
        &[
            "run",
            "--cases",
            "cases/regressions",
            "--area",
            "regressions",
        ],
    );
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", text(&run.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&"1 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert_eq!(
        lines[lines.len() - 2],
        format!(
            "catalogue: built-in ({builtin} cases) + cases/regressions (1 case), 5 property trials; selected 1 case and 0 trials (--area regressions)"
        )
    );
}

#[test]
fn an_id_in_the_catalogue_and_a_folder_is_exit_2_naming_both_files() {
    let dir = Scratch::new("clash");
    write_file(
        &dir,
        "extra/charset/again.yaml",
        "cases:\n  - id: charset.alone.41\n    name: n\n    spec: \"2.1\"\n    steps: [{op: list, expect: {outcome: ok}}]\n",
    );
    let out = metaconform(&dir, &["run", "--cases", "extra", "--list"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("case id 'charset.alone.41' is also defined in the built-in catalogue at <builtin>/charset/"),
        "{stderr}"
    );
    assert!(stderr.contains("extra/charset/again.yaml:2"), "{stderr}");
    // Alone, the folder is fine.
    assert_eq!(listed(&dir, &["--only-cases", "extra"]).len(), 1);
}

#[test]
fn an_empty_selection_is_exit_4_naming_the_filter_unless_allowed() {
    let dir = Scratch::new("empty");
    let out = metaconform(&dir, &["run", "no-such-case"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("filter 'no-such-case'"), "{stderr}");
    assert!(stderr.contains("--no-tests=pass"), "{stderr}");
    assert!(
        !dir.join("reports").exists(),
        "nothing ran, nothing written"
    );

    let tag = metaconform(&dir, &["run", "--tag", "no-such-tag"]);
    assert_eq!(tag.status.code(), Some(4));
    assert!(text(&tag.stderr).contains("--tag no-such-tag"));

    let warn = metaconform(&dir, &["run", "no-such-case", "--no-tests=warn"]);
    assert_eq!(warn.status.code(), Some(0), "{}", text(&warn.stderr));
    assert!(text(&warn.stderr).starts_with("warning: no case"));
    assert!(text(&warn.stdout).ends_with("0 passed, 0 failed, 0 skipped\n"));
    let pass = metaconform(&dir, &["run", "no-such-case", "--no-tests=pass"]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass.stderr));
    assert!(!text(&pass.stderr).contains("warning"));
}

/// A selection that matches cases, all of them for other dialects, runs
/// and tests nothing: exit 4 naming the skips (it used to pass with "0
/// passed"), with its reports written; `--no-tests` allows it as for an
/// empty selection. A selection with one case that runs is not affected.
#[test]
fn a_selection_whose_every_case_is_skipped_is_exit_4_unless_allowed() {
    let dir = Scratch::new("all-skipped");
    let only_nova = [
        "run",
        "--no-props",
        "--tag",
        "python-json",
        "--dialect",
        "ecs-v1",
    ];
    let out = metaconform(&dir, &only_nova);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(text(&out.stdout).ends_with("0 passed, 0 failed, 12 skipped\n"));
    assert!(
        stderr.contains("nothing was tested: all 12 cases and trials selected by --tag python-json were skipped (12 for the dialect"),
        "{stderr}"
    );
    assert!(
        dir.join("reports/results.json").exists(),
        "the run's reports are written"
    );

    let warn = metaconform(&dir, &[&only_nova[..], &["--no-tests=warn"]].concat());
    assert_eq!(warn.status.code(), Some(0), "{}", text(&warn.stderr));
    assert!(text(&warn.stderr).contains("warning: nothing was tested"));
    let pass = metaconform(&dir, &[&only_nova[..], &["--no-tests=pass"]].concat());
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass.stderr));
    // A shard is judged with the others (`merge`), not alone.
    let shard = metaconform(
        &dir,
        &[&only_nova[..], &["--partition", "count:1/2"]].concat(),
    );
    assert_eq!(shard.status.code(), Some(0), "{}", text(&shard.stderr));

    let one_runs = metaconform(
        &dir,
        &[
            "run",
            "--no-props",
            "--tag",
            "python-json",
            "--dialect",
            "nova-legacy",
        ],
    );
    assert_eq!(
        one_runs.status.code(),
        Some(0),
        "{}",
        text(&one_runs.stderr)
    );
    assert!(text(&one_runs.stdout).ends_with("11 passed, 0 failed, 1 skipped\n"));
}

/// `--area` selects exactly the cases whose folder it names (the ids of
/// `merge-replace` do not all start with it, so a filter cannot), `prop`
/// selects the trials, an unknown area is exit 2 naming the real ones.
#[test]
fn area_and_tag_select_by_folder_and_tag() {
    let dir = Scratch::new("area");
    let all = listed(&dir, &[]);
    for area in ["merge-replace", "states", "charset"] {
        let expected: Vec<&String> = all
            .iter()
            .filter(|(_, a)| a == area)
            .map(|(id, _)| id)
            .collect();
        let got = listed(&dir, &["--area", area]);
        assert!(!expected.is_empty());
        assert_eq!(
            got.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            expected,
            "{area}"
        );
    }
    let two = listed(&dir, &["--area", "quota", "--area", "auth"]);
    assert!(two.iter().all(|(_, a)| a == "quota" || a == "auth"));
    assert!(two.iter().any(|(_, a)| a == "quota") && two.iter().any(|(_, a)| a == "auth"));

    let out = metaconform(&dir, &["run", "--list", "--area", "prop"]);
    assert_eq!(
        text(&out.stdout).lines().count(),
        5,
        "{}",
        text(&out.stdout)
    );

    let out = metaconform(&dir, &["run", "--area", "merge_replace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the areas are: auth, autorecovery, charset"),
        "{}",
        text(&out.stderr)
    );

    // Tags come from the case files.
    let tagged = metaconform_list_tags(&dir, "tempest");
    assert!(tagged > 0);
    let cases = metaconform::cases::load_dir(&catalogue()).unwrap();
    let expected = cases
        .iter()
        .filter(|c| c.case.tags.iter().any(|t| t == "tempest"))
        .count();
    assert_eq!(tagged, expected);
}

fn metaconform_list_tags(dir: &Path, tag: &str) -> usize {
    listed(dir, &["--tag", tag]).len()
}

/// `run --list | head -1` ends quietly: a closed stdout is a normal end.
#[test]
fn list_into_a_closed_pipe_exits_0_without_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = Scratch::new("pipe");
    for _ in 0..3 {
        let mut child = Command::new(BIN)
            .current_dir(&dir)
            .args(["run", "--list", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 16];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
