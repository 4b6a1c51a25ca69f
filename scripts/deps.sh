#!/usr/bin/env bash
# Installs every system and npm package the project uses, idempotently, on Debian bookworm (root).
# Safe to run again: it installs only what is missing and never downloads browsers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each package and what uses it (nothing else is installed):
APT_PKGS=(
  clang                # every C build: wasm modules, unit suites, sanitizers, fuzzers
  lld                  # wasm-ld, the wasm linker
  libclang-rt-14-dev   # ASan/UBSan and libFuzzer runtimes (make test-asan, make fuzz)
  binaryen             # wasm-opt (the module builds)
  wabt                 # wasm-objdump (scripts/check-imports.sh, tests/js/modules.test.mjs)
  libcmocka-dev        # the unit suites (tests/unit)
  libjsmn-dev          # jsmn.h, compiled into every module (src/jsmn_impl.c)
  brotli gzip          # the size gate (scripts/size-gate.sh)
  chromium             # make test-browser (driven by playwright-core; never downloaded)
  nodejs               # the glue's suites, the reference servers, esbuild, tsc
  valgrind             # make test-valgrind
  make
  ca-certificates      # npm ci over https
)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Some images ship a nodejs build that bundles npm (and conflicts with Debian's npm).
command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null

# npm dev dependencies, pinned by package-lock.json. Browsers are never downloaded.
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  fi
fi
