/* The arena: owns the heap part of linear memory. Pages come from memory.grow (wasm) or
 * from one reserved mapping (host tests); persistent blocks use size-classed free lists so
 * memory stays flat over millions of calls; scratch is a bump region reset per call. */
#if !defined(__wasm__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1   /* MAP_ANONYMOUS on the host */
#endif
#include "arena.h"

/* ---- page source: a monotonically growing break above the static data ------------- */

#if defined(__wasm__)
extern uint8_t __heap_base;
static uintptr_t heap_start(void) { return (uintptr_t)&__heap_base; }
/* Makes sure linear memory reaches `end`; false when the host refuses to grow. */
static bool host_ensure(uintptr_t end) {
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * Q_PAGE_BYTES;
    if (end <= have) return true;
    uintptr_t pages = (end - have + Q_PAGE_BYTES - 1) / Q_PAGE_BYTES;
    return __builtin_wasm_memory_grow(0, pages) != (size_t)-1;
}
#else
#include <sys/mman.h>
#define HOST_RESERVE ((size_t)1 << 32)  /* address space only; pages are touched lazily */
static uint8_t *host_base;
static uintptr_t heap_start(void) {
    if (!host_base) {
        void *p = mmap(NULL, HOST_RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) __builtin_trap();
        host_base = p;
    }
    return (uintptr_t)host_base;
}
static bool host_ensure(uintptr_t end) { return end - (uintptr_t)host_base <= HOST_RESERVE; }
#endif

#define ALIGN 8u
#define HDR 8u                      /* block header: size class index or large size */
#define N_CLASSES 12                /* 16 B .. 32 KiB */
#define SMALL_MAX (16u << (N_CLASSES - 1))
#define LARGE_TAG 0x80000000u

typedef struct free_block { struct free_block *next; } free_block;
typedef struct large_block { struct large_block *next; uint32_t size; } large_block;
typedef struct chunk { struct chunk *next; uint32_t size; uint32_t used; } chunk;

/* The one global: the arena state (design.md allows the arena and the client table). */
static struct {
    uintptr_t base, brk, limit_end;
    uint32_t limit;
    free_block *classes[N_CLASSES];
    large_block *large;             /* freed large blocks, reused first-fit */
    uint32_t persistent_in_use;
    uint32_t refused;               /* persistent allocations refused so far (arena_refusals) */
    chunk *scratch_first, *scratch_cur;
    uint32_t scratch_in_use;
    uint8_t *scratch_last;          /* start of the most recent scratch allocation */
#ifdef Q_ALLOC_FAULTS
    uint32_t fail_nth, count;
#endif
} A;

static inline uint32_t align_up(uint32_t n, uint32_t a) { return (n + a - 1) & ~(a - 1); }

int arena_init(uint32_t limit_bytes) {
    q_memset(&A, 0, sizeof A);
    A.base = A.brk = (heap_start() + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    if (limit_bytes < Q_MIN_MEMORY_LIMIT_BYTES) limit_bytes = Q_MIN_MEMORY_LIMIT_BYTES;
    A.limit = align_up(limit_bytes, Q_PAGE_BYTES);
    A.limit_end = A.base + A.limit;
    return Q_OK;
}

uint32_t arena_limit(void) { return A.limit; }
uint32_t arena_footprint(void) { return (uint32_t)(A.brk - A.base); }
uint32_t arena_persistent_in_use(void) { return A.persistent_in_use; }
uint32_t arena_scratch_in_use(void) { return A.scratch_in_use; }

#ifdef Q_ALLOC_FAULTS
void arena_fail_nth(uint32_t n) { A.fail_nth = n; A.count = 0; }
uint32_t arena_alloc_count(void) { return A.count; }
static bool injected_failure(void) {
    A.count++;
    if (A.fail_nth && A.count == A.fail_nth) return true;
    return false;
}
#else
static inline bool injected_failure(void) { return false; }
#endif

/* Takes n bytes (aligned) from the break; NULL past the cap or when the host says no. */
static uint8_t *brk_take(uint32_t n) {
    n = align_up(n, ALIGN);
    if (A.brk + n > A.limit_end || A.brk + n < A.brk) return NULL;
    if (!host_ensure(A.brk + n)) return NULL;
    uint8_t *p = (uint8_t *)A.brk;
    A.brk += n;
    return p;
}

static int class_of(uint32_t n) {
    uint32_t sz = 16; int c = 0;
    while (sz < n) { sz <<= 1; c++; }
    return c;
}

/* Allocation without fault injection, for the arena's own bookkeeping. */
static void *alloc_block(uint32_t n) {
    if (n == 0) n = 1;
    if (n > 0x7FFF0000u) return NULL;
    if (n + HDR <= SMALL_MAX) {
        int c = class_of(n + HDR);
        uint32_t sz = 16u << c;
        uint8_t *blk;
        if (A.classes[c]) {
            blk = (uint8_t *)A.classes[c];
            A.classes[c] = A.classes[c]->next;
        } else {
            /* straight from the break: freed blocks come back through the free lists */
            uint8_t *r = brk_take(sz);
            if (!r) return NULL;
            blk = r + HDR;
        }
        *(uint32_t *)(blk - HDR) = (uint32_t)c;
        A.persistent_in_use += sz;
        return blk;
    }
    /* Large: whole pages, reused first-fit from freed large blocks (within 2x). */
    uint32_t need = align_up(n + HDR, Q_PAGE_BYTES);
    large_block **pp = &A.large;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->size >= need && (*pp)->size / 2 <= need) {
            large_block *lb = *pp;
            *pp = lb->next;
            uint8_t *blk = (uint8_t *)lb;
            uint32_t size = lb->size;
            *(uint32_t *)blk = LARGE_TAG | (size / Q_PAGE_BYTES);
            A.persistent_in_use += size;
            return blk + HDR;
        }
    }
    uint8_t *blk = brk_take(need);
    if (!blk) return NULL;
    *(uint32_t *)blk = LARGE_TAG | (need / Q_PAGE_BYTES);
    A.persistent_in_use += need;
    return blk + HDR;
}

