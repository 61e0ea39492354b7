//! Loading case files: YAML parsing, table expansion, semantic checks and
//! duplicate ids, with every problem reported as a located [`Diagnostic`].
//!
//! Loading never stops at the first problem: a directory's diagnostics are
//! all collected, so `metaconform check` shows every broken file at once.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_saphyr::{Location, Spanned};

use super::check::{Issue, check_case};
use super::format::{Case, CaseFile, Table};
use super::table::{self, Row, TableError};
use crate::diag::Diagnostic;

/// A case ready to run, with where it was written.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    pub case: Case,
    pub file: PathBuf,
    /// The first folder under the cases directory, e.g. `charset`.
    pub area: String,
    /// The line of the case (or of its table).
    pub line: u32,
}

/// The folder of profiles, skipped when loading cases.
const DIALECTS_DIR: &str = "dialects";

/// A case and its column, before the duplicate check.
struct Placed {
    loaded: LoadedCase,
    column: u32,
}

/// Load every `*.yaml` under `dir` (recursively, except `dialects/`), sorted
/// by id. Any problem in any file fails the whole load with all diagnostics.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    collect_files(dir, dir, &mut files, &mut diags);
    files.sort();
    let mut placed = Vec::new();
    let mut texts = BTreeMap::new();
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                diags.push(
                    Diagnostic::new(&path, 0, 0, format!("cannot read case file: {e}"))
                        .with_help("check the file's permissions and that it is UTF-8"),
                );
                continue;
            }
        };
        let area = area_of(dir, &path);
        match parse_file(&path, &text, &area) {
            Ok(cases) => placed.extend(cases),
            Err(errors) => diags.extend(errors),
        }
        texts.insert(path, text);
    }
    diags.extend(duplicate_ids(&placed, &texts));
    finish(placed, diags)
}

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));
}

/// The catalogue compiled into the binary (the `cases/` folder at build
/// time), for runs outside a checkout. Paths read `<builtin>/area/file.yaml`.
pub fn load_builtin() -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
    let root = Path::new("<builtin>");
    let mut placed = Vec::new();
    let mut diags = Vec::new();
    let mut texts = BTreeMap::new();
    for (relative, text) in builtin::CATALOGUE {
        let path = root.join(relative);
        match parse_file(&path, text, &area_of(root, &path)) {
            Ok(cases) => placed.extend(cases),
            Err(errors) => diags.extend(errors),
        }
        texts.insert(path, text.to_string());
    }
    diags.extend(duplicate_ids(&placed, &texts));
    finish(placed, diags)
}

/// Load one file's text (named `path` in diagnostics). The area is the
/// name of the file's parent folder.
pub fn load_str(path: &Path, text: &str) -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
    let area = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let placed = parse_file(path, text, &area)?;
    let mut texts = BTreeMap::new();
    texts.insert(path.to_path_buf(), text.to_string());
    let diags = duplicate_ids(&placed, &texts);
    finish(placed, diags)
}

fn finish(placed: Vec<Placed>, diags: Vec<Diagnostic>) -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut cases: Vec<LoadedCase> = placed.into_iter().map(|p| p.loaded).collect();
    cases.sort_by(|a, b| a.case.id.cmp(&b.case.id));
    Ok(cases)
}

/// Every `*.yaml` below `dir`, skipping `dialects/` at the top.
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.push(
                Diagnostic::new(dir, 0, 0, format!("cannot read the cases directory: {e}"))
                    .with_help("pass the folder that holds the case areas with --cases"),
            );
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if dir == root && entry.file_name() == DIALECTS_DIR {
                continue;
            }
            collect_files(root, &path, files, diags);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        } else if path.extension().is_some_and(|e| e == "yml") {
            diags.push(
                Diagnostic::new(
                    &path,
                    0,
                    0,
                    "case files end in .yaml; this .yml file is not read",
                )
                .with_help("rename it to .yaml"),
            );
        }
    }
}

/// The first folder of `path` under `root`; for files at the top, the
/// name of `root` itself (`fuzz --save regressions` writes files there, and
/// `--area regressions` then selects them).
fn area_of(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut parts = relative.components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(first)), Some(_)) => first.to_string_lossy().into_owned(),
        _ => root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Parse, expand and check one file.
fn parse_file(path: &Path, text: &str, area: &str) -> Result<Vec<Placed>, Vec<Diagnostic>> {
    let file: CaseFile =
        serde_saphyr::from_str(text).map_err(|e| vec![Diagnostic::from_yaml(path, text, &e)])?;
    let mut placed = Vec::new();
    let mut diags = Vec::new();
    if file.cases.is_empty() && file.tables.is_empty() {
        diags.push(
            Diagnostic::new(path, 1, 1, "the file holds no cases")
                .with_source(text)
                .with_help("add `cases:` and/or `tables:`"),
        );
    }
    for case in file.cases {
        let at = case.referenced;
        for issue in check_case(&case.value, at) {
            diags.push(issue_diagnostic(path, text, &issue, None));
        }
        placed.push(place(case.value, path, area, at));
    }
    for table in &file.tables {
        match expand_table(table, path, text) {
            Ok(cases) => placed.extend(
                cases
                    .into_iter()
                    .map(|case| place(case, path, area, table.referenced)),
            ),
            Err(errors) => diags.extend(errors),
        }
    }
    if diags.is_empty() {
        Ok(placed)
    } else {
        Err(diags)
    }
}

