//! The HTTP side of fuzzing: building requests for steps, sending them
//! through the throttle and reading the stored map back. Waiting for a
//! server state and resetting servers between sequences are the endpoint's
//! one [`Housekeeping`], which the driver holds a [`Conversation`] for.

use std::time::Duration;

use serde_json::Value;

use crate::cases::format::Identity;
use crate::endpoint::Target;
use crate::endpoint::http::{Exchange, RecordedRequest, Transport};
use crate::model::Metadata;
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, ServerRecord, VmState};
use crate::profile::format::ActionForm;
use crate::profile::{HttpMethod, ReadBack};

use crate::endpoint::servers::{
    Conversation, Goal, Housekeeping, Purpose, ServerView as ShownServer, StateSettings,
};

use super::step::{Body, ServerPick};
use super::throttle::{self, Throttle};
use super::world::World;

/// Why a worker cannot go on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DriverError {
    #[error("stopped after repeated authentication failures ({0}); check the tokens")]
    Auth(String),
    #[error("cannot prepare server {server}: {reason}")]
    Setup { server: String, reason: String },
}

/// What `GET /servers/{id}` says about a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    pub vm_state: Option<VmState>,
    pub locked: bool,
    /// The answer showed `locked` at all (legacy `/v2` and microversions
    /// below 2.9 do not).
    pub lock_known: bool,
    pub task_state: Option<String>,
    pub metadata: Option<Metadata>,
}

/// How often setup resends an idempotent request that got no answer.
const SETUP_RESENDS: usize = 2;

/// Whether a request may be sent again after it got no answer (it may have
/// been applied): the idempotent methods, which leave the same state
/// however often they are sent.
fn resendable(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE")
}

/// How long an action may take to show its effect on a real cloud.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);

/// One worker's connection to the endpoint.
#[derive(Debug)]
pub struct Driver {
    pub target: Target,
    transport: Transport,
    throttle: Throttle,
    /// Requests sent (retries included).
    pub requests: u64,
    /// Of `requests`, those sent to prepare servers (housekeeping).
    pub setup_requests: u64,
    /// Fresh clients made after transport errors ([`Driver::reconnect`]).
    pub reconnects: u64,
    /// Sending setup requests (pre-flight, snapshot, preparing and putting
    /// back servers), which [`Driver::send`] resends.
    in_setup: bool,
    /// Normalised request lines, when recording (determinism checks).
    pub log: Option<Vec<String>>,
    /// The requests themselves, when capturing (the benchmark replays them).
    pub captured: Option<Vec<RecordedRequest>>,
}

impl Driver {
    pub fn new(target: Target, transport: Transport, rate: Option<f64>, record: bool) -> Driver {
        Driver {
            target,
            transport,
            throttle: Throttle::new(rate),
            requests: 0,
            setup_requests: 0,
            reconnects: 0,
            in_setup: false,
            log: record.then(Vec::new),
            captured: None,
        }
    }

    /// Keep every request sent (for the benchmark's raw replay).
    pub fn capture(mut self) -> Driver {
        self.captured = Some(Vec::new());
        self
    }

    /// Throttling answers seen so far.
    pub fn backoffs(&self) -> u64 {
        self.throttle.backoffs
    }

    /// Whether the target has credentials for `who` (a token, or the
    /// member's AK/SK).
    pub fn has_identity(&self, who: Identity) -> bool {
        who == Identity::None
            || self
                .target
                .credentials
                .token_of(who)
                .is_ok_and(|t| t.is_some())
            || self.target.credentials.signing_key(who).is_some()
    }

    /// `who`'s headers ([`Target::sender`]): a token, or the project header
    /// an AK/SK signature covers.
    fn headers(&self, who: Identity, json_body: bool) -> Vec<(String, String)> {
        self.target.sender(who, None).headers(json_body)
    }

    /// The request for a metadata operation.
    pub fn meta_request(
        &self,
        world: &World,
        op: &Op,
        who: Identity,
        pick: ServerPick,
        body: Option<&Body>,
    ) -> RecordedRequest {
        let profile = &self.target.profile;
        let (method, path) = profile
            .op(op)
            .map(|spec| (spec.method, spec.path.clone()))
            .unwrap_or((HttpMethod::GET, String::new()));
        let url = self.target.url(&path, world.server_id(pick), op.key());
        let bytes = body.map(Body::bytes).unwrap_or_default();
        RecordedRequest {
            method: method.as_str().to_string(),
            url,
            headers: self.headers(who, body.is_some()),
            body: bytes,
        }
    }

