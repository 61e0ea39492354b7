use super::*;
use crate::run::results::{
    CaseResult, Cause, ExchangeRecord, Failure, Place, Problem, Purpose, RequestRecord,
    ResponseRecord, RunInfo, RunResults, Summary, Verdict,
};

const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

fn results_with_hostile_body() -> RunResults {
    let exchange = ExchangeRecord {
        purpose: Purpose::Step,
        step: Some(1),
        token_var: Some("OS_TOKEN".into()),
        request: RequestRecord {
            method: "PUT".into(),
            url: "http://127.0.0.1:1/v2.1/servers/s/metadata".into(),
            headers: vec![],
            body: format!("{{\"metadata\": {{\"k\": \"{HOSTILE}\"}}}}"),
            body_hex: None,
        },
        response: Some(ResponseRecord {
            status: 200,
            headers: vec![],
            body: HOSTILE.into(),
            body_hex: None,
        }),
        error: None,
        elapsed_ms: 1.0,
    };
    let case = CaseResult {
        id: "area/<b>case".into(),
        area: "a<i>rea".into(),
        name: HOSTILE.into(),
        spec: "3.1".into(),
        class: crate::run::results::CaseClass::Required,
        verdict: Verdict::Fail,
        failure: Some(Failure {
            at: Place::Step {
                step: 1,
                op: "merge".into(),
            },
            cause: Cause::Broken {
                problems: vec![
                    Problem::Status {
                        expected: vec![400],
                        got: 200,
                    },
                    Problem::Message {
                        expected: "x".into(),
                        got: HOSTILE.into(),
                    },
                ],
                stored: None,
            },
            cleanup: None,
        }),
        skip_reason: None,
        skip_kind: None,
        known_failure: None,
        known_reason: None,
        duration_ms: 2.0,
        exchanges: vec![exchange],
    };
    let mut summary = Summary::default();
    summary.count(&case);
    RunResults {
        format_version: crate::run::results::FORMAT_VERSION,
        run: RunInfo {
            dialect: "nova-2.1".into(),
            endpoint: "http://127.0.0.1:1/v2.1".into(),
            embedded: true,
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 5.0,
            metaconform_version: "0.0.0".into(),
            interrupted: false,
            partition: None,
            target: None,
            microversion: None,
            strict: false,
        },
        summary,
        cases: vec![case],
    }
}

/// The tag names the page itself writes; anything else was let through.
const OWN_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "script", "title", "style", "body", "h1", "dl", "dt", "dd",
    "p", "strong", "div", "label", "select", "option", "span", "table", "thead", "tbody", "tr",
    "th", "td", "code", "details", "summary", "ul", "li", "pre", "br",
];

fn tag_names(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|rest| {
            let rest = rest.trim_start_matches('/');
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn hostile_bodies_stay_text() {
    let html = render(&results_with_hostile_body(), &Header::default());
    for name in tag_names(&html) {
        assert!(OWN_TAGS.contains(&name), "tag <{name}> let through");
    }
    assert!(!html.contains("<img"));
    assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
    assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("curl "), "the repro is there");
}

#[test]
fn attributes_hold_escaped_values_only() {
    let html = render(&results_with_hostile_body(), &Header::default());
    assert!(html.contains("data-area=\"a&lt;i&gt;rea\""));
    assert!(!html.contains("onerror=alert(1)>"));
}

#[test]
fn new_failures_are_marked_only_with_a_baseline() {
    let results = results_with_hostile_body();
    let with = Header {
        baseline_given: true,
        ..Header::default()
    };
    assert!(render(&results, &with).contains("data-standing=\"new\""));
    assert!(render(&results, &Header::default()).contains("data-standing=\"failing\""));
}

#[test]
fn escape_covers_the_five() {
    assert_eq!(
        escape("<a href='x'>&\"</a>"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
    );
}

/// The matrix page of two targets of the hostile run, the second with
/// the case passing.
fn matrix_page() -> String {
    let failing = results_with_hostile_body();
    let mut passing = results_with_hostile_body();
    passing.cases[0].verdict = Verdict::Pass;
    passing.cases[0].failure = None;
    let runs: Vec<(&str, &RunResults)> = vec![("<t1>", &failing), ("t2", &passing)];
    let matrix = crate::report::matrix::Matrix::build(
        &runs
            .iter()
            .map(|(name, results)| crate::report::matrix::TargetRun {
                name,
                results_path: format!("r/{name}/results.json"),
                results,
            })
            .collect::<Vec<_>>(),
    );
    render_targets(&runs, &matrix, false)
}

#[test]
fn the_matrix_page_escapes_and_lists_a_differing_case_with_both_verdicts() {
    let html = matrix_page();
    for name in tag_names(&html) {
        assert!(
            OWN_TAGS.contains(&name) || name == "h2",
            "tag <{name}> let through"
        );
    }
    assert!(!html.contains("<img") && !html.contains("<t1>"));
    assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
    assert!(html.contains("<th>&lt;t1&gt;</th><th>t2</th>"), "{html}");
    // One matrix row, in the differing group, matched by either verdict.
    assert_eq!(
        html.matches("<tr class=\"case matrix-row differs\"")
            .count(),
        1
    );
    assert!(html.contains("data-verdict=\"fail pass\""), "{html}");
    assert!(
        html.contains("<td class=\"cell fail\">fail 200</td><td class=\"cell pass\">pass 200</td>")
    );
    // Each target's own table still expands the failure with its repro.
    assert!(html.contains("<h2>target &lt;t1&gt;</h2>"));
    assert!(html.contains("curl "));
}
