//! Transport-level scenarios a case cannot express: chunked bodies, other
//! methods, raw and percent-encoded bytes in paths, `Accept` variants on
//! route misses, `Content-Type` spellings, trailing-newline keys.
//!
//! Each starts from a known map: its first step is a replace-all by the
//! member (the harness has emptied the server before).

use crate::run::stored::segments;

use super::scenario::{Scenario, Step, Who};

const MAP: &str = "{endpoint}/servers/{server0}/metadata";
const START: &str = r#"{"metadata": {"a": "1", "b": "2"}}"#;

fn step(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Step {
    Step {
        who: Who::Member,
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: segments(body),
        body_hex: None,
        chunked: false,
        latin1_path: false,
        raw: false,
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The known starting map, then `then`, then a read of the whole map.
fn scenario(id: &str, area: &str, then: Vec<Step>) -> Scenario {
    let mut steps = vec![step("PUT", MAP, &[JSON], START)];
    steps.extend(then);
    steps.push(step("GET", MAP, &[], ""));
    Scenario {
        id: format!("wire.{id}"),
        area: format!("wire-{area}"),
        steps,
    }
}

fn key_url(key: &str) -> String {
    format!("{MAP}/{key}")
}

/// Every transport-level scenario.
pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    out.extend(chunked());
    out.extend(methods());
    out.extend(paths());
    out.extend(accept());
    out.extend(content_types());
    out.extend(trailing_newlines());
    out
}

fn chunked() -> Vec<Scenario> {
    let item = r#"{"meta": {"c": "3"}}"#;
    let cases = [
        (
            "merge",
            "POST",
            MAP.to_string(),
            r#"{"metadata": {"c": "3"}}"#,
        ),
        (
            "replace",
            "PUT",
            MAP.to_string(),
            r#"{"metadata": {"c": "3"}}"#,
        ),
        ("set", "PUT", key_url("c"), item),
        ("set-mismatch", "PUT", key_url("d"), item),
        (
            "merge-bad-json",
            "POST",
            MAP.to_string(),
            r#"{"metadata": {"c": "3""#,
        ),
        ("merge-empty", "POST", MAP.to_string(), ""),
    ];
    cases
        .into_iter()
        .map(|(id, method, url, body)| {
            let mut s = step(method, &url, &[JSON], body);
            s.chunked = true;
            scenario(&format!("chunked.{id}"), "chunked", vec![s])
        })
        .collect()
}

fn methods() -> Vec<Scenario> {
    let mut out = Vec::new();
    for method in ["OPTIONS", "HEAD", "PATCH", "TRACE", "DELETE"] {
        for (target, url) in [("map", MAP.to_string()), ("key", key_url("a"))] {
            let body = if method == "PATCH" {
                r#"{"metadata": {"c": "3"}}"#
            } else {
                ""
            };
            let then = vec![step(method, &url, &[JSON], body)];
            out.push(scenario(
                &format!("method.{}.{target}", method.to_ascii_lowercase()),
                "methods",
                then,
            ));
        }
    }
    out
}

fn paths() -> Vec<Scenario> {
    let keys = [
        ("newline", "a%0A"),
        ("slash", "a%2Fb"),
        ("latin1-escaped", "caf%E9"),
        ("utf8-escaped", "caf%C3%A9"),
        ("space", "a%20b"),
        ("percent", "a%25"),
        ("nul", "a%00"),
        ("tab", "a%09"),
    ];
    let mut out = Vec::new();
    for (name, key) in keys {
        for method in ["GET", "PUT", "DELETE"] {
            let decoded = percent_encoding::percent_decode_str(key)
                .decode_utf8_lossy()
                .into_owned();
            let body = serde_json::json!({"meta": {decoded: "v"}}).to_string();
            let body = if method == "PUT" { body } else { String::new() };
            let then = vec![step(method, &key_url(key), &[JSON], &body)];
            out.push(scenario(
                &format!("path.{name}.{}", method.to_ascii_lowercase()),
                "paths",
                then,
            ));
        }
    }
    for method in ["GET", "PUT", "DELETE"] {
        let body = if method == "PUT" {
            r#"{"meta": {"caf\u00e9": "v"}}"#
        } else {
            ""
        };
        let mut raw = step(method, &key_url("caf\u{e9}"), &[JSON], body);
        raw.latin1_path = true;
        out.push(scenario(
            &format!("path.latin1-raw.{}", method.to_ascii_lowercase()),
            "paths",
            vec![raw],
        ));
    }
    out
}

fn accept() -> Vec<Scenario> {
    let misses = [
        (
            "unknown-collection",
            "{endpoint}/servers/{server0}/metadatas",
        ),
        ("unknown-server", "{endpoint}/servers/nope/metadata"),
        ("unknown-root", "{root}/nowhere"),
        ("deep", "{endpoint}/servers/{server0}/metadata/a/b"),
    ];
    let accepts = [
        ("json", Some("application/json")),
        ("xml", Some("application/xml")),
        ("html", Some("text/html")),
        ("any", Some("*/*")),
        ("none", None),
    ];
    let mut out = Vec::new();
    for (miss, url) in misses {
        for (name, accept) in accepts {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
            let mut request = step("GET", url, &headers, "");
            request.raw = accept.is_none();
            out.push(scenario(
                &format!("accept.{miss}.{name}"),
                "accept",
                vec![request],
            ));
        }
    }
    out
}

fn content_types() -> Vec<Scenario> {
    let types = [
        ("upper", "APPLICATION/JSON"),
        ("mixed", "Application/Json"),
        ("charset", "application/json; charset=utf-8"),
        ("charset-upper", "application/json; charset=UTF-8"),
        ("no-space", "application/json;charset=utf-8"),
        ("space-before", "application/json ; charset=utf-8"),
        ("leading-space", " application/json"),
        ("other-param", "application/json; foo=bar"),
        ("text-plain", "text/plain"),
        ("json-suffix", "application/vnd.openstack+json"),
        ("empty", ""),
    ];
    let mut out = Vec::new();
    for (name, value) in types {
        for (op, method, url, body) in [
            (
                "merge",
                "POST",
                MAP.to_string(),
                r#"{"metadata": {"c": "3"}}"#,
            ),
            ("set", "PUT", key_url("c"), r#"{"meta": {"c": "3"}}"#),
        ] {
            let then = vec![step(method, &url, &[("Content-Type", value)], body)];
            out.push(scenario(
                &format!("content-type.{name}.{op}"),
                "content-type",
                then,
            ));
        }
    }
    out.push(scenario(
        "content-type.missing.merge",
        "content-type",
        vec![step("POST", MAP, &[], r#"{"metadata": {"c": "3"}}"#)],
    ));
    out
}

fn trailing_newlines() -> Vec<Scenario> {
    let mut out = Vec::new();
    for (name, key) in [
        ("lf", "k\\n"),
        ("crlf", "k\\r\\n"),
        ("lf-lf", "k\\n\\n"),
        ("lead-lf", "\\nk"),
    ] {
        let map = format!(r#"{{"metadata": {{"{key}": "v"}}}}"#);
        let item = format!(r#"{{"meta": {{"{key}": "v"}}}}"#);
        let encoded = key.replace("\\n", "%0A").replace("\\r", "%0D");
        let value = format!(
            r#"{{"metadata": {{"k": "v{}"}}}}"#,
            key.trim_start_matches('k').trim_end_matches('k')
        );
        out.push(scenario(
            &format!("newline.{name}.merge"),
            "newline",
            vec![step("POST", MAP, &[JSON], &map)],
        ));
        out.push(scenario(
            &format!("newline.{name}.replace"),
            "newline",
            vec![step("PUT", MAP, &[JSON], &map)],
        ));
        out.push(scenario(
            &format!("newline.{name}.set"),
            "newline",
            vec![step("PUT", &key_url(&encoded), &[JSON], &item)],
        ));
        out.push(scenario(
            &format!("newline.{name}.set-then-get-delete"),
            "newline",
            vec![
                step("PUT", &key_url(&encoded), &[JSON], &item),
                step("GET", &key_url(&encoded), &[], ""),
                step("DELETE", &key_url(&encoded), &[], ""),
            ],
        ));
        out.push(scenario(
            &format!("newline.{name}.value"),
            "newline",
            vec![step("POST", MAP, &[JSON], &value)],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_scenario_starts_from_a_known_map() {
        let all = scenarios();
        let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for s in &all {
            assert_eq!(
                (s.steps[0].method.as_str(), s.steps[0].url.as_str()),
                ("PUT", MAP),
                "{}",
                s.id
            );
        }
        assert!(all.iter().any(|s| s.steps.iter().any(|st| st.chunked)));
        assert!(all.iter().any(|s| s.steps.iter().any(|st| st.latin1_path)));
    }
}
