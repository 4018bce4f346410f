//! Single sign-on through an OpenID provider (`OIDC_*`). Without
//! `OIDC_ISSUER_URL` there is none; with it, the client's id and secret are
//! required, and a bad value stops start-up naming the variable (never the
//! secret).

use anyhow::{Context, bail};

use super::{Secret, Vars};
use crate::domain::Role;

#[derive(Debug, Clone)]
pub struct Oidc {
    /// The provider's issuer (`OIDC_ISSUER_URL`), whose discovery document
    /// is at `/.well-known/openid-configuration` under it.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// The ID token claim that lists a person's groups (`OIDC_GROUPS_CLAIM`).
    pub groups_claim: String,
    /// Which groups give which role, most rights first; empty: groups are
    /// not read, and new people are plain users.
    pub role_groups: Vec<(Role, Vec<String>)>,
    /// Whether someone with no account is given one at their first sign-in
    /// (`OIDC_CREATE_USERS`); else they need an invitation or an account
    /// with their verified email.
    pub create_users: bool,
    /// Who may still sign in with a password (`OIDC_PASSWORD_SIGN_IN`).
    pub password_sign_in: PasswordSignIn,
    /// The button's name for the provider (`OIDC_PROVIDER_NAME`).
    pub provider_name: String,
}

/// Who may sign in with a password while single sign-on is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSignIn {
    Everyone,
    /// Administrators keep a password fallback (a provider outage); everyone
    /// else signs in through the provider.
    AdministratorsOnly,
}

impl PasswordSignIn {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::AdministratorsOnly => "administrators",
        }
    }
}

impl Oidc {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Option<Self>> {
        let Some(issuer_url) = vars.get("OIDC_ISSUER_URL") else {
            return Ok(None);
        };
        let parsed = url::Url::parse(&issuer_url)
            .map_err(|e| anyhow::anyhow!("OIDC_ISSUER_URL is not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            bail!("OIDC_ISSUER_URL must be an https:// address");
        }
        let client_id = vars
            .get("OIDC_CLIENT_ID")
            .context("OIDC_ISSUER_URL is set without OIDC_CLIENT_ID")?;
        let client_secret = vars
            .get("OIDC_CLIENT_SECRET")
            .context("OIDC_ISSUER_URL is set without OIDC_CLIENT_SECRET")?;
        let groups = |name: &str| -> Vec<String> {
            vars.get(name)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let role_groups: Vec<(Role, Vec<String>)> = [
            (Role::Admin, groups("OIDC_ADMIN_GROUPS")),
            (Role::Manager, groups("OIDC_MANAGER_GROUPS")),
            (Role::User, groups("OIDC_USER_GROUPS")),
        ]
        .into_iter()
        .filter(|(_, g)| !g.is_empty())
        .collect();
        let password_sign_in = match vars.or("OIDC_PASSWORD_SIGN_IN", "everyone").as_str() {
            "everyone" => PasswordSignIn::Everyone,
            "administrators" => PasswordSignIn::AdministratorsOnly,
            other => {
                bail!("OIDC_PASSWORD_SIGN_IN must be everyone or administrators, not {other:?}")
            }
        };
        Ok(Some(Self {
            issuer_url: issuer_url.trim_end_matches('/').to_owned(),
            client_id,
            client_secret: Secret::new(client_secret),
            groups_claim: vars.or("OIDC_GROUPS_CLAIM", "groups"),
            role_groups,
            create_users: vars.bool("OIDC_CREATE_USERS", false)?,
            password_sign_in,
            provider_name: vars.or("OIDC_PROVIDER_NAME", "single sign-on"),
        }))
    }

    /// The role `groups` give (the one with most rights), `None` when the
    /// person is in no mapped group; `Some(None)` when groups are not used.
    pub fn role_for(&self, groups: &[String]) -> Option<Option<Role>> {
        if self.role_groups.is_empty() {
            return Some(None);
        }
        self.role_groups
            .iter()
            .find(|(_, mapped)| mapped.iter().any(|g| groups.contains(g)))
            .map(|(role, _)| Some(*role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(vars: &[(&str, &str)]) -> anyhow::Result<Option<Oidc>> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        Oidc::from_vars(&Vars::new(&lookup))
    }

    #[test]
    fn groups_give_the_role_with_most_rights_and_no_group_none() {
        let o = oidc(&[
            ("OIDC_ISSUER_URL", "https://id.example.org/realms/x/"),
            ("OIDC_CLIENT_ID", "tt"),
            ("OIDC_CLIENT_SECRET", "s"),
            ("OIDC_ADMIN_GROUPS", "ops"),
            ("OIDC_USER_GROUPS", "staff, contractors"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(o.issuer_url, "https://id.example.org/realms/x");
        let g = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(o.role_for(&g(&["staff", "ops"])), Some(Some(Role::Admin)));
        assert_eq!(o.role_for(&g(&["contractors"])), Some(Some(Role::User)));
        assert_eq!(o.role_for(&g(&["sales"])), None);
    }

    #[test]
    fn a_half_configuration_stops_start_up_naming_the_variable() {
        assert!(oidc(&[]).expect("none").is_none());
        let e = oidc(&[("OIDC_ISSUER_URL", "https://id.example.org")]).unwrap_err();
        assert!(e.to_string().contains("OIDC_CLIENT_ID"));
        let e = oidc(&[
            ("OIDC_ISSUER_URL", "https://id.example.org"),
            ("OIDC_CLIENT_ID", "tt"),
            ("OIDC_CLIENT_SECRET", "s"),
            ("OIDC_PASSWORD_SIGN_IN", "nobody"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("OIDC_PASSWORD_SIGN_IN"));
    }
}
