/* The WebSocket connection state machine (see ws_conn.h). Rules:
 *   - Deadlines are absolute and checked first on every call (not only when the host's timer
 *     fires: browsers throttle timers), so a reply that arrives late still times out.
 *   - Every request ends exactly once: resolve, or reject with a source (local, network,
 *     envelope, frame). A written request that ends early stays as a tombstone until the server
 *     answers it, so the next error frame (which names no request) is absorbed by it instead of
 *     failing a younger request: the server answers in order.
 *   - A lost connection ends its written requests: idempotent ones go back to the front of the
 *     queue (written again on the next connection, at most retry.max_attempts times in all), the
 *     others reject with a retryable CONNECTION_LOST. Queued requests wait for the next connection (bounded by max_queue and
 *     their deadlines).
 *   - Events of an older connection (a discarded socket) are ignored: the host passes the
 *     connection number of the socket the event came from.
 *
 *   state       event                          next         output
 *   IDLE        start                          CONNECTING   connect, status connecting
 *   CONNECTING  opened                         OPEN         status open, send every queued request
 *   CONNECTING  closed / connect timeout       BACKOFF      status reconnecting {attempt, delay}  (reconnect on)
 *   OPEN        closed / stale / oversized     BACKOFF      close, requeue or reject written, status reconnecting
 *   CONNECTING,
 *   OPEN        loss with reconnect off        CLOSED       reject everything, status closed
 *   BACKOFF     timer past the delay           CONNECTING   connect, status connecting
 *   OPEN        nothing in flight, draining    CLOSED       close 1000 (after the send buffer drains)
 *   any         close()                        CLOSED       reject everything ABORTED, close 1000
 *   CLOSED      any event                      CLOSED       nothing (requests fail BAD_STATE) */
#include "ws_conn.h"
#include "ws_frame.h"
#include "ws_backoff.h"
#include "envelope.h"
#include "json.h"
#include "uuid.h"
#include "rest.h"
#include "instance.h"
#include "qollective.h"
#include "host_failure.h"

#define INF_MS 1e300
/* Close codes this client sends: 1000 normal; 4000-4999 are for applications (browsers refuse others). */
#define CLOSE_NORMAL 1000
#define CLOSE_STALE 4000
#define CLOSE_TOO_BIG 4009
#define CLOSE_CONNECT_TIMEOUT 4008

const char *const WS_STATE_NAMES[] = { "idle", "connecting", "open", "reconnecting", "closed" };

/* The transition table: allowed (from, to) pairs; the code changes state only through it. */
static const uint8_t ALLOWED[WS_STATE_COUNT_] = {
    [WS_IDLE] = 1u << WS_CONNECTING | 1u << WS_CLOSED,
    [WS_CONNECTING] = 1u << WS_OPEN | 1u << WS_BACKOFF | 1u << WS_CLOSED,
    [WS_OPEN] = 1u << WS_BACKOFF | 1u << WS_CLOSED,
    [WS_BACKOFF] = 1u << WS_CONNECTING | 1u << WS_CLOSED,
    [WS_CLOSED] = 0,
};

/* A transition the table does not allow is a bug: debug builds trap, release builds refuse it. */
static void go(ws_sock *s, ws_state to) {
    bool ok = ALLOWED[s->state] & (1u << to);
    Q_ASSERT(ok);
    if (ok) s->state = (uint8_t)to;
}

/* ---- actions ------------------------------------------------------------------------------ */

static void put(ws_out *o, int rc) { if (!o->rc) o->rc = rc; }

/* Appends one action record: (op | word count << 8), socket, then the op's n words. The first
 * record is preceded by the word actions_end() sets to the records' length. */
static void record(ws_out *o, ws_action op, int32_t h, const uint32_t *w, uint32_t n) {
    uint32_t head[3] = { 0, (uint32_t)op | (n + 2) << 8, (uint32_t)h };
    bool first = !o->acts.len;
    put(o, q_buf_put(&o->acts, head + !first, first ? sizeof head : sizeof head - 4));
    put(o, q_buf_put(&o->acts, w, n * 4));
}

/* A rare action: opens the JSON object {"op":"<op>","s":<socket> in the tail; the caller writes
 * the rest of it (closing '}') with one jw_fmt into the tail, passed to fields(). */
