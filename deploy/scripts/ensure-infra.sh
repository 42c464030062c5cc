#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ (with its management API) answer where the
# services and tests expect them.  Idempotent; when both are already up it only
# probes the ports and returns.
#
# For each server, in order:
#   (a) already reachable at the configured host/port  -> use it
#   (b) installed locally, serving that port           -> start it
#   (c) root with apt-get, the server's default port   -> install from Debian, start it
#   (d) Docker engine + compose                        -> docker compose up -d <service>
#   (e) otherwise                                      -> fail, saying what to install
# Starting or installing anything is only tried when the host is this machine.
# Debian's packages serve the default ports (5432; 5672 and 15672), so another
# port goes to compose, which publishes its services at these same variables.
#
# Env: XIECHA_PG_HOST (127.0.0.1), XIECHA_PG_PORT (5432), XIECHA_AMQP_HOST
# (127.0.0.1), XIECHA_AMQP_PORT (5672), XIECHA_RABBIT_MGMT_PORT (15672),
# XIECHA_INFRA_TIMEOUT (seconds to wait for each server, 60).
set -euo pipefail

PG_HOST=${XIECHA_PG_HOST:-127.0.0.1}
PG_PORT=${XIECHA_PG_PORT:-5432}
AMQP_HOST=${XIECHA_AMQP_HOST:-127.0.0.1}
AMQP_PORT=${XIECHA_AMQP_PORT:-5672}
MGMT_PORT=${XIECHA_RABBIT_MGMT_PORT:-15672}
TIMEOUT=${XIECHA_INFRA_TIMEOUT:-60}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COMPOSE_FILE=$ROOT/docker-compose.yml
LOG=${TMPDIR:-/tmp}/xiecha-ensure-infra.log
# Server tools live in sbin, which a non-login PATH may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

die() {
    echo "ensure-infra: $*" >&2
    if [[ -s $LOG ]]; then
        echo "--- last lines of $LOG ---" >&2
        tail -n 20 "$LOG" >&2
    fi
    exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# Run a command quietly: stdin from /dev/null, output to the log, so that a
# daemon it leaves behind never holds our caller's pipes open.
quiet() { "$@" </dev/null >>"$LOG" 2>&1; }

is_local() {
    case $1 in
        localhost | 127.* | ::1 | 0.0.0.0 | "$(hostname 2>/dev/null || echo localhost)") return 0 ;;
        *) return 1 ;;
    esac
}

# shellcheck disable=SC2016  # $1/$2 expand in the inner bash
port_open() { timeout 2 bash -c ': >"/dev/tcp/$1/$2"' port_open "$1" "$2" 2>/dev/null; }

# wait_for SECS CMD...: run CMD once a second until it succeeds or SECS pass.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 1
    done
}

pg_ready() {
    if have pg_isready; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
    else
        port_open "$PG_HOST" "$PG_PORT"
    fi
}

mgmt_ok() {
    local host=$AMQP_HOST
    [[ $host == *:* ]] && host="[$host]"
    local url="http://$host:$MGMT_PORT/api/overview"
    if have curl; then
        curl -fs -o /dev/null --max-time 3 -u guest:guest "$url"
    else
        python3 - "$url" <<'EOF' 2>/dev/null
import base64, sys, urllib.request
req = urllib.request.Request(sys.argv[1])
req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
with urllib.request.urlopen(req, timeout=3) as resp:
    sys.exit(0 if resp.status == 200 else 1)
EOF
    fi
}

APT_UPDATED=
apt_install() {
    if [[ -z $APT_UPDATED ]]; then
        quiet apt-get update || die "apt-get update failed"
        APT_UPDATED=1
    fi
    quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" \
        || die "apt-get install $* failed"
}

# Prints the compose command ("docker compose" or "docker-compose") when a
# Docker engine answers; fails otherwise.
compose_cmd() {
    have docker && docker info >/dev/null 2>&1 || return 1
    if docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    elif have docker-compose; then
        echo "docker-compose"
    else
        return 1
    fi
}

compose_up() {
    local cmd
    cmd=$(compose_cmd) || return 1
    # shellcheck disable=SC2086  # $cmd is one or two words on purpose
    quiet $cmd -f "$COMPOSE_FILE" up -d "$1" || die "$cmd up -d $1 failed"
}

# A local cluster configured for PG_PORT (Debian's clusters say their port in postgresql.conf).
pg_local_installed() {
    have pg_ctlcluster || return 1
    grep -qsE "^[[:space:]]*port[[:space:]]*=[[:space:]]*$PG_PORT\b" /etc/postgresql/*/*/postgresql.conf
}

