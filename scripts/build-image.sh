#!/usr/bin/env bash
# The whole Dockerfile built without a Docker engine: all four stages, the
# Rust build inside the container, with buildah against stand-ins for the
# base images (scripts/containers.sh). Tags localhost/timetracker:local and
# prints the time and size. A full release build: many minutes on two cores.
# (make test builds only the runtime stage, from the host's binaries.)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers.sh
. scripts/containers.sh
tt_ensure_container_tools
tt_ensure_debian_image
tt_ensure_rust_image

crate=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
commit=$(git rev-parse --short HEAD)
started=$SECONDS
buildah bud --pull=never --format docker --isolation chroot --layers \
    --build-arg "TIMETRACKER_VERSION=$crate" --build-arg "TIMETRACKER_COMMIT=$commit" \
    -t localhost/timetracker:local .
echo "==> built in $((SECONDS - started)) s: $(podman image inspect --format '{{.Size}}' localhost/timetracker:local) bytes"
podman run --rm --no-healthcheck localhost/timetracker:local timetracker version