    /// The request for a server action, in the dialect's action form.
    pub fn action_request(
        &self,
        server_id: &str,
        action: &ServerAction,
        who: Identity,
    ) -> RecordedRequest {
        let routes = &self.target.profile.file.servers;
        let body = match routes.action_form {
            ActionForm::PerServer => per_server_action_body(action),
            ActionForm::Batch => batch_action_body(action, server_id),
        };
        RecordedRequest {
            method: "POST".into(),
            url: self.target.server_url(&routes.action, server_id),
            headers: self.headers(who, true),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        }
    }

    /// Whether server actions are batch jobs (`ecs-v1`, spec §4.2): accepted
    /// with a job id even when the transition is refused, which the job then
    /// reports.
    pub fn actions_are_jobs(&self) -> bool {
        self.target.profile.file.servers.action_form == ActionForm::Batch
    }

    /// Send one request as `who` (signed with AK/SK where `who` signs),
    /// pacing and retrying on throttling answers. After a transport error
    /// the next request connects afresh ([`Driver::reconnect`]). During
    /// setup, an idempotent request that got no answer is sent again, up to
    /// [`SETUP_RESENDS`] times: one reset must not fail the pre-flight, the
    /// snapshot or the preparation of a server. A fuzz step is never
    /// resent: its transport error is a finding.
    pub async fn send(&mut self, request: RecordedRequest, who: Identity) -> Exchange {
        let key = self.target.credentials.signing_key(who).cloned();
        let mut attempt = 0;
        let mut resends = match self.in_setup && resendable(&request.method) {
            true => SETUP_RESENDS,
            false => 0,
        };
        loop {
            self.throttle.pace().await;
            self.record(&request);
            let exchange = self
                .transport
                .send_signed(request.clone(), key.as_ref())
                .await;
            self.requests += 1;
            if exchange.response.is_none() {
                self.reconnect();
            }
            let wait = exchange
                .response
                .as_ref()
                .and_then(|r| throttle::throttled(r, attempt));
            if exchange.response.is_none() && resends > 0 {
                resends -= 1;
                continue;
            }
            match wait {
                Some(delay) if attempt < throttle::MAX_RETRIES => {
                    self.throttle.backoffs += 1;
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                }
                _ => return exchange,
            }
        }
    }

