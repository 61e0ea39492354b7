//! Server tags (Nova `nova/api/openstack/compute/server_tags.py`,
//! microversion 2.26): list, add one, remove one. metaconform uses a tag
//! as a run's lease on a lent server (the metadata under test is never the
//! place for it), so the mock serves tags as Nova does and the runner
//! drives them through the same rules.
//!
//! The order of checks, as Nova's controller runs them: the server must
//! exist at all (`InstanceMapping`, 404; no project filter), the policy
//! holds for the server's project (`os_compute_api:os-server-tags:*`, 403:
//! another project's member is refused here, not with 404), then for
//! writes the vm_state (`_check_instance_in_valid_state`, 409), then the
//! tag itself (400) and the per-server count (400). Tags ignore the lock.

use crate::model::caller::Caller;
use crate::model::microversion::Microversion;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::pipeline::policy_denied;
use crate::model::server::{ServerRecord, VmState};

/// The first microversion with server tags.
pub const TAGS_FROM: Microversion = Microversion::new(2, 26);

/// Tags one server may carry (`nova/objects/instance.py` `MAX_TAG_COUNT`).
pub const MAX_TAG_COUNT: usize = 50;

/// Characters in one tag (`nova/objects/tag.py` `MAX_TAG_LENGTH`).
pub const MAX_TAG_LENGTH: usize = 60;

/// One tag request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagOp {
    List,
    Add(String),
    Remove(String),
}

/// What an admitted tag request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagEffect {
    /// `200 {"tags": [...]}`.
    Listed(Vec<String>),
    /// `201`: the tag is new.
    Added,
    /// `204`: the server already had it.
    AlreadyThere,
    /// `204`.
    Removed,
}

/// Whether `tag` is one Nova stores: 1 to 60 characters, no `/` or `,`
/// (`parameter_types.tag`).
pub fn is_valid_tag(tag: &str) -> bool {
    let length = tag.chars().count();
    (1..=MAX_TAG_LENGTH).contains(&length) && !tag.contains(['/', ','])
}

/// Decide `op` on `server` (None: no such server) for `caller`; on success
/// the server's tags are changed in place.
pub fn apply(
    server: Option<&mut ServerRecord>,
    caller: &Caller,
    id: &str,
    op: &TagOp,
) -> Result<TagEffect, Outcome> {
    let server = server.ok_or_else(|| {
        let message = format!("Instance {id} has not been mapped to a cell.");
        Outcome::refused(OutcomeKind::ServerNotFound, message)
    })?;
    let own = server.project_id == caller.project || caller.is_admin();
    let (rule, allowed) = match op {
        TagOp::List => ("index", caller.may_read()),
        TagOp::Add(_) => ("update", caller.may_write()),
        TagOp::Remove(_) => ("delete", caller.may_write()),
    };
    if !own || !allowed {
        return Err(policy_denied(&format!(
            "os_compute_api:os-server-tags:{rule}"
        )));
    }
    match op {
        TagOp::List => Ok(TagEffect::Listed(server.tags.clone())),
        TagOp::Add(tag) => {
            writable(server, "update tag")?;
            add(server, tag)
        }
        TagOp::Remove(tag) => {
            writable(server, "delete tag")?;
            let before = server.tags.len();
            server.tags.retain(|t| t != tag);
            if server.tags.len() == before {
                let message = format!("Instance {} has no tag '{tag}'", server.id);
                return Err(Outcome::refused(OutcomeKind::ItemNotFound, message));
            }
            Ok(TagEffect::Removed)
        }
    }
}

/// `_check_instance_in_valid_state`: tags change only while the server is
/// active, paused, suspended or stopped.
fn writable(server: &ServerRecord, action: &str) -> Result<(), Outcome> {
    let allowed = [
        VmState::Active,
        VmState::Paused,
        VmState::Suspended,
        VmState::Stopped,
    ];
    if allowed.contains(&server.vm_state) {
        return Ok(());
    }
    let message = format!(
        "Cannot '{action}' instance {} while it is in vm_state {}",
        server.id,
        server.vm_state.as_str()
    );
    Err(Outcome::refused(OutcomeKind::StateConflict, message))
}

