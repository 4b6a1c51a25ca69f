/* Error translation: the status table, message composition, the record the glue reads
 * (q_error_record) and the JSON record of the transports' events. Messages name what was
 * wrong and where, never the offending value. */
#include "error.h"
#include "qollective.h"
#include "num.h"
#include "json.h"

/* The status table as columns: no per-row padding. The text columns are one string each,
 * every entry followed by "\0" (literals are joined after escapes are read, so "\0" "1" stays
 * a NUL and a '1'): no pointer per row. Looked up by walking, only when a call fails. */
/* Q_PROBE_(X_name): 1 when X_name is defined as "~, 1" (a list below), else 0 (the second of
 * its expansion's items) */
#define Q_SECOND_(a, b, ...) b
#define Q_PROBE_(...) Q_SECOND_(__VA_ARGS__, 0, 0)
#define Q_CAT_(a, b) Q_CAT2_(a, b)
#define Q_CAT2_(a, b) a##b
#ifdef Q_CODEC_ONLY
/* The statuses the codec module's sources can return (its retry check below reads the list; it
 * carries no codes: a record names its status by row, see put_row).
 * tests/js/error-text.test.mjs checks that every Q_ERR(NAME) of the codec sources is listed. */
#define Q_CODEC_STATUS_OK                ~, 1
#define Q_CODEC_STATUS_JSON_EMPTY        ~, 1
#define Q_CODEC_STATUS_JSON_TRUNCATED    ~, 1
#define Q_CODEC_STATUS_JSON_SYNTAX       ~, 1
#define Q_CODEC_STATUS_JSON_UTF8         ~, 1
#define Q_CODEC_STATUS_JSON_ESCAPE       ~, 1
#define Q_CODEC_STATUS_JSON_SURROGATE    ~, 1
#define Q_CODEC_STATUS_JSON_CONTROL_CHAR ~, 1
#define Q_CODEC_STATUS_JSON_NUMBER       ~, 1
#define Q_CODEC_STATUS_JSON_DEPTH        ~, 1
#define Q_CODEC_STATUS_JSON_TRAILING     ~, 1
#define Q_CODEC_STATUS_DUPLICATE_KEY     ~, 1
#define Q_CODEC_STATUS_TOO_LARGE         ~, 1
#define Q_CODEC_STATUS_MISSING_FIELD     ~, 1
#define Q_CODEC_STATUS_TYPE_MISMATCH     ~, 1
#define Q_CODEC_STATUS_INVALID_ENUM      ~, 1
#define Q_CODEC_STATUS_INVALID_UUID      ~, 1
#define Q_CODEC_STATUS_INVALID_TIMESTAMP ~, 1
#define Q_CODEC_STATUS_OUT_OF_RANGE      ~, 1
#define Q_CODEC_STATUS_UNKNOWN_KEY       ~, 1
#define Q_CODEC_STATUS_BAD_ARGUMENT      ~, 1
#define Q_CODEC_STATUS_BAD_HANDLE        ~, 1
#define Q_CODEC_STATUS_BAD_STATE         ~, 1
#define Q_CODEC_STATUS_OUT_OF_MEMORY     ~, 1
#define Q_CODEC_STATUS_LIMIT_REACHED     ~, 1
#define Q_CODEC_STATUS_INTERNAL          ~, 1
#elif defined(Q_NO_WEBSOCKET) && !defined(Q_TLS)
/* The REST module leaves out the codes of the statuses only the WebSocket and TLS-module
 * sources return (empty rows, the same numbering); tests/js/error-text.test.mjs checks that no
 * REST source returns one. */
