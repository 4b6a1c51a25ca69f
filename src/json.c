/* JSON validation and writing: a strict RFC 8259 validator (iterative, explicit bit stack,
 * word-at-a-time string scanning), the compactor that shares it, decoders for validated
 * string bodies and the compact writer.
 *
 * Error offsets (err->offset, absolute byte index into `in`):
 * - JSON_TRUNCATED: always len (the input ended where more was required, including inside
 *   a string, an escape, a UTF-8 sequence, a number like "1." / "-" / "1e", or a literal).
 * - JSON_SYNTAX: the unexpected byte (a byte that cannot start a value, a missing ',' ':'
 *   or bracket, a wrong letter in true/false/null). Bytes >= 0x80 outside strings are
 *   JSON_SYNTAX too (so is a UTF-8 BOM at offset 0).
 * - JSON_NUMBER: the byte where a digit was required ("-a", "1.x", "1ex") or the digit
 *   after a leading zero ("01" fails at 1).
 * - JSON_CONTROL_CHAR: the raw control byte inside the string.
 * - JSON_ESCAPE: the byte after the backslash for an unknown escape, or the first
 *   non-hex digit of a \u escape.
 * - JSON_SURROGATE: the backslash of the unpaired \u escape (a lone low surrogate, or a
 *   high surrogate not followed by a \u low surrogate escape).
 * - JSON_UTF8: the first byte (lead byte, or stray continuation byte) of the ill-formed
 *   sequence.
 * - JSON_DEPTH: the opening bracket that would exceed max_depth.
 * - OUT_OF_RANGE: the first byte ('-' included) of a number no double holds (serde_json
 *   refuses the whole body for one).
 * - JSON_EMPTY: len.  JSON_TRAILING: the first non-whitespace byte after the value.
 * Messages carry only static detail text, never input bytes. */
#include "json.h"
#include "num.h"
#include <stdarg.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "json.c assumes a little-endian target"
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
#define COLD __attribute__((noinline, cold))

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nesting levels tracked on the C stack (one bit each); deeper scans move to scratch. */
#define LOCAL_LEVELS 2048u

static inline uint64_t load64(const uint8_t *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline uint32_t load32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }

static inline bool is_ws(uint8_t c) { return c <= ' ' && ((0x100002600ull >> c) & 1); }


/* High bit set in each byte of x the writer escapes: < 0x20, '"' or '\\' (bytes >= 0x80 are
 * plain). Borrows only flag bytes above a flagged one, so the lowest flag is exact. */
static inline uint64_t esc_special(uint64_t x) {
    uint64_t lt = x - ONES * 0x20;
    uint64_t q = (x ^ (ONES * '"')) - ONES;
    uint64_t bs = (x ^ (ONES * '\\')) - ONES;
    return (lt | q | bs) & ~x & HIGHS;
}

static inline uint32_t first_flag(uint64_t m) { return (uint32_t)__builtin_ctzll(m) >> 3; }

/* 16 bytes a step: the wasm modules use simd128 (json.c is built with -msimd128, see the Makefile),
 * the host build SSE2, so the unit suites, ASan, valgrind and the fuzzers run the same steps and
 * tails the modules do. Without either (build/qollective-codec-scalar.wasm, for
 * tests/js/simd-scan.test.mjs) the scan reads 8 bytes a step with str_special. */
#if defined(__wasm_simd128__) || defined(__SSE2__)
#define STEP16 1
#define ALWAYS_INLINE inline __attribute__((always_inline))
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
/* Bit i set when in[i] ends a plain string run: < 0x20, '"', '\\' or >= 0x80 (one signed compare
 * catches both < 0x20 and >= 0x80, negative as int8). */
static ALWAYS_INLINE uint32_t str_special16(const uint8_t *in) {
    v128_t x = wasm_v128_load(in);
    v128_t m = wasm_v128_or(wasm_i8x16_lt(x, wasm_i8x16_splat(0x20)),
                            wasm_v128_or(wasm_i8x16_eq(x, wasm_i8x16_splat('"')), wasm_i8x16_eq(x, wasm_i8x16_splat('\\'))));
    return wasm_i8x16_bitmask(m);
}
/* Bit i set when s[i] == c. */
static ALWAYS_INLINE uint32_t byte_mask16(const uint8_t *s, uint8_t c) {
    return wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(s), wasm_i8x16_splat((int8_t)c)));
}
#else
#include <emmintrin.h>
static ALWAYS_INLINE uint32_t str_special16(const uint8_t *in) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)in);
    __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                             _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
    return (uint32_t)_mm_movemask_epi8(m);
}
static ALWAYS_INLINE uint32_t byte_mask16(const uint8_t *s, uint8_t c) {
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)s), _mm_set1_epi8((char)c)));
}
#endif
#else
/* High bit set in each byte of x that ends a plain string run: < 0x20, '"', '\\' or >= 0x80.
 * Borrows only flag bytes above a flagged one, so the lowest flag is exact. */
