//! Clients, projects, tasks, the timer and manual entries, through the web UI
//! and the service functions.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use timetracker::{
    db,
    domain::tracking::start_of_day,
    jobs::Maintenance,
    tracking::{Actor, Who, entries, timer},
};
use timetracker_worker::{JobContext, JobHandler, handlers::maintenance::Prune};

const CTX: JobContext = JobContext {
    job_id: String::new(),
    attempt: 1,
    last_attempt: false,
};

use crate::support::{TestApp, a_project, an_entry, assert_is_redirect, location, spawn_app};

/// A billable project at 80.00 an hour.
async fn a_billable_project(app: &TestApp, name: &str) -> i64 {
    a_project()
        .named(name)
        .billable(true)
        .with_rate(8_000)
        .create(app)
        .await
}

async fn set_setting(app: &TestApp, column: &str, value: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE settings SET {column} = {value}"
    )))
    .execute(&app.pool)
    .await
    .expect("setting");
}

async fn actor(app: &TestApp, username: &str) -> Actor {
    let id = app.user_id(username).await;
    let tz: String = sqlx::query_scalar("SELECT timezone FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("tz");
    let user = timetracker::db::users::by_id(&app.pool, id)
        .await
        .expect("query")
        .expect("user");
    Actor::new(&user, tz.parse().expect("tz"))
}

async fn running_count(app: &TestApp, user_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM time_entries WHERE user_id = $1 AND ended_at IS NULL")
        .bind(user_id)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

/// notes, started_at, ended_at, tags, source
type EntryRow = (
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Vec<String>,
    String,
);

fn entry_input(project_id: i64, start: DateTime<Utc>, end: DateTime<Utc>) -> entries::EntryInput {
    entries::EntryInput {
        project_id,
        task_id: None,
        start,
        end,
        notes: String::new(),
        tags: Vec::new(),
        billable: None,
    }
}

#[tokio::test]
async fn starting_a_timer_while_one_runs_stops_it_at_the_same_instant() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Website").await;
    admin
        .submit(
            "/timer/start",
            &[
                ("project_id", &project.to_string()),
                ("notes", "first"),
                ("tags", "a, b"),
            ],
        )
        .await;
    let page = admin.get_text("/").await;
    assert!(
        page.contains("data-started=") && page.contains("Stop timer"),
        "the dashboard shows the running timer"
    );
    admin
        .submit(
            "/timer/start",
            &[("project_id", &project.to_string()), ("notes", "second")],
        )
        .await;

    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT notes, started_at, ended_at, tags, source FROM time_entries ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].3, ["a", "b"]);
    assert_eq!(
        rows[0].2,
        Some(rows[1].1),
        "the first stops exactly when the second starts"
    );
    assert_eq!(rows[1].2, None);
    assert_eq!(rows[1].4, "timer");

    let r = admin.post_form("/timer/stop", &[]).await;
    assert_is_redirect(&r);
    let page = admin.get_text(&location(&r)).await;
    assert!(page.contains("Stopped after"), "the timer page says so");
    assert_eq!(running_count(&app, app.user_id("admin").await).await, 0);
}

