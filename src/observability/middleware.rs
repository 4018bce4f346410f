//! Request middleware: request id and span, HTTP metrics, and the one ERROR
//! line of every 5xx.

use crate::observability::metrics::{
    HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS, HTTP_REQUESTS_IN_FLIGHT,
};
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::{REQUEST, RequestContext};
use crate::error::ErrorLogged;

const REQUEST_ID_HEADER: &str = "x-request-id";

/// Takes a well-formed `X-Request-Id` or makes one, runs the request in a span
/// with it, echoes it, logs one line per request and records HTTP metrics
/// labelled by the matched route template (never the raw path).
pub async fn observe(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    super::sentry::tag_request_id(&request_id);

    let started = Instant::now();
    let in_flight = metrics::gauge!(HTTP_REQUESTS_IN_FLIGHT);
    in_flight.increment(1.0);
    let do_not_track = ["sec-gpc", "dnt"].iter().any(|name| {
        request
            .headers()
            .get(*name)
            .is_some_and(|v| v.as_bytes() == b"1")
    });
    let context = RequestContext {
        id: request_id.clone(),
        do_not_track,
    };
    let mut response = REQUEST
        .scope(context, next.run(request).instrument(span.clone()))
        .await;
    in_flight.decrement(1.0);
    let elapsed = started.elapsed().as_secs_f64();

    let status = response.status();
    let class = format!("{}xx", status.as_u16() / 100);
    metrics::counter!(HTTP_REQUESTS,
        "method" => method.clone(), "route" => route.clone(), "status" => status.as_u16().to_string())
    .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS,
        "method" => method, "route" => route, "status_class" => class)
    .record(elapsed);
    span.in_scope(|| {
        // A 5xx that no handler explained (a rejected header, a layer's own
        // answer): still one ERROR line with the request id.
        if status.is_server_error() && response.extensions().get::<ErrorLogged>().is_none() {
            tracing::error!(
                status = status.as_u16(),
                "request failed with a server error"
            );
        }
        tracing::info!(
            status = status.as_u16(),
            duration_ms = (elapsed * 1000.0).round() as u64,
            "request finished"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

fn is_valid_request_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
