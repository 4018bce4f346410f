#!/usr/bin/env bash
# Sourced by stack.sh and ci-in-container.sh: containers on a machine with no
# Docker engine and no registry (docs/ci-cd.md, "Containers without Docker",
# has what fails by default and why). Debian's buildah, podman and runc, with private settings
# and storage under .data/containers (nothing in /etc/containers changes);
# base images made with debootstrap from the machine's own apt mirror and
# tagged with the public names our Dockerfile and Compose files use; stand-ins
# for the images no registry here serves, built from Debian packages.

# shellcheck source=scripts/tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

TT_CT=$PWD/.data/containers

# Installs the tools and writes the private settings; exports what podman,
# buildah and docker-compose read. Returns 1 (with the reason on stderr)
# where containers cannot run, for example inside GitHub's container jobs.
tt_ensure_container_tools() {
    local missing=() p
    for p in buildah podman runc debootstrap docker-compose iptables; do
        command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
            echo "containers: missing Debian packages ${missing[*]} (and not root to install them)" >&2
            return 1
        fi
        echo "==> installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            buildah podman runc debootstrap docker-compose netavark aardvark-dns iptables uidmap >/dev/null
    fi
    mkdir -p "$TT_CT/storage" "$TT_CT/run"
    # runc: crun refuses this machine's hybrid cgroup layout. The rlimits:
    # podman's default nofile is above the hard limit, which root cannot
    # raise here. cgroupfs and file events: there is no systemd.
    cat >"$TT_CT/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
EOF
    cat >"$TT_CT/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$TT_CT/storage"
runroot = "$TT_CT/run"
EOF
    export CONTAINERS_CONF=$TT_CT/containers.conf CONTAINERS_STORAGE_CONF=$TT_CT/storage.conf
    if [ "$(id -u)" != 0 ]; then
        echo "containers: need root (rootful podman) here" >&2
        return 1
    fi
    local why
    if ! why=$(podman info 2>&1 >/dev/null); then
        echo "containers: podman cannot run here: $why" >&2
        return 1
    fi
}

# docker.io/library/debian:bookworm-slim, from debootstrap, trimmed as the
# official slim image is (no docs, man pages or locales; apt keeps no cache).
tt_ensure_debian_image() {
    local name=docker.io/library/debian:bookworm-slim
    podman image exists "$name" && return 0
    local mirror root
    mirror=$(tt_debian_mirror)
    [ -n "$mirror" ] || { apt-get update -qq && mirror=$(tt_debian_mirror); }
    [ -n "$mirror" ] || { echo "containers: no Debian mirror in apt's sources" >&2; return 1; }
    echo "==> making $name with debootstrap (about a minute, once)"
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$TT_CT/debootstrap.log" 2>&1 \
        || { tail -20 "$TT_CT/debootstrap.log" >&2; rm -rf "$root"; return 1; }
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root/usr/share/man"/* "$root/usr/share/info"/* "$root/usr/share/locale"/* \
        "$root/var/cache/apt"/*.bin "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
    tar -C "$root" -c . | podman import --quiet --change 'CMD ["bash"]' - "$name" >/dev/null
    rm -rf "$root"
}

# Builds IMAGE from scripts/standins/DIR unless an image built from the same
# files is there (its label tt.standin holds their hash).
tt_ensure_standin() {
    local image=$1 dir=$2 hash
    hash=$(cat "scripts/standins/$dir"/* | sha256sum | cut -c1-16)
    [ "$(podman image inspect --format '{{index .Labels "tt.standin"}}' "$image" 2>/dev/null)" = "$hash" ] \
        && return 0
    echo "==> building the stand-in $image from Debian packages"
    buildah bud --quiet --pull=never --format docker --isolation chroot --label "tt.standin=$hash" \
        -t "$image" "scripts/standins/$dir" >/dev/null
}

# rust:<version>-bookworm and rust:<version>-slim-bookworm (the version
# rust-toolchain.toml pins): the toolchain rustup installed on this machine,
# without its docs, with rustup and its proxies, so that the image honours
# rust-toolchain.toml offline; and the machine's extra CAs.
tt_ensure_rust_image() {
    local version arch
    version=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
    arch=$(uname -m)
    local full=docker.io/library/rust:$version-bookworm slim=docker.io/library/rust:$version-slim-bookworm
    local hash
    hash=$( { echo "$version"; cat scripts/standins/rust/Containerfile; cat /usr/local/share/ca-certificates/*.crt 2>/dev/null; } \
        | sha256sum | cut -c1-16)
    if [ "$(podman image inspect --format '{{index .Labels "tt.standin"}}' "$slim" 2>/dev/null)" = "$hash" ]; then
        return 0
    fi
    local home=${RUSTUP_HOME:-$HOME/.rustup} bin=${CARGO_HOME:-$HOME/.cargo}/bin toolchain ctx
    toolchain=$(readlink -f "$home/toolchains/$version-$arch-unknown-linux-gnu")
    [ -x "$toolchain/bin/cargo" ] || { echo "containers: no Rust $version toolchain in $home" >&2; return 1; }
    echo "==> building the stand-in $full (the toolchain rustup installed here)"
    ctx=$(mktemp -d)
    cp scripts/standins/rust/Containerfile "$ctx/"
    mkdir -p "$ctx/rustup/toolchains" "$ctx/cargo-bin" "$ctx/extra-ca"
    touch "$ctx/extra-ca/.keep"
    cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
    cp -a "$toolchain" "$ctx/rustup/toolchains/$version-$arch-unknown-linux-gnu"
    rm -rf "$ctx/rustup/toolchains/$version-$arch-unknown-linux-gnu/share/doc"
    printf 'version = "12"\ndefault_toolchain = "%s-%s-unknown-linux-gnu"\nprofile = "minimal"\n' \
        "$version" "$arch" >"$ctx/rustup/settings.toml"
    local p
    for p in rustup cargo cargo-clippy cargo-fmt clippy-driver rustc rustdoc rustfmt; do
        cp "$bin/$p" "$ctx/cargo-bin/"
    done
    buildah bud --quiet --pull=never --format docker --isolation chroot --label "tt.standin=$hash" \
        -t "$full" "$ctx" >/dev/null
    buildah tag "$full" "$slim"
    rm -rf "$ctx"
}
