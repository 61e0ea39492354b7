//! Stopping a run before bad AK/SK signatures lock the access key.
//!
//! On the real cloud, 5 consecutive failed AK/SK authentications lock the
//! access key for 5 minutes (spec §7.4). A run whose signatures are refused
//! would get there within a few requests and then fail every case for the
//! wrong reason, so the guard counts consecutive 401 answers to signed
//! requests and trips at [`LIMIT`]: from then on nothing more is signed or
//! sent, workers take no new case, and the run ends with exit 3.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Consecutive 401 answers to signed requests that stop the run (below the
/// cloud's 5, so the key is never locked by a run).
pub const LIMIT: usize = 3;

/// Counts consecutive 401s to AK/SK-signed requests across all workers.
#[derive(Debug, Default)]
pub struct AuthGuard {
    consecutive: AtomicUsize,
    tripped: AtomicBool,
}

impl AuthGuard {
    /// Note the status of an answer to a signed request.
    pub fn observe(&self, status: u16) {
        if status == 401 {
            let n = self.consecutive.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= LIMIT {
                self.tripped.store(true, Ordering::SeqCst);
            }
        } else {
            self.consecutive.store(0, Ordering::SeqCst);
        }
    }

    /// Whether the run must stop.
    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }

    /// What to tell the user when it tripped.
    pub fn message() -> String {
        format!(
            "error: stopped after {LIMIT} consecutive 401 answers to AK/SK-signed requests: \
             check --ak and --sk (or HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK), the project id and \
             this machine's clock (X-Sdk-Date must be within 15 minutes of the gateway's); \
             5 failed signatures in a row lock the access key for 5 minutes (spec §7.4)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_on_the_third_consecutive_401_only() {
        let guard = AuthGuard::default();
        guard.observe(401);
        guard.observe(401);
        guard.observe(200);
        guard.observe(401);
        guard.observe(401);
        assert!(!guard.tripped(), "a success in between resets the count");
        guard.observe(401);
        assert!(guard.tripped());
        guard.observe(200);
        assert!(guard.tripped(), "once tripped, the run stays stopped");
    }

    /// A loopback server answering 401 to everything; counts requests.
    async fn refusing_server() -> (String, std::sync::Arc<AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream
                    .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        (format!("http://{addr}/v1/p/cloudservers/s"), seen)
    }

    #[tokio::test]
    async fn signed_requests_stop_reaching_the_endpoint_after_the_limit() {
        use crate::endpoint::AccessKeyPair;
        use crate::endpoint::http::{RecordedRequest, Transport};
        use crate::run::execute::dispatch;
        let (url, seen) = refusing_server().await;
        let transport = Transport::new(std::time::Duration::from_secs(5)).unwrap();
        let guard = AuthGuard::default();
        let key = AccessKeyPair {
            ak: "AKEXAMPLE".into(),
            sk: "wrong".into(),
        };
        let request = RecordedRequest {
            method: "GET".into(),
            url,
            headers: vec![("X-Project-Id".into(), "p".into())],
            body: Vec::new(),
        };
        let mut answered = 0;
        for _ in 0..5 {
            let exchange = dispatch(&transport, &guard, request.clone(), Some(&key)).await;
            answered += usize::from(exchange.response.is_some());
        }
        assert_eq!(answered, LIMIT);
        assert_eq!(seen.load(Ordering::SeqCst), LIMIT);
        assert!(guard.tripped());
    }
}
