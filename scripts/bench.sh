#!/usr/bin/env bash
# `make bench`: release build, private PostgreSQL as for `make run`, Debian's
# wrk, then scripts/bench.py (seeding, scenarios, table of medians). Pass
# --write-docs to record the figures in docs/performance.md. Takes ~15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing wrk"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is missing: install the wrk package" >&2
        exit 1
    fi
fi
export SQLX_OFFLINE=true
echo "==> building (release)"
cargo build --release --workspace --bins --quiet
exec python3 scripts/bench.py "$@"
