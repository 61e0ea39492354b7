//! Shrinking a failing sequence: delta debugging over the steps, then
//! simplifying each step (smaller maps, shorter values, plainer identities),
//! within a time and run budget.
//!
//! A candidate is kept only if it fails *for the same reason* (same step kind
//! and same mismatch class, [`Cause`]). After shrinking, the minimal sequence
//! is run once more from a fresh reset and must fail the same way again; if
//! it does not, the result says so (`reproduced: false`) instead of
//! presenting a sequence that no longer shows the bug.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::driver::{Driver, DriverError};
use super::stateful::{Cause, Execution, Finding, execute};
use super::step::{
    Body, Call, ConcurrentVia, ServerPick, Step, Write, uniform_form, uniform_writes,
};
use crate::cases::format::Identity;
use crate::model::pipeline::Op;

/// Limits on one shrink.
#[derive(Debug, Clone, Copy)]
pub struct ShrinkLimits {
    pub budget: Duration,
    pub max_runs: usize,
}

impl Default for ShrinkLimits {
    fn default() -> Self {
        ShrinkLimits {
            budget: Duration::from_secs(20),
            max_runs: 400,
        }
    }
}

/// The result of shrinking.
#[derive(Debug, Clone)]
pub struct Shrunk {
    pub steps: Vec<Step>,
    /// The re-check run of `steps`.
    pub execution: Execution,
    pub finding: Finding,
    /// The re-check failed for the same reason.
    pub reproduced: bool,
    /// Sequence runs spent shrinking.
    pub runs: usize,
    pub original_len: usize,
}

struct Shrinker<'a> {
    driver: &'a mut Driver,
    servers: &'a [String],
    cause: Cause,
    started: Instant,
    limits: ShrinkLimits,
    runs: usize,
    tries: usize,
}

impl Shrinker<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.limits.max_runs || self.started.elapsed() >= self.limits.budget
    }

    /// Run `candidate`; `Some` (truncated after the failing step) if it fails
    /// for the same reason.
    async fn same_failure(
        &mut self,
        candidate: &[Step],
    ) -> Result<Option<(Vec<Step>, Execution)>, DriverError> {
        for _ in 0..self.tries {
            self.runs += 1;
            let run = execute(self.driver, self.servers, candidate).await?;
            if let Some(finding) = &run.finding
                && finding.cause() == self.cause
            {
                let kept = candidate[..=finding.step].to_vec();
                return Ok(Some((kept, run)));
            }
        }
        Ok(None)
    }
}

/// Shrink `steps`, which failed with `finding`.
pub async fn shrink(
    driver: &mut Driver,
    servers: &[String],
    steps: &[Step],
    finding: &Finding,
    limits: ShrinkLimits,
) -> Result<Shrunk, DriverError> {
    let flaky = steps
        .iter()
        .any(|s| matches!(s.call, Call::Concurrent { .. }));
    let mut shrinker = Shrinker {
        driver,
        servers,
        cause: finding.cause(),
        started: Instant::now(),
        limits,
        runs: 0,
        tries: if flaky { 3 } else { 1 },
    };
    let keep = (finding.step + 1).min(steps.len());
    let mut current: Vec<Step> = steps[..keep].to_vec();
    if let Some((sequential, cause)) = one_by_one(&mut shrinker, &current).await? {
        current = sequential;
        shrinker.cause = cause;
        shrinker.tries = 1;
    }
    current = delta_debug(&mut shrinker, current).await?;
    current = simplify_steps(&mut shrinker, current).await?;
    // Re-check from a fresh reset: the minimal case must still fail the same way.
    let recheck = shrinker.same_failure(&current).await?;
    let (steps_out, execution, reproduced) = match recheck {
        Some((kept, run)) => (kept, run, true),
        None => {
            let run = execute(shrinker.driver, servers, steps).await?;
            (steps.to_vec(), run, false)
        }
    };
    let finding = execution.finding.clone().unwrap_or_else(|| finding.clone());
    Ok(Shrunk {
        steps: steps_out,
        execution,
        finding,
        reproduced,
        runs: shrinker.runs,
        original_len: steps.len(),
    })
}

/// A concurrent step's finding that its writes also show sent one by one
/// is a finding about the writes, not about concurrency. Tried: the steps
/// before it followed by its writes in order, then its writes alone; the
/// first of these that fails in one of the writes, cut after it, and the
/// cause it fails with (`None` when neither does).
async fn one_by_one(
    shrinker: &mut Shrinker<'_>,
    steps: &[Step],
) -> Result<Option<(Vec<Step>, Cause)>, DriverError> {
    let Some((last, before)) = steps.split_last() else {
        return Ok(None);
    };
    let Call::Concurrent { writes } = &last.call else {
        return Ok(None);
    };
    let alone: Vec<Step> = writes
        .iter()
        .map(|w| Step {
            who: last.who,
            server: last.server,
            call: Call::Meta {
                op: w.op.clone(),
                body: w.body(),
            },
        })
        .collect();
    let after_the_rest = [before, &alone].concat();
    for (candidate, first_write) in [(after_the_rest, before.len()), (alone, 0)] {
        if shrinker.exhausted() {
            break;
        }
        shrinker.runs += 1;
        let run = execute(shrinker.driver, shrinker.servers, &candidate).await?;
        if let Some(finding) = run.finding.filter(|f| f.step >= first_write) {
            return Ok(Some((candidate[..=finding.step].to_vec(), finding.cause())));
        }
    }
    Ok(None)
}

