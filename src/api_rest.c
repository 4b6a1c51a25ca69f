/* The REST exports (include/qollective.h): prepare a request, feed its outcome (response,
 * failure, backoff timer) and read the next action. The decisions live in rest.c. */
#include "qollective.h"
#include "instance.h"
#include "rest.h"

/* Request ids travel as JS numbers (exact below 2^53); anything else names no request. Not
 * inlined: five exports read an id, and the f64 checks at each were 106 bytes more. */
__attribute__((noinline)) static rest_id rest_id_of(double id) { return id >= 0 && id < 9007199254740992.0 ? (rest_id)id : 0; }

Q_EXPORT(q_rest_prepare) int32_t q_rest_prepare(int32_t client, uint32_t meta_len, uint32_t payload_len, uint32_t options_len, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, (uint64_t)meta_len + payload_len + options_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (I->entropy_cap < Q_ENTROPY_PREPARE_BYTES) return call_end(I, q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(PREPARE_NEEDS_20_ENTROPY_BYTES)));
    q_buf out = {0};
    uint32_t plan_len = 0;
    const uint8_t *in = I->in;
    int rc = rest_prepare(c, in, meta_len, in + meta_len, payload_len, in + meta_len + payload_len, options_len,
                          I->entropy, now_ms, &out, &plan_len, &I->err);
    /* Every plan may carry a credential: Authorization from the token, or any header from
     * rest.headers or the call (the core cannot tell an API key from a harmless header). So
     * scratch is always wiped before the next call, and the call's options (its headers)
     * leave the input buffer. */
    q_wipe(I->in + meta_len + payload_len, options_len);
    if (rc) {
        /* a refused plan is never read: its scratch goes now, not at the next call */
        scratch_wipe();
        return call_end(I, rc);
    }
    I->scratch_has_secret = true;
    call_output(I, out.ptr, out.len);
    return call_end(I, (int32_t)plan_len);
}

Q_EXPORT(q_rest_response) int32_t q_rest_response(int32_t client, double id, int32_t status, uint32_t body_len,
                                                   uint32_t type_len, uint32_t retry_after_len, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, (uint64_t)body_len + type_len + retry_after_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    q_buf out = {0};
    const uint8_t *in = I->in;
    int rc = rest_response(c, rest_id_of(id), status, in, body_len, in + body_len, type_len, in + body_len + type_len, retry_after_len,
                           now_ms, &out, &I->err);
    return output_end(I, rc, &out);
}

Q_EXPORT(q_rest_failure) int32_t q_rest_failure(int32_t client, double id, int32_t kind, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    q_buf out = {0};
    return output_end(I, rest_failure(c, rest_id_of(id), (rest_failure_kind)kind, now_ms, &out, &I->err), &out);
}

Q_EXPORT(q_rest_failure_code) int32_t q_rest_failure_code(int32_t client, double id, uint32_t code_len, double now_ms) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, code_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    q_buf out = {0};
    return output_end(I, rest_failure_code(c, rest_id_of(id), I->in, code_len, now_ms, &out, &I->err), &out);
}

Q_EXPORT(q_rest_attempt) int32_t q_rest_attempt(int32_t client, double id, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    q_buf out = {0};
    return output_end(I, rest_attempt(c, rest_id_of(id), now_ms, &out, &I->err), &out);
}

Q_EXPORT(q_rest_redirect) int32_t q_rest_redirect(int32_t client, double id, int32_t status, uint32_t url_len,
                                                   uint32_t location_len, double now_ms) {
    BEGIN();
    q_client *c = client_at(I, client, now_ms);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, (uint64_t)url_len + location_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    q_buf out = {0};
    return output_end(I, rest_redirect(c, rest_id_of(id), status, I->in, url_len, I->in + url_len, location_len, now_ms, &out, &I->err), &out);
}

Q_EXPORT(q_rest_in_flight) int32_t q_rest_in_flight(int32_t client) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    return call_end(I, c ? (int32_t)rest_in_flight(c) : Q_ERR(BAD_HANDLE));
}
