//! Running blocking storage work (fsync, file reads, catalog writes) off the async threads.

use crate::error::{Error, Result};

/// Run `f` on the blocking pool. A panic inside it becomes an Internal error (and is logged),
/// so no request can take a server thread down.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "a blocking server task panicked");
            Err(Error::internal(
                "the request failed on an internal error; stored data is unaffected.",
            ))
        }
    }
}
