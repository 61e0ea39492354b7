//! What one case checks, in words a reviewer reads: its name, spec
//! section, area, file and line, what it needs, the state it starts from,
//! and each step with what the step must answer. Rendered from the parsed
//! case alone (`metaconform explain` adds the dialects and the history).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::format::{Case, Codes, Expect, Given, Identity, ServerRef, Step, StepOp};
use super::loader::LoadedCase;

/// The description of `loaded`, one fact per line.
pub fn describe(loaded: &LoadedCase) -> String {
    let case = &loaded.case;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", case.id, case.name);
    let _ = writeln!(
        out,
        "  spec §{}, area {}, {} ({})",
        case.spec,
        loaded.area,
        case.class.name(),
        match case.class.is_required() {
            true => "a failure gates the run",
            false => "reported, never gates",
        }
    );
    let _ = writeln!(
        out,
        "  defined at {}:{}",
        loaded.file.display(),
        loaded.line
    );
    for line in needs(case) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  starts from: {}", given(&case.given));
    for (n, step) in case.steps.iter().map(|s| &s.value).enumerate() {
        let _ = writeln!(out, "  step {}: {}", n + 1, step_line(step));
        for line in expectations(&step.expect) {
            let _ = writeln!(out, "    expects {line}");
        }
        for (dialect, expect) in &step.expect_for {
            let lines = expectations(expect).join("; ");
            let _ = writeln!(out, "    on {dialect} instead expects {lines}");
        }
    }
    out
}

fn needs(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dialects) = &case.dialects {
        out.push(format!("only for: {}", dialects.join(", ")));
    }
    if !case.requires.is_empty() {
        let names: Vec<String> = case.requires.iter().map(kebab).collect();
        out.push(format!("needs: {}", names.join(", ")));
    }
    match (&case.min_microversion, &case.max_microversion) {
        (Some(min), Some(max)) => out.push(format!("microversions {min} to {max}")),
        (Some(min), None) => out.push(format!("microversion {min} or later")),
        (None, Some(max)) => out.push(format!("microversion {max} or earlier")),
        (None, None) => {}
    }
    if !case.tags.is_empty() {
        out.push(format!("tags: {}", case.tags.join(", ")));
    }
    if let Some(reason) = &case.skip {
        out.push(format!("always skipped: {reason}"));
    }
    out
}

fn given(given: &Given) -> String {
    let mut parts = Vec::new();
    match &given.vm_state {
        Some(state) => parts.push(format!("a {} server", kebab(state))),
        None => parts.push("an active server".to_string()),
    }
    if given.locked {
        let by = given
            .locked_by
            .map_or("owner".to_string(), |who| kebab(&who));
        parts.push(format!("locked by the {by}"));
    }
    match (given.metadata.is_empty(), given.generated_items) {
        (true, 0) => parts.push("no user metadata".to_string()),
        (false, 0) => parts.push(format!("metadata {}", compact(&given.metadata))),
        (true, n) => parts.push(format!("{n} generated items")),
        (false, n) => parts.push(format!(
            "metadata {} and {n} generated items",
            compact(&given.metadata)
        )),
    }
    parts.join(", ")
}