    /// Send `requests` all at once as `who` (concurrent writers); answers
    /// come back in request order. Throttling answers are not retried here:
    /// they show up as refused writes.
    pub async fn send_all(
        &mut self,
        requests: Vec<RecordedRequest>,
        who: Identity,
    ) -> Vec<Exchange> {
        self.throttle.pace().await;
        let key = self.target.credentials.signing_key(who).cloned();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, request) in requests.iter().cloned().enumerate() {
            self.record(&request);
            let transport = self.transport.clone();
            let key = key.clone();
            tasks.spawn(async move { (index, transport.send_signed(request, key.as_ref()).await) });
        }
        let mut answers: Vec<Option<Exchange>> = vec![None; requests.len()];
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, exchange)) = joined
                && let Some(slot) = answers.get_mut(index)
            {
                *slot = Some(exchange);
            }
        }
        self.requests += requests.len() as u64;
        if answers
            .iter()
            .any(|a| a.as_ref().is_none_or(|e| e.response.is_none()))
        {
            self.reconnect();
        }
        requests
            .into_iter()
            .zip(answers)
            .map(|(request, answer)| {
                answer.unwrap_or_else(|| Exchange {
                    request,
                    response: None,
                    error: Some("writer task failed".into()),
                    elapsed: Duration::ZERO,
                })
            })
            .collect()
    }

    /// Drop every pooled connection: the next request connects afresh (a
    /// connection that was reset, cut short or timed out is not reused,
    /// nor are its idle siblings). If no new client can be built, the old
    /// one stays.
    fn reconnect(&mut self) {
        if let Ok(fresh) = self.transport.reconnected() {
            self.transport = fresh;
            self.reconnects += 1;
        }
    }

    fn record(&mut self, request: &RecordedRequest) {
        if let Some(captured) = self.captured.as_mut() {
            captured.push(request.clone());
        }
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let path = request
            .url
            .strip_prefix(self.target.endpoint.trim_end_matches('/'))
            .unwrap_or(&request.url);
        let body = String::from_utf8_lossy(&request.body);
        let mut line = format!("{} {} {}", request.method, path, body);
        let named = |prefix: &'static str, ids: &[String]| {
            ids.iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), format!("{{{prefix}{i}}}")))
                .collect::<Vec<_>>()
        };
        let mut names = named("server", &self.target.servers);
        names.extend(named("alt", &self.target.alt_servers));
        for (id, name) in names {
            line = line.replace(&id, &name);
        }
        log.push(line);
    }

    /// Count an authentication failure (or its absence); repeated ones
    /// stop the worker. A failure is any 401 (the fuzzer always sends a
    /// token), or a 403 to the owner reading its own server (which needs
    /// nothing but valid credentials). A 403 to a write is a finding about
    /// the API, not a sign of bad credentials.
    pub fn judge_auth(&mut self, failed: bool, what: &str) -> Result<(), DriverError> {
        if self.throttle.strike(failed) {
            return Err(DriverError::Auth(what.to_string()));
        }
        Ok(())
    }

    /// `GET /servers/{id}` (at a microversion that shows `locked`).
    pub async fn show(&mut self, server_id: &str) -> Result<ServerView, String> {
        let version = lock_visible_version(&self.target);
        let sender = self.target.sender(Identity::Owner, version.as_deref());
        let request = crate::endpoint::requests::show_request(&self.target, server_id, sender);
        let exchange = self.send(request, Identity::Owner).await;
        let json = ok_json(&exchange)?;
        parse_server_view(&json)
    }

    /// The stored map of one server, through the dialect's read-back.
    pub async fn read_back(&mut self, world: &World, pick: ServerPick) -> Result<Metadata, String> {
        match self.target.profile.file.read_back.value {
            ReadBack::ServerShow => self
                .show(world.server_id(pick))
                .await?
                .metadata
                .ok_or_else(|| "server show has no metadata".to_string()),
            ReadBack::List => {
                let request = self.meta_request(world, &Op::List, Identity::Owner, pick, None);
                let exchange = self.send(request, Identity::Owner).await;
                let json = ok_json(&exchange)?;
                parse_metadata(json.get("metadata"))
            }
        }
    }

    /// Wait until the server shows `state` with no task running (the
    /// endpoint's one wait); if it does not, its last view, for the oracle
    /// to compare with the model.
    pub async fn settle(&mut self, server_id: &str, state: VmState) -> Result<ServerView, String> {
        let waited = self
            .wait_until(server_id, Goal::In(state), Purpose::Step)
            .await;
        match waited {
            Ok(view) => Ok(ServerView::from_shown(view)),
            Err(_) => self.show(server_id).await,
        }
    }

    /// Bring every server to active, unlocked, with only system-owned keys,
    /// and return the model copy of what it now is.
    pub async fn reset(&mut self, ids: &[String]) -> Result<Vec<ServerRecord>, DriverError> {
        let was_setup = std::mem::replace(&mut self.in_setup, true);
        let records = self.reset_all(ids).await;
        self.in_setup = was_setup;
        records
    }

    async fn reset_all(&mut self, ids: &[String]) -> Result<Vec<ServerRecord>, DriverError> {
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let record = self
                .reset_one(id)
                .await
                .map_err(|reason| DriverError::Setup {
                    server: id.clone(),
                    reason,
                })?;
            records.push(record);
        }
        Ok(records)
    }

    async fn reset_one(&mut self, id: &str) -> Result<ServerRecord, String> {
        let boss = if self.has_identity(Identity::Admin) {
            Identity::Admin
        } else {
            Identity::Owner
        };
        let fail = |e: crate::endpoint::servers::SetupError| e.0;
        self.bring_back(id, false, boss).await.map_err(fail)?;
        // Where the dialect cannot empty a map (bms-v1 only merges), the
        // sequence starts from what is stored: the world reads it back below.
        if self.target.can_reset_metadata() {
            self.reset_metadata(id).await.map_err(fail)?;
        }
        let view = self.show(id).await?;
        if view.locked || view.vm_state.is_some_and(|s| s != VmState::Active) {
            return Err(format!("server still {:?} after reset", view.vm_state));
        }
        let world = World::new(
            &self.target.project_id,
            &self.target.project_id,
            vec![ServerRecord::new(
                id,
                &self.target.project_id,
                "fuzz",
                Metadata::new(),
            )],
        );
        let metadata = self.read_back(&world, ServerPick::Own(0)).await?;
        Ok(ServerRecord::new(
            id,
            &self.target.project_id,
            "fuzz",
            metadata,
        ))
    }

    /// Whether replace-all may be used to clear a map (spec §2.7 safety
    /// rule: never on real servers that hold system-owned keys).
    pub fn replace_allowed(&self) -> bool {
        self.target.replace_clears_metadata()
    }
}

