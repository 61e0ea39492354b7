//! The terminal reporter: a progress line on a TTY, only problems
//! otherwise (a failed case as a block: step, expected over got, the
//! answer, a curl repro); on stdout, the catalogue that ran and its size,
//! then always the final `N passed, N failed, N skipped` line.

use std::io::Write;
use std::path::PathBuf;

use crate::run::events::Event;
use crate::run::results::{CaseResult, KnownStatus, RunResults, SkipKind, Verdict};

use super::failure::{self, Colour};
use super::reporter::{ReportError, Reporter};

/// The terminal: a progress line on a TTY, only problems otherwise (a
/// failed case as a block: step, expected over got, the answer, a curl
/// repro); on stdout, the catalogue that ran and its size, then always the
/// final `N passed, N failed, N skipped` line.
pub struct Terminal {
    progress: bool,
    colour: Colour,
    /// Where the full transcripts are, named under the failures.
    transcripts: Option<PathBuf>,
    /// Gating skip reasons seen, with how many cases each: a reason is
    /// printed for its first case only (a dialect without fresh servers
    /// skips hundreds of cases for one reason).
    skip_reasons: std::collections::BTreeMap<String, usize>,
    /// Which catalogue ran and its size, printed above the final line.
    catalogue: Option<String>,
}

impl Terminal {
    /// Progress only on an interactive terminal outside CI; colour there
    /// too unless `NO_COLOR` is set. `transcripts`: the report holding every
    /// exchange (the JUnit file), named when a case fails.
    pub fn detect(transcripts: Option<PathBuf>) -> Self {
        use std::io::IsTerminal;
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let interactive = std::io::stderr().is_terminal() && !ci;
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Terminal {
            progress: interactive,
            colour: if interactive && !no_colour {
                Colour::On
            } else {
                Colour::Off
            },
            transcripts,
            skip_reasons: std::collections::BTreeMap::new(),
            catalogue: None,
        }
    }

    /// Print `line` (which catalogue ran, how many cases) in the summary.
    pub fn with_catalogue(mut self, line: String) -> Self {
        self.catalogue = Some(line);
        self
    }
}

impl Reporter for Terminal {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::CaseFinished {
                result,
                done,
                total,
            } => self.case_finished(result, done, total),
            Event::RunFinished { results } => self.run_finished(results),
            Event::RunStarted { .. } | Event::CaseStarted { .. } | Event::FindingShrunk { .. } => {}
        }
        Ok(())
    }
}

impl Terminal {
    fn case_finished(&mut self, result: &CaseResult, done: usize, total: usize) {
        let mut err = std::io::stderr().lock();
        if self.progress {
            let _ = write!(err, "\r\x1b[2K[{done}/{total}] {}", result.id);
        }
        let shown = match result.known_failure {
            None => failure::block(result, self.colour),
            Some(_) => None,
        }
        .or_else(|| problem_line(result))
        .filter(|_| self.first_with_its_reason(result));
        if let Some(text) = shown {
            if self.progress {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = writeln!(err, "{}", text.trim_end());
        }
        let _ = err.flush();
    }

    fn run_finished(&mut self, results: &RunResults) {
        if self.progress {
            eprint!("\r\x1b[2K");
        }
        // A closed stdout (`| head`) must not panic the run.
        let mut out = std::io::stdout().lock();
        for (reason, count) in self.skip_reasons.iter().filter(|(_, n)| **n > 1) {
            eprintln!("SKIP  {count} cases in all: {reason}");
        }
        let s = &results.summary;
        let avoidable = results
            .cases
            .iter()
            .filter(|c| c.skip_kind == Some(SkipKind::Credentials) && c.gates())
            .count();
        if avoidable > 0 {
            let _ = writeln!(
                out,
                "{avoidable} cases skipped for a missing credential or server: pass the flags their reasons name"
            );
        }
        let failed: Vec<&str> = results
            .cases
            .iter()
            // gating failures, and required cases not run for a reason
            // other than a missing credential (counted above) or a broken
            // setup primitive (its `setup::` finding is listed)
            .filter(|c| {
                c.gates() && !matches!(c.skip_kind, Some(SkipKind::Credentials | SkipKind::Blocked))
            })
            .map(|c| c.id.as_str())
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "failures:");
            for id in &failed {
                let _ = writeln!(out, "    {id}");
            }
            if let Some(path) = &self.transcripts {
                let _ = writeln!(
                    out,
                    "every request of these cases (setup and cleanup too), with curl repros: {}",
                    path.display()
                );
            }
            if failed.iter().any(|id| id.starts_with("setup::")) {
                let _ = writeln!(
                    out,
                    "setup::* is the runner's own set-up check on this endpoint, not a case: the cases it blocks run once it passes"
                );
            }
            let _ = writeln!(out, "rerun one: metaconform run --exact ID");
        }
        if s.errors > 0 || s.known_failures > 0 || s.fixed > 0 || s.advisory_failures > 0 {
            let _ = writeln!(
                out,
                "({} of the failed are errors; {} known failures and {} advisory failures do not gate; {} known failures now pass)",
                s.errors, s.known_failures, s.advisory_failures, s.fixed
            );
        }
        if s.skipped > 0 {
            let _ = writeln!(out, "skipped: {}", s.skipped_by_kind);
        }
        if results.run.interrupted {
            let _ = writeln!(
                out,
                "interrupted: {} case(s) ran before the signal; the others did not run",
                results.cases.len()
            );
        }
        if let Some(line) = &self.catalogue {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} skipped",
            s.passed,
            s.failed + s.errors,
            s.skipped
        );
    }

    /// Whether `result` is not a gating skip whose reason was shown already
    /// (counting it either way).
    fn first_with_its_reason(&mut self, result: &CaseResult) -> bool {
        if !(result.verdict == Verdict::Skip && result.gates()) {
            return true;
        }
        let reason = result.skip_reason.clone().unwrap_or_default();
        let seen = self.skip_reasons.entry(reason).or_insert(0);
        *seen += 1;
        *seen == 1
    }
}

/// The line shown for a case that did not simply pass, if any.
fn problem_line(result: &CaseResult) -> Option<String> {
    let reason = failure::reason(result).unwrap_or_default();
    let known = match result.known_failure {
        Some(KnownStatus::StillFailing) => " (known failure)",
        Some(KnownStatus::Fixed) => {
            return Some(format!(
                "FIXED {}: listed as a known failure but passes",
                result.id
            ));
        }
        None if !result.class.is_required() => " (advisory: does not gate)",
        None => "",
    };
    match result.verdict {
        Verdict::Pass => None,
        Verdict::Fail => Some(format!("FAIL  {}{known}: {reason}", result.id)),
        Verdict::Error => Some(format!("ERROR {}{known}: {reason}", result.id)),
        Verdict::Skip if result.gates() => Some(format!("SKIP  {}: {reason}", result.id)),
        Verdict::Skip => None,
    }
}
