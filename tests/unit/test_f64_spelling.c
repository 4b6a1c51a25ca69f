/* num_format_f64, the writer's f64 spelling: serde_json writes an f64 with ryu's format64
 * (dtolnay/ryu src/pretty/mod.rs), so every meta f64 must come out as ryu spells the double the
 * text reads as. Checked against ryu's own test expectations, the layout's edges, and seeded
 * random doubles and texts whose reference is the host's correctly rounded strtod/printf plus
 * ryu's five layout branches written out as ryu writes them (ref_layout, below). */
#include "test_util.h"
#include "num.h"
#include <math.h>

/* num_format_f64 of txt (from a heap copy of exactly strlen bytes, so ASan sees any read past
 * its end), NUL-terminated in out; the bytes written past what it returns are checked too. */
static const char *spell(const char *txt, char *out, size_t cap) {
    size_t n = strlen(txt);
    assert_true(NUM_F64_OUT_MAX(n) + 1 <= cap);
    uint8_t *copy = malloc(n);
    memcpy(copy, txt, n);
    memset(out, '#', cap);
    uint32_t m = num_format_f64(copy, (uint32_t)n, (uint8_t *)out);
    free(copy);
    assert_true(m <= NUM_F64_OUT_MAX(n));
    for (size_t k = m; k < cap; k++) if (out[k] != '#') fail_msg("%s: byte %zu written past the %u returned", txt, k, m);
    out[m] = 0;
    return out;
}

#define EXPECT(txt, want) do { \
        char out_[96]; \
        if (strcmp(spell(txt, out_, sizeof out_), want)) fail_msg("%s -> %s, want %s", txt, out_, want); \
    } while (0)

/* The shortest digits that read back as d (the host's printf rounds correctly, and of several
 * shortest ones it gives the nearest, as ryu does), as "d1d2..." and kk (10^(kk-1) <= |d| < 10^kk). */
static void shortest(double d, char *digits, int *kk) {
    char buf[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, fabs(d));
        if (strtod(buf, NULL) == fabs(d)) break;
    }
    int n = 0;
    char *e = strchr(buf, 'e');
    for (char *c = buf; c < e; c++) if (*c != '.') digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = 0;
    *kk = atoi(e + 1) + 1;
}

/* ryu's format64 layout, branch by branch as src/pretty/mod.rs writes it (length digits, k their
 * exponent, kk = length + k). */
static void ref_layout(bool neg, const char *digits, int kk, char *out) {
    int length = (int)strlen(digits), k = kk - length;
    char *o = out;
    if (neg) *o++ = '-';
    if (digits[0] == '0') { strcpy(o, "0.0"); return; }
    if (0 <= k && kk <= 16) {                       /* 1234e7 -> 12340000000.0 */
        o += sprintf(o, "%s", digits);
        for (int i = length; i < kk; i++) *o++ = '0';
        strcpy(o, ".0");
    } else if (0 < kk && kk <= 16) {                /* 1234e-2 -> 12.34 */
        o += sprintf(o, "%.*s.%s", kk, digits, digits + kk);
    } else if (-5 < kk && kk <= 0) {                /* 1234e-6 -> 0.001234 */
        o += sprintf(o, "0.");
        for (int i = kk; i < 0; i++) *o++ = '0';
        strcpy(o, digits);
    } else if (length == 1) {                       /* 1e30 */
        sprintf(o, "%se%d", digits, kk - 1);
    } else {                                        /* 1234e30 -> 1.234e33 */
        sprintf(o, "%c.%se%d", digits[0], digits + 1, kk - 1);
    }
}

/* A spelling of 0.digits * 10^kk that JSON allows, picked by `how`: the point anywhere, zeros
 * after "0." and after the digits (as a fraction, or as integer zeros the exponent makes up for),
 * exponent or none, 'e' or 'E', '+', leading zeros in the exponent. */
static void respell(bool neg, const char *digits, int kk, unsigned how, char *out) {
    int n = (int)strlen(digits), point = (int)(how % (unsigned)(n + 1)), e = kk - point;   /* digits before the point */
    char *o = out;
    if (neg) *o++ = '-';
    if (point == 0) {
        o += sprintf(o, "0.");
        if ((how >> 4) % 2) { o += sprintf(o, "00"); e += 2; }
    }
    for (int i = 0; i < n; i++) {
        if (i == point && point > 0) *o++ = '.';
        *o++ = digits[i];
    }
    if (point == n && digits[0] != '0' && (how >> 5) % 3 == 0) { o += sprintf(o, "000"); e -= 3; }
    else if ((how >> 5) % 3 == 1) o += sprintf(o, point == n ? ".000" : "000");
    if (e == 0 && (how >> 8) % 2) { *o = 0; return; }
    *o++ = (how >> 9) % 2 ? 'E' : 'e';
    if (e < 0) *o++ = '-';
    else if ((how >> 10) % 2) *o++ = '+';
    sprintf(o, (how >> 11) % 2 ? "00%d" : "%d", abs(e));
}

