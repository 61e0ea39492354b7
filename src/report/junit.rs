//! The JUnit XML report, in the dialect Jenkins and GitLab read (schema:
//! `src/report/junit.xsd`).
//!
//! Written with the junit-report crate, which expresses all this needs:
//! `<failure>` versus `<error>`, `<skipped message=...>`, and a
//! `<system-out>` per test case. One `<testsuite>` per area
//! (`metaconform.<area>`), one `<testcase>` per case (name = case id,
//! classname = `metaconform.<area>`). A broken expectation is a `<failure>`,
//! transport or setup trouble an `<error>`; a known failure is reported as
//! `<skipped>` with its reason (as pytest reports xfail), so the file agrees
//! with the exit code. `<system-out>` holds the transcript and a curl repro
//! per request. Whatever bytes the endpoint sent, the file is valid XML:
//! characters XML 1.0 forbids are replaced by `\xHH` text, and `]]>` is split
//! across CDATA sections.

use std::collections::BTreeMap;
use std::path::PathBuf;

use junit_report::{Report, TestCase, TestResult, TestSuite};

use crate::run::events::{ReportError, Reporter, write_file};
use crate::run::results::{CaseResult, KnownStatus, RunResults, Verdict};

use super::transcript::case_transcript;

/// Writes the JUnit file when the run finishes.
pub struct JunitWriter {
    pub path: PathBuf,
}

impl Reporter for JunitWriter {
    fn finished(&mut self, results: &RunResults) -> Result<(), ReportError> {
        write_file(&self.path, &render(results)?)
    }
}

/// The JUnit XML of a run.
pub fn render(results: &RunResults) -> Result<Vec<u8>, ReportError> {
    let mut by_area: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for case in &results.cases {
        by_area.entry(case.area.as_str()).or_default().push(case);
    }
    let mut report = Report::new();
    for (area, cases) in by_area {
        let mut suite = TestSuite::new(&xml_text(&format!("metaconform.{area}")));
        suite.add_testcases(cases.into_iter().map(testcase));
        report.add_testsuite(suite);
    }
    if results.run.interrupted {
        // Always one suite to carry the mark, even when no case ran.
        let mut suite = TestSuite::new("metaconform.run");
        suite.set_system_out(&format!(
            "interrupted by a signal: {} case(s) ran, the others did not",
            results.cases.len()
        ));
        report.add_testsuite(suite);
    }
    let mut out = Vec::new();
    report
        .write_xml(&mut out)
        .map_err(|e| ReportError::Render {
            what: "JUnit XML",
            message: e.to_string(),
        })?;
    if results.run.interrupted {
        out = with_suite_property(&out, "interrupted", "true");
    }
    Ok(out)
}

/// `xml` with `<properties><property name=.. value=../></properties>` as
/// the first child of every `<testsuite>` (where the schema puts it;
/// junit-report 0.9 writes no properties). Every suite written here has
/// children, so each opening tag ends with `>`, and attribute values never
/// hold a raw `>` (the writer escapes it).
pub fn with_suite_property(xml: &[u8], name: &str, value: &str) -> Vec<u8> {
    let property = format!(r#"<properties><property name="{name}" value="{value}"/></properties>"#);
    let text = String::from_utf8_lossy(xml);
    let mut out = String::with_capacity(text.len() + 128);
    let mut rest: &str = &text;
    while let Some(start) = rest.find("<testsuite ") {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let close = start + end + 1;
        out.push_str(&rest[..close]);
        if !rest[..close].ends_with("/>") {
            out.push_str(&property);
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out.into_bytes()
}

fn testcase(case: &CaseResult) -> TestCase {
    let time = time::Duration::seconds_f64(case.duration_ms / 1000.0);
    let reason = xml_text(case.reason.as_deref().unwrap_or(""));
    let result = match (case.verdict, case.known_failure) {
        (Verdict::Fail | Verdict::Error, Some(KnownStatus::StillFailing)) => {
            TestResult::SkippedWithCause {
                type_: "known-failure".into(),
                message: xml_text(&format!(
                    "known failure ({}): {}",
                    case.known_reason.as_deref().unwrap_or(""),
                    case.reason.as_deref().unwrap_or("")
                )),
                cause: None,
            }
        }
        (Verdict::Pass, _) => TestResult::Success,
        (Verdict::Fail, _) => TestResult::Failure {
            type_: "conformance".into(),
            message: reason.clone(),
            cause: Some(cdata(&reason)),
        },
        (Verdict::Error, _) => TestResult::Error {
            type_: "setup-or-transport".into(),
            message: reason.clone(),
            cause: Some(cdata(&reason)),
        },
        (Verdict::Skip, _) => TestResult::SkippedWithCause {
            type_: case
                .skip_kind
                .map_or("skip".to_string(), |k| format!("{k:?}").to_lowercase()),
            message: reason,
            cause: None,
        },
    };
    let mut out = transcript_header(case);
    out.push_str(&case_transcript(case));
    TestCase {
        name: xml_text(&case.id),
        time,
        result,
        classname: Some(xml_text(&format!("metaconform.{}", case.area))),
        filepath: None,
        system_out: Some(cdata(&xml_text(&out))),
        system_err: None,
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

/// `text` with every character XML 1.0 forbids written as `\xHH` (or
/// `\u{HHHH}`), so any byte an endpoint sent stays readable and legal.
pub fn xml_text(text: &str) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if allowed(c) {
                c.to_string()
            } else if (c as u32) < 0x100 {
                format!("\\x{:02x}", c as u32)
            } else {
                format!("\\u{{{:04x}}}", c as u32)
            }
        })
        .collect()
}

/// `text` safe inside one CDATA section: `]]>` is split so the section
/// does not end early.
fn cdata(text: &str) -> String {
    text.replace("]]>", "]]]]><![CDATA[>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{
        ExchangeRecord, Purpose, RequestRecord, ResponseRecord, RunInfo, SkipKind, Summary,
    };

    fn case(id: &str, verdict: Verdict, reason: &str) -> CaseResult {
        CaseResult {
            id: id.into(),
            area: "charset".into(),
            name: "a case".into(),
            spec: "2.1".into(),
            verdict,
            reason: Some(reason.into()),
            skip_kind: (verdict == Verdict::Skip).then_some(SkipKind::Dialect),
            step: None,
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
    fn control_characters_and_cdata_ends_cannot_break_the_file() {
        let xml = String::from_utf8(render(&results(vec![case("c", Verdict::Pass, "")])).unwrap())
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
