//! A token that renews itself: [`TokenSource::token`] hands out the current
//! Keystone token and asks for a new one when it is within a margin
//! (default 5 minutes) of its `expires_at`, so a long run or fuzz campaign
//! keeps working after the first token expires.
//!
//! Concurrent callers share one renewal: the first to find the token stale
//! re-authenticates while the others wait for its result.
//!
//! Requests are built with whatever token their builder saw; the transport
//! calls [`TokenSource::refresh`] on each one, which swaps a token this
//! source issued for the current one (renewing it first when stale) and
//! leaves every other token alone (admin, reader and second-project tokens
//! given on the command line). A token is renewed at most once per
//! [`MIN_RENEWAL_INTERVAL`] until it has actually expired, so a Keystone
//! that issues tokens shorter-lived than the margin is not asked on every
//! request.

use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

use super::Secret;
use super::keystone::{AuthRequest, KeystoneError, Token};
use crate::endpoint::http::{RecordedRequest, Transport};

/// How long before `expires_at` a token is renewed by default.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The least time between two renewals of a token that has not expired.
pub const MIN_RENEWAL_INTERVAL: Duration = Duration::from_secs(30);

/// Where the time comes from (a test's clock, or the system's).
pub type Clock = fn() -> SystemTime;

/// The Keystone request, and the last token it gave.
#[derive(Debug)]
pub struct TokenSource {
    request: AuthRequest,
    transport: Transport,
    margin: Duration,
    clock: Clock,
    /// The last token, and when this source last asked Keystone.
    current: Mutex<Option<(Token, Option<SystemTime>)>>,
    /// Every token value this source has handed out, oldest first.
    issued: std::sync::Mutex<Vec<String>>,
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
            issued: Default::default(),
            renewals: Default::default(),
        }
    }

    /// Start from a token already obtained (the one whose catalog gave the
    /// endpoint).
    pub fn with_token(self, token: Token) -> TokenSource {
        self.remember(&token);
        TokenSource {
            current: Mutex::new(Some((token, None))),
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

    /// Every token value this source has handed out (for redaction).
    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn remember(&self, token: &Token) {
        if let Ok(mut issued) = self.issued.lock() {
            issued.push(token.value.expose().to_string());
        }
    }

    /// Whether `token` must be renewed at `now`: it expires within
    /// `margin`. A token without `expires_at` never is.
    pub fn is_stale(token: &Token, now: SystemTime, margin: Duration) -> bool {
        token
            .expires_at
            .is_some_and(|expires| now + margin >= expires)
    }

    /// Whether to keep `token` at `now`: it is not stale, or it was
    /// renewed less than [`MIN_RENEWAL_INTERVAL`] ago and has not expired.
    fn keeps(&self, token: &Token, renewed: Option<SystemTime>, now: SystemTime) -> bool {
        if !Self::is_stale(token, now, self.margin) {
            return true;
        }
        let recent = renewed.is_some_and(|at| now < at + MIN_RENEWAL_INTERVAL);
        recent && !Self::is_stale(token, now, Duration::ZERO)
    }

    /// Put the current token in `request` if it carries one this source
    /// issued (renewing first when stale); any other token is left as it is.
    pub async fn refresh(&self, request: &mut RecordedRequest) -> Result<(), KeystoneError> {
        let issued = self.issued();
        let Some(slot) = request.headers.iter_mut().find(|(name, value)| {
            name.eq_ignore_ascii_case("x-auth-token") && issued.contains(value)
        }) else {
            return Ok(());
        };
        slot.1 = self.token().await?.expose().to_string();
        Ok(())
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
            Some((token, renewed)) if self.keeps(token, *renewed, now) => Ok(token.clone()),
            _ => {
                self.renewals
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match self.request.send(&self.transport).await {
                    Ok(fresh) => {
                        self.remember(&fresh);
                        *current = Some((fresh.clone(), Some(now)));
                        Ok(fresh)
                    }
                    // Keystone failed while the current token still holds:
                    // keep using it, and try again an interval later.
                    Err(e) => match current.as_mut() {
                        Some((token, renewed)) if !Self::is_stale(token, now, Duration::ZERO) => {
                            *renewed = Some(now);
                            Ok(token.clone())
                        }
                        _ => Err(e),
                    },
                }
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

    #[tokio::test]
    async fn a_short_lived_token_is_renewed_at_most_every_interval() {
        // Keystone's tokens live 2 minutes, less than the 5-minute margin.
        static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let base = 2_000_000_000;
        NOW.store(base, std::sync::atomic::Ordering::Relaxed);
        let clock: Clock = || {
            let secs = NOW.load(std::sync::atomic::Ordering::Relaxed);
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
        };
        let keystone = FakeKeystone::start("2033-05-18T03:35:20Z").await; // base + 120 s
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let source = TokenSource::new(request(&keystone.url()), transport).with_clock(clock);
        assert_eq!(source.token().await.unwrap().expose(), "fresh-1");
        for _ in 0..10 {
            assert_eq!(source.token().await.unwrap().expose(), "fresh-1");
        }
        NOW.store(base + 31, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(source.token().await.unwrap().expose(), "fresh-2");
        assert_eq!(keystone.hits(), 2, "one renewal per interval, not per call");
        // Once expired, it is renewed whatever the interval.
        NOW.store(base + 121, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(source.token().await.unwrap().expose(), "fresh-3");
    }

    #[tokio::test]
    async fn refresh_swaps_only_the_tokens_it_issued() {
        let keystone = FakeKeystone::start("2099-01-01T00:00:00Z").await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let expired = token(Some(SystemTime::now() - Duration::from_secs(1)));
        let source = TokenSource::new(request(&keystone.url()), transport).with_token(expired);
        let request = |token: &str| RecordedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:9/".into(),
            headers: vec![("X-Auth-Token".into(), token.into())],
            body: Vec::new(),
        };
        let mut member = request("old");
        source.refresh(&mut member).await.unwrap();
        assert_eq!(member.headers[0].1, "fresh-1");
        let mut admin = request("admin-token");
        source.refresh(&mut admin).await.unwrap();
        assert_eq!(admin.headers[0].1, "admin-token");
        assert_eq!(source.issued(), ["old", "fresh-1"]);
    }

    #[tokio::test]
    async fn a_failed_renewal_keeps_the_valid_token_and_backs_off() {
        // Keystone refuses everything; the current token expires in 60 s.
        let keystone = FakeKeystone::with(|_, _, _| crate::endpoint::auth::fake::Reply {
            status: 503,
            headers: Vec::new(),
            body: "{}".into(),
        })
        .await;
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let expiring = token(Some(SystemTime::now() + Duration::from_secs(60)));
        let source = TokenSource::new(request(&keystone.url()), transport).with_token(expiring);
        assert_eq!(source.token().await.unwrap().expose(), "old");
        assert_eq!(source.token().await.unwrap().expose(), "old");
        assert_eq!(
            keystone.hits(),
            1,
            "one attempt per interval, not per request"
        );
        // Once the token has expired, the failure is the caller's.
        let expired = token(Some(SystemTime::now() - Duration::from_secs(1)));
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let source = TokenSource::new(request(&keystone.url()), transport).with_token(expired);
        assert!(source.token().await.is_err());
    }
}