/// Classic ddmin over the steps: remove chunks while the failure stays.
async fn delta_debug(
    shrinker: &mut Shrinker<'_>,
    mut steps: Vec<Step>,
) -> Result<Vec<Step>, DriverError> {
    let mut n = 2usize;
    while steps.len() >= 2 && !shrinker.exhausted() {
        let chunk = steps.len().div_ceil(n);
        let mut reduced = false;
        for i in 0..n {
            let start = i * chunk;
            if start >= steps.len() {
                break;
            }
            let end = (start + chunk).min(steps.len());
            let candidate: Vec<Step> = steps[..start]
                .iter()
                .chain(&steps[end..])
                .cloned()
                .collect();
            if candidate.is_empty() || shrinker.exhausted() {
                continue;
            }
            if let Some((kept, _)) = shrinker.same_failure(&candidate).await? {
                steps = kept;
                reduced = true;
                break;
            }
        }
        if reduced {
            n = (n - 1).max(2);
        } else {
            if n >= steps.len() {
                break;
            }
            n = (n * 2).min(steps.len());
        }
    }
    Ok(steps)
}

/// Replace steps by simpler versions while the failure stays.
async fn simplify_steps(
    shrinker: &mut Shrinker<'_>,
    mut steps: Vec<Step>,
) -> Result<Vec<Step>, DriverError> {
    let mut progress = true;
    while progress && !shrinker.exhausted() {
        progress = false;
        let mut index = 0;
        while index < steps.len() {
            for simpler in simpler_versions(&steps[index]) {
                if shrinker.exhausted() {
                    return Ok(steps);
                }
                let mut candidate = steps.clone();
                candidate[index] = simpler;
                if let Some((kept, _)) = shrinker.same_failure(&candidate).await? {
                    steps = kept;
                    progress = true;
                    break;
                }
            }
            index += 1;
        }
    }
    Ok(steps)
}

/// Simpler variants of one step, most aggressive first.
pub fn simpler_versions(step: &Step) -> Vec<Step> {
    let mut out = Vec::new();
    if matches!(step.who, Identity::Admin | Identity::Reader) {
        out.push(Step {
            who: Identity::Owner,
            ..step.clone()
        });
    }
    if matches!(step.server, ServerPick::Own(i) if i > 0) {
        out.push(Step {
            server: ServerPick::Own(0),
            ..step.clone()
        });
    }
    match &step.call {
        Call::Meta {
            op,
            body: Some(Body::Json(body)),
        } => {
            for simpler in simpler_bodies(body) {
                out.push(Step {
                    call: Call::Meta {
                        op: op.clone(),
                        body: Some(Body::Json(simpler)),
                    },
                    ..step.clone()
                });
            }
        }
        Call::Concurrent { writes } => {
            for simpler in simpler_concurrent(writes) {
                out.push(Step {
                    call: Call::Concurrent { writes: simpler },
                    ..step.clone()
                });
            }
        }
        _ => {}
    }
    out
}

/// Simpler writes for a concurrent step: first the case-file form (every
/// writer merges, or sets, a distinct key: a case file can hold only that),
/// then fewer writers.
fn simpler_concurrent(writes: &[Write]) -> Vec<Vec<Write>> {
    let mut out = Vec::new();
    match uniform_form(writes) {
        Some((via, prefix)) if writes.len() > 2 => {
            out.push(uniform_writes(via, &prefix, (writes.len() / 2).max(2)));
        }
        Some(_) => {}
        None => {
            if let Some(prefix) = own_prefix(writes) {
                for via in [ConcurrentVia::Merge, ConcurrentVia::Set] {
                    out.push(uniform_writes(via, &prefix, writes.len()));
                }
            }
            if writes.len() > 2 {
                for i in 0..writes.len() {
                    let mut fewer = writes.to_vec();
                    fewer.remove(i);
                    out.push(fewer);
                }
            }
        }
    }
    out
}

/// The `{prefix}` of the step's own `{prefix}{i:03}` keys.
fn own_prefix(writes: &[Write]) -> Option<String> {
    writes.iter().find_map(|w| {
        let key = match &w.op {
            Op::Set(k) | Op::Delete(k) => k.clone(),
            _ => w
                .body
                .as_ref()?
                .get("metadata")?
                .as_object()?
                .keys()
                .next()?
                .clone(),
        };
        let cut = key.len().checked_sub(3)?;
        let digits = key.get(cut..)?;
        let prefix = key.get(..cut)?;
        (digits.bytes().all(|b| b.is_ascii_digit()) && !prefix.is_empty())
            .then(|| prefix.to_string())
    })
}