static void act(ws_out *o, const char *op, int32_t h) {
    o->json_at = o->tail.len;
    put(o, jw_fmt(&o->tail, "{\"op\":\"%s\",\"s\":%u", op, (uint32_t)h));
}
/* Ends the JSON action act() opened: its record points at the object in the tail. */
static void fields(ws_out *o, int32_t h, int rc) {
    put(o, rc);
    uint32_t w[2] = { o->json_at, o->tail.len - o->json_at };
    record(o, WA_JSON, h, w, 2);
}

static void status(ws_out *o, int32_t h, const ws_sock *s, const char *state) {
    act(o, "status", h);
    fields(o, h, jw_fmt(&o->tail, ",\"state\":\"%s\",\"attempt\":%u}", state, s->attempt));
}

static void connect(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o) {
    go(s, WS_CONNECTING);
    s->conn++;
    s->until_ms = now_ms + cfg->connect_timeout_ms;
    s->ping_out = 0;
    act(o, "connect", h);
    /* sign: the host asks the TLS module for the handshake's signature headers (q_tls_sign_handshake) */
    fields(o, h, jw_fmt(&o->tail, ",\"g\":%u,\"url\":%j%s}", s->conn, s->url, s->url_len, cfg->sign_requests ? ",\"sign\":true" : ""));
    status(o, h, s, "connecting");
}

static void close_conn(ws_out *o, int32_t h, uint32_t conn, uint32_t code, const char *reason, bool flush) {
    act(o, "close", h);
    fields(o, h, jw_fmt(&o->tail, ",\"g\":%u,\"code\":%u,\"reason\":\"%s\",\"flush\":%s}", conn, code, reason, flush ? "true" : "false"));
}


/* The reject action of request slot; details: where the JSON text sits in the frame (len 0:
 * none). The host reads it from the frame it wrote, as resolve does: no copy. */
static void reject_action(ws_sock *s, int32_t h, uint32_t slot, const q_error *fail, q_source src,
                          uint32_t details_at, uint32_t details_len, ws_out *o) {
    uint8_t rec[Q_ERROR_JSON_BYTES], rid[UUID_TEXT_LEN];
    q_error e = *fail;
    e.source = (uint8_t)src;   /* the record says where the failure came from, as REST's do */
    int n = q_error_to_json(&e, rec, sizeof rec);
    uuid_format(s->corr.e[slot].id, rid);
    act(o, "reject", h);
    fields(o, h, n < 0 ? Q_ERR(OUT_OF_MEMORY) :
        jw_fmt(&o->tail, ",\"r\":%u,\"source\":\"%s\",\"requestId\":\"%r\",\"error\":%r",
               ws_corr_handle(&s->corr, slot), q_source_name(src), rid, UUID_TEXT_LEN, rec, (uint32_t)n) ||
        (details_len ? jw_fmt(&o->tail, ",\"detailsAt\":[%u,%u]}", details_at, details_len) : jw_fmt(&o->tail, ",\"details\":null}")));
}

static void reject(ws_sock *s, int32_t h, uint32_t slot, const q_error *fail, q_source src,
                   uint32_t details_at, uint32_t details_len, ws_out *o) {
    reject_action(s, h, slot, fail, src, details_at, details_len, o);
    ws_corr_remove(&s->corr, slot);
}

/* Ends a request for its caller with our own failure. A written one stays as a tombstone when
 * `tomb` (the server still owes an answer on this connection). */
static void end_with(ws_sock *s, int32_t h, uint32_t slot, int status, const char *detail, q_source src, bool tomb, ws_out *o) {
    q_error fail;
    q_fail(&fail, status, Q_NO_OFFSET, NULL, detail);
    reject_action(s, h, slot, &fail, src, 0, 0, o);
    if (tomb && s->corr.e[slot].state == WR_WRITTEN) ws_corr_tombstone(&s->corr, slot);
    else ws_corr_remove(&s->corr, slot);
}

/* Writes the request: the host sends the frame it keeps for this handle. */
static void send_req(ws_sock *s, int32_t h, uint32_t slot, ws_out *o) {
    ws_corr_written(&s->corr, slot);
    uint32_t r = ws_corr_handle(&s->corr, slot);
    record(o, WA_SEND, h, &r, 1);
}

uint32_t ws_sock_pending(const ws_sock *s) { return s->corr.live - s->corr.tombstones; }

/* ---- connection loss ------------------------------------------------------------------------ */

