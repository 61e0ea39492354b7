//! The run as a stream of events (cargo-nextest's shape): the runner emits
//! [`Event`]s — the run started, a case started, a finding was shrunk, a
//! case finished, the run finished — into an [`EventSink`]; the reporters
//! (`crate::report`: terminal, JUnit, JSON results) subscribe to it and see
//! only these, never the runner's internals. [`Admission`] is what every
//! result goes through before it is an event.

use super::results::{CaseResult, RunResults};

/// Something that happened during a run, in the order it happened.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Cases and trials are about to run; `total` is how many will be
    /// reported (progress counts to it).
    RunStarted { total: usize },
    /// A case or property trial began running (cases skipped or blocked
    /// without running have none).
    CaseStarted { id: &'a str },
    /// A property trial failed and its counterexample was shrunk: the
    /// result that follows it in [`Event::CaseFinished`].
    FindingShrunk { result: &'a CaseResult },
    /// A case or trial has its result (admitted: marked against the known
    /// failures, secrets scrubbed); `done` of `total` are finished.
    CaseFinished {
        result: &'a CaseResult,
        done: usize,
        total: usize,
    },
    /// The whole run, as it goes to the results file.
    RunFinished { results: &'a RunResults },
}

/// Where the runner sends its events.
pub trait EventSink {
    fn emit(&mut self, event: Event<'_>);
}

/// Drops every event (a run nobody watches).
impl EventSink for () {
    fn emit(&mut self, _: Event<'_>) {}
}

/// What every result goes through on its way to the reporters, cases and
/// property trials alike: marked against the known failures, and every
/// secret the run knows scrubbed from every string it holds.
pub struct Admission<'a> {
    pub known: &'a super::known_failures::KnownFailures,
    pub redactor: &'a super::redact::Redactor,
}

impl Admission<'_> {
    pub fn admit(&self, mut result: CaseResult) -> CaseResult {
        self.known.apply(&mut result);
        self.redactor.case(result)
    }
}
