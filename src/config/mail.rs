//! Outgoing mail: the SMTP server (`SMTP_URL`), the sender (`MAIL_FROM`) and
//! an extra certificate authority to trust (`SMTP_CA_FILE`). Without
//! `SMTP_URL` and `MAIL_FROM` the installation sends no mail and says so
//! where mail would help; one without the other stops start-up.

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::{Secret, Vars};
use crate::domain::Email;

#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// Where and how to send, when mail is configured.
    pub smtp: Option<Smtp>,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: no encryption (a relay on this machine or its network);
    /// refused with a password, which would cross the network in clear.
    Plain,
    /// `smtp+starttls://`: plain connection upgraded with STARTTLS, which
    /// must succeed before anything else is sent (port 587 by default).
    StartTls,
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Tls,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    /// The sender as written in `MAIL_FROM`: `name@example.org` or
    /// `TimeTracker <name@example.org>`.
    pub from: String,
    /// A PEM file of certificate authorities trusted besides the system's.
    pub ca_file: Option<PathBuf>,
}

impl Mail {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        let smtp = match (vars.get("SMTP_URL"), vars.get("MAIL_FROM")) {
            (None, None) => None,
            (Some(url), Some(from)) => Some(Smtp::parse(
                &url,
                &from,
                vars.get("SMTP_CA_FILE").map(PathBuf::from),
            )?),
            (Some(_), None) => bail!("SMTP_URL is set without MAIL_FROM: set both, or neither"),
            (None, Some(_)) => bail!("MAIL_FROM is set without SMTP_URL: set both, or neither"),
        };
        Ok(Self { smtp })
    }
}

impl Smtp {
    fn parse(url: &str, from: &str, ca_file: Option<PathBuf>) -> anyhow::Result<Self> {
        // The URL may hold a password: errors name the variable, never the value.
        let parsed =
            url::Url::parse(url).map_err(|e| anyhow::anyhow!("SMTP_URL is not a URL ({e})"))?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (SmtpSecurity::Plain, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => bail!(
                "SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, not {other}://"
            ),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .context("SMTP_URL names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| anyhow::anyhow!("SMTP_URL's {what} is not UTF-8 once decoded"))
        };
        let username = Some(decode(parsed.username(), "user name")?).filter(|u| !u.is_empty());
        let password = parsed
            .password()
            .map(|p| decode(p, "password").map(Secret::new))
            .transpose()?;
        if password.is_some() && security == SmtpSecurity::Plain && !is_loopback(&host) {
            bail!("SMTP_URL would send its password unencrypted: use smtp+starttls:// or smtps://");
        }
        let address = from
            .rsplit_once('<')
            .map_or(from, |(_, rest)| rest.trim_end_matches('>'))
            .trim();
        Email::parse(address).map_err(|_| {
            anyhow::anyhow!(
                "MAIL_FROM must be an address like TimeTracker <timetracker@example.org>"
            )
        })?;
        if let Some(path) = &ca_file
            && !path.is_file()
        {
            bail!("SMTP_CA_FILE {} is not a file", path.display());
        }
        Ok(Self {
            security,
            port: parsed.port().unwrap_or(default_port),
            host,
            username,
            password,
            from: from.trim().to_owned(),
            ca_file,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(vars: &[(&str, &str)]) -> anyhow::Result<Mail> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        Mail::from_vars(&Vars::new(&lookup))
    }

    #[test]
    fn each_scheme_has_its_protection_and_default_port() {
        for (url, security, port) in [
            ("smtp://relay.internal", SmtpSecurity::Plain, 25),
            (
                "smtp+starttls://mail.example.org",
                SmtpSecurity::StartTls,
                587,
            ),
            ("smtps://mail.example.org", SmtpSecurity::Tls, 465),
            ("smtps://mail.example.org:2465", SmtpSecurity::Tls, 2465),
        ] {
            let smtp = mail(&[("SMTP_URL", url), ("MAIL_FROM", "tt@example.org")])
                .expect(url)
                .smtp
                .expect("configured");
            assert_eq!((smtp.security, smtp.port), (security, port), "{url}");
        }
    }

    #[test]
    fn credentials_are_decoded_and_the_password_kept_secret() {
        let smtp = mail(&[
            (
                "SMTP_URL",
                "smtps://me%40example.org:p%40ss%2Bword@mail.example.org",
            ),
            ("MAIL_FROM", "TimeTracker <tt@example.org>"),
        ])
        .expect("valid")
        .smtp
        .expect("configured");
        assert_eq!(smtp.username.as_deref(), Some("me@example.org"));
        assert_eq!(
            smtp.password.as_ref().map(|p| p.expose().as_str()),
            Some("p@ss+word")
        );
        assert!(!format!("{smtp:?}").contains("p@ss"));
    }

    #[test]
    fn bad_settings_stop_start_up_naming_the_variable_not_the_password() {
        for (vars, says) in [
            (vec![("SMTP_URL", "smtps://mail.example.org")], "MAIL_FROM"),
            (vec![("MAIL_FROM", "tt@example.org")], "SMTP_URL"),
            (
                vec![
                    ("SMTP_URL", "http://mail.example.org"),
                    ("MAIL_FROM", "tt@example.org"),
                ],
                "smtp+starttls://",
            ),
            (
                vec![
                    ("SMTP_URL", "smtp://u:secret99@mail.example.org"),
                    ("MAIL_FROM", "tt@example.org"),
                ],
                "unencrypted",
            ),
            (
                vec![
                    ("SMTP_URL", "smtps://mail.example.org"),
                    ("MAIL_FROM", "nobody"),
                ],
                "MAIL_FROM",
            ),
        ] {
            let err = mail(&vars).expect_err(says).to_string();
            assert!(err.contains(says), "{err}");
            assert!(!err.contains("secret99"), "{err}");
        }
        assert!(mail(&[]).expect("no mail").smtp.is_none());
        assert!(
            mail(&[
                ("SMTP_URL", "smtp://u:p@127.0.0.1:2525"),
                ("MAIL_FROM", "tt@example.org")
            ])
            .is_ok(),
            "a password to a relay on this machine may go in clear"
        );
    }
}
