/* Origin parsing and allowlist matching (see origin.h). Strict where WHATWG URL parsing is
 * lenient: anything a browser or Node would resolve to a host other than the one a plain
 * reading shows is refused, so the check never approves a different host than the one used. */
#include "origin.h"
#include "url.h"



static bool scheme_is(const uint8_t *s, uint32_t n, const char *name) {
    return url_case_eq(s, n, (const uint8_t *)name, (uint32_t)q_strlen(name));
}

static void put_hex16(q_origin *o, uint32_t v) {
    static const char HEX[] = "0123456789abcdef";
    bool started = false;
    for (int sh = 12; sh >= 0; sh -= 4) {
        uint32_t d = (v >> sh) & 15;
        if (d || started || sh == 0) { o->host[o->host_len++] = (uint8_t)HEX[d]; started = true; }
    }
}

/* Four decimal parts 0-255 without leading zeros (WHATWG reads those as octal) and nothing
 * after, into out: a host's dotted IPv4, or the last 32 bits of an IPv6 address (in6: the
 * details say so). */
static int ipv4(const uint8_t *h, uint32_t n, uint8_t out[4], bool in6, const url_ctx *x, uint32_t base) {
    const char *bad = in6 ? QD(BAD_IPV4_PART_IN_IPV6_ADDRESS) : QD(IPV4_ADDRESS_MUST_BE_FOUR_DECIMAL_NUMBER);
    uint32_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || h[i++] != '.')) return url_bad(x, base + i, bad);
        uint32_t v = 0, m = 0;
        if (i + 1 < n && h[i] == '0' && q_is_digit(h[i + 1]))
            return url_bad(x, base + i, QD(IPV4_PART_WITH_A_LEADING_ZERO_READ_AS_OC));
        while (i < n && q_is_digit(h[i]) && m < 4) { v = v * 10 + (h[i] - '0'); i++; m++; }
        if (!m || v > 255) return url_bad(x, base + i, QD(IPV4_ADDRESS_MUST_BE_FOUR_DECIMAL_NUMBER_2));
        out[part] = (uint8_t)v;
    }
    return i == n ? Q_OK : url_bad(x, base + i, bad);
}

/* WHATWG IPv6 parser (no zone: '%' was refused before) and its serializer: lower-case hex, no
 * leading zeros, the first longest run of two or more zero pieces as "::". */
static int ipv6(const uint8_t *s, uint32_t n, q_origin *o, const url_ctx *x, uint32_t base) {
    uint16_t piece[8] = { 0 };
    uint32_t at;
    const char *why;
    int len = 0, compress = -1;
    uint32_t i = 0;
    if (n >= 1 && s[0] == ':') {
        if (n < 2 || s[1] != ':') { at = 0; why = QD(BAD_IPV6_ADDRESS); goto bad; }
        i = 2; compress = len = 0;
        if (i == n) goto done;
    }
    while (i < n) {
        if (len == 8) { at = i; why = QD(BAD_IPV6_ADDRESS); goto bad; }
        /* a ':' here follows a "::" (a piece's own ':' or "::" is read after it): a second one */
        if (s[i] == ':') { at = i; why = QD(BAD_IPV6_ADDRESS_TWO); goto bad; }
        uint32_t v = 0, k = 0;
        while (k < 4 && i < n && q_hex_value(s[i]) >= 0) { v = v * 16 + (uint32_t)q_hex_value(s[i]); i++; k++; }
        if (i < n && s[i] == '.') {                          /* an embedded IPv4 in the last 32 bits */
            if (k == 0 || len > 6) { at = i; why = QD(BAD_IPV6_ADDRESS); goto bad; }
            i -= k;
            uint8_t b[4];
            int rc = ipv4(s + i, n - i, b, true, x, base + i);
            if (rc) return rc;
            piece[len++] = (uint16_t)(b[0] << 8 | b[1]);
            piece[len++] = (uint16_t)(b[2] << 8 | b[3]);
            break;
        }
        if (k == 0) { at = i; why = QD(BAD_IPV6_ADDRESS); goto bad; }
        piece[len++] = (uint16_t)v;
        if (i < n) {
            if (s[i] != ':' || i + 1 == n) { at = i; why = QD(BAD_IPV6_ADDRESS); goto bad; }
            i++;
            if (s[i] == ':') { if (compress >= 0) { at = i; why = QD(BAD_IPV6_ADDRESS_TWO); goto bad; } compress = len; i++; }
        }
    }
done:
    if (compress >= 0) {
        int moved = len - compress;
        for (int k = 0; k < moved; k++) piece[7 - k] = piece[compress + moved - 1 - k];
        for (int k = compress; k < 8 - moved; k++) piece[k] = 0;
    } else if (len != 8) { at = 0; why = QD(BAD_IPV6_ADDRESS_FEWER_THAN_8_PIECES); goto bad; }
    int best = -1, best_len = 1;
    for (int k = 0; k < 8;) {
        int e = k;
        while (e < 8 && !piece[e]) e++;
        if (e - k > best_len) { best = k; best_len = e - k; }
        k = e > k ? e : k + 1;
    }
    o->host_len = 0;
    o->host[o->host_len++] = '[';
    for (int k = 0; k < 8; k++) {
        if (k == best) { o->host[o->host_len++] = ':'; if (k == 0) o->host[o->host_len++] = ':'; k += best_len - 1; continue; }
        put_hex16(o, piece[k]);
        if (k < 7) o->host[o->host_len++] = ':';
    }
    o->host[o->host_len++] = ']';
    return Q_OK;
bad:
    return url_bad(x, base + at, why);
}

