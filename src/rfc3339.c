/* RFC 3339 timestamps as chrono's strict parser reads them and as chrono writes UTC
 * (SecondsFormat::AutoSi). Calendar arithmetic is integer-only: no libc on wasm. */
#include "rfc3339.h"

#define BAD Q_ERR(INVALID_TIMESTAMP)

/* Unix seconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the span a
 * four-digit year can write. */
#define UNIX_YEAR0 INT64_C(-62167219200)
#define UNIX_YEAR10000 INT64_C(253402300800)

/* Days of the proleptic Gregorian 400-year cycle; from 0000-03-01 to 1970-01-01. */
#define DAYS_PER_ERA 146097
#define DAYS_MAR0_TO_EPOCH 719468

static bool is_leap(uint32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static uint32_t days_in_month(uint32_t y, uint32_t m) {
    if (m == 2) return 28 + is_leap(y);
    return 30 + ((m + (m >> 3)) & 1);            /* 31 for Jan Mar May Jul Aug Oct Dec */
}

/* Days since 1970-01-01 for a valid date of year 0..9999. Years start in March so the
 * leap day ends a year; the year is shifted by one 400-year era to stay unsigned. */
static int64_t days_from_civil(uint32_t y, uint32_t m, uint32_t d) {
    uint32_t yy = y + 400 - (m <= 2);
    uint32_t era = yy / 400, yoe = yy % 400;
    uint32_t doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;   /* day of the March year */
    uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;    /* day of the era */
    return (int64_t)era * DAYS_PER_ERA + doe - DAYS_PER_ERA - DAYS_MAR0_TO_EPOCH;
}

int rfc3339_parse(const uint8_t *s, uint32_t n, q_time *out) {
    /* The fixed-width head: 'd' is a digit, 'T' the date/time separator, the rest literal. */
    static const char HEAD[] = "dddd-dd-ddTdd:dd:dd";
    uint32_t f[6], k = 0, acc = 0, i;
    if (n < 20) return BAD;                      /* head plus at least 'Z' */
    for (i = 0; i < 19; i++) {
        uint8_t c = s[i];
        char t = HEAD[i];
        if (t == 'd') {
            if ((uint32_t)(c - '0') > 9) return BAD;
            acc = acc * 10 + (uint32_t)(c - '0');
            continue;
        }
        if (t == 'T' ? (c != 'T' && c != 't' && c != ' ') : c != (uint8_t)t) return BAD;
        f[k++] = acc;
        acc = 0;
    }
    f[5] = acc;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > days_in_month(f[0], f[1]) ||
        f[3] > 23 || f[4] > 59 || f[5] > 60)
        return BAD;

    /* Fraction: at least one digit; digits past nanoseconds are read and dropped. */
    uint32_t nanos = 0;
    if (s[i] == '.') {
        uint32_t start = ++i, scale = 100000000;
        for (; i < n && (uint32_t)(s[i] - '0') <= 9; i++) {
            nanos += (uint32_t)(s[i] - '0') * scale;
            scale /= 10;
        }
        if (i == start) return BAD;
    }
    /* A leap second is kept as second 59 plus a second of nanos, as chrono does. */
    if (f[5] == 60) { f[5] = 59; nanos += 1000000000u; }

    /* Offset: Z, or a sign and hh:mm. chrono also takes U+2212 MINUS SIGN for '-'. */
    int32_t off = 0;
    if (i >= n) return BAD;
    if ((s[i] | 0x20) == 'z') {
        i++;
    } else {
        int32_t sign = 1;
        if (s[i] == '+') i++;
        else if (s[i] == '-') { sign = -1; i++; }
        else if (n - i >= 3 && s[i] == 0xE2 && s[i + 1] == 0x88 && s[i + 2] == 0x92) { sign = -1; i += 3; }
        else return BAD;
        if (n - i != 5 || s[i + 2] != ':') return BAD;
        uint32_t h1 = (uint32_t)(s[i] - '0'), h2 = (uint32_t)(s[i + 1] - '0');
        uint32_t m1 = (uint32_t)(s[i + 3] - '0'), m2 = (uint32_t)(s[i + 4] - '0');
        if (h1 > 9 || h2 > 9 || m1 > 5 || m2 > 9 || h1 * 10 + h2 > 23) return BAD;
        off = sign * (int32_t)((h1 * 10 + h2) * 3600 + (m1 * 10 + m2) * 60);
        i += 5;
    }
    if (i != n) return BAD;                      /* trailing garbage */

    out->secs = days_from_civil(f[0], f[1], f[2]) * 86400 +
                (int64_t)(f[3] * 3600 + f[4] * 60 + f[5]) - off;
    out->nanos = nanos;
    return Q_OK;
}

