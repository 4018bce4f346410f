//! The monitoring stack against real software: the real binaries, a real
//! Prometheus (Debian's package) loading the project's own `prometheus.yml`
//! and alert rules with only the target addresses changed, and every PromQL
//! query of every Grafana dashboard. Plus static checks of the dashboards.

use std::{
    collections::{BTreeSet, HashSet},
    path::{Path, PathBuf},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{assert_is_redirect, eventually};
use crate::{
    process::Process,
    support::{FakePostHog, SETUP_TOKEN, TestClient, TestDb, repo},
};

/// Every dashboard file with its parsed JSON.
fn dashboards() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo().join("grafana/dashboards")).expect("dashboards") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            found.push((path.display().to_string(), json));
        }
    }
    assert!(
        found.len() >= 4,
        "service, jobs, product and logs dashboards"
    );
    found
}

/// Panels, including those nested in rows.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        all.push(panel);
        all.extend(panel["panels"].as_array().into_iter().flatten());
    }
    all
}

/// (datasource uid, query) of every target of every panel.
fn queries(dashboard: &Value) -> Vec<(String, String)> {
    panels(dashboard)
        .into_iter()
        .flat_map(|panel| {
            let panel_uid = panel["datasource"]["uid"].as_str().unwrap_or_default();
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |t| {
                    let uid = t["datasource"]["uid"].as_str().unwrap_or(panel_uid);
                    (
                        uid.to_owned(),
                        t["expr"].as_str().unwrap_or_default().to_owned(),
                    )
                })
        })
        .collect()
}

/// The datasource uids Grafana provisions.
fn provisioned_uids() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(repo().join("grafana/provisioning/datasources/datasources.yaml"))
            .expect("datasources");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("uid:"))
        .map(|uid| uid.trim().to_owned())
        .collect()
}

#[test]
fn dashboards_have_unique_uids_known_datasources_and_no_fixed_instances() {
    let known = provisioned_uids();
    assert_eq!(
        known,
        ["loki", "prometheus"].map(String::from).into(),
        "fixed datasource uids"
    );
    let mut uids = HashSet::new();
    for (file, dashboard) in dashboards() {
        let uid = dashboard["uid"].as_str().expect("uid").to_owned();
        assert!(uids.insert(uid.clone()), "{file}: uid {uid} is used twice");
        assert!(dashboard["id"].is_null(), "{file}: id must be null");
        assert_eq!(
            dashboard["editable"], false,
            "{file}: provisioned read-only"
        );
        let mut ids = HashSet::new();
        for panel in panels(&dashboard) {
            assert!(
                ids.insert(panel["id"].to_string()),
                "{file}: panel id twice"
            );
        }
        let queries = queries(&dashboard);
        assert!(!queries.is_empty(), "{file}: no queries");
        for (datasource, expr) in queries {
            assert!(
                known.contains(&datasource),
                "{file}: unknown datasource {datasource}"
            );
            assert!(!expr.trim().is_empty(), "{file}: empty query");
            assert!(
                !expr.contains("instance="),
                "{file}: fixed instance in {expr}"
            );
            assert!(
                !expr.contains("instance=~"),
                "{file}: fixed instance in {expr}"
            );
        }
    }
}

/// The project's `prometheus.yml` with the compose DNS discovery replaced by
/// these addresses; everything else (interval, rule file, jobs) as shipped.
fn adapted_prometheus_config(web: &str, worker: &str, itself: &str) -> String {
    let shipped =
        std::fs::read_to_string(repo().join("prometheus/prometheus.yml")).expect("config");
    let mut adapted = shipped.clone();
    for (service, port, target) in [("web", 9464, web), ("worker", 9465, worker)] {
        let discovery = format!(
            "    dns_sd_configs:\n      - names: [{service}]\n        type: A\n        port: {port}\n"
        );
        assert!(
            adapted.contains(&discovery),
            "{service} discovery as expected"
        );
        adapted = adapted.replace(
            &discovery,
            &format!("    static_configs:\n      - targets: [\"{target}\"]\n"),
        );
    }
    adapted.replace("\"localhost:9090\"", &format!("\"{itself}\""))
}

async fn free_port() -> u16 {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn prometheus_query(http: &reqwest::Client, base: &str, query: &str) -> Value {
    http.post(format!("{base}/api/v1/query"))
        .form(&[("query", query)])
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("JSON")
}

/// Drives what every panel needs: pages, errors, logins, a timer, a manual
/// entry, exports in both formats and product events to PostHog.
async fn generate_traffic(web: &str) {
    let admin = TestClient::new(web);
    assert_eq!(
        admin.submit_setup("admin", "off").await.status(),
        StatusCode::SEE_OTHER
    );
    admin
        .submit("/admin/telemetry/analytics", &[("enabled", "on")])
        .await;
    admin.submit("/projects", &[("name", "Stack")]).await;
    let project = "1";
    admin
        .post_form("/timer/start", &[("project_id", project)])
        .await;
    admin.post_form("/timer/stop", &[]).await;
    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", project),
                ("start", "2026-11-20T09:00"),
                ("duration", "1:30"),
            ],
        )
        .await;
    for format in ["csv", "xlsx"] {
        let r = admin.request_export(format, &[]).await;
        assert_is_redirect(&r);
    }
    let stranger = TestClient::new(web);
    assert_eq!(
        stranger.get_status("/no/such/page").await,
        StatusCode::NOT_FOUND
    );
    stranger.login("admin", "wrong password").await;
    for page in ["/", "/entries", "/reports", "/exports"] {
        assert_eq!(admin.get_status(page).await, StatusCode::OK, "{page}");
    }
}

