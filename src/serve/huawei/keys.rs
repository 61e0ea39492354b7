//! AK/SK credentials of the Huawei dialects and the mock's API-gateway
//! authentication: a request carries either `X-Auth-Token` (spec §7.3) or
//! an `SDK-HMAC-SHA256` signature (spec §7.4) made with a pair the mock
//! generated for a project and printed in its startup line.
//!
//! Failures use the gateway's codes (spec §5.5): `APIGW.0301` for a bad or
//! unknown signature, `APIGW.0303` for an expired one. The real gateway
//! locks an AK for 5 minutes after 5 consecutive failures; the mock does
//! not, so negative cases stay repeatable.

use std::collections::BTreeMap;

use crate::endpoint::sign::{self, RequestParts, SdkDate, VerifyError};
use crate::model::caller::Caller;

/// One generated access key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyPair {
    project: String,
    sk: String,
}

/// The AK/SK pairs of one `serve` process, one per project.
#[derive(Debug, Clone, Default)]
pub struct AccessKeys {
    by_ak: BTreeMap<String, KeyPair>,
}

/// A request the gateway refuses before it reaches the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl AccessKeys {
    /// A fresh pair for each project: a 20-character upper-case AK and a
    /// 40-character SK, as Huawei issues them.
    pub fn generate<'p>(projects: impl IntoIterator<Item = &'p str>) -> AccessKeys {
        let mut keys = AccessKeys::default();
        for project in projects {
            let ak = random_text(20, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            let sk = random_text(
                40,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            );
            keys.insert(&ak, &sk, project);
        }
        keys
    }

    /// Register a known pair (tests).
    pub fn insert(&mut self, ak: &str, sk: &str, project: &str) {
        self.by_ak.insert(
            ak.to_string(),
            KeyPair {
                project: project.to_string(),
                sk: sk.to_string(),
            },
        );
    }

    /// The `(ak, sk)` of a project.
    pub fn for_project(&self, project: &str) -> Option<(&str, &str)> {
        self.by_ak
            .iter()
            .find(|(_, pair)| pair.project == project)
            .map(|(ak, pair)| (ak.as_str(), pair.sk.as_str()))
    }

    /// The secret key of `ak`, if the mock issued it.
    pub fn secret_of(&self, ak: &str) -> Option<&str> {
        self.by_ak.get(ak).map(|pair| pair.sk.as_str())
    }

    /// Who is calling: the signer's project member when the request has an
    /// `Authorization` header, else the token's caller, else `None` (the
    /// model then refuses it as `unauthorized`).
    pub fn authenticate(
        &self,
        request: &RequestParts<'_>,
        now: SdkDate,
    ) -> Result<Option<Caller>, GatewayRefusal> {
        let has_authorization = request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        if !has_authorization {
            let token = request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("x-auth-token"))
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            return Ok(Caller::from_token(token));
        }
        let lookup = |ak: &str| self.by_ak.get(ak).map(|pair| pair.sk.clone());
        let ak = sign::verify(request, now, lookup).map_err(refusal)?;
        let project = self
            .by_ak
            .get(&ak)
            .map(|pair| pair.project.clone())
            .unwrap_or_default();
        Ok(Some(Caller {
            user: format!("ak-{ak}"),
            project,
            roles: vec!["member".into(), "reader".into()],
        }))
    }
}

/// The gateway's answer to a failed verification.
fn refusal(error: VerifyError) -> GatewayRefusal {
    let (code, message) = match &error {
        VerifyError::Skew { .. } => (
            "APIGW.0303",
            format!("Incorrect app authentication information: signature expired: {error}"),
        ),
        VerifyError::UnknownAccessKey => (
            "APIGW.0301",
            "Incorrect IAM authentication information: ak not found".to_string(),
        ),
        VerifyError::BadSignature => (
            "APIGW.0301",
            "Incorrect IAM authentication information: verify aksk signature fail".to_string(),
        ),
        _ => (
            "APIGW.0301",
            format!("Incorrect IAM authentication information: {error}"),
        ),
    };
    GatewayRefusal {
        status: 401,
        code,
        message,
    }
}

