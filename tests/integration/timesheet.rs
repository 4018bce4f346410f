//! The weekly timesheet through the JSON API and the page's form: cells
//! create, resize and remove entries; detail is never dropped silently;
//! archived projects are read-only; copying last week; week starts and
//! daylight-saving days.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{a_project, an_entry, assert_form_error, assert_is_redirect};
use crate::{
    api::Api,
    support::{TestApp, spawn_app},
};

async fn set(api: &Api, project: i64, date: &str, duration: &str) -> (StatusCode, Value) {
    let (status, _, body) = api
        .call(
            Method::PUT,
            "/timesheet/cells",
            Some(
                json!({"project_id": project, "task_id": null, "date": date, "duration": duration}),
            ),
        )
        .await;
    (status, body)
}

/// (started_at, seconds, notes) of the user's entries, oldest first.
async fn entries(app: &TestApp) -> Vec<(String, i64, String)> {
    sqlx::query_as(
        "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), duration_seconds, notes
         FROM time_entries ORDER BY started_at, id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("entries")
}

#[tokio::test]
async fn cells_create_resize_and_remove_entries_and_never_drop_detail() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("sheet", "").await);
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let p = a_project().named("Grid").create(&app).await;

    // An empty cell: one new entry at 09:00 on that day.
    let (status, body) = set(&api, p, "2026-11-30", "1h 30min").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["change"], "created");
    assert_eq!(body["display"], "1:30", "shows what was understood");
    assert_eq!(body["week_seconds"], 5400);
    assert_eq!(
        entries(&app).await,
        [("2026-11-30T09:00".into(), 5400, String::new())]
    );
    // The same value again changes nothing; another value resizes it.
    assert_eq!(
        set(&api, p, "2026-11-30", "90m").await.1["change"],
        "nothing"
    );
    let (_, body) = set(&api, p, "2026-11-30", "2,5").await;
    assert_eq!(
        (body["change"].as_str(), body["seconds"].as_i64()),
        (Some("resized"), Some(9000))
    );
    // Another day of the row: created after nothing else that day, at 09:00.
    set(&api, p, "2026-12-01", "1.5").await;

    // The week as JSON: one row, the right cells and totals.
    let (status, _, week) = api.get("/timesheet?week=2026-12-02").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(week["first_day"], "2026-11-30");
    let row = &week["rows"][0];
    assert_eq!(row["project"], "Grid");
    assert_eq!(row["cells"][0]["seconds"], 9000);
    assert_eq!(row["cells"][1]["seconds"], 5400);
    assert_eq!(row["cells"][2]["seconds"], 0);
    assert_eq!(row["seconds"], 14400);
    assert_eq!(week["day_seconds"][1], 5400);
    assert_eq!(week["seconds"], 14400);

    // A second entry of the row on Monday, with notes: the latest absorbs
    // the change and the answer says so.
    an_entry(app.user_id("admin").await, p)
        .from("2026-11-30T14:00:00Z")
        .with_notes("client call")
        .create(&app)
        .await;
    let (status, body) = set(&api, p, "2026-11-30", "4:00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["seconds"], 4 * 3600);
    assert!(
        body["note"].as_str().expect("a note").contains("2 entries"),
        "{body}"
    );
    let monday = entries(&app).await;
    assert_eq!(monday[0].1, 9000, "the earlier entry is untouched");
    assert_eq!(
        (monday[1].1, monday[1].2.as_str()),
        (5400, "client call"),
        "notes kept"
    );
    // Clearing a cell of several entries, or shrinking past the latest: refused, nothing lost.
    for value in ["", "0:30"] {
        let (status, body) = set(&api, p, "2026-11-30", value).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{value:?}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("entries page")
        );
    }
    assert_eq!(entries(&app).await, monday);

    // A single entry without notes is cleared; one with notes is not.
    let (_, body) = set(&api, p, "2026-12-01", "0").await;
    assert_eq!(body["change"], "deleted");
    app.exec("UPDATE time_entries SET notes = 'keep me' WHERE started_at::date = '2026-11-30' AND notes = ''").await;
    app.exec("DELETE FROM time_entries WHERE notes = 'client call'")
        .await;
    let (status, body) = set(&api, p, "2026-11-30", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("notes")
    );

    // Bad input is explained.
    let (status, body) = set(&api, p, "2026-11-30", "lots").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("1:30"),
        "{body}"
    );
    let (status, _) = set(&api, p, "2026-02-30", "1:00").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The row stays on the week after its last cell is cleared.
    let (_, _, week) = api.get("/timesheet?week=2026-11-30").await;
    assert_eq!(week["rows"].as_array().expect("rows").len(), 1);

    // An archived project's row is read-only.
    app.exec("UPDATE projects SET archived = true").await;
    let (_, _, week) = api.get("/timesheet?week=2026-11-30").await;
    assert_eq!(week["rows"][0]["read_only"], true);
    let (status, body) = set(&api, p, "2026-12-02", "1:00").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("archived")
    );
}

