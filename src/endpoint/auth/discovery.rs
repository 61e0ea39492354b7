//! The microversion range a compute endpoint announces (spec §6.2): `GET
//! {root}/v2.1/` → `{"version": {"version": max, "min_version": min}}`,
//! else `GET {root}/` → `{"versions": [...]}` (the `v2.1` or `CURRENT`
//! entry). What `--microversion latest` resolves to.

use crate::endpoint::http::{RecordedRequest, Transport};
use crate::model::microversion::Microversion;

/// Why the range is unknown.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot read the compute version document at {url}: {problem}")]
    Unreadable { url: String, problem: String },
    #[error(
        "the compute version document at {url} announces no microversions (version \"{version}\")"
    )]
    NoMicroversions { url: String, version: String },
}

/// `(min_version, version)` the endpoint whose version root is `root`
/// announces; `token` is sent if given (Nova needs none).
pub async fn microversion_range(
    transport: &Transport,
    root: &str,
    token: Option<&str>,
) -> Result<(Microversion, Microversion), DiscoveryError> {
    let root = root.trim_end_matches('/');
    let doc_url = format!("{root}/v2.1/");
    let first = get(transport, &doc_url, token).await;
    let (url, entry) = match first.as_ref().ok().and_then(|d| d.get("version").cloned()) {
        Some(entry) => (doc_url, entry),
        None => {
            let list_url = format!("{root}/");
            let list = get(transport, &list_url, token).await?;
            let entries = list["versions"].as_array().cloned().unwrap_or_default();
            let entry = entries
                .iter()
                .find(|e| e["id"] == "v2.1")
                .or_else(|| entries.iter().find(|e| e["status"] == "CURRENT"))
                .cloned()
                .ok_or_else(|| DiscoveryError::Unreadable {
                    url: list_url.clone(),
                    problem: match &first {
                        Err(e) => format!("no v2.1 entry (and {e})"),
                        Ok(_) => "no v2.1 entry".into(),
                    },
                })?;
            (list_url, entry)
        }
    };
    let version = entry["version"].as_str().unwrap_or_default().to_string();
    let max = Microversion::parse(&version).ok_or_else(|| DiscoveryError::NoMicroversions {
        url: url.clone(),
        version: version.clone(),
    })?;
    let min = entry["min_version"]
        .as_str()
        .and_then(Microversion::parse)
        .unwrap_or(Microversion::BASE);
    Ok((min, max))
}

async fn get(
    transport: &Transport,
    url: &str,
    token: Option<&str>,
) -> Result<serde_json::Value, DiscoveryError> {
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    if let Some(token) = token {
        headers.push(("X-Auth-Token".into(), token.into()));
    }
    let exchange = transport
        .send(RecordedRequest {
            method: "GET".into(),
            url: url.to_string(),
            headers,
            body: Vec::new(),
        })
        .await;
    let unreadable = |problem: String| DiscoveryError::Unreadable {
        url: url.to_string(),
        problem,
    };
    let response = exchange
        .response
        .ok_or_else(|| unreadable(exchange.error.unwrap_or_default()))?;
    if !(200..300).contains(&response.status) && response.status != 300 {
        return Err(unreadable(format!("status {}", response.status)));
    }
    response
        .json()
        .ok_or_else(|| unreadable("the body is not JSON".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::auth::fake::{FakeKeystone, Reply};
    use std::time::Duration;

    #[tokio::test]
    async fn the_v2_1_document_gives_the_range() {
        let server = FakeKeystone::with(|_, path, _| match path {
            "/compute/v2.1/" => Reply {
                status: 200,
                headers: vec![],
                body: r#"{"version": {"id": "v2.1", "version": "2.60", "min_version": "2.1"}}"#
                    .into(),
            },
            _ => Reply {
                status: 404,
                headers: vec![],
                body: "{}".into(),
            },
        })
        .await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let range = microversion_range(&transport, &format!("{}/compute", server.url()), None)
            .await
            .unwrap();
        assert_eq!(range, (Microversion::new(2, 1), Microversion::new(2, 60)));
    }

    #[tokio::test]
    async fn the_version_list_is_the_fallback() {
        let server = FakeKeystone::with(|_, path, _| match path {
            "/" => Reply {
                status: 300,
                headers: vec![],
                body: r#"{"versions": [{"id": "v2.0", "version": ""},
                          {"id": "v2.1", "status": "CURRENT", "version": "2.104", "min_version": "2.1"}]}"#
                    .into(),
            },
            _ => Reply { status: 404, headers: vec![], body: "{}".into() },
        })
        .await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let range = microversion_range(&transport, &server.url(), None)
            .await
            .unwrap();
        assert_eq!(range.1, Microversion::new(2, 104));
    }
}
