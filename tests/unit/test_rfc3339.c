/* RFC 3339: what chrono's relaxed parser (serde's DateTime<Utc>) accepts and rejects, UTC
 * conversion (expected values from Python's datetime), AutoSi fraction digits, leap seconds,
 * host clock input. The lists headed "chrono's" are chrono 0.4.45's own test data
 * (datetime/tests.rs test_parse_datetime_utc and test_datetime_from_str; format/parse.rs
 * test_rfc3339, whose strict-parser cases are sorted here by the relaxed grammar). */
#include "test_util.h"
#include "rfc3339.h"

typedef struct { const char *txt; int64_t secs; uint32_t nanos; } valid_case;

/* Parses from a heap copy of exactly n bytes, so ASan catches any read past the end. */
static int parse_exact(const char *txt, uint32_t n, q_time *t) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, txt, n);
    int rc = rfc3339_parse(copy, n, t);
    free(copy);
    return rc;
}

static const valid_case VALID[] = {
    { "1970-01-01T00:00:00Z", INT64_C(0), 0 },
    { "2024-01-02T03:04:05Z", INT64_C(1704164645), 0 },
    { "2024-01-02t03:04:05z", INT64_C(1704164645), 0 },
    { "2024-01-02 03:04:05Z", INT64_C(1704164645), 0 },
    { "2024-01-02T03:04:05.123Z", INT64_C(1704164645), 123000000 },
    { "2024-01-02T03:04:05.1Z", INT64_C(1704164645), 100000000 },
    { "2024-01-02T03:04:05.000000001Z", INT64_C(1704164645), 1 },
    { "2024-01-02T03:04:05.1234567891234Z", INT64_C(1704164645), 123456789 },
    { "2024-01-02T03:04:05.999999999999Z", INT64_C(1704164645), 999999999 },
    { "2024-01-02T08:34:05+05:30", INT64_C(1704164645), 0 },
    { "2024-01-01T03:05:05-23:59", INT64_C(1704164645), 0 },
    { "2024-01-02T03:04:05+23:59", INT64_C(1704078305), 0 },
    { "2024-01-02T03:04:05-00:00", INT64_C(1704164645), 0 },
    { "2024-01-02T03:04:05+00:00", INT64_C(1704164645), 0 },
    { "2024-01-01T03:05:05\xe2\x88\x92" "23:59", INT64_C(1704164645), 0 },  /* U+2212, as chrono */
    { "2024-02-29T12:00:00Z", INT64_C(1709208000), 0 },
    { "2000-02-29T00:00:00Z", INT64_C(951782400), 0 },
    { "1600-02-29T00:00:00Z", INT64_C(-11670998400), 0 },
    { "0000-02-29T00:00:00Z", INT64_C(-62167219200) + 59 * 86400, 0 },   /* year 0 is leap */
    { "0000-01-01T00:00:00Z", INT64_C(-62167219200), 0 },
    { "0000-01-01T00:30:00+01:00", INT64_C(-62167219200) - 1800, 0 },   /* before year 0 in UTC */
    { "9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999 },
    { "9999-12-31T23:59:59-23:59", INT64_C(253402300799) + 86340, 0 },
    { "1969-12-31T23:59:59Z", INT64_C(-1), 0 },
    { "1900-03-01T00:00:00Z", INT64_C(-2203891200), 0 },
    { "2038-01-19T03:14:08Z", INT64_C(2147483648), 0 },
    { "2024-12-31T23:59:59+01:00", INT64_C(1735685999), 0 },
    { "0001-01-01T00:30:00+01:00", INT64_C(-62135598600), 0 },
    { "2024-04-30T00:00:00Z", INT64_C(1714435200), 0 },
    /* Leap seconds: second 59 plus a second of nanos, whatever the offset. */
    { "2016-12-31T23:59:60Z", INT64_C(1483228799), 1000000000 },
    { "2016-12-31T23:59:60.5Z", INT64_C(1483228799), 1500000000 },
    { "2017-01-01T08:59:60.999999999+09:00", INT64_C(1483228799), 1999999999 },
    { "2024-01-02T03:04:60Z", INT64_C(1704164699), 1000000000 },  /* chrono does not check the date */
    /* Relaxed: chrono's valid list (test_parse_datetime_utc, test_datetime_from_str). */
    { "2001-02-03T04:05:06+0000", INT64_C(981173106), 0 },
    { "2001-02-03T04:05:06-01:00", INT64_C(981176706), 0 },
    { "2012-12-12 12:12:12Z", INT64_C(1355314332), 0 },
    { "2012 -12-12T12:12:12Z", INT64_C(1355314332), 0 },
    { "2012  -12-12T12:12:12Z", INT64_C(1355314332), 0 },
    { "2012- 12-12T12:12:12Z", INT64_C(1355314332), 0 },
    { "2012-  12-12T12:12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T 12:12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12 :12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12  :12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12: 12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12:  12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12 : 12:12Z", INT64_C(1355314332), 0 },
    { "2012-12-12T12:12:12Z ", INT64_C(1355314332), 0 },
    { " 2012-12-12T12:12:12Z", INT64_C(1355314332), 0 },
    { "2015-2-18T23:16:09.153Z", INT64_C(1424301369), 153000000 },
    { "+2015-2-18T23:16:09.153Z", INT64_C(1424301369), 153000000 },
    { "2015-02-18T23:16:9.15Z", INT64_C(1424301369), 150000000 },
    { "2015-02-18T23:16:9.15 UTC", INT64_C(1424301369), 150000000 },
    { "2015-02-18T23:16:9.15UTC", INT64_C(1424301369), 150000000 },
    { "2015-02-18T23:16:9.15Utc", INT64_C(1424301369), 150000000 },
    { "2015-2-18T13:16:9.15-10:00", INT64_C(1424301369), 150000000 },
    /* Relaxed: unpadded fields, 1-4 digit years without a sign, any digits with one. */
    { "24-1-2T3:4:5Z", INT64_C(-61409739355), 0 },                      /* year 24, not 2024 */
    { "0-1-1T0:0:0Z", INT64_C(-62167219200), 0 },
    { "+0002024-01-02T03:04:05Z", INT64_C(1704164645), 0 },
    { "-0000-01-01T00:00:00Z", INT64_C(-62167219200), 0 },               /* -0 is year 0 */
    { "+0-01-01T00:00:00Z", INT64_C(-62167219200), 0 },
    /* Years -1 and 10000, when the offset brings them into 0000..9999 in UTC. */
    { "-0001-12-31T23:59:59-23:59", INT64_C(-62167219200) + 86339, 0 },
    { "-1-12-31T23:59:60.5-00:01", INT64_C(-62167219200) + 59, 1500000000 },
    { "+10000-01-01T00:00:00+23:59", INT64_C(253402300800) - 86340, 0 },
    { "+10000-01-01T00:00:00+00:01", INT64_C(253402300740), 0 },
    /* ... and into UTC years -1 and 10000 (chrono takes them; within a day of 0000..9999) */
    { "0000-01-01T00:30:00+01:00", INT64_C(-62167219200) - 1800, 0 },
    { "0000-01-01T00:00:00+23:59", INT64_C(-62167219200) - 86340, 0 },
    { "-0001-12-31T00:00:00Z", INT64_C(-62167219200) - 86400, 0 },
    { "-0001-12-31T23:59:59Z", INT64_C(-62167219200) - 1, 0 },
    { "9999-12-31T23:59:59-01:00", INT64_C(253402300799) + 3600, 0 },
    { "9999-12-31T23:59:59-23:59", INT64_C(253402300799) + 86340, 0 },
    { "+10000-01-01T00:00:00Z", INT64_C(253402300800), 0 },
    { "+10000-01-01T23:59:60.5Z", INT64_C(253402300800) + 86399, 1500000000 },
    /* Relaxed: whitespace is Unicode White_Space (Rust's trim_start), anywhere chrono trims. */
    { "\t\n\v\f\r2012-12-12T12:12:12Z\r\n", INT64_C(1355314332), 0 },
    { "2012-12-12T12:12:12Z\xc2\x85\xc2\xa0\xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a", INT64_C(1355314332), 0 },
    { "2012-12-12T12:12:12Z\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f\xe3\x80\x80", INT64_C(1355314332), 0 },
    { "2012\xe3\x80\x80-\t12 -\xc2\xa0" "12 \n12\x0b: 12 :\r12 Z", INT64_C(1355314332), 0 },
    { "2012-12-12  12:12:12Z", INT64_C(1355314332), 0 },                 /* ' ' then trimmed */
    { "2012-12-12T12:12:12.5 Z", INT64_C(1355314332), 500000000 },
    /* Relaxed offsets: no colon, any run of ':' and spaces between hours and minutes, the
     * offset after spaces, "UTC" in any case. */
    { "2024-01-02T08:34:05+0530", INT64_C(1704164645), 0 },
    { "2024-01-02T08:34:05 +05:30", INT64_C(1704164645), 0 },
    { "2024-01-02T08:34:05+05 30", INT64_C(1704164645), 0 },
    { "2024-01-02T08:34:05+05 : 30", INT64_C(1704164645), 0 },
    { "2024-01-02T08:34:05+05::\t:30 ", INT64_C(1704164645), 0 },
    { "2024-01-02T08:34:05.001 +05:30", INT64_C(1704164645), 1000000 },
    { "2015-01-20T17:35:20.001-08 : 00", INT64_C(1421804120), 1000000 },   /* strict chrono rejects it */
    { "2024-01-01T03:05:05\xe2\x88\x92" "2359", INT64_C(1704164645), 0 },
    { "2024-01-02T03:04:05uTc", INT64_C(1704164645), 0 },
    { "2024-01-02T03:04:05 utc ", INT64_C(1704164645), 0 },
};

static const char *const INVALID[] = {
    /* chrono's invalid list (test_parse_datetime_utc, test_datetime_from_str) */
    "", "Z", "15Z", "15:8:9Z", "15-8-9Z", "Fri, 09 Aug 2013 23:54:35 GMT", "Sat Jun 30 23:59:60 2012",
    "1441497364.649", "+1441497364.649", "+1441497364", "+1441497364Z", "2014/02/03 04:05:06Z",
    "2001-02-03T04:05:0600:00", "2015-15-15T15:15:15Z", "2012-12-12T12:12:12x", "2012-123-12T12:12:12Z",
    "2012-12-77T12:12:12Z", "2012-12-12T26:12:12Z", "2012-12-12T12:61:12Z", "2012-12-12T12:12:62Z",
    "2012-12-12 T12:12:12Z", "2012-12-12T12:12:12ZZ", "+802701-12-12T12:12:12Z", "+ 2012-12-12T12:12:12Z",
    "  +82701  -  05  -  6  T  15  :  9  : 60.898989898989   Z", "2015-2-18T23:16:9.15",
    "2015-02-18T23:16:9.15\xc3\xb8\xc3\xb8\xc3\xb8",
    /* chrono's test_rfc3339 cases that the relaxed grammar rejects too */
    "2015-01-20_17:35:20-08:00", "2015/01/20T17:35:20.001-08:00", "2015-01/20T17:35:20.001-08:00",
    "2015-01-20T17-35-20.001-08:00", "2015-01-20T17-35:20.001-08:00", "-01-20T17:35:20-08:00",
    "99999-01-20T17:35:20-08:00", "2015-00-30T17:35:20-08:00", "2015-02-30T17:35:20-08:00",
    "2015-01-20T25:35:20-08:00", "2015-01-20T17:65:20-08:00", "2015-01-20T17:35:90-08:00",
    "2015-01-20T17:35:20-24:00", "15-01-20T17:35:20-08:00:00", "2015-01-20T17:35:2008:00",
    "2015-01-20T17:35:20 08:00", "2015-01-20T17:35:20Zulu", "2015-01-20T17:35:20 Zulu",
    "2015-01-20T17:35:20GMT", "2015-01-20T17:35:20 GMT", "2015-01-20T17:35:20+GMT",
    "2015-01-20T17:35:20++08:00", "2015-01-20T17:35:20--08:00",
    "2015-01-20T17:35:20\xe2\x88\x92\xe2\x88\x92" "08:00", "2015-01-20T17:35:20\xc2\xb1" "08:00",
    "2015-01-20T17:35:20-08-00", "2015-01-20T17:35:20-08;00", "2015-01-20T17:35:20-08:0",
    "2015-01-20T17:35:20-08:AA", "2015-01-20T17:35:20-08:ZZ", "2015-01-20T17:35:20-08:00:00",
    "2015-01-20T17:35:20+08:", "2015-01-20T17:35:20-08:", "2015-01-20T17:35:20\xe2\x88\x92" "08:",
    "2015-01-20T17:35:20-08", "2015-01-20T", "2015-01-20T00:00:1",
    /* structure */
    "2024", "2024-01-02", "2024-01-02T", "2024-01-02T03:04",
    "2024-01-02T03:04Z",                  /* missing seconds */
    "2024-01-02T03:04:05",                /* missing offset */
    "2024-01-02T03:04:05 ", "2024-01-02T03:04:05\n",
    "2024-01-02T03:04:05.",               /* fraction without digits */
    "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05.123", "2024-01-02T03:04:05.1.2Z",
    "2024-01-02T03:04:05,123Z", "2024-01-02T03:04:05 .5Z", "2024-01-02T03:04:05. 5Z",
    "2024-01-02T03:04:05Zjunk", "2024-01-02T03:04:05Z x", "2024-01-02T03:04:05+00:00Z",
    "2024-01-02T03:04:05+00:000",
    /* separators: exactly one 'T', 't' or ' ' right after the day; spaces before it are not
     * trimmed, other whitespace does not separate */
    "2024-01-02x03:04:05Z", "2024-01-0203:04:05Z", "2024-01-02\t03:04:05Z",
    "2024-01-02\xc2\xa0" "03:04:05Z", "2024-01-02 t03:04:05Z", "2024-01-02T03.04.05Z",
    "2024--01-02T03:04:05Z", "2024-01-02T03::04:05Z",
    /* numbers: 1-4 digit unsigned year, 1-2 digit fields, ASCII digits only */
    "02024-01-02T03:04:05Z", "2024-001-02T03:04:05Z", "2024-01-002T03:04:05Z", "2024-01-02T003:04:05Z",
    "2024-01-02T03:004:05Z", "2024-01-02T03:04:005Z", "++2024-01-02T03:04:05Z", "+-2024-01-02T03:04:05Z",
    "+-01-02T03:04:05Z", "2024-+1-02T03:04:05Z", "2024-01-02T+3:04:05Z", "2024-0a-02T03:04:05Z",
    "2024-01-02T03:04:0\x80Z", "2024-01-02T03:04:\xd9\xa3Z", "2024-01-02T03:04:\xef\xbc\x95Z",
    /* only White_Space is trimmed: not U+180E, U+200B, U+FEFF, U+001C, NUL */
    "\xe1\xa0\x8e" "2012-12-12T12:12:12Z", "\xe2\x80\x8b" "2012-12-12T12:12:12Z",
    "\xef\xbb\xbf" "2012-12-12T12:12:12Z", "\x1c" "2012-12-12T12:12:12Z", "2012-12-12T12:12:12Z\xe2\x80\x8b",
    /* field ranges */
    "2024-00-10T00:00:00Z", "2024-13-10T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-32T00:00:00Z",
    "2024-04-31T00:00:00Z", "2024-06-31T00:00:00Z", "2024-09-31T00:00:00Z", "2024-11-31T00:00:00Z",
    "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
    "2024-01-02T24:00:00Z", "2024-01-02T03:60:00Z", "2024-01-02T03:04:61Z", "2024-01-02T99:04:05Z",
    /* offsets: sign right before two hour digits, two minute digits 00-59, under 24 h */
    "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05-24:00", "2024-01-02T03:04:05+00:60",
    "2024-01-02T03:04:05+99:99", "2024-01-02T03:04:05+05", "2024-01-02T03:04:05+05:3",
    "2024-01-02T03:04:05+5:30", "2024-01-02T03:04:05+ 05:30", "2024-01-02T03:04:05+05-30",
    "2024-01-02T03:04:05+05 ", "2024-01-02T03:04:05+05: ", "2024-01-02T03:04:05+0530 0",
    "2024-01-02T03:04:05UT", "2024-01-02T03:04:05U", "2024-01-02T03:04:05UTCZ", "2024-01-02T03:04:05UTC+01:00",
    "2024-01-02T03:04:05\xe2\x88\x92", ("2024-01-02T03:04:05\xe2\x88\x93" "05:30"),
    "2024-01-02T03:04:05+-05:30", "2024-01-02T03:04:05+a5:30",
};

/* Years chrono accepts whose instant is more than a day outside 0000..9999: rejected by the
 * parser itself (no caller checks the instant again: the schema walk writes what it parsed). */
static const char *const UNWRITABLE[] = {
    "-77-02-18T23:16:09Z", "+82701-05-6T15:9:60.898989898989Z",    /* chrono's valid list */
    "-2000-01-20T17:35:20-08:00", "-2024-01-02T03:04:05Z",
    "-0001-12-30T23:59:59Z", "-0001-12-31T00:00:00+00:01", "-0002-12-31T23:59:60.999999999-23:59",
    "+10000-01-02T00:00:00Z", "10000-01-01T00:00:00+23:59",   /* unsigned: 4 digits at most */
    "+10001-01-01T00:00:00+23:59", "-0000000000000000000000000001-01-01T00:00:00Z",
    "+99999999999999999999999999-01-01T00:00:00Z", "+10000-01-01T23:59:59-00:01",
};

static void parses_valid(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(VALID); i++) {
        q_time t = { 7, 7 };
        int rc = parse_exact(VALID[i].txt, (uint32_t)strlen(VALID[i].txt), &t);
        if (rc != Q_OK) fail_msg("rejected %s", VALID[i].txt);
        if (t.secs != VALID[i].secs || t.nanos != VALID[i].nanos)
            fail_msg("%s: got %lld.%u", VALID[i].txt, (long long)t.secs, t.nanos);
    }
}

