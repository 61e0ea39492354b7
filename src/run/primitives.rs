//! The runner's own setup primitives, verified before any case relies on
//! them: a write of the starting map is read back as written, and a reset
//! empties the map. When one is broken, every case would fail for that one
//! reason (the `put-merges` mock turned 609 cases red); instead the run
//! reports a single root-cause finding (`setup::…`) naming the primitive
//! with its exchange, and every case as blocked by it.
//!
//! Verified on the run's first server, as the member, after the journal
//! snapshot (these are writes; the journal puts the server back). Not
//! verified: that an action reaches its state (each case's setup waits for
//! it and reports a timeout as an error), and nothing on targets whose
//! servers are fresh, one per case (they cannot be reset at all).

use std::collections::BTreeMap;

use crate::cases::format::Identity;
use crate::endpoint::servers::{Housekeeping, Purpose};

use super::execute::{Context, Session};
use super::results::{CaseClass, CaseResult, Cause, ExchangeRecord, Failure, Place, Verdict};

/// The area of root-cause findings.
pub const AREA: &str = "setup";

/// The key the probe writes.
const PROBE_KEY: &str = "metaconform-probe";

/// A broken primitive: the root-cause finding, with its exchanges.
#[derive(Debug, Clone)]
pub struct Broken(pub CaseResult);

impl Broken {
    /// Why a case that needs the primitive is not run.
    pub fn blocking_reason(&self) -> String {
        format!(
            "blocked by {}: the runner cannot set a case up on this endpoint",
            self.0.id
        )
    }
}

/// Check each primitive on the target's first server; `Some` names the
/// first broken one.
pub async fn verify(ctx: &Context) -> Option<Broken> {
    let target = &ctx.target;
    let server = target.servers.first()?;
    if !target.can_reset_metadata() {
        return None;
    }
    let mut session = Session::new(ctx);
    // As each worker does before its first case: a server that cannot be
    // made active and unlocked is the quarantine's business, not a
    // primitive's.
    if session
        .bring_back(server, true, Identity::Owner)
        .await
        .is_err()
    {
        return None;
    }
    session.records.clear();
    let probe = BTreeMap::from([(PROBE_KEY.to_string(), "1".to_string())]);
    let written = match session.reset_to(server, &probe).await {
        Ok(()) => session
            .read_stored(server, Identity::Owner, Purpose::Setup, None)
            .await
            .map_err(|e| e.0),
        Err(e) => Err(e.0),
    };
    let id = "setup::write-read-back";
    match written {
        Err(why) => {
            return broken(
                id,
                format!("writing the starting map failed: {why}"),
                session,
            );
        }
        Ok(stored) if stored != probe => {
            let sent = last_write(&session.records);
            let message = format!(
                "a written starting map is not read back: sent `{sent}`, read back {}{}",
                show_map(&stored),
                lone_surrogates(&session.records)
            );
            return broken(id, message, session);
        }
        Ok(_) => {}
    }
    let id = "setup::reset-metadata";
    let emptied = match session.reset_metadata(server).await {
        Ok(()) => session
            .read_stored(server, Identity::Owner, Purpose::Setup, None)
            .await
            .map_err(|e| e.0),
        Err(e) => Err(e.0),
    };
    let how = if target.replace_clears_metadata() {
        "reset by replace-all"
    } else {
        "reset by deleting each key"
    };
    match emptied {
        Err(why) => broken(id, format!("{how} failed: {why}"), session),
        Ok(stored) if !stored.is_empty() => {
            let sent = last_write(&session.records);
            let message = format!(
                "{how} does not empty metadata: sent `{sent}`, read back {}",
                show_map(&stored)
            );
            remove_probe(&mut session, server).await;
            broken(id, message, session)
        }
        Ok(_) => None,
    }
}

/// Take the probe key out again where the dialect can delete one key, so
/// the server is as the journal found it even though reset is broken (a
/// restore by replace-all would not remove it either).
async fn remove_probe(session: &mut Session<'_>, server: &str) {
    use crate::model::pipeline::Op;
    let delete = Op::Delete(PROBE_KEY.to_string());
    if session.target.profile.op(&delete).is_some() {
        let what = "remove the probe key";
        let _ = session
            .expect_2xx(server, &delete, None, Identity::Owner, what)
            .await;
    }
}

/// The root-cause finding: a failure naming the primitive, with every
/// exchange of the check. `None` when the last request got no answer at
/// all: a flaky connection is not a broken primitive, and each case's own
/// setup reports it.
fn broken(id: &str, message: String, session: Session<'_>) -> Option<Broken> {
    if session.records.last().is_some_and(|r| r.response.is_none()) {
        return None;
    }
    Some(Broken(CaseResult {
        id: id.to_string(),
        area: AREA.to_string(),
        name: "the runner's own setup primitive works on this endpoint".into(),
        // The reference model: replace-all sets the whole map, merge adds.
        spec: "3.1".into(),
        class: CaseClass::Required,
        verdict: Verdict::Fail,
        failure: Some(Failure::new(
            Place::Case,
            Cause::Finding {
                summary: message,
                detail: Some(
                    "every case depends on it: they are reported as blocked, not run".into(),
                ),
            },
        )),
        skip_reason: None,
        skip_kind: None,
        known_failure: None,
        known_reason: None,
        duration_ms: 0.0,
        exchanges: session.records,
    }))
}

/// `PUT …/metadata {"metadata": {}}`: the last write the check sent.
fn last_write(records: &[ExchangeRecord]) -> String {
    records
        .iter()
        .rev()
        .find(|r| r.request.method != "GET")
        .map(|r| {
            let path = r
                .request
                .url
                .rsplit_once("/servers/")
                .map_or(r.request.url.as_str(), |(_, tail)| {
                    tail.split_once('/').map_or(tail, |(_, rest)| rest)
                });
            format!("{} …/{path} {}", r.request.method, r.request.body)
        })
        .unwrap_or_else(|| "nothing".into())
}

/// A note when the last answer holds unpaired surrogate escapes, the way
/// a Python endpoint returns a value it cannot hold as Unicode.
fn lone_surrogates(records: &[ExchangeRecord]) -> String {
    let body = records
        .last()
        .and_then(|r| r.response.as_ref())
        .map_or("", |r| r.body.as_str());
    match crate::endpoint::lossless_json::parse(body.as_bytes()).map_or(0, |p| p.lone_surrogates) {
        0 => String::new(),
        n => format!(
            " (the answer holds {n} unpaired surrogate escape(s) (\\uD800-\\uDFFF without a pair): no Unicode string holds them)"
        ),
    }
}

fn show_map(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| format!("{map:?}"))
}
