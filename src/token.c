/* Token store (see token.h): a small fixed table per client, values in their own blocks so
 * each can be wiped and freed on its own. An entry whose expiry passed keeps its name (so a
 * send can say "expired" rather than "not set") but its value is wiped and freed. */
#include "token.h"

typedef struct {
    uint8_t *name, *value;
    uint32_t name_len, value_len;
    double expires_at_ms;         /* 0: no expiry */
    bool expired;                 /* the value was wiped at its expiry */
} token_entry;

typedef struct { token_entry e[Q_MAX_TOKENS]; } token_table;

static token_entry *find(const q_client *c, const uint8_t *name, uint32_t n) {
    token_table *t = c->tokens;
    if (!t) return NULL;
    for (int i = 0; i < Q_MAX_TOKENS; i++)
        if (t->e[i].name && t->e[i].name_len == n && q_memcmp(t->e[i].name, name, n) == 0) return &t->e[i];
    return NULL;
}

static void wipe_value(token_entry *e) {
    if (e->value) { q_wipe(e->value, e->value_len); q_free(e->value); }
    e->value = NULL; e->value_len = 0;
}

static void release(token_entry *e) {
    wipe_value(e);
    if (e->name) q_free(e->name);
    q_memset(e, 0, sizeof *e);
}

uint32_t token_expire(q_client *c, double now_ms) {
    token_table *t = c->tokens;
    uint32_t n = 0;
    if (!t) return 0;
    for (int i = 0; i < Q_MAX_TOKENS; i++) {
        token_entry *e = &t->e[i];
        if (e->value && e->expires_at_ms > 0 && now_ms >= e->expires_at_ms) { wipe_value(e); e->expired = true; n++; }
    }
    return n;
}

bool token_expired(const q_client *c, const uint8_t *name, uint32_t name_len) {
    token_entry *e = find(c, name, name_len);
    return e && e->expired;
}

int token_set(q_client *c, const uint8_t *name, uint32_t name_len, const uint8_t *value, uint32_t value_len,
              double expires_at_ms, q_error *err) {
    if (!(expires_at_ms >= 0 && expires_at_ms <= Q_MAX_TIME_MS))   /* also refuses NaN */
        return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "token.expires_at", "milliseconds since the epoch, or 0 for none");
    if (name_len == 0 || name_len > Q_MAX_TOKEN_NAME_BYTES)
        return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "token.name", QD(RANGE_1_64_BYTES));
    if (value_len == 0 || value_len > Q_MAX_TOKEN_BYTES)
        return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "token.value", QD(RANGE_1_8192_BYTES));
    /* The value goes into an HTTP header: visible ASCII only (never echoed back). */
    for (uint32_t i = 0; i < value_len; i++)
        if (value[i] < 0x21 || value[i] > 0x7E)
            return q_fail(err, Q_ERR(INVALID_VALUE), Q_NO_OFFSET, "token.value", QD(VISIBLE_ASCII_ONLY));
    if (!c->tokens && !(c->tokens = q_calloc(1, sizeof(token_table)))) goto oom;
    token_table *t = c->tokens;
    token_entry *e = find(c, name, name_len);
    if (!e) {
        for (int i = 0; i < Q_MAX_TOKENS && !e; i++) if (!t->e[i].name) e = &t->e[i];
        if (!e) return q_fail(err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "token", QD(TOKEN_STORE_FULL));
    }
    uint8_t *v = q_alloc(value_len);
    uint8_t *nm = e->name ? NULL : q_alloc(name_len);
    if (!v || (!e->name && !nm)) { q_free(v); q_free(nm); goto oom; }
    wipe_value(e);
    if (nm) { q_memcpy(nm, name, name_len); e->name = nm; e->name_len = name_len; }
    q_memcpy(v, value, value_len);
    e->value = v; e->value_len = value_len;
    e->expires_at_ms = expires_at_ms; e->expired = false;
    return Q_OK;
oom:
    return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "token", NULL);
}

bool token_clear(q_client *c, const uint8_t *name, uint32_t name_len) {
    token_entry *e = find(c, name, name_len);
    if (!e) return false;
    release(e);
    return true;
}

const uint8_t *token_get(const q_client *c, const uint8_t *name, uint32_t name_len, uint32_t *value_len) {
    token_entry *e = find(c, name, name_len);
    if (!e || !e->value) return NULL;
    *value_len = e->value_len;
    return e->value;
}

void token_clear_all(q_client *c) {
    token_table *t = c->tokens;
    if (!t) return;
    for (int i = 0; i < Q_MAX_TOKENS; i++) release(&t->e[i]);
    q_free(t);
    c->tokens = NULL;
}
