#!/usr/bin/env bash
# System packages the tests and benches need and pip cannot give: Debian's Chromium (browser
# tests), redis-server (shared-cache tests), nginx (make serve's front, and its tests), wrk
# (load bench) and zbar-tools (zbarimg reads back the students' QR code). Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-system: need ${need[*]} but cannot apt-get as $(id -un); tests that need them" \
        "fail in CI and are skipped elsewhere" >&2
    exit 0
fi
echo "install-system: apt-get install ${need[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
