//! `metaconform restore JOURNAL`: put servers back as a run found them,
//! after that run crashed or was killed before it could (`kill -9`, a lost
//! machine). The journal says which servers and what they held; the flags
//! give the credentials again (a journal never holds a secret).
//!
//! Exit codes: 0 when every server is back (the journal is then removed),
//! 2 on bad usage or an unreadable journal, 3 when a server could not be
//! put back (the journal is kept, so the command can be run again).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cli::common::{EndpointArgs, ServerSet};
use crate::cli::{CliError, Exit};
use crate::endpoint::http::Transport;
use crate::endpoint::journal::{Journal, ServerRole};
use crate::endpoint::safekeeping;
use crate::run::RunOptions;
use crate::run::execute::{Context, Session};
use crate::run::redact::Redactor;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The journal a run wrote (`reports/journal-*.json`). Its endpoint,
    /// dialect and project are used; --endpoint overrides the endpoint.
    pub journal: PathBuf,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Seconds to wait for a server to settle after an action.
    #[arg(long, default_value_t = 300)]
    pub state_timeout: u64,
}

pub fn main(args: RestoreArgs) -> ExitCode {
    match restore(args) {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn restore(args: RestoreArgs) -> Result<Exit, CliError> {
    let usage = |m: String| CliError(Exit::Usage, m);
    let journal = Journal::load(&args.journal).map_err(|e| usage(format!("error: {e}")))?;
    if let Some(pid) = live_writer(journal.file.pid) {
        return Err(usage(format!(
            "error: the run that wrote {} is still running (pid {pid}) and restores the servers itself when it ends; stop it with Ctrl-C, or kill it first",
            args.journal.display()
        )));
    }
    let profile =
        crate::profile::resolve(&journal.file.dialect, args.endpoint.dialect_dir.as_deref())
            .map_err(|d| usage(d.to_string()))?;
    let endpoint = args
        .endpoint
        .endpoint
        .clone()
        .unwrap_or_else(|| journal.file.endpoint.clone());
    let mut credentials = args.endpoint.credentials(&profile)?;
    if credentials.alt_project_id.is_none() {
        credentials.alt_project_id = journal.file.alt_project_id.clone();
    }
    let of_role = |role| {
        journal
            .file
            .servers
            .iter()
            .filter(|s| s.role == role)
            .map(|s| s.id.clone())
            .collect()
    };
    let servers = ServerSet {
        servers: of_role(ServerRole::Project),
        alt_servers: of_role(ServerRole::Alt),
        fresh_servers: Vec::new(),
    };
    let mut target = args.endpoint.target(&endpoint, profile, servers)?;
    target.project_id = journal.file.project_id.clone();
    target.credentials = credentials;
    let runtime = crate::cli::runtime().map_err(usage)?;
    let transport = Transport::new(Duration::from_secs(60))
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    let ctx = Context {
        redactor: Redactor::new(&target.credentials),
        target,
        transport,
        options: RunOptions {
            state_timeout: Duration::from_secs(args.state_timeout),
            ..RunOptions::default()
        },
        auth_guard: Arc::default(),
    };
    let path = journal.path.clone();
    let report = runtime.block_on(safekeeping::restore(&mut Session::new(&ctx), journal));
    let mut failed = 0;
    for r in &report {
        match &r.outcome {
            Ok(kept) if kept.is_empty() => crate::say!("restored {}", r.server),
            Ok(kept) => crate::say!(
                "restored {}, which keeps the keys {kept:?} that cases added ({} cannot delete a key)",
                r.server,
                ctx.target.profile.id()
            ),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "error: server {} not restored: {}",
                    r.server,
                    ctx.redactor.text(&e.0)
                );
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} server(s) not restored; the journal {} is kept: fix the cause and run this command again",
            report.len(),
            path.display()
        );
        return Ok(Exit::Unreachable);
    }
    crate::say!(
        "every server is as the run found it; removed {}",
        path.display()
    );
    Ok(Exit::Success)
}

/// `pid`, if a metaconform process of that id is alive.
fn live_writer(pid: u32) -> Option<u32> {
    if pid == std::process::id() {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    String::from_utf8_lossy(&cmdline)
        .contains("metaconform")
        .then_some(pid)
}