#[tokio::test]
async fn a_form_save_is_all_or_nothing_and_keeps_every_typed_value() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let p = a_project().named("Form").create(&app).await;
    admin
        .submit(
            "/timesheet/rows",
            &[("week", "2026-11-30"), ("project_id", &p.to_string())],
        )
        .await;
    let page = admin.get_text("/timesheet?week=2026-12-03").await;
    let monday = format!("c.{p}.0.0");
    assert!(
        page.contains(&format!("name=\"{monday}\"")),
        "the added row has cells"
    );

    let tuesday = format!("c.{p}.0.1");
    let r = admin
        .post_form(
            "/timesheet",
            &[
                ("week", "2026-11-30"),
                (&monday, "1:15"),
                (&tuesday, "soon"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("page");
    assert!(page.contains("value=\"soon\""), "the bad input is kept");
    assert!(page.contains("Enter a duration like"), "and explained");
    assert!(
        page.contains("value=\"1:15\""),
        "the good one is kept as typed"
    );
    assert!(page.contains("Nothing was saved"), "and the page says so");
    assert_eq!(entries(&app).await, Vec::new(), "all or nothing");

    // A good save redirects with what happened.
    let r = admin
        .post_form(
            "/timesheet",
            &[("week", "2026-11-30"), (&monday, "1:15"), (&tuesday, "2h")],
        )
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text(&crate::support::location(&r)).await;
    assert!(page.contains("2 cells saved."), "both changed cells count");
    // Junk field names are refused, not ignored.
    let r = admin
        .post_form("/timesheet", &[("week", "2026-11-30"), ("c.1.0.9", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn last_week_is_copied_as_rows_or_with_times_into_empty_cells() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("sheet", "").await);
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let (a, b) = (
        a_project().named("Alpha").create(&app).await,
        a_project().named("Beta").create(&app).await,
    );
    set(&api, a, "2026-11-23", "2:00").await;
    set(&api, a, "2026-11-24", "1:00").await;
    set(&api, b, "2026-11-25", "0:45").await;
    // This week already holds time on Alpha's Monday: it stays.
    set(&api, a, "2026-11-30", "0:30").await;

    let (status, _, body) = api
        .post("/timesheet/copy", json!({"week": "2026-11-30"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["rows_added"].as_i64(), body["cells_set"].as_i64()),
        (Some(1), Some(0)),
        "{body}"
    );
    let (_, _, week) = api.get("/timesheet?week=2026-11-30").await;
    assert_eq!(week["rows"].as_array().expect("rows").len(), 2);
    assert_eq!(week["seconds"], 1800, "rows only: no time");

    let (_, _, body) = api
        .post(
            "/timesheet/copy",
            json!({"week": "2026-11-30", "with_times": true}),
        )
        .await;
    assert_eq!(
        body["cells_set"], 2,
        "Tuesday of Alpha and Wednesday of Beta: {body}"
    );
    let (_, _, week) = api.get("/timesheet?week=2026-11-30").await;
    let alpha = &week["rows"][0];
    assert_eq!(alpha["project"], "Alpha");
    assert_eq!(
        alpha["cells"][0]["seconds"], 1800,
        "a cell with time is kept"
    );
    assert_eq!(alpha["cells"][1]["seconds"], 3600);
    assert_eq!(week["rows"][1]["cells"][2]["seconds"], 2700);
}

#[tokio::test]
async fn weeks_follow_the_users_week_start_and_timezone() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("sheet", "").await);
    app.exec("UPDATE users SET timezone = 'Europe/Berlin', week_start = 'sunday'")
        .await;
    let p = a_project().named("DST").create(&app).await;
    let (_, _, week) = api.get("/timesheet?week=2026-10-28").await;
    assert_eq!(week["first_day"], "2026-10-25", "a Sunday");
    // Sunday 2026-10-25 has 25 hours in Berlin: 09:00 local is 08:00 UTC
    // (CET); the Saturday before, 09:00 is 07:00 UTC (CEST).
    set(&api, p, "2026-10-25", "1:00").await;
    set(&api, p, "2026-10-24", "1:00").await;
    let got = entries(&app).await;
    assert_eq!(got[0].0, "2026-10-24T07:00");
    assert_eq!(got[1].0, "2026-10-25T08:00");
    let (_, _, week) = api.get("/timesheet?week=2026-10-25").await;
    assert_eq!(
        week["rows"][0]["cells"][0]["seconds"], 3600,
        "Sunday is the first column"
    );
    let (_, _, before) = api.get("/timesheet?week=2026-10-24").await;
    assert_eq!(before["first_day"], "2026-10-18");
    assert_eq!(
        before["rows"][0]["cells"][6]["seconds"], 3600,
        "Saturday is the last"
    );
}

/// The grid's writes are entry writes: with consent they record the entry
/// events, under `DNT: 1` nothing, through the page and the API alike.
#[tokio::test]
async fn each_grid_save_records_one_summarising_event_only_with_consent() {
    let fake = crate::support::FakePostHog::start().await;
    let (app, admin) = crate::support::spawn_app_with_analytics(&fake).await;
    let token = admin.api_token("sheet", "").await;
    let p = a_project().named("Consent").create(&app).await;
    let events = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT event || ' ' || (properties->>'entries_created') || '/' || (properties->>'entries_resized') || '/' || (properties->>'entries_deleted')
                 FROM analytics_events WHERE event LIKE 'time_entry.%' OR event = 'timesheet.saved' ORDER BY id",
            )
            .fetch_all(&pool)
            .await
            .expect("events")
        }
    };
    let put = |dnt: bool, date: &'static str, duration: &'static str| {
        let (url, token) = (
            format!("{}/api/v1/timesheet/cells", app.address),
            token.clone(),
        );
        async move {
            let mut r = reqwest::Client::new()
                .put(url)
                .bearer_auth(token)
                .json(&json!({"project_id": p, "date": date, "duration": duration}));
            if dnt {
                r = r.header("DNT", "1");
            }
            assert_eq!(r.send().await.expect("put").status(), StatusCode::OK);
        }
    };
    let cell = format!("c.{p}.0.0");
    // Under DNT: create, resize, clear through the API, and a save of the page.
    put(true, "2026-11-16", "1:00").await;
    put(true, "2026-11-16", "2:00").await;
    put(true, "2026-11-16", "").await;
    let dnt = admin.with_header("DNT", "1");
    dnt.submit("/timesheet", &[("week", "2026-11-16"), (&cell, "0:30")])
        .await;
    assert_eq!(
        events(&app).await,
        Vec::<String>::new(),
        "nothing under DNT"
    );
    // With consent: the same writes record their events.
    put(false, "2026-11-17", "1:00").await;
    put(false, "2026-11-17", "2:00").await;
    put(false, "2026-11-17", "0").await;
    admin
        .submit("/timesheet", &[("week", "2026-11-16"), (&cell, "0:45")])
        .await;
    assert_eq!(
        events(&app).await,
        [
            "timesheet.saved 1/0/0",
            "timesheet.saved 0/1/0",
            "timesheet.saved 0/0/1",
            "timesheet.saved 0/1/0"
        ],
        "one event per save, none per entry"
    );
}

