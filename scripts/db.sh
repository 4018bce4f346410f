#!/usr/bin/env bash
# Sourced by run.sh and test.sh: makes sure PostgreSQL is reachable and exports
# DATABASE_URL. When DATABASE_URL is already set it is used as it is; otherwise a
# private cluster is created and started under .data/postgres (listening on
# 127.0.0.1:${TT_PG_PORT:-54329} only).

tt_find_pg_bin() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

tt_ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then
        echo "==> using DATABASE_URL from the environment"
        return 0
    fi
    local root pgbin data port sockdir
    root="$(pwd)"
    data="$root/.data/postgres"
    sockdir="$root/.data/run"
    port="${TT_PG_PORT:-54329}"

    if ! pgbin="$(tt_find_pg_bin)"; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> PostgreSQL server binaries not found; installing the postgresql package"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
            pgbin="$(tt_find_pg_bin)" || { echo "PostgreSQL installed but pg_ctl not found" >&2; return 1; }
        else
            echo "PostgreSQL server binaries (initdb, pg_ctl) are missing." >&2
            echo "Install them (Debian/Ubuntu: sudo apt-get install postgresql) or set DATABASE_URL." >&2
            return 1
        fi
    fi

    # initdb and postgres refuse to run as root: run them as the postgres user.
    local as=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        as=(runuser -u postgres --)
    fi
    mkdir -p "$data" "$sockdir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$root/.data" "$data" "$sockdir"
        chmod 700 "$data"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        echo "==> creating a private PostgreSQL cluster in .data/postgres"
        "${as[@]}" "$pgbin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! "${as[@]}" "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        echo "==> starting PostgreSQL on 127.0.0.1:$port"
        "${as[@]}" "$pgbin/pg_ctl" -D "$data" -l "$root/.data/postgres.log" -w -t 60 \
            -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
        # This shell started it, so tt_stop_postgres may stop it again.
        TT_PG_STARTED=1
    fi
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/timetracker"
    if ! "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'timetracker'" | grep -q 1; then
        "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE timetracker" >/dev/null
    fi
    echo "==> PostgreSQL ready: $DATABASE_URL"
}

# Stops the private cluster if tt_ensure_postgres started it in this shell
# (a cluster that was already running, or DATABASE_URL's server, is left alone).
tt_stop_postgres() {
    [ "${TT_PG_STARTED:-}" = 1 ] || return 0
    local pgbin as=()
    pgbin="$(tt_find_pg_bin)" || return 0
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    echo "==> stopping PostgreSQL"
    "${as[@]}" "$pgbin/pg_ctl" -D "$(pwd)/.data/postgres" -m fast -w stop >/dev/null || true
    TT_PG_STARTED=
}
