//! The state every handler shares: the pool, the configuration, the keys.
//! Handlers import it from here, not from the file that builds the router.

use std::{
    ops::Deref,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use sqlx::PgPool;

use crate::{auth::Keys, config::Config, db};

/// Shared, cheap-to-clone state of the web process.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

pub struct StateInner {
    pub pool: PgPool,
    pub config: Config,
    pub keys: Keys,
    /// The OpenID provider, when single sign-on is configured.
    pub oidc: Option<crate::auth::oidc::Provider>,
    /// Latched once setup is seen complete; setup can never be undone.
    pub setup_done: AtomicBool,
}

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

impl AppState {
    /// The state of a process that has not yet seen setup complete.
    pub fn new(pool: PgPool, config: Config, keys: Keys) -> Self {
        let oidc = config.oidc.clone().and_then(|oidc| {
            crate::auth::oidc::Provider::new(oidc, &config.web.public_url)
                .inspect_err(|e| tracing::error!(error = %e, "single sign-on cannot start"))
                .ok()
        });
        Self(Arc::new(StateInner {
            pool,
            config,
            keys,
            oidc,
            setup_done: AtomicBool::new(false),
        }))
    }

    /// Whether the first-run setup has completed (cached once true).
    pub async fn setup_complete(&self) -> Result<bool, sqlx::Error> {
        if self.setup_done.load(Ordering::Acquire) {
            return Ok(true);
        }
        let done = db::installation::setup_complete(&self.pool).await?;
        if done {
            self.setup_done.store(true, Ordering::Release);
        }
        Ok(done)
    }
}