static inline uint64_t str_special(uint64_t x) {
    uint64_t lt = x - ONES * 0x20;
    uint64_t q = (x ^ (ONES * '"')) - ONES;
    uint64_t bs = (x ^ (ONES * '\\')) - ONES;
    return (lt | q | bs | x) & HIGHS;
}
#endif

/* Failure helpers returning 0 (0 is never a valid "position after a token"). */
static COLD uint32_t fail0(q_error *err, int status, uint32_t off, const char *detail) {
    q_fail(err, status, off, NULL, detail);
    return 0;
}
static uint32_t trunc0(q_error *err, uint32_t len) { return fail0(err, Q_ERR(JSON_TRUNCATED), len, NULL); }
static COLD int truncated(q_error *err, uint32_t len) { return q_fail(err, Q_ERR(JSON_TRUNCATED), len, NULL, NULL); }

/* ------------------------------------------------------------------ UTF-8 */

/* Length of the well-formed UTF-8 sequence at s[i] (s[i] >= 0x80), 0 when ill-formed,
 * -1 when the input ends before the sequence does (and what is there is fine). */
static int utf8_seq(const uint8_t *s, uint32_t n, uint32_t i) {
    uint8_t c = s[i], lo = 0x80, hi = 0xBF;
    uint32_t need;
    if (c < 0xC2) return 0;                          /* continuation, or overlong C0/C1 */
    if (c < 0xE0) need = 1;
    else if (c < 0xF0) { need = 2; if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F; }
    else if (c < 0xF5) { need = 3; if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F; }
    else return 0;
    uint32_t avail = n - i - 1;
    if (avail == 0) return -1;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (uint32_t k = 2; k <= need; k++) {
        if (k > avail) return -1;
        if ((s[i + k] & 0xC0) != 0x80) return 0;
    }
    return (int)need + 1;
}

static COLD uint32_t utf8_fail(q_error *err, const uint8_t *s, uint32_t n, uint32_t i) {
    uint8_t c = s[i], c1 = i + 1 < n ? s[i + 1] : 0;
    const char *d = QD(INVALID_OR_TRUNCATED_SEQUENCE);
    if (c < 0xC0) d = QD(UNEXPECTED_CONTINUATION_BYTE);
    else if (c < 0xC2 || (c == 0xE0 && c1 < 0xA0 && c1 >= 0x80) || (c == 0xF0 && c1 < 0x90 && c1 >= 0x80))
        d = QD(OVERLONG_ENCODING);
    else if (c == 0xED && c1 >= 0xA0 && c1 <= 0xBF) d = QD(ENCODED_SURROGATE);
    else if (c >= 0xF5 || (c == 0xF4 && c1 >= 0x90 && c1 <= 0xBF)) d = QD(ABOVE_U_10FFFF);
    return fail0(err, Q_ERR(JSON_UTF8), i, d);
}

int json_utf8_validate(const uint8_t *s, uint32_t n, q_error *err) {
    uint32_t i = 0;
    while (i < n) {
        if (n - i >= 8 && !(load64(s + i) & HIGHS)) { i += 8; continue; }
        if (s[i] < 0x80) { i++; continue; }
        int k = utf8_seq(s, n, i);
        if (k <= 0) { utf8_fail(err, s, n, i); return Q_ERR(JSON_UTF8); }
        i += (uint32_t)k;
    }
    return Q_OK;
}

/* ------------------------------------------------------------------ scanning */

static inline int hexval(uint8_t c) { return q_hex_value(c); }   /* both readers below (at -Oz, one copy) */

/* Reads 4 hex digits at in[p..p+4); returns the value, or -1 with err set. */
static int32_t scan_hex4(const uint8_t *in, uint32_t len, uint32_t p, q_error *err) {
    int32_t v = 0;
    for (uint32_t k = 0; k < 4; k++) {
        if (p + k >= len) { trunc0(err, len); return -1; }
        int h = hexval(in[p + k]);
        if (h < 0) { fail0(err, Q_ERR(JSON_ESCAPE), p + k, QD(EXPECTED_A_HEX_DIGIT)); return -1; }
        v = v << 4 | h;
    }
    return v;
}

