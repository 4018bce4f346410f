# syntax=docker/dockerfile:1.10
# TimeTracker image: both binaries (timetracker, timetracker-worker) on a slim
# Debian, running as an unprivileged user. Dependencies are compiled in their
# own cached layer (cargo-chef), so a code change rebuilds only our crates.
#
#   docker build --build-arg TIMETRACKER_VERSION=1.2.3 \
#                --build-arg TIMETRACKER_COMMIT=$(git rev-parse --short HEAD) -t timetracker .
#
# Official builds also pass the install-telemetry host as a build argument
# and its project key as the build secret `telemetry_key` (a secret, not an
# argument, so it stays out of the image's provenance). Both are read at
# compile time (src/build_info.rs): an empty host means the documented
# default, no key means install telemetry has no project to send to.
# `timetracker version` prints the version, commit and compiled-in host.
#
# It builds with BuildKit and with buildah; `make test` builds the runtime
# stage from the host's release binaries (`--build-context builder=DIR`).

ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ENV SQLX_OFFLINE=true
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
COPY . .
ARG TIMETRACKER_VERSION=""
ARG TIMETRACKER_COMMIT="unknown"
ARG TIMETRACKER_TELEMETRY_HOST=""
# The key is read from the secret's file: `env=` on a secret mount is not
# understood by buildah 1.28 (Debian 12), which `make test` builds with.
RUN --mount=type=secret,id=telemetry_key \
    TIMETRACKER_TELEMETRY_KEY="$(cat /run/secrets/telemetry_key 2>/dev/null || true)" \
    TIMETRACKER_VERSION="${TIMETRACKER_VERSION}" \
    TIMETRACKER_COMMIT="${TIMETRACKER_COMMIT}" \
    TIMETRACKER_TELEMETRY_HOST="${TIMETRACKER_TELEMETRY_HOST}" \
    cargo build --release --locked --workspace --bins \
 && ./target/release/timetracker version

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG TIMETRACKER_VERSION=""
ARG TIMETRACKER_COMMIT="unknown"
LABEL org.opencontainers.image.title="TimeTracker" \
      org.opencontainers.image.description="Self-hosted time tracking: web process and worker" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.source="https://github.com/timetracker/timetracker" \
      org.opencontainers.image.version="${TIMETRACKER_VERSION}" \
      org.opencontainers.image.revision="${TIMETRACKER_COMMIT}"
# ca-certificates is left unpinned on purpose: it must follow security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 timetracker \
 && useradd --uid 10001 --gid 10001 --home-dir /app --create-home --shell /usr/sbin/nologin timetracker
COPY --from=builder /src/target/release/timetracker /src/target/release/timetracker-worker /usr/local/bin/
WORKDIR /app
USER 10001:10001
# Container defaults: listen on all interfaces, log JSON to stdout only.
ENV HTTP_ADDR=0.0.0.0:8080 \
    WEB_METRICS_ADDR=0.0.0.0:9464 \
    WORKER_METRICS_ADDR=0.0.0.0:9465 \
    LOG_FILE=""
EXPOSE 8080 9464 9465
# The web process's readiness; the worker's container checks port 9465 instead.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["timetracker", "healthcheck", "127.0.0.1:9464"]
CMD ["timetracker", "serve"]
