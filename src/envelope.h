/* Envelope codec (wire-format.md §1-3): decode bytes to a validated meta, a payload slice
 * (no copy) and the error object; encode meta + raw payload (+ error) to wire-exact JSON. */
#ifndef Q_ENVELOPE_H
#define Q_ENVELOPE_H
#include "base.h"
#include "error.h"
#include "arena.h"
#include "schema.h"
#include "rfc3339.h"

/* Limits a decode or encode obeys (from a client's config, or the defaults). */
typedef struct {
    uint32_t max_envelope_bytes;
    uint32_t max_meta_bytes;
    uint32_t max_depth;
    uint32_t max_error_bytes;    /* the error object, like the meta: its own cap */
} env_limits;

/* The defaults (include/qollective/constants.h): a constant, so a call without a client (every
 * call of the codec module) reads them where the compiler sees them. */
extern const env_limits ENV_LIMITS_DEFAULT;
void env_limits_default(env_limits *l);

/* Capture slots: meta fields the transports need (token index in the meta walk). */
enum {
    MS_TIMESTAMP, MS_REQUEST_ID, MS_VERSION, MS_DURATION, MS_TENANT, MS_ON_BEHALF_OF,
    MS_SECURITY, MS_USER_ID, MS_SESSION_ID, MS_TRACING, MS_TRACE_ID, MS_SPAN_ID,
    MS_COUNT_
};
/* Error object slots. */
enum { ES_CODE, ES_MESSAGE, ES_DETAILS, ES_TRACE, ES_HTTP_STATUS, ES_COUNT_ };
_Static_assert(MS_COUNT_ <= SCHEMA_MAX_SLOTS && ES_COUNT_ <= SCHEMA_MAX_SLOTS, "capture slots fit the walker");

/* Result of a decode: byte ranges into the input, nothing copied. The first 14 words are the
 * exports' decode record in its order (QD_*, include/qollective.h): decode_record copies them. */
typedef struct {
    uint32_t meta_off, meta_len;         /* the meta object */
    uint32_t payload_off, payload_len;   /* the payload value (may be "null") */
    uint32_t error_off, error_len;       /* the error object, len 0 when absent or null */
    int32_t error_status;                /* http_status_code if 400-599, else derived from the code (§3) */
    uint32_t error_code_off, error_code_len;       /* raw string body of error.code */
    uint32_t error_message_off, error_message_len; /* raw string body of error.message */
    uint32_t request_id_off, request_id_len;       /* raw string body of meta.request_id, len 0 if absent */
    uint32_t meta_needs_tape;                   /* 1: an i64/u64 field beyond +-(2^53 - 1) or an enum in map form: the meta needs the tape */
    bool error_status_given;             /* http_status_code was present and 400-599 (the servers ignore others) */
    uint32_t error_details_off, error_details_len; /* error.details as JSON text, len 0 when absent or null */
} env_decoded;

/* Validates a whole envelope (strict where the Rust server is strict, lenient where it
 * echoes less than it demands). Q_OK or a negative status with err naming path/offset. */
int env_decode(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *out, q_error *err);
/* The meta's tape (include/qollective.h QT_*): room for cap words, len of them written. */
typedef struct { int32_t *words; uint32_t cap, len; } env_tape;
/* env_decode that also writes the meta's tape when tape->words is set (len 0 when it did not fit
 * or the meta was not walked in one pass). */
int env_decode_taped(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *out, q_error *err, env_tape *tape);
/* Walks the meta object in meta[0..len) with the default limits only for its tape (q_meta_tape):
 * Q_OK with tape->len words written (0 when they did not fit), or the walk's failure. */
int env_meta_tape(const uint8_t *meta, uint32_t len, q_error *err, env_tape *tape);
/* The same decode done in two passes (validate the JSON, then walk the schemas): env_decode
 * reads meta and error once and falls back to this to report a failure; the fuzzer checks
 * that both agree. */
int env_decode_two_pass(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *out, q_error *err);

/* What a new request gets when auto-fill is on (wire-format.md §2, "A new request's meta"). */
typedef struct {
    bool fill;                 /* add timestamp/request_id/version when absent */
    double now_ms;             /* host clock, ms since the epoch */
    const uint8_t *random;     /* 16 bytes from the host's CSPRNG */
    bool uuid_v4;              /* v4 instead of v7 */
    const uint8_t *tenant;     /* default tenant to fill when absent (NULL: none) */
    uint32_t tenant_len;
} env_autofill;

/* Encodes {"meta":…,"payload":…[,"error":…]} into out, after what it already holds. meta: a JSON object (or empty
 * for {}); payload: any JSON value (empty means null); error: an error object or empty.
 * Output is compact and canonical: meta fields in the Rust struct's order, UUIDs
 * lowercase, timestamps UTC with Z, server-required arrays always written. */
int env_encode(const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
               const uint8_t *error, uint32_t error_len, const env_limits *lim,
               const env_autofill *fill, q_buf *out, q_error *err);

/* Validates a meta object alone and captures its transport fields; with out set, writes the
 * canonical meta. base is the meta's offset in the caller's input (for error offsets). */
int env_meta_walk(const uint8_t *meta, uint32_t len, uint32_t base, const env_limits *lim,
                  const env_autofill *fill, q_buf *out, schema_walk *w, q_error *err);

/* The envelope's schema tables: meta, error and their sub-objects. */
extern const schema_set ENV_SCHEMA_SET;
#endif
