//! The subunit v2 stream of a run (`run --subunit FILE`), the format
//! OpenStack's own tooling reads (stestr, subunit2html, subunit2sql and the
//! dashboards they feed), so a metaconform run lands where Tempest's do.
//!
//! Each case is written when it finishes, so the file of an interrupted run
//! is a valid stream of the cases that ended: an `inprogress` packet stamped
//! with the case's start, its details as attachments (`reason`, and for a
//! failure `traceback`: what broke and every exchange with its curl repro),
//! then the final status stamped with its end. Tags carry the area and the
//! class. The status agrees with the exit code, as the JUnit file does:
//!
//! | case | subunit status |
//! |---|---|
//! | passed (also a baseline entry that now passes: tag `baseline-fixed`) | `success` |
//! | failed or erred, gating | `fail` |
//! | failed or erred, listed in the baseline or advisory | `xfail` |
//! | skipped for a reason that gates (a required case not run) | `fail` |
//! | skipped otherwise | `skip` |

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use subunit::types::event::Event as Packet;
use subunit::types::teststatus::TestStatus;

use crate::run::events::Event;
use crate::run::results::{CaseResult, KnownStatus, Verdict};

use super::reporter::{ReportError, Reporter};
use super::transcript::case_transcript;

/// An attachment is cut to this many bytes: a packet holds at most 4 MiB.
const ATTACHMENT_LIMIT: usize = 1024 * 1024;

/// Writes the subunit v2 stream, a case at a time.
pub struct SubunitWriter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl SubunitWriter {
    pub fn new(path: PathBuf) -> Self {
        SubunitWriter { path, file: None }
    }

    fn io(&self, source: std::io::Error) -> ReportError {
        ReportError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn open(&mut self) -> Result<(), ReportError> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| self.io(e))?;
        }
        let file = File::create(&self.path).map_err(|e| self.io(e))?;
        self.file = Some(BufWriter::new(file));
        Ok(())
    }

    fn write_case(&mut self, case: &CaseResult) -> Result<(), ReportError> {
        let packets = packets(case, SystemTime::now())?;
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let written = packets.iter().try_for_each(|p| file.write_all(p));
        written.map_err(|e| self.io(e))
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        let flushed = match self.file.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        };
        flushed.map_err(|e| self.io(e))
    }
}

impl Reporter for SubunitWriter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::RunStarted { .. } => self.open(),
            Event::CaseFinished { result, .. } => self.write_case(result),
            Event::RunFinished { .. } => self.finish(),
            Event::CaseStarted { .. } | Event::FindingShrunk { .. } => Ok(()),
        }
    }
}

/// The subunit status of `case` (see the module's table).
pub fn status(case: &CaseResult) -> TestStatus {
    match case.verdict {
        Verdict::Pass => TestStatus::Success,
        Verdict::Fail | Verdict::Error if case.gates() => TestStatus::Failed,
        Verdict::Fail | Verdict::Error => TestStatus::ExpectedFailure,
        Verdict::Skip if case.gates() => TestStatus::Failed,
        Verdict::Skip => TestStatus::Skipped,
    }
}

/// The encoded packets of one finished case, `now` being its end.
fn packets(case: &CaseResult, now: SystemTime) -> Result<Vec<Vec<u8>>, ReportError> {
    let end = stamp(now);
    let started = now
        .checked_sub(Duration::from_secs_f64(case.duration_ms.max(0.0) / 1000.0))
        .unwrap_or(now);
    let tags = tags(case);
    let event = |status| {
        let mut builder = Packet::new(status).test_id(&case.id);
        for tag in &tags {
            builder = builder.tag(tag);
        }
        builder
    };
    let mut out = Vec::new();
    if case.verdict != Verdict::Skip {
        let begin = event(TestStatus::InProgress).datetime(stamp(started));
        out.push(encode(begin.map_err(render)?.build())?);
    }
    for (name, text) in details(case) {
        let attachment = event(TestStatus::Undefined)
            .mime_type("text/plain;charset=utf8")
            .file_content(name, cut(&text).as_bytes())
            .end_of_file();
        out.push(encode(attachment.build())?);
    }
    let done = event(status(case)).datetime(end).map_err(render)?;
    out.push(encode(done.build())?);
    Ok(out)
}

fn tags(case: &CaseResult) -> Vec<String> {
    let mut tags = vec![
        format!("area:{}", case.area),
        format!("class:{}", case.class.name()),
    ];
    if case.known_failure == Some(KnownStatus::StillFailing) {
        tags.push("baseline".to_string());
    }
    if case.known_failure == Some(KnownStatus::Fixed) {
        tags.push("baseline-fixed".to_string());
    }
    tags
}

