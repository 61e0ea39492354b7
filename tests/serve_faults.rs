//! Each fault of `metaconform serve`, observed through the in-process
//! handler: the same scenario runs on a clean app and on a faulted one, and
//! both answers are checked, so a fault that does nothing fails its test.

use metaconform::serve::App;
use metaconform::serve::faults::Fault;
use metaconform::serve::message::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

struct Ctx {
    app: App,
    project: String,
    alt: String,
    server: String,
}

fn ctx(faults: &[&str]) -> Ctx {
    let profile = metaconform::profile::builtin("nova").expect("nova");
    let faults: Vec<Fault> = faults.iter().map(|f| f.parse().expect("fault")).collect();
    let app = App::new(profile, 1, faults, 1).expect("app");
    let project = app.projects().main.clone();
    let alt = app.projects().alt.clone();
    let server = app.server_ids(&project)[0].clone();
    Ctx {
        app,
        project,
        alt,
        server,
    }
}

impl Ctx {
    fn token(&self) -> String {
        format!("demo:{}", self.project)
    }

    fn raw(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
        let mut request = HttpRequest::new(method, &format!("/v2.1/{}{path}", self.project))
            .header("X-Auth-Token", token);
        if let Some(b) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        self.app.handle(request)
    }

    fn as_token(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let r = self.raw(token, method, path, body);
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.as_token(&self.token(), method, path, body)
    }

    fn meta(&self) -> String {
        format!("/servers/{}/metadata", self.server)
    }

    fn action(&self, body: Value) -> u16 {
        self.call(
            "POST",
            &format!("/servers/{}/action", self.server),
            Some(body),
        )
        .0
    }

    fn merge(&self, map: Value) -> (u16, Value) {
        self.call("POST", &self.meta(), Some(json!({ "metadata": map })))
    }
}

/// Run `scenario` without and with `fault`.
fn both<T>(fault: &str, scenario: impl Fn(&Ctx) -> T) -> (T, T) {
    (scenario(&ctx(&[])), scenario(&ctx(&[fault])))
}

#[test]
fn put_merges() {
    let (clean, faulted) = both("put-merges", |c| {
        c.merge(json!({"a": "1"}));
        c.call("PUT", &c.meta(), Some(json!({"metadata": {"b": "2"}})));
        c.call("GET", &c.meta(), None).1
    });
    assert_eq!(clean, json!({"metadata": {"b": "2"}}));
    assert_eq!(faulted, json!({"metadata": {"a": "1", "b": "2"}}));
}

#[test]
fn key_and_value_limits_off_by_one() {
    let key = |c: &Ctx| c.merge(json!({ "k".repeat(256): "v" })).0;
    assert_eq!(both("key-limit-off-by-one", key), (400, 200));
    let value = |c: &Ctx| c.merge(json!({ "k": "v".repeat(256) })).0;
    assert_eq!(both("value-limit-off-by-one", value), (400, 200));
}

#[test]
fn bytes_not_chars() {
    let accented = |c: &Ctx| c.merge(json!({ "k": "é".repeat(200) })).0;
    assert_eq!(both("bytes-not-chars", accented), (200, 400));
}

#[test]
fn allow_shelved_writes_and_ignore_lock() {
    let shelved = |c: &Ctx| {
        assert_eq!(c.action(json!({"shelve": null})), 202);
        c.merge(json!({"k": "v"})).0
    };
    assert_eq!(both("allow-shelved-writes", shelved), (409, 200));
    let locked = |c: &Ctx| {
        assert_eq!(c.action(json!({"lock": null})), 202);
        c.merge(json!({"k": "v"})).0
    };
    assert_eq!(both("ignore-lock", locked), (409, 200));
    assert_eq!(both("wrong-conflict-code", locked), (409, 400));
}

