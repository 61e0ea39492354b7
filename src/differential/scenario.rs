//! A differential scenario and the peer it is sent to.
//!
//! A scenario is self-contained: [`send_scenario`] first empties the
//! metadata of every server its steps name (with the owner's token), sends
//! the steps in order, then reads every such server's map back. URLs are
//! templates (`{endpoint}`, `{alt_endpoint}`, `{root}`, `{project}`,
//! `{alt_project}`, `{server0}`, `{alt_server0}`, …) expanded against a
//! [`Peer`], so one list goes to real Nova and to the mock alike.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::endpoint::http::{Exchange, RecordedRequest, RecordedResponse, Transport};
use crate::endpoint::raw::{self, RawRequest};
use crate::run::stored::{Segment, join};

/// Who sends a step: the token of that identity is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Who {
    /// No token added (a step may carry its own `X-Auth-Token` header).
    Nobody,
    Member,
    /// An admin of the main project (owner locks, as Nova records them).
    Admin,
    Reader,
    /// A member of the second project.
    Alt,
}

/// One request of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub who: Who,
    pub method: String,
    /// A template; see the module doc.
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body as text segments (long runs of one character collapsed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Segment>,
    /// The exact body bytes, hex, when they are not UTF-8 (wins over `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
    /// Send the body with `Transfer-Encoding: chunked`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub chunked: bool,
    /// Send every character U+0080..U+00FF of the expanded URL as that one
    /// raw byte (Latin-1), not percent-encoded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub latin1_path: bool,
    /// Send with the raw sender even so: only the headers listed (reqwest
    /// adds `Accept: */*` to a request that has none).
    #[serde(default, skip_serializing_if = "is_false")]
    pub raw: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Step {
    /// The body bytes to send.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body_hex {
            Some(h) => hex::decode(h).unwrap_or_default(),
            None => join(&self.body).into_bytes(),
        }
    }

    fn needs_raw(&self) -> bool {
        self.chunked || self.latin1_path || self.raw
    }
}

/// A named request sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    /// Where it comes from and what it exercises (a catalogue area, or a
    /// `wire-*` area of the transport-level scenarios).
    pub area: String,
    pub steps: Vec<Step>,
}

/// Why a scenario could not be sent to a peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    #[error("the startup line is not JSON: {0}")]
    NotJson(String),
    #[error("the startup line has no string field {0:?}")]
    Missing(&'static str),
    #[error("the endpoint {0} has no http://host:port root")]
    NoRoot(String),
    #[error("{0} is not expanded: the peer has too few servers")]
    Unexpanded(String),
}

/// An endpoint with its identities and servers: real Nova from
/// `contrib/nova-peer`, or `metaconform serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub endpoint: String,
    pub project_id: String,
    pub alt_project_id: String,
    pub member: String,
    /// Same-project admin: nova-peer's `same_project_admin_token` where the
    /// line has it, else `admin_token` (the mock's is same-project).
    pub admin: String,
    pub reader: String,
    pub alt: String,
    pub servers: Vec<String>,
    pub alt_servers: Vec<String>,
}

