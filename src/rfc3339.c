/* RFC 3339 timestamps as chrono's relaxed parser (serde's) reads them and as chrono writes
 * UTC (SecondsFormat::AutoSi). Calendar arithmetic is integer-only: no libc on wasm. */
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

/* Days since 1970-01-01 for a valid date; y400 is the year plus 400 (one era), so years
 * from -1 stay unsigned. Years start in March so the leap day ends a year. */
static int64_t days_from_civil(uint32_t y400, uint32_t m, uint32_t d) {
    uint32_t yy = y400 - (m <= 2);
    uint32_t era = yy / 400, yoe = yy % 400;
    uint32_t doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;   /* day of the March year */
    uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;    /* day of the era */
    return (int64_t)era * DAYS_PER_ERA + doe - DAYS_PER_ERA - DAYS_MAR0_TO_EPOCH;
}

/* Skips what Rust's str::trim_start skips (Unicode White_Space, UTF-8), and ':' too when
 * colons is set (chrono's colon_or_space). Returns the index of the first byte kept. */
static uint32_t skip_ws(const uint8_t *s, uint32_t n, uint32_t i, bool colons) {
    while (i < n) {
        uint32_t c = s[i], left = n - i;
        if (c == ' ' || c - 9 < 5 || (colons && c == ':')) { i++; continue; }
        if (c < 0x80) break;   /* the usual case, a digit or a separator: no multi-byte space to look for */
        /* three bytes as one number: U+1680, U+205F, U+3000 and U+2000..202F (d, by a mask) */
        uint32_t w = left >= 3 ? c << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2] : 0, d = w - 0xE28080u;
        if (left >= 2 && c == 0xC2 && (s[i + 1] == 0x85 || s[i + 1] == 0xA0)) i += 2;   /* U+0085, U+00A0 */
        else if (w == 0xE19A80u || w == 0xE2819Fu || w == 0xE38080u || (d < 48 && (UINT64_C(0x8300000007FF) >> d & 1))) i += 3;
        else break;
    }
    return i;
}

/* Reads up to max ASCII digits at s[i] into *v (chrono's scan::number); returns the index
 * after them (i itself when there is none). The value saturates past 10^6: only years get
 * that long, and those are out of range anyway. */
static uint32_t number(const uint8_t *s, uint32_t n, uint32_t i, uint32_t max, uint32_t *v) {
    uint32_t acc = 0;
    for (; max && i < n && (uint32_t)(s[i] - '0') <= 9; max--, i++)
        if (acc < 1000000) acc = acc * 10 + (uint32_t)(s[i] - '0');
    *v = acc;
    return i;
}

/* chrono 0.4.45's relaxed RFC 3339, as serde reads DateTime<Utc> (src/datetime/serde.rs:55-67
 * and 93-100 -> DateTime<FixedOffset>::from_str, src/format/parse.rs:585-646; numbers
 * parse.rs:376-421 and scan.rs:17-67; offsets scan.rs:185-280; ranges src/format/parsed.rs
 * 208-531, leap second 749-782, offset 903-914 and src/offset/fixed.rs:62-68). WS is Unicode
 * White_Space (Rust's trim_start), any amount:
 *
 *   input  = WS year WS "-" WS 1*2DIGIT WS "-" WS 1*2DIGIT ("T" / "t" / " ")
 *            WS 1*2DIGIT WS ":" WS 1*2DIGIT WS ":" WS 1*2DIGIT ["." 1*DIGIT] WS zone WS
 *   year   = 1*4DIGIT / ("+" / "-") 1*DIGIT
 *   zone   = "Z" / "z" / "UTC" (any case) / ("+" / "-" / U+2212) 2DIGIT *(":" / WS) 2DIGIT
 *
 * Month 1-12, day valid for the month, hour 0-23, minute 0-59, second 0-60 (60 is a leap
 * second on any date: second 59 plus a second of nanos), offset minutes 00-59 and the offset
 * under 24 h. Digits are ASCII and read greedily (a third one fails what follows); fraction
 * digits past nine are dropped. chrono takes years -262143..262142 (src/naive/date/mod.rs:
 * 2446-2451); we take the years whose instant, after an offset under a day, lies within a day
 * of 0000..9999 (UTC years -1..10000, which rfc3339_format writes as chrono does) and reject
 * the rest. */