#define Q_REST_DROPS_PROTOCOL           ~, 1
#define Q_REST_DROPS_ERROR_FRAME        ~, 1
#define Q_REST_DROPS_CONNECTION_LOST    ~, 1
#define Q_REST_DROPS_OVERFLOW           ~, 1
#define Q_REST_DROPS_CERT_BAD_PEM       ~, 1
#define Q_REST_DROPS_CERT_BAD_DER       ~, 1
#define Q_REST_DROPS_CERT_TRUNCATED     ~, 1
#define Q_REST_DROPS_CERT_WRONG_TYPE    ~, 1
#define Q_REST_DROPS_CERT_EXPIRED       ~, 1
#define Q_REST_DROPS_CERT_NOT_YET_VALID ~, 1
#define Q_REST_DROPS_CERT_WRONG_HOST    ~, 1
#define Q_REST_DROPS_CERT_UNTRUSTED     ~, 1
#define Q_REST_DROPS_KEY_INVALID        ~, 1
#define Q_REST_DROPS_TLS_NO_CREDENTIALS ~, 1
#define Q_CODE_KEEP_1(name) "\0"
#define Q_CODE_KEEP_0(name) #name "\0"
#define Q_CODE_(name, kind, http, msg) Q_CAT_(Q_CODE_KEEP_, Q_PROBE_(Q_REST_DROPS_##name))(name)
#else
#define Q_CODE_(name, kind, http, msg) #name "\0"
#endif
#define Q_KIND_(name, kind, http, msg) kind,
#define Q_HTTP_(name, kind, http, msg) + (http)
#ifndef Q_CODEC_ONLY
static const char STATUS_CODE[] = Q_STATUS_TABLE(Q_CODE_);
#endif
#if !Q_TEXT_IN_GLUE
#define Q_MSG_(name, kind, http, msg) msg "\0"
#define Q_DETAIL_TEXT_(name, text) text "\0"
static const char STATUS_MSG[] = Q_STATUS_TABLE(Q_MSG_);
static const char DETAIL_TEXT[] = Q_DETAIL_TABLE(Q_DETAIL_TEXT_);   /* from id 1 */
#endif
static const uint8_t STATUS_KIND[] = { Q_STATUS_TABLE(Q_KIND_) };
/* q_fail leaves http_status 0 (q_error_clear): true while no row names an HTTP status */
_Static_assert(0 Q_STATUS_TABLE(Q_HTTP_) == 0, "a status row with an HTTP status needs q_fail to set it");

static const char KIND_NAMES[] =   /* in q_kind order */
    "none\0validation\0serialization\0deserialization\0config\0transport\0"
    "connection\0timeout\0security\0remote\0external\0internal\0aborted\0capacity\0protocol\0";

static const char RETRY_NAMES[] = "none\0exponential\0linear\0immediate\0";   /* q_retry_policy order */

/* The n-th entry of a "\0"-separated list (n is in range: callers check). */
static const char *nth(const char *list, unsigned n) {
    while (n--) list += q_strlen(list) + 1;
    return list;
}
static const char SOURCE_NAMES[] = "local\0network\0envelope\0frame\0http\0";   /* q_source order */

/* Row of a status; unknown statuses read as INTERNAL. */
static int row_of(int status) {
    /* range-check before negating: -INT32_MIN overflows */
    return status <= 0 && status > -(int)Q_IDX_COUNT_ ? -status : (int)Q_IDX_INTERNAL;
}

#ifndef Q_CODEC_ONLY
const char *q_status_code(int status) { return nth(STATUS_CODE, (unsigned)row_of(status)); }
#endif
q_kind q_status_kind(int status) { return (q_kind)STATUS_KIND[row_of(status)]; }
const char *q_kind_name(q_kind k) { return nth(KIND_NAMES, (unsigned)k < QK_COUNT_ ? (unsigned)k : QK_INTERNAL); }
const char *q_retry_policy_name(q_retry_policy p) { return nth(RETRY_NAMES, (unsigned)p <= QR_IMMEDIATE ? (unsigned)p : QR_NONE); }
const char *q_source_name(q_source s) { return nth(SOURCE_NAMES, (unsigned)s < QS_COUNT_ ? (unsigned)s : QS_LOCAL); }

/* validation, security, config, internal, ... are never temporary (a constant expression: the
 * codec module's check below uses it) */
#define Q_KIND_RETRY_(k) ((k) == QK_TRANSPORT || (k) == QK_CONNECTION || (k) == QK_TIMEOUT ? QR_EXPONENTIAL : \
                          (k) == QK_EXTERNAL || (k) == QK_REMOTE ? QR_LINEAR : (k) == QK_DESERIALIZATION ? QR_IMMEDIATE : QR_NONE)