/* Validates the escape whose backslash is at in[p]; returns the position after it. */
static NOINLINE uint32_t scan_escape(const uint8_t *in, uint32_t len, uint32_t p, q_error *err) {
    if (p + 1 >= len) return trunc0(err, len);
    switch (in[p + 1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u': break;
    default: return fail0(err, Q_ERR(JSON_ESCAPE), p + 1, NULL);
    }
    int32_t cp = scan_hex4(in, len, p + 2, err);
    if (cp < 0) return 0;
    if (cp < 0xD800 || cp > 0xDFFF) return p + 6;
    if (cp >= 0xDC00) return fail0(err, Q_ERR(JSON_SURROGATE), p, QD(LONE_LOW_SURROGATE));
    uint32_t q = p + 6;
    if (q >= len || (in[q] == '\\' && q + 1 >= len)) return trunc0(err, len);
    if (in[q] != '\\' || in[q + 1] != 'u')
        return fail0(err, Q_ERR(JSON_SURROGATE), p, QD(HIGH_SURROGATE_WITHOUT_A_LOW_SURROGATE));
    int32_t lo = scan_hex4(in, len, q + 2, err);
    if (lo < 0) return 0;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail0(err, Q_ERR(JSON_SURROGATE), p, QD(HIGH_SURROGATE_WITHOUT_A_LOW_SURROGATE));
    return q + 6;
}

/* Validates a run of non-ASCII sequences starting at in[p] (>= 0x80). */
static NOINLINE uint32_t scan_utf8(const uint8_t *in, uint32_t len, uint32_t p, q_error *err) {
    do {
        if (len - p >= 4) {                   /* fast path: 2-byte and the plain 3-byte leads */
            uint8_t c = in[p];
            uint32_t w = load32(in + p);
            if ((uint8_t)(c - 0xC2) < 0x1E && (w & 0xC000) == 0x8000) { p += 2; continue; }
            if ((uint8_t)(c - 0xE1) < 0x0F && c != 0xED && (w & 0xC0C000) == 0x808000) { p += 3; continue; }
        }
        int k = utf8_seq(in, len, p);
        if (UNLIKELY(k <= 0)) return k < 0 ? trunc0(err, len) : utf8_fail(err, in, len, p);
        p += (uint32_t)k;
    } while (p < len && in[p] >= 0x80);
    return p;
}

/* p is just past the opening quote; returns the position past the closing quote, or 0. */
static inline uint32_t scan_string(const uint8_t *in, uint32_t len, uint32_t p, q_error *err, int *escaped) {
    for (;;) {
        uint8_t c;
#ifdef STEP16
        /* The next load's address must not wait on this one's mask (a select of "16 or the
         * flag's index" would chain every step to the one before), so the step and the exit
         * update different variables. */
        while (len - p >= 16 && !str_special16(in + p)) p += 16;
        if (len - p >= 16) { p += (uint32_t)__builtin_ctz(str_special16(in + p)); goto special; }
#else
        while (LIKELY(len - p >= 8)) {
            uint64_t m = str_special(load64(in + p));
            if (m) { p += first_flag(m); goto special; }
            p += 8;
        }
#endif
        for (;;) {
            if (p >= len) return trunc0(err, len);
            c = in[p];
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            p++;
        }
    special:
        c = in[p];
        if (LIKELY(c == '"')) return p + 1;
        if (c == '\\') { p = scan_escape(in, len, p, err); if (escaped) *escaped = 1; }
        else if (c < 0x20) return fail0(err, Q_ERR(JSON_CONTROL_CHAR), p, NULL);
        else p = scan_utf8(in, len, p, err);
        if (UNLIKELY(!p)) return 0;
    }
}

#if defined(STEP16) && !defined(Q_CODEC_ONLY)
/* scan_impl's strings in the client modules: most are short and plain, so the first 16-byte step ends
 * them at their closing quote without a call; anything else (a longer string, an escape, non-ASCII,
 * the input's last 16 bytes) goes to scan_string. The codec module keeps the call (its size line:
 * +261 B raw for about -3 % of a 16 KB decode). */
static ALWAYS_INLINE uint32_t scan_string_short(const uint8_t *in, uint32_t len, uint32_t p, q_error *err) {
    if (LIKELY(len - p >= 16)) {
        uint32_t m = str_special16(in + p);
        if (m) { uint32_t q = p + (uint32_t)__builtin_ctz(m); if (LIKELY(in[q] == '"')) return q + 1; }
    }
    return json_scan_string(in, len, p - 1, err, NULL);
}
#else
#define scan_string_short(in, len, p, err) json_scan_string(in, len, (p) - 1, err, NULL)
#endif
/* (Both call json_scan_string, not scan_string: scan_string then has one caller and is inlined
 * there, so a string the schema walks read through json_scan_string costs one call, not two.) */

/* in[p] is '-' or a digit; returns the position after the number, or 0. */
static uint32_t scan_number(const uint8_t *in, uint32_t len, uint32_t p, q_error *err) {
    uint32_t start = p, int_start;
    bool exp = false;
    if (in[p] == '-' && ++p >= len) return trunc0(err, len);
    int_start = p;
    if (in[p] == '0') {
        p++;
        if (p < len && q_is_digit(in[p])) return fail0(err, Q_ERR(JSON_NUMBER), p, QD(LEADING_ZERO));
    } else if (q_is_digit(in[p])) {
        do p++; while (p < len && q_is_digit(in[p]));
    } else {
        return fail0(err, Q_ERR(JSON_NUMBER), p, QD(EXPECTED_A_DIGIT));
    }
    uint32_t int_digits = p - int_start;
    if (p < len && in[p] == '.') {
        if (++p >= len) return trunc0(err, len);
        if (!q_is_digit(in[p])) return fail0(err, Q_ERR(JSON_NUMBER), p, QD(EXPECTED_A_DIGIT_AFTER_THE_POINT));
        do p++; while (p < len && q_is_digit(in[p]));
    }
    if (p < len && (in[p] | 0x20) == 'e') {
        exp = true;
        if (++p >= len) return trunc0(err, len);
        if (in[p] == '+' || in[p] == '-') { if (++p >= len) return trunc0(err, len); }
        if (!q_is_digit(in[p])) return fail0(err, Q_ERR(JSON_NUMBER), p, QD(EXPECTED_A_DIGIT_IN_THE_EXPONENT));
        do p++; while (p < len && q_is_digit(in[p]));
    }
    /* serde_json reads every number that fits no 64-bit integer as an f64 and refuses the
     * whole body when it overflows; without an exponent only 309+ digits can. */
    if ((exp || int_digits > 308) && num_check_f64(in + start, p - start))
        return fail0(err, Q_ERR(OUT_OF_RANGE), start, QD(EXCEEDS_A_64_BIT_FLOAT));
    return p;
}

/* Slow path of a literal: finds the first wrong byte (or the end of input). */
static COLD uint32_t literal_fail(const uint8_t *in, uint32_t len, uint32_t p, const char *lit, q_error *err) {
    for (uint32_t k = 0; lit[k]; k++) {
        if (p + k >= len) return trunc0(err, len);
        if (in[p + k] != (uint8_t)lit[k]) return fail0(err, Q_ERR(JSON_SYNTAX), p + k, QD(INVALID_LITERAL));
    }
    return p;   /* not reached: the fast path accepted it */
}

/* A run of whitespace at in[p] (scan_impl's SKIP_WS, out of line: compact JSON has none):
 * returns the index after it; when compacting, flushes the bytes since *run first. */
static NOINLINE uint32_t space_run(const uint8_t *in, uint32_t len, uint32_t p, uint8_t *out, uint32_t *o, uint32_t *run) {
    uint32_t ws0 = p;
    do p++; while (p < len && is_ws(in[p]));
    if (out) { q_memmove(out + *o, in + *run, ws0 - *run); *o += ws0 - *run; *run = p; }
    return p;
}

/* The validator; with out != NULL it also copies the value minus whitespace. Copying
 * flushes the run of bytes since the last whitespace, so compact input is one move. */
static int scan_impl(const uint8_t *in, uint32_t len, uint32_t pos, uint32_t depth,
                     uint32_t max_depth, uint8_t *out, uint32_t *end, uint32_t *out_len,
                     q_error *err) {
    uint32_t local[LOCAL_LEVELS / 32];
    uint32_t *stack = local;                 /* bit per open container: 1 = object */
    uint32_t stack_cap = LOCAL_LEVELS;
    uint32_t lim = max_depth > depth ? max_depth - depth : 0;
    uint32_t d = 0;                          /* open containers in this scan */
    bool in_obj = false;                     /* type of the innermost one */
    uint32_t p = pos, run = pos, o = 0;
    uint8_t c;

#define SKIP_WS() do { if (p < len && is_ws(in[p])) p = space_run(in, len, p, out, &o, &run); } while (0)

value:
    if (UNLIKELY(p >= len)) return truncated(err, len);
    c = in[p];
    if (c == '"') {                           /* the common cases first, off the jump table */
        p = scan_string_short(in, len, p + 1, err);
        if (UNLIKELY(!p)) return err->status;
        goto after;
    }
    if (q_is_digit(c) || c == '-') {
        p = scan_number(in, len, p, err);
        if (UNLIKELY(!p)) return err->status;
        goto after;
    }
    switch (c) {
    case '{': case '[':
        if (UNLIKELY(d >= lim)) return q_fail(err, Q_ERR(JSON_DEPTH), p, NULL, NULL);
        if (UNLIKELY(d == stack_cap)) {
            /* Depth is bounded by the limit and by the input (one byte per level). */
            uint32_t want = Q_MIN(lim, len - pos), words = want / 32 + 1;
            uint32_t *grown = scratch_alloc(words * 4);
            if (!grown) return q_fail(err, Q_ERR(OUT_OF_MEMORY), p, NULL, QD(JSON_NESTING_STACK));
            q_memcpy(grown, stack, stack_cap / 8);
            stack = grown;
            stack_cap = words * 32;
        }
        in_obj = c == '{';
        stack[d >> 5] = (stack[d >> 5] & ~(1u << (d & 31))) | ((uint32_t)in_obj << (d & 31));
        d++;
        p++;
        SKIP_WS();
        if (UNLIKELY(p >= len)) return truncated(err, len);
        if (in[p] == (uint8_t)(c + 2)) { p++; goto close; }   /* '[' + 2 = ']', '{' + 2 = '}' */
        if (in_obj) goto key;
        goto value;
    case 't':
        if (LIKELY(len - p >= 4 && load32(in + p) == 0x65757274u)) { p += 4; break; }
        literal_fail(in, len, p, "true", err);
        return err->status;
    case 'f':
        if (LIKELY(len - p >= 5 && load32(in + p + 1) == 0x65736c61u)) { p += 5; break; }
        literal_fail(in, len, p, "false", err);
        return err->status;
    case 'n':
        if (LIKELY(len - p >= 4 && load32(in + p) == 0x6c6c756eu)) { p += 4; break; }
        literal_fail(in, len, p, "null", err);
        return err->status;
    case ' ': case '\t': case '\n': case '\r':
        /* whitespace before a value inside a container (after ':', ',' or '['); the scan's
         * own first value has none (its callers skip it): there it is an error, as before */
        if (d) { p = space_run(in, len, p, out, &o, &run); goto value; }
        /* fall through */
    default:
        return q_fail(err, Q_ERR(JSON_SYNTAX), p, NULL,
                      c >= 0x80 ? QD(NON_ASCII_BYTE_OUTSIDE_A_STRING) : QD(EXPECTED_A_VALUE));
    }

/* Compact JSON has no whitespace: each place looks at its expected byte first and takes the
 * whitespace path (space_run) only on a whitespace byte. */
after:
    if (d == 0) goto done;
    if (UNLIKELY(p >= len)) return truncated(err, len);
    c = in[p];
    if (UNLIKELY(is_ws(c))) { p = space_run(in, len, p, out, &o, &run); goto after; }
    if (c == ',') {
        p++;
        if (in_obj) goto key;
        goto value;
    }
    if (c == (in_obj ? '}' : ']')) { p++; goto close; }
    return q_fail(err, Q_ERR(JSON_SYNTAX), p, NULL, in_obj ? QD(EXPECTED_COMMA_OR_BRACE) : QD(EXPECTED_COMMA_OR_BRACKET));

close:
    d--;
    if (d) in_obj = (stack[(d - 1) >> 5] >> ((d - 1) & 31)) & 1;
    goto after;

key:
    if (UNLIKELY(p >= len)) return truncated(err, len);
    if (UNLIKELY(in[p] != '"')) {
        if (!is_ws(in[p])) return q_fail(err, Q_ERR(JSON_SYNTAX), p, NULL, QD(EXPECTED_A_STRING_KEY));
        p = space_run(in, len, p, out, &o, &run);
        goto key;
    }
    p = scan_string_short(in, len, p + 1, err);
    if (UNLIKELY(!p)) return err->status;
    if (UNLIKELY(p >= len || in[p] != ':')) {
        SKIP_WS();
        if (UNLIKELY(p >= len)) return truncated(err, len);
        if (UNLIKELY(in[p] != ':')) return q_fail(err, Q_ERR(JSON_SYNTAX), p, NULL, QD(EXPECTED_COLON));
    }
    p++;
    goto value;

done:
    if (out) { q_memmove(out + o, in + run, p - run); o += p - run; *out_len = o; }
    *end = p;
    return Q_OK;
#undef SKIP_WS
}

uint32_t json_scan_string(const uint8_t *in, uint32_t len, uint32_t pos, q_error *err, int *escaped) {
    return scan_string(in, len, pos + 1, err, escaped);
}

uint32_t json_skip_ws(const uint8_t *in, uint32_t len, uint32_t pos) {
    while (pos < len && is_ws(in[pos])) pos++;
    return pos;
}

int json_scan_value(const uint8_t *in, uint32_t len, uint32_t pos, uint32_t depth,
                    uint32_t max_depth, uint32_t *end, q_error *err) {
    return scan_impl(in, len, pos, depth, max_depth, NULL, end, NULL, err);
}

/* out may also be in + pos (compaction in place): the copy never overtakes the scan. */
int json_compact_value(const uint8_t *in, uint32_t len, uint32_t pos, uint32_t depth,
                       uint32_t max_depth, uint8_t *out, uint32_t *end, uint32_t *out_len,
                       q_error *err) {
    if (!out) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(NO_OUTPUT_BUFFER));
    return scan_impl(in, len, pos, depth, max_depth, out, end, out_len, err);
}