/* Zero-padded decimal of exactly `width` digits. */
static void put_digits(uint8_t *out, uint32_t v, uint32_t width) {
    while (width--) { out[width] = (uint8_t)('0' + v % 10); v /= 10; }
}

bool rfc3339_writable(q_time t) {
    return t.secs >= UNIX_YEAR0 && t.secs < UNIX_YEAR10000 && t.nanos < 2000000000u;
}

uint32_t rfc3339_format(q_time t, rfc3339_style style, uint8_t out[RFC3339_MAX_LEN]) {
    if (!rfc3339_writable(t)) return 0;
    uint64_t u = (uint64_t)(t.secs - UNIX_YEAR0);   /* seconds since 0000-01-01 */
    uint32_t sod = (uint32_t)(u % 86400);
    /* Days since 0000-03-01, shifted by one era so January and February of year 0 stay
     * unsigned (year 0 is a leap year: 60 days precede March 1). */
    uint32_t z = (uint32_t)(u / 86400) + (DAYS_PER_ERA - 60);
    uint32_t era = z / DAYS_PER_ERA, doe = z % DAYS_PER_ERA;
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    uint32_t day = doy - (153 * mp + 2) / 5 + 1;
    uint32_t month = mp < 10 ? mp + 3 : mp - 9;
    uint32_t year = era * 400 + yoe - 400 + (month <= 2);

    uint32_t sec = sod % 60, nanos = t.nanos;
    if (nanos >= 1000000000u) { sec++; nanos -= 1000000000u; }   /* leap second: :60 */

    static const char HEAD[] = "0000-00-00T00:00:00";
    q_memcpy(out, HEAD, 19);
    put_digits(out, year, 4);
    put_digits(out + 5, month, 2);
    put_digits(out + 8, day, 2);
    put_digits(out + 11, sod / 3600, 2);
    put_digits(out + 14, sod / 60 % 60, 2);
    put_digits(out + 17, sec, 2);
    uint32_t len = 19;
    if (nanos) {
        /* AutoSi: the shortest of 3, 6 or 9 digits that is exact. */
        uint32_t digits = 9;
        while (digits > 3 && nanos % 1000 == 0) { nanos /= 1000; digits -= 3; }
        out[len++] = '.';
        put_digits(out + len, nanos, digits);
        len += digits;
    }
    if (style == RFC3339_PLUS00) {
        q_memcpy(out + len, "+00:00", 6);
        return len + 6;
    }
    out[len] = 'Z';
    return len + 1;
}

q_time q_time_from_unix_ms(double unix_ms) {
    q_time t = { 0, 0 };
    /* NaN, infinities and values past +-285,000 years are no clock reading: the epoch.
     * Inside this range every conversion below is exact or a single IEEE rounding, so
     * wasm and the host agree bit for bit. */
    if (!(unix_ms > -9e15 && unix_ms < 9e15)) return t;
    int64_t ms = (int64_t)unix_ms;               /* truncates toward zero ... */
    if ((double)ms > unix_ms) ms--;              /* ... so step down to the floor */
    /* Exact, except in (-1, 0) where 1 + x may round up to 1.0: hence the clamp. */
    double frac = unix_ms - (double)ms;
    /* Nanoseconds within the millisecond: the product is rounded once before the floor,
     * so a reading that prints as a whole nanosecond (1e-6 ms) stays that nanosecond. */
    uint32_t sub = (uint32_t)(frac * 1e6);
    if (sub > 999999) sub = 999999;
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) { rem += 1000; secs--; }        /* floor division for times before 1970 */
    t.secs = secs;
    t.nanos = (uint32_t)rem * 1000000u + sub;
    return t;
}
