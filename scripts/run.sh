#!/usr/bin/env bash
# `make run`: PostgreSQL (private cluster unless DATABASE_URL is set), migrations,
# then the web server and the worker, kept running: a process that exits is
# started again after a short, growing back-off while the other keeps serving.
# Ctrl-C (or SIGTERM) stops both, and the private PostgreSQL if this run
# started it.
#
# TT_RUN_BIN=DIR runs the binaries already built in DIR and builds nothing
# (the test of this script uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres

if [ -n "${TT_RUN_BIN:-}" ]; then
    bin="$TT_RUN_BIN"
else
    # Build offline: with DATABASE_URL set, sqlx would otherwise check
    # apalis's compile-time queries against this database. Cargo shows its
    # progress.
    echo "==> building (release). The first build compiles every dependency and"
    echo "    takes several minutes on a small machine; later ones take seconds."
    SQLX_OFFLINE=true cargo build --release --workspace --bins
    bin=target/release
fi

echo "==> migrating"
"$bin/timetracker" migrate >/dev/null

declare -A pid started_at delay
names=(web worker)
launch() {
    local name=$1
    case "$name" in
        web) "$bin/timetracker" serve & ;;
        worker) "$bin/timetracker-worker" & ;;
    esac
    pid[$name]=$!
    started_at[$name]=$SECONDS
    echo "==> $name started (pid ${pid[$name]})"
}

# The trap ends the script (`exit`), so the loop below never runs on after it.
stop() {
    trap - INT TERM
    echo
    echo "==> stopping"
    for name in "${names[@]}"; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
    for name in "${names[@]}"; do wait "${pid[$name]}" 2>/dev/null || true; done
    tt_stop_postgres
    exit 0
}
trap stop INT TERM

for name in "${names[@]}"; do
    delay[$name]=1
    launch "$name"
done

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

# Supervise: whichever process exits is started again; the other keeps serving.
# A poll once a second, not `wait -n`: bash reports a background job that ended
# while the script was running something else (the setup-url call above, the
# curl loop, a restart's sleep) and then drops it from its job table, so
# `wait -n` never returns it and the process would stay dead. `wait PID` still
# gives the saved exit status of such a job.
while true; do
    for name in "${names[@]}"; do
        kill -0 "${pid[$name]}" 2>/dev/null && continue
        status=0
        wait "${pid[$name]}" 2>/dev/null || status=$?
        # A process that ran for a minute starts over with a short back-off;
        # one that keeps failing waits longer each time, up to 30 s.
        if [ $((SECONDS - started_at[$name])) -ge 60 ]; then delay[$name]=1; fi
        echo "==> $name exited (status $status); restarting it in ${delay[$name]} s"
        sleep "${delay[$name]}" & wait $! || true
        delay[$name]=$((delay[$name] * 2 > 30 ? 30 : delay[$name] * 2))
        launch "$name"
    done
    sleep 1 & wait $! || true
done
