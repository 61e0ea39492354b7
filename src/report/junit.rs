//! The JUnit report of a run (written by [`super::junit_xml`]; schema:
//! `src/report/junit.xsd`).
//!
//! One `<testsuite>` per area (`metaconform.<area>`), one `<testcase>` per
//! case (name = case id, classname = `metaconform.<area>`); suites carry
//! `tests`, `failures`, `errors` and `skipped` counts and `<testsuites>` the
//! totals. A broken expectation is a `<failure>`, transport or setup trouble
//! an `<error>`; a known failure is reported as `<skipped>` with its reason
//! (as pytest reports xfail), and so is an advisory case's failure; a
//! required case skipped for a reason that gates (a missing credential, a
//! broken setup primitive, a `skip:` in its file) is a `<failure>`: the
//! file agrees with the exit code.
//! `<system-out>` holds, for a failing, erroring or known-failing case, the
//! whole transcript with a curl repro per request; for any other case only
//! its request lines (`step 1: PUT URL -> 200`): every exchange of every
//! case is in `results.json`, and a passing catalogue's JUnit file stays
//! small.
//!
//! A multi-target run ([`render_targets`]) writes one `<testsuite>` per
//! target instead, named after the target, with the same `<testcase>`s
//! (ids and classnames unchanged) inside.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::run::events::Event;
use crate::run::results::{CaseResult, KnownStatus, RunResults, Verdict};

use super::junit_xml::{self, Problem, ProblemKind, Suite};
use super::reporter::{ReportError, Reporter, write_file};
use super::transcript::{case_transcript, request_lines};

pub use super::junit_xml::xml_text;

/// Writes the JUnit file when the run finishes.
pub struct JunitWriter {
    pub path: PathBuf,
}

impl Reporter for JunitWriter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::RunFinished { results } => write_file(&self.path, &render(results)?),
            _ => Ok(()),
        }
    }
}

/// The JUnit XML of a run.
pub fn render(results: &RunResults) -> Result<Vec<u8>, ReportError> {
    let mut by_area: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for case in &results.cases {
        by_area.entry(case.area.as_str()).or_default().push(case);
    }
    // An interrupted run marks every suite, and always has one suite to
    // carry the mark, even when no case ran.
    let properties: Vec<(String, String)> = match results.run.interrupted {
        true => vec![("interrupted".to_string(), "true".to_string())],
        false => Vec::new(),
    };
    let mut suites: Vec<Suite> = by_area
        .into_iter()
        .map(|(area, cases)| Suite {
            name: format!("metaconform.{area}"),
            timestamp: Some(results.run.started_at.clone()),
            properties: properties.clone(),
            cases: cases.into_iter().map(testcase).collect(),
        })
        .collect();
    if results.run.interrupted {
        suites.push(Suite {
            name: "metaconform.run".to_string(),
            timestamp: Some(results.run.started_at.clone()),
            properties,
            cases: Vec::new(),
        });
    }
    Ok(junit_xml::render("metaconform", &suites).into_bytes())
}

/// The JUnit XML of a multi-target run: one suite per target (`name`,
/// its results), in the order given.
pub fn render_targets(runs: &[(&str, &RunResults)]) -> Vec<u8> {
    let suites: Vec<Suite> = runs
        .iter()
        .map(|(name, results)| Suite {
            name: name.to_string(),
            timestamp: Some(results.run.started_at.clone()),
            properties: target_properties(results),
            cases: results.cases.iter().map(testcase).collect(),
        })
        .collect();
    junit_xml::render("metaconform", &suites).into_bytes()
}

/// What a target's suite says of its run: dialect, microversion, endpoint,
/// and whether it was interrupted.
fn target_properties(results: &RunResults) -> Vec<(String, String)> {
    let run = &results.run;
    let mut properties = vec![
        ("dialect".to_string(), run.dialect.clone()),
        ("endpoint".to_string(), run.endpoint.clone()),
    ];
    if let Some(microversion) = &run.microversion {
        properties.push(("microversion".to_string(), microversion.clone()));
    }
    if run.interrupted {
        properties.push(("interrupted".to_string(), "true".to_string()));
    }
    properties
}

fn testcase(case: &CaseResult) -> junit_xml::Case {
    let reason = super::failure::reason(case).unwrap_or_default();
    let problem = |kind, type_: &str, message: String, detail: Option<String>| {
        Some(Problem {
            kind,
            type_: type_.to_string(),
            message,
            detail,
        })
    };
    let failing = matches!(case.verdict, Verdict::Fail | Verdict::Error);
    let problem = match (case.verdict, case.known_failure) {
        (Verdict::Fail | Verdict::Error, Some(KnownStatus::StillFailing)) => problem(
            ProblemKind::Skipped,
            "known-failure",
            format!(
                "known failure ({}): {reason}",
                case.known_reason.as_deref().unwrap_or("")
            ),
            None,
        ),
        (Verdict::Fail | Verdict::Error, _) if !case.class.is_required() => problem(
            ProblemKind::Skipped,
            "advisory-failure",
            format!("advisory case, does not gate: {reason}"),
            None,
        ),
        (Verdict::Pass, _) => None,
        (Verdict::Skip, _) if case.gates() => problem(
            ProblemKind::Failure,
            "required-case-not-run",
            format!("required case not run: {reason}"),
            None,
        ),
        (Verdict::Fail, _) => problem(
            ProblemKind::Failure,
            "conformance",
            reason.clone(),
            Some(reason),
        ),
        (Verdict::Error, _) => problem(
            ProblemKind::Error,
            "setup-or-transport",
            reason.clone(),
            Some(reason),
        ),
        (Verdict::Skip, _) => problem(
            ProblemKind::Skipped,
            &case
                .skip_kind
                .map_or("skip".to_string(), |k| format!("{k:?}").to_lowercase()),
            reason,
            None,
        ),
    };
    let mut out = transcript_header(case);
    if failing {
        out.push_str(&case_transcript(case));
    } else {
        out.push_str(&request_lines(case));
    }
    junit_xml::Case {
        name: case.id.clone(),
        classname: format!("metaconform.{}", case.area),
        seconds: case.duration_ms / 1000.0,
        problem,
        system_out: Some(out),
    }
}

