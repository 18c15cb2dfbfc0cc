#!/usr/bin/env bash
# `make serve`: the production stack in the foreground. nginx (deploy/nginx.conf) listens on
# HOST:PORT and buffers every request and response; gunicorn (gunicorn.conf.py) answers behind
# it on a unix socket only nginx reaches, trusting nginx (TRUSTED_PROXIES, default 1). Ctrl-C or
# SIGTERM stops both; if either exits, the other is stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
NGINX=${NGINX:-/usr/sbin/nginx}
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-8050}
COMPUTE_RATE=${COMPUTE_RATE:-10r/s} COMPUTE_BURST=${COMPUTE_BURST:-40} COMPUTE_CONNS=${COMPUTE_CONNS:-8}
# How many sessions' worth one address may use together (a classroom behind one school
# address); the app reads it too (web/session.py).
export CLASS_SESSIONS=${CLASS_SESSIONS:-40}
if ! [[ $CLASS_SESSIONS =~ ^[0-9]+$ ]] || ((10#$CLASS_SESSIONS < 1)); then
    echo "CLASS_SESSIONS must be a whole number >= 1, got '$CLASS_SESSIONS'" >&2
    exit 2
fi
# deploy/nginx.conf's @CLASS*n@: n (a number, a rate such as 20r/s, or COMPUTE_RATE,
# COMPUTE_BURST, COMPUTE_CONNS) times CLASS_SESSIONS, the classroom ceiling's number.
class_times() {
    local line out token value number
    while IFS= read -r line; do
        out=
        while [[ $line =~ @CLASS\*([A-Za-z0-9_/]+)@ ]]; do
            token=${BASH_REMATCH[1]} value=${BASH_REMATCH[1]}
            [[ $token =~ ^[A-Z_]+$ ]] && value=${!token}
            [[ $value =~ ^([0-9]+)(r/[sm])?$ ]] || { echo "bad @CLASS*$token@: $value" >&2; return 1; }
            number=$((10#${BASH_REMATCH[1]} * 10#$CLASS_SESSIONS))
            out+=${line%%"@CLASS*$token@"*}$number${BASH_REMATCH[2]}
            line=${line#*"@CLASS*$token@"}
        done
        printf '%s\n' "$out$line"
    done
}
runtime=$(mktemp -d "${TMPDIR:-/tmp}/optimizer-race.XXXXXX")
chmod 755 "$runtime"  # nginx's workers (nobody, when started as root) reach the socket
sed -e "s#@HOST@#$HOST#g" -e "s#@PORT@#$PORT#g" -e "s#@RUNTIME@#$runtime#g" \
    -e "s#@COMPUTE_RATE@#$COMPUTE_RATE#g" -e "s#@COMPUTE_BURST@#$COMPUTE_BURST#g" \
    -e "s#@COMPUTE_CONNS@#$COMPUTE_CONNS#g" deploy/nginx.conf | class_times >"$runtime/nginx.conf"
"$NGINX" -t -q -p "$runtime" -c "$runtime/nginx.conf"

pids=()
stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$runtime"
}
trap stop EXIT INT TERM
# Without Redis the limits are the host's: one SQLite file every worker shares. glibc maps
# allocations of 64 KB and more (cached pages and results) and unmaps them when freed, rather
# than letting them fragment the heap (tests/test_memory_bounds.py runs a worker the same way).
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-65536}
LIMITS_DB=${LIMITS_DB:-$runtime/limits.sqlite} TRUSTED_PROXIES=${TRUSTED_PROXIES:-1} "$BIN/gunicorn" -c gunicorn.conf.py -b "unix:$runtime/gunicorn.sock" \
    app:server &
pids+=($!)
# nginx opens the port once gunicorn listens (after it loaded the app), so no client meets a 502.
for _ in $(seq 600); do
    [ -S "$runtime/gunicorn.sock" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || exit 1
    sleep 0.1
done
"$NGINX" -p "$runtime" -c "$runtime/nginx.conf" &
pids+=($!)
wait -n "${pids[@]}" || true