fn place(case: Case, path: &Path, area: &str, at: Location) -> Placed {
    Placed {
        loaded: LoadedCase {
            case,
            file: path.to_path_buf(),
            area: area.to_string(),
            line: at.line() as u32,
        },
        column: at.column() as u32,
    }
}

/// Expand one table into checked cases, each located at the table.
fn expand_table(
    table: &Spanned<Table>,
    path: &Path,
    text: &str,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let at = table.referenced;
    let table_error = |e: TableError, row: Option<(usize, &Row)>| {
        let prefix = row_prefix(row);
        Diagnostic::at(path, text, &at, format!("{prefix}{e}")).with_help(e.help())
    };
    let rows = table::rows(&table.value).map_err(|e| vec![table_error(e, None)])?;
    table::check_template_id(&table.value.case).map_err(|e| vec![table_error(e, None)])?;
    let mut cases = Vec::new();
    let mut diags = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let value = match table::expand(&table.value.case, row) {
            Ok(value) => value,
            Err(e) => {
                diags.push(table_error(e, Some((i, row))));
                continue;
            }
        };
        match serde_json::from_value::<Case>(value) {
            Ok(mut case) => {
                relocate_steps(&mut case, at);
                for issue in check_case(&case, at) {
                    diags.push(issue_diagnostic(path, text, &issue, Some((i, row))));
                }
                cases.push(case);
            }
            Err(e) => diags.push(
                Diagnostic::at(
                    path,
                    text,
                    &at,
                    format!("{}{e}", row_prefix(Some((i, row)))),
                )
                .with_help(
                    "fix the table's `case` template; it must be a valid case after substitution",
                ),
            ),
        }
    }
    if diags.is_empty() {
        Ok(cases)
    } else {
        Err(diags)
    }
}

/// Steps of an expanded case have no location of their own: use the table's.
fn relocate_steps(case: &mut Case, at: Location) {
    for step in &mut case.steps {
        step.referenced = at;
        step.defined = at;
    }
}

fn row_prefix(row: Option<(usize, &Row)>) -> String {
    match row {
        Some((i, row)) => format!("table row {} ({}): ", i + 1, table::row_label(row)),
        None => String::new(),
    }
}

fn issue_diagnostic(
    path: &Path,
    text: &str,
    issue: &Issue,
    row: Option<(usize, &Row)>,
) -> Diagnostic {
    let message = format!("{}{}", row_prefix(row), issue.message);
    Diagnostic::at(path, text, &issue.at, message).with_help(issue.help.clone())
}