q_retry_policy q_kind_retry_policy(q_kind k) { return Q_KIND_RETRY_(k); }
#ifdef Q_CODEC_ONLY
/* q_fail leaves every codec failure's policy QR_NONE (q_error_clear): true while no status the
 * codec module returns has a kind that retries */
#define Q_CODEC_RETRY_(name, kind, http, msg) + Q_PROBE_(Q_CODEC_STATUS_##name) * Q_KIND_RETRY_(kind)
_Static_assert(0 Q_STATUS_TABLE(Q_CODEC_RETRY_) == 0, "a codec status that retries needs q_fail to set its policy");
#endif

/* Every byte, not just the terminators: no tail of an earlier, longer record survives in
 * the buffers (valgrind saw tests read those bytes as uninitialised). */
void q_error_clear(q_error *e) {
    q_memset(e, 0, sizeof *e);   /* status 0, QK_NONE, QR_NONE, QS_LOCAL, empty texts */
    e->offset = Q_NO_OFFSET;
}

void q_text_append_n(char *buf, size_t cap, const char *s, size_t n) {
    size_t len = q_strlen(buf);
    if (len + 1 >= cap) return;
    size_t room = cap - 1 - len;
    if (n > room) n = json_utf8_prefix((const uint8_t *)s, (uint32_t)room);
    q_memcpy(buf + len, s, n);
    buf[len + n] = 0;
}

void q_text_append(char *buf, size_t cap, const char *s) { q_text_append_n(buf, cap, s, q_strlen(s)); }

/* Text from the other side (a server's code or message): the bytes the glue reads as message
 * markers (Q_MARK_*) become U+FFFD, so a server can never make its text read as ours; U+0000
 * becomes Q_MARK_NUL, so the text is not cut there. */
void q_text_append_foreign(char *buf, size_t cap, const char *s, size_t n) {
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] > 3) continue;
        q_text_append_n(buf, cap, s + run, i - run);
        q_text_append(buf, cap, s[i] ? "\xEF\xBF\xBD" : Q_MARK_NUL);
        run = i + 1;
    }
    q_text_append_n(buf, cap, s + run, n - run);
}

/* Text as given; a QD id as its text or (wasm) as a marker the glue replaces. */
void q_msg_append(q_error *e, const char *s) {
    if (!Q_DETAIL_IS_ID(s)) { q_text_append(e->message, sizeof e->message, s); return; }
    unsigned id = (unsigned)(__UINTPTR_TYPE__)s;
    if (!id) return;
#if Q_TEXT_IN_GLUE
    q_msg_append(e, Q_MARK_DETAIL);
    q_text_append_u64(e->message, sizeof e->message, id);
    q_msg_append(e, Q_MARK_END);
#else
    q_msg_append(e, nth(DETAIL_TEXT, id - 1));
#endif
}

void q_text_append_u64(char *buf, size_t cap, uint64_t v) {
    uint8_t tmp[20];
    q_text_append_n(buf, cap, (const char *)tmp, num_format_u64(v, tmp));
}

#ifdef Q_CODEC_ONLY
/* The codec module carries no status names: its record's code, and the status marker in its
 * message, hold Q_MARK_STATUS and the row's digits (the glue has the names in row order:
 * CODEC_MESSAGES in js-glue/qollective.js). */
static void put_row(char *buf, size_t cap, unsigned row) {
    q_text_append(buf, cap, Q_MARK_STATUS);
    q_text_append_u64(buf, cap, row);
}
#endif

/* The status row's message, as text or (wasm) as a marker the glue replaces. */
static void put_status_text(q_error *e, unsigned row) {
#if Q_TEXT_IN_GLUE
#ifdef Q_CODEC_ONLY
    put_row(e->message, sizeof e->message, row);
#else
    q_msg_append(e, Q_MARK_STATUS);
    q_msg_append(e, nth(STATUS_CODE, row));
#endif
    q_msg_append(e, Q_MARK_END);
#else
    q_msg_append(e, nth(STATUS_MSG, row));
#endif
}