/* Every queued request fails (the socket will not connect again). */
static void reject_queued(ws_sock *s, int32_t h, int status, const char *detail, q_source src, ws_out *o) {
    while (s->corr.queued.head != WS_NIL) end_with(s, h, s->corr.queued.head, status, detail, src, false, o);
}

/* The connection is gone (closed by the peer, stale, or broken by us). requeue: idempotent
 * written requests may be written again on the next connection. */
static void lost(ws_sock *s, int32_t h, const q_config *cfg, uint32_t code, const uint8_t *reason, uint32_t reason_len,
                 bool requeue, const char *why, q_source src, double now_ms, ws_out *o) {
    bool reconnect = cfg->ws_reconnect && !(s->draining && !ws_sock_pending(s));
    /* from the newest written back to the oldest, so requeued ones keep their order at the front */
    for (uint32_t slot = s->corr.written.tail, prev; slot != WS_NIL; slot = prev) {
        prev = s->corr.e[slot].prev;
        if (s->corr.e[slot].state == WR_TOMBSTONE) ws_corr_remove(&s->corr, slot);
        else if (requeue && reconnect && s->corr.e[slot].idempotent && s->corr.e[slot].writes < cfg->retry_max_attempts)
            ws_corr_unwrite(&s->corr, slot);
        else end_with(s, h, slot, Q_ERR(CONNECTION_LOST), why, src, false, o);
    }
    s->ping_out = 0;   /* the old connection's events are ignored: it is no longer CONNECTING or OPEN */
    if (reconnect) {
        go(s, WS_BACKOFF);
        s->attempt++;
        uint32_t delay = ws_backoff_delay(cfg, s->attempt, &s->seed);
        s->until_ms = now_ms + delay;
        act(o, "status", h);
        fields(o, h, jw_fmt(&o->tail, ",\"state\":\"reconnecting\",\"attempt\":%u,\"delay\":%u,\"code\":%u,\"reason\":%j}",
                      s->attempt, delay, code, reason, reason_len));
    } else {
        reject_queued(s, h, Q_ERR(CONNECTION_LOST), why, src, o);
        go(s, WS_CLOSED);
        act(o, "status", h);
        fields(o, h, jw_fmt(&o->tail, ",\"state\":\"closed\",\"attempt\":%u,\"code\":%u,\"reason\":%j}", s->attempt, code, reason, reason_len));
    }
}

/* We end the connection ourselves (stale, connect timeout, oversized frame). */
static void drop(ws_sock *s, int32_t h, const q_config *cfg, uint32_t code, const char *reason, bool requeue,
                 const char *why, q_source src, double now_ms, ws_out *o) {
    close_conn(o, h, s->conn, code, reason, false);
    lost(s, h, cfg, code, (const uint8_t *)reason, (uint32_t)q_strlen(reason), requeue, why, src, now_ms, o);
}

/* A TLS failure (host_tls_failure): no reconnect heals a refused or untrusted certificate, so
 * every request rejects with TLS_HANDSHAKE and the socket closes for good, saying why. */
static void tls_failed(ws_sock *s, int32_t h, uint32_t code, const char *why, ws_out *o) {
    q_error fail;
    q_fail(&fail, Q_ERR(TLS_HANDSHAKE), Q_NO_OFFSET, NULL, why);
    for (uint32_t slot; (slot = s->corr.written.head) != WS_NIL;) {
        if (s->corr.e[slot].state == WR_TOMBSTONE) ws_corr_remove(&s->corr, slot);
        else reject(s, h, slot, &fail, QS_NETWORK, 0, 0, o);
    }
    while (s->corr.queued.head != WS_NIL) reject(s, h, s->corr.queued.head, &fail, QS_NETWORK, 0, 0, o);
    go(s, WS_CLOSED);
    uint8_t rec[Q_ERROR_JSON_BYTES];
    fail.source = QS_NETWORK;
    int n = q_error_to_json(&fail, rec, sizeof rec);
    act(o, "status", h);
    fields(o, h, n < 0 ? Q_ERR(OUT_OF_MEMORY) : jw_fmt(&o->tail, ",\"state\":\"closed\",\"attempt\":%u,\"code\":%u,\"reason\":\"\",\"source\":\"network\",\"error\":%r}",
                                                       s->attempt, code, rec, (uint32_t)n));
}

/* ---- time ---------------------------------------------------------------------------------------- */

