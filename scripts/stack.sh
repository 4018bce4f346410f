#!/usr/bin/env bash
# The install path, run (part of `make test`): the image built from our
# Dockerfile with this checkout's release binaries and checked from outside,
# then docker-compose.yml and the analytics overlay brought up with local
# images only and used as an operator would (tests/integration/compose.rs).
#
# Containers run with Debian's podman (docker-compose talks to its Docker
# API socket); scripts/containers.sh has the set-up. Where containers cannot
# run at all (GitHub's container jobs have no privileges for namespaces), this
# says so loudly and skips; everywhere else it must pass. Everything it
# starts is removed again, pass or fail: containers, networks, volumes, the
# image it tagged, the podman API service.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers.sh
. scripts/containers.sh

skip() {
    echo
    echo "!!! ============================================================="
    echo "!!! SKIPPED: the image and Compose stack checks. $1"
    echo "!!! They run wherever podman can start containers (make test on a"
    echo "!!! machine of this project's kind does; see docs/ci-cd.md)."
    echo "!!! ============================================================="
    echo
    exit 0
}

if [ "$(id -u)" != 0 ]; then
    skip "Containers need root here (rootful podman)."
fi
if ! unshare --mount --pid --net --fork true 2>/dev/null; then
    skip "This machine cannot make namespaces (no privileges, as in a container job)."
fi
tt_ensure_container_tools
started=$SECONDS
tt_ensure_debian_image
tt_ensure_standin docker.io/library/postgres:17.5-bookworm postgres
tt_ensure_standin docker.io/prom/prometheus:v3.5.0 prometheus

# The release binaries, built as the Dockerfile's builder stage builds them:
# version and commit given, the telemetry host passed empty (as a build
# without the variable passes it), no telemetry key.
crate=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
version="${crate}-stack+${commit}"
echo "==> cargo build --release (the image's binaries, version $version)"
TIMETRACKER_VERSION=$version TIMETRACKER_COMMIT=$commit TIMETRACKER_TELEMETRY_HOST="" \
    SQLX_OFFLINE=true cargo build --release --workspace --bins --quiet

image=localhost/timetracker:stack-$$
work=$(mktemp -d)
api_pid=
health_pid=
cleanup() {
    local rc=$?
    [ -n "$health_pid" ] && kill "$health_pid" 2>/dev/null
    # The test tears its stack down itself; this catches a test killed midway.
    podman ps -aq --filter "label=com.docker.compose.project=ttstack$$" | xargs -r podman rm -f >/dev/null 2>&1
    podman ps -aq --filter "name=ttstack$$" | xargs -r podman rm -f >/dev/null 2>&1
    podman volume ls -q --filter "label=com.docker.compose.project=ttstack$$" | xargs -r podman volume rm -f >/dev/null 2>&1
    podman network ls -q --filter "label=com.docker.compose.project=ttstack$$" | xargs -r podman network rm -f >/dev/null 2>&1
    podman rmi -f "$image" >/dev/null 2>&1
    podman rmi -f "$image-next" >/dev/null 2>&1
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

echo "==> buildah: the image's runtime stage from those binaries"
mkdir -p "$work/builder/src/target/release"
cp target/release/timetracker target/release/timetracker-worker "$work/builder/src/target/release/"
buildah bud --quiet --pull=never --format docker --isolation chroot \
    --build-context "builder=$work/builder" \
    --build-arg "TIMETRACKER_VERSION=$version" --build-arg "TIMETRACKER_COMMIT=$commit" \
    -t "$image" . >/dev/null

echo "==> the image, checked from outside"
ids=$(podman run --rm --no-healthcheck "$image" sh -c 'echo "$(id -u):$(id -g) $(id -un):$(id -gn)"')
[ "$ids" = "10001:10001 timetracker:timetracker" ] \
    || { echo "runs as $ids, not 10001:10001 timetracker:timetracker (a user and a group with names)" >&2; exit 1; }
echo "    runs as $ids"
printed=$(podman run --rm --no-healthcheck "$image" timetracker version)
grep -qF "timetracker $version ($commit)" <<<"$printed" \
    || { echo "timetracker version printed: $printed" >&2; exit 1; }
default_host=$(sed -n 's/^pub const DEFAULT_TELEMETRY_HOST: &str = "\(.*\)";/\1/p' src/build_info.rs)
grep -qF "install telemetry: host $default_host, key none" <<<"$printed" \
    || { echo "an empty telemetry host must compile in the default $default_host; printed: $printed" >&2; exit 1; }
echo "    $(head -n 1 <<<"$printed"); telemetry host $default_host"
healthcheck=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$image")
grep -q '"timetracker","healthcheck"' <<<"$healthcheck" \
    || { echo "the image has no HEALTHCHECK (built without --format docker?): $healthcheck" >&2; exit 1; }

# docker-compose drives podman through its Docker API.
# Its log (podman's complaints that there is no systemd to schedule health
# checks with, among others) goes to a file, shown if the test fails.
podman system service --time=0 "unix://$work/podman.sock" 2>"$TT_CT/podman-service.log" &
api_pid=$!
export DOCKER_HOST=unix://$work/podman.sock
for _ in $(seq 50); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
# podman runs health checks through systemd timers, absent here: run them.
# (A container without a health check just answers with an error.)
(set +e; while sleep 2; do
    podman ps -q --filter "name=ttstack$$" | xargs -r -n 1 podman healthcheck run >/dev/null 2>&1
done) &
health_pid=$!

echo "==> the Compose stack, as an operator runs it (tests/integration/compose.rs)"
TT_STACK_IMAGE=$image TT_STACK_PROJECT=ttstack$$ SQLX_OFFLINE=true \
    cargo test --quiet -p timetracker-tests --test integration compose:: -- --ignored --nocapture
echo "==> image and Compose stack checks passed in $((SECONDS - started)) s"
echo "    not started (no registry here serves them): Grafana, Loki, Alloy, Promtail;"
echo "    Grafana's dashboards are checked by tests/integration/stack.rs instead, and"
echo "    docs/monitoring.md says what is not checked"
