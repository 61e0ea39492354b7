//! The Markdown summary of a run (`run --markdown FILE`), short enough for
//! a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`): the totals, whether
//! the run gates, and a table of the failures (id, step, what was expected,
//! what came, standing against the baseline), new ones first, cut at
//! [`MAX_ROWS`] rows with "and N more".

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::run::events::Event;
use crate::run::results::{CaseResult, RunResults, Verdict};

use super::failure::{Shown, cause_shown};
use super::reporter::{ReportError, Reporter, write_file};
use super::standing::{Standing, verdict_word};

/// Failure rows shown before "and N more".
pub const MAX_ROWS: usize = 25;
/// Characters of a cell shown before cutting.
const CELL: usize = 120;

/// Writes the Markdown summary when the run finishes.
pub struct MarkdownWriter {
    pub path: PathBuf,
    /// A baseline was given: failures it does not list are "new".
    pub baseline_given: bool,
}

impl Reporter for MarkdownWriter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::RunFinished { results } => {
                write_file(&self.path, render(results, self.baseline_given).as_bytes())
            }
            _ => Ok(()),
        }
    }
}

/// The Markdown summary of `results`.
pub fn render(results: &RunResults, baseline_given: bool) -> String {
    let mut out = String::new();
    totals(&mut out, results, baseline_given);
    let mut failing: Vec<(Standing, &CaseResult)> = results
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error) || c.gates())
        .map(|c| (Standing::of(c, baseline_given), c))
        .collect();
    if failing.is_empty() {
        out.push_str("\nNo failures.\n");
        return out;
    }
    // Gating (new) failures first, then advisory ones, then known ones;
    // ids in order within.
    failing.sort_by_key(|(standing, case)| {
        let rank = match standing {
            Standing::Known => 2,
            Standing::Advisory => 1,
            _ => 0,
        };
        (rank, case.id.clone())
    });
    failure_table(&mut out, &failing);
    out
}

fn totals(out: &mut String, results: &RunResults, baseline_given: bool) {
    let s = &results.summary;
    let gating = results.cases.iter().filter(|c| c.gates()).count();
    let _ = writeln!(
        out,
        "## metaconform: {} against {}\n",
        cell(&results.run.dialect),
        cell(&results.run.endpoint)
    );
    let _ = writeln!(
        out,
        "| passed | failed | errors | skipped | known failures | advisory failures | fixed |\n|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} |\n",
        s.passed, s.failed, s.errors, s.skipped, s.known_failures, s.advisory_failures, s.fixed
    );
    let gate = match (gating, baseline_given) {
        (0, _) if results.run.interrupted => {
            "**Gate: incomplete**: interrupted, the cases after the signal never ran (nothing that ran gates".to_string()
        }
        (0, _) => "**Gate: passes** (nothing gates".to_string(),
        (n, true) => format!("**Gate: fails**: {n} case(s) not in the baseline (new"),
        (n, false) => format!("**Gate: fails**: {n} case(s) gate (no baseline given"),
    };
    let _ = writeln!(
        out,
        "{gate}). metaconform {}, started {}{}.",
        cell(&results.run.metaconform_version),
        cell(&results.run.started_at),
        if results.run.interrupted {
            ", **interrupted**"
        } else {
            ""
        }
    );
    if s.fixed > 0 {
        let _ = writeln!(
            out,
            "\n{} baselined case(s) now pass: remove them from the baseline.",
            s.fixed
        );
    }
}

fn failure_table(out: &mut String, failing: &[(Standing, &CaseResult)]) {
    out.push_str(
        "\n| case | verdict | step | expected | got | status |\n|---|---|---|---|---|---|\n",
    );
    for (standing, case) in failing.iter().take(MAX_ROWS) {
        let (expected, got) = first_problem(case);
        let step = case
            .failed_step()
            .map_or("–".to_string(), |s| s.to_string());
        let _ = writeln!(
            out,
            "| `{}` | {} | {step} | {} | {} | {} |",
            case.id.replace('`', "'"),
            verdict_word(case.verdict),
            cell(&expected),
            cell(&got),
            standing.label()
        );
    }
    if failing.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (every case is in the HTML report and results.json).",
            failing.len() - MAX_ROWS
        );
    }
}