/// `len` characters drawn from `alphabet` with a v4 UUID's randomness.
fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(*byte) % alphabet.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::sign::{AccessKey, sign};

    const NOW: i64 = 1_790_000_000;

    fn request_with(headers: &[(String, String)]) -> RequestParts<'_> {
        RequestParts {
            method: "GET",
            path: "/v1/p1/cloudservers/s1",
            query: "",
            headers,
            body: b"",
        }
    }

    fn signed_by(ak: &str, sk: &str, at: i64) -> Vec<(String, String)> {
        let mut headers = vec![("Host".to_string(), "127.0.0.1:9".to_string())];
        let added = sign(
            &request_with(&headers),
            &AccessKey { ak, sk },
            SdkDate::from_unix(at),
            &["host"],
        )
        .unwrap();
        headers.extend(added);
        headers
    }

    fn keys() -> AccessKeys {
        let mut keys = AccessKeys::default();
        keys.insert("AKONE", "secret-one", "p1");
        keys.insert("AKTWO", "secret-two", "p2");
        keys
    }

    #[test]
    fn generated_pairs_are_distinct_and_per_project() {
        let keys = AccessKeys::generate(["p1", "p2"]);
        let (ak1, sk1) = keys.for_project("p1").unwrap();
        let (ak2, _) = keys.for_project("p2").unwrap();
        assert_ne!(ak1, ak2);
        assert_eq!((ak1.len(), sk1.len()), (20, 40));
        assert!(
            ak1.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert!(sk1.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(keys.for_project("p3"), None);
    }

    #[test]
    fn a_valid_signature_is_the_projects_member() {
        let headers = signed_by("AKTWO", "secret-two", NOW);
        let caller = keys()
            .authenticate(&request_with(&headers), SdkDate::from_unix(NOW + 60))
            .unwrap()
            .unwrap();
        assert_eq!(caller.project, "p2");
        assert!(caller.may_write() && !caller.is_admin());
    }

    #[test]
    fn tokens_still_work_and_nothing_is_no_caller() {
        let headers = vec![("X-Auth-Token".to_string(), "demo:p1".to_string())];
        let caller = keys().authenticate(&request_with(&headers), SdkDate::from_unix(NOW));
        assert_eq!(caller.unwrap().map(|c| c.project), Some("p1".to_string()));
        assert_eq!(
            keys().authenticate(&request_with(&[]), SdkDate::from_unix(NOW)),
            Ok(None)
        );
    }

    #[test]
    fn bad_signatures_get_gateway_codes() {
        let now = SdkDate::from_unix(NOW);
        let code = |headers: &[(String, String)], now| {
            keys()
                .authenticate(&request_with(headers), now)
                .err()
                .map(|r| (r.status, r.code))
        };
        let wrong_secret = signed_by("AKONE", "not-the-secret", NOW);
        assert_eq!(code(&wrong_secret, now), Some((401, "APIGW.0301")));
        let unknown = signed_by("AKNOBODY", "x", NOW);
        assert_eq!(code(&unknown, now), Some((401, "APIGW.0301")));
        let old = signed_by("AKONE", "secret-one", NOW - 901);
        assert_eq!(code(&old, now), Some((401, "APIGW.0303")));
        let garbage = vec![("Authorization".to_string(), "Basic abc".to_string())];
        assert_eq!(code(&garbage, now), Some((401, "APIGW.0301")));
        // A valid token does not rescue a bad signature.
        let mut both = wrong_secret.clone();
        both.push(("X-Auth-Token".into(), "demo:p1".into()));
        assert_eq!(code(&both, now), Some((401, "APIGW.0301")));
    }
}