int rfc3339_parse(const uint8_t *s, uint32_t n, q_time *out) {
    static const char SEP[] = "--T::";
    uint32_t f[6], i = skip_ws(s, n, 0, false), k, max = 4;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) { neg = s[i++] == '-'; max = UINT32_MAX; }
    for (k = 0;; k++) {
        uint32_t j = number(s, n, i, k ? 2 : max, &f[k]);
        if (j == i) return BAD;
        i = j;
        if (k == 5) break;
        if (k != 2) i = skip_ws(s, n, i, false);   /* no space before the date/time separator */
        if (i >= n || (k == 2 ? s[i] != 'T' && s[i] != 't' && s[i] != ' ' : s[i] != SEP[k])) return BAD;
        i = skip_ws(s, n, i + 1, false);
    }
    if (f[0] > (neg ? 1u : 10000u)) return BAD;
    uint32_t y400 = neg ? 400 - f[0] : 400 + f[0];   /* -0000 is year 0 */
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > days_in_month(y400, f[1]) ||
        f[3] > 23 || f[4] > 59 || f[5] > 60)
        return BAD;

    /* Fraction: right after the seconds, at least one digit; digits past nanoseconds are
     * read and dropped. */
    uint32_t nanos = 0;
    if (i < n && s[i] == '.') {
        uint32_t start = ++i, scale = 100000000;
        for (; i < n && (uint32_t)(s[i] - '0') <= 9; i++) {
            nanos += (uint32_t)(s[i] - '0') * scale;
            scale /= 10;
        }
        if (i == start) return BAD;
    }
    /* A leap second is kept as second 59 plus a second of nanos, as chrono does. */
    if (f[5] == 60) { f[5] = 59; nanos += 1000000000u; }

    int32_t off = 0;
    i = skip_ws(s, n, i, false);
    if (i >= n) return BAD;
    if ((s[i] | 0x20) == 'z') {
        i++;
    } else if (n - i >= 3 && (s[i] | 0x20) == 'u' && (s[i + 1] | 0x20) == 't' && (s[i + 2] | 0x20) == 'c') {
        i += 3;
    } else {
        int32_t sign = 1;
        if (s[i] == '+') i++;
        else if (s[i] == '-') { sign = -1; i++; }
        else if (n - i >= 3 && s[i] == 0xE2 && s[i + 1] == 0x88 && s[i + 2] == 0x92) { sign = -1; i += 3; }
        else return BAD;
        /* Exactly two digits each, hours 00-23 and minutes 00-59. */
        uint32_t hh, mm, j = number(s, n, i, 2, &hh);
        if (j != i + 2) return BAD;
        i = skip_ws(s, n, j, true);
        j = number(s, n, i, 2, &mm);
        if (j != i + 2 || hh > 23 || mm > 59) return BAD;
        off = sign * (int32_t)(hh * 3600 + mm * 60);
        i = j;
    }
    if (skip_ws(s, n, i, false) != n) return BAD;   /* trailing garbage; trailing space is fine */

    int64_t secs = days_from_civil(y400, f[1], f[2]) * 86400 +
                   (int64_t)(f[3] * 3600 + f[4] * 60 + f[5]) - off;
    /* Within a day of 0000..9999, as four-digit years give: rfc3339_writable's span, so every
     * instant accepted here can be written back (the schema walk relies on it). */
    if (secs < UNIX_YEAR0 - 86400 || secs >= UNIX_YEAR10000 + 86400) return BAD;
    out->secs = secs;
    out->nanos = nanos;
    return Q_OK;
}

/* Zero-padded decimal of exactly `width` digits. */
static void put_digits(uint8_t *out, uint32_t v, uint32_t width) {
    while (width--) { out[width] = (uint8_t)('0' + v % 10); v /= 10; }
}

/* Within a day of 0000..9999, the span rfc3339_parse gives: an offset can bring a four-digit
 * year to UTC year -1 or 10000, which chrono accepts and writes with a sign. */
static bool rfc3339_writable(q_time t) {
    return t.secs >= UNIX_YEAR0 - 86400 && t.secs < UNIX_YEAR10000 + 86400 && t.nanos < 2000000000u;
}

uint32_t rfc3339_format(q_time t, rfc3339_style style, uint8_t out[RFC3339_MAX_LEN]) {
    if (!rfc3339_writable(t)) return 0;
    uint64_t u = (uint64_t)(t.secs - UNIX_YEAR0 + 86400);   /* seconds since -0001-12-31 */
    uint32_t sod = (uint32_t)(u % 86400);
    /* Days since 0000-03-01, shifted by one era so year -1 and January and February of year 0
     * stay unsigned (year 0 is a leap year: 60 days precede March 1). */
    uint32_t z = (uint32_t)(u / 86400) + (DAYS_PER_ERA - 61);
    uint32_t era = z / DAYS_PER_ERA, doe = z % DAYS_PER_ERA;
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    uint32_t day = doy - (153 * mp + 2) / 5 + 1;
    uint32_t month = mp < 10 ? mp + 3 : mp - 9;
    uint32_t y400 = era * 400 + yoe + (month <= 2);   /* the year plus 400 */

    uint32_t sec = sod % 60, nanos = t.nanos;
    if (nanos >= 1000000000u) { sec++; nanos -= 1000000000u; }   /* leap second: :60 */

    /* chrono writes a year outside 0..=9999 as {:+05}: "-0001", "+10000". */
    uint32_t len = 0;
    if (y400 < 400) { out[len++] = '-'; y400 = 800 - y400; }
    else if (y400 >= 10400) out[len++] = '+';
    put_digits(out + len, y400 - 400, y400 >= 10400 ? 5 : 4);
    len += y400 >= 10400 ? 5 : 4;
    static const char TAIL[] = "-00-00T00:00:00";
    q_memcpy(out + len, TAIL, 15);
    put_digits(out + len + 1, month, 2);
    put_digits(out + len + 4, day, 2);
    put_digits(out + len + 7, sod / 3600, 2);
    put_digits(out + len + 10, sod / 60 % 60, 2);
    put_digits(out + len + 13, sec, 2);
    len += 15;
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
