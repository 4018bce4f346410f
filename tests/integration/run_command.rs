//! `make run` (scripts/run.sh) keeps the app up: a process that dies is
//! started again while the other keeps serving, and Ctrl-C stops everything.
//! The script runs the binaries `make test` built (`TT_RUN_BIN`).

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::eventually;
use crate::{process::binary, support::TestDb};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn kill(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The pids the script reported for `name`, in order.
fn started(output: &str, name: &str) -> Vec<u32> {
    let marker = format!("==> {name} started (pid ");
    output
        .lines()
        .filter_map(|l| l.strip_prefix(&marker))
        .filter_map(|rest| rest.trim_end_matches(')').parse().ok())
        .collect()
}

async fn wait_until(what: &str, log: &std::path::Path, done: impl Fn(&str) -> bool) -> String {
    eventually(what, Duration::from_secs(60), || async {
        let output = std::fs::read_to_string(log).unwrap_or_default();
        if done(&output) {
            Ok(output)
        } else {
            Err(output)
        }
    })
    .await
}

/// The script under test; a failed assertion must not leave it (and the web
/// and worker it supervises) running, so dropping it sends the SIGTERM its
/// trap stops everything on.
struct Script(std::process::Child);

impl Drop for Script {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            kill("-TERM", self.0.id());
            let _ = self.0.wait();
        }
    }
}

#[tokio::test]
async fn make_run_restarts_a_dead_process_and_ctrl_c_stops_everything() {
    // This test's plain `reqwest::get` needs the TLS set-up the other tests'
    // clients install; without it the test fails when run on its own.
    timetracker::outbound::install_tls_provider();
    let db = TestDb::new().await;
    let bin_dir = binary("timetracker")
        .parent()
        .expect("target dir")
        .to_path_buf();
    let (http, web_metrics, worker_metrics) = (free_port(), free_port(), free_port());
    let log = std::env::temp_dir().join(format!("tt-run-{}.log", uuid::Uuid::new_v4()));
    let out = std::fs::File::create(&log).expect("log file");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Through `env --default-signal=INT`: a shell cannot trap a signal that
    // was ignored when it started, and a test run started in the background
    // (`make test &`, nohup) hands every child SIGINT ignored; a terminal's
    // Ctrl-C never is.
    let mut script = Script(
        Command::new("env")
            .args(["--default-signal=INT", "bash"])
            .arg(root.join("scripts/run.sh"))
            .env("TT_RUN_BIN", &bin_dir)
            .env("DATABASE_URL", &db.url)
            .env("HTTP_ADDR", format!("127.0.0.1:{http}"))
            .env("PUBLIC_URL", format!("http://127.0.0.1:{http}"))
            .env("WEB_METRICS_ADDR", format!("127.0.0.1:{web_metrics}"))
            .env("WORKER_METRICS_ADDR", format!("127.0.0.1:{worker_metrics}"))
            .env("LOG_FILE", "")
            .env("LOG_LEVEL", "warn")
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("run.sh starts"),
    );

    // The worker dies while the script is still starting up (waiting for the
    // web to be ready, asking for the setup link): it is started again once
    // the script supervises, and the web never stopped.
    let output = wait_until("the worker starts", &log, |o| {
        !started(o, "worker").is_empty()
    })
    .await;
    kill("-KILL", started(&output, "worker")[0]);
    let output = wait_until("the app runs", &log, |o| {
        o.contains("TimeTracker is running at")
    })
    .await;
    let web = started(&output, "web")[0];
    let live = format!("http://127.0.0.1:{http}/health/live");
    assert!(
        reqwest::get(&live)
            .await
            .is_ok_and(|r| r.status().is_success())
    );
    let output = wait_until("the worker restarted", &log, |o| {
        started(o, "worker").len() == 2
    })
    .await;
    assert!(
        output.contains("==> worker exited (status 137); restarting it in 1 s"),
        "{output}"
    );
    assert_eq!(started(&output, "web"), [web], "the web kept running");
    assert!(
        reqwest::get(&live)
            .await
            .is_ok_and(|r| r.status().is_success())
    );
    let worker = started(&output, "worker")[1];
    let worker_live = format!("http://127.0.0.1:{worker_metrics}/health/live");
    eventually(
        "the new worker answers",
        Duration::from_secs(30),
        || async {
            reqwest::get(&worker_live)
                .await
                .is_ok_and(|r| r.status().is_success())
                .then_some(())
        },
    )
    .await;

    // The web dies too: the same.
    kill("-KILL", web);
    let output = wait_until("the web restarted", &log, |o| started(o, "web").len() == 2).await;
    let web = started(&output, "web")[1];

    // Ctrl-C: both processes stop and the script exits cleanly.
    kill("-INT", script.0.id());
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = script.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "run.sh did not stop:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{status}:\n{output}");
    assert!(output.contains("==> stopping"), "{output}");
    assert!(!alive(web) && !alive(worker), "both stopped:\n{output}");
    let _ = std::fs::remove_file(&log);
}
