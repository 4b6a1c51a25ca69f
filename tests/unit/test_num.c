/* Numbers: integer range and type rules, the exact f64 overflow boundary (checked
 * against the host's correctly rounded strtod), and integer formatting. */
#include "test_util.h"
#include "num.h"
#include <math.h>

#define I64(lit, mn, mx, out) num_to_i64((const uint8_t *)(lit), (uint32_t)strlen(lit), mn, mx, out)
#define U64(lit, mx, out) num_to_u64((const uint8_t *)(lit), (uint32_t)strlen(lit), mx, out)
#define F64(str) check_exact(str)

/* From a heap copy of exactly strlen bytes, so ASan catches any read past the end. */
static int check_exact(const char *txt) {
    size_t n = strlen(txt);
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, txt, n);
    int rc = num_check_f64(copy, (uint32_t)n);
    free(copy);
    return rc;
}

/* num_check_int (the walks' integer fields) answers as num_to_i64 / num_to_u64 do with each
 * type's range, at and around every bound, for signs, floats and 64-bit overflow. */
static void check_int_matches_ranges(void **s) {
    static const char *const TXT[] = {
        "0", "-0", "1", "-1", "65535", "65536", "-65535", "2147483647", "2147483648", "-2147483648",
        "-2147483649", "4294967295", "4294967296", "-4294967295", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "-18446744073709551615", "99999999999999999999999", "1.5", "1e3", "-", "",
    };
    static const struct { uint32_t bits; int64_t lo, hi; } TYPES[] = {
        { 31, INT32_MIN, INT32_MAX }, { 63, INT64_MIN, INT64_MAX }, { 16, 0, 65535 }, { 32, 0, UINT32_MAX }, { 64, 0, 0 },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(TXT); i++) {
        for (size_t t = 0; t < Q_ARRAY_LEN(TYPES); t++) {
            int64_t v;
            uint64_t u;
            int want = TYPES[t].bits == 64 ? U64(TXT[i], UINT64_MAX, &u) : I64(TXT[i], TYPES[t].lo, TYPES[t].hi, &v);
            int got = num_check_int((const uint8_t *)TXT[i], (uint32_t)strlen(TXT[i]), TYPES[t].bits);
            if (got != want) fail_msg("%s as %u bits: %d, want %d", TXT[i], TYPES[t].bits, got, want);
        }
    }
}

