//! The HTML report of a run (`run --html FILE`): one self-contained file
//! that fetches nothing (inline CSS and plain JS, no fonts, a strict
//! Content-Security-Policy of its own). The run's header (dialect,
//! endpoint, microversions, time, tool version), the totals, then one table
//! of case × verdict grouped by area, filtered by area and by verdict or
//! standing (new, known failure, fixed) in the page. Each failing case
//! expands to its typed failure (expected over got), its exchanges as
//! recorded (already redacted) and a curl repro of each, from the one
//! renderer ([`super::transcript`]).
//!
//! Every piece of text from the run goes through [`escape`]: bodies of
//! fuzzed and malformed requests hold `</script>`-like text, and they must
//! stay text. No run data is ever written inside the `<script>` or
//! `<style>` elements or inside an attribute other than escaped
//! `data-*` values.
//!
//! A multi-target run's page ([`render_targets`], `html/matrix.rs`) shows
//! the matrix (case × target) first, the cases that differ between targets
//! on top, then each target's table as above; the same filters apply.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::run::events::Event;
use crate::run::results::{CaseResult, RunResults, Verdict};

use super::failure::{Shown, cause_shown, sentence};
use super::reporter::{ReportError, Reporter, write_file};
use super::standing::{Standing, verdict_word};
use super::transcript::exchange;

/// The policy the page declares: nothing but its own inline style and
/// script.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");
/// Registered first, so a blocked load is counted even before the page is
/// read (`data-csp-violations` on `<html>`).
const WATCH_CSP: &str = "document.documentElement.dataset.cspViolations='0';document.addEventListener('securitypolicyviolation',function(){var d=document.documentElement.dataset;d.cspViolations=String(Number(d.cspViolations)+1);});";

/// Writes the HTML report when the run finishes.
pub struct HtmlWriter {
    pub path: PathBuf,
    pub header: Header,
}

/// What the page's header says beyond the results file.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// The profile's microversion range (`2.1 to 2.102`), if it has one.
    pub microversions: Option<String>,
    /// A baseline was given: failures it does not list are "new".
    pub baseline_given: bool,
}

impl Reporter for HtmlWriter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::RunFinished { results } => {
                write_file(&self.path, render(results, &self.header).as_bytes())
            }
            _ => Ok(()),
        }
    }
}

/// `text` as HTML text or attribute value: `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn render(results: &RunResults, header: &Header) -> String {
    let mut out = String::with_capacity(64 * 1024);
    page_start(&mut out, &results.run.dialect);
    run_header(&mut out, results, header);
    let by_area = group_by_area(results);
    filters(&mut out, by_area.keys().copied(), header.baseline_given);
    cases_table(&mut out, "id=\"cases\"", &by_area, header.baseline_given);
    page_end(&mut out);
    out
}

/// The document up to `<body>`: the policy, the style, the title.
fn page_start(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n<script>{WATCH_CSP}</script>\n<title>metaconform: {}</title>\n<style>{STYLE}</style></head>\n<body data-filters=\"pending\">\n",
        escape(title)
    );
}

/// The filter script and the end of the document.
fn page_end(out: &mut String) {
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
}

/// One run's cases by area, as a table with `attributes` (trusted text).
fn cases_table(
    out: &mut String,
    attributes: &str,
    by_area: &BTreeMap<&str, Vec<&CaseResult>>,
    baseline_given: bool,
) {
    let _ = writeln!(
        out,
        "<table {attributes}><thead><tr><th>case</th><th>verdict</th><th>status</th><th>spec</th><th>ms</th></tr></thead>"
    );
    for (area, cases) in by_area {
        area_rows(out, area, cases, baseline_given);
    }
    out.push_str("</table>\n");
}

fn group_by_area(results: &RunResults) -> BTreeMap<&str, Vec<&CaseResult>> {
    let mut by_area: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for case in &results.cases {
        by_area.entry(case.area.as_str()).or_default().push(case);
    }
    by_area
}

fn run_header(out: &mut String, results: &RunResults, header: &Header) {
    let run = &results.run;
    let s = &results.summary;
    let _ = writeln!(
        out,
        "<h1>metaconform report</h1>\n<dl class=\"run\"><dt>dialect</dt><dd id=\"dialect\">{}</dd><dt>endpoint</dt><dd>{}{}</dd><dt>microversions</dt><dd>{}</dd><dt>started</dt><dd>{}</dd><dt>duration</dt><dd>{:.1} s</dd><dt>metaconform</dt><dd>{}</dd><dt>baseline</dt><dd>{}</dd></dl>",
        escape(&run.dialect),
        escape(&run.endpoint),
        if run.embedded {
            " (embedded reference server)"
        } else {
            ""
        },
        escape(header.microversions.as_deref().unwrap_or("none")),
        escape(&run.started_at),
        run.duration_ms / 1000.0,
        escape(&run.metaconform_version),
        if header.baseline_given {
            "given: failures it lists are marked known, others new"
        } else {
            "none"
        },
    );
    let _ = writeln!(
        out,
        "<p class=\"totals\">{} passed, {} failed, {} errors, {} skipped, {} known failures, {} fixed{}</p>",
        s.passed,
        s.failed,
        s.errors,
        s.skipped,
        s.known_failures,
        s.fixed,
        if run.interrupted {
            " <strong>(interrupted)</strong>"
        } else {
            ""
        }
    );
}

