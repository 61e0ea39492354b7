//! The fuzzer's throughput next to its ceiling: the same requests, replayed
//! by a bare reqwest loop (one client per worker, no model, no checks, no
//! read-back bookkeeping) against the same server in the same run.

use std::time::{Duration, Instant};

use crate::endpoint::http::RecordedRequest;

/// Requests per second of the fuzzer and of the raw replay.
#[derive(Debug, Clone, Copy)]
pub struct BenchReport {
    pub requests: usize,
    pub fuzz_elapsed: Duration,
    pub raw_elapsed: Duration,
}

impl BenchReport {
    pub fn fuzz_rate(&self) -> f64 {
        self.requests as f64 / self.fuzz_elapsed.as_secs_f64().max(1e-9)
    }

    pub fn raw_rate(&self) -> f64 {
        self.requests as f64 / self.raw_elapsed.as_secs_f64().max(1e-9)
    }

    /// Fuzzer throughput as a fraction of the raw ceiling.
    pub fn ratio(&self) -> f64 {
        self.fuzz_rate() / self.raw_rate().max(1e-9)
    }
}

/// Replay each worker's requests, in order, with one plain client per
/// worker, all workers at once; returns the wall time.
pub async fn raw_replay(per_worker: &[Vec<RecordedRequest>]) -> Result<Duration, String> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for requests in per_worker {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| e.to_string())?;
        let requests = requests.clone();
        tasks.spawn(async move {
            for r in requests {
                let method = reqwest::Method::from_bytes(r.method.as_bytes())
                    .unwrap_or(reqwest::Method::GET);
                let mut builder = client.request(method, &r.url);
                for (name, value) in &r.headers {
                    builder = builder.header(name, value);
                }
                if !r.body.is_empty() {
                    builder = builder.body(r.body);
                }
                if let Ok(response) = builder.send().await {
                    let _ = response.bytes().await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(started.elapsed())
}
