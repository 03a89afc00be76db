//! `tessera verify` on a healthy directory, then after damage: exit code and report.
mod common;

use common::data::{imu_batches, imu_schema};
use common::*;
use std::process::Command;

fn run_verify(dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["verify", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn verify_reports_damage_and_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(tessera::Config {
        chunk_size_bytes: 4096,
        ..tessera::Config::with_data_dir(tmp.path())
    })
    .await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("v").await;
    let t = c.create_topic(&s, "v/imu", "IMU").await.unwrap();
    let input: Vec<_> = imu_batches(8, 50);
    c.put(put_descriptor("v/imu", &t), imu_schema(), input)
        .await
        .unwrap();
    c.finalize(&s).await.unwrap();
    server.stop().await;

    let (code, report) = run_verify(tmp.path());
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("1 sequences, 1 topics") && report.ends_with("OK\n"),
        "{report}"
    );

    let topic = std::fs::read_dir(tmp.path().join("topics"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let chunk = std::fs::read_dir(topic.join("chunks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&chunk).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x55;
    std::fs::write(&chunk, bytes).unwrap();
    std::fs::write(
        topic.join("chunks").join("00000000000000099999.chunk"),
        b"x",
    )
    .unwrap();
    let (code, report) = run_verify(tmp.path());
    assert_eq!(code, 1, "{report}");
    assert!(report.contains(&chunk.display().to_string()), "{report}");
    assert!(report.contains("not in the catalog"), "{report}");
    assert!(report.ends_with("DAMAGED\n"), "{report}");
}