/// One diagnostic per repeated id, at the repeat, naming the first place.
fn duplicate_ids(placed: &[Placed], texts: &BTreeMap<PathBuf, String>) -> Vec<Diagnostic> {
    let mut first: BTreeMap<&str, &Placed> = BTreeMap::new();
    let mut diags = Vec::new();
    for p in placed {
        let id = p.loaded.case.id.as_str();
        match first.get(id) {
            None => {
                first.insert(id, p);
            }
            Some(original) => {
                let o = &original.loaded;
                let text = texts.get(&p.loaded.file).map(String::as_str).unwrap_or("");
                diags.push(
                    Diagnostic::new(
                        &p.loaded.file,
                        p.loaded.line,
                        p.column,
                        format!(
                            "duplicate case id '{id}', first defined at {}:{}:{}",
                            o.file.display(),
                            o.line,
                            original.column
                        ),
                    )
                    .with_source(text)
                    .with_help("ids are stable and never reused: pick a new one"),
                );
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
        load_str(Path::new("cases/demo/x.yaml"), text)
    }

    fn errors(text: &str) -> Vec<Diagnostic> {
        match load(text) {
            Ok(cases) => panic!("expected errors, loaded {} cases", cases.len()),
            Err(diags) => diags,
        }
    }

    const GOOD: &str = r#"
cases:
  - id: demo.merge
    name: merge adds
    spec: "3.1"
    steps:
      - op: merge
        metadata: {a: "1"}
        expect: {outcome: ok, stored: {a: "1"}}
tables:
  - each_char: "ab"
    case:
      id: demo.alone.${hex}
      name: key ${char}
      spec: "2.1"
      steps:
        - op: set
          key: "${char}"
          value: "${char*3}"
          expect: {outcome: ok, body: {meta: {"${char}": "${char*3}"}}}
"#;

    #[test]
    fn loads_cases_and_tables_sorted_with_area_and_line() {
        let cases = load(GOOD).unwrap();
        let ids: Vec<&str> = cases.iter().map(|c| c.case.id.as_str()).collect();
        assert_eq!(ids, ["demo.alone.61", "demo.alone.62", "demo.merge"]);
        assert!(cases.iter().all(|c| c.area == "demo"));
        assert_eq!(cases[2].line, 3);
        assert_eq!(cases[0].line, 11);
        let step = &cases[1].case.steps[0];
        assert_eq!(step.value.key.as_deref(), Some("b"));
        assert_eq!(
            step.referenced.line(),
            11,
            "expanded steps sit at the table"
        );
    }

    #[test]
    fn unknown_field_is_located() {
        let diags = errors(
            "cases:\n  - id: a\n    name: n\n    spec: \"2.1\"\n    colour: red\n    steps: []\n",
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 5, "{diags:?}");
        assert!(diags[0].message.contains("colour"), "{}", diags[0].message);
    }

    #[test]
    fn collects_every_semantic_error() {
        let text = r#"
cases:
  - id: Bad_Id
    name: n
    spec: "9.9"
    dialects: [nova, mars]
    steps:
      - op: get
        metadata: {a: "1"}
        expect: {}
      - op: set
        key: k
        expect: {status: 200, outcome: ok}
        expect_for: {venus: {outcome: ok}}
"#;
        let diags = errors(text);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        let expect_in = |needle: &str, line: u32| {
            let d = diags
                .iter()
                .find(|d| d.message.contains(needle))
                .unwrap_or_else(|| panic!("no '{needle}' in {messages:?}"));
            assert_eq!(d.line, line, "{needle}: {d}");
            assert!(d.help.is_some());
        };
        expect_in("id 'Bad_Id'", 3);
        expect_in("spec '9.9'", 3);
        expect_in("unknown dialect 'mars'", 3);
        expect_in("`metadata` does not apply to `op: get`", 8);
        expect_in("needs `key`", 8);
        expect_in("states nothing", 8);
        expect_in("exactly one of `value` and `meta`", 11);
        expect_in("both `status` and `outcome`", 11);
        expect_in("unknown dialect 'venus' in `expect_for`", 11);
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let text = "cases:\n  - id: a\n    name: n\n    spec: \"2.1\"\n    steps: [{op: list, expect: {outcome: ok}}]\n  - id: a\n    name: m\n    spec: \"2.1\"\n    steps: [{op: list, expect: {outcome: ok}}]\n";
        let diags = errors(text);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 6);
        assert!(
            diags[0]
                .message
                .contains("first defined at cases/demo/x.yaml:2:"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn table_errors_are_located_at_the_table_and_name_the_row() {
        let text = r#"
tables:
  - rows: [{n: "1"}, {n: "2"}]
    case:
      id: t.${n}
      name: ${m}
      spec: "2.1"
      steps: [{op: list, expect: {outcome: ok}}]
"#;
        let diags = errors(text);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!(diags[0].line, 3);
        assert!(diags[0].message.starts_with("table row 1 (n = \"1\")"));
        assert!(diags[0].message.contains("unknown variable 'm'"));

        let fixed_id = text.replace("t.${n}", "t.fixed");
        let diags = errors(&fixed_id);
        assert!(diags[0].message.contains("uses no variable"), "{diags:?}");

        let bad_step = text
            .replace("${m}", "x")
            .replace("{op: list,", "{op: list, key: k,");
        let diags = errors(&bad_step);
        assert_eq!(diags.len(), 2);
        assert!(diags[0].message.contains("`key` does not apply"));
    }

    #[test]
    fn raw_action_and_concurrent_steps_are_checked() {
        let text = r#"
cases:
  - id: a
    name: n
    spec: "5.4"
    steps:
      - op: raw
        raw: {method: post, path: metadata, body: "x", body_hex: "zz"}
        expect: {outcome: ok}
      - op: action
        action: explode
        expect: {status: 202}
      - op: concurrent
        concurrent: {op: delete, count: 1}
        expect: {outcome: ok}
      - op: list
        expect: {outcome: ok, message_contains: "x"}
        expect_for: {ecs-v1: {outcome: ok}}
"#;
        let diags = errors(text);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        for needle in [
            "more than one of `body`, `body_hex`, `body_size`",
            "`body_hex` 'zz' is not hex",
            "raw method 'post'",
            "raw path 'metadata'",
            "`outcome: ok` on `op: raw`",
            "unknown action 'explode'",
            "concurrent op 'delete'",
            "concurrent count 1",
            "`message_contains`/`error_code` are dialect-specific",
            "the case uses `action: explode` but does not list `requires: [state-changes]`",
        ] {
            assert!(
                messages.iter().any(|m| m.contains(needle)),
                "no '{needle}' in {messages:#?}"
            );
        }
        let listed = text.replace("    steps:\n", "    dialects: [nova]\n    steps:\n");
        let diags = errors(&listed);
        assert!(
            diags.iter().any(|d| d
                .message
                .contains("`expect_for.ecs-v1` names a dialect the case does not run on")),
            "{diags:#?}"
        );
    }

    #[test]
    fn requirements_must_be_listed() {
        let text = "cases:\n  - id: a\n    name: n\n    spec: \"4.1\"\n    given: {vm_state: paused}\n    steps: [{op: list, as: reader, expect: {outcome: ok}}]\n";
        let diags = errors(text);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diags.len(), 2, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("[state-changes]")));
        assert!(messages.iter().any(|m| m.contains("[reader]")));
    }
}
