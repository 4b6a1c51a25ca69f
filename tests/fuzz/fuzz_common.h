/* Shared pieces of the libFuzzer harnesses: one arena per process, a fresh scratch region
 * per input, checks on error records, and a loud abort that names the broken property. */
#ifndef Q_FUZZ_COMMON_H
#define Q_FUZZ_COMMON_H
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base.h"
#include "error.h"
#include "arena.h"
#include "json.h"

/* A broken property is a crash libFuzzer records (the message says which property). */
#define FUZZ_CHECK(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "\nFUZZ PROPERTY FAILED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

/* With FUZZ_TOLERATE_KNOWN=1 in the environment (make fuzz FUZZ_TOLERATE=1), inputs that hit
 * a finding already reported (tests/unit/test_regressions.c, F1..F3) are skipped so a run keeps
 * looking for new ones. Off by default: an open finding fails the run. */
static inline bool fuzz_tolerate_known(void) {
    static int v = -1;
    if (v < 0) { const char *e = getenv("FUZZ_TOLERATE_KNOWN"); v = e && *e && *e != '0'; }
    return v;
}

/* The arena is initialised once per process (as the wasm module does at q_init), and every
 * input starts like an exported call: with scratch reset and no fault injection. */
static inline void fuzz_begin(void) {
    static int started;
    if (!started) {
        arena_init(Q_DEFAULT_MEMORY_LIMIT_BYTES);
        started = 1;
    }
#ifdef Q_ALLOC_FAULTS
    arena_fail_nth(0);
#endif
    scratch_reset();
}

/* Every failure must come with a well-formed record: a known negative status, a matching
 * code, a bounded message, an offset inside the input (or none), and valid record JSON. */
static inline void fuzz_check_error(int rc, const q_error *e, uint32_t input_len) {
    FUZZ_CHECK(rc < 0, "status %d is not a failure", rc);
    FUZZ_CHECK(e->status == rc, "record status %d, returned %d (%s)", e->status, rc, e->message);
    FUZZ_CHECK(rc > -(int)Q_IDX_COUNT_, "unknown status %d", rc);
    FUZZ_CHECK(rc != Q_ERR(INTERNAL), "INTERNAL failure (a bug by definition): %s", e->message);
    FUZZ_CHECK(strcmp(e->code, q_status_code(rc)) == 0, "code '%s' for status %s", e->code, q_status_code(rc));
    FUZZ_CHECK(strlen(e->message) <= Q_MAX_ERROR_MESSAGE_CHARS, "message of %zu chars", strlen(e->message));
    FUZZ_CHECK(e->offset == Q_NO_OFFSET || (e->offset >= 0 && e->offset <= (int64_t)input_len),
               "offset %lld outside 0..%u (%s)", (long long)e->offset, input_len, e->message);
    uint8_t rec[Q_ERROR_JSON_BYTES];
    int n = q_error_to_json(e, rec, sizeof rec);
    FUZZ_CHECK(n > 0 && n <= Q_ERROR_JSON_BYTES, "error record of %d bytes", n);
    q_error inner;
    q_error_clear(&inner);
    FUZZ_CHECK(json_validate(rec, (uint32_t)n, Q_DEFAULT_MAX_DEPTH, &inner) == Q_OK,
               "error record is not valid JSON: %.*s", n, (const char *)rec);
}

/* A heap copy (so ASan sees its exact bounds) of scratch output. */
static inline uint8_t *fuzz_dup(const uint8_t *p, uint32_t n) {
    uint8_t *c = malloc(n ? n : 1);
    FUZZ_CHECK(c != NULL, "malloc");
    if (n) memcpy(c, p, n);
    return c;
}

/* Prints bytes as hex (for property messages about short values). */
static inline void fuzz_hex(const char *label, const uint8_t *p, size_t n) {
    fprintf(stderr, "%s (%zu bytes): ", label, n);
    for (size_t i = 0; i < n && i < 256; i++) fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, n > 256 ? "...\n" : "\n");
}
#endif
