//! Admin: what leaves the server. Channel states and where they come from,
//! the exact install ping, the outbox, the last payloads sent, and explicit
//! on/off switches. Never shows a key or a secret.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::web::{
    Layout,
    confirm::{self, Question},
    flash::{self, Flash},
    render,
};
use crate::{
    analytics::{
        Event,
        events::CATALOGUE,
        install_ping::{self, PingKind},
        record,
    },
    auth::{AdminUser, CurrentUser},
    db,
    domain::ValidationError,
    error::AppError,
    http::extract::{Form, Query},
    jobs::{self, SendInstallPing},
    state::AppState,
};

struct DeliveryRow {
    sent_at: chrono::DateTime<chrono::Utc>,
    channel: String,
    events: i32,
    result: String,
    status: Option<i32>,
    payload_json: String,
}

#[derive(Template)]
#[template(path = "admin/telemetry.html")]
struct TelemetryPage {
    layout: Layout,
    analytics_on: bool,
    analytics_source: String,
    configured: bool,
    debug: bool,
    posthog_host: String,
    analytics_error: Option<String>,
    counts: Vec<(String, i64)>,
    oldest_pending: Option<String>,
    /// Dead, retrying and waiting events matching the filter, each with its
    /// properties as JSON.
    undelivered: Vec<(db::analytics::Undelivered, String)>,
    /// How many match the filter (more than shown when over the limit).
    matching: i64,
    /// The filter, as chosen (empty for any).
    event: String,
    event_state: String,
    event_names: Vec<&'static str>,
    event_states: [&'static str; 3],
    install_active: bool,
    install_source: String,
    last_ping: Option<String>,
    install_id: String,
    ping_json: String,
    deliveries: Vec<DeliveryRow>,
    flags: Vec<FlagRow>,
}

struct FlagRow {
    name: &'static str,
    description: &'static str,
    value: bool,
    source: &'static str,
}

/// The undelivered events' filter, as in the page's address and its forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventQuery {
    /// A catalogue event name.
    event: String,
    /// `dead`, `retrying` or `waiting`.
    state: String,
}

impl EventQuery {
    fn filter(&self) -> Result<db::analytics::EventFilter, AppError> {
        let pick = |raw: &str, from: &[&'static str], field: &'static str, message: &str| {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            from.iter()
                .copied()
                .find(|x| *x == raw)
                .map(Some)
                .ok_or_else(|| AppError::from(ValidationError::new(field, message)))
        };
        let names: Vec<&'static str> = CATALOGUE.iter().map(|s| s.name).collect();
        Ok(db::analytics::EventFilter {
            event: pick(
                &self.event,
                &names,
                "event",
                "Choose an event from the list.",
            )?,
            state: pick(
                &self.state,
                &db::analytics::UNDELIVERED_STATES,
                "state",
                "Choose dead, retrying or waiting.",
            )?,
        })
    }

    /// The filter's fields, to carry in a form.
    fn carry(&self) -> Vec<(&'static str, String)> {
        vec![
            ("event", self.event.trim().to_owned()),
            ("state", self.state.trim().to_owned()),
        ]
    }
}

pub async fn show(
    State(state): State<AppState>,
    admin: AdminUser,
    Flash(n): Flash,
    Query(q): Query<EventQuery>,
) -> Result<Response, AppError> {
    let filter = q.filter()?;
    let enabled = db::analytics::enabled(&state.pool).await?;
    let configured = state.config.analytics.posthog_api_key.is_some();
    let debug = state.config.analytics.debug;
    let installation = db::installation::get(&state.pool).await?;
    let users = db::users::count(&state.pool).await?;
    let queue = db::analytics::queue_state(&state.pool).await?;
    let deliveries = db::analytics::recent_deliveries(&state.pool, 10).await?;
    let mut flag_rows = Vec::new();
    for flag in crate::flags::FLAGS {
        let (value, source) = crate::flags::value(&state.pool, &state.config, flag.name).await?;
        flag_rows.push(FlagRow {
            name: flag.name,
            description: flag.description,
            value,
            source: source.describe(),
        });
    }
    let page = TelemetryPage {
        layout: Layout::for_user("Telemetry", &admin.0).with_notice(n),
        analytics_on: enabled && (configured || debug),
        analytics_source: match (enabled, configured || debug) {
            (true, true) => "switched on by an administrator".into(),
            (true, false) => {
                "switched on by an administrator, but no POSTHOG_API_KEY is configured".into()
            }
            (false, _) => "off (the default) until an administrator switches it on".into(),
        },
        configured,
        debug,
        posthog_host: state.config.analytics.posthog_host.clone(),
        analytics_error: db::analytics::error(&state.pool)
            .await?
            .map(|(e, at)| format!("{e} ({})", at.format("%Y-%m-%d %H:%M UTC"))),
        counts: queue.counts,
        matching: db::analytics::count_undelivered(&state.pool, filter).await?,
        event: q.event.trim().to_owned(),
        event_state: q.state.trim().to_owned(),
        event_names: CATALOGUE.iter().map(|s| s.name).collect(),
        event_states: db::analytics::UNDELIVERED_STATES,
        undelivered: db::analytics::undelivered(&state.pool, filter, UNDELIVERED_SHOWN)
            .await?
            .into_iter()
            .map(|e| {
                let json = e.properties.to_string();
                (e, json)
            })
            .collect(),
        oldest_pending: queue.oldest_pending_seconds.map(|s| format!("{s:.0} s")),
        install_active: installation.telemetry_consent
            && !state.config.analytics.telemetry_forced_off
            && state.config.analytics.telemetry_key.is_some(),
        install_source: install_source(&state, installation.telemetry_consent).into(),
        last_ping: installation
            .last_ping_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        install_id: installation.install_id.to_string(),
        ping_json: serde_json::to_string_pretty(&install_ping::build(
            install_ping::PingKind::next(installation.last_ping_version.as_deref()),
            installation.install_id,
            installation.created_at,
            users,
        ))
        .map_err(anyhow::Error::from)?,
        flags: flag_rows,
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryRow {
                payload_json: serde_json::to_string_pretty(&d.payload).unwrap_or_default(),
                sent_at: d.sent_at,
                channel: d.channel,
                events: d.events,
                result: d.result,
                status: d.status,
            })
            .collect(),
    };
    record(
        &mut *state.pool.acquire().await?,
        Some(admin.0.user.id),
        &Event::TelemetryViewed,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    enabled: String,
}

/// Sets product analytics to an explicit state (never a blind toggle).
pub async fn set_analytics(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    let enabled = match form.enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("enabled must be on or off".into())),
    };
    if enabled && state.config.analytics.posthog_api_key.is_none() && !state.config.analytics.debug
    {
        return Err(AppError::Conflict {
            code: "analytics_not_configured",
            message: "Set POSTHOG_API_KEY first: without it nothing can be sent.".into(),
        });
    }
    db::analytics::set_enabled(&state.pool, enabled).await?;
    // Recorded after the switch: turning analytics off is not itself sent.
    let changed = Event::TelemetryChanged {
        channel: "product",
        enabled,
    };
    record(
        &mut *state.pool.acquire().await?,
        Some(admin.0.user.id),
        &changed,
    )
    .await?;
    tracing::info!(
        enabled,
        admin_id = admin.0.user.id,
        "product analytics switched"
    );
    let notice = if enabled {
        "Product analytics is on."
    } else {
        "Product analytics is off; queued events will not be sent."
    };
    Ok(flash::redirect(&state, "/admin/telemetry", notice))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OptOutForm {
    opt_out: String,
}