#[test]
fn quota_off_by_one() {
    let fill = |c: &Ctx| {
        let map: serde_json::Map<String, Value> =
            (0..129).map(|i| (format!("k{i}"), json!("v"))).collect();
        c.call("PUT", &c.meta(), Some(json!({ "metadata": map }))).0
    };
    assert_eq!(both("quota-off-by-one", fill), (403, 200));
}

#[test]
fn missing_request_id() {
    let has_id = |c: &Ctx| {
        c.raw(&c.token(), "GET", &c.meta(), None)
            .header("x-openstack-request-id")
            .is_some()
    };
    assert_eq!(both("missing-request-id", has_id), (true, false));
}

#[test]
fn merge_returns_request() {
    let second = |c: &Ctx| {
        c.merge(json!({"a": "1"}));
        c.merge(json!({"b": "2"})).1
    };
    let (clean, faulted) = both("merge-returns-request", second);
    assert_eq!(clean, json!({"metadata": {"a": "1", "b": "2"}}));
    assert_eq!(faulted, json!({"metadata": {"b": "2"}}));
}

#[test]
fn delete_missing_204() {
    let delete = |c: &Ctx| c.call("DELETE", &format!("{}/nope", c.meta()), None).0;
    assert_eq!(both("delete-missing-204", delete), (404, 204));
}

#[test]
fn charset_allows_slash_or_unicode() {
    let slash = |c: &Ctx| {
        (
            c.merge(json!({"a/b": "1"})).0,
            c.merge(json!({"ключ": "1"})).0,
        )
    };
    assert_eq!(
        both("charset-allows-slash-or-unicode", slash),
        ((400, 400), (200, 200))
    );
}

#[test]
fn case_insensitive_keys() {
    let upper = |c: &Ctx| {
        let set = c.call(
            "PUT",
            &format!("{}/Foo", c.meta()),
            Some(json!({"meta": {"Foo": "1"}})),
        );
        assert_eq!(set.0, 200);
        c.call("GET", &c.meta(), None).1
    };
    let (clean, faulted) = both("case-insensitive-keys", upper);
    assert_eq!(clean, json!({"metadata": {"Foo": "1"}}));
    assert_eq!(faulted, json!({"metadata": {"foo": "1"}}));
}

#[test]
fn reader_can_write_and_cross_project_visible() {
    let reader = |c: &Ctx| {
        let token = format!("reader:{}:reader", c.project);
        c.as_token(
            &token,
            "POST",
            &c.meta(),
            Some(json!({"metadata": {"k": "v"}})),
        )
        .0
    };
    assert_eq!(both("reader-can-write", reader), (403, 200));
    let alt = |c: &Ctx| {
        let request = HttpRequest::new("GET", &format!("/v2.1/{}{}", c.alt, c.meta()))
            .header("X-Auth-Token", &format!("alt:{}", c.alt));
        c.app.handle(request).status
    };
    assert_eq!(both("cross-project-visible", alt), (404, 200));
}

#[test]
fn response_faults() {
    let answer = |c: &Ctx| c.raw(&c.token(), "GET", &c.meta(), None);
    let (clean, faulted) = both("error500=1", answer);
    assert_eq!((clean.status, faulted.status), (200, 500));
    let body: Value = serde_json::from_slice(&faulted.body).expect("json");
    assert!(body["computeFault"]["message"].is_string());
    for fault in ["truncate-body", "non-json-body"] {
        let (clean, faulted) = both(fault, answer);
        assert!(serde_json::from_slice::<Value>(&clean.body).is_ok());
        assert!(faulted.is_json(), "{fault}: Content-Type still says JSON");
        assert!(
            serde_json::from_slice::<Value>(&faulted.body).is_err(),
            "{fault}"
        );
    }
}

#[test]
fn error500_rate_follows_the_seed() {
    let run = || {
        let c = ctx(&["error500=0.5"]);
        (0..40)
            .map(|_| c.raw(&c.token(), "GET", &c.meta(), None).status)
            .collect::<Vec<u16>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains(&500) && first.contains(&200));
}
