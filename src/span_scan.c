/* span_skip (span.h): where a value ends in text not validated yet, by brackets and quotes only
 * (a WebSocket frame delimits its envelope before the decode validates it). Its own file so it
 * is compiled for speed (-O2, see the Makefile): it runs over whole payloads. */
#include "span.h"

/* Index of the quote that closes the string whose body starts at p (len when none). The inner
 * loop only looks for the two bytes that matter, so the next index never waits on the byte just
 * read (a branch-free "skip the escaped byte" would chain every load to the one before). */
static uint32_t string_end(const uint8_t *js, uint32_t len, uint32_t p) {
    for (;;) {
        while (p < len && js[p] != '"' && js[p] != '\\') p++;
        if (p >= len || js[p] == '"') return p < len ? p : len;
        p += 2;   /* a backslash and the byte it escapes */
    }
}

uint32_t span_skip(const uint8_t *js, uint32_t len, uint32_t p) {
    if (p >= len) return len;
    uint8_t c = js[p];
    if (c == '"') { uint32_t q = string_end(js, len, p + 1); return q < len ? q + 1 : len; }
    uint32_t e = p + 1;
    if (c == '{' || c == '[') {
        uint32_t depth = 1;
        while (e < len && depth) {
            uint8_t b = js[e++];
            if (b == '"') { e = string_end(js, len, e); if (e < len) e++; }
            else if (b == '{' || b == '[') depth++;
            else if (b == '}' || b == ']') depth--;
        }
        return e;
    }
    while (e < len && js[e] != ',' && js[e] != '}' && js[e] != ']' && js[e] != ' ' && js[e] != '\n' && js[e] != '\r' && js[e] != '\t' && js[e] != ':') e++;
    return e;
}
