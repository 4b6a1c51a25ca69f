/* libFuzzer harness: the canonical form is a fixed point. When an input decodes, encoding
 * its meta, payload and error slices must succeed, the result must decode, and encoding that
 * again must give the same bytes. Encoding under injected allocation failures must fail
 * cleanly (OUT_OF_MEMORY) or give the same bytes.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > UINT32_MAX) return 0;
    fuzz_begin();
    env_limits lim;
    env_limits_default(&lim);
    env_decoded d1;
    q_error err;
    q_error_clear(&err);
    if (env_decode(data, (uint32_t)size, &lim, &d1, &err) != Q_OK) return 0;
    parts p1 = parts_of(data, &d1);

    /* 1. What decodes, encodes. */
    q_buf out;
    int rc = encode(&p1, &lim, &out, &err);
    if (rc) fuzz_hex("meta", p1.meta, p1.meta_len);
    FUZZ_CHECK(rc == Q_OK, "encode of a decoded envelope failed: %s (path '%s')", err.message, err.path);
    uint32_t n1 = out.len;
    uint8_t *e1 = fuzz_dup(out.ptr, n1);

    /* The payload is carried over as its compact form, nothing else changes in it. */
    uint8_t *compact = malloc(p1.payload_len);
    uint32_t end = 0, clen = 0;
    q_error_clear(&err);
    rc = json_compact_value(p1.payload, p1.payload_len, 0, 0, lim.max_depth, compact, &end, &clen, &err);
    FUZZ_CHECK(rc == Q_OK && end == p1.payload_len, "payload slice does not compact: %s", err.message);

    /* 2. What we encode, decodes. */
    scratch_reset();
    env_decoded d2;
    q_error_clear(&err);
    rc = env_decode(e1, n1, &lim, &d2, &err);
    if (rc) fuzz_hex("encoded", e1, n1);
    FUZZ_CHECK(rc == Q_OK, "decode of our own encoding failed: %s (path '%s')", err.message, err.path);
    FUZZ_CHECK(d2.payload_len == clen && memcmp(e1 + d2.payload_off, compact, clen) == 0,
               "encoded payload is not the compacted input payload");
    FUZZ_CHECK((d1.error_len == 0) == (d2.error_len == 0), "error object appeared or vanished");
    FUZZ_CHECK(d1.error_status == d2.error_status, "error status %d became %d", (int)d1.error_status, (int)d2.error_status);
    FUZZ_CHECK(d1.error_len == 0 || (d1.error_message_len == 0) == (d2.error_message_len == 0), "error message emptiness changed");
    FUZZ_CHECK((d1.request_id_len == 0) == (d2.request_id_len == 0), "request_id appeared or vanished");
    free(compact);

    /* 3. Encoding the decoded encoding gives the same bytes: a fixed point. */
    parts p2 = parts_of(e1, &d2);
    rc = encode(&p2, &lim, &out, &err);
    FUZZ_CHECK(rc == Q_OK, "second encode failed: %s (path '%s')", err.message, err.path);
    if (out.len != n1 || memcmp(out.ptr, e1, n1) != 0) {
        fuzz_hex("first ", e1, n1);
        fuzz_hex("second", out.ptr, out.len);
        FUZZ_CHECK(0, "canonical form is not a fixed point");
    }

    /* 4. Allocation failures anywhere in encode are clean and leave no trace. */
#ifdef Q_ALLOC_FAULTS
    uint32_t persistent = arena_persistent_in_use();
    for (uint32_t nth = 1; nth < 64; nth++) {
        scratch_reset();
        arena_fail_nth(nth);
        rc = encode(&p1, &lim, &out, &err);
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
    free(e1);
    return 0;
}
