//! Builds the web application: routes, middleware (all of it here, in one
//! place) and the two listeners. Tests build it with port 0. The state the
//! handlers share is [`crate::state::AppState`].

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer, set_header::SetResponseHeaderLayer, timeout::TimeoutLayer,
};

use crate::{
    auth::{csrf, keys::random_token},
    config::Config,
    db,
    error::AppError,
    observability::{self, middleware as mw},
    runtime::{STARTUP_PATIENCE, health_router, load_keys},
    state::AppState,
    web,
};

/// A built, bound, not yet running web application.
pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    router: Router,
    metrics_router: Router,
    state: AppState,
}

impl Application {
    /// Connects, checks the schema, binds both listeners (port 0 allowed) and builds the routes.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::connect_lazy(&config, db::Ping::WhenIdle)?;
        if !db::wait_for_schema(&pool, STARTUP_PATIENCE).await? {
            anyhow::bail!("the database schema is not current: run `timetracker migrate` first");
        }
        let keys = load_keys(&config, &pool).await?;
        let state = AppState::new(pool, config, keys);
        announce_setup(&state).await?;

        let listener = TcpListener::bind(state.config.web.http_addr)
            .await
            .with_context(|| format!("HTTP_ADDR {} cannot be bound", state.config.web.http_addr))?;
        let metrics_listener = TcpListener::bind(state.config.web.metrics_addr)
            .await
            .with_context(|| {
                format!(
                    "WEB_METRICS_ADDR {} cannot be bound",
                    state.config.web.metrics_addr
                )
            })?;
        let metrics_router = observability::metrics::router(observability::metrics::install())
            .merge(health_router(state.pool.clone()));
        Ok(Self {
            listener,
            metrics_listener,
            router: router(state.clone()),
            metrics_router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn metrics_port(&self) -> u16 {
        self.metrics_listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(());
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(());
        });
        tokio::spawn(observability::metrics::sample_web(
            self.state.pool.clone(),
            self.state.config.worker.heartbeat,
            rx.clone(),
        ));
        let mut rx2 = rx.clone();
        let mut rx1 = rx;
        let public = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx1.changed().await;
        });
        let internal = axum::serve(self.metrics_listener, self.metrics_router)
            .with_graceful_shutdown(async move {
                let _ = rx2.changed().await;
            });
        tokio::try_join!(public.into_future(), internal.into_future())?;
        Ok(())
    }
}

/// Logs where to complete setup while it is pending; the token is one-time.
async fn announce_setup(state: &AppState) -> anyhow::Result<()> {
    if let Some(url) = setup_url(
        state
            .config
            .auth
            .setup_token
            .as_ref()
            .map(|t| t.expose().as_str()),
        &state.config,
        &state.pool,
    )
    .await?
    {
        tracing::warn!(setup_url = %url, "setup required: open this URL to create the first administrator");
    }
    Ok(())
}

/// The setup URL with its one-time token, or `None` once setup is complete.
pub async fn setup_url(
    fixed_token: Option<&str>,
    config: &Config,
    pool: &PgPool,
) -> anyhow::Result<Option<String>> {
    let token = db::installation::pending_setup_token(pool, &random_token()).await?;
    Ok(token.map(|stored| {
        let token = fixed_token.map(str::to_owned).unwrap_or(stored);
        format!("{}/setup?token={token}", config.web.public_url)
    }))
}

/// All public routes with all middleware. The order, outermost first:
/// a Sentry hub per request and its request context (only with `SENTRY_DSN`);
/// request id, span and metrics; security headers; error rendering; panic
/// catching; timeout; body limit; setup redirect; one-time flash removal;
/// CSRF check.
///
/// Caching: a response that does not say otherwise (only the static files
/// do) is `Cache-Control: no-store`, so no page, API answer or download with
/// someone's data stays in a shared or browser cache. HSTS only when
/// `PUBLIC_URL` is https (a plain-http install would lock itself out).
pub fn router(state: AppState) -> Router {
    let hsts = state
        .config
        .web
        .public_url
        .starts_with("https://")
        .then(|| {
            SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            )
        });
    let middleware = ServiceBuilder::new()
        .layer(from_fn(mw::observe))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .option_layer(hsts)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(from_fn_with_state(state.clone(), web::error_pages::render))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Panicked.into_response()
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(from_fn_with_state(state.clone(), require_setup))
        .layer(from_fn_with_state(state.clone(), web::flash::clear))
        .layer(from_fn_with_state(state.clone(), csrf::verify));

    let router = Router::new()
        .merge(web::router())
        .merge(crate::api::router())
        .route("/static/{file}", get(static_file))
        .fallback(|| async { AppError::NotFound })
        .with_state(state.clone())
        .merge(health_router(state.pool.clone()))
        .layer(middleware);
    if state.config.observability.sentry_dsn.is_none() {
        return router;
    }
    router.layer(
        ServiceBuilder::new()
            .layer(sentry::integrations::tower::NewSentryLayer::<Request>::new_from_top())
            .layer(sentry::integrations::tower::SentryHttpLayer::new().enable_transaction()),
    )
}

/// Until setup completes, everything but setup, health and static files goes to `/setup`.
async fn require_setup(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/setup" || path.starts_with("/health/") || path.starts_with("/static/") {
        return next.run(request).await;
    }
    match state.setup_complete().await {
        Ok(true) => next.run(request).await,
        Ok(false) if path.starts_with("/api/") => AppError::Conflict {
            code: "setup_required",
            message: "Complete the first-run setup at /setup first.".into(),
        }
        .into_response(),
        Ok(false) => Redirect::to("/setup").into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// CSS and scripts are compiled into the binary, so the app needs no files at run time.
async fn static_file(
    crate::http::extract::Path(file): crate::http::extract::Path<String>,
) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return AppError::NotFound.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
