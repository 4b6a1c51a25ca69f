/* Freestanding basics shared by every module: fixed-width types, export macro,
 * byte slices and the few memory helpers the core needs (no libc on wasm). */
#ifndef Q_BASE_H
#define Q_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "qollective/constants.h"

#if defined(__wasm__)
#define Q_EXPORT(name) __attribute__((export_name(#name))) __attribute__((used))
#else
#define Q_EXPORT(name) __attribute__((used))
#endif

#define Q_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define Q_MIN(a, b) ((a) < (b) ? (a) : (b))
#define Q_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Debug asserts trap, release asserts vanish. */
#ifdef Q_DEBUG
#define Q_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)
#else
#define Q_ASSERT(c) ((void)0)
#endif

/* A view of bytes owned by someone else (usually the input buffer). */
typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} q_slice;

static inline q_slice q_slice_make(const void *p, uint32_t n) { q_slice s = { (const uint8_t *)p, n }; return s; }

/* Memory helpers: on wasm they lower to bulk-memory instructions. */
void *q_memcpy(void *dst, const void *src, size_t n);
void *q_memmove(void *dst, const void *src, size_t n);
void *q_memset(void *dst, int c, size_t n);
int q_memcmp(const void *a, const void *b, size_t n);
static inline size_t q_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
/* ASCII classes shared by the URL, origin and hostname parsers. */
static inline bool q_is_digit(uint8_t c) { return (uint8_t)(c - '0') < 10; }
static inline uint8_t q_lower(uint8_t c) { return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c | 32) : c; }
static inline int q_hex_value(uint8_t c) {
    uint32_t d = (uint32_t)c - '0', l = (uint32_t)(c | 0x20) - 'a';   /* 0x20: ASCII letters to lower case */
    return d < 10 ? (int)d : l < 6 ? (int)l + 10 : -1;
}
/* Unaligned little-endian loads (one instruction on wasm and x86). */
static inline uint32_t q_load32(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t q_load64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
/* Overwrites secrets so the optimizer cannot drop the store. */
void q_wipe(void *p, size_t n);

/* true when the n bytes at a equal those at b (a key and a schema's name, compared where the
 * key stands: 4 bytes a step, then the rest). */
bool q_same_bytes(const uint8_t *a, const char *b, uint32_t n);
/* true when the n bytes at p equal the NUL-terminated literal: its length first (a constant
 * for a literal), then one q_memcmp, which every module links anyway. */
static inline bool q_bytes_eq(const uint8_t *p, size_t n, const char *lit) { return q_strlen(lit) == n && !q_memcmp(p, lit, n); }

#endif
