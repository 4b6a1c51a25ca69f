#!/usr/bin/env bash
# make demo: starts the reference server on a free loopback port, runs the Node example, stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
node tests/servers/rest-server.mjs --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" || true)
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "demo: the reference server did not start:" >&2; cat "$log" >&2; exit 1; }
node examples/node/demo.mjs "$url"
