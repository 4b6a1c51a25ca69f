/* libFuzzer harness: the canonical form is a fixed point. When an input decodes, encoding
 * its meta, payload and error slices must succeed, the result must decode, and encoding that
 * again must give the same bytes. Encoding under injected allocation failures must fail
 * cleanly (OUT_OF_MEMORY) or give the same bytes. The other direction too: an input that is
 * not an envelope is read as encode parts (meta NUL payload NUL error, or just a payload), and
 * whatever encode accepts must decode and be a fixed point. Either way the encoded meta is what
 * the writer alone writes (a meta already canonical takes a shortcut: validated and copied).
 * fuzz-max-len: 65536
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include "envelope.h"

typedef struct { const uint8_t *meta, *payload, *error; uint32_t meta_len, payload_len, error_len; } parts;

static parts parts_of(const uint8_t *in, const env_decoded *d) {
    parts p = { in + d->meta_off, in + d->payload_off, in + d->error_off, d->meta_len, d->payload_len, d->error_len };
    return p;
}

static int encode(const parts *p, const env_limits *lim, q_buf *out, q_error *err) {
    q_error_clear(err);
    *out = (q_buf){0};
    return env_encode(p->meta, p->meta_len, p->payload, p->payload_len, p->error, p->error_len, lim, NULL, out, err);
}

/* e1 is our encoding of p1: it decodes, keeps the payload (compacted) and the error, and
 * re-encodes to itself. Returns false when an input hit a known finding (tolerated). */
static bool check_fixed_point(const parts *p1, const env_decoded *d1, const uint8_t *e1, uint32_t n1, const env_limits *lim) {
    q_error err;
    uint8_t *compact = malloc(p1->payload_len > 4 ? p1->payload_len : 4);
    uint32_t end = 0, clen = 4;
    uint32_t s = json_skip_ws(p1->payload, p1->payload_len, 0), e = p1->payload_len;
    while (e > s && (p1->payload[e - 1] == ' ' || p1->payload[e - 1] == '\t' || p1->payload[e - 1] == '\n' || p1->payload[e - 1] == '\r')) e--;
    if (e > s) {                                    /* a blank payload is written as null */
        q_error_clear(&err);
        int rc = json_compact_value(p1->payload, e, s, 0, UINT32_MAX, compact, &end, &clen, &err);
        FUZZ_CHECK(rc == Q_OK && end == e, "payload part does not compact: %s", err.message);
    } else {
        memcpy(compact, "null", 4);
    }

    scratch_reset();
    env_decoded d2;
    q_error_clear(&err);
    int rc = env_decode(e1, n1, lim, &d2, &err);
    if (fuzz_tolerate_known() && (rc == Q_ERR(TOO_LARGE) || rc == Q_ERR(JSON_DEPTH))) {   /* F3, F4a */
        free(compact);
        return false;
    }
    if (rc) fuzz_hex("encoded", e1, n1);
    FUZZ_CHECK(rc == Q_OK, "decode of our own encoding failed: %s (path '%s')", err.message, err.path);
    FUZZ_CHECK(d2.payload_len == clen && memcmp(e1 + d2.payload_off, compact, clen) == 0,
               "encoded payload is not the compacted input payload");
    free(compact);
    if (d1) {
        FUZZ_CHECK((d1->error_len == 0) == (d2.error_len == 0), "error object appeared or vanished");
        FUZZ_CHECK(d1->error_status == d2.error_status, "error status %d became %d", (int)d1->error_status, (int)d2.error_status);
        FUZZ_CHECK((d1->request_id_len == 0) == (d2.request_id_len == 0), "request_id appeared or vanished");
    }

    /* Encoding the decoded encoding gives the same bytes. */
    parts p2 = parts_of(e1, &d2);
    q_buf out;
    rc = encode(&p2, lim, &out, &err);
    FUZZ_CHECK(rc == Q_OK, "second encode failed: %s (path '%s')", err.message, err.path);
    if (out.len != n1 || memcmp(out.ptr, e1, n1) != 0) {
        fuzz_hex("first ", e1, n1);
        fuzz_hex("second", out.ptr, out.len);
        FUZZ_CHECK(0, "canonical form is not a fixed point");
    }
    return true;
}

