/* RFC 3339 timestamps: parse any offset, write UTC. */
#ifndef Q_RFC3339_H
#define Q_RFC3339_H
#include "base.h"
#include "error.h"

/* An instant in UTC. nanos is 0..999999999, or up to 1999999999 for a leap second (:60). */
typedef struct {
    int64_t secs;     /* seconds since 1970-01-01T00:00:00Z */
    uint32_t nanos;
} q_time;

#define RFC3339_MAX_LEN 40

/* Parses what chrono's relaxed RFC 3339 parser (serde's DateTime<Utc>) accepts: e.g.
 * YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.fraction](Z|UTC|±hh:mm|±hhmm), fields unpadded, spaces
 * between parts, a signed year (grammar in rfc3339.c). Beyond 9 fraction digits are
 * truncated, second 60 is a leap second (as chrono does). Q_OK or Q_ERR(INVALID_TIMESTAMP). */
int rfc3339_parse(const uint8_t *s, uint32_t n, q_time *out);

typedef enum {
    RFC3339_Z,        /* 2024-01-02T03:04:05.123Z, 0/3/6/9 fraction digits (chrono AutoSi) */
    RFC3339_PLUS00    /* 2024-01-02T03:04:05.123+00:00 (X-Qollective-Timestamp header form) */
} rfc3339_style;

/* Writes t (as chrono: years -1 and 10000 as -0001 and +10000); returns bytes written
 * (<= RFC3339_MAX_LEN), or 0 when t is not writable: outside a day of 0000..9999 (UTC years
 * -1..10000), which only a host clock gives (rfc3339_parse refuses such instants). */
uint32_t rfc3339_format(q_time t, rfc3339_style style, uint8_t out[RFC3339_MAX_LEN]);

/* Host clock (milliseconds since the epoch, possibly fractional) to q_time. */
q_time q_time_from_unix_ms(double unix_ms);
#endif
