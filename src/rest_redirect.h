/* Redirects of REST requests: the core decides every hop (design: nothing reaches an origin
 * outside security.allowed_origins). The host fetches with redirect: 'manual' and reports
 * each 3xx with its Location; browsers hide the target (opaque redirect, status 0), so
 * there a redirect is never followed. */
#ifndef Q_REST_REDIRECT_H
#define Q_REST_REDIRECT_H
#include "base.h"
#include "error.h"
#include "config.h"

typedef struct {
    q_buf url;          /* the resolved target (scratch) */
    uint8_t method;     /* q_http_method for the next hop */
    bool drop_body;     /* the next hop sends no body (303, or 301/302 turning POST into GET) */
    bool cross_origin;  /* the target's origin differs from the URL that was requested */
} redirect_hop;

/* Decides the hop after a redirect answer `status` (0: the host hid it) with Location
 * loc to a request for url with `method`, `hops` hops so far. Q_OK with either *hop set, or
 * fail->status set (the request must reject with it: nothing is sent anywhere); a negative
 * status only when memory ran out (in err). Messages never quote the URL or Location. */
int redirect_decide(const q_config *cfg, uint8_t method, uint32_t hops, int32_t status, const uint8_t *url, uint32_t url_len,
                    const uint8_t *loc, uint32_t loc_len, redirect_hop *hop, q_error *fail, q_error *err);
#endif
