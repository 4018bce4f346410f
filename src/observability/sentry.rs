//! Error reporting to the operator's Sentry.
//!
//! Rules: no `SENTRY_DSN`, no client and no Sentry traffic at all. What is
//! sent: panics (once, by the panic hook), `error!` events, and the
//! `info!`/`warn!` lines before them as breadcrumbs, each tagged with the
//! service and the request id or job. What is never sent: cookies,
//! authorization or other headers outside a short allow-list, query strings,
//! request bodies, user identity, log fields outside a short allow-list. Our log lines carry no emails, usernames or
//! notes in the first place; [`scrub`] is the second line of defence.

use ::sentry::{
    ClientInitGuard, ClientOptions,
    integrations::tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer},
    protocol::Event,
};
use tracing::{Level, Subscriber};
use tracing_subscriber::{
    Layer,
    filter::{LevelFilter, Targets},
    registry::LookupSpan,
};

use crate::build_info::VERSION;
use crate::config::Config;

/// Log target of the line written when a panic was caught. The panic hook has
/// already reported the panic, so this line is only a breadcrumb.
pub const PANIC_TARGET: &str = "timetracker::panic";

/// The target prefix of this crate's own spans and events.
const OUR_TARGET: &str = "timetracker";

/// Request headers worth keeping on an error event; every other is dropped.
const KEPT_HEADERS: [&str; 4] = ["accept", "content-type", "user-agent", "x-request-id"];

/// Log fields kept on breadcrumbs; every other is dropped. Log lines may
/// carry user ids, the one-time setup link or debug payloads, which stay on
/// the server.
const KEPT_FIELDS: [&str; 8] = [
    "status",
    "duration_ms",
    "method",
    "route",
    "retry_in_seconds",
    "events",
    "rows",
    "bytes",
];

/// Starts the Sentry client when a DSN is configured.
pub fn init(config: &Config, service: &'static str) -> Option<ClientInitGuard> {
    let dsn = config
        .observability
        .sentry_dsn
        .as_ref()?
        .expose()
        .parse()
        .ok()?;
    crate::outbound::install_tls_provider();
    let mut options = ClientOptions::new()
        .release(format!("timetracker@{VERSION}"))
        .environment(config.observability.environment.clone())
        .traces_sample_rate(config.observability.sentry_traces_sample_rate)
        .send_default_pii(false)
        .before_send(|event| Some(scrub(event)));
    options.dsn = Some(dsn);
    let guard = ::sentry::init(options);
    ::sentry::configure_scope(|scope| scope.set_tag("service", service));
    Some(guard)
}

/// The tracing layers for Sentry: `error!` events become Sentry events (but a
/// caught panic's line, the panic being reported by the hook); `info!` and
/// `warn!` lines become breadcrumbs; spans become trace spans only when
/// tracing is sampled at all: every `info` span, and our own `debug` ones too
/// (one per `db` function, kept out of the logs so that a request at the
/// default `LOG_LEVEL=info` does not build a span per query). Static filters,
/// so other callsites cost nothing; no layer at all without a DSN.
pub fn layers<S>(config: &Config) -> Option<impl Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    config.observability.sentry_dsn.as_ref()?;
    let errors = ErrorLayer::new().with_filter(
        Targets::new()
            .with_default(Level::ERROR)
            .with_target(PANIC_TARGET, LevelFilter::OFF),
    );
    let breadcrumbs = BreadcrumbLayer::new().with_filter(LevelFilter::INFO);
    let spans = (config.observability.sentry_traces_sample_rate > 0.0).then(|| {
        SpanLayer::new().with_filter(
            Targets::new()
                .with_default(Level::INFO)
                .with_target(OUR_TARGET, Level::DEBUG),
        )
    });
    Some(errors.and_then(breadcrumbs).and_then(spans))
}

/// Tags the current scope (a request's or a job's own hub) with its request id.
pub fn tag_request_id(request_id: &str) {
    ::sentry::configure_scope(|scope| scope.set_tag("request_id", request_id));
}

/// Removes what must not leave the server from an event about to be sent.
pub fn scrub(mut event: Event<'static>) -> Event<'static> {
    event.user = None;
    // The host name can name a customer's machine; the service tag says enough.
    event.server_name = None;
    for breadcrumb in &mut event.breadcrumbs.values {
        breadcrumb
            .data
            .retain(|field, _| KEPT_FIELDS.contains(&field.as_str()));
    }
    if let Some(request) = &mut event.request {
        request.cookies = None;
        request.data = None;
        request.query_string = None;
        request.env.clear();
        request
            .headers
            .retain(|name, _| KEPT_HEADERS.contains(&name.to_ascii_lowercase().as_str()));
        if let Some(url) = &mut request.url {
            url.set_query(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
    }
    event
}

#[cfg(test)]
mod tests {
    #[test]
    fn scrub_keeps_only_harmless_fields_on_breadcrumbs() {
        use ::sentry::protocol::{Breadcrumb, Map};
        let data: Map<String, serde_json::Value> = [
            ("setup_url", "https://tt.example.com/setup?token=one-time"),
            ("user_id", "42"),
            ("status", "500"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
        let mut event = Event::default();
        event.breadcrumbs.values.push(Breadcrumb {
            data,
            ..Default::default()
        });
        let text = serde_json::to_string(&scrub(event)).expect("serialisable");
        assert!(
            !text.contains("one-time") && !text.contains("user_id"),
            "{text}"
        );
        assert!(text.contains("\"status\""), "{text}");
    }

    use ::sentry::protocol::{Request, User};

    use super::*;

    #[test]
    fn scrub_drops_identity_cookies_secrets_and_query() {
        let event = Event {
            server_name: Some("acme-billing-01".into()),
            user: Some(User {
                email: Some("ada@example.com".into()),
                ..Default::default()
            }),
            request: Some(Request {
                url: "https://tt.example.com/reports?email=ada@example.com"
                    .parse()
                    .ok(),
                cookies: Some("tt_session=abc".into()),
                data: Some("password=hunter2".into()),
                query_string: Some("email=ada@example.com".into()),
                headers: [
                    ("Authorization", "Bearer tt_secret"),
                    ("Cookie", "tt_session=abc"),
                    ("X-CSRF-Token", "csrf"),
                    ("User-Agent", "curl/8"),
                    ("X-Request-Id", "req-1"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let scrubbed = scrub(event);
        let text = serde_json::to_string(&scrubbed).expect("serialisable");
        for secret in [
            "ada@example.com",
            "abc",
            "hunter2",
            "tt_secret",
            "csrf",
            "acme-billing-01",
        ] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        assert!(text.contains("req-1") && text.contains("curl/8"), "{text}");
        assert!(text.contains("/reports"), "{text}");
    }
}
