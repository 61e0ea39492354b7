//! Model-based stateful fuzzing: random sequences of metadata operations,
//! server actions and concurrent writes, applied to the endpoint and to the
//! model copy ([`World`]) side by side.
//!
//! After every step the status must be in the accepted set for the model's
//! outcome, the success body must be the model's, and after every write the
//! stored map (read back) must equal the model's. A concurrent step sends
//! several writes at once (merges, replace-alls, sets and deletes, some of
//! one key) and then asks [`super::linearize`] whether some order of them
//! explains every answer and the map read back.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use crate::cases::format::Identity;
use crate::endpoint::http::Exchange;
use crate::model::Metadata;
use crate::model::body::parse_json;
use crate::model::outcome::OutcomeKind;
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, VmState};
use crate::profile::Profile;
use crate::profile::format::ActionForm;

use super::driver::{Driver, DriverError};
use super::generators::{self, Alphabet};
use super::linearize;
use super::mutate;
use super::oracle::{self, Mismatch};
use super::step::{
    Body, Call, ConcurrentVia, ServerPick, Step, Write, meta_body, metadata_body, uniform_writes,
    url_addressable,
};
use super::world::World;

/// What a generated sequence may contain.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Servers the sequence may address (1 or 2).
    pub own_servers: usize,
    pub max_steps: usize,
    /// Identities with credentials (the owner always).
    pub identities: Vec<Identity>,
    /// Server actions the sequence may use (empty: no state changes).
    pub actions: Vec<ServerAction>,
    /// Replace-all may be used (spec §2.7 safety rule).
    pub replace: bool,
    /// Writers in a concurrent step (0: no concurrent steps).
    pub writers: usize,
    /// The second project's server may be addressed (as a non-admin).
    pub alt_server: bool,
}

/// The actions a dialect can use to move servers between states.
pub fn available_actions(profile: &Profile, state_changes: bool, admin: bool) -> Vec<ServerAction> {
    if !state_changes {
        return Vec::new();
    }
    let reachable = |s: VmState| profile.reachable(s);
    let mut out = Vec::new();
    if reachable(VmState::Stopped) {
        out.extend([ServerAction::Stop, ServerAction::Start]);
    }
    if profile.file.servers.action_form == ActionForm::Batch {
        return out;
    }
    let pairs = [
        (VmState::Paused, ServerAction::Pause, ServerAction::Unpause),
        (
            VmState::Suspended,
            ServerAction::Suspend,
            ServerAction::Resume,
        ),
        (
            VmState::ShelvedOffloaded,
            ServerAction::Shelve,
            ServerAction::Unshelve,
        ),
        (
            VmState::Rescued,
            ServerAction::Rescue,
            ServerAction::Unrescue,
        ),
    ];
    for (state, there, back) in pairs {
        if reachable(state) {
            out.extend([there, back]);
        }
    }
    if admin && reachable(VmState::Error) {
        out.extend([
            ServerAction::ResetState(VmState::Error),
            ServerAction::ResetState(VmState::Active),
        ]);
    }
    if profile.file.lockable {
        out.extend([ServerAction::Lock { reason: None }, ServerAction::Unlock]);
    }
    out
}

/// A handful of short allowed keys and their case variants: sequences draw
/// most keys from here so gets, deletes and overwrites hit existing keys.
pub fn key_pool(profile: &Profile) -> Vec<String> {
    let rule = &profile.rules.metadata.key;
    let alphabet = Alphabet::of(&rule.charset);
    let letters: Vec<char> = alphabet
        .alphanumerics()
        .into_iter()
        .filter(char::is_ascii_alphabetic)
        .collect();
    let mut pool = Vec::new();
    let mut add = |k: String| {
        if rule.check(&k).is_ok() && url_addressable(&k) && !pool.contains(&k) {
            pool.push(k);
        }
    };
    let filler = letters.first().copied().unwrap_or('k');
    let base: Vec<String> = letters
        .iter()
        .rev()
        .take(2)
        .map(|c| c.to_string().repeat(rule.min_len.max(1)))
        .collect();
    for k in &base {
        add(k.clone());
        add(generators::case_variant(k, &rule.charset));
    }
    if let Some(&sep) = alphabet
        .allowed_ascii
        .iter()
        .find(|c| !c.is_ascii_alphanumeric() && !c.is_whitespace() && **c != '.')
    {
        add(format!("{filler}{sep}{filler}"));
    }
    add(filler.to_string().repeat(rule.max_len));
    if pool.is_empty() {
        pool.push(filler.to_string());
    }
    pool
}

