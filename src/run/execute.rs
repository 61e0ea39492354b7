//! Running one case on one server: setup, steps, checks, cleanup, verdict.
//!
//! A [`Session`] sends every request of the case and keeps a redacted
//! record of each. The verdict is `fail` when an expectation is broken (the
//! first failing step stops the case), `error` when setup, a transport or the
//! case itself is in trouble, `skip` when [`applicability`] says so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::endpoint::throttle;

use crate::cases::format::{Case, Expect, Identity, ServerRef, Step, StepOp};
use crate::endpoint::http::{Exchange, RecordedRequest, RecordedResponse, Transport};
use crate::endpoint::provision::{self, Recipe};
use crate::endpoint::{AccessKeyPair, Target};
use crate::model::pipeline::Op;

use super::RunOptions;
use super::applicability::{self, Skip};
use super::auth_guard::AuthGuard;
use super::check;
use super::redact::Redactor;
use super::requests::{self, Action, BuildError};
use super::results::{
    CaseResult, Cause, ExchangeRecord, Failure, Place, Problem, Purpose, StoredMap, Verdict, millis,
};
use super::servers::{Housekeeping, SetupError};
use crate::cases::LoadedCase;

/// A well-formed UUID that names no server (`server: missing`). Fixed, so
/// results of two runs diff cleanly.
pub const MISSING_SERVER: &str = "00000000-0000-4000-8000-00000000dead";

/// A server id that is not a UUID at all (`server: not-uuid`).
pub const NOT_A_UUID: &str = "not-a-uuid";

/// What every case of a run shares.
#[derive(Debug, Clone)]
pub struct Context {
    pub target: Target,
    pub transport: Transport,
    pub redactor: Redactor,
    pub options: RunOptions,
    /// Stops the run on repeated 401s to AK/SK-signed requests.
    pub auth_guard: Arc<AuthGuard>,
}

/// The servers a case may use.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'a> {
    pub server: &'a str,
    pub alt_server: Option<&'a str>,
}

/// One case's conversation with the endpoint.
pub struct Session<'a> {
    pub target: &'a Target,
    pub transport: &'a Transport,
    pub redactor: &'a Redactor,
    pub options: &'a RunOptions,
    pub auth_guard: &'a Arc<AuthGuard>,
    pub records: Vec<ExchangeRecord>,
    /// The 1-based step being run, for records sent on its behalf (polls
    /// after an action).
    pub current_step: Option<usize>,
    /// Servers the case's create steps made, deleted when it ends.
    pub created: Vec<String>,
}

impl<'a> Session<'a> {
    /// A fresh session over the run's shared context, with nothing recorded.
    pub fn new(ctx: &'a Context) -> Session<'a> {
        Session {
            target: &ctx.target,
            transport: &ctx.transport,
            redactor: &ctx.redactor,
            options: &ctx.options,
            auth_guard: &ctx.auth_guard,
            records: Vec::new(),
            current_step: None,
            created: Vec::new(),
        }
    }

    /// Send and record.
    pub async fn send(
        &mut self,
        request: RecordedRequest,
        purpose: Purpose,
        step: Option<usize>,
        identity: Identity,
    ) -> Exchange {
        let request = crate::endpoint::requests::in_project_of(request, identity, self.target);
        let key = super::signing_key(&self.target.credentials, identity);
        let exchange = dispatch(self.transport, self.auth_guard, request, key).await;
        let step = step.or(self.current_step.filter(|_| purpose == Purpose::Step));
        self.records
            .push(self.redactor.record(&exchange, purpose, step, identity));
        exchange
    }
}

impl crate::endpoint::servers::Conversation for Session<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn settings(&self) -> crate::endpoint::servers::StateSettings {
        crate::endpoint::servers::StateSettings {
            state_timeout: self.options.state_timeout,
            resize_flavor: self.options.resize_flavor.clone(),
        }
    }

    async fn exchange(
        &mut self,
        request: RecordedRequest,
        purpose: Purpose,
        step: Option<usize>,
        identity: Identity,
    ) -> Exchange {
        self.send(request, purpose, step, identity).await
    }

    fn journal(&self) -> Option<&crate::endpoint::journal::SharedJournal> {
        self.options.journal.as_ref()
    }
}

