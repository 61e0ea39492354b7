//! The six metadata operations: the request goes through
//! [`crate::model::pipeline::decide`] with the world's server, the decided
//! map is stored, and the profile renders the outcome.
//!
//! The world's lock is held from the read of the server to the write of the
//! decided map, so concurrent writes to one server are linearizable. The
//! `lost-update` fault drops the lock between the two on purpose, and
//! [`Overlap`] makes two concurrent writes meet between read and write.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::model::Metadata;
use crate::model::body::{self, Wrapper};
use crate::model::pipeline::{Decision, MetaRequest, Op, decide};

use super::app::Call;
use super::faults::Fault;
use super::message::HttpResponse;
use super::respond;
use super::routes::MetaOp;

/// How long a `lost-update` write, alone in the handler, waits after its
/// read for another write to arrive and read the same state.
const LOST_UPDATE_PAUSE: Duration = Duration::from_millis(2);
/// How long it waits for the read of a write already in the handler.
const LOST_UPDATE_WAIT: Duration = Duration::from_millis(1000);

/// The `lost-update` fault's meeting point. A write that has read waits until
/// another write has read too: up to [`LOST_UPDATE_WAIT`] while another write
/// is in the handler (its read comes, so the two always overlap and one is
/// lost, however the threads are scheduled), otherwise only
/// [`LOST_UPDATE_PAUSE`], so sequential clients are not slowed down.
#[derive(Debug, Default)]
pub struct Overlap {
    writes: Mutex<Writes>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Writes {
    in_handler: usize,
    reads: u64,
}

impl Overlap {
    fn writes(&self) -> MutexGuard<'_, Writes> {
        // A poisoned lock only means a handler panicked; the counts stand.
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count a write in the handler until the returned guard drops (also
    /// if the handler unwinds).
    fn enter(&self) -> InHandler<'_> {
        self.writes().in_handler += 1;
        self.changed.notify_all();
        InHandler(self)
    }

    fn leave(&self) {
        let mut writes = self.writes();
        writes.in_handler = writes.in_handler.saturating_sub(1);
        self.changed.notify_all();
    }

    /// Count this write's read and wait for another one (see [`Overlap`]).
    fn wait_for_another_read(&self) {
        let start = Instant::now();
        let mut writes = self.writes();
        writes.reads += 1;
        let mine = writes.reads;
        self.changed.notify_all();
        while writes.reads == mine {
            let limit = if writes.in_handler > 1 {
                LOST_UPDATE_WAIT
            } else {
                LOST_UPDATE_PAUSE
            };
            let Some(left) = limit.checked_sub(start.elapsed()) else {
                return;
            };
            writes = match self.changed.wait_timeout(writes, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// A write counted in the handler; leaves on drop.
struct InHandler<'a>(&'a Overlap);

impl Drop for InHandler<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// Answer one metadata request.
pub fn handle(call: &Call<'_>, meta_op: MetaOp) -> HttpResponse {
    let faults = call.faults();
    let route_op = meta_op.to_op(call.captures.key.as_deref());
    let ok_status = call
        .profile()
        .op(&route_op)
        .map(|s| s.status)
        .unwrap_or(200);
    let op = faults.op(route_op);
    let body = faults.body(call.request.body.clone());
    let server_id = call.captures.server.clone().unwrap_or_default();
    let request = MetaRequest {
        op: &op,
        caller: call.caller.as_ref(),
        url_project: call.url_project.as_deref(),
        server_id: &server_id,
        body: &body,
        body_len: call.request.body_len(),
        content_type: call.request.header_value("Content-Type"),
        versions: &call.versions,
        query: &call.query,
    };
    let decision = if faults.has(&Fault::LostUpdate) && op.is_write() {
        decide_without_lock(call, &request)
    } else {
        decide_and_store(call, &request)
    };
    let outcome = faults.outcome(&op, decision.outcome, || request_map(call, &op, &body));
    let mut response = respond::outcome(call.profile(), &outcome, ok_status, &call.identity_uri);
    respond::add_version_headers(&mut response, decision.microversion, call.rules.legacy);
    response
}

/// Read, decide and write under one hold of the lock.
fn decide_and_store(call: &Call<'_>, request: &MetaRequest<'_>) -> Decision {
    let mut world = call.world();
    let seen = world
        .get(request.server_id)
        .map(|s| call.faults().server(s, request.caller));
    let mut decision = decide(call.rules, request, seen.as_deref());
    if let (Some(store), Some(server)) = (decision.store.take(), world.get_mut(request.server_id)) {
        server.metadata = store;
    }
    decision
}

/// The `lost-update` fault: read under the lock, wait for another write's
/// read ([`Overlap`]), write under the lock again, so the concurrent write is
/// overwritten.
fn decide_without_lock(call: &Call<'_>, request: &MetaRequest<'_>) -> Decision {
    let overlap = call.app.overlap();
    let _in_handler = overlap.enter();
    read_wait_write(call, request)
}

fn read_wait_write(call: &Call<'_>, request: &MetaRequest<'_>) -> Decision {
    let seen = call
        .world()
        .get(request.server_id)
        .map(|s| call.faults().server(s, request.caller).into_owned());
    let decision = decide(call.rules, request, seen.as_ref());
    if let Some(store) = &decision.store {
        call.app.overlap().wait_for_another_read();
        if let Some(server) = call.world().get_mut(request.server_id) {
            server.metadata = store.clone();
        }
    }
    decision
}

/// The request's own map (for `merge-returns-request`).
fn request_map(call: &Call<'_>, op: &Op, body: &[u8]) -> Option<Metadata> {
    let wrapper = op.wrapper().unwrap_or(Wrapper::Metadata);
    let value = body::parse_json(body).ok()?;
    body::extract(&value, wrapper, call.rules.legacy, &call.rules.metadata).ok()
}
