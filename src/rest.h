/* REST transport decisions (wire-format.md §4): building requests, classifying responses,
 * and the per-request lifecycle with retries. The host only performs fetch and timers. */
#ifndef Q_REST_H
#define Q_REST_H
#include "base.h"
#include "error.h"
#include "instance.h"
#include "rest_table.h"      /* rest_in_flight, rest_release */
#include "rest_classify.h"   /* rest_status_kind */
#include "schema.h"

/* The schema of a call's options (method, route, timeout_ms, headers, idempotent). */
extern const schema_set REST_OPTION_SCHEMA_SET;

/* Failures the host observed instead of a response. */
typedef enum { RF_NETWORK = 1, RF_TIMEOUT = 2, RF_ABORTED = 3 } rest_failure_kind;

/* Builds a request: meta/payload/options are JSON texts (options may be empty), random holds
 * 20 host bytes (request id + jitter seed). Output: plan JSON (*plan_len bytes) followed
 * by the body bytes. */
int rest_prepare(q_client *c, const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
                 const uint8_t *opts, uint32_t opts_len, const uint8_t *random, double now_ms,
                 q_buf *out, uint32_t *plan_len, q_error *err);
/* A response arrived for request id. Output: an action JSON (resolve/retry/reject). */
int rest_response(q_client *c, rest_id id, int32_t status, const uint8_t *body, uint32_t body_len,
                  const uint8_t *content_type, uint32_t ct_len, const uint8_t *retry_after, uint32_t ra_len,
                  double now_ms, q_buf *out, q_error *err);
/* The attempt failed without a response. Output: an action JSON (retry/reject). */
int rest_failure(q_client *c, rest_id id, rest_failure_kind kind, double now_ms, q_buf *out, q_error *err);
/* A network failure the host names with an identifier (Node's error code): one that names a
 * TLS failure rejects at once with TLS_HANDSHAKE (security, not retried), any other is
 * rest_failure(RF_NETWORK). */
int rest_failure_code(q_client *c, rest_id id, const uint8_t *code, uint32_t code_len, double now_ms, q_buf *out, q_error *err);
/* A redirect answered the attempt: status 301/302/303/307/308 (other 3xx reject) or 0 when
 * the host hid it (browser opaque redirect); url = the URL that was requested, loc = its
 * Location. Output {"action":"redirect","url","method","body":bool,"headers":[from,to],
 * "attempt"} (send the next hop to url with the plan's headers[from..to), to -1 = all, and
 * the body only when body is true) or a reject (origin denied, hop limit, hidden target). */
int rest_redirect(q_client *c, rest_id id, int32_t status, const uint8_t *url, uint32_t url_len, const uint8_t *loc,
                  uint32_t loc_len, double now_ms, q_buf *out, q_error *err);
/* A backoff timer fired: output {"action":"send"} or a reject when the deadline passed. */
int rest_attempt(q_client *c, rest_id id, double now_ms, q_buf *out, q_error *err);
#endif