/// A user's own choice: no product events about them.
pub async fn set_opt_out(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<OptOutForm>,
) -> Result<Response, AppError> {
    let opt_out = match form.opt_out.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("opt_out must be on or off".into())),
    };
    // The opt-out and the discarding of what still waits commit together, so
    // no event of this user can leave after the answer says it won't.
    let mut tx = state.pool.begin().await?;
    db::analytics::set_opt_out(&mut tx, current.user.id, opt_out).await?;
    let discarded = if opt_out {
        db::analytics::discard_pending_of_user(&mut tx, current.user.id).await?
    } else {
        0
    };
    tx.commit().await?;
    let notice = match (opt_out, discarded) {
        (false, _) => "You are opted in to product analytics.".to_owned(),
        (true, 0) => "You are opted out of product analytics. No event of yours was waiting to be sent.".to_owned(),
        (true, 1) => "You are opted out of product analytics. The 1 event of yours that was waiting to be sent was discarded.".to_owned(),
        (true, n) => format!("You are opted out of product analytics. The {n} events of yours that were waiting to be sent were discarded."),
    };
    Ok(flash::redirect(&state, "/profile", &notice))
}

/// Why install telemetry is in its state.
fn install_source(state: &AppState, consent: bool) -> &'static str {
    if state.config.analytics.telemetry_forced_off {
        "forced off by DO_NOT_TRACK or TIMETRACKER_TELEMETRY=0 in the environment"
    } else if state.config.analytics.telemetry_key.is_none() {
        "no telemetry key is configured in this build or the environment, so pings have nowhere to go"
    } else if consent {
        "chosen by an administrator"
    } else {
        "off (the default) until an administrator chooses to send pings"
    }
}

