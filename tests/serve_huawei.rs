//! End-to-end tests of `metaconform serve --dialect ecs-v1`: the real
//! binary on 127.0.0.1 port 0, spoken to over HTTP, with the token and with
//! an `SDK-HMAC-SHA256` signature made from the AK/SK of the startup line.

use std::time::Duration;

use metaconform::endpoint::http::RecordedRequest;
use metaconform::endpoint::sign::{AccessKey, SdkDate, sign_recorded};
use metaconform::serve::StartupInfo;
use reqwest::{Client, Method};
use serde_json::{Value, json};

mod common;
use common::*;

/// A running `serve` process, killed on drop.
struct Serve {
    /// Kept for its drop, which stops the process.
    _process: ServeProcess,
    info: StartupInfo,
    client: Client,
}

fn start(dialect: &str) -> Serve {
    let process = spawn_serve(&["--servers", "2", "--dialect", dialect]);
    Serve {
        info: process.info.clone(),
        _process: process,
        client: Client::new(),
    }
}

impl Serve {
    fn server(&self) -> &str {
        &self.info.servers[0]
    }

    /// `{endpoint}/v1/{project}{rest}`.
    fn url(&self, rest: &str) -> String {
        format!("{}/v1/{}{rest}", self.info.endpoint, self.info.project_id)
    }

