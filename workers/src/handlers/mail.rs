//! Sends one message of the `mail` queue over SMTP (lettre).
//!
//! The message is composed here from the ids in the payload, and any
//! one-time link in it is made here, so the job table never holds an
//! address, a link or a body. A 4xx reply, a refused connection or a TLS
//! problem is worth another attempt (the runner's backoff); a 5xx reply is
//! final: the job dies with the server's reply, addresses in it masked. No
//! address or body is logged.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use sqlx::PgPool;
use timetracker::{
    auth::keys::{random_token, sha256},
    config::{Config, Smtp, SmtpSecurity},
    db,
    jobs::{MailMessage, SendMail},
    mail::{self, Outgoing, RESET_LINK_MINUTES, mask_addresses},
};

use crate::{JobContext, JobError, JobHandler};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SendMails {
    pool: PgPool,
    config: Config,
}

impl SendMails {
    pub fn new(config: &Config, pool: &PgPool) -> Self {
        Self {
            pool: pool.clone(),
            config: config.clone(),
        }
    }

    /// The message `what` stands for, or `None` when there is no one to
    /// send it to any more (the account was deactivated or lost its address,
    /// the invitation was accepted, revoked or expired).
    async fn compose(&self, what: MailMessage) -> Result<Option<Outgoing>, JobError> {
        match what {
            MailMessage::PasswordReset { user_id } => {
                let Some(user) = db::users::by_id(&self.pool, user_id)
                    .await
                    .map_err(JobError::retry)?
                    .filter(|u| u.active && !u.email.is_empty())
                else {
                    return Ok(None);
                };
                let token = random_token();
                let mut conn = self.pool.acquire().await.map_err(JobError::retry)?;
                db::users::insert_password_reset(
                    &mut conn,
                    &sha256(&token),
                    user_id,
                    None,
                    chrono::Utc::now() + chrono::Duration::minutes(RESET_LINK_MINUTES),
                )
                .await
                .map_err(JobError::retry)?;
                let message = mail::password_reset(
                    &user.email,
                    user.name(),
                    &user.username,
                    &self.config.web.public_url,
                    &token,
                )
                .map_err(|e| JobError::Permanent(e.into()))?;
                Ok(Some(message))
            }
            MailMessage::Invitation { invitation_id } => {
                let Some(invitation) = db::invitations::open_by_id(&self.pool, invitation_id)
                    .await
                    .map_err(JobError::retry)?
                else {
                    return Ok(None);
                };
                let inviter = match invitation.invited_by {
                    Some(id) => db::users::by_id(&self.pool, id)
                        .await
                        .map_err(JobError::retry)?
                        .map(|u| u.name().to_owned()),
                    None => None,
                }
                .unwrap_or_else(|| "An administrator".to_owned());
                let token = random_token();
                if !db::invitations::set_token(&self.pool, invitation_id, &sha256(&token))
                    .await
                    .map_err(JobError::retry)?
                {
                    return Ok(None);
                }
                let until = invitation
                    .expires_at
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string();
                let message = mail::invitation(
                    &invitation.email,
                    &inviter,
                    timetracker::domain::Role::from_stored(&invitation.role),
                    &until,
                    &self.config.web.public_url,
                    &token,
                )
                .map_err(|e| JobError::Permanent(e.into()))?;
                Ok(Some(message))
            }
        }
    }
}

impl JobHandler<SendMail> for SendMails {
    async fn handle(&self, job: SendMail, _ctx: JobContext) -> Result<(), JobError> {
        let kind = kind(job.message);
        let Some(smtp) = &self.config.mail.smtp else {
            return Err(JobError::Permanent(anyhow::anyhow!(
                "mail is not configured (SMTP_URL and MAIL_FROM): nothing was sent"
            )));
        };
        let Some(message) = self.compose(job.message).await? else {
            tracing::info!(kind, "mail not sent: nobody to send it to any more");
            return Ok(());
        };
        let email = build(smtp, message)?;
        let transport = transport(smtp).map_err(JobError::retry)?;
        match transport.send(email).await {
            Ok(_) => {
                tracing::info!(kind, "mail sent");
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(JobError::Permanent(anyhow::anyhow!(
                "the mail server refused the message: {}",
                mask_addresses(&e.to_string())
            ))),
            Err(e) => Err(JobError::retry(anyhow::anyhow!(
                "sending failed: {}",
                mask_addresses(&e.to_string())
            ))),
        }
    }
}

fn kind(what: MailMessage) -> &'static str {
    match what {
        MailMessage::PasswordReset { .. } => "password_reset",
        MailMessage::Invitation { .. } => "invitation",
    }
}

fn build(smtp: &Smtp, message: Outgoing) -> Result<lettre::Message, JobError> {
    let from: Mailbox = smtp.from.parse().map_err(|_| {
        JobError::Permanent(anyhow::anyhow!("MAIL_FROM is not an address SMTP takes"))
    })?;
    let to: Mailbox = message.to.parse().map_err(|_| {
        JobError::Permanent(anyhow::anyhow!(
            "the recipient's address is not one SMTP takes"
        ))
    })?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject)
        .multipart(MultiPart::alternative_plain_html(
            message.text,
            message.html,
        ))
        .map_err(|e| JobError::Permanent(anyhow::anyhow!("the message could not be built: {e}")))
}

/// A transport for one message: its own connection, protected as
/// `SMTP_URL` says, trusting `SMTP_CA_FILE` besides the system's roots.
fn transport(smtp: &Smtp) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(SMTP_TIMEOUT));
    if smtp.security != SmtpSecurity::Plain {
        let mut tls = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("SMTP_CA_FILE {}: {e}", path.display()))?;
            tls = tls.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        let tls = tls.build_rustls()?;
        builder = builder.tls(match smtp.security {
            SmtpSecurity::StartTls => Tls::Required(tls),
            _ => Tls::Wrapper(tls),
        });
    }
    if let Some(username) = &smtp.username {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose().clone())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    Ok(builder.build())
}
