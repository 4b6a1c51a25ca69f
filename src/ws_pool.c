/* The WebSocket pool (see ws_pool.h). Handles are slot | generation << 10 (at most 1024
 * sockets per client), so a closed socket's handle is refused. */
#include "ws_pool.h"
#include "arena.h"

#define POOL_SLOT_BITS 10u
_Static_assert(Q_CONFIG_MAX_CONNECTIONS <= (1u << POOL_SLOT_BITS), "socket slots fit the handle");

typedef struct {
    ws_sock **s;
    uint32_t cap;
    uint64_t clock;              /* LRU stamps */
    uint32_t next_generation;
} ws_pool;

static int32_t handle_of(uint32_t slot, const ws_sock *s) { return (int32_t)(slot | s->generation << POOL_SLOT_BITS); }

static void free_slot(ws_pool *p, uint32_t k) {
    ws_sock_release(p->s[k]);
    q_free(p->s[k]);
    p->s[k] = NULL;
}

/* A URL the browser WebSocket constructor takes: ws:// or wss://, no spaces or controls. */
static int check_url(const uint8_t *u, uint32_t n, q_error *err) {
    bool scheme = (n > 5 && q_bytes_eq(u, 5, "ws://")) || (n > 6 && q_bytes_eq(u, 6, "wss://"));
    if (!scheme) return q_fail(err, Q_ERR(INVALID_URL), 0, "url", QD(A_WEBSOCKET_URL_STARTS_WITH_WS_OR_WSS));
    if (n > Q_MAX_URL_BYTES) return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "url", QD(LONGER_THAN_8192_BYTES));
    for (uint32_t i = 0; i < n; i++)
        if (u[i] <= 0x20 || u[i] == 0x7F || u[i] == '#') return q_fail(err, Q_ERR(INVALID_URL), i, "url", QD(SPACE_CONTROL_CHARACTER_OR_FRAGMENT));
    return Q_OK;
}

int ws_pool_open(q_client *c, const uint8_t *url, uint32_t len, uint32_t seed, double now_ms,
                 ws_out *o, int32_t *handle, q_error *err) {
    int rc;
    if (!len) { url = c->cfg.ws_url.ptr; len = c->cfg.ws_url.len; }
    if (!len) return q_fail(err, Q_ERR(CONFIG_INVALID), Q_NO_OFFSET, "websocket.url", QD(NO_URL_GIVEN_AND_NONE_CONFIGURED));
    if ((rc = check_url(url, len, err))) return rc;
    bool allowed;   /* before any I/O: a denied URL gets no socket, not even a connect attempt */
    if ((rc = config_origin_allowed(&c->cfg, url, len, &allowed, "url", err))) return rc;
    if (!allowed) return q_fail(err, Q_ERR(ORIGIN_DENIED), Q_NO_OFFSET, "url", QD(ORIGIN_NOT_IN_SECURITY_ALLOWED_ORIGINS_N));
    ws_pool *p = c->ws;
    if (!p) {
        if (!(p = c->ws = q_calloc(1, sizeof *p))) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", NULL);
        if (!(p->s = q_calloc(c->cfg.ws_max_connections, sizeof *p->s))) {
            q_free(p); c->ws = NULL;
            return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", NULL);
        }
        p->cap = c->cfg.ws_max_connections;
    }
    uint32_t free_k = WS_NIL, lru = WS_NIL;
    for (uint32_t k = 0; k < p->cap; k++) {
        ws_sock *s = p->s[k];
        if (s && s->state == WS_CLOSED) { free_slot(p, k); s = NULL; }   /* closed for good: its slot is free */
        if (!s) { if (free_k == WS_NIL) free_k = k; continue; }
        if (s->url_len == len && !q_memcmp(s->url, url, len)) {
            s->last_used = ++p->clock;
            *handle = handle_of(k, s);
            return Q_OK;
        }
        if (!ws_sock_pending(s) && !s->draining && (lru == WS_NIL || s->last_used < p->s[lru]->last_used)) lru = k;
    }
    if (free_k == WS_NIL) {
        if (lru == WS_NIL)
            return q_fail(err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "websocket.max_connections", QD(EVERY_POOLED_SOCKET_HAS_REQUESTS_IN));
        ws_sock_close(p->s[lru], handle_of(lru, p->s[lru]), "evicted", now_ms, o);   /* idle: only the close */
        free_slot(p, lru);
        free_k = lru;
    }
    ws_sock *s = q_calloc(1, sizeof *s);
    uint8_t *u = q_alloc(len);
    if (!s || !u) { q_free(s); q_free(u); return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", NULL); }
    q_memcpy(u, url, len);
    s->url = u; s->url_len = len;
    s->seed = seed;
    s->generation = (++p->next_generation) & 0x1FFFFF;
    if (!s->generation) s->generation = (++p->next_generation) & 0x1FFFFF;
    s->last_used = ++p->clock;
    p->s[free_k] = s;
    *handle = handle_of(free_k, s);
    return ws_sock_start(s, *handle, &c->cfg, now_ms, o) ? q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "websocket", NULL) : Q_OK;
}

ws_sock *ws_pool_get(q_client *c, int32_t handle, q_error *err) {
    ws_pool *p = c->ws;
    uint32_t k = (uint32_t)handle & ((1u << POOL_SLOT_BITS) - 1);
    if (!p || handle < 0 || k >= p->cap || !p->s[k] || p->s[k]->generation != (uint32_t)handle >> POOL_SLOT_BITS) {
        q_fail(err, Q_ERR(BAD_HANDLE), Q_NO_OFFSET, "socket", QD(UNKNOWN_OR_CLOSED_SOCKET));
        return NULL;
    }
    p->s[k]->last_used = ++p->clock;
    return p->s[k];
}

int ws_pool_close(q_client *c, int32_t handle, double now_ms, ws_out *o, q_error *err) {
    ws_sock *s = ws_pool_get(c, handle, err);
    if (!s) return err->status;
    int rc = ws_sock_close(s, handle, "closed by the client", now_ms, o);
    if (rc) return q_fail(err, rc, Q_NO_OFFSET, "websocket", NULL);
    free_slot(c->ws, (uint32_t)handle & ((1u << POOL_SLOT_BITS) - 1));
    return Q_OK;
}

void ws_release(q_client *c) {
    ws_pool *p = c->ws;
    if (!p) return;
    for (uint32_t k = 0; k < p->cap; k++) if (p->s[k]) free_slot(p, k);
    q_free(p->s);
    q_free(p);
    c->ws = NULL;
}
