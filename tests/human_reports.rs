//! `run --markdown FILE --html FILE` against the embedded server with a
//! fault (`key-limit-off-by-one`: the 256-character key cases fail) and a
//! baseline listing one of the failing cases: both files name the failing
//! cases, the Markdown has its failure table with known and new marked, and
//! the HTML page references nothing outside itself. A case whose bodies
//! carry `</script><img onerror=...>` (`tests/fixtures/run-hostile`) runs
//! too: no `<` from a body gets through as markup.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Scratch, text};

const KNOWN: &str = "lengths.key.256.merge";
const NEW: &str = "lengths.key.256.set";

fn run_reports(dir: &Path) {
    let baseline = dir.join("baseline.yaml");
    std::fs::write(&baseline, format!("- {{id: {KNOWN}, reason: 'known'}}\n"))
        .expect("write baseline");
    let out = Command::new(BIN)
        .args(["run", "--area", "lengths", "--area", "run-hostile"])
        .args(["--no-props", "--jobs", "2"])
        .arg("--cases")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-hostile"))
        .args(["--fault", "key-limit-off-by-one"])
        .arg("--baseline")
        .arg(&baseline)
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--markdown")
        .arg(dir.join("summary.md"))
        .arg("--html")
        .arg(dir.join("report.html"))
        .current_dir(dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// The tag names the page writes itself.
const OWN_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "script", "title", "style", "body", "h1", "dl", "dt", "dd",
    "p", "strong", "div", "label", "select", "option", "span", "table", "thead", "tbody", "tr",
    "th", "td", "code", "details", "summary", "ul", "li", "pre", "br",
];

/// Every tag of `html`, from `<` to `>`.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())])
        .collect()
}

fn tag_name(tag: &str) -> &str {
    let tag = tag.trim_start_matches('/');
    &tag[..tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len())]
}

#[test]
fn markdown_and_html_reports_of_a_faulted_run() {
    let dir = Scratch::new("human-reports");
    run_reports(&dir);

    let md = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md written");
    assert!(md.contains("| case | verdict | step | expected | got | status |"));
    let row = |id: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap_or_else(|| panic!("no row for {id}:\n{md}"))
            .to_string()
    };
    assert!(row(KNOWN).ends_with("| known failure |"), "{}", row(KNOWN));
    assert!(row(NEW).ends_with("| new |"), "{}", row(NEW));
    assert!(row(NEW).contains("| fail | 1 | expected outcome invalid-input"));
    assert!(md.contains("**Gate: fails**"));

    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html written");
    assert!(html.contains(&format!("<code>{KNOWN}</code>")));
    assert!(html.contains(&format!("<code>{NEW}</code>")));
    assert!(html.contains("data-standing=\"known\""));
    assert!(html.contains("data-standing=\"new\""));
    assert!(html.contains("curl -sS"), "the exchanges' repros are in");
    for tag in tags(&html) {
        assert!(
            OWN_TAGS.contains(&tag_name(tag)),
            "markup not written by the page: <{tag}>"
        );
        for external in ["http:", "https:", "src=", "href=", "url("] {
            assert!(!tag.contains(external), "a reference in <{tag}>");
        }
    }
    assert!(
        html.contains("http://127.0.0.1:"),
        "the exchanges are shown"
    );
    assert!(
        html.contains("<code>fixture-hostile-body</code>")
            && html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "the hostile case is shown, as text"
    );
}
