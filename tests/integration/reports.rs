//! Summary reports (grouping, report-time rounding, amounts, permissions) and
//! the streamed CSV export.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;

use crate::support::{TestApp, a_project, an_entry, assert_is_redirect, people_today, spawn_app};

/// An entry of `username`'s, billable as its project is.
async fn entry(
    app: &TestApp,
    username: &str,
    project: i64,
    start: &str,
    minutes: i64,
    notes: &str,
) {
    an_entry(app.user_id(username).await, project)
        .from(start)
        .lasting(minutes)
        .with_notes(notes)
        .create(app)
        .await;
}

#[tokio::test]
async fn rounding_applies_per_entry_at_report_time_and_never_to_stored_data() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let p = a_project()
        .named("Rounded")
        .with_rate(10_000)
        .create(&app)
        .await;
    entry(&app, "admin", p, "2026-11-02T09:00:00Z", 7, "").await;
    entry(&app, "admin", p, "2026-11-02T10:00:00Z", 8, "").await;
    an_entry(app.user_id("admin").await, p)
        .from("2026-11-02T11:00:00Z")
        .lasting_seconds(22 * 60 + 30)
        .create(&app)
        .await;
    let url = "/reports?from=2026-11-01&to=2026-11-30&group=project";
    let page = admin.get_text(url).await;
    assert!(page.contains("0:37:30"), "exact total without rounding");
    app.exec("UPDATE settings SET rounding_minutes = 15").await;
    let page = admin.get_text(url).await;
    assert!(page.contains("0:45:00"), "0 + 15 + 30 minutes once rounded");
    assert!(
        page.contains("75.00"),
        "the amount uses the rounded time: 0.75 h at 100.00"
    );
    let stored: i64 = app
        .scalar("SELECT sum(duration_seconds)::bigint FROM time_entries")
        .await;
    assert_eq!(stored, 37 * 60 + 30, "stored durations are untouched");
}

#[tokio::test]
async fn amounts_use_the_project_rate_or_the_clients_and_skip_non_billable_time() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let client: i64 = app.scalar("INSERT INTO clients (name, default_hourly_rate_cents) VALUES ('Acme', 6000) RETURNING id").await;
    let own_rate = a_project()
        .named("Own rate")
        .with_rate(10_000)
        .for_client(Some(client))
        .create(&app)
        .await;
    let client_rate = a_project()
        .named("Client rate")
        .for_client(Some(client))
        .create(&app)
        .await;
    let internal = a_project()
        .named("Internal")
        .with_rate(10_000)
        .billable(false)
        .create(&app)
        .await;
    entry(&app, "admin", own_rate, "2026-11-02T09:00:00Z", 90, "").await;
    entry(&app, "admin", client_rate, "2026-11-02T11:00:00Z", 30, "").await;
    entry(&app, "admin", internal, "2026-11-02T12:00:00Z", 60, "").await;
    let page = admin
        .get_text("/reports?from=2026-11-01&to=2026-11-30&group=client&subgroup=project")
        .await;
    assert!(
        page.contains("150.00") && page.contains("30.00"),
        "90 min at 100.00 and 30 min at 60.00"
    );
    assert!(
        page.contains("amount <strong>180.00 EUR</strong>"),
        "non-billable time earns nothing: {page}"
    );
    assert!(page.contains("(no client)"));
}

#[tokio::test]
async fn days_are_grouped_in_the_viewers_timezone() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let p = a_project().named("Late").create(&app).await;
    // 23:30 UTC on the 2nd is 00:30 on the 3rd in Berlin (the admin's timezone).
    entry(&app, "admin", p, "2026-11-02T23:30:00Z", 30, "").await;
    let page = admin
        .get_text("/reports?from=2026-11-01&to=2026-11-30&group=day")
        .await;
    assert!(
        page.contains("2026-11-03") && !page.contains("2026-11-02<"),
        "{page}"
    );
}