impl Conversation for Driver {
    fn target(&self) -> &Target {
        &self.target
    }

    fn settings(&self) -> StateSettings {
        StateSettings {
            state_timeout: SETTLE_TIMEOUT,
            resize_flavor: None,
        }
    }

    /// Housekeeping goes through the same pacing, throttling retries and
    /// request log as the fuzzer's own requests, and counts as setup (see
    /// [`Driver::send`] for what setup resends).
    async fn exchange(
        &mut self,
        request: RecordedRequest,
        _purpose: Purpose,
        _step: Option<usize>,
        identity: Identity,
    ) -> Exchange {
        let request = crate::endpoint::requests::in_project_of(request, identity, &self.target);
        let before = self.requests;
        let was_setup = std::mem::replace(&mut self.in_setup, true);
        let exchange = self.send(request, identity).await;
        self.in_setup = was_setup;
        self.setup_requests += self.requests - before;
        exchange
    }
}

impl ServerView {
    /// The fuzzer's view of what the endpoint's housekeeping read.
    fn from_shown(view: ShownServer) -> ServerView {
        ServerView {
            vm_state: view.state(),
            locked: view.locked.unwrap_or(false),
            lock_known: view.locked.is_some(),
            task_state: view.task_state,
            metadata: None,
        }
    }
}

/// The body of a batch action (`ecs-v1`, spec §4.2): only `os-stop` takes a
/// `type`; ECS refuses `os-start` with one (400).
fn batch_action_body(action: &ServerAction, server_id: &str) -> serde_json::Value {
    let servers = serde_json::json!([{ "id": server_id }]);
    match action {
        ServerAction::Stop => {
            serde_json::json!({ action.name(): {"type": "SOFT", "servers": servers} })
        }
        _ => serde_json::json!({ action.name(): {"servers": servers} }),
    }
}

/// `{"<action>": <argument>}` for `POST /servers/{id}/action` (spec §4.2).
pub fn per_server_action_body(action: &ServerAction) -> Value {
    let argument = match action {
        ServerAction::Lock {
            reason: Some(reason),
        } => serde_json::json!({ "locked_reason": reason }),
        ServerAction::ResetState(state) => serde_json::json!({ "state": state.as_str() }),
        ServerAction::Reboot => serde_json::json!({ "type": "SOFT" }),
        ServerAction::Resize => serde_json::json!({ "flavorRef": "1" }),
        _ => Value::Null,
    };
    serde_json::json!({ action.name(): argument })
}

/// The microversion from which `locked` is shown (2.9, spec §4.2), if the
/// dialect negotiates microversions and serves it.
fn lock_visible_version(target: &Target) -> Option<String> {
    let rules = &target.profile.rules;
    let (min, max) = rules.microversions?;
    if rules.legacy {
        return None;
    }
    let wanted = crate::model::server::LOCKED_SHOWN_FROM;
    let v = wanted.clamp(min, max);
    Some(format!("{}.{}", v.major, v.minor))
}

fn ok_json(exchange: &Exchange) -> Result<Value, String> {
    let Some(response) = &exchange.response else {
        return Err(exchange.error.clone().unwrap_or_else(|| "no answer".into()));
    };
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "{} {} answered {}",
            exchange.request.method, exchange.request.url, response.status
        ));
    }
    response
        .json()
        .ok_or_else(|| format!("{} answer is not JSON", exchange.request.url))
}

