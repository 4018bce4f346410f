//! `timetracker`: the web server, plus the `migrate`, `setup-url`,
//! `healthcheck` (for container health checks) and `events-doc` (prints
//! `docs/events.md`) commands.

use std::process::ExitCode;

use timetracker::{config::Config, db, observability, runtime, startup};

/// mimalloc rather than glibc's malloc: allocation was 14 % of the web's CPU
/// per request under load (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: timetracker [serve | migrate | setup-url | healthcheck [HOST:PORT] | events-doc | version]";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if command == "events-doc" {
        print!("{}", timetracker::analytics::events::catalogue_markdown());
        return ExitCode::SUCCESS;
    }
    if command == "healthcheck" {
        let addr = std::env::args()
            .nth(2)
            .unwrap_or_else(|| "127.0.0.1:9464".into());
        return match runtime::probe_ready(&addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("not ready: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if command == "version" || command == "--version" {
        print!("{}", timetracker::build_info::describe());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if !matches!(command.as_str(), "serve" | "migrate" | "setup-url") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    // Logs and Sentry start before the runtime, so that its threads see them.
    let _telemetry = if command == "setup-url" {
        None
    } else {
        match observability::init(&config, "web") {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("logging error: {e:#}");
                return ExitCode::from(2);
            }
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command.as_str() {
            "serve" => serve(config).await,
            "migrate" => migrate(config).await,
            _ => setup_url(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "timetracker stopped with an error"
            );
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = startup::Application::build(config).await?;
    tracing::info!(
        port = app.port(),
        metrics_port = app.metrics_port(),
        "web server listening"
    );
    app.run_until(runtime::shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config, db::Ping::WhenIdle)?;
    db::migrator().run(&pool).await?;
    tracing::info!("database migrations applied");
    Ok(())
}

async fn setup_url(config: Config) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config, db::Ping::WhenIdle)?;
    runtime::load_keys(&config, &pool).await?;
    let fixed = config
        .auth
        .setup_token
        .as_ref()
        .map(|t| t.expose().as_str());
    match startup::setup_url(fixed, &config, &pool).await? {
        Some(url) => println!("{url}"),
        None => println!(
            "Setup is complete. Sign in at {}/login",
            config.web.public_url
        ),
    }
    Ok(())
}
