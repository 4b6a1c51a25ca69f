/* jsmn tokens over validated JSON: sizing, parsing into scratch, subtree skipping. */
#include "tokens.h"
#include "arena.h"

int tokens_parse(q_tokens *t, const uint8_t *js, uint32_t len, uint32_t base, q_error *err) {
    /* Every token takes at least one byte plus a separator: len/2 + 2 always suffices. */
    uint32_t cap = len / 2 + 2;
    t->js = js; t->base = base; t->count = 0;
    if (len && js[0] != '{' && js[0] != '[') {
        /* a bare scalar at the top level: one token says it all (jsmn is never handed one) */
        t->tok = scratch_alloc(sizeof(jsmntok_t));
        if (!t->tok) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(TOKEN_ARRAY));
        bool str = js[0] == '"';
        t->tok[0].type = str ? JSMN_STRING : JSMN_PRIMITIVE;
        t->tok[0].start = str ? 1 : 0;
        t->tok[0].end = (int)(str ? len - 1 : len);
        t->tok[0].size = 0;
        t->count = 1;
        return Q_OK;
    }
    t->tok = scratch_alloc(cap * (uint32_t)sizeof(jsmntok_t));
    if (!t->tok) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(TOKEN_ARRAY));
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, (const char *)js, len, t->tok, cap);
    if (n < 1) return q_fail(err, Q_ERR(INTERNAL), base, NULL, QD(TOKENIZER_DISAGREED_WITH_VALIDATOR));
    t->count = n;
    return Q_OK;
}

int tokens_skip(const q_tokens *t, int i) {
    int pending = 1;
    while (pending > 0 && i < t->count) { pending += t->tok[i].size - 1; i++; }
    return i;
}
