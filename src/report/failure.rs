//! The terminal's account of a case that failed or erred: which case and
//! step, each broken expectation as `expected` over `got`, the request and
//! answer of the step that broke, and a curl repro of it.
//!
//! Rendered from a [`CaseResult`] alone, so it shows exactly what the
//! reports hold (already redacted).

use std::fmt::Write as _;

use crate::run::results::{CaseResult, ExchangeRecord, Purpose, Verdict};

use super::transcript::curl;

/// Characters of a response body shown before cutting.
const SHOWN_BODY: usize = 300;

/// Whether to colour the verdict word (ANSI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    On,
    Off,
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
    let _ = writeln!(
        out,
        "{word} {}: {} (spec §{})",
        result.id, result.name, result.spec
    );
    let reason = result.reason.as_deref().unwrap_or("no reason recorded");
    let (place, what) = split_place(reason);
    if !place.is_empty() {
        let _ = writeln!(out, "  {place}");
    }
    for problem in split_problems(what) {
        match split_expected(problem) {
            Some((expected, joint, got)) => {
                let _ = writeln!(out, "    {expected}");
                let _ = writeln!(out, "    {:>width$} {got}", joint, width = "expected".len());
            }
            None => {
                let _ = writeln!(out, "    {problem}");
            }
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

/// `("step 2 (merge)", rest)` from `step 2: (merge) rest`; `setup` and
/// other prefixes stay as they are.
fn split_place(reason: &str) -> (String, &str) {
    let Some((place, rest)) = reason.split_once(": ") else {
        return (String::new(), reason);
    };
    if !(place.starts_with("step ") || place == "setup" || place == "cleanup") {
        return (String::new(), reason);
    }
    match rest.strip_prefix('(').and_then(|r| r.split_once(") ")) {
        Some((op, rest)) => (format!("{place} ({op})"), rest),
        None => (place.to_string(), rest),
    }
}

/// The broken expectations: the checker joins them with `; `, each
/// starting with `expected`.
fn split_problems(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("; expected ") {
        out.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    out.push(rest);
    out
}

/// `("expected A", "got", "B")` from `expected A, got B` (also `read back`
/// and `it is`).
fn split_expected(problem: &str) -> Option<(&str, &'static str, &str)> {
    if !problem.starts_with("expected ") {
        return None;
    }
    [
        (", got ", "got"),
        (", read back ", "read back"),
        (", it is ", "it is"),
    ]
    .into_iter()
    .filter_map(|(sep, word)| problem.find(sep).map(|at| (at, sep, word)))
    .min_by_key(|(at, _, _)| *at)
    .map(|(at, sep, word)| (&problem[..at], word, &problem[at + sep.len()..]))
}

/// The exchange to show: the last one of the failing step (its read-back
/// included), else the last one of the case.
fn culprit(result: &CaseResult) -> Option<&ExchangeRecord> {
    let of_step = result.step.and_then(|step| {
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

    fn failed(reason: &str, step: Option<usize>, exchanges: Vec<ExchangeRecord>) -> CaseResult {
        CaseResult {
            id: "states.locked.owner.merge".into(),
            area: "states".into(),
            name: "owner cannot merge on a locked server".into(),
            spec: "4.2".into(),
            verdict: Verdict::Fail,
            reason: Some(reason.into()),
            skip_kind: None,
            step,
            known_failure: None,
            known_reason: None,
            duration_ms: 1.0,
            exchanges,
        }
    }

    #[test]
    fn a_failure_shows_step_expected_over_got_the_answer_and_a_repro() {
        let result = failed(
            "step 2: (merge) expected status 409, got 200; expected error code conflictingRequest, got none",
            Some(2),
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

    #[test]
    fn setup_errors_and_odd_reasons_are_shown_whole() {
        let mut result = failed(
            "setup: lock answered 500",
            None,
            vec![record(0, Purpose::Setup, 500)],
        );
        result.verdict = Verdict::Error;
        let text = block(&result, Colour::Off).unwrap();
        assert!(text.starts_with("ERROR "), "{text}");
        assert!(
            text.contains("\n  setup\n    lock answered 500\n"),
            "{text}"
        );
        let read_back = failed(
            "step 1: (merge) expected stored map {\"a\":\"1\"}, read back {}",
            Some(1),
            Vec::new(),
        );
        let text = block(&read_back, Colour::Off).unwrap();
        assert!(
            text.contains("    expected stored map {\"a\":\"1\"}\n    read back {}\n"),
            "{text}"
        );
        let odd = failed("cleanup went wrong somehow", None, Vec::new());
        let text = block(&odd, Colour::Off).unwrap();
        assert_eq!(
            text.lines().nth(1),
            Some("    cleanup went wrong somehow"),
            "{text}"
        );
        let mut passed = read_back;
        passed.verdict = Verdict::Pass;
        assert!(block(&passed, Colour::Off).is_none());
    }
}