void *q_alloc(uint32_t n) {
    void *p = injected_failure() ? NULL : alloc_block(n);
    if (!p) A.refused++;
    return p;
}

uint32_t arena_refusals(void) { return A.refused; }

static uint32_t block_size(uint8_t *p) {
    uint32_t tag = *(uint32_t *)(p - HDR);
    return (tag & LARGE_TAG) ? (tag & ~LARGE_TAG) * Q_PAGE_BYTES : 16u << tag;
}

void q_free(void *ptr) {
    if (!ptr) return;
    uint8_t *p = ptr;
    uint32_t tag = *(uint32_t *)(p - HDR);
    if (tag & LARGE_TAG) {
        uint32_t size = (tag & ~LARGE_TAG) * Q_PAGE_BYTES;
        large_block *lb = (large_block *)(p - HDR);
        lb->size = size;
        lb->next = A.large; A.large = lb;
        A.persistent_in_use -= size;
    } else {
        free_block *fb = (free_block *)p;
        fb->next = A.classes[tag]; A.classes[tag] = fb;
        A.persistent_in_use -= 16u << tag;
    }
}

void *q_calloc(uint32_t count, uint32_t size) {
    if (size && count > 0xFFFFFFFFu / size) return NULL;
    void *p = q_alloc(count * size);
    if (p) q_memset(p, 0, count * size);
    return p;
}

/* Grows a large block that ends at the break in place: the host input buffer, grown right
 * after it was made (a string measured as it is written), then needs no second copy. */
static bool grow_at_break(uint8_t *p, uint32_t n) {
    uint32_t tag = *(uint32_t *)(p - HDR);
    if (!(tag & LARGE_TAG) || n > 0x7FFF0000u) return false;
    uint32_t size = (tag & ~LARGE_TAG) * Q_PAGE_BYTES, need = align_up(n + HDR, Q_PAGE_BYTES);
    if ((uintptr_t)(p - HDR) + size != A.brk || !brk_take(need - size)) return false;
    *(uint32_t *)(p - HDR) = LARGE_TAG | (need / Q_PAGE_BYTES);
    A.persistent_in_use += need - size;
    return true;
}

void *q_realloc(void *p, uint32_t n) {
    if (!p) return q_alloc(n);
    uint32_t have = block_size(p) - HDR;
    if (n <= have) return p;
    void *q = injected_failure() ? NULL : grow_at_break(p, n) ? p : alloc_block(n);
    if (!q) { A.refused++; return NULL; }   /* the old block stays valid: the caller decides */
    if (q == p) return p;
    q_memcpy(q, p, have);
    q_wipe(p, have);              /* a moved block (the input buffer, a token) leaves no copy behind */
    q_free(p);
    return q;
}

/* ---- scratch ---------------------------------------------------------------------- */

#define CHUNK_HDR ((uint32_t)align_up(sizeof(chunk), ALIGN))

