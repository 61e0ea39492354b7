//! The Keystone v3 token request (spec §7.1): `POST {auth_url}/auth/tokens`
//! for password, application-credential and token authentication, and what
//! comes back (the `X-Subject-Token`, `expires_at`, the project and the
//! service catalog).
//!
//! This module owns turning a [`Cloud`]'s settings into a request (and
//! saying which setting is missing), `auth_url` normalisation, and the
//! errors of a refused or broken answer. It never puts a password, secret
//! or token into a message: a 401 says what to check, not what was sent.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::catalog::Service;
use super::clouds::{AuthType, Cloud};
use super::{Secret, scrub};
use crate::endpoint::http::{RecordedRequest, Transport};

/// A user, project or domain by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    Id(String),
    Name(String),
}

/// A user: by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

/// A project to scope the token to: by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

/// How the user proves who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Password {
        user: UserRef,
        password: Secret,
    },
    /// By id: the credential implies its user and project.
    ApplicationCredentialId {
        id: String,
        secret: Secret,
    },
    /// By name: the owning user must be identified.
    ApplicationCredentialName {
        name: String,
        user: UserRef,
        secret: Secret,
    },
    /// Re-scope an existing token.
    Token {
        token: Secret,
    },
}

/// One Keystone token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// Ends in `/v3` (see [`normalize_auth_url`]).
    pub auth_url: String,
    pub method: Method,
    /// `None` for application credentials (their scope is implied).
    pub scope: Option<ProjectRef>,
    /// Who asks, for messages: `cloud 'x' (FILE)`.
    pub cloud: String,
}

/// A token and what Keystone said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: Secret,
    /// `None` when Keystone sent no (readable) `expires_at`.
    pub expires_at: Option<SystemTime>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub user_id: Option<String>,
    pub catalog: Vec<Service>,
}

/// Why no token.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneError {
    #[error("{cloud}: {problem}: {fix}")]
    Config {
        cloud: String,
        problem: String,
        fix: String,
    },
    #[error("cannot reach Keystone at {url}: {error}")]
    Unreachable { url: String, error: String },
    #[error(
        "Keystone at {url} refused the credentials of {cloud} (401{detail}): check the user, its domain, the password or application-credential secret, and the project (secrets are not shown)"
    )]
    Refused {
        url: String,
        cloud: String,
        detail: String,
    },
    #[error(
        "Keystone at {url} answered {status}{detail} to the token request of {cloud}; expected 201"
    )]
    Unexpected {
        url: String,
        cloud: String,
        status: u16,
        detail: String,
    },
    #[error("Keystone at {url} answered 201 without an X-Subject-Token header")]
    NoToken { url: String },
    #[error("Keystone at {url} answered 201 with a body that is not a token: {problem}")]
    BadBody { url: String, problem: String },
}

