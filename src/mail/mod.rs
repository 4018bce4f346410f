//! The messages the app sends by mail, composed from `templates/mail/`:
//! a subject, a plain-text part and an HTML part in the app's look, with
//! links to the installation's public URL. Sending is the worker's (the
//! `mail` queue); this module only says what a message holds.
//!
//! Rule: a message is composed when it is sent, from ids in the job's
//! payload, so the job table, the console and the logs never hold an
//! address, a link or a body.

use askama::Template;

/// One message, ready to send.
#[derive(Clone)]
pub struct Outgoing {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Outgoing {
    // Neither the address nor the body (which holds a one-time link) is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// How long a password link sent by mail works.
pub const RESET_LINK_MINUTES: i64 = 30;

/// The installation's address without its scheme (`tt.example.org`).
fn site(public_url: &str) -> &str {
    public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
}

/// What the reset message says, in both its parts.
struct Reset<'a> {
    name: &'a str,
    username: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetText<'a> {
    site: &'a str,
    m: &'a Reset<'a>,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct ResetHtml<'a> {
    subject: &'a str,
    site: &'a str,
    m: &'a Reset<'a>,
}

/// The message with a one-time link to set a new password.
pub fn password_reset(
    to: &str,
    name: &str,
    username: &str,
    public_url: &str,
    token: &str,
) -> Result<Outgoing, askama::Error> {
    let subject = "Set a new TimeTracker password";
    let link = format!("{public_url}/reset-password?token={token}");
    let m = Reset {
        name,
        username,
        link: &link,
        minutes: RESET_LINK_MINUTES,
    };
    let site = site(public_url);
    Ok(Outgoing {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: ResetText { site, m: &m }.render()?,
        html: ResetHtml {
            subject,
            site,
            m: &m,
        }
        .render()?,
    })
}

/// How long an invitation works, from when it is made or resent.
pub const INVITATION_DAYS: i64 = 7;

/// What the invitation says, in both its parts.
struct Invite<'a> {
    inviter: &'a str,
    role: &'a str,
    link: &'a str,
    until: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InviteText<'a> {
    site: &'a str,
    m: &'a Invite<'a>,
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InviteHtml<'a> {
    subject: &'a str,
    site: &'a str,
    m: &'a Invite<'a>,
}

/// The invitation to sign up with `role`, from `inviter`, with a one-time
/// link that works `until` (a date the invitee reads as written).
pub fn invitation(
    to: &str,
    inviter: &str,
    role: crate::domain::Role,
    until: &str,
    public_url: &str,
    token: &str,
) -> Result<Outgoing, askama::Error> {
    let subject = "You are invited to TimeTracker";
    let link = format!("{public_url}/invitation?token={token}");
    let m = Invite {
        inviter,
        role: role.with_article(),
        link: &link,
        until,
    };
    let site = site(public_url);
    Ok(Outgoing {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: InviteText { site, m: &m }.render()?,
        html: InviteHtml {
            subject,
            site,
            m: &m,
        }
        .render()?,
    })
}

/// `text` with every address in it masked (`b…@example.org`): a mail
/// server's reply may quote the recipient, and replies end up in the job
/// console and the logs.
pub fn mask_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.split_once('@') {
            Some((local, domain)) => {
                let lead: String = local.chars().take_while(|c| !c.is_alphanumeric()).collect();
                let first = local[lead.len()..]
                    .chars()
                    .next()
                    .map(String::from)
                    .unwrap_or_default();
                format!("{lead}{first}…@{domain}")
            }
            None => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_names_who_invites_for_what_role_until_when() {
        let m = invitation(
            "new@example.org",
            "Grace",
            crate::domain::Role::Admin,
            "2026-12-14 09:00 UTC",
            "https://tt.example.org",
            "tok456",
        )
        .expect("renders");
        let link = "https://tt.example.org/invitation?token=tok456";
        assert!(m.text.contains(link) && m.html.contains(link));
        assert!(m.text.contains("Grace invites you") && m.text.contains("as an administrator"));
        assert!(m.html.contains("until 2026-12-14 09:00 UTC"), "{}", m.html);
    }

    #[test]
    fn addresses_in_a_reply_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_addresses("550 5.1.1 <bob.smith@example.org>: Recipient address rejected"),
            "550 5.1.1 <b…@example.org>: Recipient address rejected"
        );
        assert_eq!(mask_addresses("451 try later"), "451 try later");
    }

    #[test]
    fn the_reset_message_carries_the_link_in_both_parts_with_names_escaped_in_html() {
        let m = password_reset(
            "ada@example.org",
            "Ada <Lovelace>",
            "ada",
            "https://tt.example.org",
            "tok123",
        )
        .expect("renders");
        let link = "https://tt.example.org/reset-password?token=tok123";
        assert!(m.text.contains(link) && m.html.contains(link));
        assert!(m.text.contains("Hello Ada <Lovelace>,"), "{}", m.text);
        assert!(
            m.html.contains("Ada &#60;Lovelace&#62;") || m.html.contains("Ada &lt;Lovelace&gt;"),
            "{}",
            m.html
        );
        assert!(m.text.contains("30 minutes") && m.text.contains("tt.example.org"));
        let debug = format!("{m:?}");
        assert!(
            !debug.contains("ada@") && !debug.contains("tok123"),
            "{debug}"
        );
    }
}
