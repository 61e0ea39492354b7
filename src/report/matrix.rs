//! The matrix of a multi-target run (`run --target NAME=FILE ...`): case ×
//! target → the verdict and the statuses its steps observed, written as
//! `matrix.json` (shape: [`Matrix`], schema: `metaconform schema matrix`),
//! and its account on the terminal (each target's totals, then the cases
//! whose verdict or observed statuses differ between targets, one line
//! each).
//!
//! Built from the targets' [`RunResults`] alone, so it says nothing a
//! results file does not: `metaconform diff A/results.json B/results.json`
//! tells the same differences between two targets at length.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::run::results::{CaseResult, Purpose, RunResults, SkipKind, Summary, Verdict};

use super::standing::verdict_word;

/// Bumped on any incompatible change of [`Matrix`].
pub const MATRIX_FORMAT: u32 = 1;

/// How many differing cases the terminal lists before "and N more".
const SHOWN_DIFFERENCES: usize = 40;

/// `matrix.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub format_version: u32,
    /// The targets, in the order they ran: the matrix's columns.
    pub targets: Vec<Column>,
    /// Case id → target name → what the case did there. A target that did
    /// not reach the case (an interrupted run) has no cell for it.
    pub cases: BTreeMap<String, BTreeMap<String, Cell>>,
    /// The case ids whose verdict or observed statuses are not the same on
    /// every target that ran them, in catalogue order.
    pub differing: Vec<String>,
    /// Each target against the one before it (column order): the cases
    /// that differ between the two, in catalogue order.
    pub steps: Vec<Step>,
}

/// What changed from one target to the next.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub from: String,
    pub to: String,
    /// Cases both ran whose verdict or observed statuses differ.
    pub differing: Vec<String>,
}

/// One target of the run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The NAME of `--target NAME=FILE`.
    pub name: String,
    pub dialect: String,
    /// The highest microversion the target was tested at, if its dialect
    /// has microversions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub microversion: Option<String>,
    /// The endpoint, without secrets.
    pub endpoint: String,
    /// The embedded reference server was used.
    pub embedded: bool,
    /// The target's results file, as the run wrote its path.
    pub results: String,
    /// The target's totals.
    pub summary: Summary,
}

/// One case on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub verdict: Verdict,
    /// For a skip: why, as a kind (the reason is in the results file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_kind: Option<SkipKind>,
    /// The status each step's request got, in order; `null` where nothing
    /// came back (a transport error). Empty for a case that sent none.
    pub statuses: Vec<Option<u16>>,
}

impl Cell {
    fn of(case: &CaseResult) -> Cell {
        Cell {
            verdict: case.verdict,
            skip_kind: case.skip_kind,
            statuses: step_statuses(case),
        }
    }

    /// `pass 200 400`, `skip`, `fail 200 -`.
    pub fn label(&self) -> String {
        let mut text = verdict_word(self.verdict).to_string();
        for status in &self.statuses {
            match status {
                Some(code) => {
                    let _ = write!(text, " {code}");
                }
                None => text.push_str(" -"),
            }
        }
        text
    }
}

/// The statuses of the step exchanges of `case` (setup, read-backs and
/// cleanup left out: they are the runner's, not the case's).
fn step_statuses(case: &CaseResult) -> Vec<Option<u16>> {
    case.exchanges
        .iter()
        .filter(|x| x.purpose == Purpose::Step)
        .map(|x| x.response.as_ref().map(|r| r.status))
        .collect()
}

/// One target's finished run, as the matrix reads it.
pub struct TargetRun<'a> {
    pub name: &'a str,
    /// Where its results file was written.
    pub results_path: String,
    pub results: &'a RunResults,
}

impl Matrix {
    /// The matrix of `runs`, in their order.
    pub fn build(runs: &[TargetRun<'_>]) -> Matrix {
        let mut cases: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for run in runs {
            for case in &run.results.cases {
                let row = cases.entry(case.id.clone()).or_default();
                if row.is_empty() {
                    order.push(&case.id);
                }
                row.insert(run.name.to_string(), Cell::of(case));
            }
        }
        let differing = order
            .iter()
            .filter(|id| cases.get(**id).is_some_and(differs))
            .map(|id| id.to_string())
            .collect();
        let steps = runs
            .windows(2)
            .map(|pair| step(&cases, &order, pair[0].name, pair[1].name))
            .collect();
        Matrix {
            format_version: MATRIX_FORMAT,
            targets: runs.iter().map(column).collect(),
            cases,
            differing,
            steps,
        }
    }

    /// The terminal's account: a line per target, then the differing
    /// cases, one line each (capped).
    pub fn summary_text(&self) -> String {
        let mut out = String::from("targets:\n");
        for t in &self.targets {
            let s = &t.summary;
            let _ = writeln!(
                out,
                "  {:<12} {} {}: {} passed, {} failed, {} skipped  ({})",
                t.name,
                t.dialect,
                t.microversion.as_deref().unwrap_or("(no microversions)"),
                s.passed,
                s.failed + s.errors,
                s.skipped,
                t.results
            );
        }
        let _ = writeln!(
            out,
            "{} of {} cases differ between targets{}",
            self.differing.len(),
            self.cases.len(),
            if self.differing.is_empty() { "" } else { ":" }
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "  {} -> {}: {} cases differ",
                s.from,
                s.to,
                s.differing.len()
            );
        }
        for id in self.differing.iter().take(SHOWN_DIFFERENCES) {
            let _ = writeln!(out, "  {id}: {}", self.row_text(id));
        }
        if self.differing.len() > SHOWN_DIFFERENCES {
            let _ = writeln!(
                out,
                "  and {} more (matrix.json lists them all)",
                self.differing.len() - SHOWN_DIFFERENCES
            );
        }
        out
    }