/// Send `request`, signed with `key` if given. Signed requests feed the
/// [`AuthGuard`]; once it has tripped, nothing more is sent.
pub async fn dispatch(
    transport: &Transport,
    guard: &AuthGuard,
    request: RecordedRequest,
    key: Option<&AccessKeyPair>,
) -> Exchange {
    if guard.tripped() {
        return Exchange {
            request,
            response: None,
            error: Some(
                "not sent: the run stopped after repeated 401s to AK/SK-signed requests".into(),
            ),
            elapsed: std::time::Duration::ZERO,
        };
    }
    let idempotent = matches!(request.method.as_str(), "GET" | "HEAD");
    let mut attempt = 0;
    loop {
        let exchange = transport.send_signed(request.clone(), key).await;
        if key.is_some()
            && let Some(response) = &exchange.response
        {
            guard.observe(response.status);
        }
        let wait = match &exchange.response {
            // 429 / flow limit: the request was not processed; honour
            // Retry-After (whatever the method).
            Some(response) => throttle::throttled(response, attempt),
            // A transport error: only a read may safely be sent again.
            None if idempotent && attempt < TRANSPORT_RETRIES => {
                Some(Duration::from_millis(200 << attempt))
            }
            None => None,
        };
        match wait {
            Some(delay) if attempt < throttle::MAX_RETRIES => {
                attempt += 1;
                tokio::time::sleep(delay).await;
            }
            _ => return exchange,
        }
    }
}

/// How often a read that got no answer is sent again.
const TRANSPORT_RETRIES: u32 = 2;

/// Why a step did not pass.
#[derive(Debug, Clone, PartialEq)]
pub enum StepTrouble {
    /// Expectations broken: the endpoint's fault; with the map read back
    /// when a `stored*` expectation was checked.
    Broken {
        problems: Vec<Problem>,
        stored: Option<StoredMap>,
    },
    /// Transport trouble or an unusable case: nothing was checked.
    Error(String),
}

impl StepTrouble {
    fn broken(problems: Vec<Problem>) -> StepTrouble {
        StepTrouble::Broken {
            problems,
            stored: None,
        }
    }

    fn into_cause(self) -> Cause {
        match self {
            StepTrouble::Broken { problems, stored } => Cause::Broken { problems, stored },
            StepTrouble::Error(message) => Cause::Trouble { message },
        }
    }
}

impl From<BuildError> for StepTrouble {
    fn from(e: BuildError) -> Self {
        StepTrouble::Error(format!("cannot build the request: {e}"))
    }
}

/// Both clean-up results, each error kept (`Result::and` keeps the first).
fn both(first: Result<(), SetupError>, second: Result<(), SetupError>) -> Result<(), SetupError> {
    match (first, second) {
        (Err(a), Err(b)) => Err(SetupError(format!("{}; {}", a.0, b.0))),
        (first, second) => first.and(second),
    }
}

/// Run `loaded` on the assigned servers (or skip it) and judge it.
pub async fn run_case(ctx: &Context, loaded: &LoadedCase, servers: Assignment<'_>) -> CaseResult {
    let started = Instant::now();
    let case = &loaded.case;
    let mut result = blank_result(loaded);
    if let Err(skip) = applicability::check(case, &ctx.target, &ctx.options) {
        return skipped(loaded, skip);
    }
    let mut session = Session::new(ctx);
    let outcome = session.run(case, servers).await;
    let mut cleanup = if touches_state(case) {
        session
            .bring_back(servers.server, touches_lock(case), Identity::Owner)
            .await
    } else {
        Ok(())
    };
    if let Some(alt) = servers.alt_server.filter(|_| acts_on_alt(case))
        && ctx.target.credentials.admin_token.is_some()
    {
        let alt_cleanup = session.bring_back(alt, true, Identity::Admin).await;
        cleanup = cleanup.and(alt_cleanup);
    }
    let deleted = session.delete_created().await;
    apply_outcome(&mut result, outcome, both(cleanup, deleted));
    result.exchanges = session.records;
    result.duration_ms = millis(started.elapsed());
    result
}

