#!/usr/bin/env bash
# Runs libFuzzer harnesses for a fixed time each and prints one summary line per harness.
# Usage: run.sh SECONDS NAME...   (binaries in build/fuzz/NAME, sources in tests/fuzz/NAME.c)
# Per harness: seeds tests/fuzz/corpus/NAME/ are copied into the gitignored work dir
# tests/fuzz/corpus-work/NAME/ (which keeps what earlier runs found), the log goes to
# tests/fuzz/corpus-work/NAME.log and crash files to tests/fuzz/corpus-work/artifacts/NAME/.
# The source may declare "fuzz-max-len: N" (default 65536) and "fuzz-dict: FILE" (in tests/fuzz/).
# Env: FUZZ_JOBS (harnesses run at once, default 1), FUZZ_ARGS (extra libFuzzer flags).
# Exit status: 0 when every harness ran its time without a finding, 1 otherwise.
set -u
secs=$1; shift
dir=tests/fuzz
work=$dir/corpus-work
jobs=${FUZZ_JOBS:-1}
mkdir -p "$work"

run_one() {
    local name=$1 src=$dir/$1.c bin=build/fuzz/$1
    local maxlen dict args=()
    maxlen=$(grep -o 'fuzz-max-len: *[0-9]\+' "$src" | head -1 | grep -o '[0-9]\+$')
    dict=$(grep -o 'fuzz-dict: *[^ *]\+' "$src" | head -1 | sed 's/fuzz-dict: *//')
    args+=(-max_len="${maxlen:-65536}")
    [ -n "$dict" ] && args+=(-dict="$dir/$dict")
    mkdir -p "$work/$name" "$work/artifacts/$name"
    [ -d "$dir/corpus/$name" ] && cp -n "$dir/corpus/$name"/* "$work/$name"/ 2>/dev/null
    local log=$work/$name.log
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" "${args[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$name/" ${FUZZ_ARGS:-} \
        "$work/$name" >"$log" 2>&1
    local rc=$?
    local execs cov corpus
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]\+' "$log" | tail -1 | grep -o '[0-9]\+$')
    cov=$(grep -o 'cov: [0-9]\+' "$log" | tail -1 | grep -o '[0-9]\+$')
    corpus=$(ls "$work/$name" | wc -l)
    if [ $rc -eq 0 ]; then
        printf '%-24s ok     stat::number_of_executed_units: %-10s (%s s, cov %s, corpus %s)\n' \
            "$name" "${execs:-?}" "$secs" "${cov:-?}" "$corpus"
        return 0
    fi
    printf '%-24s FAILED stat::number_of_executed_units: %-10s (exit %s, log %s)\n' "$name" "${execs:-?}" "$rc" "$log"
    grep -E 'FUZZ PROPERTY FAILED|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|deadly signal' -A2 "$log" | head -12 | sed 's/^/    /'
    grep -o 'Test unit written to .*' "$log" | sed 's/^/    /'
    return 1
}

fail=0
if [ "$jobs" -le 1 ]; then
    for name in "$@"; do run_one "$name" || fail=1; done
else
    # Several at once: each writes its summary to a file, printed in order at the end.
    pids=()
    for name in "$@"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
        run_one "$name" >"$work/$name.summary" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
    for name in "$@"; do cat "$work/$name.summary"; done
fi
exit $fail
