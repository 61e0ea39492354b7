//! The JUnit writer (`metaconform::report::junit::render`) on arbitrary
//! text: case ids, names, areas, reasons, known-failure reasons, headers and
//! request/response bytes an endpoint could send. It must never panic and
//! always write well-formed XML (parsed back with roxmltree), with one
//! `<testcase>` per case, and an id XML can carry unchanged must come back
//! unchanged as the testcase's `name`.
//!
//! Durations come from the runner's clock, never from input, so they are
//! drawn from a realistic range only.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use metaconform::report::junit::render;
use metaconform::run::results::{
    CaseResult, Cause, ExchangeRecord, Failure, KnownStatus, Place, Problem, Purpose,
    RequestRecord, ResponseRecord, RunInfo, RunResults, SkipKind, Summary, Verdict,
};

#[derive(Debug, Arbitrary)]
struct Input {
    dialect: String,
    endpoint: String,
    cases: Vec<Case>,
}

#[derive(Debug, Arbitrary)]
struct Case {
    id: String,
    area: String,
    name: String,
    spec: String,
    verdict: u8,
    reason: Option<String>,
    skip_kind: Option<u8>,
    known: Option<(bool, String)>,
    duration_ms: u32,
    exchanges: Vec<Exchange>,
}

#[derive(Debug, Arbitrary)]
struct Exchange {
    purpose: u8,
    step: Option<u16>,
    token_var: Option<String>,
    method: String,
    url: String,
    request_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    response: Option<Response>,
    error: Option<String>,
}

#[derive(Debug, Arbitrary)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The body as the runner records it: text (invalid UTF-8 replaced), and
/// the exact bytes in hex when they are not UTF-8.
fn body(bytes: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(_) => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        ),
    }
}

fn exchange(e: Exchange) -> ExchangeRecord {
    let purpose = match e.purpose % 4 {
        0 => Purpose::Setup,
        1 => Purpose::Step,
        2 => Purpose::ReadBack,
        _ => Purpose::Cleanup,
    };
    let (request_body, request_hex) = body(&e.request_body);
    ExchangeRecord {
        purpose,
        step: e.step.map(usize::from),
        token_var: e.token_var,
        request: RequestRecord {
            method: e.method,
            url: e.url,
            headers: e.request_headers,
            body: request_body,
            body_hex: request_hex,
        },
        response: e.response.map(|r| {
            let (text, hex) = body(&r.body);
            ResponseRecord {
                status: r.status,
                headers: r.headers,
                body: text,
                body_hex: hex,
            }
        }),
        error: e.error,
        elapsed_ms: 0.5,
    }
}

fn case(c: Case) -> CaseResult {
    let verdict = match c.verdict % 4 {
        0 => Verdict::Pass,
        1 => Verdict::Fail,
        2 => Verdict::Error,
        _ => Verdict::Skip,
    };
    let skip_kind = c.skip_kind.map(|k| match k % 4 {
        0 => SkipKind::Case,
        1 => SkipKind::Dialect,
        2 => SkipKind::Credentials,
        _ => SkipKind::UserChoice,
    });
    let (known_failure, known_reason) = match c.known {
        Some((still, reason)) => (
            Some(if still {
                KnownStatus::StillFailing
            } else {
                KnownStatus::Fixed
            }),
            Some(reason),
        ),
        None => (None, None),
    };
    let failing = matches!(verdict, Verdict::Fail | Verdict::Error);
    // a typed failure whose strings are the arbitrary text
    let failure = c.reason.clone().filter(|_| failing).map(|message| Failure {
        at: Place::Step {
            step: 1,
            op: "merge".into(),
        },
        cause: Cause::Broken {
            problems: vec![
                Problem::Message {
                    expected: message.clone(),
                    got: message,
                },
                Problem::Body {
                    expected: serde_json::Value::Null,
                    got: serde_json::Value::String(c.spec.clone()),
                },
            ],
            stored: None,
        },
        cleanup: None,
    });
    CaseResult {
        id: c.id,
        area: c.area,
        name: c.name,
        spec: c.spec,
        class: metaconform::run::results::CaseClass::Required,
        verdict,
        failure,
        skip_reason: c.reason.filter(|_| verdict == Verdict::Skip),
        skip_kind,
        known_failure,
        known_reason,
        duration_ms: f64::from(c.duration_ms),
        exchanges: c.exchanges.into_iter().map(exchange).collect(),
    }
}

/// Whether XML 1.0 carries `text` as an attribute value unchanged: only
/// characters it allows, and none that attribute normalisation turns into
/// spaces.
fn survives_as_attribute(text: &str) -> bool {
    text.chars().all(|c| {
        ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    })
}

fuzz_target!(|input: Input| {
    let cases: Vec<CaseResult> = input.cases.into_iter().map(case).collect();
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let results = RunResults {
        format_version: metaconform::run::results::FORMAT_VERSION,
        run: RunInfo {
            dialect: input.dialect,
            endpoint: input.endpoint,
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
    };
    let bytes = match render(&results) {
        Ok(bytes) => bytes,
        Err(e) => panic!("the writer refused to render: {e}"),
    };
    let xml = String::from_utf8(bytes).expect("the JUnit file is not UTF-8");
    let doc = match roxmltree::Document::parse(&xml) {
        Ok(doc) => doc,
        Err(e) => panic!("not well-formed XML: {e}\n{xml}"),
    };
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| n.attribute("name").unwrap_or(""))
        .collect();
    assert_eq!(names.len(), ids.len(), "one <testcase> per case");
    for id in &ids {
        if survives_as_attribute(id) {
            assert!(names.contains(&id.as_str()), "id {id:?} lost: {names:?}");
        }
    }
});
