//! Background exports, end to end through the web, the queue and the real worker.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;

use crate::support::{TestApp, assert_is_redirect, location, spawn_app};

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
        bob.request_export("pdf", &[]).await.status(),
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

/// One part of a zip file (an XLSX workbook is one).
fn unzip(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip file");
    let mut part = archive.by_name(name).expect("the part");
    let mut out = Vec::new();
    part.read_to_end(&mut out).expect("read");
    out
}
