//! A crash between a topic's first two writes: the schema frame is in the WAL (written and
//! synced first) but its catalog copy is not. `tessera verify` calls that a warning, startup
//! restores the catalog copy from the WAL, and the upload resumes with the same schema.
//! (Found by the kill -9 harness.)
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use std::sync::Arc;
use tessera::engine::{lock, Engine};
use tessera::Config;
use tessera_wal::{Durability, FrameKind};

#[tokio::test]
async fn schema_only_in_the_wal_is_restored_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let (session, token) = {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("window").await;
        let t = c.create_topic(&s, "window/imu", "IMU").await.unwrap();
        server.stop().await;
        (s, t)
    };
    // What a DoPut does first, stopped right after the WAL write.
    {
        let engine = Engine::open(Config::with_data_dir(dir.path())).unwrap();
        let guard = engine
            .lifecycle()
            .begin_upload("window/imu", &token.parse().unwrap())
            .unwrap();
        let canonical = tessera::ipc::schema_header(&imu_schema());
        let (prefix, pad) = tessera::ipc::encapsulation(canonical.len()).unwrap();
        lock(&guard.wal)
            .unwrap()
            .append(
                FrameKind::Schema,
                &[&prefix, &canonical, tessera::ipc::padding(pad)],
                Durability::Sync,
            )
            .unwrap();
        drop(guard);
        engine.shutdown();
        drop(Arc::into_inner(engine));
    }
    let report = tessera::verify::verify(dir.path()).unwrap();
    assert!(report.errors.is_empty(), "{}", report.render());
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("not yet in the catalog")),
        "{}",
        report.render()
    );

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    // Restored: the topic has its schema (and no rows) before any new upload.
    let rows = c
        .read_topic("window/imu")
        .await
        .expect("the restored schema makes the topic readable");
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    c.put(
        put_descriptor("window/imu", &token),
        imu_schema(),
        vec![imu_batch(&[3, 1, 2])],
    )
    .await
    .unwrap();
    c.finalize(&session).await.unwrap();
    let (app, ticket) = c.topic_info("window/imu").await.unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 3);
    let rows = do_get(&mut c, ticket).await.unwrap();
    assert_eq!(
        rows[0].column(0).as_ref(),
        imu_batch(&[1, 2, 3]).column(0).as_ref()
    );
    server.stop().await;
    let report = tessera::verify::verify(dir.path()).unwrap();
    assert!(
        report.errors.is_empty() && report.warnings.is_empty(),
        "{}",
        report.render()
    );
}
