/* One pooled WebSocket: the connection state machine (connect, open, keepalive, loss,
 * reconnect, drain, close), request correlation on it, and the actions the host performs.
 * Every call appends actions to a ws_out; the host carries them out (see qollective.h). */
#ifndef Q_WS_CONN_H
#define Q_WS_CONN_H
#include "base.h"
#include "error.h"
#include "arena.h"
#include "config.h"
#include "ws_corr.h"

typedef enum { WS_IDLE = 0, WS_CONNECTING, WS_OPEN, WS_BACKOFF, WS_CLOSED, WS_STATE_COUNT_ } ws_state;

typedef struct {
    uint8_t *url;                /* persistent copy */
    uint32_t url_len;
    uint32_t generation;         /* the pool's handle generation */
    uint32_t conn;               /* connection number: host events carry it, older ones are ignored */
    uint8_t state;               /* ws_state */
    uint8_t draining;            /* drain() called: no new requests, close once nothing is in flight */
    uint8_t ping_out;            /* a ping is unanswered (pong_deadline applies) */
    uint32_t attempt;            /* reconnect attempts since the last open */
    uint32_t seed;               /* backoff jitter */
    double until_ms;             /* CONNECTING: connect deadline; BACKOFF: when to reconnect */
    double last_rx_ms;           /* last frame received: keepalive pings after ping_interval_ms of silence */
    double pong_deadline_ms;
    double armed_ms;             /* the host's timer for this socket, +inf when none */
    uint64_t last_used;          /* pool LRU stamp */
    uint32_t push_buffered;      /* pushed envelopes the host has not handed out yet */
    uint32_t push_dropped;       /* pushes refused because the buffer was full (reported) */
    ws_corr corr;
} ws_sock;

/* Actions of one call: records of 32-bit words in `acts` (layout in qollective.h), bytes they
 * point into in `tail`. The frequent actions are fixed binary records the host reads without a
 * parse; the rare ones (connect, close, reject, status) carry their fields as a JSON object. */
typedef struct {
    q_buf acts, tail;
    int rc;                      /* first failure (OUT_OF_MEMORY) */
    uint32_t json_at;            /* where the JSON action being written starts in the tail */
} ws_out;

/* Action codes: the low byte of a record's first word (see qollective.h). */
typedef enum { WA_JSON = 1, WA_REQUEST, WA_SEND, WA_TIMER, WA_PING, WA_RESOLVE, WA_PUSH } ws_action;

/* Host events. */
/* WE_FAILED: the connection failed and the host names why (reason = its error identifier). */
typedef enum { WE_OPENED = 1, WE_CLOSED = 2, WE_TICK = 3, WE_BINARY = 4, WE_OVERSIZED = 5, WE_FAILED = 6 } ws_event;

/* Starts a socket: CONNECTING, connect action. */
int ws_sock_start(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o);
/* A host event for connection `conn` (events of an older connection are ignored).
 * code/reason: close code and reason (WE_CLOSED), frame length (WE_OVERSIZED). */
int ws_sock_event(ws_sock *s, int32_t h, const q_config *cfg, uint32_t conn, ws_event ev, int32_t code,
                  const uint8_t *reason, uint32_t reason_len, double now_ms, ws_out *o);
/* A text frame arrived on connection `conn`. Actions point into frame (offsets from its start). */
int ws_sock_message(ws_sock *s, int32_t h, const q_config *cfg, uint32_t conn, const uint8_t *frame, uint32_t len,
                    double now_ms, ws_out *o, q_error *err);
/* A new request: meta | payload as JSON, timeout_ms < 0 for the default, idempotent -1/0/1.
 * random: 16 bytes for the request id. Output: a "request" action with the frame in the tail. */
int ws_sock_request(ws_sock *s, int32_t h, const q_config *cfg, const uint8_t *meta, uint32_t meta_len,
                    const uint8_t *payload, uint32_t payload_len, double timeout_ms, int idempotent,
                    const uint8_t *random, double now_ms, ws_out *o, q_error *err);
/* The caller aborted request `req`. */
int ws_sock_abort(ws_sock *s, int32_t h, const q_config *cfg, uint32_t req, double now_ms, ws_out *o, q_error *err);
/* drain(): close with 1000 once nothing is in flight. */
int ws_sock_drain(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o);
/* close(): every request ends (aborted), the connection closes with 1000. */
int ws_sock_close(ws_sock *s, int32_t h, const char *reason, double now_ms, ws_out *o);
/* The host handed n pushed envelopes to the application. */
void ws_sock_taken(ws_sock *s, uint32_t n);
/* Requests the caller still waits for (queued + written, tombstones excluded). */
uint32_t ws_sock_pending(const ws_sock *s);
void ws_sock_release(ws_sock *s);
extern const char *const WS_STATE_NAMES[];
#endif