/// Parse `{"server": {...}}`.
pub fn parse_server_view(json: &Value) -> Result<ServerView, String> {
    let server = json
        .get("server")
        .ok_or_else(|| "server show lacks `server`".to_string())?;
    let vm_state = server
        .get("OS-EXT-STS:vm_state")
        .and_then(Value::as_str)
        .and_then(VmState::parse)
        .or_else(|| {
            let status = server.get("status").and_then(Value::as_str)?;
            VmState::ALL.into_iter().find(|s| s.status() == status)
        });
    let task_state = server
        .get("OS-EXT-STS:task_state")
        .and_then(Value::as_str)
        .map(str::to_string);
    let lock_field = server.get("locked").and_then(Value::as_bool);
    let locked = lock_field.unwrap_or(false);
    let metadata = match server.get("metadata") {
        Some(m) => Some(parse_metadata(Some(m))?),
        None => None,
    };
    Ok(ServerView {
        vm_state,
        locked,
        lock_known: lock_field.is_some(),
        task_state,
        metadata,
    })
}

/// A JSON object of strings as a map.
pub fn parse_metadata(value: Option<&Value>) -> Result<Metadata, String> {
    let Some(Value::Object(entries)) = value else {
        return Err("`metadata` is not an object".into());
    };
    entries
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            other => Err(format!("metadata value of {k:?} is not a string: {other}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_view_reads_state_lock_and_metadata() {
        let json = serde_json::json!({"server": {
            "status": "SHUTOFF", "locked": true, "metadata": {"a": "1"},
            "OS-EXT-STS:task_state": null}});
        let view = parse_server_view(&json).expect("view");
        assert_eq!(view.vm_state, Some(VmState::Stopped));
        assert!(view.locked && view.task_state.is_none());
        assert_eq!(view.metadata.map(|m| m.len()), Some(1));
    }

    #[test]
    fn batch_start_carries_no_type_and_batch_stop_does() {
        let start = batch_action_body(&ServerAction::Start, "s1");
        assert_eq!(
            start,
            serde_json::json!({"os-start": {"servers": [{"id": "s1"}]}})
        );
        let stop = batch_action_body(&ServerAction::Stop, "s1");
        assert_eq!(stop["os-stop"]["type"], "SOFT");
    }

    #[test]
    fn every_write_refusing_state_has_a_way_back() {
        for state in VmState::ALL {
            if state != VmState::Active && state != VmState::Building {
                assert!(ServerAction::undoing(state).is_some(), "{state}");
            }
        }
    }

    /// A loopback server that counts the connections it accepts, keeps them
    /// alive, answers `{}` after 50 ms, and drops the connection of a
    /// request to `/reset` without an answer.
    async fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
                    if request.uri().path() == "/reset" {
                        return Err("reset");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(hyper::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from_static(b"{}"),
                    )))
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(io, service),
                );
            }
        });
        (format!("http://{addr}"), accepted)
    }

    fn get(url: String) -> RecordedRequest {
        RecordedRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    #[tokio::test]
    async fn after_a_transport_error_the_next_request_connects_afresh() {
        use std::sync::atomic::Ordering;
        let (base, accepted) = counting_server().await;
        let target = Target::for_tests(&base, crate::profile::builtin("nova").expect("nova"));
        let transport = Transport::new(Duration::from_secs(5)).expect("transport");
        let mut driver = Driver::new(target, transport, None, false);
        // Three writers at once: three keep-alive connections in the pool.
        let fan_out = (0..3).map(|_| get(format!("{base}/ok"))).collect();
        let answers = driver.send_all(fan_out, Identity::Owner).await;
        assert!(answers.iter().all(|e| e.response.is_some()));
        let pooled = driver
            .send(get(format!("{base}/ok")), Identity::Owner)
            .await;
        assert!(pooled.response.is_some());
        let before = accepted.load(Ordering::SeqCst);
        assert_eq!(driver.reconnects, 0);
        // The reset takes one pooled connection; the next request must not
        // take one of its idle siblings.
        let reset = driver
            .send(get(format!("{base}/reset")), Identity::Owner)
            .await;
        assert!(reset.response.is_none(), "{:?}", reset.response);
        let after = driver
            .send(get(format!("{base}/ok")), Identity::Owner)
            .await;
        assert!(after.response.is_some(), "{:?}", after.error);
        assert_eq!(driver.reconnects, 1);
        assert_eq!(accepted.load(Ordering::SeqCst), before + 1);
    }
}