/* Everything due by now: request deadlines, connect timeout, backoff end, keepalive. */
static void due(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o) {
    for (uint32_t slot; (slot = ws_corr_expired(&s->corr, now_ms)) != WS_NIL;)
        end_with(s, h, slot, Q_ERR(TIMEOUT), s->corr.e[slot].state == WR_QUEUED ? QD(NO_CONNECTION_BEFORE_THE_DEADLINE) : QD(NO_REPLY_BEFORE_THE_DEADLINE),
                  QS_NETWORK, true, o);
    if (s->state == WS_CONNECTING && now_ms >= s->until_ms)
        drop(s, h, cfg, CLOSE_CONNECT_TIMEOUT, "connect timeout", true, QD(CONNECT_TIMEOUT_TIMEOUTS_CONNECT_MS), QS_NETWORK, now_ms, o);
    if (s->state == WS_BACKOFF && now_ms >= s->until_ms) {
        if (s->draining && !ws_sock_pending(s)) { go(s, WS_CLOSED); status(o, h, s, "closed"); }
        else connect(s, h, cfg, now_ms, o);
    }
    if (s->state == WS_OPEN) {
        if (s->ping_out && now_ms >= s->pong_deadline_ms) {
            status(o, h, s, "stale");
            drop(s, h, cfg, CLOSE_STALE, "stale", true, QD(THE_CONNECTION_WENT_SILENT_NO_PONG), QS_NETWORK, now_ms, o);
        } else if (!s->ping_out && cfg->ws_ping_interval_ms && now_ms >= s->last_rx_ms + cfg->ws_ping_interval_ms) {
            q_buf *t = &o->tail;
            uint32_t at = t->len;
            put(o, ws_frame_ping(t, now_ms));
            uint32_t w[2] = { at, t->len - at };
            record(o, WA_PING, h, w, 2);
            s->ping_out = 1;
            s->pong_deadline_ms = now_ms + cfg->ws_message_timeout_ms;
        }
    }
}

/* After every call: close a drained socket, and ask for a timer when something falls due
 * earlier than the one the host holds (a later wake-up is harmless: the tick re-arms). */
static void settle(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o) {
    if (s->draining && s->state == WS_OPEN && !ws_sock_pending(s)) {
        close_conn(o, h, s->conn, CLOSE_NORMAL, "drained", true);
        s->conn++;
        go(s, WS_CLOSED);
        status(o, h, s, "closed");
    }
    double wake = INF_MS;
    if (s->state != WS_CLOSED && ws_sock_pending(s)) wake = ws_corr_next_deadline(&s->corr);
    if (s->state == WS_CONNECTING || s->state == WS_BACKOFF) wake = Q_MIN(wake, s->until_ms);
    if (s->state == WS_OPEN) {
        if (s->ping_out) wake = Q_MIN(wake, s->pong_deadline_ms);
        else if (cfg->ws_ping_interval_ms) wake = Q_MIN(wake, s->last_rx_ms + cfg->ws_ping_interval_ms);
    }
    if (wake >= INF_MS || (wake >= s->armed_ms && s->armed_ms > now_ms)) return;
    s->armed_ms = wake;
    double in = wake - now_ms;
    uint32_t ms = in <= 0 ? 0u : in >= 4e9 ? 0xFFFFFFFFu : (uint32_t)in + (in > (uint32_t)in);
    record(o, WA_TIMER, h, &ms, 1);
}

/* ---- calls ------------------------------------------------------------------------------------------ */

int ws_sock_start(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o) {
    s->armed_ms = INF_MS;
    s->corr.free_head = s->corr.queued.head = s->corr.queued.tail = s->corr.written.head = s->corr.written.tail = WS_NIL;
    connect(s, h, cfg, now_ms, o);
    settle(s, h, cfg, now_ms, o);
    return o->rc;
}