static chunk *chunk_new(uint32_t payload) {
    if (payload > 0x7FFF0000u - CHUNK_HDR) return NULL;
    chunk *c = alloc_block(payload + CHUNK_HDR);
    if (!c) return NULL;
    A.persistent_in_use -= block_size((uint8_t *)c);   /* scratch is counted on its own */
    c->next = NULL; c->size = block_size((uint8_t *)c) - HDR - CHUNK_HDR; c->used = 0;
    return c;
}

void scratch_wipe(void) {
    for (chunk *c = A.scratch_first; c; c = c->next) {
        q_wipe((uint8_t *)c + CHUNK_HDR, c->used);
        if (c == A.scratch_cur) break;
    }
}

void scratch_reset(void) {
    chunk *first = A.scratch_first;
    if (first && first->next) {
        /* The last call needed more than one chunk: replace them by one big enough. */
        uint32_t total = 0;
        for (chunk *c = first; c; ) {
            chunk *nx = c->next;
            total += c->used;
            A.persistent_in_use += block_size((uint8_t *)c);   /* q_free subtracts it again */
            q_free(c);
            c = nx;
        }
        A.scratch_first = chunk_new(Q_MAX(total, (uint32_t)Q_SCRATCH_CHUNK_BYTES));
    }
    if (A.scratch_first) A.scratch_first->used = 0;
    A.scratch_cur = A.scratch_first;
    A.scratch_in_use = 0;
    A.scratch_last = NULL;
}

void *scratch_alloc(uint32_t n) {
    if (injected_failure()) return NULL;
    n = align_up(n ? n : 1, ALIGN);
    chunk *c = A.scratch_cur;
    if (!c || c->size - c->used < n) {
        /* A new last chunk (scratch_reset leaves one chunk, so the current one is the last),
         * at least twice the current one: few chunks per call. */
        uint32_t want = Q_MAX(n, (uint32_t)Q_SCRATCH_CHUNK_BYTES);
        if (c && c->size < 0x40000000u) want = Q_MAX(want, c->size * 2);
        chunk *nc = chunk_new(want);
        if (!nc && want > n) nc = chunk_new(n);
        if (!nc) return NULL;
        if (c) c->next = nc; else A.scratch_first = nc;
        A.scratch_cur = c = nc;
    }
    uint8_t *p = (uint8_t *)c + CHUNK_HDR + c->used;
    c->used += n;
    A.scratch_in_use += n;
    A.scratch_last = p;
    return p;
}

int q_buf_reserve(q_buf *b, uint32_t extra) {
    if (b->cap - b->len >= extra) return Q_OK;
    if (extra > 0x7FFF0000u - b->len) return Q_ERR(OUT_OF_MEMORY);
    uint32_t need = b->len + extra;
    chunk *c = A.scratch_cur;
    /* The most recent scratch allocation can grow in place. */
    if (b->ptr && b->ptr == A.scratch_last && c &&
        (uint8_t *)c + CHUNK_HDR + c->used == b->ptr + align_up(b->cap, ALIGN)) {
        uint32_t grow = align_up(need, ALIGN) - align_up(b->cap, ALIGN);
        if (c->size - c->used >= grow) {
            if (injected_failure()) return Q_ERR(OUT_OF_MEMORY);
            c->used += grow; A.scratch_in_use += grow;
            b->cap = align_up(need, ALIGN);
            return Q_OK;
        }
    }
    uint32_t ncap = Q_MAX(need, b->cap < 0x3FFFFFFFu ? b->cap * 2 : need);
    if (ncap < 256) ncap = 256;
    uint8_t *p = scratch_alloc(ncap);
    if (!p && ncap > need) p = scratch_alloc(ncap = need);
    if (!p) return Q_ERR(OUT_OF_MEMORY);
    if (b->len) q_memcpy(p, b->ptr, b->len);
    b->ptr = p; b->cap = align_up(ncap, ALIGN);
    return Q_OK;
}

int q_buf_put(q_buf *b, const void *p, uint32_t n) {
    if (n > b->cap - b->len) { int rc = q_buf_reserve(b, n); if (rc) return rc; }
    if (n) __builtin_memcpy(b->ptr + b->len, p, n);   /* memory.copy, no call into mem.c */
    b->len += n;
    return Q_OK;
}

int q_buf_putc(q_buf *b, uint8_t c) {
    if (b->len == b->cap) { int rc = q_buf_reserve(b, 1); if (rc) return rc; }
    b->ptr[b->len++] = c;
    return Q_OK;
}

int q_buf_puts(q_buf *b, const char *s) { return q_buf_put(b, s, (uint32_t)q_strlen(s)); }
