# The TLS module: dist/qollective-tls.wasm = the full client + mbedtls (src/tls/, -DQ_TLS).
# mbedtls comes from Debian's source package (scripts/deps.sh unpacks it into
# build/mbedtls-src) and is compiled with our config (src/tls/mbedtls_config.h) against the
# wasi-libc headers only: no WASI function is linked, the module stays import-free.
#   make dist/qollective-tls.wasm [CERTS=dir]   dir holds ca.pem, cert.pem, key.pem (each optional)
#   make tls-size-parts                          what each mbedtls part costs (bytes of code)

MBEDTLS_VERSION := 2.28.3
MBEDTLS_DIR     := build/mbedtls-src/mbedtls-$(MBEDTLS_VERSION)
# The mbedtls parts the config uses (x509 + pk + RSA + ECDSA P-256 + SHA-256/HMAC + PEM).
# Not pk_wrap: src/tls/tls_pk_info.c defines the pk key types with only what the module uses.
MBEDTLS_PARTS   := asn1parse asn1write base64 bignum constant_time ecdsa ecp ecp_curves hmac_drbg \
                   md oid pem pk pkparse platform_util rsa rsa_internal sha256 x509 x509_crt
MBEDTLS_SRC     := $(patsubst %,$(MBEDTLS_DIR)/library/%.c,$(MBEDTLS_PARTS))
TLS_SRC         := $(sort $(wildcard src/tls/*.c))
TLS_HDR         := $(wildcard src/tls/*.h)
TLS_INCLUDES    := -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -Isrc/tls -I$(MBEDTLS_DIR)/include
CERTS           ?=

MODULES         += tls
tls_WASM        := dist/qollective-tls.wasm
tls_SRC         := $(CORE_SRC) $(TLS_SRC) build/tls/embedded_certs.c $(MBEDTLS_SRC)
tls_DEFS        := -DQ_TLS
tls_HDR         := $(TLS_HDR) $(MBEDTLS_DIR)/include/mbedtls/version.h
# mbedtls includes <string.h>, <stdlib.h>, <stdio.h>: wasi-libc's headers, which insist on the
# wasm32-wasi triple; no wasi-libc code is linked (-nostdlib; check-imports.sh proves it). The
# whole module uses that triple so LTO links one kind of bitcode (the last --target wins).
TLS_WASI        := --target=wasm32-wasi --sysroot=/usr
tls_CFLAGS      := $(TLS_WASI) $(TLS_INCLUDES)
build/tls.names.wasm build/tls/test-bundle/qollective-tls.wasm: WASM_LDFLAGS += $(TLS_WASI)
# mbedtls's own warnings are not ours to fix: no -Werror there.
build/wasm/tls/$(MBEDTLS_DIR)/%.o: WASM_CFLAGS := $(filter-out -Werror -Wall -Wextra,$(WASM_CFLAGS)) -w

$(MBEDTLS_DIR)/include/mbedtls/version.h $(MBEDTLS_SRC):
	@bash scripts/deps.sh

# The compiled-in credentials: regenerated on every make (cheap), rewritten only when CERTS
# or its files changed, so the module relinks only then.
.PHONY: FORCE_CERTS
FORCE_CERTS:
build/tls/embedded_certs.c: FORCE_CERTS
	@mkdir -p $(@D); bash scripts/embed-certs.sh $(CERTS) $@

# ---------------------------------------------------------------- test PKI and the embedded build
# Throwaway certificates for the tests (scripts/gen-test-pki.sh; build/pki, never committed).
build/pki/bundle/key.pem: scripts/gen-test-pki.sh
	@FORCE=1 bash scripts/gen-test-pki.sh build/pki >/dev/null
# The TLS module with the test client's credentials compiled in, as `make CERTS=build/pki/bundle`
# makes it: the same objects, another embedded_certs.o.
build/tls/test-bundle/embedded_certs.c: build/pki/bundle/key.pem scripts/embed-certs.sh
	@mkdir -p $(@D); bash scripts/embed-certs.sh build/pki/bundle $@
build/tls/test-bundle/embedded_certs.o: build/tls/test-bundle/embedded_certs.c $(CORE_HDR) $(tls_HDR)
	@echo "  CC    $@"; $(CC) $(WASM_CFLAGS) $(tls_CFLAGS) $(tls_DEFS) $(WASM_OPTFLAGS) -c $< -o $@
TLS_TEST_OBJ := $(patsubst %.c,build/wasm/tls/%.o,$(filter-out build/tls/embedded_certs.c,$(tls_SRC))) \
                build/tls/test-bundle/embedded_certs.o
build/tls/test-bundle/qollective-tls.wasm: $(TLS_TEST_OBJ)
	@echo "  LD    $@"; $(CC) $(WASM_CFLAGS) $(WASM_LDFLAGS) $(TLS_TEST_OBJ) -o $@.names
	@$(WASM_OPT) $(WASM_OPT_PASSES) $(WASM_OPT_FEATURES) --strip-debug --strip-producers $@.names -o $@
	@bash scripts/check-imports.sh $@
test-js: build/tls/test-bundle/qollective-tls.wasm build/pki/bundle/key.pem

# ---------------------------------------------------------------- host builds (unit tests, fuzzing)
# The same mbedtls sources and config, compiled natively per flavour.
define tls_host_flavour
$(1)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c src/tls/mbedtls_config.h Makefile mk/tls.mk | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(filter-out -Werror -Wall -Wextra,$(2)) -w -DQ_TLS $(TLS_INCLUDES) -c $$< -o $$@
$(1)/tls/%.o: src/tls/%.c $(CORE_HDR) $(TLS_HDR) Makefile mk/tls.mk | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(2) -DQ_TLS $(TLS_INCLUDES) -c $$< -o $$@
$(1)/tls/embedded_certs.o: build/tls/host-embedded_certs.c $(TLS_HDR) | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(2) -DQ_TLS $(TLS_INCLUDES) -c $$< -o $$@
endef
# Host tests see no compiled-in credentials (they give them at run time).
build/tls/host-embedded_certs.c: scripts/embed-certs.sh
	@mkdir -p $(@D); bash scripts/embed-certs.sh $@
TLS_HOST_PARTS = $(patsubst %,$(1)/mbedtls/%.o,$(MBEDTLS_PARTS)) $(patsubst src/tls/%.c,$(1)/tls/%.o,$(TLS_SRC)) $(1)/tls/embedded_certs.o
TLS_FUZZ_CFLAGS := $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN)
$(eval $(call tls_host_flavour,build/tls/host,$(HOST_CFLAGS)))
$(eval $(call tls_host_flavour,build/tls/asan,$(HOST_CFLAGS) $(SAN_FLAGS)))
$(eval $(call tls_host_flavour,build/tls/fuzz,$(TLS_FUZZ_CFLAGS)))
.SECONDARY: $(call TLS_HOST_PARTS,build/tls/host) $(call TLS_HOST_PARTS,build/tls/asan) $(call TLS_HOST_PARTS,build/tls/fuzz)

# tests/unit/test_tls*.c link the TLS objects too; they read the PKI from build/pki.
TLS_UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_tls*.c))
$(addprefix build/host/,$(TLS_UNIT)): build/host/%: tests/unit/%.c tests/unit/test_util.h $(HOST_OBJ) $(call TLS_HOST_PARTS,build/tls/host) | build/host
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) -DQ_TLS $(TLS_INCLUDES) $< $(HOST_OBJ) $(call TLS_HOST_PARTS,build/tls/host) -o $@ -lcmocka
$(addprefix build/asan/,$(TLS_UNIT)): build/asan/%: tests/unit/%.c tests/unit/test_util.h $(ASAN_OBJ) $(call TLS_HOST_PARTS,build/tls/asan) | build/asan
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -DQ_TLS $(TLS_INCLUDES) $< $(ASAN_OBJ) $(call TLS_HOST_PARTS,build/tls/asan) -o $@ -lcmocka
test-unit test-asan test-valgrind: build/pki/bundle/key.pem

# tests/fuzz/fuzz_x509.c: the PEM/DER certificate and key entry points.
build/fuzz/fuzz_x509: $(FUZZ_DIR)/fuzz_x509.c $(FUZZ_DIR)/fuzz_common.h $(FUZZ_CORE_OBJ) $(call TLS_HOST_PARTS,build/tls/fuzz) | build/fuzz
	$(CC) $(FUZZ_CFLAGS) -DQ_TLS $(TLS_INCLUDES) -fsanitize=fuzzer,$(FUZZ_SAN) $< $(FUZZ_CORE_OBJ) $(call TLS_HOST_PARTS,build/tls/fuzz) -o $@

# ---------------------------------------------------------------- size
# The TLS increment over the client module: the issue's budget, <= 56 KB raw (57344), for
# mbedtls's x509 + RSA + ECDSA P-256 + SHA-256 + PEM plus the TLS-only client features
# (issue 12 item 4: TLS failure names, X-Client-Cert, host credentials; item 5: RFC 9421
# signing). Those features had taken it to 61302 (gate 56 KB + 5 KB); on 2026-12-05 it came back
# under 56 KB: 60270 -> 57523 with our own pk key types instead of mbedtls's pk_wrap.c and
# direct signing (src/tls/tls_pk_info.c, tls_sign.c), -> 56706 with the TLS failure and chain
# texts in the glue, -> 56341 reusing the core's case compare, hex digits and RFC 3339 writer,
# -> 55896 reading IP literal hosts with the core's origin parser.
TLS_INCREMENT_MAX := 57344
.PHONY: tls-size tls-size-parts
size: tls-size
tls-size: dist/qollective.wasm dist/qollective-tls.wasm
	@inc=$$(( $$(stat -c %s dist/qollective-tls.wasm) - $$(stat -c %s dist/qollective.wasm) )); \
	  echo "TLS increment over dist/qollective.wasm: $$inc bytes raw (budget $(TLS_INCREMENT_MAX))"; \
	  [ $$inc -le $(TLS_INCREMENT_MAX) ] || { echo "size gate: TLS increment over budget" >&2; exit 1; }
tls-size-parts: build/tls.profile.wasm
	@bash scripts/tls-size-parts.sh $< build/wasm/tls

# ---------------------------------------------------------------- speed
# bench/tls.mjs: signing, verification, credential loading and inspection in ops/s, for the
# mbedtls options that trade size for speed (several builds side by side: --wasm a,b).
.PHONY: bench-tls
bench: bench-tls
bench-tls: deps all
	$(NODE) bench/tls.mjs