int ws_sock_event(ws_sock *s, int32_t h, const q_config *cfg, uint32_t conn, ws_event ev, int32_t code,
                  const uint8_t *reason, uint32_t reason_len, double now_ms, ws_out *o) {
    if (ev == WE_TICK) s->armed_ms = INF_MS;   /* the host's timer fired */
    if (s->state == WS_CLOSED) return o->rc;
    due(s, h, cfg, now_ms, o);
    bool current = conn == s->conn && (s->state == WS_CONNECTING || s->state == WS_OPEN);
    if (current && ev == WE_OPENED && s->state == WS_CONNECTING) {
        go(s, WS_OPEN);
        s->attempt = 0;
        s->last_rx_ms = now_ms;
        status(o, h, s, "open");
        while (s->corr.queued.head != WS_NIL) send_req(s, h, s->corr.queued.head, o);
    } else if (current && ev == WE_FAILED && host_tls_failure(reason, reason_len)) {
        tls_failed(s, h, (uint32_t)code, host_tls_failure(reason, reason_len), o);
    } else if (current && (ev == WE_CLOSED || ev == WE_FAILED)) {
        if (ev == WE_FAILED) reason_len = 0;   /* an identifier, not the peer's close reason */
        lost(s, h, cfg, (uint32_t)code, reason, reason_len, true, QD(THE_CONNECTION_CLOSED_BEFORE_THE_REPLY), QS_NETWORK, now_ms, o);
    } else if (current && ev == WE_BINARY && s->state == WS_OPEN) {
        s->last_rx_ms = now_ms; s->ping_out = 0;   /* ignored, but the peer is alive */
    } else if (current && ev == WE_OVERSIZED && s->state == WS_OPEN && (uint32_t)code > cfg->ws_max_message_bytes) {
        drop(s, h, cfg, CLOSE_TOO_BIG, "message too big", false, QD(A_FRAME_LARGER_THAN_WEBSOCKET_MAX), QS_FRAME, now_ms, o);
    }
    settle(s, h, cfg, now_ms, o);
    return o->rc;
}

/* Status of an error frame's code for the error record: kind from the code as for HTTP. */
static void classify(q_error *e, int32_t status) {
    if (status < 0) { e->http_status = 0; return; }
    bool retryable;
    q_kind k = rest_status_kind(status, &retryable);
    e->kind = (uint8_t)k;
    e->http_status = status;
    e->retryable = retryable;
    e->retry_policy = retryable ? (uint8_t)QR_LINEAR : QR_NONE;
}

/* Copies server text (a raw JSON string body) into a record field. */
static void put_text(char *dst, size_t cap, const uint8_t *raw, uint32_t n) {
    uint8_t *tmp = scratch_alloc(n + 1);
    dst[0] = 0;
    if (tmp) q_text_append_foreign(dst, cap, (const char *)tmp, json_unescape(raw, n, tmp));
}

/* Whether text (a JSON string body) is id in canonical form (lowercase, hyphenated): the form we
 * write and the servers echo, so a request id is compared without being parsed. false only means
 * "not in that form": the caller then parses it. */
static bool canonical_id_is(const uint8_t *text, uint32_t n, const uint8_t id[16]) {
    uint8_t canon[UUID_TEXT_LEN];
    if (n != UUID_TEXT_LEN) return false;
    uuid_format(id, canon);
    return q_memcmp(text, canon, UUID_TEXT_LEN) == 0;
}

/* A frame that answers the oldest unanswered request (error frames, malformed frames): a
 * tombstone absorbs it silently; with nothing written, the host hears of it as a status. */
static void answer_oldest(ws_sock *s, int32_t h, q_error *fail, q_source src, ws_out *o) {
    uint32_t slot = s->corr.written.head;
    if (slot != WS_NIL && s->corr.e[slot].state == WR_TOMBSTONE) { ws_corr_remove(&s->corr, slot); return; }
    if (slot != WS_NIL) { reject(s, h, slot, fail, src, 0, 0, o); return; }
    uint8_t rec[Q_ERROR_JSON_BYTES];
    fail->source = (uint8_t)src;
    int n = q_error_to_json(fail, rec, sizeof rec);
    act(o, "status", h);
    fields(o, h, n < 0 ? Q_ERR(OUT_OF_MEMORY) : jw_fmt(&o->tail, ",\"state\":\"error\",\"source\":\"%s\",\"error\":%r}", q_source_name(src), rec, (uint32_t)n));
}

/* An envelope frame. false: the fast parse's guess of where the payload ends was wrong (the
 * caller parses the frame again, strictly); nothing happened. */
