//! `metaconform merge RESULTS... --json OUT [--junit OUT] [--html OUT]
//! [--markdown OUT] [--gate]`: the results of `run --partition` shards as
//! one run ([`crate::report::merge`]), written as one results file, one
//! JUnit file and the human reports. Exit 0 (with `--gate`: 1 when the
//! merged run gates, as the unsharded run would have exited, and 4 when a
//! shard was interrupted, so some cases never ran), or 2 when a file cannot
//! be read or the shards do not belong together.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cases::{Catalogue, Source};
use crate::cli::{CliError, Exit};
use crate::report::html::{self, HtmlWriter};
use crate::report::json::JsonWriter;
use crate::report::junit::JunitWriter;
use crate::report::markdown::MarkdownWriter;
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
    /// The merged run's self-contained HTML report (as `run --html`).
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub html: Option<PathBuf>,
    /// The merged run's Markdown summary (as `run --markdown`).
    #[arg(long, value_name = "FILE", value_parser = crate::cli::report_file)]
    pub markdown: Option<PathBuf>,
    /// Exit 1 when the merged run gates (a failure no baseline of the
    /// shards listed, a required case not run), as the unsharded run
    /// would have: one gate for a sharded pipeline.
    #[arg(long)]
    pub gate: bool,
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
    let baseline_given = merged.cases.iter().any(|c| c.known_failure.is_some());
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(JsonWriter {
        path: args.json.clone(),
    })];
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitWriter { path: path.clone() }));
    }
    if let Some(path) = &args.html {
        let header = html::Header {
            microversions: None,
            baseline_given,
        };
        reporters.push(Box::new(HtmlWriter {
            path: path.clone(),
            header,
        }));
    }
    if let Some(path) = &args.markdown {
        reporters.push(Box::new(MarkdownWriter {
            path: path.clone(),
            baseline_given,
        }));
    }
    for reporter in &mut reporters {
        reporter
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
    if !args.gate {
        return Ok(Exit::Success);
    }
    let gating = merged.cases.iter().filter(|c| c.gates()).count();
    if gating > 0 {
        crate::say!("gate: {gating} case(s) of the merged run gate");
        return Ok(Exit::Failures);
    }
    if merged.run.interrupted {
        // the cases an interrupted shard never reached are not in any file
        crate::say!("gate: a shard was interrupted; the cases it did not reach never ran");
        return Ok(Exit::Untested);
    }
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