/* ryu's own expectations: tests/d2s_test.rs in dtolnay/ryu, whose check!(x) asserts that the
 * double x is printed as the literal x itself. Each is given here in other spellings too. */
static void ryu_vectors(void **s) {
    static const char *const RYU[] = {
        /* test_ryu */ "0.3", "1234000000000000.0", "1.234e16", "2.71828", "1.1e128", "1.1e-64",
        "2.718281828459045", "5e-324", "1.7976931348623157e308",
        /* test_basic */ "0.0", "-0.0", "1.0", "-1.0",
        /* test_switch_to_subnormal */ "2.2250738585072014e-308",
        /* test_lots_of_trailing_zeros */ "2.9802322387695312e-8",
        /* test_regression */ "-2.109808898695963e16", "4.940656e-318", "1.18575755e-316",
        "2.989102097996e-312", "9060801153433600.0", "4.708356024711512e18", "9.409340012568248e18", "1.2345678",
        /* test_looks_like_pow5 */ "5.764607523034235e39", "1.152921504606847e40", "2.305843009213694e40",
        /* test_output_length */ "1.2", "1.23", "1.234", "1.2345", "1.23456", "1.234567", "1.23456789",
        "1.234567895", "1.2345678901", "1.23456789012", "1.234567890123", "1.2345678901234",
        "1.23456789012345", "1.234567890123456", "1.2345678901234567", "4.294967294", "4.294967295",
        "4.294967296", "4.294967297", "4.294967298",
        /* test_min_max_shift */ "1.7800590868057611e-307", "2.8480945388892175e-306", "2.446494580089078e-296",
        "4.8929891601781557e-296", "1.8014398509481984e16", "3.6028797018963964e16", "2.900835519859558e-216",
        "5.801671039719115e-216", "3.196104012172126e-27",
        /* test_small_integers */ "9007199254740991.0", "9007199254740992.0", "12.0", "123.0", "1234.0",
        "12345.0", "123456.0", "1234567.0", "12345678.0", "123456789.0", "1234567890.0", "1234567895.0",
        "12345678901.0", "123456789012.0", "1234567890123.0", "12345678901234.0", "123456789012345.0",
        "1234567890123456.0", "10.0", "100.0", "1000.0", "10000.0", "100000.0", "1000000.0", "10000000.0",
        "100000000.0", "1000000000.0", "10000000000.0", "100000000000.0", "1000000000000.0", "10000000000000.0",
        "100000000000000.0", "1000000000000000.0", "1000000000000001.0", "1000000000000010.0",
        "1000000000000100.0", "1000000000001000.0", "1000000000010000.0", "1000000000100000.0",
        "1000000001000000.0", "1000000010000000.0", "1000000100000000.0", "1000001000000000.0",
        "1000010000000000.0", "1000100000000000.0", "1001000000000000.0", "1010000000000000.0",
        "1100000000000000.0", "8.0", "64.0", "512.0", "8192.0", "65536.0", "524288.0", "8388608.0",
        "67108864.0", "536870912.0", "8589934592.0", "68719476736.0", "549755813888.0", "8796093022208.0",
        "70368744177664.0", "562949953421312.0", "8000.0", "64000.0", "512000.0", "8192000.0", "65536000.0",
        "524288000.0", "8388608000.0", "67108864000.0", "536870912000.0", "8589934592000.0",
        "68719476736000.0", "549755813888000.0", "8796093022208000.0",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(RYU); i++) {
        EXPECT(RYU[i], RYU[i]);
        double d = strtod(RYU[i], NULL);
        char digits[24], txt[64];
        int kk;
        shortest(d, digits, &kk);
        for (unsigned how = 0; how < 4096; how += 97) {
            respell(signbit(d), digits, kk, how, txt);
            EXPECT(txt, RYU[i]);
        }
        char js[40];   /* printf's %.17g, a spelling with 17 digits: the same when they are the shortest */
        snprintf(js, sizeof js, "%.17g", d);
        if (strlen(digits) == 17) EXPECT(js, RYU[i]);
    }
}