static bool envelope_frame(ws_sock *s, int32_t h, const q_config *cfg, const uint8_t *frame, const ws_frame *f, ws_out *o) {
    env_decoded d;
    q_error derr;
    q_error_clear(&derr);
    env_limits lim = cfg->limits;
    if (lim.max_depth > 1) lim.max_depth--;   /* the frame object is one level */
    const uint8_t *env = frame + f->payload_off;
    if (env_decode(env, f->payload_len, &lim, &d, &derr)) {
        if (f->unverified) return false;
        q_error fail;
        q_fail(&fail, Q_ERR(PROTOCOL), (int64_t)f->payload_off + (derr.offset >= 0 ? derr.offset : 0), "payload", NULL);
        q_msg_append(&fail, ": ");
        q_msg_append(&fail, QD(ENVELOPE_INVALID));
        q_msg_append(&fail, ": ");
        q_msg_append(&fail, derr.message);
        answer_oldest(s, h, &fail, QS_FRAME, o);
        return true;
    }
    /* the reply to the oldest written request (the server answers in order) is told without
     * parsing its id: env_decode has already checked it; any other is parsed and looked up */
    uint8_t id[16];
    uint32_t slot = WS_NIL, head = s->corr.written.head;
    const uint8_t *rid = env + d.request_id_off;
    if (d.request_id_len && head != WS_NIL && canonical_id_is(rid, d.request_id_len, s->corr.e[head].id)) slot = head;
    else if (d.request_id_len && uuid_parse(rid, d.request_id_len, id) == Q_OK) slot = ws_corr_by_id(&s->corr, id);
    if (slot != WS_NIL && s->corr.e[slot].state == WR_TOMBSTONE) { ws_corr_remove(&s->corr, slot); return true; }   /* late: dropped */
    int32_t words[Q_DECODE_RECORD_WORDS];
    decode_record(&d, words);
    uint32_t w[3 + Q_DECODE_RECORD_WORDS] = { 0, f->payload_off, f->payload_len };   /* r, at, n, rec */
    ws_action op = WA_RESOLVE;
    if (slot == WS_NIL || s->corr.e[slot].state != WR_WRITTEN) {
        /* no request waits for it: server push. A consumer waiting now takes it at once (r = 1:
         * not buffered); else it waits in the buffer of max_queue (0: none), or is refused and
         * reported, never dropped silently */
        if (s->push_ready) { s->push_ready--; w[0] = 1; }
        else if (s->push_buffered < cfg->ws_max_queue) s->push_buffered++;
        else {
            s->push_dropped++;
            act(o, "status", h);
            fields(o, h, jw_fmt(&o->tail, ",\"state\":\"overflow\",\"attempt\":%u,\"dropped\":%u}", s->attempt, s->push_dropped));
            return true;
        }
        op = WA_PUSH;
    } else if (d.error_len) {
        q_error fail;
        q_fail(&fail, Q_ERR(REMOTE_ERROR), Q_NO_OFFSET, NULL, NULL);
        classify(&fail, d.error_status);
        put_text(fail.code, sizeof fail.code, env + d.error_code_off, d.error_code_len);
        put_text(fail.message, sizeof fail.message, env + d.error_message_off, d.error_message_len);
        if (!fail.message[0]) q_msg_append(&fail, QD(SERVER_SENT_NO_MESSAGE));
        reject(s, h, slot, &fail, QS_ENVELOPE, f->payload_off + d.error_off, d.error_len, o);
        return true;
    } else {
        w[0] = ws_corr_handle(&s->corr, slot);
        ws_corr_remove(&s->corr, slot);
    }
    for (int k = 0; k < Q_DECODE_RECORD_WORDS; k++) w[3 + k] = (uint32_t)words[k];
    record(o, op, h, w, 3 + Q_DECODE_RECORD_WORDS);
    return true;
}