/// The result of a case that does not run, and why.
pub fn skipped(loaded: &LoadedCase, Skip { kind, reason }: Skip) -> CaseResult {
    let mut result = blank_result(loaded);
    result.verdict = Verdict::Skip;
    result.skip_kind = Some(kind);
    result.skip_reason = Some(reason);
    result
}

/// A case that could not run at all, for `reason` (an error: it gates).
pub fn not_run(loaded: &LoadedCase, reason: String) -> CaseResult {
    let mut result = blank_result(loaded);
    result.verdict = Verdict::Error;
    result.failure = Some(Failure::trouble(Place::Case, reason));
    result
}

fn blank_result(loaded: &LoadedCase) -> CaseResult {
    let case = &loaded.case;
    CaseResult {
        id: case.id.clone(),
        area: loaded.area.clone(),
        name: case.name.clone(),
        spec: case.spec.clone(),
        class: case.class,
        verdict: Verdict::Pass,
        failure: None,
        skip_reason: None,
        skip_kind: None,
        known_failure: None,
        known_reason: None,
        duration_ms: 0.0,
        exchanges: Vec::new(),
    }
}

/// A case's outcome: `Ok`, or where and what went wrong.
type CaseOutcome = Result<(), (Place, StepTrouble)>;

fn apply_outcome(result: &mut CaseResult, outcome: CaseOutcome, cleanup: Result<(), SetupError>) {
    if let Err((at, trouble)) = outcome {
        result.verdict = match trouble {
            StepTrouble::Broken { .. } if at != Place::Setup => Verdict::Fail,
            _ => Verdict::Error,
        };
        result.failure = Some(Failure::new(at, trouble.into_cause()));
    }
    if let Err(e) = cleanup {
        match &mut result.failure {
            Some(failure) => failure.cleanup = Some(e.0),
            None => {
                result.verdict = Verdict::Error;
                result.failure = Some(Failure::trouble(Place::Cleanup, e.0));
            }
        }
    }
}

/// Whether a step sends a server action to the second project's server.
pub fn acts_on_alt(case: &Case) -> bool {
    case.steps
        .iter()
        .any(|s| s.value.op == StepOp::Action && s.value.server == ServerRef::Alt)
}

/// Whether the case locks the server (given, or by a step).
pub fn touches_lock(case: &Case) -> bool {
    case.given.locked
        || case
            .steps
            .iter()
            .any(|s| s.value.op == StepOp::Action && s.value.action.as_deref() == Some("lock"))
}

/// Whether the case may leave the server in another state or locked.
pub fn touches_state(case: &Case) -> bool {
    let given = &case.given;
    given
        .vm_state
        .is_some_and(|s| s != crate::model::server::VmState::Active)
        || given.locked
        || case.steps.iter().any(|s| {
            s.value.op == StepOp::Action
                || s.value
                    .raw
                    .as_ref()
                    .is_some_and(|r| r.path.starts_with("/action"))
        })
}

