/* UUIDs: parse the forms Rust's uuid crate accepts, write lowercase hyphenated. */
#ifndef Q_UUID_H
#define Q_UUID_H
#include "base.h"
#include "error.h"

#define UUID_TEXT_LEN 36

/* Accepts hyphenated (8-4-4-4-12), simple (32 hex), braced {hyphenated} and
 * urn:uuid:hyphenated, hex digits in either case. Q_OK or Q_ERR(INVALID_UUID). */
int uuid_parse(const uint8_t *s, uint32_t n, uint8_t out[16]);
/* Lowercase hyphenated, exactly UUID_TEXT_LEN bytes, no NUL. */
void uuid_format(const uint8_t u[16], uint8_t out[UUID_TEXT_LEN]);
/* Version 4 from 16 random bytes. */
void uuid_v4(const uint8_t rnd[16], uint8_t out[16]);
/* Version 7 (RFC 9562): 48-bit unix milliseconds + 74 random bits from rnd. */
void uuid_v7(uint64_t unix_ms, const uint8_t rnd[10], uint8_t out[16]);
/* The canonical form (lowercase hyphenated, UUID_TEXT_LEN bytes) of a JSON string body
 * (escapes allowed) in any accepted shape: how a request_id is compared, whatever form the
 * sender used. Q_OK or Q_ERR(INVALID_UUID). */
int uuid_canonical(const uint8_t *body, uint32_t n, uint8_t out[UUID_TEXT_LEN]);
#endif
