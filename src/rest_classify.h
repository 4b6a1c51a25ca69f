/* REST response classification (wire-format.md §3-4): what kind of failure a response is,
 * whether it may be retried, and the message that says what arrived (never request bytes). */
#ifndef Q_REST_CLASSIFY_H
#define Q_REST_CLASSIFY_H
#include "base.h"
#include "error.h"
#include "envelope.h"

/* Where the error object's details sit in the response body, as JSON text (len 0 when absent).
 * The reject action names the range instead of copying it: the host reads the body it holds. */
typedef struct { uint32_t details_off, details_len; } rest_details;

/* Error kind and retryability of an HTTP status without an envelope. */
q_kind rest_status_kind(int32_t status, bool *retryable);

/* Describes in *fail a response that does not resolve its request. drc/d/derr are the
 * outcome of decoding the body as an envelope. Q_OK, or OUT_OF_MEMORY in err. */
int rest_classify(int32_t status, const uint8_t *body, uint32_t body_len, const uint8_t *content_type, uint32_t ct_len,
                  int drc, const env_decoded *d, const q_error *derr, q_error *fail, rest_details *x, q_error *err);
#endif
