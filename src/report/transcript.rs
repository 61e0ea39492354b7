//! Human-readable transcripts of a case's exchanges, each with a
//! ready-to-paste curl repro.
//!
//! Records are already redacted; the repro refers to the token by its
//! environment variable (`"$OS_TOKEN"`), so pasting it in a shell where the
//! variable is set replays the request byte for byte.

use std::fmt::Write as _;

use crate::run::results::{CaseResult, ExchangeRecord, Purpose};

/// Bodies longer than this are cut in the transcript (never in the repro).
const SHOWN_BODY: usize = 2000;

/// The transcript of every exchange of `case`.
pub fn case_transcript(case: &CaseResult) -> String {
    let mut out = String::new();
    for record in &case.exchanges {
        exchange(&mut out, record);
        out.push('\n');
    }
    out
}

/// One line per exchange of `case`: what it was for, the request line and
/// the status (what a passing case keeps in the JUnit file).
pub fn request_lines(case: &CaseResult) -> String {
    let mut out = String::new();
    for record in &case.exchanges {
        let request = &record.request;
        let answer = match (&record.response, &record.error) {
            (Some(r), _) => r.status.to_string(),
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".to_string(),
        };
        let _ = writeln!(
            out,
            "{}: {} {} -> {answer}",
            purpose(record),
            request.method,
            request.url
        );
    }
    out
}

fn purpose(record: &ExchangeRecord) -> String {
    match record.purpose {
        Purpose::Setup => "setup".to_string(),
        Purpose::Step => format!("step {}", record.step.unwrap_or(0)),
        Purpose::ReadBack => format!("read-back after step {}", record.step.unwrap_or(0)),
        Purpose::Cleanup => "cleanup".to_string(),
    }
}

/// One exchange: request and answer (bodies cut), then its curl repro.
pub fn exchange(out: &mut String, record: &ExchangeRecord) {
    let _ = writeln!(out, "## {} ({:.1} ms)", purpose(record), record.elapsed_ms);
    let request = &record.request;
    let _ = writeln!(out, "> {} {}", request.method, request.url);
    for (name, value) in &request.headers {
        let _ = writeln!(out, "> {name}: {value}");
    }
    body(out, "> ", &request.body);
    match (&record.response, &record.error) {
        (Some(response), _) => {
            let _ = writeln!(out, "< {}", response.status);
            for (name, value) in &response.headers {
                let _ = writeln!(out, "< {name}: {value}");
            }
            body(out, "< ", &response.body);
        }
        (None, Some(error)) => {
            let _ = writeln!(out, "! {error}");
        }
        (None, None) => {}
    }
    let _ = writeln!(out, "$ {}", curl(record));
}

fn body(out: &mut String, prefix: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let shown: String = text.chars().take(SHOWN_BODY).collect();
    let _ = writeln!(out, "{prefix}");
    for line in shown.lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
    let total = text.chars().count();
    if total > SHOWN_BODY {
        let _ = writeln!(out, "{prefix}… ({total} characters in all)");
    }
}

/// A curl command that sends the same request; the token comes from the
/// variable named in the record.
pub fn curl(record: &ExchangeRecord) -> String {
    let request = &record.request;
    let mut cmd = format!(
        "curl -sS -i -g -X {} {}",
        request.method,
        single_quoted(&request.url)
    );
    let mut has_content_type = false;
    let signed = is_signed(record);
    if signed {
        // An AK/SK signature expires within 15 minutes and needs the SK:
        // the repro authenticates the same member with a token instead.
        cmd.push_str(" -H \"X-Auth-Token: $OS_TOKEN\"");
    }
    for (name, value) in &request.headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        if signed
            && SIGNATURE_HEADERS
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        cmd.push_str(" -H ");
        if name.eq_ignore_ascii_case("x-auth-token") {
            let var = record.token_var.as_deref().unwrap_or("OS_TOKEN");
            let _ = write!(cmd, "\"{name}: ${var}\"");
        } else if value.is_empty() {
            // `Name:` would remove the header; `Name;` sends it empty.
            cmd.push_str(&single_quoted(&format!("{name};")));
        } else {
            cmd.push_str(&single_quoted(&format!("{name}: {value}")));
        }
    }
    let bytes = body_bytes(record);
    if !bytes.is_empty() {
        if !has_content_type {
            // curl would add a form Content-Type of its own; drop it.
            cmd.push_str(" -H 'Content-Type:'");
        }
        cmd.push_str(" --data-binary ");
        cmd.push_str(&shell_bytes(&bytes));
    }
    cmd
}

