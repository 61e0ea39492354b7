//! The differential test's driver (issue 8); `contrib/differential/record.sh`
//! runs it. Two commands:
//!
//! - `record --target STARTUP --catalogue RESULTS --catalogue-startup STARTUP
//!   [--legacy-catalogue RESULTS] --out FILE [--from TEXT]`: build the
//!   scenarios (every metadata request of the catalogue run in RESULTS, made
//!   against the peer of `--catalogue-startup`, those of its `--dialect
//!   nova-legacy` run against the same peer's `/v2`, plus the
//!   transport-level ones), send them to
//!   `--target` (real Nova's startup line) and write the recording.
//! - `replay --recording FILE --target STARTUP [--known YAML] [--details]`:
//!   send the recorded scenarios to `--target`, print the summary per area
//!   (and every disagreement with `--details`); exit 1 on a disagreement
//!   that is not listed, or a listed one that no longer occurs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use metaconform::differential::{catalogue, fuzzed, known, recording, scenario::Peer, wire};
use metaconform::endpoint::http::Transport;
use metaconform::run::results::RunResults;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Record {
        #[arg(long)]
        target: PathBuf,
        #[arg(long)]
        catalogue: PathBuf,
        #[arg(long)]
        catalogue_startup: PathBuf,
        /// A `--dialect nova-legacy` run against the same peer's `/v2`.
        #[arg(long)]
        legacy_catalogue: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "Nova 34.0.0 (contrib/nova-peer)")]
        from: String,
    },
    Replay {
        #[arg(long)]
        recording: PathBuf,
        #[arg(long)]
        target: PathBuf,
        #[arg(long)]
        known: Option<PathBuf>,
        #[arg(long)]
        details: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("no runtime: {e}")),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Record {
                target,
                catalogue,
                catalogue_startup,
                legacy_catalogue,
                out,
                from,
            } => {
                let sources = Sources {
                    catalogue,
                    catalogue_startup,
                    legacy_catalogue,
                };
                record(&target, &sources, &out, &from).await
            }
            Command::Replay {
                recording,
                target,
                known,
                details,
            } => replay(&recording, &target, known.as_deref(), details).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("differential: {message}");
    ExitCode::from(2)
}

fn peer(path: &std::path::Path) -> Result<Peer, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Peer::from_startup_line(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn transport() -> Result<Transport, String> {
    Transport::new(Duration::from_secs(60)).map_err(|e| e.to_string())
}

/// Where the catalogue scenarios come from.
struct Sources {
    catalogue: PathBuf,
    catalogue_startup: PathBuf,
    legacy_catalogue: Option<PathBuf>,
}

fn results(path: &std::path::Path) -> Result<RunResults, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

async fn record(
    target: &std::path::Path,
    sources: &Sources,
    out: &std::path::Path,
    from: &str,
) -> Result<ExitCode, String> {
    let ran_against = peer(&sources.catalogue_startup)?;
    let mut scenarios = catalogue::scenarios(&results(&sources.catalogue)?, &ran_against);
    if let Some(legacy) = &sources.legacy_catalogue {
        scenarios.extend(catalogue::legacy_scenarios(&results(legacy)?, &ran_against));
    }
    let nova = metaconform::profile::builtin("nova").map_err(|e| e.to_string())?;
    scenarios.extend(fuzzed::scenarios(&nova));
    scenarios.extend(wire::scenarios());
    eprintln!("differential: recording {} scenarios", scenarios.len());
    let recording = recording::record(&peer(target)?, &transport()?, scenarios, from)
        .await
        .map_err(|e| e.to_string())?;
    let text = recording.to_text().map_err(|e| e.to_string())?;
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("differential: wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

async fn replay(
    path: &std::path::Path,
    target: &std::path::Path,
    known_path: Option<&std::path::Path>,
    details: bool,
) -> Result<ExitCode, String> {
    let recording = recording::Recording::load(path).map_err(|e| e.to_string())?;
    let known = match known_path {
        Some(p) => known::load(p).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let replayed = recording::replay(&recording, &peer(target)?, &transport()?)
        .await
        .map_err(|e| e.to_string())?;
    let failures = known::failures(&replayed, &known);
    if details {
        for f in &failures {
            println!("{f}");
        }
    }
    let (_, summary) = known::summary(&replayed, &known);
    print!("{summary}");
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
