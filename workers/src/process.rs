//! This worker process: its name and its heartbeat.
//!
//! Rules:
//! - every process beats its row in `worker_processes` (host, pid, queues)
//!   once a heartbeat, so the job console lists the processes and the jobs
//!   each holds; a process that stops cleanly removes its row;
//! - pausing a queue is not this process's business: a pause is a row in
//!   `queue_pauses` and the fetch skips that queue's jobs in the database (a
//!   trigger on `apalis.jobs`, migration `queue_pause_at_fetch`). A gate in
//!   the process in front of the apalis service kept apalis from driving a
//!   fetch already in flight when the pause came, which then held its
//!   transaction open through the pause and could stall the queue after the
//!   resume.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use sqlx::PgPool;
use timetracker::db;
use tokio::sync::watch;

/// A worker process: its name and the queues it serves.
#[derive(Clone)]
pub struct Process {
    name: Arc<str>,
    host: Arc<str>,
    queues: BTreeSet<&'static str>,
}

impl Process {
    /// A process-unique name: host and a random suffix.
    pub fn new() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self {
            name: format!("{host}-{}", &suffix[..12]).into(),
            host: host.into(),
            queues: BTreeSet::new(),
        }
    }

    /// Adds `queue` to the queues this process says it serves.
    pub fn serve(&mut self, queue: &'static str) {
        self.queues.insert(queue);
    }

    /// The apalis worker name of `queue`: unique per process and restart (a
    /// reused name would leave a killed predecessor's jobs stuck in `Running`).
    pub fn worker_name(&self, queue: &str, restarts: usize) -> String {
        match restarts {
            0 => format!("{}/{queue}", self.name),
            n => format!("{}/{queue}/{n}", self.name),
        }
    }

    /// Beats every `interval` until `stop`; then leaves the list of processes.
    pub async fn run(self, pool: PgPool, interval: Duration, mut stop: watch::Receiver<bool>) {
        let queues: Vec<&str> = self.queues.iter().copied().collect();
        let beat = db::queues::Beat {
            name: &self.name,
            host: &self.host,
            pid: std::process::id() as i32,
            queues: &queues,
        };
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            if let Err(e) = db::queues::beat(&pool, &beat).await {
                tracing::warn!(error = %e, "worker heartbeat failed");
            }
        }
        if let Err(e) = db::queues::depart(&pool, &self.name).await {
            tracing::debug!(error = %e, "could not remove this process from the list");
        }
    }
}

impl Default for Process {
    fn default() -> Self {
        Self::new()
    }
}
