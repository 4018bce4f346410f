#!/usr/bin/env bash
# Sourced by test.sh and screenshots.sh: test tools from package registries,
# pinned, under .data/tools.

# axe-core (npm): the browser tests run it on every page.
tt_ensure_axe() {
    local dir=.data/tools/node
    if ! [ -f "$dir/node_modules/axe-core/axe.min.js" ] \
        || ! grep -q '"version": "4.14.1"' "$dir/node_modules/axe-core/package.json"; then
        echo "==> installing axe-core (npm)"
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" axe-core@4.14.1 >/dev/null
    fi
}
