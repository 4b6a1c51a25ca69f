/* The WebSocket pool of a client: one socket per URL, at most websocket.max_connections,
 * least-recently-used eviction of idle sockets only (never one with requests in flight). */
#ifndef Q_WS_POOL_H
#define Q_WS_POOL_H
#include "base.h"
#include "error.h"
#include "instance.h"
#include "ws_conn.h"

/* The socket for url (an existing open one, or a new one that starts connecting; an idle one
 * may be evicted to make room). *handle names it; actions (connect, eviction) go to o.
 * LIMIT_REACHED when every pooled socket has requests in flight. */
int ws_pool_open(q_client *c, const uint8_t *url, uint32_t len, uint32_t seed, double now_ms,
                 ws_out *o, int32_t *handle, q_error *err);
/* The socket a handle names (touched for LRU), or NULL with BAD_HANDLE recorded. */
ws_sock *ws_pool_get(q_client *c, int32_t handle, q_error *err);
/* Closes the socket (every request ends) and frees it; its handle becomes invalid. */
int ws_pool_close(q_client *c, int32_t handle, double now_ms, ws_out *o, q_error *err);
/* Frees every socket of the client (client release). */
void ws_release(q_client *c);
#endif