/* The layout's edges, and what the writer does with text it cannot shorten. */
static void edges(void **s) {
    static const char *const CASES[][2] = {
        /* zero: any spelling; -0 is a float to serde_json, written -0.0 */
        { "0", "0.0" }, { "-0", "-0.0" }, { "0.0", "0.0" }, { "-0.0", "-0.0" }, { "0e5", "0.0" },
        { "0E-5", "0.0" }, { "-0.000e+12", "-0.0" }, { "0.00000", "0.0" },
        /* below 10^-324 every value reads as zero (half the least subnormal is 2.47e-324) */
        { "1e-400", "0.0" }, { "-9.99e-325", "-0.0" }, { "1e-99999999999", "0.0" },
        /* the plain/exponent switch below 1: 1e-5 plain, 1e-6 not */
        { "0.00001", "0.00001" }, { "1e-5", "0.00001" }, { "0.000012", "0.000012" }, { "9.9e-6", "9.9e-6" },
        { "0.0000099", "9.9e-6" }, { "0.000001", "1e-6" }, { "0.0000015", "1.5e-6" }, { "0.0001", "0.0001" },
        /* and above: 16 digits before the point plain, 17 not */
        { "1e15", "1000000000000000.0" }, { "1000000000000000", "1000000000000000.0" },
        { "9999999999999998", "9999999999999998.0" }, { "1e16", "1e16" }, { "10000000000000000", "1e16" },
        { "1.5e16", "1.5e16" }, { "15000000000000000", "1.5e16" }, { "1e21", "1e21" }, { "1e+21", "1e21" },
        { "1E+021", "1e21" }, { "123456789012345.6", "123456789012345.6" }, { "1234567890123456.7", "1234567890123456.7" },
        /* exponents: '+', leading zeros, 'E', no padding in the output */
        { "1e0", "1.0" }, { "1E+0", "1.0" }, { "1e-0007", "1e-7" }, { "4.5E1", "45.0" }, { "1e2", "100.0" },
        { "0.5e-3", "0.0005" }, { "45.10", "45.1" }, { "45e-1", "4.5" }, { "0.000001500", "1.5e-6" },
        { "123e300", "1.23e302" }, { "0.0000000000123e-300", "1.23e-311" }, { "-7e-10", "-7e-10" },
        { "1.7976931348623157e308", "1.7976931348623157e308" }, { "5e-324", "5e-324" },
        /* 16-17 significant digits that are not the shortest: their digits are kept (no float
         * formatting in the core); serde_json would write 9007199254740992.0 and 0.1 */
        { "9007199254740993", "9007199254740993.0" }, { "0.10000000000000001", "0.10000000000000001" },
        { "123456789012345678901234567890", "1.2345678901234567890123456789e29" },
        /* so are a subnormal's digits that are not the shortest: serde_json would write 5e-324 */
        { "3e-324", "3e-324" }, { "4.9406564584124654e-324", "4.9406564584124654e-324" },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(CASES); i++) EXPECT(CASES[i][0], CASES[i][1]);
}

/* Seeded random doubles over all bit patterns: their shortest digits, in any spelling, come out
 * as ryu lays them out (the value JSON.stringify's digits stand for, from objects). */
static void random_doubles(void **s) {
    uint64_t seed = 0x9E3779B97F4A7C15u;
#define RND() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17)
    for (int r = 0; r < 30000; r++) {
        uint64_t bits = RND();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d)) continue;
        char digits[24], txt[64], want[48], out[96];
        int kk;
        shortest(d, digits, &kk);
        ref_layout(signbit(d), digits, kk, want);
        respell(signbit(d), digits, kk, (unsigned)RND(), txt);
        if (strcmp(spell(txt, out, sizeof out), want)) fail_msg("%s -> %s, want %s", txt, out, want);
        if (strtod(out, NULL) != d) fail_msg("%s -> %s reads as another double", txt, out);
    }
#undef RND
}

/* Seeded random texts of 1-15 significant digits in the normal range (their digits are the
 * double's shortest): exactly ryu's spelling of the double strtod reads; longer ones keep the
 * double (and their digits). */
static void random_texts(void **s) {
    uint64_t seed = 0xD1B54A32D192ED03u;
#define RND() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17)
    for (int r = 0; r < 30000; r++) {
        char digits[40], txt[96], want[64], out[128];
        int nd = 1 + (int)(RND() % (r % 4 ? 15 : 30));
        for (int k = 0; k < nd; k++) digits[k] = (char)('0' + RND() % 10);
        digits[0] = (char)('1' + RND() % 9);
        while (nd > 1 && digits[nd - 1] == '0') nd--;
        digits[nd] = 0;
        int kk = (int)(RND() % 600) - 300;   /* within the normal range */
        bool neg = RND() % 2;
        respell(neg, digits, kk, (unsigned)RND(), txt);
        spell(txt, out, sizeof out);
        double d = strtod(txt, NULL);
        if (strtod(out, NULL) != d) fail_msg("%s -> %s reads as another double", txt, out);
        if (nd > 15) {   /* digits kept */
            ref_layout(neg, digits, kk, want);
        } else {
            char sd[24];
            int skk;
            shortest(d, sd, &skk);
            if (strcmp(sd, digits) || skk != kk) fail_msg("%s: shortest %se%d, not its own digits", txt, sd, skk);
            ref_layout(neg, sd, skk, want);
        }
        if (strcmp(out, want)) fail_msg("%s -> %s, want %s", txt, out, want);
    }
#undef RND
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ryu_vectors),
        cmocka_unit_test(edges),
        cmocka_unit_test(random_doubles),
        cmocka_unit_test(random_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