/* A host whose last label is a number is an IPv4 address to WHATWG, which also reads hex,
 * octal and fewer than four parts (0x7f.1 is 127.0.0.1): only the plain form is accepted. */
static bool last_label_numeric(const uint8_t *h, uint32_t n) {
    if (n && h[n - 1] == '.') n--;
    uint32_t a = n;
    while (a && h[a - 1] != '.') a--;
    if (a == n) return false;
    if (n - a >= 2 && h[a] == '0' && (h[a + 1] | 32) == 'x') {
        for (uint32_t k = a + 2; k < n; k++) if (q_hex_value(h[k]) < 0) return false;
        return true;
    }
    for (uint32_t k = a; k < n; k++) if (!q_is_digit(h[k])) return false;
    return true;
}

int origin_parse(const uint8_t *s, uint32_t n, bool pattern, q_origin *o, const char *path, int64_t base, q_error *err) {
    const url_ctx x = { path, base, err };
    uint32_t at;
    const char *why;
    q_memset(o, 0, sizeof *o);
    if (n == 0) { at = 0; why = QD(EMPTY_URL); goto bad; }
    uint32_t i = 0;
    while (i < n && s[i] != ':' && s[i] != '/') i++;
    if (i == n || s[i] != ':') { at = 0; why = QD(NOT_AN_ABSOLUTE_URL); goto bad; }
    if (scheme_is(s, i, "https") || scheme_is(s, i, "wss")) o->secure = 1;
    else if (!scheme_is(s, i, "http") && !scheme_is(s, i, "ws")) { at = 0; why = QD(SCHEME_MUST_BE_HTTP_HTTPS_WS_OR_WSS); goto bad; }
    if (n - i < 3 || s[i + 1] != '/' || s[i + 2] != '/') { at = i; why = QD(EXPECTED_AFTER_THE_SCHEME); goto bad; }
    uint32_t a = i + 3, e = a;
    while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#') e++;
    for (uint32_t k = a; k < e; k++) {
        uint8_t c = s[k];
        if (c == '@') { at = k; why = QD(CREDENTIALS_IN_URLS_ARE_NOT_ALLOWED); goto bad; }
        if (c == '\\') { at = k; why = QD(BACKSLASH_IN_THE_HOST_WHATWG_PARSERS_END); goto bad; }
        if (c == '%') { at = k; why = QD(PERCENT_ENCODED_HOST_WHATWG_PARSERS_DECO); goto bad; }
        if (c <= 0x20 || c >= 0x7F) { at = k; why = QD(SPACE_CONTROL_OR_NON_ASCII_CHARACTER_IN); goto bad; }
    }
    uint32_t h = a, he;                                       /* host s[h..he) */
    if (h < e && s[h] == '[') {
        he = h + 1;
        while (he < e && s[he] != ']') he++;
        if (he == e) { at = h; why = QD(UNCLOSED_IPV6_LITERAL); goto bad; }
        if (pattern && he > h && s[h + 1] == '*') { at = h; why = QD(NO_WILDCARD_IN_AN_IPV6_LITERAL); goto bad; }
        int rc = ipv6(s + h + 1, he - h - 1, o, &x, h + 1);
        if (rc) return rc;
        he++;
    } else {
        he = h;
        while (he < e && s[he] != ':') he++;
        if (he == h) { at = h; why = QD(MISSING_HOST); goto bad; }
        uint32_t from = h;
        if (pattern && he - h >= 2 && s[h] == '*' && s[h + 1] == '.') { o->wildcard = 1; from = h + 2; }
        if (he - from > Q_MAX_HOST_BYTES) { at = from; why = QD(HOST_LONGER_THAN_253_BYTES); goto bad; }
        uint32_t label = 0, labels = 0;
        for (uint32_t k = from; k < he; k++) {
            uint8_t c = q_lower(s[k]);
            if (c == '.') {
                if (!label) { at = k; why = QD(EMPTY_LABEL_IN_THE_HOST); goto bad; }
                label = 0; labels++;
            } else if ((c >= 'a' && c <= 'z') || q_is_digit(c) || c == '-' || c == '_') {
                if (++label > 63) { at = k; why = QD(HOST_LABEL_LONGER_THAN_63_BYTES); goto bad; }
            } else { at = k; why = c == '*' ? QD(A_WILDCARD_IS_ONLY_ALLOWED_AS_THE_FIRST) : QD(CHARACTER_NOT_ALLOWED_IN_A_HOST); goto bad; }
            o->host[o->host_len++] = c;
        }
        if (label) labels++;
        if (!o->host_len) { at = from; why = QD(MISSING_HOST); goto bad; }
        if (last_label_numeric(o->host, o->host_len)) {
            if (o->wildcard) { at = h; why = QD(NO_WILDCARD_OVER_AN_IP_ADDRESS); goto bad; }
            uint8_t b[4];
            int rc = ipv4(o->host, o->host_len, b, false, &x, from);
            if (rc) return rc;
        }
        /* "*.com" would allow a whole top-level domain: a wildcard needs two labels after it */
        if (o->wildcard && labels < 2) { at = h; why = QD(A_WILDCARD_NEEDS_AT_LEAST_TWO_LABELS_AFT); goto bad; }
    }
    if (he < e) {                                             /* ":port" */
        if (s[he] != ':') { at = he; why = QD(UNEXPECTED_CHARACTER_AFTER_THE_HOST); goto bad; }
        uint32_t p = he + 1, v = 0;
        if (p == e) { at = p; why = QD(EMPTY_PORT); goto bad; }
        for (; p < e && q_is_digit(s[p]) && v <= 65535; p++) v = v * 10 + (s[p] - '0');
        if (p < e || v == 0 || v > 65535) { at = he + 1; why = QD(PORT_MUST_BE_1_65535); goto bad; }   /* named at the port */
        o->port = (uint16_t)(v == (o->secure ? 443u : 80u) ? 0 : v);
    }
    if (pattern && e < n && !(e + 1 == n && s[e] == '/')) { at = e; why = QD(AN_ALLOWED_ORIGIN_HAS_NO_PATH_QUERY_OR_F); goto bad; }
    return Q_OK;
bad:   /* one exit for every refusal: where and why */
    return url_bad(&x, at, why);
}

bool origin_match(const q_origin *p, const q_origin *o) {
    if (p->secure != o->secure || p->port != o->port) return false;
    if (!p->wildcard) return p->host_len == o->host_len && !q_memcmp(p->host, o->host, o->host_len);
    /* "*.example.com" matches "a.example.com": one non-empty label, a dot, then the suffix */
    if (o->host_len < p->host_len + 2 || o->host[0] == '[') return false;
    uint32_t cut = o->host_len - p->host_len;
    if (o->host[cut - 1] != '.' || q_memcmp(o->host + cut, p->host, p->host_len)) return false;
    for (uint32_t k = 0; k + 1 < cut; k++) if (o->host[k] == '.') return false;
    return true;
}
