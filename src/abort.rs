//! Spawned tasks that end with their owner: dropping the owner (a run or a
//! campaign stopped by Ctrl-C) aborts them, so nothing goes on writing to
//! an endpoint while its servers are being put back. A gentler stop is an
//! [`Interrupt`]: no new work starts, what runs finishes.

use tokio::task::{JoinError, JoinHandle};

/// A spawned task, aborted when this handle is dropped.
#[derive(Debug)]
pub struct AbortOnDrop<T>(JoinHandle<T>);

impl<T: Send + 'static> AbortOnDrop<T> {
    /// Spawn `future` on the current runtime.
    pub fn spawn(future: impl Future<Output = T> + Send + 'static) -> AbortOnDrop<T> {
        AbortOnDrop(tokio::spawn(future))
    }

    /// Wait for the task's result (`Err` if it panicked).
    pub async fn join(mut self) -> Result<T, JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A request to stop starting work (the first SIGINT/SIGTERM), shared by
/// every worker of a run or campaign: what is running finishes.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Interrupt {
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
