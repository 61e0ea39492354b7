//! The checked-in list of known divergences between real Nova and the mock
//! (`contrib/differential/known-divergences.yaml`), and the verdict of a
//! replay against it: a disagreement not listed fails, and so does a listed
//! one that no longer occurs exactly as listed (the list only shrinks
//! honestly).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::observe::Field;
use super::recording::Replayed;

/// One group of scenarios that disagree for one reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDivergence {
    /// The area of the model or transport it is about.
    pub area: String,
    /// Why the mock does not agree (real Nova's 500, lost write, or a
    /// behaviour not yet modelled).
    pub reason: String,
    /// Exactly the fields that differ in each listed scenario.
    pub fields: BTreeSet<Field>,
    pub scenarios: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: {1}")]
    Parse(String, String),
    #[error("{0}: scenario {1} is listed twice")]
    Twice(String, String),
}

/// Load the list; a scenario may be in one group only.
pub fn load(path: &std::path::Path) -> Result<Vec<KnownDivergence>, KnownError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| KnownError::Read(name.clone(), e))?;
    let list: Vec<KnownDivergence> = serde_saphyr::from_str(&text)
        .map_err(|e| KnownError::Parse(name.clone(), e.to_string()))?;
    let mut seen = BTreeSet::new();
    for id in list.iter().flat_map(|k| &k.scenarios) {
        if !seen.insert(id) {
            return Err(KnownError::Twice(name, id.clone()));
        }
    }
    Ok(list)
}

/// What a replay says against the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    /// Differs exactly as listed.
    Known,
    /// Differs and is not listed.
    New {
        fields: BTreeSet<Field>,
    },
    /// Listed, but agrees now or differs in other fields.
    Stale {
        listed: BTreeSet<Field>,
        now: BTreeSet<Field>,
    },
}

/// The verdict of each replayed scenario.
pub fn judge(replayed: &Replayed, known: &[KnownDivergence]) -> Verdict {
    let now: BTreeSet<Field> = replayed.differences.iter().map(|d| d.field).collect();
    let listed = known.iter().find(|k| k.scenarios.contains(&replayed.id));
    match (listed, now.is_empty()) {
        (None, true) => Verdict::Agrees,
        (None, false) => Verdict::New { fields: now },
        (Some(k), _) if k.fields == now => Verdict::Known,
        (Some(k), _) => Verdict::Stale {
            listed: k.fields.clone(),
            now,
        },
    }
}

/// Listed scenarios the replay does not have (renamed or dropped).
pub fn unknown_ids(replayed: &[Replayed], known: &[KnownDivergence]) -> Vec<String> {
    let ids: BTreeSet<&String> = replayed.iter().map(|r| &r.id).collect();
    known
        .iter()
        .flat_map(|k| &k.scenarios)
        .filter(|id| !ids.contains(id))
        .cloned()
        .collect()
}

/// Counts of one area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaCount {
    pub scenarios: usize,
    pub agree: usize,
    pub known: usize,
    pub new: usize,
    pub stale: usize,
}

/// Per area, and the lines of the summary.
pub fn summary(
    replayed: &[Replayed],
    known: &[KnownDivergence],
) -> (BTreeMap<String, AreaCount>, String) {
    let mut areas: BTreeMap<String, AreaCount> = BTreeMap::new();
    for r in replayed {
        let count = areas.entry(r.area.clone()).or_default();
        count.scenarios += 1;
        match judge(r, known) {
            Verdict::Agrees => count.agree += 1,
            Verdict::Known => count.known += 1,
            Verdict::New { .. } => count.new += 1,
            Verdict::Stale { .. } => count.stale += 1,
        }
    }
    let mut text = format!(
        "{:<24} {:>9} {:>7} {:>7} {:>5} {:>6}\n",
        "area", "scenarios", "agree", "known", "new", "stale"
    );
    let mut total = AreaCount::default();
    for (area, c) in &areas {
        text.push_str(&format!(
            "{area:<24} {:>9} {:>7} {:>7} {:>5} {:>6}\n",
            c.scenarios, c.agree, c.known, c.new, c.stale
        ));
        total.scenarios += c.scenarios;
        total.agree += c.agree;
        total.known += c.known;
        total.new += c.new;
        total.stale += c.stale;
    }
    text.push_str(&format!(
        "{:<24} {:>9} {:>7} {:>7} {:>5} {:>6}\n",
        "total", total.scenarios, total.agree, total.known, total.new, total.stale
    ));
    (areas, text)
}

