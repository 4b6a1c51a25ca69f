/* Error translation: the status table, message composition and the JSON record the
 * glue reads. Messages name what was wrong and where, never the offending value. */
#include "error.h"

typedef struct { const char *code; uint8_t kind; uint16_t http; const char *msg; } status_info;

static const status_info STATUS[] = {
#define Q_ROW_(name, kind, http, msg) { #name, kind, http, msg },
    Q_STATUS_TABLE(Q_ROW_)
#undef Q_ROW_
};

static const char *const KIND_NAMES[QK_COUNT_] = {
    "none", "validation", "serialization", "deserialization", "config", "transport",
    "connection", "timeout", "security", "remote", "external", "internal", "aborted",
    "capacity",
};

static const char *const RETRY_NAMES[] = { "none", "exponential", "linear", "immediate" };

static const status_info *info_of(int status) {
    /* range-check before negating: -INT32_MIN overflows */
    int idx = status <= 0 && status > -(int)Q_IDX_COUNT_ ? -status : (int)Q_IDX_INTERNAL;
    return &STATUS[idx];
}

const char *q_status_code(int status) { return info_of(status)->code; }
q_kind q_status_kind(int status) { return (q_kind)info_of(status)->kind; }
const char *q_kind_name(q_kind k) { return (unsigned)k < QK_COUNT_ ? KIND_NAMES[k] : "internal"; }
const char *q_retry_policy_name(q_retry_policy p) { return (unsigned)p <= QR_IMMEDIATE ? RETRY_NAMES[p] : "none"; }

q_retry_policy q_kind_retry_policy(q_kind k) {
    switch (k) {
    case QK_TRANSPORT: case QK_CONNECTION: case QK_TIMEOUT: return QR_EXPONENTIAL;
    case QK_EXTERNAL: case QK_REMOTE: return QR_LINEAR;
    case QK_DESERIALIZATION: return QR_IMMEDIATE;
    default: return QR_NONE;   /* validation, security, config, internal, ... never temporary */
    }
}

void q_error_clear(q_error *e) {
    e->status = 0; e->kind = QK_NONE; e->retry_policy = QR_NONE; e->retryable = 0;
    e->http_status = 0; e->offset = Q_NO_OFFSET;
    e->code[0] = e->path[0] = e->message[0] = 0;
}

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t utf8_safe_prefix(const char *s, size_t n) {
    size_t i = n;
    while (i > 0 && ((uint8_t)s[i - 1] & 0xC0) == 0x80) i--;         /* continuation bytes */
    if (i > 0 && (uint8_t)s[i - 1] >= 0xC0) {                        /* a lead byte: complete? */
        uint8_t lead = (uint8_t)s[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (i - 1) >= need) return n;
        return i - 1;
    }
    return n;
}

void q_text_append_n(char *buf, size_t cap, const char *s, size_t n) {
    size_t len = q_strlen(buf);
    if (len + 1 >= cap) return;
    size_t room = cap - 1 - len;
    if (n > room) n = utf8_safe_prefix(s, room);
    q_memcpy(buf + len, s, n);
    buf[len + n] = 0;
}

void q_text_append(char *buf, size_t cap, const char *s) { q_text_append_n(buf, cap, s, q_strlen(s)); }

void q_text_append_u64(char *buf, size_t cap, uint64_t v) {
    char tmp[21]; int i = 20; tmp[20] = 0;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    q_text_append(buf, cap, tmp + i);
}

