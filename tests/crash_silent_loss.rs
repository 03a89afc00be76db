//! No silent loss: damage found with the server stopped that used to be answered with OK and
//! fewer rows is reported. Each case builds its data through the Flight API, stops the server,
//! damages the data directory exactly as described, then checks that `tessera verify` exits 1
//! with a finding naming the topic, that GetFlightInfo and DoGet of the topic fail with
//! DATA_LOSS naming it (no server path, no internal id), and that an undamaged sibling topic
//! still reads in full.
//!
//! (a) the WAL directory of an interrupted upload deleted;
//! (b) a flipped byte in the last acknowledged frame, of an interrupted upload whose
//!     statistics were saved and of a completed upload not yet sealed (recovery cuts it as a
//!     torn tail, but the topic record says it was acknowledged);
//! (c) a chunk file replaced by another topic's chunk of the same file name.
mod common;

use arrow_flight::Ticket;
use common::data::{imu_batch, imu_schema};
use common::process::verify_offline;
use common::*;
use std::path::{Path, PathBuf};
use tonic::{Code, Status};

fn topic_dir(dir: &Path, seq: &str, topic: &str) -> (String, PathBuf) {
    let cat = tessera::catalog::Catalog::open(&dir.join("catalog")).unwrap();
    let id = cat.topic(seq, topic).unwrap().unwrap().id.to_string();
    let path = dir.join("topics").join(&id);
    (id, path)
}

fn batches(n: i64) -> Vec<arrow_array::RecordBatch> {
    (0..n).map(|i| imu_batch(&[i])).collect()
}

/// Upload `n` one-row batches and break the stream: the topic stays `uploading`, its
/// statistics (n rows, n batches) saved, its data only in the WAL.
async fn interrupted_upload(c: &mut Client, locator: &str, token: &str, n: i64) {
    expect_code(
        c.put_interrupted(put_descriptor(locator, token), imu_schema(), batches(n))
            .await,
        Code::InvalidArgument,
    );
}

/// `tessera verify` exits 1 with an error line naming `damaged` and none naming `intact`.
fn assert_verify_finds(dir: &Path, damaged: &str, intact: &str) {
    let (ok, report) = verify_offline(dir);
    assert!(!ok, "verify should exit 1:\n{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(
        errors.iter().any(|l| l.contains(&format!("`{damaged}`"))),
        "no finding names {damaged}:\n{report}"
    );
    assert!(
        errors.iter().all(|l| !l.contains(&format!("`{intact}`"))),
        "{intact} is intact:\n{report}"
    );
}

/// A DATA_LOSS naming `locator`, without the topic's internal id or any server path.
fn assert_data_loss(r: Result<impl std::fmt::Debug, Status>, locator: &str, id: &str, dir: &Path) {
    let msg = expect_code(r, Code::DataLoss);
    assert!(msg.contains(&format!("`{locator}`")), "{msg}");
    assert!(!msg.contains(id), "internal id in the message: {msg}");
    assert!(
        !msg.contains(&*dir.to_string_lossy()) && !msg.contains("/topics/"),
        "server path in the message: {msg}"
    );
}

/// DoGet keeping the status the server ends the stream with (mid-stream too).
async fn do_get_raw(c: &mut Client, ticket: Ticket) -> Result<usize, Status> {
    use futures::TryStreamExt;
    let stream = c.inner.do_get(ticket).await?.into_inner();
    let messages: Vec<_> = stream.try_collect().await?;
    Ok(messages.len())
}

async fn rows_of(c: &mut Client, locator: &str) -> usize {
    let read = c.read_topic(locator).await.unwrap();
    read.iter().map(|b| b.num_rows()).sum()
}

/// Flip one byte in the middle of the payload of the last frame of the topic's newest WAL
/// segment.
fn flip_last_frame(topic: &Path) {
    let wal = topic.join("wal");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    segments.sort();
    let segment = segments.pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let scan = tessera_wal::scan_segment_bytes(&bytes);
    let f = scan.frames.last().expect("a frame to damage");
    assert_eq!(f.kind, tessera_wal::FrameKind::RecordBatch);
    let at = f.offset as usize + tessera_wal::FRAME_HEADER_LEN + f.payload_len as usize / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&segment, &bytes).unwrap();
}

