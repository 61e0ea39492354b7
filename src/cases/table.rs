//! Table expansion: one case template, one case per row.
//!
//! A row is a map of variables. Every string of the template, map keys
//! included, is rewritten: `${var}` becomes the value, `${var*N}` the value
//! repeated `N` times (`N` in digits, or the name of a variable holding
//! them), and a string that is exactly `${json:var}` becomes the
//! JSON value parsed from the variable (to put numbers, objects or `null`
//! where a string would otherwise go). Substitution is a single pass: a
//! value that itself contains `${` is inserted as is.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use thiserror::Error;

use super::format::Table;

/// The variables of one row.
pub type Row = BTreeMap<String, String>;

/// Largest `N` in `${var*N}`: enough for every size limit of the spec.
const MAX_REPEAT: usize = 200_000;

/// Why a table or one of its rows cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    #[error("a table needs `rows` or `each_char`, and has neither")]
    NoRows,
    #[error("a table has both `rows` and `each_char`; use one")]
    BothRowSources,
    #[error("`each_char` is empty, so the table makes no case")]
    EmptyEachChar,
    #[error("the template's `id` must be a string")]
    IdNotString,
    #[error("the template's id '{0}' uses no variable, so every row would get the same id")]
    IdWithoutVariable(String),
    #[error("unknown variable '{name}' (this row has: {known})")]
    UnknownVariable { name: String, known: String },
    #[error("'${{' without a closing '}}' in '{0}'")]
    Unterminated(String),
    #[error("bad repeat count '{0}' in '${{…*N}}' (0 to {MAX_REPEAT})")]
    BadRepeat(String),
    #[error("variable '{name}' is not valid JSON for '${{json:{name}}}': {reason}")]
    BadJson { name: String, reason: String },
    #[error("'${{json:…}}' must be the whole string, not part of '{0}'")]
    JsonInsideString(String),
}

impl TableError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            TableError::NoRows | TableError::BothRowSources | TableError::EmptyEachChar => {
                "give `rows: [{var: value}, ...]` or `each_char: \"abc\"`"
            }
            TableError::IdNotString | TableError::IdWithoutVariable(_) => {
                "derive the id from a variable, e.g. `id: charset.alone.${hex}`"
            }
            TableError::UnknownVariable { .. } => {
                "define the variable in every row, or fix its name (each_char gives char, code, hex)"
            }
            TableError::Unterminated(_) => "close the variable: `${name}`",
            TableError::BadRepeat(_) => {
                "write the count as digits or a variable holding digits, e.g. `${c*255}`, `${c*n}`"
            }
            TableError::BadJson { .. } => {
                "give the JSON text as the variable's value, e.g. `v: \"[1, 2]\"`"
            }
            TableError::JsonInsideString(_) => {
                "use `${json:var}` alone as the value, e.g. `k: \"${json:v}\"`"
            }
        }
    }
}

/// The rows of a table, in order.
pub fn rows(table: &Table) -> Result<Vec<Row>, TableError> {
    match (&table.each_char, table.rows.is_empty()) {
        (Some(_), false) => Err(TableError::BothRowSources),
        (None, true) => Err(TableError::NoRows),
        (None, false) => Ok(table.rows.clone()),
        (Some(chars), true) if chars.is_empty() => Err(TableError::EmptyEachChar),
        (Some(chars), true) => Ok(chars.chars().map(char_row).collect()),
    }
}

/// The variables `char`, `code` and `hex` for one character.
pub fn char_row(c: char) -> Row {
    let code = format!("{:02X}", u32::from(c));
    let mut row = Row::new();
    row.insert("char".into(), c.to_string());
    row.insert("hex".into(), code.to_lowercase());
    row.insert("code".into(), code);
    row
}

/// Check that the template's id uses a variable.
pub fn check_template_id(template: &Value) -> Result<(), TableError> {
    match template.get("id") {
        Some(Value::String(id)) if id.contains("${") => Ok(()),
        Some(Value::String(id)) => Err(TableError::IdWithoutVariable(id.clone())),
        _ => Err(TableError::IdNotString),
    }
}

/// A short label naming a row in messages: `char = '\t'` or `op = merge, n = 1`.
pub fn row_label(row: &Row) -> String {
    let parts: Vec<String> = row
        .iter()
        .filter(|(k, _)| k.as_str() != "code" && k.as_str() != "hex")
        .map(|(k, v)| format!("{k} = {}", short(v)))
        .collect();
    parts.join(", ")
}

fn short(v: &str) -> String {
    let debug = format!("{v:?}");
    if debug.chars().count() > 24 {
        let head: String = debug.chars().take(20).collect();
        format!("{head}…\"")
    } else {
        debug
    }
}

