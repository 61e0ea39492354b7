//! `metaconform merge RESULTS... --json OUT [--junit OUT]`: the results of
//! `run --partition` shards as one run ([`crate::report::merge`]), written
//! as one results file and one JUnit file. Exit 0, or 2 when a file cannot
//! be read or the shards do not belong together.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cases::{Catalogue, Source};
use crate::cli::{CliError, Exit};
use crate::report::json::JsonWriter;
use crate::report::junit::JunitWriter;
use crate::report::merge::merge;
use crate::report::reporter::Reporter;
use crate::run::events::Event;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results.json files.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Where the merged results go.
    #[arg(long, value_name = "FILE")]
    pub json: PathBuf,
    /// Where the merged JUnit goes.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A case folder the shards added to the built-in catalogue (as `run
    /// --cases`; for the order of the merged cases; repeatable).
    #[arg(long, value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// A case folder the shards ran instead of the built-in catalogue (as
    /// `run --only-cases`; repeatable).
    #[arg(long, value_name = "DIR")]
    pub only_cases: Vec<PathBuf>,
}

pub fn main(args: MergeArgs) -> ExitCode {
    match run(&args) {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn run(args: &MergeArgs) -> Result<Exit, CliError> {
    let usage = |m: String| CliError(Exit::Usage, format!("error: {m}"));
    let shards = args
        .results
        .iter()
        .map(|p| crate::cli::diff::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge(shards, &catalogue_order(args)).map_err(|e| usage(e.to_string()))?;
    let finished = Event::RunFinished { results: &merged };
    JsonWriter {
        path: args.json.clone(),
    }
    .handle(finished)
    .map_err(|e| usage(e.to_string()))?;
    if let Some(path) = &args.junit {
        JunitWriter { path: path.clone() }
            .handle(finished)
            .map_err(|e| usage(e.to_string()))?;
    }
    let s = merged.summary;
    crate::say!(
        "merged {} shard(s): {} passed, {} failed, {} skipped",
        args.results.len(),
        s.passed,
        s.failed + s.errors,
        s.skipped
    );
    Ok(Exit::Success)
}

/// Case ids in catalogue order, then the property trials.
fn catalogue_order(args: &MergeArgs) -> Vec<String> {
    let sources = Source::from_flags(&args.only_cases, &args.cases);
    let trials = crate::fuzz::properties::property_trials();
    Catalogue::load(&sources)
        .map(|c| c.cases)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.case.id)
        .chain(trials.into_iter().map(|t| t.name.to_string()))
        .collect()
}
