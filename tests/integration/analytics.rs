//! Product analytics delivery to a fake PostHog on 127.0.0.1: consent, the
//! outbox, batching, failures and privacy.

use std::{collections::HashSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use timetracker::analytics::{self, Event};

use crate::support::{
    FakePostHog, TestApp, TestClient, a_project, eventually, spawn_app_with,
    spawn_app_with_analytics,
};

async fn app_with_posthog() -> (TestApp, FakePostHog, TestClient) {
    app_with_posthog_and(&[]).await
}

/// The app with product analytics configured for a fake PostHog (not yet
/// switched on), `extra` settings, and its signed-in admin.
async fn app_with_posthog_and(extra: &[(&str, &str)]) -> (TestApp, FakePostHog, TestClient) {
    let fake = FakePostHog::start().await;
    let mut vars = vec![
        ("POSTHOG_API_KEY", "phc_test_key"),
        ("POSTHOG_HOST", fake.url.as_str()),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let admin = app.setup_admin().await;
    (app, fake, admin)
}

async fn switch(admin: &TestClient, on: bool) {
    admin
        .submit(
            "/admin/telemetry/analytics",
            &[("enabled", if on { "on" } else { "off" })],
        )
        .await;
}

/// Accepted events other than the admin's own Telemetry-page events.
fn product_events(fake: &FakePostHog) -> Vec<Value> {
    fake.accepted_events()
        .into_iter()
        .filter(|e| {
            !e["event"]
                .as_str()
                .unwrap_or_default()
                .starts_with("admin.telemetry")
        })
        .collect()
}

async fn statuses(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM analytics_events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("statuses")
}

/// Makes postponed events due again, instead of sleeping through the backoff.
async fn make_due(app: &TestApp) {
    app.exec("UPDATE analytics_events SET next_attempt_at = now() WHERE status = 'pending'")
        .await;
    app.exec("UPDATE apalis.jobs SET run_at = now() WHERE job_type = 'analytics_delivery' AND status = 'Pending'").await;
}

#[tokio::test]
async fn nothing_is_sent_while_product_analytics_is_off() {
    let (app, fake, admin) = app_with_posthog().await;
    let p = a_project().named("Secret Project Name").create(&app).await;
    admin
        .post_form("/timer/start", &[("project_id", &p.to_string())])
        .await;
    admin.post_form("/timer/stop", &[]).await;
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty());
    assert!(statuses(&app).await.is_empty(), "nothing is even queued");
}

#[tokio::test]
async fn without_a_posthog_key_analytics_cannot_be_switched_on() {
    let app = crate::support::spawn_app().await;
    let admin = app.setup_admin().await;
    let r = admin
        .post_form("/admin/telemetry/analytics", &[("enabled", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        admin
            .get_text("/admin/telemetry")
            .await
            .contains("no <code>POSTHOG_API_KEY</code>")
    );
}

#[tokio::test]
async fn events_from_the_ui_and_the_api_arrive_in_one_batch_with_only_declared_properties() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let p = a_project().named("Secret Project Name").create(&app).await;
    let token = admin.api_token("t", "").await;
    admin
        .post_form(
            "/timer/start",
            &[
                ("project_id", &p.to_string()),
                ("notes", "private note text"),
                ("tags", "x"),
            ],
        )
        .await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/timer/stop", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stop");
    assert_eq!(r.status(), StatusCode::OK);
    let body = json!({"project_id": p, "start": "2026-11-02T09:00:00Z", "duration_seconds": 600, "notes": "another private note"});
    let r = http
        .post(format!("{}/api/v1/time-entries", app.address))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), StatusCode::CREATED);
    app.run_pending_jobs().await;

    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one batch");
    let (status, sent) = &requests[0];
    assert_eq!(*status, 200);
    assert_eq!(sent["api_key"], "phc_test_key");
    assert!(
        sent.get("sent_at").is_none(),
        "no sent_at: the timestamps are used as they are"
    );
    let events: Vec<Value> = sent["batch"]
        .as_array()
        .expect("batch")
        .iter()
        .filter(|e| {
            !e["event"]
                .as_str()
                .unwrap_or_default()
                .starts_with("admin.telemetry")
        })
        .cloned()
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "api_token.created",
            "timer.started",
            "timer.stopped",
            "time_entry.created"
        ]
    );

    let admin_id = app.user_id("admin").await;
    let fixed: HashSet<&str> = [
        "$geoip_disable",
        "$lib",
        "$lib_version",
        "app_version",
        "deployment_method",
        "environment",
        "$groups",
    ]
    .into();
    let mut uuids = HashSet::new();
    for e in &events {
        assert!(uuids.insert(e["uuid"].as_str().expect("uuid").to_owned()));
        let distinct = e["distinct_id"].as_str().expect("distinct id");
        assert_eq!(distinct.len(), 32);
        assert_ne!(distinct, admin_id.to_string());
        assert_eq!(e["properties"]["$geoip_disable"], true);
        assert!(e["timestamp"].as_str().expect("timestamp").ends_with('Z'));
        let spec = analytics::events::CATALOGUE
            .iter()
            .find(|s| s.name == e["event"])
            .expect("in the catalogue");
        for key in e["properties"].as_object().expect("properties").keys() {
            assert!(
                fixed.contains(key.as_str()) || spec.properties.iter().any(|(n, _, _)| n == key),
                "{key} on {}",
                spec.name
            );
        }
    }
    assert_eq!(events[1]["properties"]["has_notes"], true);
    assert_eq!(events[3]["properties"]["duration_seconds"], 600);
    let everything = sent.to_string();
    for secret in [
        "admin@example.org",
        "\"admin\"",
        "Secret Project Name",
        "private note",
        "127.0.0.1",
        "http",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    assert!(statuses(&app).await.iter().all(|s| s == "sent"));
    let page = admin.get_text("/admin/telemetry").await;
    assert!(
        page.contains("time_entry.created") && page.contains("admin.telemetry_changed"),
        "the admin sees what was sent"
    );
}