rabbit_default_ports() { [[ $AMQP_PORT == 5672 && $MGMT_PORT == 15672 ]]; }

pg_start_local() {
    local conf dir ver name
    for conf in /etc/postgresql/*/*/postgresql.conf; do
        [[ -e $conf ]] || continue
        dir=${conf%/postgresql.conf}
        ver=$(basename "$(dirname "$dir")") name=$(basename "$dir")
        if ! pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1; then
            quiet pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
        fi
    done
}

ensure_postgres() {
    local what where="$PG_HOST:$PG_PORT"
    if port_open "$PG_HOST" "$PG_PORT"; then
        what="already up at $where"
    elif ! is_local "$PG_HOST"; then
        die "postgresql: nothing answers at $where (a remote host: not starting anything)"
    elif pg_local_installed; then
        pg_start_local
        what="started local server at $where"
    elif [[ $EUID -eq 0 && $PG_PORT == 5432 ]] && have apt-get; then
        apt_install postgresql
        pg_start_local
        wait_for "$TIMEOUT" pg_ready || die "postgresql: installed but not ready at $where after ${TIMEOUT}s"
        # A fresh Debian cluster wants a password over TCP: give the default DSN one.
        quiet su postgres -s /bin/sh -c "cd / && psql -c \"ALTER USER postgres PASSWORD 'postgres'\"" \
            || die "postgresql: could not set the postgres user's password"
        what="installed from Debian and started at $where"
    elif compose_up postgres; then
        what="started docker compose service at $where"
    else
        die "postgresql: nothing answers at $where and there is no local server, no apt-get" \
            "(as root) and no Docker engine with compose. Install PostgreSQL 15+" \
            "(apt-get install postgresql) or point XIECHA_PG_HOST/XIECHA_PG_PORT at one."
    fi
    wait_for "$TIMEOUT" pg_ready || die "postgresql: not ready at $where after ${TIMEOUT}s"
    echo "postgresql: $what"
}

rabbit_start_local() {
    port_open "$AMQP_HOST" "$AMQP_PORT" || quiet rabbitmq-server -detached || true
}

ensure_rabbitmq() {
    local what where="$AMQP_HOST:$AMQP_PORT" started=
    if port_open "$AMQP_HOST" "$AMQP_PORT"; then
        what="already up at $where"
    elif ! is_local "$AMQP_HOST"; then
        die "rabbitmq: nothing answers at $where (a remote host: not starting anything)"
    elif rabbit_default_ports && have rabbitmq-server; then
        rabbit_start_local
        what="started local server at $where" started=1
    elif rabbit_default_ports && [[ $EUID -eq 0 ]] && have apt-get; then
        apt_install rabbitmq-server
        rabbit_start_local
        what="installed from Debian and started at $where" started=1
    elif compose_up rabbitmq; then
        what="started docker compose service at $where" started=compose
    else
        die "rabbitmq: nothing answers at $where and there is no local server, no apt-get" \
            "(as root) and no Docker engine with compose. Install RabbitMQ 3.10+ with the" \
            "management plugin (apt-get install rabbitmq-server) or point" \
            "XIECHA_AMQP_HOST/XIECHA_AMQP_PORT at one."
    fi
    wait_for "$TIMEOUT" port_open "$AMQP_HOST" "$AMQP_PORT" \
        || die "rabbitmq: nothing answers at $where after ${TIMEOUT}s"

    if ! mgmt_ok; then
        # A node that just booted may still be starting its plugins.
        if [[ $started == compose ]]; then
            wait_for "$TIMEOUT" mgmt_ok || true
        elif [[ -n $started ]]; then
            wait_for 15 mgmt_ok || true
        fi
        # The image's node has it on; a local node may need it (never another node).
        if ! mgmt_ok && [[ $started != compose ]] && rabbit_default_ports \
            && have rabbitmq-plugins && is_local "$AMQP_HOST"; then
            quiet rabbitmq-plugins enable rabbitmq_management \
                || die "rabbitmq: rabbitmq-plugins enable rabbitmq_management failed"
            what="$what; enabled the management plugin"
        fi
        wait_for "$TIMEOUT" mgmt_ok || die "rabbitmq: management API does not answer at" \
            "http://$AMQP_HOST:$MGMT_PORT/api/overview (guest:guest) after ${TIMEOUT}s;" \
            "enable it with: rabbitmq-plugins enable rabbitmq_management"
    fi
    echo "rabbitmq: $what (management on port $MGMT_PORT)"
}

: >"$LOG" 2>/dev/null || LOG=/dev/null
ensure_postgres
ensure_rabbitmq