#[tokio::test]
async fn a_deleted_wal_of_an_interrupted_upload_is_data_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (session, token, ticket): (String, String, Ticket);
    {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("loss_a").await;
        let a = c.create_topic(&s, "loss_a/a", "IMU").await.unwrap();
        let b = c.create_topic(&s, "loss_a/b", "IMU").await.unwrap();
        interrupted_upload(&mut c, "loss_a/a", &a, 5).await;
        interrupted_upload(&mut c, "loss_a/b", &b, 5).await;
        ticket = c.topic_info("loss_a/a").await.unwrap().1;
        (session, token) = (s, a);
        server.stop().await;
    }
    let (id, topic) = topic_dir(dir.path(), "loss_a", "a");
    std::fs::remove_dir_all(topic.join("wal")).unwrap();

    assert_verify_finds(dir.path(), "loss_a/a", "loss_a/b");

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    assert_eq!(rows_of(&mut c, "loss_a/b").await, 5);
    assert_data_loss(c.topic_info("loss_a/a").await, "loss_a/a", &id, dir.path());
    assert_data_loss(
        do_get_raw(&mut c, ticket.clone()).await,
        "loss_a/a",
        &id,
        dir.path(),
    );
    // Resuming must not start a fresh, empty log; finalize must not lock the loss in.
    let resume = c
        .put(put_descriptor("loss_a/a", &token), imu_schema(), batches(1))
        .await;
    assert_data_loss(resume, "loss_a/a", &id, dir.path());
    assert!(c.finalize(&session).await.is_err());
    assert!(!topic.join("wal").exists(), "no fresh log was created");
    server.stop().await;
}