#[tokio::test]
async fn opted_out_users_and_do_not_track_requests_produce_no_events() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let p = a_project().named("Secret Project Name").create(&app).await;
    let bob = app.create_user(&admin, "bob", "user").await;
    assert!(bob.get_text("/profile").await.contains("Opt me out"));
    assert_eq!(
        bob.post_status("/profile/analytics", &[("opt_out", "on")])
            .await,
        StatusCode::SEE_OTHER
    );
    bob.post_form("/timer/start", &[("project_id", &p.to_string())])
        .await;
    let token = admin.api_token("t", "").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/timer/start", app.address))
        .bearer_auth(&token)
        .header("Sec-GPC", "1")
        .json(&json!({"project_id": p}))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status(), StatusCode::CREATED);
    app.run_pending_jobs().await;
    let names: Vec<String> = product_events(&fake)
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_owned())
        .collect();
    // Bob's creation is the admin's event; Bob's first sign-in was still
    // waiting when he opted out, so it was discarded with the opt-out. After
    // that nothing of his, and nothing from the GPC request, only the admin's token.
    assert_eq!(
        names,
        ["admin.user_created", "api_token.created"],
        "{names:?}"
    );
}

#[tokio::test]
async fn switching_analytics_off_discards_what_is_queued() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let p = a_project().named("Secret Project Name").create(&app).await;
    admin
        .post_form("/timer/start", &[("project_id", &p.to_string())])
        .await;
    switch(&admin, false).await;
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty());
    let after = statuses(&app).await;
    assert!(
        after.len() == 2 && after.iter().all(|s| s == "discarded"),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_rolled_back_action_leaves_no_event_and_a_committed_one_is_delivered() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let user = Some(app.user_id("admin").await);
    let mut tx = app.pool.begin().await.expect("tx");
    analytics::record(&mut tx, user, &Event::ClientDeleted)
        .await
        .expect("record");
    tx.rollback().await.expect("rollback");
    let mut tx = app.pool.begin().await.expect("tx");
    analytics::record(&mut tx, user, &Event::ClientUpdated)
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    app.run_pending_jobs().await;
    let names: Vec<Value> = product_events(&fake)
        .iter()
        .map(|e| e["event"].clone())
        .collect();
    assert_eq!(names, [json!("client.updated")]);
}