    /// `v2.1=skip | v2.102=pass 400 | ...`, targets in column order.
    fn row_text(&self, id: &str) -> String {
        let row = self.cases.get(id);
        self.targets
            .iter()
            .map(|t| {
                let cell = row.and_then(|r| r.get(&t.name));
                format!(
                    "{}={}",
                    t.name,
                    cell.map_or("(not run)".to_string(), Cell::label)
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

fn column(run: &TargetRun<'_>) -> Column {
    let info = &run.results.run;
    Column {
        name: run.name.to_string(),
        dialect: info.dialect.clone(),
        microversion: info.microversion.clone(),
        endpoint: info.endpoint.clone(),
        embedded: info.embedded,
        results: run.results_path.clone(),
        summary: run.results.summary,
    }
}

/// The cases `from` and `to` both ran that differ between them.
fn step(
    cases: &BTreeMap<String, BTreeMap<String, Cell>>,
    order: &[&str],
    from: &str,
    to: &str,
) -> Step {
    let differing = order
        .iter()
        .filter(|id| {
            let row = cases.get(**id);
            match (row.and_then(|r| r.get(from)), row.and_then(|r| r.get(to))) {
                (Some(a), Some(b)) => a.verdict != b.verdict || a.statuses != b.statuses,
                _ => false,
            }
        })
        .map(|id| id.to_string())
        .collect();
    Step {
        from: from.to_string(),
        to: to.to_string(),
        differing,
    }
}

/// Whether the cells of a row are not all alike.
fn differs(row: &BTreeMap<String, Cell>) -> bool {
    let mut cells = row.values();
    let Some(first) = cells.next() else {
        return false;
    };
    cells.any(|c| c.verdict != first.verdict || c.statuses != first.statuses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{ExchangeRecord, RequestRecord, ResponseRecord, RunInfo};

    fn case(id: &str, verdict: Verdict, statuses: &[u16]) -> CaseResult {
        let exchange = |status: u16, purpose| ExchangeRecord {
            purpose,
            step: Some(1),
            token_var: None,
            request: RequestRecord {
                method: "GET".into(),
                url: "http://h/x".into(),
                headers: vec![],
                body: String::new(),
                body_hex: None,
            },
            response: Some(ResponseRecord {
                status,
                headers: vec![],
                body: String::new(),
                body_hex: None,
            }),
            error: None,
            elapsed_ms: 0.0,
        };
        let mut exchanges = vec![exchange(200, Purpose::Setup)];
        exchanges.extend(statuses.iter().map(|s| exchange(*s, Purpose::Step)));
        CaseResult {
            id: id.into(),
            area: "versions".into(),
            name: "n".into(),
            spec: "6.2".into(),
            verdict,
            failure: None,
            skip_reason: None,
            skip_kind: (verdict == Verdict::Skip).then_some(SkipKind::Dialect),
            known_failure: None,
            known_reason: None,
            class: crate::run::results::CaseClass::Required,
            duration_ms: 0.0,
            exchanges,
        }
    }

    fn results(microversion: &str, cases: Vec<CaseResult>) -> RunResults {
        let mut summary = Summary::default();
        cases.iter().for_each(|c| summary.count(c));
        RunResults {
            format_version: crate::run::results::FORMAT_VERSION,
            run: RunInfo {
                dialect: "nova".into(),
                endpoint: "http://h".into(),
                embedded: true,
                started_at: "2026-01-01T00:00:00Z".into(),
                duration_ms: 1.0,
                metaconform_version: "0".into(),
                interrupted: false,
                partition: None,
                target: None,
                microversion: Some(microversion.into()),
                strict: false,
            },
            summary,
            cases,
        }
    }

    #[test]
    fn cases_differing_in_verdict_or_status_are_listed_in_order() {
        let old = results(
            "2.101",
            vec![
                case("b.same", Verdict::Pass, &[200]),
                case("a.status", Verdict::Pass, &[200]),
                case("c.verdict", Verdict::Skip, &[]),
            ],
        );
        let new = results(
            "2.102",
            vec![
                case("b.same", Verdict::Pass, &[200]),
                case("a.status", Verdict::Pass, &[400]),
                case("c.verdict", Verdict::Pass, &[]),
            ],
        );
        let matrix = Matrix::build(&[
            TargetRun {
                name: "old",
                results_path: "r/old/results.json".into(),
                results: &old,
            },
            TargetRun {
                name: "new",
                results_path: "r/new/results.json".into(),
                results: &new,
            },
        ]);
        assert_eq!(matrix.differing, ["a.status", "c.verdict"]);
        assert_eq!(matrix.steps[0].differing, ["a.status", "c.verdict"]);
        assert_eq!(matrix.cases["a.status"]["new"].statuses, [Some(400)]);
        assert_eq!(matrix.targets[1].microversion.as_deref(), Some("2.102"));
        let text = matrix.summary_text();
        assert!(text.contains("2 of 3 cases differ"), "{text}");
        assert!(text.contains("  old -> new: 2 cases differ\n"), "{text}");
        assert!(
            text.contains("  a.status: old=pass 200 | new=pass 400\n"),
            "{text}"
        );
        assert!(!text.contains("b.same"), "{text}");
    }
}