fn step_line(step: &Step) -> String {
    let mut line = kebab(&step.op);
    match step.op {
        StepOp::Merge | StepOp::Replace => {
            if let Some(map) = &step.metadata {
                let _ = write!(line, " {}", compact(map));
            }
            if let Some(generated) = &step.generated_items {
                let _ = write!(line, " + {} generated items", generated.count);
            }
        }
        StepOp::Set => {
            let key = step.key.as_deref().unwrap_or_default();
            match (&step.meta, &step.value) {
                (Some(meta), _) => {
                    let _ = write!(line, " key {key:?} with meta {}", compact(meta));
                }
                (None, Some(value)) => {
                    let _ = write!(line, " {key:?} = {value}");
                }
                (None, None) => {
                    let _ = write!(line, " {key:?}");
                }
            }
        }
        StepOp::Get | StepOp::Delete => {
            let _ = write!(line, " {:?}", step.key.as_deref().unwrap_or_default());
        }
        StepOp::Action => {
            let _ = write!(line, " {}", step.action.as_deref().unwrap_or("?"));
        }
        StepOp::Raw => {
            if let Some(raw) = &step.raw {
                let _ = write!(line, " {} …{}", raw.method, raw.path);
            }
        }
        StepOp::Concurrent => {
            if let Some(c) = &step.concurrent {
                let _ = write!(line, ": {} × {}", c.count, kebab(&c.op));
            }
        }
        StepOp::Create => {
            line.push_str(" a server");
            if let Some(map) = &step.metadata {
                let _ = write!(line, " with metadata {}", compact(map));
            }
            if let Some(generated) = &step.generated_items {
                let _ = write!(line, " + {} generated items", generated.count);
            }
            if let Some(fields) = &step.server_fields {
                let fields = serde_json::Value::Object(fields.clone()).to_string();
                let _ = write!(line, ", server fields {}", cut(&fields, 120));
            }
        }
        StepOp::List => {}
    }
    if step.identity != Identity::Owner {
        let _ = write!(line, ", as {}", kebab(&step.identity));
    }
    if step.server != ServerRef::Own {
        let _ = write!(line, ", on the {} server", kebab(&step.server));
    }
    if let Some(version) = &step.microversion {
        let _ = write!(line, ", microversion {version}");
    }
    if let Some(query) = &step.query {
        let _ = write!(line, ", query ?{query}");
    }
    for (name, value) in &step.headers {
        let _ = write!(line, ", header {name}: {value:?}");
    }
    line
}

fn expectations(expect: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Codes(codes)) = &expect.status {
        let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
        out.push(format!("status {}", codes.join(" or ")));
    }
    if let Some(outcome) = &expect.outcome {
        out.push(format!(
            "outcome {} (the dialect's codes for it)",
            kebab(outcome)
        ));
    }
    if let Some(code) = &expect.error_code {
        out.push(format!("error {code}"));
    }
    if let Some(text) = &expect.message_contains {
        out.push(format!("a message containing {text:?}"));
    }
    if let Some(body) = &expect.body {
        out.push(format!("body exactly {body}"));
    }
    if let Some(body) = &expect.body_contains {
        out.push(format!("body containing {body}"));
    }
    for (name, value) in &expect.headers {
        out.push(format!("header {name} {value}"));
    }
    if let Some(stored) = &expect.stored {
        out.push(format!("stored map exactly {}", compact(stored)));
    }
    if let Some(stored) = &expect.stored_contains {
        out.push(format!("stored map containing {}", compact(stored)));
    }
    if let Some(n) = expect.stored_count {
        out.push(format!("{n} stored items"));
    }
    if out.is_empty() {
        out.push("nothing (the step only prepares)".to_string());
    }
    out
}

/// A map as compact JSON, long ones cut.
fn compact<V: serde::Serialize>(map: &BTreeMap<String, V>) -> String {
    let text = serde_json::to_string(map).unwrap_or_default();
    cut(&text, 120)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}… ({} characters)", &text[..at], text.chars().count()),
        None => text.to_string(),
    }
}

/// The file spelling of an enum value (`state-changes`, `paused`).
fn kebab<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => format!("{value:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn case(yaml: &str) -> LoadedCase {
        super::super::loader::load_str(Path::new("cases/charset/t.yaml"), yaml)
            .expect("valid case")
            .remove(0)
    }

    #[test]
    fn a_case_is_told_step_by_step_with_its_expectations() {
        let loaded = case(
            r#"
cases:
  - id: charset.slash-refused
    name: a key with a slash is refused
    spec: "2.1"
    requires: [reader, lock]
    given: { locked: true, metadata: { a: "1" } }
    steps:
      - op: merge
        metadata: { "a/b": "v" }
        as: reader
        expect: { status: [400, 403], stored: { a: "1" } }
"#,
        );
        let text = describe(&loaded);
        for line in [
            "charset.slash-refused: a key with a slash is refused",
            "spec §2.1, area charset",
            "needs: reader, lock",
            "starts from: an active server, locked by the owner, metadata {\"a\":\"1\"}",
            "step 1: merge {\"a/b\":\"v\"}, as reader",
            "expects status 400 or 403",
            "expects stored map exactly {\"a\":\"1\"}",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