/// The detail of every scenario that fails the check, one block each.
pub fn failures(replayed: &[Replayed], known: &[KnownDivergence]) -> Vec<String> {
    let mut out = Vec::new();
    for r in replayed {
        let head = match judge(r, known) {
            Verdict::Agrees | Verdict::Known => continue,
            Verdict::New { fields } => format!("NEW {} ({}): differs in {fields:?}", r.id, r.area),
            Verdict::Stale { listed, now } => {
                format!(
                    "STALE {} ({}): listed as {listed:?}, differs now in {now:?}",
                    r.id, r.area
                )
            }
        };
        let mut block = head;
        for d in &r.differences {
            block.push_str(&format!(
                "\n    step {:?} {:?} {}: nova {} | mock {}",
                d.step, d.field, d.what, d.expected, d.got
            ));
        }
        out.push(block);
    }
    for id in unknown_ids(replayed, known) {
        out.push(format!(
            "UNKNOWN listed scenario {id}: not in the recording"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::differential::observe::Difference;

    fn replayed(id: &str, fields: &[Field]) -> Replayed {
        Replayed {
            id: id.into(),
            area: "a".into(),
            differences: fields
                .iter()
                .map(|&field| Difference {
                    step: Some(1),
                    field,
                    what: String::new(),
                    expected: "x".into(),
                    got: "y".into(),
                })
                .collect(),
        }
    }

    fn listed(id: &str, fields: &[Field]) -> Vec<KnownDivergence> {
        vec![KnownDivergence {
            area: "a".into(),
            reason: "r".into(),
            fields: fields.iter().copied().collect(),
            scenarios: vec![id.into()],
        }]
    }

    #[test]
    fn only_an_exact_listing_excuses_and_a_fixed_one_is_stale() {
        let known = listed("s", &[Field::Status, Field::Message]);
        assert_eq!(judge(&replayed("t", &[]), &known), Verdict::Agrees);
        assert_eq!(
            judge(&replayed("s", &[Field::Message, Field::Status]), &known),
            Verdict::Known
        );
        assert!(matches!(
            judge(&replayed("t", &[Field::Body]), &known),
            Verdict::New { .. }
        ));
        assert!(matches!(
            judge(&replayed("s", &[]), &known),
            Verdict::Stale { .. }
        ));
        assert!(matches!(
            judge(&replayed("s", &[Field::Message]), &known),
            Verdict::Stale { .. }
        ));
        assert_eq!(
            failures(&[replayed("s", &[Field::Status, Field::Message])], &known),
            Vec::<String>::new()
        );
        assert_eq!(
            unknown_ids(&[replayed("t", &[])], &known),
            vec!["s".to_string()]
        );
    }

    #[test]
    fn the_summary_counts_per_area() {
        let known = listed("s", &[Field::Header]);
        let all = [
            replayed("s", &[Field::Header]),
            replayed("t", &[]),
            replayed("u", &[Field::Body]),
        ];
        let (areas, text) = summary(&all, &known);
        let a = &areas["a"];
        assert_eq!(
            (a.scenarios, a.agree, a.known, a.new, a.stale),
            (3, 1, 1, 1, 0)
        );
        assert!(
            text.lines().last().unwrap_or_default().starts_with("total"),
            "{text}"
        );
    }
}
