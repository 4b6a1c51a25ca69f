/* Hostname matching against a certificate's subjectAltName entries (RFC 6125 §6.4, as
 * browsers do it): DNS names compare case-insensitively with one trailing dot ignored; a
 * wildcard is only a whole leftmost label ("*.example.com"), matches exactly one non-empty
 * label, and needs at least two labels after it ("*.com" and "*.local" match nothing);
 * an IP literal host matches only iPAddress entries, byte for byte, never a DNS name. The
 * subject CN is not consulted (browsers dropped that fallback). */
#include "tls.h"
#include "url.h"   /* url_case_eq: the core's case-insensitive ASCII compare */

/* Strict dotted quad: four decimal parts 0..255, no leading zeros, nothing else. */
bool tls_parse_ipv4(const uint8_t *s, uint32_t n, uint8_t out[4]) {
    uint32_t part = 0, i = 0;
    while (part < 4) {
        uint32_t v = 0, digits = 0, start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) { v = v * 10 + (s[i] - '0'); i++; digits++; }
        if (!digits || v > 255 || (digits > 1 && s[start] == '0')) return false;
        out[part++] = (uint8_t)v;
        if (part < 4) { if (i >= n || s[i] != '.') return false; i++; }
    }
    return i == n;
}

/* RFC 4291 text form (with "::" and a trailing dotted quad), optionally in brackets. */
bool tls_parse_ipv6(const uint8_t *s, uint32_t n, uint8_t out[16]) {
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { s++; n -= 2; }
    uint16_t w[8]; int count = 0, gap = -1;
    uint32_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') { gap = 0; i = 2; }
    else if (n && s[0] == ':') return false;
    while (i < n) {
        if (count == 8) return false;
        uint32_t start = i, v = 0;
        while (i < n && i - start < 4 && q_hex_value(s[i]) >= 0) v = v * 16 + (uint32_t)q_hex_value(s[i++]);
        if (i < n && s[i] == '.') {                 /* embedded IPv4 as the last 32 bits */
            uint8_t v4[4];
            if (count > 6 || !tls_parse_ipv4(s + start, n - start, v4)) return false;
            w[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
            w[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = n;
            break;
        }
        if (i == start) return false;
        w[count++] = (uint16_t)v;
        if (i == n) break;
        if (s[i] != ':') return false;
        i++;
        if (i < n && s[i] == ':') { if (gap >= 0) return false; gap = count; i++; }
        else if (i == n) return false;               /* a single trailing colon */
    }
    if (gap < 0 ? count != 8 : count > 7) return false;
    int k = 0;
    for (int j = 0; j < 8; j++) {
        uint16_t x;
        if (gap >= 0 && j >= gap && j < gap + (8 - count)) x = 0;
        else x = w[k++];
        out[2 * j] = (uint8_t)(x >> 8); out[2 * j + 1] = (uint8_t)x;
    }
    return true;
}

int tls_host_ip(const uint8_t *host, uint32_t n, uint8_t ip[16]) {
    if (tls_parse_ipv4(host, n, ip)) return 4;
    if (tls_parse_ipv6(host, n, ip)) return 16;
    return 0;
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