fn add(server: &mut ServerRecord, tag: &str) -> Result<TagEffect, Outcome> {
    if !is_valid_tag(tag) {
        let message = format!(
            "Tag '{tag}' is invalid. It must be a non empty string without characters '/' and ','."
        );
        return Err(Outcome::refused(OutcomeKind::InvalidInput, message));
    }
    if server.tags.len() >= MAX_TAG_COUNT {
        let message = format!("The number of tags exceeded the per-server limit {MAX_TAG_COUNT}");
        return Err(Outcome::refused(OutcomeKind::InvalidInput, message));
    }
    if server.tags.iter().any(|t| t == tag) {
        return Ok(TagEffect::AlreadyThere);
    }
    server.tags.push(tag.to_string());
    Ok(TagEffect::Added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(token: &str) -> Caller {
        Caller::from_token(token).expect("token")
    }

    fn server() -> ServerRecord {
        ServerRecord::new("s1", "p1", "vm", Default::default())
    }

    #[test]
    fn add_list_remove_follow_nova() {
        let mut s = server();
        let member = caller("demo:p1");
        let add = TagOp::Add("lease".into());
        assert_eq!(
            apply(Some(&mut s), &member, "s1", &add),
            Ok(TagEffect::Added)
        );
        assert_eq!(
            apply(Some(&mut s), &member, "s1", &add),
            Ok(TagEffect::AlreadyThere)
        );
        assert_eq!(
            apply(Some(&mut s), &member, "s1", &TagOp::List),
            Ok(TagEffect::Listed(vec!["lease".into()]))
        );
        let remove = TagOp::Remove("lease".into());
        assert_eq!(
            apply(Some(&mut s), &member, "s1", &remove),
            Ok(TagEffect::Removed)
        );
        let again = apply(Some(&mut s), &member, "s1", &remove).unwrap_err();
        assert_eq!(again.kind(), OutcomeKind::ItemNotFound);
    }

    #[test]
    fn checks_run_in_nova_order() {
        let member = caller("demo:p1");
        let missing = apply(None, &member, "s9", &TagOp::List).unwrap_err();
        assert_eq!(missing.kind(), OutcomeKind::ServerNotFound);
        // Another project's member: policy (403), not 404.
        let mut s = server();
        let other = apply(Some(&mut s), &caller("alt:p2"), "s1", &TagOp::List).unwrap_err();
        assert_eq!(other.kind(), OutcomeKind::Forbidden);
        let reader = caller("r:p1:reader");
        assert!(apply(Some(&mut s), &reader, "s1", &TagOp::List).is_ok());
        let write = apply(Some(&mut s), &reader, "s1", &TagOp::Add("t".into())).unwrap_err();
        assert_eq!(write.kind(), OutcomeKind::Forbidden);
        // State before the tag's own validity; the lock is not checked.
        s.vm_state = VmState::Error;
        let bad = apply(Some(&mut s), &member, "s1", &TagOp::Add("a/b".into())).unwrap_err();
        assert_eq!(bad.kind(), OutcomeKind::StateConflict);
        s.vm_state = VmState::Stopped;
        s.locked = true;
        let bad = apply(Some(&mut s), &member, "s1", &TagOp::Add("a/b".into())).unwrap_err();
        assert_eq!(bad.kind(), OutcomeKind::InvalidInput);
        assert!(apply(Some(&mut s), &member, "s1", &TagOp::Add("ok".into())).is_ok());
    }

    #[test]
    fn tag_length_counts_characters_and_the_count_is_capped() {
        assert!(is_valid_tag(&"é".repeat(MAX_TAG_LENGTH)));
        assert!(!is_valid_tag(&"é".repeat(MAX_TAG_LENGTH + 1)));
        assert!(!is_valid_tag("") && !is_valid_tag("a,b"));
        let mut s = server();
        let member = caller("demo:p1");
        for n in 0..MAX_TAG_COUNT {
            let op = TagOp::Add(format!("t{n}"));
            assert!(apply(Some(&mut s), &member, "s1", &op).is_ok());
        }
        let over = apply(Some(&mut s), &member, "s1", &TagOp::Add("x".into())).unwrap_err();
        assert_eq!(over.kind(), OutcomeKind::InvalidInput);
    }
}
