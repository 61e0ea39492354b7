//! ECS v1 automatic recovery (spec §9): `GET`/`PUT
//! /v1/{p}/cloudservers/{s}/autorecovery`, body
//! `{"support_auto_recovery": "true" | "false"}`.
//!
//! The value is a JSON *string*, exactly `"true"` or `"false"`; a boolean,
//! another spelling (`"TRUE"`), an empty string or a missing field is
//! invalid input. Other members of the body are ignored, as Huawei's request
//! models do. A server starts with recovery enabled [unverified: the docs
//! give no default; the console shows new servers with it on].

use serde_json::{Value, json};

use super::body;
use super::outcome::{Outcome, OutcomeKind};
use super::pyjson::PyValue;
use super::pyrepr;

/// The body member that carries the value.
pub const FIELD: &str = "support_auto_recovery";

/// The setting of a new server.
pub const DEFAULT: bool = true;

/// The value a `PUT` body sets, or the refusal it deserves.
pub fn parse_update(bytes: &[u8]) -> Result<bool, Outcome> {
    let value = body::required_json(bytes)?;
    let PyValue::Dict(members) = &value else {
        return Err(Outcome::refused(
            OutcomeKind::InvalidInput,
            format!("{} is not of type 'object'", pyrepr::repr(&value)),
        ));
    };
    match members.get(FIELD) {
        Some(PyValue::Str(text)) if text == "true" => Ok(true),
        Some(PyValue::Str(text)) if text == "false" => Ok(false),
        Some(other) => Err(Outcome::refused(
            OutcomeKind::InvalidInput,
            format!(
                "Invalid {FIELD}: {}; it must be the string \"true\" or \"false\"",
                pyrepr::repr(other)
            ),
        )),
        None => Err(Outcome::refused(
            OutcomeKind::InvalidInput,
            format!("{FIELD} is a required property"),
        )),
    }
}

/// The `GET` answer for a setting.
pub fn show(enabled: bool) -> Value {
    json!({ FIELD: if enabled { "true" } else { "false" } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(body: &str) -> Option<OutcomeKind> {
        parse_update(body.as_bytes()).err().map(|o| o.kind())
    }

    #[test]
    fn only_the_two_strings_are_values() {
        assert_eq!(
            parse_update(br#"{"support_auto_recovery": "true"}"#),
            Ok(true)
        );
        assert_eq!(
            parse_update(br#"{"support_auto_recovery": "false"}"#),
            Ok(false)
        );
        assert_eq!(
            parse_update(br#"{"support_auto_recovery": "false", "other": 1}"#),
            Ok(false)
        );
        for bad in [
            r#"{"support_auto_recovery": true}"#,
            r#"{"support_auto_recovery": false}"#,
            r#"{"support_auto_recovery": "TRUE"}"#,
            r#"{"support_auto_recovery": "True"}"#,
            r#"{"support_auto_recovery": " true"}"#,
            r#"{"support_auto_recovery": ""}"#,
            r#"{"support_auto_recovery": null}"#,
            r#"{"support_auto_recovery": 1}"#,
            r#"{"support_auto_recovery": ["true"]}"#,
            r#"{}"#,
            r#"{"Support_auto_recovery": "true"}"#,
            r#"[]"#,
            r#""true""#,
        ] {
            assert_eq!(kind(bad), Some(OutcomeKind::InvalidInput), "{bad:?}");
        }
        for malformed in ["{", "", "  \n"] {
            assert_eq!(
                kind(malformed),
                Some(OutcomeKind::MalformedBody),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn show_renders_a_string() {
        assert_eq!(show(true), json!({"support_auto_recovery": "true"}));
        assert_eq!(show(false), json!({"support_auto_recovery": "false"}));
    }
}