int json_validate(const uint8_t *in, uint32_t len, uint32_t max_depth, q_error *err) {
    uint32_t p = json_skip_ws(in, len, 0), end;
    if (p == len) return q_fail(err, Q_ERR(JSON_EMPTY), len, NULL, NULL);
    if (p == 0 && len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF)
        return q_fail(err, Q_ERR(JSON_SYNTAX), 0, NULL, QD(BYTE_ORDER_MARK));
    int rc = json_scan_value(in, len, p, 0, max_depth, &end, err);
    if (rc) return rc;
    p = json_skip_ws(in, len, end);
    if (p != len) return q_fail(err, Q_ERR(JSON_TRAILING), p, NULL, NULL);
    return Q_OK;
}

/* ------------------------------------------------------------------ validated bodies */

static uint32_t utf8_encode(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | cp >> 6); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12); o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18); o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

#ifndef Q_CODEC_ONLY   /* for utf16.c, which the codec module leaves out (a second caller changes decode_escape's code) */
uint32_t json_utf8_encode(uint32_t cp, uint8_t *o) { return utf8_encode(cp, o); }
#endif

/* Hex value of 4 digits already validated (garbage, but no overread, otherwise). */
static uint32_t hex4(const uint8_t *s) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) v = v << 4 | (uint32_t)(hexval(s[k]) & 15);
    return v;
}

