//! `run --dry-run`: the run rehearsed instead of sent, to see every write
//! it would make to each lent server before letting it make any.
//!
//! The lent servers are read (reads only: server show and the metadata),
//! and the reference model is started in-process as their twin: the same
//! server ids, projects, metadata, `vm_state` and lock. The real runner
//! then runs the selected cases against the twin, through the same
//! scheduling, setup, steps and cleanup as a real run, and the writes it
//! sent are listed against the real endpoint's URLs. Where the real
//! endpoint answers differently from the model, the real run's follow-up
//! requests can differ too; the listing says so. A lock is rehearsed as the
//! owner's (a server shows `locked`, not who holds it).

use std::sync::Arc;

use crate::cases::LoadedCase;
use crate::cases::format::Identity;
use crate::endpoint::journal::ServerRole;
use crate::endpoint::safekeeping::{keeper, read_server, servers_at_risk};
use crate::endpoint::{Credentials, Target};
use crate::model::server::{LockedBy, ServerRecord, VmState};

use super::auth_guard::AuthGuard;
use super::execute::{Context, Session};
use super::known_failures::KnownFailures;
use super::redact::Redactor;
use super::results::RunResults;
use super::schedule::run_and_report;

/// One write the run would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWrite {
    /// The case that sends it.
    pub case: String,
    pub method: String,
    /// The URL on the real endpoint.
    pub url: String,
    pub body: String,
}

/// What the rehearsal found: the writes in the order the twin saw them,
/// and the case verdicts against the model.
#[derive(Debug)]
pub struct Rehearsal {
    pub writes: Vec<PlannedWrite>,
    pub results: RunResults,
    /// Requests sent to the real endpoint (reads of the lent servers).
    pub reads: usize,
}

/// Why there is no rehearsal.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    #[error("cannot read the lent servers (nothing was written): {0}")]
    Read(String),
    #[error("cannot start the reference model to rehearse on: {0}")]
    Twin(String),
}

/// Read the lent servers of `ctx`'s target and rehearse `cases` on their
/// twin.
pub async fn rehearse(ctx: &Context, cases: Vec<LoadedCase>) -> Result<Rehearsal, RehearsalError> {
    let mut reader = Session::new(ctx);
    let mut found = Vec::new();
    for (id, role) in servers_at_risk(&ctx.target) {
        let Some(identity) = keeper(&ctx.target.credentials, role) else {
            continue;
        };
        let snapshot = read_server(&mut reader, &id, role, identity)
            .await
            .map_err(|e| RehearsalError::Read(e.0))?;
        found.push(snapshot);
    }
    let reads = reader.records.len();
    let (twin_server, twin_target) =
        super::embedded::start(ctx.target.profile.clone(), 1, Vec::new())
            .await
            .map_err(|e| RehearsalError::Twin(e.to_string()))?;
    {
        let mut world = twin_server.app().world();
        for snapshot in &found {
            world.insert(twin_record(&ctx.target, snapshot));
        }
    }
    let twin = twin_of(&ctx.target, &twin_target);
    let twin_ctx = Arc::new(Context {
        redactor: Redactor::new(&twin.credentials),
        transport: ctx.transport.clone(),
        target: twin.clone(),
        options: ctx.options.clone(),
        auth_guard: Arc::new(AuthGuard::default()),
    });
    let results = run_and_report(
        twin_ctx,
        Arc::new(cases),
        &KnownFailures::default(),
        &mut (),
        false,
        0,
    )
    .await;
    twin_server.shutdown().await;
    let writes = writes_of(&results, &twin.endpoint, &ctx.target.endpoint);
    Ok(Rehearsal {
        writes,
        results,
        reads,
    })
}

/// The model's copy of a lent server as it was read.
fn twin_record(
    target: &Target,
    snapshot: &crate::endpoint::journal::ServerSnapshot,
) -> ServerRecord {
    let project = match snapshot.role {
        ServerRole::Alt => target
            .credentials
            .alt_project_id
            .clone()
            .unwrap_or_default(),
        ServerRole::Project | ServerRole::Fresh | ServerRole::Created => target.project_id.clone(),
    };
    let mut record = ServerRecord::new(&snapshot.id, &project, "lent", snapshot.metadata.clone());
    if let Some(state) = snapshot.vm_state.as_deref().and_then(VmState::parse) {
        record.vm_state = state;
    }
    if snapshot.locked == Some(true) {
        record.locked = true;
        record.locked_by = Some(LockedBy::Owner);
    }
    record
}

/// The target as the twin serves it: the twin's endpoint in the real
/// project, a twin token for every identity the real target has, the
/// same servers, and not disposable (so the runner treats it as lent).
fn twin_of(real: &Target, twin: &Target) -> Target {
    let endpoint = twin.endpoint.replace(&twin.project_id, &real.project_id);
    let creds = &real.credentials;
    let has = |identity| {
        creds.token_of(identity).is_ok_and(|t| t.is_some()) || creds.signing_key(identity).is_some()
    };
    let project = &real.project_id;
    let alt_project = creds.alt_project_id.clone().unwrap_or_default();
    let token = |identity, value: String| has(identity).then_some(value);
    Target {
        endpoint,
        project_id: project.clone(),
        profile: real.profile.clone(),
        credentials: Credentials {
            token: token(Identity::Owner, format!("demo:{project}")),
            admin_token: token(Identity::Admin, format!("admin:{project}")),
            reader_token: token(Identity::Reader, format!("reader:{project}:reader")),
            alt_token: token(Identity::Alt, format!("alt:{alt_project}")),
            alt_project_id: creds.alt_project_id.clone(),
            access_key: None,
            renewal: None,
            secrets: Vec::new(),
        },
        servers: real.servers.clone(),
        alt_servers: real.alt_servers.clone(),
        fresh_servers: real.fresh_servers.clone(),
        disposable: false,
        tls: Default::default(),
    }
}

/// Every request of `results` that is not a read, its URL moved from the
/// twin's endpoint to the real one.
fn writes_of(results: &RunResults, twin_endpoint: &str, real_endpoint: &str) -> Vec<PlannedWrite> {
    let twin_root = root_of(twin_endpoint);
    let real_root = root_of(real_endpoint);
    let mut writes = Vec::new();
    for case in &results.cases {
        for exchange in &case.exchanges {
            let request = &exchange.request;
            if matches!(request.method.as_str(), "GET" | "HEAD") {
                continue;
            }
            let url = match request.url.strip_prefix(twin_root) {
                Some(rest) => format!("{real_root}{rest}"),
                None => request.url.clone(),
            };
            writes.push(PlannedWrite {
                case: case.id.clone(),
                method: request.method.clone(),
                url,
                body: request.body.clone(),
            });
        }
    }
    writes
}

/// `scheme://host[:port]` of a URL.
fn root_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// The ids of the servers a write names (its URL holds the id).
pub fn server_of<'a>(write: &PlannedWrite, servers: &'a [String]) -> Option<&'a str> {
    servers
        .iter()
        .find(|id| write.url.contains(&format!("/{id}")))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_servers_are_found_in_urls() {
        assert_eq!(
            root_of("http://127.0.0.1:8774/v2.1/p"),
            "http://127.0.0.1:8774"
        );
        assert_eq!(root_of("https://ecs.example"), "https://ecs.example");
        let write = PlannedWrite {
            case: "c".into(),
            method: "PUT".into(),
            url: "https://nova/v2.1/p/servers/s2/metadata".into(),
            body: String::new(),
        };
        let servers = ["s1".to_string(), "s2".to_string()];
        assert_eq!(server_of(&write, &servers), Some("s2"));
    }
}