#[tokio::test]
async fn a_save_with_more_cells_than_a_week_of_rows_is_refused_before_any_write() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let p = a_project().named("Website").create(&app).await;
    let names: Vec<String> = (0..800).map(|i| format!("c.{p}.{i}.{}", i % 7)).collect();
    let mut form = vec![("week", "2026-11-16")];
    form.extend(names.iter().map(|n| (n.as_str(), "0:15")));
    let r = admin.post_form("/timesheet", &form).await;
    assert_form_error(r, "at most 100 rows").await;
    assert_eq!(entries(&app).await, Vec::new(), "nothing written");
}

#[tokio::test]
async fn a_cell_refused_by_the_save_rolls_back_the_cells_before_it() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let p = a_project().named("Atomic").create(&app).await;
    // Tuesday holds one entry with notes: clearing its cell is refused.
    let admin_id = app.user_id("admin").await;
    an_entry(admin_id, p)
        .from("2026-12-01T09:00:00Z")
        .with_notes("kept")
        .create(&app)
        .await;
    let (monday, tuesday) = (format!("c.{p}.0.0"), format!("c.{p}.0.1"));
    let r = admin
        .post_form(
            "/timesheet",
            &[("week", "2026-11-30"), (&monday, "0:30"), (&tuesday, "")],
        )
        .await;
    let page = assert_form_error(r, "has notes or tags").await;
    assert!(
        page.contains(r#"data-day-tab="1" aria-current="true""#),
        "a phone opens on the refused cell's day"
    );
    assert!(
        page.contains("value=\"0:30\""),
        "the good one is kept as typed"
    );
    assert_eq!(
        entries(&app).await,
        [("2026-12-01T09:00".into(), 3600, "kept".into())],
        "the good cell before it was rolled back with the save"
    );
    // The good cell alone is saved.
    admin
        .submit("/timesheet", &[("week", "2026-11-30"), (&monday, "0:30")])
        .await;
    assert_eq!(entries(&app).await.len(), 2);
}

