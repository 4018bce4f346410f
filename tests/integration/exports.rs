//! Background exports, end to end through the web, the queue and the real worker.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;

use crate::support::{
    TestApp, TestClient, a_project, an_entry, assert_is_redirect, location, spawn_app,
};

async fn seed(app: &TestApp, username: &str, rows: i64, notes: &str) -> i64 {
    let project: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name, hourly_rate_cents) VALUES ('Export ' || $1, 5000)
         ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(username)
    .fetch_one(&app.pool)
    .await
    .expect("project");
    sqlx::query(
        "INSERT INTO time_entries (user_id, project_id, started_at, ended_at, notes, tags, billable, source)
         SELECT $1, $2, timestamptz '2026-11-02T00:00:00Z' + n * interval '10 minutes',
                timestamptz '2026-11-02T00:00:00Z' + n * interval '10 minutes' + interval '5 minutes',
                $4 || ' ' || n, '{x}', true, 'manual'
         FROM generate_series(1, $3) AS n",
    )
    .bind(app.user_id(username).await)
    .bind(project)
    .bind(rows)
    .bind(notes)
    .execute(&app.pool)
    .await
    .expect("entries");
    project
}

async fn export_id(app: &TestApp) -> i64 {
    app.scalar("SELECT max(id) FROM exports").await
}

#[tokio::test]
async fn a_background_csv_export_is_built_by_the_worker_and_downloaded_by_its_owner() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    seed(&app, "admin", 10, "admin row").await;
    seed(&app, "bob", 1200, "bob row").await;

    let r = bob.request_export("csv", &[]).await;
    assert_is_redirect(&r);
    assert!(location(&r).starts_with("/exports"));
    let id = export_id(&app).await;
    let queued: i64 = app
        .scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'report_export'")
        .await;
    assert_eq!(queued, 1, "the row and its job were written together");
    assert!(bob.get_text("/exports").await.contains("pending"));

    app.run_pending_jobs().await;
    let page = bob.get_text("/exports").await;
    assert!(
        page.contains("done") && page.contains(&format!("/exports/{id}/download")),
        "{page}"
    );
    let (rows, bytes, duration): (i64, i64, Option<i64>) =
        sqlx::query_as("SELECT rows_done, byte_size, duration_ms FROM exports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(rows, 1200, "only bob's own entries");
    assert!(duration.is_some());

    let r = bob.get(&format!("/exports/{id}/download")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains(".csv")
    );
    let csv = r.text().await.expect("body");
    assert_eq!(csv.len() as i64, bytes);
    assert_eq!(csv.lines().count(), 1201);
    assert!(csv.contains("bob row 1200") && !csv.contains("admin row"));

    assert_eq!(
        admin.get_status(&format!("/exports/{id}/download")).await,
        StatusCode::NOT_FOUND,
        "not even an admin"
    );
    assert!(!admin.get_text("/exports").await.contains("/download"));
}