static void rejects_invalid(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(INVALID); i++) {
        q_time t = { 0, 0 };
        int rc = parse_exact(INVALID[i], (uint32_t)strlen(INVALID[i]), &t);
        if (rc != Q_ERR(INVALID_TIMESTAMP)) fail_msg("accepted %s (rc %d)", INVALID[i], rc);
    }
    for (size_t i = 0; i < Q_ARRAY_LEN(UNWRITABLE); i++) {
        q_time t = { 0, 0 };
        int rc = parse_exact(UNWRITABLE[i], (uint32_t)strlen(UNWRITABLE[i]), &t);
        if (rc != Q_ERR(INVALID_TIMESTAMP)) fail_msg("%s: rc %d", UNWRITABLE[i], rc);
    }
    q_time t;
    assert_int_equal(rfc3339_parse(QS("2024-01-02T03:04:05\0"), &t), Q_ERR(INVALID_TIMESTAMP));
    assert_int_equal(rfc3339_parse(QS("2024-01-02T03:04:05.1\0Z"), &t), Q_ERR(INVALID_TIMESTAMP));
    assert_int_equal(rfc3339_parse(QS("2024-01-02T03:04:05Z\0"), &t), Q_ERR(INVALID_TIMESTAMP));
    assert_int_equal(rfc3339_parse(QS("\0" "2024-01-02T03:04:05Z"), &t), Q_ERR(INVALID_TIMESTAMP));
    /* The length bounds the read: a valid prefix cut short is rejected. */
    assert_int_equal(rfc3339_parse(QS("2024-01-02T03:04:05Z") - 1, &t), Q_ERR(INVALID_TIMESTAMP));
    assert_int_equal(rfc3339_parse(QS("2024-01-02T03:04:05+05:30") - 1, &t), Q_ERR(INVALID_TIMESTAMP));
}

