#!/usr/bin/env bash
# `make test`: PostgreSQL as for `make run`, the tools the tests need, then
# formatting, lints and the whole test suite. Fails on the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres

if ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing promtool (Debian package prometheus)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    else
        echo "promtool is missing: install the prometheus package" >&2
        exit 1
    fi
fi

# The end-to-end test drives Debian's Chromium through ChromeDriver.
if ! command -v chromedriver >/dev/null 2>&1 || ! [ -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing chromium and chromium-driver"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "chromium and chromedriver are missing: install the chromium and chromium-driver packages" >&2
        exit 1
    fi
fi

export SQLX_OFFLINE=true
echo "==> promtool: Prometheus config, alert rules and their unit tests"
promtool check config prometheus/prometheus.yml
promtool check rules prometheus/alerts.yml
promtool test rules prometheus/alerts.test.yml

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo build (the tests start the real binaries too)"
cargo build --workspace --bins --quiet
echo "==> cargo test"
cargo test --workspace