int q_fail(q_error *e, int status, int64_t offset, const char *path, const char *detail) {
    const status_info *si = info_of(status);
    q_error_clear(e);
    e->status = status;
    e->kind = si->kind;
    e->http_status = si->http;
    e->retry_policy = q_kind_retry_policy((q_kind)si->kind);
    e->retryable = e->retry_policy != QR_NONE;
    e->offset = offset;
    q_text_append(e->code, sizeof e->code, si->code);
    if (path) q_text_append(e->path, sizeof e->path, path);
    /* "<path>: <what> (<detail>) at byte N" */
    if (path && *path) { q_text_append(e->message, sizeof e->message, path); q_text_append(e->message, sizeof e->message, ": "); }
    q_text_append(e->message, sizeof e->message, si->msg);
    if (detail && *detail) {
        q_text_append(e->message, sizeof e->message, " (");
        q_text_append(e->message, sizeof e->message, detail);
        q_text_append(e->message, sizeof e->message, ")");
    }
    if (offset >= 0) {
        q_text_append(e->message, sizeof e->message, " at byte ");
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
    q_text_append(e->message, sizeof e->message, where);
    q_text_append(e->message, sizeof e->message, ": ");
    q_text_append(e->message, sizeof e->message, old);
    return e->status;
}

int q_error_in(q_error *e, const char *where) {
    if (e->path[0] || !where || !*where) return e->status;
    return q_error_within(e, where);
}

/* First match wins, on the upper-cased code (wire-format.md §3). */
int q_status_from_wire_code(const uint8_t *code, size_t len) {
    static const struct { const char *needle; uint16_t status; } RULES[] = {
        { "AUTH", 401 }, { "UNAUTHORIZED", 401 }, { "FORBIDDEN", 403 }, { "PERMISSION", 403 },
        { "VALIDATION", 400 }, { "INVALID", 400 }, { "NOT_FOUND", 404 }, { "MISSING", 404 },
        { "CONFLICT", 409 }, { "EXISTS", 409 }, { "TOO_LARGE", 413 }, { "SIZE", 413 },
        { "RATE_LIMIT", 429 }, { "THROTTLE", 429 }, { "TIMEOUT", 504 }, { "DEADLINE", 504 },
        { "UNAVAILABLE", 503 }, { "SERVICE", 503 }, { "NOT_IMPLEMENTED", 501 },
    };
    for (size_t r = 0; r < Q_ARRAY_LEN(RULES); r++) {
        const char *nd = RULES[r].needle;
        size_t nl = q_strlen(nd);
        for (size_t i = 0; i + nl <= len; i++) {
            size_t j = 0;
            for (; j < nl; j++) {
                uint8_t c = code[i + j];
                if (c >= 'a' && c <= 'z') c = (uint8_t)(c - 32);
                if (c != (uint8_t)nd[j]) break;
            }
            if (j == nl) return RULES[r].status;
        }
    }
    return 500;
}

/* Minimal JSON string writer for the record (fields are our own text or server text).
 * At most `budget` bytes of escaped text are written, stopping before an escape or a
 * UTF-8 sequence that would not fit whole. */
static size_t put_json_string(uint8_t *out, size_t pos, size_t cap, const char *s, size_t budget) {
    static const char HEX[] = "0123456789abcdef";
    if (pos < cap) out[pos] = '"';
    pos++;
    for (size_t used = 0; *s; s++) {
        uint8_t c = (uint8_t)*s;
        size_t w = (c == '"' || c == '\\') ? 2 : c < 0x20 ? 6 : 1;             /* bytes written for c */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : w;     /* a lead byte: its whole sequence */
        if (used + need > budget) break;
        used += w;
        if (c == '"' || c == '\\') { if (pos + 1 < cap) { out[pos] = '\\'; out[pos + 1] = c; } pos += 2; }
        else if (c < 0x20) {
            if (pos + 5 < cap) { out[pos] = '\\'; out[pos+1] = 'u'; out[pos+2] = '0'; out[pos+3] = '0'; out[pos+4] = (uint8_t)HEX[c >> 4]; out[pos+5] = (uint8_t)HEX[c & 15]; }
            pos += 6;
        } else { if (pos < cap) out[pos] = c; pos++; }
    }
    if (pos < cap) out[pos] = '"';
    return pos + 1;
}

static size_t put_raw(uint8_t *out, size_t pos, size_t cap, const char *s) {
    for (; *s; s++, pos++) if (pos < cap) out[pos] = (uint8_t)*s;
    return pos;
}

static size_t put_i64(uint8_t *out, size_t pos, size_t cap, int64_t v) {
    char tmp[24] = {0};
    if (v < 0) { tmp[0] = '-'; q_text_append_u64(tmp, sizeof tmp, (uint64_t)(-(v + 1)) + 1); }
    else q_text_append_u64(tmp, sizeof tmp, (uint64_t)v);
    return put_raw(out, pos, cap, tmp);
}

static size_t write_record(const q_error *e, uint8_t *out, size_t cap, size_t message_budget) {
    size_t p = 0;
    p = put_raw(out, p, cap, "{\"type\":");
    p = put_json_string(out, p, cap, q_kind_name((q_kind)e->kind), SIZE_MAX);
    p = put_raw(out, p, cap, ",\"code\":");
    p = put_json_string(out, p, cap, e->code, SIZE_MAX);
    p = put_raw(out, p, cap, ",\"message\":");
    p = put_json_string(out, p, cap, e->message, message_budget);
    p = put_raw(out, p, cap, e->retryable ? ",\"retryable\":true" : ",\"retryable\":false");
    p = put_raw(out, p, cap, ",\"retryPolicy\":");
    p = put_json_string(out, p, cap, q_retry_policy_name((q_retry_policy)e->retry_policy), SIZE_MAX);
    p = put_raw(out, p, cap, ",\"status\":");
    p = e->http_status ? put_i64(out, p, cap, e->http_status) : put_raw(out, p, cap, "null");
    p = put_raw(out, p, cap, ",\"offset\":");
    p = e->offset >= 0 ? put_i64(out, p, cap, e->offset) : put_raw(out, p, cap, "null");
    p = put_raw(out, p, cap, ",\"path\":");
    p = put_json_string(out, p, cap, e->path, SIZE_MAX);
    p = put_raw(out, p, cap, "}");
    return p;
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