#[tokio::test]
async fn an_outage_is_retried_until_every_event_arrives_and_duplicates_keep_uuid_and_timestamp() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let user = Some(app.user_id("admin").await);
    for _ in 0..30 {
        let mut conn = app.pool.acquire().await.expect("conn");
        analytics::record(
            &mut conn,
            user,
            &Event::TimerStopped {
                duration_seconds: 1,
            },
        )
        .await
        .expect("record");
    }
    fake.answer(|_| (503, None));
    for _ in 0..3 {
        app.run_pending_jobs().await;
        make_due(&app).await;
    }
    assert!(product_events(&fake).is_empty());
    assert!(
        statuses(&app).await.iter().all(|s| s == "pending"),
        "nothing is dropped during the outage"
    );
    let failed = fake.requests();
    fake.answer(|_| (200, None));
    app.run_pending_jobs().await;
    let delivered = product_events(&fake);
    let uuids: HashSet<_> = delivered.iter().map(|e| e["uuid"].to_string()).collect();
    assert_eq!((delivered.len(), uuids.len()), (30, 30), "every event once");
    // A resend carries the same uuid and timestamp as the failed attempt.
    let first_try = &failed[0].1["batch"][0];
    let resent = fake
        .accepted_events()
        .into_iter()
        .find(|e| e["uuid"] == first_try["uuid"])
        .expect("resent");
    assert_eq!(resent["timestamp"], first_try["timestamp"]);
}

#[tokio::test]
async fn retry_after_is_honoured_with_a_durable_delay() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    analytics::record(&mut conn, Some(app.user_id("admin").await), &Event::Logout)
        .await
        .expect("record");
    fake.answer(|_| (429, Some(120)));
    app.run_pending_jobs().await;
    let wait: f64 = app
        .scalar("SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM analytics_events")
        .await;
    assert!((110.0..=121.0).contains(&wait), "waits as told: {wait}");
    let delayed: f64 = app.scalar("SELECT extract(epoch FROM run_at - now())::float8 FROM apalis.jobs WHERE job_type = 'analytics_delivery' AND status = 'Pending'").await;
    assert!((100.0..=121.0).contains(&delayed), "{delayed}");
    assert_eq!(fake.requests().len(), 1, "no hammering in between");
}

#[tokio::test]
async fn a_run_that_finds_nothing_due_still_schedules_the_waiting_events() {
    // The race this guards: a run postpones events after a 429, but another
    // run holds the queue key, so its delayed follow-up cannot be enqueued.
    // That other run must schedule the waiting events itself when it ends.
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    analytics::record(&mut conn, Some(app.user_id("admin").await), &Event::Logout)
        .await
        .expect("record");
    app.exec("UPDATE analytics_events SET next_attempt_at = now() + interval '90 seconds'")
        .await;
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty(), "nothing was due");
    let delayed: f64 = app.scalar("SELECT extract(epoch FROM run_at - now())::float8 FROM apalis.jobs WHERE job_type = 'analytics_delivery' AND status = 'Pending'").await;
    assert!((80.0..=91.0).contains(&delayed), "{delayed}");
}

#[tokio::test]
async fn oversized_batches_are_split_and_a_poison_event_dies_alone() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let user = Some(app.user_id("admin").await);
    let mut conn = app.pool.acquire().await.expect("conn");
    for seconds in 1..=6 {
        analytics::record(
            &mut conn,
            user,
            &Event::TimerStopped {
                duration_seconds: seconds,
            },
        )
        .await
        .expect("record");
    }
    // Batches of more than two are "too large"; the event lasting 4 s is poison.
    fake.answer(|body| {
        let batch = body["batch"].as_array().cloned().unwrap_or_default();
        if batch.len() > 2 {
            (413, None)
        } else if batch
            .iter()
            .any(|e| e["properties"]["duration_seconds"] == 4)
        {
            (400, None)
        } else {
            (200, None)
        }
    });
    app.run_pending_jobs().await;
    let mut delivered: Vec<i64> = product_events(&fake)
        .iter()
        .map(|e| e["properties"]["duration_seconds"].as_i64().expect("n"))
        .collect();
    delivered.sort();
    assert_eq!(delivered, [1, 2, 3, 5, 6]);
    let dead: Vec<Value> =
        sqlx::query_scalar("SELECT properties FROM analytics_events WHERE status = 'dead'")
            .fetch_all(&app.pool)
            .await
            .expect("dead");
    assert_eq!(dead, [json!({"duration_seconds": 4})]);
    // The admin retries it once PostHog accepts it again.
    fake.answer(|_| (200, None));
    admin
        .submit("/admin/telemetry/dead", &[("action", "retry")])
        .await;
    app.run_pending_jobs().await;
    assert!(statuses(&app).await.iter().all(|s| s == "sent"));
    let events: Vec<String> = fake
        .accepted_events()
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        events.contains(&"admin.telemetry_changed".to_owned()),
        "switching is itself an event: {events:?}"
    );
}