/* Leap years and month lengths over four centuries, against the Gregorian rule. */
static void month_lengths(void **s) {
    for (uint32_t y = 1896; y <= 2404; y++)
        for (uint32_t m = 1; m <= 12; m++)
            for (uint32_t d = 28; d <= 32; d++) {
                char buf[32];
                snprintf(buf, sizeof buf, "%04u-%02u-%02uT12:00:00Z", y, m, d);
                bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                uint32_t dim = m == 2 ? 28 + leap : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
                q_time t;
                int rc = rfc3339_parse((const uint8_t *)buf, (uint32_t)strlen(buf), &t);
                if ((rc == Q_OK) != (d <= dim)) fail_msg("%s: rc %d", buf, rc);
            }
}

static void fmt(q_time t, rfc3339_style st, const char *want) {
    uint8_t out[RFC3339_MAX_LEN];
    uint32_t n = rfc3339_format(t, st, out);
    if (n != strlen(want) || memcmp(out, want, n) != 0)
        fail_msg("%lld.%u: got %.*s want %s", (long long)t.secs, t.nanos, (int)n, (const char *)out, want);
}

static q_time T(int64_t secs, uint32_t nanos) { q_time t = { secs, nanos }; return t; }

static void formats_autosi(void **s) {
    fmt(T(1704164645, 0), RFC3339_Z, "2024-01-02T03:04:05Z");
    fmt(T(1704164645, 123000000), RFC3339_Z, "2024-01-02T03:04:05.123Z");
    fmt(T(1704164645, 100000000), RFC3339_Z, "2024-01-02T03:04:05.100Z");
    fmt(T(1704164645, 1000000), RFC3339_Z, "2024-01-02T03:04:05.001Z");
    fmt(T(1704164645, 123456000), RFC3339_Z, "2024-01-02T03:04:05.123456Z");
    fmt(T(1704164645, 1000), RFC3339_Z, "2024-01-02T03:04:05.000001Z");
    fmt(T(1704164645, 100000), RFC3339_Z, "2024-01-02T03:04:05.000100Z");
    fmt(T(1704164645, 123456789), RFC3339_Z, "2024-01-02T03:04:05.123456789Z");
    fmt(T(1704164645, 1), RFC3339_Z, "2024-01-02T03:04:05.000000001Z");
    fmt(T(1704164645, 120000010), RFC3339_Z, "2024-01-02T03:04:05.120000010Z");
    fmt(T(1704164645, 999999999), RFC3339_Z, "2024-01-02T03:04:05.999999999Z");
    fmt(T(1704164645, 0), RFC3339_PLUS00, "2024-01-02T03:04:05+00:00");
    fmt(T(1704164645, 5000000), RFC3339_PLUS00, "2024-01-02T03:04:05.005+00:00");
    fmt(T(1704164645, 5000), RFC3339_PLUS00, "2024-01-02T03:04:05.000005+00:00");
    fmt(T(1704164645, 5), RFC3339_PLUS00, "2024-01-02T03:04:05.000000005+00:00");
    fmt(T(0, 0), RFC3339_Z, "1970-01-01T00:00:00Z");
    fmt(T(-1, 999000000), RFC3339_Z, "1969-12-31T23:59:59.999Z");
    fmt(T(951782400, 0), RFC3339_Z, "2000-02-29T00:00:00Z");
    fmt(T(-2203891200 - 1, 0), RFC3339_Z, "1900-02-28T23:59:59Z");
    fmt(T(2147483648, 0), RFC3339_Z, "2038-01-19T03:14:08Z");
}

