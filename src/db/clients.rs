//! Clients.

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub default_hourly_rate_cents: Option<i64>,
    pub archived: bool,
}

/// Validated client fields.
pub struct ClientFields {
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub default_hourly_rate_cents: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, include_archived: bool) -> Result<Vec<Client>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, contact_name, email, phone, default_hourly_rate_cents, archived FROM clients
         WHERE $1 OR NOT archived ORDER BY archived, lower(name)",
    )
    .bind(include_archived)
    .fetch_all(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Client>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, contact_name, email, phone, default_hourly_rate_cents, archived FROM clients WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn exists(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM clients WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut PgConnection, c: &ClientFields) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO clients (name, contact_name, email, phone, default_hourly_rate_cents)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&c.name)
    .bind(&c.contact_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(c.default_hourly_rate_cents)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    c: &ClientFields,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE clients SET name = $2, contact_name = $3, email = $4, phone = $5,
                default_hourly_rate_cents = $6, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&c.name)
    .bind(&c.contact_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(c.default_hourly_rate_cents)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_archived(
    conn: &mut PgConnection,
    id: i64,
    archived: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE clients SET archived = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(archived)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a client; a client with projects raises a foreign-key violation.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
