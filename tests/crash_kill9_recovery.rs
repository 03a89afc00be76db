//! kill -9 harness: the real `tessera` binary records several topics with durable acks and is
//! SIGKILLed at seeded random moments (a timer, the n-th ack, a chunk seal starting or ending,
//! during finalize, during a sequence delete). After each kill: `tessera verify` offline, restart,
//! then every topic must read back as exactly batches `0..k` with `acked <= k <= sent` (nothing
//! acknowledged lost, no torn, duplicated or foreign rows), its reported row count equal to what
//! it reads, finalized sequences complete and locked. Uploads then resume after the recovered
//! data (a new DoPut with the same token), sequences are finalized and old ones deleted, and
//! the next kill comes.
//!
//! `TESSERA_KILL_CYCLES` (default 20) and `TESSERA_KILL_SEED` choose the run; the long run is
//! `TESSERA_KILL_CYCLES=1000 cargo test --release --test crash_kill9_recovery -- --nocapture`.
mod common;

use common::process::{verify_offline, ServerProcess};
use common::recording::{self, Rng};
use common::{do_get, Client};
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tonic::{Code, Status};

const DEFAULT_CYCLES: u64 = 20;
const DEFAULT_SEED: u64 = 0x7e55_e7a0_5eed;
const TOPICS: usize = 3;
/// Finalized sequences kept (and re-checked after every restart); older ones are deleted.
const KEEP_FINALIZED: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Uploading,
    Finalizing,
    Finalized,
    Deleting,
}

#[derive(Debug, Clone)]
struct TopicModel {
    name: String,
    token: String,
    /// Rows of each planned batch.
    plan: Vec<usize>,
    /// Batches handed to the client stream (an upper bound of what the server can hold).
    sent: usize,
    /// Batches acknowledged durable (a lower bound).
    acked: usize,
    /// The upload ended with OK.
    uploaded: bool,
}

#[derive(Debug, Clone)]
struct SeqModel {
    name: String,
    session: String,
    topics: Vec<TopicModel>,
    phase: Phase,
}

#[derive(Default, Debug)]
struct Model {
    seqs: Vec<SeqModel>,
    next_seq: u64,
}

/// Figures of the whole run.
#[derive(Default, Debug)]
struct Tally {
    kills: BTreeMap<&'static str, u64>,
    topic_checks: u64,
    batches_checked: u64,
    /// Batches found after a restart beyond the acknowledged ones (written, ack not received).
    unacked_present: u64,
    finalize_committed: u64,
    finalize_redone: u64,
    delete_committed: u64,
    delete_redone: u64,
    sequences_finalized: u64,
}

/// Signals from the workload to the killer.
#[derive(Default)]
struct Hooks {
    acks: AtomicU64,
    ack: Notify,
    finalize: Notify,
    delete: Notify,
}

