//! Once a completed upload is sealed, its WAL is retired: the data lives in chunks only (no
//! second copy on disk). An interrupted upload keeps its WAL, which is what it resumes from.
mod common;

use common::data::{imu_batch, imu_schema, timestamps};
use common::*;

fn wal_frames(dir: &std::path::Path, seq: &str, topic: &str) -> u64 {
    let id = {
        let cat = tessera::catalog::Catalog::open(&dir.join("catalog")).unwrap();
        cat.topic(seq, topic).unwrap().unwrap().id
    };
    let wal = dir.join("topics").join(id.to_string()).join("wal");
    tessera_wal::verify_dir(&wal).unwrap().frames
}

#[tokio::test]
async fn completed_uploads_keep_no_wal_copy() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("retire").await;
        let done = c.create_topic(&s, "retire/done", "IMU").await.unwrap();
        let (s2, _) = c.new_session("retire_open").await;
        let open = c.create_topic(&s2, "retire_open/t", "IMU").await.unwrap();
        let batches = vec![imu_batch(&[3, 1]), imu_batch(&[2]), imu_batch(&[5, 4])];
        c.put(put_descriptor("retire/done", &done), imu_schema(), batches)
            .await
            .unwrap();
        // An upload that breaks: it stays open, its data only in the WAL.
        let interrupted = c
            .put_interrupted(
                put_descriptor("retire_open/t", &open),
                imu_schema(),
                vec![imu_batch(&[7])],
            )
            .await;
        assert!(interrupted.is_err());
        // Finalize waits for the pending seals, the last of which retires the WAL.
        c.finalize(&s).await.unwrap();
        server.stop().await;
    }
    assert_eq!(wal_frames(dir.path(), "retire", "done"), 0);
    assert_eq!(
        wal_frames(dir.path(), "retire_open", "t"),
        2,
        "schema + 1 batch"
    );
    let report = tessera::verify::verify(dir.path()).unwrap();
    assert!(report.errors.is_empty(), "{}", report.render());

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    let rows = c.read_topic("retire/done").await.unwrap();
    assert_eq!(timestamps(&rows), [1, 2, 3, 4, 5]);
    let rows = c.read_topic("retire_open/t").await.unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    server.stop().await;
}