/* Decodes the escape whose backslash is at s[i] into buf (1..4 bytes, *bl); returns the
 * index after it. Never reads past n; a malformed escape (only possible if the body was
 * not validated) yields the backslash itself, a lone surrogate yields U+FFFD. */
static uint32_t decode_escape(const uint8_t *s, uint32_t n, uint32_t i, uint8_t *buf, uint32_t *bl) {
    uint8_t c;
    *bl = 1;
    if (i + 1 >= n) { buf[0] = '\\'; return i + 1; }
    switch (s[i + 1]) {
    case 'b': c = 0x08; break;
    case 'f': c = 0x0C; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': {
        if (n - i < 6) { buf[0] = '\\'; return i + 1; }
        uint32_t cp = hex4(s + i + 2), next = i + 6;
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            uint32_t lo = 0;
            if (cp < 0xDC00 && n - next >= 6 && s[next] == '\\' && s[next + 1] == 'u')
                lo = hex4(s + next + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                next += 6;
            } else {
                cp = 0xFFFD;
            }
        }
        *bl = utf8_encode(cp, buf);
        return next;
    }
    default: c = s[i + 1]; break;   /* '"', '\\', '/' */
    }
    buf[0] = c;
    return i + 2;
}

/* Index of the first byte c in s[i..n), or n. */
static NOINLINE uint32_t find_byte(const uint8_t *s, uint32_t i, uint32_t n, uint8_t c) {
#ifdef STEP16
    for (; n - i >= 16; i += 16) {
        uint32_t m = byte_mask16(s + i, c);
        if (m) return i + (uint32_t)__builtin_ctz(m);
    }
#else
    while (n - i >= 8) {
        uint64_t y = load64(s + i) ^ (ONES * c);
        uint64_t m = (y - ONES) & ~y & HIGHS;
        if (m) return i + first_flag(m);
        i += 8;
    }
#endif
    while (i < n && s[i] != c) i++;
    return i;
}

