//! Who a request is: the active user behind a live API token or session.
//!
//! The one definition of that rule is [`push_caller`], a CTE named `caller`.
//! [`check`] runs it on its own (the `CurrentUser` extractor); a hot
//! statement puts it in front of its own work so that the check and the
//! work are one round trip (`db::entries::own_page`, `db::timer_page::load`,
//! and through [`Whose`] the user locks of the timer's start and stop).
//! Either way a revoked
//! or expired token, an ended session or a deactivated user is refused by
//! the very statement that serves the request: nothing is cached.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::users::User;

/// Where a presented secret's SHA-256 is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ApiToken,
    Session,
}

/// The user a credential stands for, and whether its use is due to be
/// recorded ([`touch`]: API tokens' `last_used_at` and sessions'
/// `last_seen_at` are kept to the minute, so a busy client writes once a
/// minute, not on every request).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Caller {
    #[sqlx(flatten)]
    pub user: User,
    pub touch: bool,
}

/// Pushes `caller AS (…)`: the columns of [`Caller`] for the active user
/// behind the live credential `hash` of `kind`, no row for any other.
pub fn push_caller(q: &mut QueryBuilder<Postgres>, kind: Kind, hash: &[u8]) {
    const USER: &str = "u.id, u.username, u.display_name, u.email, u.role, u.active, u.timezone,
                        u.date_format, u.clock, u.week_start, u.created_at";
    match kind {
        Kind::ApiToken => q
            .push(format_args!(
                "caller AS (
                 SELECT {USER}, k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute' AS touch
                 FROM api_tokens k JOIN users u ON u.id = k.user_id
                 WHERE k.token_hash = "
            ))
            .push_bind(hash.to_vec())
            .push(
                " AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.active)",
            ),
        Kind::Session => q
            .push(format_args!(
                "caller AS (
                 SELECT {USER}, s.last_seen_at < now() - interval '1 minute' AS touch
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = "
            ))
            .push_bind(hash.to_vec())
            .push(" AND s.expires_at > now() AND u.active)"),
    };
}

/// Whose user row a write locks: a user the request already checked, or
/// the user a credential stands for, checked by the locking statement
/// itself (the timer API's start and stop: no round trip of its own).
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    User(i64),
    Credential(Kind, &'a [u8]),
}

impl Whose<'_> {
    /// Pushes what goes before the statement's `SELECT`: `WITH caller AS
    /// (…)` for a credential.
    pub fn push_with(&self, q: &mut QueryBuilder<Postgres>) {
        if let Whose::Credential(kind, hash) = *self {
            q.push("WITH ");
            push_caller(q, kind, hash);
            q.push(" ");
        }
    }

    /// The statement's `touch` column (see [`Caller::touch`]).
    pub fn touch(&self) -> &'static str {
        match self {
            Whose::User(_) => "false AS touch",
            Whose::Credential(..) => "caller.touch",
        }
    }

    /// Pushes the user's row `u` as the first item of a `FROM`.
    pub fn push_from(&self, q: &mut QueryBuilder<Postgres>) {
        q.push(match self {
            Whose::User(_) => "users u",
            Whose::Credential(..) => "caller JOIN users u ON u.id = caller.id",
        });
    }

    /// Pushes the condition on `u` for the statement's `WHERE`. For a
    /// credential `u.active` again, so that a lock that waited out a
    /// concurrent deactivation sees it.
    pub fn push_condition(&self, q: &mut QueryBuilder<Postgres>) {
        match *self {
            Whose::User(id) => q.push("u.id = ").push_bind(id),
            Whose::Credential(..) => q.push("u.active"),
        };
    }
}

/// The caller a credential stands for, if it is live and its user active.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check(pool: &PgPool, kind: Kind, hash: &[u8]) -> Result<Option<Caller>, sqlx::Error> {
    let mut q = QueryBuilder::new("WITH ");
    push_caller(&mut q, kind, hash);
    q.push(" SELECT * FROM caller");
    q.build_query_as().fetch_optional(pool).await
}

/// Records a credential's use now (when [`Caller::touch`] says it is due).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch(pool: &PgPool, kind: Kind, hash: &[u8]) -> Result<(), sqlx::Error> {
    let sql = match kind {
        Kind::ApiToken => "UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1",
        Kind::Session => "UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1",
    };
    sqlx::query(sql).bind(hash).execute(pool).await?;
    Ok(())
}
