/* Error translation: one error record per call. Every failure in the core becomes a
 * negative q_status plus a record (kind, stable code, message, retry policy, HTTP status, byte
 * offset, key path). The message holds up to Q_ERROR_MESSAGE_BYTES, the glue shows at most
 * Q_MAX_ERROR_MESSAGE_CHARS characters of it. Messages never contain payload or secret values. */
#ifndef Q_ERROR_H
#define Q_ERROR_H

#include "base.h"
#include "error_detail.h"

/* Where message text lives. Host builds compose whole messages here. The wasm modules carry
 * no message text: a record's message holds markers the glue (js-glue/qollective.js) replaces
 * with the text, so what users read is the same:
 *   Q_MARK_STATUS NAME Q_MARK_END   the message of status NAME (the glue falls back to NAME)
 *   Q_MARK_STATUS row Q_MARK_END    the same for the status of that row (decimal): the codec module
 *                                   names statuses by row, in the record's code too (Q_MARK_STATUS row)
 *   Q_MARK_DETAIL id Q_MARK_END     detail text number id (decimal), see error_detail.h
 * Everything else in a message (paths, offsets, text appended by callers) stays as it is.
 * -DQ_ERROR_TEXT keeps the text in a wasm build. */
#if defined(__wasm__) && !defined(Q_ERROR_TEXT)
#define Q_TEXT_IN_GLUE 1
#else
#define Q_TEXT_IN_GLUE 0
#endif
#define Q_MARK_STATUS "\x01"
#define Q_MARK_DETAIL "\x03"
#define Q_MARK_END    "\x02"
/* U+0000 in a server's text (a C string cannot hold it): a detail marker without an id, which
 * the glue turns back into U+0000 (in every build: the record is the same). */
#define Q_MARK_NUL    Q_MARK_DETAIL Q_MARK_END

/* Error kinds, named as on the Rust side where one exists (wire-format.md §3). */
typedef enum {
    QK_NONE = 0,
    QK_VALIDATION, QK_SERIALIZATION, QK_DESERIALIZATION, QK_CONFIG, QK_TRANSPORT,
    QK_CONNECTION, QK_TIMEOUT, QK_SECURITY, QK_REMOTE, QK_EXTERNAL, QK_INTERNAL,
    QK_ABORTED, QK_CAPACITY, QK_PROTOCOL,
    QK_COUNT_
} q_kind;

typedef enum { QR_NONE = 0, QR_EXPONENTIAL, QR_LINEAR, QR_IMMEDIATE } q_retry_policy;

/* Where a failure came from (the record's "source"):
 *   local     found by this client: nothing was sent, or the caller aborted;
 *   network   sent or being sent, no answer: network failure, timeout, connection lost;
 *   envelope  the server answered with an error envelope;
 *   frame     the server sent a WebSocket error frame;
 *   http      the server answered with an HTTP status but no envelope (or a 2xx body that
 *             is not an envelope, or a redirect the client does not follow). */
typedef enum { QS_LOCAL = 0, QS_NETWORK, QS_ENVELOPE, QS_FRAME, QS_HTTP, QS_COUNT_ } q_source;

/* X(name, kind, http status, message). The status code returned is -(index). The message
 * text is also in the glue's MESSAGES (tests/js/error-text.test.mjs checks they agree). Failures found
 * locally carry no HTTP status (0): nothing was sent; REST classification sets the real one. */
