/* The arena: the only owner of linear memory. A persistent heap (size-classed free
 * lists, for state that outlives a call) and a scratch region (bump allocator reset at the
 * start of every exported call). Grows with memory.grow up to a cap; exhaustion returns
 * NULL and the caller reports OUT_OF_MEMORY naming the limit. */
#ifndef Q_ARENA_H
#define Q_ARENA_H

#include "base.h"
#include "error.h"

/* Starts the arena afresh with a cap (bytes of heap the arena may take from the host,
 * rounded up to pages). Every earlier allocation becomes invalid. Called once by the
 * module's init export; tests call it before each case. */
int arena_init(uint32_t limit_bytes);
uint32_t arena_limit(void);
/* Bytes the arena currently holds from the host (heap pages in use). */
uint32_t arena_footprint(void);
/* Bytes handed out and not freed (persistent) / in use (scratch). */
uint32_t arena_persistent_in_use(void);
uint32_t arena_scratch_in_use(void);

/* Persistent allocations: 8-byte aligned, NULL when the cap is reached. */
void *q_alloc(uint32_t n);
void *q_calloc(uint32_t count, uint32_t size);
void *q_realloc(void *p, uint32_t n);
void q_free(void *p);
/* How many persistent allocations have been refused since arena_init: lets a caller tell an
 * out-of-memory apart when a library (mbedtls's chain check) folds it into another verdict. */
uint32_t arena_refusals(void);

/* Scratch allocations: valid until the next scratch_reset(). */
void *scratch_alloc(uint32_t n);
void scratch_reset(void);
/* Zeroes every scratch byte handed out since the last reset (after a call that held secrets). */
void scratch_wipe(void);

/* A growable output buffer in scratch. Extending the most recent scratch allocation is
 * done in place, so a writer that owns the top of scratch never copies. */
typedef struct {
    uint8_t *ptr;
    uint32_t len;
    uint32_t cap;
} q_buf;

/* Makes room for `extra` more bytes; Q_OK or Q_ERR(OUT_OF_MEMORY). */
int q_buf_reserve(q_buf *b, uint32_t extra);
int q_buf_put(q_buf *b, const void *p, uint32_t n);
int q_buf_putc(q_buf *b, uint8_t c);
int q_buf_puts(q_buf *b, const char *s);

#ifdef Q_ALLOC_FAULTS
/* Test builds only: make the nth allocation from now fail (0 = never). */
void arena_fail_nth(uint32_t n);
uint32_t arena_alloc_count(void);
#endif

#endif
