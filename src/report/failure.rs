//! A failed or erred case rendered for people, from its typed
//! [`Failure`]: the one-line sentence (JUnit messages, the terminal's
//! problem lines, `diff`) and the terminal's block (which case and step,
//! each broken expectation as `expected` over `got`, the request and answer
//! of the step that broke, and a curl repro of it).
//!
//! Rendered from a [`CaseResult`] alone, so it shows exactly what the
//! reports hold (already redacted). Nothing here is ever parsed back.

use std::fmt::Write as _;

use crate::run::check::snippet;
use crate::run::results::{
    CaseResult, Cause, ExchangeRecord, Failure, HeaderRule, Place, Problem, Purpose, StoredMap,
    Verdict,
};

use super::transcript::curl;

/// Characters of a response body shown before cutting.
const SHOWN_BODY: usize = 300;

/// Whether to colour the verdict word (ANSI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    On,
    Off,
}

/// One broken expectation as shown: what was expected over what came back
/// (`joint` is `got`, `read back` or `it is`), or a line of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Pair {
        expected: String,
        joint: &'static str,
        got: String,
    },
    Line(String),
}

/// Why `result` did not pass, in one sentence: its failure, or why it was
/// skipped; `None` for a pass.
pub fn reason(result: &CaseResult) -> Option<String> {
    match (&result.failure, &result.skip_reason) {
        (Some(failure), _) => Some(sentence(failure)),
        (None, Some(why)) => Some(why.clone()),
        (None, None) => None,
    }
}

/// `failure` as one sentence: `step 2: (merge) expected status 409, got
/// 200; expected error code conflictingRequest, got none`.
pub fn sentence(failure: &Failure) -> String {
    let mut out = match &failure.at {
        Place::Setup => "setup: ".to_string(),
        Place::Step { step, op } => format!("step {step}: ({op}) "),
        Place::Cleanup => "cleanup: ".to_string(),
        Place::Case => String::new(),
    };
    out.push_str(&cause_lines(&failure.cause).join("; "));
    if let Some(cleanup) = &failure.cleanup {
        let _ = write!(out, " (and cleanup: {cleanup})");
    }
    out
}

/// Each part of `cause` as shown: a broken expectation as `expected` over
/// `got`, anything else as a line (the Markdown and HTML tables).
pub fn cause_shown(cause: &Cause) -> Vec<Shown> {
    match cause {
        Cause::Broken { problems, stored } => {
            problems.iter().map(|p| shown(p, stored.as_ref())).collect()
        }
        other => cause_lines(other).into_iter().map(Shown::Line).collect(),
    }
}

/// Each part of `cause` as a line: a broken expectation, a message.
fn cause_lines(cause: &Cause) -> Vec<String> {
    match cause {
        Cause::Broken { problems, stored } => problems
            .iter()
            .map(|p| match shown(p, stored.as_ref()) {
                Shown::Pair {
                    expected,
                    joint,
                    got,
                } => format!("{expected}, {joint} {got}"),
                Shown::Line(line) => line,
            })
            .collect(),
        Cause::Trouble { message } => vec![message.clone()],
        Cause::Finding {
            summary,
            detail: Some(detail),
        } => vec![format!("{summary}\n\n{}", detail.trim_end())],
        Cause::Finding {
            summary,
            detail: None,
        } => vec![summary.clone()],
        Cause::LegacyReason { text, .. } => vec![text.clone()],
    }
}