static void formats_leap_and_limits(void **s) {
    fmt(T(1483228799, 1000000000), RFC3339_Z, "2016-12-31T23:59:60Z");
    fmt(T(1483228799, 1500000000), RFC3339_Z, "2016-12-31T23:59:60.500Z");
    fmt(T(1483228799, 1999999999), RFC3339_PLUS00, "2016-12-31T23:59:60.999999999+00:00");
    fmt(T(INT64_C(-62167219200), 0), RFC3339_Z, "0000-01-01T00:00:00Z");
    fmt(T(INT64_C(253402300799), 999999999), RFC3339_Z, "9999-12-31T23:59:59.999999999Z");
    fmt(T(INT64_C(253402300799), 1999999999), RFC3339_PLUS00, "9999-12-31T23:59:60.999999999+00:00");
    uint8_t out[RFC3339_MAX_LEN];
    /* UTC years -1 and 10000 (a day past either end), signed as chrono's {:+05} */
    fmt(T(INT64_C(-62167219200) - 1800, 0), RFC3339_Z, "-0001-12-31T23:30:00Z");
    fmt(T(INT64_C(-62167219200) - 86400, 0), RFC3339_PLUS00, "-0001-12-31T00:00:00+00:00");
    fmt(T(INT64_C(-62167219200) - 1, 1999999999), RFC3339_Z, "-0001-12-31T23:59:60.999999999Z");
    fmt(T(INT64_C(253402300800) + 3599, 0), RFC3339_Z, "+10000-01-01T00:59:59Z");
    fmt(T(INT64_C(253402300800), 0), RFC3339_Z, "+10000-01-01T00:00:00Z");
    fmt(T(INT64_C(253402300800) + 86399, 1999999999), RFC3339_PLUS00, "+10000-01-01T23:59:60.999999999+00:00");
    assert_int_equal(rfc3339_format(T(INT64_C(-62167219200) - 86401, 999999999), RFC3339_Z, out), 0);
    assert_int_equal(rfc3339_format(T(INT64_C(253402300800) + 86400, 0), RFC3339_Z, out), 0);
    assert_int_equal(rfc3339_format(T(INT64_MIN, 0), RFC3339_Z, out), 0);
    assert_int_equal(rfc3339_format(T(INT64_MAX, 0), RFC3339_PLUS00, out), 0);
    assert_int_equal(rfc3339_format(T(0, 2000000000), RFC3339_Z, out), 0);   /* not a valid q_time */
    /* The longest output fits the declared maximum. */
    assert_true(rfc3339_format(T(0, 123456789), RFC3339_PLUS00, out) <= RFC3339_MAX_LEN);
}

