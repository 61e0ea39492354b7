//! Data safety for the commands that write to a lent endpoint (`run`,
//! `fuzz`): the journal is written before the first write and every server
//! is put back at the end, after failures and on SIGINT/SIGTERM (a second
//! signal abandons the restore and keeps the journal for
//! `metaconform restore`); how a run's work ends on signals
//! ([`finish_or_interrupt`]).

use std::path::Path;

use clap::Args;

use crate::cli::{CliError, Exit, ShutdownSignals};
use crate::endpoint::journal::Journal;
use crate::endpoint::provision::{self, Network, Recipe};
use crate::endpoint::safekeeping;
use crate::endpoint::secrets::Scrubber;
use crate::endpoint::servers::Conversation;

/// How the work of a command ended.
pub enum Ending<T> {
    /// It ran to its end.
    Finished(T),
    /// A first signal stopped new work; what was running finished.
    Interrupted(T, &'static str),
    /// A second signal: stopped at once, nothing to report.
    Abandoned(&'static str),
}

/// Drive `work` to its end; on the first SIGINT/SIGTERM request `interrupt`
/// (no new case starts, the running ones finish or time out) and keep
/// waiting; on a second, drop `work` at once (running cases are aborted:
/// nothing may write while the servers are restored).
pub async fn finish_or_interrupt<T>(
    work: impl Future<Output = T>,
    signals: &mut ShutdownSignals,
    interrupt: &crate::run::Interrupt,
) -> Ending<T> {
    tokio::pin!(work);
    let mut first = None;
    loop {
        tokio::select! {
            done = &mut work => return match first {
                None => Ending::Finished(done),
                Some(signal) => Ending::Interrupted(done, signal),
            },
            signal = signals.recv() => {
                if first.is_some() {
                    eprintln!("\n{signal} again: stopping at once, without reports");
                    return Ending::Abandoned(signal);
                }
                eprintln!("\ninterrupted by {signal}: no new case starts; the running ones finish, then the reports are written (signal again to stop at once)");
                interrupt.request();
                first = Some(signal);
            }
        }
    }
}

/// `--create-servers N --image REF --flavor REF [--network ...]`.
#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// With --endpoint: create N disposable servers to test on (besides
    /// any --server), deleted at the end, after failures and on Ctrl-C;
    /// each is in the journal, so `restore` deletes it after a crash.
    #[arg(long, value_name = "N", requires_all = ["image", "flavor"])]
    pub create_servers: Option<u16>,
    /// Image of the created servers (`imageRef`): those of
    /// --create-servers and those the cases' create steps make (without
    /// --image and --flavor an endpoint run skips those cases).
    #[arg(long, value_name = "REF", requires = "flavor")]
    pub image: Option<String>,
    /// Flavor of the created servers (`flavorRef`).
    #[arg(long, value_name = "REF", requires = "image")]
    pub flavor: Option<String>,
    /// Network of the created servers: none (default), auto, or a network id.
    #[arg(
        long,
        value_name = "none|auto|ID",
        default_value = "none",
        requires = "image"
    )]
    pub network: Network,
}

impl CreateArgs {
    /// How many servers to create, and from what.
    pub fn recipe(&self) -> Option<(u16, Recipe)> {
        let count = self.create_servers.filter(|n| *n > 0)?;
        Some((count, self.image_and_flavor()?))
    }

    /// What servers are made of, given `--image` and `--flavor`: also what
    /// the cases' `op: create` steps create from.
    pub fn image_and_flavor(&self) -> Option<Recipe> {
        Some(Recipe {
            image: self.image.clone()?,
            flavor: self.flavor.clone()?,
            network: self.network.clone(),
        })
    }
}

/// Create `count` servers from `recipe`, each recorded in the
/// conversation's journal (named `run`) as soon as the endpoint accepts
/// it, then wait until all are active. On failure the journal still names
/// every server created, for [`put_back`].
pub async fn create_servers<C: Conversation>(
    conversation: &mut C,
    run: &str,
    count: u16,
    recipe: &Recipe,
) -> Result<Vec<String>, CliError> {
    let failed = |e: String| CliError(Exit::Unreachable, format!("error: {e}"));
    let mut created = Vec::new();
    for n in 1..=count {
        let name = format!("metaconform-{run}-{n}");
        let id = provision::create(conversation, recipe, &name)
            .await
            .map_err(|e| failed(e.0))?;
        eprintln!("created server {id} ({name}); it is deleted at the end");
        created.push(id);
    }
    for id in &created {
        provision::await_active(conversation, id)
            .await
            .map_err(|e| failed(format!("created server {id} did not become active: {e}")))?;
    }
    Ok(created)
}

/// Snapshot every server the command may change, before its first write.
pub async fn take_snapshot<C: Conversation>(
    conversation: &mut C,
    dir: &Path,
) -> Result<Journal, CliError> {
    let path = Journal::new_path(dir);
    let scrubber = Scrubber::new(&conversation.target().credentials);
    let (journal, notes) = safekeeping::snapshot(conversation, path).await.map_err(|e| {
        CliError(
            Exit::Unreachable,
            format!("error: cannot snapshot the servers before the first write, nothing was changed: {e}"),
        ).scrubbed(&scrubber)
    })?;
    for note in notes {
        eprintln!("warning: {note}; do not let another run use it at the same time");
    }
    eprintln!(
        "journal: {} ({} server(s) to put back; if this run is killed: metaconform restore {} with the same endpoint flags)",
        journal.path.display(),
        journal.file.servers.len(),
        journal.path.display()
    );
    Ok(journal)
}

/// Restore every journaled server; a second signal stops the restore and
/// keeps the journal.
pub async fn put_back<C: Conversation>(
    conversation: &mut C,
    journal: Journal,
    signals: &mut ShutdownSignals,
    interrupted: bool,
) -> Result<(), CliError> {
    let path = journal.path.clone();
    let scrubber = Scrubber::new(&conversation.target().credentials);
    let kept = |why: String| {
        format!(
            "{why}\nerror: the journal is kept: finish with `metaconform restore {}` and the same endpoint flags",
            path.display()
        )
    };
    if interrupted {
        eprintln!(
            "putting {} server(s) back; signal again to abandon that and keep the journal",
            journal.file.servers.len()
        );
    }
    // The first signal during the restore (the run had ended on its own)
    // is only acknowledged: abandoning a restore takes a second one.
    let mut warned = interrupted;
    let dialect = conversation.target().profile.id().to_string();
    let restore = safekeeping::restore(conversation, journal);
    tokio::pin!(restore);
    let report = loop {
        tokio::select! {
            report = &mut restore => break report,
            signal = signals.recv() => {
                if warned {
                    return Err(CliError(Exit::Interrupted, kept(format!("error: restore abandoned on {signal}"))));
                }
                warned = true;
                eprintln!("\n{signal}: putting the servers back first; signal again to abandon that and keep the journal");
            }
        }
    };
    let mut failures = Vec::new();
    for restored in report {
        match restored.outcome {
            Ok(kept) if !kept.is_empty() => eprintln!(
                "note: fresh server {} keeps the keys {kept:?} that cases added: {} cannot delete a key",
                restored.server, dialect
            ),
            Ok(_) => {}
            Err(e) => failures.push(format!(
                "error: server {} not restored: {e}",
                restored.server
            )),
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    Err(CliError(Exit::Unreachable, kept(failures.join("\n"))).scrubbed(&scrubber))
}
