/* Redirect decisions (see rest_redirect.h). Method rules follow the Fetch standard: 303
 * turns anything into GET without a body, 301/302 turn POST into GET without a body, 307/308
 * repeat the request as it was. The target must be an allowed origin. */
#include "rest_redirect.h"
#include "url.h"

static bool followed(int32_t status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

/* The request rejects with *fail, the server's answer to it (source HTTP): never retried. */
static int refuse(q_error *fail, int32_t status) {
    fail->http_status = status;
    fail->retryable = 0; fail->retry_policy = QR_NONE; fail->source = QS_HTTP;
    return Q_OK;
}

int redirect_decide(const q_config *cfg, uint8_t method, uint32_t hops, int32_t status, const uint8_t *url, uint32_t url_len,
                    const uint8_t *loc, uint32_t loc_len, redirect_hop *hop, q_error *fail, q_error *err) {
    q_error_clear(fail);
    const char *why = NULL;
    int code = Q_ERR(HTTP_STATUS);
    if (status == 0) { code = Q_ERR(REDIRECT_HIDDEN); why = QD(THE_BROWSER_DOES_NOT_SHOW_WHERE_A); }
    else if (!followed(status) || !loc_len) why = followed(status) ? QD(A_REDIRECT_WITHOUT_A_LOCATION) : QD(A_3XX_STATUS_THE_CLIENT_DOES_NOT_FOLLOW);
    else if (hops >= cfg->max_redirects) {
        code = Q_ERR(TOO_MANY_REDIRECTS);
        why = cfg->max_redirects ? QD(MORE_HOPS_THAN_ALLOWED) : QD(REDIRECTS_ARE_NOT_FOLLOWED_0);
    }
    if (why) {   /* REDIRECT_HIDDEN (status 0) carries no HTTP status */
        q_fail(fail, code, Q_NO_OFFSET, code == Q_ERR(TOO_MANY_REDIRECTS) ? "rest.max_redirects" : NULL, why);
        return refuse(fail, status);
    }
    /* the URL that was requested (the host echoes the plan's): its origin decides "cross-origin" */
    url_parts from, to;
    uint32_t uq = 0;
    while (uq < url_len && url[uq] != '?') uq++;
    if (url_parse_base(url, uq, &from, "url", -1, fail)) return Q_OK;
    hop->url = (q_buf){ 0 };
    bool allowed = false;
    int rc = url_resolve_from(&hop->url, url, uq, &from, loc, loc_len, &to, "Location", fail);
    if (!rc) rc = config_origin_allowed(cfg, hop->url.ptr, to.origin_len, &allowed, "Location", fail);
    if (rc == Q_ERR(OUT_OF_MEMORY)) { *err = *fail; q_error_clear(fail); return rc; }
    if (rc) return refuse(fail, status);
    if (!allowed) {   /* security: never retried either */
        q_fail(fail, Q_ERR(ORIGIN_DENIED), Q_NO_OFFSET, "Location", QD(A_REDIRECT_TO_AN_ORIGIN_NOT_IN_SECURITY));
        return refuse(fail, status);
    }
    hop->cross_origin = !url_case_eq(url, from.origin_len, hop->url.ptr, to.origin_len);
    hop->drop_body = status == 303 || ((status == 301 || status == 302) && method == HM_POST);
    hop->method = hop->drop_body ? HM_GET : method;
    return Q_OK;
}
