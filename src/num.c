/* JSON number text to typed values with serde's range rules, and integer formatting.
 * No floating point: the f64 overflow check is exact decimal/binary arithmetic, and f64 text
 * is written as Rust writes it by moving its digits, not by converting them. */
#include "num.h"

/* "-?digits" to sign and magnitude. Any other byte ('.', 'e', 'E', the only others valid
 * JSON allows) means a float where an integer is wanted. Overflow of 64 bits is only
 * reported after the whole text is seen, so "1e999" stays a type mismatch. */
static int parse_int(const uint8_t *raw, uint32_t n, bool *neg, uint64_t *mag) {
    uint32_t i = n > 0 && raw[0] == '-';
    uint64_t v = 0;
    bool over = false;
    *neg = i != 0;
    if (i >= n) return Q_ERR(TYPE_MISMATCH);
    for (; i < n; i++) {
        uint32_t d = (uint32_t)(raw[i] - '0');
        if (d > 9) return Q_ERR(TYPE_MISMATCH);
        if (v > (UINT64_MAX - d) / 10) over = true;
        v = v * 10 + d;
    }
    if (over) return Q_ERR(OUT_OF_RANGE);
    *mag = v;
    return Q_OK;
}

int num_to_i64(const uint8_t *raw, uint32_t n, int64_t min, int64_t max, int64_t *out) {
    bool neg;
    uint64_t mag;
    int rc = parse_int(raw, n, &neg, &mag);
    if (rc != Q_OK) return rc;
    int64_t v;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1) return Q_ERR(OUT_OF_RANGE);
        v = mag ? -(int64_t)(mag - 1) - 1 : 0;   /* reaches INT64_MIN without overflow */
    } else {
        if (mag > (uint64_t)INT64_MAX) return Q_ERR(OUT_OF_RANGE);
        v = (int64_t)mag;
    }
    if (v < min || v > max) return Q_ERR(OUT_OF_RANGE);
    *out = v;
    return Q_OK;
}

int num_to_u64(const uint8_t *raw, uint32_t n, uint64_t max, uint64_t *out) {
    bool neg;
    uint64_t mag;
    int rc = parse_int(raw, n, &neg, &mag);
    if (rc != Q_OK) return rc;
    if ((neg && mag != 0) || mag > max) return Q_ERR(OUT_OF_RANGE);
    *out = mag;
    return Q_OK;
}

int num_check_int(const uint8_t *raw, uint32_t n, uint32_t bits) {
    bool neg;
    uint64_t mag;
    int rc = parse_int(raw, n, &neg, &mag);
    if (rc != Q_OK) return rc;
    uint64_t max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (neg) max = bits & 1 ? max + 1 : 0;   /* a signed type reaches -(max + 1), an unsigned one -0 */
    return mag > max ? Q_ERR(OUT_OF_RANGE) : Q_OK;
}

/* Rule: a decimal overflows iff its magnitude is >= T = 2^1024 - 2^970 = (2^54 - 1) * 2^970,
 * the midpoint between DBL_MAX = (2^53 - 1) * 2^971 and 2^1024. Round-to-nearest-even sends
 * that midpoint up (DBL_MAX's significand is odd), so this is exactly "the correctly rounded
 * double is infinite". Underflow to zero is accepted, as serde_json does.
 *
 * Write the value as 0.d1d2d3... * 10^e with d1 the first non-zero mantissa digit. Below
 * e = 309 the value is < 10^308 < DBL_MAX; above, it is >= 10^309 > 2^1024. At e = 309 T is an
 * integer, so compare D = floor(value) (the 309 digits from d1) with T. D is built in binary,
 * 9 digits per step; after its leading 18 digits it is compared with T's, which decides for
 * every number but those starting with T's own 18 digits; for those, D >= T is read off the
 * top bits of the whole D. Linear time either way, so a body full of 1e308 stays cheap. */
#define F64_THRESHOLD_E10 309
#define F64_T_PREFIX      179769313486231580ull   /* T's leading 18 of its 309 digits */
#define F64_PREFIX_DIGITS 18
#define F64_BIG_WORDS     33                      /* 10^309 < 2^1056 */

/* The next mantissa digit's value (skipping the point), 0 past the end. */
static uint32_t next_digit(const uint8_t *raw, uint32_t *p, uint32_t end) {
    if (*p < end && raw[*p] == '.') (*p)++;
    return *p < end ? (uint32_t)(raw[(*p)++] - '0') : 0;
}

/* A number's text as 0.d1d2...dL * 10^e10, d1 and dL its first and last non-zero mantissa
 * digits (at raw[first], raw[last]); false for zero. Both f64 readers below start here. */
typedef struct { uint32_t first, last, mant_end; int64_t e10; } f64_text;