#define Q_STATUS_TABLE(X) \
    X(OK,                QK_NONE,       0,   "ok") \
    X(JSON_EMPTY,        QK_VALIDATION, 0, "empty input") \
    X(JSON_TRUNCATED,    QK_VALIDATION, 0, "unexpected end of input") \
    X(JSON_SYNTAX,       QK_VALIDATION, 0, "invalid JSON syntax") \
    X(JSON_UTF8,         QK_VALIDATION, 0, "invalid UTF-8") \
    X(JSON_ESCAPE,       QK_VALIDATION, 0, "invalid string escape") \
    X(JSON_SURROGATE,    QK_VALIDATION, 0, "unpaired UTF-16 surrogate escape") \
    X(JSON_CONTROL_CHAR, QK_VALIDATION, 0, "unescaped control character in string") \
    X(JSON_NUMBER,       QK_VALIDATION, 0, "invalid number") \
    X(JSON_DEPTH,        QK_VALIDATION, 0, "nesting deeper than the limit") \
    X(JSON_TRAILING,     QK_VALIDATION, 0, "unexpected data after the JSON value") \
    X(DUPLICATE_KEY,     QK_VALIDATION, 0, "duplicate key") \
    X(TOO_LARGE,         QK_VALIDATION, 0, "larger than the limit") \
    X(MISSING_FIELD,     QK_VALIDATION, 0, "required field missing") \
    X(TYPE_MISMATCH,     QK_VALIDATION, 0, "wrong type") \
    X(INVALID_ENUM,      QK_VALIDATION, 0, "not an allowed value") \
    X(INVALID_UUID,      QK_VALIDATION, 0, "not a UUID") \
    X(INVALID_TIMESTAMP, QK_VALIDATION, 0, "not an RFC 3339 timestamp") \
    X(OUT_OF_RANGE,      QK_VALIDATION, 0, "number out of range") \
    X(INVALID_BASE64,    QK_VALIDATION, 0, "invalid Base64") \
    X(INVALID_VALUE,     QK_VALIDATION, 0, "invalid value") \
    X(UNKNOWN_KEY,       QK_CONFIG,     0,   "unknown key") \
    X(CONFIG_INVALID,    QK_CONFIG,     0,   "invalid configuration") \
    X(INVALID_URL,       QK_CONFIG,     0,   "invalid URL") \
    X(BAD_ARGUMENT,      QK_INTERNAL,   0,   "bad argument") \
    X(BAD_HANDLE,        QK_INTERNAL,   0,   "unknown or closed handle") \
    X(BAD_STATE,         QK_INTERNAL,   0,   "call not valid in this state") \
    X(OUT_OF_MEMORY,     QK_CAPACITY,   0,   "out of memory") \
    X(LIMIT_REACHED,     QK_CAPACITY,   0,   "limit reached") \
    X(HTTP_STATUS,       QK_REMOTE,     0,   "HTTP error without an envelope") \
    X(NOT_AN_ENVELOPE,   QK_DESERIALIZATION, 0, "response is not an envelope") \
    X(REMOTE_ERROR,      QK_REMOTE,     0,   "server returned an error envelope") \
    X(NETWORK,           QK_CONNECTION, 0,   "network failure") \
    X(TIMEOUT,           QK_TIMEOUT,    0,   "timed out") \
    X(ABORTED,           QK_ABORTED,    0,   "aborted by the caller") \
    X(NO_TOKEN,          QK_SECURITY,   0,   "no token set") \
    X(ORIGIN_DENIED,     QK_SECURITY,   0,   "origin not allowed") \
    X(REDIRECT_HIDDEN,   QK_SECURITY,   0,   "redirect not followed: the host hides its target") \
    X(TOO_MANY_REDIRECTS, QK_TRANSPORT, 0,   "too many redirects") \
    X(PROTOCOL,          QK_PROTOCOL,   0,   "malformed frame from the server") \
    X(ERROR_FRAME,       QK_REMOTE,     0,   "server sent an error frame") \
    X(CONNECTION_LOST,   QK_CONNECTION, 0,   "connection lost before the reply") \
    X(OVERFLOW,          QK_CAPACITY,   0,   "queue full") \
    X(CERT_BAD_PEM,      QK_VALIDATION, 0,   "not a valid PEM certificate") \
    X(CERT_BAD_DER,      QK_VALIDATION, 0,   "not a valid DER certificate") \
    X(CERT_TRUNCATED,    QK_VALIDATION, 0,   "certificate data is truncated") \
    X(CERT_WRONG_TYPE,   QK_VALIDATION, 0,   "PEM block is not of the expected type") \
    X(CERT_EXPIRED,      QK_SECURITY,   0,   "certificate has expired") \
    X(CERT_NOT_YET_VALID,QK_SECURITY,   0,   "certificate is not valid yet") \
    X(CERT_WRONG_HOST,   QK_SECURITY,   0,   "certificate does not match the host") \
    X(CERT_UNTRUSTED,    QK_SECURITY,   0,   "certificate chain is not trusted") \
    X(KEY_INVALID,       QK_VALIDATION, 0,   "not a usable private key") \
    X(TLS_NO_CREDENTIALS,QK_SECURITY,   0,   "no certificate or key configured") \
    X(TLS_HANDSHAKE,     QK_SECURITY,   0,   "TLS handshake failed") \
    X(INTERNAL,          QK_INTERNAL,   0,   "internal error")

