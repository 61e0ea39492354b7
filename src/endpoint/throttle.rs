//! Politeness towards real clouds: a request rate cap (per fuzz worker, or
//! one [`SharedPace`] for every request of a run), back-off on throttling
//! answers (429 with `Retry-After`, and Huawei's 202 "flow limit", spec
//! §5.5), and a stop on repeated authentication failures (five bad AK/SK
//! signatures lock an AK).

use std::time::{Duration, Instant};

use crate::endpoint::http::RecordedResponse;

/// Consecutive unexpected 401/403 answers after which a campaign stops.
pub const AUTH_STRIKES: u32 = 2;
/// How often one request is retried after a throttling answer.
pub const MAX_RETRIES: u32 = 5;

/// Per-worker request pacing.
#[derive(Debug, Clone)]
pub struct Throttle {
    interval: Option<Duration>,
    next: Instant,
    /// Throttling answers seen.
    pub backoffs: u64,
    auth_strikes: u32,
}

impl Throttle {
    /// `rate`: requests per second for this worker (`None`: unlimited).
    pub fn new(rate: Option<f64>) -> Throttle {
        let interval = rate
            .filter(|r| *r > 0.0 && r.is_finite())
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Throttle {
            interval,
            next: Instant::now(),
            backoffs: 0,
            auth_strikes: 0,
        }
    }

    /// Wait until the next request may go.
    pub async fn pace(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = Instant::now() + interval;
    }

    /// Record an authentication verdict; `true` when the campaign must stop.
    pub fn strike(&mut self, unexpected_auth_failure: bool) -> bool {
        if unexpected_auth_failure {
            self.auth_strikes += 1;
        } else {
            self.auth_strikes = 0;
        }
        self.auth_strikes >= AUTH_STRIKES
    }
}

/// One request rate for everyone who holds it (a run's workers, its
/// housekeeping and its property trials).
#[derive(Debug)]
pub struct SharedPace {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl SharedPace {
    /// `rate` requests per second; `None` for no cap (or a rate that is
    /// not a positive number).
    pub fn new(rate: Option<f64>) -> Option<SharedPace> {
        let rate = rate.filter(|r| *r > 0.0 && r.is_finite())?;
        Some(SharedPace {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Wait for this request's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// How long to wait before retrying, if `response` is a throttling answer.
pub fn throttled(response: &RecordedResponse, attempt: u32) -> Option<Duration> {
    let flow_limit = response.status == 202 && is_flow_limit_body(&response.body);
    if response.status != 429 && !flow_limit {
        return None;
    }
    let retry_after = response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let exponential = Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6)));
    Some(
        retry_after
            .unwrap_or(exponential)
            .min(Duration::from_secs(60)),
    )
}

/// Huawei's flow-control answer: `Common.0024` (spec §5.5), in either error
/// shape.
fn is_flow_limit_body(body: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let code = json
        .get("error")
        .and_then(|e| e.get("code"))
        .or_else(|| json.get("error_code"))
        .and_then(|c| c.as_str());
    code == Some("Common.0024")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> RecordedResponse {
        RecordedResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn throttling_answers_are_recognised() {
        assert!(throttled(&response(429, ""), 0).is_some());
        let flow = r#"{"error":{"code":"Common.0024","message":"flow limit"}}"#;
        assert!(throttled(&response(202, flow), 0).is_some());
        assert!(throttled(&response(202, ""), 0).is_none());
        assert!(throttled(&response(200, flow), 0).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_pace_spaces_requests_by_its_interval() {
        let pace = SharedPace::new(Some(10.0)).expect("a rate");
        let started = tokio::time::Instant::now();
        for _ in 0..5 {
            pace.wait().await;
        }
        // Five slots, 100 ms apart: the fifth starts 400 ms in (virtual time).
        assert_eq!(started.elapsed(), Duration::from_millis(400));
        assert!(SharedPace::new(Some(0.0)).is_none() && SharedPace::new(None).is_none());
    }

    #[test]
    fn two_auth_failures_in_a_row_stop() {
        let mut t = Throttle::new(None);
        assert!(!t.strike(true));
        assert!(!t.strike(false));
        assert!(!t.strike(true));
        assert!(t.strike(true));
    }
}
