/* UTF-16 to UTF-8 in place (utf16.h). Reading unit i at byte 2i and writing at byte o, the output
 * stays at o <= 2i except through a 3-byte character (or a replaced lone surrogate) written when
 * o == 2i, which would overwrite the next unit: then the conversion stops (0). ASCII runs take
 * 16 units a step (wasm simd128; SSE2 in the host build; one unit at a time without either). */
#include "utf16.h"
#include "json.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
/* Bit j set when unit j of the 8 at s is not ASCII. */
static inline uint32_t wide8(const uint8_t *s) {
    return wasm_i16x8_bitmask(wasm_u16x8_gt(wasm_v128_load(s), wasm_i16x8_splat(0x7F)));
}
/* The 16 units at s as 16 bytes at o when all are ASCII; false (nothing written) otherwise. */
static inline bool ascii16(const uint8_t *s, uint8_t *o) {
    v128_t a = wasm_v128_load(s), b = wasm_v128_load(s + 16);
    if (wasm_v128_any_true(wasm_v128_and(wasm_v128_or(a, b), wasm_i16x8_splat((int16_t)0xFF80)))) return false;
    wasm_v128_store(o, wasm_u8x16_narrow_i16x8(a, b));
    return true;
}
#define STEP 1
#elif defined(__SSE2__)
#include <emmintrin.h>
static inline __m128i load128(const uint8_t *s) { return _mm_loadu_si128((const __m128i *)(const void *)s); }
static inline uint32_t wide8(const uint8_t *s) {
    __m128i ascii = _mm_cmpeq_epi16(_mm_and_si128(load128(s), _mm_set1_epi16((short)0xFF80)), _mm_setzero_si128());
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(ascii, _mm_setzero_si128())) ^ 0xFF;
}
static inline bool ascii16(const uint8_t *s, uint8_t *o) {
    __m128i a = load128(s), b = load128(s + 16);
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(_mm_or_si128(a, b), _mm_set1_epi16((short)0xFF80)), _mm_setzero_si128())) != 0xFFFF)
        return false;
    _mm_storeu_si128((__m128i *)(void *)o, _mm_packus_epi16(a, b));
    return true;
}
#define STEP 1
#endif

static inline uint32_t unit(const uint8_t *buf, uint32_t i) { uint16_t u; __builtin_memcpy(&u, buf + 2 * i, 2); return u; }

int32_t utf16_to_utf8_in_place(uint8_t *buf, uint32_t n, uint32_t wide[2]) {
    uint32_t i = 0, o = 0, lone = 0, ascii = 0, first = UINT32_MAX, last = 0;
    if (n >= 1u << 29) return 0;
    while (i < n) {
#ifdef STEP
        /* 16 ASCII units a step (the stores land on units already loaded: o <= 2i); then the
         * ASCII units before the first other one, one by one (without retrying the step) */
        while (n - i >= 16 && ascii16(buf + 2 * i, buf + o)) { i += 16; o += 16; }
        if (n - i >= 8) ascii = (uint32_t)__builtin_ctz(wide8(buf + 2 * i) | 0x100);
        for (; ascii; ascii--) buf[o++] = buf[2 * i++];
        if (i == n) break;
#endif
        uint32_t c = unit(buf, i++);
        if (c - 0xD800 < 0x800) {                               /* a surrogate */
            uint32_t lo = c < 0xDC00 && i < n ? unit(buf, i) - 0xDC00 : 0x400;
            if (lo < 0x400) { i++; c = 0x10000 + ((c - 0xD800) << 10) + lo; }
            else { c = 0xFFFD; lone = 1; }
        }
        if (c - 0x800 < 0xF800 && o + 3 > 2 * i) return 0;     /* 3 bytes would reach unit i */
        uint32_t at = o;
        o += json_utf8_encode(c, buf + o);
        if (c >= 0x80) { if (first > at) first = at; last = o; }
    }
    wide[0] = first < o ? first : o;
    wide[1] = last;
    return (int32_t)(o * 2 + lone);
}