#[tokio::test]
async fn concurrent_starts_leave_exactly_one_running_timer() {
    for policy in ["'stop_previous'", "'refuse'"] {
        let app = spawn_app().await;
        app.setup_admin().await;
        let project = a_billable_project(&app, "Concurrency").await;
        set_setting(&app, "timer_policy", policy).await;
        let actor = actor(&app, "admin").await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (pool, actor) = (app.pool.clone(), actor.clone());
            let input = timer::StartTimer {
                project_id: project,
                ..Default::default()
            };
            tasks.push(tokio::spawn(async move {
                timer::start(&pool, Who::Checked(&actor), &input)
                    .await
                    .map(|_| ())
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => ok += 1,
                Err(timetracker::error::AppError::Conflict { code, .. }) => {
                    assert_eq!(code, "timer_already_running")
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        assert_eq!(
            running_count(&app, actor.user_id).await,
            1,
            "policy {policy}"
        );
        if policy == "'refuse'" {
            assert_eq!(ok, 1, "with the refuse policy exactly one start wins");
        } else {
            assert_eq!(ok, 8, "each start stops the previous one");
        }
    }
}

#[tokio::test]
async fn the_refuse_policy_answers_409_and_stopping_nothing_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Refusal").await;
    admin
        .submit(
            "/admin/settings",
            &[
                ("currency", "usd"),
                ("rounding_minutes", "15"),
                ("timer_policy", "refuse"),
                ("week_start", "sunday"),
                ("export_delimiter", ";"),
                ("long_timer_hours", "10"),
            ],
        )
        .await;
    let settings = db::settings::load(&app.pool).await.expect("settings");
    assert_eq!(
        (
            settings.currency.as_str(),
            settings.rounding_minutes,
            settings.timer_policy.as_str()
        ),
        ("USD", 15, "refuse")
    );
    assert!(
        !settings.allow_overlaps,
        "an unchecked box turns the setting off"
    );

    let actor = actor(&app, "admin").await;
    assert!(matches!(
        timer::stop(&app.pool, Who::Checked(&actor)).await,
        Err(timetracker::error::AppError::Conflict {
            code: "no_timer_running",
            ..
        })
    ));
    admin
        .post_form("/timer/start", &[("project_id", &project.to_string())])
        .await;
    let r = admin
        .post_form("/timer/start", &[("project_id", &project.to_string())])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("A timer is already running")
    );

    let r = admin
        .post_form(
            "/admin/settings",
            &[("currency", "euro"), ("rounding_minutes", "7")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("three-letter currency code")
    );
}

#[tokio::test]
async fn restart_copies_project_task_notes_and_tags() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Restartable").await;
    admin
        .submit(
            "/tasks",
            &[
                ("project_id", &project.to_string()),
                ("name", "Design"),
                ("priority", "high"),
            ],
        )
        .await;
    let task: i64 = app.scalar("SELECT id FROM tasks").await;
    let actor = actor(&app, "admin").await;
    let first = timer::start(
        &app.pool,
        Who::Checked(&actor),
        &timer::StartTimer {
            project_id: project,
            task_id: Some(task),
            notes: "mockups".into(),
            tags: vec!["design".into(), " ui".into()],
        },
    )
    .await
    .expect("start");
    timer::stop(&app.pool, Who::Checked(&actor))
        .await
        .expect("stop");
    admin
        .submit(&format!("/entries/{}/restart", first.id), &[])
        .await;
    let again = timer::active(&app.pool, &actor)
        .await
        .expect("query")
        .expect("running")
        .entry;
    assert_ne!(again.id, first.id);
    assert_eq!(
        (again.project_id, again.task_id, again.notes.as_str()),
        (project, Some(task), "mockups")
    );
    assert_eq!(again.tags, ["design", "ui"]);
}

#[tokio::test]
async fn manual_entries_are_validated_with_messages_next_to_the_field() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Manual").await.to_string();
    let cases = [
        (
            ("2026-11-20T10:00", "2026-11-20T09:00", ""),
            "The end must be after the start.",
        ),
        (
            ("2026-11-20T10:00", "2026-11-21T10:30", ""),
            "at most 24 hours",
        ),
        (("2026-11-20T10:00", "", "abc"), "Enter a duration like"),
        (
            ("yesterday", "2026-11-20T09:00", ""),
            "Enter a date and time",
        ),
        (("2026-11-20T10:00", "", ""), "Enter an end or a duration."),
    ];
    for ((start, end, duration), message) in cases {
        let r = admin
            .post_form(
                "/entries/new",
                &[
                    ("project_id", &project),
                    ("start", start),
                    ("end", end),
                    ("duration", duration),
                    ("notes", "kept text"),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{start} {end} {duration}"
        );
        let page = r.text().await.expect("page");
        assert!(page.contains(message), "{message} missing");
        assert!(page.contains("kept text"), "the input is kept");
    }
    let far = (Utc::now() + Duration::days(3))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = admin
        .post_form(
            "/entries/new",
            &[
                ("project_id", &project),
                ("start", &far),
                ("duration", "1:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("more than a day in the future")
    );

    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", &project),
                ("start", "2026-11-20T09:00"),
                ("duration", "1.5"),
                ("billable", "no"),
            ],
        )
        .await;
    let (seconds, billable, source): (i64, bool, String) =
        sqlx::query_as("SELECT duration_seconds, billable, source FROM time_entries")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(
        (seconds, billable, source.as_str()),
        (5400, false, "manual")
    );
}

#[tokio::test]
async fn overlapping_entries_are_refused_unless_the_setting_allows_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Overlap").await;
    let actor = actor(&app, "admin").await;
    let t = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
    an_entry(actor.user_id, project)
        .from("2026-11-20T09:00:00Z")
        .create(&app)
        .await;
    let overlapping = entry_input(
        project,
        t("2026-11-20T09:30:00Z"),
        t("2026-11-20T10:30:00Z"),
    );
    let err = entries::create(&app.pool, &actor, actor.user_id, &overlapping)
        .await
        .expect_err("overlap");
    assert!(matches!(
        err,
        timetracker::error::AppError::Conflict {
            code: "overlapping_time_entry",
            ..
        }
    ));
    let adjacent = entry_input(
        project,
        t("2026-11-20T10:00:00Z"),
        t("2026-11-20T11:00:00Z"),
    );
    entries::create(&app.pool, &actor, actor.user_id, &adjacent)
        .await
        .expect("touching entries do not overlap");

    let page = admin
        .post_form(
            "/entries/new",
            &[
                ("project_id", &project.to_string()),
                ("start", "2026-11-20T10:15"),
                ("duration", "0:30"),
            ],
        )
        .await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    assert!(
        page.text()
            .await
            .expect("page")
            .contains("overlaps another of your entries")
    );

    set_setting(&app, "allow_overlaps", "true").await;
    entries::create(&app.pool, &actor, actor.user_id, &overlapping)
        .await
        .expect("allowed now");
}

#[tokio::test]
async fn users_cannot_see_edit_or_delete_each_others_entries_but_admins_can() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Private").await;
    let alice = app.create_user(&admin, "alice", "user").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    alice
        .submit(
            "/entries/new",
            &[
                ("project_id", &project.to_string()),
                ("start", "2026-11-20T09:00"),
                ("duration", "1:00"),
                ("notes", "alice secret"),
            ],
        )
        .await;
    let id: i64 = app.scalar("SELECT id FROM time_entries").await;

    assert!(!bob.get_text("/entries").await.contains("alice secret"));
    assert!(
        !bob.get_text("/entries?user_id=all")
            .await
            .contains("alice secret")
    );
    assert_eq!(
        bob.get_status(&format!("/entries/{id}/edit")).await,
        StatusCode::NOT_FOUND
    );
    let r = bob
        .post_form(
            &format!("/entries/{id}/edit"),
            &[
                ("project_id", &project.to_string()),
                ("start", "2026-11-20T09:00"),
                ("duration", "2:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        bob.post_status(&format!("/entries/{id}/delete"), &[("confirm", "yes")])
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.post_status(&format!("/entries/{id}/restart"), &[])
            .await,
        StatusCode::NOT_FOUND
    );

    assert!(
        admin
            .get_text("/entries?user_id=all")
            .await
            .contains("alice secret")
    );
    admin
        .submit(
            &format!("/entries/{id}/edit"),
            &[
                ("project_id", &project.to_string()),
                ("start", "2026-11-20T09:00"),
                ("duration", "2:00"),
                ("notes", "fixed by admin"),
            ],
        )
        .await;
    let (owner, seconds): (i64, i64) =
        sqlx::query_as("SELECT user_id, duration_seconds FROM time_entries WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(
        (owner, seconds),
        (app.user_id("alice").await, 7200),
        "the admin edits, the owner stays"
    );
    assert_eq!(
        alice
            .post_status(&format!("/entries/{id}/delete"), &[("confirm", "yes")])
            .await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn plain_users_cannot_change_clients_projects_tasks_or_settings() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Guarded").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    assert_eq!(
        bob.get_status("/projects").await,
        StatusCode::OK,
        "everyone sees projects"
    );
    for (path, form) in [
        ("/clients", vec![("name", "Acme")]),
        ("/projects", vec![("name", "Sneaky")]),
        (&*format!("/projects/{project}/archive"), vec![]),
        (&*format!("/projects/{project}/delete"), vec![]),
        ("/tasks", vec![("project_id", "1"), ("name", "x")]),
        ("/admin/settings", vec![("currency", "USD")]),
    ] {
        assert_eq!(
            bob.post_status(path, &form).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        bob.get_status("/admin/settings").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn archiving_hides_a_project_from_pickers_and_keeps_its_entries() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Old Project").await;
    let actor = actor(&app, "admin").await;
    an_entry(actor.user_id, project)
        .from("2026-11-20T09:00:00Z")
        .create(&app)
        .await;
    assert_eq!(
        admin
            .post_status(&format!("/projects/{project}/archive"), &[])
            .await,
        StatusCode::SEE_OTHER
    );
    let dashboard = admin.get_text("/").await;
    let option = format!(r#"<option value="{project}">Old Project"#);
    assert!(!dashboard.contains(&option), "gone from the timer picker");
    assert!(
        admin.get_text("/entries").await.contains("Old Project"),
        "entries are kept"
    );
    let err = timer::start(
        &app.pool,
        Who::Checked(&actor),
        &timer::StartTimer {
            project_id: project,
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(
        err,
        Err(timetracker::error::AppError::Validation(_))
    ));
    let r = admin
        .post_form(
            &format!("/projects/{project}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "a project with entries cannot be deleted"
    );
}

#[tokio::test]
async fn clients_have_unique_names_and_cannot_be_deleted_while_they_have_projects() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    admin
        .submit(
            "/clients",
            &[
                ("name", "Acme"),
                ("default_hourly_rate", "95,50"),
                ("email", "ops@acme.example"),
            ],
        )
        .await;
    let r = admin.post_form("/clients", &[("name", "ACME")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.expect("page").contains("exists already"));
    let r = admin
        .post_form(
            "/clients",
            &[("name", "Bad Rate"), ("default_hourly_rate", "12.345")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let client: i64 = app
        .scalar("SELECT id FROM clients WHERE name = 'Acme'")
        .await;
    let rate: Option<i64> = app
        .scalar("SELECT default_hourly_rate_cents FROM clients")
        .await;
    assert_eq!(rate, Some(9550));
    admin
        .submit(
            "/projects",
            &[("name", "Acme site"), ("client_id", &client.to_string())],
        )
        .await;
    assert_eq!(
        admin
            .post_status(&format!("/clients/{client}/delete"), &[("confirm", "yes")])
            .await,
        StatusCode::CONFLICT
    );
    assert!(admin.get_text("/projects").await.contains("Acme"));
}

#[tokio::test]
async fn the_glance_reads_recent_entries_by_local_day_and_a_forgotten_timer_to_now() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let zones = a_billable_project(&app, "Zones").await;
    let forgotten = a_billable_project(&app, "Forgotten").await;
    let admin_id = app.user_id("admin").await;
    let ny: chrono_tz::Tz = "America/New_York".parse().expect("tz");
    let user = timetracker::db::users::by_id(&app.pool, admin_id)
        .await
        .expect("query")
        .expect("user");
    let actor = Actor::new(&user, ny);
    let today = Utc::now().with_timezone(&ny).date_naive();
    // A week that ends today, so the last 7 days are the week's days.
    let first = today - Duration::days(6);
    // The spans as the timer page's statement reads them.
    let session = timetracker::auth::keys::sha256(&admin.cookie("tt_session").expect("session"));
    let glance = || async {
        let page = db::timer_page::load(&app.pool, db::callers::Kind::Session, &session)
            .await
            .expect("page")
            .expect("signed in");
        timetracker::tracking::timer_page::glance(&page.spans, today, first, ny)
    };
    // 23:00 the day before yesterday until 01:00 yesterday, local: both
    // hours fall in the last 7 days. An entry of 12 days ago does not.
    let yesterday = start_of_day(today - Duration::days(1), ny);
    for (start, end) in [
        (
            yesterday - Duration::hours(1),
            yesterday + Duration::hours(1),
        ),
        (
            yesterday - Duration::days(11),
            yesterday - Duration::days(11) + Duration::hours(5),
        ),
    ] {
        entries::create(&app.pool, &actor, admin_id, &entry_input(zones, start, end))
            .await
            .expect("entry");
    }
    let g = glance().await;
    assert_eq!(g.top, [("Zones".to_owned(), 7200)]);
    assert_eq!(g.daily[4..], [3600, 3600, 0], "by local day, up to today");
    // A timer left running for ten days counts, clipped to the last 7 days
    // and up to now.
    sqlx::query(
        "INSERT INTO time_entries (user_id, project_id, started_at, billable, source)
         VALUES ($1, $2, now() - interval '10 days', true, 'timer')",
    )
    .bind(admin_id)
    .bind(forgotten)
    .execute(&app.pool)
    .await
    .expect("running entry");
    let seven_days = start_of_day(first, ny);
    let before = (Utc::now() - seven_days).num_seconds();
    let g = glance().await;
    let after = (Utc::now() - seven_days).num_seconds();
    assert_eq!(g.top[1], ("Zones".to_owned(), 7200));
    let (name, seconds) = &g.top[0];
    assert_eq!(name, "Forgotten");
    assert!(
        (before..=after).contains(seconds),
        "{before} <= {seconds} <= {after}"
    );
}

#[tokio::test]
async fn forgotten_timers_are_stopped_by_maintenance_only_when_the_admin_wants_it() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let project = a_billable_project(&app, "Forgotten").await;
    sqlx::query(
        "INSERT INTO time_entries (user_id, project_id, started_at, billable, source)
         VALUES ($1, $2, now() - interval '5 hours', true, 'timer')",
    )
    .bind(app.user_id("admin").await)
    .bind(project)
    .execute(&app.pool)
    .await
    .expect("running entry");
    set_setting(&app, "long_timer_hours", "2").await;
    assert!(
        admin.get_text("/").await.contains("more than 2 hours"),
        "the dashboard warns"
    );

    let prune = Prune::new(&app.config, &app.pool);
    prune
        .handle(Maintenance { tick: 0 }, CTX)
        .await
        .expect("maintenance");
    assert_eq!(
        running_count(&app, app.user_id("admin").await).await,
        1,
        "off by default"
    );
    set_setting(&app, "auto_stop_long_timers", "true").await;
    prune
        .handle(Maintenance { tick: 1 }, CTX)
        .await
        .expect("maintenance");
    let seconds: i64 = app
        .scalar("SELECT duration_seconds FROM time_entries")
        .await;
    assert_eq!(seconds, 2 * 3600, "stopped at the limit");
}

#[tokio::test]
async fn entries_are_grouped_by_day_and_changed_in_bulk_with_a_result_for_each() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let first = a_billable_project(&app, "First").await;
    let second = a_billable_project(&app, "Second").await;
    for (start, duration) in [
        ("2026-11-30T09:00", "1:00"),
        ("2026-11-30T11:00", "0:30"),
        ("2026-11-29T10:00", "2:00"),
    ] {
        admin
            .submit(
                "/entries/new",
                &[
                    ("project_id", &first.to_string()),
                    ("start", start),
                    ("duration", duration),
                ],
            )
            .await;
    }
    admin
        .post_form("/timer/start", &[("project_id", &first.to_string())])
        .await;
    let page = admin.get_text("/entries").await;
    let monday = page.find("Monday, 2026-11-30").expect("a day heading");
    let sunday = page.find("Sunday, 2026-11-29").expect("another");
    assert!(monday < sunday, "newest day first");
    assert!(
        page[monday..sunday].contains("1:30:00"),
        "Monday's subtotal"
    );
    assert!(page[sunday..].contains("2:00:00"), "Sunday's subtotal");

    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM time_entries ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("ids");
    let (a, b, c, running) = (ids[0], ids[1], ids[2], ids[3]);
    let form = |action: &'static str, selected: &[i64]| {
        let mut f: Vec<(&str, String)> = selected.iter().map(|i| ("ids", i.to_string())).collect();
        f.push(("action", action.into()));
        f.push(("project_id", second.to_string()));
        f
    };
    let post = |f: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post_form("/entries/bulk", &pairs).await
        }
    };
    // Moving includes the running timer: the others move, it says why not.
    let r = post(form("move", &[a, b, running])).await;
    assert_is_redirect(&r);
    let notice = admin.get_text("/entries").await;
    assert!(
        notice.contains("2 entries moved.")
            && notice.contains(&format!("#{running}: Stop the timer")),
        "{notice}"
    );
    let projects: Vec<i64> = sqlx::query_scalar("SELECT project_id FROM time_entries ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("projects");
    assert_eq!(projects, [second, second, first, first]);

    post(form("not_billable", &[a, c])).await;
    let billable: Vec<bool> = sqlx::query_scalar("SELECT billable FROM time_entries ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("billable");
    assert_eq!(
        (billable[0], billable[1], billable[2]),
        (false, true, false)
    );

    // Deleting asks first, carrying the selection; confirmed, it deletes.
    let r = post(form("delete", &[a, b])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ask = r.text().await.expect("page");
    assert!(ask.contains("Delete 2 selected entries?"), "{ask}");
    assert!(ask.contains(&format!(r#"name="ids" value="{a}""#)));
    let mut confirmed = form("delete", &[a, b]);
    confirmed.push(("confirm", "yes".into()));
    assert_eq!(post(confirmed).await.status(), StatusCode::SEE_OTHER);
    let left: i64 = app.scalar("SELECT count(*) FROM time_entries").await;
    assert_eq!(left, 2);

    // The API: the same, with a result per id.
    let token = admin.api_token("bulk", "").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/time-entries/bulk", app.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({"ids": [c, running, 999999], "action": "set_billable", "billable": true}))
        .send()
        .await
        .expect("bulk");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.expect("json");
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [200, 409, 404], "{body}");
    assert_eq!(body["results"][1]["error"]["code"], "timer_running");
}

#[tokio::test]
async fn the_running_timer_is_changed_in_place_and_a_slip_of_a_few_seconds_can_be_discarded() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let first = a_billable_project(&app, "First").await.to_string();
    let second = a_billable_project(&app, "Second").await.to_string();
    admin
        .post_form("/timer/start", &[("project_id", &first)])
        .await;
    admin
        .submit(
            "/timer/edit",
            &[
                ("project_id", &second),
                ("notes", "moved"),
                ("minutes_ago", "20"),
            ],
        )
        .await;
    let (project, notes, minutes): (i64, String, f64) = sqlx::query_as(
        "SELECT project_id, notes, extract(epoch FROM now() - started_at)::float8 / 60
         FROM time_entries WHERE ended_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .expect("running");
    assert_eq!(
        (project.to_string(), notes.as_str()),
        (second.clone(), "moved")
    );
    assert!((19.5..21.0).contains(&minutes), "{minutes}");
    let r = admin
        .post_form(
            "/timer/edit",
            &[("project_id", &second), ("start", "2999-01-01T09:00")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("cannot be in the future")
    );

    // Moving the start over an earlier entry is refused.
    admin.post_form("/timer/stop", &[]).await;
    admin
        .post_form("/timer/start", &[("project_id", &first)])
        .await;
    let r = admin
        .post_form(
            "/timer/edit",
            &[("project_id", &first), ("minutes_ago", "10")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.expect("page").contains("overlaps"));

    // A stop a few seconds after the start: the page offers to discard it.
    admin.post_form("/timer/stop", &[]).await;
    let page = admin.get_text("/").await;
    assert!(page.contains("Your last entry lasted only"), "{page}");
    let last: i64 = app.scalar("SELECT max(id) FROM time_entries").await;
    assert!(page.contains(&format!(r#"action="/entries/{last}/delete""#)));
    admin
        .submit(&format!("/entries/{last}/delete"), &[("confirm", "yes")])
        .await;
    let page = admin.get_text("/").await;
    assert!(
        !page.contains("Your last entry lasted only"),
        "the long one is kept"
    );
}
