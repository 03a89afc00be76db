//! The seal queue and its worker threads (see the compactor module doc).

use super::context::SealContext;
use super::job::SealJob;
use super::seal;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

#[derive(Default)]
struct State {
    queue: VecDeque<Uuid>,
    jobs: HashMap<Uuid, SealJob>,
    busy: HashSet<Uuid>,
    unsealed: HashMap<Uuid, u64>,
    stop: bool,
}

impl State {
    /// The oldest queued job whose topic no worker is sealing, marked busy; `None` when every
    /// queued topic is busy (its job waits) or nothing is queued.
    fn take_next(&mut self) -> Option<SealJob> {
        loop {
            let i = self.queue.iter().position(|id| !self.busy.contains(id))?;
            let id = self.queue.remove(i)?;
            // A queue entry without a job was forgotten (topic deleted): skip it.
            if let Some(job) = self.jobs.remove(&id) {
                self.busy.insert(id);
                return Some(job);
            }
        }
    }
}

/// The compactor's queue and workers.
#[derive(Default)]
pub struct Compactor {
    state: Mutex<State>,
    changed: Condvar,
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Compactor {
    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a seal panicked; the queue itself stays consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start `threads` worker threads (at least one).
    pub fn start(self: &Arc<Self>, ctx: Arc<SealContext>, threads: usize) -> std::io::Result<()> {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        for i in 0..threads.max(1) {
            let me = Arc::clone(self);
            let ctx = Arc::clone(&ctx);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("tessera-compactor-{i}"))
                    .spawn(move || me.run(&ctx))?,
            );
        }
        Ok(())
    }

    /// Stop the workers after their current jobs and wait for them.
    pub fn stop(&self) {
        self.state().stop = true;
        self.changed.notify_all();
        let handles = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for h in handles {
            let _ = h.join();
        }
    }

    /// Queue a seal (merging with a queued one: `force` wins).
    pub fn request(&self, job: SealJob) {
        let mut st = self.state();
        let id = job.id;
        match st.jobs.get_mut(&id) {
            Some(existing) => existing.force |= job.force,
            None => {
                st.jobs.insert(id, job);
                st.queue.push_back(id);
            }
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Account `bytes` more unsealed data for a topic; returns the new total.
    pub fn add_unsealed(&self, id: Uuid, bytes: u64) -> u64 {
        let mut st = self.state();
        let v = st.unsealed.entry(id).or_default();
        *v += bytes;
        *v
    }

    /// Account `bytes` sealed for a topic.
    pub fn sub_unsealed(&self, id: Uuid, bytes: u64) {
        let mut st = self.state();
        if let Some(v) = st.unsealed.get_mut(&id) {
            *v = v.saturating_sub(bytes);
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Block while a topic has more than `limit` unsealed bytes (back-pressure), up to `max_wait`.
    pub fn wait_below(&self, id: Uuid, limit: u64, max_wait: Duration) {
        let deadline = std::time::Instant::now() + max_wait;
        let mut st = self.state();
        while st.unsealed.get(&id).copied().unwrap_or(0) > limit && !st.stop {
            let now = std::time::Instant::now();
            if now >= deadline {
                tracing::warn!(topic = %id, "back-pressure wait timed out; compaction is behind");
                return;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Wait until the topic has no queued or running seal.
    pub fn wait_idle(&self, id: &Uuid) {
        let mut st = self.state();
        while (st.jobs.contains_key(id) || st.busy.contains(id)) && !st.stop {
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Drop a queued seal and forget the topic's accounting (topic deleted); waits for a
    /// running seal of it to end.
    pub fn forget(&self, id: &Uuid) {
        let mut st = self.state();
        st.jobs.remove(id);
        st.queue.retain(|q| q != id);
        st.unsealed.remove(id);
        while st.busy.contains(id) && !st.stop {
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn run(&self, ctx: &SealContext) {
        loop {
            let job = {
                let mut st = self.state();
                loop {
                    if st.stop {
                        return;
                    }
                    if let Some(job) = st.take_next() {
                        break job;
                    }
                    st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
                }
            };
            let sealed = |bytes| self.sub_unsealed(job.id, bytes);
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                seal::seal_topic(ctx, &job, &sealed)
            }));
            match res {
                Ok(Ok(n)) if n > 0 => tracing::debug!(topic = %job.topic, chunks = n, "sealed"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(sequence = %job.sequence, topic = %job.topic, error = %e, "seal failed; data stays in the WAL")
                }
                Err(_) => {
                    tracing::error!(topic = %job.topic, "seal panicked; data stays in the WAL")
                }
            }
            self.state().busy.remove(&job.id);
            self.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: Uuid) -> SealJob {
        SealJob {
            sequence: "s".into(),
            topic: id.to_string(),
            id,
            force: false,
        }
    }

    #[test]
    fn a_busy_topic_waits_and_others_go_first() {
        let c = Compactor::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        c.request(job(a));
        let mut st = c.state();
        assert_eq!(st.take_next().map(|j| j.id), Some(a));
        drop(st);
        // A is being sealed; new requests for A and B arrive.
        c.request(job(a));
        c.request(SealJob {
            force: true,
            ..job(a)
        });
        c.request(job(b));
        let mut st = c.state();
        assert_eq!(st.take_next().map(|j| j.id), Some(b), "A is busy: B first");
        assert!(st.take_next().is_none(), "A still busy, B busy");
        st.busy.remove(&a);
        let again = st.take_next().expect("A's queued job, once A is free");
        assert_eq!(again.id, a);
        assert!(again.force, "the two requests for A merged, force kept");
        assert!(st.queue.is_empty() && st.jobs.is_empty());
    }

    #[test]
    fn forgotten_topics_are_skipped() {
        let c = Compactor::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        c.request(job(a));
        c.request(job(b));
        c.state().jobs.remove(&a); // as `forget` leaves a stale entry behind
        assert_eq!(c.state().take_next().map(|j| j.id), Some(b));
        assert!(c.state().take_next().is_none());
    }
}