impl AuthRequest {
    /// The request `cloud`'s settings describe, or which setting is
    /// missing and where to set it.
    pub fn from_cloud(cloud: &Cloud) -> Result<AuthRequest, KeystoneError> {
        let who = cloud.describe();
        let config = |problem: String, fix: String| KeystoneError::Config {
            cloud: who.clone(),
            problem,
            fix,
        };
        let a = &cloud.auth;
        let auth_url = a
            .auth_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                config(
                    "no auth_url".into(),
                    cloud.fix_hint(
                        "auth.auth_url (e.g. https://keystone.example:5000/v3)",
                        "OS_AUTH_URL",
                    ),
                )
            })?;
        let auth_url = normalize_auth_url(auth_url, cloud.identity_api_version.as_deref())
            .map_err(|problem| config(problem, cloud.fix_hint("auth.auth_url", "OS_AUTH_URL")))?;
        let user = || -> Result<UserRef, KeystoneError> {
            if let Some(id) = &a.user_id {
                return Ok(UserRef::Id(id.clone()));
            }
            let Some(name) = &a.username else {
                return Err(config(
                    "no user".into(),
                    cloud.fix_hint(
                        "auth.username (or auth.user_id)",
                        "OS_USERNAME (or OS_USER_ID)",
                    ),
                ));
            };
            let domain = domain(a.user_domain_id.as_ref(), a.user_domain_name.as_ref())
                .ok_or_else(|| {
                    config(
                        format!("user '{name}' is given by name, so its domain is needed"),
                        cloud.fix_hint(
                            "auth.user_domain_name (e.g. Default) or auth.user_domain_id",
                            "OS_USER_DOMAIN_NAME (e.g. Default) or OS_USER_DOMAIN_ID",
                        ),
                    )
                })?;
            Ok(UserRef::Name {
                name: name.clone(),
                domain,
            })
        };
        let project = || -> Result<ProjectRef, KeystoneError> {
            if let Some(id) = &a.project_id {
                return Ok(ProjectRef::Id(id.clone()));
            }
            let Some(name) = &a.project_name else {
                return Err(config(
                    "no project to scope the token to (an unscoped token has no service catalog)"
                        .into(),
                    cloud.fix_hint(
                        "auth.project_id or auth.project_name",
                        "OS_PROJECT_ID or OS_PROJECT_NAME",
                    ),
                ));
            };
            let domain = domain(a.project_domain_id.as_ref(), a.project_domain_name.as_ref())
                .ok_or_else(|| {
                    config(
                        format!("project '{name}' is given by name, so its domain is needed"),
                        cloud.fix_hint(
                            "auth.project_domain_name (e.g. Default) or auth.project_domain_id",
                            "OS_PROJECT_DOMAIN_NAME (e.g. Default) or OS_PROJECT_DOMAIN_ID",
                        ),
                    )
                })?;
            Ok(ProjectRef::Name {
                name: name.clone(),
                domain,
            })
        };
        let (method, scope) = match cloud.auth_type {
            AuthType::Password => {
                let password = a
                    .password
                    .clone()
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| {
                        config(
                            "no password".into(),
                            cloud.fix_hint("auth.password (in secure.yaml)", "OS_PASSWORD"),
                        )
                    })?;
                (
                    Method::Password {
                        user: user()?,
                        password,
                    },
                    Some(project()?),
                )
            }
            AuthType::ApplicationCredential => {
                let secret = a
                    .application_credential_secret
                    .clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        config(
                            "no application_credential_secret".into(),
                            cloud.fix_hint(
                                "auth.application_credential_secret (in secure.yaml)",
                                "OS_APPLICATION_CREDENTIAL_SECRET",
                            ),
                        )
                    })?;
                let method = match (&a.application_credential_id, &a.application_credential_name) {
                    (Some(id), _) => Method::ApplicationCredentialId {
                        id: id.clone(),
                        secret,
                    },
                    (None, Some(name)) => Method::ApplicationCredentialName {
                        name: name.clone(),
                        user: user()?,
                        secret,
                    },
                    (None, None) => {
                        return Err(config(
                            "no application credential".into(),
                            cloud.fix_hint(
                                "auth.application_credential_id (or _name with the user)",
                                "OS_APPLICATION_CREDENTIAL_ID (or _NAME with OS_USERNAME)",
                            ),
                        ));
                    }
                };
                (method, None)
            }
            AuthType::Token => {
                let token = a.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                    config(
                        "no token to re-scope".into(),
                        cloud.fix_hint("auth.token", "OS_TOKEN"),
                    )
                })?;
                (Method::Token { token }, Some(project()?))
            }
        };
        Ok(AuthRequest {
            auth_url,
            method,
            scope,
            cloud: who,
        })
    }

    /// `{auth_url}/auth/tokens`.
    pub fn tokens_url(&self) -> String {
        format!("{}/auth/tokens", self.auth_url)
    }

    /// The JSON body (spec §7.1). It holds the secret: never print it.
    pub fn body(&self) -> Value {
        let identity = match &self.method {
            Method::Password { user, password } => {
                let mut user = user_json(user);
                user["password"] = json!(password.expose());
                json!({"methods": ["password"], "password": {"user": user}})
            }
            Method::ApplicationCredentialId { id, secret } => json!({
                "methods": ["application_credential"],
                "application_credential": {"id": id, "secret": secret.expose()},
            }),
            Method::ApplicationCredentialName { name, user, secret } => json!({
                "methods": ["application_credential"],
                "application_credential": {"name": name, "secret": secret.expose(), "user": user_json(user)},
            }),
            Method::Token { token } => json!({
                "methods": ["token"],
                "token": {"id": token.expose()},
            }),
        };
        let mut auth = json!({ "identity": identity });
        if let Some(project) = &self.scope {
            let project = match project {
                ProjectRef::Id(id) => json!({"id": id}),
                ProjectRef::Name { name, domain } => {
                    json!({"name": name, "domain": domain_json(domain)})
                }
            };
            auth["scope"] = json!({ "project": project });
        }
        json!({ "auth": auth })
    }

    /// The secrets this request carries, to scrub from anything quoted.
    pub fn secrets(&self) -> Vec<&Secret> {
        match &self.method {
            Method::Password { password, .. } => vec![password],
            Method::ApplicationCredentialId { secret, .. }
            | Method::ApplicationCredentialName { secret, .. } => vec![secret],
            Method::Token { token } => vec![token],
        }
    }

    /// Ask Keystone for a token.
    pub async fn send(&self, transport: &Transport) -> Result<Token, KeystoneError> {
        let url = self.tokens_url();
        let request = RecordedRequest {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: self.body().to_string().into_bytes(),
        };
        let exchange = transport.send_as_built(request).await;
        let Some(response) = exchange.response else {
            return Err(KeystoneError::Unreachable {
                url,
                error: scrub(&exchange.error.unwrap_or_default(), &self.secrets()),
            });
        };
        let detail = || {
            response
                .json()
                .and_then(|b| b["error"]["message"].as_str().map(str::to_string))
                .map(|m| format!(": {}", scrub(&shorten(&m), &self.secrets())))
                .unwrap_or_default()
        };
        match response.status {
            201 => {}
            401 => {
                return Err(KeystoneError::Refused {
                    url,
                    cloud: self.cloud.clone(),
                    detail: detail(),
                });
            }
            status => {
                return Err(KeystoneError::Unexpected {
                    url,
                    cloud: self.cloud.clone(),
                    status,
                    detail: detail(),
                });
            }
        }
        let value = response
            .header("x-subject-token")
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| KeystoneError::NoToken { url: url.clone() })?;
        parse_token(value, &response.body)
            .map_err(|problem| KeystoneError::BadBody { url, problem })
    }
}

