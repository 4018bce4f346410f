//! The OpenAPI document is a contract: schemathesis (from PyPI, pinned in
//! `scripts/test.sh`) generates requests from `/api/v1/openapi.json` against
//! the running app with an API token and runs all its checks: no 5xx, every
//! status, content type, header and body as documented, schema-invalid input
//! rejected, schema-valid input accepted. Fixed seed, bounded examples; the
//! settings are in `schemathesis.toml` at the repository root.

use std::path::PathBuf;

use reqwest::StatusCode;

use crate::support::spawn_app;

fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.data/tools/bin/schemathesis"),
        PathBuf::from,
    )
}

#[tokio::test]
async fn the_api_does_what_its_openapi_document_says() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Something to find: a client, a project with a task, an entry, an export.
    for (path, form) in [
        ("/clients", vec![("name", "Acme")]),
        ("/projects", vec![("name", "Website"), ("client_id", "1")]),
        (
            "/tasks",
            vec![
                ("project_id", "1"),
                ("name", "Design"),
                ("priority", "high"),
            ],
        ),
    ] {
        admin.submit(path, &form).await;
    }
    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", "1"),
                ("start", "2026-11-02T09:00"),
                ("duration", "1:30"),
            ],
        )
        .await;
    assert_eq!(
        admin.request_export("csv", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    app.run_pending_jobs().await;
    let token = admin.api_token("schemathesis", "").await;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = schemathesis();
    assert!(
        bin.exists(),
        "{} is missing: make test installs schemathesis",
        bin.display()
    );
    let output = tokio::process::Command::new(&bin)
        .current_dir(&root)
        .env("API_TOKEN", &token)
        .env("NO_COLOR", "1")
        .args([
            "--config-file",
            "schemathesis.toml",
            "run",
            &format!("{}/api/v1/openapi.json", app.address),
        ])
        .output()
        .await
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}"
    );
}
