/* The client exports (include/qollective.h): client lifetime, effective config, token store.
 * Each export brackets its work with BEGIN()/call_end. */
#include "qollective.h"
#include "instance.h"
#include "token.h"

Q_EXPORT(q_client_new) int32_t q_client_new(uint32_t len) {
    BEGIN();
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    uint32_t slot = 0;
    while (slot < Q_MAX_CLIENTS && I->clients[slot]) slot++;
    if (slot == Q_MAX_CLIENTS) return call_end(I, q_fail(&I->err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "client", QD(CLIENT_TABLE_FULL)));
    q_client *c = q_calloc(1, sizeof *c);
    if (!c) return call_end(I, q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "client", NULL));
    int rc = config_parse(&c->cfg, I->in, len, &I->err);
    q_wipe(I->in, len);   /* rest.headers may hold credentials: only the client's own copy stays */
    if (rc) { q_free(c); return call_end(I, rc); }   /* config_parse left nothing allocated */
    c->generation = I->next_generation++ & 0x7FFFFF;
    if (!c->generation) c->generation = I->next_generation++ & 0x7FFFFF;
    I->clients[slot] = c;
    return call_end(I, (int32_t)(slot | c->generation << 8));
}

void client_release(q_client *c);

Q_EXPORT(q_client_free) int32_t q_client_free(int32_t client) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    I->clients[(uint32_t)client & 0xFF] = NULL;
    client_release(c);
    return call_end(I, Q_OK);
}

Q_EXPORT(q_client_config) int32_t q_client_config(int32_t client) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    q_buf out = {0};
    int rc = config_to_json(&c->cfg, &out);
    I->scratch_has_secret = true;   /* rest.headers values may be credentials: gone at the next call */
    return output_end(I, rc, &out);
}

Q_EXPORT(q_client_log_level) int32_t q_client_log_level(int32_t client) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    return call_end(I, c ? c->cfg.log_level : Q_ERR(BAD_HANDLE));
}

Q_EXPORT(q_token_set) int32_t q_token_set(int32_t client, uint32_t name_len, uint32_t value_len, double expires_at_ms, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, (uint64_t)name_len + value_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    /* no expiry given: security.token_ttl_ms from now, when configured */
    if (expires_at_ms == 0 && c->cfg.token_ttl_ms) expires_at_ms = now_ms + c->cfg.token_ttl_ms;
    int rc = token_set(c, I->in, name_len, I->in + name_len, value_len, expires_at_ms, &I->err);
    q_wipe(I->in + name_len, value_len);   /* the input buffer keeps no copy of the secret */
    if (!rc) token_expire(c, now_ms);      /* a token that arrives expired is not kept either */
    /* output: the expiry in effect (f64, 0 = none), for the host's timer */
    double *at = rc ? NULL : scratch_alloc(sizeof *at);
    if (at) { *at = expires_at_ms; call_output(I, (const uint8_t *)at, sizeof *at); }
    return call_end(I, rc);
}

Q_EXPORT(q_token_expire) int32_t q_token_expire(int32_t client, double now_ms) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    return call_end(I, (int32_t)token_expire(c, now_ms));
}

Q_EXPORT(q_token_clear) int32_t q_token_clear(int32_t client, uint32_t name_len) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, name_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    return call_end(I, token_clear(c, I->in, name_len) ? 1 : 0);
}
