//! The JUnit XML dialect Jenkins and GitLab read (schema:
//! `src/report/junit.xsd`), as a small document model and its writer:
//! `<testsuites>` with totals, `<testsuite>` with `tests`, `failures`,
//! `errors` and `skipped` counts, `<testcase>` with at most one of
//! `<failure>`, `<error>`, `<skipped>` and an optional `<system-out>`.
//!
//! Written here rather than with the junit-report crate: 0.9 has no
//! `skipped` attribute on `<testsuite>` and no totals on `<testsuites>`,
//! both of which the XSD allows and CI dashboards show. Whatever bytes an
//! endpoint sent, the file is valid XML: characters XML 1.0 forbids become
//! `\xHH` text, and `]]>` is split across CDATA sections.

use std::fmt::Write as _;

/// A test case's outcome other than a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Failure,
    Error,
    Skipped,
}

impl ProblemKind {
    fn element(self) -> &'static str {
        match self {
            ProblemKind::Failure => "failure",
            ProblemKind::Error => "error",
            ProblemKind::Skipped => "skipped",
        }
    }
}

/// `<failure>`, `<error>` or `<skipped>`.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    pub type_: String,
    pub message: String,
    /// The element's text (CDATA), if any.
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub classname: String,
    pub seconds: f64,
    pub problem: Option<Problem>,
    pub system_out: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    /// RFC 3339 (an `xs:dateTime`).
    pub timestamp: Option<String>,
    /// `<properties>` of the suite (e.g. `interrupted` = `true`).
    pub properties: Vec<(String, String)>,
    pub cases: Vec<Case>,
}

/// `tests`, `failures`, `errors`, `skipped`, `time` of some cases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
    pub seconds: f64,
}

impl Counts {
    fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            c.seconds += case.seconds;
            match case.problem.as_ref().map(|p| p.kind) {
                Some(ProblemKind::Failure) => c.failures += 1,
                Some(ProblemKind::Error) => c.errors += 1,
                Some(ProblemKind::Skipped) => c.skipped += 1,
                None => {}
            }
        }
        c
    }

    fn attributes(&self) -> String {
        format!(
            r#"tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.6}""#,
            self.tests, self.failures, self.errors, self.skipped, self.seconds
        )
    }
}

/// The XML of `suites` under one `<testsuites name=...>` with totals.
pub fn render(name: &str, suites: &[Suite]) -> String {
    let total = Counts::of(suites.iter().flat_map(|s| &s.cases));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" {}>",
        attribute(name),
        total.attributes()
    );
    for suite in suites {
        write_suite(&mut out, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_suite(out: &mut String, suite: &Suite) {
    let timestamp = suite
        .timestamp
        .as_deref()
        .map(|t| format!(" timestamp=\"{}\"", attribute(t)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" {}{timestamp}>",
        attribute(&suite.name),
        Counts::of(&suite.cases).attributes()
    );
    if !suite.properties.is_empty() {
        out.push_str("    <properties>\n");
        for (name, value) in &suite.properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                attribute(name),
                attribute(value)
            );
        }
        out.push_str("    </properties>\n");
    }
    for case in &suite.cases {
        write_case(out, case);
    }
    out.push_str("  </testsuite>\n");
}

fn write_case(out: &mut String, case: &Case) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6}\"",
        attribute(&case.name),
        attribute(&case.classname),
        case.seconds
    );
    if case.problem.is_none() && case.system_out.is_none() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if let Some(p) = &case.problem {
        let element = p.kind.element();
        let _ = write!(
            out,
            "      <{element} type=\"{}\" message=\"{}\"",
            attribute(&p.type_),
            attribute(&p.message)
        );
        match &p.detail {
            Some(detail) => {
                let _ = writeln!(out, ">{}</{element}>", cdata(detail));
            }
            None => out.push_str("/>\n"),
        }
    }
    if let Some(text) = &case.system_out {
        let _ = writeln!(out, "      <system-out>{}</system-out>", cdata(text));
    }
    out.push_str("    </testcase>\n");
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

/// An attribute value: legal characters, markup and line ends escaped (so
/// a multi-line message survives attribute normalisation).
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in xml_text(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as CDATA: legal characters, and `]]>` split so no section ends
/// early.
fn cdata(text: &str) -> String {
    format!(
        "<![CDATA[{}]]>",
        xml_text(text).replace("]]>", "]]]]><![CDATA[>")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, kind: Option<ProblemKind>) -> Case {
        Case {
            name: name.into(),
            classname: "metaconform.x".into(),
            seconds: 0.5,
            problem: kind.map(|kind| Problem {
                kind,
                type_: "t".into(),
                message: "two\nlines & <b>\"".into(),
                detail: Some("bad \u{0} ]]> end".into()),
            }),
            system_out: None,
        }
    }

    #[test]
    fn suites_and_totals_count_each_outcome() {
        let suites = [
            Suite {
                name: "a".into(),
                timestamp: Some("2026-01-01T00:00:00Z".into()),
                properties: vec![("interrupted".into(), "true".into())],
                cases: vec![
                    case("p", None),
                    case("f", Some(ProblemKind::Failure)),
                    case("s", Some(ProblemKind::Skipped)),
                ],
            },
            Suite {
                name: "b".into(),
                timestamp: None,
                properties: Vec::new(),
                cases: vec![
                    case("e", Some(ProblemKind::Error)),
                    case("s2", Some(ProblemKind::Skipped)),
                ],
            },
        ];
        let xml = render("metaconform", &suites);
        assert!(
            xml.contains(r#"<property name="interrupted" value="true"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuites name="metaconform" tests="5" failures="1" errors="1" skipped="2" time="2.500000">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="a" tests="3" failures="1" errors="0" skipped="1" time="1.500000" timestamp="2026-01-01T00:00:00Z">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="b" tests="2" failures="0" errors="1" skipped="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"message="two&#10;lines &amp; &lt;b&gt;&quot;""#),
            "{xml}"
        );
        assert!(
            xml.contains(r"<![CDATA[bad \x00 ]]]]><![CDATA[> end]]>"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="p" classname="metaconform.x" time="0.500000"/>"#),
            "{xml}"
        );
    }
}
