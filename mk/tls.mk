# The TLS module: dist/qollective-tls.wasm = the full client + mbedtls (src/tls/, built with
# -DQ_TLS). mbedtls comes from Debian's source package (scripts/deps.sh unpacks it into
# build/mbedtls-src) and is compiled with our config (src/tls/mbedtls_config.h) against the
# wasi-libc headers only: no WASI function is linked, the module stays import-free.
#   make dist/qollective-tls.wasm [CERTS=dir]   dir holds ca.pem, cert.pem, key.pem (optional)
#   make tls-variants                            what each mbedtls part costs (raw bytes)

MBEDTLS_VERSION := 2.28.3
MBEDTLS_DIR     := build/mbedtls-src/mbedtls-$(MBEDTLS_VERSION)
# The mbedtls parts the config uses (x509 + pk + RSA + ECDSA P-256 + SHA-256/HMAC + PEM).
MBEDTLS_PARTS   := asn1parse asn1write base64 bignum constant_time ecdsa ecp ecp_curves hmac_drbg \
                   md oid pem pk pk_wrap pkparse platform_util rsa rsa_internal sha256 x509 x509_crt
TLS_SRC         := $(sort $(wildcard src/tls/*.c))
TLS_HDR         := $(wildcard src/tls/*.h)
TLS_DEFS        := -DQ_TLS -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -Isrc/tls -I$(MBEDTLS_DIR)/include
# mbedtls includes <string.h>, <stdlib.h>, <limits.h>: wasi-libc's headers, no library.
TLS_MBED_CFLAGS := --target=wasm32-wasi --sysroot=/usr -mbulk-memory -msign-ext -mnontrapping-fptoint \
                   -mmutable-globals -fvisibility=hidden -Oz -flto $(TLS_DEFS) $(TLS_VARIANT)
TLS_WASM_CFLAGS := $(subst --target=wasm32,--target=wasm32-wasi,$(WASM_CFLAGS)) $(TLS_DEFS) $(TLS_VARIANT)
CERTS           ?=

# Objects and output move elsewhere for the size variants (tls-variants).
TLS_OBJ_DIR     ?= build/tls/wasm
TLS_OUT         ?= dist/qollective-tls.wasm
TLS_MBED_OBJ    := $(patsubst %,$(TLS_OBJ_DIR)/mbedtls/%.o,$(MBEDTLS_PARTS))
TLS_CORE_OBJ    := $(patsubst src/%.c,$(TLS_OBJ_DIR)/core/%.o,$(CORE_SRC)) \
                   $(patsubst src/tls/%.c,$(TLS_OBJ_DIR)/tls/%.o,$(TLS_SRC)) $(TLS_OBJ_DIR)/embedded_certs.o

.PHONY: tls tls-variants FORCE_CERTS
all: dist/qollective-tls.wasm
tls: dist/qollective-tls.wasm

$(MBEDTLS_DIR)/include/mbedtls/version.h:
	@bash scripts/deps.sh

# Regenerated on every make (cheap); rewritten only when CERTS or the files changed.
$(TLS_OBJ_DIR)/embedded_certs.c: FORCE_CERTS
	@mkdir -p $(@D); bash scripts/embed-certs.sh $(CERTS) $@
FORCE_CERTS:

$(TLS_OBJ_DIR)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c src/tls/mbedtls_config.h mk/tls.mk | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_MBED_CFLAGS) -c $< -o $@
$(TLS_OBJ_DIR)/core/mem.o: src/mem.c $(CORE_HDR) Makefile mk/tls.mk
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) -Oz -c $< -o $@
$(TLS_OBJ_DIR)/core/jsmn_impl.o: src/jsmn_impl.c $(CORE_HDR) Makefile mk/tls.mk
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) -O2 -flto -c $< -o $@
$(TLS_OBJ_DIR)/core/%.o: src/%.c $(CORE_HDR) $(TLS_HDR) Makefile mk/tls.mk | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) $(WASM_OPTFLAGS) -c $< -o $@
$(TLS_OBJ_DIR)/tls/%.o: src/tls/%.c $(CORE_HDR) $(TLS_HDR) Makefile mk/tls.mk | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) $(WASM_OPTFLAGS) -c $< -o $@
$(TLS_OBJ_DIR)/embedded_certs.o: $(TLS_OBJ_DIR)/embedded_certs.c $(TLS_HDR) | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $(@D); echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) $(WASM_OPTFLAGS) -c $< -o $@

$(TLS_OBJ_DIR)/qollective-tls.names.wasm: $(TLS_CORE_OBJ) $(TLS_MBED_OBJ)
	@echo "  CC    $@"; $(CC) $(TLS_WASM_CFLAGS) $(WASM_LDFLAGS) $^ -o $@
$(TLS_OUT): $(TLS_OBJ_DIR)/qollective-tls.names.wasm | dist
	@echo "  OPT   $@"; $(WASM_OPT) $(WASM_OPT_PASSES) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	  --enable-mutable-globals --strip-debug --strip-producers $< -o $@.tmp
	@$(WASM_OPT) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --strip-debug $@.tmp -o $@ && rm -f $@.tmp
	@bash scripts/check-imports.sh $@

# ---------------------------------------------------------------- test PKI and the embedded build
# Throwaway certificates for the tests (scripts/gen-test-pki.sh; build/pki, never committed).
build/pki/bundle/key.pem: scripts/gen-test-pki.sh
	@FORCE=1 bash scripts/gen-test-pki.sh build/pki >/dev/null
# The TLS module with the test client's credentials compiled in (make CERTS=build/pki/bundle).
.PHONY: tls-embedded tls-out
tls-embedded: build/pki/bundle/key.pem
	@$(MAKE) --no-print-directory TLS_OBJ_DIR=build/tls/embedded TLS_OUT=build/tls/embedded/qollective-tls.wasm \
	  CERTS=build/pki/bundle tls-out
tls-out: $(TLS_OUT)
test-js: dist/qollective-tls.wasm tls-embedded

# ---------------------------------------------------------------- host builds (unit tests, fuzzing)
# The same mbedtls sources and config, compiled natively per flavour; mbedtls's own warnings
# are not ours to fix, so it gets the project flags without -Werror.
TLS_HOST_DEFS := $(TLS_DEFS)
define tls_host_flavour
$(1)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c src/tls/mbedtls_config.h | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(filter-out -Werror -Wall -Wextra,$(2)) -w $(TLS_HOST_DEFS) -c $$< -o $$@
$(1)/tls/%.o: src/tls/%.c $(CORE_HDR) $(TLS_HDR) | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(2) $(TLS_HOST_DEFS) -c $$< -o $$@
$(1)/tls/embedded_certs.o: build/tls/host-embedded_certs.c $(TLS_HDR) | $(MBEDTLS_DIR)/include/mbedtls/version.h
	@mkdir -p $$(@D); echo "  CC    $$@"; $(CC) $(2) $(TLS_HOST_DEFS) -c $$< -o $$@
endef
# Host tests see no compiled-in credentials (they pass them at run time).
build/tls/host-embedded_certs.c: scripts/embed-certs.sh
	@mkdir -p $(@D); bash scripts/embed-certs.sh $@
TLS_HOST_PARTS = $(patsubst %,$(1)/mbedtls/%.o,$(MBEDTLS_PARTS)) $(patsubst src/tls/%.c,$(1)/tls/%.o,$(TLS_SRC)) $(1)/tls/embedded_certs.o
$(eval $(call tls_host_flavour,build/tls/host,$(HOST_CFLAGS)))
$(eval $(call tls_host_flavour,build/tls/asan,$(HOST_CFLAGS) $(SAN_FLAGS)))
TLS_FUZZ_CFLAGS := $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN)
$(eval $(call tls_host_flavour,build/tls/fuzz,$(TLS_FUZZ_CFLAGS)))

# tests/unit/test_tls*.c link the TLS objects too; they read the PKI from build/pki.
TLS_UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_tls*.c))
$(addprefix build/host/,$(TLS_UNIT)): build/host/%: tests/unit/%.c tests/unit/test_util.h $(HOST_OBJ) $(call TLS_HOST_PARTS,build/tls/host) | build/host
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(TLS_HOST_DEFS) $< $(HOST_OBJ) $(call TLS_HOST_PARTS,build/tls/host) -o $@ -lcmocka
$(addprefix build/asan/,$(TLS_UNIT)): build/asan/%: tests/unit/%.c tests/unit/test_util.h $(ASAN_OBJ) $(call TLS_HOST_PARTS,build/tls/asan) | build/asan
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(TLS_HOST_DEFS) $< $(ASAN_OBJ) $(call TLS_HOST_PARTS,build/tls/asan) -o $@ -lcmocka
test-unit test-asan: build/pki/bundle/key.pem

# tests/fuzz/fuzz_x509.c: the PEM/DER certificate and key entry points.
build/fuzz/fuzz_x509: $(FUZZ_DIR)/fuzz_x509.c $(FUZZ_DIR)/fuzz_common.h $(FUZZ_CORE_OBJ) $(call TLS_HOST_PARTS,build/tls/fuzz) | build/fuzz
	$(CC) $(FUZZ_CFLAGS) $(TLS_HOST_DEFS) -fsanitize=fuzzer,$(FUZZ_SAN) $< $(FUZZ_CORE_OBJ) $(call TLS_HOST_PARTS,build/tls/fuzz) -o $@

# ---------------------------------------------------------------- size
# The TLS increment over the client module (the issue's budget: <= 56 KB raw), and what
# each mbedtls part costs in this build.
TLS_INCREMENT_MAX := 57344
.PHONY: tls-size
size: tls-size
tls-size: dist/qollective.wasm dist/qollective-tls.wasm
	@inc=$$(( $$(stat -c %s dist/qollective-tls.wasm) - $$(stat -c %s dist/qollective.wasm) )); \
	  echo "TLS increment over dist/qollective.wasm: $$inc bytes raw (budget $(TLS_INCREMENT_MAX))"; \
	  [ $$inc -le $(TLS_INCREMENT_MAX) ] || { echo "size gate: TLS increment over budget" >&2; exit 1; }
tls-size-parts: $(TLS_OBJ_DIR)/qollective-tls.names.wasm
	@$(WASM_OPT) $(WASM_OPT_PASSES) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	  --enable-mutable-globals --debuginfo $< -o $(TLS_OBJ_DIR)/profile.wasm
	@bash scripts/tls-size-parts.sh $(TLS_OBJ_DIR)/profile.wasm $(TLS_OBJ_DIR)
