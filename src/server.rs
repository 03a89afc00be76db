//! `run(listener, config, shutdown)`: the whole server, testable on any listener.

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::flight::TesseraFlight;
use arrow_flight::flight_service_server::FlightServiceServer;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;

/// How long shutdown waits for uploads to reach a durable point before exiting anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// HTTP/2 initial stream window, in bytes (one upload can have this much in flight).
pub const STREAM_WINDOW_BYTES: u32 = 16 << 20;
/// HTTP/2 initial connection window, in bytes.
pub const CONNECTION_WINDOW_BYTES: u32 = 64 << 20;

/// Serve Flight on `listener` until `shutdown` resolves; then stop accepting, tell running
/// uploads to sync and end, and return once they have (or after [`SHUTDOWN_GRACE`]).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let engine = crate::blocking::run(move || Engine::open(config)).await?;
    let cfg = engine.config().clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Some(after) = cfg.auto_finalize_after {
        tokio::spawn(auto_finalize_loop(
            Arc::clone(&engine),
            after,
            stop_rx.clone(),
        ));
    }
    let service = FlightServiceServer::new(TesseraFlight::new(Arc::clone(&engine), stop_rx))
        .max_decoding_message_size(cfg.max_decode_message_size)
        .max_encoding_message_size(cfg.max_encode_message_size)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Deflate);
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %cfg.data_dir.display(), "tessera listening");
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .initial_stream_window_size(Some(STREAM_WINDOW_BYTES))
        .initial_connection_window_size(Some(CONNECTION_WINDOW_BYTES))
        .tcp_nodelay(true)
        .layer(tower::util::MapResponseLayer::new(
            crate::flight::limits::oversize_is_resource_exhausted,
        ))
        .add_service(service)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
            let _ = done_rx.await;
        });
    tokio::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(|e| crate::error::Error::internal(format!("server failed: {e}."))),
        () = shutdown => {
            tracing::info!("shutting down: syncing running uploads");
            let _ = stop_tx.send(true);
            let _ = done_tx.send(());
            match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                Ok(r) => r.map_err(|e| crate::error::Error::internal(format!("server failed: {e}."))),
                Err(_) => {
                    tracing::warn!("shutdown grace period elapsed with streams still open");
                    Ok(())
                }
            }
        }
    };
    crate::blocking::run(move || {
        engine.shutdown();
        Ok(())
    })
    .await?;
    result
}

/// Every `min(after / 4, 30 s)` (at least 100 ms), finalize sessions quiet for `after`.
async fn auto_finalize_loop(engine: Arc<Engine>, after: Duration, mut stop: watch::Receiver<bool>) {
    let period = (after / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        let eng = Arc::clone(&engine);
        if let Err(e) = crate::blocking::run(move || eng.lifecycle().auto_finalize(after)).await {
            tracing::warn!(error = %e.message, "auto-finalize check failed");
        }
    }
}
