//! The install path as an operator walks it: `docker-compose.yml` and the
//! analytics overlay brought up from the image `make test` built, with the
//! commands of `docs/getting-started.md`, then used through the published
//! port only. Product events and the install ping go from the worker
//! container to a fake PostHog on the host; Prometheus (a stand-in built from
//! Debian's package) scrapes both processes and loads the alert rules.
//!
//! Ignored by `cargo test`: `scripts/stack.sh` (part of `make test`) builds
//! the image, starts podman's Docker API and runs this with `TT_STACK_IMAGE`
//! and `TT_STACK_PROJECT` set. The stack is torn down with its volumes
//! however the test ends.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    FakePostHog, SETUP_TOKEN, TestClient, assert_is_redirect, download_link, eventually, location,
    people_today, repo,
};

const APP_FILES: [&str; 2] = ["docker-compose.yml", "docker-compose.analytics.yml"];
const POSTGRES_PASSWORD: &str = "stackdbpassword0123";
const GRAFANA_PASSWORD: &str = "stackgrafanapassword0123";

/// A free port on 127.0.0.1 for a published container port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// One Compose project in a folder of its own, removed with its volumes when
/// dropped.
struct Stack {
    dir: PathBuf,
    project: String,
}

impl Stack {
    /// A shell command in the stack's folder, as an operator types it
    /// (`docker compose` is Debian's `docker-compose` here), which must succeed.
    fn sh(&self, command: &str) -> String {
        let out = self.sh_output(command);
        assert!(
            out.status.success(),
            "`{command}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sh_output(&self, command: &str) -> Output {
        let command = command.replace("docker compose", "docker-compose");
        // Bounded: `up` waits for health checks, which must not hang the run.
        Command::new("timeout")
            .args(["300", "bash", "-o", "pipefail", "-c", &command])
            .current_dir(&self.dir)
            .env("COMPOSE_PROJECT_NAME", &self.project)
            .output()
            .expect("bash")
    }

    fn podman(&self, args: &[&str]) -> String {
        let out = Command::new("podman").args(args).output().expect("podman");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn container(&self, service: &str) -> String {
        format!("{}_{service}_1", self.project)
    }

    /// Waits until `podman healthcheck run` (scripts/stack.sh runs it every
    /// two seconds) has found the service's container healthy.
    async fn wait_healthy(&self, service: &str) {
        let container = self.container(service);
        eventually(
            &format!("{service} healthy"),
            Duration::from_secs(90),
            || {
                let health = self.podman(&[
                    "inspect",
                    "--format",
                    "{{.State.Health.Status}}",
                    &container,
                ]);
                async move { (health == "healthy").then_some(()) }
            },
        )
        .await;
    }

    /// The environment a container was started with.
    fn env_of(&self, service: &str) -> Vec<String> {
        let json = self.podman(&[
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            &self.container(service),
        ]);
        serde_json::from_str(&json).expect("env as JSON")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.sh_output(&format!(
            "docker compose -f {} -f {} down --volumes --remove-orphans --timeout 5",
            APP_FILES[0], APP_FILES[1]
        ));
        let _ = Command::new("podman")
            .args(["rm", "-f", &format!("{}_image", self.project)])
            .output();
        if let Ok(image) = std::env::var("TT_STACK_IMAGE") {
            let _ = Command::new("podman")
                .args(["rmi", "-f", &format!("{image}-next")])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Sets `NAME=value` in an env file: the line the example has for it, else
/// a new one.
fn set_var(path: &Path, name: &str, value: &str) {
    let text = std::fs::read_to_string(path).expect("env file");
    let line = format!("{name}={value}");
    let mut found = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            let bare = l.trim_start_matches("# ");
            if bare.starts_with(&format!("{name}=")) && !found {
                found = true;
                line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect();
    if !found {
        lines.push(line);
    }
    std::fs::write(path, lines.join("\n") + "\n").expect("write env file");
}

/// Says which step the (long) test is at, for whoever watches `make test`.
fn step(what: &str) {
    eprintln!("    compose: {what}");
}

/// `Some` when `query` has a series of the web's and one of the worker's job.
async fn both_processes_in(prometheus: &str, query: &str) -> Option<()> {
    let series = prometheus_query(prometheus, query).await;
    let jobs: Vec<&str> = series
        .iter()
        .filter_map(|s| s["metric"]["job"].as_str())
        .collect();
    (jobs.contains(&"timetracker-web") && jobs.contains(&"timetracker-worker")).then_some(())
}

async fn prometheus_query(base: &str, query: &str) -> Vec<Value> {
    let query = serde_urlencoded::to_string([("query", query)]).expect("query");
    let r = reqwest::get(format!("{base}/api/v1/query?{query}")).await;
    let Ok(r) = r else { return Vec::new() };
    let body: Value = r.json().await.unwrap_or_default();
    body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs containers: scripts/stack.sh runs it in make test"]
async fn the_compose_stack_serves_an_operator_from_setup_to_alerts() {
    let image = std::env::var("TT_STACK_IMAGE").expect("TT_STACK_IMAGE (scripts/stack.sh)");
    let project = std::env::var("TT_STACK_PROJECT").expect("TT_STACK_PROJECT");
    // Containers reach the host at their network's gateway, so the fake
    // listens on every address; only the containers send to it.
    let hog = FakePostHog::start_on("0.0.0.0:0").await;
    let hog_port = hog.url.rsplit(':').next().expect("port").to_owned();
    let dir = std::env::temp_dir().join(&project);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("stack dir");
    for file in APP_FILES
        .iter()
        .chain(&["compose.env.example", ".env.example"])
    {
        std::fs::copy(repo().join(file), dir.join(file)).expect("copy");
    }
    for folder in ["prometheus", "grafana", "loki"] {
        copy_dir(&repo().join(folder), &dir.join(folder));
    }
    let stack = Stack { dir, project };
    let (http_port, prometheus_port) = (free_port(), free_port());

    // docs/getting-started.md, step by step.
    stack.sh("cp compose.env.example .env");
    stack.sh("cp .env.example timetracker.env");
    let compose_env = stack.dir.join(".env");
    set_var(&compose_env, "POSTGRES_PASSWORD", POSTGRES_PASSWORD);
    set_var(&compose_env, "GRAFANA_ADMIN_PASSWORD", GRAFANA_PASSWORD);
    set_var(&compose_env, "HTTP_PORT", &http_port.to_string());
    set_var(
        &compose_env,
        "PROMETHEUS_PORT",
        &prometheus_port.to_string(),
    );
    set_var(&compose_env, "TIMETRACKER_IMAGE", &image);
    let app_env = stack.dir.join("timetracker.env");
    let hog_in_containers = format!("http://host.containers.internal:{hog_port}");
    for (name, value) in [
        ("PUBLIC_URL", format!("http://127.0.0.1:{http_port}")),
        ("POSTHOG_API_KEY", "phc_stack_product".to_owned()),
        ("POSTHOG_HOST", hog_in_containers.clone()),
        ("TELEMETRY_POSTHOG_KEY", "phc_stack_install".to_owned()),
        ("TELEMETRY_POSTHOG_HOST", hog_in_containers),
        ("SETUP_TOKEN", SETUP_TOKEN.to_owned()),
    ] {
        set_var(&app_env, name, &value);
    }

    // No password of Compose's own reaches an app container: PostgreSQL's is
    // only inside DATABASE_URL, which the app needs; Grafana's nowhere.
    let config = stack.sh(&format!(
        "docker compose -f {} -f {} config",
        APP_FILES[0], APP_FILES[1]
    ));
    assert_eq!(
        config.matches("POSTGRES_PASSWORD:").count(),
        1,
        "only the postgres service gets POSTGRES_PASSWORD:\n{config}"
    );
    assert_eq!(
        config.matches(GRAFANA_PASSWORD).count(),
        1,
        "only the grafana service gets its password:\n{config}"
    );

    step("docker compose up -d");
    stack.sh("docker compose up -d");
    let migrate = stack.podman(&[
        "inspect",
        "--format",
        "{{.State.ExitCode}}",
        &stack.container("migrate"),
    ]);
    assert_eq!(migrate, "0", "migrate exits 0");
    for service in ["migrate", "web", "worker"] {
        let env = stack.env_of(service);
        assert!(
            !env.iter().any(|v| v.starts_with("POSTGRES_PASSWORD=")
                || v.starts_with("GRAFANA_ADMIN_PASSWORD=")
                || v.contains(GRAFANA_PASSWORD)),
            "{service} got a password of Compose's own: {env:?}"
        );
    }
    for service in ["web", "worker"] {
        stack.wait_healthy(service).await;
    }
    let user = stack.podman(&["exec", &stack.container("web"), "id"]);
    assert!(
        user.starts_with("uid=10001(timetracker) gid=10001(timetracker)"),
        "{user}"
    );

    step("setup, a timer, an export, events and the install ping");
    // The setup link, as the docs find it.
    let logs = stack.sh("docker compose logs web | grep setup_url");
    let setup_url = format!("http://127.0.0.1:{http_port}/setup?token={SETUP_TOKEN}");
    assert!(logs.contains(&setup_url), "{logs}");

    let base = format!("http://127.0.0.1:{http_port}");
    let admin = TestClient::new(&base);
    let r = admin.submit_setup("admin", "on").await;
    assert_is_redirect(&r);
    admin
        .submit("/admin/telemetry/analytics", &[("enabled", "on")])
        .await;
    admin
        .submit(
            "/projects",
            &[("name", "Stack project"), ("billable", "on")],
        )
        .await;
    let token = admin.api_token("stack", "").await;
    let projects: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/projects"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET projects")
        .json()
        .await
        .expect("JSON");
    let project_id = projects[0]["id"].as_i64().expect("project id").to_string();

    admin
        .submit(
            "/timer/start",
            &[("project_id", &project_id), ("notes", "stack check")],
        )
        .await;
    admin.submit("/timer/stop", &[]).await;

    // A background export, built by the worker container and downloaded.
    // The admin's today (Berlin), which is UTC's tomorrow late in the evening.
    let today = people_today().to_string();
    let r = admin
        .post_form(
            "/exports",
            &[("format", "csv"), ("from", &today), ("to", &today)],
        )
        .await;
    assert_is_redirect(&r);
    assert!(location(&r).starts_with("/exports"));
    let download = eventually("the export built", Duration::from_secs(60), || {
        let admin = admin.clone();
        async move { download_link(&admin.get("/exports").await.text().await.ok()?) }
    })
    .await;
    let r = admin.get(&download).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.expect("CSV");
    assert!(
        csv.contains("Stack project") && csv.contains("stack check"),
        "{csv}"
    );

    // Product events and the install ping, sent by the worker container.
    let events = eventually(
        "timer events and the install ping delivered",
        Duration::from_secs(60),
        || {
            let hog = hog.clone();
            async move {
                let names: Vec<String> = hog
                    .accepted_events()
                    .iter()
                    .filter_map(|e| e["event"].as_str().map(str::to_owned))
                    .collect();
                ["timer.started", "timer.stopped", "telemetry.install"]
                    .iter()
                    .all(|n| names.iter().any(|got| got == n))
                    .then_some(names)
            }
        },
    )
    .await;
    let keys: Vec<String> = hog
        .requests()
        .iter()
        .filter_map(|(_, body)| body["api_key"].as_str().map(str::to_owned))
        .collect();
    assert!(
        keys.iter().any(|k| k == "phc_stack_product")
            && keys.iter().any(|k| k == "phc_stack_install"),
        "each channel with its own key: {keys:?} ({events:?})"
    );

    // The job console sees the worker container alive.
    let worker_host = stack.podman(&[
        "inspect",
        "--format",
        "{{.Config.Hostname}}",
        &stack.container("worker"),
    ]);
    let console = admin.get_text("/admin/jobs").await;
    let workers = &console[console.find("id=\"jobs-workers\"").expect("workers table")..];
    assert!(
        workers.contains(&format!("data-label=\"Host\">{worker_host}<"))
            && workers.contains(">alive<"),
        "the worker container ({worker_host}) alive: {workers}"
    );

    step("backup, upgrade and --scale worker=3");
    // The documented backup, upgrade and scaling commands.
    stack.sh("docker compose exec -T postgres pg_dump -U timetracker timetracker > backup.sql");
    let dump = std::fs::read_to_string(stack.dir.join("backup.sql")).expect("backup.sql");
    assert!(
        dump.contains("CREATE TABLE public.time_entries")
            && dump.contains("stack check")
            && !dump.contains('\r'),
        "a clean dump with the entry"
    );
    // docs/upgrading.md: back up, set the new TIMETRACKER_IMAGE, up -d. The
    // "new" image is the same one under another tag: what is checked is
    // that Compose replaces the containers, migrates again and keeps the data.
    stack.sh(
        "docker compose exec -T postgres pg_dump -U timetracker timetracker > backup-$(date +%F).sql",
    );
    let next = format!("{image}-next");
    stack.podman(&["tag", &image, &next]);
    set_var(&compose_env, "TIMETRACKER_IMAGE", &next);
    stack.sh("docker compose up -d");
    let running = stack.podman(&[
        "inspect",
        "--format",
        "{{.ImageName}}",
        &stack.container("web"),
    ]);
    assert_eq!(running, next, "web runs the new image");
    stack.wait_healthy("web").await;
    let entries: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/time-entries"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET time-entries")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        entries[0]["notes"], "stack check",
        "the entry survived: {entries}"
    );
    stack.sh("docker compose up -d --scale worker=3");
    eventually(
        "three worker containers alive in the job console",
        Duration::from_secs(90),
        || {
            let admin = admin.clone();
            async move {
                let console = admin.get("/admin/jobs").await.text().await.ok()?;
                let workers = &console[console.find("id=\"jobs-workers\"")?..];
                let table = &workers[..workers.find("</table>")?];
                (table.matches(">alive<").count() >= 3).then_some(())
            }
        },
    )
    .await;

    step("the image's own HEALTHCHECK");
    // The image's own HEALTHCHECK (Compose sets its own), in a container of
    // the image as it is, on the stack's network and database.
    let network = stack.podman(&[
        "inspect",
        "--format",
        "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}",
        &stack.container("web"),
    ]);
    let image_container = format!("{}_image", stack.project);
    stack.podman(&[
        "run",
        "-d",
        "--name",
        &image_container,
        "--network",
        &network,
        // Run below by hand: podman schedules health checks with systemd.
        "--health-interval",
        "disable",
        "-e",
        &format!(
            "DATABASE_URL=postgres://timetracker:{POSTGRES_PASSWORD}@postgres:5432/timetracker"
        ),
        &image,
    ]);
    eventually(
        "the image's HEALTHCHECK passes",
        Duration::from_secs(60),
        || {
            let ok = Command::new("podman")
                .args(["healthcheck", "run", &image_container])
                .output()
                .is_ok_and(|o| o.status.success());
            async move { ok.then_some(()) }
        },
    )
    .await;

    step("the analytics overlay: Prometheus");
    // The analytics overlay: the Prometheus of the project's config (Grafana,
    // Loki and Alloy have no image here; docs/monitoring.md).
    stack.sh(&format!(
        "docker compose -f {} -f {} up -d prometheus",
        APP_FILES[0], APP_FILES[1]
    ));
    let prometheus = format!("http://127.0.0.1:{prometheus_port}");
    eventually(
        "Prometheus scrapes web and worker (up == 1)",
        Duration::from_secs(120),
        || both_processes_in(&prometheus, "up == 1"),
    )
    .await;
    let rules: Value = reqwest::get(format!("{prometheus}/api/v1/rules"))
        .await
        .expect("rules")
        .json()
        .await
        .expect("JSON");
    let rules: Vec<&Value> = rules["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert!(rules.len() >= 10, "alert rules loaded: {rules:?}");
    let web_down = rules
        .iter()
        .find(|r| r["name"] == "TimetrackerWebDown")
        .and_then(|r| r["query"].as_str())
        .expect("the web-down rule loaded")
        .to_owned();
    eventually(
        "both processes' pools sampled",
        Duration::from_secs(60),
        || both_processes_in(&prometheus, "timetracker_db_pool_max_connections"),
    )
    .await;
    assert!(
        prometheus_query(&prometheus, &web_down).await.is_empty(),
        "web-down is false while web runs"
    );

    step("web stopped: the web-down alert (absent)");
    // A stopped web container leaves no target behind: the absent() case.
    stack.sh("docker compose stop web");
    let ps = stack.sh("docker compose ps web");
    assert!(
        ps.contains("Exit"),
        "the runbook's `docker compose ps web` shows it: {ps}"
    );
    eventually(
        "the web-down expression true with no web target at all",
        Duration::from_secs(120),
        || {
            let (prometheus, web_down) = (prometheus.clone(), web_down.clone());
            async move {
                let result = prometheus_query(&prometheus, &web_down).await;
                result
                    .iter()
                    .any(|s| s["metric"].get("instance").is_none())
                    .then_some(())
            }
        },
    )
    .await;
}
