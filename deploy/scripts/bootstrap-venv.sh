#!/usr/bin/env bash
# Create .venv (Python >= 3.11) if missing and install the exact, hashed versions of
# requirements.lock, then the project itself (no dependencies of its own); only again when
# pyproject.toml or requirements.lock is newer than .venv/.installed. `make lock` refreshes
# the lock file.
# Env: PYTHON (interpreter used to create the venv; default: first >= 3.11 found).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VENV=.venv
STAMP=$VENV/.installed
LOG=$VENV/pip-install.log

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

if ! new_enough "$VENV/bin/python"; then
    py=
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        if [[ -n $candidate ]] && command -v "$candidate" >/dev/null && new_enough "$candidate"; then
            py=$candidate
            break
        fi
    done
    [[ -n $py ]] || { echo "bootstrap-venv: need Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
    echo "venv: created $VENV with $("$VENV/bin/python" -V)"
fi

pip_install() {
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@" \
        </dev/null >>"$LOG" 2>&1; then
        cat "$LOG" >&2
        echo "bootstrap-venv: pip install $* failed (log: $LOG)" >&2
        exit 1
    fi
}

if [[ ! -f $STAMP || pyproject.toml -nt $STAMP || requirements.lock -nt $STAMP ]]; then
    : >"$LOG"
    pip_install --require-hashes -r requirements.lock
    pip_install --no-deps -e .
    touch "$STAMP"
    echo "venv: installed requirements.lock and xiecha into $VENV"
fi

bash deploy/scripts/setup-frontend.sh
