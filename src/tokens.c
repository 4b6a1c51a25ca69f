/* jsmn tokens over validated JSON: sizing, parsing into scratch, subtree skipping. */
#include "tokens.h"
#include "arena.h"

int tokens_parse(q_tokens *t, const uint8_t *js, uint32_t len, uint32_t base, q_error *err) {
    /* Every token takes at least one byte plus a separator: len/2 + 2 always suffices. */
    uint32_t cap = len / 2 + 2;
    t->js = js; t->base = base; t->count = 0;
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
