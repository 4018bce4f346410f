#!/usr/bin/env bash
# `make run`: PostgreSQL (private cluster unless DATABASE_URL is set), migrations,
# then the web server and the worker. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres

# Build offline: with DATABASE_URL set, sqlx would otherwise check apalis's
# compile-time queries against this database.
export SQLX_OFFLINE=true
echo "==> building (release)"
cargo build --release --workspace --bins --quiet
bin=target/release

echo "==> migrating"
"$bin/timetracker" migrate >/dev/null

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "==> stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/timetracker" serve &
pids+=("$!")
"$bin/timetracker-worker" &
pids+=("$!")

public_url="${PUBLIC_URL:-http://127.0.0.1:8080}"
metrics_addr="${WEB_METRICS_ADDR:-127.0.0.1:9464}"
for _ in $(seq 1 100); do
    if curl -fsS "http://$metrics_addr/health/ready" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
echo
echo "TimeTracker is running at $public_url"
setup="$("$bin/timetracker" setup-url)"
case "$setup" in
    *"/setup?token="*) echo "First-run setup (one-time link): $setup" ;;
    *) echo "$setup" ;;
esac
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}"
