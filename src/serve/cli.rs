//! Flags of `metaconform serve`.

use std::process::ExitCode;

use clap::Args;

use crate::cli::Exit;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8774")]
    pub listen: String,
    /// Dialect id or profile file.
    #[arg(long, default_value = "nova")]
    pub dialect: String,
    /// Servers to create in the main project (the alt project gets as many).
    #[arg(long, default_value_t = 3)]
    pub servers: usize,
}

pub fn main(_args: ServeArgs) -> ExitCode {
    eprintln!("error: serve is being built in this revision");
    Exit::Usage.into()
}
