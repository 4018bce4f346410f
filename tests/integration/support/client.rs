//! An HTTP client that behaves like a browser: its own cookie jar, the
//! CSRF token read from pages, and the headers a test adds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use super::*;
use reqwest::{StatusCode, header};

fn http_client() -> reqwest::Client {
    // Cargo unifies reqwest's features: the tests' client uses the worker's TLS set-up.
    timetracker::outbound::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// One part of a multipart form ([`TestClient::post_multipart`]).
pub struct FormPart<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub value: &'a [u8],
}

impl<'a> FormPart<'a> {
    pub fn field(name: &'a str, value: &'a [u8]) -> Self {
        Self {
            name,
            file_name: None,
            value,
        }
    }

    pub fn file(name: &'a str, file_name: &'a str, value: &'a [u8]) -> Self {
        Self {
            name,
            file_name: Some(file_name),
            value,
        }
    }
}

/// An HTTP client that keeps cookies like a browser and finds CSRF tokens in pages.
#[derive(Clone)]
pub struct TestClient {
    pub base: String,
    http: reqwest::Client,
    jar: Arc<Mutex<HashMap<String, String>>>,
    /// Sent with every request (e.g. `DNT: 1`, `X-Forwarded-For`).
    headers: reqwest::header::HeaderMap,
}

impl TestClient {
    /// A client with an empty cookie jar for the app at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: http_client(),
            jar: Arc::new(Mutex::new(HashMap::new())),
            headers: reqwest::header::HeaderMap::new(),
        }
    }

    /// The same client (sharing its cookies) that also sends `name: value`
    /// with every request.
    pub fn with_header(&self, name: &'static str, value: &str) -> Self {
        let mut client = self.clone();
        client.headers.insert(
            name,
            reqwest::header::HeaderValue::from_str(value).expect("header value"),
        );
        client
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().expect("jar");
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.jar.lock().expect("jar");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let Some((name, rest)) = value.split_once('=') else {
                continue;
            };
            let cookie_value = rest.split(';').next().unwrap_or_default();
            if cookie_value.is_empty() || value.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), cookie_value.to_owned());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep_cookies(&r);
        r
    }

    /// The body of what `GET path` answers, whatever its status.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// The status `GET path` answers with.
    pub async fn get_status(&self, path: &str) -> StatusCode {
        self.get(path).await.status()
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&r);
        r
    }

    /// Posts a `multipart/form-data` body of `parts` in their order, as a
    /// browser sends a form with a file: a part with a file name is a file
    /// (`application/octet-stream`, whatever its name says). No CSRF field
    /// is added: see [`Self::upload`].
    pub async fn post_multipart(&self, path: &str, parts: &[FormPart<'_>]) -> reqwest::Response {
        const BOUNDARY: &str = "----timetracker-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match part.file_name {
                Some(file) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                        part.name
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", part.name)
                        .as_bytes(),
                ),
            }
            body.extend_from_slice(part.value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.post_raw_body(
            path,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            body,
        )
        .await
    }

    /// Posts `body` as it is, with this `Content-Type` (no CSRF token added).
    pub async fn post_raw_body(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&r);
        r
    }

    /// Uploads `bytes` as the file field `field` of the form at `path`,
    /// the page's CSRF token first, as the app's upload forms send it.
    pub async fn upload(
        &self,
        path: &str,
        field: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let token = self.csrf_token("/profile").await;
        self.post_multipart(
            path,
            &[
                FormPart::field("csrf_token", token.as_bytes()),
                FormPart::file(field, file_name, bytes),
            ],
        )
        .await
    }

    /// The CSRF token a page rendered for this client.
    pub async fn csrf_token(&self, page: &str) -> String {
        let html = self.get(page).await.text().await.expect("body");
        csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {page}"))
    }

    /// Posts a form the app must accept: it answers 303 See Other (the
    /// post-redirect-get), or the test fails showing the page it got.
    /// Returns where it redirects.
    pub async fn submit(&self, path: &str, form: &[(&str, &str)]) -> String {
        let r = self.post_form(path, form).await;
        if r.status() != StatusCode::SEE_OTHER {
            let status = r.status();
            let page = r.text().await.unwrap_or_default();
            panic!("POST {path}: {status}, not a redirect:\n{page}");
        }
        location(&r)
    }

    /// The status [`Self::post_form`] answers with.
    pub async fn post_status(&self, path: &str, form: &[(&str, &str)]) -> StatusCode {
        self.post_form(path, form).await.status()
    }

    /// Posts a form with the CSRF token taken from `/profile` (signed in) or `/login`.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let page = if self.cookie("tt_session").is_some() {
            "/profile"
        } else {
            "/login"
        };
        let token = self.csrf_token(page).await;
        let mut fields = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_raw(path, &fields).await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let token = self.csrf_token("/login").await;
        self.post_raw(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Creates an API token on the profile page (`expires` in days, or empty
    /// for none) and returns the secret shown once.
    pub async fn api_token(&self, name: &str, expires: &str) -> String {
        let r = self
            .post_form(
                "/profile/tokens",
                &[("name", name), ("expires_in_days", expires)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "post, redirect, get");
        let r = self.get(&location(&r)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = r.text().await.expect("page");
        let marker = r#"<code id="new-token">"#;
        let start = page.find(marker).expect("token shown") + marker.len();
        let end = page[start..].find('<').expect("end") + start;
        page[start..end].to_owned()
    }

    /// Requests a background export of November 2026 in `format`, with
    /// `extra` form fields.
    pub async fn request_export(&self, format: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![
            ("format", format),
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
        ];
        form.extend_from_slice(extra);
        self.post_form("/exports", &form).await
    }

    pub async fn submit_setup(&self, username: &str, telemetry: &str) -> reqwest::Response {
        let token = self.csrf_token("/setup").await;
        self.post_setup(&token, username, telemetry).await
    }

    /// Posts the setup form with a CSRF token this client already has.
    pub async fn post_setup(
        &self,
        token: &str,
        username: &str,
        telemetry: &str,
    ) -> reqwest::Response {
        self.post_raw(
            "/setup",
            &[
                ("csrf_token", token),
                ("token", SETUP_TOKEN),
                ("username", username),
                ("email", "admin@example.org"),
                ("password", ADMIN_PASSWORD),
                ("password_confirm", ADMIN_PASSWORD),
                ("timezone", PEOPLE_TIMEZONE),
                ("telemetry", telemetry),
            ],
        )
        .await
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The first export download link (`/exports/{id}/download`) in a page.
pub fn download_link(page: &str) -> Option<String> {
    page.match_indices("/exports/").find_map(|(at, _)| {
        let link = &page[at..at + page[at..].find('"')?];
        link.ends_with("/download").then(|| link.to_owned())
    })
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
