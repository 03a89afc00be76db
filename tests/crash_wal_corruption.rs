//! Damage inside acknowledged WAL data (not a torn tail) is data loss: `tessera verify` names the
//! topic, the server still starts and serves every other topic, and reads of the damaged topic
//! fail with DATA_LOSS naming it. Nothing is silently skipped.
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use tonic::Code;

/// Upload `batches` one-row batches and break the stream, so the topic stays open (resumable)
/// with its data only in the WAL.
async fn interrupted_upload(c: &mut Client, locator: &str, token: &str, batches: i64) {
    let data = (0..batches).map(|i| imu_batch(&[i])).collect();
    expect_code(
        c.put_interrupted(put_descriptor(locator, token), imu_schema(), data)
            .await,
        Code::InvalidArgument,
    );
}

#[tokio::test]
async fn damaged_acknowledged_frame_is_data_loss_for_its_topic_only() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("wal_dmg").await;
        let a = c.create_topic(&s, "wal_dmg/a", "IMU").await.unwrap();
        let b = c.create_topic(&s, "wal_dmg/b", "IMU").await.unwrap();
        interrupted_upload(&mut c, "wal_dmg/a", &a, 5).await;
        interrupted_upload(&mut c, "wal_dmg/b", &b, 5).await;
        server.stop().await;
    }
    let id = {
        let cat = tessera::catalog::Catalog::open(&dir.path().join("catalog")).unwrap();
        cat.topic("wal_dmg", "a").unwrap().unwrap().id
    };
    // Flip one payload byte of the third frame of five: valid frames follow it.
    let wal_dir = dir.path().join("topics").join(id.to_string()).join("wal");
    let segment = std::fs::read_dir(&wal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let scan = tessera_wal::scan_segment_bytes(&bytes);
    assert!(scan.frames.len() >= 5, "schema + 5 batches expected");
    let f = &scan.frames[2];
    let at = f.offset as usize + tessera_wal::FRAME_HEADER_LEN + f.payload_len as usize / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&segment, &bytes).unwrap();

    let report = tessera::verify::verify(dir.path()).unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("wal_dmg/a") && e.contains("data loss")),
        "{}",
        report.render()
    );
    assert!(
        report.errors.iter().all(|e| !e.contains("wal_dmg/b")),
        "{}",
        report.render()
    );

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    let rows = c.read_topic("wal_dmg/b").await.unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    let err = c.read_topic("wal_dmg/a").await.unwrap_err();
    assert_eq!(err.code(), Code::DataLoss, "{}", err.message());
    assert!(err.message().contains("wal_dmg/a"), "{}", err.message());
    server.stop().await;
}
