/* UTF-16 to UTF-8 in place (src/utf16.c, Node's string input): against a plain reference encoder
 * that writes what TextEncoder writes (a lone surrogate as U+FFFD), over hand-picked cases and
 * seeded random unit arrays, with every special unit at every position of the 16-unit step; a
 * text that would overtake its own units stops with 0 and the caller encodes it another way. */
#include "test_util.h"
#include "utf16.h"

/* The reference: TextEncoder's output for n units (out has room for 3 bytes a unit). */
static uint32_t reference(const uint16_t *u, uint32_t n, uint8_t *out, int *lone, int *fits) {
    uint32_t o = 0;
    *lone = 0; *fits = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD; *lone = 1;
        }
        if (c < 0x80) out[o++] = (uint8_t)c;
        else if (c < 0x800) { out[o++] = (uint8_t)(0xC0 | c >> 6); out[o++] = (uint8_t)(0x80 | (c & 0x3F)); }
        else if (c < 0x10000) {
            out[o++] = (uint8_t)(0xE0 | c >> 12); out[o++] = (uint8_t)(0x80 | (c >> 6 & 0x3F)); out[o++] = (uint8_t)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (uint8_t)(0xF0 | c >> 18); out[o++] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
            out[o++] = (uint8_t)(0x80 | (c >> 6 & 0x3F)); out[o++] = (uint8_t)(0x80 | (c & 0x3F));
        }
        if (o > 2 * (i + 1)) *fits = 0;       /* the bytes so far reach past the units read */
    }
    return o;
}

/* Converts n units in a heap block of exactly 2n bytes (ASan sees any write past it) and checks the
 * result against the reference. */
static void check(const uint16_t *u, uint32_t n, const char *what) {
    uint8_t *want = malloc(3 * (size_t)n + 1), *buf = malloc(2 * (size_t)n + 1);
    int lone, fits;
    uint32_t wn = reference(u, n, want, &lone, &fits);
    for (uint32_t i = 0; i < n; i++) { buf[2 * i] = (uint8_t)u[i]; buf[2 * i + 1] = (uint8_t)(u[i] >> 8); }
    uint32_t wide[2] = { 7, 7 }, first = wn, last = 0;   /* where the reference's non-ASCII bytes begin and end */
    for (uint32_t i = 0; i < wn; i++) if (want[i] >= 0x80) { if (first == wn) first = i; last = i + 1; }
    int32_t r = utf16_to_utf8_in_place(buf, n, wide);
    if (!fits || n == 0) {
        if (r != 0) fail_msg("%s: %d, want 0 (does not fit in place)", what, r);
    } else {
        if (r != (int32_t)(wn * 2 + (uint32_t)lone)) fail_msg("%s: %d, want %u", what, r, wn * 2 + (uint32_t)lone);
        assert_memory_equal(buf, want, wn);
        if (wide[0] != first || wide[1] != last) fail_msg("%s: non-ASCII bytes [%u, %u), want [%u, %u)", what, wide[0], wide[1], first, last);
    }
    free(want); free(buf);
}

static void hand_picked(void **s) {
    static const uint16_t ascii[] = { 'a', 'b', 'c' };
    static const uint16_t mixed[] = { 'G', 'r', 0xF6, 0xDF, 'e', ' ', 0xD83D, 0xDE00, ' ', 0x65E5, 'x' };
    static const uint16_t lone_high_end[] = { 'a', 'b', 0xD800 };      /* overtakes: 3 bytes for the last unit at o == 2 */
    static const uint16_t lone_low[] = { 'a', 'b', 'c', 0xDC00, 'd' };
    static const uint16_t high_high[] = { 'a', 'b', 'c', 'd', 0xD800, 0xD800, 0xDC00 };
    static const uint16_t cjk[] = { 0x65E5, 0x672C };                    /* 3 bytes a unit from the start */
    static const uint16_t max[] = { 0xDBFF, 0xDFFF, 0x7FF, 0x800, 0xFFFF, 0x80, 0x7F };
    check(ascii, 3, "ascii");
    check(ascii, 0, "empty");
    check(mixed, Q_ARRAY_LEN(mixed), "mixed");
    check(lone_high_end, Q_ARRAY_LEN(lone_high_end), "lone high at the end");
    check(lone_low, Q_ARRAY_LEN(lone_low), "lone low");
    check(high_high, Q_ARRAY_LEN(high_high), "high, then a pair");
    check(cjk, Q_ARRAY_LEN(cjk), "cjk");
    check(max, Q_ARRAY_LEN(max), "edges");
    uint8_t buf[6] = { 'a', 0, 0x00, 0xD8, 'b', 0 };                     /* the result's low bit: a lone surrogate was replaced */
    uint32_t wide[2];
    assert_int_equal(utf16_to_utf8_in_place(buf, 3, wide), 5 * 2 + 1);
    assert_int_equal(wide[0], 1);                                        /* U+FFFD's 3 bytes, between 'a' and 'b' */
    assert_int_equal(wide[1], 4);
    assert_memory_equal(buf, "a\xEF\xBF\xBD" "b", 5);
}

/* Every special unit at every position of 40 ASCII units (the 16-unit steps, the prefix copy, the tail). */
static void special_at_every_position(void **s) {
    static const uint16_t specials[] = { 0x80, 0x7FF, 0x800, 0xFFFD, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFF };
    uint16_t u[41];
    char what[64];
    for (uint32_t k = 0; k < Q_ARRAY_LEN(specials); k++)
        for (uint32_t at = 0; at < 40; at++) {
            for (uint32_t i = 0; i < 41; i++) u[i] = (uint16_t)('a' + i % 26);
            u[at] = specials[k];
            snprintf(what, sizeof what, "unit %04x at %u", specials[k], at);
            check(u, 40, what);
            u[at + 1] = 0xDC00;                                          /* a pair when u[at] is high */
            check(u, 41, what);
        }
}

/* Seeded random texts: mostly ASCII with runs of other units, surrogates paired and not. */
static void random_texts(void **s) {
    uint32_t seed = 12345;
    uint16_t u[300];
    char what[48];
    for (int t = 0; t < 20000; t++) {
        uint32_t n = (seed = seed * 1103515245u + 12345u) >> 23 & 255;
        uint32_t dense = seed >> 20 & 7;                                 /* how often a unit is not ASCII */
        for (uint32_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t r = seed >> 8;
            if ((r & 7) >= dense) { u[i] = (uint16_t)(0x20 + (r >> 3) % 95); continue; }
            switch (r >> 3 & 7) {
            case 0: u[i] = (uint16_t)(0x80 + (r >> 6) % 0x780); break;
            case 1: u[i] = (uint16_t)(0x800 + (r >> 6) % 0xD000); break;
            case 2: u[i] = (uint16_t)(0xD800 + (r >> 6) % 0x400); if (i + 1 < n) u[++i] = (uint16_t)(0xDC00 + (r >> 16) % 0x400); break;
            case 3: u[i] = (uint16_t)(0xD800 + (r >> 6) % 0x800); break;
            case 4: u[i] = (uint16_t)(0xE000 + (r >> 6) % 0x2000); break;
            default: u[i] = (uint16_t)((r >> 6) & 0x7F); break;
            }
        }
        snprintf(what, sizeof what, "random text %d", t);
        check(u, n, what);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_picked),
        cmocka_unit_test(special_at_every_position),
        cmocka_unit_test(random_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
