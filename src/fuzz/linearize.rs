//! The linearizability oracle of a concurrent step: is there an order of the
//! requests that, applied one by one through the model from the state before
//! the step, gives every answer the endpoint sent and the map it stores now?
//!
//! Pure: no I/O. The requests are a concurrent step's writes (merge,
//! replace-all, set-one, delete-one, several on the same key); their
//! answers are a status and, for a success that has one, its body. Orders
//! are enumerated depth first (at most 6! = 720 of them for six requests),
//! and a prefix whose last request the model answers otherwise than the
//! endpoint did is pruned with everything below it. A 404 for deleting a key
//! that another request deleted first is explained by the order that runs
//! that other delete first; acknowledged writes the final map no longer
//! shows are explained by no order, and [`Unexplained::FinalMap`] lists them
//! with the map. When no order explains everything, the verdict names the
//! first of statuses, final map and success bodies that no order explains.

use serde_json::Value;

use crate::cases::format::Identity;
use crate::model::Metadata;
use crate::model::outcome::Outcome;
use crate::model::pipeline::{Decision, Op};
use crate::profile::Profile;

use super::oracle;
use super::step::ServerPick;
use super::world::World;

/// Most requests a concurrent step may hold (6! orders).
pub const MAX_REQUESTS: usize = 6;

/// One request of a concurrent step as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub op: Op,
    /// The body bytes as sent (empty for a delete).
    pub body: Vec<u8>,
}

/// What the endpoint answered one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The body, when it is JSON.
    pub body: Option<Value>,
}

/// Why no order of the requests explains what the endpoint did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unexplained {
    /// No order gives every request the status it got.
    #[error("no order of the {} requests gives the statuses the endpoint answered ({})", answers.len(), answers.join("; "))]
    Statuses {
        /// Each request with its status, as `op {body} -> status`.
        answers: Vec<String>,
    },
    /// Some orders explain the statuses, none leaves the map read back.
    #[error(
        "acknowledged writes lost: no order of the requests leaves the stored map {} after the acknowledged writes ({})",
        serde_json::to_string(stored).unwrap_or_default(),
        acknowledged.join("; ")
    )]
    FinalMap {
        /// The acknowledged writes, as `op {body}`.
        acknowledged: Vec<String>,
        stored: Metadata,
    },
    /// Orders explain the statuses and the final map, but none gives every
    /// success the body it got.
    #[error("no order of the requests gives the success bodies the endpoint sent ({})", answers.join("; "))]
    Bodies {
        /// Each request with its status and body.
        answers: Vec<String>,
    },
}

/// The model's copy of the server before the step, the requests and what
/// the endpoint did.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    pub profile: &'a Profile,
    pub world: &'a World,
    pub server: ServerPick,
    pub requests: &'a [Request],
    /// One per request, in request order.
    pub answers: &'a [Answer],
    /// The map read back after every answer came.
    pub stored: &'a Metadata,
}

/// What an order must explain.
#[derive(Debug, Clone, Copy)]
struct Strictness {
    bodies: bool,
    final_map: bool,
}

/// An order (indices into the requests) that explains every answer and the
/// final map, or why none does: the statuses, else the final map, else the
/// success bodies (the first of these that no order explains).
pub fn linearize(history: &History<'_>) -> Result<Vec<usize>, Unexplained> {
    let all = Strictness {
        bodies: true,
        final_map: true,
    };
    if let Some(order) = search(history, all) {
        return Ok(order);
    }
    let statuses = Strictness {
        bodies: false,
        final_map: false,
    };
    if search(history, statuses).is_none() {
        return Err(Unexplained::Statuses {
            answers: answered(history, false),
        });
    }
    let final_map = Strictness {
        bodies: false,
        final_map: true,
    };
    if search(history, final_map).is_none() {
        return Err(Unexplained::FinalMap {
            acknowledged: acknowledged(history),
            stored: history.stored.clone(),
        });
    }
    Err(Unexplained::Bodies {
        answers: answered(history, true),
    })
}