pub(super) fn pool_key(pool: &[String]) -> BoxedStrategy<String> {
    select(pool.to_vec()).boxed()
}

/// A key for a URL: mostly from the pool, sometimes any generated key that a
/// URL can carry.
pub(super) fn url_key(profile: &Profile, pool: &[String]) -> BoxedStrategy<String> {
    let fallback = pool.first().cloned().unwrap_or_default();
    let any = generators::key(profile).prop_map(move |k| {
        if url_addressable(&k) {
            k
        } else {
            fallback.clone()
        }
    });
    prop_oneof![4 => pool_key(pool), 1 => any].boxed()
}

fn body_key(profile: &Profile, pool: &[String]) -> BoxedStrategy<String> {
    let boundary = generators::boundary_keys(&profile.rules.metadata.key);
    if boundary.is_empty() {
        return prop_oneof![3 => pool_key(pool), 1 => generators::key(profile)].boxed();
    }
    prop_oneof![
        6 => pool_key(pool),
        1 => select(boundary),
        2 => generators::key(profile),
    ]
    .boxed()
}

pub(super) fn any_value(profile: &Profile) -> BoxedStrategy<Value> {
    let boundary = generators::boundary_values(&profile.rules.metadata.value);
    prop_oneof![
        8 => generators::plain_value().prop_map(Value::String),
        2 => select(boundary).prop_map(Value::String),
        2 => generators::value(profile),
    ]
    .boxed()
}

pub(super) fn small_map(profile: &Profile, pool: &[String]) -> BoxedStrategy<Map<String, Value>> {
    prop::collection::vec((body_key(profile, pool), any_value(profile)), 0..4)
        .prop_map(|entries| entries.into_iter().collect())
        .boxed()
}

pub(super) fn request_map(profile: &Profile, pool: &[String]) -> BoxedStrategy<Map<String, Value>> {
    prop_oneof![3 => small_map(profile, pool), 1 => generators::map(profile)].boxed()
}

