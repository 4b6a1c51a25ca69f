/* WebSocket frame codec (see ws_frame.h). The top-level object is scanned here; small values
 * (type, code, message) are validated in place, the envelope value is only delimited and left
 * to env_decode, so its bytes are validated once. */
#include "ws_frame.h"
#include "json.h"
#include "num.h"
#include "rfc3339.h"
#include "span.h"

static const char *const FRAME_TYPES[] = { "envelope", "pong", "error", "ping" };
enum { K_TYPE, K_PAYLOAD, K_CODE, K_MESSAGE, K_OTHER };
static const char *const FRAME_KEYS[] = { "type", "payload", "code", "message" };

static int bad(q_error *err, int64_t at, const char *path, const char *why) {
    return q_fail(err, Q_ERR(PROTOCOL), at, path, why);
}

static bool blank(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* The fast parse's guess: the payload starting at p is the frame's last member, so it ends at
 * the frame's closing brace. Not scanned here: env_decode reads it once, and a payload that is
 * not one value up to that brace fails there (the caller then parses the frame strictly). */
static bool payload_to_last_brace(const uint8_t *in, uint32_t len, uint32_t p, ws_frame *f) {
    uint32_t z = len;
    while (z > p && blank(in[z - 1])) z--;
    if (z <= p || in[z - 1] != '}') return false;
    for (z--; z > p && blank(in[z - 1]); z--) {}
    f->type = WF_ENVELOPE; f->payload_off = p; f->payload_len = z - p; f->unverified = 1;
    return true;
}

int ws_frame_parse(const uint8_t *in, uint32_t len, uint32_t max_depth, bool fast, ws_frame *f, q_error *err) {
    q_memset(f, 0, sizeof *f);
    f->code = -1;
    uint32_t span_off[K_OTHER] = { 0 }, span_len[K_OTHER] = { 0 };
    /* the usual frame, byte for byte up to its payload: no key to scan */
    static const char USUAL[] = "{\"type\":\"envelope\",\"payload\":";
    if (fast && len > sizeof USUAL - 1 && !q_memcmp(in, USUAL, sizeof USUAL - 1) &&
        payload_to_last_brace(in, len, json_skip_ws(in, len, sizeof USUAL - 1), f)) return Q_OK;
    uint32_t p = json_skip_ws(in, len, 0);
    if (p >= len || in[p] != '{') return bad(err, p, NULL, QD(EXPECTED_A_JSON_OBJECT));
    p = json_skip_ws(in, len, p + 1);
    if (p < len && in[p] == '}') p++;
    else for (;;) {
        uint32_t kend, vend;
        if (p >= len || in[p] != '"') return bad(err, p, NULL, QD(EXPECTED_A_KEY));
        if (json_scan_value(in, len, p, 1, max_depth, &kend, err)) return bad(err, err->offset, NULL, QD(INVALID_KEY));
        int which = 0;
        while (which < K_OTHER && !json_string_eq(in + p + 1, kend - p - 2, FRAME_KEYS[which], (uint32_t)q_strlen(FRAME_KEYS[which]))) which++;
        p = json_skip_ws(in, len, kend);
        if (p >= len || in[p] != ':') return bad(err, p, NULL, QD(EXPECTED_COLON));
        p = json_skip_ws(in, len, p + 1);
        if (which == K_PAYLOAD && fast && span_len[K_TYPE] == 10 && !q_memcmp(in + span_off[K_TYPE], "\"envelope\"", 10) &&
            payload_to_last_brace(in, len, p, f)) return Q_OK;
        if (which == K_PAYLOAD) vend = span_skip(in, len, p);   /* delimited only: env_decode validates it */
        else if (json_scan_value(in, len, p, 1, max_depth, &vend, err)) return bad(err, err->offset, NULL, QD(INVALID_JSON));
        if (which < K_OTHER) {
            if (span_len[which]) return bad(err, p, FRAME_KEYS[which], QD(DUPLICATE_KEY));
            span_off[which] = p; span_len[which] = vend - p;
        }
        p = json_skip_ws(in, len, vend);
        if (p < len && in[p] == ',') { p = json_skip_ws(in, len, p + 1); continue; }
        if (p < len && in[p] == '}') { p++; break; }
        return bad(err, p, NULL, QD(EXPECTED_COMMA_OR_BRACE));
    }
    if (json_skip_ws(in, len, p) < len) return bad(err, p, NULL, QD(DATA_AFTER_THE_FRAME_OBJECT));

    const uint8_t *t = in + span_off[K_TYPE];
    uint32_t tl = span_len[K_TYPE];
    if (!tl) return bad(err, Q_NO_OFFSET, "type", QD(MISSING));
    if (t[0] != '"') return bad(err, span_off[K_TYPE], "type", QD(NOT_A_STRING));
    while (f->type < Q_ARRAY_LEN(FRAME_TYPES) && !json_string_eq(t + 1, tl - 2, FRAME_TYPES[f->type], (uint32_t)q_strlen(FRAME_TYPES[f->type]))) f->type++;
    if (f->type++ == Q_ARRAY_LEN(FRAME_TYPES)) return bad(err, span_off[K_TYPE], "type", QD(UNKNOWN_FRAME_TYPE));

    if (f->type == WF_ENVELOPE) {
        if (!span_len[K_PAYLOAD]) return bad(err, Q_NO_OFFSET, "payload", QD(ENVELOPE_FRAME_WITHOUT_A_PAYLOAD));
        f->payload_off = span_off[K_PAYLOAD]; f->payload_len = span_len[K_PAYLOAD];
    } else if (f->type == WF_ERROR) {
        const uint8_t *c = in + span_off[K_CODE];
        uint32_t cl = span_len[K_CODE];
        if (cl && !(cl == 4 && c[0] == 'n')) {
            int64_t v;
            if (num_to_i64(c, cl, 0, 0x7FFFFFFF, &v)) return bad(err, span_off[K_CODE], "code", QD(NOT_A_NON_NEGATIVE_INTEGER_OR_NULL));
            f->code = (int32_t)v;
        }
        if (span_len[K_MESSAGE]) {
            if (in[span_off[K_MESSAGE]] != '"') return bad(err, span_off[K_MESSAGE], "message", QD(NOT_A_STRING));
            f->message_off = span_off[K_MESSAGE] + 1; f->message_len = span_len[K_MESSAGE] - 2;
        }
    }
    return Q_OK;
}

int ws_frame_open(q_buf *out) { return q_buf_puts(out, "{\"type\":\"envelope\",\"payload\":"); }
int ws_frame_close(q_buf *out) { return q_buf_putc(out, '}'); }

int ws_frame_ping(q_buf *out, double now_ms) {
    uint8_t ts[RFC3339_MAX_LEN];
    uint32_t n = rfc3339_format(q_time_from_unix_ms(now_ms), RFC3339_Z, ts);
    return jw_fmt(out, "{\"type\":\"ping\",\"timestamp\":\"%r\"}", ts, n);
}
