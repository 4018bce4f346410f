//! The real binaries as child processes, for what only a whole process shows
//! (its own Sentry client, its own metrics registry), and a fake Sentry.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::net::TcpListener;

/// `target/<profile>/<name>`, next to this test binary's `deps/` folder.
/// `make test` builds the binaries before running the tests.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --all-targets` first (make test does)",
        path.display()
    );
    path
}

/// A running binary, killed when dropped. Its JSON log lines go to a file.
pub struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `name` with `args` and only the given environment (plus PATH).
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let log = std::env::temp_dir().join(format!("tt-{name}-{}.log", uuid::Uuid::new_v4()));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(binary(name))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start binary");
        Self { child, log }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The first log line with this message, as JSON, waiting up to 30 s.
    pub async fn wait_for_log(&mut self, message: &str) -> serde_json::Value {
        for _ in 0..300 {
            let found = self
                .output()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|l| l["message"] == message);
            if let Some(line) = found {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "process exited ({status}) before logging {message:?}:\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {message:?} log line within 30 s:\n{}", self.output());
    }

    /// Kills the process outright (SIGKILL): no shutdown, no flushing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it, so it can flush.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A real HTTP server on 127.0.0.1 that takes Sentry envelopes
/// (`POST /api/<project>/envelope/`) and keeps every one.
#[derive(Clone)]
pub struct FakeSentry {
    /// A DSN pointing here.
    pub dsn: String,
    envelopes: Arc<Mutex<Vec<String>>>,
}

impl FakeSentry {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Sentry");
        let addr = listener.local_addr().expect("addr");
        let envelopes = Arc::new(Mutex::new(Vec::new()));
        let kept = envelopes.clone();
        let app = axum::Router::new().route(
            "/api/{project}/envelope/",
            axum::routing::post(move |body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock()
                        .expect("envelopes")
                        .push(String::from_utf8_lossy(&body).into_owned());
                    axum::Json(serde_json::json!({ "id": null }))
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            dsn: format!("http://publickey@{addr}/42"),
            envelopes,
        }
    }

    /// Every envelope received, as text.
    pub fn envelopes(&self) -> Vec<String> {
        self.envelopes.lock().expect("envelopes").clone()
    }

    /// The error events received: envelope items of type `event`.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.items("event")
    }

    /// The performance traces received: envelope items of type `transaction`.
    pub fn transactions(&self) -> Vec<serde_json::Value> {
        self.items("transaction")
    }

    fn items(&self, kind: &str) -> Vec<serde_json::Value> {
        let mut items = Vec::new();
        for envelope in self.envelopes() {
            let mut lines = envelope.lines().skip(1);
            while let Some(header) = lines.next() {
                let Ok(header) = serde_json::from_str::<serde_json::Value>(header) else {
                    continue;
                };
                let Some(payload) = lines.next() else { break };
                if header["type"] == kind {
                    items.push(serde_json::from_str(payload).expect("item JSON"));
                }
            }
        }
        items
    }

    /// Waits up to 15 s for `n` events, then a moment more to catch extras.
    pub async fn wait_for_events(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..150 {
            if self.events().len() >= n {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                return self.events();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.events()
    }
}