fn who(shape: &Shape) -> BoxedStrategy<Identity> {
    let mut arms: Vec<(u32, BoxedStrategy<Identity>)> = vec![(8, Just(Identity::Owner).boxed())];
    for id in [Identity::Admin, Identity::Reader] {
        if shape.identities.contains(&id) {
            arms.push((1, Just(id).boxed()));
        }
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

fn server(shape: &Shape) -> BoxedStrategy<ServerPick> {
    let mut arms: Vec<(u32, BoxedStrategy<ServerPick>)> =
        vec![(10, Just(ServerPick::Own(0)).boxed())];
    if shape.own_servers > 1 {
        arms.push((2, Just(ServerPick::Own(1)).boxed()));
    }
    arms.push((1, Just(ServerPick::Missing).boxed()));
    if shape.alt_server {
        arms.push((1, Just(ServerPick::Alt).boxed()));
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

/// Who calls which server. The second project's server is only addressed by
/// non-admins: the model then never expects its map to change, so it needs
/// no read-back and no reset.
fn addressee(shape: &Shape) -> BoxedStrategy<(Identity, ServerPick)> {
    (who(shape), server(shape))
        .prop_map(|(w, s)| match (w, s) {
            (Identity::Admin, ServerPick::Alt) => (Identity::Owner, s),
            other => other,
        })
        .boxed()
}

fn own_server(shape: &Shape) -> BoxedStrategy<ServerPick> {
    let n = shape.own_servers.max(1);
    (0..n).prop_map(ServerPick::Own).boxed()
}

/// Steps of every kind the profile and the shape allow.
pub fn step(profile: &Profile, shape: &Shape) -> BoxedStrategy<Step> {
    let pool = key_pool(profile);
    let has = |op: Op| profile.op(&op).is_some();
    let mut arms: Vec<(u32, BoxedStrategy<Step>)> = Vec::new();
    let base = addressee(shape);
    if has(Op::Merge) {
        let s = (base.clone(), request_map(profile, &pool))
            .prop_map(|((w, s), m)| Step::meta(w, s, Op::Merge, Some(metadata_body(m))));
        arms.push((6, s.boxed()));
    }
    if has(Op::Replace) && shape.replace {
        let s = (base.clone(), request_map(profile, &pool))
            .prop_map(|((w, s), m)| Step::meta(w, s, Op::Replace, Some(metadata_body(m))));
        arms.push((3, s.boxed()));
    }
    if has(Op::Set(String::new())) {
        arms.push((6, set_step(profile, &pool, shape)));
    }
    if has(Op::Get(String::new())) {
        let s = (base.clone(), url_key(profile, &pool))
            .prop_map(|((w, s), k)| Step::meta(w, s, Op::Get(k), None));
        arms.push((3, s.boxed()));
    }
    if has(Op::Delete(String::new())) {
        let s = (base.clone(), url_key(profile, &pool))
            .prop_map(|((w, s), k)| Step::meta(w, s, Op::Delete(k), None));
        arms.push((4, s.boxed()));
    }
    if has(Op::List) {
        let s = base
            .clone()
            .prop_map(|(w, s)| Step::meta(w, s, Op::List, None));
        arms.push((1, s.boxed()));
    }
    if let Some(raw) = raw_step(profile, &pool, shape) {
        arms.push((2, raw));
    }
    if !shape.actions.is_empty() {
        arms.push((6, action_step(shape)));
    }
    if shape.writers > 1 {
        arms.push((1, concurrent_step(profile, shape)));
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

fn set_step(profile: &Profile, pool: &[String], shape: &Shape) -> BoxedStrategy<Step> {
    let other = pool_key(pool);
    (
        addressee(shape),
        url_key(profile, pool),
        any_value(profile),
        other,
        0u8..10,
    )
        .prop_map(|((w, s), key, value, other, variant)| {
            let body = match variant {
                // URI/body mismatch (spec §3.2)
                0 => meta_body(&other, value),
                // zero or two entries in `meta` (spec §2.4)
                1 => {
                    let mut m = Map::new();
                    m.insert(key.clone(), value);
                    m.insert(other, Value::String("x".into()));
                    serde_json::json!({ "meta": m })
                }
                _ => meta_body(&key, value),
            };
            Step::meta(w, s, Op::Set(key), Some(body))
        })
        .boxed()
}

fn raw_step(profile: &Profile, pool: &[String], shape: &Shape) -> Option<BoxedStrategy<Step>> {
    let mut ops = Vec::new();
    if profile.op(&Op::Merge).is_some() {
        ops.push(0u8);
    }
    if profile.op(&Op::Replace).is_some() && shape.replace {
        ops.push(1);
    }
    if profile.op(&Op::Set(String::new())).is_some() {
        ops.push(2);
    }
    if ops.is_empty() {
        return None;
    }
    let s = (addressee(shape), select(ops), mutate::input(pool_key(pool))).prop_map(
        |((w, s), which, input)| {
            let (op, wrapper) = match which {
                0 => (Op::Merge, crate::model::body::Wrapper::Metadata),
                1 => (Op::Replace, crate::model::body::Wrapper::Metadata),
                _ => (
                    Op::Set(input.key.clone()),
                    crate::model::body::Wrapper::Meta,
                ),
            };
            let bytes = mutate::render(&input, wrapper);
            Step {
                who: w,
                server: s,
                call: Call::Meta {
                    op,
                    body: Some(Body::Raw {
                        bytes,
                        mutation: input.mutation,
                    }),
                },
            }
        },
    );
    Some(s.boxed())
}

fn action_step(shape: &Shape) -> BoxedStrategy<Step> {
    let admin = shape.identities.contains(&Identity::Admin);
    (
        select(shape.actions.clone()),
        own_server(shape),
        any::<bool>(),
    )
        .prop_map(move |(action, server, by_admin)| {
            let who = match action {
                ServerAction::ResetState(_) => Identity::Admin,
                ServerAction::Lock { .. } | ServerAction::Unlock if by_admin && admin => {
                    Identity::Admin
                }
                _ => Identity::Owner,
            };
            Step {
                who,
                server,
                call: Call::Action(action),
            }
        })
        .boxed()
}

/// A concurrent step: sometimes the case-file form (every writer merges,
/// or every writer sets, a distinct new key), mostly a mix of merges,
/// replace-alls, sets and deletes on two keys of their own and the pool's,
/// so that writes and deletes of one key race.
pub(super) fn concurrent_step(profile: &Profile, shape: &Shape) -> BoxedStrategy<Step> {
    let rule = &profile.rules.metadata.key;
    let alphabet = Alphabet::of(&rule.charset).alphanumerics();
    let writers = shape.writers.min(linearize::MAX_REQUESTS);
    let mut vias = Vec::new();
    if profile.op(&Op::Set(String::new())).is_some() {
        vias.push(ConcurrentVia::Set);
    }
    if profile.op(&Op::Merge).is_some() {
        vias.push(ConcurrentVia::Merge);
    }
    if vias.is_empty() {
        return Just(Step::meta(
            Identity::Owner,
            ServerPick::Own(0),
            Op::List,
            None,
        ))
        .boxed();
    }
    let tag = alphabet.last().copied().unwrap_or('z');
    let prefix = (0usize..1000).prop_map(move |salt| generators::bulk_key(&alphabet, tag, salt, 2));
    let uniform = (select(vias), prefix.clone())
        .prop_map(move |(via, prefix)| uniform_writes(via, &prefix, writers))
        .boxed();
    let kinds = write_kinds(profile, shape);
    let pool = key_pool(profile);
    let mixed = (
        prefix,
        prop::collection::vec(mixed_write(kinds, pool), 2..=writers),
    )
        .prop_map(|(prefix, picks)| {
            picks
                .into_iter()
                .enumerate()
                .map(|(i, pick)| pick.write(&prefix, i))
                .collect::<Vec<Write>>()
        })
        .boxed();
    (prop_oneof![1 => uniform, 3 => mixed], own_server(shape))
        .prop_map(|(writes, server)| Step {
            who: Identity::Owner,
            server,
            call: Call::Concurrent { writes },
        })
        .boxed()
}

/// The write operations a concurrent step may mix.
fn write_kinds(profile: &Profile, shape: &Shape) -> Vec<Op> {
    let candidates = [
        Op::Merge,
        Op::Replace,
        Op::Set(String::new()),
        Op::Delete(String::new()),
    ];
    candidates
        .into_iter()
        .filter(|op| profile.op(op).is_some() && (*op != Op::Replace || shape.replace))
        .collect()
}

/// One drawn write of a mixed concurrent step, before its keys are named.
#[derive(Debug, Clone)]
struct MixedPick {
    op: Op,
    /// Which keys: below 2, the step's own `{prefix}00k`; above, the pool's.
    keys: Vec<usize>,
    pool: Vec<String>,
}

impl MixedPick {
    /// The write, with value `v{index}` so every answer shows whose it is.
    fn write(&self, prefix: &str, index: usize) -> Write {
        let key = |k: usize| match k.checked_sub(2).and_then(|p| self.pool.get(p)) {
            Some(pooled) => pooled.clone(),
            None => format!("{prefix}{:03}", k % 2),
        };
        let value = format!("v{index}");
        let first = self.keys.first().copied().unwrap_or(0);
        match &self.op {
            Op::Set(_) => Write::set(&key(first), &value),
            Op::Delete(_) => Write::delete(&key(first)),
            op => {
                let map = self
                    .keys
                    .iter()
                    .map(|&k| (key(k), Value::String(value.clone())))
                    .collect();
                Write {
                    op: op.clone(),
                    body: Some(metadata_body(map)),
                }
            }
        }
    }
}

fn mixed_write(kinds: Vec<Op>, pool: Vec<String>) -> BoxedStrategy<MixedPick> {
    // Mostly the step's two own keys, sometimes a pool key.
    let key = prop_oneof![8 => 0usize..2, 1 => 2..2 + pool.len().max(1)];
    (select(kinds), prop::collection::vec(key, 1..=2))
        .prop_map(move |(op, keys)| MixedPick {
            op,
            keys,
            pool: pool.clone(),
        })
        .boxed()
}

/// Sequences of 1 to `max_steps` steps.
///
/// Besides single steps, a sequence contains *state probes*: a server action
/// immediately followed by a write, since a write in a state reached by an
/// action is where state and lock rules are decided.
pub fn sequence(profile: &Profile, shape: &Shape) -> BoxedStrategy<Vec<Step>> {
    let max = shape.max_steps.max(1);
    let single = step(profile, shape).prop_map(|s| vec![s]).boxed();
    let chunk = match state_probe(profile, shape) {
        Some(probe) => prop_oneof![6 => single, 1 => probe].boxed(),
        None => single,
    };
    prop::collection::vec(chunk, 1..=max)
        .prop_map(move |chunks| chunks.into_iter().flatten().take(max).collect())
        .boxed()
}

/// An action, then a write by the owner on the same server.
pub(super) fn state_probe(profile: &Profile, shape: &Shape) -> Option<BoxedStrategy<Vec<Step>>> {
    if shape.actions.is_empty() {
        return None;
    }
    let pool = key_pool(profile);
    let writes = write_step(profile, &pool)?;
    let probe = (action_step(shape), writes).prop_map(|(action, mut write)| {
        write.server = action.server;
        write.who = Identity::Owner;
        vec![action, write]
    });
    Some(probe.boxed())
}

/// A plain owner write: merge, set or delete of pool keys.
pub(super) fn write_step(profile: &Profile, pool: &[String]) -> Option<BoxedStrategy<Step>> {
    let mut arms: Vec<(u32, BoxedStrategy<Step>)> = Vec::new();
    let own = ServerPick::Own(0);
    if profile.op(&Op::Merge).is_some() {
        let s = small_map(profile, pool)
            .prop_map(move |m| Step::meta(Identity::Owner, own, Op::Merge, Some(metadata_body(m))));
        arms.push((1, s.boxed()));
    }
    if profile.op(&Op::Set(String::new())).is_some() {
        let s = (pool_key(pool), any_value(profile)).prop_map(move |(k, v)| {
            let body = meta_body(&k, v);
            Step::meta(Identity::Owner, own, Op::Set(k), Some(body))
        });
        arms.push((1, s.boxed()));
    }
    if profile.op(&Op::Delete(String::new())).is_some() {
        let s =
            pool_key(pool).prop_map(move |k| Step::meta(Identity::Owner, own, Op::Delete(k), None));
        arms.push((1, s.boxed()));
    }
    if arms.is_empty() {
        return None;
    }
    Some(proptest::strategy::Union::new_weighted(arms).boxed())
}

/// The label findings are deduplicated on and shrinking must preserve.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cause {
    pub step_kind: String,
    pub class: String,
    /// For a 5xx: the answer's fault name and message template (see
    /// [`super::novelty::template`]), so two crashes with different
    /// exceptions behind them are two causes. Empty otherwise.
    pub answer: String,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step_kind, self.class)?;
        if !self.answer.is_empty() {
            write!(f, " ({})", self.answer)?;
        }
        Ok(())
    }
}

/// A step whose answer disagreed with the model.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the failing step in its sequence.
    pub step: usize,
    pub kind: String,
    pub mismatch: Mismatch,
    /// The outcome the model decided for that step, when it is a metadata
    /// step.
    pub expected: Option<OutcomeKind>,
    /// For a 5xx: fault name and message template of the answer.
    pub answer: String,
}

impl Finding {
    pub fn cause(&self) -> Cause {
        Cause {
            step_kind: self.kind.clone(),
            class: self.mismatch.class(),
            answer: self.answer.clone(),
        }
    }
}

/// One sequence run: every exchange (with the index of the step it belongs
/// to) and the first finding.
#[derive(Debug, Clone, Default)]
pub struct Execution {
    pub exchanges: Vec<(usize, Exchange)>,
    pub finding: Option<Finding>,
    /// The model's outcome per metadata step (for case files).
    pub expected: Vec<Option<OutcomeKind>>,
    /// The model's stored map after each step (for case files).
    pub stored: Vec<Option<Metadata>>,
    /// The first server's map after the reset (a case file's `given`).
    pub initial: Metadata,
    /// The model's success body per metadata step (for case files).
    pub bodies: Vec<Option<Value>>,
}

/// Reset `servers`, then run `steps` until the first finding.
pub async fn execute(
    driver: &mut Driver,
    servers: &[String],
    steps: &[Step],
) -> Result<Execution, DriverError> {
    let records = driver.reset(servers).await?;
    let project = driver.target.project_id.clone();
    let mut world = World::new(&project, &project, records).with_alt(alt_record(driver));
    let mut run = Execution {
        initial: world
            .metadata(ServerPick::Own(0))
            .cloned()
            .unwrap_or_default(),
        ..Execution::default()
    };
    for (index, step) in steps.iter().enumerate() {
        let mut trace = Vec::new();
        let verdict = run_step(driver, &mut world, step, &mut trace).await?;
        run.exchanges.extend(trace.into_iter().map(|e| (index, e)));
        run.expected.push(verdict.expected);
        run.bodies.push(verdict.body.clone());
        // What the map should be after the step: the model's store for an
        // accepted write, the unchanged map otherwise (also when the
        // endpoint disagreed and the model copy was not updated).
        run.stored.push(match (&verdict.store, step.server) {
            (Some(store), ServerPick::Own(_)) => Some(store.clone()),
            _ => step_server_map(&world, step),
        });
        if let Err(mismatch) = verdict.result {
            let answer = crash_answer(&mismatch, run.exchanges.last());
            run.finding = Some(Finding {
                step: index,
                kind: step.kind(),
                mismatch,
                expected: verdict.expected,
                answer,
            });
            break;
        }
    }
    Ok(run)
}

/// What tells one crash from another: the fault name and message template
/// of a 5xx answer (`computeFault: Unexpected API Error … <class
/// 'RecursionError'>`); empty for any other mismatch.
fn crash_answer(mismatch: &Mismatch, last: Option<&(usize, Exchange)>) -> String {
    let Mismatch::ServerError { .. } = mismatch else {
        return String::new();
    };
    let Some(body) = last
        .and_then(|(_, e)| e.response.as_ref())
        .and_then(|r| r.json())
    else {
        return String::new();
    };
    match super::novelty::fault_and_message(&body) {
        Some((fault, message)) => format!("{fault}: {}", super::novelty::template(&message)),
        None => String::new(),
    }
}

/// The model copy of the second project's server: only its id and project
/// matter, since non-admins never get past the visibility check.
fn alt_record(driver: &Driver) -> Option<crate::model::server::ServerRecord> {
    let target = &driver.target;
    let id = target.alt_servers.first()?;
    let project = target.credentials.alt_project_id.as_deref()?;
    Some(crate::model::server::ServerRecord::new(
        id,
        project,
        "alt",
        Metadata::new(),
    ))
}

fn step_server_map(world: &World, step: &Step) -> Option<Metadata> {
    world.metadata(step.server).cloned()
}

struct Verdict {
    expected: Option<OutcomeKind>,
    body: Option<Value>,
    /// The map the model stores for this step, if it is an accepted write.
    store: Option<Metadata>,
    result: Result<(), Mismatch>,
}

async fn run_step(
    driver: &mut Driver,
    world: &mut World,
    step: &Step,
    trace: &mut Vec<Exchange>,
) -> Result<Verdict, DriverError> {
    if !driver.has_identity(step.who) {
        return Ok(Verdict {
            expected: None,
            body: None,
            store: None,
            result: Ok(()),
        });
    }
    match &step.call {
        Call::Meta { op, body } => meta_step(driver, world, step, op, body.as_ref(), trace).await,
        Call::Action(action) => {
            let result = action_step_run(driver, world, step, action, trace).await?;
            Ok(Verdict {
                expected: None,
                body: None,
                store: None,
                result,
            })
        }
        Call::Concurrent { writes } => {
            let result = concurrent_run(driver, world, step.server, writes, trace).await?;
            Ok(Verdict {
                expected: Some(OutcomeKind::Ok),
                body: None,
                store: None,
                result,
            })
        }
    }
}

async fn meta_step(
    driver: &mut Driver,
    world: &mut World,
    step: &Step,
    op: &Op,
    body: Option<&Body>,
    trace: &mut Vec<Exchange>,
) -> Result<Verdict, DriverError> {
    let bytes = body.map(Body::bytes).unwrap_or_default();
    let rules = &driver.target.profile.rules;
    let decision = world.decide(rules, op, step.who, step.server, &bytes);
    let expected = Some(decision.outcome.kind());
    let body_expected = match &decision.outcome {
        crate::model::outcome::Outcome::Success(success) => oracle::success_body(success),
        _ => None,
    };
    let request = driver.meta_request(world, op, step.who, step.server, body);
    let exchange = driver.send(request, step.who).await;
    let request_map = request_entries(&bytes);
    let checked = oracle::check_answer(
        &driver.target.profile,
        op,
        &decision,
        &exchange,
        request_map.as_ref(),
    );
    trace.push(exchange);
    let status = trace
        .last()
        .and_then(|e| e.response.as_ref())
        .map(|r| r.status);
    let own_read =
        !op.is_write() && step.who == Identity::Owner && matches!(step.server, ServerPick::Own(_));
    let unexpected = status == Some(401) || (status == Some(403) && own_read);
    driver.judge_auth(unexpected, &step.kind())?;
    if let Err(mismatch) = checked {
        return Ok(Verdict {
            expected,
            body: body_expected,
            store: decision.store.clone(),
            result: Err(mismatch),
        });
    }
    world.commit(step.server, &decision);
    let result = if op.is_write() && matches!(step.server, ServerPick::Own(_)) {
        compare_stored(driver, world, step.server).await
    } else {
        Ok(())
    };
    Ok(Verdict {
        expected,
        body: body_expected,
        store: decision.store.clone(),
        result,
    })
}

/// The string entries of a merge/replace body (for echo checks).
fn request_entries(bytes: &[u8]) -> Option<Metadata> {
    let json = parse_json(bytes).ok()?;
    let entries = json.get("metadata")?.as_dict()?;
    Some(
        entries
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
    )
}

async fn compare_stored(
    driver: &mut Driver,
    world: &World,
    pick: ServerPick,
) -> Result<(), Mismatch> {
    let Some(expected) = world.metadata(pick) else {
        return Ok(());
    };
    match driver.read_back(world, pick).await {
        Ok(got) => oracle::check_stored(expected, &got),
        Err(e) => Err(Mismatch::ReadBack(e)),
    }
}

async fn action_step_run(
    driver: &mut Driver,
    world: &mut World,
    step: &Step,
    action: &ServerAction,
    trace: &mut Vec<Exchange>,
) -> Result<Result<(), Mismatch>, DriverError> {
    let preview = world.preview_action(step.server, action, step.who);
    let id = world.server_id(step.server).to_string();
    let request = driver.action_request(&id, action, step.who);
    let exchange = driver.send(request, step.who).await;
    let status = exchange.response.as_ref().map(|r| r.status);
    trace.push(exchange);
    let Some(status) = status else {
        return Ok(Err(Mismatch::Transport("action got no answer".into())));
    };
    if status >= 500 {
        return Ok(Err(Mismatch::ServerError { status }));
    }
    let accepted = (200..300).contains(&status);
    let unexpected_auth = status == 401;
    driver.judge_auth(unexpected_auth, &step.kind())?;
    if accepted && preview.is_err() && driver.actions_are_jobs() {
        // A batch action is a job: ECS accepts it (200 and a job id) and the
        // job fails later, leaving the server as the model has it.
        return Ok(Ok(()));
    }
    if accepted != preview.is_ok() {
        return Ok(Err(Mismatch::Action {
            model_allows: preview.is_ok(),
            got: status,
        }));
    }
    let Ok(record) = preview else {
        return Ok(Ok(()));
    };
    let (state, locked) = (record.vm_state, record.locked);
    world.set_server(step.server, record);
    let view = match driver.settle(&id, state).await {
        Ok(view) => view,
        Err(e) => return Ok(Err(Mismatch::ReadBack(e))),
    };
    let lock_differs = view.lock_known && view.locked != locked;
    if view.vm_state.is_some_and(|s| s != state) || lock_differs {
        return Ok(Err(Mismatch::State {
            expected: format!("{state} locked={locked}"),
            got: format!(
                "{} locked={}",
                view.vm_state.map_or("?", |s| s.as_str()),
                view.locked
            ),
        }));
    }
    Ok(Ok(()))
}

/// Send every write of a concurrent step at once, read the map back, and
/// ask [`linearize`] whether some order of the writes explains every answer
/// and the map. Transport errors, 5xx answers, missing request-id headers
/// and unpaired surrogates are findings whatever the order.
async fn concurrent_run(
    driver: &mut Driver,
    world: &mut World,
    pick: ServerPick,
    writes: &[Write],
    trace: &mut Vec<Exchange>,
) -> Result<Result<(), Mismatch>, DriverError> {
    let plan = writes
        .iter()
        .map(|w| driver.meta_request(world, &w.op, Identity::Owner, pick, w.body().as_ref()))
        .collect();
    let exchanges = driver.send_all(plan, Identity::Owner).await;
    let refused_auth = exchanges
        .iter()
        .any(|e| e.response.as_ref().is_some_and(|r| r.status == 401));
    let answers = order_free_answers(&driver.target.profile, &exchanges);
    trace.extend(exchanges);
    driver.judge_auth(refused_auth, "concurrent")?;
    let answers = match answers {
        Ok(answers) => answers,
        Err(mismatch) => return Ok(Err(mismatch)),
    };
    let stored = match driver.read_back(world, pick).await {
        Ok(m) => m,
        Err(e) => return Ok(Err(Mismatch::ReadBack(e))),
    };
    let requests: Vec<linearize::Request> = writes
        .iter()
        .map(|w| linearize::Request {
            op: w.op.clone(),
            body: w.bytes(),
        })
        .collect();
    let history = linearize::History {
        profile: &driver.target.profile,
        world,
        server: pick,
        requests: &requests,
        answers: &answers,
        stored: &stored,
    };
    if let Err(unexplained) = linearize::linearize(&history) {
        return Ok(Err(Mismatch::from(unexplained)));
    }
    world.set_metadata(pick, stored);
    Ok(Ok(()))
}

/// Each exchange's answer, or the first finding that no order can explain.
fn order_free_answers(
    profile: &Profile,
    exchanges: &[Exchange],
) -> Result<Vec<linearize::Answer>, Mismatch> {
    exchanges
        .iter()
        .map(|exchange| {
            let Some(response) = &exchange.response else {
                let error = exchange.error.clone().unwrap_or_default();
                return Err(Mismatch::Transport(error));
            };
            if response.status >= 500 {
                return Err(Mismatch::ServerError {
                    status: response.status,
                });
            }
            if let Some(name) = oracle::request_id_header(profile)
                && response.header(name).is_none()
            {
                return Err(Mismatch::MissingHeader(name.to_string()));
            }
            let count = response.lone_surrogates();
            if count > 0 {
                return Err(Mismatch::LoneSurrogate { count });
            }
            Ok(linearize::Answer {
                status: response.status,
                body: response.json(),
            })
        })
        .collect()
}
