//! The shared PostgreSQL server: a fresh, migrated database per test, its
//! credentials, and a proxy a test can take down to simulate an outage.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use sqlx::{Connection, PgConnection, PgPool};
use timetracker::db;
use tokio::net::TcpListener;

/// The base `DATABASE_URL` from the environment (set by `make test`).
fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server (make test sets it)")
}

/// The `user[:password]` part of the base `DATABASE_URL`, if any.
fn database_credentials() -> Option<String> {
    let url = base_url();
    let tail = url.split_once("://").map(|(_, t)| t).unwrap_or(&url);
    tail.split_once('@').map(|(creds, _)| creds.to_owned())
}

/// The user of the base `DATABASE_URL` (`postgres` when it names none).
pub fn database_user() -> String {
    database_credentials()
        .map(|creds| creds.split(':').next().unwrap_or_default().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres".into())
}

/// The password of the base `DATABASE_URL` (empty when it names none, as
/// with `make test`'s private cluster; CI's service container has one).
pub fn database_password() -> String {
    database_credentials()
        .and_then(|creds| creds.split_once(':').map(|(_, p)| p.to_owned()))
        .unwrap_or_default()
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, tail) = url.split_once("://").expect("a URL");
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}://{authority}/{name}{query}")
}

/// A freshly created and migrated database, dropped when this value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A copy of the migrated template (see [`template`]): the same schema
    /// as running every migration, in a fraction of the time.
    pub async fn new() -> Self {
        // Every test starts here; its plain `reqwest::get` calls need the
        // TLS provider the binaries install at start (without it a test
        // passed only when an earlier test in the process had installed it).
        timetracker::outbound::install_tls_provider();
        let template = template();
        let name = format!("tt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_connection().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE {template}"
        )))
        .execute(&mut conn)
        .await
        .expect("create test database");
        let url = with_database(&base_url(), &name);
        Self { name, url }
    }
}

async fn admin_connection() -> PgConnection {
    PgConnection::connect(&with_database(&base_url(), "postgres"))
        .await
        .expect("connect to the postgres database")
}

/// The migrated database every test database is copied from, made once per
/// test process and named after the migrations it holds, so a changed or
/// added migration makes a new one (and the old ones are dropped). It is
/// built under a temporary name and renamed when complete, so a second test
/// process never copies a half-migrated template.
fn template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        // Each test has its own runtime; the template outlives them all.
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(make_template())
        })
        .join()
        .expect("template thread")
    })
}

async fn make_template() -> String {
    let migrator = db::migrator();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in migrator.iter() {
        for byte in m.version.to_le_bytes().iter().chain(m.checksum.iter()) {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let name = format!("tt_template_{hash:016x}");
    let mut conn = admin_connection().await;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("look for the template");
    if exists {
        return name;
    }
    let building = format!("tt_building_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
        .execute(&mut conn)
        .await
        .expect("create the template");
    let pool = PgPool::connect(&with_database(&base_url(), &building))
        .await
        .expect("connect to the template");
    migrator.run(&pool).await.expect("migrate the template");
    pool.close().await;
    let renamed = sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {building} RENAME TO {name}"
    )))
    .execute(&mut conn)
    .await;
    if renamed.is_err() {
        // Another test process finished the same template first.
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building}"
        )))
        .execute(&mut conn)
        .await;
    }
    // Templates of other migrations, and builds a killed run left behind,
    // are no use any more (one still being copied from stays: DROP fails).
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database
         WHERE (datname LIKE 'tt\\_template\\_%' AND datname <> $1)
            OR (datname LIKE 'tt\\_building\\_%' AND datname <> $2)",
    )
    .bind(&name)
    .bind(&building)
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    for old in stale {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {old}"
        )))
        .execute(&mut conn)
        .await;
    }
    name
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = with_database(&base_url(), "postgres");
        let name = self.name.clone();
        // Async drop does not exist; a short-lived runtime on another thread does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A TCP proxy to PostgreSQL that a test can take down and bring back, to
/// simulate a database outage without touching the shared server.
pub struct DbProxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl DbProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let (tx, _) = tokio::sync::watch::channel(0u64);
        let generation = Arc::new(tx);
        let (down2, generation2) = (down.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if down2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = generation2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            down,
            generation,
        }
    }

    /// Closes every proxied connection and refuses new ones.
    pub fn take_down(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn bring_up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Host and port of the PostgreSQL server behind `DATABASE_URL`.
pub async fn database_socket() -> SocketAddr {
    let url = base_url();
    let tail = url.split_once("://").map(|(_, t)| t).unwrap_or(&url);
    let authority = tail.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(host_port)
        .await
        .expect("resolve database host")
        .next()
        .expect("an address")
}

/// `url` pointing at 127.0.0.1:`port` instead of its own host.
pub fn via_port(url: &str, port: u16) -> String {
    let (scheme, tail) = url.split_once("://").expect("a URL");
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let creds = authority
        .rsplit_once('@')
        .map(|(c, _)| format!("{c}@"))
        .unwrap_or_default();
    format!("{scheme}://{creds}127.0.0.1:{port}/{rest}")
}
