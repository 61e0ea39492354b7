//! Turning raw exchanges into records safe to write anywhere.
//!
//! Every credential the run knows is replaced wherever it appears (a URL,
//! a header of either side, a body, an error) by
//! [`crate::endpoint::secrets::Scrubber`]; the `X-Auth-Token` a request
//! carried is shown as the variable that holds the identity's token
//! (`$OS_TOKEN`). [`Redactor::case`] does the same for everything else a
//! case result holds, at the one place results reach the reporters.

use crate::cases::format::Identity;
use crate::endpoint::Credentials;
use crate::endpoint::http::Exchange;
use crate::endpoint::secrets::Scrubber;

use super::results::{CaseResult, ExchangeRecord, Purpose, RequestRecord, ResponseRecord, millis};
use super::token_var;

/// Known secrets and their placeholders.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    scrubber: Scrubber,
}

impl Redactor {
    pub fn new(creds: &Credentials) -> Self {
        Redactor {
            scrubber: Scrubber::new(creds),
        }
    }

    /// `text` with every known secret replaced.
    pub fn text(&self, text: &str) -> String {
        self.scrubber.text(text)
    }

    /// The secrets this redactor replaces.
    pub fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }

    /// `result` with every known secret replaced in every string it holds
    /// that can quote the endpoint: the failure (it quotes answers too) and
    /// the skip reason and every exchange (recorded through [`Redactor::record`]
    /// already; scrubbed again here so no path around it can leak).
    pub fn case(&self, mut result: CaseResult) -> CaseResult {
        if self.scrubber.is_empty() {
            return result;
        }
        let s = &self.scrubber;
        result.skip_reason = result.skip_reason.map(|r| s.text(&r));
        if let Some(failure) = &mut result.failure {
            failure.scrub(&|text| s.text(text));
        }
        result.known_reason = result.known_reason.map(|r| s.text(&r));
        for record in &mut result.exchanges {
            let request = &mut record.request;
            request.url = s.text(&request.url);
            request.headers = s.headers(&request.headers);
            request.body = s.text(&request.body);
            if let Some(response) = &mut record.response {
                response.headers = s.headers(&response.headers);
                response.body = s.text(&response.body);
            }
            record.error = record.error.as_ref().map(|e| s.text(e));
        }
        result
    }

    /// `(text, hex)`: the body as text, plus its exact bytes when they are
    /// not UTF-8 (secrets are replaced in the bytes too).
    fn body(&self, bytes: &[u8]) -> (String, Option<String>) {
        let bytes = self.scrubber.bytes(bytes);
        match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let bytes = e.into_bytes();
                (
                    String::from_utf8_lossy(&bytes).into_owned(),
                    Some(hex::encode(&bytes)),
                )
            }
        }
    }

    /// A record of `exchange`, safe for reports.
    pub fn record(
        &self,
        exchange: &Exchange,
        purpose: Purpose,
        step: Option<usize>,
        identity: Identity,
    ) -> ExchangeRecord {
        let (body, body_hex) = self.body(&exchange.request.body);
        let var = token_var(identity).unwrap_or("OS_TOKEN");
        let headers = self
            .scrubber
            .headers(&exchange.request.headers)
            .into_iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("x-auth-token") {
                    (n, format!("${var}"))
                } else {
                    (n, v)
                }
            })
            .collect();
        let request = RequestRecord {
            method: exchange.request.method.clone(),
            url: self.text(&exchange.request.url),
            headers,
            body,
            body_hex,
        };
        let response = exchange.response.as_ref().map(|r| {
            let (body, body_hex) = self.body(&r.body);
            ResponseRecord {
                status: r.status,
                headers: self.scrubber.headers(&r.headers),
                body,
                body_hex,
            }
        });
        let sends_token = exchange
            .request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("x-auth-token"));
        ExchangeRecord {
            purpose,
            step,
            token_var: token_var(identity)
                .filter(|_| sends_token)
                .map(str::to_string),
            request,
            response,
            error: exchange.error.as_ref().map(|e| self.text(e)),
            elapsed_ms: millis(exchange.elapsed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::http::{RecordedRequest, RecordedResponse};
    use std::time::Duration;

    #[test]
    fn tokens_vanish_from_urls_headers_and_bodies() {
        let creds = Credentials {
            token: Some("demo:p1".into()),
            admin_token: Some("admin:p1".into()),
            ..Credentials::default()
        };
        let exchange = Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: "http://h/x?t=admin:p1".into(),
                headers: vec![("X-Auth-Token".into(), "demo:p1".into())],
                body: b"{\"t\": \"demo:p1\"}".to_vec(),
            },
            response: Some(RecordedResponse {
                status: 204,
                headers: vec![("X-Echo".into(), "admin:p1".into())],
                body: vec![0xff, b'a'],
            }),
            error: None,
            elapsed: Duration::from_millis(1),
        };
        let record =
            Redactor::new(&creds).record(&exchange, Purpose::Step, Some(1), Identity::Owner);
        let text = serde_json::to_string(&record).unwrap();
        assert!(
            !text.contains("demo:p1") && !text.contains("admin:p1"),
            "{text}"
        );
        assert!(text.contains("$METACONFORM_ADMIN_TOKEN"), "{text}");
        assert_eq!(record.token_var.as_deref(), Some("OS_TOKEN"));
        let response = record.response.unwrap();
        assert_eq!(response.body_hex.as_deref(), Some("ff61"));
    }

    #[test]
    fn a_case_result_loses_secrets_its_failure_and_skip_reason_quote() {
        use crate::run::results::{Cause, Failure, Place, Problem};
        let creds = Credentials {
            token: Some("demo:p1".into()),
            ..Credentials::default()
        };
        let result = CaseResult {
            id: "c".into(),
            area: "a".into(),
            name: "n".into(),
            spec: "1".into(),
            class: crate::run::results::CaseClass::Required,
            verdict: crate::run::results::Verdict::Fail,
            failure: Some(Failure::new(
                Place::Step {
                    step: 1,
                    op: "list".into(),
                },
                Cause::Broken {
                    problems: vec![Problem::Message {
                        expected: "not found".into(),
                        got: "token demo:p1 invalid".into(),
                    }],
                    stored: Some([("k".to_string(), "demo:p1".to_string())].into()),
                },
            )),
            skip_reason: Some("skipped for demo:p1".into()),
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 0.0,
            exchanges: Vec::new(),
        };
        let clean = Redactor::new(&creds).case(result);
        let text = serde_json::to_string(&clean.failure).unwrap();
        assert!(!text.contains("demo:p1"), "{text}");
        assert!(text.contains("token $OS_TOKEN invalid"), "{text}");
        assert_eq!(clean.skip_reason.as_deref(), Some("skipped for $OS_TOKEN"));
    }

    #[test]
    fn a_signed_request_shows_neither_signature_nor_secret_key() {
        let creds = Credentials {
            access_key: Some(crate::endpoint::AccessKeyPair {
                ak: "AKEXAMPLE".into(),
                sk: "secret-key-value".into(),
            }),
            ..Credentials::default()
        };
        let mut request = RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/p/cloudservers/s/metadata".into(),
            headers: vec![("X-Project-Id".into(), "p".into())],
            body: b"{\"echo\": \"secret-key-value\"}".to_vec(),
        };
        let date = crate::endpoint::sign::SdkDate::from_unix(1_700_000_000);
        let key = creds.access_key.clone().unwrap();
        crate::endpoint::sign::sign_recorded(&mut request, &key.key(), date).unwrap();
        let signature = request
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.clone())
            .unwrap();
        let exchange = Exchange {
            request,
            response: None,
            error: None,
            elapsed: Duration::ZERO,
        };
        let record =
            Redactor::new(&creds).record(&exchange, Purpose::Step, Some(1), Identity::Owner);
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("secret-key-value"), "{text}");
        assert!(!text.contains(&signature), "{text}");
        assert!(text.contains("$HUAWEICLOUD_SDK_SK"), "{text}");
        assert!(text.contains("X-Sdk-Date"), "{text}");
        assert!(!format!("{creds:?}").contains("secret-key-value"));
    }
}
