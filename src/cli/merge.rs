//! `metaconform merge RESULTS... --json OUT [--junit OUT]`: the results of
//! `run --partition` shards as one run ([`crate::report::merge`]), written
//! as one results file and one JUnit file. Exit 0, or 2 when a file cannot
//! be read or the shards do not belong together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::cases::{default_source, load_builtin, load_dir};
use crate::cli::{CliError, Exit};
use crate::report::junit::JunitWriter;
use crate::report::merge::merge;
use crate::run::events::{JsonWriter, Reporter};

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
    /// The case folder the shards ran (for the order of the merged cases;
    /// default: as `run` picks it).
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
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
    let merged =
        merge(shards, &catalogue_order(args.cases.as_deref())).map_err(|e| usage(e.to_string()))?;
    JsonWriter {
        path: args.json.clone(),
    }
    .finished(&merged)
    .map_err(|e| usage(e.to_string()))?;
    if let Some(path) = &args.junit {
        JunitWriter { path: path.clone() }
            .finished(&merged)
            .map_err(|e| usage(e.to_string()))?;
    }
    let s = merged.summary;
    println!(
        "merged {} shard(s): {} passed, {} failed, {} skipped",
        args.results.len(),
        s.passed,
        s.failed + s.errors,
        s.skipped
    );
    Ok(Exit::Success)
}

/// Case ids in catalogue order, then the property trials.
fn catalogue_order(dir: Option<&Path>) -> Vec<String> {
    let dir = dir.map(Path::to_path_buf).or_else(default_source);
    let loaded = match &dir {
        Some(dir) => load_dir(dir),
        None => load_builtin(),
    };
    let trials = crate::run::properties::select(None, false, &[]);
    loaded
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.case.id)
        .chain(trials.into_iter().map(|t| t.name.to_string()))
        .collect()
}
