//! Reading an endpoint's error body: its fault name(s) and its message, in
//! the shapes the dialects answer with (Nova: `{"badRequest": {"code",
//! "message"}}`; Huawei and Keystone: `{"error": {"code", "message"}}`;
//! Huawei's gateway: `{"error_code", "error_msg"}`). The one place the
//! runner's checks, `diff` and the fuzzer's answer classes read them.

use serde_json::Value;

/// The fault names an error body may carry, the most specific last: the
/// Nova fault name (the single top-level member holding a `code` or a
/// `message`; for Huawei's `{"error": {...}}` that is `error`), then
/// `error.code`, then the gateway's `error_code`. Empty for anything else
/// (a success body, a body that is not an object).
pub fn fault_names(body: &Value) -> Vec<String> {
    let Some(object) = body.as_object() else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if object.len() == 1
        && let Some((name, inner)) = object.iter().next()
        && (inner.get("code").is_some() || inner.get("message").is_some())
    {
        names.push(name.clone());
    }
    if let Some(code) = object
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
    {
        names.push(code.to_string());
    }
    if let Some(code) = object.get("error_code").and_then(Value::as_str) {
        names.push(code.to_string());
    }
    names
}

/// The most specific fault name of an error body (see [`fault_names`]).
pub fn fault_name(body: &Value) -> Option<String> {
    fault_names(body).pop()
}

/// The message of an error body: the gateway's `error_msg`, else the
/// `message` of the single top-level member (Nova) or of `error`.
pub fn message(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    if let Some(msg) = object.get("error_msg").and_then(Value::as_str) {
        return Some(msg.to_string());
    }
    let inner = if object.len() == 1 {
        object.values().next()
    } else {
        object.get("error")
    }?;
    inner
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_dialect_shape_gives_its_most_specific_name_last() {
        let nova = json!({"badRequest": {"code": 400, "message": "Invalid input"}});
        assert_eq!(fault_names(&nova), ["badRequest"]);
        assert_eq!(message(&nova).as_deref(), Some("Invalid input"));
        let gateway = json!({"error_code": "Ecs.0005", "error_msg": "bad"});
        assert_eq!(fault_names(&gateway), ["Ecs.0005"]);
        assert_eq!(message(&gateway).as_deref(), Some("bad"));
        let huawei = json!({"error": {"code": "Ecs.0114", "message": "gone"}});
        assert_eq!(fault_names(&huawei), ["error", "Ecs.0114"]);
        assert_eq!(fault_name(&huawei).as_deref(), Some("Ecs.0114"));
        assert_eq!(message(&huawei).as_deref(), Some("gone"));
        assert!(fault_names(&json!({"metadata": {"a": "1"}})).is_empty());
        assert!(fault_names(&json!("text")).is_empty());
    }
}
