//! Reading answers that Python's `json` writes and `serde_json` refuses.
//!
//! Python strings may hold unpaired UTF-16 surrogates, and `json.dumps`
//! writes them as `\udc80`; a Python endpoint that stored one answers with
//! it on every later read. `serde_json` refuses such a document, which made
//! a whole answer "not JSON". Here each unpaired surrogate escape becomes
//! the literal text `\udc80` (its backslash escaped), so the answer stays
//! readable and comparable with the model, and [`Parsed::lone_surrogates`]
//! says that it happened: the endpoint stored and returned something no
//! Unicode string can hold.

use serde_json::Value;

/// A document read losslessly.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Value,
    /// Unpaired surrogate escapes that were turned into text.
    pub lone_surrogates: usize,
}

/// Parse `bytes` as JSON, keeping unpaired surrogate escapes as text.
pub fn parse(bytes: &[u8]) -> Option<Parsed> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Some(Parsed {
            value,
            lone_surrogates: 0,
        });
    }
    let (rewritten, lone_surrogates) = escape_lone_surrogates(bytes);
    if lone_surrogates == 0 {
        return None;
    }
    let value = serde_json::from_slice(&rewritten).ok()?;
    Some(Parsed {
        value,
        lone_surrogates,
    })
}

/// `bytes` with every unpaired `\uD800`-`\uDFFF` escape inside a string
/// written as `\\uXXXX`, and how many there were.
fn escape_lone_surrogates(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut count = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if !in_string {
            in_string = byte == b'"';
            out.push(byte);
            i += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                out.push(byte);
                i += 1;
            }
            b'\\' if bytes.get(i + 1) == Some(&b'u') => {
                let unit = hex_unit(bytes, i + 2);
                let paired = match unit {
                    Some(0xD800..=0xDBFF) => {
                        bytes.get(i + 6..i + 8) == Some(b"\\u")
                            && matches!(hex_unit(bytes, i + 8), Some(0xDC00..=0xDFFF))
                    }
                    _ => false,
                };
                match unit {
                    Some(0xD800..=0xDFFF) if !paired => {
                        out.extend_from_slice(b"\\\\");
                        out.extend_from_slice(&bytes[i + 1..i + 6]);
                        count += 1;
                        i += 6;
                    }
                    Some(0xD800..=0xDBFF) => {
                        out.extend_from_slice(&bytes[i..i + 12]);
                        i += 12;
                    }
                    _ => {
                        out.extend_from_slice(&bytes[i..(i + 6).min(bytes.len())]);
                        i += 6;
                    }
                }
            }
            b'\\' => {
                out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                i += 2;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    (out, count)
}

/// The UTF-16 code unit of the four hex digits at `at`.
fn hex_unit(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_surrogate_becomes_text_and_is_counted() {
        let parsed = parse(br#"{"metadata": {"k": "a\udc80b", "p": "\ud83d\ude00"}}"#).unwrap();
        assert_eq!(parsed.lone_surrogates, 1);
        assert_eq!(parsed.value["metadata"]["k"], "a\\udc80b");
        assert_eq!(parsed.value["metadata"]["p"], "\u{1F600}");
    }

    #[test]
    fn escaped_backslashes_and_plain_documents_are_untouched() {
        let plain = parse(br#"{"k": "\\udc80"}"#).unwrap();
        assert_eq!(plain.lone_surrogates, 0);
        assert_eq!(plain.value["k"], "\\udc80");
        let high_then_text = parse(br#"["\ud800x", "\udfff"]"#).unwrap();
        assert_eq!(high_then_text.lone_surrogates, 2);
        assert_eq!(high_then_text.value[0], "\\ud800x");
        assert!(parse(b"<html>").is_none());
        assert!(
            parse(br#"{"k": "\ud800"#).is_none(),
            "truncated stays refused"
        );
    }
}