/// Sets install telemetry to an explicit state; consent given enqueues the install ping.
pub async fn set_install(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    let consent = match form.enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("enabled must be on or off".into())),
    };
    let was = db::installation::get(&state.pool).await?.telemetry_consent;
    let mut tx = state.pool.begin().await?;
    db::installation::set_telemetry_consent(&mut tx, consent).await?;
    let changed = Event::TelemetryChanged {
        channel: "install",
        enabled: consent,
    };
    record(&mut tx, Some(admin.0.user.id), &changed).await?;
    if consent && !was {
        jobs::enqueue(
            &mut tx,
            &SendInstallPing {
                kind: PingKind::Install,
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(
        consent,
        admin_id = admin.0.user.id,
        "install telemetry switched"
    );
    let notice = if consent {
        "Anonymous pings will be sent."
    } else {
        "No pings will be sent."
    };
    Ok(flash::redirect(&state, "/admin/telemetry", notice))
}

/// Sends a heartbeat ping now (with consent only).
pub async fn ping_now(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Response, AppError> {
    let consent = db::installation::get(&state.pool).await?.telemetry_consent;
    if !consent
        || state.config.analytics.telemetry_forced_off
        || state.config.analytics.telemetry_key.is_none()
    {
        return Err(AppError::Conflict {
            code: "telemetry_off",
            message: "Install telemetry is off; nothing is sent.".into(),
        });
    }
    jobs::enqueue(
        &mut *state.pool.acquire().await?,
        &SendInstallPing {
            kind: PingKind::Heartbeat,
        },
    )
    .await?;
    Ok(flash::redirect(
        &state,
        "/admin/telemetry",
        "A ping will be sent in a moment.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeadForm {
    action: String,
    /// One event; empty for every event the filter selects.
    id: String,
    /// `yes` once a discard was confirmed.
    confirm: String,
    /// Without an id: the events acted on (empty fields mean any).
    #[serde(flatten)]
    selection: EventQuery,
}

/// Undelivered events the page lists.
const UNDELIVERED_SHOWN: i64 = 50;

/// "dead tracking.timer_started events", "undelivered events".
fn describe(f: db::analytics::EventFilter) -> String {
    let state = f.state.unwrap_or("undelivered");
    match f.event {
        Some(e) => format!("{state} {e} events"),
        None => format!("{state} events"),
    }
}

/// Retries or discards one undelivered event, or every one the filter selects.
pub async fn dead_events(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<DeadForm>,
) -> Result<Response, AppError> {
    let one = crate::web::optional_id("id", &form.id)?;
    let filter = form.selection.filter()?;
    // Discarding asks first (web::confirm), naming how many it touches.
    if form.action == "discard" && form.confirm != "yes" {
        let question = match one {
            Some(_) => "Discard this event?".to_owned(),
            None => format!(
                "Discard all {} {}?",
                db::analytics::count_undelivered(&state.pool, filter).await?,
                describe(filter)
            ),
        };
        let mut carry = form.selection.carry();
        carry.extend([("action", "discard".to_owned()), ("id", form.id.clone())]);
        return confirm::page(
            &admin.0,
            Question {
                question: &question,
                consequence: "A discarded event is never sent. This cannot be undone.",
                action: "/admin/telemetry/dead",
                button: "Discard",
                danger: true,
                cancel: "/admin/telemetry",
                carry: &carry,
            },
        );
    }
    let notice = match (form.action.as_str(), one) {
        ("retry", Some(id)) => {
            let mut tx = state.pool.begin().await?;
            if !db::analytics::retry_one(&mut tx, id).await? {
                return Err(AppError::NotFound);
            }
            jobs::enqueue_unique(
                &mut tx,
                &crate::jobs::AnalyticsFlush::default(),
                crate::jobs::AnalyticsFlush::KEY,
            )
            .await?;
            tx.commit().await?;
            tracing::info!(event_id = id, "undelivered event retried by admin");
            "The event will be sent with the next delivery.".to_owned()
        }
        ("discard", Some(id)) => {
            if !db::analytics::discard_one(&state.pool, id).await? {
                return Err(AppError::NotFound);
            }
            tracing::info!(event_id = id, "undelivered event discarded by admin");
            "The event was discarded.".to_owned()
        }
        ("retry", None) => {
            let mut tx = state.pool.begin().await?;
            let n = db::analytics::retry_undelivered(&mut tx, filter).await?;
            if n > 0 {
                jobs::enqueue_unique(
                    &mut tx,
                    &crate::jobs::AnalyticsFlush::default(),
                    crate::jobs::AnalyticsFlush::KEY,
                )
                .await?;
            }
            tx.commit().await?;
            tracing::info!(events = n, "undelivered events retried by admin");
            format!(
                "{n} {} will be sent with the next delivery.",
                describe(filter)
            )
        }
        ("discard", None) => {
            let n = db::analytics::discard_undelivered(&state.pool, filter).await?;
            tracing::info!(events = n, "undelivered events discarded by admin");
            format!("{n} {} discarded.", describe(filter))
        }
        _ => {
            return Err(AppError::BadRequest(
                "action must be retry or discard".into(),
            ));
        }
    };
    Ok(flash::redirect(&state, "/admin/telemetry", &notice))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FlagForm {
    name: String,
    value: String,
}

/// Sets the admin's value of a flag (`on`, `off`, or `default` to clear it).
pub async fn set_flag(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    if !crate::flags::FLAGS.iter().any(|f| f.name == form.name) {
        return Err(AppError::NotFound);
    }
    let value = match form.value.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "default" => None,
        _ => {
            return Err(AppError::BadRequest(
                "value must be on, off or default".into(),
            ));
        }
    };
    crate::flags::set_admin(&state.pool, &form.name, value).await?;
    tracing::info!(flag = %form.name, ?value, admin_id = admin.0.user.id, "feature flag set");
    Ok(flash::redirect(&state, "/admin/telemetry", "Flag saved."))
}
