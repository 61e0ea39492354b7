//! Where a case stands against the baseline, for the human reports
//! (Markdown, HTML): a failure the baseline lists, one it does not (new,
//! and gating), a listed case that now passes, or nothing to say.

use crate::run::results::{CaseResult, KnownStatus, Verdict};

/// A case's standing against the baseline (`--baseline`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Failing and listed in the baseline: reported, does not gate.
    Known,
    /// Failing and not listed in the given baseline.
    New,
    /// Failing, no baseline given.
    Failing,
    /// Failing, not listed, but the case is advisory: reported, does not
    /// gate.
    Advisory,
    /// A required case skipped for a reason that gates (a missing
    /// credential, a broken setup primitive, `skip:` in its file), not
    /// listed.
    NotRun,
    /// Listed in the baseline, yet passed: the entry can go.
    Fixed,
    /// Passed or skipped, not listed.
    Quiet,
}

impl Standing {
    /// The standing of `case`; `baseline_given` tells `New` from `Failing`.
    pub fn of(case: &CaseResult, baseline_given: bool) -> Standing {
        let failing = matches!(case.verdict, Verdict::Fail | Verdict::Error);
        match (case.known_failure, failing) {
            (Some(KnownStatus::StillFailing), _) => Standing::Known,
            (Some(KnownStatus::Fixed), _) => Standing::Fixed,
            (None, true) if !case.class.is_required() => Standing::Advisory,
            (None, true) if baseline_given => Standing::New,
            (None, true) => Standing::Failing,
            (None, false) if case.gates() => Standing::NotRun,
            (None, false) => Standing::Quiet,
        }
    }

    /// The word the reports show (empty for `Quiet`).
    pub fn label(self) -> &'static str {
        match self {
            Standing::Known => "known failure",
            Standing::New => "new",
            Standing::Failing => "gating",
            Standing::Advisory => "advisory: does not gate",
            Standing::NotRun => "required, not run: gates",
            Standing::Fixed => "fixed: remove from baseline",
            Standing::Quiet => "",
        }
    }
}

/// The verdict as the reports spell it.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::Skip => "skip",
    }
}
