//! The handbook's links: every relative link in `README.md` and `docs/*.md`
//! (and every runbook link in the alert rules) points at a file that exists,
//! and at a heading of that file when it names one.

use std::{collections::BTreeSet, path::Path};

use crate::support::repo;

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(slug(line.trim_start_matches('#')));
        }
    }
    found
}

/// `(target)` of every `[text](target)` outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Drop code spans, whose brackets are not links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    found
}

/// Checks one link from `from`; returns a message when it is broken.
fn check(from: &Path, target: &str) -> Option<String> {
    if target.starts_with("http://")
        || target.starts_with("https://")
        || target.starts_with("mailto:")
    {
        return None;
    }
    let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
    let path = if file.is_empty() {
        from.to_owned()
    } else {
        from.parent().expect("folder").join(file)
    };
    if !path.exists() {
        return Some(format!("{}: {target}: no such file", from.display()));
    }
    if !anchor.is_empty() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !anchors(&text).contains(anchor) {
            return Some(format!("{}: {target}: no such heading", from.display()));
        }
    }
    None
}

#[test]
fn every_link_in_the_readme_and_docs_resolves() {
    let root = repo();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for target in links(&text) {
            checked += 1;
            broken.extend(check(file, &target));
        }
    }
    assert!(checked > 30, "the checker found only {checked} links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_alert_runbook_link_resolves() {
    let root = repo();
    let rules = std::fs::read_to_string(root.join("prometheus/alerts.yml")).expect("rules");
    let runbooks: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runbook:"))
        .map(str::trim)
        .collect();
    assert_eq!(
        runbooks.len(),
        rules.matches("- alert:").count(),
        "one runbook per alert"
    );
    let anchor_base = root.join("README.md");
    for runbook in runbooks {
        assert_eq!(check(&anchor_base, runbook), None);
    }
}

#[test]
fn the_checker_sees_broken_links() {
    let readme = repo().join("README.md");
    assert!(check(&readme, "docs/no-such-file.md").is_some());
    assert!(check(&readme, "docs/monitoring.md#no-such-heading").is_some());
    assert_eq!(check(&readme, "docs/monitoring.md#runbooks"), None);
    assert_eq!(
        slug(" CI/CD and build configuration"),
        "cicd-and-build-configuration"
    );
    assert_eq!(links("see [a](x.md) and `[b](y.md)`"), vec!["x.md"]);
}

/// The log file the docs name is the one the process writes: one per UTC day,
/// `app.YYYY-MM-DD.jsonl` next to what `LOG_FILE` names, never `app.jsonl`.
#[tokio::test]
async fn the_log_file_on_disk_is_the_one_the_docs_name() {
    let db = crate::support::TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("tt-logs-{}", uuid::Uuid::new_v4()));
    let log_file = dir.join("app.jsonl");
    let mut web = crate::process::Process::start(
        "timetracker",
        &["serve"],
        &[
            ("DATABASE_URL", &db.url),
            ("HTTP_ADDR", "127.0.0.1:0"),
            ("WEB_METRICS_ADDR", "127.0.0.1:0"),
            ("LOG_FILE", log_file.to_str().expect("path")),
        ],
    );
    web.wait_for_log("web server listening").await;
    web.terminate();
    let written: Vec<String> = std::fs::read_dir(&dir)
        .expect("log directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    // Around midnight the file may carry either date.
    assert!(
        written.len() == 1
            && written[0].starts_with("app.")
            && written[0].ends_with(".jsonl")
            && written[0].len() == "app.YYYY-MM-DD.jsonl".len(),
        "{written:?} (today {today})"
    );
    let _ = std::fs::remove_dir_all(&dir);
    for doc in [
        "docs/configuration.md",
        "docs/monitoring.md",
        ".env.example",
    ] {
        let text = std::fs::read_to_string(repo().join(doc)).expect(doc);
        assert!(
            text.contains("logs/app.YYYY-MM-DD.jsonl")
                || text.contains("logs/app.2026-12-01.jsonl"),
            "{doc} names the daily file"
        );
        assert!(
            text.contains("never written")
                || text.contains("no file is named")
                || doc == ".env.example",
            "{doc} says that no file is named app.jsonl itself"
        );
    }
}

/// The repository named once, in `Cargo.toml`: where the pipelines publish
/// the image (`ghcr.io/<owner>/<repo>`, lower case as GHCR demands).
fn published_image() -> String {
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    let url = cargo
        .lines()
        .find_map(|l| l.strip_prefix("repository = \"https://github.com/"))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("[workspace.package] repository = \"https://github.com/<owner>/<repo>\"");
    format!("ghcr.io/{}", url.to_lowercase())
}

#[test]
fn compose_runs_the_image_the_pipelines_publish() {
    let image = published_image();
    let compose = std::fs::read_to_string(repo().join("docker-compose.yml")).expect("compose");
    assert!(
        compose.contains(&format!("image: ${{TIMETRACKER_IMAGE:-{image}:edge}}")),
        "docker-compose.yml's default image is not {image}:edge"
    );
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains(&format!(
            "org.opencontainers.image.source=\"https://github.com/{}\"",
            &image["ghcr.io/".len()..]
        )),
        "the Dockerfile's source label names another repository"
    );
    for workflow in ["build-dev.yml", "release.yml"] {
        let text = std::fs::read_to_string(repo().join(".github/workflows").join(workflow))
            .expect("workflow");
        assert!(
            text.contains("ghcr.io/${GITHUB_REPOSITORY,,}"),
            "{workflow} must publish under the lower-cased repository name"
        );
    }
}
