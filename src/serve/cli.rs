//! Flags of `metaconform serve` and its `main`: print the startup line once
//! listening, log to stderr, stop on SIGINT/SIGTERM. Exit 0 after such a
//! stop (the normal end), 2 for bad usage (flags, a `--listen` address that
//! is taken), as every subcommand means them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cli::Exit;
use crate::profile;

use super::faults::{Fault, FaultKind, list_faults};
use super::{ServeConfig, ServeError, spawn};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:0 for any free port.
    #[arg(long, default_value = "127.0.0.1:8774")]
    pub listen: String,
    /// Dialect id (nova, nova-legacy, ecs-os, ecs-v1, bms-os, bms-v1) or a
    /// profile file.
    #[arg(long, default_value = "nova")]
    pub dialect: String,
    /// Directory whose `<id>.yaml` profiles replace the built-in ones.
    #[arg(long)]
    pub dialect_dir: Option<PathBuf>,
    /// Servers to create in the main project (the alt project gets as many).
    #[arg(long, default_value_t = 3, value_parser = parse_server_count)]
    pub servers: usize,
    /// Inject a fault (repeatable); see --list-faults.
    #[arg(long = "fault", value_name = "NAME[=VALUE]")]
    pub faults: Vec<String>,
    /// Seed for rate-based faults, so a run can be repeated.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print every fault with a one-line description and exit; with a
    /// kind (`semantic`, `catalogue`, `transport`), only the faults of
    /// that kind.
    #[arg(long, value_name = "KIND", num_args = 0..=1)]
    pub list_faults: Option<Option<FaultKind>>,
}

pub fn main(args: ServeArgs) -> ExitCode {
    if let Some(kind) = args.list_faults {
        print_faults(kind);
        return Exit::Success.into();
    }
    let config = match config(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return Exit::Usage.into();
        }
    };
    let runtime = match crate::cli::runtime() {
        Ok(rt) => rt,
        Err(message) => {
            eprintln!("{message}");
            return Exit::Usage.into();
        }
    };
    runtime.block_on(run(config))
}

fn print_faults(kind: Option<FaultKind>) {
    let mut out = std::io::stdout().lock();
    for info in list_faults()
        .iter()
        .filter(|i| kind.is_none_or(|k| i.kind == k))
    {
        let name = match info.parameter {
            Some(p) => format!("{}={p}", info.name),
            None => info.name.to_string(),
        };
        let _ = writeln!(out, "{name:<34} {}", info.description);
    }
}

fn config(args: &ServeArgs) -> Result<ServeConfig, String> {
    let listen: SocketAddr = args.listen.parse().map_err(|e| {
        format!(
            "error: --listen '{}' is not an address: {e}\nhelp: write IP:PORT, e.g. 127.0.0.1:0",
            args.listen
        )
    })?;
    if !listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {listen}, which is not loopback: the mock has no real authentication"
        );
    }
    let profile =
        profile::resolve(&args.dialect, args.dialect_dir.as_deref()).map_err(|d| d.to_string())?;
    let faults = args
        .faults
        .iter()
        .map(|f| f.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("error: --fault: {e}"))?;
    Ok(ServeConfig {
        listen,
        profile,
        servers: args.servers,
        faults,
        seed: args.seed,
    })
}

async fn run(config: ServeConfig) -> ExitCode {
    let signals = match StopSignals::install() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("error: cannot install the SIGINT/SIGTERM handlers: {e}");
            return Exit::Usage.into();
        }
    };
    let server = match spawn(config).await {
        Ok(server) => server,
        Err(ServeError::Bind { addr, source }) => {
            eprintln!(
                "error: cannot listen on {addr}: {source}\nhelp: pick a free port, or --listen 127.0.0.1:0 for any"
            );
            return Exit::Usage.into();
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage.into();
        }
    };
    let line = match serde_json::to_string(server.info()) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("error: cannot render the startup line: {e}");
            return Exit::Usage.into();
        }
    };
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            eprintln!("error: cannot write the startup line to stdout");
            return Exit::Usage.into();
        }
    }
    eprintln!(
        "serve: {} ready (endpoint {}); stop with Ctrl-C",
        server.info().dialect,
        server.info().endpoint
    );
    signals.wait().await;
    eprintln!("serve: stopping");
    server.shutdown().await;
    Exit::Success.into()
}

/// SIGINT and SIGTERM, registered before the startup line is printed so a
/// signal sent right after it is never lost (the default action would kill
/// the process with no clean stop).
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `--servers`: at most the per-project instance limit the mock publishes.
fn parse_server_count(text: &str) -> Result<usize, String> {
    let max = super::servers::MAX_INSTANCES;
    match text.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("expected a number of servers from 0 to {max}")),
    }
}
