//! Every credential value a command knows, and scrubbing them out of
//! anything it is about to write or print.
//!
//! A [`Scrubber`] is built once from the [`Credentials`] (the identities'
//! tokens, whether given or issued by Keystone, the AK/SK secret key, and
//! the clouds.yaml passwords and application-credential secrets kept in
//! [`Credentials::secrets`]; and every token the member's Keystone token
//! source issues as it renews, learnt as they come). It replaces each value, in its plain,
//! percent-encoded and JSON-escaped spellings, by a placeholder: the
//! variable a user keeps it in (`$OS_TOKEN`) or `<redacted>`. Exchanges are
//! scrubbed as a whole ([`Scrubber::exchange`]): URL, headers of both
//! sides, bodies and the transport error, so an endpoint that echoes a
//! token in a response body cannot carry it into a report.

use crate::cases::format::Identity;

use super::Credentials;
use super::http::{Exchange, RecordedRequest, RecordedResponse, SECRET_HEADERS};

/// The environment variable a user puts this identity's token in; reports
/// and curl repros show it instead of the token.
pub fn token_var(identity: Identity) -> Option<&'static str> {
    match identity {
        Identity::Owner => Some("OS_TOKEN"),
        Identity::Admin => Some("METACONFORM_ADMIN_TOKEN"),
        Identity::Reader => Some("METACONFORM_READER_TOKEN"),
        Identity::Alt => Some("METACONFORM_ALT_TOKEN"),
        Identity::None => None,
    }
}

/// Known secrets (every spelling) and their placeholders, longest first;
/// plus the member's Keystone tokens renewed during the run, learnt from
/// the token source as they are issued.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    secrets: Vec<(String, String)>,
    renewal: Option<std::sync::Arc<super::auth::token_source::TokenSource>>,
}

impl Scrubber {
    pub fn new(creds: &Credentials) -> Scrubber {
        let mut scrubber = Scrubber::default();
        for identity in [
            Identity::Owner,
            Identity::Admin,
            Identity::Reader,
            Identity::Alt,
        ] {
            let token = match identity {
                Identity::Owner => creds.token.as_deref(),
                Identity::Admin => creds.admin_token.as_deref(),
                Identity::Reader => creds.reader_token.as_deref(),
                Identity::Alt => creds.alt_token.as_deref(),
                Identity::None => None,
            };
            if let (Some(token), Some(var)) = (token, token_var(identity)) {
                scrubber.add(token, &format!("${var}"));
            }
        }
        if let Some(key) = &creds.access_key {
            scrubber.add(&key.sk, "$HUAWEICLOUD_SDK_SK");
        }
        for secret in &creds.secrets {
            scrubber.add(secret.expose(), "<redacted>");
        }
        scrubber.renewal = creds.renewal.clone();
        // Longest first, so a secret containing another is replaced whole.
        scrubber
            .secrets
            .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        scrubber
    }

    /// Register `secret` in each spelling it may take in a URL or a JSON
    /// string. Secrets shorter than 4 characters are not scrubbed: they
    /// would mangle ordinary text and protect nothing.
    fn add(&mut self, secret: &str, placeholder: &str) {
        if secret.len() < 4 {
            return;
        }
        let encoded = super::encode_segment(secret);
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        let slash_escaped = json.replace('/', "\\/");
        for spelling in [secret.to_string(), encoded, json, slash_escaped] {
            if !self.secrets.iter().any(|(s, _)| *s == spelling) {
                self.secrets.push((spelling, placeholder.to_string()));
            }
        }
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.renewal.is_none()
    }