/// The headers an AK/SK signature adds (spec §7.4), left out of repros.
const SIGNATURE_HEADERS: [&str; 3] = ["authorization", "x-sdk-date", "host"];

/// Whether the request was signed with AK/SK (`X-Sdk-Date` is only ever
/// sent with a signature).
fn is_signed(record: &ExchangeRecord) -> bool {
    record
        .request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("x-sdk-date"))
}

fn body_bytes(record: &ExchangeRecord) -> Vec<u8> {
    match &record.request.body_hex {
        Some(hex) => hex::decode(hex).unwrap_or_default(),
        None => record.request.body.as_bytes().to_vec(),
    }
}

/// `'text'` for the shell.
pub fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Bytes for the shell: plain single quotes when they are printable UTF-8,
/// else bash's `$'...'` with `\xHH` escapes.
pub fn shell_bytes(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(char::is_control)
    {
        return single_quoted(text);
    }
    let mut out = String::from("$'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str(r"\\"),
            b'\'' => out.push_str(r"\'"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::RequestRecord;

    fn record(headers: Vec<(&str, &str)>, body: &str, hex: Option<&str>) -> ExchangeRecord {
        ExchangeRecord {
            purpose: Purpose::Step,
            step: Some(1),
            token_var: Some("METACONFORM_ADMIN_TOKEN".into()),
            request: RequestRecord {
                method: "PUT".into(),
                url: "http://h/v2.1/p/servers/s/metadata/it's".into(),
                headers: headers
                    .into_iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: body.into(),
                body_hex: hex.map(str::to_string),
            },
            response: None,
            error: Some("connection refused".into()),
            elapsed_ms: 1.0,
        }
    }

    #[test]
    fn curl_uses_the_token_variable_and_quotes_safely() {
        let r = record(
            vec![
                ("X-Auth-Token", "$OS_TOKEN"),
                ("Content-Type", "application/json"),
            ],
            r#"{"meta": {"a": "it's"}}"#,
            None,
        );
        let cmd = curl(&r);
        assert!(
            cmd.contains("\"X-Auth-Token: $METACONFORM_ADMIN_TOKEN\""),
            "{cmd}"
        );
        assert!(cmd.contains(r"metadata/it'\''s'"), "{cmd}");
        assert!(
            cmd.ends_with(r#"--data-binary '{"meta": {"a": "it'\''s"}}'"#),
            "{cmd}"
        );
    }

    #[test]
    fn binary_bodies_and_empty_headers_survive_the_shell() {
        let r = record(vec![("Content-Type", "")], "\u{fffd}", Some("ff00"));
        let cmd = curl(&r);
        assert!(cmd.contains("-H 'Content-Type;'"), "{cmd}");
        assert!(cmd.ends_with(r"--data-binary $'\xff\x00'"), "{cmd}");
        let no_type = curl(&record(vec![], "{}", None));
        assert!(
            no_type.contains("-H 'Content-Type:' --data-binary '{}'"),
            "{no_type}"
        );
    }

    #[test]
    fn a_signed_request_is_replayed_with_the_members_token() {
        let r = record(
            vec![
                ("X-Project-Id", "p"),
                ("Host", "127.0.0.1:1"),
                ("X-Sdk-Date", "20261123T034020Z"),
                ("Authorization", "<redacted>"),
            ],
            "",
            None,
        );
        let cmd = curl(&r);
        assert!(cmd.contains("\"X-Auth-Token: $OS_TOKEN\""), "{cmd}");
        assert!(cmd.contains("'X-Project-Id: p'"), "{cmd}");
        for gone in ["Authorization", "X-Sdk-Date", "Host"] {
            assert!(!cmd.contains(gone), "{cmd}");
        }
    }

    /// The environment variables the CLI reads, from its clap definitions
    /// (`env = ...`), every subcommand included.
    fn variables_the_cli_reads() -> std::collections::BTreeSet<String> {
        fn collect(command: &clap::Command, into: &mut std::collections::BTreeSet<String>) {
            for arg in command.get_arguments() {
                if let Some(var) = arg.get_env() {
                    into.insert(var.to_string_lossy().into_owned());
                }
            }
            for sub in command.get_subcommands() {
                collect(sub, into);
            }
        }
        let mut read = std::collections::BTreeSet::new();
        collect(
            &<crate::cli::Cli as clap::CommandFactory>::command(),
            &mut read,
        );
        read
    }

    /// The `$NAME`s in `text`.
    fn variables_in(text: &str) -> Vec<String> {
        text.split('$')
            .skip(1)
            .map(|tail| {
                tail.chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// A repro of a request sent as every identity, and of one signed
    /// with AK/SK, whose body quotes every secret the run holds: each
    /// variable it names is one the CLI reads, so exporting what the CLI
    /// takes replays it.
    #[test]
    fn every_variable_a_repro_names_is_one_the_cli_reads() {
        use crate::cases::format::Identity;
        use crate::endpoint::http::{Exchange, RecordedRequest};
        use crate::endpoint::{AccessKeyPair, Credentials};
        let creds = Credentials {
            token: Some("owner-secret".into()),
            admin_token: Some("admin-secret".into()),
            reader_token: Some("reader-secret".into()),
            alt_token: Some("alt-secret".into()),
            access_key: Some(AccessKeyPair {
                ak: "AKEXAMPLE".into(),
                sk: "sk-secret".into(),
            }),
            ..Credentials::default()
        };
        let redactor = crate::run::redact::Redactor::new(&creds);
        let read = variables_the_cli_reads();
        assert!(read.contains("OS_TOKEN"), "{read:?}");
        let body = "owner-secret admin-secret reader-secret alt-secret sk-secret";
        let exchange = |token: &str, signed: bool| Exchange {
            request: RecordedRequest {
                method: "PUT".into(),
                url: "http://h/v2.1/p/servers/s/metadata".into(),
                headers: if signed {
                    vec![
                        ("X-Sdk-Date".into(), "20260101T000000Z".into()),
                        ("Authorization".into(), "SDK-HMAC-SHA256 sig".into()),
                    ]
                } else {
                    vec![("X-Auth-Token".into(), token.into())]
                },
                body: body.as_bytes().to_vec(),
            },
            response: None,
            error: Some("no answer".into()),
            elapsed: std::time::Duration::ZERO,
        };
        let identities = [
            (Identity::Owner, "owner-secret"),
            (Identity::Admin, "admin-secret"),
            (Identity::Reader, "reader-secret"),
            (Identity::Alt, "alt-secret"),
        ];
        let mut named = std::collections::BTreeSet::new();
        for (identity, token) in identities {
            for signed in [false, true] {
                let record =
                    redactor.record(&exchange(token, signed), Purpose::Step, Some(1), identity);
                let cmd = curl(&record);
                assert!(!cmd.contains("-secret"), "a secret in {cmd}");
                for var in variables_in(&cmd) {
                    assert!(read.contains(&var), "${var} is read by no flag: {cmd}");
                    named.insert(var);
                }
            }
        }
        assert!(
            named.len() >= 5,
            "every identity's variable and the SK's: {named:?}"
        );
    }
}
