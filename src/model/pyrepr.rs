//! Python's rendering of request values inside Nova's messages, in one
//! place: `repr()` (jsonschema's `{instance!r}`, `repr(extra)` in
//! `_keywords.py` `additionalProperties`) and `str()` (Nova's
//! `"Value: %(value)s"` in `nova/api/validation/validators.py`
//! `_SchemaValidator.validate`) of what `json.loads` gives
//! ([`PyValue`]): `str`, `int`, `float`, `True`/`False`, `None`, `list`,
//! `dict`.
//!
//! A string's `repr` follows CPython 3.11's `unicode_repr`: single quotes
//! unless the text holds `'` and no `"`; `\\`, the quote, `\t`, `\n`, `\r`
//! escaped; other ASCII controls and DEL as `\xNN`; non-ASCII characters
//! that `str.isprintable()` refuses as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
//! [`is_printable`] knows the non-printable classes from tables (controls,
//! format characters, separators, private use, noncharacters); code points
//! Unicode leaves unassigned are shown as printable, where Python would
//! escape them.
//!
//! A dict is rendered in the order its keys were sent.

use super::pyjson::PyValue;

/// Python's `repr()` of a value read from JSON.
pub fn repr(value: &PyValue) -> String {
    match value {
        PyValue::None => "None".into(),
        PyValue::Bool(true) => "True".into(),
        PyValue::Bool(false) => "False".into(),
        PyValue::Str(s) => repr_str(s),
        PyValue::Int(digits) => digits.clone(),
        PyValue::Float(f) => repr_float(*f),
        PyValue::List(items) => {
            let inner: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", inner.join(", "))
        }
        PyValue::Dict(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `str()` of a JSON value: a string as it is, anything else as
/// its `repr()`.
pub fn str(value: &PyValue) -> String {
    match value {
        PyValue::Str(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr()` of a string.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a float: the shortest form (`1.0`, `1e+16`,
/// `1e-05`), `inf`, `-inf`, `nan`.
fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let (negative, digits, exponent) = shortest_digits(f);
    let sign = if negative { "-" } else { "" };
    // `float_repr_style` 'short': positional from 1e-4 up to 1e16.
    if (-4..16).contains(&exponent) {
        return format!("{sign}{}", positional(&digits, exponent));
    }
    let (first, rest) = digits.split_at(1);
    let mantissa = match rest {
        "" => first.to_string(),
        _ => format!("{first}.{rest}"),
    };
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.unsigned_abs())
}

/// The shortest decimal digits that read back as `f`, as Python's
/// `repr` (David Gay's dtoa, mode 0) chooses them, and the decimal exponent
/// of the first. Rust's shortest form gives the number of digits; a tie
/// between two candidates of that length (2^49 + 0.25) is then broken to
/// even by exact rounding at that precision, as dtoa does, where Rust's
/// shortest form would round it up.
fn shortest_digits(f: f64) -> (bool, String, i32) {
    let shortest = format!("{f:e}");
    let mantissa = shortest
        .split_once('e')
        .map_or(shortest.as_str(), |(m, _)| m);
    let count = mantissa.chars().filter(char::is_ascii_digit).count();
    let exact = format!("{:.*e}", count.saturating_sub(1), f);
    let (mantissa, exponent) = exact.split_once('e').unwrap_or((exact.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (
        mantissa.starts_with('-'),
        digits,
        exponent.parse().unwrap_or(0),
    )
}

/// `digits` × 10^(`exponent` − len + 1) written out, with at least one
/// digit after the point (`1.0`, `0.0001`, `123.45`).
fn positional(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let point = exponent as usize + 1;
    if digits.len() > point {
        let (whole, fraction) = digits.split_at(point);
        return format!("{whole}.{fraction}");
    }
    format!("{digits}{}.0", "0".repeat(point - digits.len()))
}

/// Whether Python's `str.isprintable()` holds for a non-ASCII character:
/// not a control (Cc), format (Cf), private-use (Co), noncharacter,
/// or separator other than the space (Zs, Zl, Zp).
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    !NOT_PRINTABLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&u)) && !is_noncharacter(u)
}

fn is_noncharacter(u: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&u) || (u & 0xfffe) == 0xfffe
}

/// Ranges of non-ASCII code points that are Cc, Cf, Co, Zs, Zl or Zp in
/// Unicode 14 (Python 3.11).
const NOT_PRINTABLE: &[(u32, u32)] = &[
    (0x80, 0x9f),
    (0xa0, 0xa0),
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x1680, 0x1680),
    (0x180e, 0x180e),
    (0x2000, 0x200f),
    (0x2028, 0x202f),
    (0x205f, 0x2064),
    (0x2066, 0x206f),
    (0x3000, 0x3000),
    (0xe000, 0xf8ff),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x13438),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
    (0xf0000, 0xffffd),
    (0x100000, 0x10fffd),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repr(value: &serde_json::Value) -> String {
        super::repr(&PyValue::from(value))
    }

    fn str(value: &serde_json::Value) -> String {
        super::str(&PyValue::from(value))
    }

    /// Each expected text is what CPython 3.11 prints for `repr(...)`.
    #[test]
    fn strings_as_python_writes_them() {
        let cases = [
            ("a", "'a'"),
            ("'", "\"'\""),
            ("'\"", "'\\'\"'"),
            ("\"", "'\"'"),
            ("\\", "'\\\\'"),
            ("k\n", "'k\\n'"),
            ("k\r\n\t", "'k\\r\\n\\t'"),
            ("\0\u{1}\u{1b}\u{7f}", "'\\x00\\x01\\x1b\\x7f'"),
            ("\u{85}\u{a0}é", "'\\x85\\xa0é'"),
            (
                "\u{2003}\u{200b}\u{3000}\u{feff}",
                "'\\u2003\\u200b\\u3000\\ufeff'",
            ),
            ("日本\u{1f600}", "'日本\u{1f600}'"),
            ("\u{f0000}", "'\\U000f0000'"),
        ];
        for (text, python) in cases {
            assert_eq!(repr_str(text), python, "{text:?}");
        }
    }

    #[test]
    fn values_as_python_writes_them() {
        assert_eq!(
            repr(&json!({"a": [1, 1.5, null, true, false], "b'": {}})),
            "{'a': [1, 1.5, None, True, False], \"b'\": {}}"
        );
        assert_eq!(repr(&json!(1e16)), "1e+16");
        assert_eq!(repr(&json!(1e-5)), "1e-05");
        assert_eq!(repr(&json!(1.0)), "1.0");
        assert_eq!(repr(&json!(123456789012345.0)), "123456789012345.0");
        assert_eq!(str(&json!("x'")), "x'");
        assert_eq!(super::repr(&PyValue::Float(f64::INFINITY)), "inf");
        assert_eq!(super::repr(&PyValue::Float(f64::NEG_INFINITY)), "-inf");
        assert_eq!(super::repr(&PyValue::Float(f64::NAN)), "nan");
        assert_eq!(super::repr(&PyValue::Float(-0.0)), "-0.0");
        // Each expected text is CPython 3.11's repr.
        let floats = [
            (0.0, "0.0"),
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (-2.5e-300, "-2.5e-300"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9999999999999998.0, "9999999999999998.0"),
            (123.456, "123.456"),
            (100.0, "100.0"),
            // Ties between two shortest candidates go to the even one.
            (2f64.powi(49) + 0.25, "562949953421312.2"),
            (2f64.powi(50) + 0.25, "1125899906842624.2"),
            (26363981746409.0 + 0.3125, "26363981746409.312"),
        ];
        for (f, python) in floats {
            assert_eq!(super::repr(&PyValue::Float(f)), python, "{f:e}");
        }
        let big = "123456789012345678901234567890";
        assert_eq!(super::repr(&PyValue::Int(big.into())), big);
        assert_eq!(str(&json!(["x"])), "['x']");
    }
}
