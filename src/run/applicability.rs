//! Whether a case can run on a target, decided before anything is sent.
//!
//! A case that needs what the target lacks is skipped with the reason, never
//! passed. The [`SkipKind`] says whose doing the skip is: the case file, the
//! dialect's nature, the user's missing credentials, or the user's choice.

use crate::cases::format::{Case, Identity, Requirement, ServerRef, Step, StepOp};
use crate::endpoint::Target;
use crate::model::server::VmState;

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

/// Whether `case` is for `target`'s dialect at all: not skipped for the
/// dialect's nature (credentials, the user's choices and `skip:` aside).
/// `run --coverage` counts these.
pub fn for_dialect(case: &Case, target: &Target) -> bool {
    let skip = check(case, target, &RunOptions::default());
    !matches!(
        skip,
        Err(Skip {
            kind: SkipKind::Dialect,
            ..
        })
    )
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
        Requirement::Create => creatable(target, options),
    }
}

/// Whether the run may create servers: the dialect creates them the Nova
/// way, and the run knows what from (`--image` and `--flavor`; the
/// embedded server takes any). Without them the user left out what the
/// case needs, as with a token: the skip gates a required case.
fn creatable(target: &Target, options: &RunOptions) -> Result<(), Skip> {
    if !crate::endpoint::provision::can_create_unversioned(&target.profile) {
        return Err(Skip::new(
            SkipKind::Dialect,
            format!(
                "{} does not create servers the Nova way (POST /servers)",
                target.profile.id()
            ),
        ));
    }
    if options.create_recipe.is_none() && !target.disposable {
        return Err(Skip::new(
            SkipKind::Credentials,
            "creates a server: pass --image REF --flavor REF (what it is made of; it is deleted when the case ends)",
        ));
    }
    Ok(())
}

fn identity_available(identity: Identity, target: &Target) -> Result<(), Skip> {
    token_of(&target.credentials, identity)
        .map(drop)
        .map_err(|flag| {
            Skip::new(
                SkipKind::Credentials,
                format!("needs {} token: pass {flag}", identity_name(identity)),
            )
        })
}

