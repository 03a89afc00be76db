//! `tessera-bench` with tiny sizes, through its library entry point (`tessera_bench::run`, a
//! dev-dependency; this package builds the `tessera` executable it spawns): against a spawned
//! `tessera serve` (with both ceilings, hence the no-op server too) and against an in-process
//! server given by `--server`. Checks that the report is well-formed and consistent; never
//! timing thresholds.

mod common;

use std::path::Path;
use tessera_bench::{self as bench, BenchArgs, ParallelKind, Workload};

fn tiny(dir: &Path) -> BenchArgs {
    BenchArgs {
        workloads: vec![Workload::Video, Workload::Imu, Workload::Parallel],
        video_frames: 5,
        frames_per_batch: 2,
        frame: (64, 48),
        imu_batches: 3,
        imu_rows_per_batch: 1000,
        parallel_topics: 3,
        parallel_batches: 2,
        parallel_kind: ParallelKind::Mixed,
        server: None,
        server_pid: None,
        data_dir: Some(dir.join("data")),
        server_exe: Some(env!("CARGO_BIN_EXE_tessera").into()),
        sync: "always".to_string(),
        zstd_level: 1,
        chunk_size_mib: 1,
        max_message_mib: 64,
        no_ceilings: false,
        disk_ceiling_mb: 1,
        json: Some(dir.join("report.json")),
        quiet: true,
    }
}

/// Rows each workload of `tiny` sends: video 3 batches of 2 frames (the last batch is full
/// too), imu 3 x 1000, parallel 2 video topics x 2 x 2 frames + 1 imu topic x 2 x 1000.
const EXPECTED: [(&str, u64, u64); 3] = [("video", 6, 3), ("imu", 3000, 3), ("parallel", 2008, 6)];

fn check_run(m: &bench::report::Measured, rows: u64, batches: u64, what: &str) {
    assert_eq!(m.rows_sent, rows, "{what}: rows sent");
    assert_eq!(
        m.rows_acked, m.rows_sent,
        "{what}: rows acknowledged durable"
    );
    assert_eq!(m.batches, batches, "{what}: batches");
    assert_eq!(m.acks, batches, "{what}: one durable ack per batch");
    assert!(
        m.bytes > 0 && m.mb_s > 0.0 && m.rows_s > 0.0,
        "{what}: rates"
    );
    let (p50, p99) = (m.ack_p50_ms.unwrap(), m.ack_p99_ms.unwrap());
    assert!(p50 >= 0.0 && p50 <= p99, "{what}: p50 {p50} <= p99 {p99}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_server_with_ceilings() {
    let tmp = tempfile::tempdir().unwrap();
    let report = bench::run(tiny(tmp.path())).await.unwrap();
    assert_eq!(report.workloads.len(), 3);
    for (w, (name, rows, batches)) in report.workloads.iter().zip(EXPECTED) {
        assert_eq!(w.workload, name);
        check_run(&w.tessera, rows, batches, name);
        let t = w.transport.as_ref().expect("transport ceiling");
        check_run(t, rows, batches, "transport");
        assert_eq!(
            t.bytes, w.tessera.bytes,
            "{name}: same bytes to both servers"
        );
        let d = w.disk.as_ref().expect("disk ceiling");
        assert!(d.bytes > 0 && d.syncs > 0);
        assert!(d.cadence_mb_s > 0.0 && d.stream_mb_s > 0.0);
        assert_eq!(
            d.mb_s,
            d.cadence_mb_s.max(d.stream_mb_s),
            "{name}: the faster"
        );
        assert_eq!(d.write_sizes.len(), w.topics);
        assert!(d.write_sizes.iter().all(|&s| s > 0));
        assert_eq!(w.tessera.per_topic.len(), w.topics);
        let (b, n): (u64, u64) = w
            .tessera
            .per_topic
            .iter()
            .fold((0, 0), |a, t| (a.0 + t.0, a.1 + t.1));
        assert_eq!((b, n), (w.tessera.bytes, w.tessera.batches));
        assert!(w.disk_bytes.unwrap() > 0, "{name}: bytes on disk");
        assert!(w.server_peak_rss_bytes.unwrap() > 0, "{name}: peak RSS");
        for r in [w.ratio_transport, w.ratio_disk, w.ratio_min] {
            assert!(r.unwrap().is_finite() && r.unwrap() > 0.0);
        }
        assert!(
            w.ratio_min.unwrap() >= w.ratio_transport.unwrap().max(w.ratio_disk.unwrap()) - 1e-9
        );
    }
    let table = report.render();
    for name in ["video", "imu", "parallel", "transport", "disk"] {
        assert!(table.contains(name), "table mentions {name}:\n{table}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["workloads"].as_array().unwrap().len(), 3);
    assert_eq!(json["workloads"][1]["tessera"]["rows_sent"], 3000);
    // Each workload had its own data directory, and the server wrote its data there.
    for name in ["video", "imu", "parallel"] {
        assert!(tmp.path().join("data").join(name).join("catalog").is_dir());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_server_by_address() {
    let server = common::TestServer::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut args = tiny(tmp.path());
    args.workloads = vec![Workload::Imu, Workload::Video];
    args.server = Some(server.addr);
    args.server_pid = Some(std::process::id());
    args.data_dir = Some(server.dir.clone());
    args.no_ceilings = true;
    let report = bench::run(args).await.unwrap();
    assert_eq!(report.workloads.len(), 2);
    check_run(&report.workloads[0].tessera, 3000, 3, "imu");
    check_run(&report.workloads[1].tessera, 6, 3, "video");
    for w in &report.workloads {
        assert!(w.transport.is_none() && w.disk.is_none() && w.ratio_min.is_none());
        assert!(w.disk_bytes.unwrap() > 0);
        assert!(w.server_peak_rss_bytes.unwrap() > 0);
    }
    server.stop().await;
}