/* Allocation failures anywhere in encode are clean and leave no trace. */
static void check_alloc_failures(const parts *p, const uint8_t *e1, uint32_t n1, const env_limits *lim) {
#ifdef Q_ALLOC_FAULTS
    uint32_t persistent = arena_persistent_in_use();
    for (uint32_t nth = 1; nth < 64; nth++) {
        q_buf out;
        q_error err;
        scratch_reset();
        arena_fail_nth(nth);
        int rc = encode(p, lim, &out, &err);
        uint32_t used = arena_alloc_count();
        arena_fail_nth(0);
        if (rc == Q_OK) {
            /* Either the failure was absorbed (a smaller retry) or it never came. */
            FUZZ_CHECK(out.len == n1 && memcmp(out.ptr, e1, n1) == 0, "output differs with allocation %u failing", nth);
            if (used < nth) break;
            continue;
        }
        FUZZ_CHECK(rc == Q_ERR(OUT_OF_MEMORY), "allocation %u failed, encode returned %s (%s)", nth, q_status_code(rc), err.message);
        fuzz_check_error(rc, &err, UINT32_MAX);
    }
    FUZZ_CHECK(arena_persistent_in_use() == persistent, "persistent bytes %u -> %u", persistent, arena_persistent_in_use());
#endif
}

/* e1 (p encoded) against the writer alone: a meta already canonical is validated and copied
 * instead of written (schema.h), which must not show. */
static void check_meta_shortcut(const parts *p, const uint8_t *e1, uint32_t n1, const env_limits *lim) {
    uint32_t s = json_skip_ws(p->meta, p->meta_len, 0), e = p->meta_len;
    while (e > s && (p->meta[e - 1] == ' ' || p->meta[e - 1] == '\t' || p->meta[e - 1] == '\n' || p->meta[e - 1] == '\r')) e--;
    const uint8_t *meta = e > s ? p->meta + s : (const uint8_t *)"{}";   /* a blank meta is {} */
    q_buf out = {0};
    q_error err;
    q_error_clear(&err);
    schema_walk w;
    int rc = env_meta_walk(meta, e > s ? e - s : 2, 0, lim, NULL, &out, &w, &err);
    FUZZ_CHECK(rc == Q_OK, "the writer refuses a meta encode took: %s", err.message);
    FUZZ_CHECK(n1 > 8 + out.len && memcmp(e1 + 8, out.ptr, out.len) == 0 && e1[8 + out.len] == ',', "encoded meta is not the writer's");
}

/* The same with auto-fill (a fixed clock and entropy, without and with a default tenant): the
 * fields it adds ahead of a canonical meta are written, then the meta is copied (envelope.c
 * fill_ahead), which must not show either: the same bytes or the same failure as the writer. */
