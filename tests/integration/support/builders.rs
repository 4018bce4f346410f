//! Fixture builders: one per kind of thing a test needs in the database,
//! written straight to it (the app's own rules are what the tests check,
//! not what they set up with). Each starts from defaults that make a valid
//! row and names only what the test cares about:
//! `a_project().billable().with_rate(100_00).create(&app).await`.

use sqlx::PgPool;

use super::TestApp;

/// A project; unnamed ones get a unique name.
#[must_use]
pub fn a_project() -> ProjectBuilder {
    ProjectBuilder::default()
}

#[derive(Debug, Default)]
pub struct ProjectBuilder {
    name: Option<String>,
    rate_cents: Option<i64>,
    billable: Option<bool>,
    client_id: Option<i64>,
}

impl ProjectBuilder {
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Billable (the schema's default), or not.
    pub fn billable(mut self, billable: bool) -> Self {
        self.billable = Some(billable);
        self
    }

    pub fn with_rate(mut self, cents: i64) -> Self {
        self.rate_cents = Some(cents);
        self
    }

    pub fn for_client(mut self, client_id: Option<i64>) -> Self {
        self.client_id = client_id;
        self
    }

    /// Inserts it; returns its id.
    pub async fn create(self, app: &TestApp) -> i64 {
        self.create_in(&app.pool).await
    }

    pub async fn create_in(self, pool: &PgPool) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO projects (name, hourly_rate_cents, billable, client_id)
             VALUES (coalesce($1, 'Project ' || gen_random_uuid()), $2, coalesce($3, true), $4)
             RETURNING id",
        )
        .bind(self.name)
        .bind(self.rate_cents)
        .bind(self.billable)
        .bind(self.client_id)
        .fetch_one(pool)
        .await
        .expect("insert a project")
    }
}

/// A finished time entry of `user_id` on `project_id`: an hour from
/// 2026-11-10 09:00 UTC unless told otherwise, billable when its project is
/// (as the app decides it), typed by hand.
#[must_use]
pub fn an_entry(user_id: i64, project_id: i64) -> EntryBuilder {
    EntryBuilder {
        user_id,
        project_id,
        start: "2026-11-10T09:00:00Z".to_owned(),
        seconds: 3600,
        notes: String::new(),
    }
}

#[derive(Debug)]
pub struct EntryBuilder {
    user_id: i64,
    project_id: i64,
    start: String,
    seconds: i64,
    notes: String,
}

impl EntryBuilder {
    /// Starting at `start` (RFC 3339).
    pub fn from(mut self, start: &str) -> Self {
        start.clone_into(&mut self.start);
        self
    }

    pub fn lasting(self, minutes: i64) -> Self {
        self.lasting_seconds(minutes * 60)
    }

    pub fn lasting_seconds(mut self, seconds: i64) -> Self {
        self.seconds = seconds;
        self
    }

    pub fn with_notes(mut self, notes: &str) -> Self {
        notes.clone_into(&mut self.notes);
        self
    }

    /// Inserts it; returns its id.
    pub async fn create(self, app: &TestApp) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO time_entries (user_id, project_id, started_at, ended_at, notes, billable, source)
             SELECT $1, $2, $3::timestamptz, $3::timestamptz + $4 * interval '1 second', $5, billable, 'manual'
             FROM projects WHERE id = $2
             RETURNING id",
        )
        .bind(self.user_id)
        .bind(self.project_id)
        .bind(self.start)
        .bind(self.seconds)
        .bind(self.notes)
        .fetch_one(&app.pool)
        .await
        .expect("insert an entry")
    }
}
