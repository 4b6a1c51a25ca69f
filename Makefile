# qollective-wasm — one entry point: build, test, bench, size, fuzz, demo.
# `make` builds dist/qollective.wasm (freestanding core). See README.md.

SHELL        := /bin/bash
CC           := clang
WASM_OPT     := wasm-opt
NODE         := node

CORE_SRC     := $(sort $(wildcard src/*.c))
CORE_HDR     := $(wildcard src/*.h include/*.h include/qollective/*.h)
# mem.c defines the libcalls (memcpy, ...) the backend emits; it must not go through LTO.
CORE_LTO_SRC := $(filter-out src/mem.c,$(CORE_SRC))

WASM_CFLAGS  := --target=wasm32 -ffreestanding -nostdlib -fno-exceptions -std=c11 \
                -Wall -Wextra -Werror -Wno-unused-parameter \
                -mbulk-memory -msign-ext -mnontrapping-fptoint -mmutable-globals \
                -Iinclude -Isrc -idirafter /usr/include -fvisibility=hidden
WASM_OPTFLAGS:= -Oz -flto
WASM_LDFLAGS := -Wl,--no-entry -Wl,--gc-sections -Wl,-z,stack-size=131072 \
                -Wl,--initial-memory=1310720

HOST_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
                -Iinclude -Isrc -DQ_DEBUG -DQ_ALLOC_FAULTS -D_POSIX_C_SOURCE=200809L
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

UNIT_TESTS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps wasm test test-unit test-asan test-js test-browser bench size size-profile \
        fuzz demo serve-example clean
all: dist/qollective.wasm dist/qollective.min.js

deps:
	@bash scripts/deps.sh

# ---------------------------------------------------------------- wasm core
build/wasm/%.o: src/%.c $(CORE_HDR) Makefile | build/wasm
	@echo "  CC    $@"; $(CC) $(WASM_CFLAGS) $(WASM_OPTFLAGS) -c $< -o $@
# jsmn at -O2 is both smaller and faster here: -Oz keeps its per-character helpers as calls.
build/wasm/jsmn_impl.o: src/jsmn_impl.c $(CORE_HDR) Makefile | build/wasm
	@echo "  CC    $@"; $(CC) $(WASM_CFLAGS) -O2 -flto -c $< -o $@
build/wasm/mem.o: src/mem.c $(CORE_HDR) Makefile | build/wasm
	@echo "  CC    $@"; $(CC) $(WASM_CFLAGS) -Oz -c $< -o $@

CORE_OBJ := $(patsubst src/%.c,build/wasm/%.o,$(CORE_SRC))

# Link without -O (clang 14 would run wasm-opt itself and fail on bulk memory), then
# optimise with wasm-opt. The unstripped build keeps the name section for size-profile.
# --low-memory-unused: wasm-ld puts data at 1024 and the stack after it, so the first
# 1 KiB is never addressed and small constant offsets fold into loads and stores.
WASM_OPT_PASSES := --low-memory-unused -Oz --converge
build/qollective.names.wasm: $(CORE_OBJ)
	@echo "  CC    $@"; $(CC) $(WASM_CFLAGS) $(WASM_LDFLAGS) $(CORE_OBJ) -o $@
dist/qollective.wasm: build/qollective.names.wasm | dist
	@echo "  OPT   $@"; $(WASM_OPT) $(WASM_OPT_PASSES) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	  --enable-mutable-globals --strip-debug --strip-producers $< -o $@.tmp
	@echo "  OPT   $@"; $(WASM_OPT) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	  --strip-debug $@.tmp -o $@ && rm -f $@.tmp
	@bash scripts/check-imports.sh $@
build/qollective.profile.wasm: build/qollective.names.wasm
	@echo "  OPT   $@"; $(WASM_OPT) $(WASM_OPT_PASSES) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	  --enable-mutable-globals --debuginfo $< -o $@

# The glue as shipped minified (the readable source is js-glue/qollective.js).
dist/qollective.min.js: js-glue/qollective.js | dist
	@echo "  MIN   $@"; node_modules/.bin/esbuild $< --minify --format=esm --target=es2020 --log-level=warning --outfile=$@

build/wasm build/host build/asan dist:
	@mkdir -p $@

# ---------------------------------------------------------------- host builds (tests)
# The same sources, compiled once per flavour (plain, sanitizers) and linked into each suite.
HOST_OBJ := $(patsubst src/%.c,build/host/obj/%.o,$(CORE_SRC))
ASAN_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CORE_SRC))
build/host/obj/%.o: src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) -c $< -o $@
build/asan/obj/%.o: src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@
build/host/%: tests/unit/%.c tests/unit/test_util.h tests/unit/vectors.h $(HOST_OBJ) | build/host
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $< $(HOST_OBJ) -o $@ -lcmocka
build/asan/%: tests/unit/%.c tests/unit/test_util.h tests/unit/vectors.h $(ASAN_OBJ) | build/asan
	@echo "  CC    $@"; $(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $< $(ASAN_OBJ) -o $@ -lcmocka

test-unit: $(addprefix build/host/,$(UNIT_TESTS))
	@set -e; for t in $(UNIT_TESTS); do (cd tests/unit && ../../build/host/$$t); done

test-asan: $(addprefix build/asan/,$(UNIT_TESTS))
	@set -e; for t in $(UNIT_TESTS); do (cd tests/unit && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../../build/asan/$$t); done

test-js: dist/qollective.wasm
	$(NODE) --test --test-reporter=spec tests/js/

# Everything: unit suites (plain and ASan+UBSan), node suites on the real .wasm, the JSON
# differential suite, headless Chromium, short fuzz runs, and the size gate.
test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-asan
	$(MAKE) test-js
	$(MAKE) test-conformance
	$(MAKE) test-browser
	$(MAKE) fuzz-short FUZZ_JOBS=2
	$(MAKE) size

# ---------------------------------------------------------------- size
size: dist/qollective.wasm dist/qollective.min.js
	@bash scripts/size-gate.sh

size-profile: build/qollective.profile.wasm
	@$(NODE) scripts/size-profile.mjs build/qollective.profile.wasm

# ---------------------------------------------------------------- bench
bench: deps all
	$(NODE) bench/codec.mjs

demo: deps all
	@bash scripts/demo.sh

clean:
	rm -rf build dist

# Feature fragments (fuzzing, browser tests, benchmarks, ...) add their own targets.
include $(sort $(wildcard mk/*.mk))
