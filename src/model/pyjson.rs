//! Request bodies as Nova reads them: Python's `json.loads`.
//!
//! Nova decodes a body with `nova/api/openstack/wsgi.py` `JSONDeserializer`
//! (`oslo_serialization.jsonutils.loads`, that is `json.loads` of the body
//! decoded as UTF-8) and turns any `ValueError` into "Malformed request
//! body". What it validates afterwards is a Python value, and Python's JSON
//! reader is not `serde_json`:
//!
//! - `NaN`, `Infinity` and `-Infinity` are read as floats;
//! - a number with a fraction or an exponent is a `float`, and one beyond
//!   the float range is `inf`/`-inf` (`1e999`), not an error;
//! - an integer is a Python `int` of any size, up to CPython 3.11's limit
//!   of 4300 digits for converting a string to an `int` (more is a
//!   `ValueError`, so a malformed body);
//! - an object is a `dict`: its keys stay in the order sent, and a key sent
//!   twice keeps its first place and its last value.
//!
//! [`PyValue`] is that value; [`loads`] reads one. Messages that show a
//! value render it with [`super::pyrepr`].
//!
//! Two things Python reads and this module does not, both Nova 500s
//! (`contrib/differential/known-divergences.yaml`): an unpaired UTF-16
//! surrogate escape (`"\ud800"`; a Rust `String` cannot hold it) and
//! nesting deeper than [`MAX_DEPTH`] (CPython's recursion limit is 1000
//! frames, shared with the WSGI stack above `json.loads`, and a deeper body
//! is a `RecursionError`: 500). Both are [`JsonError`]s, which the model
//! answers as the malformed body Nova intends.

use indexmap::IndexMap;

/// A Python `dict` read from JSON: string keys in the order sent.
pub type PyDict = IndexMap<String, PyValue>;

/// What `json.loads` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    /// An `int`, as the decimal digits Python's `repr` writes.
    Int(String),
    /// A `float`, possibly `inf`, `-inf` or `nan`.
    Float(f64),
    Str(String),
    List(Vec<PyValue>),
    Dict(PyDict),
}

/// Nesting beyond this is refused. Not measured against Nova: its own
/// limit is what remains of CPython's 1000 frames below `json.loads`, and
/// jsonschema's `repr` of the value recurses again when a message shows it.
pub const MAX_DEPTH: usize = 500;

/// CPython 3.11's `sys.int_info.default_max_str_digits`.
pub const MAX_INT_DIGITS: usize = 4300;

/// Why a body is not one JSON value as Python reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct JsonError {
    pub offset: usize,
    pub what: JsonErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("expected a value")]
    ExpectedValue,
    #[error("expected ',' or the end of the container")]
    ExpectedSeparator,
    #[error("expected a string key")]
    ExpectedKey,
    #[error("expected ':'")]
    ExpectedColon,
    #[error("unterminated string")]
    UnterminatedString,
    #[error("control character in a string")]
    ControlCharacter,
    #[error("invalid escape")]
    InvalidEscape,
    #[error("unpaired surrogate escape")]
    LoneSurrogate,
    #[error("integer of more than 4300 digits")]
    IntegerTooLong,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("extra data after the value")]
    ExtraData,
}

impl PyValue {
    /// The member `key` of a dict.
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        self.as_dict()?.get(key)
    }

    pub fn as_dict(&self) -> Option<&PyDict> {
        match self {
            PyValue::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, PyValue::None)
    }
}

impl From<&serde_json::Value> for PyValue {
    /// What `json.loads` reads from `value`'s JSON text.
    fn from(value: &serde_json::Value) -> PyValue {
        use serde_json::Value;
        match value {
            Value::Null => PyValue::None,
            Value::Bool(b) => PyValue::Bool(*b),
            Value::Number(n) if n.is_i64() || n.is_u64() => PyValue::Int(n.to_string()),
            Value::Number(n) => PyValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(text) => PyValue::Str(text.clone()),
            Value::Array(items) => PyValue::List(items.iter().map(PyValue::from).collect()),
            Value::Object(map) => PyValue::Dict(
                map.iter()
                    .map(|(k, v)| (k.clone(), PyValue::from(v)))
                    .collect(),
            ),
        }
    }
}

/// `json.loads(body.decode("utf-8"))`.
pub fn loads(bytes: &[u8]) -> Result<PyValue, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|e| JsonError {
        offset: e.valid_up_to(),
        what: JsonErrorKind::NotUtf8,
    })?;
    let mut reader = Reader { text, pos: 0 };
    reader.skip_whitespace();
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos != text.len() {
        return Err(reader.error(JsonErrorKind::ExtraData));
    }
    Ok(value)
}