impl Session<'_> {
    async fn run(&mut self, case: &Case, servers: Assignment<'_>) -> CaseOutcome {
        self.prepare(servers.server, &case.given)
            .await
            .map_err(|e| (Place::Setup, StepTrouble::Error(e.0)))?;
        for (index, step) in case.steps.iter().enumerate() {
            let number = index + 1;
            self.current_step = Some(number);
            self.run_step(case, number, &step.value, servers)
                .await
                .map_err(|t| {
                    let op = op_name(&step.value);
                    (Place::Step { step: number, op }, t)
                })?;
        }
        self.current_step = None;
        Ok(())
    }

    async fn run_step(
        &mut self,
        case: &Case,
        number: usize,
        step: &Step,
        servers: Assignment<'_>,
    ) -> Result<(), StepTrouble> {
        let expect = step
            .expect_for
            .get(self.target.profile.id())
            .unwrap_or(&step.expect);
        let server = match step.server {
            ServerRef::Own => servers.server,
            ServerRef::Missing => MISSING_SERVER,
            ServerRef::NotUuid => NOT_A_UUID,
            ServerRef::Alt => servers
                .alt_server
                .ok_or_else(|| StepTrouble::Error("no alt server assigned".into()))?,
        };
        let microversion = step
            .microversion
            .clone()
            .or_else(|| case.min_microversion.map(|m| m.to_string()));
        if step.op == StepOp::Concurrent {
            self.concurrent(number, step, expect, server).await?;
            if check::wants_stored(expect) {
                self.check_stored(number, step, expect, server).await?;
            }
            return Ok(());
        }
        let (response, op, read_back) = if step.op == StepOp::Create {
            let (response, created) = self.create(number, step).await?;
            (response, None, created)
        } else {
            let (response, op) = self
                .single(number, step, server, microversion.as_deref())
                .await?;
            (response, op, Some(server.to_string()))
        };
        let answer = Answer {
            number,
            step,
            server: read_back.as_deref(),
            response: &response,
            op: op.as_ref(),
        };
        let Err(trouble) = self.judge(&answer, expect).await else {
            return Ok(());
        };
        let StepTrouble::Broken { problems, stored } = trouble else {
            return Err(trouble);
        };
        let dialect = self.target.profile.id();
        for tolerated in step.tolerate.iter().filter(|t| t.applies_to(dialect)) {
            if self.judge(&answer, &tolerated.expect).await.is_ok() {
                return self.tolerated(&tolerated.why, problems, stored);
            }
        }
        Err(StepTrouble::Broken { problems, stored })
    }

    /// A single request's answer against one expectation: status and body,
    /// then the map read back when the expectation states it.
    async fn judge(&mut self, answer: &Answer<'_>, expect: &Expect) -> Result<(), StepTrouble> {
        let broken = check::response(
            expect,
            answer.response,
            answer.op,
            &self.target.profile,
            check::Judge::for_target(self.target),
        );
        if !broken.is_empty() {
            return Err(StepTrouble::broken(broken));
        }
        if !check::wants_stored(expect) {
            return Ok(());
        }
        let Some(server) = answer.server else {
            return Err(StepTrouble::broken(vec![Problem::Unreadable {
                message: "no server was created, so there is no map to read back".into(),
            }]));
        };
        self.check_stored(answer.number, answer.step, expect, server)
            .await
    }

    /// A create step: `POST /servers` with the step's metadata (and server
    /// fields), recorded in the run's journal when it makes a server,
    /// which is then waited for until active and deleted when the case
    /// ends. The answer, and the server to read back if one was made.
    async fn create(
        &mut self,
        number: usize,
        step: &Step,
    ) -> Result<(RecordedResponse, Option<String>), StepTrouble> {
        let recipe = self.create_recipe().ok_or_else(|| {
            StepTrouble::Error("no image and flavor to create a server from".into())
        })?;
        let name = format!(
            "metaconform-case-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let metadata = requests::create_metadata(step);
        let fields = step.server_fields.as_ref();
        let body = recipe.body_for(&self.target.profile, &name, metadata, fields);
        let created = provision::send_create(self, &body, Purpose::Step, Some(number))
            .await
            .map_err(|e| StepTrouble::Error(e.0))?;
        self.created.extend(created.id.iter().cloned());
        let response = created.exchange.response.ok_or_else(|| {
            StepTrouble::Error(format!(
                "transport: {}",
                created.exchange.error.as_deref().unwrap_or("no response")
            ))
        })?;
        if let Some(id) = &created.id {
            provision::await_active(self, id)
                .await
                .map_err(|e| StepTrouble::Error(format!("created server {id}: {e}")))?;
        }
        Ok((response, created.id))
    }

    /// What create steps make servers from: the run's `--image` and
    /// `--flavor`, or on the embedded server (which takes any) the model's
    /// placeholders.
    fn create_recipe(&self) -> Option<Recipe> {
        self.options.create_recipe.clone().or_else(|| {
            self.target.disposable.then(|| Recipe {
                image: crate::model::server::PLACEHOLDER_IMAGE.into(),
                flavor: crate::model::server::PLACEHOLDER_FLAVOR.into(),
                network: Default::default(),
            })
        })
    }

    /// Delete every server the case's create steps made (each is dropped
    /// from the run's journal once gone); every one is tried.
    async fn delete_created(&mut self) -> Result<(), SetupError> {
        let mut failed = Vec::new();
        for id in std::mem::take(&mut self.created) {
            if let Err(e) = provision::delete(self, &id).await {
                failed.push(e.0);
            }
        }
        match failed.is_empty() {
            true => Ok(()),
            false => Err(SetupError(failed.join("; "))),
        }
    }

    /// An answer that broke `expect` but matched a `tolerate` entry: a pass,
    /// or under `--strict` a failure that says so first.
    fn tolerated(
        &self,
        why: &str,
        problems: Vec<Problem>,
        stored: Option<StoredMap>,
    ) -> Result<(), StepTrouble> {
        if !self.options.strict {
            return Ok(());
        }
        let mut all = vec![Problem::Tolerated {
            why: why.to_string(),
        }];
        all.extend(problems);
        Err(StepTrouble::Broken {
            problems: all,
            stored,
        })
    }

    /// One request: build, send, and (for a successful action) wait until
    /// the server settles.
    async fn single(
        &mut self,
        number: usize,
        step: &Step,
        server: &str,
        microversion: Option<&str>,
    ) -> Result<(RecordedResponse, Option<Op>), StepTrouble> {
        let target = self.target;
        let mut rebuild_args =
            if step.op == StepOp::Action && step.action.as_deref() == Some("rebuild") {
                Some(self.rebuild_args(server, step, number).await)
            } else {
                None
            };
        let mut resize_args = match (step.op, step.action.as_deref()) {
            (StepOp::Action, Some("resize")) => Some(
                self.resize_args(server, Purpose::Step)
                    .await
                    .map_err(|e| StepTrouble::Error(e.0))?,
            ),
            _ => None,
        };
        let sender = self.sender(step.identity, microversion);
        let query = step.query.as_deref();
        let (request, op) = match step.op {
            StepOp::Raw => {
                let raw = step.raw.as_ref().ok_or(BuildError::Missing("raw"))?;
                let op = target.profile.op_at(&raw.method, &raw.path);
                (
                    requests::raw_request(target, raw, server, sender, query)?,
                    op,
                )
            }
            StepOp::Action => {
                let name = step
                    .action
                    .as_deref()
                    .ok_or(BuildError::Missing("action"))?;
                let mut action = Action::parse(name)
                    .ok_or_else(|| BuildError::UnknownAction(name.to_string()))?;
                if let Some(args) = resize_args.take() {
                    action.args = args;
                }
                if let Some(args) = rebuild_args.take() {
                    action.args = args;
                }
                (
                    requests::action_request(target, &action, server, sender)?,
                    None,
                )
            }
            kind => {
                let op = requests::abstract_op(kind, step.key.as_deref())
                    .ok_or(BuildError::Missing("op"))?;
                let body = requests::step_body(step)?;
                let request =
                    requests::metadata_request(target, &op, server, body.as_ref(), sender, query)?;
                (request, Some(op))
            }
        };
        let request = requests::customize(request, step, self.target)?;
        let exchange = self
            .send(request, Purpose::Step, Some(number), step.identity)
            .await;
        let response = exchange.response.ok_or_else(|| {
            StepTrouble::Error(format!(
                "transport: {}",
                exchange.error.as_deref().unwrap_or("no response")
            ))
        })?;
        if step.op == StepOp::Action && (200..300).contains(&response.status) {
            let goal = step
                .action
                .as_deref()
                .and_then(requests::case_action)
                .map_or(super::servers::Goal::Settled, |a| {
                    super::servers::Goal::after(&a)
                });
            self.wait_until(server, goal, Purpose::Step)
                .await
                .map_err(|e| StepTrouble::Error(e.0))?;
        }
        Ok((response, op))
    }

    /// Several writes at once, each with its own key; each answer is checked.
    async fn concurrent(
        &mut self,
        number: usize,
        step: &Step,
        expect: &Expect,
        server: &str,
    ) -> Result<(), StepTrouble> {
        let fan = step
            .concurrent
            .as_ref()
            .ok_or(BuildError::Missing("concurrent"))?;
        let sender = self.sender(step.identity, step.microversion.as_deref());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..fan.count {
            let key = format!("{}{i:03}", fan.prefix);
            let request = requests::concurrent_request(self.target, fan.op, &key, server, sender)?;
            let transport = self.transport.clone();
            let signer = super::signing_key(&self.target.credentials, step.identity).cloned();
            let guard = self.auth_guard.clone();
            tasks
                .spawn(async move { dispatch(&transport, &guard, request, signer.as_ref()).await });
        }
        let exchanges = tasks.join_all().await;
        let mut broken = Vec::new();
        for exchange in &exchanges {
            self.records.push(self.redactor.record(
                exchange,
                Purpose::Step,
                Some(number),
                step.identity,
            ));
            let Some(response) = &exchange.response else {
                return Err(StepTrouble::Error(
                    "transport error in a concurrent request".into(),
                ));
            };
            let op = requests::abstract_op(fan.op, None);
            broken.extend(check::response(
                expect,
                response,
                op.as_ref(),
                &self.target.profile,
                check::Judge::for_target(self.target),
            ));
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(StepTrouble::broken(broken))
        }
    }

    async fn check_stored(
        &mut self,
        number: usize,
        step: &Step,
        expect: &Expect,
        server: &str,
    ) -> Result<(), StepTrouble> {
        let reader = if step.server == ServerRef::Alt {
            Identity::Admin
        } else {
            Identity::Owner
        };
        let stored: StoredMap = self
            .read_stored(server, reader, Purpose::ReadBack, Some(number))
            .await
            .map_err(|e| StepTrouble::broken(vec![Problem::Unreadable { message: e.0 }]))?;
        let problems = check::stored(expect, &stored);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StepTrouble::Broken {
                problems,
                stored: Some(stored),
            })
        }
    }
}

