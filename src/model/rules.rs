//! Key and value validation rules (spec §2.1-§2.3) and the quota (§2.5).
//!
//! A [`MetadataRules`] is built from a dialect profile; the checks here are the
//! one place where charset, length unit and limits are decided.

use crate::model::pyjson::PyValue;
use crate::model::pyrepr;
use regex::Regex;

use super::Metadata;

/// How a length limit is counted. Nova counts Unicode scalar values (spec
/// §2.3); some Huawei documents say bytes (spec §8 row 7).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    Chars,
    Bytes,
}

impl LengthUnit {
    /// Length of `s` in this unit.
    pub fn measure(self, s: &str) -> usize {
        match self {
            LengthUnit::Chars => s.chars().count(),
            LengthUnit::Bytes => s.len(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LengthUnit::Chars => "characters",
            LengthUnit::Bytes => "bytes",
        }
    }
}

/// A set of characters given as the body of a regex character class, e.g.
/// `A-Za-z0-9 _:.\-` (allow-list) or, negated, a deny-list.
#[derive(Debug, Clone)]
pub struct CharSet {
    class: String,
    negated: bool,
    one: Regex,
}

impl CharSet {
    /// `class` is the inside of `[...]`; `negated` makes it "any character but".
    pub fn new(class: &str, negated: bool) -> Result<Self, regex::Error> {
        let caret = if negated { "^" } else { "" };
        let one = Regex::new(&format!(r"\A[{caret}{class}]\z"))?;
        Ok(CharSet {
            class: class.to_string(),
            negated,
            one,
        })
    }

    pub fn contains(&self, c: char) -> bool {
        let mut buf = [0u8; 4];
        self.one.is_match(c.encode_utf8(&mut buf))
    }

    /// The first character of `s` outside the set, if any.
    pub fn first_outside(&self, s: &str) -> Option<char> {
        s.chars().find(|&c| !self.contains(c))
    }

    /// The class as written in the profile, for messages.
    pub fn describe(&self) -> String {
        let caret = if self.negated { "^" } else { "" };
        format!("[{caret}{}]", self.class)
    }
}

/// The rule for metadata keys.
#[derive(Debug, Clone)]
pub struct KeyRule {
    pub charset: CharSet,
    pub min_len: usize,
    pub max_len: usize,
    pub unit: LengthUnit,
    /// Reject keys made only of whitespace (Huawei: "not blank").
    pub reject_blank: bool,
    /// Nova checks keys with jsonschema's `re.search` of
    /// `^[a-zA-Z0-9-_:. ]{1,255}$`, whose `$` also matches before one final
    /// `\n`: the key is judged without that newline (and so may be one
    /// character longer than `max_len`).
    pub final_newline: bool,
    /// The pattern as the server reports it in messages (Nova:
    /// `^[a-zA-Z0-9-_:. ]{1,255}$`).
    pub display_pattern: String,
}

/// The rule for metadata values.
#[derive(Debug, Clone)]
pub struct ValueRule {
    pub max_len: usize,
    pub unit: LengthUnit,
    /// Characters a value must not contain (bms-os: `\` and `"`).
    pub forbidden: Option<CharSet>,
}

/// Everything that judges one metadata map.
#[derive(Debug, Clone)]
pub struct MetadataRules {
    pub key: KeyRule,
    pub value: ValueRule,
    /// Items per server; `None` is unlimited (Nova's -1).
    pub quota: Option<usize>,
}

/// Why a key or value was refused. Each carries enough to write the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    KeyCharset {
        key: String,
        bad: char,
    },
    KeyLength {
        key: String,
        len: usize,
    },
    KeyBlank {
        key: String,
    },
    /// `shown` is Python's `str()` of the value, `repr` its `repr()`.
    ValueNotString {
        key: String,
        shown: String,
    },
    ValueLength {
        key: String,
        len: usize,
        value: String,
    },
    ValueCharset {
        key: String,
        bad: char,
    },
}

