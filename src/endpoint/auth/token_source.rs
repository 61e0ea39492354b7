//! A token that renews itself: [`TokenSource::token`] hands out the current
//! Keystone token and asks for a new one when it is within a margin
//! (default 5 minutes) of its `expires_at`, so a long run or fuzz campaign
//! keeps working after the first token expires.
//!
//! Concurrent callers share one renewal: the first to find the token stale
//! re-authenticates while the others wait for its result.

use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

use super::Secret;
use super::keystone::{AuthRequest, KeystoneError, Token};
use crate::endpoint::http::Transport;

/// How long before `expires_at` a token is renewed by default.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Where the time comes from (a test's clock, or the system's).
pub type Clock = fn() -> SystemTime;

/// The Keystone request, and the last token it gave.
#[derive(Debug)]
pub struct TokenSource {
    request: AuthRequest,
    transport: Transport,
    margin: Duration,
    clock: Clock,
    current: Mutex<Option<Token>>,
    renewals: std::sync::atomic::AtomicUsize,
}

impl TokenSource {
    /// A source that will authenticate on first use.
    pub fn new(request: AuthRequest, transport: Transport) -> TokenSource {
        TokenSource {
            request,
            transport,
            margin: DEFAULT_MARGIN,
            clock: SystemTime::now,
            current: Mutex::new(None),
            renewals: Default::default(),
        }
    }

    /// Start from a token already obtained (the one whose catalog gave the
    /// endpoint).
    pub fn with_token(self, token: Token) -> TokenSource {
        TokenSource {
            current: Mutex::new(Some(token)),
            ..self
        }
    }

    pub fn with_margin(self, margin: Duration) -> TokenSource {
        TokenSource { margin, ..self }
    }

    pub fn with_clock(self, clock: Clock) -> TokenSource {
        TokenSource { clock, ..self }
    }

    /// How many times Keystone was asked (the first token included).
    pub fn requests(&self) -> usize {
        self.renewals.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `token` must be renewed at `now`: it expires within
    /// `margin`. A token without `expires_at` never is.
    pub fn is_stale(token: &Token, now: SystemTime, margin: Duration) -> bool {
        token
            .expires_at
            .is_some_and(|expires| now + margin >= expires)
    }

    /// A token valid for at least the margin, re-authenticating if needed.
    pub async fn token(&self) -> Result<Secret, KeystoneError> {
        Ok(self.current_token().await?.value)
    }

    /// The whole current [`Token`] (project, catalog), renewed if needed.
    pub async fn current_token(&self) -> Result<Token, KeystoneError> {
        let mut current = self.current.lock().await;
        let now = (self.clock)();
        match current.as_ref() {
            Some(token) if !Self::is_stale(token, now, self.margin) => Ok(token.clone()),
            _ => {
                self.renewals
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let fresh = self.request.send(&self.transport).await?;
                *current = Some(fresh.clone());
                Ok(fresh)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::auth::fake::FakeKeystone;
    use crate::endpoint::auth::keystone::{DomainRef, Method, ProjectRef, UserRef};

    fn request(url: &str) -> AuthRequest {
        AuthRequest {
            auth_url: format!("{url}/v3"),
            method: Method::Password {
                user: UserRef::Name {
                    name: "u".into(),
                    domain: DomainRef::Name("Default".into()),
                },
                password: Secret::new("pw"),
            },
            scope: Some(ProjectRef::Id("p1".into())),
            cloud: "cloud 't'".into(),
        }
    }

    fn token(expires_at: Option<SystemTime>) -> Token {
        Token {
            value: Secret::new("old"),
            expires_at,
            project_id: Some("p1".into()),
            project_name: None,
            user_id: None,
            catalog: Vec::new(),
        }
    }

    #[test]
    fn staleness_follows_the_margin() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let margin = Duration::from_secs(300);
        let soon = token(Some(now + Duration::from_secs(299)));
        let later = token(Some(now + Duration::from_secs(301)));
        assert!(TokenSource::is_stale(&soon, now, margin));
        assert!(!TokenSource::is_stale(&later, now, margin));
        assert!(!TokenSource::is_stale(&token(None), now, margin));
    }

    #[tokio::test]
    async fn a_token_near_its_expiry_is_renewed_once() {
        let keystone = FakeKeystone::start("2099-01-01T00:00:00.000000Z").await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let expiring = token(Some(SystemTime::now() + Duration::from_secs(60)));
        let source = TokenSource::new(request(&keystone.url()), transport).with_token(expiring);
        let first = source.token().await.unwrap();
        assert_eq!(first.expose(), "fresh-1");
        // The fresh token lasts until 2099: no second request.
        let second = source.token().await.unwrap();
        assert_eq!(second.expose(), "fresh-1");
        assert_eq!(source.requests(), 1);
        assert_eq!(keystone.hits(), 1);
    }

    #[tokio::test]
    async fn a_valid_token_is_reused_and_a_missing_one_fetched() {
        let keystone = FakeKeystone::start("2099-01-01T00:00:00Z").await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let valid = token(Some(SystemTime::now() + Duration::from_secs(3600)));
        let source =
            TokenSource::new(request(&keystone.url()), transport.clone()).with_token(valid);
        assert_eq!(source.token().await.unwrap().expose(), "old");
        assert_eq!(keystone.hits(), 0);
        let empty = TokenSource::new(request(&keystone.url()), transport);
        assert_eq!(empty.token().await.unwrap().expose(), "fresh-1");
        assert_eq!(keystone.hits(), 1);
    }

    #[tokio::test]
    async fn a_past_clock_makes_every_token_stale() {
        let keystone = FakeKeystone::start("2001-01-01T00:00:00Z").await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let source = TokenSource::new(request(&keystone.url()), transport)
            .with_clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000));
        assert_eq!(source.token().await.unwrap().expose(), "fresh-1");
        assert_eq!(source.token().await.unwrap().expose(), "fresh-2");
        assert_eq!(keystone.hits(), 2);
    }
}
