/* Hostname matching against a certificate's subjectAltName entries (RFC 6125 §6.4, as
 * browsers do it): DNS names compare case-insensitively with one trailing dot ignored; a
 * wildcard is only a whole leftmost label ("*.example.com"), matches exactly one non-empty
 * label, and needs at least two labels after it ("*.com" and "*.local" match nothing);
 * an IP literal host matches only iPAddress entries of the same address (compared as canonical
 * text: the host as the core's origin parser reads it), never a DNS name. The
 * subject CN is not consulted (browsers dropped that fallback). */
#include "tls.h"
#include "url.h"      /* url_case_eq: the core's case-insensitive ASCII compare */
#include "origin.h"   /* origin_parse: the core's reading of IP literals */

/* Longest IP literal text read: IPv6 with an IPv4 tail, in brackets, is 47 characters. */
#define TLS_IP_INPUT_MAX 64

/* The host's IP literal through the core's origin parser (src/origin.c, which reads hosts as
 * WHATWG URL parsers do and refuses their lenient forms: octal or hex parts, fewer than four
 * IPv4 parts, zones), so the TLS module carries no second IP parser. Only the bytes an IP
 * literal can hold are let through, so a path, port, userinfo or anything after the host
 * makes the host no IP literal (it is then matched as a DNS name, which it cannot be either). */
uint32_t tls_host_ip_text(const uint8_t *host, uint32_t n, uint8_t out[TLS_IP_TEXT_MAX]) {
    if (n == 0 || n > TLS_IP_INPUT_MAX) return 0;
    bool colon = false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = host[i];
        if (c == ':') colon = true;
        else if (q_hex_value(c) < 0 && c != '.' && !((c == '[' && i == 0) || (c == ']' && i == n - 1))) return 0;
    }
    bool bracketed = host[0] == '[';
    if (bracketed != (host[n - 1] == ']') || (bracketed && n < 2)) return 0;
    /* "http://" host, an unbracketed IPv6 literal in brackets */
    uint8_t url[7 + 2 + TLS_IP_INPUT_MAX];
    uint32_t len = 7;
    q_memcpy(url, "http://", 7);
    bool wrap = colon && !bracketed;
    if (wrap) url[len++] = '[';
    q_memcpy(url + len, host, n);
    len += n;
    if (wrap) url[len++] = ']';
    q_origin o;
    q_error ignored;
    if (origin_parse(url, len, false, &o, NULL, -1, &ignored) != Q_OK) return 0;
    if (o.host[0] == '[') {                               /* "[::1]": the text between the brackets */
        q_memcpy(out, o.host + 1, o.host_len - 2);
        return o.host_len - 2;
    }
    for (uint32_t i = 0; i < o.host_len; i++)             /* a name the parser accepted is IPv4 only */
        if (!q_is_digit(o.host[i]) && o.host[i] != '.') return 0;   /* as digits and dots (it checked them) */
    q_memcpy(out, o.host, o.host_len);
    return o.host_len;
}

/* The same text for an iPAddress SAN (4 or 16 bytes): dotted IPv4, or RFC 5952 IPv6 (lower
 * case, no leading zeros, the first longest run of two or more zero groups as "::"), which is
 * how the origin parser writes it too. */
uint32_t tls_ip_text(const uint8_t *p, uint32_t len, uint8_t out[TLS_IP_TEXT_MAX]) {
    uint32_t k = 0;
    if (len == 4) {
        for (uint32_t i = 0; i < 4; i++) {
            if (i) out[k++] = '.';
            uint32_t v = p[i];
            if (v >= 100) out[k++] = (uint8_t)('0' + v / 100);
            if (v >= 10) out[k++] = (uint8_t)('0' + v / 10 % 10);
            out[k++] = (uint8_t)('0' + v % 10);
        }
        return k;
    }
    uint32_t w[8];
    int best = -1, best_len = 1, run = 0;
    for (int i = 0; i < 8; i++) {
        w[i] = (uint32_t)p[2 * i] << 8 | p[2 * i + 1];
        run = w[i] ? 0 : run + 1;
        if (run > best_len) { best_len = run; best = i - run + 1; }
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) { out[k++] = ':'; out[k++] = ':'; i += best_len - 1; continue; }
        if (i && i != best + best_len) out[k++] = ':';
        bool lead = true;
        for (int sh = 12; sh >= 0; sh -= 4) {
            uint32_t d = w[i] >> sh & 15;
            if (d || !lead || sh == 0) { out[k++] = (uint8_t)"0123456789abcdef"[d]; lead = false; }
        }
    }
    return k;
}

bool tls_dns_name_matches(const uint8_t *pat, uint32_t pn, const uint8_t *host, uint32_t hn) {
    if (pn && pat[pn - 1] == '.') pn--;
    if (hn && host[hn - 1] == '.') hn--;
    if (!pn || !hn) return false;
    for (uint32_t i = 0; i < hn; i++)                /* an empty label never matches */
        if (host[i] == '.' && (i == 0 || host[i - 1] == '.')) return false;
    if (pat[0] != '*') {
        for (uint32_t i = 0; i < pn; i++) if (pat[i] == '*') return false;
        return url_case_eq(pat, pn, host, hn);
    }
    /* "*." then at least two labels: one more dot after the first, none empty */
    if (pn < 2 || pat[1] != '.') return false;
    const uint8_t *rest = pat + 1; uint32_t rn = pn - 1;   /* ".example.com" */
    uint32_t dots = 0;
    for (uint32_t i = 0; i < rn; i++) {
        if (rest[i] == '*') return false;
        if (rest[i] == '.') { if (i + 1 == rn || rest[i + 1] == '.') return false; dots++; }
    }
    if (dots < 2) return false;
    /* the host's first label (non-empty, no dot) stands for the '*' */
    uint32_t first = 0;
    while (first < hn && host[first] != '.') first++;
    if (first == 0 || first == hn) return false;
    return url_case_eq(rest, rn, host + first, hn - first);
}