#[tokio::test]
async fn prometheus_scrapes_both_processes_and_every_dashboard_query_has_data() {
    let db = TestDb::new().await;
    let posthog = FakePostHog::start().await;
    let (web_metrics, worker_metrics) = (free_port().await, free_port().await);
    let web_metrics_addr = format!("127.0.0.1:{web_metrics}");
    let worker_metrics_addr = format!("127.0.0.1:{worker_metrics}");
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("WEB_METRICS_ADDR", &web_metrics_addr),
        ("WORKER_METRICS_ADDR", &worker_metrics_addr),
        ("LOG_FILE", ""),
        ("SETUP_TOKEN", SETUP_TOKEN),
        ("POSTHOG_API_KEY", "phc_stack_test"),
        ("POSTHOG_HOST", &posthog.url),
        ("WORKER_HEARTBEAT_SECONDS", "1"),
    ];
    let mut web = Process::start("timetracker", &["serve"], &env);
    let port = web.wait_for_log("web server listening").await["port"]
        .as_u64()
        .expect("port");
    let mut worker = Process::start("timetracker-worker", &[], &env);
    worker.wait_for_log("worker starting").await;
    generate_traffic(&format!("http://127.0.0.1:{port}")).await;
    // The worker builds both exports and delivers the product events.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    eventually(
        "both exports built and events delivered",
        Duration::from_secs(20),
        || async {
            let built: i64 =
                sqlx::query_scalar("SELECT count(*) FROM exports WHERE status = 'done'")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
            (built == 2 && !posthog.accepted_events().is_empty()).then_some(())
        },
    )
    .await;

    let dir = std::env::temp_dir().join(format!("tt-prometheus-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let prom_port = free_port().await;
    let prom_addr = format!("127.0.0.1:{prom_port}");
    std::fs::write(
        dir.join("prometheus.yml"),
        adapted_prometheus_config(&web_metrics_addr, &worker_metrics_addr, &prom_addr),
    )
    .expect("config");
    std::fs::copy(repo().join("prometheus/alerts.yml"), dir.join("alerts.yml")).expect("rules");
    let _prometheus = PrometheusProcess::start(&dir, &prom_addr);
    let base = format!("http://{prom_addr}");
    let http = reqwest::Client::new();
    eventually("Prometheus is ready", Duration::from_secs(30), || async {
        let answer = http.get(format!("{base}/-/ready")).send().await;
        answer
            .is_ok_and(|r| r.status() == StatusCode::OK)
            .then_some(())
    })
    .await;

    // Three scrapes of every target, so that rates have two points.
    eventually(
        "three scrapes of every target",
        Duration::from_secs(90),
        || async {
            let scrapes = prometheus_query(&http, &base, "min(count_over_time(up[5m]))").await;
            scrapes["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|&n| n >= 3.0)
                .ok_or_else(|| scrapes.to_string())
        },
    )
    .await;

    let targets: Value = http
        .get(format!("{base}/api/v1/targets"))
        .send()
        .await
        .expect("targets")
        .json()
        .await
        .expect("JSON");
    let active = targets["data"]["activeTargets"]
        .as_array()
        .expect("targets");
    assert_eq!(active.len(), 3, "web, worker and Prometheus itself");
    for target in active {
        assert_eq!(target["health"], "up", "{target}");
    }

    let rules: Value = http
        .get(format!("{base}/api/v1/rules"))
        .send()
        .await
        .expect("rules")
        .json()
        .await
        .expect("JSON");
    let loaded: Vec<&Value> = rules["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .collect();
    let shipped = std::fs::read_to_string(repo().join("prometheus/alerts.yml")).expect("rules");
    assert_eq!(
        loaded.len(),
        shipped.matches("- alert:").count() + shipped.matches("- record:").count(),
        "every rule loads"
    );
    for rule in loaded {
        assert_ne!(rule["health"], "err", "{rule}");
    }

    let mut empty = Vec::new();
    for (file, dashboard) in dashboards() {
        for (datasource, expr) in queries(&dashboard) {
            if datasource != "prometheus" {
                continue;
            }
            let query = expr.replace("$__rate_interval", "1m");
            let answer = prometheus_query(&http, &base, &query).await;
            assert_eq!(answer["status"], "success", "{file}: {expr}: {answer}");
            if answer["data"]["result"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                empty.push(format!("{file}: {expr}"));
            }
        }
    }
    assert!(
        empty.is_empty(),
        "queries without data:\n{}",
        empty.join("\n")
    );
    web.terminate();
    worker.terminate();
}

/// Debian's `prometheus` on a temporary folder, killed when dropped.
struct PrometheusProcess {
    child: std::process::Child,
    dir: PathBuf,
}

impl PrometheusProcess {
    fn start(dir: &Path, addr: &str) -> Self {
        let child = std::process::Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log"))
            .spawn()
            .expect("prometheus is installed (make test installs Debian's package)");
        Self {
            child,
            dir: dir.to_owned(),
        }
    }
}

impl Drop for PrometheusProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
