#!/usr/bin/env bash
# Sourced by test.sh and screenshots.sh: test tools from package registries,
# pinned, under .data/tools.

# npm packages of the tests, pinned, under .data/tools/node: axe-core (the
# browser tests run it on every page) and oidc-provider (the OpenID-certified
# provider the single sign-on tests sign in at, tests/oidc_provider.mjs).
tt_ensure_node_tools() {
    local dir=.data/tools/node
    if ! [ -f "$dir/node_modules/axe-core/axe.min.js" ] \
        || ! grep -q '"version": "4.14.1"' "$dir/node_modules/axe-core/package.json" \
        || ! grep -q '"version": "9.13.3"' "$dir/node_modules/oidc-provider/package.json" 2>/dev/null; then
        echo "==> installing axe-core and oidc-provider (npm)"
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" axe-core@4.14.1 oidc-provider@9.13.3 >/dev/null
    fi
}

# The Debian mirror this machine's apt is configured with (its main archive,
# not the security one), so that no script names a mirror host and a local
# mirror keeps working. Needs apt's lists (apt-get update) to be there.
tt_debian_mirror() {
    apt-cache policy 2>/dev/null | awk '
        $1 ~ /^[0-9]+$/ && $2 ~ /^[a-z]+:\/\// { url = $2; next }
        /release / && /o=Debian,/ && /l=Debian,/ && /n=[a-z]+,/ { print url; exit }'
}

# PgBouncer from Debian 13's source package (1.24), built here: the pooler tests
# need transaction pooling with prepared statements, which PgBouncer keeps
# across server connections from 1.21 (`max_prepared_statements`). Debian
# 12 ships 1.18, which cannot carry sqlx's named statements. apt fetches and
# verifies the source from the machine's configured Debian mirror; the build
# goes to .data/tools/pgbouncer. Sets TT_PGBOUNCER to the binary. PgBouncer
# will not run as root, so as root the tests run it as the `postgres` system
# user, made here when missing (a CI job with DATABASE_URL set never runs
# db.sh's cluster set-up, which otherwise makes it).
tt_ensure_pgbouncer() {
    local dir=$PWD/.data/tools/pgbouncer
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    if ! [ -x "$dir/bin/pgbouncer" ]; then
        echo "==> building PgBouncer (Debian trixie's source package)"
        local deps=() p
        for p in gcc make pkg-config libevent-dev libssl-dev; do
            dpkg -s "$p" >/dev/null 2>&1 || deps+=("$p")
        done
        if [ "${#deps[@]}" -gt 0 ]; then
            if [ "$(id -u)" != 0 ]; then
                echo "missing Debian packages to build PgBouncer: ${deps[*]}" >&2
                return 1
            fi
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${deps[@]}" >/dev/null
        fi
        local work mirror
        mirror=$(tt_debian_mirror)
        [ -n "$mirror" ] || { apt-get update -qq && mirror=$(tt_debian_mirror); }
        [ -n "$mirror" ] || { echo "no Debian mirror in apt's sources" >&2; return 1; }
        work=$(mktemp -d)
        mkdir -p "$work/lists/partial"
        echo "deb-src $mirror trixie main" >"$work/sources.list"
        local apt=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
            -o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User=root)
        apt-get "${apt[@]}" update -qq
        (cd "$work" && apt-get "${apt[@]}" source --download-only -qq pgbouncer >/dev/null)
        mkdir "$work/src"
        tar -xzf "$work"/pgbouncer_*.orig.tar.gz -C "$work/src" --strip-components=1
        (cd "$work/src" \
            && ./configure --quiet --prefix="$dir" --without-cares --without-systemd >/dev/null \
            && make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null)
        rm -rf "$work"
    fi
    export TT_PGBOUNCER=$dir/bin/pgbouncer
}