#[tokio::test]
async fn a_manager_fills_a_team_members_week_in_that_persons_timezone_and_a_plain_user_cannot() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mia = app.create_user(&admin, "mia", "manager").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let (mia_id, bob_id) = (app.user_id("mia").await, app.user_id("bob").await);
    app.exec("UPDATE users SET timezone = 'UTC', week_start = 'monday' WHERE username = 'mia'")
        .await;
    app.exec(
        "UPDATE users SET timezone = 'Pacific/Auckland', week_start = 'sunday' WHERE username = 'bob'",
    )
    .await;
    let p = a_project().named("Site").create(&app).await;

    // The page: a picker, then Bob's week in Bob's week start.
    let own = mia.get_text("/timesheet?week=2026-12-02").await;
    assert!(own.contains("Whose week") && own.contains(">bob</option>"));
    let bobs = mia
        .get_text(&format!("/timesheet?week=2026-12-02&user={bob_id}"))
        .await;
    assert!(
        bobs.contains("Timesheet of bob"),
        "the page says whose week"
    );
    let links = bobs.replace("&#38;", "&").replace("&amp;", "&");
    assert!(
        links.contains(&format!("week=2026-11-29&day=0&user={bob_id}\"")),
        "a Sunday-first week, and its links keep the person"
    );
    let r = mia
        .post_form(
            "/timesheet/rows",
            &[
                ("week", "2026-11-29"),
                ("user", &bob_id.to_string()),
                ("project_id", &p.to_string()),
            ],
        )
        .await;
    assert_is_redirect(&r);
    assert!(crate::support::location(&r).ends_with(&format!("&user={bob_id}")));
    let monday = format!("c.{p}.0.1");
    let r = mia
        .post_form(
            "/timesheet",
            &[
                ("week", "2026-11-29"),
                ("user", &bob_id.to_string()),
                (&monday, "2:00"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    let (owner, local_day): (i64, String) = sqlx::query_as(
        "SELECT user_id, to_char(started_at AT TIME ZONE 'Pacific/Auckland', 'YYYY-MM-DD') FROM time_entries",
    )
    .fetch_one(&app.pool)
    .await
    .expect("one entry");
    assert_eq!(
        (owner, local_day.as_str()),
        (bob_id, "2026-11-30"),
        "Bob's Monday, in Bob's timezone"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM timesheet_rows WHERE user_id = {mia_id}"
        ))
        .await,
        0,
        "nothing landed on the manager's own week"
    );

    // The API, as the page's script saves a cell.
    let mia_api = Api::new(&app, &mia.api_token("sheet", "").await);
    let (status, _, body) = mia_api
        .call(
            Method::PUT,
            "/timesheet/cells",
            Some(json!({"project_id": p, "task_id": null, "date": "2026-12-01", "duration": "1:00", "user_id": bob_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["week_seconds"], 3 * 3600, "Bob's week total");
    let (_, _, week) = mia_api
        .get(&format!("/timesheet?week=2026-12-01&user_id={bob_id}"))
        .await;
    assert_eq!(week["user_id"], bob_id);
    assert_eq!(week["first_day"], "2026-11-29");

    // A plain user learns nothing of another's week.
    assert_eq!(
        bob.get_status(&format!("/timesheet?user={mia_id}")).await,
        StatusCode::NOT_FOUND
    );
    let bob_api = Api::new(&app, &bob.api_token("sheet", "").await);
    let (status, _, _) = bob_api
        .call(
            Method::PUT,
            "/timesheet/cells",
            Some(json!({"project_id": p, "task_id": null, "date": "2026-12-01", "duration": "1:00", "user_id": mia_id})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!bob.get_text("/timesheet").await.contains("Whose week"));
    assert_eq!(
        app.count("SELECT count(*) FROM time_entries").await,
        2,
        "the refused writes wrote nothing"
    );
}
