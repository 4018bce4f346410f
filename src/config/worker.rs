//! The worker: its listener, its pace, and how long finished work is kept.

use std::{net::SocketAddr, time::Duration};

use super::Vars;

#[derive(Debug, Clone)]
pub struct Worker {
    /// Internal `/metrics` and health listener (`WORKER_METRICS_ADDR`).
    pub metrics_addr: SocketAddr,
    /// Jobs a worker runs at once per queue (`WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// Heartbeat; a worker silent for three of them is presumed dead (`WORKER_HEARTBEAT_SECONDS`).
    pub heartbeat: Duration,
    /// How often the maintenance job runs (`MAINTENANCE_INTERVAL_SECONDS`).
    pub maintenance_interval: Duration,
    /// Finished jobs are deleted after this long (`JOB_RETENTION_DAYS`).
    pub job_retention: Duration,
    /// Dead jobs are deleted after this long (`DEAD_JOB_RETENTION_DAYS`).
    pub dead_job_retention: Duration,
    /// Export files are deleted this long after they were built (`EXPORT_RETENTION_DAYS`).
    pub export_retention: Duration,
}

impl Worker {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        Ok(Self {
            metrics_addr: vars.parsed("WORKER_METRICS_ADDR", "127.0.0.1:9465")?,
            concurrency: vars.positive("WORKER_CONCURRENCY", "16")?,
            heartbeat: vars.seconds("WORKER_HEARTBEAT_SECONDS", "2")?,
            maintenance_interval: vars.seconds("MAINTENANCE_INTERVAL_SECONDS", "3600")?,
            job_retention: vars.days("JOB_RETENTION_DAYS", "14")?,
            dead_job_retention: vars.days("DEAD_JOB_RETENTION_DAYS", "90")?,
            export_retention: vars.days("EXPORT_RETENTION_DAYS", "7")?,
        })
    }
}
