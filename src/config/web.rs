//! The web process's listeners and the address people use.

use std::net::SocketAddr;

use anyhow::bail;

use super::Vars;

#[derive(Debug, Clone)]
pub struct Web {
    /// Public HTTP listener (`HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// Internal `/metrics` and health listener (`WEB_METRICS_ADDR`).
    pub metrics_addr: SocketAddr,
    /// The URL users type to reach the app (`PUBLIC_URL`), used in printed links.
    pub public_url: String,
}

impl Web {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        let public_url = vars.url("PUBLIC_URL", "http://127.0.0.1:8080");
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("PUBLIC_URL must start with http:// or https://, got {public_url:?}");
        }
        Ok(Self {
            http_addr: vars.parsed("HTTP_ADDR", "127.0.0.1:8080")?,
            metrics_addr: vars.parsed("WEB_METRICS_ADDR", "127.0.0.1:9464")?,
            public_url,
        })
    }
}