/// Smaller maps and shorter values inside `{"metadata"|"meta": {...}}`.
fn simpler_bodies(body: &Value) -> Vec<Value> {
    let Some((field, Value::Object(entries))) = body
        .as_object()
        .filter(|top| top.len() == 1)
        .and_then(|top| top.iter().next())
    else {
        return Vec::new();
    };
    let wrap = |m: Map<String, Value>| {
        let mut top = Map::new();
        top.insert(field.clone(), Value::Object(m));
        Value::Object(top)
    };
    let mut out = Vec::new();
    let keys: Vec<&String> = entries.keys().collect();
    if field == "metadata" && keys.len() > 1 {
        let half = keys.len() / 2;
        for part in [&keys[..half], &keys[half..]] {
            out.push(wrap(
                entries
                    .iter()
                    .filter(|(k, _)| part.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ));
        }
        if keys.len() <= 8 {
            for k in &keys {
                let mut m = entries.clone();
                m.remove(*k);
                out.push(wrap(m));
            }
        }
    }
    for (k, v) in entries {
        for shorter in simpler_values(v) {
            let mut m = entries.clone();
            m.insert(k.clone(), shorter);
            out.push(wrap(m));
        }
    }
    out
}

fn simpler_values(v: &Value) -> Vec<Value> {
    match v {
        Value::String(s) if !s.is_empty() => {
            let chars: Vec<char> = s.chars().collect();
            let mut out = vec![Value::String(String::new())];
            if chars.len() > 1 {
                out.push(Value::String(chars[..chars.len() / 2].iter().collect()));
                out.push(Value::String(chars[..chars.len() - 1].iter().collect()));
            }
            out
        }
        Value::String(_) => Vec::new(),
        Value::Array(_) | Value::Object(_) if v != &Value::Null => vec![Value::Null],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pipeline::Op;

    #[test]
    fn simpler_versions_shrink_maps_values_and_identities() {
        let body = serde_json::json!({"metadata": {"a": "xyz", "b": "1", "c": [1]}});
        let step = Step::meta(Identity::Admin, ServerPick::Own(1), Op::Merge, Some(body));
        let variants = simpler_versions(&step);
        assert_eq!(variants[0].who, Identity::Owner);
        assert_eq!(variants[1].server, ServerPick::Own(0));
        let bodies: Vec<String> = variants
            .iter()
            .filter_map(|s| match &s.call {
                Call::Meta {
                    body: Some(Body::Json(b)),
                    ..
                } => Some(b.to_string()),
                _ => None,
            })
            .collect();
        assert!(
            bodies.contains(&r#"{"metadata":{"a":"xyz"}}"#.to_string()),
            "{bodies:?}"
        );
        assert!(
            bodies.contains(&r#"{"metadata":{"a":"x","b":"1","c":[1]}}"#.to_string()),
            "{bodies:?}"
        );
        assert!(
            bodies.contains(&r#"{"metadata":{"a":"xyz","b":"1","c":null}}"#.to_string()),
            "{bodies:?}"
        );
    }

    fn writes_of(step: &Step) -> Vec<Write> {
        match &step.call {
            Call::Concurrent { writes } => writes.clone(),
            other => panic!("not concurrent: {other:?}"),
        }
    }

    #[test]
    fn a_mixed_concurrent_step_is_first_offered_in_the_case_file_form() {
        let writes = vec![
            Write::merge("zab000", "v0"),
            Write::delete("zab000"),
            Write::set("zab001", "v2"),
        ];
        let step = Step {
            who: Identity::Owner,
            server: ServerPick::Own(0),
            call: Call::Concurrent { writes },
        };
        let variants = simpler_versions(&step);
        let first = writes_of(&variants[0]);
        assert_eq!(
            uniform_form(&first),
            Some((ConcurrentVia::Merge, "zab".into()))
        );
        assert_eq!(first.len(), 3);
        let second = writes_of(&variants[1]);
        assert_eq!(
            uniform_form(&second),
            Some((ConcurrentVia::Set, "zab".into()))
        );
        // then each write left out in turn
        assert_eq!(variants.len(), 2 + 3);
        assert!(variants[2..].iter().all(|v| writes_of(v).len() == 2));
    }

    #[test]
    fn a_case_file_concurrent_step_shrinks_to_half_its_writers() {
        let step = Step {
            who: Identity::Owner,
            server: ServerPick::Own(0),
            call: Call::Concurrent {
                writes: uniform_writes(ConcurrentVia::Set, "zq", 6),
            },
        };
        let variants = simpler_versions(&step);
        assert_eq!(variants.len(), 1);
        assert_eq!(
            writes_of(&variants[0]),
            uniform_writes(ConcurrentVia::Set, "zq", 3)
        );
    }
}
