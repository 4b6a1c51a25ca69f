/* The two C library functions the mbedtls parts call that the core does not define
 * (mem.c has memcpy/memset/memmove/memcmp). Ours, so no wasi-libc code is linked. */
#include "base.h"

#if defined(__wasm__)
size_t strlen(const char *s) { return q_strlen(s); }

char *strstr(const char *hay, const char *needle) {
    for (;; hay++) {
        size_t i = 0;
        while (needle[i] && hay[i] == needle[i]) i++;
        if (!needle[i]) return (char *)hay;
        if (!*hay) return NULL;
    }
}
#endif