/* The extremes the parser accepts (a day past either end of 0000..9999 less a unit, leap
 * seconds, the widest offsets, every fraction digit) are instants the writer writes: the schema
 * walk writes what rfc3339_parse gave without checking it again. */
static void parsed_extremes_are_writable(void **s) {
    static const char *const EXTREMES[] = {
        "-0001-12-31T00:00:00Z", "-0001-12-31T00:00:00.000000000+00:00", "0000-01-01T00:00:00+23:59",
        "-0000-01-01T00:00:00+23:59", "-0001-12-31T23:59:60.999999999Z", "0000-01-01T23:58:60.999999999+23:59",
        "+10000-01-01T23:59:59.999999999Z", "+10000-01-01T23:59:60.999999999Z",
        "9999-12-31T23:59:60.999999999-23:59", "9999-12-31T00:00:60.999999999999-23:59",
    };
    uint8_t out[RFC3339_MAX_LEN];
    for (size_t i = 0; i < Q_ARRAY_LEN(EXTREMES); i++) {
        q_time t;
        int rc = parse_exact(EXTREMES[i], (uint32_t)strlen(EXTREMES[i]), &t);
        if (rc != Q_OK) fail_msg("rejected %s (rc %d)", EXTREMES[i], rc);
        uint32_t n = rfc3339_format(t, RFC3339_Z, out);
        if (!n) fail_msg("%s parses to %lld.%u, which the writer refuses", EXTREMES[i], (long long)t.secs, t.nanos);
        q_time back;
        assert_int_equal(rfc3339_parse(out, n, &back), Q_OK);
        if (back.secs != t.secs || back.nanos != t.nanos) fail_msg("%s: %.*s reads back differently", EXTREMES[i], (int)n, (const char *)out);
    }
}

