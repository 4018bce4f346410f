#!/usr/bin/env bash
# `make bench`: release build, private PostgreSQL as for `make run`, Debian's
# wrk, then scripts/bench.py (seeding, scenarios, table of medians). Pass
# --write-docs to record the figures in docs/performance.md. Takes about 25 minutes.
# BENCH_BASELINE=<commit> also measures S2, S3, S4 and S5 on that commit's release
# build (a worktree in .data/bench-baseline) in the same run, on the same data.
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
args=("$@")
if [ -n "${BENCH_BASELINE:-}" ]; then
    tree=.data/bench-baseline
    if [ -d "$tree" ]; then
        git -C "$tree" checkout -q --detach "$BENCH_BASELINE"
    else
        git worktree add -q --detach "$tree" "$BENCH_BASELINE"
        # Registry crates build to the same artefacts: start from ours, so
        # only this project's crates compile again.
        mkdir -p "$tree/target" && cp -a target/release "$tree/target/"
    fi
    echo "==> building the baseline $(git -C "$tree" rev-parse --short HEAD) (release)"
    (cd "$tree" && cargo build --release --workspace --bins --quiet)
    args+=(--baseline "$tree")
fi
exec python3 scripts/bench.py "${args[@]}"
