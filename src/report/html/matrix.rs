//! The HTML page of a multi-target run: the targets (dialect,
//! microversion, endpoint, totals), the filters, the matrix (a row per
//! case, the cases that differ between targets first; a column per target;
//! each cell the verdict and the statuses the steps got), then each
//! target's own table of cases with its failures, exchanges and curl
//! repros. Everything from the run is escaped, as on the one-target page.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::report::matrix::Matrix;
use crate::report::standing::{Standing, verdict_word};
use crate::run::results::{CaseResult, RunResults};

use super::{cases_table, escape, filters, group_by_area, page_end, page_start, standing_key};

/// The whole page of `runs` (target name, results) and their `matrix`.
pub fn render_targets(
    runs: &[(&str, &RunResults)],
    matrix: &Matrix,
    baseline_given: bool,
) -> String {
    let mut out = String::with_capacity(128 * 1024);
    page_start(&mut out, "version matrix");
    targets_header(&mut out, matrix);
    let areas: BTreeSet<&str> = runs
        .iter()
        .flat_map(|(_, r)| r.cases.iter().map(|c| c.area.as_str()))
        .collect();
    filters(&mut out, areas.into_iter(), baseline_given);
    matrix_table(&mut out, runs, matrix, baseline_given);
    for (name, results) in runs {
        let _ = writeln!(out, "<h2>target {}</h2>", escape(name));
        let by_area = group_by_area(results);
        cases_table(&mut out, "class=\"cases\"", &by_area, baseline_given);
    }
    page_end(&mut out);
    out
}

fn targets_header(out: &mut String, matrix: &Matrix) {
    out.push_str("<h1>metaconform version matrix</h1>\n<table id=\"targets\"><thead><tr><th>target</th><th>dialect</th><th>microversion</th><th>endpoint</th><th>passed</th><th>failed</th><th>skipped</th></tr></thead>\n");
    for t in &matrix.targets {
        let s = &t.summary;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.name),
            escape(&t.dialect),
            escape(t.microversion.as_deref().unwrap_or("none")),
            escape(&t.endpoint),
            if t.embedded { " (embedded)" } else { "" },
            s.passed,
            s.failed + s.errors,
            s.skipped
        );
    }
    let _ = writeln!(
        out,
        "</table>\n<p class=\"totals\">{} of {} cases differ between targets</p>",
        matrix.differing.len(),
        matrix.cases.len()
    );
}

/// The matrix: the differing cases in their own group, then the others,
/// each in catalogue order.
fn matrix_table(
    out: &mut String,
    runs: &[(&str, &RunResults)],
    matrix: &Matrix,
    baseline_given: bool,
) {
    out.push_str("<table id=\"matrix\" class=\"matrix\"><thead><tr><th>case</th>");
    for t in &matrix.targets {
        let _ = write!(out, "<th>{}</th>", escape(&t.name));
    }
    out.push_str("</tr></thead>\n");
    let rows = rows_by_id(runs);
    let differing: BTreeSet<&str> = matrix.differing.iter().map(String::as_str).collect();
    let groups = [
        ("differ", "differ between targets", true),
        ("same", "the same on every target", false),
    ];
    let columns = matrix.targets.len() + 1;
    for (key, title, wanted) in groups {
        let ids: Vec<&str> = order(runs)
            .into_iter()
            .filter(|id| differing.contains(id) == wanted)
            .collect();
        let _ = writeln!(
            out,
            "<tbody class=\"area\" data-group=\"{key}\"><tr class=\"area-head\"><th colspan=\"{columns}\">{title} ({})</th></tr>",
            ids.len()
        );
        for id in ids {
            let cells = rows.get(id).map(Vec::as_slice).unwrap_or_default();
            matrix_row(out, matrix, id, cells, wanted, baseline_given);
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
}

/// Case ids in the order the first target that ran each met it.
fn order<'a>(runs: &[(&str, &'a RunResults)]) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    runs.iter()
        .flat_map(|(_, r)| r.cases.iter().map(|c| c.id.as_str()))
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Each case id's results, one per target that ran it, with the target.
fn rows_by_id<'a>(
    runs: &[(&'a str, &'a RunResults)],
) -> BTreeMap<&'a str, Vec<(&'a str, &'a CaseResult)>> {
    let mut rows: BTreeMap<&str, Vec<(&str, &CaseResult)>> = BTreeMap::new();
    for (name, results) in runs {
        for case in &results.cases {
            rows.entry(case.id.as_str()).or_default().push((name, case));
        }
    }
    rows
}

fn matrix_row(
    out: &mut String,
    matrix: &Matrix,
    id: &str,
    cases: &[(&str, &CaseResult)],
    differs: bool,
    baseline_given: bool,
) {
    let Some((_, first)) = cases.first() else {
        return;
    };
    let join = |words: Vec<&str>| {
        let unique: BTreeSet<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
        unique.into_iter().collect::<Vec<_>>().join(" ")
    };
    let verdicts = join(cases.iter().map(|(_, c)| verdict_word(c.verdict)).collect());
    let standings = join(
        cases
            .iter()
            .map(|(_, c)| standing_key(Standing::of(c, baseline_given)))
            .collect(),
    );
    let _ = write!(
        out,
        "<tr class=\"case matrix-row{}\" data-area=\"{}\" data-verdict=\"{verdicts}\" data-standing=\"{standings}\"><td><code>{}</code> {}</td>",
        if differs { " differs" } else { "" },
        escape(&first.area),
        escape(id),
        escape(&first.name)
    );
    let row = matrix.cases.get(id);
    for t in &matrix.targets {
        match row.and_then(|r| r.get(&t.name)) {
            Some(cell) => {
                let _ = write!(
                    out,
                    "<td class=\"cell {}\">{}</td>",
                    verdict_word(cell.verdict),
                    escape(&cell.label())
                );
            }
            None => out.push_str("<td class=\"cell\">not run</td>"),
        }
    }
    out.push_str("</tr>\n");
}
