/* Client lifetime: releasing a client wipes and frees everything it owns (config strings,
 * tokens, request table). Transports hang their state off q_client. */
#include "instance.h"
#include "token.h"
#include "rest.h"
#include "ws_pool.h"

void client_release(q_client *c) {
    config_free(&c->cfg);
    token_clear_all(c);
    rest_release(c);
    ws_release(c);
    q_wipe(c, sizeof *c);
    q_free(c);
}