#[tokio::test]
async fn users_report_and_export_only_their_own_time() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let p = a_project().named("Shared").create(&app).await;
    entry(&app, "admin", p, "2026-11-02T09:00:00Z", 60, "admin work").await;
    entry(&app, "bob", p, "2026-11-03T09:00:00Z", 30, "bob work").await;
    let range = "from=2026-11-01&to=2026-11-30";
    let page = bob.get_text(&format!("/reports?{range}&group=user")).await;
    assert!(page.contains("bob") && page.contains("0:30:00") && !page.contains("1:00:00"));
    assert_eq!(
        bob.get_status(&format!("/reports?{range}&user_id=all"))
            .await,
        StatusCode::FORBIDDEN
    );
    let admin_id = app.user_id("admin").await;
    assert_eq!(
        bob.get_status(&format!("/reports?{range}&user_id={admin_id}"))
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob.get_status(&format!("/reports/export.csv?{range}&user_id=all"))
            .await,
        StatusCode::FORBIDDEN
    );
    let csv = bob.get_text(&format!("/reports/export.csv?{range}")).await;
    assert!(
        csv.contains("bob work") && !csv.contains("admin work"),
        "{csv}"
    );
    let everyone = admin
        .get_text(&format!("/reports/export.csv?{range}&user_id=all"))
        .await;
    assert!(everyone.contains("bob work") && everyone.contains("admin work"));
}

#[tokio::test]
async fn the_csv_export_streams_every_row_with_the_configured_delimiter() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE settings SET export_delimiter = ';'").await;
    let p = a_project().named("Export").create(&app).await;
    entry(
        &app,
        "admin",
        p,
        "2026-11-02T09:00:00Z",
        90,
        "=cmd|' /C calc'!A0",
    )
    .await;
    // Enough rows to need several chunks.
    sqlx::query(
        "INSERT INTO time_entries (user_id, project_id, started_at, ended_at, notes, billable, source)
         SELECT $1, $2, timestamptz '2026-11-10T00:00:00Z' + n * interval '2 minutes',
                timestamptz '2026-11-10T00:00:00Z' + n * interval '2 minutes' + interval '1 minute',
                'bulk row ' || n, true, 'manual'
         FROM generate_series(1, 3000) AS n",
    )
    .bind(app.user_id("admin").await)
    .bind(p)
    .execute(&app.pool)
    .await
    .expect("bulk rows");

    let r = admin
        .get("/reports/export.csv?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("timetracker-2026-11-01-2026-11-30.csv")
    );
    let body = r.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 1 + 3001, "a header and every entry");
    assert!(lines[0].starts_with("ID;User;Project;Client;Task;Start;End;Duration (hours)"));
    assert!(
        lines[1].contains(";1.50;1:30:00;") && lines[1].contains("'=cmd"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("2026-11-02T10:00:00+01:00"),
        "times in the viewer's timezone with offset: {}",
        lines[1]
    );
    assert!(lines[3001].contains("bulk row 3000"));

    // In the owner's date format and clock once they chose one.
    app.exec("UPDATE users SET date_format = 'mdy', clock = '12h' WHERE username = 'admin'")
        .await;
    let body = admin
        .get_text("/reports/export.csv?from=2026-11-01&to=2026-11-30")
        .await;
    let first = body.lines().nth(1).expect("a row");
    assert!(
        first.contains(";11/02/2026 10:00:00 AM;11/02/2026 11:30:00 AM;"),
        "{first}"
    );
}