/// How `problem` is shown; `stored` is the map read back, if it was.
pub fn shown(problem: &Problem, stored: Option<&StoredMap>) -> Shown {
    let pair = |expected: String, joint, got: String| Shown::Pair {
        expected,
        joint,
        got,
    };
    let read_back = || stored.map_or("nothing".to_string(), map_text);
    match problem {
        Problem::Status { expected, got } => pair(
            format!("expected status {}", codes_text(expected)),
            "got",
            got.to_string(),
        ),
        Problem::Outcome {
            outcome,
            expected,
            expected_code,
            got,
            got_codes,
        } => pair(
            format!(
                "expected outcome {outcome} ({}{})",
                if expected.is_empty() {
                    "no code: the request addresses no operation of the dialect".to_string()
                } else {
                    codes_text(expected)
                },
                expected_code
                    .as_ref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            ),
            "got",
            match got_codes.as_slice() {
                [] => got.to_string(),
                codes => format!("{got} {}", codes.join(" / ")),
            },
        ),
        Problem::ServerError { got } => Shown::Line(format!(
            "got {got}: a 5xx answer is a server error, never a pass (list the code in `status` if it is expected)"
        )),
        Problem::LoneSurrogates { count } => Shown::Line(format!(
            "the endpoint stored and returned {count} unpaired surrogate escape(s) (\\uD800-\\uDFFF without a pair): no Unicode string holds them"
        )),
        Problem::NotJson { got } => pair("expected a JSON body".into(), "got", format!("{got:?}")),
        Problem::Body { expected, got } => pair(
            format!("expected body {}", json_snippet(expected)),
            "got",
            json_snippet(got),
        ),
        Problem::BodyContains { expected, got } => pair(
            format!("expected body containing {}", json_snippet(expected)),
            "got",
            json_snippet(got),
        ),
        Problem::Header {
            name,
            expected,
            got,
        } => header(name, expected, got.as_deref()),
        Problem::Message { expected, got } => pair(
            format!("expected a message containing '{expected}'"),
            "got",
            format!("{got:?}"),
        ),
        Problem::ErrorCode { expected, got } => pair(
            format!("expected error code {expected}"),
            "got",
            if got.is_empty() {
                "none".to_string()
            } else {
                got.join(" / ")
            },
        ),
        Problem::Stored { expected } => pair(
            format!("expected stored map {}", map_text(expected)),
            "read back",
            read_back(),
        ),
        Problem::StoredContains { missing } => pair(
            format!("expected stored map to contain {}", map_text(missing)),
            "read back",
            read_back(),
        ),
        Problem::StoredCount { expected, got } => pair(
            format!("expected {expected} stored items"),
            "read back",
            got.to_string(),
        ),
        Problem::Unreadable { message } => Shown::Line(message.clone()),
        Problem::Tolerated { why } => Shown::Line(format!(
            "tolerated, failed under --strict: the answer matches a `tolerate` entry of the case ({why}), not its `expect`:"
        )),
    }
}

fn header(name: &str, expected: &HeaderRule, got: Option<&str>) -> Shown {
    let quoted = got.map_or("none".to_string(), |v| format!("'{v}'"));
    let (expected, joint, got) = match expected {
        HeaderRule::Present => (format!("expected header {name}"), "it is", "absent".into()),
        HeaderRule::Absent => (format!("expected no header {name}"), "got", quoted),
        HeaderRule::Equals(value) => (format!("expected header {name}: '{value}'"), "got", quoted),
    };
    Shown::Pair {
        expected,
        joint,
        got,
    }
}

fn codes_text(codes: &[u16]) -> String {
    let list: Vec<String> = codes.iter().map(u16::to_string).collect();
    list.join(" or ")
}

fn json_snippet(value: &serde_json::Value) -> String {
    snippet(value.to_string().as_bytes())
}

fn map_text(map: &StoredMap) -> String {
    const SHOWN: usize = 8;
    let mut parts: Vec<String> = map
        .iter()
        .take(SHOWN)
        .map(|(k, v)| format!("{k:?}: {v:?}"))
        .collect();
    if map.len() > SHOWN {
        parts.push(format!("... ({} items)", map.len()));
    }
    format!("{{{}}}", parts.join(", "))
}

/// The block for a failed or erred case; `None` for any other verdict.
pub fn block(result: &CaseResult, colour: Colour) -> Option<String> {
    let word = match result.verdict {
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
        Verdict::Pass | Verdict::Skip => return None,
    };
    let mut out = String::new();
    let word = match colour {
        Colour::On => format!("\x1b[1;31m{word}\x1b[0m"),
        Colour::Off => word.to_string(),
    };
    let standing = match (result.known_failure, result.class.is_required()) {
        (Some(_), _) => " (known failure)",
        (None, false) => " (advisory: does not gate)",
        (None, true) => "",
    };
    let _ = writeln!(
        out,
        "{word} {}{standing}: {} (spec §{})",
        result.id, result.name, result.spec
    );
    match &result.failure {
        Some(failure) => failure_lines(&mut out, failure),
        None => {
            let _ = writeln!(out, "    no reason recorded");
        }
    }
    if let Some(line) = setup_line(result) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(record) = culprit(result) {
        exchange(&mut out, record);
    }
    Some(out)
}

