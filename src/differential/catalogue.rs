//! Scenarios from a catalogue run: every metadata request a `metaconform
//! run` made (its `--json` results), one scenario per case, with the ids of
//! the endpoint it ran against turned into templates.
//!
//! Server actions, polling and flavor reads are left out: they depend on
//! timing, and both peers then see the same unlocked, active servers, so
//! the metadata requests stay comparable.

use crate::run::results::{CaseResult, RunResults};
use crate::run::stored::segments;

use super::scenario::{Peer, Scenario, Step, Who};

/// Headers the sender sets itself.
const DROPPED_HEADERS: &[&str] = &["host", "content-length", "connection"];

/// One scenario per case that sent a metadata request.
pub fn scenarios(results: &RunResults, ran_against: &Peer) -> Vec<Scenario> {
    results
        .cases
        .iter()
        .filter_map(|case| scenario(case, ran_against))
        .collect()
}

/// The scenarios of a `--dialect nova-legacy` run against the legacy `/v2`
/// API (spec §6.1; URLs `{root}/v2/{project}/...`): id prefixed `v2:`, area
/// `v2-<area>`, so they stand apart from the v2.1 ones.
pub fn legacy_scenarios(results: &RunResults, ran_against: &Peer) -> Vec<Scenario> {
    scenarios(results, ran_against)
        .into_iter()
        .map(|s| Scenario {
            id: format!("v2:{}", s.id),
            area: format!("v2-{}", s.area),
            steps: s.steps,
        })
        .collect()
}

fn scenario(case: &CaseResult, peer: &Peer) -> Option<Scenario> {
    let steps: Vec<Step> = case
        .exchanges
        .iter()
        .filter(|x| is_metadata_url(&x.request.url))
        .map(|x| {
            let who = who(x.token_var.as_deref());
            let headers = x
                .request
                .headers
                .iter()
                .filter(|(name, _)| is_replayed_header(name, who))
                .cloned()
                .collect();
            Step {
                who,
                method: x.request.method.clone(),
                url: peer.templated(&x.request.url),
                headers,
                body: segments(&x.request.body),
                body_hex: x.request.body_hex.clone(),
                chunked: false,
                latin1_path: false,
                raw: false,
            }
        })
        .collect();
    (!steps.is_empty()).then(|| Scenario {
        id: case.id.clone(),
        area: case.area.clone(),
        steps,
    })
}

/// Whether a recorded request header is sent again: not one the sender
/// sets, and not the token of an identity (the peer's own is added).
fn is_replayed_header(name: &str, who: Who) -> bool {
    let name = name.to_ascii_lowercase();
    let sender_sets = DROPPED_HEADERS.contains(&name.as_str());
    let identity_token = who != Who::Nobody && name == "x-auth-token";
    !sender_sets && !identity_token
}

/// `/servers/{id}/metadata` and below (not actions, shows or tags).
fn is_metadata_url(url: &str) -> bool {
    crate::endpoint::http::raw_path(url)
        .split('/')
        .collect::<Vec<_>>()
        .windows(3)
        .any(|w| w[0] == "servers" && w[2] == "metadata")
}

/// The identity whose token the results name.
fn who(token_var: Option<&str>) -> Who {
    match token_var {
        Some("OS_TOKEN") => Who::Member,
        Some("METACONFORM_ADMIN_TOKEN") => Who::Admin,
        Some("METACONFORM_READER_TOKEN") => Who::Reader,
        Some("METACONFORM_ALT_TOKEN") => Who::Alt,
        _ => Who::Nobody,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_metadata_urls_are_kept() {
        assert!(is_metadata_url("http://h/v2.1/p/servers/s/metadata"));
        assert!(is_metadata_url("http://h/v2.1/p/servers/s/metadata/k%2F"));
        assert!(!is_metadata_url("http://h/v2.1/p/servers/s/action"));
        assert!(!is_metadata_url("http://h/v2.1/p/servers/s"));
        assert!(!is_metadata_url("http://h/v2.1/p/servers/s/tags/metadata"));
    }

    #[test]
    fn tokens_name_identities() {
        assert_eq!(who(Some("METACONFORM_ALT_TOKEN")), Who::Alt);
        assert_eq!(who(None), Who::Nobody);
    }
}
