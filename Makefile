.PHONY: run test chaos bench migrate fmt screenshots

## Start PostgreSQL (private cluster unless DATABASE_URL is set), migrate, run web and worker.
run:
	@scripts/run.sh

## The whole check: PostgreSQL, fmt, clippy and every test.
test:
	@scripts/test.sh

## Benchmarks against their floors (~25 min); `make bench ARGS=--write-docs` records them.
bench:
	@scripts/bench.sh $(ARGS)

## The long fault-tolerance runs (minutes); results in docs/reliability.md.
chaos:
	@scripts/chaos.sh

## The user guide's screenshots at 1366 px and 390 px, into docs/images/.
screenshots:
	@scripts/screenshots.sh

## Apply database migrations only.
migrate:
	@bash -c '. scripts/db.sh && tt_ensure_postgres && SQLX_OFFLINE=true cargo run --quiet --bin timetracker -- migrate'

fmt:
	cargo fmt --all