impl KeyRule {
    pub fn check(&self, key: &str) -> Result<(), Violation> {
        let judged = match key.strip_suffix('\n') {
            Some(before) if self.final_newline => before,
            _ => key,
        };
        let len = self.unit.measure(judged);
        if len < self.min_len || len > self.max_len {
            return Err(Violation::KeyLength {
                key: key.to_string(),
                len,
            });
        }
        if let Some(bad) = self.charset.first_outside(judged) {
            return Err(Violation::KeyCharset {
                key: key.to_string(),
                bad,
            });
        }
        if self.reject_blank && key.chars().all(char::is_whitespace) {
            return Err(Violation::KeyBlank {
                key: key.to_string(),
            });
        }
        Ok(())
    }
}

impl KeyRule {
    /// The key a URL names, as Nova's routes capture it: the lazy
    /// `[^/]+?` then Python's `$`, which matches before one final `\n`, so
    /// `/metadata/a%0A` names `a` (measured on Nova 34: GET answers `a`,
    /// DELETE removes it); a lone `\n` stays (the capture needs one
    /// character). Only where `final_newline` (Nova's dialects).
    pub fn routed<'k>(&self, key: &'k str) -> &'k str {
        match key.strip_suffix('\n') {
            Some(before) if self.final_newline && !before.is_empty() => before,
            _ => key,
        }
    }
}

impl ValueRule {
    pub fn check(&self, key: &str, value: &PyValue) -> Result<(), Violation> {
        let Some(text) = value.as_str() else {
            return Err(Violation::ValueNotString {
                key: key.to_string(),
                shown: pyrepr::repr(value),
            });
        };
        let len = self.unit.measure(text);
        if len > self.max_len {
            return Err(Violation::ValueLength {
                key: key.to_string(),
                len,
                value: text.to_string(),
            });
        }
        if let Some(bad) = self.forbidden.as_ref().and_then(|f| f.first_member(text)) {
            return Err(Violation::ValueCharset {
                key: key.to_string(),
                bad,
            });
        }
        Ok(())
    }
}

impl CharSet {
    /// The first character of `s` that is in the set (for forbidden lists).
    fn first_member(&self, s: &str) -> Option<char> {
        s.chars().find(|&c| self.contains(c))
    }
}

impl MetadataRules {
    /// Validate one `key: value` entry of a request map.
    pub fn check_entry(&self, key: &str, value: &PyValue) -> Result<(), Violation> {
        self.key.check(key)?;
        self.value.check(key, value)
    }

    /// `Err(limit)` if a map of `count` items would exceed the quota. An empty
    /// map is never over quota (Nova skips the check, spec §2.5).
    pub fn check_quota(&self, count: usize) -> Result<(), usize> {
        match self.quota {
            Some(limit) if count > limit => Err(limit),
            _ => Ok(()),
        }
    }
}

impl Violation {
    /// Nova's wording (spec §5.3). Key violations are reported on the
    /// wrapper (`field` = `metadata`/`meta`, `shown` = its Python rendering);
    /// value violations on the key itself, showing the value, as Nova's
    /// validator pops the last element of the error path.
    pub fn message(&self, field: &str, shown: &str, pattern: &str) -> String {
        let prefix = format!("Invalid input for field/attribute {field}. Value: {shown}.");
        match self {
            Violation::KeyCharset { key, .. } | Violation::KeyLength { key, .. } => {
                let key = pyrepr::repr_str(key);
                format!("{prefix} {key} does not match any of the regexes: '{pattern}'")
            }
            Violation::KeyBlank { key } => format!("{prefix} '{key}' is blank"),
            Violation::ValueNotString { key, shown } => {
                format!(
                    "Invalid input for field/attribute {key}. Value: {shown}. {shown} is not of type 'string'"
                )
            }
            Violation::ValueLength { key, value, .. } => {
                format!(
                    "Invalid input for field/attribute {key}. Value: {value}. {} is too long",
                    pyrepr::repr_str(value)
                )
            }
            Violation::ValueCharset { key, bad } => {
                format!("{prefix} value of '{key}' contains forbidden character {bad:?}")
            }
        }
    }
}

/// Count of the map that a merge of `request` into `existing` would store.
pub fn merged_count(existing: &Metadata, request: &Metadata) -> usize {
    existing.len()
        + request
            .keys()
            .filter(|k| !existing.contains_key(*k))
            .count()
}
