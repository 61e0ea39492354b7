//! The recording: scenarios with real Nova's normalised answers, written to
//! `tests/data/nova-recording.json` by `contrib/differential/record.sh`,
//! replayed against any peer (the mock in `cargo test`).
//!
//! On disk every distinct set of compared headers is written once, in the
//! top-level `header_sets`; an answer names its set by index.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::http::Transport;

use super::observe::{Difference, Observation, ScenarioObservation, compare};
use super::scenario::{Peer, PeerError, Scenario, send_scenario};

/// The recording file's format version.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "StoredRecording", try_from = "StoredRecording")]
pub struct Recording {
    pub format: u32,
    /// What was recorded (e.g. `Nova 34.0.0 (contrib/nova-peer)`).
    pub recorded_from: String,
    pub scenarios: Vec<RecordedScenario>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedScenario {
    pub scenario: Scenario,
    pub observed: ScenarioObservation,
}

type HeaderSet = BTreeMap<String, String>;

/// [`Recording`] as written: header sets packed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRecording {
    format: u32,
    recorded_from: String,
    header_sets: Vec<HeaderSet>,
    scenarios: Vec<StoredScenario>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredScenario {
    scenario: Scenario,
    steps: Vec<StoredObservation>,
    stored: BTreeMap<String, StoredObservation>,
}

/// An [`Observation`] whose headers are an index into `header_sets`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredObservation {
    #[serde(flatten)]
    observation: Observation,
    header_set: usize,
}

impl From<Recording> for StoredRecording {
    fn from(recording: Recording) -> StoredRecording {
        let mut sets: Vec<HeaderSet> = Vec::new();
        let mut pack = |mut o: Observation| {
            let headers = std::mem::take(&mut o.headers);
            let index = sets.iter().position(|s| *s == headers).unwrap_or_else(|| {
                sets.push(headers);
                sets.len() - 1
            });
            StoredObservation {
                observation: o,
                header_set: index,
            }
        };
        let scenarios = recording
            .scenarios
            .into_iter()
            .map(|r| StoredScenario {
                scenario: r.scenario,
                steps: r.observed.steps.into_iter().map(&mut pack).collect(),
                stored: r
                    .observed
                    .stored
                    .into_iter()
                    .map(|(k, o)| (k, pack(o)))
                    .collect(),
            })
            .collect();
        StoredRecording {
            format: recording.format,
            recorded_from: recording.recorded_from,
            header_sets: sets,
            scenarios,
        }
    }
}

impl TryFrom<StoredRecording> for Recording {
    type Error = String;

    fn try_from(stored: StoredRecording) -> Result<Recording, String> {
        let sets = stored.header_sets;
        let unpack = |s: StoredObservation| -> Result<Observation, String> {
            let headers = sets
                .get(s.header_set)
                .ok_or_else(|| format!("header_set {} does not exist", s.header_set))?;
            Ok(Observation {
                headers: headers.clone(),
                ..s.observation
            })
        };
        let mut scenarios = Vec::new();
        for s in stored.scenarios {
            let steps = s.steps.into_iter().map(unpack).collect::<Result<_, _>>()?;
            let stored = s
                .stored
                .into_iter()
                .map(|(k, o)| unpack(o).map(|o| (k, o)))
                .collect::<Result<_, _>>()?;
            scenarios.push(RecordedScenario {
                scenario: s.scenario,
                observed: ScenarioObservation { steps, stored },
            });
        }
        Ok(Recording {
            format: stored.format,
            recorded_from: stored.recorded_from,
            scenarios,
        })
    }
}

/// Why a recording cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not a recording: {1}")]
    Parse(String, serde_json::Error),
    #[error("{0} has format {1}, this build reads {FORMAT}")]
    Format(String, u32),
}