fn search(history: &History<'_>, strictness: Strictness) -> Option<Vec<usize>> {
    let mut search = Search {
        history,
        strictness,
        order: Vec::with_capacity(history.requests.len()),
        used: vec![false; history.requests.len()],
    };
    search.explore(history.world)
}

struct Search<'h, 'a> {
    history: &'h History<'a>,
    strictness: Strictness,
    order: Vec<usize>,
    used: Vec<bool>,
}

impl Search<'_, '_> {
    /// Depth first over the orders that extend `self.order` from `world`.
    fn explore(&mut self, world: &World) -> Option<Vec<usize>> {
        let h = self.history;
        if self.order.len() == h.requests.len() {
            let fits = !self.strictness.final_map || world.metadata(h.server) == Some(h.stored);
            return fits.then(|| self.order.clone());
        }
        for index in 0..h.requests.len() {
            if self.used[index] {
                continue;
            }
            let Some(next) = self.step(world, index) else {
                continue;
            };
            self.used[index] = true;
            self.order.push(index);
            let found = self.explore(&next);
            self.order.pop();
            self.used[index] = false;
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// The world after request `index` runs on `world`, if the model's
    /// answer there is the one the endpoint sent.
    fn step(&self, world: &World, index: usize) -> Option<World> {
        let h = self.history;
        let request = h.requests.get(index)?;
        let answer = h.answers.get(index)?;
        let rules = &h.profile.rules;
        let decision = world.decide(rules, &request.op, Identity::Owner, h.server, &request.body);
        let fits = if self.strictness.bodies {
            explains(h.profile, request, &decision, answer)
        } else {
            status_fits(h.profile, request, &decision, answer)
        };
        if !fits {
            return None;
        }
        let mut next = world.clone();
        next.commit(h.server, &decision);
        Some(next)
    }
}

fn status_fits(profile: &Profile, request: &Request, decision: &Decision, answer: &Answer) -> bool {
    profile
        .accepted(decision.outcome.kind(), Some(&request.op))
        .contains(&answer.status)
}

/// Whether the model's `decision` for `request` gives `answer`: an accepted
/// status for its outcome and, for a success with a body, that body.
pub fn explains(
    profile: &Profile,
    request: &Request,
    decision: &Decision,
    answer: &Answer,
) -> bool {
    if !status_fits(profile, request, decision, answer) {
        return false;
    }
    let Outcome::Success(success) = &decision.outcome else {
        return true;
    };
    let Some(expected) = oracle::success_body(success) else {
        return true;
    };
    let echo_allowed = profile.file.merge_may_echo_request && request.op == Op::Merge;
    match &answer.body {
        Some(got) if echo_allowed => got.get("metadata").is_some(),
        Some(got) => *got == expected,
        None => false,
    }
}

/// The requests answered with a success, as `op {body}`.
fn acknowledged(history: &History<'_>) -> Vec<String> {
    history
        .requests
        .iter()
        .zip(history.answers)
        .filter(|(_, a)| (200..300).contains(&a.status))
        .map(|(r, _)| describe(r))
        .collect()
}

/// Every request with its answer: `op {body} -> status [body]`.
fn answered(history: &History<'_>, bodies: bool) -> Vec<String> {
    history
        .requests
        .iter()
        .zip(history.answers)
        .map(|(r, a)| match (&a.body, bodies) {
            (Some(body), true) => format!("{} -> {} {body}", describe(r), a.status),
            _ => format!("{} -> {}", describe(r), a.status),
        })
        .collect()
}

/// `merge {"metadata":{"a":"1"}}`, `delete a`.
pub fn describe(request: &Request) -> String {
    match &request.op {
        Op::Delete(key) | Op::Get(key) => format!("{} {key}", request.op.name()),
        op => format!(
            "{} {}",
            op.name(),
            String::from_utf8_lossy(&request.body).trim()
        ),
    }
}

#[cfg(test)]
mod tests;
