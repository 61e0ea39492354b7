//! `metaconform run --dry-run`: every write the run would make, per lent
//! server, from a rehearsal on the reference model seeded with what the
//! servers hold now ([`crate::run::rehearsal`]). Nothing is written; the
//! lent servers are only read.

use std::sync::Arc;

use crate::cases::LoadedCase;
use crate::cli::run::RunArgs;
use crate::cli::{CliError, Exit};
use crate::endpoint::Target;
use crate::endpoint::safekeeping::servers_at_risk;
use crate::run::RunOptions;
use crate::run::execute::Context;
use crate::run::redact::Redactor;
use crate::run::rehearsal::{PlannedWrite, Rehearsal, rehearse, server_of};
use crate::run::schedule::preflight;

/// How much of a request body a line shows.
const BODY_SHOWN: usize = 160;

/// Rehearse the run of `cases` on `target` and print its writes.
pub async fn execute(
    args: &RunArgs,
    options: RunOptions,
    cases: Vec<LoadedCase>,
    target: Target,
) -> Result<Exit, CliError> {
    let transport = target
        .transport(args.timeout)
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?
        .paced(args.rate);
    let ctx = Context {
        redactor: Redactor::new(&target.credentials),
        target,
        transport,
        options,
        auth_guard: Arc::default(),
    };
    preflight(&ctx)
        .await
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    let rehearsal = rehearse(&ctx, cases)
        .await
        .map_err(|e| CliError(Exit::Unreachable, format!("error: {e}")))?;
    print!("{}", render(&ctx.target, &rehearsal, args.no_props));
    Ok(Exit::Success)
}

/// The listing: a header, then each server's writes in the order sent.
pub fn render(target: &Target, rehearsal: &Rehearsal, no_props: bool) -> String {
    let endpoint = target.endpoint.trim_end_matches('/');
    let mut out = format!(
        "dry run: nothing was written to {endpoint}; {} read(s) of the lent servers were sent.\n",
        rehearsal.reads
    );
    out.push_str("The run was rehearsed on the reference model seeded with what each server holds now; where the endpoint answers otherwise, the real run's follow-up requests differ.\n");
    if target.profile.serves_tags() {
        out.push_str("Before its first write the run adds its lease tag to each server, and removes it at the end.\n");
    }
    out.push_str(
        "Besides the writes below, the run checks its own setup on the first server (it writes the key metaconform-probe, reads it back and empties the map) and brings each server to active and unlocked before its first case.\n",
    );
    out.push_str(
        "At the end each server is put back: its metadata, state and lock as they are now.\n",
    );
    let at_risk = servers_at_risk(target);
    let ids: Vec<String> = at_risk.iter().map(|(id, _)| id.clone()).collect();
    for (id, role) in &at_risk {
        let writes: Vec<&PlannedWrite> = rehearsal
            .writes
            .iter()
            .filter(|w| server_of(w, &ids) == Some(id.as_str()))
            .collect();
        out.push_str(&format!(
            "\nserver {id} ({role:?}): {} write(s)\n",
            writes.len()
        ));
        for write in writes {
            out.push_str(&line(endpoint, write));
        }
    }
    let elsewhere: Vec<&PlannedWrite> = rehearsal
        .writes
        .iter()
        .filter(|w| server_of(w, &ids).is_none())
        .collect();
    if !elsewhere.is_empty() {
        out.push_str(&format!(
            "\nto no lent server (ids that name none, other routes): {} write(s)\n",
            elsewhere.len()
        ));
        for write in elsewhere {
            out.push_str(&line(endpoint, write));
        }
    }
    if !no_props {
        out.push_str("\nThe property trials (prop::*) are not rehearsed; they write to the same servers (--no-props leaves them out).\n");
    }
    out
}

fn line(endpoint: &str, write: &PlannedWrite) -> String {
    let path = write.url.strip_prefix(endpoint).unwrap_or(&write.url);
    let mut body: String = write.body.chars().take(BODY_SHOWN).collect();
    if write.body.chars().count() > BODY_SHOWN {
        body.push('…');
    }
    format!("  {:<40} {} {} {}\n", write.case, write.method, path, body)
        .trim_end()
        .to_string()
        + "\n"
}
