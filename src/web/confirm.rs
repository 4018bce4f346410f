//! Confirmation before anything destructive (delete, revoke, deactivate).
//!
//! Rule: a destructive form acts only when it carries `confirm=yes`. Its
//! handler authorises first and finds the thing, then, without that field,
//! answers with a page that asks ([`page`]) and posts the same form again with
//! it. With JavaScript the question is a native `<dialog>` on the page itself
//! (`data-confirm` on the form, see `static/app.js`), which adds the field;
//! without JavaScript the question page is the fallback, so no click deletes
//! anything by accident either way.

use askama::Template;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Layout, render};
use crate::{auth::CurrentUser, error::AppError};

/// The confirmation field of a destructive form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    confirm: String,
}

impl ConfirmForm {
    pub fn confirmed(&self) -> bool {
        self.confirm == "yes"
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    layout: Layout,
    question: &'a str,
    consequence: &'a str,
    action: &'a str,
    button: &'a str,
    danger: bool,
    cancel: &'a str,
    carry: &'a [(&'a str, String)],
}

/// What to ask before an action.
pub struct Question<'a> {
    /// "Delete the client “Acme”?"
    pub question: &'a str,
    /// What happens, e.g. "This cannot be undone."
    pub consequence: &'a str,
    /// The form's own action, posted again with `confirm=yes`.
    pub action: &'a str,
    /// The button's label, e.g. "Delete".
    pub button: &'a str,
    /// The button looks dangerous (red): the action cannot be undone.
    pub danger: bool,
    /// Where "Cancel" leads.
    pub cancel: &'a str,
    /// Form fields to post again (a bulk action's selection); usually none.
    pub carry: &'a [(&'a str, String)],
}

/// The page that asks, for a request without `confirm=yes`.
pub fn page(current: &CurrentUser, q: Question<'_>) -> Result<Response, AppError> {
    Ok(render(&ConfirmPage {
        layout: Layout::for_user("Please confirm", current),
        question: q.question,
        consequence: q.consequence,
        action: q.action,
        button: q.button,
        danger: q.danger,
        cancel: q.cancel,
        carry: q.carry,
    })?
    .into_response())
}