#[derive(Debug, Clone, Copy)]
enum Trigger {
    Timer { ms: u64 },
    Acks { n: u64, us: u64 },
    Log { line: &'static str, us: u64 },
    Finalize { us: u64 },
    Delete { us: u64 },
}

impl Trigger {
    fn pick(rng: &mut Rng) -> Trigger {
        match rng.range(0, 100) {
            0..30 => Trigger::Timer {
                ms: rng.range(0, 800),
            },
            30..55 => Trigger::Acks {
                n: rng.range(1, 60),
                us: rng.range(0, 2000),
            },
            55..70 => Trigger::Log {
                line: "sealing chunk",
                us: rng.range(0, 5000),
            },
            70..80 => Trigger::Log {
                line: "chunk sealed",
                us: rng.range(0, 300),
            },
            80..92 => Trigger::Finalize {
                us: rng.range(0, 20_000),
            },
            _ => Trigger::Delete {
                us: rng.range(0, 5000),
            },
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Trigger::Timer { .. } => "timer",
            Trigger::Acks { .. } => "after n-th ack",
            Trigger::Log { line, .. } if *line == "sealing chunk" => "during seal",
            Trigger::Log { .. } => "after seal commit",
            Trigger::Finalize { .. } => "during finalize",
            Trigger::Delete { .. } => "during delete",
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_survive_kill9_at_random_moments() {
    let cycles = env_u64("TESSERA_KILL_CYCLES", DEFAULT_CYCLES);
    let seed = env_u64("TESSERA_KILL_SEED", DEFAULT_SEED);
    let dir = tempfile::tempdir().unwrap();
    let model = Arc::new(Mutex::new(Model::default()));
    let mut tally = Tally::default();
    let mut rng = Rng::new(seed);
    let setup = Arc::new(tokio::sync::Mutex::new(()));
    for cycle in 0..cycles {
        if cycle > 0 && cycle % 50 == 0 {
            eprintln!("kill -9 harness: {cycle}/{cycles} cycles, {tally:?}");
        }
        if cycle > 0 {
            let (ok, report) = verify_offline(dir.path());
            assert!(ok, "cycle {cycle}: tessera verify after kill -9:\n{report}");
        }
        let server = ServerProcess::start(dir.path(), &server_args(&mut rng));
        let mut client = Client::connect(server.addr).await;
        if let Err(e) = check_recovered(&mut client, &model, &mut tally).await {
            panic!(
                "cycle {cycle} (seed {seed:#x}): {e}\nserver log:\n{}",
                server.recent_log()
            );
        }
        let trigger = Trigger::pick(&mut rng);
        let hooks = Arc::new(Hooks::default());
        let mut log = server.subscribe();
        let mut script = tokio::spawn(workload(
            client,
            Arc::clone(&model),
            Arc::clone(&hooks),
            Arc::clone(&setup),
            rng.next_u64(),
        ));
        let fired = tokio::select! {
            fired = wait_for(trigger, &hooks, &mut log) => fired,
            r = &mut script => panic!(
                "cycle {cycle} (seed {seed:#x}): the workload failed before any kill: {r:?}\nserver log:\n{}",
                server.recent_log()
            ),
        };
        let label = if fired {
            trigger.label()
        } else {
            "fallback timer"
        };
        *tally.kills.entry(label).or_default() += 1;
        {
            let _no_setup = setup.lock().await;
            server.kill9();
        }
        // The workload sees its streams and calls fail; give it a moment, then stop it.
        if tokio::time::timeout(Duration::from_secs(10), &mut script)
            .await
            .is_err()
        {
            script.abort();
        }
    }
    // A last restart: everything checks out, then a clean shutdown leaves a clean directory.
    let (ok, report) = verify_offline(dir.path());
    assert!(ok, "final tessera verify:\n{report}");
    let server = ServerProcess::start(dir.path(), &[]);
    let mut client = Client::connect(server.addr).await;
    if let Err(e) = check_recovered(&mut client, &model, &mut tally).await {
        panic!("final check (seed {seed:#x}): {e}\n{}", server.recent_log());
    }
    server.terminate();
    let (ok, report) = verify_offline(dir.path());
    assert!(ok, "tessera verify after a clean stop:\n{report}");
    println!("kill -9 harness: {cycles} cycles, seed {seed:#x}\n{tally:#?}");
    assert!(
        tally.batches_checked > 0,
        "the harness checked no data: {tally:?}"
    );
}

/// Small chunks and WAL segments so that seals and reclaims happen all the time; the sync
/// mode and the seal lag (seal each chunk at once, or let a few MiB of burst wait) vary.
fn server_args(rng: &mut Rng) -> Vec<String> {
    let sync = if rng.range(0, 4) == 0 {
        format!("interval:{}", rng.range(1, 20))
    } else {
        "always".to_string()
    };
    let lag = [0, 0, 2, 6][rng.range(0, 4) as usize].to_string();
    [
        "--chunk-size-mib",
        "1",
        "--wal-segment-mib",
        "1",
        "--seal-lag-mib",
        &lag,
        "--sync",
        &sync,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Wait until the trigger fires (true) or a fallback time passes (false).
async fn wait_for(
    trigger: Trigger,
    hooks: &Hooks,
    log: &mut tokio::sync::broadcast::Receiver<String>,
) -> bool {
    let fire = async {
        match trigger {
            Trigger::Timer { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            Trigger::Acks { n, us } => {
                while hooks.acks.load(Ordering::Acquire) < n {
                    hooks.ack.notified().await;
                }
                spin(us).await;
            }
            Trigger::Log { line, us } => {
                loop {
                    match log.recv().await {
                        Ok(l) if l.contains(line) => break,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => std::future::pending::<()>().await,
                    }
                }
                spin(us).await;
            }
            Trigger::Finalize { us } => {
                hooks.finalize.notified().await;
                spin(us).await;
            }
            Trigger::Delete { us } => {
                hooks.delete.notified().await;
                spin(us).await;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(8), fire)
        .await
        .is_ok()
}

/// Sub-millisecond delays (tokio timers have millisecond resolution).
async fn spin(us: u64) {
    if us >= 1000 {
        tokio::time::sleep(Duration::from_micros(us)).await;
    } else {
        let end = std::time::Instant::now() + Duration::from_micros(us);
        while std::time::Instant::now() < end {
            tokio::task::yield_now().await;
        }
    }
}

fn seq_topic<'a>(m: &'a mut Model, seq: &str, topic: usize) -> &'a mut TopicModel {
    let s = m.seqs.iter_mut().find(|s| s.name == seq).unwrap();
    &mut s.topics[topic]
}

/// After a restart: every topic holds exactly an acknowledged-or-more prefix of its batches;
/// interrupted finalizes and deletes are completed.
async fn check_recovered(
    client: &mut Client,
    model: &Mutex<Model>,
    tally: &mut Tally,
) -> Result<(), String> {
    let snapshot: Vec<SeqModel> = model.lock().unwrap().seqs.clone();
    for SeqModel {
        name: seq,
        session,
        phase,
        topics,
    } in snapshot
    {
        if phase == Phase::Deleting {
            match client
                .topic_info(&format!("{seq}/{}", topics[0].name))
                .await
            {
                Err(s) if s.code() == Code::NotFound => tally.delete_committed += 1,
                Err(s) => return Err(format!("{seq}: reading a half-deleted sequence: {s}")),
                Ok(_) => tally.delete_redone += 1,
            }
            match client
                .action("sequence_delete", json!({ "locator": seq }))
                .await
            {
                Ok(_) => {}
                Err(s) if s.code() == Code::NotFound => {}
                Err(s) => return Err(format!("{seq}: delete after restart: {s}")),
            }
            model.lock().unwrap().seqs.retain(|s| s.name != seq);
            continue;
        }
        let mut phase = phase;
        if phase == Phase::Finalizing {
            match client.finalize(&session).await {
                Ok(_) => tally.finalize_redone += 1,
                Err(s)
                    if s.code() == Code::FailedPrecondition
                        && s.message().contains("already finalized") =>
                {
                    tally.finalize_committed += 1
                }
                Err(s) => return Err(format!("{seq}: finalize after restart: {s}")),
            }
            phase = Phase::Finalized;
            model
                .lock()
                .unwrap()
                .seqs
                .iter_mut()
                .find(|s| s.name == seq)
                .unwrap()
                .phase = Phase::Finalized;
            tally.sequences_finalized += 1;
        }
        for (i, t) in topics.into_iter().enumerate() {
            let (plan, acked, sent) = (t.plan, t.acked, t.sent);
            let locator = format!("{seq}/{}", t.name);
            let (app, ticket) = client
                .topic_info(&locator)
                .await
                .map_err(|s| format!("{locator}: GetFlightInfo: {s}"))?;
            let batches = match do_get(client, ticket).await {
                Ok(b) => b,
                // Killed before the stream's schema was stored: the topic holds nothing.
                Err(s)
                    if s.code() == Code::FailedPrecondition
                        && s.message().contains("no schema yet") =>
                {
                    Vec::new()
                }
                Err(s) => return Err(format!("{locator}: DoGet: {s}")),
            };
            let k = recording::check(i, &plan, &batches).map_err(|e| format!("{locator}: {e}"))?;
            if k < acked || k > sent {
                return Err(format!(
                    "{locator}: holds {k} batches; acknowledged {acked}, sent {sent}"
                ));
            }
            let complete = phase == Phase::Finalized || t.uploaded;
            if complete && k != plan.len() {
                return Err(format!(
                    "{locator}: uploaded, yet holds {k} of {} batches",
                    plan.len()
                ));
            }
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let reported = app["data_info"]["total_row_count"].as_u64();
            if reported != Some(rows as u64) {
                return Err(format!(
                    "{locator}: reads {rows} rows but reports total_row_count {reported:?}"
                ));
            }
            if phase == Phase::Finalized && app["locked"] != json!(true) {
                return Err(format!("{locator}: finalized but not locked: {app}"));
            }
            tally.topic_checks += 1;
            tally.batches_checked += k as u64;
            tally.unacked_present += (k - acked) as u64;
            let mut m = model.lock().unwrap();
            let t = seq_topic(&mut m, &seq, i);
            // Recovery made all of it durable: upload resumes after it.
            t.acked = k;
            t.sent = k;
        }
    }
    Ok(())
}

/// Record, finalize and delete sequences for ever; returns only on an error (the kill).
async fn workload(
    mut client: Client,
    model: Arc<Mutex<Model>>,
    hooks: Arc<Hooks>,
    setup: Arc<tokio::sync::Mutex<()>>,
    seed: u64,
) -> Result<(), Status> {
    let mut rng = Rng::new(seed);
    loop {
        delete_old(&mut client, &model, &hooks).await?;
        let active = {
            let m = model.lock().unwrap();
            m.seqs
                .iter()
                .find(|s| s.phase == Phase::Uploading)
                .map(|s| (s.name.clone(), s.session.clone()))
        };
        let (seq, session) = match active {
            Some(a) => a,
            None => {
                // Names and tokens must not be lost to a kill: no kill during setup.
                let _guard = setup.lock().await;
                create_sequence(&mut client, &model, &mut rng).await?
            }
        };
        let uploads: Vec<_> = (0..TOPICS)
            .map(|i| {
                upload(
                    client.clone(),
                    Arc::clone(&model),
                    Arc::clone(&hooks),
                    seq.clone(),
                    i,
                )
            })
            .collect();
        for r in futures::future::join_all(uploads).await {
            r?;
        }
        set_phase(&model, &seq, Phase::Finalizing);
        hooks.finalize.notify_one();
        client.finalize(&session).await?;
        set_phase(&model, &seq, Phase::Finalized);
    }
}

/// Delete the oldest finalized sequences beyond [`KEEP_FINALIZED`].
async fn delete_old(
    client: &mut Client,
    model: &Mutex<Model>,
    hooks: &Hooks,
) -> Result<(), Status> {
    loop {
        let oldest = {
            let m = model.lock().unwrap();
            let done: Vec<&SeqModel> = m
                .seqs
                .iter()
                .filter(|s| s.phase == Phase::Finalized)
                .collect();
            (done.len() > KEEP_FINALIZED).then(|| done[0].name.clone())
        };
        let Some(old) = oldest else {
            return Ok(());
        };
        set_phase(model, &old, Phase::Deleting);
        hooks.delete.notify_one();
        client
            .action("sequence_delete", json!({ "locator": old }))
            .await?;
        model.lock().unwrap().seqs.retain(|s| s.name != old);
    }
}

fn set_phase(model: &Mutex<Model>, seq: &str, phase: Phase) {
    let mut m = model.lock().unwrap();
    m.seqs.iter_mut().find(|s| s.name == seq).unwrap().phase = phase;
}

async fn create_sequence(
    client: &mut Client,
    model: &Mutex<Model>,
    rng: &mut Rng,
) -> Result<(String, String), Status> {
    let n = {
        let mut m = model.lock().unwrap();
        m.next_seq += 1;
        m.next_seq
    };
    let seq = format!("crash_{n}");
    client
        .action(
            "sequence_create",
            json!({ "locator": seq, "user_metadata": {} }),
        )
        .await?;
    let (session, _) = client.open_session(&seq).await;
    let mut topics = Vec::new();
    for i in 0..TOPICS {
        let name = format!("t{i}");
        let token = client
            .create_topic(&session, &format!("{seq}/{name}"), "crash_test")
            .await?;
        let batches = rng.range(20, 40) as usize;
        let plan = (0..batches).map(|_| rng.range(200, 700) as usize).collect();
        topics.push(TopicModel {
            name,
            token,
            plan,
            sent: 0,
            acked: 0,
            uploaded: false,
        });
    }
    model.lock().unwrap().seqs.push(SeqModel {
        name: seq.clone(),
        session: session.clone(),
        topics,
        phase: Phase::Uploading,
    });
    Ok((seq, session))
}

/// Upload (or resume) one topic from the batch after what the server holds, with durable acks.
async fn upload(
    mut client: Client,
    model: Arc<Mutex<Model>>,
    hooks: Arc<Hooks>,
    seq: String,
    topic: usize,
) -> Result<(), Status> {
    let (name, token, plan, start, uploaded) = {
        let mut m = model.lock().unwrap();
        let t = seq_topic(&mut m, &seq, topic);
        (
            t.name.clone(),
            t.token.clone(),
            t.plan.clone(),
            t.sent,
            t.uploaded,
        )
    };
    if uploaded {
        return Ok(());
    }
    let locator = format!("{seq}/{name}");
    let descriptor = arrow_flight::FlightDescriptor::new_cmd(
        json!({ "resource_locator": locator, "topic_uuid": token, "ack": "durable" }).to_string(),
    );
    let counter = Arc::clone(&model);
    let seq_name = seq.clone();
    let batches = futures::stream::iter(start..plan.len()).map(move |b| {
        let mut m = counter.lock().unwrap();
        let t = seq_topic(&mut m, &seq_name, topic);
        t.sent = t.sent.max(b + 1);
        Ok(recording::batch(topic, b, t.plan[b]))
    });
    let messages = arrow_flight::encode::FlightDataEncoderBuilder::new()
        .with_schema(recording::schema())
        .with_flight_descriptor(Some(descriptor))
        .build(batches)
        .filter_map(|m| async move { m.ok() });
    let mut results = match client.inner.do_put(messages).await {
        Ok(r) => r.into_inner(),
        // The previous stream ended after the server marked the topic uploaded.
        Err(s)
            if s.code() == Code::FailedPrecondition
                && s.message().contains("already uploaded")
                && start == plan.len() =>
        {
            seq_topic(&mut model.lock().unwrap(), &seq, topic).uploaded = true;
            return Ok(());
        }
        Err(s) => return Err(s),
    };
    while let Some(r) = results.message().await? {
        let ack: Value = serde_json::from_slice(&r.app_metadata)
            .map_err(|e| Status::internal(format!("ack is not JSON: {e}")))?;
        let n = ack["durable_batches"]
            .as_u64()
            .ok_or_else(|| Status::internal(format!("ack without durable_batches: {ack}")))?;
        {
            let mut m = model.lock().unwrap();
            let t = seq_topic(&mut m, &seq, topic);
            t.acked = t.acked.max(start + n as usize);
        }
        hooks.acks.fetch_add(1, Ordering::AcqRel);
        hooks.ack.notify_one();
    }
    seq_topic(&mut model.lock().unwrap(), &seq, topic).uploaded = true;
    Ok(())
}

#[test]
fn recording_check_accepts_prefixes_and_rejects_damage() {
    let plan = [3, 2, 4];
    let full: Vec<_> = (0..3)
        .map(|b| recording::sorted_batch(0, b, plan[b]))
        .collect();
    assert_eq!(recording::check(0, &plan, &[]), Ok(0));
    assert_eq!(recording::check(0, &plan, &full[..2]), Ok(2));
    assert_eq!(recording::check(0, &plan, &full), Ok(3));
    // A partial batch, a duplicated batch, a missing batch, another topic's data.
    assert!(recording::check(0, &plan, &[full[0].slice(0, 2)]).is_err());
    assert!(recording::check(0, &plan, &[full[0].clone(), full[0].clone()]).is_err());
    assert!(recording::check(0, &plan, &[full[0].clone(), full[2].clone()]).is_err());
    assert!(recording::check(1, &plan, &full[..1]).is_err());
}
