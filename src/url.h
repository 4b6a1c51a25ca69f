/* URLs the request builder uses: strict validation of a configured base URL, joining a
 * route, origins for the origin check, and percent-encoding of query values. */
#ifndef Q_URL_H
#define Q_URL_H
#include "base.h"
#include "error.h"
#include "arena.h"

typedef struct {
    uint32_t scheme_len;   /* "http" or "https" */
    uint32_t origin_len;   /* scheme://host[:port], lower-cased scheme and host in `norm` */
    uint32_t path_off;     /* where the base path starts (may equal len: no path) */
} url_parts;

/* Validates an absolute http(s) URL used as a base: scheme, host (reg-name, IPv4 or
 * [IPv6]), optional port 1..65535, optional path; no userinfo (credentials do not belong
 * in URLs), query or fragment; printable ASCII only. Q_OK or INVALID_URL; errors name path
 * and the offset base + position (base < 0: no offset). */
int url_parse_base(const uint8_t *s, uint32_t n, url_parts *out, const char *path, int64_t base, q_error *err);

/* Validates a route: starts with '/', not '//', printable ASCII, no '#'; '?' allowed. */
int url_check_route(const uint8_t *s, uint32_t n, const char *path, int64_t base, q_error *err);

/* Writes base (without a trailing '/') + route. */
int url_join(q_buf *out, const uint8_t *base, uint32_t base_len, const uint8_t *route, uint32_t route_len);

/* Percent-encodes bytes as encodeURIComponent does (unreserved and !'()* kept). */
int url_encode_component(q_buf *out, const uint8_t *s, uint32_t n);

/* Resolves a redirect's Location ref[0..rn) against the URL base[0..bn) that was requested
 * (RFC 3986 §5.2: absolute, //host, /path, ?query, relative path; dot segments removed from
 * merged paths; the fragment dropped) into out, then validates the result like a base URL
 * (http/https, host, port, no credentials) with a query allowed. *parts describes the
 * result. INVALID_URL names `path` and never quotes the value; OUT_OF_MEMORY. */
int url_resolve(q_buf *out, const uint8_t *base, uint32_t bn, const uint8_t *ref, uint32_t rn, url_parts *parts,
                const char *path, q_error *err);
/* url_resolve with the base already read: base[0..bq) is the requested URL up to its query
 * (its query never reaches the result), *bp what url_parse_base gave for it (the redirect
 * decision reads the base once, for its origin and for the resolution). */
int url_resolve_from(q_buf *out, const uint8_t *base, uint32_t bq, const url_parts *bp, const uint8_t *ref, uint32_t rn,
                     url_parts *parts, const char *path, q_error *err);
/* true when a[0..n) equals b[0..m) ASCII case-insensitively (hosts, schemes, header names). */
bool url_case_eq(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m);

/* Where a URL error is reported: the key path and the offset of the URL's first byte in the
 * caller's input (base < 0: none). */
typedef struct { const char *path; int64_t base; q_error *err; } url_ctx;
/* INVALID_URL naming x->path, detail why, at byte `at` of the URL. Shared by url.c and origin.c. */
int url_bad(const url_ctx *x, uint32_t at, const char *why);

/* true when c (not NUL) is one of the characters of set. */
bool url_char_in(uint8_t c, const char *set);
#endif
