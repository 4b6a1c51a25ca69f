# Fuzzing (libFuzzer + ASan + UBSan, host clang). Every tests/fuzz/fuzz_*.c is a harness:
# dropping in a new file adds it to the build and to every run below; it may declare
# "fuzz-max-len: N" and "fuzz-dict: FILE" in its opening comment, and seeds go in
# tests/fuzz/corpus/<harness>/.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=1]  build and run each harness for N seconds
#   make fuzz-short                           20 s each (what `make test` runs)
#   make fuzz-regress                         each harness once over its seeds, no fuzzing
#   make fuzz-build                           build only (build/fuzz/<harness>)
#   FUZZ_TOLERATE=1                           skip inputs hitting findings already reported
#                                             (tests/unit/test_regressions.c) to look for new ones
# A crash fails the target and leaves the input in tests/fuzz/corpus-work/artifacts/<harness>/;
# replay it with build/fuzz/<harness> <file>.

FUZZ_SECONDS   ?= 60
FUZZ_JOBS      ?= 1
FUZZ_TOLERATE  ?= 0
FUZZ_DIR       := tests/fuzz
FUZZ_HARNESSES := $(sort $(patsubst $(FUZZ_DIR)/%.c,%,$(wildcard $(FUZZ_DIR)/fuzz_*.c)))
FUZZ_BINS      := $(addprefix build/fuzz/,$(FUZZ_HARNESSES))
FUZZ_CFLAGS    := $(HOST_CFLAGS) -DQ_ALLOC_FAULTS -DQ_DEBUG -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SAN       := address,undefined

.PHONY: fuzz fuzz-short fuzz-regress fuzz-build

# The core is compiled once (instrumented, without libFuzzer's main) and linked into each harness.
FUZZ_CORE_OBJ  := $(patsubst src/%.c,build/fuzz/core/%.o,$(CORE_SRC))
.SECONDARY: $(FUZZ_CORE_OBJ)

build/fuzz build/fuzz/core:
	@mkdir -p $@

build/fuzz/core/%.o: src/%.c $(CORE_HDR) | build/fuzz/core
	$(CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c $< -o $@

build/fuzz/%: $(FUZZ_DIR)/%.c $(FUZZ_DIR)/fuzz_common.h $(FUZZ_CORE_OBJ) $(CORE_HDR) | build/fuzz
	$(CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $< $(FUZZ_CORE_OBJ) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_TOLERATE_KNOWN=$(FUZZ_TOLERATE) bash $(FUZZ_DIR)/run.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-short: $(FUZZ_BINS)
	@FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_TOLERATE_KNOWN=$(FUZZ_TOLERATE) bash $(FUZZ_DIR)/run.sh 20 $(FUZZ_HARNESSES)

# Replays the seed corpora (plus any regressions kept there) without mutating: seconds.
fuzz-regress: $(FUZZ_BINS)
	@fail=0; for h in $(FUZZ_HARNESSES); do \
	  [ -d $(FUZZ_DIR)/corpus/$$h ] || continue; \
	  if build/fuzz/$$h -runs=0 $(FUZZ_DIR)/corpus/$$h >build/fuzz/$$h.regress.log 2>&1; \
	  then echo "$$h: $$(tail -1 build/fuzz/$$h.regress.log)"; \
	  else echo "$$h: FAILED (build/fuzz/$$h.regress.log)"; grep -m3 -E 'FUZZ PROPERTY|ERROR:' build/fuzz/$$h.regress.log; fail=1; fi; \
	done; exit $$fail
