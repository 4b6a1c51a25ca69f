/* Memory helpers for the freestanding build. The compiler also emits calls to
 * memcpy/memset/memmove/memcmp, so on wasm we provide those symbols here. */
#include "base.h"

#if defined(__wasm__)
/* With -mbulk-memory these builtins become memory.copy / memory.fill. */
void *memcpy(void *dst, const void *src, size_t n) { __builtin_memcpy(dst, src, n); return dst; }
void *memmove(void *dst, const void *src, size_t n) { __builtin_memmove(dst, src, n); return dst; }
void *memset(void *dst, int c, size_t n) { __builtin_memset(dst, c, n); return dst; }
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] - y[i];
    return 0;
}
#else
#include <string.h>
#endif

void *q_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *q_memmove(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
void *q_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
int q_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }

bool q_same_bytes(const uint8_t *a, const char *b, uint32_t n) {
    uint32_t j = 0;
    while (j + 4 <= n && q_load32(a + j) == q_load32(b + j)) j += 4;
    while (j < n && a[j] == (uint8_t)b[j]) j++;
    return j == n;
}

void q_wipe(void *p, size_t n) {
    volatile uint8_t *v = p;
    while (n--) *v++ = 0;
}
