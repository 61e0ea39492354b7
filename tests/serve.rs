//! End-to-end tests of `metaconform serve`: the real binary on 127.0.0.1
//! port 0, spoken to over HTTP.

use std::process::Command;

use metaconform::serve::StartupInfo;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

mod common;
use common::*;

/// A running `serve` process, killed on drop.
struct Serve {
    process: ServeProcess,
    info: StartupInfo,
    client: Client,
}

fn start(args: &[&str]) -> Serve {
    let process = spawn_serve(&[&["--servers", "2"], args].concat());
    Serve {
        info: process.info.clone(),
        process,
        client: Client::new(),
    }
}

impl Serve {
    fn server(&self) -> &str {
        &self.info.servers[0]
    }

    fn root(&self) -> String {
        let without_project = self
            .info
            .endpoint
            .rsplit_once("/v2.1/")
            .expect("nova endpoint")
            .0;
        without_project.to_string()
    }

    fn meta_url(&self, server: &str, key: Option<&str>) -> String {
        let base = format!("{}/servers/{server}/metadata", self.info.endpoint);
        match key {
            Some(k) => format!("{base}/{k}"),
            None => base,
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.client.request(method, url);
        if let Some(t) = token {
            request = request.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        (status, headers, bytes)
    }

    /// As the member token; the JSON body (or null).
    async fn call(&self, method: Method, url: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.info.token.clone();
        self.call_as(&token, method, url, body).await
    }

    async fn call_as(
        &self,
        token: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, bytes) = self.send(method, url, Some(token), body).await;
        (
            status.as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn action(&self, token: &str, server: &str, body: Value) -> (u16, Value) {
        let url = format!("{}/servers/{server}/action", self.info.endpoint);
        self.call_as(token, Method::POST, &url, Some(body)).await
    }
}

#[tokio::test]
async fn metadata_round_trip() {
    let s = start(&[]);
    let list = s.meta_url(s.server(), None);
    assert_eq!(
        s.call(Method::GET, &list, None).await,
        (200, json!({"metadata": {}}))
    );
    let merged = s
        .call(
            Method::POST,
            &list,
            Some(json!({"metadata": {"a": "1", "b": "2"}})),
        )
        .await;
    assert_eq!(merged, (200, json!({"metadata": {"a": "1", "b": "2"}})));
    let merged = s
        .call(
            Method::POST,
            &list,
            Some(json!({"metadata": {"b": "3", "c": "4"}})),
        )
        .await;
    assert_eq!(
        merged,
        (200, json!({"metadata": {"a": "1", "b": "3", "c": "4"}}))
    );
    let replaced = s
        .call(Method::PUT, &list, Some(json!({"metadata": {"x": "9"}})))
        .await;
    assert_eq!(replaced, (200, json!({"metadata": {"x": "9"}})));
    let key = s.meta_url(s.server(), Some("k%20sp"));
    let set = s
        .call(Method::PUT, &key, Some(json!({"meta": {"k sp": "v"}})))
        .await;
    assert_eq!(set, (200, json!({"meta": {"k sp": "v"}})));
    assert_eq!(
        s.call(Method::GET, &key, None).await,
        (200, json!({"meta": {"k sp": "v"}}))
    );
    assert_eq!(s.call(Method::DELETE, &key, None).await.0, 204);
    let (status, body) = s.call(Method::GET, &key, None).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["itemNotFound"]["message"],
        "Metadata item was not found"
    );
    assert_eq!(
        s.call(Method::GET, &list, None).await,
        (200, json!({"metadata": {"x": "9"}}))
    );
    let mismatch = s
        .call(Method::PUT, &key, Some(json!({"meta": {"other": "v"}})))
        .await;
    assert_eq!(mismatch.0, 400);
    assert_eq!(
        mismatch.1["badRequest"]["message"],
        "Request body and URI mismatch"
    );
}

#[tokio::test]
async fn headers_request_ids_and_versions() {
    let s = start(&[]);
    let url = s.meta_url(s.server(), None);
    let response = s
        .client
        .get(&url)
        .header("X-Auth-Token", &s.info.token)
        .header("OpenStack-API-Version", "compute 2.50")
        .send()
        .await
        .expect("send");
    let h = response.headers();
    let id = h
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id");
    assert!(id.starts_with("req-"));
    assert_eq!(
        h.get("x-compute-request-id").and_then(|v| v.to_str().ok()),
        Some(id)
    );
    assert_eq!(
        h.get("openstack-api-version").and_then(|v| v.to_str().ok()),
        Some("compute 2.50")
    );
    assert_eq!(h.get_all("vary").iter().count(), 2);
    let (status, body) = {
        let r = s
            .client
            .get(&url)
            .header("X-Auth-Token", &s.info.token)
            .header("OpenStack-API-Version", "compute 2.105")
            .send()
            .await
            .expect("send");
        (
            r.status().as_u16(),
            serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json"),
        )
    };
    assert_eq!(status, 406);
    assert!(
        body["computeFault"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("maximum is 2.104"))
    );
}

#[tokio::test]
async fn auth_cases() {
    let s = start(&[]);
    let url = s.meta_url(s.server(), None);
    let (status, headers, body) = s.send(Method::GET, &url, None, None).await;
    assert_eq!(status, 401);
    assert!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Keystone uri="))
    );
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["error"]["title"], "Unauthorized");
    let reader = s.info.reader_token.clone();
    assert_eq!(s.call_as(&reader, Method::GET, &url, None).await.0, 200);
    let (status, body) = s
        .call_as(
            &reader,
            Method::POST,
            &url,
            Some(json!({"metadata": {"a": "1"}})),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        body["forbidden"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("server-metadata:create"))
    );
    // The alt project's member, on its own endpoint, cannot see our server.
    let alt_url = url.replace(&s.info.project_id, &s.info.alt_project_id);
    let alt = s.info.alt_token.clone();
    let (status, body) = s.call_as(&alt, Method::GET, &alt_url, None).await;
    assert_eq!(status, 404);
    assert!(
        body["itemNotFound"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("could not be found"))
    );
    // ...and on ours the URL project does not match its token.
    let (status, body) = s.call_as(&alt, Method::GET, &url, None).await;
    assert_eq!(status, 400);
    assert!(
        body["badRequest"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Malformed request URL"))
    );
    // An admin of the main project reaches the alt project's server.
    let alt_server_url = format!(
        "{}/servers/{}/metadata",
        s.root() + "/v2.1",
        s.info.alt_servers[0]
    );
    let admin = s.info.admin_token.clone();
    assert_eq!(
        s.call_as(&admin, Method::GET, &alt_server_url, None)
            .await
            .0,
        200
    );
    // A non-admin on the project-less route gets 404 for it.
    assert_eq!(s.call(Method::GET, &alt_server_url, None).await.0, 404);
}

#[tokio::test]
async fn states_through_actions() {
    let s = start(&[]);
    let server = s.server().to_string();
    let token = s.info.token.clone();
    let list = s.meta_url(&server, None);
    let write = || json!({"metadata": {"k": "v"}});
    assert_eq!(
        s.action(&token, &server, json!({"pause": null})).await.0,
        202
    );
    assert_eq!(
        s.call(Method::POST, &list, Some(write())).await.0,
        200,
        "paused allows writes"
    );
    let (status, body) = s.action(&token, &server, json!({"pause": null})).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["conflictingRequest"]["message"],
        format!("Cannot 'pause' instance {server} while it is in vm_state paused")
    );
    assert_eq!(
        s.action(&token, &server, json!({"unpause": null})).await.0,
        202
    );
    assert_eq!(
        s.action(&token, &server, json!({"shelve": null})).await.0,
        202
    );
    let show_url = format!("{}/servers/{server}", s.info.endpoint);
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(shown["server"]["status"], "SHELVED_OFFLOADED");
    assert_eq!(shown["server"]["OS-EXT-STS:task_state"], Value::Null);
    let (status, body) = s.call(Method::POST, &list, Some(write())).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["conflictingRequest"]["message"],
        format!(
            "Cannot 'update metadata' instance {server} while it is in vm_state shelved_offloaded"
        )
    );
    assert_eq!(
        s.action(&token, &server, json!({"unshelve": null})).await.0,
        202
    );
    let (status, body) = s.action(&token, &server, json!({"rescue": null})).await;
    assert_eq!(status, 200);
    assert!(body["adminPass"].is_string());
    assert_eq!(
        s.action(&token, &server, json!({"unrescue": null})).await.0,
        202
    );
    assert_eq!(
        s.action(&token, &server, json!({"resize": {"flavorRef": "2"}}))
            .await
            .0,
        202
    );
    assert_eq!(
        s.action(&token, &server, json!({"confirmResize": null}))
            .await
            .0,
        204
    );
    let (status, _) = s
        .action(
            &token,
            &server,
            json!({"os-resetState": {"state": "error"}}),
        )
        .await;
    assert_eq!(status, 403, "resetState is admin only");
    assert_eq!(
        s.action(&token, &server, json!({"lock": null})).await.0,
        202
    );
    let (status, body) = s.call(Method::POST, &list, Some(write())).await;
    assert_eq!(
        (status, body["conflictingRequest"]["message"].clone()),
        (409, json!(format!("Instance {server} is locked")))
    );
    let admin = s.info.admin_token.clone();
    assert_eq!(
        s.call_as(&admin, Method::POST, &list, Some(write()))
            .await
            .0,
        200,
        "admins bypass the lock"
    );
    let (_, shown) = s
        .client
        .get(&show_url)
        .header("X-Auth-Token", &token)
        .header("X-OpenStack-Nova-API-Version", "2.9")
        .send()
        .await
        .map(|r| (r.status(), r))
        .expect("send");
    let shown: Value = serde_json::from_slice(&shown.bytes().await.expect("body")).expect("json");
    assert_eq!(shown["server"]["locked"], true);
}

