/* The correlation table of one WebSocket: every request from the moment it is issued until it
 * ends. Requests are found by handle (the host's) and by request id (the server's echo), kept in
 * two ordered lists (waiting to be written; written and unanswered, in write order) and by
 * absolute deadline: in a FIFO while deadlines come in order (one timeout for every request, the
 * usual case: each new deadline is the latest), the others in a min-heap. A written request that ended early (timeout, abort) stays in
 * the written list as a tombstone until the server's answer to it arrives, so an error frame,
 * which names no request, still pairs with the right one (the server answers in order). */
#ifndef Q_WS_CORR_H
#define Q_WS_CORR_H
#include "base.h"
#include "error.h"

#define WS_NIL 0xFFFFFFFFu
#define WS_IN_FIFO 0xFFFFFFFEu

typedef enum { WR_FREE = 0, WR_QUEUED, WR_WRITTEN, WR_TOMBSTONE } ws_req_state;

typedef struct {
    uint8_t id[16];              /* meta.request_id, binary */
    double deadline_ms;          /* absolute */
    uint32_t generation;         /* handles carry it: a finished request's handle is refused */
    uint32_t prev, next;         /* links in the queue or the written list; free list uses next */
    uint32_t heap_pos;           /* WS_NIL when not in the deadline heap, WS_IN_FIFO in the FIFO */
    uint32_t dprev, dnext;       /* links in the deadline FIFO */
    uint8_t state;               /* ws_req_state */
    uint8_t idempotent;          /* safe to write again on a new connection */
    uint8_t writes;              /* times written (retry.max_attempts bounds it) */
} ws_req;

typedef struct { uint32_t head, tail, len; } ws_list;

typedef struct {
    ws_req *e;
    uint32_t cap, live;          /* live: every state but FREE, tombstones included */
    uint32_t free_head;
    uint32_t *index;             /* open addressing, id -> slot + 1, 0 = empty; index_cap is a power of 2 */
    uint32_t index_cap;
    uint32_t *heap;              /* slots by deadline: the ones that came out of order */
    uint32_t heap_len;
    uint32_t fifo_head, fifo_tail;   /* slots in deadline order, WS_NIL when empty */
    ws_list queued, written;
    uint32_t tombstones;
    uint32_t next_generation;
} ws_corr;

/* Request handles: slot | generation << WS_SLOT_BITS, always >= 0 as an i32. */
#define WS_SLOT_BITS 20u

/* Adds a request waiting to be written. Fails with LIMIT_REACHED past max_live, INVALID_VALUE
 * when the id is already in the table, OUT_OF_MEMORY. *slot and *handle name it. */
int ws_corr_add(ws_corr *t, const uint8_t id[16], double deadline_ms, bool idempotent, uint32_t max_live,
                uint32_t *slot, uint32_t *handle, q_error *err);
/* The slot a handle names, or WS_NIL (unknown or already ended). */
uint32_t ws_corr_by_handle(const ws_corr *t, uint32_t handle);
/* The slot waiting for this id (queued, written or tombstone), or WS_NIL. */
uint32_t ws_corr_by_id(const ws_corr *t, const uint8_t id[16]);
uint32_t ws_corr_handle(const ws_corr *t, uint32_t slot);
/* Queued -> written (appended to the written list). */
void ws_corr_written(ws_corr *t, uint32_t slot);
/* Written -> tombstone: ended for the caller, still owed an answer by the server. */
void ws_corr_tombstone(ws_corr *t, uint32_t slot);
/* Written -> queued, at the front of the queue (walk the written list from its tail). */
void ws_corr_unwrite(ws_corr *t, uint32_t slot);
/* Removes the request entirely. */
void ws_corr_remove(ws_corr *t, uint32_t slot);
/* Earliest deadline of a live (queued or written) request, or +inf. */
double ws_corr_next_deadline(const ws_corr *t);
/* A live request whose deadline is <= now, or WS_NIL. */
uint32_t ws_corr_expired(const ws_corr *t, double now_ms);
/* Frees the table's memory. */
void ws_corr_release(ws_corr *t);
#endif