typedef enum {
#define Q_ENUM_(name, kind, http, msg) Q_IDX_##name,
    Q_STATUS_TABLE(Q_ENUM_)
#undef Q_ENUM_
    Q_IDX_COUNT_
} q_status_index;

/* Status codes: 0 ok, negative failures. */
#define Q_OK 0
#define Q_ERR(name) (-(int)Q_IDX_##name)

#define Q_NO_OFFSET ((int64_t)-1)

typedef struct {
    int32_t status;                              /* negative status, 0 when clear */
    uint8_t kind;                                /* q_kind */
    uint8_t retry_policy;                        /* q_retry_policy */
    uint8_t retryable;
    uint8_t source;                              /* q_source, QS_LOCAL unless a transport sets it */
    int32_t http_status;                         /* 0 when not applicable */
    int64_t offset;                              /* byte offset into the input, or Q_NO_OFFSET */
    char code[Q_MAX_ERROR_CODE_CHARS + 1];       /* stable machine code (server's code for remote errors) */
    char path[Q_MAX_ERROR_PATH_CHARS + 1];       /* key path like meta.security.roles[2], or "" */
    char message[Q_ERROR_MESSAGE_BYTES + 1];     /* user-facing, never contains values */
} q_error;

void q_error_clear(q_error *e);

/* Records a failure and returns `status` so callers can `return q_fail(...)`.
 * path may be NULL; detail (QD(NAME) from error_detail.h, or static text, never user data)
 * may be NULL. */
int q_fail(q_error *e, int status, int64_t offset, const char *path, const char *detail);

/* Like q_fail, but keeps a record that is already set (the innermost cause wins). */
int q_fail_keep(q_error *e, int status, int64_t offset, const char *path, const char *detail);

/* Names where a failure happened when the failing layer did not know (e.g. a JSON error
 * inside the payload): sets path and prefixes the message, unless a path is set. Returns
 * the record's status. */
int q_error_in(q_error *e, const char *where);

/* Nests a record inside a container (e.g. "batch[3]"): the path becomes where.path and
 * the message is prefixed with "where: ". Returns the record's status. */
int q_error_within(q_error *e, const char *where);

/* Stable code string for a status ("JSON_SYNTAX"), "OK" for 0, "INTERNAL" when unknown. */
const char *q_status_code(int status);
q_kind q_status_kind(int status);
const char *q_kind_name(q_kind k);
const char *q_retry_policy_name(q_retry_policy p);
const char *q_source_name(q_source s);

/* Retry policy per kind, wire-format.md §3. */
q_retry_policy q_kind_retry_policy(q_kind k);

/* HTTP status for a wire error code when http_status_code is missing (wire-format.md §3). */
int q_status_from_wire_code(const uint8_t *code, size_t len);

/* Writes the record for q_error_ptr (include/qollective.h, Q_ERROR_RECORD_BYTES). Returns the
 * bytes written, or a negative status if cap is too small. */
int q_error_record(const q_error *e, uint8_t *out, size_t cap);

/* Writes the record as compact JSON (the transports' event records):
 * {"type","code","message","retryable","retryPolicy","status","offset","path","source"}.
 * Returns bytes written or a negative status if cap is too small (never more than Q_ERROR_JSON_BYTES). */
int q_error_to_json(const q_error *e, uint8_t *out, size_t cap);

/* Appends to a NUL-terminated text buffer of capacity cap (truncating safely on UTF-8 boundaries). */
void q_text_append(char *buf, size_t cap, const char *s);
void q_text_append_n(char *buf, size_t cap, const char *s, size_t n);
void q_text_append_foreign(char *buf, size_t cap, const char *s, size_t n);   /* marker bytes -> U+FFFD */
void q_text_append_u64(char *buf, size_t cap, uint64_t v);
/* Appends to the record's message: text, or a detail id QD(NAME) (its text). */
void q_msg_append(q_error *e, const char *s);

#endif
