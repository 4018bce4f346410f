//! Named assertions on responses: what a test expects of an answer, said
//! once, failing with what came instead.

use reqwest::{Response, StatusCode};

use super::location;

/// A form's post-redirect-get: 303 See Other. Returns where it points.
#[track_caller]
pub fn assert_is_redirect(response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{} {}: expected a redirect",
        response.url().path(),
        response.status()
    );
    location(response)
}

/// A 303 See Other to exactly `to`.
#[track_caller]
pub fn assert_redirects_to(response: &Response, to: &str) {
    let target = assert_is_redirect(response);
    assert_eq!(target, to, "{} redirected elsewhere", response.url().path());
}

/// A refused form: 422, the page saying `message`. Returns the page.
pub async fn assert_form_error(response: Response, message: &str) -> String {
    let status = response.status();
    let page = response.text().await.expect("page");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains(message),
        "no {message:?} in the page:\n{page}"
    );
    page
}
