//! Scenarios from the fuzzer: the metadata requests of a campaign's
//! coverage phase ([`crate::fuzz::coverage::plan`], the pairwise inputs
//! over operation, key/value place, length, unit, character class,
//! position and JSON shape), one scenario per input. Deterministic: the
//! plan depends on the profile and the shape only.
//!
//! Inputs with a server action or a concurrent step are left out (the
//! differential compares single requests in order).

use crate::cases::format::Identity;
use crate::fuzz::coverage;
use crate::fuzz::stateful::Shape;
use crate::fuzz::step::{Call, ServerPick, Step as FuzzStep};
use crate::profile::Profile;
use crate::run::stored::segments;

use super::scenario::{Scenario, Step, Who};

/// A well-formed server id no peer has.
const MISSING_SERVER: &str = "00000000-0000-4000-8000-00000000dead";

/// The shape of a campaign with every identity and two servers, no
/// server actions and no concurrent writers.
fn shape() -> Shape {
    Shape {
        own_servers: 2,
        max_steps: 8,
        identities: vec![
            Identity::Owner,
            Identity::Admin,
            Identity::Reader,
            Identity::Alt,
        ],
        actions: Vec::new(),
        replace: true,
        writers: 0,
        alt_server: true,
    }
}

/// One scenario per coverage input of `profile` (area `fuzz-coverage`).
pub fn scenarios(profile: &Profile) -> Vec<Scenario> {
    coverage::plan(profile, &shape())
        .into_iter()
        .enumerate()
        .filter_map(|(index, (_, steps))| {
            let steps: Option<Vec<Step>> = steps.iter().map(|s| step(profile, s)).collect();
            Some(Scenario {
                id: format!("fuzz:coverage.{index:03}"),
                area: "fuzz-coverage".into(),
                steps: steps?,
            })
        })
        .collect()
}

/// A fuzz step as a differential step; `None` for actions and
/// concurrent steps, and operations the profile lacks.
fn step(profile: &Profile, fuzz: &FuzzStep) -> Option<Step> {
    let Call::Meta { op, body } = &fuzz.call else {
        return None;
    };
    let spec = profile.op(op)?;
    let who = who(fuzz.who);
    let endpoint = if who == Who::Alt {
        "{alt_endpoint}"
    } else {
        "{endpoint}"
    };
    let server = match fuzz.server {
        ServerPick::Own(n) => format!("{{server{n}}}"),
        ServerPick::Missing => MISSING_SERVER.to_string(),
        ServerPick::Alt => "{alt_server0}".to_string(),
    };
    let mut path = spec.path.replace("{server}", &server);
    if let Some(key) = op.key() {
        path = path.replace("{key}", &crate::endpoint::encode_segment(key));
    }
    let bytes = body.as_ref().map(|b| b.bytes()).unwrap_or_default();
    let (text, hex) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => (String::new(), Some(hex::encode(e.into_bytes()))),
    };
    let headers = if body.is_some() {
        vec![("Content-Type".to_string(), "application/json".to_string())]
    } else {
        Vec::new()
    };
    Some(Step {
        who,
        method: spec.method.as_str().to_string(),
        url: format!("{endpoint}{path}"),
        headers,
        body: segments(&text),
        body_hex: hex,
        chunked: false,
        latin1_path: false,
        raw: false,
    })
}

fn who(identity: Identity) -> Who {
    match identity {
        Identity::Owner => Who::Member,
        Identity::Admin => Who::Admin,
        Identity::Reader => Who::Reader,
        Identity::Alt => Who::Alt,
        Identity::None => Who::Nobody,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coverage_inputs_become_templated_requests() {
        let nova = crate::profile::builtin("nova").unwrap();
        let list = scenarios(&nova);
        assert!(list.len() > 50, "{}", list.len());
        assert_eq!(list, scenarios(&nova), "deterministic");
        for s in &list {
            for step in &s.steps {
                assert!(
                    step.url.starts_with("{endpoint}/servers/")
                        || step.url.starts_with("{alt_endpoint}/servers/"),
                    "{}",
                    step.url
                );
                assert!(step.url.contains("/metadata"), "{}", step.url);
            }
        }
    }
}
