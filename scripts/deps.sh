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
  libjsmn-dev          # jsmn.h: its token type in every module (src/span.h), its tokenizer in the client modules and fuzzers (src/jsmn_impl.c)
  brotli gzip          # the size gate (scripts/size-gate.sh)
  chromium             # make test-browser (driven by playwright-core; never downloaded)
  nodejs               # the glue's suites, the reference servers, esbuild, tsc
  valgrind             # make test-valgrind
  make
  wasi-libc            # C library headers mbedtls includes for the TLS module (no wasi-libc code is linked)
  openssl              # scripts/gen-test-pki.sh (test certificates for the TLS suites)
  dpkg-dev             # apt-get source: mbedtls's Debian source package (below)
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

# mbedtls sources for the TLS module (dist/qollective-tls.wasm): Debian's source package,
# fetched once into build/mbedtls-src (never committed). A deb-src twin of the system's
# Debian sources makes `apt-get source` work; the orig tarball is all we use.
MBEDTLS_VERSION=2.28.3
MBEDTLS_DIR=build/mbedtls-src/mbedtls-$MBEDTLS_VERSION
if [ ! -f "$MBEDTLS_DIR/include/mbedtls/version.h" ]; then
  src_list=/etc/apt/sources.list.d/debian-src.sources
  if [ ! -f "$src_list" ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src_list"
    apt-get update -qq
  fi
  mkdir -p build/mbedtls-src
  echo "deps: fetching the mbedtls $MBEDTLS_VERSION source package"
  ( cd build/mbedtls-src && apt-get source --download-only -qq mbedtls 2>&1 | grep -v "unsandboxed" || true )
  orig=$(ls build/mbedtls-src/mbedtls_"$MBEDTLS_VERSION"*.orig.tar.* | head -1)
  mkdir -p "$MBEDTLS_DIR"
  tar -xf "$orig" -C "$MBEDTLS_DIR" --strip-components=1   # the tarball's top folder is named by commit
  [ -f "$MBEDTLS_DIR/include/mbedtls/version.h" ] || { echo "deps: $MBEDTLS_DIR not found after unpacking $orig" >&2; exit 1; }
fi
