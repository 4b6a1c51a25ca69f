/* Origins for security.allowed_origins: the scheme, host and port a URL reaches, normalised
 * (ws -> http, wss -> https, default ports dropped, host lower-cased, IPv6 compressed), and the
 * allowlist match, with "*." wildcards. Rules and WHATWG divergences: docs/origins.md. */
#ifndef Q_ORIGIN_H
#define Q_ORIGIN_H
#include "base.h"
#include "error.h"

typedef struct {
    uint8_t secure;                       /* 1: https/wss, 0: http/ws */
    uint8_t wildcard;                     /* pattern only: host is the part after "*." */
    uint16_t port;                        /* 0: the scheme's default */
    uint32_t host_len;
    uint8_t host[Q_MAX_HOST_BYTES + 2];   /* lower-case name, dotted IPv4, or [compressed IPv6] */
} q_origin;

/* Parses the origin of the absolute URL s[0..n): scheme http/https/ws/wss, "//", host, optional
 * port; stops where the path, query or fragment begins (*end). Refuses what a WHATWG parser would
 * read as another host than a plain reading: userinfo, backslashes, percent escapes, spaces and
 * controls, non-ASCII (give the punycode form), IPv4 in other than four decimal parts, empty or
 * zoned hosts. pattern: an allowlist entry ("*." first label allowed, nothing after the origin
 * but one "/"). INVALID_URL naming `path` and the offset base + position (base < 0: none),
 * never quoting the URL. */
int origin_parse(const uint8_t *s, uint32_t n, bool pattern, q_origin *o, const char *path, int64_t base, q_error *err);

/* true when origin o is matched by pattern p: same scheme class and port, and the same host, or
 * for "*.suffix" exactly one more label (never the bare suffix, never two labels). */
bool origin_match(const q_origin *p, const q_origin *o);
#endif
