#!/usr/bin/env bash
# mtls-edge in CI: start the example app (examples/app/server.js) and the edge in front of it, wait
# until both answer, check with curl what the app sees through the edge, and stop both. Exit code
# 0 when every check passed, 1 otherwise; either way nothing this script started is left running.
#
#   bash examples/ci/edge-ci.sh
#
# Environment (all optional):
#   MTLS_EDGE           how to run the CLI. Default: node <this checkout>/bin/mtls-edge.js.
#                       In a project with mtls-edge as a dependency: MTLS_EDGE="npx mtls-edge".
#   EDGE_HTTPS_PORT     the edge's HTTPS port (default 8443)
#   EDGE_ADMIN_PORT     its admin port, where /healthz answers (default 9901)
#   APP_PORT            the example app's port (default 3001)
#   EDGE_WORK_DIR       dev PKI, logs and the edge's pid file (default: a new temporary folder,
#                       removed at the end; a folder you name is kept, e.g. for CI artifacts)
#   EDGE_READY_SECONDS  how long to wait for the edge and the app to answer (default 30)
#
# The edge is stopped through the PID it writes (--pid-file), not through its launcher: npm and npx
# run it under `sh -c`, and a SIGTERM to npm may stop only that shell. --exit-with-parent ends it
# also when this script is killed before it could clean up.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/../.." && pwd)
if [ -n "${MTLS_EDGE:-}" ]; then read -r -a edge_cli <<< "$MTLS_EDGE"; else edge_cli=(node "$checkout/bin/mtls-edge.js"); fi
https_port=${EDGE_HTTPS_PORT:-8443}
admin_port=${EDGE_ADMIN_PORT:-9901}
app_port=${APP_PORT:-3001}
ready_seconds=${EDGE_READY_SECONDS:-30}
if [ -n "${EDGE_WORK_DIR:-}" ]; then work=$EDGE_WORK_DIR; keep_work=1; mkdir -p "$work"; else work=$(mktemp -d); keep_work=0; fi

app_pid='' launcher_pid='' edge_pid='' failures=0

# SIGTERM, then up to 10 s for the process to end, then SIGKILL. Silent if it is already gone.
stop_pid() {
  local pid=$1 name=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$name (PID $pid) did not stop within 10 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# Runs on every exit, also after a failed check or a failed command (set -e): stop what is running.
cleanup() {
  local code=$?
  trap - EXIT
  if [ -z "$edge_pid" ] && [ -s "$work/edge.pid" ]; then edge_pid=$(cat "$work/edge.pid"); fi
  if [ -n "$edge_pid" ]; then stop_pid "$edge_pid" edge; fi
  # The launcher (node itself, or npm/npx) ends with the edge; if the edge never became ready,
  # stopping the launcher ends it too (--exit-with-parent).
  if [ -n "$launcher_pid" ]; then stop_pid "$launcher_pid" 'edge launcher'; wait "$launcher_pid" 2>/dev/null || true; fi
  if [ -n "$app_pid" ]; then stop_pid "$app_pid" app; wait "$app_pid" 2>/dev/null || true; fi
  if [ "$code" -ne 0 ]; then
    echo "--- edge log (last 20 lines)"; tail -n 20 "$work/edge.log" 2>/dev/null || true
    echo "--- app log (last 20 lines)"; tail -n 20 "$work/app.log" 2>/dev/null || true
  fi
  if [ "$keep_work" -eq 0 ]; then rm -rf "$work"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. The app: plain HTTP on loopback, it only sees what the edge forwards.
PORT=$app_port HOST=127.0.0.1 node "$checkout/examples/app/server.js" > "$work/app.log" 2>&1 &
app_pid=$!

# 2. The edge: a dev PKI with the failure family (expired, untrusted CA, ...), then `start`.
if [ ! -s "$work/certs/ca/root-ca.crt" ]; then "${edge_cli[@]}" certs init --dir "$work/certs" --with-failures > "$work/certs-init.log"; fi
"${edge_cli[@]}" start --bind 127.0.0.1 --https-port "$https_port" --http-port -1 --admin-port "$admin_port" \
  --pki-dir "$work/certs" --upstream "http://127.0.0.1:$app_port" \
  --pid-file "$work/edge.pid" --exit-with-parent > "$work/edge.log" 2>&1 &
launcher_pid=$!
echo "started: app PID $app_pid, edge launcher PID $launcher_pid"

# 3. Ready: the pid file is written once the edge listens; /healthz answers 200 while it serves.
deadline=$((SECONDS + ready_seconds))
until [ -s "$work/edge.pid" ] && curl -sf "http://127.0.0.1:$admin_port/healthz" > /dev/null && curl -s -o /dev/null "http://127.0.0.1:$app_port/"; do
  if ! kill -0 "$launcher_pid" 2>/dev/null; then echo "the edge exited before it was ready"; exit 1; fi
  if ! kill -0 "$app_pid" 2>/dev/null; then echo "the app exited before it was ready"; exit 1; fi
  if [ "$SECONDS" -ge "$deadline" ]; then echo "not ready after $ready_seconds s"; exit 1; fi
  sleep 0.2
done
edge_pid=$(cat "$work/edge.pid")
echo "ready: edge PID $edge_pid on https://localhost:$https_port"

# 4. Checks. `status ARGS…` prints the HTTP status of GET / through the edge (000: no HTTP answer,
# e.g. the handshake was refused) and leaves the body in $work/body.
check() { # what, expected, actual
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAILED: $1: expected $2, got $3"; failures=$((failures + 1)); fi
}
status() {
  rm -f "$work/body"
  curl -s -o "$work/body" -w '%{http_code}' --cacert "$work/certs/ca/root-ca.crt" "$@" "https://localhost:$https_port/" || true
}
app_saw() { # the app's JSON answer holds this line
  if grep -qF "$1" "$work/body" 2>/dev/null; then echo yes; else echo no; fi
}
certs=$work/certs

check 'trusted client certificate: 200 from the app' 200 "$(status --cert "$certs/client-chain.crt" --key "$certs/client.key")"
check '... and the app saw X-SSL-Client-Verify: 0' yes "$(app_saw '"verifyResult": "0"')"
check 'no client certificate: the app refuses (401)' 401 "$(status)"
# The forger holds a copy of the client's certificate (public), not its key.
stolen_cert=$(sed '/-----/d' "$certs/client.crt" | tr -d '\n')
check 'forged X-SSL-Client-* headers without a certificate: removed by the edge, 401' 401 \
  "$(status -H 'X-SSL-Client: 1' -H 'X-SSL-Client-Verify: 0' -H "X-Forwarded-Client-Cert: $stolen_cert" -H 'X-SSL-Client-Subject-CN: YWRtaW4=')"
check '... and the app saw no verify result' yes "$(app_saw '"verifyResult": null')"
check 'expired client certificate: handshake refused by the edge' 000 \
  "$(status --cert "$certs/failures/expired-chain.crt" --key "$certs/failures/expired.key")"
check 'certificate from an untrusted CA: handshake refused by the edge' 000 \
  "$(status --cert "$certs/failures/untrusted-ca-chain.crt" --key "$certs/failures/untrusted-ca.key")"

# 5. Stop: SIGTERM to the edge itself drains and exits 0, and the pid file goes with it.
stop_pid "$edge_pid" edge
edge_exit=0
wait "$launcher_pid" || edge_exit=$?
launcher_pid=''
check 'the edge stopped cleanly (exit code 0)' 0 "$edge_exit"
check '... and removed its pid file' no "$(if [ -e "$work/edge.pid" ]; then echo yes; else echo no; fi)"
edge_pid=''

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
