//! The real worker runtime, in the test's process: run until idle, or
//! keep running until stopped.

use std::time::Duration;

use sqlx::PgPool;
use timetracker::db;
use tokio::sync::oneshot;

/// A worker process (the real runtime, in this test's process) and its stop switch.
pub struct RunningWorker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningWorker {
    pub fn start(worker: timetracker_worker::Worker) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(worker.run(async move {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            task,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .await
            .expect("join")
            .expect("worker stopped cleanly");
    }
}

/// Runs `worker` (the real runtime) until no job of `queues` is due or running.
pub async fn run_worker_until_idle(
    worker: timetracker_worker::Worker,
    pool: &PgPool,
    queues: &[&str],
) {
    let (tx, rx) = oneshot::channel::<()>();
    let worker = tokio::spawn(worker.run(async move {
        let _ = rx.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Let the worker register and take its first batch before judging idleness.
    tokio::time::sleep(Duration::from_millis(200)).await;
    loop {
        let outstanding = db::jobs::outstanding(pool, queues)
            .await
            .expect("count jobs");
        if outstanding == 0 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            let jobs: Vec<(String, String, i32, Option<serde_json::Value>)> =
                sqlx::query_as("SELECT job_type, status, attempts, last_result FROM apalis.jobs")
                    .fetch_all(pool)
                    .await
                    .unwrap_or_default();
            panic!("jobs still outstanding after 30 s: {outstanding}: {jobs:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = tx.send(());
    worker.await.expect("worker task").expect("worker ran");
}