    /// Send with the member token; status and JSON body (or null).
    async fn call(&self, method: Method, rest: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(rest))
            .header("X-Auth-Token", &self.info.token);
        if let Some(b) = body {
            request = request
                .header("Content-Type", "application/json;charset=UTF-8")
                .body(b.to_string());
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Send a recorded request as it is (signed by the caller).
    async fn send_recorded(&self, request: &RecordedRequest) -> (u16, Value) {
        let method = Method::from_bytes(request.method.as_bytes()).expect("method");
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let response = builder
            .body(request.body.clone())
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A request signed with the startup line's AK/SK.
    fn signed(&self, method: &str, rest: &str, body: Option<Value>) -> RecordedRequest {
        let mut request = RecordedRequest {
            method: method.to_string(),
            url: self.url(rest),
            headers: Vec::new(),
            body: Vec::new(),
        };
        if let Some(b) = body {
            request.headers.push((
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            ));
            request.body = b.to_string().into_bytes();
        }
        let ak = self.info.ak.as_deref().expect("ak in the startup line");
        let sk = self.info.sk.as_deref().expect("sk in the startup line");
        sign_recorded(&mut request, &AccessKey { ak, sk }, SdkDate::now()).expect("sign");
        request
    }

    async fn show(&self, server: &str) -> Value {
        let (status, body) = self
            .call(Method::GET, &format!("/cloudservers/{server}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["server"].clone()
    }
}

#[tokio::test]
async fn startup_line_gives_the_host_root_and_an_access_key() {
    let s = start("ecs-v1");
    let endpoint = reqwest::Url::parse(&s.info.endpoint).expect("endpoint URL");
    assert_eq!(endpoint.path(), "/", "{}", s.info.endpoint);
    assert_eq!(endpoint.host_str(), Some("127.0.0.1"));
    assert_eq!(s.info.dialect, "ecs-v1");
    assert_eq!(s.info.ak.as_deref().map(str::len), Some(20));
    assert_eq!(s.info.sk.as_deref().map(str::len), Some(40));
    let (status, limits) = s.call(Method::GET, "/cloudservers/limits", None).await;
    assert_eq!(
        (status, limits["absolute"]["maxServerMeta"].clone()),
        (200, json!(128))
    );
}

#[tokio::test]
async fn merge_and_delete_read_back_through_show_server() {
    let s = start("ecs-v1");
    let meta = format!("/cloudservers/{}/metadata", s.server());
    let (status, body) = s
        .call(
            Method::POST,
            &meta,
            Some(json!({"metadata": {"a": "1", "b": "2"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .call(Method::POST, &meta, Some(json!({"metadata": {"b": "3"}})))
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"metadata": {"a": "1", "b": "3"}}))
    );
    let shown = s.show(s.server()).await;
    assert_eq!(shown["metadata"], json!({"a": "1", "b": "3"}));
    assert_eq!(shown["id"], s.server());

    let (status, _) = s.call(Method::DELETE, &format!("{meta}/a"), None).await;
    assert_eq!(status, 204);
    assert_eq!(s.show(s.server()).await["metadata"], json!({"b": "3"}));
    let (status, body) = s.call(Method::DELETE, &format!("{meta}/a"), None).await;
    assert_eq!(status, 404, "{body}");

    // v1 has no list, replace-all or per-key read: unrouted, gateway shape.
    let (status, body) = s.call(Method::GET, &meta, None).await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (404, json!("APIGW.0101"))
    );
}

#[tokio::test]
async fn batch_stop_job_poll_and_write_while_stopped() {
    let s = start("ecs-v1");
    let server = s.server().to_string();
    let stop = json!({"os-stop": {"type": "SOFT", "servers": [{"id": server}]}});
    let (status, body) = s
        .call(Method::POST, "/cloudservers/action", Some(stop))
        .await;
    assert_eq!(status, 200, "{body}");
    let job = body["job_id"].as_str().expect("job_id").to_string();

    // Poll as a client would on a real cloud.
    let mut job_status = Value::Null;
    for _ in 0..50 {
        let (status, shown) = s.call(Method::GET, &format!("/jobs/{job}"), None).await;
        assert_eq!(status, 200, "{shown}");
        job_status = shown["status"].clone();
        if job_status == "SUCCESS" || job_status == "FAIL" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(job_status, "SUCCESS");
    let shown = s.show(&server).await;
    assert_eq!(shown["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(shown["status"], "SHUTOFF");

    let meta = format!("/cloudservers/{server}/metadata");
    let (status, body) = s
        .call(
            Method::POST,
            &meta,
            Some(json!({"metadata": {"while": "stopped"}})),
        )
        .await;
    assert_eq!(status, 200, "stopped is a write state on ecs-v1: {body}");

    let start_body = json!({"os-start": {"servers": [{"id": server}]}});
    let (status, _) = s
        .call(Method::POST, "/cloudservers/action", Some(start_body))
        .await;
    assert_eq!(status, 200);
    assert_eq!(s.show(&server).await["OS-EXT-STS:vm_state"], "active");
}

#[tokio::test]
async fn autorecovery_round_trip() {
    let s = start("ecs-v1");
    let path = format!("/cloudservers/{}/autorecovery", s.server());
    for value in ["false", "true", "false"] {
        let (status, _) = s
            .call(
                Method::PUT,
                &path,
                Some(json!({"support_auto_recovery": value})),
            )
            .await;
        assert_eq!(status, 204);
        let (status, body) = s.call(Method::GET, &path, None).await;
        assert_eq!(
            (status, body),
            (200, json!({"support_auto_recovery": value}))
        );
    }
    let (status, body) = s
        .call(
            Method::PUT,
            &path,
            Some(json!({"support_auto_recovery": true})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("Ecs.0005"))
    );
    let (status, body) = s
        .call(
            Method::GET,
            "/cloudservers/no-such-server/autorecovery",
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("Ecs.0114"))
    );
}

#[tokio::test]
async fn signed_requests_are_accepted_and_tampered_ones_refused() {
    let s = start("ecs-v1");
    let meta = format!("/cloudservers/{}/metadata", s.server());
    let good = s.signed("POST", &meta, Some(json!({"metadata": {"signed": "yes"}})));
    assert!(!good.headers.iter().any(|(n, _)| n == "X-Auth-Token"));
    let (status, body) = s.send_recorded(&good).await;
    assert_eq!(status, 200, "{body}");

    let mut tampered = s.signed("POST", &meta, Some(json!({"metadata": {"signed": "no!"}})));
    tampered.body = json!({"metadata": {"signed": "evil"}})
        .to_string()
        .into_bytes();
    let (status, body) = s.send_recorded(&tampered).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_code"], "APIGW.0301");
    assert!(body["error_msg"].is_string() && body["request_id"].is_string());

    let mut wrong_key = s.signed("GET", &format!("/cloudservers/{}", s.server()), None);
    for (name, value) in &mut wrong_key.headers {
        if name == "Authorization" {
            *value = value.replace("Access=", "Access=X");
        }
    }
    let (status, body) = s.send_recorded(&wrong_key).await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (401, json!("APIGW.0301"))
    );

    // Only the signed write took effect.
    assert_eq!(
        s.show(s.server()).await["metadata"],
        json!({"signed": "yes"})
    );
    let shown = s.signed("GET", &format!("/cloudservers/{}", s.server()), None);
    let (status, body) = s.send_recorded(&shown).await;
    assert_eq!(
        (status, body["server"]["metadata"]["signed"].clone()),
        (200, json!("yes"))
    );
}