/// Substitute `row` into every string of `template`.
pub fn expand(template: &Value, row: &Row) -> Result<Value, TableError> {
    match template {
        Value::String(s) => expand_string(s, row),
        Value::Array(items) => items
            .iter()
            .map(|item| expand(item, row))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = substitute(key, row)?;
                out.insert(key, expand(value, row)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// A string value: `${json:var}` alone gives JSON, anything else a string.
fn expand_string(s: &str, row: &Row) -> Result<Value, TableError> {
    if let Some(name) = s
        .strip_prefix("${json:")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        let text = lookup(name, row)?;
        return serde_json::from_str(text).map_err(|e| TableError::BadJson {
            name: name.to_string(),
            reason: e.to_string(),
        });
    }
    substitute(s, row).map(Value::String)
}

/// Replace every `${var}` and `${var*N}` in `s`.
pub fn substitute(s: &str, row: &Row) -> Result<String, TableError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| TableError::Unterminated(s.to_string()))?;
        out.push_str(&resolve(&after[..end], row, s)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One `${...}` body: `var` or `var*N`.
fn resolve(body: &str, row: &Row, whole: &str) -> Result<String, TableError> {
    if body.starts_with("json:") {
        return Err(TableError::JsonInsideString(whole.to_string()));
    }
    match body.split_once('*') {
        None => lookup(body, row).map(str::to_string),
        Some((name, count)) => {
            let count = count.trim();
            let digits = if count.bytes().all(|b| b.is_ascii_digit()) {
                count
            } else {
                lookup(count, row)?
            };
            let n: usize = digits
                .parse()
                .ok()
                .filter(|n| *n <= MAX_REPEAT)
                .ok_or_else(|| TableError::BadRepeat(digits.to_string()))?;
            lookup(name.trim(), row).map(|v| v.repeat(n))
        }
    }
}

fn lookup<'r>(name: &str, row: &'r Row) -> Result<&'r str, TableError> {
    row.get(name)
        .map(String::as_str)
        .ok_or_else(|| TableError::UnknownVariable {
            name: name.to_string(),
            known: row.keys().cloned().collect::<Vec<_>>().join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn char_rows_give_padded_upper_and_lower_hex() {
        let r = char_row('\t');
        assert_eq!(r["code"], "09");
        assert_eq!(r["hex"], "09");
        assert_eq!(char_row('-')["code"], "2D");
        assert_eq!(char_row('-')["hex"], "2d");
        assert_eq!(char_row('😀')["code"], "1F600");
    }

    #[test]
    fn substitutes_keys_values_and_repeats() {
        let template = json!({"id": "x.${hex}", "m": {"a${char}b": "${char*3}"}, "n": 5});
        let out = expand(&template, &char_row('é')).unwrap();
        assert_eq!(out, json!({"id": "x.e9", "m": {"aéb": "ééé"}, "n": 5}));
    }

    #[test]
    fn repeat_count_may_be_a_variable() {
        let r = row(&[("c", "é"), ("n", "3")]);
        assert_eq!(substitute("${c*n}", &r).unwrap(), "ééé");
    }

    #[test]
    fn single_pass_leaves_inserted_dollar_braces_alone() {
        let out = substitute("k${c}", &row(&[("c", "${c}")])).unwrap();
        assert_eq!(out, "k${c}");
    }

    #[test]
    fn json_variable_becomes_a_json_value() {
        let r = row(&[("v", "[1, true]")]);
        assert_eq!(expand(&json!("${json:v}"), &r).unwrap(), json!([1, true]));
        assert!(matches!(
            expand(&json!("a${json:v}"), &r),
            Err(TableError::JsonInsideString(_))
        ));
        let bad = row(&[("v", "{")]);
        assert!(matches!(
            expand(&json!("${json:v}"), &bad),
            Err(TableError::BadJson { .. })
        ));
    }

    #[test]
    fn errors_name_the_problem() {
        let r = row(&[("a", "1")]);
        assert!(matches!(
            substitute("${b}", &r),
            Err(TableError::UnknownVariable { name, .. }) if name == "b"
        ));
        assert!(matches!(
            substitute("x${a", &r),
            Err(TableError::Unterminated(_))
        ));
        assert_eq!(substitute("${a*0}", &r).unwrap(), "");
        assert!(matches!(
            substitute("${a*200001}", &r),
            Err(TableError::BadRepeat(_))
        ));
        assert!(matches!(
            substitute("${a*x}", &r),
            Err(TableError::UnknownVariable { name, .. }) if name == "x"
        ));
        let letters = row(&[("c", "é"), ("n", "three")]);
        assert!(matches!(
            substitute("${c*n}", &letters),
            Err(TableError::BadRepeat(n)) if n == "three"
        ));
    }

    #[test]
    fn template_id_needs_a_variable() {
        assert!(check_template_id(&json!({"id": "a.${x}"})).is_ok());
        assert_eq!(
            check_template_id(&json!({"id": "a.b"})),
            Err(TableError::IdWithoutVariable("a.b".into()))
        );
        assert_eq!(
            check_template_id(&json!({"name": "n"})),
            Err(TableError::IdNotString)
        );
    }
}