/// The identity with its article, as in "needs an admin token".
fn identity_name(identity: Identity) -> &'static str {
    match identity {
        Identity::Owner => "a project member's",
        Identity::Admin => "an admin",
        Identity::Reader => "a read-only",
        Identity::Alt => "a second project's",
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

/// Whether `case` runs on `target` on a server of its own: the target
/// cannot empty a server's metadata between cases, so every case that runs
/// takes a server no case has written to.
pub fn needs_fresh_server(case: &Case, target: &Target, options: &RunOptions) -> bool {
    !target.can_reset_metadata() && check(case, target, options).is_ok()
}

/// The skip for a case that needs a fresh server when none is left;
/// `needed` is how many cases of the run need one. The user's to fix, so
/// it gates.
pub fn no_fresh_server(target: &Target, needed: usize) -> Skip {
    let id = target.profile.id();
    let mut reason = format!(
        "{id} cannot empty a server's metadata (it has neither delete nor a replace-all that spares system keys), \
         so each case needs a server no case has written to: pass --fresh-server ID \
         ({needed} case(s) of this run need one, {} given)",
        target.fresh_servers.len()
    );
    if id == "bms-v1" {
        reason.push_str(
            "; spec §1.4 also allows reading these servers' metadata through bms-os \
             (GET /v2.1/{project}/servers/{server}/metadata), which metaconform does not use",
        );
    }
    Skip::new(SkipKind::Credentials, reason)
}

/// Whether any expectation of `step` (for any dialect) reads the map back.
pub fn needs_read_back(step: &Step) -> bool {
    std::iter::once(&step.expect)
        .chain(step.expect_for.values())
        .any(|e| e.stored.is_some() || e.stored_contains.is_some() || e.stored_count.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Credentials;
    use std::path::Path;

    fn target(dialect: &str, creds: Credentials) -> Target {
        Target {
            endpoint: "http://127.0.0.1:1/v2.1/p".into(),
            project_id: "p".into(),
            profile: crate::profile::builtin(dialect).unwrap(),
            credentials: creds,
            servers: vec!["s".into()],
            alt_servers: vec![],
            fresh_servers: Vec::new(),
            disposable: true,
            tls: Default::default(),
        }
    }

    fn case(yaml: &str) -> Case {
        let text = format!("cases:\n{yaml}");
        let loaded = crate::cases::load_str(Path::new("t/x.yaml"), &text)
            .unwrap_or_else(|d| panic!("{}", d[0]));
        loaded[0].case.clone()
    }

    fn owner_only() -> Credentials {
        Credentials {
            token: Some("demo:p".into()),
            ..Credentials::default()
        }
    }

    #[test]
    fn missing_credentials_are_the_users_and_gate() {
        let c = case(
            "  - {id: a, name: n, spec: '4.1', requires: [admin], dialects: [nova], steps: [{op: list, as: admin, expect: {status: 200}}]}\n",
        );
        let skip = check(&c, &target("nova", owner_only()), &RunOptions::default()).unwrap_err();
        assert_eq!(skip.kind, SkipKind::Credentials);
        assert!(skip.reason.contains("--admin-token"), "{}", skip.reason);
        assert!(
            skip.reason.starts_with("needs an admin token"),
            "{}",
            skip.reason
        );
        assert!(skip.kind.gates(crate::cases::format::CaseClass::Required));
    }

    #[test]
    fn what_the_dialect_lacks_does_not_gate() {
        let set = case(
            "  - {id: a, name: n, spec: '1.1', steps: [{op: set, key: k, value: v, expect: {outcome: ok}}]}\n",
        );
        let skip = check(
            &set,
            &target("ecs-v1", owner_only()),
            &RunOptions::default(),
        )
        .unwrap_err();
        assert_eq!(skip.kind, SkipKind::Dialect);
        assert!(
            skip.reason.contains("no 'set' operation"),
            "{}",
            skip.reason
        );
        assert!(!skip.kind.gates(crate::cases::format::CaseClass::Required));
        assert!(check(&set, &target("nova", owner_only()), &RunOptions::default()).is_ok());
    }

    #[test]
    fn unreachable_state_and_user_choice() {
        let c = case(
            "  - {id: a, name: n, spec: '4.1', requires: [state-changes], given: {vm_state: paused}, steps: [{op: list, expect: {status: 200}}]}\n",
        );
        let ecs = check(&c, &target("ecs-v1", owner_only()), &RunOptions::default()).unwrap_err();
        assert_eq!(ecs.kind, SkipKind::Dialect);
        let options = RunOptions {
            no_state_changes: true,
            ..RunOptions::default()
        };
        let chosen = check(&c, &target("nova", owner_only()), &options).unwrap_err();
        assert_eq!(chosen.kind, SkipKind::UserChoice);
    }

    #[test]
    fn a_dialect_without_reset_needs_fresh_servers_and_says_how_to_give_them() {
        let c = case(
            "  - {id: a, name: n, spec: '1.1', steps: [{op: merge, metadata: {k: v}, expect: {outcome: ok}}]}\n",
        );
        let options = RunOptions::default();
        let mut bms = target("bms-v1", owner_only());
        bms.disposable = false;
        assert!(needs_fresh_server(&c, &bms, &options));
        assert!(!needs_fresh_server(
            &c,
            &target("nova", owner_only()),
            &options
        ));
        assert!(!needs_fresh_server(
            &c,
            &target("ecs-v1", owner_only()),
            &options
        ));
        let skip = no_fresh_server(&bms, 7);
        assert_eq!(skip.kind, SkipKind::Credentials);
        assert!(skip.reason.contains("--fresh-server"), "{}", skip.reason);
        assert!(skip.reason.contains("7 case(s)"), "{}", skip.reason);
        assert!(skip.reason.contains("bms-os"), "{}", skip.reason);
    }

    #[test]
    fn a_create_case_needs_a_recipe_on_an_endpoint_and_gates_without_one() {
        let c = case(
            "  - {id: a, name: n, spec: '3.4', requires: [create], steps: [{op: create, metadata: {k: v}, expect: {status: 202}}]}\n",
        );
        let mut nova = target("nova", owner_only());
        nova.disposable = false;
        let skip = check(&c, &nova, &RunOptions::default()).unwrap_err();
        assert_eq!(skip.kind, SkipKind::Credentials);
        assert!(
            skip.reason.contains("--image REF --flavor REF"),
            "{}",
            skip.reason
        );
        assert!(skip.kind.gates(crate::cases::format::CaseClass::Required));
        let options = RunOptions {
            create_recipe: Some(crate::endpoint::provision::Recipe {
                image: "i".into(),
                flavor: "1".into(),
                network: Default::default(),
            }),
            ..RunOptions::default()
        };
        assert!(check(&c, &nova, &options).is_ok());
        // the embedded server is disposable and takes any image
        assert!(check(&c, &target("nova", owner_only()), &RunOptions::default()).is_ok());
        for other in ["ecs-v1", "bms-v1"] {
            let skip = check(&c, &target(other, owner_only()), &options).unwrap_err();
            assert_eq!(skip.kind, SkipKind::Dialect, "{other}");
        }
    }

    #[test]
    fn microversion_beyond_the_dialect_is_skipped() {
        let c = case(
            "  - {id: a, name: n, spec: '6.2', dialects: [nova, nova-legacy], min_microversion: '2.102', steps: [{op: list, expect: {status: 200}}]}\n",
        );
        assert!(check(&c, &target("nova", owner_only()), &RunOptions::default()).is_ok());
        let legacy = check(
            &c,
            &target("nova-legacy", owner_only()),
            &RunOptions::default(),
        );
        assert_eq!(legacy.unwrap_err().kind, SkipKind::Dialect);
    }
}