#[tokio::test]
async fn a_damaged_last_acknowledged_frame_of_a_saved_upload_is_data_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (token, ticket): (String, Ticket);
    {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("loss_b").await;
        let a = c.create_topic(&s, "loss_b/a", "IMU").await.unwrap();
        let b = c.create_topic(&s, "loss_b/b", "IMU").await.unwrap();
        interrupted_upload(&mut c, "loss_b/a", &a, 5).await;
        interrupted_upload(&mut c, "loss_b/b", &b, 5).await;
        ticket = c.topic_info("loss_b/a").await.unwrap().1;
        token = a;
        server.stop().await;
    }
    let (id, topic) = topic_dir(dir.path(), "loss_b", "a");
    flip_last_frame(&topic);

    assert_verify_finds(dir.path(), "loss_b/a", "loss_b/b");

    // Twice: the first start cuts the damaged frame (recovery sees a torn tail); the loss is
    // still reported after that, the record's statistics were not lowered to the recount.
    for _ in 0..2 {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        assert_eq!(rows_of(&mut c, "loss_b/b").await, 5);
        assert_data_loss(c.topic_info("loss_b/a").await, "loss_b/a", &id, dir.path());
        assert_data_loss(
            do_get_raw(&mut c, ticket.clone()).await,
            "loss_b/a",
            &id,
            dir.path(),
        );
        let resume = c
            .put(put_descriptor("loss_b/a", &token), imu_schema(), batches(1))
            .await;
        assert_data_loss(resume, "loss_b/a", &id, dir.path());
        server.stop().await;
    }
    // Auto-finalize would complete the interrupted uploads with what they store: not this
    // session, one of its topics lost acknowledged data.
    {
        let engine =
            tessera::engine::Engine::open(tessera::Config::with_data_dir(dir.path())).unwrap();
        let done = engine
            .lifecycle()
            .auto_finalize(std::time::Duration::ZERO)
            .unwrap();
        assert!(done.is_empty(), "{done:?}");
        let record = engine.catalog().topic("loss_b", "a").unwrap().unwrap();
        assert_eq!(
            (record.stats.rows, record.stats.batches),
            (5, 5),
            "record kept"
        );
        engine.shutdown();
    }
    assert_verify_finds(dir.path(), "loss_b/a", "loss_b/b");
    // The cut bytes (the damaged frame) were kept beside the segment, not destroyed.
    let kept: Vec<String> = std::fs::read_dir(topic.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".wal.cut-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

#[tokio::test]
async fn a_damaged_last_acknowledged_frame_of_a_completed_upload_is_data_loss() {
    let dir = tempfile::tempdir().unwrap();
    let ticket: Ticket;
    let blocker: PathBuf;
    {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("loss_c").await;
        let a = c.create_topic(&s, "loss_c/a", "IMU").await.unwrap();
        let b = c.create_topic(&s, "loss_c/b", "IMU").await.unwrap();
        // A first stream of `a` with its schema only creates its directory, the only one.
        interrupted_upload(&mut c, "loss_c/a", &a, 0).await;
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir.path().join("topics"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(dirs.len(), 1);
        // A file where `a`'s chunk directory goes makes its seals fail: its completed upload
        // stays in the WAL, as after a crash right after the upload's OK.
        blocker = dirs.remove(0).join("chunks");
        std::fs::write(&blocker, b"not a directory").unwrap();
        c.put(put_descriptor("loss_c/a", &a), imu_schema(), batches(5))
            .await
            .unwrap();
        c.put(put_descriptor("loss_c/b", &b), imu_schema(), batches(5))
            .await
            .unwrap();
        ticket = c.topic_info("loss_c/a").await.unwrap().1;
        server.stop().await;
    }
    let (id, topic) = topic_dir(dir.path(), "loss_c", "a");
    assert_eq!(blocker, topic.join("chunks"));
    std::fs::remove_file(&blocker).unwrap();
    flip_last_frame(&topic);

    assert_verify_finds(dir.path(), "loss_c/a", "loss_c/b");

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    assert_eq!(rows_of(&mut c, "loss_c/b").await, 5);
    assert_data_loss(c.topic_info("loss_c/a").await, "loss_c/a", &id, dir.path());
    assert_data_loss(
        do_get_raw(&mut c, ticket).await,
        "loss_c/a",
        &id,
        dir.path(),
    );
    server.stop().await;
}

/// Seal `a` and `b` (5 one-row batches each, timestamps `0..5` and `base..base + 5`) into one
/// chunk each, `chunks/00000000000000000001.chunk`, then copy `b`'s over `a`'s.
async fn chunk_copied_from_another_topic(
    dir: &Path,
    seq: &str,
    compression: tessera_format::Compression,
    base: i64,
) -> (String, Ticket) {
    let ticket;
    {
        let mut config = tessera::Config::with_data_dir(dir);
        config.chunk_compression = compression;
        let server = TestServer::start_with(config).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session(seq).await;
        for (name, t0) in [("a", 0), ("b", base), ("c", 0)] {
            let locator = format!("{seq}/{name}");
            let token = c.create_topic(&s, &locator, "IMU").await.unwrap();
            let data = (t0..t0 + 5).map(|i| imu_batch(&[i])).collect();
            c.put(put_descriptor(&locator, &token), imu_schema(), data)
                .await
                .unwrap();
        }
        // Finalize waits for the seals.
        c.finalize(&s).await.unwrap();
        ticket = c.topic_info(&format!("{seq}/a")).await.unwrap().1;
        server.stop().await;
    }
    let (id, a) = topic_dir(dir, seq, "a");
    let (_, b) = topic_dir(dir, seq, "b");
    let name = "00000000000000000001.chunk";
    let listed: Vec<_> = std::fs::read_dir(a.join("chunks"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(listed, [name], "one chunk, named after WAL seq 1");
    std::fs::copy(b.join("chunks").join(name), a.join("chunks").join(name)).unwrap();
    (id, ticket)
}

#[tokio::test]
async fn a_chunk_copied_from_another_topic_is_data_loss() {
    let dir = tempfile::tempdir().unwrap();
    let zstd = tessera::Config::with_data_dir(dir.path()).chunk_compression;
    let (id, ticket) = chunk_copied_from_another_topic(dir.path(), "loss_d", zstd, 1000).await;

    assert_verify_finds(dir.path(), "loss_d/a", "loss_d/c");

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    assert_eq!(rows_of(&mut c, "loss_d/b").await, 5);
    assert_eq!(rows_of(&mut c, "loss_d/c").await, 5);
    assert_data_loss(c.topic_info("loss_d/a").await, "loss_d/a", &id, dir.path());
    assert_data_loss(
        do_get_raw(&mut c, ticket).await,
        "loss_d/a",
        &id,
        dir.path(),
    );
    server.stop().await;
}

/// The same with a copy of exactly the same length (raw chunks of the same shape): only the
/// statistics in the chunk's footer tell it apart from the file the catalog describes.
#[tokio::test]
async fn a_same_length_chunk_copied_from_another_topic_is_data_loss() {
    let dir = tempfile::tempdir().unwrap();
    let raw = tessera_format::Compression::None;
    let (id, ticket) = chunk_copied_from_another_topic(dir.path(), "loss_e", raw, 5).await;
    let (_, a) = topic_dir(dir.path(), "loss_e", "a");
    let (_, c) = topic_dir(dir.path(), "loss_e", "c");
    let len = |t: &Path| {
        std::fs::metadata(t.join("chunks/00000000000000000001.chunk"))
            .unwrap()
            .len()
    };
    assert_eq!(
        len(&a),
        len(&c),
        "the copy has the length the catalog expects"
    );

    assert_verify_finds(dir.path(), "loss_e/a", "loss_e/c");

    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    assert_eq!(rows_of(&mut c, "loss_e/c").await, 5);
    assert_data_loss(c.topic_info("loss_e/a").await, "loss_e/a", &id, dir.path());
    assert_data_loss(
        do_get_raw(&mut c, ticket).await,
        "loss_e/a",
        &id,
        dir.path(),
    );
    server.stop().await;
}
