/* Client lifetime: releasing a client wipes and frees everything it owns (config strings,
 * tokens, request table). Transports hang their state off q_client. */
#include "instance.h"
#include "token.h"
#include "rest.h"
#ifndef Q_NO_WEBSOCKET
#include "ws_pool.h"
#endif

#ifdef Q_TLS
void tls_client_release(q_client *c);   /* src/tls/api_tls.c: wipes the client's key */
#endif

q_client *client_at(q_instance *I, int32_t handle, double now_ms) {
    q_client *c = client_get(I, handle, false);
    if (c) token_expire(c, now_ms);
    return c;
}

void client_release(q_client *c) {
    config_free(&c->cfg);
    token_clear_all(c);
    rest_release(c);
#ifndef Q_NO_WEBSOCKET
    ws_release(c);   /* the REST module (-DQ_NO_WEBSOCKET) has no socket pool */
#endif
#ifdef Q_TLS
    tls_client_release(c);
#endif
    q_wipe(c, sizeof *c);
    q_free(c);
}