#[tokio::test]
async fn servers_create_list_and_delete() {
    let s = start(&[]);
    let servers = format!("{}/servers", s.info.endpoint);
    let (status, body) = s
        .call(
            Method::POST,
            &servers,
            Some(json!({"server": {"name": "extra", "metadata": {"a": "1"}}})),
        )
        .await;
    assert_eq!(status, 202);
    let id = body["server"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        s.call(Method::GET, &s.meta_url(&id, None), None).await,
        (200, json!({"metadata": {"a": "1"}}))
    );
    let (_, listed) = s
        .call(Method::GET, &format!("{servers}/detail"), None)
        .await;
    assert_eq!(listed["servers"].as_array().map(Vec::len), Some(3));
    let bad = s
        .call(
            Method::POST,
            &servers,
            Some(json!({"server": {"name": "x", "metadata": {"a/b": "1"}}})),
        )
        .await;
    assert_eq!(bad.0, 400);
    assert_eq!(
        s.call(Method::DELETE, &format!("{servers}/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        s.call(Method::GET, &format!("{servers}/{id}"), None)
            .await
            .0,
        404
    );
    let (status, limits) = s
        .call(Method::GET, &format!("{}/limits", s.info.endpoint), None)
        .await;
    assert_eq!(
        (
            status,
            limits["limits"]["absolute"]["maxServerMeta"].clone()
        ),
        (200, json!(128))
    );
}

#[tokio::test]
async fn size_and_media_type_limits() {
    let s = start(&[]);
    let url = s.meta_url(s.server(), None);
    let big = json!({"metadata": {"k": "x".repeat(120_000)}});
    let (status, headers, body) = s
        .send(Method::POST, &url, Some(&s.info.token), Some(big))
        .await;
    assert_eq!(status, 413);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(String::from_utf8_lossy(&body).contains("max_request_body_size"));
    // Before authentication too.
    let big = json!({"metadata": {"k": "x".repeat(120_000)}});
    assert_eq!(s.send(Method::POST, &url, None, Some(big)).await.0, 413);
    let response = s
        .client
        .get(&url)
        .header("X-Auth-Token", &s.info.token)
        .header("Content-Type", "application/xml")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 415);
    let text_plain = s
        .client
        .post(&url)
        .header("X-Auth-Token", &s.info.token)
        .header("Content-Type", "text/plain")
        .body(r#"{"metadata": {"t": "p"}}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(
        text_plain.status(),
        200,
        "text/plain bodies are parsed as JSON"
    );
    let (status, _, body) = s
        .send(Method::DELETE, &url, Some(&s.info.token), None)
        .await;
    assert_eq!(status, 404, "unrouted method");
    assert!(String::from_utf8_lossy(&body).contains("404 Not Found"));
    let slash = s.meta_url(s.server(), Some("a%2Fb"));
    assert_eq!(s.call(Method::GET, &slash, None).await.0, 404);
}

#[tokio::test]
async fn legacy_v2_strips_unknown_members_and_version_headers() {
    let s = start(&[]);
    let legacy = format!(
        "{}/v2/{}/servers/{}/metadata",
        s.root(),
        s.info.project_id,
        s.server()
    );
    let body = json!({"metadata": {"a": "1"}, "x": 1});
    let (status, headers, _) = s
        .send(
            Method::POST,
            &legacy,
            Some(&s.info.token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 200);
    assert!(headers.get("openstack-api-version").is_none());
    let (status, answer) = s
        .call(Method::POST, &s.meta_url(s.server(), None), Some(body))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["badRequest"]["message"],
        "Additional properties are not allowed ('x' was unexpected)"
    );
    let (_, root) = s.call(Method::GET, &format!("{}/", s.root()), None).await;
    assert_eq!(root["versions"][0]["version"], "2.104");
}

#[tokio::test]
async fn query_rule_from_2_102() {
    let s = start(&[]);
    let url = format!("{}?foo=1", s.meta_url(s.server(), None));
    for (version, expected) in [("2.101", 200), ("2.102", 400)] {
        let r = s
            .client
            .get(&url)
            .header("X-Auth-Token", &s.info.token)
            .header("OpenStack-API-Version", format!("compute {version}"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), expected, "at {version}");
    }
}

async fn concurrent_distinct_merges(s: &Serve, n: usize) -> usize {
    let url = s.meta_url(s.server(), None);
    let mut tasks = Vec::new();
    for i in 0..n {
        let client = s.client.clone();
        let url = url.clone();
        let token = s.info.token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(&url)
                .header("X-Auth-Token", token)
                .header("Content-Type", "application/json")
                .body(json!({"metadata": {format!("k{i}"): "v"}}).to_string())
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join").expect("send"), 200);
    }
    let (_, body) = s.call(Method::GET, &url, None).await;
    body["metadata"].as_object().map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_merges_lose_nothing() {
    let s = start(&[]);
    assert_eq!(concurrent_distinct_merges(&s, 50).await, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_update_fault_is_caught_by_the_same_check() {
    let s = start(&["--fault", "lost-update"]);
    assert!(concurrent_distinct_merges(&s, 50).await < 50);
}

#[test]
fn every_listed_fault_is_accepted() {
    let out = Command::new(BIN)
        .args(["serve", "--list-faults"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let listing = String::from_utf8(out.stdout).expect("utf-8");
    let mut args = Vec::new();
    for line in listing.lines() {
        let name = line.split_whitespace().next().expect("name");
        let arg = match name.split_once('=') {
            Some((n, "MS")) => format!("{n}=1"),
            Some((n, _)) => format!("{n}=0"),
            None => name.to_string(),
        };
        args.push("--fault".to_string());
        args.push(arg);
    }
    assert!(args.len() / 2 >= 12, "{listing}");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = start(&refs);
    assert_eq!(s.info.dialect, "nova");
    let bad = Command::new(BIN)
        .args(["serve", "--fault", "no-such-fault"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bind_failure_exits_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(BIN)
        .args(["serve", "--listen", &addr])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("cannot listen on {addr}")));
}

#[test]
fn sigterm_stops_cleanly() {
    let mut s = start(&[]);
    let pid = s.process.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = s.process.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn spawn_embeds_the_server_and_shuts_down() {
    use metaconform::serve::{ServeConfig, spawn};
    let profile = metaconform::profile::builtin("nova").expect("nova");
    let config = ServeConfig::new("127.0.0.1:0".parse().expect("addr"), profile, 1);
    let running = spawn(config).await.expect("spawn");
    let info = running.info().clone();
    assert!(
        info.endpoint
            .ends_with(&format!("/v2.1/{}", info.project_id))
    );
    assert_eq!((info.servers.len(), info.alt_servers.len()), (1, 1));
    let url = format!("{}/servers/{}/metadata", info.endpoint, info.servers[0]);
    let r = Client::new()
        .get(&url)
        .header("X-Auth-Token", &info.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    running.shutdown().await;
    assert!(
        Client::new().get(&url).send().await.is_err(),
        "closed after shutdown"
    );
}

#[tokio::test]
async fn transport_faults_latency_and_reset() {
    let slow = start(&["--fault", "latency=150"]);
    let url = slow.meta_url(slow.server(), None);
    let began = std::time::Instant::now();
    assert_eq!(slow.call(Method::GET, &url, None).await.0, 200);
    assert!(began.elapsed() >= std::time::Duration::from_millis(150));
    let reset = start(&["--fault", "reset=1"]);
    let url = reset.meta_url(reset.server(), None);
    let result = reset
        .client
        .get(&url)
        .header("X-Auth-Token", &reset.info.token)
        .send()
        .await;
    assert!(result.is_err(), "connection closed without an answer");
}

/// Send raw bytes, return the status line.
fn raw_status_line(endpoint: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let authority = endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn header_count_and_chunked_body_are_capped() {
    let s = start(&[]);
    let path = format!(
        "/v2.1/{}/servers/{}/metadata",
        s.info.project_id,
        s.server()
    );
    let mut many = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\n",
        s.info.token
    );
    for i in 0..150 {
        many.push_str(&format!("X-Filler-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    assert!(raw_status_line(&s.info.endpoint, many.as_bytes()).contains("431"));
    let mut chunked = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.info.token
    );
    let chunk = "x".repeat(16 * 1024);
    for _ in 0..8 {
        chunked.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    chunked.push_str("0\r\n\r\n");
    assert!(raw_status_line(&s.info.endpoint, chunked.as_bytes()).contains("413"));
}

#[tokio::test]
async fn flavors_are_listed_and_resize_must_change_flavor() {
    use metaconform::endpoint::flavors::{
        FLAVOR_DETAIL_PATH, FLAVOR_LIST_PATH, parse_flavor_list, parse_server_flavor,
        pick_resize_flavor,
    };
    let s = start(&[]);
    let token = s.info.token.clone();
    let server = s.server().to_string();
    let show_url = format!("{}/servers/{server}", s.info.endpoint);

    // The list, with and without the project segment, and the detail view.
    let list_url = format!("{}{FLAVOR_LIST_PATH}", s.info.endpoint);
    let (status, listed) = s.call(Method::GET, &list_url, None).await;
    assert_eq!(status, 200);
    let first = &listed["flavors"][0];
    assert_eq!(
        (&first["id"], &first["name"]),
        (&json!("1"), &json!("m1.tiny"))
    );
    assert_eq!(first["links"][0]["rel"], "self");
    assert_eq!(
        first["links"][0]["href"],
        format!("{}/flavors/1", s.info.endpoint)
    );
    assert_eq!(first["links"][1]["rel"], "bookmark");
    assert!(first.get("ram").is_none(), "the summary has no sizes");
    let ids: Vec<_> = listed["flavors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(ids, [json!("1"), json!("2"), json!("3")]);
    let projectless = format!("{}/v2.1/flavors", s.root());
    let (status, again) = s.call(Method::GET, &projectless, None).await;
    assert_eq!(
        (status, again["flavors"].as_array().map(Vec::len)),
        (200, Some(3))
    );
    let detail_url = format!("{}{FLAVOR_DETAIL_PATH}", s.info.endpoint);
    let (status, detail) = s.call(Method::GET, &detail_url, None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["flavors"][1]["ram"], 2048);
    assert_eq!(detail["flavors"][1]["OS-FLV-EXT-DATA:ephemeral"], 0);
    let (status, one) = s
        .call(Method::GET, &format!("{}/flavors/3", s.info.endpoint), None)
        .await;
    assert_eq!((status, &one["flavor"]["name"]), (200, &json!("m1.medium")));
    let (status, missing) = s
        .call(
            Method::GET,
            &format!("{}/flavors/42", s.info.endpoint),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["itemNotFound"]["message"],
        "Flavor 42 could not be found."
    );

    // Server show: {"id", "links"} by default, the flavor's fields from 2.47.
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(shown["server"]["flavor"]["id"], "1");
    assert_eq!(shown["server"]["flavor"]["links"][0]["rel"], "bookmark");
    let response = s
        .client
        .get(&show_url)
        .header("X-Auth-Token", &token)
        .header("OpenStack-API-Version", "compute 2.47")
        .send()
        .await
        .expect("send");
    let bytes = response.bytes().await.expect("body");
    let shown_247: Value = serde_json::from_slice(&bytes).expect("json");
    let flavor = &shown_247["server"]["flavor"];
    assert_eq!(flavor["original_name"], "m1.tiny");
    assert_eq!((&flavor["ram"], &flavor["swap"]), (&json!(512), &json!(0)));
    assert!(flavor.get("id").is_none() && flavor["extra_specs"].is_object());

    // Resize to the same flavor, to an unknown one, then to another.
    let (status, body) = s
        .action(&token, &server, json!({"resize": {"flavorRef": "1"}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["badRequest"]["message"],
        "When resizing, instances must change flavor!"
    );
    let (status, body) = s
        .action(&token, &server, json!({"resize": {"flavorRef": "42"}}))
        .await;
    assert_eq!(
        (status, body["badRequest"]["message"].clone()),
        (400, json!("Flavor 42 could not be found."))
    );
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(
        shown["server"]["status"], "ACTIVE",
        "a refused resize changes nothing"
    );

    // The picker, over the mock's own answers, chooses another flavor.
    let current = parse_server_flavor(&shown).expect("server flavor");
    let offered = parse_flavor_list(&detail).expect("flavor list");
    let picked = pick_resize_flavor(&current, &offered).expect("another flavor");
    assert_eq!(picked, "2");
    let current_247 = parse_server_flavor(&shown_247).expect("2.47 flavor");
    assert_eq!(
        pick_resize_flavor(&current_247, &offered),
        Ok(picked.clone())
    );

    let (status, _) = s
        .action(&token, &server, json!({"resize": {"flavorRef": picked}}))
        .await;
    assert_eq!(status, 202);
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(shown["server"]["status"], "VERIFY_RESIZE");
    assert_eq!(shown["server"]["flavor"]["id"], "2");
    assert_eq!(
        s.action(&token, &server, json!({"revertResize": null}))
            .await
            .0,
        202
    );
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(
        (&shown["server"]["status"], &shown["server"]["flavor"]["id"]),
        (&json!("ACTIVE"), &json!("1")),
        "revert restores the old flavor"
    );

    // Confirm keeps the new flavor, which is then the one not to ask for.
    assert_eq!(
        s.action(&token, &server, json!({"resize": {"flavorRef": 3}}))
            .await
            .0,
        202
    );
    assert_eq!(
        s.action(&token, &server, json!({"confirmResize": null}))
            .await
            .0,
        204
    );
    let (_, shown) = s.call(Method::GET, &show_url, None).await;
    assert_eq!(shown["server"]["flavor"]["id"], "3");
    assert_eq!(
        s.action(&token, &server, json!({"resize": {"flavorRef": "3"}}))
            .await
            .0,
        400
    );
}

/// A `serve` that dies before its startup line fails the test with its
/// stderr, instead of an empty "startup line" error (or a hang).
#[test]
#[should_panic(expected = "unknown fault 'no-such-fault'")]
fn a_serve_that_cannot_start_fails_with_its_stderr() {
    spawn_serve(&["--fault", "no-such-fault"]);
}

/// One answer read off a kept-alive connection: status and body, the body
/// by its Content-Length.
fn read_answer(stream: &mut impl std::io::BufRead) -> (u16, String) {
    let mut status_line = String::new();
    stream.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {status_line:?}"));
    let mut length = 0;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).expect("header line");
        if header.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Issue 8: a raw 0xE9 in the key (not `%E9`) is read as eventlet reads it
/// (PEP 3333 Latin-1), so the mock answers what Nova 34 answered in
/// tests/data/nova-recording.json (`wire.path.latin1-raw.*`) instead of
/// hyper's bare 400; the same connection then serves a second request and
/// two pipelined ones.
#[test]
fn a_raw_latin1_byte_in_the_key_is_read_as_nova_reads_it_on_a_kept_connection() {
    use std::io::{BufReader, Write};
    let s = start(&[]);
    let authority = s
        .info
        .endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host");
    let map = format!(
        "/v2.1/{}/servers/{}/metadata",
        s.info.project_id,
        s.server()
    );
    let token = &s.info.token;
    let body = r#"{"meta": {"caf\u00e9": "v"}}"#;
    let put = [
        format!("PUT {map}/caf").as_bytes(),
        b"\xE9",
        format!(
            " HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    ]
    .concat();
    let get_key = [
        format!("GET {map}/caf").as_bytes(),
        b"\xE9",
        format!(" HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n\r\n").as_bytes(),
    ]
    .concat();
    let get_map = format!(
        "GET {map} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n"
    );
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let mut answers = BufReader::new(stream.try_clone().expect("clone"));

    stream.write_all(&put).expect("send the PUT");
    let (status, body) = read_answer(&mut answers);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Invalid input for field/attribute meta. Value: {'caf\u{e9}': 'v'}. 'caf\u{e9}' does not match any of the regexes"),
        "{body}"
    );

    stream
        .write_all(&[get_key, get_map.into_bytes()].concat())
        .expect("send two pipelined requests");
    let (status, body) = read_answer(&mut answers);
    assert_eq!(
        (status, body.as_str()),
        (
            404,
            r#"{"itemNotFound":{"code":404,"message":"Metadata item was not found"}}"#
        )
    );
    let (status, body) = read_answer(&mut answers);
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("caf"), "nothing stored: {body}");
}
