//! This worker process's heartbeat and its queues' pause switches.
//!
//! Rules:
//! - a queue is paused in the database (`queue_pauses`), never in a process:
//!   every worker process reads the table once a heartbeat, in the same
//!   statement that records its own heartbeat (`worker_processes`);
//! - a paused queue's worker takes no new job: its [`Gate`] keeps the apalis
//!   service not ready, so apalis fetches nothing. apalis polls the backend
//!   (which beats the worker's own heartbeat) before the service, so a paused
//!   worker keeps beating and the jobs it holds are not taken for orphans;
//!   a job already running finishes;
//! - gates start closed and open on the first read: a process (re)started
//!   while a queue is paused runs none of its jobs, and a process that cannot
//!   read the table runs nothing it could not run anyway;
//! - when the database cannot be read later, the gates stay as they were.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use apalis::prelude::{Layer, Service};
use futures_util::task::AtomicWaker;
use sqlx::PgPool;
use timetracker::db;
use tokio::sync::watch;

/// The switch in front of one queue's worker.
#[derive(Clone)]
pub struct Gate(Arc<GateState>);

struct GateState {
    paused: AtomicBool,
    waker: AtomicWaker,
}

impl Gate {
    /// Closed until the first read of the pauses.
    fn closed() -> Self {
        Self(Arc::new(GateState {
            paused: AtomicBool::new(true),
            waker: AtomicWaker::new(),
        }))
    }

    /// Sets the gate; returns whether it changed.
    fn set(&self, paused: bool) -> bool {
        let was = self.0.paused.swap(paused, Ordering::SeqCst);
        if was && !paused {
            self.0.waker.wake();
        }
        was != paused
    }
}

/// A tower layer that holds jobs back while its gate is closed.
#[derive(Clone)]
pub struct GateLayer(Gate);

impl<S> Layer<S> for GateLayer {
    type Service = Gated<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Gated {
            gate: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct Gated<S> {
    gate: Gate,
    inner: S,
}

impl<S: Service<R>, R> Service<R> for Gated<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let state = &self.gate.0;
        if state.paused.load(Ordering::SeqCst) {
            state.waker.register(cx.waker());
            // Opened between the load and the registration: go on.
            if state.paused.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.inner.call(request)
    }
}

/// A worker process: its name and the gates of the queues it serves.
#[derive(Clone)]
pub struct Process {
    name: Arc<str>,
    host: Arc<str>,
    gates: BTreeMap<&'static str, Gate>,
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
            gates: BTreeMap::new(),
        }
    }

    /// The gate of `queue`'s worker, created closed on first use.
    pub fn gate(&mut self, queue: &'static str) -> GateLayer {
        GateLayer(self.gates.entry(queue).or_insert_with(Gate::closed).clone())
    }

    /// The apalis worker name of `queue`: unique per process and restart (a
    /// reused name would leave a killed predecessor's jobs stuck in `Running`).
    pub fn worker_name(&self, queue: &str, restarts: usize) -> String {
        match restarts {
            0 => format!("{}/{queue}", self.name),
            n => format!("{}/{queue}/{n}", self.name),
        }
    }

    /// Beats every `interval` and sets the gates, until `stop`; then leaves
    /// the list of processes.
    pub async fn run(self, pool: PgPool, interval: Duration, mut stop: watch::Receiver<bool>) {
        let queues: Vec<&str> = self.gates.keys().copied().collect();
        let beat = db::queues::Beat {
            name: &self.name,
            host: &self.host,
            pid: std::process::id() as i32,
            queues: &queues,
        };
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            match db::queues::beat(&pool, &beat).await {
                Ok(paused) => {
                    self.apply(&paused, first);
                    first = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "worker heartbeat failed; queue pauses unchanged")
                }
            }
        }
        if let Err(e) = db::queues::depart(&pool, &self.name).await {
            tracing::debug!(error = %e, "could not remove this process from the list");
        }
    }

    /// Opens or closes each gate; logs the changes (at the first read, the
    /// queues found paused: the gates start closed).
    fn apply(&self, paused: &[String], first: bool) {
        for (queue, gate) in &self.gates {
            let pause = paused.iter().any(|p| p == queue);
            let changed = gate.set(pause);
            if pause && (changed || first) {
                tracing::info!(queue, "queue paused: no new job of it starts here");
            } else if changed && !first {
                tracing::info!(queue, "queue resumed");
            }
        }
    }
}

impl Default for Process {
    fn default() -> Self {
        Self::new()
    }
}