impl Recording {
    /// The file's text: compact JSON, the header sets and each scenario on
    /// a line of its own (small, and a re-recording diffs line by line).
    pub fn to_text(&self) -> Result<String, serde_json::Error> {
        let stored = StoredRecording::from(self.clone());
        let mut out = format!(
            "{{\"format\": {},\n\"recorded_from\": {},\n\"header_sets\": {},\n\"scenarios\": [\n",
            stored.format,
            serde_json::to_string(&stored.recorded_from)?,
            serde_json::to_string(&stored.header_sets)?
        );
        let lines = stored
            .scenarios
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        out.push_str(&lines.join(",\n"));
        out.push_str("\n]}\n");
        Ok(out)
    }

    pub fn load(path: &std::path::Path) -> Result<Recording, RecordingError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| RecordingError::Read(name.clone(), e))?;
        let recording: Recording =
            serde_json::from_str(&text).map_err(|e| RecordingError::Parse(name.clone(), e))?;
        if recording.format != FORMAT {
            return Err(RecordingError::Format(name, recording.format));
        }
        Ok(recording)
    }
}

/// Send every scenario to `peer` and keep its normalised answers.
pub async fn record(
    peer: &Peer,
    transport: &Transport,
    scenarios: Vec<Scenario>,
    recorded_from: &str,
) -> Result<Recording, PeerError> {
    let mut out = Vec::new();
    for scenario in scenarios {
        let observed = observe_on(peer, transport, &scenario).await?;
        out.push(RecordedScenario { scenario, observed });
    }
    Ok(Recording {
        format: FORMAT,
        recorded_from: recorded_from.to_string(),
        scenarios: out,
    })
}

/// One scenario sent to `peer`, normalised.
pub async fn observe_on(
    peer: &Peer,
    transport: &Transport,
    scenario: &Scenario,
) -> Result<ScenarioObservation, PeerError> {
    let sent = send_scenario(peer, transport, scenario).await?;
    Ok(ScenarioObservation::from_sent(peer, &sent))
}

/// One scenario's outcome on the replayed peer.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub id: String,
    pub area: String,
    pub differences: Vec<Difference>,
}

/// Send every recorded scenario to `peer` and compare with the recording.
pub async fn replay(
    recording: &Recording,
    peer: &Peer,
    transport: &Transport,
) -> Result<Vec<Replayed>, PeerError> {
    let mut out = Vec::new();
    for recorded in &recording.scenarios {
        let got = observe_on(peer, transport, &recorded.scenario).await?;
        out.push(Replayed {
            id: recorded.scenario.id.clone(),
            area: recorded.scenario.area.clone(),
            differences: compare(&recorded.observed, &got),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::differential::wire;

    #[test]
    fn the_written_text_loads_back_the_same() {
        let observation = |status| Observation {
            status: Some(status),
            headers: BTreeMap::from([("content-type".to_string(), "application/json".to_string())]),
            body: "{}".into(),
            ..Observation::default()
        };
        let scenarios = wire::scenarios().into_iter().take(3);
        let recording = Recording {
            format: FORMAT,
            recorded_from: "test".into(),
            scenarios: scenarios
                .map(|scenario| RecordedScenario {
                    observed: ScenarioObservation {
                        steps: vec![observation(200), observation(404)],
                        stored: BTreeMap::from([("{server0}".to_string(), observation(200))]),
                    },
                    scenario,
                })
                .collect(),
        };
        let text = recording.to_text().unwrap();
        assert_eq!(text.matches("\"header_set\":0").count(), 9, "{text}");
        let back: Recording = serde_json::from_str(&text).unwrap();
        assert_eq!(back.scenarios.len(), 3);
        for (a, b) in recording.scenarios.iter().zip(&back.scenarios) {
            assert_eq!((&a.scenario, &a.observed), (&b.scenario, &b.observed));
        }
        let dangling = text.replace("\"header_set\":0", "\"header_set\":7");
        assert!(serde_json::from_str::<Recording>(&dangling).is_err());
    }
}
