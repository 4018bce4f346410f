#!/usr/bin/env bash
# Runs the CI workflow's job (.github/workflows/ci.yml, job `test`) here, as
# GitHub runs it: a fresh checkout of HEAD in a container of the job's image
# (a stand-in for rust:<pinned>-bookworm made from this machine's toolchain),
# with the workflow's environment, and PostgreSQL as a service container on a
# private network reachable as `postgres`. Then the workflow's steps: the
# toolchain step and `make test`. A second full build (tens of minutes on two
# cores), so not part of `make test`; docs/ci-cd.md records its last run.
#
# Like a GitHub container job, the job container has Docker's default
# privileges: make test's image and Compose checks must say they are skipped
# there, and that is part of what this proves.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers.sh
. scripts/containers.sh
tt_ensure_container_tools
tt_ensure_debian_image
tt_ensure_standin docker.io/library/postgres:17.5-bookworm postgres
tt_ensure_rust_image

job_image=$(sed -n 's/^ *image: \(rust:.*\)$/\1/p' .github/workflows/ci.yml | head -n 1)
service_image=$(sed -n 's/^ *image: \(postgres:.*\)$/\1/p' .github/workflows/ci.yml | head -n 1)
database_url=$(sed -n 's/^ *DATABASE_URL: \(.*\)$/\1/p' .github/workflows/ci.yml | head -n 1)
if [ -z "$job_image" ] || [ -z "$service_image" ] || [ -z "$database_url" ]; then
    echo "ci.yml's job image, service image or DATABASE_URL not found" >&2
    exit 1
fi

name=ttci$$
work=$(mktemp -d)
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local rc=$?
    podman rm -f "$name-job" "$name-postgres" >/dev/null 2>&1
    podman network rm -f "$name" >/dev/null 2>&1
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# actions/checkout: the commit, nothing else of this working tree.
git clone --quiet --no-local . "$work/checkout"
echo "==> CI job at $(git -C "$work/checkout" rev-parse --short HEAD) in $job_image, with $service_image as postgres"

podman network create "$name" >/dev/null
podman run -d --name "$name-postgres" --network "$name" --network-alias postgres \
    -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=timetracker "$service_image" >/dev/null
for _ in $(seq 60); do
    podman exec "$name-postgres" pg_isready -U postgres >/dev/null 2>&1 && break
    sleep 1
done

# Python's and Node's clients carry CA lists of their own: point them at the
# system's, which in the job image includes the machine's extra CAs (GitHub's
# runners need none of this).
ca_env=()
for var in PIP_CERT REQUESTS_CA_BUNDLE NODE_EXTRA_CA_CERTS; do
    ca_env+=(-e "$var=/etc/ssl/certs/ca-certificates.crt")
done

started=$SECONDS
set +e
podman run --rm --name "$name-job" --network "$name" \
    -v "$work/checkout:/__w/timetracker/timetracker" -w /__w/timetracker/timetracker \
    "${ca_env[@]}" \
    -e CI=true -e GITHUB_ACTIONS=true -e "DATABASE_URL=$database_url" -e CARGO_TERM_COLOR=always \
    "$job_image" \
    bash -euo pipefail -c 'rustup show active-toolchain || rustup toolchain install; make test'
rc=$?
set -e
echo "==> CI job finished in $((SECONDS - started)) s with exit code $rc"
exit "$rc"
