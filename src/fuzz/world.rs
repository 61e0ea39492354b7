//! The model copy of the servers a fuzz worker uses: the oracle side of every
//! step.
//!
//! [`World::decide`] runs [`crate::model::pipeline::decide`] on the model
//! copy; [`World::commit`] applies a decision the endpoint agreed with. Server
//! actions go through [`crate::model::server::apply_action`]. Callers are
//! built from identities, never from tokens, so the same world works against
//! a real cloud whose tokens are opaque.

use crate::cases::format::Identity;
use crate::model::Metadata;
use crate::model::caller::Caller;
use crate::model::microversion::VersionHeaders;
use crate::model::outcome::Outcome;
use crate::model::pipeline::{self, ApiRules, Decision, MetaRequest, Op, decide};
use crate::model::server::{ServerAction, ServerRecord};

use super::step::ServerPick;

/// A well-formed server id that names no server (deterministic, so request
/// logs of two runs compare equal).
pub const MISSING_SERVER: &str = "0f0f0f0f-dead-4bee-8f00-00000000f022";

/// The model copy of a worker's servers.
#[derive(Debug, Clone)]
pub struct World {
    /// The project in the URLs and of the owner and reader.
    pub project: String,
    /// The project the admin token is scoped to.
    pub admin_project: String,
    pub servers: Vec<ServerRecord>,
    /// The second project's server, if the target has one.
    pub alt: Option<ServerRecord>,
}

impl World {
    pub fn new(project: &str, admin_project: &str, servers: Vec<ServerRecord>) -> World {
        World {
            project: project.to_string(),
            admin_project: admin_project.to_string(),
            servers,
            alt: None,
        }
    }

    /// With the second project's server.
    pub fn with_alt(mut self, alt: Option<ServerRecord>) -> World {
        self.alt = alt;
        self
    }

    /// The id a step's server pick stands for.
    pub fn server_id(&self, pick: ServerPick) -> &str {
        match pick {
            ServerPick::Own(i) => self.servers.get(i).map_or(MISSING_SERVER, |s| &s.id),
            ServerPick::Alt => self.alt.as_ref().map_or(MISSING_SERVER, |s| &s.id),
            ServerPick::Missing => MISSING_SERVER,
        }
    }

    pub fn server(&self, pick: ServerPick) -> Option<&ServerRecord> {
        match pick {
            ServerPick::Own(i) => self.servers.get(i),
            ServerPick::Alt => self.alt.as_ref(),
            ServerPick::Missing => None,
        }
    }

    /// The project segment of the URL an identity's request carries.
    pub fn url_project(&self, who: Identity) -> &str {
        match who {
            Identity::Admin => &self.admin_project,
            _ => &self.project,
        }
    }

    /// The caller an identity stands for (roles per spec §1.5 defaults).
    pub fn caller(&self, who: Identity) -> Option<Caller> {
        let roles = |list: &[&str]| list.iter().map(|r| r.to_string()).collect();
        let (user, project, roles) = match who {
            Identity::Owner => ("owner", &self.project, roles(&["member", "reader"])),
            Identity::Admin => (
                "admin",
                &self.admin_project,
                roles(&["admin", "member", "reader"]),
            ),
            Identity::Reader => ("reader", &self.project, roles(&["reader"])),
            Identity::Alt => ("alt", &self.admin_project, roles(&["member", "reader"])),
            Identity::None => return None,
        };
        Some(Caller {
            user: user.into(),
            project: project.clone(),
            roles,
        })
    }

    /// What the model decides for `op` with `body` as `who` on `pick`.
    pub fn decide(
        &self,
        rules: &ApiRules,
        op: &Op,
        who: Identity,
        pick: ServerPick,
        body: &[u8],
    ) -> Decision {
        let caller = self.caller(who);
        let versions = VersionHeaders::default();
        let has_body = op.wrapper().is_some();
        let op = &op.as_served(rules);
        let request = MetaRequest {
            op,
            caller: caller.as_ref(),
            url_project: Some(self.url_project(who)),
            server_id: self.server_id(pick),
            body: if has_body { body } else { &[] },
            body_len: body.len(),
            content_type: Some("application/json"),
            versions: &versions,
            query: &[],
        };
        decide(rules, &request, self.server(pick))
    }

    /// Store what a successful write decided.
    pub fn commit(&mut self, pick: ServerPick, decision: &Decision) {
        if let (ServerPick::Own(i), Some(store)) = (pick, &decision.store)
            && let Some(server) = self.servers.get_mut(i)
        {
            server.metadata = store.clone();
        }
    }

    /// What `action` as `who` would do to `pick`, without applying it: the
    /// model's order of checks for server actions, as the mock runs it.
    pub fn preview_action(
        &self,
        pick: ServerPick,
        action: &ServerAction,
        who: Identity,
    ) -> Result<ServerRecord, Outcome> {
        let server = self.server(pick);
        let id = server.map_or("", |s| s.id.as_str());
        let caller = self.caller(who).ok_or_else(pipeline::unauthenticated)?;
        pipeline::decide_action(server, &caller, id, action, None)
    }

    /// Replace the model copy of one server (after an accepted action).
    pub fn set_server(&mut self, pick: ServerPick, record: ServerRecord) {
        if let ServerPick::Own(i) = pick
            && let Some(slot) = self.servers.get_mut(i)
        {
            *slot = record;
        }
    }

    /// Set the stored map of one of the worker's own servers (after a
    /// concurrent step some order of the model explains).
    pub fn set_metadata(&mut self, pick: ServerPick, metadata: Metadata) {
        if let ServerPick::Own(i) = pick
            && let Some(server) = self.servers.get_mut(i)
        {
            server.metadata = metadata;
        }
    }

    /// The stored map of one of the worker's own servers (the only ones
    /// whose map the fuzzer tracks and reads back).
    pub fn metadata(&self, pick: ServerPick) -> Option<&Metadata> {
        match pick {
            ServerPick::Own(i) => self.servers.get(i).map(|s| &s.metadata),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::OutcomeKind;

    fn world() -> World {
        let s = ServerRecord::new("s1", "p1", "one", Metadata::new());
        World::new("p1", "p1", vec![s])
    }

    #[test]
    fn reader_writes_are_forbidden_and_owner_writes_commit() {
        let rules = crate::profile::builtin("nova").expect("nova").rules;
        let mut w = world();
        let body = br#"{"metadata":{"a":"1"}}"#;
        let pick = ServerPick::Own(0);
        let d = w.decide(&rules, &Op::Merge, Identity::Reader, pick, body);
        assert_eq!(d.outcome.kind(), OutcomeKind::Forbidden);
        let d = w.decide(&rules, &Op::Merge, Identity::Owner, pick, body);
        assert_eq!(d.outcome.kind(), OutcomeKind::Ok);
        w.commit(pick, &d);
        assert_eq!(w.metadata(pick).map(|m| m.len()), Some(1));
        let d = w.decide(
            &rules,
            &Op::Get("a".into()),
            Identity::Owner,
            ServerPick::Missing,
            b"",
        );
        assert_eq!(d.outcome.kind(), OutcomeKind::ServerNotFound);
    }
}