/// Where it went wrong, then each broken expectation (expected over got)
/// or message.
fn failure_lines(out: &mut String, failure: &Failure) {
    let place = match &failure.at {
        Place::Setup => Some("setup".to_string()),
        Place::Step { step, op } => Some(format!("step {step} ({op})")),
        Place::Cleanup => Some("cleanup".to_string()),
        Place::Case => None,
    };
    if let Some(place) = place {
        let _ = writeln!(out, "  {place}");
    }
    let problems: Vec<Shown> = match &failure.cause {
        Cause::Broken { problems, stored } => {
            problems.iter().map(|p| shown(p, stored.as_ref())).collect()
        }
        cause => cause_lines(cause).into_iter().map(Shown::Line).collect(),
    };
    for problem in problems {
        match problem {
            Shown::Pair {
                expected,
                joint,
                got,
            } => {
                let _ = writeln!(out, "    {expected}");
                let _ = writeln!(out, "    {joint:>width$} {got}", width = "expected".len());
            }
            Shown::Line(text) => {
                // a finding's account runs over lines: each indented
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
    }
    if let Some(cleanup) = &failure.cleanup {
        let _ = writeln!(out, "    and cleanup: {cleanup}");
    }
}

/// Setup requests shown before the repro, so a reader knows what state the
/// server was brought to (`setup: PUT …/metadata 200; POST …/action
/// {"lock":null} 202`).
fn setup_line(result: &CaseResult) -> Option<String> {
    const SHOWN: usize = 6;
    let setup: Vec<&ExchangeRecord> = result
        .exchanges
        .iter()
        .filter(|r| r.purpose == Purpose::Setup && r.request.method != "GET")
        .collect();
    if setup.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = setup
        .iter()
        .take(SHOWN)
        .map(|r| {
            let path = r.request.url.split('?').next().unwrap_or_default();
            let tail = path.rsplit('/').next().unwrap_or_default();
            let status = r
                .response
                .as_ref()
                .map_or("no answer".to_string(), |a| a.status.to_string());
            let body: String = r.request.body.chars().take(60).collect();
            let body = if tail == "action" || r.request.body.len() <= 60 {
                format!(" {body}")
            } else {
                " {…}".to_string()
            };
            format!("{} …/{tail}{} {status}", r.request.method, body.trim_end())
        })
        .collect();
    if setup.len() > SHOWN {
        parts.push(format!("… {} more", setup.len() - SHOWN));
    }
    Some(format!("setup: {}", parts.join("; ")))
}

/// The exchange to show: the last one of the failing step (its read-back
/// included), else the last one of the case.
fn culprit(result: &CaseResult) -> Option<&ExchangeRecord> {
    let of_step = result.failed_step().and_then(|step| {
        result
            .exchanges
            .iter()
            .rev()
            .find(|r| r.step == Some(step) && r.purpose != Purpose::Cleanup)
    });
    of_step.or(result.exchanges.last())
}

fn exchange(out: &mut String, record: &ExchangeRecord) {
    let request = &record.request;
    let _ = writeln!(out, "  > {} {}", request.method, request.url);
    match (&record.response, &record.error) {
        (Some(response), _) => {
            let body: String = response.body.chars().take(SHOWN_BODY).collect();
            let cut = if response.body.chars().count() > SHOWN_BODY {
                "…"
            } else {
                ""
            };
            let _ = writeln!(out, "  < {} {body}{cut}", response.status);
        }
        (None, Some(error)) => {
            let _ = writeln!(out, "  ! {error}");
        }
        (None, None) => {}
    }
    let _ = writeln!(out, "  repro: {}", curl(record));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{RequestRecord, ResponseRecord};

    fn record(step: usize, purpose: Purpose, status: u16) -> ExchangeRecord {
        ExchangeRecord {
            purpose,
            step: Some(step),
            token_var: Some("OS_TOKEN".into()),
            request: RequestRecord {
                method: "POST".into(),
                url: format!("http://h/v2.1/p/servers/s/metadata?n={step}"),
                headers: vec![("X-Auth-Token".into(), "$OS_TOKEN".into())],
                body: r#"{"metadata": {"b": "2"}}"#.into(),
                body_hex: None,
            },
            response: Some(ResponseRecord {
                status,
                headers: Vec::new(),
                body: r#"{"metadata": {"a": "1", "b": "2"}}"#.into(),
                body_hex: None,
            }),
            error: None,
            elapsed_ms: 1.0,
        }
    }

    fn lock_action() -> ExchangeRecord {
        let mut r = record(0, Purpose::Setup, 202);
        r.step = None;
        r.request.url = "http://h/v2.1/p/servers/s/action".into();
        r.request.body = r#"{"lock":null}"#.into();
        r
    }

    fn at_step(step: usize, op: &str, problems: Vec<Problem>) -> Failure {
        Failure::new(
            Place::Step {
                step,
                op: op.into(),
            },
            Cause::Broken {
                problems,
                stored: None,
            },
        )
    }

    fn failed(failure: Failure, exchanges: Vec<ExchangeRecord>) -> CaseResult {
        CaseResult {
            id: "states.locked.owner.merge".into(),
            area: "states".into(),
            name: "owner cannot merge on a locked server".into(),
            spec: "4.2".into(),
            class: crate::run::results::CaseClass::Required,
            verdict: Verdict::Fail,
            failure: Some(failure),
            skip_reason: None,
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 1.0,
            exchanges,
        }
    }

    #[test]
    fn a_failure_shows_step_expected_over_got_the_answer_and_a_repro() {
        let failure = at_step(
            2,
            "merge",
            vec![
                Problem::Status {
                    expected: vec![409],
                    got: 200,
                },
                Problem::ErrorCode {
                    expected: "conflictingRequest".into(),
                    got: vec![],
                },
            ],
        );
        assert_eq!(
            sentence(&failure),
            "step 2: (merge) expected status 409, got 200; expected error code conflictingRequest, got none"
        );
        let result = failed(
            failure,
            vec![
                lock_action(),
                record(1, Purpose::Step, 200),
                record(2, Purpose::Step, 200),
                record(0, Purpose::Cleanup, 202),
            ],
        );
        let text = block(&result, Colour::Off).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "FAIL states.locked.owner.merge: owner cannot merge on a locked server (spec §4.2)"
        );
        assert_eq!(lines[1], "  step 2 (merge)");
        assert_eq!(lines[2], "    expected status 409");
        assert_eq!(lines[3], "         got 200");
        assert_eq!(lines[4], "    expected error code conflictingRequest");
        assert_eq!(lines[5], "         got none");
        assert_eq!(
            lines[6], "  setup: POST …/action {\"lock\":null} 202",
            "{text}"
        );
        assert_eq!(lines[7], "  > POST http://h/v2.1/p/servers/s/metadata?n=2");
        assert!(lines[8].starts_with("  < 200 {\"metadata\""), "{text}");
        assert!(lines[9].starts_with("  repro: curl "), "{text}");
        assert!(lines[9].contains("\"X-Auth-Token: $OS_TOKEN\""), "{text}");
        assert!(
            lines[9].contains("n=2"),
            "the repro is the failing step's: {text}"
        );
    }

    /// A body quoting the words the old prose joined problems with (`;
    /// expected `, `, got `) is shown as one body, not split apart.
    #[test]
    fn a_body_quoting_expected_and_got_stays_one_problem() {
        let quoted = serde_json::json!({"a": "x; expected status 200, got 1"});
        let failure = at_step(
            1,
            "merge",
            vec![Problem::Body {
                expected: serde_json::json!({"a": "1"}),
                got: quoted.clone(),
            }],
        );
        let text = block(&failed(failure, Vec::new()), Colour::Off).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "  step 1 (merge)", "{text}");
        assert_eq!(lines[2], "    expected body {\"a\":\"1\"}", "{text}");
        assert_eq!(lines[3], format!("         got {quoted}"), "{text}");
        assert_eq!(lines.len(), 4, "{text}");
    }

    #[test]
    fn setup_errors_read_backs_and_other_causes_are_shown_whole() {
        let mut result = failed(
            Failure::trouble(Place::Setup, "lock answered 500"),
            vec![record(0, Purpose::Setup, 500)],
        );
        result.verdict = Verdict::Error;
        let text = block(&result, Colour::Off).unwrap();
        assert!(text.starts_with("ERROR "), "{text}");
        assert!(
            text.contains("\n  setup\n    lock answered 500\n"),
            "{text}"
        );
        let mut read_back = at_step(
            1,
            "merge",
            vec![Problem::Stored {
                expected: [("a".to_string(), "1".to_string())].into(),
            }],
        );
        if let Cause::Broken { stored, .. } = &mut read_back.cause {
            *stored = Some(StoredMap::new());
        }
        read_back.cleanup = Some("unlock answered 500".into());
        let read_back = failed(read_back, Vec::new());
        let text = block(&read_back, Colour::Off).unwrap();
        assert!(
            text.contains(
                "    expected stored map {\"a\": \"1\"}\n    read back {}\n    and cleanup: unlock answered 500\n"
            ),
            "{text}"
        );
        let legacy = Failure::new(
            Place::Case,
            Cause::LegacyReason {
                text: "cleanup went wrong somehow".into(),
                step: None,
            },
        );
        let text = block(&failed(legacy, Vec::new()), Colour::Off).unwrap();
        assert_eq!(
            text.lines().nth(1),
            Some("    cleanup went wrong somehow"),
            "{text}"
        );
        let finding = Failure::new(
            Place::Step {
                step: 2,
                op: "replace".into(),
            },
            Cause::Finding {
                summary: "body differs".into(),
                detail: Some("minimal sequence: 2 step(s)".into()),
            },
        );
        let text = block(&failed(finding, Vec::new()), Colour::Off).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1..4],
            [
                "  step 2 (replace)",
                "    body differs",
                "    minimal sequence: 2 step(s)"
            ],
            "{text}"
        );
        let mut passed = read_back;
        passed.verdict = Verdict::Pass;
        assert!(block(&passed, Colour::Off).is_none());
    }
}
