//! `metaconform check`: validate case files without running them. Exit 0
//! when every file is valid, 2 (usage and input errors, as for every
//! subcommand) with every diagnostic otherwise.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cases::load_dir;
use crate::cli::Exit;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Folder of case files (`<area>/*.yaml`; `dialects/` is skipped).
    #[arg(long, default_value = "cases")]
    pub cases: PathBuf,
}

/// Print every diagnostic to stderr and exit 2, or print the count and exit 0.
pub fn main(args: CheckArgs) -> ExitCode {
    match load_dir(&args.cases) {
        Ok(cases) => {
            let files: BTreeSet<_> = cases.iter().map(|c| &c.file).collect();
            crate::say!("{} cases in {} files", cases.len(), files.len());
            Exit::Success.into()
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let files: BTreeSet<_> = diags.iter().map(|d| &d.file).collect();
            eprintln!(
                "error: {} problem(s) in {} file(s) under {}",
                diags.len(),
                files.len(),
                args.cases.display()
            );
            Exit::Usage.into()
        }
    }
}