#[tokio::test]
async fn an_xlsx_export_has_a_header_and_one_typed_row_per_entry() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    seed(&app, "admin", 300, "sheet row").await;
    app.exec("UPDATE users SET timezone = 'Europe/Berlin', date_format = 'dmy', clock = '12h' WHERE username = 'admin'").await;
    assert_eq!(
        admin.request_export("xlsx", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let id = export_id(&app).await;
    app.run_pending_jobs().await;
    let r = admin.get(&format!("/exports/{id}/download")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = r.bytes().await.expect("body");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a valid xlsx file");
    let sheet = book.worksheet_range("Time entries").expect("the sheet");
    assert_eq!(sheet.height(), 301, "header and 300 rows");
    assert_eq!(sheet.get_value((0, 0)), Some(&Data::String("ID".into())));
    assert_eq!(sheet.get_value((0, 9)), Some(&Data::String("Notes".into())));
    assert_eq!(
        sheet.get_value((1, 9)),
        Some(&Data::String("sheet row 1".into()))
    );
    assert_eq!(
        sheet.get_value((1, 7)),
        Some(&Data::Float(0.08)),
        "5 minutes as hours, a number"
    );
    // Start and end are date cells holding the owner's wall-clock time
    // (2026-11-02 00:10 UTC is 01:10 in Berlin).
    let Some(Data::DateTime(start)) = sheet.get_value((1, 5)) else {
        panic!("a date cell: {:?}", sheet.get_value((1, 5)));
    };
    let expected = 46328.0 + (60.0 + 10.0) / (24.0 * 60.0);
    assert!(
        (start.as_f64() - expected).abs() < 1e-6,
        "{}",
        start.as_f64()
    );
    let Some(Data::DateTime(end)) = sheet.get_value((1, 6)) else {
        panic!("a date cell: {:?}", sheet.get_value((1, 6)));
    };
    assert!((end.as_f64() - start.as_f64() - 5.0 / (24.0 * 60.0)).abs() < 1e-6);
    let styles = String::from_utf8_lossy(&unzip(&bytes, "xl/styles.xml")).into_owned();
    assert!(
        styles.contains("formatCode=\"dd.mm.yyyy h:mm:ss AM/PM\""),
        "shown in the owner's date format and clock: {styles}"
    );
    assert_eq!(
        sheet.get_value((300, 9)),
        Some(&Data::String("sheet row 300".into()))
    );
}

#[tokio::test]
async fn a_failed_export_shows_its_reason() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let carol = app.create_user(&admin, "carol", "admin").await;
    seed(&app, "admin", 5, "x").await;
    // Carol asks for everyone's time as an admin, then loses the role before the job runs.
    assert_eq!(
        carol
            .request_export("csv", &[("user_id", "all")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let carol_id = app.user_id("carol").await;
    admin
        .post_form(
            &format!("/admin/users/{carol_id}/role"),
            &[("role", "user")],
        )
        .await;
    let died = app.try_run_pending_jobs().await;
    assert_eq!(
        died.iter().map(|j| j.queue.as_str()).collect::<Vec<_>>(),
        ["report_export"],
        "the export job dies: retrying cannot give her the right back"
    );
    let page = carol.get_text("/exports").await;
    assert!(
        page.contains("failed") && page.contains("You can only report on your own time."),
        "{page}"
    );
    let id = export_id(&app).await;
    assert_eq!(
        carol.get_status(&format!("/exports/{id}/download")).await,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn bad_export_requests_are_refused_before_anything_is_queued() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    assert_eq!(
        bob.request_export("odt", &[]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        bob.request_export("pdf", &[("paper", "a3")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        bob.request_export("csv", &[("layout", "pivot")])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        bob.request_export("csv", &[("user_id", "all")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let backwards = [
        ("format", "csv"),
        ("from", "2026-11-10"),
        ("to", "2026-11-01"),
    ];
    assert_eq!(
        bob.post_status("/exports", &backwards).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let rows: i64 = app.scalar("SELECT count(*) FROM exports").await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn old_export_files_expire_with_maintenance() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    seed(&app, "admin", 3, "old").await;
    admin.request_export("csv", &[]).await;
    app.run_pending_jobs().await;
    let id = export_id(&app).await;
    sqlx::query("UPDATE exports SET finished_at = now() - interval '8 days' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("age");
    use timetracker_worker::JobHandler;
    timetracker_worker::handlers::maintenance::Prune::new(&app.config, &app.pool)
        .handle(
            timetracker::jobs::Maintenance { tick: 0 },
            timetracker_worker::JobContext {
                job_id: String::new(),
                attempt: 1,
                last_attempt: false,
            },
        )
        .await
        .expect("maintenance");
    let (status, chunks): (String, i64) = sqlx::query_as(
        "SELECT status, (SELECT count(*) FROM export_chunks WHERE export_id = $1) FROM exports WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("row");
    assert_eq!((status.as_str(), chunks), ("expired", 0));
    assert_eq!(
        admin.get_status(&format!("/exports/{id}/download")).await,
        StatusCode::CONFLICT
    );
}

/// A month of billable and non-billable work, priced three ways, with
/// entries that rounding changes: the report's amount is 95.00 EUR.
///
/// | project  | client | rate            | entry       | rounded (15 min) | amount |
/// |----------|--------|-----------------|-------------|------------------|--------|
/// | Web      | Acme   | 100.00          | 7 min       | 0                | 0.00   |
/// | Web      | Acme   | 100.00          | 22 min 30 s | 30 min           | 50.00  |
/// | Support  | Acme   | 60.00 (client's)| 50 min      | 45 min           | 45.00  |
/// | Internal | none   | 100.00          | 60 min      | 60 min           | (none) |
async fn billing_month(app: &TestApp) {
    app.exec("UPDATE settings SET rounding_minutes = 15").await;
    let acme: i64 = app
        .scalar("INSERT INTO clients (name, default_hourly_rate_cents) VALUES ('Acme', 6000) RETURNING id")
        .await;
    let web = a_project()
        .named("Web")
        .with_rate(10_000)
        .for_client(Some(acme))
        .create(app)
        .await;
    let support = a_project()
        .named("Support")
        .for_client(Some(acme))
        .create(app)
        .await;
    let internal = a_project()
        .named("Internal")
        .with_rate(10_000)
        .billable(false)
        .create(app)
        .await;
    let admin = app.user_id("admin").await;
    for (project, start, seconds) in [
        (web, "2026-11-02T09:00:00Z", 7 * 60),
        (web, "2026-11-02T10:00:00Z", 22 * 60 + 30),
        (support, "2026-11-03T09:00:00Z", 50 * 60),
        (internal, "2026-11-04T09:00:00Z", 60 * 60),
    ] {
        an_entry(admin, project)
            .from(start)
            .lasting_seconds(seconds)
            .create(app)
            .await;
    }
}

const NOVEMBER: &str = "from=2026-11-01&to=2026-11-30";

/// The amount the Reports page shows, in cents.
async fn report_amount(client: &TestClient, query: &str) -> i64 {
    let page = client
        .get_text(&format!("/reports?{NOVEMBER}&{query}"))
        .await;
    let shown = page
        .split("amount <strong>")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the page shows an amount: {page}"));
    cents(shown)
}

fn cents(shown: &str) -> i64 {
    let (units, hundredths) = shown.split_once('.').expect("two decimals");
    units.parse::<i64>().expect("units") * 100 + hundredths.parse::<i64>().expect("cents")
}

/// A CSV file's header and records.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("a column {name} in {header:?}"))
}

/// Requests an export, runs the worker and downloads the file.
async fn built_export(app: &TestApp, client: &TestClient, form: &[(&str, &str)]) -> Vec<u8> {
    let format = form
        .iter()
        .find(|(k, _)| *k == "format")
        .map_or("csv", |(_, v)| v);
    let extra: Vec<(&str, &str)> = form
        .iter()
        .copied()
        .filter(|(k, _)| *k != "format")
        .collect();
    assert_is_redirect(&client.request_export(format, &extra).await);
    let id = export_id(app).await;
    app.run_pending_jobs().await;
    let r = client.get(&format!("/exports/{id}/download")).await;
    assert_eq!(r.status(), StatusCode::OK, "export {id} is built");
    r.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn csv_files_carry_each_entrys_rate_and_amount_and_they_add_up_to_the_report() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    billing_month(&app).await;
    let reported = report_amount(&admin, "group=project").await;
    assert_eq!(reported, 9500);

    let streamed = admin
        .get_text(&format!("/reports/export.csv?{NOVEMBER}"))
        .await;
    let built =
        String::from_utf8(built_export(&app, &admin, &[("format", "csv")]).await).expect("utf-8");
    assert_eq!(
        streamed, built,
        "the download and the background file agree"
    );
    let (header, rows) = read_csv(&built);
    assert_eq!(
        &header[13..],
        ["Rounded (hours)", "Hourly rate", "Amount", "Currency"]
    );
    let (amount, rate, rounded, project) = (
        column(&header, "Amount"),
        column(&header, "Hourly rate"),
        column(&header, "Rounded (hours)"),
        column(&header, "Project"),
    );
    let line = |r: &Vec<String>| {
        (
            r[project].clone(),
            r[rounded].clone(),
            r[rate].clone(),
            r[amount].clone(),
        )
    };
    assert_eq!(
        rows.iter().map(line).collect::<Vec<_>>(),
        [
            ("Web".into(), "0.00".into(), "100.00".into(), "0.00".into()),
            ("Web".into(), "0.50".into(), "100.00".into(), "50.00".into()),
            (
                "Support".into(),
                "0.75".into(),
                "60.00".into(),
                "45.00".into()
            ),
            (
                "Internal".into(),
                "1.00".into(),
                "100.00".into(),
                String::new()
            ),
        ],
        "rounded per entry, the client's rate where the project has none, no amount for non-billable time"
    );
    let sum: i64 = rows
        .iter()
        .filter(|r| !r[amount].is_empty())
        .map(|r| cents(&r[amount]))
        .sum();
    assert_eq!(sum, reported, "the file's amounts add up to the report's");
    assert!(rows.iter().all(|r| r[column(&header, "Currency")] == "EUR"));
}

#[tokio::test]
async fn who_may_not_see_rates_gets_no_rate_or_amount_in_any_file() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    billing_month(&app).await;
    let p: i64 = app
        .scalar("SELECT id FROM projects WHERE name = 'Web'")
        .await;
    an_entry(app.user_id("bob").await, p)
        .from("2026-11-05T09:00:00Z")
        .lasting(60)
        .create(&app)
        .await;
    let streamed = bob
        .get_text(&format!("/reports/export.csv?{NOVEMBER}"))
        .await;
    let built =
        String::from_utf8(built_export(&app, &bob, &[("format", "csv")]).await).expect("utf-8");
    let summary = String::from_utf8(
        built_export(
            &app,
            &bob,
            &[
                ("format", "csv"),
                ("layout", "summary"),
                ("group", "project"),
            ],
        )
        .await,
    )
    .expect("utf-8");
    for file in [&streamed, &built, &summary] {
        let (header, rows) = read_csv(file);
        assert!(
            !header
                .iter()
                .any(|h| h.contains("rate") || h.contains("Amount") || h == "Currency"),
            "{header:?}"
        );
        assert!(!file.contains("100.00"), "no rate anywhere: {file}");
        assert!(!rows.is_empty());
    }
    assert_eq!(read_csv(&built).0.len(), 13);
    let xlsx = built_export(&app, &bob, &[("format", "xlsx")]).await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(xlsx)).expect("a valid xlsx file");
    let sheet = book.worksheet_range("Time entries").expect("the sheet");
    assert_eq!(
        sheet.width(),
        13,
        "no amount columns in the workbook either"
    );
}

#[tokio::test]
async fn an_xlsx_file_has_typed_durations_booleans_and_amounts_under_a_frozen_filterable_header() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    billing_month(&app).await;
    let bytes = built_export(&app, &admin, &[("format", "xlsx")]).await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).expect("a valid xlsx file");
    let sheet = book.worksheet_range("Time entries").expect("the sheet");
    assert_eq!(sheet.get_size(), (5, 17), "header and four entries");
    assert_eq!(
        sheet.get_value((0, 15)),
        Some(&Data::String("Amount".into()))
    );
    // 22 min 30 s: 0.38 hours, and as a duration 1350 s of a day.
    assert_eq!(sheet.get_value((2, 7)), Some(&Data::Float(0.38)));
    let duration = match sheet.get_value((2, 8)) {
        Some(Data::DateTime(d)) => d.as_f64(),
        Some(Data::Float(f)) => *f,
        other => panic!("a duration is a number: {other:?}"),
    };
    assert!((duration - 1350.0 / 86_400.0).abs() < 1e-9, "{duration}");
    assert_eq!(sheet.get_value((2, 11)), Some(&Data::Bool(true)));
    assert_eq!(sheet.get_value((4, 11)), Some(&Data::Bool(false)));
    let amounts: Vec<Data> = (1..5)
        .map(|r| sheet.get_value((r, 15)).cloned().unwrap_or(Data::Empty))
        .collect();
    assert_eq!(
        amounts,
        [
            Data::Float(0.0),
            Data::Float(50.0),
            Data::Float(45.0),
            Data::Empty
        ],
        "numbers, and no amount for non-billable time"
    );
    assert_eq!(sheet.get_value((3, 14)), Some(&Data::Float(60.0)));
    let styles = String::from_utf8_lossy(&unzip(&bytes, "xl/styles.xml")).into_owned();
    assert!(styles.contains(r#"formatCode="[h]:mm:ss""#), "{styles}");
    assert!(
        styles.contains(r##"formatCode="#,##0.00 &quot;EUR&quot;""##),
        "{styles}"
    );
    let xml = String::from_utf8_lossy(&unzip(&bytes, "xl/worksheets/sheet1.xml")).into_owned();
    assert!(
        xml.contains(r#"<autoFilter ref="A1:Q5""#),
        "filterable: {xml}"
    );
    assert!(
        xml.contains(r#"state="frozen""#) && xml.contains(r#"topLeftCell="A2""#),
        "the header row stays in view: {xml}"
    );
}

#[tokio::test]
async fn a_summary_export_has_the_reports_groups_with_subtotals_and_the_total() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    billing_month(&app).await;
    let form = [
        ("format", "csv"),
        ("layout", "summary"),
        ("group", "client"),
        ("subgroup", "project"),
    ];
    let file = String::from_utf8(built_export(&app, &admin, &form).await).expect("utf-8");
    let (header, rows) = read_csv(&file);
    assert_eq!(
        header,
        [
            "Client",
            "Project",
            "Hours",
            "Duration (h:mm:ss)",
            "Billable hours",
            "Amount",
            "Currency"
        ]
    );
    let lines: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[3].as_str(), r[5].as_str()))
        .collect();
    for expected in [
        ("Acme", "Support", "0:45:00", "45.00"),
        ("Acme", "Web", "0:30:00", "50.00"),
        ("Acme", "Subtotal", "1:15:00", "95.00"),
        ("(no client)", "Internal", "1:00:00", "0.00"),
        ("(no client)", "Subtotal", "1:00:00", "0.00"),
    ] {
        assert!(lines.contains(&expected), "{expected:?} in {lines:?}");
    }
    assert_eq!(
        lines.last(),
        Some(&("Total", "", "2:15:00", "95.00")),
        "the total comes last and equals the report's"
    );
    let subtotal = lines
        .iter()
        .position(|l| l.1 == "Subtotal" && l.0 == "Acme");
    let web = lines.iter().position(|l| l.1 == "Web");
    assert!(web < subtotal, "a subtotal follows its group's rows");
    assert!(admin.get_text("/exports").await.contains("CSV summary"));

    let xlsx = built_export(
        &app,
        &admin,
        &[
            ("format", "xlsx"),
            ("layout", "summary"),
            ("group", "client"),
            ("subgroup", "project"),
        ],
    )
    .await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(xlsx)).expect("a valid xlsx file");
    let sheet = book.worksheet_range("Summary").expect("the sheet");
    let last = sheet.height() - 1;
    assert_eq!(
        sheet.get_value((last as u32, 0)),
        Some(&Data::String("Total".into()))
    );
    assert_eq!(sheet.get_value((last as u32, 5)), Some(&Data::Float(95.0)));
    assert_eq!(sheet.get_value((last as u32, 2)), Some(&Data::Float(2.25)));
}

#[tokio::test]
async fn the_api_builds_a_summary_export_the_same_as_the_page() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    billing_month(&app).await;
    let api = crate::api::Api::new(&app, &admin.api_token("cli", "").await);
    let (status, _, body) = api
        .post(
            "/exports",
            serde_json::json!({"format": "csv", "layout": "summary", "group": "project",
                               "from": "2026-11-01", "to": "2026-11-30"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["layout"], "summary");
    app.run_pending_jobs().await;
    let id = body["id"].as_i64().expect("id");
    let r = reqwest::Client::new()
        .get(format!("{}/exports/{id}/download", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("download");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains(&format!("timetracker-summary-{id}.csv"))
    );
    let from_api = r.text().await.expect("body");
    let from_page = String::from_utf8(
        built_export(
            &app,
            &admin,
            &[
                ("format", "csv"),
                ("layout", "summary"),
                ("group", "project"),
            ],
        )
        .await,
    )
    .expect("utf-8");
    assert_eq!(from_api, from_page);
    assert!(from_api.starts_with("Project,Hours,"), "{from_api}");
}

/// A PDF's text as `pdftotext -layout` reads it (poppler-utils, installed
/// by the test command), and `pdfinfo`'s page size and count.
pub(crate) fn pdf_text(pdf: &[u8]) -> (String, String) {
    (
        poppler(pdf, "pdftotext", &["-layout"]),
        poppler(pdf, "pdfinfo", &[]),
    )
}

/// What poppler's `program` prints about `pdf` with `args` before the
/// file (`pdftotext` prints to standard output).
pub(crate) fn poppler(pdf: &[u8], program: &str, args: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!("tt-pdf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("document.pdf");
    std::fs::write(&file, pdf).expect("write the pdf");
    let out = std::process::Command::new(program)
        .args(args)
        .arg(&file)
        .args(if program == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The line of `text` that starts (after spaces) with `start`.
fn line_starting<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("a line starting {start:?} in:\n{text}"))
}

#[tokio::test]
async fn a_pdf_report_has_the_summary_then_every_entry_with_the_pages_amounts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    billing_month(&app).await;
    let form = [
        ("format", "pdf"),
        ("group", "client"),
        ("subgroup", "project"),
        ("paper", "a4"),
    ];
    let pdf = built_export(&app, &admin, &form).await;
    assert!(pdf.starts_with(b"%PDF-"));
    let (text, info) = pdf_text(&pdf);
    assert!(info.contains("(A4)"), "{info}");
    assert!(
        line_starting(&text, "Time report, 2026-11-01 to 2026-11-30").contains("Generated "),
        "the header names the period and when it was made"
    );
    assert!(line_starting(&text, "Grouped by client, then project").contains("User: admin"));
    assert!(
        line_starting(&text, "Total 2:15:00")
            .contains("amount 95.00 EUR · each entry rounded to 15 minutes"),
        "the headline figures match the report page"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("Acme")
            && l.contains("Support")
            && l.contains("0:45:00")
            && l.contains("45.00 EUR")),
        "a row of the grouped table: {text}"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("Acme")
            && l.contains("Subtotal")
            && l.contains("1:15:00")
            && l.contains("95.00 EUR")),
        "{text}"
    );
    let total = line_starting(&text, "Total    ");
    assert!(
        total.contains("2:15:00") && total.contains("95.00 EUR"),
        "{total}"
    );
    // Then every entry, its amount beside it.
    let entries = text.split("Entries").nth(1).expect("an entries part");
    let amounts: Vec<&str> = ["0:07:00", "0:22:30", "0:50:00", "1:00:00"]
        .iter()
        .map(|d| {
            let line = line_starting_with_inner(entries, d);
            line.split(d).nth(1).unwrap_or("").trim()
        })
        .collect();
    assert_eq!(amounts, ["0.00", "50.00", "45.00", ""]);
    assert!(text.contains("Page 1"));

    let a4_default = admin.get_text("/reports").await;
    assert!(a4_default.contains(r#"<option value="a4" selected>"#));
}

/// The line of `text` that contains `part`.
fn line_starting_with_inner<'a>(text: &'a str, part: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(part))
        .unwrap_or_else(|| panic!("a line with {part:?} in:\n{text}"))
}

#[tokio::test]
async fn a_long_pdf_report_runs_over_numbered_pages_on_letter_paper_and_hides_amounts_from_plain_users()
 {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    seed(&app, "bob", 400, "bob row").await;
    app.exec("UPDATE users SET date_format = 'mdy', clock = '12h' WHERE username = 'bob'")
        .await;
    assert!(
        bob.get_text("/reports")
            .await
            .contains(r#"<option value="letter" selected>"#),
        "month-first dates suggest US Letter"
    );
    let pdf = built_export(&app, &bob, &[("format", "pdf"), ("paper", "letter")]).await;
    let (text, info) = pdf_text(&pdf);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count");
    assert!(pages >= 8, "400 entries at about 50 a page: {pages}");
    // pdftotext ends each page with a form feed.
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len(), pages);
    for (i, page) in page_texts.iter().enumerate() {
        assert!(
            page.lines()
                .any(|l| l.trim_end().ends_with(&format!("Page {}", i + 1))),
            "page {} carries its number: {page}",
            i + 1
        );
        assert!(page.contains("Time report, "), "and the header");
    }
    for n in [1, 137, 400] {
        assert!(
            text.lines().any(|l| l.contains(&format!("bob row {n} "))
                || l.trim_end().ends_with(&format!("bob row {n}"))),
            "entry {n} is in the file"
        );
    }
    assert!(text.contains("12:10 AM–12:15 AM"), "bob's clock: {text}");
    assert!(text.contains("11/02/2026"), "bob's date order");
    assert!(
        !text.contains("Amount") && !text.contains("EUR"),
        "no money for a plain user"
    );

    let summary_only = built_export(&app, &bob, &[("format", "pdf"), ("layout", "summary")]).await;
    let (text, info) = pdf_text(&summary_only);
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(text.contains("Summary") && !text.contains("Entries") && !text.contains("bob row"));
    assert!(
        bob.get_text("/exports")
            .await
            .contains("PDF summary (US Letter)")
    );
}

/// One part of a zip file (an XLSX workbook is one).
fn unzip(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip file");
    let mut part = archive.by_name(name).expect("the part");
    let mut out = Vec::new();
    part.read_to_end(&mut out).expect("read");
    out
}
