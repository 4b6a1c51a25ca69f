# Instructions a core call takes, counted by callgrind on a host build of the codec module's
# sources (bench/core-calls.c; fixtures from bench/codec-data.mjs, as bench/codec.mjs uses):
#   make bench-core [BENCH_CORE_N=2000] [BENCH_CORE_OPT=-O2]
# prints Ir a call for encode and decode of the compact-full, request and full metas.
BENCH_CORE_N   ?= 2000
BENCH_CORE_OPT ?= -O2
BENCH_CORE_DIR ?= build/bench-core

$(BENCH_CORE_DIR)/core-calls: bench/core-calls.c mk/bench-core.mk $(CODEC_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) -std=c11 -g -gdwarf-4 $(BENCH_CORE_OPT) -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc -DQ_CODEC_ONLY \
	  -D_POSIX_C_SOURCE=200809L bench/core-calls.c $(CODEC_SRC) -o $@

.PHONY: bench-core
bench-core: $(BENCH_CORE_DIR)/core-calls
	@$(NODE) bench/core-fixtures.mjs $(BENCH_CORE_DIR)
	@printf '%-13s %-7s %10s\n' meta call 'Ir a call'
	@for m in compact-full request full; do for op in encode decode; do \
	  valgrind --tool=callgrind --toggle-collect=measure --callgrind-out-file=$(BENCH_CORE_DIR)/cg.$$m.$$op \
	    $(BENCH_CORE_DIR)/core-calls $(BENCH_CORE_DIR) $$m $$op $(BENCH_CORE_N) >/dev/null 2>$(BENCH_CORE_DIR)/vg.log \
	    || { cat $(BENCH_CORE_DIR)/vg.log; exit 1; }; \
	  ir=$$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' $(BENCH_CORE_DIR)/cg.$$m.$$op); \
	  printf '%-13s %-7s %10d\n' $$m $$op $$((ir / $(BENCH_CORE_N))); done; done