/// A cursor over the body's text.
struct Reader<'t> {
    text: &'t str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, what: JsonErrorKind) -> JsonError {
        JsonError {
            offset: self.pos,
            what,
        }
    }

    fn rest(&self) -> &[u8] {
        &self.text.as_bytes()[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// Python's `WHITESPACE`: space, tab, newline, carriage return.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.rest().starts_with(literal.as_bytes());
        if found {
            self.pos += literal.len();
        }
        found
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, JsonError> {
        match self.peek() {
            Some(b'"') => self.string().map(PyValue::Str),
            Some(b'{') => self.dict(depth + 1),
            Some(b'[') => self.list(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.literal(),
        }
    }

    /// `null`, `true`, `false` and Python's `NaN`, `Infinity`.
    fn literal(&mut self) -> Result<PyValue, JsonError> {
        const LITERALS: [(&str, PyValue); 5] = [
            ("null", PyValue::None),
            ("true", PyValue::Bool(true)),
            ("false", PyValue::Bool(false)),
            ("NaN", PyValue::Float(f64::NAN)),
            ("Infinity", PyValue::Float(f64::INFINITY)),
        ];
        for (text, value) in LITERALS {
            if self.eat(text) {
                return Ok(value);
            }
        }
        Err(self.error(JsonErrorKind::ExpectedValue))
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(JsonErrorKind::TooDeep));
        }
        Ok(())
    }

    fn list(&mut self, depth: usize) -> Result<PyValue, JsonError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat("]") {
            return Ok(PyValue::List(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            if self.eat("]") {
                return Ok(PyValue::List(items));
            }
            if !self.eat(",") {
                return Err(self.error(JsonErrorKind::ExpectedSeparator));
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<PyValue, JsonError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut dict = PyDict::new();
        self.skip_whitespace();
        if self.eat("}") {
            return Ok(PyValue::Dict(dict));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error(JsonErrorKind::ExpectedKey));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if !self.eat(":") {
                return Err(self.error(JsonErrorKind::ExpectedColon));
            }
            self.skip_whitespace();
            let value = self.value(depth)?;
            // A dict keeps a repeated key's first place, with the last value.
            dict.insert(key, value);
            self.skip_whitespace();
            if self.eat("}") {
                return Ok(PyValue::Dict(dict));
            }
            if !self.eat(",") {
                return Err(self.error(JsonErrorKind::ExpectedSeparator));
            }
        }
    }

    /// CPython's `_json` number scanner: JSON's grammar plus `-Infinity`;
    /// an `int` when there is neither fraction nor exponent.
    fn number(&mut self) -> Result<PyValue, JsonError> {
        let start = self.pos;
        if self.eat("-Infinity") {
            return Ok(PyValue::Float(f64::NEG_INFINITY));
        }
        self.eat("-");
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => {
                self.pos = start;
                return Err(self.error(JsonErrorKind::ExpectedValue));
            }
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') && self.rest().get(1).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            self.digits();
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let mark = self.pos;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.digits();
                is_float = true;
            } else {
                // Not an exponent: the number ends before the `e`.
                self.pos = mark;
            }
        }
        let text = &self.text[start..self.pos];
        if is_float {
            // Rust's parser rounds as Python's `float()` does, and gives
            // infinity beyond the range.
            return Ok(PyValue::Float(text.parse().unwrap_or(f64::NAN)));
        }
        let digits = text.trim_start_matches('-');
        if digits.len() > MAX_INT_DIGITS {
            self.pos = start;
            return Err(self.error(JsonErrorKind::IntegerTooLong));
        }
        Ok(PyValue::Int(if digits == "0" {
            "0".into()
        } else {
            text.into()
        }))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A string literal, with the cursor on its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run = self
                .rest()
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(len) = run else {
                return Err(self.error(JsonErrorKind::UnterminatedString));
            };
            out.push_str(&self.text[self.pos..self.pos + len]);
            self.pos += len;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                _ => return Err(self.error(JsonErrorKind::ControlCharacter)),
            }
        }
    }

    /// One escape sequence, with the cursor on its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(&code) = self.rest().get(1) else {
            return Err(self.error(JsonErrorKind::UnterminatedString));
        };
        let simple = match code {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => return Err(self.error(JsonErrorKind::InvalidEscape)),
        };
        if let Some(c) = simple {
            self.pos += 2;
            return Ok(c);
        }
        let first = self.hex4(self.pos + 2)?;
        if !(0xD800..0xDC00).contains(&first) {
            self.pos += 6;
            return char::from_u32(first).ok_or_else(|| self.error(JsonErrorKind::LoneSurrogate));
        }
        // A high surrogate pairs with a `\uDC00`-`\uDFFF` right after it.
        let low = match self.rest().get(6..8) {
            Some(b"\\u") => self.hex4(self.pos + 8).ok(),
            _ => None,
        };
        match low {
            Some(low @ 0xDC00..0xE000) => {
                self.pos += 12;
                let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                char::from_u32(code).ok_or_else(|| self.error(JsonErrorKind::LoneSurrogate))
            }
            _ => Err(self.error(JsonErrorKind::LoneSurrogate)),
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, JsonError> {
        let digits = self
            .text
            .as_bytes()
            .get(at..at + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| self.error(JsonErrorKind::InvalidEscape))?;
        let text =
            std::str::from_utf8(digits).map_err(|_| self.error(JsonErrorKind::InvalidEscape))?;
        u32::from_str_radix(text, 16).map_err(|_| self.error(JsonErrorKind::InvalidEscape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> PyValue {
        loads(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn refused(text: &str) -> JsonErrorKind {
        match loads(text.as_bytes()) {
            Ok(v) => panic!("{text:?} read as {v:?}"),
            Err(e) => e.what,
        }
    }

    #[test]
    fn numbers_are_python_ints_and_floats() {
        assert_eq!(read("12"), PyValue::Int("12".into()));
        assert_eq!(read("-0"), PyValue::Int("0".into()));
        let big = "123456789012345678901234567890";
        assert_eq!(read(big), PyValue::Int(big.into()));
        assert_eq!(read("1.5"), PyValue::Float(1.5));
        assert_eq!(read("1e2"), PyValue::Float(100.0));
        assert_eq!(
            read("1.7976931348623157e309"),
            PyValue::Float(f64::INFINITY)
        );
        assert_eq!(read("-1e999999"), PyValue::Float(f64::NEG_INFINITY));
        assert_eq!(read("Infinity"), PyValue::Float(f64::INFINITY));
        assert_eq!(read("-Infinity"), PyValue::Float(f64::NEG_INFINITY));
        assert!(matches!(read("NaN"), PyValue::Float(f) if f.is_nan()));
    }

    #[test]
    fn an_int_of_more_than_4300_digits_is_a_value_error() {
        let at_limit = "9".repeat(MAX_INT_DIGITS);
        assert_eq!(read(&at_limit), PyValue::Int(at_limit.clone()));
        assert_eq!(
            read(&format!("-{at_limit}")),
            PyValue::Int(format!("-{at_limit}"))
        );
        assert_eq!(
            refused(&format!("{at_limit}9")),
            JsonErrorKind::IntegerTooLong
        );
        // A float has no such limit.
        assert_eq!(
            read(&format!("{at_limit}9.0")),
            PyValue::Float(f64::INFINITY)
        );
    }

    #[test]
    fn what_json_refuses_python_refuses() {
        for text in [
            "01",
            "-",
            "1.",
            ".5",
            "+1",
            "-NaN",
            "nan",
            "inf",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "'a'",
            "",
            "\"\\x41\"",
        ] {
            assert!(loads(text.as_bytes()).is_err(), "{text:?}");
        }
        assert_eq!(refused("1 2"), JsonErrorKind::ExtraData);
        assert_eq!(refused("1e"), JsonErrorKind::ExtraData);
        assert_eq!(refused("\"a\tb\""), JsonErrorKind::ControlCharacter);
        assert_eq!(refused("\u{feff}{}"), JsonErrorKind::ExpectedValue);
        assert_eq!(
            loads(b"\"\xff\"").map_err(|e| e.what),
            Err(JsonErrorKind::NotUtf8)
        );
    }

    #[test]
    fn dicts_keep_the_order_sent_and_the_last_of_a_repeated_key() {
        let PyValue::Dict(dict) = read(r#"{"b": 1, "a": 2, "b": 3}"#) else {
            panic!("not a dict");
        };
        let entries: Vec<(&str, &PyValue)> = dict.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(
            entries,
            [
                ("b", &PyValue::Int("3".into())),
                ("a", &PyValue::Int("2".into()))
            ]
        );
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(read(r#""a\u00e9\n\/""#), PyValue::Str("aé\n/".into()));
        assert_eq!(read(r#""\ud83d\ude00""#), PyValue::Str("😀".into()));
        assert_eq!(read("\"\u{7f}é\""), PyValue::Str("\u{7f}é".into()));
        assert_eq!(refused(r#""\ud800""#), JsonErrorKind::LoneSurrogate);
        assert_eq!(refused(r#""\ude00""#), JsonErrorKind::LoneSurrogate);
        assert_eq!(refused(r#""\ud800\u0041""#), JsonErrorKind::LoneSurrogate);
        assert_eq!(refused(r#""\u12g4""#), JsonErrorKind::InvalidEscape);
        assert_eq!(refused(r#""abc"#), JsonErrorKind::UnterminatedString);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(loads(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(refused(&deep(MAX_DEPTH + 1)), JsonErrorKind::TooDeep);
        assert_eq!(refused(&"[".repeat(100_000)), JsonErrorKind::TooDeep);
    }

    #[test]
    fn whitespace_is_python_s() {
        assert_eq!(read(" \t\r\n{ } \n"), PyValue::Dict(PyDict::new()));
        assert!(loads("\u{a0}{}".as_bytes()).is_err());
        assert!(loads(b"\x0c{}").is_err());
    }

    #[test]
    fn json_values_convert_as_python_reads_their_text() {
        let value = serde_json::json!({"a": [1, 2.5, null, true, "x"]});
        assert_eq!(PyValue::from(&value), read(&value.to_string()));
    }
}