static void check_fill_shortcut(const parts *p, const env_limits *lim) {
    static const uint8_t RND[16] = { 0x5a, 0x01, 0xc3 };
    uint32_t s = json_skip_ws(p->meta, p->meta_len, 0), e = p->meta_len;
    while (e > s && (p->meta[e - 1] == ' ' || p->meta[e - 1] == '\t' || p->meta[e - 1] == '\n' || p->meta[e - 1] == '\r')) e--;
    const uint8_t *meta = e > s ? p->meta + s : (const uint8_t *)"{}";
    uint32_t meta_len = e > s ? e - s : 2;
    for (int tenant = 0; tenant < 2; tenant++) {
        env_autofill af = { .fill = true, .now_ms = 1700000000123.0, .random = RND };
        if (tenant) { af.tenant = (const uint8_t *)"t\"\\x"; af.tenant_len = 4; }
        q_buf enc = {0}, writer = {0};
        q_error err;
        q_error_clear(&err);
        int rc = env_encode(meta, meta_len, (const uint8_t *)"1", 1, NULL, 0, lim, &af, &enc, &err);
        q_error_clear(&err);
        schema_walk w;
        int wrc = env_meta_walk(meta, meta_len, 0, lim, &af, &writer, &w, &err);
        if (wrc == Q_OK && writer.len > lim->max_meta_bytes) wrc = Q_ERR(TOO_LARGE);   /* env_encode's cap on the written meta */
        FUZZ_CHECK(rc == wrc, "auto-filled encode returned %s, the writer %s", q_status_code(rc), q_status_code(wrc));
        if (rc) continue;
        FUZZ_CHECK(enc.len > 8 + writer.len && memcmp(enc.ptr + 8, writer.ptr, writer.len) == 0 && enc.ptr[8 + writer.len] == ',',
                   "auto-filled meta is not the writer's");
    }
}

/* Direction 1: decode, encode, decode, encode. */
static void from_envelope(const uint8_t *data, uint32_t n, const env_decoded *d1, const env_limits *lim) {
    parts p1 = parts_of(data, d1);
    if (d1->error_status < 0 && fuzz_tolerate_known()) return;   /* F1: "-0" status */
    q_buf out;
    q_error err;
    int rc = encode(&p1, lim, &out, &err);
    if (rc == Q_ERR(INVALID_TIMESTAMP) && fuzz_tolerate_known()) return;   /* F2: UTC year out of range */
    if (rc) fuzz_hex("meta", p1.meta, p1.meta_len);
    FUZZ_CHECK(rc == Q_OK, "encode of a decoded envelope failed: %s (path '%s')", err.message, err.path);
    uint8_t *e1 = fuzz_dup(out.ptr, out.len);
    uint32_t n1 = out.len;
    if (check_fixed_point(&p1, d1, e1, n1, lim)) check_alloc_failures(&p1, e1, n1, lim);
    check_meta_shortcut(&p1, e1, n1, lim);
    free(e1);
    check_fill_shortcut(&p1, lim);
}

/* Direction 2: the input as encode parts. JSON never holds a raw NUL, so NULs split it. */
static void from_parts(const uint8_t *data, uint32_t n, const env_limits *lim) {
    parts p = { NULL, data, NULL, 0, n, 0 };
    const uint8_t *z1 = memchr(data, 0, n);
    if (z1) {
        const uint8_t *rest = z1 + 1, *z2 = memchr(rest, 0, (size_t)(data + n - rest));
        p.meta = data; p.meta_len = (uint32_t)(z1 - data);
        p.payload = rest; p.payload_len = (uint32_t)((z2 ? z2 : data + n) - rest);
        if (z2) { p.error = z2 + 1; p.error_len = (uint32_t)(data + n - p.error); }
    }
    q_buf out;
    q_error err;
    int rc = encode(&p, lim, &out, &err);
    if (rc) {
        fuzz_check_error(rc, &err, UINT32_MAX);
        FUZZ_CHECK(rc != Q_ERR(OUT_OF_MEMORY), "out of memory encoding %u bytes", n);
        return;
    }
    uint8_t *e1 = fuzz_dup(out.ptr, out.len);
    if (check_fixed_point(&p, NULL, e1, out.len, lim)) check_meta_shortcut(&p, e1, out.len, lim);
    free(e1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > UINT32_MAX) return 0;
    fuzz_begin();
    env_limits lim;
    env_limits_default(&lim);
    env_decoded d1;
    q_error err;
    q_error_clear(&err);
    if (env_decode(data, (uint32_t)size, &lim, &d1, &err) == Q_OK) from_envelope(data, (uint32_t)size, &d1, &lim);
    else from_parts(data, (uint32_t)size, &lim);
    return 0;
}