#[tokio::test]
async fn a_refused_key_marks_the_channel_misconfigured_and_keeps_the_events() {
    let (app, fake, admin) = app_with_posthog().await;
    switch(&admin, true).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    analytics::record(&mut conn, Some(app.user_id("admin").await), &Event::Logout)
        .await
        .expect("record");
    fake.answer(|_| (401, None));
    app.run_pending_jobs().await;
    assert!(statuses(&app).await.iter().all(|s| s == "pending"));
    let page = admin.get_text("/admin/telemetry").await;
    assert!(page.contains("PostHog refused the last delivery"), "{page}");
    assert!(!page.contains("phc_test_key"), "the key is never shown");
    fake.answer(|_| (200, None));
    make_due(&app).await;
    app.run_pending_jobs().await;
    assert!(statuses(&app).await.iter().all(|s| s == "sent"));
    assert!(
        !admin
            .get_text("/admin/telemetry")
            .await
            .contains("refused the last delivery")
    );
}

async fn app_with_telemetry(extra: &[(&str, &str)]) -> (TestApp, FakePostHog) {
    let fake = FakePostHog::start().await;
    let mut vars = vec![
        ("TELEMETRY_POSTHOG_KEY", "phc_makers"),
        ("TELEMETRY_POSTHOG_HOST", fake.url.as_str()),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    (app, fake)
}

#[tokio::test]
async fn no_install_ping_leaves_without_consent_not_even_an_opt_out() {
    let (app, fake) = app_with_telemetry(&[]).await;
    let admin = app.setup_admin().await;
    app.run_pending_jobs().await;
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    timetracker_worker::scheduler::enqueue_pings(&app.pool, tomorrow)
        .await
        .expect("schedule");
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty());
    let page = admin.get_text("/admin/telemetry").await;
    assert!(page.contains("off (the default)"));
}

#[tokio::test]
async fn one_ping_is_sent_on_opt_in_and_it_is_what_the_preview_showed() {
    let (app, fake) = app_with_telemetry(&[]).await;
    let admin = app.client();
    let setup_page = admin.get_text("/setup").await;
    assert_eq!(
        admin.submit_setup("admin", "on").await.status(),
        StatusCode::SEE_OTHER
    );
    app.run_pending_jobs().await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "exactly one ping");
    let (_, body) = &requests[0];
    assert_eq!(body["api_key"], "phc_makers");
    let ping = &body["batch"][0];
    assert_eq!(ping["event"], "telemetry.install");
    assert_eq!(ping["properties"]["$process_person_profile"], false);
    let install_id: uuid::Uuid = app.scalar("SELECT install_id FROM installation").await;
    assert_eq!(ping["distinct_id"], install_id.to_string());
    let shown = unescape(&setup_page);
    let preview: Value = serde_json::from_str(
        &shown[shown.find("<pre class=\"payload\">").expect("preview") + 21
            ..shown.find("</pre>").expect("end")],
    )
    .expect("the preview is JSON");
    assert_eq!(
        preview["properties"], ping["properties"],
        "the setup page showed exactly this"
    );
    let page = admin.get_text("/admin/telemetry").await;
    assert!(page.contains("last ping") && page.contains("telemetry.install"));
}

fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#36;", "$")
}

#[tokio::test]
async fn the_daily_heartbeat_is_sent_once_a_day_whatever_the_number_of_workers() {
    let (app, fake) = app_with_telemetry(&[]).await;
    assert_eq!(
        app.client().submit_setup("admin", "on").await.status(),
        StatusCode::SEE_OTHER
    );
    app.run_pending_jobs().await;
    let late_tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(23, 59, 0)
        .expect("time")
        .and_utc();
    // Two workers' schedulers ticking in the same day.
    let (a, b) = tokio::join!(
        timetracker_worker::scheduler::enqueue_pings(&app.pool, late_tomorrow),
        timetracker_worker::scheduler::enqueue_pings(&app.pool, late_tomorrow),
    );
    a.expect("a");
    b.expect("b");
    app.run_pending_jobs().await;
    let events: Vec<Value> = fake
        .requests()
        .iter()
        .map(|(_, b)| b["batch"][0]["event"].clone())
        .collect();
    assert_eq!(
        events,
        [json!("telemetry.install"), json!("telemetry.heartbeat")]
    );
}

