/* Per-instance state behind the exports: the error record, the host I/O buffers and the
 * client table. One instance per wasm module instance; nothing else is global. */
#ifndef Q_INSTANCE_H
#define Q_INSTANCE_H
#include "base.h"
#include "error.h"
#include "arena.h"
#include "config.h"
#include "qollective.h"

typedef struct q_client {
    q_config cfg;
    uint32_t generation;          /* handles carry it, so a stale handle is detected */
    void *rest;                   /* request table (rest.c), NULL until first use */
    void *tokens;                 /* token store (token.c), NULL until first use */
    void *ws;                     /* WebSocket pool (ws_pool.c), NULL until first use */
    struct tls_creds *tls;        /* TLS module only: the client's CA, certificate and key */
} q_client;

typedef struct {
    q_error err;
    uint8_t err_rec[Q_ERROR_RECORD_BYTES]; /* the record behind q_error_ptr (q_error_record) */
    uint32_t err_rec_len;
    uint8_t *in;                  /* the input buffer the host writes into (persistent) */
    uint32_t in_cap;
    uint8_t *entropy;             /* random bytes the host writes before calls that need them */
    uint32_t entropy_cap;
    const uint8_t *out;           /* the output region of the last call (scratch) */
    uint32_t out_len;
    q_client *clients[Q_MAX_CLIENTS];
    uint32_t next_generation;
    bool scratch_has_secret;      /* the last call put a token in scratch: wipe it first */
} q_instance;

/* The instance (NULL before q_init). */
q_instance *instance(void);
/* Starts an exported call: resets scratch, clears the error record and output. */
q_instance *call_begin(void);
/* Records the output region of this call. */
void call_output(q_instance *I, const uint8_t *p, uint32_t n);
/* Ends a call with status rc: serialises the error record when rc < 0. Returns rc. */
int call_end(q_instance *I, int rc);
/* Looks up a client by handle; NULL and BAD_HANDLE recorded when unknown. -1 means none. */
q_client *client_get(q_instance *I, int32_t handle, bool allow_none);
/* client_get for an event that carries the host clock: also wipes the client's tokens whose
 * expiry is at or before now_ms, so expiry holds on every event, not only on timers (client.c,
 * full client module only). */
q_client *client_at(q_instance *I, int32_t handle, double now_ms);
/* The decode record the exports hand out (Q_DECODE_RECORD_WORDS words, QD_* order). */
void decode_record(const env_decoded *d, int32_t *r);
/* Starts an export: `I` is the instance, or the export returns BAD_STATE before q_init. */
#define BEGIN() q_instance *I = call_begin(); if (!I) return Q_ERR(BAD_STATE)
/* True when len fits the input buffer; otherwise records BAD_ARGUMENT. */
bool input_ok(q_instance *I, uint64_t len);
/* The usual export tail: output the bytes built in `out` and return their count (or rc). */
int32_t output_end(q_instance *I, int rc, const q_buf *out);
#endif