static uint32_t find_backslash(const uint8_t *s, uint32_t i, uint32_t n) { return find_byte(s, i, n, '\\'); }

bool json_utf8_has_replacement(const uint8_t *s, uint32_t n) {
    for (uint32_t i = 0; (i = find_byte(s, i, n, 0xEF)) < n; i++)
        if (n - i >= 3 && s[i + 1] == 0xBF && s[i + 2] == 0xBD) return true;
    return false;
}

static uint32_t unescape_to(const uint8_t *s, uint32_t n, uint8_t *out, bool reescape);

uint32_t json_unescape(const uint8_t *body, uint32_t n, uint8_t *out) { return unescape_to(body, n, out, false); }

/* A decoded-byte reader over a validated body. */
typedef struct {
    const uint8_t *s;
    uint32_t n, i, bl, bi;
    uint8_t buf[4];
} dec_iter;

static int dec_next(dec_iter *it) {
    if (it->bi < it->bl) return it->buf[it->bi++];
    if (it->i >= it->n) return -1;
    uint8_t c = it->s[it->i];
    if (c != '\\') { it->i++; return c; }
    it->i = decode_escape(it->s, it->n, it->i, it->buf, &it->bl);
    it->bi = 1;
    return it->buf[0];
}

bool json_string_eq(const uint8_t *body, uint32_t n, const char *lit, uint32_t lit_len) {
    if (n < lit_len) return false;            /* decoding never lengthens */
    dec_iter it = { body, n, 0, 0, 0, {0} };
    for (uint32_t j = 0; j < lit_len; j++)
        if (dec_next(&it) != (uint8_t)lit[j]) return false;
    return dec_next(&it) < 0;
}