#[tokio::test]
async fn do_not_track_in_the_environment_overrides_consent() {
    let (app, fake) = app_with_telemetry(&[("DO_NOT_TRACK", "1")]).await;
    let admin = app.client();
    assert_eq!(
        admin.submit_setup("admin", "on").await.status(),
        StatusCode::SEE_OTHER
    );
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty());
    assert!(
        admin
            .get_text("/admin/telemetry")
            .await
            .contains("forced off by DO_NOT_TRACK")
    );
    assert_eq!(
        admin.post_status("/admin/telemetry/ping", &[]).await,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn consent_given_again_after_withdrawal_gets_a_new_install_id() {
    let (app, fake) = app_with_telemetry(&[]).await;
    let admin = app.client();
    admin.submit_setup("admin", "on").await;
    app.run_pending_jobs().await;
    let id = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT install_id FROM installation")
            .fetch_one(&pool)
            .await
            .expect("id")
    };
    let first = id(app.pool.clone()).await;
    admin
        .post_form("/admin/telemetry/install", &[("enabled", "off")])
        .await;
    admin
        .post_form("/admin/telemetry/install", &[("enabled", "on")])
        .await;
    app.run_pending_jobs().await;
    let second = id(app.pool.clone()).await;
    assert_ne!(first, second);
    let ids: Vec<Value> = fake
        .requests()
        .iter()
        .map(|(_, b)| b["batch"][0]["distinct_id"].clone())
        .collect();
    assert_eq!(ids, [json!(first.to_string()), json!(second.to_string())]);
}

/// The Admin → Telemetry row of `name`: its value and where it came from.
async fn flag_row(admin: &TestClient, name: &str) -> String {
    let page = admin.get_text("/admin/telemetry").await;
    page.split("<tr>")
        .find(|row| row.contains(&format!("<code>{name}</code>")))
        .unwrap_or_else(|| panic!("no row for {name}"))
        .to_owned()
}

/// The flag refresh the worker's scheduler runs at its start and every five
/// minutes, run to its end. (Running the worker "until idle" raced it: no job
/// is outstanding, so the worker could stop before its first refresh, and a
/// loaded machine failed the test.)
async fn refresh_flags(app: &TestApp) {
    timetracker_worker::handlers::flags::refresh(
        &app.pool,
        &app.config,
        &timetracker_worker::handlers::analytics::http_client(),
    )
    .await
    .expect("flag refresh");
}

