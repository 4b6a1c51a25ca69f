/* Token store: named secrets (API keys, bearer tokens) per client. Values are wiped on
 * replace, clear and client close; nothing here ever reaches an error message. */
#ifndef Q_TOKEN_H
#define Q_TOKEN_H
#include "base.h"
#include "error.h"
#include "instance.h"

int token_set(q_client *c, const uint8_t *name, uint32_t name_len, const uint8_t *value, uint32_t value_len, q_error *err);
/* Removes one token (true if it existed). */
bool token_clear(q_client *c, const uint8_t *name, uint32_t name_len);
/* The value, or NULL. */
const uint8_t *token_get(const q_client *c, const uint8_t *name, uint32_t name_len, uint32_t *value_len);
/* Wipes and frees every token of the client. */
void token_clear_all(q_client *c);
#endif