int ws_sock_message(ws_sock *s, int32_t h, const q_config *cfg, uint32_t conn, const uint8_t *frame, uint32_t len,
                    double now_ms, ws_out *o, q_error *err) {
    if (s->state == WS_CLOSED) return o->rc;
    due(s, h, cfg, now_ms, o);
    if (conn == s->conn && s->state == WS_OPEN) {
        s->last_rx_ms = now_ms;
        s->ping_out = 0;   /* any frame shows the peer is alive */
        if (len > cfg->ws_max_message_bytes) {
            drop(s, h, cfg, CLOSE_TOO_BIG, "message too big", false, QD(A_FRAME_LARGER_THAN_WEBSOCKET_MAX), QS_FRAME, now_ms, o);
        } else {
            ws_frame f;
            q_error ferr;
            q_error_clear(&ferr);
            /* fast first: an envelope frame's bytes are read once; strictly when its guess fails */
            bool fast = true;
            while (!ws_frame_parse(frame, len, cfg->limits.max_depth, fast, &f, &ferr) && f.type == WF_ENVELOPE &&
                   !envelope_frame(s, h, cfg, frame, &f, o)) fast = false;
            if (ferr.status) answer_oldest(s, h, &ferr, QS_FRAME, o);
            else if (f.type == WF_ERROR) {
                q_error fail;
                q_fail(&fail, Q_ERR(ERROR_FRAME), Q_NO_OFFSET, NULL, NULL);
                classify(&fail, f.code);
                if (f.message_len) put_text(fail.message, sizeof fail.message, frame + f.message_off, f.message_len);
                answer_oldest(s, h, &fail, QS_FRAME, o);
            }
            /* pong: liveness only; ping: the server sends none, nothing to answer */
        }
    }
    settle(s, h, cfg, now_ms, o);
    return o->rc;
}

/* Position of the request id in an envelope env_encode wrote: the canonical meta starts with
 * the timestamp (when present), then request_id, which autofill always sets. */
static const uint8_t *encoded_request_id(const uint8_t *env, uint32_t n) {
    static const char META[] = "{\"meta\":{", TS[] = "\"timestamp\":\"", RID[] = "\"request_id\":\"";
    uint32_t p = sizeof META - 1;
    if (n > p + sizeof TS && !q_memcmp(env + p, TS, sizeof TS - 1)) {
        p += sizeof TS - 1;
        while (p < n && env[p] != '"') p++;
        p += 2;   /* closing quote and comma */
    }
    if (p + sizeof RID - 1 + UUID_TEXT_LEN > n || q_memcmp(env + p, RID, sizeof RID - 1)) return NULL;
    return env + p + sizeof RID - 1;
}

int ws_sock_request(ws_sock *s, int32_t h, const q_config *cfg, const uint8_t *meta, uint32_t meta_len,
                    const uint8_t *payload, uint32_t payload_len, double timeout_ms, int idempotent,
                    const uint8_t *random, double now_ms, ws_out *o, q_error *err) {
    int rc;
    if (s->state == WS_CLOSED) return q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "socket", QD(CLOSED));
    if (s->draining) return q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "socket", QD(DRAINING_NO_NEW_REQUESTS));
    if (timeout_ms < 0) timeout_ms = cfg->ws_message_timeout_ms;
    else if (!(timeout_ms >= 1 && timeout_ms <= Q_MAX_TIMEOUT_MS) || timeout_ms != (double)(uint32_t)timeout_ms)
        return q_fail(err, Q_ERR(OUT_OF_RANGE), Q_NO_OFFSET, "options.timeout", QD(AN_INTEGER_1_86400000));
    /* expire what has timed out first, as every call does (so a full queue frees its room); its
     * actions go out even when this request is refused (actions_end), and the refused frame
     * below is taken back without touching them */
    due(s, h, cfg, now_ms, o);
    env_autofill af = { .fill = true, .now_ms = now_ms, .random = random, .uuid_v4 = cfg->uuid_version == 4,
                        .tenant = cfg->tenant.len ? cfg->tenant.ptr : NULL, .tenant_len = cfg->tenant.len };
    /* the envelope is encoded straight into its frame in the output, no copy; a refused request
     * takes its bytes back out (refused:) */
    q_buf *t = &o->tail;
    uint32_t at = t->len, slot, handle;
    uint8_t id[16];
    if (ws_frame_open(t)) { rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", QD(REQUEST)); goto refused; }
    uint32_t env_at = t->len;
    if ((rc = env_encode(meta, meta_len, payload, payload_len, NULL, 0, &cfg->limits, &af, t, err))) goto refused;
    if (ws_frame_close(t)) { rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", QD(REQUEST)); goto refused; }
    const uint8_t *rid = encoded_request_id(t->ptr + env_at, t->len - env_at);
    if (!rid || uuid_parse(rid, UUID_TEXT_LEN, id)) {
        rc = q_fail(err, Q_ERR(INTERNAL), Q_NO_OFFSET, "meta.request_id", QD(NOT_FOUND_IN_THE_ENCODED_ENVELOPE));
        goto refused;
    }
    uint32_t rid_at = (uint32_t)(rid - t->ptr), len = t->len - at;   /* offsets: the tail may move */
    if (len > cfg->ws_max_message_bytes) {
        rc = q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "websocket.max_message_bytes", QD(THE_FRAME_WOULD_EXCEED_IT_NOTHING_WAS));
        goto refused;
    }
    if (s->state != WS_OPEN && s->corr.queued.len >= cfg->ws_max_queue) {
        rc = q_fail(err, Q_ERR(OVERFLOW), Q_NO_OFFSET, "websocket.max_queue", QD(NOT_CONNECTED_AND_THE_QUEUE_IS_FULL));
        goto refused;
    }
    if ((rc = ws_corr_add(&s->corr, id, now_ms + timeout_ms, idempotent < 0 ? cfg->retry_non_idempotent : idempotent > 0,
                          cfg->max_in_flight, &slot, &handle, err))) goto refused;
    /* keep: the frame may be written again (idempotent), else the host may drop it once sent */
    uint32_t w[5] = { handle, rid_at, at, len, s->corr.e[slot].idempotent };
    record(o, WA_REQUEST, h, w, 5);
    if (o->rc) { ws_corr_remove(&s->corr, slot); rc = q_fail(err, o->rc, Q_NO_OFFSET, "websocket", QD(REQUEST)); goto refused; }
    if (s->state == WS_OPEN) send_req(s, h, slot, o);
    settle(s, h, cfg, now_ms, o);
    return o->rc;
refused:
    t->len = at;
    settle(s, h, cfg, now_ms, o);   /* what due() changed may need a timer */
    return rc;
}