/// What the first broken expectation expected and what came, or the
/// failure's message as `got`.
fn first_problem(case: &CaseResult) -> (String, String) {
    let Some(failure) = &case.failure else {
        let why = case.skip_reason.clone().unwrap_or_default();
        return match case.verdict {
            Verdict::Skip => ("the case to run".to_string(), format!("skipped: {why}")),
            _ => (String::new(), String::new()),
        };
    };
    let shown = cause_shown(&failure.cause);
    let more = match shown.len() {
        0 | 1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    match shown.into_iter().next() {
        Some(Shown::Pair { expected, got, .. }) => (expected, format!("{got}{more}")),
        Some(Shown::Line(line)) => (String::new(), format!("{line}{more}")),
        None => (String::new(), String::new()),
    }
}

/// `text` made safe for one table cell: one line, pipes and HTML escaped,
/// cut at [`CELL`] characters.
pub fn cell(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(CELL).collect();
    if one_line.chars().count() > CELL {
        cut.push('…');
    }
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{
        Cause, FORMAT_VERSION, Failure, KnownStatus, Place, Problem, RunInfo, Summary,
    };

    fn failing(id: String) -> CaseResult {
        CaseResult {
            id,
            area: "a".into(),
            name: "n".into(),
            spec: "2.1".into(),
            class: crate::run::results::CaseClass::Required,
            verdict: Verdict::Fail,
            failure: Some(Failure {
                at: Place::Step {
                    step: 2,
                    op: "merge".into(),
                },
                cause: Cause::Broken {
                    problems: vec![Problem::Status {
                        expected: vec![400],
                        got: 200,
                    }],
                    stored: None,
                },
                cleanup: None,
            }),
            skip_reason: None,
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 1.0,
            exchanges: vec![],
        }
    }

    fn results(cases: Vec<CaseResult>) -> RunResults {
        let mut summary = Summary::default();
        cases.iter().for_each(|c| summary.count(c));
        RunResults {
            format_version: FORMAT_VERSION,
            run: RunInfo {
                dialect: "nova".into(),
                endpoint: "http://127.0.0.1:1/v2.1".into(),
                embedded: true,
                started_at: "2026-01-01T00:00:00Z".into(),
                duration_ms: 1.0,
                metaconform_version: "0.0.0".into(),
                interrupted: false,
                partition: None,
                target: None,
                microversion: None,
                strict: false,
            },
            summary,
            cases,
        }
    }

    #[test]
    fn the_table_is_capped_and_new_failures_come_first() {
        let mut cases: Vec<CaseResult> = (0..MAX_ROWS + 5)
            .map(|i| failing(format!("c{i:02}")))
            .collect();
        cases[0].known_failure = Some(KnownStatus::StillFailing);
        let md = render(&results(cases), true);
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `c")).collect();
        assert_eq!(rows.len(), MAX_ROWS);
        assert!(md.contains("…and 5 more"));
        assert_eq!(
            rows[0],
            "| `c01` | fail | 2 | expected status 400 | 200 | new |"
        );
        assert!(md.contains("**Gate: fails**: 29 case(s) not in the baseline"));
    }

    #[test]
    fn a_clean_run_says_so() {
        let mut case = failing("ok".into());
        case.verdict = Verdict::Pass;
        case.failure = None;
        let md = render(&results(vec![case]), false);
        assert!(md.contains("**Gate: passes**") && md.contains("No failures."));
    }

    #[test]
    fn a_cell_is_one_inert_line() {
        assert_eq!(cell("a|b\n<script>&"), "a\\|b &lt;script&gt;&amp;");
        assert_eq!(cell(&"x".repeat(CELL + 5)).chars().count(), CELL + 1);
    }
}
