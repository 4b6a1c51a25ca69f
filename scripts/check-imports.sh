#!/usr/bin/env bash
# Fails when a built module imports anything: the core must be import-free.
set -euo pipefail
wasm="$1"
imports=$(wasm-objdump -j Import -x "$wasm" 2>/dev/null | grep -E '^ - ' || true)
if [ -n "$imports" ]; then
  echo "error: $wasm has imports (the core must be import-free):" >&2
  echo "$imports" >&2
  exit 1
fi