int ws_sock_abort(ws_sock *s, int32_t h, const q_config *cfg, uint32_t req, double now_ms, ws_out *o, q_error *err) {
    due(s, h, cfg, now_ms, o);
    uint32_t slot = ws_corr_by_handle(&s->corr, req);
    /* already ended (resolved, timed out) in this very call or before: nothing to do */
    if (slot != WS_NIL) end_with(s, h, slot, Q_ERR(ABORTED), NULL, QS_LOCAL, true, o);
    settle(s, h, cfg, now_ms, o);
    return o->rc;
}

int ws_sock_drain(ws_sock *s, int32_t h, const q_config *cfg, double now_ms, ws_out *o) {
    due(s, h, cfg, now_ms, o);
    s->draining = 1;
    if (s->state != WS_OPEN && s->state != WS_CLOSED && !ws_sock_pending(s)) {
        if (s->state == WS_CONNECTING) close_conn(o, h, s->conn, CLOSE_NORMAL, "drained", false);
        s->conn++;
        go(s, WS_CLOSED);
        status(o, h, s, "closed");
    }
    settle(s, h, cfg, now_ms, o);
    return o->rc;
}

int ws_sock_close(ws_sock *s, int32_t h, const char *reason, double now_ms, ws_out *o) {
    if (s->state == WS_CLOSED && !s->corr.live) return o->rc;
    for (uint32_t slot = s->corr.written.head, next; slot != WS_NIL; slot = next) {
        next = s->corr.e[slot].next;
        if (s->corr.e[slot].state == WR_TOMBSTONE) ws_corr_remove(&s->corr, slot);
        else end_with(s, h, slot, Q_ERR(ABORTED), QD(SOCKET_CLOSED), QS_LOCAL, false, o);
    }
    reject_queued(s, h, Q_ERR(ABORTED), QD(SOCKET_CLOSED), QS_LOCAL, o);
    if (s->state == WS_CONNECTING || s->state == WS_OPEN) close_conn(o, h, s->conn, CLOSE_NORMAL, reason, s->state == WS_OPEN);
    s->conn++;
    if (s->state != WS_CLOSED) { go(s, WS_CLOSED); act(o, "status", h); fields(o, h, jw_fmt(&o->tail, ",\"state\":\"closed\",\"attempt\":%u,\"code\":1000,\"reason\":\"%s\"}", s->attempt, reason)); }
    return o->rc;
}

void ws_sock_taken(ws_sock *s, uint32_t n, uint32_t ready) {
    s->push_buffered = n > s->push_buffered ? 0 : s->push_buffered - n;
    s->push_ready = ready;
}

void ws_sock_release(ws_sock *s) {
    ws_corr_release(&s->corr);
    if (s->url) { q_wipe(s->url, s->url_len); q_free(s->url); }
    s->url = NULL;
}
