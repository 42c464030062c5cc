#!/usr/bin/env bash
# Front-end set-up, called by bootstrap-venv.sh (make venv): the pinned browser assets
# from the npm registry into frontend/node_modules (git-ignored, served by aiohttp; node
# is needed only here, never at run time), and Debian's chromium and a CJK font for the
# browser tests (installed when missing and we are root; a browser is never downloaded).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../frontend"
STAMP=node_modules/.xiecha-installed

if [[ ! -f $STAMP || package-lock.json -nt $STAMP ]]; then
    command -v npm >/dev/null || { echo "setup-frontend: npm is needed at set-up" >&2; exit 1; }
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    touch "$STAMP"
    echo "frontend: installed pinned assets into frontend/node_modules"
fi

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-microhei)
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "frontend: installing ${missing[*]} from Debian"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup-frontend: browser tests need ${missing[*]} (Debian packages)" >&2
    fi
fi