static void to_i64(void **s) {
    struct { const char *txt; int64_t v; } OK[] = {
        { "0", 0 }, { "-0", 0 }, { "1", 1 }, { "-1", -1 }, { "123", 123 }, { "-123", -123 },
        { "9223372036854775807", INT64_MAX }, { "-9223372036854775808", INT64_MIN },
        { "-9223372036854775807", -INT64_MAX },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(OK); i++) {
        int64_t v = 42;
        assert_int_equal(I64(OK[i].txt, INT64_MIN, INT64_MAX, &v), Q_OK);
        assert_true(v == OK[i].v);
    }
    static const char *const RANGE[] = {
        "9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "-18446744073709551616", "99999999999999999999",
        "-99999999999999999999", "123456789012345678901234567890",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(RANGE); i++) {
        int64_t v = 42;
        assert_int_equal(I64(RANGE[i], INT64_MIN, INT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
        assert_int_equal(v, 42);                                   /* untouched */
    }
    static const char *const TYPE[] = {
        "1.0", "5.0", "-0.0", "1e2", "1E2", "1e+2", "1e-2", "-1.5", "0.5",
        "99999999999999999999.5", "99999999999999999999e0", "1e999",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(TYPE); i++) {
        int64_t v = 42;
        assert_int_equal(I64(TYPE[i], INT64_MIN, INT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
        assert_int_equal(v, 42);
    }
    /* Field bounds (i32, u8, a positive-only range). */
    int64_t v;
    assert_int_equal(I64("2147483647", INT32_MIN, INT32_MAX, &v), Q_OK);
    assert_int_equal(v, INT32_MAX);
    assert_int_equal(I64("-2147483648", INT32_MIN, INT32_MAX, &v), Q_OK);
    assert_int_equal(v, INT32_MIN);
    assert_int_equal(I64("2147483648", INT32_MIN, INT32_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(I64("-2147483649", INT32_MIN, INT32_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(I64("256", 0, 255, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(I64("-1", 0, 255, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(I64("-0", 0, 255, &v), Q_OK);
    assert_int_equal(v, 0);
    assert_int_equal(I64("5", 10, 20, &v), Q_ERR(OUT_OF_RANGE));
    /* Defensive: text that is no number at all. */
    assert_int_equal(num_to_i64((const uint8_t *)"", 0, INT64_MIN, INT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
    assert_int_equal(I64("-", INT64_MIN, INT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
}

static void to_u64(void **s) {
    uint64_t v = 42;
    assert_int_equal(U64("0", UINT64_MAX, &v), Q_OK); assert_true(v == 0);
    assert_int_equal(U64("-0", UINT64_MAX, &v), Q_OK); assert_true(v == 0);
    assert_int_equal(U64("18446744073709551615", UINT64_MAX, &v), Q_OK); assert_true(v == UINT64_MAX);
    assert_int_equal(U64("9223372036854775808", UINT64_MAX, &v), Q_OK); assert_true(v == UINT64_C(9223372036854775808));
    v = 42;
    assert_int_equal(U64("18446744073709551616", UINT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(U64("99999999999999999999", UINT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(U64("184467440737095516150", UINT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(U64("-1", UINT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(U64("-18446744073709551615", UINT64_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(U64("4294967296", UINT32_MAX, &v), Q_ERR(OUT_OF_RANGE));
    assert_true(v == 42);
    assert_int_equal(U64("4294967295", UINT32_MAX, &v), Q_OK); assert_true(v == UINT32_MAX);
    assert_int_equal(U64("1.5", UINT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
    assert_int_equal(U64("-1.5", UINT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
    assert_int_equal(U64("1e3", UINT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
    assert_int_equal(U64("1E3", UINT64_MAX, &v), Q_ERR(TYPE_MISMATCH));
}

/* 2^1024 - 2^970: the smallest magnitude that rounds to infinity (ties go to even, up). */
#define THRESHOLD \
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758" \
    "72070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177" \
    "11531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508" \
    "093042880177904174497792"
/* DBL_MAX exactly. */
#define DBLMAX \
    "17976931348623157081452742373170435679807056752584499659891747680315726078002853876058955863276" \
    "68781715404589535143824642343213268894641827684675467035375169860499105765512820762454900903893" \
    "28944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299" \
    "881250404026184124858368"

static const char THR[] = THRESHOLD;
static char buf_[1024];
static const char *cat(const char *a, const char *b, const char *c) {
    snprintf(buf_, sizeof buf_, "%s%s%s", a, b, c);
    return buf_;
}

static void f64_boundary(void **s) {
    char below[sizeof THRESHOLD];
    memcpy(below, THRESHOLD, sizeof THRESHOLD);
    below[sizeof THRESHOLD - 2]--;                                 /* THRESHOLD - 1 */
    assert_int_equal(strlen(THRESHOLD), 309);

    assert_int_equal(F64("1.7976931348623157e308"), Q_OK);
    assert_int_equal(F64("1.7976931348623158e308"), Q_OK);        /* rounds to DBL_MAX */
    assert_int_equal(F64("1.7976931348623159e308"), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64("-1.7976931348623159e308"), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64("17976931348623158e292"), Q_OK);
    assert_int_equal(F64("17976931348623159e292"), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64("1.797693134862315807937289714054e308"), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64("1.797693134862315807937289714053e308"), Q_OK);   /* ...0530341 is the edge */

    assert_int_equal(F64(THRESHOLD), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(below), Q_OK);
    assert_int_equal(F64(DBLMAX), Q_OK);
    assert_int_equal(F64(cat("-", THRESHOLD, "")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat("-", below, "")), Q_OK);
    assert_int_equal(F64(cat(below, ".99999999999999999999", "")), Q_OK);
    assert_int_equal(F64(cat(THRESHOLD, ".0", "")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat(THRESHOLD, "0e-1", "")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat(below, "9e-1", "")), Q_OK);
    assert_int_equal(F64(cat(THRESHOLD, "E+0", "")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat("0.000", THRESHOLD, "e312")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat("0.000", below, "e312")), Q_OK);
    assert_int_equal(F64(cat("0.000", below, "1e312")), Q_OK);
    assert_int_equal(F64(cat("1.", &THR[1], "e308")), Q_ERR(OUT_OF_RANGE));
    assert_int_equal(F64(cat("1.", below + 1, "e308")), Q_OK);
    assert_int_equal(F64(cat("1.", below + 1, "99999999e+308")), Q_OK);
    assert_int_equal(F64(cat(THRESHOLD, "0000e-4", "")), Q_ERR(OUT_OF_RANGE));
    /* The point in the middle of the digits. */
    char mid[400];
    snprintf(mid, sizeof mid, "%.200s.%se109", THRESHOLD, &THR[200]);
    assert_int_equal(F64(mid), Q_ERR(OUT_OF_RANGE));
    snprintf(mid, sizeof mid, "%.200s.%se109", below, below + 200);
    assert_int_equal(F64(mid), Q_OK);
}

static void f64_magnitudes(void **s) {
    static const char *const OK[] = {
        "0", "-0", "0.0", "0e0", "0e999999999999999999999", "0.0000e400", "-0.0e+400",
        "1", "1.5", "1e308", "9.99e307", "1e-400", "-1e-400", "1e-99999999999999999999",
        "123456789012345678901234567890", "0.0001e312", "100000000000000000000e288",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(OK); i++)
        if (F64(OK[i]) != Q_OK) fail_msg("rejected %s", OK[i]);
    static const char *const BAD[] = {
        "1e309", "1e400", "-1e400", "10e308", "0.00001e314", "1E309", "1e+309",
        "1e99999999999999999999", "1e4294967296", "2e308", "1.8e308",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(BAD); i++)
        if (F64(BAD[i]) != Q_ERR(OUT_OF_RANGE)) fail_msg("accepted %s", BAD[i]);
    /* Long plain integers and leading zeros in the mantissa. */
    char big[1200];
    memset(big, '0', sizeof big);
    big[0] = '1'; big[309] = 0;                                    /* 1e308 */
    assert_int_equal(F64(big), Q_OK);
    big[309] = '0'; big[310] = 0;                                  /* 1e309 */
    assert_int_equal(F64(big), Q_ERR(OUT_OF_RANGE));
    memset(big, '0', sizeof big);
    memcpy(big, "0.", 2); big[402] = '1'; memcpy(big + 403, "e310", 5);  /* 1e-91 */
    assert_int_equal(F64(big), Q_OK);
    memcpy(big + 403, "e710", 5);                                  /* 1e309 */
    assert_int_equal(F64(big), Q_ERR(OUT_OF_RANGE));
    memcpy(big + 403, "e709", 5);                                  /* 1e308 */
    assert_int_equal(F64(big), Q_OK);
}

/* Against glibc's strtod, which rounds correctly: overflow iff it returns +-inf. Inputs
 * cluster around the threshold (long shared prefixes, both sides) plus a wide spread. */
static void f64_matches_strtod(void **s) {
    uint64_t x = 0x243F6A8885A308D3ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    char txt[800];
    uint32_t edge_inf = 0, edge_fin = 0;                           /* e == 309 outcomes */
    for (int iter = 0; iter < 200000; iter++) {
        char digits[400];
        uint32_t nd;
        uint64_t r = RND();
        if (r % 4 != 0) {
            /* A prefix of the threshold, then a nudge and random digits. */
            uint32_t p = (uint32_t)(RND() % 4 == 0 ? 290 + RND() % 20 : RND() % 25);
            memcpy(digits, THRESHOLD, p);
            nd = p;
            if (RND() % 2 && nd > 0) {
                int dir = RND() % 2 ? 1 : -1;
                int d = digits[nd - 1] - '0' + dir;
                if (d >= 0 && d <= 9) digits[nd - 1] = (char)('0' + d);
            }
            uint32_t extra = (uint32_t)(RND() % 12);
            for (uint32_t k = 0; k < extra; k++) digits[nd++] = (char)('0' + RND() % 10);
            if (nd == 0) digits[nd++] = '1';
            if (digits[0] == '0') digits[0] = '1';
        } else {
            nd = 1 + (uint32_t)(RND() % 20);
            for (uint32_t k = 0; k < nd; k++) digits[k] = (char)('0' + RND() % 10);
            if (digits[0] == '0') digits[0] = '7';
        }
        /* Target value 0.digits * 10^e, e near 309 most of the time. */
        int64_t e = RND() % 3 ? 308 + (int64_t)(RND() % 3) : (int64_t)(RND() % 800) - 400;
        if (r % 7 == 0) e = 309;
        uint32_t intlen = (uint32_t)(RND() % (nd + 1));            /* digits before the point */
        int n = 0;
        int64_t texp;
        if (RND() % 2) txt[n++] = '-';
        if (intlen == 0) {                                         /* 0.000ddd = 0.ddd * 10^-lead */
            uint32_t lead = (uint32_t)(RND() % 4);
            n += sprintf(txt + n, "0.");
            for (uint32_t k = 0; k < lead; k++) txt[n++] = '0';
            memcpy(txt + n, digits, nd); n += (int)nd;
            texp = e + lead;
        } else {                                                   /* ddd.dd = 0.ddddd * 10^intlen */
            memcpy(txt + n, digits, intlen); n += (int)intlen;
            if (intlen < nd) { txt[n++] = '.'; memcpy(txt + n, digits + intlen, nd - intlen); n += (int)(nd - intlen); }
            texp = e - intlen;
        }
        n += sprintf(txt + n, RND() % 2 ? "e%lld" : "E%+lld", (long long)texp);
        double d = strtod(txt, NULL);
        bool inf = d == HUGE_VAL || d == -HUGE_VAL;
        int rc = num_check_f64((const uint8_t *)txt, (uint32_t)n);
        if ((rc == Q_ERR(OUT_OF_RANGE)) != inf || (rc != Q_OK && rc != Q_ERR(OUT_OF_RANGE)))
            fail_msg("%s: rc %d, strtod %s", txt, rc, inf ? "inf" : "finite");
        if (e == 309) { edge_inf += inf; edge_fin += !inf; }
    }
    assert_true(edge_inf > 10000 && edge_fin > 10000);
#undef RND
}

static void format_ints(void **s) {
    uint8_t out[24];
    struct { uint64_t v; const char *txt; } U[] = {
        { 0, "0" }, { 1, "1" }, { 9, "9" }, { 10, "10" }, { 1234567890, "1234567890" },
        { UINT64_MAX, "18446744073709551615" }, { UINT64_C(10000000000000000000), "10000000000000000000" },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(U); i++) {
        memset(out, '#', sizeof out);
        uint32_t n = num_format_u64(U[i].v, out);
        assert_int_equal(n, strlen(U[i].txt));
        assert_memory_equal(out, U[i].txt, n);
        assert_int_equal(out[n], '#');
    }
    struct { int64_t v; const char *txt; } I[] = {
        { 0, "0" }, { -1, "-1" }, { 42, "42" }, { -42, "-42" },
        { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
        { INT64_MIN + 1, "-9223372036854775807" },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(I); i++) {
        memset(out, '#', sizeof out);
        uint32_t n = num_format_i64(I[i].v, out);
        assert_int_equal(n, strlen(I[i].txt));
        assert_memory_equal(out, I[i].txt, n);
        assert_int_equal(out[n], '#');
    }
    /* Round trip through the parser, both directions of the sign. */
    for (int64_t v = -100000; v <= 100000; v += 37) {
        int64_t back;
        uint32_t n = num_format_i64(v * 92233720368547LL, out);
        assert_int_equal(num_to_i64(out, n, INT64_MIN, INT64_MAX, &back), Q_OK);
        assert_true(back == v * 92233720368547LL);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_i64),
        cmocka_unit_test(to_u64),
        cmocka_unit_test(check_int_matches_ranges),
        cmocka_unit_test(f64_boundary),
        cmocka_unit_test(f64_magnitudes),
        cmocka_unit_test(f64_matches_strtod),
        cmocka_unit_test(format_ints),
    };
    return cmocka_run_group_tests_name("num", tests, NULL, NULL);
}