/* Every day from 0000-01-01 to 9999-12-31: parse gives consecutive days, format inverts. */
static void every_day_round_trips(void **s) {
    static const uint8_t DIM[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int64_t expect = INT64_C(-62167219200);
    char buf[32];
    uint8_t out[RFC3339_MAX_LEN];
    for (uint32_t y = 0; y <= 9999; y++) {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (uint32_t m = 1; m <= 12; m++) {
            uint32_t dim = DIM[m] + (m == 2 && leap);
            for (uint32_t d = 1; d <= dim; d++) {
                uint32_t sod = (y * 7919u + m * 31u + d * 997u) % 86400u;   /* vary the time */
                int n = snprintf(buf, sizeof buf, "%04u-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
                                 sod / 3600, sod / 60 % 60, sod % 60);
                q_time t;
                if (rfc3339_parse((const uint8_t *)buf, (uint32_t)n, &t) != Q_OK) fail_msg("rejected %s", buf);
                if (t.secs != expect + sod) fail_msg("%s: %lld", buf, (long long)t.secs);
                uint32_t fn = rfc3339_format(t, RFC3339_Z, out);
                if (fn != (uint32_t)n || memcmp(out, buf, fn) != 0) fail_msg("%s formatted as %.*s", buf, (int)fn, out);
                expect += 86400;
            }
        }
    }
    assert_int_equal(expect, INT64_C(253402300800));
}

/* Parse(format(t)) == t for many instants and fractions, both styles. */
static void format_parse_round_trips(void **s) {
    static const uint32_t NANOS[] = { 0, 1, 999999999, 500000000, 123000000, 123456000, 123456789, 1000, 1000000 };
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t secs = INT64_C(-62167219200) - 86400 + (int64_t)(x % UINT64_C(315538070400));   /* -0001-12-31 .. +10000-01-01 */
        uint32_t nanos = (i & 1) ? (uint32_t)(x >> 33) % 1000000000u : NANOS[i % Q_ARRAY_LEN(NANOS)];
        if (i % 97 == 0 && (secs % 60 + 60) % 60 == 59) nanos += 1000000000u;   /* leap */
        uint8_t out[RFC3339_MAX_LEN];
        for (int st = 0; st < 2; st++) {
            uint32_t n = rfc3339_format(T(secs, nanos), (rfc3339_style)st, out);
            assert_true(n >= 20);
            q_time back;
            assert_int_equal(rfc3339_parse(out, n, &back), Q_OK);
            assert_int_equal(back.secs, secs);
            assert_int_equal(back.nanos, nanos);
        }
    }
}