/* Decoded byte by decoded byte, with no fast path for plain bytes: its callers are rare paths
 * (map keys whose hashes share a slot; in the codec walks, escaped keys and enum values, which
 * compare with a plain name, as a body without escapes reads as itself). */
bool json_strings_equal(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
    dec_iter x = { a, an, 0, 0, 0, {0} }, y = { b, bn, 0, 0, 0, {0} };
    int c;
    do {
        c = dec_next(&x);
        if (c != dec_next(&y)) return false;
    } while (c >= 0);
    return true;
}

uint32_t json_string_hash(const uint8_t *body, uint32_t n) {
    uint32_t h = 2166136261u;
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = body[i];
        if (c != '\\') { h = (h ^ c) * 16777619u; i++; continue; }
        uint8_t buf[4];
        uint32_t bl;
        i = decode_escape(body, n, i, buf, &bl);
        for (uint32_t k = 0; k < bl; k++) h = (h ^ buf[k]) * 16777619u;
    }
    return h;
}

/* ------------------------------------------------------------------ writer */

static const char HEX[] = "0123456789abcdef";

static inline bool needs_esc(uint8_t c) { return c < 0x20 || c == '"' || c == '\\'; }

/* Short escape letter for a control byte, 0 when it takes the \u00XX form. */
static inline uint8_t short_esc(uint8_t c) {
    switch (c) {
    case 0x08: return 'b';
    case 0x09: return 't';
    case 0x0A: return 'n';
    case 0x0C: return 'f';
    case 0x0D: return 'r';
    case '"': return '"';
    case '\\': return '\\';
    default: return 0;
    }
}

/* Writes the escaped form of c (needs_esc(c)) at o; returns bytes written. */
static uint32_t put_esc(uint8_t *o, uint8_t c) {
    uint8_t s = short_esc(c);
    o[0] = '\\';
    if (s) { o[1] = s; return 2; }
    o[1] = 'u'; o[2] = '0'; o[3] = '0';
    o[4] = (uint8_t)HEX[c >> 4]; o[5] = (uint8_t)HEX[c & 15];
    return 6;
}

/* \uXXXX for one UTF-16 code unit. */
static uint32_t put_unit(uint8_t *o, uint32_t u) {
    o[0] = '\\'; o[1] = 'u';
    for (int k = 0; k < 4; k++) o[2 + k] = (uint8_t)HEX[(u >> (12 - 4 * k)) & 15];
    return 6;
}

/* Bytes of the UTF-8 sequence a lead byte starts (1 for ASCII and stray bytes). */
static inline uint32_t seq_len(uint8_t c) { return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

uint32_t json_utf8_prefix(const uint8_t *s, uint32_t n) {
    uint32_t i = n;
    while (i > 0 && (s[i - 1] & 0xC0) == 0x80) i--;                 /* continuation bytes */
    if (i > 0 && s[i - 1] >= 0xC0) return n - (i - 1) >= seq_len(s[i - 1]) ? n : i - 1;
    return n;
}

static inline bool escaped(uint8_t c, unsigned flags) {
    return ((flags & JE_STRING) && needs_esc(c)) || ((flags & JE_ASCII) && c >= 0x7F);
}

uint32_t json_escape(const uint8_t *s, uint32_t n, uint8_t *out, uint32_t cap, unsigned flags, uint32_t *used) {
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint32_t j = i;                                   /* a run copied as it is */
        while (j < n && !escaped(s[j], flags)) j++;
        uint32_t take = j - i;
        if (take) {
            if (take > cap - o) { take = json_utf8_prefix(s + i, cap - o); j = n; }   /* j = n: stop after it */
            if (out) q_memcpy(out + o, s + i, take);
            o += take; i += take;
            if (j == n) break;
            continue;
        }
        uint8_t e[12];
        uint32_t w, in = 1;
        if ((flags & JE_STRING) && needs_esc(s[i])) w = put_esc(e, s[i]);
        else {                                            /* JE_ASCII: DEL or a whole UTF-8 sequence */
            in = s[i] == 0x7F ? 1 : seq_len(s[i]);
            if (in > n - i) in = n - i;
            uint32_t cp = in == 1 ? s[i] : s[i] & (0x7Fu >> in);
            for (uint32_t k = 1; k < in; k++) cp = cp << 6 | (s[i + k] & 0x3F);
            if (cp >= 0x10000) { cp -= 0x10000; w = put_unit(e, 0xD800 | cp >> 10); w += put_unit(e + 6, 0xDC00 | (cp & 0x3FF)); }
            else w = put_unit(e, cp);
        }
        if (w > cap - o) break;
        if (out) q_memcpy(out + o, e, w);
        o += w; i += in;
    }
    if (used) *used = i;
    return o;
}

