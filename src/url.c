/* URL validation and encoding for the request builder. Strict on purpose: a base URL with
 * credentials, a query or a fragment is a configuration mistake we report, not guess at. */
#include "url.h"

static bool is_alpha(uint8_t c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_hex(uint8_t c) { return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f'); }
static uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 32) : c; }

bool url_char_in(uint8_t c, const char *set) {
    for (; *set; set++)
        if ((uint8_t)*set == c) return true;
    return false;
}

bool url_case_eq(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m) {
    if (n != m) return false;
    for (uint32_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

typedef struct { const char *path; int64_t base; q_error *err; } url_ctx;

static int bad(const url_ctx *x, uint32_t off, const char *why) {
    return q_fail(x->err, Q_ERR(INVALID_URL), x->base < 0 ? Q_NO_OFFSET : x->base + off, x->path, why);
}

/* Path characters: RFC 3986 pchar plus '/', with %XX escapes checked. */
static int check_path(const uint8_t *s, uint32_t from, uint32_t n, bool allow_query, const url_ctx *err) {
    for (uint32_t i = from; i < n; i++) {
        uint8_t c = s[i];
        if (c <= 0x20 || c >= 0x7F) return bad(err, i, "space, control or non-ASCII character");
        if (c == '#') return bad(err, i, "fragment not allowed");
        if (c == '?' && !allow_query) return bad(err, i, "query not allowed in a base URL");
        if (url_char_in(c, "\\\"<>`{}|^"))
            return bad(err, i, "character must be percent-encoded");
        if (c == '%' && (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return bad(err, i, "bad percent escape");
    }
    return Q_OK;
}

int url_parse_base(const uint8_t *s, uint32_t n, url_parts *out, const char *path, int64_t base, q_error *e) {
    const url_ctx ctx = { path, base, e }, *err = &ctx;
    uint32_t i = 0;
    if (n == 0) return bad(err, 0, "empty");
    if (n > Q_MAX_URL_BYTES) return bad(err, Q_MAX_URL_BYTES, "too long");
    while (i < n && (is_alpha(s[i]) || (i && (is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')))) i++;
    if (!url_case_eq(s, i, (const uint8_t *)"http", 4) && !url_case_eq(s, i, (const uint8_t *)"https", 5))
        return bad(err, 0, "scheme must be http or https");
    if (n - i < 3 || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/') return bad(err, i, "expected ://");
    out->scheme_len = i;
    i += 3;
    uint32_t host = i;
    /* userinfo first: "user:pw@host" would otherwise read as host "user" with a bad port */
    for (uint32_t k = i; k < n && s[k] != '/' && s[k] != '?' && s[k] != '#'; k++)
        if (s[k] == '@') return bad(err, host, "credentials in URLs are not allowed");
    if (i < n && s[i] == '[') {                         /* IPv6 literal */
        i++;
        while (i < n && (is_hex(s[i]) || s[i] == ':' || s[i] == '.')) i++;
        if (i >= n || s[i] != ']' || i == host + 1) return bad(err, i, "bad IPv6 literal");
        i++;
    } else {
        while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_')) i++;
        if (i == host) return bad(err, i, "missing host");
    }
    if (i < n && s[i] == ':') {
        uint32_t p0 = ++i, port = 0;
        while (i < n && is_digit(s[i]) && i - p0 < 6) port = port * 10 + (s[i++] - '0');
        if (i == p0 || port == 0 || port > 65535 || (i < n && is_digit(s[i]))) return bad(err, p0, "port must be 1-65535");
    }
    if (i < n && s[i] != '/') {
        return bad(err, i, s[i] == '?' ? "query not allowed in a base URL" : s[i] == '#' ? "fragment not allowed" : "invalid host character");
    }
    out->origin_len = i;
    out->path_off = i;
    return check_path(s, i, n, false, err);
}

int url_check_route(const uint8_t *s, uint32_t n, const char *path, int64_t base, q_error *e) {
    const url_ctx ctx = { path, base, e }, *err = &ctx;
    if (n == 0 || s[0] != '/') return bad(err, 0, "route must start with '/'");
    if (n > 1 && s[1] == '/') return bad(err, 1, "route must not start with '//'");
    if (n > Q_MAX_URL_BYTES) return bad(err, Q_MAX_URL_BYTES, "too long");
    return check_path(s, 0, n, true, err);
}

int url_join(q_buf *out, const uint8_t *base, uint32_t base_len, const uint8_t *route, uint32_t route_len) {
    while (base_len && base[base_len - 1] == '/') base_len--;
    if (q_buf_put(out, base, base_len) || q_buf_put(out, route, route_len)) return Q_ERR(OUT_OF_MEMORY);
    return Q_OK;
}

int url_encode_component(q_buf *out, const uint8_t *s, uint32_t n) {
    static const char HEX[] = "0123456789ABCDEF";
    if (n == 0) return Q_OK;            /* nothing to write: an empty buffer may have no storage yet */
    if (q_buf_reserve(out, n * 3)) return Q_ERR(OUT_OF_MEMORY);
    uint8_t *w = out->ptr + out->len;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (is_alpha(c) || is_digit(c) || url_char_in(c, "-_.!~*'()")) *w++ = c;
        else { *w++ = '%'; *w++ = (uint8_t)HEX[c >> 4]; *w++ = (uint8_t)HEX[c & 15]; }
    }
    out->len = (uint32_t)(w - out->ptr);
    return Q_OK;
}

bool url_origin_equals(const uint8_t *url, const url_parts *p, const uint8_t *origin, uint32_t origin_len) {
    return url_case_eq(url, p->origin_len, origin, origin_len);
}