static void from_unix_ms(void **s) {
    struct { double ms; int64_t secs; uint32_t nanos; } C[] = {
        { 0.0, 0, 0 },
        { -0.0, 0, 0 },
        { 1.0, 0, 1000000 },
        { 1.5, 0, 1500000 },
        { 999.999, 0, 999999000 },          /* the double is 999.99900000000002 */
        { 1000.0, 1, 0 },
        { 1704164645123.0, 1704164645, 123000000 },
        { 1704164645123.5, 1704164645, 123500000 },
        { 1704164645123.25, 1704164645, 123250000 },
        { 0.000001, 0, 1 },                 /* just below 1e-6; the product rounds to 1 ns */
        { 0.0000015, 0, 1 },
        { 0.0000001, 0, 0 },
        { -0.5, -1, 999500000 },
        { -1.0, -1, 999000000 },
        { -1000.0, -1, 0 },
        { -1001.0, -2, 999000000 },
        { -1001.25, -2, 998750000 },
        { -1e-300, -1, 999999999 },         /* floors to -1 ns */
        { 8.9e15, 8900000000000, 0 },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(C); i++) {
        q_time t = q_time_from_unix_ms(C[i].ms);
        if (t.secs != C[i].secs || t.nanos != C[i].nanos)
            fail_msg("%.17g: got %lld.%09u", C[i].ms, (long long)t.secs, t.nanos);
    }
    /* Not a clock reading: the epoch rather than undefined conversions. */
    double zero = 0.0;
    q_time t = q_time_from_unix_ms(zero / zero);
    assert_int_equal(t.secs, 0); assert_int_equal(t.nanos, 0);
    t = q_time_from_unix_ms(1.0 / zero);
    assert_int_equal(t.secs, 0);
    t = q_time_from_unix_ms(-1.0 / zero);
    assert_int_equal(t.secs, 0);
    t = q_time_from_unix_ms(1e300);
    assert_int_equal(t.secs, 0);
    /* Whole milliseconds are exact and nanos always stays below a second. */
    for (int64_t ms = -5000; ms <= 5000; ms += 7) {
        t = q_time_from_unix_ms((double)ms);
        assert_int_equal(t.secs * 1000 + t.nanos / 1000000, ms);
        assert_int_equal(t.nanos % 1000000, 0);
        assert_true(t.nanos < 1000000000u);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_valid),
        cmocka_unit_test(rejects_invalid),
        cmocka_unit_test(month_lengths),
        cmocka_unit_test(formats_autosi),
        cmocka_unit_test(formats_leap_and_limits),
        cmocka_unit_test(parsed_extremes_are_writable),
        cmocka_unit_test(every_day_round_trips),
        cmocka_unit_test(format_parse_round_trips),
        cmocka_unit_test(from_unix_ms),
    };
    return cmocka_run_group_tests_name("rfc3339", tests, NULL, NULL);
}
