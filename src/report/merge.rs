//! Shards combined into one run (`metaconform merge`): the results files of
//! `run --partition K/N` jobs become the results of the whole selection,
//! in catalogue order, with the summary counted again. Merged results equal
//! those of one unsharded run, apart from timings and what each embedded
//! server named its servers.

use std::collections::{BTreeMap, BTreeSet};

use crate::run::results::{RunResults, Summary};

/// Why shards cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: name the shards' results files")]
    Empty,
    #[error(
        "the shards are of different runs: {what} is {first} in the first and {other} in another"
    )]
    Different {
        what: &'static str,
        first: String,
        other: String,
    },
    #[error(
        "case '{0}' is in two shards: were the shards made with the same --partition scheme and N?"
    )]
    Duplicate(String),
    #[error("{0}: write each shard with `run --partition SCHEME:K/N` and merge all N of them")]
    Shards(String),
}

/// Every shard must say which it is, of the same scheme and N, and all N
/// must be there: a shard that never uploaded would otherwise merge into a
/// green run with its cases silently missing.
fn complete(shards: &[RunResults]) -> Result<(), MergeError> {
    let mut seen = BTreeSet::new();
    let mut family = None;
    for shard in shards {
        let named = shard.run.partition.as_deref().ok_or_else(|| {
            MergeError::Shards("a results file says it is no shard (it has no partition)".into())
        })?;
        let parsed: crate::cases::partition::Partition =
            named.parse().map_err(MergeError::Shards)?;
        let this = (parsed.scheme, parsed.of);
        if *family.get_or_insert(this) != this {
            return Err(MergeError::Shards(format!(
                "shards of different partitions ({named} and another)"
            )));
        }
        if !seen.insert(parsed.shard) {
            return Err(MergeError::Shards(format!("shard {named} is given twice")));
        }
    }
    if let Some((_, of)) = family {
        let missing: Vec<String> = (1..=of)
            .filter(|k| !seen.contains(k))
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(MergeError::Shards(format!(
                "shard(s) {} of {of} missing",
                missing.join(", ")
            )));
        }
    }
    Ok(())
}

/// Merge `shards`; `order` lists case ids in the order one unsharded run
/// reports them (ids not in it go last, by id).
pub fn merge(shards: Vec<RunResults>, order: &[String]) -> Result<RunResults, MergeError> {
    complete(&shards)?;
    let mut shards = shards.into_iter();
    let mut merged = shards.next().ok_or(MergeError::Empty)?;
    let mut seen: BTreeSet<String> = merged.cases.iter().map(|c| c.id.clone()).collect();
    for shard in shards {
        same_run(&merged, &shard)?;
        if shard.run.started_at < merged.run.started_at {
            merged.run.started_at = shard.run.started_at.clone();
        }
        merged.run.duration_ms = merged.run.duration_ms.max(shard.run.duration_ms);
        // One interrupted shard leaves the whole run incomplete.
        merged.run.interrupted |= shard.run.interrupted;
        for case in shard.cases {
            if !seen.insert(case.id.clone()) {
                // Each shard checks the runner's setup primitives itself:
                // one root cause, however many shards found it.
                if case.id.starts_with("setup::") {
                    continue;
                }
                return Err(MergeError::Duplicate(case.id));
            }
            merged.cases.push(case);
        }
    }
    merged.run.partition = None;
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    merged.cases.sort_by(|a, b| {
        let at = |id: &str| rank.get(id).copied().unwrap_or(usize::MAX);
        at(&a.id).cmp(&at(&b.id)).then_with(|| a.id.cmp(&b.id))
    });
    let mut summary = Summary::default();
    for case in &merged.cases {
        summary.count(case);
    }
    merged.summary = summary;
    Ok(merged)
}

fn same_run(first: &RunResults, other: &RunResults) -> Result<(), MergeError> {
    let differ = |what, a: &str, b: &str| {
        (a != b).then(|| MergeError::Different {
            what,
            first: a.to_string(),
            other: b.to_string(),
        })
    };
    let (a, b) = (&first.run, &other.run);
    let embedded = |e: bool| if e { "embedded" } else { "an endpoint" };
    let strictness = |s: bool| if s { "strict" } else { "lenient" };
    let checks = [
        differ("the dialect", &a.dialect, &b.dialect),
        differ(
            "the metaconform version",
            &a.metaconform_version,
            &b.metaconform_version,
        ),
        differ("the target", embedded(a.embedded), embedded(b.embedded)),
        differ("--strict", strictness(a.strict), strictness(b.strict)),
        // Each embedded run has its own server and port.
        (!a.embedded)
            .then(|| differ("the endpoint", &a.endpoint, &b.endpoint))
            .flatten(),
    ];
    match checks.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
