#!/usr/bin/env bash
# Build local stand-ins for the official images, from Debian's packages, for a
# machine that cannot reach Docker Hub:
#   xiecha-local/debian:bookworm      base, made by mmdebstrap and `docker import`
#   xiecha-local/python:3.11-slim     for python:3.11-slim (the app's base)
#   xiecha-local/postgres:15          for postgres:15
#   xiecha-local/rabbitmq:3-management for rabbitmq:3.13-management
# Then `source deploy/docker/local.env` (or copy it into .env) points the
# Dockerfile and docker-compose.yml at them.  Each image is built only when
# missing; XIECHA_REBUILD_IMAGES=1 rebuilds all.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=${XIECHA_LOCAL_IMAGE_PREFIX:-xiecha-local}
BASE=$PREFIX/debian:bookworm

exists() { [[ -z ${XIECHA_REBUILD_IMAGES:-} ]] && docker image inspect "$1" >/dev/null 2>&1; }

build_base() {
    exists "$BASE" && return 0
    local tar
    tar=$(mktemp --suffix=.tar)
    # minbase without documentation; policy-rc.d keeps package scripts from
    # starting daemons during image builds, as in Debian's official images.
    mmdebstrap --variant=minbase --quiet \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"' \
        bookworm "$tar"
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' "$tar" "$BASE" >/dev/null
    rm -f "$tar"
}

build() {  # build TAG DIR
    exists "$1" && return 0
    docker build --quiet --build-arg "BASE_IMAGE=$BASE" -t "$1" "$HERE/$2" >/dev/null
}

# The python stand-in gets this machine's extra CA certificates (a TLS-inspecting
# proxy's, if any) so that pip inside image builds reaches PyPI as the host does.
build_python() {
    exists "$1" && return 0
    local context
    context=$(mktemp -d)
    cp "$HERE/python/Dockerfile" "$context/"
    mkdir "$context/extra-ca"
    cp "${XIECHA_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"/*.crt "$context/extra-ca/" 2>/dev/null || true
    docker build --quiet --build-arg "BASE_IMAGE=$BASE" -t "$1" "$context" >/dev/null
    rm -rf "$context"
}

build_base
build_python "$PREFIX/python:3.11-slim"
build "$PREFIX/postgres:15" postgres
build "$PREFIX/rabbitmq:3-management" rabbitmq
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$PREFIX/*"
