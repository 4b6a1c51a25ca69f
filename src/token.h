/* Token store: named secrets (API keys, bearer tokens) per client, each with an optional
 * expiry. Values are wiped (volatile stores) on replace, clear, expiry and client close;
 * nothing here ever reaches an error message. */
#ifndef Q_TOKEN_H
#define Q_TOKEN_H
#include "base.h"
#include "error.h"
#include "instance.h"

/* Sets or replaces a token; expires_at_ms (host clock, ms since the epoch) 0 = never. */
int token_set(q_client *c, const uint8_t *name, uint32_t name_len, const uint8_t *value, uint32_t value_len,
              double expires_at_ms, q_error *err);
/* Wipes every token whose expiry is at or before now_ms (client_at calls it on every event
 * the core is fed); returns how many it wiped. */
uint32_t token_expire(q_client *c, double now_ms);
/* true when the token was wiped at its expiry (and not set again since). */
bool token_expired(const q_client *c, const uint8_t *name, uint32_t name_len);
/* Removes one token (true if it existed). */
bool token_clear(q_client *c, const uint8_t *name, uint32_t name_len);
/* The value, or NULL (not set, or expired). */
const uint8_t *token_get(const q_client *c, const uint8_t *name, uint32_t name_len, uint32_t *value_len);
/* Wipes and frees every token of the client. */
void token_clear_all(q_client *c);
#endif