/// The attachments: why it was skipped or did not gate, and for a failure
/// what broke with every exchange.
fn details(case: &CaseResult) -> Vec<(&'static str, String)> {
    let reason = super::failure::reason(case).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(known) = &case.known_reason {
        out.push(("baseline", known.clone()));
    }
    match case.verdict {
        Verdict::Pass => {}
        Verdict::Skip => out.push(("reason", reason)),
        Verdict::Fail | Verdict::Error => {
            let transcript = case_transcript(case);
            out.push(("traceback", format!("{reason}\n\n{transcript}")));
        }
    }
    out
}

/// `text` cut at a character boundary under [`ATTACHMENT_LIMIT`], saying so.
fn cut(text: &str) -> String {
    if text.len() <= ATTACHMENT_LIMIT {
        return text.to_string();
    }
    let mut end = ATTACHMENT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[cut at {ATTACHMENT_LIMIT} bytes of {}: results.json has it whole]",
        &text[..end],
        text.len()
    )
}

fn stamp(time: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(time)
}

fn encode(packet: Packet) -> Result<Vec<u8>, ReportError> {
    packet.to_vec().map_err(render)
}

fn render(e: impl std::fmt::Debug) -> ReportError {
    ReportError::Render {
        what: "subunit stream",
        message: format!("{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::{CaseClass, Failure, Place, SkipKind};
    use subunit::io::sync::iter_stream;
    use subunit::types::stream::ScannedItem;

    fn case(verdict: Verdict, class: CaseClass) -> CaseResult {
        CaseResult {
            id: "lengths.key.256".into(),
            area: "lengths".into(),
            name: "n".into(),
            spec: "2.1".into(),
            class,
            verdict,
            failure: matches!(verdict, Verdict::Fail)
                .then(|| Failure::trouble(Place::Case, "expected 400, got 200")),
            skip_reason: None,
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 1500.0,
            exchanges: Vec::new(),
        }
    }

    fn read_back(case: &CaseResult) -> Vec<subunit::types::event::Event> {
        let bytes: Vec<u8> = packets(case, SystemTime::now()).expect("encodes").concat();
        iter_stream(bytes.as_slice())
            .map(|item| match item.expect("parses") {
                ScannedItem::Event(event) => event,
                other => panic!("not an event: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_gating_failure_is_fail_with_its_traceback_and_a_start() {
        let events = read_back(&case(Verdict::Fail, CaseClass::Required));
        let statuses: Vec<TestStatus> = events.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                TestStatus::InProgress,
                TestStatus::Undefined,
                TestStatus::Failed
            ]
        );
        let (name, text) = events[1].file.file.clone().expect("an attachment");
        assert_eq!(name, "traceback");
        assert!(String::from_utf8_lossy(&text).contains("expected 400, got 200"));
        assert!(
            events
                .iter()
                .all(|e| e.test_id.as_deref() == Some("lengths.key.256"))
        );
        let tags = events[2].tags.clone().unwrap_or_default();
        assert!(tags.contains(&"class:required".to_string()), "{tags:?}");
    }

    #[test]
    fn status_agrees_with_the_gate() {
        let advisory = case(Verdict::Fail, CaseClass::Advisory);
        assert_eq!(status(&advisory), TestStatus::ExpectedFailure);
        let mut baselined = case(Verdict::Fail, CaseClass::Required);
        baselined.known_failure = Some(KnownStatus::StillFailing);
        assert_eq!(status(&baselined), TestStatus::ExpectedFailure);
        let mut not_run = case(Verdict::Skip, CaseClass::Required);
        not_run.skip_kind = Some(SkipKind::Credentials);
        assert_eq!(status(&not_run), TestStatus::Failed);
        not_run.skip_kind = Some(SkipKind::Dialect);
        assert_eq!(status(&not_run), TestStatus::Skipped);
        assert_eq!(
            status(&case(Verdict::Pass, CaseClass::Required)),
            TestStatus::Success
        );
    }

    #[test]
    fn a_huge_transcript_is_cut_under_the_packet_limit() {
        let text = "é".repeat(ATTACHMENT_LIMIT);
        let kept = cut(&text);
        assert!(kept.len() < ATTACHMENT_LIMIT + 200);
        assert!(kept.ends_with("results.json has it whole]"));
    }
}