#[tokio::test]
async fn feature_flags_follow_environment_then_admin_then_posthog_then_default() {
    let (app, fake, admin) = app_with_posthog_and(&[("FEATURE_API_TOKEN_CREATION", "false")]).await;
    // The environment wins, and the kill switch really stops token creation.
    let r = admin
        .post_form("/profile/tokens", &[("name", "blocked")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        admin
            .get_text("/profile")
            .await
            .contains("switched off on this installation")
    );
    admin
        .post_form(
            "/admin/flags",
            &[("name", "api_token_creation"), ("value", "on")],
        )
        .await;
    assert_eq!(
        admin
            .post_status("/profile/tokens", &[("name", "still")])
            .await,
        StatusCode::FORBIDDEN
    );

    // PostHog's value is used once analytics is on and the worker refreshed it.
    switch(&admin, true).await;
    fake.flags_answer(
        json!({ "flags": { "xlsx_exports": { "key": "xlsx_exports", "enabled": false } } }),
    );
    refresh_flags(&app).await;
    let row = flag_row(&admin, "xlsx_exports").await;
    assert!(
        row.contains("<td>off</td>") && row.contains("<td>PostHog</td>"),
        "{row}"
    );
    let r = admin.post_form("/exports", &[("format", "xlsx")]).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "XLSX exports switched off remotely"
    );
    assert_eq!(
        admin.post_status("/exports", &[("format", "csv")]).await,
        StatusCode::SEE_OTHER
    );

    // A quota-limited answer keeps the last good value.
    fake.flags_answer(json!({ "flags": {}, "quotaLimited": ["feature_flags"] }));
    refresh_flags(&app).await;
    assert_eq!(
        admin.post_status("/exports", &[("format", "xlsx")]).await,
        StatusCode::FORBIDDEN
    );

    // The admin's choice beats PostHog; clearing it falls back again.
    assert_eq!(
        admin
            .post_status("/admin/flags", &[("name", "xlsx_exports"), ("value", "on")])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin.post_status("/exports", &[("format", "xlsx")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin
            .post_status(
                "/admin/flags",
                &[("name", "xlsx_exports"), ("value", "default")],
            )
            .await,
        StatusCode::SEE_OTHER
    );
    let row = flag_row(&admin, "xlsx_exports").await;
    assert!(
        row.contains("<td>off</td>") && row.contains("<td>PostHog</td>"),
        "back to PostHog's value: {row}"
    );
    assert_eq!(
        admin.post_status("/exports", &[("format", "xlsx")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin
            .post_status("/admin/flags", &[("name", "nope"), ("value", "on")])
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn flags_are_not_fetched_while_analytics_is_off() {
    let (app, fake, admin) = app_with_posthog().await;
    fake.flags_answer(json!({ "flags": { "xlsx_exports": { "enabled": false } } }));
    refresh_flags(&app).await;
    let row = flag_row(&admin, "xlsx_exports").await;
    assert!(
        row.contains("<td>on</td>") && row.contains("<td>default</td>"),
        "{row}"
    );
    assert_eq!(
        admin.post_status("/exports", &[("format", "xlsx")]).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_privacy_docs_are_served_by_the_app_itself() {
    let (app, _fake, admin) = app_with_posthog().await;
    let page = admin.get_text("/admin/telemetry").await;
    for doc in ["privacy", "analytics", "telemetry", "events"] {
        assert!(page.contains(&format!("/docs/{doc}")));
        let r = admin.get(&format!("/docs/{doc}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{doc}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/html")),
            "rendered, not raw Markdown"
        );
        let html = r.text().await.expect("text");
        assert!(html.contains("<h1 id=") && !html.contains("\n# "), "{doc}");
        // Every link to another page of the app leads somewhere the app serves.
        for href in html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                !href.ends_with(".md") && !href.contains(".md#"),
                "{doc}: {href}"
            );
            if let Some(path) = href.strip_prefix("/docs/") {
                let page = path.split('#').next().unwrap_or_default();
                let r = admin.get(&format!("/docs/{page}")).await;
                assert_eq!(r.status(), StatusCode::OK, "{doc} links to {href}");
            }
        }
    }
    assert_eq!(
        admin.get_status("/docs/secrets").await,
        StatusCode::NOT_FOUND
    );
    let _ = app;
}

#[tokio::test]
async fn maintenance_prunes_old_sent_events_and_keeps_dead_ones() {
    use timetracker_worker::JobHandler;
    let (app, _fake, _admin) = app_with_posthog().await;
    app.exec("INSERT INTO analytics_events (uuid, event, properties, occurred_at, status, sent_at)
         VALUES (gen_random_uuid(), 'auth.logout', '{}', now() - interval '30 days', 'sent', now() - interval '30 days'),
                (gen_random_uuid(), 'auth.logout', '{}', now() - interval '30 days', 'dead', NULL),
                (gen_random_uuid(), 'auth.logout', '{}', now(), 'sent', now())").await;
    let ctx = timetracker_worker::JobContext {
        job_id: String::new(),
        attempt: 1,
        last_attempt: false,
    };
    timetracker_worker::handlers::maintenance::Prune::new(&app.config, &app.pool)
        .handle(timetracker::jobs::Maintenance { tick: 0 }, ctx)
        .await
        .expect("maintenance");
    let mut left = statuses(&app).await;
    left.sort();
    assert_eq!(left, ["dead", "sent"]);
}

#[tokio::test]
async fn print_only_mode_sends_nothing_and_marks_events_handled() {
    let (app, fake, admin) = app_with_posthog_and(&[("TIMETRACKER_ANALYTICS_DEBUG", "1")]).await;
    switch(&admin, true).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    analytics::record(&mut conn, Some(app.user_id("admin").await), &Event::Logout)
        .await
        .expect("record");
    app.run_pending_jobs().await;
    assert!(fake.requests().is_empty(), "payloads are logged, not sent");
    assert!(statuses(&app).await.iter().all(|s| s == "sent"));
    assert!(
        admin
            .get_text("/admin/telemetry")
            .await
            .contains("print-only mode")
    );
}

#[tokio::test]
async fn a_new_version_sends_one_update_ping() {
    let (app, fake) = app_with_telemetry(&[]).await;
    assert_eq!(
        app.client().submit_setup("admin", "on").await.status(),
        StatusCode::SEE_OTHER
    );
    app.run_pending_jobs().await;
    // As if the previous ping had left from an older release.
    app.exec("UPDATE installation SET last_ping_version = '0.0.0-old'")
        .await;
    let now = chrono::Utc::now();
    timetracker_worker::scheduler::enqueue_pings(&app.pool, now)
        .await
        .expect("schedule");
    timetracker_worker::scheduler::enqueue_pings(&app.pool, now)
        .await
        .expect("schedule again");
    app.run_pending_jobs().await;
    let events: Vec<Value> = fake
        .requests()
        .iter()
        .map(|(_, b)| b["batch"][0]["event"].clone())
        .collect();
    assert_eq!(
        events,
        [json!("telemetry.install"), json!("telemetry.update")]
    );
    let version: String = app
        .scalar("SELECT last_ping_version FROM installation")
        .await;
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_telemetry_page_lists_undelivered_events_to_retry_or_discard_one_by_one() {
    let app = crate::support::spawn_app().await;
    let admin = app.setup_admin().await;
    let id = |state: &'static str, attempts: i32, error: Option<&'static str>, seconds: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO analytics_events (uuid, event, properties, occurred_at, status, attempts, last_error)
                 VALUES (gen_random_uuid(), 'timer.stopped', jsonb_build_object('duration_seconds', $4::bigint), now(), $1, $2, $3)
                 RETURNING id",
            )
            .bind(state)
            .bind(attempts)
            .bind(error)
            .bind(seconds)
            .fetch_one(&pool)
            .await
            .expect("event")
        }
    };
    let dead = id("dead", 1, Some("400 Bad Request: malformed"), 11).await;
    let retrying = id("pending", 2, Some("503 Service Unavailable"), 22).await;
    let waiting = id("pending", 0, None, 33).await;
    let page = admin.get_text("/admin/telemetry").await;
    for text in [
        "400 Bad Request: malformed",
        "503 Service Unavailable",
        "{&#34;duration_seconds&#34;:11}",
        "<td>retrying</td>",
        "<td>waiting</td>",
    ] {
        assert!(page.contains(text), "{text}");
    }
    assert!(
        page.find("duration_seconds&#34;:11").expect("dead")
            < page.find("duration_seconds&#34;:22").expect("retrying"),
        "the dead first"
    );
    let state = |id: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM analytics_events WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("status")
        }
    };
    // Retry one: pending again, due now, its error cleared.
    admin
        .submit(
            "/admin/telemetry/dead",
            &[("action", "retry"), ("id", &dead.to_string())],
        )
        .await;
    assert_eq!(state(dead).await, "pending");
    // Discard one asks first, then discards only that one.
    let r = admin
        .post_form(
            "/admin/telemetry/dead",
            &[("action", "discard"), ("id", &retrying.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Discard this event?")
    );
    assert_eq!(state(retrying).await, "pending");
    admin
        .submit(
            "/admin/telemetry/dead",
            &[
                ("action", "discard"),
                ("id", &retrying.to_string()),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(state(retrying).await, "discarded");
    assert_eq!(state(waiting).await, "pending");
    // A sent or unknown event is not found.
    let r = admin
        .post_form(
            "/admin/telemetry/dead",
            &[("action", "retry"), ("id", &retrying.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_telemetry_page_filters_undelivered_events_and_acts_on_all_that_match() {
    let app = crate::support::spawn_app().await;
    let admin = app.setup_admin().await;
    // Two dead timer.stopped, one waiting timer.stopped, one dead timer.started.
    app.exec("INSERT INTO analytics_events (uuid, event, properties, occurred_at, status, attempts)
         VALUES (gen_random_uuid(), 'timer.stopped', '{\"duration_seconds\": 1}', now(), 'dead', 1),
                (gen_random_uuid(), 'timer.stopped', '{\"duration_seconds\": 2}', now(), 'dead', 1),
                (gen_random_uuid(), 'timer.stopped', '{\"duration_seconds\": 3}', now(), 'pending', 0),
                (gen_random_uuid(), 'timer.started', '{}', now(), 'dead', 1)").await;
    let page = admin
        .get_text("/admin/telemetry?event=timer.stopped&state=dead")
        .await;
    assert!(page.contains("2 match"), "counted");
    assert!(page.contains("duration_seconds&#34;:1") && page.contains("duration_seconds&#34;:2"));
    assert!(
        !page.contains("duration_seconds&#34;:3"),
        "the waiting one is filtered out"
    );
    assert!(page.contains("Discard all 2 that match"));
    for bad in ["event=nope", "state=sleeping"] {
        let r = admin.get(&format!("/admin/telemetry?{bad}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Discard all that match: asked first with the count, then only those.
    let filter = [("event", "timer.stopped"), ("state", "dead")];
    let mut form = vec![("action", "discard")];
    form.extend(filter);
    let r = admin.post_form("/admin/telemetry/dead", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("confirmation")
            .contains("Discard all 2 dead timer.stopped events?")
    );
    form.push(("confirm", "yes"));
    admin.submit("/admin/telemetry/dead", &form).await;
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT event, status FROM analytics_events ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("statuses");
    assert_eq!(
        statuses,
        [
            ("timer.stopped".into(), "discarded".into()),
            ("timer.stopped".into(), "discarded".into()),
            ("timer.stopped".into(), "pending".into()),
            ("timer.started".into(), "dead".into()),
        ]
    );
    // Retry all dead (any event): the dead timer.started is due again.
    admin
        .submit(
            "/admin/telemetry/dead",
            &[("action", "retry"), ("state", "dead")],
        )
        .await;
    let dead: i64 = app
        .scalar("SELECT count(*) FROM analytics_events WHERE status = 'dead'")
        .await;
    assert_eq!(dead, 0);
}

/// The scheduler's safety net: due events whose delivery run went missing
/// (here deleted) get a run; events not yet due do not.
#[tokio::test]
async fn the_scheduler_enqueues_a_delivery_run_only_for_due_events_without_one() {
    // A check every second (a quarter of the maintenance interval).
    let (app, fake, admin) = app_with_posthog_and(&[("MAINTENANCE_INTERVAL_SECONDS", "4")]).await;
    switch(&admin, true).await;
    let p = a_project().named("Secret Project Name").create(&app).await;
    admin
        .post_form("/timer/start", &[("project_id", &p.to_string())])
        .await;
    app.exec("UPDATE analytics_events SET next_attempt_at = now() + interval '1 hour'")
        .await;
    app.exec("DELETE FROM apalis.jobs WHERE job_type = 'analytics_delivery'")
        .await;
    let runs = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'analytics_delivery'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("runs")
    };

    let worker = crate::support::RunningWorker::start(timetracker_worker::Worker::standard(
        &app.config,
        &app.pool,
    ));
    // Three checks with nothing due: no run.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(runs().await, 0, "nothing due, no run");
    assert!(product_events(&fake).is_empty());

    make_due(&app).await;
    eventually(
        "the due events are sent",
        Duration::from_secs(10),
        || async { (!product_events(&fake).is_empty()).then_some(()) },
    )
    .await;
    let sent: Vec<Value> = product_events(&fake)
        .into_iter()
        .map(|e| e["event"].clone())
        .collect();
    assert_eq!(sent, [json!("timer.started")]);
    assert!(runs().await >= 1, "a run for the due events");
    worker.stop().await;
}

#[tokio::test]
async fn a_pause_holds_back_the_next_batch_of_a_delivery_run_already_started() {
    let fake = FakePostHog::start().await;
    let (app, admin) = spawn_app_with_analytics(&fake).await;
    // Five batches' worth, each answered slowly: one run takes seconds.
    app.exec(
        "INSERT INTO analytics_events (uuid, event, properties, occurred_at, status)
         SELECT gen_random_uuid(), 'timer.stopped', '{\"duration_seconds\": 1}', now(), 'pending'
         FROM generate_series(1, 2500)",
    )
    .await;
    let mut conn = app.pool.acquire().await.expect("conn");
    timetracker::jobs::enqueue_unique(
        &mut conn,
        &timetracker::jobs::AnalyticsFlush::default(),
        timetracker::jobs::AnalyticsFlush::KEY,
    )
    .await
    .expect("delivery job");
    fake.delay(Duration::from_millis(700));
    let worker = crate::support::RunningWorker::start(timetracker_worker::Worker::standard(
        &app.config,
        &app.pool,
    ));
    crate::support::eventually("the first batch sent", Duration::from_secs(20), || {
        let sent = fake.requests().len();
        async move { (sent >= 1).then_some(()) }
    })
    .await;
    admin
        .submit("/admin/jobs/queues/analytics_delivery/pause", &[])
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let while_paused = fake.requests().len();
    assert!(
        while_paused <= 2,
        "the batch in flight may finish, no more: {while_paused} sent"
    );
    admin
        .submit("/admin/jobs/queues/analytics_delivery/resume", &[])
        .await;
    crate::support::eventually(
        "the rest sent after the resume",
        Duration::from_secs(60),
        || {
            let delivered = fake.accepted_events().len();
            async move { (delivered >= 2500).then_some(()) }
        },
    )
    .await;
    worker.stop().await;
}