fn transcript_header(case: &CaseResult) -> String {
    let mut out = format!("{} (spec §{})\n", case.name, case.spec);
    if case.known_failure == Some(KnownStatus::Fixed) {
        out.push_str(&format!(
            "FIXED: listed as a known failure ({}) but passes\n",
            case.known_reason.as_deref().unwrap_or("")
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{
        ExchangeRecord, Failure, Place, Purpose, RequestRecord, ResponseRecord, RunInfo, SkipKind,
        Summary,
    };

    fn case(id: &str, verdict: Verdict, reason: &str) -> CaseResult {
        CaseResult {
            id: id.into(),
            area: "charset".into(),
            name: "a case".into(),
            spec: "2.1".into(),
            class: crate::run::results::CaseClass::Required,
            verdict,
            failure: (verdict != Verdict::Skip).then(|| Failure::trouble(Place::Case, reason)),
            skip_reason: (verdict == Verdict::Skip).then(|| reason.to_string()),
            skip_kind: (verdict == Verdict::Skip).then_some(SkipKind::Dialect),
            known_failure: None,
            known_reason: None,
            duration_ms: 1.5,
            exchanges: vec![ExchangeRecord {
                purpose: Purpose::Step,
                step: Some(1),
                token_var: Some("OS_TOKEN".into()),
                request: RequestRecord {
                    method: "GET".into(),
                    url: "http://h/x".into(),
                    headers: vec![("X-Auth-Token".into(), "$OS_TOKEN".into())],
                    body: String::new(),
                    body_hex: None,
                },
                response: Some(ResponseRecord {
                    status: 400,
                    headers: vec![],
                    body: "bad \u{0}\u{1b} ]]> <x> & \u{fffe}".into(),
                    body_hex: None,
                }),
                error: None,
                elapsed_ms: 0.5,
            }],
        }
    }

    fn results(cases: Vec<CaseResult>) -> RunResults {
        RunResults {
            format_version: 1,
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
                microversion: None,
                strict: false,
            },
            summary: Summary::default(),
            cases,
        }
    }

    #[test]
    fn verdicts_become_failure_error_and_skipped() {
        let xml = render(&results(vec![
            case("c-fail", Verdict::Fail, "expected 200, got 400"),
            case("c-error", Verdict::Error, "setup: transport"),
            case("c-skip", Verdict::Skip, "no lock"),
            case("c-pass", Verdict::Pass, ""),
        ]))
        .unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert!(
            xml.contains(r#"<failure type="conformance" message="expected 200, got 400""#),
            "{xml}"
        );
        assert!(xml.contains("<error type=\"setup-or-transport\""), "{xml}");
        assert!(
            xml.contains(r#"<skipped type="dialect" message="no lock""#),
            "{xml}"
        );
        assert!(xml.contains(r#"classname="metaconform.charset""#), "{xml}");
        assert!(xml.contains("curl -sS -i -g -X GET"), "{xml}");
    }

    #[test]
    fn a_passing_case_keeps_its_request_lines_only_and_suites_count_skips() {
        let xml = render(&results(vec![
            case("c-pass", Verdict::Pass, ""),
            case("c-skip", Verdict::Skip, "no lock"),
            case("c-skip2", Verdict::Skip, "no reader"),
        ]))
        .unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.contains("step 1: GET http://h/x -> 400"), "{xml}");
        assert!(!xml.contains("curl") && !xml.contains("bad "), "{xml}");
        assert!(
            xml.contains(r#"<testsuite name="metaconform.charset" tests="3" failures="0" errors="0" skipped="2""#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testsuites name="metaconform" tests="3" failures="0" errors="0" skipped="2""#
            ),
            "{xml}"
        );
    }

    #[test]
    fn a_multi_target_file_has_a_suite_per_target_with_the_same_ids() {
        let mut old = results(vec![case("c-pass", Verdict::Pass, "")]);
        old.run.microversion = Some("2.101".into());
        let new = results(vec![case("c-pass", Verdict::Fail, "expected 200, got 400")]);
        let xml = String::from_utf8(render_targets(&[("v2.101", &old), ("v2.102", &new)])).unwrap();
        assert!(
            xml.contains(r#"<testsuite name="v2.101" tests="1" failures="0""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="v2.102" tests="1" failures="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<property name="microversion" value="2.101"/>"#),
            "{xml}"
        );
        assert_eq!(
            xml.matches(r#"<testcase name="c-pass" classname="metaconform.charset""#)
                .count(),
            2,
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuites name="metaconform" tests="2" failures="1""#),
            "{xml}"
        );
    }

    #[test]
    fn control_characters_and_cdata_ends_cannot_break_the_file() {
        let xml = String::from_utf8(render(&results(vec![case("c", Verdict::Fail, "r")])).unwrap())
            .unwrap();
        assert!(
            !xml.chars().any(|c| c < ' ' && !"\t\n\r".contains(c)),
            "{xml:?}"
        );
        assert!(
            xml.contains(r"bad \x00\x1b ]]]]><![CDATA[> <x> & \u{fffe}"),
            "{xml}"
        );
        // The `]]>` split leaves exactly one CDATA end per section.
        let opens = xml.matches("<![CDATA[").count();
        let closes = xml.matches("]]>").count();
        assert_eq!(opens, closes, "{xml}");
    }
}
