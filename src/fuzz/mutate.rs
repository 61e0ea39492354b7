//! Raw-body mutation: what a Rust `String` map cannot carry.
//!
//! Starting from a valid merge/replace/set body, each [`Mutation`] writes
//! bytes directly: duplicate member names, `\u` escapes of any UTF-16 code
//! unit (lone surrogates included), deep nesting, huge numbers, wrong types
//! at every level, trailing bytes, invalid UTF-8 and truncation. The expected
//! outcome is still the model's ([`crate::model::body::parse_json`] then the
//! schema); whatever it is, a 5xx is always a finding.

use proptest::prelude::*;
use proptest::sample::select;

use crate::model::body::Wrapper;

/// One kind of raw-body mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// A member name twice, in the entries or at the top level.
    DuplicateKey,
    /// A key or value written with a `\uXXXX` escape of any code unit.
    EscapedCodeUnit,
    /// Arrays or objects nested far deeper than any parser's default limit.
    DeepNesting,
    /// Numbers beyond f64 and i64 as values.
    HugeNumber,
    /// A non-object at the top, in the wrapper, or as an entry value.
    WrongType,
    /// Bytes after a complete document.
    TrailingBytes,
    /// Bytes that are not UTF-8 inside a string.
    InvalidUtf8,
    /// The document cut short.
    Truncated,
}

impl Mutation {
    pub const ALL: [Mutation; 8] = [
        Mutation::DuplicateKey,
        Mutation::EscapedCodeUnit,
        Mutation::DeepNesting,
        Mutation::HugeNumber,
        Mutation::WrongType,
        Mutation::TrailingBytes,
        Mutation::InvalidUtf8,
        Mutation::Truncated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mutation::DuplicateKey => "duplicate-key",
            Mutation::EscapedCodeUnit => "escaped-code-unit",
            Mutation::DeepNesting => "deep-nesting",
            Mutation::HugeNumber => "huge-number",
            Mutation::WrongType => "wrong-type",
            Mutation::TrailingBytes => "trailing-bytes",
            Mutation::InvalidUtf8 => "invalid-utf8",
            Mutation::Truncated => "truncated",
        }
    }
}

/// The knobs one mutation draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationInput {
    pub mutation: Mutation,
    /// A valid key (for set: the URL key).
    pub key: String,
    pub value: String,
    /// A code unit for escapes (0..=0xFFFF, surrogates included).
    pub unit: u16,
    /// Which variant of the mutation (level, depth, trailing bytes...).
    pub variant: usize,
}

/// Strategy for mutation inputs around a valid `key`.
pub fn input(key: BoxedStrategy<String>) -> BoxedStrategy<MutationInput> {
    let unit = prop_oneof![
        any::<u16>(),
        0xD800u16..=0xDFFF,
        Just(0u16),
        Just(0x41u16),
        Just(0xFEFFu16),
    ];
    (
        select(Mutation::ALL.to_vec()),
        key,
        "[a-z]{0,4}",
        unit,
        0usize..8,
    )
        .prop_map(|(mutation, key, value, unit, variant)| MutationInput {
            mutation,
            key,
            value,
            unit,
            variant,
        })
        .boxed()
}

