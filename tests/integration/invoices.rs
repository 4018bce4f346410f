//! Invoices from unbilled time: drafts, issuing with gapless numbers, the
//! PDF built by the worker, entries frozen until the invoice is cancelled.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    api::Api,
    support::{
        FormPart, TestApp, TestClient, a_project, an_entry, assert_is_redirect, location, spawn_app,
    },
};

/// A client with two projects and three billable entries in November 2026
/// (and one non-billable, and one in December), the seller's details set.
async fn a_client_with_a_month_of_work(app: &TestApp, admin: &TestClient, name: &str) -> i64 {
    let client: i64 = sqlx::query_scalar(
        "INSERT INTO clients (name, default_hourly_rate_cents) VALUES ($1, 6000) RETURNING id",
    )
    .bind(name)
    .fetch_one(&app.pool)
    .await
    .expect("client");
    let web = a_project()
        .named(&format!("{name} web"))
        .with_rate(10_000)
        .for_client(Some(client))
        .create(app)
        .await;
    let support = a_project()
        .named(&format!("{name} support"))
        .for_client(Some(client))
        .create(app)
        .await;
    let admin_id = app.user_id("admin").await;
    for (project, start, minutes) in [
        (web, "2026-11-02T09:00:00Z", 90),
        (web, "2026-11-03T09:00:00Z", 45),
        (support, "2026-11-04T09:00:00Z", 30),
        (web, "2026-12-01T09:00:00Z", 60),
    ] {
        an_entry(admin_id, project)
            .from(start)
            .lasting(minutes)
            .create(app)
            .await;
    }
    app.exec(&format!(
        "UPDATE time_entries SET billable = false WHERE id = (SELECT max(id) FROM time_entries WHERE project_id = {support})"
    ))
    .await;
    an_entry(admin_id, support)
        .from("2026-11-05T09:00:00Z")
        .lasting(15)
        .create(app)
        .await;
    let r = admin
        .post_form(
            "/invoices/seller",
            &[
                ("seller_name", "Example Studio"),
                ("seller_address", "1 Main Street\nSpringfield"),
                ("seller_tax_id", "DE123456789"),
                ("seller_bank", "IBAN DE89 3704 0044 0532 0130 00"),
                ("invoice_number_pattern", "{YYYY}-{seq:4}"),
                ("invoice_paper", "a4"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    client
}

/// Makes a draft of November for `client`; its id.
async fn draft(admin: &TestClient, client: i64, grouping: &str) -> i64 {
    let client = client.to_string();
    let r = admin
        .post_form(
            "/invoices",
            &[
                ("client_id", &client),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("grouping", grouping),
                ("tax_percent", "19"),
                ("discount_percent", "10"),
                ("note", "Thank you"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    location(&r)
        .trim_start_matches("/invoices/")
        .parse()
        .expect("the draft's page")
}

/// The year of the last issue, in the issuer's timezone (whose new year
/// may not be UTC's).
async fn issue_year(app: &TestApp) -> i32 {
    app.scalar::<f64>("SELECT extract(year FROM max(issued_on))::float8 FROM invoices")
        .await as i32
}

async fn issue(admin: &TestClient, id: i64) -> reqwest::Response {
    admin
        .post_form(&format!("/invoices/{id}/issue"), &[("confirm", "yes")])
        .await
}

#[tokio::test]
async fn an_invoice_bills_a_clients_unbilled_time_and_freezes_it_until_it_is_cancelled() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let id = draft(&admin, acme, "project").await;

    // The draft: one line per project, November's billable entries only.
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(
        page.contains("Draft invoice") && page.contains("3 entries"),
        "{page}"
    );
    assert!(
        page.contains(r#"value="2.25""#),
        "90 + 45 minutes of web: {page}"
    );
    assert!(
        page.contains(r#"value="0.25""#),
        "15 billable minutes of support"
    );
    // 2.25 h × 100.00 + 0.25 h × 60.00 = 240.00; less 10 % = 216.00;
    // 19 % tax = 41.04; total 257.04.
    for figure in ["240.00 EUR", "−24.00 EUR", "41.04 EUR", "257.04 EUR"] {
        assert!(page.contains(figure), "{figure} in {page}");
    }

    // A second draft of the same month finds nothing left to bill.
    let client = acme.to_string();
    let r = admin
        .post_form(
            "/invoices",
            &[
                ("client_id", &client),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("grouping", "entry"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("no unbilled billable time")
    );

    // Issued: the year's first number, the PDF made by the worker.
    assert_is_redirect(&issue(&admin, id).await);
    let number = format!("{}-0001", issue_year(&app).await);
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(page.contains(&format!("Invoice {number}")), "{page}");
    app.run_pending_jobs().await;
    let r = admin.get(&format!("/invoices/{id}/pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.expect("pdf").to_vec();
    let (text, _) = crate::exports::pdf_text(&pdf);
    for expected in [
        number.as_str(),
        "Example Studio",
        "Acme",
        "Acme web",
        "2.25",
        "Total",
        "257.04 EUR",
        "Tax 19 % of 216.00 EUR",
        "IBAN DE89",
    ] {
        assert!(text.contains(expected), "{expected} in the PDF:\n{text}");
    }

    // Its entries cannot change, through the API or the pages.
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let entry: i64 = app
        .scalar(&format!(
            "SELECT min(id) FROM time_entries WHERE invoice_id = {id}"
        ))
        .await;
    let (status, _, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/time-entries/{entry}"),
            Some(json!({"project_id": app.scalar::<i64>(&format!("SELECT project_id FROM time_entries WHERE id = {entry}")).await,
                        "start": "2026-11-02T09:00:00Z", "duration_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "entry_invoiced");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&number)),
        "{body}"
    );
    let (status, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/time-entries/{entry}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        admin
            .post_status(&format!("/entries/{entry}/delete"), &[("confirm", "yes")])
            .await,
        StatusCode::CONFLICT
    );
    // The pages say so before anyone tries.
    let list = admin
        .get_text("/entries?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(list.contains(&format!("On invoice {number}")), "{list}");
    assert!(
        !list.contains(&format!("/entries/{entry}/edit")),
        "no edit link for a frozen entry"
    );
    let form = admin.get_text(&format!("/entries/{entry}/edit")).await;
    assert!(
        form.contains(&format!("This entry is on invoice {number}")),
        "{form}"
    );

    // Paid, then cancelled: the number stays, the entries are free again.
    let r = admin
        .post_form(
            &format!("/invoices/{id}/paid"),
            &[("paid_on", "2026-12-01")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "before the issue day"
    );
    // The issue's day, in the issuer's timezone (not necessarily UTC's today).
    let today: String = app
        .scalar(&format!(
            "SELECT issued_on::text FROM invoices WHERE id = {id}"
        ))
        .await;
    assert_is_redirect(
        &admin
            .post_form(&format!("/invoices/{id}/paid"), &[("paid_on", &today)])
            .await,
    );
    assert!(
        admin
            .get_text("/invoices?status=paid")
            .await
            .contains(&number)
    );
    assert_is_redirect(
        &admin
            .post_form(&format!("/invoices/{id}/cancel"), &[("confirm", "yes")])
            .await,
    );
    let list = admin.get_text("/invoices").await;
    assert!(
        list.contains(&number) && list.contains("cancelled"),
        "{list}"
    );
    let (status, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/time-entries/{entry}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "free again");
    let again = draft(&admin, acme, "entry").await;
    assert_is_redirect(&issue(&admin, again).await);
    let page = admin.get_text(&format!("/invoices/{again}")).await;
    assert!(
        page.contains(&format!("Invoice {}-0002", issue_year(&app).await)),
        "the cancelled number is not reused: {page}"
    );
    let csv = admin.get_text("/invoices.csv").await;
    assert!(csv.starts_with("Number,Client,Status"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

#[tokio::test]
async fn invoices_issued_at_once_get_consecutive_numbers_never_the_same() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut drafts = Vec::new();
    for name in ["A", "B", "C", "D", "E", "F"] {
        let client = a_client_with_a_month_of_work(&app, &admin, name).await;
        drafts.push(draft(&admin, client, "task").await);
    }
    let d = &drafts;
    let issued = tokio::join!(
        issue(&admin, d[0]),
        issue(&admin, d[1]),
        issue(&admin, d[2]),
        issue(&admin, d[3]),
        issue(&admin, d[4]),
        issue(&admin, d[5]),
    );
    for r in [
        &issued.0, &issued.1, &issued.2, &issued.3, &issued.4, &issued.5,
    ] {
        assert_is_redirect(r);
    }
    let numbers: Vec<String> = sqlx::query_scalar("SELECT number FROM invoices ORDER BY number")
        .fetch_all(&app.pool)
        .await
        .expect("numbers");
    let year = issue_year(&app).await;
    assert_eq!(
        numbers,
        (1..=6)
            .map(|n| format!("{year}-{n:04}"))
            .collect::<Vec<_>>(),
        "gapless and unique"
    );
}

#[tokio::test]
async fn a_draft_refuses_bad_lines_beside_the_field_and_an_issued_invoice_refuses_changes() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let id = draft(&admin, acme, "project").await;
    let line: i64 = app
        .scalar(&format!(
            "SELECT min(id) FROM invoice_lines WHERE invoice_id = {id}"
        ))
        .await;
    let path = format!("/invoices/{id}/lines/{line}");
    let r = admin
        .post_form(
            &path,
            &[
                ("description", "Design work"),
                ("hours", "1.234"),
                ("unit_price", "100"),
                ("tax_percent", "19"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("body");
    assert!(
        page.contains(r#"id="hours-error""#) && page.contains("two decimals"),
        "{page}"
    );
    let r = admin
        .post_form(
            &path,
            &[
                ("description", "Design work"),
                ("hours", "3"),
                ("unit_price", "120.50"),
                ("tax_percent", "7"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(
        page.contains("361.50") && page.contains("Tax 7 %"),
        "{page}"
    );
    assert_is_redirect(&issue(&admin, id).await);
    let r = admin
        .post_form(
            &path,
            &[
                ("description", "Changed"),
                ("hours", "1"),
                ("unit_price", "1"),
                ("tax_percent", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Only a draft can change")
    );
    assert_eq!(
        admin
            .post_status(&format!("/invoices/{id}/issue"), &[("confirm", "yes")])
            .await,
        StatusCode::CONFLICT,
        "issued once only"
    );
}

#[tokio::test]
async fn the_api_makes_issues_and_settles_an_invoice_as_the_pages_do() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let (status, _, body) = api
        .post(
            "/invoices",
            json!({"client_id": acme, "from": "2026-11-01", "to": "2026-11-30",
                   "grouping": "task", "tax_bp": 1900, "discount_bp": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["number"], serde_json::Value::Null);
    assert_eq!(body["total_cents"], 25_704, "the same sums as the page");
    let id = body["id"].as_i64().expect("id");
    let line = body["lines"][0]["id"].as_i64().expect("a line");
    let (status, _, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/invoices/{id}/lines/{line}"),
            Some(json!({"description": "Design", "centihours": 300, "unit_cents": 12050, "tax_bp": 700})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["net_cents"], 36_150);
    assert_eq!(body["taxes"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, _, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/invoices/{id}/lines/{line}"),
            Some(json!({"description": "Design", "centihours": -1, "unit_cents": 1, "tax_bp": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "hours");

    let (status, _, body) = api.post(&format!("/invoices/{id}/issue"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let number = format!("{}-0001", issue_year(&app).await);
    assert_eq!(body["number"], number.as_str());
    let (status, _, body) = api.get(&format!("/invoices/{id}/pdf")).await;
    assert_eq!(status, StatusCode::CONFLICT, "not made yet: {body}");
    assert_eq!(body["error"]["code"], "invoice_pdf_not_ready");
    app.run_pending_jobs().await;
    let r = reqwest::Client::new()
        .get(format!("{}/invoices/{id}/pdf", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("pdf");
    assert_eq!(r.status(), StatusCode::OK);
    let (text, _) = crate::exports::pdf_text(&r.bytes().await.expect("pdf"));
    assert!(text.contains(&number) && text.contains("Design"), "{text}");

    // The issue's day, in the issuer's timezone (not necessarily UTC's today).
    let today: String = app
        .scalar(&format!(
            "SELECT issued_on::text FROM invoices WHERE id = {id}"
        ))
        .await;
    let (status, _, body) = api
        .post(&format!("/invoices/{id}/paid"), json!({"paid_on": today}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("paid"))
    );
    let (status, _, body) = api.post(&format!("/invoices/{id}/cancel"), json!({})).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, _, list) = api.get("/invoices?status=cancelled").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["number"], number.as_str());

    let bobs = Api::new(&app, &bob.api_token("bob", "").await);
    let (status, _, body) = bobs.get("/invoices").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = bobs.get(&format!("/invoices/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The rendered PDF of invoice `id`, after the worker made it.
async fn pdf_of(app: &TestApp, admin: &TestClient, id: i64) -> Vec<u8> {
    app.run_pending_jobs().await;
    let r = admin.get(&format!("/invoices/{id}/pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.expect("pdf").to_vec()
}

/// `pdfimages -list`'s rows: (width, height, encoding) of each image.
fn images_in(pdf: &[u8]) -> Vec<(String, String, String)> {
    crate::exports::poppler(pdf, "pdfimages", &["-list"])
        .lines()
        .skip(2)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // page num type width height color comp bpc enc …
            (cols.len() > 8 && cols[2] == "image")
                .then(|| (cols[3].to_owned(), cols[4].to_owned(), cols[8].to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn the_sellers_logo_and_paper_print_on_invoices_issued_after_them_and_an_issued_invoice_keeps_its_own()
 {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let png: &[u8] = include_bytes!("../fixtures/logo.png");
    let jpeg: &[u8] = include_bytes!("../fixtures/logo.jpg");
    let page = admin.get_text("/invoices/seller").await;
    assert!(page.contains("No logo"), "{page}");

    // Refused beside the field, with the reason; nothing is kept.
    let too_big = [&png[..16], &vec![0u8; 600 * 1024][..]].concat();
    for (bytes, reason) in [
        (
            &b"just some text, named like an image"[..],
            "not a PNG or JPEG",
        ),
        (&png[..png.len() - 30], "could not be read"),
        (&too_big[..], "601 KiB; a logo may have at most 512 KiB"),
        (&b""[..], "Choose an image file"),
    ] {
        let r = admin
            .upload("/invoices/seller/logo", "logo", "logo.png", bytes)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
        let page = r.text().await.expect("page");
        let error = page
            .split(r#"id="logo-error">"#)
            .nth(1)
            .unwrap_or_else(|| panic!("a message beside the field: {page}"));
        let error = error.split("</span>").next().unwrap_or_default();
        assert!(error.contains(reason), "{reason}: {error}");
    }
    assert_eq!(
        app.scalar::<i64>("SELECT count(*) FROM seller_logos").await,
        0
    );

    // The CSRF token must come first, before the file.
    let token = admin.csrf_token("/invoices/seller").await;
    for parts in [
        vec![FormPart::file("logo", "logo.png", png)],
        vec![
            FormPart::file("logo", "logo.png", png),
            FormPart::field("csrf_token", token.as_bytes()),
        ],
        vec![
            FormPart::field("csrf_token", b"0123456789abcdef"),
            FormPart::file("logo", "logo.png", png),
        ],
    ] {
        let r = admin.post_multipart("/invoices/seller/logo", &parts).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    // Kept, shown, and printed on the next invoice, on US Letter.
    assert_is_redirect(
        &admin
            .upload("/invoices/seller/logo", "logo", "logo.png", png)
            .await,
    );
    let page = admin.get_text("/invoices/seller").await;
    assert!(page.contains("240 × 80 pixels"), "{page}");
    let r = admin.get("/invoices/seller/logo").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.expect("logo").as_ref(), png);
    let r = admin
        .post_form(
            "/invoices/seller",
            &[
                ("seller_name", "Example Studio"),
                ("invoice_number_pattern", "{YYYY}-{seq:4}"),
                ("invoice_paper", "letter"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    let first = draft(&admin, acme, "project").await;
    assert_is_redirect(&issue(&admin, first).await);
    let pdf = pdf_of(&app, &admin, first).await;
    assert_eq!(
        images_in(&pdf),
        vec![("240".into(), "80".into(), "image".into())],
        "the PNG logo, once"
    );
    let (_, info) = crate::exports::pdf_text(&pdf);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");

    // A new logo (a JPEG) reaches the next invoice only: the first one,
    // rebuilt, gives the same bytes with the logo it was issued with.
    assert_is_redirect(
        &admin
            .upload("/invoices/seller/logo", "logo", "logo.jpg", jpeg)
            .await,
    );
    let r = admin.get("/invoices/seller/logo").await;
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    app.exec(&format!(
        "DELETE FROM invoice_documents WHERE invoice_id = {first}"
    ))
    .await;
    let mut conn = app.pool.acquire().await.expect("conn");
    timetracker::jobs::enqueue(
        &mut conn,
        &timetracker::jobs::InvoiceDocument { invoice_id: first },
    )
    .await
    .expect("enqueue");
    drop(conn);
    assert_eq!(pdf_of(&app, &admin, first).await, pdf, "the same bytes");
    let second = {
        // Entries of another month, for a second invoice of the client.
        let admin_id = app.user_id("admin").await;
        let project: i64 = app
            .scalar(&format!(
                "SELECT min(id) FROM projects WHERE client_id = {acme}"
            ))
            .await;
        an_entry(admin_id, project)
            .from("2026-10-05T09:00:00Z")
            .lasting(60)
            .create(&app)
            .await;
        let r = admin
            .post_form(
                "/invoices",
                &[
                    ("client_id", &acme.to_string()),
                    ("from", "2026-10-01"),
                    ("to", "2026-10-31"),
                    ("grouping", "project"),
                    ("tax_percent", "19"),
                ],
            )
            .await;
        assert_is_redirect(&r);
        location(&r)
            .trim_start_matches("/invoices/")
            .parse::<i64>()
            .expect("the draft's page")
    };
    assert_is_redirect(&issue(&admin, second).await);
    let images = images_in(&pdf_of(&app, &admin, second).await);
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0].2, "jpeg", "the JPEG logo, embedded as it is");

    // Removed: the page says so; both files stay, each named by an invoice.
    assert_is_redirect(&admin.post_form("/invoices/seller/logo/remove", &[]).await);
    assert!(admin.get_text("/invoices/seller").await.contains("No logo"));
    assert_eq!(
        admin.get("/invoices/seller/logo").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.scalar::<i64>("SELECT count(*) FROM seller_logos").await,
        2
    );
    // A logo no invoice names is deleted when it is replaced.
    assert_is_redirect(
        &admin
            .upload("/invoices/seller/logo", "logo", "logo.png", png)
            .await,
    );
    assert_is_redirect(
        &admin
            .upload("/invoices/seller/logo", "logo", "logo.png", png)
            .await,
    );
    assert_eq!(
        app.scalar::<i64>("SELECT count(*) FROM seller_logos").await,
        3
    );
}

#[tokio::test]
async fn an_invoice_whose_pdf_job_was_cancelled_offers_to_make_the_pdf_again() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let id = draft(&admin, acme, "project").await;
    assert_is_redirect(&issue(&admin, id).await);
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(page.contains("The PDF is being made"), "{page}");
    // An administrator cancels the job in the console before it runs.
    let job: String = app
        .scalar("SELECT id FROM apalis.jobs WHERE job_type = 'invoice_document'")
        .await;
    assert_is_redirect(
        &admin
            .post_form(&format!("/admin/jobs/{job}/cancel"), &[("confirm", "yes")])
            .await,
    );
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(
        page.contains("The PDF was not made") && page.contains(&format!("/invoices/{id}/document")),
        "{page}"
    );
    assert_eq!(
        admin.get(&format!("/invoices/{id}/pdf")).await.status(),
        StatusCode::CONFLICT
    );
    let r = admin
        .post_form(&format!("/invoices/{id}/document"), &[])
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(page.contains("The PDF is being made again"), "{page}");
    // Asked again while that job waits: nothing more is queued.
    let r = admin
        .post_form(&format!("/invoices/{id}/document"), &[])
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text(&format!("/invoices/{id}")).await;
    assert!(page.contains("The PDF is already being made"), "{page}");
    assert_eq!(
        app.scalar::<i64>(
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'invoice_document' AND status = 'Pending'"
        )
        .await,
        1
    );
    let pdf = pdf_of(&app, &admin, id).await;
    assert!(pdf.starts_with(b"%PDF-"));
    // A draft has none to make.
    let other = a_client_with_a_month_of_work(&app, &admin, "Globex").await;
    let draft_id = draft(&admin, other, "project").await;
    let r = admin
        .post_form(&format!("/invoices/{draft_id}/document"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_invoice_list_filters_by_status_client_and_year_and_the_csv_follows() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let globex = a_client_with_a_month_of_work(&app, &admin, "Globex").await;
    let acmes = draft(&admin, acme, "project").await;
    assert_is_redirect(&issue(&admin, acmes).await);
    let globexs = draft(&admin, globex, "project").await;
    let year = issue_year(&app).await;
    let number = format!("{year}-0001");

    let list = |query: String| {
        let admin = admin.clone();
        async move { admin.get_text(&format!("/invoices?{query}")).await }
    };
    let page = list(format!("client_id={globex}")).await;
    assert!(
        page.contains(&format!("/invoices/{globexs}\"")) && !page.contains(&number),
        "{page}"
    );
    let page = list(format!("client_id={acme}&status=issued&year={year}")).await;
    assert!(page.contains(&number), "{page}");
    assert!(page.contains("<strong>issued</strong>: 1 · "), "{page}");
    let page = list(format!("year={}", year - 1)).await;
    assert!(page.contains("No invoice matches these filters"), "{page}");

    // A bad filter is said beside its field, with the input kept.
    let r = admin.get("/invoices?year=20x6").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("page");
    assert!(
        page.contains(r#"id="year-error">Enter a year"#) && page.contains(r#"value="20x6""#),
        "{page}"
    );

    // The CSV and the API select the same invoices.
    let csv = admin
        .get_text(&format!("/invoices.csv?client_id={acme}"))
        .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(&number) && csv.contains("Acme"), "{csv}");
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let (status, _, body) = api.get(&format!("/invoices?client_id={globex}")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = body
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![globexs]);
    let (status, _, body) = api.get("/invoices?year=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

/// Generated mixes of clients, days, lengths and billable flags: issuing an
/// invoice per client and cancelling one frees exactly that invoice's
/// entries, and no other entry changes hands.
#[tokio::test]
async fn cancelling_an_invoice_frees_exactly_its_entries_whatever_the_mix() {
    use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};

    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Three clients with a project each (the first also sets the seller).
    let mut projects = Vec::new();
    for name in ["Acme", "Globex", "Initech"] {
        a_client_with_a_month_of_work(&app, &admin, name).await;
        projects.push(
            app.scalar::<i64>(&format!(
                "SELECT p.id FROM projects p JOIN clients c ON c.id = p.client_id
                  WHERE c.name = '{name}' ORDER BY p.id LIMIT 1"
            ))
            .await,
        );
    }
    let admin_id = app.user_id("admin").await;
    // (client, day of the month, minutes, billable), and which to cancel.
    let entry = (0..3usize, 1..=28u32, 1..=600i64, any::<bool>());
    let strategy = (proptest::collection::vec(entry, 1..25), 0..3usize);
    let mut runner = TestRunner::deterministic();
    let invoice_of = |id: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT invoice_id FROM time_entries WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("entry")
        }
    };
    let mut cancelled_invoices = 0;
    // Every entry made so far and the invoice it should be on.
    let mut expected: Vec<(i64, Option<i64>)> = Vec::new();
    // One month of 2025 per case, so that the cases do not meet.
    for month in 1..=12u32 {
        let (entries, cancelled) = strategy.new_tree(&mut runner).expect("a case").current();
        let mut ids = Vec::new();
        for (client, day, minutes, billable) in &entries {
            let start = format!("2025-{month:02}-{day:02}T08:00:00Z");
            let id = an_entry(admin_id, projects[*client])
                .from(&start)
                .lasting(*minutes)
                .create(&app)
                .await;
            app.exec(&format!(
                "UPDATE time_entries SET billable = {billable} WHERE id = {id}"
            ))
            .await;
            ids.push(id);
        }
        let last = chrono::NaiveDate::from_ymd_opt(2025, month + 1, 1)
            .unwrap_or(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("day"))
            - chrono::Days::new(1);
        let mut invoices = [None; 3];
        for (client, invoice) in invoices.iter_mut().enumerate() {
            if !entries.iter().any(|e| e.0 == client && e.3) {
                continue; // nothing billable for this client this month
            }
            let client_id: i64 = app
                .scalar(&format!(
                    "SELECT client_id FROM projects WHERE id = {}",
                    projects[client]
                ))
                .await;
            let r = admin
                .post_form(
                    "/invoices",
                    &[
                        ("client_id", &client_id.to_string()),
                        ("from", &format!("2025-{month:02}-01")),
                        ("to", &last.to_string()),
                        ("grouping", "entry"),
                        ("tax_percent", "19"),
                    ],
                )
                .await;
            assert_is_redirect(&r);
            let id: i64 = location(&r)
                .trim_start_matches("/invoices/")
                .parse()
                .expect("the draft's page");
            assert_is_redirect(&issue(&admin, id).await);
            *invoice = Some(id);
        }
        let mut before = Vec::new();
        for id in &ids {
            before.push(invoice_of(*id).await);
        }
        // Each billable entry is on its client's invoice, the others on none.
        for ((client, _, _, billable), held) in entries.iter().zip(&before) {
            assert_eq!(*held, if *billable { invoices[*client] } else { None });
        }
        expected.extend(ids.iter().copied().zip(before));
        let Some(target) = invoices[cancelled].or(invoices.into_iter().flatten().next()) else {
            continue; // nothing billable at all this month
        };
        assert_is_redirect(
            &admin
                .post_form(&format!("/invoices/{target}/cancel"), &[("confirm", "yes")])
                .await,
        );
        // Of every entry so far (earlier months' invoices of the same
        // clients included), only the cancelled invoice's are free.
        for (id, held) in expected.iter_mut() {
            if *held == Some(target) {
                *held = None;
            }
            assert_eq!(invoice_of(*id).await, *held, "entry {id}");
        }
        cancelled_invoices += 1;
    }
    assert!(
        cancelled_invoices >= 6,
        "only {cancelled_invoices} cases cancelled one"
    );
}

#[tokio::test]
async fn the_timesheet_refuses_an_invoiced_cell_beside_it_and_saves_nothing_else() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
    let acme = a_client_with_a_month_of_work(&app, &admin, "Acme").await;
    let id = draft(&admin, acme, "entry").await;
    assert_is_redirect(&issue(&admin, id).await);
    let number = format!("{}-0001", issue_year(&app).await);
    let web: i64 = app
        .scalar("SELECT id FROM projects WHERE name = 'Acme web'")
        .await;
    let count = || app.scalar::<i64>("SELECT count(*) FROM time_entries");
    let before = count().await;
    // Monday 2 November holds 1:30 on the invoice; Friday is empty. The
    // invoiced cell comes first, so the database refuses before the other.
    let (monday, friday) = (format!("c.{web}.0.0"), format!("c.{web}.0.4"));
    let r = admin
        .post_form(
            "/timesheet",
            &[("week", "2026-11-02"), (&monday, "3:00"), (&friday, "1:00")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("page");
    assert!(
        page.contains(&format!("This entry is on invoice {number}")),
        "said beside the cell: {page}"
    );
    assert!(page.contains("value=\"3:00\"") && page.contains("value=\"1:00\""));
    assert!(page.contains("Nothing was saved"), "{page}");
    assert_eq!(count().await, before, "nothing saved, Friday included");
}