fn filters<'a>(out: &mut String, areas: impl Iterator<Item = &'a str>, baseline_given: bool) {
    out.push_str("<div class=\"filters\"><label>Area <select id=\"area-filter\"><option value=\"\">all</option>");
    for area in areas {
        let area = escape(area);
        let _ = write!(out, "<option value=\"{area}\">{area}</option>");
    }
    out.push_str("</select></label> <label>Verdict <select id=\"verdict-filter\"><option value=\"\">all</option><option value=\"pass\">pass</option><option value=\"fail\">fail</option><option value=\"error\">error</option><option value=\"skip\">skip</option><option value=\"advisory\">advisory failures</option><option value=\"not-run\">required, not run</option>");
    if baseline_given {
        out.push_str("<option value=\"new\">new failures</option><option value=\"known\">known failures</option><option value=\"fixed\">fixed</option>");
    }
    out.push_str("</select></label> <span id=\"shown-count\">?</span> cases shown</div>\n");
}

fn area_rows(out: &mut String, area: &str, cases: &[&CaseResult], baseline_given: bool) {
    let area = escape(area);
    let _ = writeln!(
        out,
        "<tbody class=\"area\" data-area=\"{area}\"><tr class=\"area-head\"><th colspan=\"5\">{area} ({})</th></tr>",
        cases.len()
    );
    for case in cases {
        case_row(out, &area, case, Standing::of(case, baseline_given));
    }
    out.push_str("</tbody>\n");
}

fn standing_key(standing: Standing) -> &'static str {
    match standing {
        Standing::Known => "known",
        Standing::New => "new",
        Standing::Failing => "failing",
        Standing::Advisory => "advisory",
        Standing::NotRun => "not-run",
        Standing::Fixed => "fixed",
        Standing::Quiet => "",
    }
}

fn case_row(out: &mut String, area: &str, case: &CaseResult, standing: Standing) {
    let verdict = verdict_word(case.verdict);
    let _ = write!(
        out,
        "<tr class=\"case {verdict}\" data-area=\"{area}\" data-verdict=\"{verdict}\" data-standing=\"{}\"><td><code>{}</code> {}",
        standing_key(standing),
        escape(&case.id),
        escape(&case.name)
    );
    match case.verdict {
        Verdict::Fail | Verdict::Error => failure_details(out, case),
        Verdict::Skip => {
            let why = case.skip_reason.as_deref().unwrap_or("");
            let _ = write!(out, "<div class=\"why\">{}</div>", escape(why));
        }
        Verdict::Pass => {}
    }
    let _ = writeln!(
        out,
        "</td><td class=\"verdict\">{verdict}</td><td class=\"standing {}\">{}</td><td>§{}</td><td>{:.1}</td></tr>",
        standing_key(standing),
        escape(standing.label()),
        escape(&case.spec),
        case.duration_ms
    );
}

/// A failing case's expandable part: its failure, then each exchange with
/// its curl repro.
fn failure_details(out: &mut String, case: &CaseResult) {
    let Some(failure) = &case.failure else {
        return;
    };
    let _ = write!(
        out,
        "<details><summary>{}</summary>",
        escape(&first_line(&sentence(failure)))
    );
    if let Some(reason) = &case.known_reason {
        let _ = write!(out, "<p>Baseline: {}</p>", escape(reason));
    }
    out.push_str("<ul class=\"problems\">");
    for shown in cause_shown(&failure.cause) {
        match shown {
            Shown::Pair {
                expected,
                joint,
                got,
            } => {
                let _ = write!(
                    out,
                    "<li><span class=\"expected\">{}</span><br><span class=\"got\">{joint} {}</span></li>",
                    escape(&expected),
                    escape(&got)
                );
            }
            Shown::Line(line) => {
                let _ = write!(out, "<li><pre>{}</pre></li>", escape(&line));
            }
        }
    }
    out.push_str("</ul>");
    for record in &case.exchanges {
        let mut text = String::new();
        exchange(&mut text, record);
        let _ = write!(out, "<pre class=\"exchange\">{}</pre>", escape(&text));
    }
    out.push_str("</details>");
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

mod matrix;
pub use matrix::render_targets;

#[cfg(test)]
mod tests;