fn user_json(user: &UserRef) -> Value {
    match user {
        UserRef::Id(id) => json!({"id": id}),
        UserRef::Name { name, domain } => json!({"name": name, "domain": domain_json(domain)}),
    }
}

fn domain_json(domain: &DomainRef) -> Value {
    match domain {
        DomainRef::Id(id) => json!({"id": id}),
        DomainRef::Name(name) => json!({"name": name}),
    }
}

fn domain(id: Option<&String>, name: Option<&String>) -> Option<DomainRef> {
    id.map(|i| DomainRef::Id(i.clone()))
        .or_else(|| name.map(|n| DomainRef::Name(n.clone())))
}

/// At most 200 characters of a server's message.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// `auth_url` ending in `/v3`: a URL without a version gets `/v3`
/// appended; `/v3/` loses its slash; a `/v2.0` URL (or
/// `identity_api_version: 2`) is refused, Keystone v2 being gone.
pub fn normalize_auth_url(url: &str, identity_api_version: Option<&str>) -> Result<String, String> {
    if let Some(version) = identity_api_version
        && !version.starts_with('3')
    {
        return Err(format!(
            "identity_api_version is {version}; metaconform speaks Keystone v3 only"
        ));
    }
    let trimmed = url.trim().trim_end_matches('/');
    let last = trimmed.rsplit('/').next().unwrap_or_default();
    let is_version = |v: &str| {
        v.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    };
    if is_version(last) {
        if last == "v3" || last.starts_with("v3.") {
            Ok(trimmed.to_string())
        } else {
            Err(format!(
                "auth_url {trimmed} is Keystone {last}; metaconform speaks Keystone v3 only: use the /v3 URL"
            ))
        }
    } else {
        Ok(format!("{trimmed}/v3"))
    }
}

/// The token body of a 201.
fn parse_token(value: Secret, body: &[u8]) -> Result<Token, String> {
    let json: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let token = json.get("token").ok_or("no `token` member")?;
    let text = |v: &Value| v.as_str().map(str::to_string);
    let catalog = match token.get("catalog") {
        None | Some(Value::Null) => Vec::new(),
        Some(c) => serde_json::from_value(c.clone()).map_err(|e| format!("`catalog`: {e}"))?,
    };
    Ok(Token {
        value,
        expires_at: token["expires_at"].as_str().and_then(parse_timestamp),
        project_id: text(&token["project"]["id"]),
        project_name: text(&token["project"]["name"]),
        user_id: text(&token["user"]["id"]),
        catalog,
    })
}

/// An ISO 8601 / RFC 3339 timestamp as Keystone writes it
/// (`2015-08-27T09:49:58.000000Z`, or with `+HH:MM`).
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let zone_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.rfind('-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut c = clock.splitn(3, ':');
    let hour: i64 = c.next()?.parse().ok()?;
    let minute: i64 = c.next()?.parse().ok()?;
    let seconds: f64 = c.next().unwrap_or("0").parse().ok()?;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 24 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hour * 3600 + minute * 60 - offset;
    let total = whole as f64 + seconds;
    if total < 0.0 {
        return None;
    }
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(total))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
