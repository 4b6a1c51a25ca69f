/* Classifying a REST response that does not resolve its request: an error envelope, a 2xx
 * body that is not an envelope, or an HTTP error without an envelope. */
#include "rest_classify.h"
#include "json.h"

q_kind rest_status_kind(int32_t status, bool *retryable) {
    *retryable = false;
    switch (status) {
    case 408: *retryable = true; return QK_TIMEOUT;
    case 429: *retryable = true; return QK_REMOTE;
    case 400: case 405: case 413: case 414: case 415: case 422: case 431: return QK_VALIDATION;
    case 401: case 403: return QK_SECURITY;
    case 501: case 505: return QK_REMOTE;
    default:
        if (status >= 500 && status <= 599) { *retryable = true; return QK_REMOTE; }
        return QK_REMOTE;
    }
}

/* Applies HTTP-derived kind/retryability to the record. */
static void classify(q_error *e, int32_t status) {
    bool retryable;
    q_kind k = rest_status_kind(status, &retryable);
    e->kind = (uint8_t)k;
    e->http_status = status;
    e->retryable = retryable;
    e->retry_policy = retryable ? (uint8_t)(k == QK_TIMEOUT ? QR_EXPONENTIAL : QR_LINEAR) : QR_NONE;
}

static void append_type(q_error *e, const uint8_t *ct, uint32_t n) {
    q_msg_append(e, " (");
    if (!n) q_msg_append(e, "no content type");
    for (uint32_t i = 0; i < n && i < 40; i++) {
        char ch[2] = { (char)((ct[i] >= 0x20 && ct[i] <= 0x7E) ? ct[i] : '?'), 0 };
        if (ct[i] == ';') break;
        q_msg_append(e, ch);
    }
}

/* Starts a message "HTTP <status> <what> (<media type>" (the caller closes it). */
static void http_message(q_error *e, int32_t status, const char *what, const uint8_t *ct, uint32_t ct_len) {
    e->message[0] = 0;
    q_msg_append(e, "HTTP ");
    q_text_append_u64(e->message, sizeof e->message, (uint64_t)status);
    q_msg_append(e, " ");
    q_msg_append(e, what);
    append_type(e, ct, ct_len);
}

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(REQUEST)); }

int rest_classify(int32_t status, const uint8_t *body, uint32_t body_len, const uint8_t *content_type, uint32_t ct_len,
                  int drc, const env_decoded *d, const q_error *derr, q_error *fail, rest_details *x, q_error *err) {
    bool ok2xx = status >= 200 && status <= 299;
    x->details_off = 0; x->details_len = 0;
    if (drc == Q_OK && d->error_len) {
        /* an error envelope: the server's code and message, its status */
        int32_t st = d->error_status;
        /* REST knows the real status: the §3 fallback is for transports without one */
        if (!d->error_status_given && !ok2xx) st = status;
        q_fail(fail, Q_ERR(REMOTE_ERROR), Q_NO_OFFSET, NULL, NULL);
        classify(fail, st);
        fail->source = QS_ENVELOPE;
        uint8_t *code = scratch_alloc(d->error_code_len + 1), *msg = scratch_alloc(d->error_message_len + 1);
        if (!code || !msg) return oom(err);
        uint32_t cl = json_unescape(body + d->error_code_off, d->error_code_len, code);
        uint32_t ml = json_unescape(body + d->error_message_off, d->error_message_len, msg);
        fail->code[0] = 0; fail->message[0] = 0;
        q_text_append_foreign(fail->code, sizeof fail->code, (const char *)code, cl);
        q_text_append_foreign(fail->message, sizeof fail->message, (const char *)msg, ml);
        if (!fail->message[0]) q_msg_append(fail, QD(SERVER_SENT_NO_MESSAGE));
        /* details travel as raw JSON for the host to parse (located by the decode: one walk) */
        x->details_off = d->error_details_off; x->details_len = d->error_details_len;
    } else if (ok2xx) {
        /* 2xx but not an envelope: say what arrived. Its kind is deserialization, whose policy
         * is an immediate retry (wire-format.md §3: a body cut or garbled on the way usually
         * comes whole the next time); decide() still retries only where repeating is safe. */
        q_fail(fail, Q_ERR(NOT_AN_ENVELOPE), derr->offset, "response", NULL);
        http_message(fail, status, QD(RESPONSE_IS_NOT_A_VALID_ENVELOPE), content_type, ct_len);
        q_msg_append(fail, "): ");
        q_msg_append(fail, derr->message);
        fail->http_status = status;
        fail->source = QS_HTTP;
    } else {
        /* an HTTP error without an envelope: proxies' HTML, plain-text 404, framework 4xx */
        q_fail(fail, Q_ERR(HTTP_STATUS), Q_NO_OFFSET, NULL, NULL);
        classify(fail, status);
        fail->source = QS_HTTP;
        bool over = drc == Q_ERR(TOO_LARGE);   /* an envelope, but over this client's limits */
        http_message(fail, status, over ? "with an envelope over the limits" : QD(WITHOUT_AN_ENVELOPE), content_type, ct_len);
        /* the size, never the bytes: a body may echo the request or one of its header values */
        q_text_append(fail->message, sizeof fail->message, ", ");
        q_text_append_u64(fail->message, sizeof fail->message, body_len);
        q_msg_append(fail, " bytes)");
        if (over) { q_msg_append(fail, ": "); q_msg_append(fail, derr->message); }
    }
    return Q_OK;
}
