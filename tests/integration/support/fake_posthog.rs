//! A real HTTP server on 127.0.0.1 speaking PostHog's API.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::net::TcpListener;

/// How the fake PostHog answers one request: a status and an optional `Retry-After`.
pub type Answer = (u16, Option<u64>);
type Rule = Box<dyn Fn(&serde_json::Value) -> Answer + Send + Sync>;

/// A real HTTP server on 127.0.0.1 that speaks PostHog's `/batch/` API, records
/// every request body, and answers as the test tells it (200 by default).
#[derive(Clone)]
pub struct FakePostHog {
    pub url: String,
    received: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
    rule: Arc<Mutex<Rule>>,
    flags: Arc<Mutex<serde_json::Value>>,
    delay: Arc<Mutex<Duration>>,
}

impl FakePostHog {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Listens on `addr` (for containers, which reach the host through their
    /// network's gateway); `url` still names the port on 127.0.0.1.
    pub async fn start_on(addr: &str) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind fake PostHog");
        let port = listener.local_addr().expect("addr").port();
        let url = format!("http://127.0.0.1:{port}");
        let fake = Self {
            url,
            received: Arc::new(Mutex::new(Vec::new())),
            rule: Arc::new(Mutex::new(Box::new(|_| (200, None)))),
            flags: Arc::new(Mutex::new(serde_json::json!({ "flags": {} }))),
            delay: Arc::new(Mutex::new(Duration::ZERO)),
        };
        let flags = fake.flags.clone();
        let state = fake.clone();
        let app = axum::Router::new()
            .route(
                "/flags",
                axum::routing::post(move || {
                    let flags = flags.clone();
                    async move { axum::Json(flags.lock().expect("flags").clone()) }
                }),
            )
            .route(
                "/batch/",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let state = state.clone();
                    async move {
                        let json: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let (status, retry_after) = (state.rule.lock().expect("rule"))(&json);
                        state
                            .received
                            .lock()
                            .expect("received")
                            .push((status, json));
                        let delay = *state.delay.lock().expect("delay");
                        tokio::time::sleep(delay).await;
                        let mut response = axum::response::IntoResponse::into_response((
                            axum::http::StatusCode::from_u16(status).expect("status"),
                            r#"{"status":1}"#,
                        ));
                        if let Some(seconds) = retry_after {
                            response.headers_mut().insert("retry-after", seconds.into());
                        }
                        response
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// Answers every following request with `rule(body)`.
    pub fn answer(&self, rule: impl Fn(&serde_json::Value) -> Answer + Send + Sync + 'static) {
        *self.rule.lock().expect("rule") = Box::new(rule);
    }

    /// Holds every following answer this long (the body is recorded first).
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().expect("delay") = delay;
    }

    /// What `/flags?v=2` answers from now on.
    pub fn flags_answer(&self, answer: serde_json::Value) {
        *self.flags.lock().expect("flags") = answer;
    }

    /// Every request body received, with the status it was answered.
    pub fn requests(&self) -> Vec<(u16, serde_json::Value)> {
        self.received.lock().expect("received").clone()
    }

    /// The events PostHog accepted (2xx answers).
    pub fn accepted_events(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|(status, _)| (200..300).contains(status))
            .flat_map(|(_, body)| body["batch"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}