int q_fail(q_error *e, int status, int64_t offset, const char *path, const char *detail) {
    int row = row_of(status);
    q_error_clear(e);
    e->status = status;
    e->kind = STATUS_KIND[row];
#ifndef Q_CODEC_ONLY   /* every codec failure's is QR_NONE (checked above), as q_error_clear left it */
    e->retry_policy = q_kind_retry_policy((q_kind)e->kind);
    e->retryable = e->retry_policy != QR_NONE;
#endif
    e->offset = offset;
#ifdef Q_CODEC_ONLY
    put_row(e->code, sizeof e->code, (unsigned)row);
#else
    q_text_append(e->code, sizeof e->code, nth(STATUS_CODE, (unsigned)row));
#endif
    if (path) q_text_append(e->path, sizeof e->path, path);
    /* "<path>: <what> (<detail>) at byte N" */
    if (path && *path) { q_msg_append(e, path); q_msg_append(e, ": "); }
    put_status_text(e, (unsigned)row);
    if (detail && (Q_DETAIL_IS_ID(detail) || *detail)) {
        q_msg_append(e, " (");
        q_msg_append(e, detail);
        q_msg_append(e, ")");
    }
    if (offset >= 0) {
        q_msg_append(e, " at byte ");
        q_text_append_u64(e->message, sizeof e->message, (uint64_t)offset);
    }
    return status;
}

int q_fail_keep(q_error *e, int status, int64_t offset, const char *path, const char *detail) {
    if (e->status < 0) return e->status;
    return q_fail(e, status, offset, path, detail);
}

int q_error_within(q_error *e, const char *where) {
    char old[sizeof e->message > sizeof e->path ? sizeof e->message : sizeof e->path];
    q_memcpy(old, e->path, sizeof e->path);
    e->path[0] = 0;
    q_text_append(e->path, sizeof e->path, where);
    if (old[0]) { q_text_append(e->path, sizeof e->path, "."); q_text_append(e->path, sizeof e->path, old); }
    q_memcpy(old, e->message, sizeof e->message);
    e->message[0] = 0;
    q_msg_append(e, where);
    q_msg_append(e, ": ");
    q_msg_append(e, old);
    return e->status;
}

int q_error_in(q_error *e, const char *where) {
    if (e->path[0] || !where || !*where) return e->status;
    return q_error_within(e, where);
}

/* First match wins, on the upper-cased code (wire-format.md §3). The needles are one string,
 * each followed by "\0" (no pointer per needle). */
int q_status_from_wire_code(const uint8_t *code, size_t len) {
    static const char NEEDLES[] =
        "AUTH\0UNAUTHORIZED\0FORBIDDEN\0PERMISSION\0VALIDATION\0INVALID\0NOT_FOUND\0MISSING\0"
        "CONFLICT\0EXISTS\0TOO_LARGE\0SIZE\0RATE_LIMIT\0THROTTLE\0TIMEOUT\0DEADLINE\0"
        "UNAVAILABLE\0SERVICE\0NOT_IMPLEMENTED\0";
    /* the HTTP status of each pair of needles, less 400: 401 AUTH/UNAUTHORIZED, 403, 400, ... */
    static const uint8_t STATUS_OF_PAIR[] = { 1, 3, 0, 4, 9, 13, 29, 104, 103, 101 };
    size_t r = 0;
    for (const char *nd = NEEDLES; *nd; nd += q_strlen(nd) + 1, r++) {
        size_t nl = q_strlen(nd);
        for (size_t i = 0; i + nl <= len; i++) {
            size_t j = 0;
            for (; j < nl; j++) {
                uint8_t c = code[i + j];
                if (c >= 'a' && c <= 'z') c = (uint8_t)(c - 32);
                if (c != (uint8_t)nd[j]) break;
            }
            if (j == nl) return 400 + STATUS_OF_PAIR[r / 2];
        }
    }
    return 500;
}

/* Writes a text field of the record as a JSON string (json_escape), at most `budget` bytes
 * of escaped text, whole characters and escapes only. Past cap it only counts. */
static size_t put_json_string(uint8_t *out, size_t pos, size_t cap, const char *s, size_t budget) {
    uint32_t n = (uint32_t)q_strlen(s), room = budget > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)budget, used;
    uint32_t w = json_escape((const uint8_t *)s, n, NULL, room, JE_STRING, &used);
    if (pos + w + 2 <= cap) {
        out[pos] = '"';
        json_escape((const uint8_t *)s, used, out + pos + 1, w, JE_STRING, NULL);
        out[pos + 1 + w] = '"';
    }
    return pos + w + 2;
}

