//! Sending one message by mail.
//!
//! The payload names what to send and to whom by id; the worker composes
//! the message (and makes any one-time link in it) when it sends, so no
//! address, link or body is ever stored in the job table or shown in the
//! console.

use serde::{Deserialize, Serialize};

use super::Job;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendMail {
    pub message: MailMessage,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailMessage {
    /// A link to set a new password, asked for on the sign-in page.
    PasswordReset { user_id: i64 },
    /// An invitation to sign up, made or resent by an administrator.
    Invitation { invitation_id: i64 },
}

impl Job for SendMail {
    const QUEUE: &'static str = "mail";
    // Found at the next heartbeat: a message a second or two later is fine,
    // and a listener would hold one more of the worker's 10 connections
    // (each listening queue holds one; exports need two each).
    const WAKE_ON_INSERT: bool = false;
}