impl Peer {
    /// The peer a startup line (nova-peer's or `metaconform serve`'s)
    /// describes.
    pub fn from_startup_line(line: &str) -> Result<Peer, PeerError> {
        let value: serde_json::Value =
            serde_json::from_str(line.trim()).map_err(|e| PeerError::NotJson(e.to_string()))?;
        let text = |name: &'static str| {
            value[name]
                .as_str()
                .map(str::to_string)
                .ok_or(PeerError::Missing(name))
        };
        let list = |name: &'static str| -> Result<Vec<String>, PeerError> {
            let items = value[name].as_array().ok_or(PeerError::Missing(name))?;
            Ok(items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect())
        };
        let peer = Peer {
            endpoint: text("endpoint")?.trim_end_matches('/').to_string(),
            project_id: text("project_id")?,
            alt_project_id: text("alt_project_id")?,
            member: text("token")?,
            admin: text("same_project_admin_token").or_else(|_| text("admin_token"))?,
            reader: text("reader_token")?,
            alt: text("alt_token")?,
            servers: list("servers")?,
            alt_servers: list("alt_servers")?,
        };
        peer.authority()?;
        Ok(peer)
    }

    /// `http://host:port`.
    pub fn root(&self) -> Result<&str, PeerError> {
        let rest = self
            .endpoint
            .strip_prefix("http://")
            .ok_or_else(|| PeerError::NoRoot(self.endpoint.clone()))?;
        let end = rest.find('/').unwrap_or(rest.len());
        Ok(&self.endpoint[..7 + end])
    }

    /// `host:port`.
    pub fn authority(&self) -> Result<&str, PeerError> {
        Ok(&self.root()?[7..])
    }

    /// The endpoint of the second project.
    pub fn alt_endpoint(&self) -> String {
        self.endpoint
            .replace(&self.project_id, &self.alt_project_id)
    }

    /// Every template name with its value, longest values first (so an
    /// endpoint is replaced before the root and the project inside it).
    pub fn templates(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (i, s) in self.servers.iter().enumerate() {
            pairs.push((format!("{{server{i}}}"), s.clone()));
        }
        for (i, s) in self.alt_servers.iter().enumerate() {
            pairs.push((format!("{{alt_server{i}}}"), s.clone()));
        }
        pairs.push(("{endpoint}".into(), self.endpoint.clone()));
        pairs.push(("{alt_endpoint}".into(), self.alt_endpoint()));
        if let Ok(root) = self.root() {
            pairs.push(("{root}".into(), root.to_string()));
        }
        pairs.push(("{project}".into(), self.project_id.clone()));
        pairs.push(("{alt_project}".into(), self.alt_project_id.clone()));
        pairs
    }

    /// `text` with every template replaced by this peer's value.
    pub fn expand(&self, template: &str) -> Result<String, PeerError> {
        let mut out = template.to_string();
        for (name, value) in self.templates() {
            out = out.replace(&name, &value);
        }
        match ["{server", "{alt_server"]
            .iter()
            .find(|t| out.contains(**t))
        {
            Some(_) => Err(PeerError::Unexpanded(template.to_string())),
            None => Ok(out),
        }
    }

    /// `text` with this peer's ids, endpoints and tokens replaced by
    /// template names (the inverse of [`Peer::expand`]).
    pub fn templated(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in self.templates() {
            if !value.is_empty() {
                out = out.replace(&value, &name);
            }
        }
        out
    }

    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Nobody => None,
            Who::Member => Some(&self.member),
            Who::Admin => Some(&self.admin),
            Who::Reader => Some(&self.reader),
            Who::Alt => Some(&self.alt),
        }
    }
}

/// What one scenario did on one peer: every step's answer and every named
/// server's map read back afterwards (`None`: no answer).
#[derive(Debug, Clone)]
pub struct Sent {
    pub steps: Vec<Option<RecordedResponse>>,
    /// By server template (`{server0}`), the read-back answer.
    pub stored: BTreeMap<String, Option<RecordedResponse>>,
}

/// The server templates the steps name, in order.
pub fn servers_named(scenario: &Scenario) -> Vec<String> {
    let pattern = regex::Regex::new(r"\{(alt_)?server[0-9]+\}").expect("a fixed pattern");
    let mut out: Vec<String> = Vec::new();
    for step in &scenario.steps {
        for m in pattern.find_iter(&step.url) {
            if !out.iter().any(|s| s == m.as_str()) {
                out.push(m.as_str().to_string());
            }
        }
    }
    out
}

