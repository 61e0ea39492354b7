//! The command line: flags are defined once here and in each subcommand's
//! module; the binary only calls [`main`].

pub mod check;
pub mod cloud;
pub mod common;
pub mod completions;
pub mod diff;
pub mod dry_run;
pub mod explain;
pub mod fuzz;
pub mod merge;
pub mod restore;
pub mod run;
pub mod safety;
pub mod schema;
pub mod select;
pub mod stdout;
pub mod target_file;
pub mod targets;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A reason a subcommand stops, with the exit code it means and the
/// message for stderr.
#[derive(Debug)]
pub struct CliError(pub Exit, pub String);

impl CliError {
    /// The same error with every secret `scrubber` knows replaced in its
    /// message (messages quote the endpoint's answers).
    pub fn scrubbed(self, scrubber: &crate::endpoint::secrets::Scrubber) -> CliError {
        CliError(self.0, scrubber.text(&self.1))
    }
}

/// Process exit codes, one meaning each (hurl-style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything that ran passed.
    Success = 0,
    /// A conformance failure or a per-case error.
    Failures = 1,
    /// Bad usage, or invalid case or profile files.
    Usage = 2,
    /// The endpoint could not be reached or set up at all, or a server
    /// could not be put back as the run found it (its journal is kept).
    Unreachable = 3,
    /// Nothing, or not all, of what was asked was tested, for a reason of
    /// metaconform's own: the selection (filter, `--skip`, `--area`,
    /// `--tag`, case folders) matched no case and no property trial (`run`;
    /// `--no-tests=pass` allows it), or a fuzz campaign could not judge (a
    /// worker crashed) or a finding could not be saved (`fuzz`), or a shard
    /// was interrupted (`merge --gate`: the cases it did not reach are in no
    /// file). Never 1, so "found something" stays unambiguous.
    Untested = 4,
    /// Stopped by SIGINT or SIGTERM (after restoring the servers).
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "metaconform",
    version,
    about = "Conformance suite and fuzzer for cloud server-metadata APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a dialect's reference mock over HTTP on loopback.
    Serve(crate::serve::cli::ServeArgs),
    /// Model-based fuzzing of an endpoint (or of the embedded mock).
    Fuzz(Box<fuzz::FuzzArgs>),
    /// Validate case files without running them.
    Check(check::CheckArgs),
    /// Run the conformance cases against an endpoint, or against the
    /// embedded reference server when no --endpoint is given.
    Run(Box<run::RunArgs>),
    /// Put servers back as a run found them, from the journal it left
    /// (after a crash or kill -9); takes the same endpoint flags as run.
    Restore(Box<restore::RestoreArgs>),
    /// Compare two runs' results files: new failures, fixed, still
    /// failing, behaviour changed, added, removed (exit 1 on new failures).
    Diff(diff::DiffArgs),
    /// Merge the results of `run --partition` shards into one results file
    /// (and JUnit), as one unsharded run would have written them.
    Merge(merge::MergeArgs),
    /// Print the completion script for a shell (bash, zsh, fish).
    Completions(completions::CompletionsArgs),
    /// What a case checks: spec section, steps, the dialects it runs on,
    /// and its history across the results files given.
    Explain(explain::ExplainArgs),
    /// Print the JSON Schema of a case, profile or baseline file (for
    /// editors).
    Schema(schema::SchemaArgs),
}

/// A report flag's file (`--junit`, `--json`): `-` is refused, since
/// stdout carries the summary and a report there would be mixed with it.
pub fn report_file(text: &str) -> Result<std::path::PathBuf, String> {
    match text {
        "-" => Err(
            "writing a report to stdout is not supported (stdout carries the summary): pass a file, e.g. reports/junit.xml".into(),
        ),
        "" => Err("pass a file name".into()),
        _ => Ok(text.into()),
    }
}

/// The async runtime every subcommand runs on (two workers: the machines
/// this targets have two cores).
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("error: cannot start the async runtime: {e}"))
}

/// SIGINT and SIGTERM, listened to from the moment this is built: a signal
/// that arrives before anyone waits is kept, not fatal.
pub struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Take over SIGINT and SIGTERM (inside the async runtime).
    pub fn install() -> Result<ShutdownSignals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen =
            |kind| signal(kind).map_err(|e| format!("error: cannot listen for signals: {e}"));
        Ok(ShutdownSignals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
        })
    }

    /// The next signal's name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// Parse arguments and run. Usage errors exit 2.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Success.into()
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    match cli.command {
        Command::Serve(args) => crate::serve::cli::main(args),
        Command::Fuzz(args) => fuzz::main(*args),
        Command::Check(args) => check::main(args),
        Command::Run(args) => run::main(*args),
        Command::Restore(args) => restore::main(*args),
        Command::Diff(args) => diff::main(args),
        Command::Merge(args) => merge::main(args),
        Command::Completions(args) => completions::main(args),
        Command::Explain(args) => explain::main(args),
        Command::Schema(args) => schema::main(args),
    }
}