/// JSON string literal of `s`.
fn lit(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The body bytes for `input` under `wrapper`.
pub fn render(input: &MutationInput, wrapper: Wrapper) -> Vec<u8> {
    let w = lit(wrapper.field());
    let k = lit(&input.key);
    let v = lit(&input.value);
    let entry = |entries: &str| format!("{{{w}:{{{entries}}}}}");
    let valid = entry(&format!("{k}:{v}"));
    let n = input.variant;
    match input.mutation {
        Mutation::DuplicateKey => match n % 3 {
            0 => entry(&format!("{k}:{v},{k}:\"other\"")).into_bytes(),
            1 => entry(&format!("{k}:\"other\",{k}:{v}")).into_bytes(),
            _ => format!("{{{w}:{{}},{w}:{{{k}:{v}}}}}").into_bytes(),
        },
        Mutation::EscapedCodeUnit => {
            let escape = format!("\\u{:04x}", input.unit);
            let text = |s: &str| format!("\"{}{escape}\"", &lit(s)[1..lit(s).len() - 1]);
            match n % 3 {
                0 => entry(&format!("{}:{v}", text(&input.key))).into_bytes(),
                1 => entry(&format!("{k}:{}", text(&input.value))).into_bytes(),
                // a surrogate pair spelled out: one scalar value outside the BMP
                _ => entry(&format!("{k}:\"\\ud83d\\ude00{escape}\"")).into_bytes(),
            }
        }
        Mutation::DeepNesting => {
            let depth = [16usize, 127, 128, 129, 1000, 5000][n % 6];
            let (open, close) = if n.is_multiple_of(2) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            entry(&format!("{k}:{nested}")).into_bytes()
        }
        Mutation::HugeNumber => {
            let numbers = [
                "1e999999",
                "-1e999999",
                "123456789012345678901234567890",
                "1.7976931348623157e309",
                "-0",
                "0.0000000000000000000000000001",
            ];
            entry(&format!("{k}:{}", numbers[n % numbers.len()])).into_bytes()
        }
        Mutation::WrongType => {
            let wrong = ["[]", "\"x\"", "1", "null", "true", "[{}]"];
            let pick = wrong[n % wrong.len()];
            match n % 3 {
                0 => pick.as_bytes().to_vec(),
                1 => format!("{{{w}:{pick}}}").into_bytes(),
                _ => entry(&format!("{k}:{pick}")).into_bytes(),
            }
        }
        Mutation::TrailingBytes => {
            let tails: [&[u8]; 5] = [b"x", b"}", b"\0", b" {}", b"\n\t "];
            let mut bytes = valid.into_bytes();
            bytes.extend_from_slice(tails[n % tails.len()]);
            bytes
        }
        Mutation::InvalidUtf8 => {
            let bad: [&[u8]; 4] = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"];
            let mut bytes = format!("{{{w}:{{{k}:\"").into_bytes();
            bytes.extend_from_slice(input.value.as_bytes());
            bytes.extend_from_slice(bad[n % bad.len()]);
            bytes.extend_from_slice(b"\"}}");
            bytes
        }
        Mutation::Truncated => {
            let bytes = valid.into_bytes();
            let cut = (bytes.len() * (n % 4 + 1) / 5).max(1);
            bytes[..cut.min(bytes.len().saturating_sub(1))].to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::body::parse_json;

    fn input(mutation: Mutation, variant: usize, unit: u16) -> MutationInput {
        MutationInput {
            mutation,
            key: "k".into(),
            value: "v".into(),
            unit,
            variant,
        }
    }

    #[test]
    fn lone_surrogate_escape_is_malformed_and_a_valid_one_parses() {
        let lone = render(
            &input(Mutation::EscapedCodeUnit, 1, 0xD800),
            Wrapper::Metadata,
        );
        assert!(
            parse_json(&lone).is_err(),
            "{}",
            String::from_utf8_lossy(&lone)
        );
        let fine = render(
            &input(Mutation::EscapedCodeUnit, 1, 0x41),
            Wrapper::Metadata,
        );
        let json = parse_json(&fine).expect("valid escape parses");
        let value = json.get("metadata").and_then(|m| m.get("k"));
        assert_eq!(value.and_then(|v| v.as_str()), Some("vA"));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let body = render(&input(Mutation::DuplicateKey, 1, 0), Wrapper::Meta);
        let json = parse_json(&body).expect("duplicates parse");
        let value = json.get("meta").and_then(|m| m.get("k"));
        assert_eq!(value.and_then(|v| v.as_str()), Some("v"));
    }

    #[test]
    fn trailing_garbage_and_invalid_utf8_do_not_parse() {
        for variant in 0..3 {
            let body = render(
                &input(Mutation::TrailingBytes, variant, 0),
                Wrapper::Metadata,
            );
            assert!(parse_json(&body).is_err());
        }
        let body = render(&input(Mutation::InvalidUtf8, 0, 0), Wrapper::Metadata);
        assert!(std::str::from_utf8(&body).is_err() && parse_json(&body).is_err());
    }
}