static bool read_f64_text(const uint8_t *raw, uint32_t n, f64_text *t) {
    uint32_t i = n > 0 && raw[0] == '-';
    int64_t count = 0, int_digits = -1, lead = -1;
    for (; i < n && (raw[i] | 0x20) != 'e'; i++) {
        if (raw[i] == '.') { int_digits = count; continue; }
        if (raw[i] != '0') {
            if (lead < 0) { lead = count; t->first = i; }
            t->last = i;
        }
        count++;
    }
    if (lead < 0) return false;                  /* zero, whatever the exponent */
    if (int_digits < 0) int_digits = count;
    t->mant_end = i;

    int64_t exp = 0;
    if (i < n) {
        bool eneg = false;
        i++;
        if (i < n && (raw[i] == '+' || raw[i] == '-')) eneg = raw[i++] == '-';
        /* Saturate: past 10^9 the verdict no longer depends on the exact exponent. */
        for (; i < n && (uint32_t)(raw[i] - '0') <= 9; i++)
            if (exp < 1000000000) exp = exp * 10 + (raw[i] - '0');
        if (eneg) exp = -exp;
    }
    t->e10 = exp + int_digits - lead;
    return true;
}

int num_check_f64(const uint8_t *raw, uint32_t n) {
    f64_text t;
    if (!read_f64_text(raw, n, &t)) return Q_OK;
    if (t.e10 != F64_THRESHOLD_E10) return t.e10 > F64_THRESHOLD_E10 ? Q_ERR(OUT_OF_RANGE) : Q_OK;
    /* D in 32-bit words, least significant first: D = D * 10^j + (next j digits). */
    uint32_t big[F64_BIG_WORDS] = { 0 }, p = t.first;
    for (uint32_t k = 0; k < F64_THRESHOLD_E10;) {
        uint32_t chunk = 0, scale = 1;
        for (uint32_t j = 0; j < 9 && k < F64_THRESHOLD_E10; j++, k++) {
            chunk = chunk * 10 + next_digit(raw, &p, t.mant_end);
            scale *= 10;
        }
        uint64_t carry = chunk;
        for (uint32_t w = 0; w < F64_BIG_WORDS; w++) {
            carry += (uint64_t)big[w] * scale;
            big[w] = (uint32_t)carry;
            carry >>= 32;
        }
        uint64_t lead = big[0] | (uint64_t)big[1] << 32;
        if (k == F64_PREFIX_DIGITS && lead != F64_T_PREFIX) return lead > F64_T_PREFIX ? Q_ERR(OUT_OF_RANGE) : Q_OK;
    }
    /* D >> 970 = big[32] * 2^54 + big[31] * 2^22 + (big[30] >> 10), and T >> 970 = 2^54 - 1;
     * D >= T exactly when D >> 970 >= 2^54 - 1 (T's low 970 bits are zero). Equal to T
     * rounds up, so it overflows too. */
    bool over = big[32] || (big[31] == 0xFFFFFFFFu && big[30] >= 0xFFFFFC00u);
    return over ? Q_ERR(OUT_OF_RANGE) : Q_OK;
}

/* ryu's format64 (serde_json's f64 writer) lays out the shortest digits d1..dL of v with
 * kk = e10 (10^(kk-1) <= v < 10^kk): "ddd00.0" when the digits end left of the point and
 * kk <= 16, "dd.dd" for 0 < kk <= 16, "0.000ddd" for -5 < kk <= 0, else "d.ddde-7" (no '+',
 * no padding, "de30" for one digit). Zero is "0.0" or "-0.0". Here the digits are the text's
 * (its shortest when it has at most 15, or when JSON.stringify wrote it). */
uint32_t num_format_f64(const uint8_t *raw, uint32_t n, uint8_t *out) {
    f64_text t;
    uint32_t o = raw[0] == '-', p;   /* a number: n >= 1 */
    out[0] = '-';
    /* zero, and below 10^-324 what rounds to it (half the least subnormal is 2.47e-324), goes
     * out as kk = 1 with no digits: the loop below writes "0.0" */
    if (!read_f64_text(raw, n, &t) || t.e10 < -323) { t.e10 = 1; t.first = 1; t.last = 0; }
    int32_t kk = (int32_t)t.e10;
    /* one pass over positions j (digit j, '0' before the first and past the last), the point
     * before position `point`: plain from "0" (j = kk - 1) when kk <= 0, up to the ".0" of an
     * integral value; else d.ddd and the exponent */
    bool plain = kk > -5 && kk <= 16;
    int32_t point = plain ? kk : 1, j = plain && kk <= 0 ? kk - 1 : 0;
    for (p = t.first; p <= t.last || (plain && j <= kk); j++) {
        if (j == point) out[o++] = '.';
        uint8_t c = '0';
        if (j >= 0 && p <= t.last) {
            if (raw[p] == '.') p++;
            c = raw[p++];
        }
        out[o++] = c;
    }
    if (plain) return o;
    out[o++] = 'e';
    if (--kk < 0) { out[o++] = '-'; kk = -kk; }
    return o + num_format_u64((uint64_t)kk, out + o);
}

uint32_t num_format_u64(uint64_t v, uint8_t *out) {
    uint8_t tmp[20];
    uint32_t n = 0;
    do { tmp[n++] = (uint8_t)('0' + v % 10); v /= 10; } while (v);
    for (uint32_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

uint32_t num_format_i64(int64_t v, uint8_t *out) {
    if (v >= 0) return num_format_u64((uint64_t)v, out);
    out[0] = '-';
    return 1 + num_format_u64(0 - (uint64_t)v, out + 1);   /* INT64_MIN's magnitude fits u64 */
}
