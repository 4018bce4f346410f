.PHONY: run test migrate fmt

## Start PostgreSQL (private cluster unless DATABASE_URL is set), migrate, run web and worker.
run:
	@scripts/run.sh

## The whole check: PostgreSQL, fmt, clippy and every test.
test:
	@scripts/test.sh

## Apply database migrations only.
migrate:
	@bash -c '. scripts/db.sh && tt_ensure_postgres && SQLX_OFFLINE=true cargo run --quiet --bin timetracker -- migrate'

fmt:
	cargo fmt --all
