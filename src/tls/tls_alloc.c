/* mbedtls's calloc/free (MBEDTLS_PLATFORM_CALLOC_MACRO/FREE_MACRO) on the arena: the arena's
 * cap and fault injection apply, and every block is wiped before it is freed, so no key
 * material (big numbers, decoded PEM) outlives the structure that held it. */
#include "tls.h"
#include "arena.h"

/* Each block starts with its size so free can wipe it; 8 bytes keep the payload aligned. */
#define TLS_BLOCK_HDR 8u

void *tls_calloc(size_t count, size_t size) {
    if (count && size > (UINT32_MAX - TLS_BLOCK_HDR) / count) return NULL;
    uint32_t n = (uint32_t)(count * size);
    uint8_t *b = q_calloc(1, n + TLS_BLOCK_HDR);
    if (!b) return NULL;
    *(uint32_t *)b = n;
    return b + TLS_BLOCK_HDR;
}

void tls_free(void *p) {
    if (!p) return;
    uint8_t *b = (uint8_t *)p - TLS_BLOCK_HDR;
    q_wipe(b, *(uint32_t *)b + TLS_BLOCK_HDR);
    q_free(b);
}

/* mbedtls reports a failed allocation with a module-specific code; the low-level codes
 * (0x0001-0x007F) and high-level ones (0x1000-0x7F80) are summed, so both parts are checked. */
bool tls_is_oom(int ret) {
    static const int16_t codes[] = {
        -0x0010 /* MPI */, -0x006A /* ASN1 */, -0x1180 /* PEM */, -0x2880 /* X509 */,
        -0x3F80 /* PK */, -0x4D80 /* ECP */, -0x5180 /* MD */,
    };
    if (ret >= 0) return false;
    int hi = -(-ret & 0xFF80), lo = -(-ret & 0x7F);
    for (uint32_t i = 0; i < Q_ARRAY_LEN(codes); i++)
        if (hi == codes[i] || lo == codes[i]) return true;
    return false;
}

#if defined(__wasm__)
/* wasm-ld lays out static data, then the stack (growing down towards __data_end), then the heap. */
extern uint8_t __data_end;

/* mbedtls leaves key-derived bytes in its stack frames (ECDSA's RFC 6979 seed holds the
 * private scalar, big-number temporaries hold CRT values): zero the whole unused part of
 * the stack once a call that touched a key is done. memory.fill itself uses no stack. */
__attribute__((noinline)) void tls_stack_wipe(void) {
    volatile uint8_t here = 0;
    uint8_t *low = &__data_end, *top = (uint8_t *)&here - 64;   /* stay clear of this frame */
    if (top > low) q_memset(low, 0, (size_t)(top - low));
    (void)here;
}
#else
void tls_stack_wipe(void) {}   /* host builds: the native stack is not the thing scanned */
#endif