static size_t put_raw(uint8_t *out, size_t pos, size_t cap, const char *s) {
    for (; *s; s++, pos++) if (pos < cap) out[pos] = (uint8_t)*s;
    return pos;
}

/* The record's fields as text, in the order of both records (numbers decimal, "" when none). */
enum { RF_TYPE, RF_CODE, RF_MESSAGE, RF_POLICY, RF_STATUS, RF_OFFSET, RF_PATH, RF_SOURCE, RF_COUNT_ };
static void record_fields(const q_error *e, const char *field[RF_COUNT_], char num[2][24]) {
    num[0][0] = num[1][0] = 0;
#ifndef Q_CODEC_ONLY   /* only the clients' classification sets one */
    if (e->http_status) num[0][num_format_i64(e->http_status, (uint8_t *)num[0])] = 0;
#endif
    if (e->offset >= 0) num[1][num_format_i64(e->offset, (uint8_t *)num[1])] = 0;
    field[RF_TYPE] = q_kind_name((q_kind)e->kind); field[RF_CODE] = e->code; field[RF_MESSAGE] = e->message;
#ifdef Q_CODEC_ONLY   /* no codec failure retries (checked above) */
    field[RF_POLICY] = "none";
#else
    field[RF_POLICY] = q_retry_policy_name((q_retry_policy)e->retry_policy);
#endif
    field[RF_STATUS] = num[0]; field[RF_OFFSET] = num[1];
    field[RF_PATH] = e->path;
#ifdef Q_CODEC_ONLY   /* only the transports set a source: every codec failure is local */
    field[RF_SOURCE] = "local";
#else
    field[RF_SOURCE] = q_source_name((q_source)e->source);
#endif
}

int q_error_record(const q_error *e, uint8_t *out, size_t cap) {
    const char *field[RF_COUNT_];
    char num[2][24];
    record_fields(e, field, num);
    size_t p = 0;
    for (int k = 0; k < RF_COUNT_; k++) {
        size_t n = q_strlen(field[k]) + (k + 1 < RF_COUNT_);   /* with its NUL, but the last */
        if (n > cap - p) return Q_ERR(BAD_ARGUMENT);
        q_memcpy(out + p, field[k], n);
        p += n;
    }
    return (int)p;
}

static size_t write_record(const q_error *e, uint8_t *out, size_t cap, size_t message_budget) {
    static const char KEYS[] = "{\"type\":\0,\"code\":\0,\"message\":\0,\"retryPolicy\":\0,\"status\":\0,\"offset\":\0"
                               ",\"path\":\0,\"source\":";   /* in RF_ order */
    const char *field[RF_COUNT_], *key = KEYS;
    char num[2][24];
    record_fields(e, field, num);
    size_t p = 0;
    for (int k = 0; k < RF_COUNT_; k++, key += q_strlen(key) + 1) {
        if (k == RF_POLICY) p = put_raw(out, p, cap, e->retryable ? ",\"retryable\":true" : ",\"retryable\":false");
        p = put_raw(out, p, cap, key);
        if (k == RF_STATUS || k == RF_OFFSET) p = put_raw(out, p, cap, *field[k] ? field[k] : "null");
        else p = put_json_string(out, p, cap, field[k], k == RF_MESSAGE ? message_budget : SIZE_MAX);
    }
    return put_raw(out, p, cap, "}");
}

int q_error_to_json(const q_error *e, uint8_t *out, size_t cap) {
    size_t p = write_record(e, out, cap, SIZE_MAX);
    if (p > Q_ERROR_JSON_BYTES) {
        /* Escaped control characters can take six bytes each: shorten the message (whole
         * characters and escapes only) so the record keeps its documented bound. */
        size_t msg = put_json_string(out, 0, 0, e->message, SIZE_MAX) - 2, over = p - Q_ERROR_JSON_BYTES;
        p = write_record(e, out, cap, msg > over ? msg - over : 0);
    }
    if (p > cap) return Q_ERR(BAD_ARGUMENT);
    return (int)p;
}