/// Empty the named servers, send the steps, read the servers back.
pub async fn send_scenario(
    peer: &Peer,
    transport: &Transport,
    scenario: &Scenario,
) -> Result<Sent, PeerError> {
    let servers = servers_named(scenario);
    for server in &servers {
        send_step(
            peer,
            transport,
            &metadata_step(server, "PUT", b"{\"metadata\": {}}"),
        )
        .await?;
    }
    let mut steps = Vec::new();
    for step in &scenario.steps {
        steps.push(send_step(peer, transport, step).await?);
    }
    let mut stored = BTreeMap::new();
    for server in &servers {
        let answer = send_step(peer, transport, &metadata_step(server, "GET", b"")).await?;
        stored.insert(server.clone(), answer);
    }
    Ok(Sent { steps, stored })
}

/// A request to a server's whole map by its owner.
fn metadata_step(server: &str, method: &str, body: &[u8]) -> Step {
    let alt = server.starts_with("{alt_");
    let endpoint = if alt { "{alt_endpoint}" } else { "{endpoint}" };
    Step {
        who: if alt { Who::Alt } else { Who::Member },
        method: method.into(),
        url: format!("{endpoint}/servers/{server}/metadata"),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: crate::run::stored::segments(&String::from_utf8_lossy(body)),
        body_hex: None,
        chunked: false,
        latin1_path: false,
        raw: false,
    }
}

/// How long one request may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Send one step; `None` when nothing came back.
pub async fn send_step(
    peer: &Peer,
    transport: &Transport,
    step: &Step,
) -> Result<Option<RecordedResponse>, PeerError> {
    let url = peer.expand(&step.url)?;
    let mut headers = step.headers.clone();
    if let Some(token) = peer.token(step.who) {
        headers.push(("X-Auth-Token".into(), token.to_string()));
    }
    if step.needs_raw() {
        let root = peer.root()?;
        let target = url.strip_prefix(root).unwrap_or(&url);
        let request = RawRequest {
            method: step.method.clone(),
            authority: peer.authority()?.to_string(),
            target: wire_target(target, step.latin1_path),
            headers,
            body: step.body_bytes(),
            chunked: step.chunked,
        };
        return Ok(raw::send(&request, STEP_TIMEOUT).await.ok());
    }
    let exchange: Exchange = transport
        .send(RecordedRequest {
            method: step.method.clone(),
            url,
            headers,
            body: step.body_bytes(),
        })
        .await;
    Ok(exchange.response)
}

/// The request target's bytes: UTF-8, or Latin-1 for `latin1_path`.
fn wire_target(target: &str, latin1: bool) -> Vec<u8> {
    if !latin1 {
        return target.as_bytes().to_vec();
    }
    target
        .chars()
        .flat_map(|c| match u8::try_from(u32::from(c)) {
            Ok(byte) => vec![byte],
            Err(_) => c.to_string().into_bytes(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer::from_startup_line(
            r#"{"endpoint":"http://127.0.0.1:9/v2.1/p1","project_id":"p1","alt_project_id":"p2",
            "token":"m","admin_token":"a","same_project_admin_token":"sa","reader_token":"r",
            "alt_token":"t","servers":["s-0","s-1"],"alt_servers":["s-a"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn templates_round_trip_and_prefer_the_same_project_admin() {
        let p = peer();
        assert_eq!(p.admin, "sa");
        let url = "http://127.0.0.1:9/v2.1/p2/servers/s-a/metadata?x=http://127.0.0.1:9/v2.1/p1/servers/s-1";
        let t = p.templated(url);
        assert_eq!(
            t,
            "{alt_endpoint}/servers/{alt_server0}/metadata?x={endpoint}/servers/{server1}"
        );
        assert_eq!(p.expand(&t).unwrap(), url);
        assert!(matches!(
            p.expand("{server7}"),
            Err(PeerError::Unexpanded(_))
        ));
    }

    #[test]
    fn latin1_paths_are_single_bytes() {
        assert_eq!(wire_target("/a/é€", true), b"/a/\xe9\xe2\x82\xac".to_vec());
        assert_eq!(wire_target("/a/é", false), "/a/é".as_bytes().to_vec());
    }
}
