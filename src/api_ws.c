/* The WebSocket exports (include/qollective.h): open a pooled socket, issue requests, feed
 * frames and host events, abort, drain, close. Each call outputs the actions the host carries
 * out: action records, then the bytes they point into (layout in qollective.h). The decisions
 * live in ws_conn.c, ws_corr.c and ws_pool.c. */
#include "qollective.h"
#include "instance.h"
#include "json.h"
#include "ws_pool.h"

/* Output = the records' length (a u32, itself included), the records, the tail; nothing when
 * there are no actions. Returns that length, or the failure. A failed call still outputs the
 * actions it took before failing (a refused request's call may have expired others, timed out
 * a connect, sent a ping): the host runs them, then reports the failure, so nothing is lost. */
static int32_t actions_end(q_instance *I, int rc, ws_out *o) {
    uint32_t n = o->acts.len;
    Q_ASSERT(((uintptr_t)o->acts.ptr & 3) == 0);   /* the host reads the records as 32-bit words */
    if (n) q_memcpy(o->acts.ptr, &n, 4);
    if (!o->rc && o->tail.len) o->rc = q_buf_put(&o->acts, o->tail.ptr, o->tail.len);
    if (o->rc) return call_end(I, rc ? rc : q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", QD(ACTIONS)));
    rc = call_end(I, rc ? rc : (int32_t)n);   /* a failure's record first: it clears the output */
    call_output(I, o->acts.ptr, o->acts.len);
    return rc;
}

/* Looks up client and socket, or ends the call with BAD_HANDLE. SOCKET_AT also feeds the
 * clock (expired tokens are wiped, see client_at). */
#define SOCKET() SOCKET_WITH(client_get(I, client, false))
#define SOCKET_AT(now_ms) SOCKET_WITH(client_at(I, client, now_ms))
#define SOCKET_WITH(lookup) \
    q_client *c = lookup; \
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE)); \
    ws_sock *s = ws_pool_get(c, sock, &I->err); \
    if (!s) return call_end(I, Q_ERR(BAD_HANDLE)); \
    ws_out o = { 0 }

Q_EXPORT(q_ws_open) int32_t q_ws_open(int32_t client, uint32_t url_len, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, url_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (I->entropy_cap < Q_ENTROPY_SEED_BYTES) return call_end(I, q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(OPEN_NEEDS_4_ENTROPY_BYTES)));
    uint32_t seed = (uint32_t)I->entropy[0] | (uint32_t)I->entropy[1] << 8 | (uint32_t)I->entropy[2] << 16 | (uint32_t)I->entropy[3] << 24;
    ws_out o = { 0 };
    int32_t h = -1;
    int rc = ws_pool_open(c, I->in, url_len, seed, now_ms, &o, &h, &I->err);
    int32_t n = actions_end(I, rc, &o);
    return n < 0 ? n : h;
}

Q_EXPORT(q_ws_request) int32_t q_ws_request(int32_t client, int32_t sock, uint32_t meta_len, uint32_t payload_len,
                                             double timeout_ms, int32_t idempotent, double now_ms) {
    BEGIN();
    SOCKET();
    if (!input_ok(I, (uint64_t)meta_len + payload_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (I->entropy_cap < Q_ENTROPY_REQUEST_ID_BYTES) return call_end(I, q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(REQUEST_NEEDS_16_ENTROPY_BYTES)));
    int rc = ws_sock_request(s, sock, &c->cfg, I->in, meta_len, I->in + meta_len, payload_len, timeout_ms,
                             idempotent < 0 ? -1 : idempotent > 0, I->entropy, now_ms, &o, &I->err);
    return actions_end(I, rc, &o);
}

Q_EXPORT(q_ws_message) int32_t q_ws_message(int32_t client, int32_t sock, uint32_t conn, uint32_t len, double now_ms) {
    BEGIN();
    SOCKET_AT(now_ms);
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    return actions_end(I, ws_sock_message(s, sock, &c->cfg, conn, I->in, len, now_ms, &o, &I->err), &o);
}

Q_EXPORT(q_ws_event) int32_t q_ws_event(int32_t client, int32_t sock, uint32_t conn, int32_t kind, int32_t code,
                                         uint32_t reason_len, double now_ms) {
    BEGIN();
    SOCKET();
    if (!input_ok(I, reason_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (kind < WE_OPENED || kind > WE_FAILED) return call_end(I, q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "kind", QD(UNKNOWN_EVENT)));
    /* the close reason is the peer's text: it goes out as a JSON string, so it must be UTF-8 */
    if (reason_len && json_utf8_validate(I->in, reason_len, &I->err)) reason_len = 0;
    q_error_clear(&I->err);
    return actions_end(I, ws_sock_event(s, sock, &c->cfg, conn, (ws_event)kind, code, I->in, reason_len, now_ms, &o), &o);
}

Q_EXPORT(q_ws_abort) int32_t q_ws_abort(int32_t client, int32_t sock, uint32_t req, double now_ms) {
    BEGIN();
    SOCKET_AT(now_ms);
    return actions_end(I, ws_sock_abort(s, sock, &c->cfg, req, now_ms, &o, &I->err), &o);
}

Q_EXPORT(q_ws_drain) int32_t q_ws_drain(int32_t client, int32_t sock, double now_ms) {
    BEGIN();
    SOCKET_AT(now_ms);
    return actions_end(I, ws_sock_drain(s, sock, &c->cfg, now_ms, &o), &o);
}

Q_EXPORT(q_ws_close) int32_t q_ws_close(int32_t client, int32_t sock, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    ws_out o = { 0 };
    return actions_end(I, ws_pool_close(c, sock, now_ms, &o, &I->err), &o);
}

Q_EXPORT(q_ws_taken) int32_t q_ws_taken(int32_t client, int32_t sock, uint32_t n, uint32_t ready) {
    BEGIN();
    SOCKET();
    (void)o;
    ws_sock_taken(s, n, ready);
    return call_end(I, Q_OK);
}

Q_EXPORT(q_ws_info) int32_t q_ws_info(int32_t client, int32_t sock) {
    BEGIN();
    SOCKET();
    int rc = jw_fmt(&o.acts, "{\"state\":\"%s\",\"conn\":%u,\"queued\":%u,\"written\":%u,\"tombstones\":%u,\"pending\":%u,\"pushBuffered\":%u,\"pushDropped\":%u}",
                    WS_STATE_NAMES[s->state], s->conn, s->corr.queued.len, s->corr.written.len - s->corr.tombstones,
                    s->corr.tombstones, ws_sock_pending(s), s->push_buffered, s->push_dropped);
    return output_end(I, rc, &o.acts);
}