#[tokio::test]
async fn bad_report_parameters_are_explained() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (query, message) in [
        ("from=2026-13-01", "Enter a date like"),
        ("from=2026-11-10&to=2026-11-01", "must not be before"),
        ("group=colour", "Group by project"),
        ("billable=maybe", "Choose yes, no or both"),
    ] {
        let r = admin.get(&format!("/reports?{query}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(r.text().await.expect("page").contains(message), "{query}");
    }
}

#[tokio::test]
async fn the_detailed_list_uses_the_same_filters_and_is_paginated() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let a = a_project().named("Alpha").create(&app).await;
    let b = a_project().named("Beta").create(&app).await;
    for day in 1..=9 {
        for hour in 0..7 {
            entry(
                &app,
                "admin",
                a,
                &format!("2026-11-0{day}T{:02}:00:00Z", 8 + hour),
                30,
                &format!("alpha {day}-{hour}"),
            )
            .await;
        }
    }
    entry(&app, "admin", b, "2026-11-10T09:00:00Z", 30, "beta note").await;
    entry(&app, "bob", a, "2026-11-10T09:00:00Z", 30, "bob note").await;
    let base = format!("/reports?from=2026-11-01&to=2026-11-30&project_id={a}");
    let first = admin.get_text(&base).await;
    assert!(
        first.contains("Page 1 of 2")
            && first.contains("alpha 9-6")
            && !first.contains("beta note")
    );
    assert!(
        !first.contains("bob note"),
        "the admin's own time unless asked for everyone"
    );
    let second = admin.get_text(&format!("{base}&detail_page=2")).await;
    assert!(
        second.contains("Page 2 of 2") && second.contains("alpha 1-0"),
        "the oldest entries on the last page"
    );
    let everyone = admin.get_text(&format!("{base}&user_id=all")).await;
    assert!(everyone.contains("bob note"));
    let bobs = bob.get_text("/reports?from=2026-11-01&to=2026-11-30").await;
    assert!(bobs.contains("bob note") && !bobs.contains("alpha 1-0"));
}

/// (series, seconds) of every bar of the chart `id` on a report page, in order.
fn bars(page: &str, id: &str) -> Vec<(String, i64)> {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("chart {id}"));
    let svg = &page[start..start + page[start..].find("</svg>").expect("end of svg")];
    svg.split("<rect ")
        .skip(1)
        .filter_map(|rect| {
            let attr = |name: &str| {
                let at = rect.find(&format!("{name}=\""))? + name.len() + 2;
                Some(rect[at..at + rect[at..].find('"')?].to_owned())
            };
            Some((attr("data-series")?, attr("data-seconds")?.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn presets_name_whole_periods_from_today() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let p = a_project().named("Periods").create(&app).await;
    let today = Utc::now().date_naive();
    let at = |day: chrono::NaiveDate| format!("{day}T00:10:00Z");
    let first_of_month = chrono::Datelike::with_day(&today, 1).expect("first");
    let last_month = first_of_month - chrono::Duration::days(20);
    let last_year =
        chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today) - 1, 6, 15).expect("day");
    for (day, minutes) in [
        (today, 1),
        (today - chrono::Duration::days(1), 2),
        (last_month, 4),
        (last_year, 8),
    ] {
        entry(&app, "admin", p, &at(day), minutes, "").await;
    }
    let seconds = |preset: &'static str| {
        let admin = &admin;
        async move {
            let r = admin
                .get(&format!("/api/v1/reports/summary?preset={preset}"))
                .await;
            assert_eq!(r.status(), StatusCode::OK, "{preset}");
            r.json::<serde_json::Value>().await.expect("json")["total_seconds"]
                .as_i64()
                .expect("total")
        }
    };
    // Which entries fall into which period depends on today (yesterday is
    // last month on the 1st, last year on 1 January).
    let yesterday = today - chrono::Duration::days(1);
    let year = chrono::Datelike::year(&today);
    let in_year = |d: chrono::NaiveDate, y: i32| chrono::Datelike::year(&d) == y;
    let if_ = |c: bool, s: i64| if c { s } else { 0 };
    assert_eq!(seconds("today").await, 60);
    assert_eq!(seconds("yesterday").await, 120);
    assert_eq!(
        seconds("last_month").await,
        240 + if_(yesterday < first_of_month, 120)
    );
    assert_eq!(
        seconds("last_year").await,
        480 + if_(in_year(yesterday, year - 1), 120) + if_(in_year(last_month, year - 1), 240)
    );
    assert_eq!(
        seconds("this_year").await,
        60 + if_(in_year(yesterday, year), 120) + if_(in_year(last_month, year), 240)
    );
    assert_eq!(
        seconds("this_month").await,
        60 + if_(yesterday >= first_of_month, 120)
    );
    // The page keeps the choice in its address and shows the days it covers.
    let page = admin
        .get_text("/reports?preset=last_year&group=project")
        .await;
    assert!(page.contains(r#"<option value="last_year" selected>Last year</option>"#));
    assert!(page.contains(&format!(
        "value=\"{}-01-01\"",
        chrono::Datelike::year(&last_year)
    )));
    assert!(
        page.contains("<th scope=\"col\">Project</th>"),
        "a readable heading"
    );
    let r = admin.get("/reports?preset=next_week").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Choose a period from the list.")
    );
}

#[tokio::test]
async fn the_charts_show_the_reports_numbers() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let web = a_project()
        .named("Website")
        .with_rate(9000)
        .create(&app)
        .await;
    let internal = a_project()
        .named("Internal")
        .billable(false)
        .create(&app)
        .await;
    entry(&app, "admin", web, "2026-11-02T09:00:00Z", 120, "").await;
    entry(&app, "admin", web, "2026-11-04T09:00:00Z", 30, "").await;
    entry(&app, "admin", internal, "2026-11-02T12:00:00Z", 60, "").await;
    let page = admin
        .get_text("/reports?from=2026-11-02&to=2026-11-08&group=project")
        .await;
    // Over time: one stacked bar per day, the larger project first.
    assert_eq!(
        bars(&page, "chart-time"),
        [
            ("Website".to_owned(), 7200),
            ("Internal".to_owned(), 3600),
            ("Website".to_owned(), 1800)
        ]
    );
    assert!(page.contains("<title id=\"chart-time-title\">Hours per day by project</title>"));
    // Shares: Website all billable, Internal not.
    assert_eq!(
        bars(&page, "chart-share"),
        [("Website".to_owned(), 9000), ("Internal".to_owned(), 3600)]
    );
    assert!(page.contains("2:30:00 · 71 %"), "Website's share");
    assert!(
        page.contains("fill-opacity=\"0.4\" data-series=\"Internal\""),
        "not billable is faint"
    );
    // Grouped by day, the split is the second grouping or the project.
    let page = admin
        .get_text("/reports?from=2026-11-02&to=2026-11-08&group=day")
        .await;
    assert_eq!(bars(&page, "chart-time").len(), 3);
    assert!(page.contains("Hours per day by project"));
    // A quarter is shown by weeks.
    let page = admin
        .get_text("/reports?from=2026-09-01&to=2026-11-30&group=project")
        .await;
    assert!(page.contains("Hours per week by project"));
    assert_eq!(
        bars(&page, "chart-time"),
        [("Website".to_owned(), 9000), ("Internal".to_owned(), 3600)],
        "both days fall in the week of 2 November"
    );
}