/// One single request's answer, with what judging it needs.
struct Answer<'s> {
    number: usize,
    step: &'s Step,
    /// The server whose map `stored*` reads: the step's, or the one a
    /// create step made (`None`: it made none).
    server: Option<&'s str>,
    response: &'s RecordedResponse,
    op: Option<&'s Op>,
}

/// A step's operation as reports name it: `merge`, `action lock`,
/// `raw GET /servers/{id}`.
fn op_name(step: &Step) -> String {
    match step.op {
        StepOp::Action => format!("action {}", step.action.as_deref().unwrap_or("?")),
        StepOp::Raw => step.raw.as_ref().map_or("raw".to_string(), |r| {
            format!("raw {} {}", r.method, r.path)
        }),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server that answers its connections with `answers` in
    /// turn (`None`: close without answering); counts what it saw.
    async fn canned(
        answers: Vec<Option<&'static str>>,
    ) -> (String, tokio::task::JoinHandle<usize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut seen = 0;
            for answer in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                seen += 1;
                if let Some(answer) = answer {
                    let _ = socket.write_all(answer.as_bytes()).await;
                }
            }
            seen
        });
        (url, task)
    }

    fn get(url: &str, method: &str) -> RecordedRequest {
        RecordedRequest {
            method: method.into(),
            url: url.into(),
            headers: vec![],
            body: vec![],
        }
    }

    const TOO_MANY: &str = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    const OK: &str = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";

    #[tokio::test]
    async fn a_429_is_retried_after_its_retry_after() {
        let (url, server) = canned(vec![Some(TOO_MANY), Some(OK)]).await;
        let transport = Transport::new(std::time::Duration::from_secs(5)).unwrap();
        let exchange = dispatch(&transport, &AuthGuard::default(), get(&url, "POST"), None).await;
        assert_eq!(exchange.response.map(|r| r.status), Some(200));
        assert_eq!(server.await.unwrap(), 2);
    }

    #[tokio::test]
    async fn only_reads_are_sent_again_after_no_answer() {
        let (url, server) = canned(vec![None, Some(OK)]).await;
        let transport = Transport::new(std::time::Duration::from_secs(5)).unwrap();
        let exchange = dispatch(&transport, &AuthGuard::default(), get(&url, "GET"), None).await;
        assert_eq!(exchange.response.map(|r| r.status), Some(200));
        assert_eq!(server.await.unwrap(), 2);

        let (url, server) = canned(vec![None]).await;
        let exchange = dispatch(&transport, &AuthGuard::default(), get(&url, "PUT"), None).await;
        assert!(exchange.response.is_none(), "a write is never sent twice");
        assert_eq!(server.await.unwrap(), 1);
    }
}
