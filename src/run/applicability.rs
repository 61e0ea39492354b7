//! Whether a case can run on a target, decided before anything is sent.
//!
//! A case that needs what the target lacks is skipped with the reason, never
//! passed. The [`SkipKind`] says whose doing the skip is: the case file, the
//! dialect's nature, the user's missing credentials, or the user's choice.

use crate::cases::format::{Case, Identity, Requirement, ServerRef, Step, StepOp};
use crate::model::server::VmState;
use crate::target::Target;

use super::requests::abstract_op;
use super::results::SkipKind;
use super::{RunOptions, token_of};

/// Why a case does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub kind: SkipKind,
    pub reason: String,
}

impl Skip {
    fn new(kind: SkipKind, reason: impl Into<String>) -> Self {
        Skip {
            kind,
            reason: reason.into(),
        }
    }
}

/// `Ok` if `case` can run on `target`, else why not.
pub fn check(case: &Case, target: &Target, options: &RunOptions) -> Result<(), Skip> {
    if let Some(reason) = &case.skip {
        return Err(Skip::new(SkipKind::Case, reason.clone()));
    }
    dialect(case, target)?;
    microversions(case, target)?;
    for requirement in &case.requires {
        requirement_met(*requirement, target, options)?;
    }
    given(case, target, options)?;
    for step in &case.steps {
        step_possible(&step.value, target)?;
    }
    Ok(())
}

fn dialect(case: &Case, target: &Target) -> Result<(), Skip> {
    let id = target.profile.id();
    match &case.dialects {
        Some(list) if !list.iter().any(|d| d == id) => Err(Skip::new(
            SkipKind::Dialect,
            format!("case is for {}, not {id}", list.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn microversions(case: &Case, target: &Target) -> Result<(), Skip> {
    if case.min_microversion.is_none() && case.max_microversion.is_none() {
        return Ok(());
    }
    let Some((lo, hi)) = target.profile.rules.microversions else {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!("{} has no microversions", target.profile.id()),
        ));
    };
    if let Some(min) = case.min_microversion.filter(|min| *min > hi) {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!("needs microversion {min} or later; the dialect serves up to {hi}"),
        ));
    }
    if let Some(max) = case.max_microversion.filter(|max| *max < lo) {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!("needs microversion {max} or earlier; the dialect starts at {lo}"),
        ));
    }
    Ok(())
}

fn requirement_met(
    requirement: Requirement,
    target: &Target,
    options: &RunOptions,
) -> Result<(), Skip> {
    match requirement {
        Requirement::Admin => identity_available(Identity::Admin, target),
        Requirement::Reader => identity_available(Identity::Reader, target),
        Requirement::Alt => {
            identity_available(Identity::Alt, target)?;
            alt_server_available(target)
        }
        Requirement::StateChanges => state_changes_allowed(options),
        Requirement::Lock => lockable(target),
    }
}

fn identity_available(identity: Identity, target: &Target) -> Result<(), Skip> {
    token_of(&target.credentials, identity)
        .map(drop)
        .map_err(|flag| {
            Skip::new(
                SkipKind::Credentials,
                format!("needs a {} token: pass {flag}", identity_name(identity)),
            )
        })
}

fn identity_name(identity: Identity) -> &'static str {
    match identity {
        Identity::Owner => "project member",
        Identity::Admin => "admin",
        Identity::Reader => "read-only",
        Identity::Alt => "second project's",
        Identity::None => "no",
    }
}

fn alt_server_available(target: &Target) -> Result<(), Skip> {
    if target.alt_servers.is_empty() {
        return Err(Skip::new(
            SkipKind::Credentials,
            "needs a server of the second project: pass --alt-server",
        ));
    }
    Ok(())
}

fn state_changes_allowed(options: &RunOptions) -> Result<(), Skip> {
    if options.no_state_changes {
        return Err(Skip::new(
            SkipKind::UserChoice,
            "changes server states (--no-state-changes)",
        ));
    }
    Ok(())
}

fn lockable(target: &Target) -> Result<(), Skip> {
    if !target.profile.file.lockable {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!(
                "{} cannot lock servers through the API",
                target.profile.id()
            ),
        ));
    }
    Ok(())
}

fn given(case: &Case, target: &Target, options: &RunOptions) -> Result<(), Skip> {
    if let Some(state) = case.given.vm_state.filter(|s| *s != VmState::Active) {
        state_changes_allowed(options)?;
        if !target.profile.reachable(state) {
            return Err(Skip::new(
                SkipKind::Dialect,
                format!(
                    "{} cannot bring a server to {state} through its API",
                    target.profile.id()
                ),
            ));
        }
        if state == VmState::Error {
            identity_available(Identity::Admin, target)?;
        }
    }
    if case.given.locked {
        state_changes_allowed(options)?;
        lockable(target)?;
        identity_available(case.given.locked_by.unwrap_or(Identity::Owner), target)?;
    }
    Ok(())
}

fn step_possible(step: &Step, target: &Target) -> Result<(), Skip> {
    identity_available(step.identity, target)?;
    if step.server == ServerRef::Alt {
        alt_server_available(target)?;
        if needs_read_back(step) {
            identity_available(Identity::Admin, target)?;
        }
    }
    let op = match step.op {
        StepOp::Concurrent => step.concurrent.as_ref().map(|c| c.op),
        other => Some(other),
    };
    if let Some(op) = op
        && let Some(abstract_op) = abstract_op(op, step.key.as_deref())
        && target.profile.op(&abstract_op).is_none()
    {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!(
                "{} has no '{}' operation",
                target.profile.id(),
                abstract_op.name()
            ),
        ));
    }
    Ok(())
}

/// Whether any expectation of `step` (for any dialect) reads the map back.
pub fn needs_read_back(step: &Step) -> bool {
    std::iter::once(&step.expect)
        .chain(step.expect_for.values())
        .any(|e| e.stored.is_some() || e.stored_contains.is_some() || e.stored_count.is_some())
}