    /// The secrets as of now: the fixed ones, and every token the member's
    /// token source has issued since (a renewed token is the member's).
    fn current(&self) -> std::borrow::Cow<'_, [(String, String)]> {
        let Some(source) = &self.renewal else {
            return std::borrow::Cow::Borrowed(&self.secrets);
        };
        let mut now = Scrubber {
            secrets: self.secrets.clone(),
            renewal: None,
        };
        for token in source.issued() {
            now.add(&token, "$OS_TOKEN");
        }
        now.secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        std::borrow::Cow::Owned(now.secrets)
    }

    /// `text` with every known secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (secret, placeholder) in self.current().iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), placeholder);
            }
        }
        out
    }

    /// `bytes` with every known secret replaced (bytes that are not UTF-8
    /// are kept as they are around the replacements).
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for (secret, placeholder) in self.current().iter() {
            out = replace_bytes(&out, secret.as_bytes(), placeholder.as_bytes());
        }
        out
    }

    /// Every string inside `value` scrubbed (object keys too).
    pub fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(text) => *text = self.text(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut field) in entries {
                    self.json(&mut field);
                    map.insert(self.text(&key), field);
                }
            }
            _ => {}
        }
    }

    /// Headers with the values of [`SECRET_HEADERS`] replaced: a token by
    /// the variable that holds it (`$OS_TOKEN` when it is not one the run
    /// knows), a signature or subject token by `<redacted>`.
    pub fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let shown = if lower == "x-auth-token" {
                    let scrubbed = self.text(value);
                    if scrubbed.starts_with('$') {
                        scrubbed
                    } else {
                        "$OS_TOKEN".to_string()
                    }
                } else if SECRET_HEADERS.contains(&lower.as_str()) {
                    "<redacted>".to_string()
                } else {
                    self.text(value)
                };
                (name.clone(), shown)
            })
            .collect()
    }

    /// A copy of `exchange` safe to print or write anywhere.
    pub fn exchange(&self, exchange: &Exchange) -> Exchange {
        let request = &exchange.request;
        Exchange {
            request: RecordedRequest {
                method: request.method.clone(),
                url: self.text(&request.url),
                headers: self.headers(&request.headers),
                body: self.bytes(&request.body),
            },
            response: exchange.response.as_ref().map(|r| RecordedResponse {
                status: r.status,
                headers: self.headers(&r.headers),
                body: self.bytes(&r.body),
            }),
            error: exchange.error.as_ref().map(|e| self.text(e)),
            elapsed: exchange.elapsed,
        }
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::auth::Secret;

    fn creds() -> Credentials {
        Credentials {
            token: Some("tok/en+1".into()),
            admin_token: Some("admin-token".into()),
            secrets: vec![Secret::new("hunter2-password")],
            ..Credentials::default()
        }
    }

    #[test]
    fn every_spelling_of_a_secret_is_replaced() {
        let s = Scrubber::new(&creds());
        let text = "a tok/en+1 b tok%2Fen%2B1 c tok\\/en+1 d hunter2-password e admin-token";
        assert_eq!(
            s.text(text),
            "a $OS_TOKEN b $OS_TOKEN c $OS_TOKEN d <redacted> e $METACONFORM_ADMIN_TOKEN"
        );
    }

    #[test]
    fn exchanges_lose_secrets_on_both_sides_and_bytes_survive() {
        let s = Scrubber::new(&creds());
        let exchange = Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: "http://h/x?t=admin-token".into(),
                headers: vec![
                    ("X-Auth-Token".into(), "admin-token".into()),
                    (
                        "Authorization".into(),
                        "SDK-HMAC-SHA256 Signature=ab".into(),
                    ),
                ],
                body: Vec::new(),
            },
            response: Some(RecordedResponse {
                status: 400,
                headers: vec![("X-Echo".into(), "tok/en+1".into())],
                body: [&[0xffu8][..], b"{\"m\": \"tok\\/en+1\"}"].concat(),
            }),
            error: Some("hunter2-password".into()),
            elapsed: std::time::Duration::ZERO,
        };
        let clean = s.exchange(&exchange);
        assert_eq!(clean.request.url, "http://h/x?t=$METACONFORM_ADMIN_TOKEN");
        assert_eq!(clean.request.headers[0].1, "$METACONFORM_ADMIN_TOKEN");
        assert_eq!(clean.request.headers[1].1, "<redacted>");
        let response = clean.response.unwrap();
        assert_eq!(response.headers[0].1, "$OS_TOKEN");
        assert_eq!(response.body[0], 0xff);
        assert_eq!(&response.body[1..], b"{\"m\": \"$OS_TOKEN\"}");
        assert_eq!(clean.error.as_deref(), Some("<redacted>"));
    }

    #[test]
    fn json_values_are_scrubbed_keys_and_all() {
        let s = Scrubber::new(&creds());
        let mut value = serde_json::json!({"admin-token": ["x tok/en+1"]});
        s.json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"$METACONFORM_ADMIN_TOKEN": ["x $OS_TOKEN"]})
        );
    }
}
