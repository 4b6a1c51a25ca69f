/* URL validation and encoding for the request builder. Strict on purpose: a base URL with
 * credentials, a query or a fragment is a configuration mistake we report, not guess at. */
#include "url.h"
#include "origin.h"

static bool is_alpha(uint8_t c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static bool is_hex(uint8_t c) { return q_hex_value(c) >= 0; }

bool url_char_in(uint8_t c, const char *set) {
    for (; *set; set++)
        if ((uint8_t)*set == c) return true;
    return false;
}

bool url_case_eq(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m) {
    if (n != m) return false;
    for (uint32_t i = 0; i < n; i++)
        if (q_lower(a[i]) != q_lower(b[i])) return false;
    return true;
}

int url_bad(const url_ctx *x, uint32_t off, const char *why) {
    return q_fail(x->err, Q_ERR(INVALID_URL), x->base < 0 ? Q_NO_OFFSET : x->base + off, x->path, why);
}

/* Path characters: RFC 3986 pchar plus '/', with %XX escapes checked. */
static int check_path(const uint8_t *s, uint32_t from, uint32_t n, bool allow_query, const url_ctx *err) {
    for (uint32_t i = from; i < n; i++) {
        uint8_t c = s[i];
        if (c <= 0x20 || c >= 0x7F) return url_bad(err, i, QD(SPACE_CONTROL_OR_NON_ASCII_CHARACTER));
        if (c == '#') return url_bad(err, i, QD(FRAGMENT_NOT_ALLOWED));
        if (c == '?' && !allow_query) return url_bad(err, i, QD(QUERY_NOT_ALLOWED_IN_A_BASE_URL));
        if (url_char_in(c, "\\\"<>`{}|^"))
            return url_bad(err, i, QD(CHARACTER_MUST_BE_PERCENT_ENCODED));
        if (c == '%' && (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return url_bad(err, i, QD(BAD_PERCENT_ESCAPE));
    }
    return Q_OK;
}

int url_parse_base(const uint8_t *s, uint32_t n, url_parts *out, const char *path, int64_t base, q_error *e) {
    const url_ctx ctx = { path, base, e }, *err = &ctx;
    uint32_t i = 0;
    if (n == 0) return url_bad(err, 0, QD(EMPTY));
    if (n > Q_MAX_URL_BYTES) return url_bad(err, Q_MAX_URL_BYTES, QD(TOO_LONG));
    while (i < n && (is_alpha(s[i]) || (i && (q_is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')))) i++;
    if (!url_case_eq(s, i, (const uint8_t *)"http", 4) && !url_case_eq(s, i, (const uint8_t *)"https", 5))
        return url_bad(err, 0, QD(SCHEME_MUST_BE_HTTP_OR_HTTPS));
    if (n - i < 3 || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/') return url_bad(err, i, QD(EXPECTED_SCHEME_SLASHES));
    out->scheme_len = i;
    uint32_t host = i + 3, end = host;
    for (; end < n && s[end] != '/' && s[end] != '?' && s[end] != '#'; end++)   /* userinfo: named at the host */
        if (s[end] == '@') return url_bad(err, host, QD(CREDENTIALS_IN_URLS_ARE_NOT_ALLOWED));
    /* host and port as the origin check reads them (origin.c: the WHATWG-compatible reading) */
    q_origin o;
    int rc = origin_parse(s, n, false, &o, path, base, e);
    if (rc) return rc;
    out->origin_len = out->path_off = end;
    return check_path(s, end, n, false, err);
}

int url_check_route(const uint8_t *s, uint32_t n, const char *path, int64_t base, q_error *e) {
    const url_ctx ctx = { path, base, e }, *err = &ctx;
    if (n == 0 || s[0] != '/') return url_bad(err, 0, QD(ROUTE_MUST_START_WITH_SLASH));
    if (n > 1 && s[1] == '/') return url_bad(err, 1, QD(ROUTE_MUST_NOT_START_WITH_TWO_SLASHES));
    if (n > Q_MAX_URL_BYTES) return url_bad(err, Q_MAX_URL_BYTES, QD(TOO_LONG));
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
        if (is_alpha(c) || q_is_digit(c) || url_char_in(c, "-_.!~*'()")) *w++ = c;
        else { *w++ = '%'; *w++ = (uint8_t)HEX[c >> 4]; *w++ = (uint8_t)HEX[c & 15]; }
    }
    out->len = (uint32_t)(w - out->ptr);
    return Q_OK;
}

/* RFC 3986 §5.2.4: removes "." and ".." segments of an absolute path in place; its new length. */
static uint32_t remove_dot_segments(uint8_t *p, uint32_t n) {
    uint32_t o = 0, i = 0;   /* o: output length (p[0..o) is the result so far), i: input position */
    while (i < n) {
        uint32_t j = i + 1;                                   /* p[i] == '/': the segment p[i+1..j) */
        while (j < n && p[j] != '/') j++;
        uint32_t len = j - i - 1;
        bool last = j == n;
        if (len == 1 && p[i + 1] == '.') {
            if (last) p[o++] = '/';
        } else if (len == 2 && p[i + 1] == '.' && p[i + 2] == '.') {
            while (o > 0 && p[--o] != '/') {}                   /* drop the last output segment */
            if (last) p[o++] = '/';
        } else {
            for (uint32_t k = i; k < j; k++) p[o++] = p[k];
        }
        i = j;
    }
    if (o == 0) p[o++] = '/';
    return o;
}

int url_resolve(q_buf *out, const uint8_t *base, uint32_t bn, const uint8_t *ref, uint32_t rn, url_parts *parts,
                const char *path, q_error *err) {
    url_parts bp;
    uint32_t bq = 0;                                          /* the base without its query */
    while (bq < bn && base[bq] != '?') bq++;
    int rc = url_parse_base(base, bq, &bp, path, -1, err);
    return rc ? rc : url_resolve_from(out, base, bq, &bp, ref, rn, parts, path, err);
}

int url_resolve_from(q_buf *out, const uint8_t *base, uint32_t bq, const url_parts *b, const uint8_t *ref, uint32_t rn,
                     url_parts *parts, const char *path, q_error *err) {
    uint32_t q = 0, i = 0;
    while (q < rn && ref[q] != '#') q++;                      /* the fragment stays with the client */
    rn = q;
    while (i < rn && ((ref[i] | 32) >= 'a' && (ref[i] | 32) <= 'z')) i++;
    bool has_scheme = i > 0 && i < rn && ref[i] == ':';
    int rc;
    uint32_t path_from;                                       /* where the merged path starts in out */
    if (has_scheme) {
        rc = q_buf_put(out, ref, rn);
        path_from = 0;                                        /* absolute: taken as it is */
    } else if (rn >= 2 && ref[0] == '/' && ref[1] == '/') {   /* //host/path: the base's scheme */
        rc = q_buf_put(out, base, b->scheme_len + 1) || q_buf_put(out, ref, rn);
        path_from = 0;
    } else {
        rc = q_buf_put(out, base, b->origin_len);
        path_from = out->len;
        if (rc) {}
        else if (rn && ref[0] == '/') rc = q_buf_put(out, ref, rn);
        else if (!rn || ref[0] == '?') rc = q_buf_put(out, base + b->origin_len, bq - b->origin_len) || q_buf_put(out, ref, rn);
        else {                                                /* relative path: after the base's last '/' */
            uint32_t dir = bq;
            while (dir > b->origin_len && base[dir - 1] != '/') dir--;
            rc = (dir == b->origin_len ? q_buf_putc(out, '/') : q_buf_put(out, base + b->origin_len, dir - b->origin_len)) ||
                 q_buf_put(out, ref, rn);
        }
    }
    if (rc) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, path, NULL);
    if (path_from) {                                          /* a merged path: dot segments resolved */
        uint32_t end = path_from;
        while (end < out->len && out->ptr[end] != '?') end++;
        if (end > path_from) {
            uint32_t tail = out->len - end, n = remove_dot_segments(out->ptr + path_from, end - path_from);
            q_memmove(out->ptr + path_from + n, out->ptr + end, tail);
            out->len = path_from + n + tail;
        }
    }
    /* the result must be a URL the client could have been configured with, plus a query */
    uint32_t rq = 0;
    while (rq < out->len && out->ptr[rq] != '?') rq++;
    if ((rc = url_parse_base(out->ptr, rq, parts, path, -1, err))) return rc;
    const url_ctx ctx = { path, -1, err };
    return check_path(out->ptr, rq, out->len, true, &ctx);
}
