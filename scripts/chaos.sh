#!/usr/bin/env bash
# `make chaos`: the long fault-tolerance runs (minutes, not seconds), with the
# same PostgreSQL and binaries as `make test`. Results: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres
export SQLX_OFFLINE=true
cargo build --workspace --all-targets --quiet
cargo test --workspace --test integration -- --ignored --nocapture chaos_
