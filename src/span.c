/* Value spans over JSON (see span.h): the checked readers of one-pass walks, the iterator. */
#include "span.h"
#include "json.h"

/* json_skip_ws for the walks, which call it three times a member, mostly on compact JSON: the
 * test for "no whitespace here" is inlined, the loop (json.c's own) is not. */
static inline __attribute__((always_inline)) uint32_t skip_ws(const uint8_t *js, uint32_t len, uint32_t p) {
    return p < len && js[p] <= ' ' ? json_skip_ws(js, len, p) : p;
}

void span_iter_init(span_iter *it, const uint8_t *js, uint32_t len, const jsmntok_t *c) {
    it->js = js;
    it->p = (uint32_t)c->start + 1;
    it->end = len;   /* the checked reading finds the closing bracket itself */
    it->object = c->type == JSMN_OBJECT;
    it->close = it->object ? '}' : ']';
    it->first = true;
}

uint32_t span_next_expected(span_iter *it, const char *name, uint32_t n, jsmntok_t *key) {
    const uint8_t *m = it->js + it->p;   /* the member after the first: `,"name":` */
    uint32_t at = n + 4;
    if (it->first || it->end - it->p <= at || m[0] != ',' || m[1] != '"' || m[at - 2] != '"' || m[at - 1] != ':' || m[at] <= ' ' ||
        !q_same_bytes(m + 2, name, n))
        return 0;
    key->start = (int)(it->p + 2); key->end = key->start + (int)n; key->size = 0;
    return it->p + at;
}

int span_next_checked(span_iter *it, jsmntok_t *key, uint32_t *value_at, q_error *err) {
    const uint8_t *js = it->js;
    uint32_t len = it->end, p = skip_ws(js, len, it->p);
    const char *expected = NULL;   /* NULL: a comma or the closing bracket (chosen on failure only) */
    if (p >= len) goto truncated;
    if (js[p] == it->close) { it->p = p; return 0; }
    if (!it->first) {
        if (js[p] != ',') goto syntax;
        p = skip_ws(js, len, p + 1);
    }
    it->first = false;
    if (it->object) {
        expected = QD(EXPECTED_A_KEY);
        if (p >= len) goto truncated;
        if (js[p] != '"') goto syntax;
        key->size = 0;
        uint32_t end = json_scan_string(js, len, p, err, &key->size);
        if (!end) return err->status;
        key->type = JSMN_STRING; key->start = (int)p + 1; key->end = (int)end - 1;
        p = skip_ws(js, len, end);
        expected = QD(EXPECTED_COLON);
        if (p >= len) goto truncated;
        if (js[p] != ':') goto syntax;
        p = skip_ws(js, len, p + 1);
    }
    *value_at = p;
    return 1;
truncated:
    return q_fail(err, Q_ERR(JSON_TRUNCATED), len, NULL, NULL);
syntax:
    if (!expected) expected = it->object ? QD(EXPECTED_COMMA_OR_BRACE) : QD(EXPECTED_COMMA_OR_BRACKET);
    return q_fail(err, Q_ERR(JSON_SYNTAX), p, NULL, expected);
}

int span_read_checked(const uint8_t *js, uint32_t len, uint32_t p, uint32_t depth, uint32_t max_depth,
                      bool measure, jsmntok_t *v, q_error *err) {
    uint8_t c = p < len ? js[p] : 0;   /* 0: json_scan_value reports the end of input */
    bool open = c == '{' || c == '[', str = c == '"';
    uint32_t end = 0;
    v->type = open ? (c == '{' ? JSMN_OBJECT : JSMN_ARRAY) : str ? JSMN_STRING : JSMN_PRIMITIVE;
    v->start = (int)(p + str); v->size = 0;
    if (open && !measure) { v->end = 0; return Q_OK; }   /* opened: the walk finds its end */
    if (str) {   /* the common case, straight to the string scanner */
        if (!(end = json_scan_string(js, len, p, err, &v->size))) return err->status;
    } else {
        int rc = json_scan_value(js, len, p, depth, max_depth, &end, err);
        if (rc) return rc;
    }
    v->end = (int)(end - str);
    return Q_OK;
}

uint32_t span_skip(const uint8_t *js, uint32_t len, uint32_t p) {
    jsmntok_t v;
    return span_value(js, len, p, &v);
}

bool span_next(span_iter *it, jsmntok_t *key, jsmntok_t *val) {
    q_error e;
    jsmntok_t k;
    uint32_t at;
    if (span_next_checked(it, key ? key : &k, &at, &e) <= 0) return false;
    it->p = span_value(it->js, it->end, at, val);
    return true;
}

bool span_empty(const uint8_t *js, const jsmntok_t *c) {
    return skip_ws(js, (uint32_t)c->end, (uint32_t)c->start + 1) + 1 >= (uint32_t)c->end;
}