#[tokio::test]
async fn reports_are_saved_by_name_opened_again_and_deleted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let form = [
        ("name", "Last month by task"),
        ("preset", "last_month"),
        ("group", "task"),
    ];
    let r = admin.post_form("/reports/saved", &form).await;
    assert_is_redirect(&r);
    let target = crate::support::location(&r);
    assert!(target.starts_with("/reports?preset=last_month"), "{target}");
    assert!(target.contains("group=task"));
    let page = admin.get_text(&target).await;
    assert!(page.contains("Saved as “Last month by task”."));
    assert_eq!(
        target, "/reports?preset=last_month&group=task",
        "only what is set"
    );
    let listed = format!("href=\"{}\"", target.replace('&', "&#38;"));
    assert!(
        page.contains(&listed),
        "listed with its link: {listed} in {page}"
    );
    // The same name again replaces the filters.
    admin
        .submit(
            "/reports/saved",
            &[("name", "last MONTH by task"), ("preset", "this_year")],
        )
        .await;
    let saved: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT name, params FROM saved_reports")
            .fetch_all(&app.pool)
            .await
            .expect("saved");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].1["preset"], "this_year");
    // Per user: Bob sees none of it.
    assert!(!bob.get_text("/reports").await.contains("last MONTH"));
    // A bad name keeps the report and says why; bad filters are not saved.
    let r = admin
        .post_form("/reports/saved", &[("name", "  "), ("group", "task")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("page").contains("Enter a name."));
    let r = admin
        .post_form("/reports/saved", &[("name", "Odd"), ("preset", "someday")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Deleting asks first, then deletes.
    let id: i64 = app.scalar("SELECT id FROM saved_reports").await;
    let path = format!("/reports/saved/{id}/delete");
    let r = admin.post_form(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Delete the saved report “last MONTH by task”?")
    );
    assert_eq!(
        bob.post_status(&path, &[("confirm", "yes")]).await,
        StatusCode::NOT_FOUND
    );
    admin.submit(&path, &[("confirm", "yes")]).await;
    let left: i64 = app.scalar("SELECT count(*) FROM saved_reports").await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn the_timer_page_draws_this_week_and_the_top_projects_of_seven_days() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let (a, b, old) = (
        a_project().named("Alpha").create(&app).await,
        a_project().named("Beta").create(&app).await,
        a_project().named("Old").create(&app).await,
    );
    let user = app.user_id("admin").await;
    // From a day's midnight (UTC, the user's timezone): today's hour may end
    // later today, which a finished entry may (up to a day ahead).
    for (p, day, minutes) in [(a, 0, 60), (b, 3, 30), (old, 10, 600)] {
        sqlx::query(
            "INSERT INTO time_entries (user_id, project_id, started_at, ended_at, billable, source)
             SELECT $1, $2, d, d + $4 * interval '1 minute', true, 'manual'
             FROM (SELECT date_trunc('day', now()) - $3 * interval '1 day' AS d) s",
        )
        .bind(user)
        .bind(p)
        .bind(day)
        .bind(minutes)
        .execute(&app.pool)
        .await
        .expect("entry");
    }
    let page = admin.get_text("/").await;
    assert_eq!(
        bars(&page, "chart-top"),
        [("Alpha".to_owned(), 3600), ("Beta".to_owned(), 1800)],
        "the last 7 days only, largest first"
    );
    // The week strip: today's bar is marked and holds today's hour; Beta's
    // half hour shows when three days ago was this week.
    let week = bars(&page, "chart-week");
    assert!(week.iter().all(|(series, _)| series == "Tracked"));
    let sum: i64 = week.iter().map(|(_, s)| s).sum();
    assert!(sum == 3600 || sum == 5400, "{week:?}");
    assert!(
        page.contains(
            r##"fill="#e07b00" fill-opacity="1" data-series="Tracked" data-seconds="3600""##
        ),
        "today marked"
    );
    assert!(page.contains("<title id=\"chart-week-title\">Hours per day this week</title>"));
}

#[tokio::test]
async fn the_report_table_ends_each_group_with_its_subtotal_and_shows_decimal_hours_on_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme: i64 = app
        .scalar("INSERT INTO clients (name) VALUES ('Acme') RETURNING id")
        .await;
    let web = a_project()
        .named("Web")
        .with_rate(10_000)
        .for_client(Some(acme))
        .create(&app)
        .await;
    let app_project = a_project()
        .named("App")
        .with_rate(10_000)
        .for_client(Some(acme))
        .create(&app)
        .await;
    entry(&app, "admin", web, "2026-11-02T09:00:00Z", 90, "").await;
    entry(&app, "admin", app_project, "2026-11-02T11:00:00Z", 45, "").await;
    let url = "/reports?from=2026-11-01&to=2026-11-30&group=client&subgroup=project";
    let page = admin.get_text(url).await;
    let subtotal = page
        .split("<tr class=\"subtotal\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("a subtotal line: {page}"));
    assert!(
        subtotal.contains("Acme") && subtotal.contains("2:15:00") && subtotal.contains("225.00"),
        "{subtotal}"
    );
    let total = page
        .split("<tr class=\"total\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("a total line: {page}"));
    assert!(
        total.contains("Total") && total.contains("2:15:00"),
        "{total}"
    );

    let decimal = admin.get_text(&format!("{url}&hours=decimal")).await;
    assert!(
        decimal.contains("<td>1.50</td>") && decimal.contains("<td>0.75</td>"),
        "hours as numbers: {decimal}"
    );
    assert!(decimal.contains("<strong>2.25</strong>"), "the total too");
}

#[tokio::test]
async fn the_reports_page_opens_on_this_week_and_says_so() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let page = admin.get_text("/reports").await;
    assert!(
        page.contains(r#"<option value="this_week" selected>"#),
        "the period picker names the default: {page}"
    );
    // The admin's week: Berlin's today, which late on a Sunday (UTC) is
    // already the next week's Monday.
    let today = people_today();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    assert!(
        page.contains(&format!(r#"id="from" name="from" value="{monday}""#)),
        "From shows the week's first day ({monday})"
    );
}
