# qollective-wasm — one entry point: build, test, bench, size, fuzz, demo.
# `make` builds every module (dist/qollective-codec.wasm, dist/qollective.wasm, ...) and the
# minified glue. See README.md.

SHELL        := /bin/bash
CC           := clang
WASM_OPT     := wasm-opt
NODE         := node

CORE_SRC     := $(sort $(wildcard src/*.c))
CORE_HDR     := $(wildcard src/*.h include/*.h include/qollective/*.h)

WASM_CFLAGS  := --target=wasm32 -ffreestanding -nostdlib -fno-exceptions -std=c11 \
                -Wall -Wextra -Werror -Wno-unused-parameter \
                -mbulk-memory -msign-ext -mnontrapping-fptoint -mmutable-globals \
                -Iinclude -Isrc -idirafter /usr/include -fvisibility=hidden
WASM_OPTFLAGS:= -Oz -flto
WASM_LDFLAGS := -Wl,--no-entry -Wl,--gc-sections -Wl,-z,stack-size=131072 \
                -Wl,--initial-memory=1310720

# -gdwarf-4: valgrind 3.19 (bookworm) cannot read clang 14's default DWARF 5.
HOST_CFLAGS  := -std=c11 -g -gdwarf-4 -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
                -Iinclude -Isrc -DQ_DEBUG -DQ_ALLOC_FAULTS -D_POSIX_C_SOURCE=200809L
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

UNIT_TESTS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps wasm test test-unit test-asan test-valgrind test-js test-browser bench size size-profile \
        fuzz demo serve-example clean print-modules
.DEFAULT_GOAL := all

deps:
	@bash scripts/deps.sh

# ---------------------------------------------------------------- wasm modules
# One source tree, several modules. A module is a name in MODULES with three variables:
#   <name>_WASM  the artifact (dist/...)
#   <name>_SRC   the C sources it is built from (LTO and --gc-sections drop whatever its
#                exports never reach, so a smaller list is also a smaller link)
#   <name>_DEFS  its compile-time switches (e.g. -DQ_CODEC_ONLY)
# and optionally <name>_CFLAGS (include paths), <name>_HDR (extra headers to depend on) and
# <name>_OPT_ORDER (wasm-opt passes run before WASM_OPT_PASSES).
# Objects go to build/wasm/<name>/<source path>.o, the unstripped link to build/<name>.names.wasm
# (for size-profile). A fragment in mk/ adds a module with `MODULES += name` and the variables
# (mk/tls.mk: tls = client + mbedtls); `make` builds every module.
MODULES      := codec client rest

# The codec: validate, decode, encode, batches and memory stats. No config, client, REST,
# WebSocket or token code: those sources are simply not in the list.
CODEC_SRC    := $(addprefix src/,api.c arena.c envelope.c error.c instance.c json.c mem.c \
                  num.c rfc3339.c schema.c span.c span_scan.c uuid.c)
codec_WASM   := dist/qollective-codec.wasm
codec_SRC    := $(CODEC_SRC)
codec_DEFS   := -DQ_CODEC_ONLY

# The full client: every source in src/ (api_ws.c and ws*.c land here by the wildcard).
client_WASM  := dist/qollective.wasm
client_SRC   := $(CORE_SRC)
client_DEFS  :=

# The REST client: the client module without WebSocket (config, REST, retries, redirects, tokens,
# origins), for pages that only send over HTTP. -DQ_NO_WEBSOCKET leaves out the client's socket
# pool release; the WebSocket sources are simply not in the list.
WS_SRC       := src/api_ws.c $(wildcard src/ws_*.c)
rest_WASM    := dist/qollective-rest.wasm
rest_SRC     := $(filter-out $(WS_SRC),$(CORE_SRC))
rest_DEFS    := -DQ_NO_WEBSOCKET

# jsmn at -O2 is both smaller and faster here: -Oz keeps its per-character helpers as calls.
build/wasm/%/src/jsmn_impl.o: WASM_OPTFLAGS := -O2 -flto
# span_scan.c likewise: its scan is the inner loop of every meta and error walk.
build/wasm/%/src/span_scan.o: WASM_OPTFLAGS := -O2 -flto
# The JSON scanner reads string bodies 16 bytes a step with wasm simd128 (src/json.c
# str_special16); only that file is built with -msimd128, so nothing else is autovectorised.
build/wasm/%/src/json.o: WASM_CFLAGS += -msimd128
# utf16.c likewise: a string's UTF-16 units turned into UTF-8 in place, 16 ASCII units a step.
build/wasm/%/src/utf16.o: WASM_CFLAGS += -msimd128
# mem.c defines the libcalls (memcpy, ...) the backend emits; it must not go through LTO.
build/wasm/%/src/mem.o: WASM_OPTFLAGS := -Oz

# Link without -O (clang 14 would run wasm-opt itself and fail on bulk memory), then
# optimise with wasm-opt. The unstripped build keeps the name section for size-profile.
# --low-memory-unused: wasm-ld puts data at 1024 and the stack after it, so the first
# 1 KiB is never addressed and small constant offsets fold into loads and stores.
WASM_OPT_PASSES   := --low-memory-unused -Oz --converge
# <name>_OPT_ORDER runs first: --reorder-functions gives the most called functions the lowest
# indices, so calls compress better: codec -50 B gzip and brotli, client -205 raw / -148 brotli,
# REST -142 / -115. The TLS module (mk/tls.mk) leaves it out: -813 raw there but +731 gzip, +34 brotli.
codec_OPT_ORDER   := --reorder-functions
client_OPT_ORDER  := --reorder-functions
rest_OPT_ORDER    := --reorder-functions
WASM_OPT_FEATURES := --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals

define MODULE_RULES
$(1)_OBJ := $$(patsubst %.c,build/wasm/$(1)/%.o,$$($(1)_SRC))
build/wasm/$(1)/%.o: %.c $$(CORE_HDR) $$($(1)_HDR) Makefile
	@mkdir -p $$(@D)
	@echo "  CC    $$@"; $$(CC) $$(WASM_CFLAGS) $$($(1)_CFLAGS) $$($(1)_DEFS) $$(WASM_OPTFLAGS) -c $$< -o $$@
build/$(1).names.wasm: $$($(1)_OBJ)
	@echo "  LD    $$@"; $$(CC) $$(WASM_CFLAGS) $$(WASM_LDFLAGS) $$^ -o $$@
$$($(1)_WASM): build/$(1).names.wasm | dist
	@echo "  OPT   $$@"; $$(WASM_OPT) $$($(1)_OPT_ORDER) $$(WASM_OPT_PASSES) $$(WASM_OPT_FEATURES) --strip-debug --strip-producers $$< -o $$@.tmp
	@$$(WASM_OPT) $$(WASM_OPT_FEATURES) --strip-debug --strip-target-features $$@.tmp -o $$@ && rm -f $$@.tmp
	@bash scripts/check-imports.sh $$@
build/$(1).profile.wasm: build/$(1).names.wasm
	@echo "  OPT   $$@"; $$(WASM_OPT) $$($(1)_OPT_ORDER) $$(WASM_OPT_PASSES) $$(WASM_OPT_FEATURES) --debuginfo $$< -o $$@
endef

# The glue as shipped: minified, with a source map that carries the readable source
# (js-glue/qollective.js), so stack traces and debuggers show the real code.
GLUE_FLAGS := --minify --sourcemap --format=esm --target=es2020 --log-level=warning
dist/qollective.min.js: js-glue/qollective.js Makefile | dist
	@echo "  MIN   $@"; node_modules/.bin/esbuild $< --define:globalThis.QOLLECTIVE_CODEC_ONLY=false --define:globalThis.QOLLECTIVE_REST_ONLY=false $(GLUE_FLAGS) --outfile=$@
dist/qollective.min.js.map: dist/qollective.min.js
# The codec glue, for pages that load only dist/qollective-codec.wasm: the same source built with
# QOLLECTIVE_CODEC_ONLY (no clients, only the codec's message text); bundled from an entry that
# exports the codec API, so what only clients reach (Client, Socket, ...) is left out.
dist/qollective-codec.min.js: js-glue/qollective.js Makefile | dist
	@echo "  MIN   $@"; echo "export { Qollective, QollectiveError, Envelope } from './js-glue/qollective.js';" | \
	  node_modules/.bin/esbuild --bundle --sourcefile=qollective-codec.js \
	  --external:node:* --define:globalThis.QOLLECTIVE_CODEC_ONLY=true --define:globalThis.QOLLECTIVE_REST_ONLY=false $(GLUE_FLAGS) --outfile=$@
dist/qollective-codec.min.js.map: dist/qollective-codec.min.js
# The REST glue, for pages that load dist/qollective-rest.wasm: the same source built with
# QOLLECTIVE_REST_ONLY (socket() refuses, so Socket and its helpers are left out, and no TLS calls),
# carrying only the detail texts the REST module's sources use (scripts/glue-rest.mjs).
dist/qollective-rest.min.js: js-glue/qollective.js scripts/glue-rest.mjs $(CORE_HDR) $(rest_SRC) Makefile | dist
	@echo "  MIN   $@"; $(NODE) scripts/glue-rest.mjs $@ $(rest_SRC)
dist/qollective-rest.min.js.map: dist/qollective-rest.min.js

build/wasm build/host build/asan dist:
	@mkdir -p $@

# ---------------------------------------------------------------- host builds (tests)
# The same sources, compiled once per flavour (plain, sanitizers) and linked into each suite.
HOST_OBJ := $(patsubst src/%.c,build/host/obj/%.o,$(CORE_SRC))
ASAN_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CORE_SRC))
# Kept between runs: as intermediates of the pattern rules below they would be deleted after
# each link, so every `make test-unit` would compile the whole core again.
.SECONDARY: $(HOST_OBJ) $(ASAN_OBJ)
build/host/obj/%.o: src/%.c $(CORE_HDR) Makefile
	@mkdir -p $(@D)
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) -c $< -o $@
build/asan/obj/%.o: src/%.c $(CORE_HDR) Makefile
	@mkdir -p $(@D)
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@
build/host/%: tests/unit/%.c tests/unit/test_util.h tests/unit/error_record.h tests/unit/vectors.h $(HOST_OBJ) Makefile | build/host
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $< $(HOST_OBJ) -o $@ -lcmocka
build/asan/%: tests/unit/%.c tests/unit/test_util.h tests/unit/error_record.h tests/unit/vectors.h $(ASAN_OBJ) Makefile | build/asan
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $< $(ASAN_OBJ) -o $@ -lcmocka

test-unit: $(addprefix build/host/,$(UNIT_TESTS))
	@set -e; for t in $(UNIT_TESTS); do (cd tests/unit && ../../build/host/$$t); done

test-asan: $(addprefix build/asan/,$(UNIT_TESTS))
	@set -e; for t in $(UNIT_TESTS); do (cd tests/unit && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../../build/asan/$$t); done

# Every suite on the client module, then the codec suites on each other module (tests/js/module.mjs),
# then on the codec module through the codec glue (dist/qollective-codec.min.js), then the REST and
# codec suites on the REST module through the REST glue (dist/qollective-rest.min.js).
CODEC_SUITES := tests/js/core.test.mjs tests/js/upstream-vectors.test.mjs tests/js/error-text.test.mjs tests/js/encode-canonical.test.mjs \
                tests/js/meta-tape.test.mjs tests/js/f64-spelling.test.mjs tests/js/bigint-meta.test.mjs
# The REST suites, run again on the REST module through the REST glue (dist/qollective-rest.min.js).
REST_SUITES  := tests/js/rest.test.mjs tests/js/redirect.test.mjs tests/js/rest-decisions.test.mjs \
                tests/js/token-expiry.test.mjs tests/js/send-glue.test.mjs
# Memcheck over the plain host build of the unit suites (sanitizer builds cannot run under
# valgrind). Any invalid access, use of uninitialised memory or leak fails; logs in build/valgrind/.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
            --show-leak-kinds=definite,indirect,possible
test-valgrind: $(addprefix build/host/,$(UNIT_TESTS))
	@mkdir -p build/valgrind; set -e; for t in $(UNIT_TESTS); do \
	  if (cd tests/unit && $(VALGRIND) ../../build/host/$$t >../../build/valgrind/$$t.log 2>&1); then echo "valgrind $$t: clean"; \
	  else echo "valgrind $$t: FAILED (build/valgrind/$$t.log)"; tail -30 build/valgrind/$$t.log; exit 1; fi; done

# The canary (issue 12 item 8): every node suite process preloads tests/canary/hook.mjs, which puts a
# canary token and private key into every client (logging at debug level) and scans all output,
# log records and errors; tests/canary/check.mjs then fails the target if any process saw one, or
# if a suite ran without the hook. CANARY_RUN dir runs node with the hook, leaks recorded in dir.
CANARY_RUN = QOLLECTIVE_CANARY_DIR=build/canary/$(1) $(NODE) --import ./tests/canary/hook.mjs
CANARY_CHECK = QOLLECTIVE_CANARY_DIR=build/canary/$(1) $(NODE) tests/canary/check.mjs

test-js: all
	@rm -rf build/canary/js
	$(call CANARY_RUN,js) --test --test-reporter=spec tests/js/
	$(foreach m,$(filter-out client,$(MODULES)),QOLLECTIVE_MODULE=$(m) QOLLECTIVE_WASM=$($(m)_WASM) \
	  $(call CANARY_RUN,js) --test --test-reporter=spec $(CODEC_SUITES) &&) \
	  QOLLECTIVE_MODULE=codec QOLLECTIVE_WASM=$(codec_WASM) QOLLECTIVE_GLUE=dist/qollective-codec.min.js \
	  $(call CANARY_RUN,js) --test --test-reporter=spec $(CODEC_SUITES)
	QOLLECTIVE_MODULE=rest QOLLECTIVE_WASM=$(rest_WASM) QOLLECTIVE_GLUE=dist/qollective-rest.min.js \
	  $(call CANARY_RUN,js) --test --test-reporter=spec $(REST_SUITES) $(CODEC_SUITES)
	$(call CANARY_CHECK,js) $(wildcard tests/js/*.test.mjs)

# Everything: unit suites (plain, ASan+UBSan, valgrind memcheck), node suites on the real .wasm, the JSON
# differential suite, headless Chromium, short fuzz runs, and the size gate.
test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-asan
	$(MAKE) test-valgrind
	$(MAKE) test-js
	$(MAKE) test-conformance
	$(MAKE) test-browser
	$(MAKE) fuzz-short FUZZ_JOBS=2
	$(MAKE) size
	$(MAKE) size-profile PROFILE_TOP=1 > /dev/null   # the README's make size-profile works for every module
	$(MAKE) bench-core BENCH_CORE_N=200 > /dev/null   # bench/README's make bench-core builds and every call it counts succeeds

# ---------------------------------------------------------------- size
size: all
	@bash scripts/size-gate.sh

# The WebSocket increment on its own line (issue 10): the client module over the REST module, raw /
# gzip -9 / brotli -q 11, gated at the WebSocket budget of size-budget.txt's notes (raw +13 for the
# meta's tape, which lands 13 bytes larger in the client module than in the REST module; +369 raw /
# +179 gzip for the deadline FIFO of src/ws_corr.c, size-budget.txt; +21 raw for the faster schema walk,
# whose shared code lands 21 bytes larger in the client module than in the REST module, 2026-12-05;
# +137 raw / +76 gzip, 2026-12-06: the second REST size pass moves it 15757/7334/6473 -> 15894/7410/6598
# against main e50a660 (15894/7422/6512 with its last steps: tokens_parse through jsmn, the IPv6 reader, rest_id_of), as the config's enum lists compare through json_strings_equal and the REST
# module links no json_string_eq, which the client module keeps for WebSocket frames); +17 gzip,
# 2026-12-06: the fifth codec size pass (no batch decode export) measured 15894/7422/6512 ->
# 15897/7440/6595 on main 44d0a08.
# +16 gzip, 2026-12-06: Rust's f64 spellings (helper f64ryu) measured 15897/7440/6595 -> 15899/7456/6550
# on main 2ded424 (the formatter lands in both modules; gzip's share differs).
WS_INCREMENT_MAX := 15900 7456 6656
.PHONY: ws-size
size: ws-size
ws-size: dist/qollective.wasm dist/qollective-rest.wasm
	@set -- $(WS_INCREMENT_MAX); m() { echo $$(stat -c %s $$1) $$(gzip -9 -c $$1 | wc -c) $$(brotli -q 11 -c $$1 | wc -c); }; \
	  read -r r0 g0 b0 <<< "$$(m dist/qollective-rest.wasm)"; read -r r1 g1 b1 <<< "$$(m dist/qollective.wasm)"; \
	  echo "WebSocket increment over dist/qollective-rest.wasm: $$((r1 - r0)) / $$((g1 - g0)) / $$((b1 - b0)) bytes raw / gzip / brotli (budget $$1 / $$2 / $$3)"; \
	  [ $$((r1 - r0)) -le $$1 ] && [ $$((g1 - g0)) -le $$2 ] && [ $$((b1 - b0)) -le $$3 ] || { echo "size gate: WebSocket increment over budget" >&2; exit 1; }

# ---------------------------------------------------------------- bench
bench: deps all
	$(NODE) bench/codec.mjs
	$(NODE) bench/load.mjs

demo: deps all
	@bash scripts/demo.sh

clean:
	rm -rf build dist

# Feature fragments (fuzzing, browser tests, benchmarks, ...) add their own targets.
include $(sort $(wildcard mk/*.mk))

# A test-only build of the codec module without simd128 (-mno-simd128 after the -msimd128 of
# json.o): its JSON scanner takes the 8-byte path the host build runs. tests/js/simd-scan.test.mjs
# compares it with the shipped codec module over random inputs. Not shipped, not in MODULES.
codec_scalar_WASM := build/qollective-codec-scalar.wasm
codec_scalar_SRC  := $(CODEC_SRC)
codec_scalar_DEFS := -DQ_CODEC_ONLY -mno-simd128
# (here, not on test-js's own line: a prerequisite is expanded where its rule is read)
test-js: $(codec_scalar_WASM)

# After the fragments, so their modules are in MODULES.
$(foreach m,$(MODULES) codec_scalar,$(eval $(call MODULE_RULES,$(m))))
MODULE_WASM := $(foreach m,$(MODULES),$($(m)_WASM))

all: $(MODULE_WASM) dist/qollective.min.js dist/qollective-codec.min.js dist/qollective-rest.min.js

# Where the bytes are, per module: make size-profile [PROFILE_MODULES="codec"] [PROFILE_TOP=30]
# (after the fragments: a prerequisite list is expanded where its rule is read, and mk/tls.mk adds
# the tls module to MODULES)
PROFILE_MODULES ?= $(MODULES)
PROFILE_TOP     ?= 30
size-profile: $(foreach m,$(PROFILE_MODULES),build/$(m).profile.wasm)
	@for m in $(PROFILE_MODULES); do $(NODE) scripts/size-profile.mjs build/$$m.profile.wasm $(PROFILE_TOP) || exit 1; echo; done

# The module artifacts, for tests/js/package.test.mjs (every module must ship and be measured).
print-modules:
	@echo $(MODULE_WASM)
# A module's sources (make -s print-src-rest), for tests/js/error-text.test.mjs.
print-src-%:
	@echo $($*_SRC)
