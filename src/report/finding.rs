//! A fuzz finding for people (`metaconform fuzz`'s output and its JUnit
//! file): what the model and the endpoint disagreed on, how small the
//! sequence got, the failing exchange, and a curl repro of every request of
//! the minimal sequence — from the same records and through the same
//! renderer ([`super::transcript`]) as a case's.

use std::fmt::Write as _;

use crate::fuzz::shrink::Shrunk;
use crate::run::findings::{finding_failure, finding_records};
use crate::run::redact::Redactor;

use super::failure::sentence;
use super::transcript::{curl, exchange};

/// The full report of one shrunk finding; `redactor` replaces the run's
/// secrets (tokens become the variables the CLI reads them from).
pub fn render(shrunk: &Shrunk, redactor: &Redactor) -> String {
    let records = finding_records(shrunk, redactor);
    let failure = finding_failure(shrunk);
    let mut out = String::new();
    let _ = writeln!(out, "finding: {}", shrunk.finding.cause());
    for line in sentence(&failure).lines().filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "  {line}");
    }
    let step = failure.step();
    let _ = writeln!(
        out,
        "  failing exchange (step {}):",
        step.unwrap_or_default()
    );
    let mut failing = String::new();
    for record in records.iter().filter(|r| r.step == step) {
        exchange(&mut failing, record);
    }
    for line in failing.lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(
        out,
        "  repro (the server starts active, unlocked, with no user metadata):"
    );
    for record in &records {
        let _ = writeln!(out, "    {}", curl(record));
    }
    out
}
