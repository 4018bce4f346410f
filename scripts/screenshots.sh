#!/usr/bin/env bash
# `make screenshots`: the user guide's screenshots (docs/images/*-desktop.png
# at 1366 px and *-phone.png at 390 px), taken by the browser test in headless
# Chromium from a fresh database with sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/db.sh
. scripts/db.sh
tt_ensure_postgres
# shellcheck source=scripts/tools.sh
. scripts/tools.sh
tt_ensure_node_tools
export SQLX_OFFLINE=true
cargo build --workspace --all-targets --quiet
TT_SCREENSHOTS="$(pwd)/docs/images" cargo test --quiet -p timetracker-tests --test integration \
    -- browser::every_page_fits_a_laptop_and_a_phone --exact
ls docs/images/*-desktop.png docs/images/*-phone.png
