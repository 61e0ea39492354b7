//! `metaconform diff OLD NEW`: what changed between two runs' results files
//! ([`crate::report::diff`]). Exit 1 when NEW has failures OLD did not
//! (a skip that gates counts) or NEW was interrupted, 0 otherwise, 2 when
//! a file cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::cli::{CliError, Exit};
use crate::report::diff::{DiffFormat, diff, render};
use crate::run::results::RunResults;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run's results.json.
    pub old: PathBuf,
    /// The later run's results.json.
    pub new: PathBuf,
    /// Output: a human summary, JSON (`new_failures`, `fixed`,
    /// `still_failing`, `changed`, `added`, `removed`) or Markdown for a CI
    /// job summary.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
}

pub fn main(args: DiffArgs) -> ExitCode {
    match run(&args) {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn run(args: &DiffArgs) -> Result<Exit, CliError> {
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let found = diff(&old, &new);
    print!("{}", render(&found, args.format));
    // An interrupted NEW run proves nothing about the cases it missed.
    Ok(
        match found.has_new_failures() || found.new_run_interrupted {
            true => Exit::Failures,
            false => Exit::Success,
        },
    )
}

/// A results file, or a usage error naming the file, the place and the fix.
pub fn load(path: &Path) -> Result<RunResults, CliError> {
    let usage = |message: String| CliError(Exit::Usage, format!("error: {message}"));
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    // Loading refuses a format it cannot read and upgrades an older one it
    // can (`run::stored`).
    serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{}:{}:{}: not a metaconform results file: {e} (write one with `metaconform run --json FILE`)",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}
