//! Two runs compared case by case (`metaconform diff OLD NEW`): what newly
//! fails, what was fixed, what still fails, what behaves differently under
//! the same verdict, and which cases were added or removed. The comparison
//! is of typed results (verdicts, the status and error name of every step's
//! answer), never of rendered text.
//!
//! "Behaviour changed" compares what the endpoint said to each step:
//! status and error name (a Nova fault's key, a Huawei `error_code`).
//! Bodies are not compared whole: they carry server ids and request ids
//! that differ between any two runs.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::endpoint::error_body;
use crate::run::results::{CaseClass, CaseResult, Purpose, RunResults, SkipKind, Verdict};

/// One case as a run saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSide {
    /// An advisory case is listed like any other but never gates.
    pub class: CaseClass,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_kind: Option<SkipKind>,
    /// Per step answer: `status` or `status error-name`.
    pub answers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A case that is in a category, with both sides where they exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<CaseSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<CaseSide>,
}

impl Entry {
    /// Whether this entry's case is required in the NEW run (or, removed,
    /// in the OLD one).
    pub fn gates(&self) -> bool {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .is_some_and(|side| side.class.is_required())
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultsDiff {
    /// Failing or erroring in NEW (or skipped for a reason that gates: a
    /// missing credential, a broken setup primitive), not in OLD; added
    /// cases included.
    pub new_failures: Vec<Entry>,
    /// Failing or erroring in OLD, passing in NEW.
    pub fixed: Vec<Entry>,
    /// Failing or erroring in both.
    pub still_failing: Vec<Entry>,
    /// Neither newly failing nor fixed, but a verdict or an answer differs
    /// (a pass became a skip, a step's 400 became a 409).
    pub changed: Vec<Entry>,
    /// Only in NEW.
    pub added: Vec<Entry>,
    /// Only in OLD.
    pub removed: Vec<Entry>,
    /// NEW was stopped by a signal: the cases it did not reach show as
    /// removed, and nothing about them is known.
    pub new_run_interrupted: bool,
}

impl ResultsDiff {
    /// Whether the NEW run fails a gate that only new failures close: a
    /// new failure of a required case (an advisory one is listed, marked,
    /// and does not gate).
    pub fn has_new_failures(&self) -> bool {
        self.new_failures.iter().any(Entry::gates)
    }
}

/// Compare `old` with `new`.
pub fn diff(old: &RunResults, new: &RunResults) -> ResultsDiff {
    let sides = |run: &RunResults| -> BTreeMap<String, CaseSide> {
        run.cases.iter().map(|c| (c.id.clone(), side(c))).collect()
    };
    let interrupted = new.run.interrupted;
    let (old, new) = (sides(old), sides(new));
    let mut out = ResultsDiff {
        new_run_interrupted: interrupted,
        ..ResultsDiff::default()
    };
    for (id, now) in &new {
        let was = old.get(id);
        let entry = Entry {
            id: id.clone(),
            old: was.cloned(),
            new: Some(now.clone()),
        };
        match was {
            None => {
                if failing(now) {
                    out.new_failures.push(entry.clone());
                }
                out.added.push(entry);
            }
            Some(was) => match (failing(was), failing(now)) {
                (false, true) => out.new_failures.push(entry),
                (true, false) if now.verdict == Verdict::Pass => out.fixed.push(entry),
                // failing in both, but gating only now (made required):
                // new to the gate
                (true, true) if now.class.is_required() && !was.class.is_required() => {
                    out.new_failures.push(entry)
                }
                (true, true) => out.still_failing.push(entry),
                _ if behaved_differently(was, now) => out.changed.push(entry),
                _ => {}
            },
        }
    }
    for (id, was) in &old {
        if !new.contains_key(id) {
            out.removed.push(Entry {
                id: id.clone(),
                old: Some(was.clone()),
                new: None,
            });
        }
    }
    out
}

/// Whether the endpoint or the verdict differs; a case's class changing
/// alone (older files have none) is not behaviour.
fn behaved_differently(was: &CaseSide, now: &CaseSide) -> bool {
    (was.verdict, was.skip_kind, &was.answers) != (now.verdict, now.skip_kind, &now.answers)
}

/// Failing, erroring, or skipped for a reason that gates a run.
fn failing(side: &CaseSide) -> bool {
    match side.verdict {
        Verdict::Fail | Verdict::Error => true,
        // listed for any class; whether it gates is `has_new_failures`'
        Verdict::Skip => side
            .skip_kind
            .is_some_and(|kind| kind.gates(CaseClass::Required)),
        Verdict::Pass => false,
    }
}

pub fn side(case: &CaseResult) -> CaseSide {
    let answers = case
        .exchanges
        .iter()
        .filter(|e| e.purpose == Purpose::Step)
        .map(|e| match &e.response {
            Some(r) => match error_name(&r.body) {
                Some(name) => format!("{} {name}", r.status),
                None => r.status.to_string(),
            },
            None => "no answer".to_string(),
        })
        .collect();
    CaseSide {
        class: case.class,
        verdict: case.verdict,
        skip_kind: case.skip_kind,
        answers,
        reason: super::failure::reason(case),
    }
}

/// The error's most specific name in a body: a Huawei code or Nova's
/// fault key ([`error_body::fault_name`]).
fn error_name(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    error_body::fault_name(&value)
}

/// How `diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    Markdown,
}

/// Render `d` in `format`.
pub fn render(d: &ResultsDiff, format: DiffFormat) -> String {
    match format {
        DiffFormat::Json => serde_json::to_string_pretty(d).unwrap_or_default() + "\n",
        DiffFormat::Human => render_text(d, false),
        DiffFormat::Markdown => render_text(d, true),
    }
}

fn sections(d: &ResultsDiff) -> [(&'static str, &Vec<Entry>); 6] {
    [
        ("new failures", &d.new_failures),
        ("fixed", &d.fixed),
        ("still failing", &d.still_failing),
        ("behaviour changed", &d.changed),
        ("added", &d.added),
        ("removed", &d.removed),
    ]
}

fn render_text(d: &ResultsDiff, markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        out.push_str("## metaconform diff\n\n| | cases |\n|---|---|\n");
        for (title, entries) in sections(d) {
            out.push_str(&format!("| {title} | {} |\n", entries.len()));
        }
    }
    for (title, entries) in sections(d) {
        if entries.is_empty() {
            continue;
        }
        out.push_str(&match markdown {
            true => format!("\n### {title} ({})\n\n", entries.len()),
            false => format!("{title} ({}):\n", entries.len()),
        });
        for entry in entries {
            let line = describe(entry);
            out.push_str(&match markdown {
                true => format!("- `{}`: {line}\n", entry.id),
                false => format!("  {}  {line}\n", entry.id),
            });
        }
    }
    let counts: Vec<String> = sections(d)
        .iter()
        .map(|(title, entries)| format!("{} {title}", entries.len()))
        .collect();
    if !markdown {
        out.push_str(&counts.join(", "));
        out.push('\n');
    }
    if d.new_run_interrupted {
        out.push_str("the new run was interrupted: the cases it did not reach show as removed\n");
    }
    out
}

fn describe(entry: &Entry) -> String {
    let show = |side: &CaseSide| {
        let verdict = format!("{:?}", side.verdict).to_lowercase();
        match side.answers.is_empty() {
            true => verdict,
            false => format!("{verdict} [{}]", side.answers.join(", ")),
        }
    };
    let line = match (&entry.old, &entry.new) {
        (Some(old), Some(new)) => format!("{} -> {}", show(old), show(new)),
        (None, Some(new)) => show(new),
        (Some(old), None) => show(old),
        (None, None) => String::new(),
    };
    match entry.gates() {
        true => line,
        false => format!("{line} (advisory: does not gate)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_of_both_families() {
        assert_eq!(
            error_name(r#"{"badRequest": {"code": 400, "message": "m"}}"#),
            Some("badRequest".into())
        );
        assert_eq!(
            error_name(r#"{"error_code": "Ecs.0605", "error_msg": "m"}"#),
            Some("Ecs.0605".into())
        );
        assert_eq!(error_name(r#"{"metadata": {"a": "1"}}"#), None);
        assert_eq!(error_name("<html>"), None);
    }

    fn run(cases: &[(&str, Verdict, Option<SkipKind>)], interrupted: bool) -> RunResults {
        use crate::run::results::{FORMAT_VERSION, RunInfo, Summary};
        RunResults {
            format_version: FORMAT_VERSION,
            run: RunInfo {
                dialect: "nova".into(),
                endpoint: "http://h".into(),
                embedded: true,
                started_at: "2026-01-01T00:00:00Z".into(),
                duration_ms: 1.0,
                metaconform_version: "0".into(),
                interrupted,
                partition: None,
                target: None,
                microversion: None,
                strict: false,
            },
            summary: Summary::default(),
            cases: cases
                .iter()
                .map(|(id, verdict, skip_kind)| CaseResult {
                    id: id.to_string(),
                    area: String::new(),
                    name: String::new(),
                    spec: String::new(),
                    class: CaseClass::Required,
                    verdict: *verdict,
                    failure: None,
                    skip_reason: None,
                    skip_kind: *skip_kind,
                    known_failure: None,
                    known_reason: None,
                    duration_ms: 0.0,
                    exchanges: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_pass_that_became_a_gating_skip_is_a_new_failure() {
        let old = run(
            &[("a", Verdict::Pass, None), ("b", Verdict::Pass, None)],
            false,
        );
        let new = run(
            &[
                ("a", Verdict::Skip, Some(SkipKind::Credentials)),
                ("b", Verdict::Skip, Some(SkipKind::Dialect)),
            ],
            false,
        );
        let d = diff(&old, &new);
        let ids = |e: &[Entry]| e.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.new_failures), ["a"]);
        assert_eq!(ids(&d.changed), ["b"]);
        assert!(d.has_new_failures());
    }

    #[test]
    fn a_class_change_alone_is_no_change_and_a_failure_made_required_is_new() {
        let old = run(
            &[
                ("quiet", Verdict::Pass, None),
                ("promoted", Verdict::Fail, None),
            ],
            false,
        );
        let new = old.clone();
        let mut old = old;
        for case in &mut old.cases {
            case.class = CaseClass::Advisory;
        }
        let d = diff(&old, &new);
        let ids = |e: &[Entry]| e.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert!(d.changed.is_empty(), "{:?}", ids(&d.changed));
        assert_eq!(ids(&d.new_failures), ["promoted"]);
        assert!(d.has_new_failures());
        // the other way round: failing in both, now advisory, does not gate
        let d = diff(&new, &old);
        assert_eq!(ids(&d.still_failing), ["promoted"]);
        assert!(!d.has_new_failures());
    }

    #[test]
    fn an_interrupted_new_run_is_flagged_and_its_missing_cases_removed() {
        let old = run(
            &[("a", Verdict::Pass, None), ("b", Verdict::Pass, None)],
            false,
        );
        let new = run(&[("a", Verdict::Pass, None)], true);
        let d = diff(&old, &new);
        assert!(d.new_run_interrupted && !d.has_new_failures());
        assert_eq!(d.removed.len(), 1);
        assert!(render(&d, DiffFormat::Human).contains("interrupted"));
    }
}