int jw_string(q_buf *b, const uint8_t *s, uint32_t n) {
    uint64_t extra = 0;
    uint32_t i = 0;
    while (i < n) {                           /* pass 1: exact output size */
        if (n - i >= 8) {
            uint64_t m = esc_special(load64(s + i));
            if (!m) { i += 8; continue; }
            i += first_flag(m);
        }
        uint8_t c = s[i++];
        if (needs_esc(c)) extra += short_esc(c) ? 1 : 5;
    }
    uint64_t total = (uint64_t)n + 2 + extra;
    if (total > 0x7FFFFFFFu) return Q_ERR(OUT_OF_MEMORY);
    int rc = q_buf_reserve(b, (uint32_t)total);
    if (rc) return rc;
    uint8_t *o = b->ptr + b->len;
    *o++ = '"';
    if (!extra) {
        if (n) q_memcpy(o, s, n);
        o += n;
    } else {                                  /* pass 2: the escaper, into exactly its room */
        o += json_escape(s, n, o, (uint32_t)(total - 2), JE_STRING, NULL);
    }
    *o++ = '"';
    b->len = (uint32_t)(o - b->ptr);
    return Q_OK;
}

/* A body's bytes decoded into out: runs without a backslash copied whole, each escape decoded.
 * With reescape (a token's body, jw_string_token) what the writer escapes is escaped again and a
 * malformed escape gives UINT32_MAX; without, it reads as its backslash (json_unescape). One
 * copy of the loop for both: decoding never lengthens and re-escaping a decoded escape never
 * outgrows the escape it came from (\u0001 -> \u0001, \u0022 -> \", \/ -> /), so n bytes are
 * always enough. */
static uint32_t unescape_to(const uint8_t *s, uint32_t n, uint8_t *out, bool reescape) {
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint32_t j = find_backslash(s, i, n);
        q_memmove(out + o, s + i, j - i);   /* json_unescape may decode in place */
        o += j - i;
        if (j >= n) break;
        uint8_t buf[4];
        uint32_t bl;
        i = decode_escape(s, n, j, buf, &bl);
        if (reescape) {
            if (i == j + 1) return UINT32_MAX;   /* malformed escape: not a valid token */
            if (bl == 1 && needs_esc(buf[0])) { o += put_esc(out + o, buf[0]); continue; }
        }
        for (uint32_t k = 0; k < bl; k++) out[o + k] = buf[k];
        o += bl;
    }
    return o;
}

int jw_string_token(q_buf *b, const uint8_t *tok, uint32_t n) {
    if (n < 2 || tok[0] != '"' || tok[n - 1] != '"') return Q_ERR(BAD_ARGUMENT);
    int rc = q_buf_reserve(b, n);
    if (rc) return rc;
    uint8_t *o = b->ptr + b->len;
    uint32_t w = unescape_to(tok + 1, n - 2, o + 1, true);
    if (w == UINT32_MAX) return Q_ERR(BAD_ARGUMENT);
    o[0] = '"'; o[w + 1] = '"';
    b->len += w + 2;
    return Q_OK;
}

int jw_u64(q_buf *b, uint64_t v) {
    uint8_t tmp[20];
    return q_buf_put(b, tmp, num_format_u64(v, tmp));
}

int jw_i64(q_buf *b, int64_t v) {
    if (v >= 0) return jw_u64(b, (uint64_t)v);
    int rc = q_buf_putc(b, '-');
    if (rc) return rc;
    return jw_u64(b, (uint64_t)0 - (uint64_t)v);
}

int jw_fmt(q_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = Q_OK;
    for (const char *f = fmt; *f && !rc; f++) {
        if (*f != '%') { rc = q_buf_putc(b, (uint8_t)*f); continue; }
        char d = *++f;
        if (d == 's') rc = q_buf_puts(b, va_arg(ap, const char *));
        else if (d == 'u' || d == 'U') rc = jw_u64(b, d == 'u' ? va_arg(ap, uint32_t) : va_arg(ap, uint64_t));
        else {                                /* %j, %r: pointer and length */
            const uint8_t *p = va_arg(ap, const uint8_t *);
            uint32_t n = va_arg(ap, uint32_t);
            rc = d == 'j' ? jw_string(b, p, n) : q_buf_put(b, p, n);
        }
    }
    va_end(ap);
    return rc;
}
