/* jsmn tokens over an already-validated JSON value: tokenize into scratch, skip subtrees. */
#ifndef Q_TOKENS_H
#define Q_TOKENS_H
#include "base.h"
#include "error.h"
#define JSMN_PARENT_LINKS   /* closing a container is O(1) instead of a backward token scan */
#define JSMN_HEADER
#include <jsmn.h>

typedef struct {
    const uint8_t *js;    /* the value's bytes */
    uint32_t base;        /* absolute offset of js[0] in the caller's input (for errors) */
    jsmntok_t *tok;
    int count;
} q_tokens;

/* Tokenizes js[0..len) (one validated JSON value) into scratch.
 * Q_OK, OUT_OF_MEMORY, or INTERNAL if jsmn disagrees with the validator. */
int tokens_parse(q_tokens *t, const uint8_t *js, uint32_t len, uint32_t base, q_error *err);
/* Index of the token after the subtree rooted at i. */
int tokens_skip(const q_tokens *t, int i);
#endif
