/* The REST request table and its state machine. One entry per call, from prepare until it
 * resolves or rejects (exactly once). Every event the host feeds is checked against the
 * transition table in rest_table.c before anything happens:
 *
 *   state       event               next when the call continues   when it ends
 *   (none)      prepare             IN_FLIGHT                      -
 *   IN_FLIGHT   response / failure  BACKOFF   (retry {delay})      FREE (resolve / reject)
 *   BACKOFF     timer fired         IN_FLIGHT (send)               FREE (reject TIMEOUT)
 *   IN_FLIGHT,  abort               -                              FREE (reject ABORTED)
 *   BACKOFF
 *   IN_FLIGHT   redirect            IN_FLIGHT (the next hop)       FREE (reject: denied, limit)
 *   other combinations: refused with BAD_STATE, the entry unchanged. */
#ifndef Q_REST_TABLE_H
#define Q_REST_TABLE_H
#include "base.h"
#include "error.h"
#include "instance.h"
#include "uuid.h"

typedef enum { RS_FREE = 0, RS_IN_FLIGHT, RS_BACKOFF, RS_COUNT_ } rest_state;
typedef enum { RE_RESPONSE = 0, RE_FAILURE, RE_TIMER, RE_ABORT, RE_REDIRECT, RE_COUNT_ } rest_event;

/* A request's id: slot | generation << 20, below 2^53 so it is exact as a JS number. The
 * generation counts the table's requests (33 bits): a stale id would need 2^33 more requests
 * to be reused. */
typedef uint64_t rest_id;

typedef struct {
    uint8_t state, method, attempt, retry_ok;   /* retry_ok: method may be repeated */
    uint8_t hops;                               /* redirects followed */
    uint8_t own_headers;                        /* leading plan headers that are Content-Type and meta */
    uint8_t had_body, body_dropped, stripped;   /* a redirect dropped the body / the credentials */
    uint64_t generation;
    uint32_t seed;
    double deadline_ms;
    uint8_t request_id[UUID_TEXT_LEN];
#ifdef Q_TLS
    uint8_t body_sha256[32];                    /* what Content-Digest covers: a redirect that keeps the body signs it again */
#endif
} rest_entry;

/* A new entry in IN_FLIGHT (attempt 1); *id is its handle. NULL with err set when the
 * table is full (limits.max_in_flight) or memory ran out. */
rest_entry *rest_entry_new(q_client *c, rest_id *id, q_error *err);
/* The entry of a live id that accepts `ev` in its current state; NULL with BAD_HANDLE
 * (unknown, finished or stale id) or BAD_STATE (the event does not apply now). */
rest_entry *rest_entry_for(q_client *c, rest_id id, rest_event ev, q_error *err);
/* The call continues after `ev`: the entry moves to the state the table names. */
void rest_entry_continue(rest_entry *e, rest_event ev);
/* The call ended (resolved or rejected): the slot is free and the id dead. */
void rest_entry_end(q_client *c, rest_entry *e);
/* Number of requests in flight (for tests and stats). */
uint32_t rest_in_flight(const q_client *c);
/* Frees the request table. */
void rest_release(q_client *c);
#endif
