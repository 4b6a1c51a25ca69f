/* Client lifetime: releasing a client wipes and frees everything it owns (config strings,
 * tokens, request table). Transports hang their state off q_client. */
#include "instance.h"

void client_release(q_client *c) {
    config_free(&c->cfg);
    if (c->tokens) q_free(c->tokens);
    if (c->rest) q_free(c->rest);
    q_wipe(c, sizeof *c);
    q_free(c);
}
