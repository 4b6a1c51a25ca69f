/* Value spans over validated JSON (see span.h): one bracket- and string-aware scan per skip. */
#include "span.h"

/* json_skip_ws for the walks, which call it three times a member, mostly on compact JSON: the
 * test for "no whitespace here" is inlined, the loop is not. */
static __attribute__((noinline)) uint32_t skip_ws_run(const uint8_t *js, uint32_t len, uint32_t p) {
    while (p < len && (js[p] == ' ' || js[p] == '\n' || js[p] == '\r' || js[p] == '\t')) p++;
    return p;
}
static inline __attribute__((always_inline)) uint32_t skip_ws(const uint8_t *js, uint32_t len, uint32_t p) {
    return p < len && js[p] <= ' ' ? skip_ws_run(js, len, p) : p;
}

uint32_t span_skip(const uint8_t *js, uint32_t len, uint32_t p) {
    jsmntok_t v;
    return span_value(js, len, p, &v);
}

void span_open(const uint8_t *js, uint32_t len, uint32_t p, jsmntok_t *v) {
    if (p < len && (js[p] == '{' || js[p] == '[')) {
        v->type = js[p] == '{' ? JSMN_OBJECT : JSMN_ARRAY;
        v->start = (int)p; v->end = 0; v->size = 0;
        return;
    }
    span_value(js, len, p, v);
}

void span_iter_init(span_iter *it, const uint8_t *js, uint32_t len, const jsmntok_t *c) {
    it->js = js;
    it->p = (uint32_t)c->start + 1;
    it->end = c->end > c->start ? (uint32_t)c->end - 1 : len;
    it->object = c->type == JSMN_OBJECT;
}

bool span_next_at(span_iter *it, jsmntok_t *key, uint32_t *value_at) {
    const uint8_t *js = it->js;
    uint32_t p = skip_ws(js, it->end, it->p);
    if (p < it->end && js[p] == ',') p = skip_ws(js, it->end, p + 1);
    if (p >= it->end || js[p] == '}' || js[p] == ']') { it->p = p; return false; }
    if (it->object) {
        jsmntok_t k;
        p = skip_ws(js, it->end, span_value(js, it->end, p, key ? key : &k));
        if (p < it->end && js[p] == ':') p++;
        p = skip_ws(js, it->end, p);
    }
    *value_at = p;
    return true;
}

bool span_next(span_iter *it, jsmntok_t *key, jsmntok_t *val) {
    uint32_t at;
    if (!span_next_at(it, key, &at)) return false;
    it->p = span_value(it->js, it->end, at, val);
    return true;
}

bool span_empty(const uint8_t *js, const jsmntok_t *c) {
    return skip_ws(js, (uint32_t)c->end, (uint32_t)c->start + 1) + 1 >= (uint32_t)c->end;
}
