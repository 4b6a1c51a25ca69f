/* span_value (span.h): where a value ends in validated text, by brackets and quotes alone (config
 * and header maps; a WebSocket frame delimits its envelope with it before the decode validates
 * it). Its own file so it is compiled for speed (-O2, see the Makefile). */
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

static bool delimiter(uint8_t c) { return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':'; }

uint32_t span_value(const uint8_t *js, uint32_t len, uint32_t p, jsmntok_t *v) {
    v->size = 0;
    if (p >= len) { v->type = JSMN_PRIMITIVE; v->start = v->end = (int)len; return len; }
    uint8_t c = js[p];
    if (c == '"') {
        uint32_t q = string_end(js, len, p + 1);
        v->type = JSMN_STRING; v->start = (int)(p + 1); v->end = (int)q;
        return q < len ? q + 1 : len;
    }
    uint32_t e = p + 1;
    if (c == '{' || c == '[') {
        uint32_t depth = 1;
        while (e < len && depth) {
            uint8_t b = js[e++];
            if (b == '"') { e = string_end(js, len, e); if (e < len) e++; }
            else if (b == '{' || b == '[') depth++;
            else if (b == '}' || b == ']') depth--;
        }
        v->type = c == '{' ? JSMN_OBJECT : JSMN_ARRAY;
    } else {
        while (e < len && !delimiter(js[e])) e++;
        v->type = JSMN_PRIMITIVE;
    }
    v->start = (int)p; v->end = (int)e;
    return e;
}

