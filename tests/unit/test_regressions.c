/* Regressions found by fuzzing (tests/fuzz) and the differential JSON test: each case is
 * the reported input, checked for the property the harness found broken. A case fails until
 * its bug is fixed; afterwards it keeps the bug from coming back. */
#include "test_util.h"
#include "envelope.h"
#include "url.h"
#include "json.h"

static env_limits LIM;

static int setup(void **s) { q_test_setup(s); env_limits_default(&LIM); return 0; }

static int decode(const uint8_t *in, uint32_t n, env_decoded *d, q_error *e) {
    scratch_reset();
    q_error_clear(e);
    return env_decode(in, n, &LIM, d, e);
}

/* Encodes the decoded slices of `in` (what fuzz_roundtrip does). Output in scratch. */
static int reencode(const uint8_t *in, const env_decoded *d, q_buf *out, q_error *e) {
    q_error_clear(e);
    *out = (q_buf){0};
    return env_encode(in + d->meta_off, d->meta_len, in + d->payload_off, d->payload_len,
                      in + d->error_off, d->error_len, &LIM, NULL, out, e);
}

/* ---- F1: "http_status_code":-0 decodes to error status -30 ---------------------------
 * env_decode accepts -0 for the u16 field (num_to_i64 reads "-0" as 0) and then computes
 * the status digit by digit from the raw token: ('-' - '0') * 10 + 0 = -30. The record's
 * QD_ERROR_STATUS (and Envelope.errorStatus in the glue) becomes -30.
 * Found by: code review while writing the harnesses; fuzz_envelope_decode ("error status -30
 * outside 0..65535") and fuzz_roundtrip ("error status -30 became 0") flag it. */
static void f1_negative_zero_http_status(void **s) {
    static const char *const INPUTS[] = {
        "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"X\",\"message\":\"m\",\"http_status_code\":-0}}",
        "{\"error\":{\"http_status_code\":-0,\"message\":\"\",\"code\":\"\"},\"meta\":{},\"payload\":1}",
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(INPUTS); k++) {
        env_decoded d; q_error e;
        int rc = decode((const uint8_t *)INPUTS[k], (uint32_t)strlen(INPUTS[k]), &d, &e);
        /* Either -0 is refused like serde_json refuses it for integers (it parses "-0" as
         * the float -0.0), or it is the status 0: never a negative status. */
        if (rc == Q_OK) {
            if (d.error_status != 0) fail_msg("input %zu: error status %d, want 0 (or a TYPE_MISMATCH)", k, (int)d.error_status);
        } else {
            assert_int_equal(rc, Q_ERR(TYPE_MISMATCH));
        }
    }
}

/* ---- F2: a timestamp whose UTC instant leaves years 0000..9999 decodes, but never encodes --
 * rfc3339_parse accepts any offset; 0000-01-01T00:00:00+00:01 is 23:59 on 31 Dec of year -1
 * in UTC and 9999-12-31T23:59:59-00:01 is in year 10000. Decode accepts both, encoding the
 * decoded meta failed with INVALID_TIMESTAMP (a check of the writer's range): the canonical
 * form is not total over what decode accepts, so a decoded reply cannot be re-sent.
 * Found by: fuzz_roundtrip in a 60 s run ("encode of a decoded envelope failed"). */
static void f2_timestamp_outside_utc_year_range(void **s) {
    static const char *const INPUTS[] = {
        "{\"meta\":{\"timestamp\":\"0000-01-01T00:00:00+00:01\"},\"payload\":1}",
        "{\"meta\":{\"timestamp\":\"9999-12-31T23:59:59-00:01\"},\"payload\":1}",
        "{\"meta\":{\"security\":{\"token_expires_at\":\"0000-01-01T00:00:60+00:01\"}},\"payload\":0}",
        "{\"meta\":{\"security\":{\"token_expires_at\":\"9999-12-31T23:59:60.5-23:59\"}},\"payload\":0}",
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(INPUTS); k++) {
        const uint8_t *in = (const uint8_t *)INPUTS[k];
        env_decoded d; q_error e;
        int rc = decode(in, (uint32_t)strlen(INPUTS[k]), &d, &e);
        if (rc != Q_OK) { assert_int_equal(rc, Q_ERR(INVALID_TIMESTAMP)); continue; }   /* refusing is a fix too */
        q_buf out;
        rc = reencode(in, &d, &out, &e);
        if (rc) fail_msg("input %zu decodes but does not encode: %s", k, e.message);
    }
}

/* ---- F3: encode can write a meta (and envelope) larger than the limits it was checked against --
 * env_encode checks max_meta_bytes / max_envelope_bytes on its INPUT sizes, but the canonical
 * meta can be longer than the input meta: trap arrays are added ("security":{} gains
 * "permissions":[],"roles":[]; debug gains "db_queries":[]; performance "external_calls":[]),
 * simple UUIDs gain four hyphens, timestamp fractions are padded to 3/6/9 digits. A decoded
 * envelope whose meta is at the limit re-encodes to one its own decoder rejects (TOO_LARGE,
 * path meta). Found by: code review while writing fuzz_roundtrip, whose fixed-point property
 * it breaks; the fuzzer itself rarely builds a meta within ~70 bytes of the 64 KiB limit. */
static void f3_canonical_meta_grows_past_the_limit(void **s) {
    const char *head = "{\"meta\":{\"security\":{},\"tenant\":\"";
    const char *tail = "\"},\"payload\":1}";
    uint32_t meta_len = Q_DEFAULT_MAX_META_BYTES;            /* {"security":{},"tenant":"xxx…"} */
    uint32_t fixed_meta = (uint32_t)strlen("{\"security\":{},\"tenant\":\"\"}");
    uint32_t fill = meta_len - fixed_meta;
    size_t n = strlen(head) + fill + strlen(tail);
    static uint8_t in[Q_DEFAULT_MAX_META_BYTES + 64];   /* static: a failing check leaks nothing */
    assert_true(n <= sizeof in);
    memcpy(in, head, strlen(head));
    memset(in + strlen(head), 'x', fill);
    memcpy(in + strlen(head) + fill, tail, strlen(tail));

    env_decoded d; q_error e;
    assert_int_equal(decode(in, (uint32_t)n, &d, &e), Q_OK);
    assert_int_equal(d.meta_len, meta_len);
    q_buf out;
    int rc = reencode(in, &d, &out, &e);
    if (rc == Q_OK) {
        /* What we write, we must read back: decode our own output. */
        static uint8_t copy[Q_DEFAULT_MAX_META_BYTES + 256];
        assert_true(out.len <= sizeof copy);
        memcpy(copy, out.ptr, out.len);
        env_decoded d2; q_error e2;
        rc = decode(copy, out.len, &d2, &e2);
        if (rc) fail_msg("encode wrote an envelope its own decoder rejects: %s (path %s)", e2.message, e2.path);
    } else {
        assert_int_equal(rc, Q_ERR(TOO_LARGE));               /* refusing to write it is a fix too */
    }
}

/* ---- F4: nesting limits. (a) encode writes envelopes its own decoder rejects; (b) both
 * allow one level more than serde_json --------------------------------------------------
 * (a) env_decode scans meta, payload and error at depth 1 (inside the envelope object), but
 * env_encode validates/compacts each part at depth 0. A payload nested 128 deep, a meta whose
 * extensions make it 128 deep, or an error whose details do, encode fine and the result fails
 * decode with JSON_DEPTH. (b) serde_json's recursion limit (remaining_depth = 128, decremented
 * per container, error when it reaches 0) rejects the 128th nested container: at most 127
 * levels in the WHOLE body (tests/servers/serde-json.mjs agrees: "nesting depth 128 fails,
 * 127 passes"). Q_DEFAULT_MAX_DEPTH = 128 lets json_validate accept 128 levels, so decode
 * accepts an envelope 128 deep (payload 127) that the Rust server rejects, and encode sends
 * envelopes up to 129 deep. Found by: code review while writing the differential test. */
static uint32_t nest(uint8_t *out, const char *head, uint32_t levels, const char *tail) {
    uint32_t n = (uint32_t)strlen(head);
    memcpy(out, head, n);
    for (uint32_t i = 0; i < levels; i++) out[n++] = '[';
    for (uint32_t i = 0; i < levels; i++) out[n++] = ']';
    memcpy(out + n, tail, strlen(tail));
    return n + (uint32_t)strlen(tail);
}

static void f4a_encode_output_decodes_at_any_depth(void **s) {
    static uint8_t part[1024], copy[2048];
    struct { const char *what; const char *head, *tail; uint32_t levels; int which; } CASES[] = {
        { "payload 128 deep", "", "", 128, 1 },
        { "meta 128 deep", "{\"extensions\":{\"a\":", "}}", 126, 0 },
        { "error 128 deep", "{\"code\":\"X\",\"message\":\"m\",\"details\":", "}", 127, 2 },
    };
    char failed[256] = "";
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        uint32_t n = nest(part, CASES[k].head, CASES[k].levels, CASES[k].tail);
        const uint8_t *meta = (const uint8_t *)"{}", *payload = (const uint8_t *)"1", *error = NULL;
        uint32_t ml = 2, pl = 1, el = 0;
        if (CASES[k].which == 0) { meta = part; ml = n; }
        else if (CASES[k].which == 1) { payload = part; pl = n; }
        else { error = part; el = n; }
        scratch_reset();
        q_buf out = {0}; q_error e; q_error_clear(&e);
        int rc = env_encode(meta, ml, payload, pl, error, el, &LIM, NULL, &out, &e);
        if (rc != Q_OK) { assert_int_equal(rc, Q_ERR(JSON_DEPTH)); continue; }   /* refusing is a fix too */
        assert_true(out.len <= sizeof copy);
        memcpy(copy, out.ptr, out.len);
        env_decoded d;
        rc = decode(copy, out.len, &d, &e);
        if (rc) { strcat(failed, "; "); strcat(failed, CASES[k].what); }
    }
    if (failed[0]) fail_msg("encode wrote envelopes its own decoder rejects (JSON_DEPTH)%s", failed);
}

static void f4b_envelope_nesting_matches_serde_json(void **s) {
    static uint8_t in[1024];
    env_decoded d; q_error e;
    /* 127 levels in all (payload 126): serde_json accepts, so must we */
    uint32_t n = nest(in, "{\"meta\":{},\"payload\":", 126, "}");
    assert_int_equal(decode(in, n, &d, &e), Q_OK);
    /* 128 levels in all (payload 127): serde_json fails with "recursion limit exceeded" */
    n = nest(in, "{\"meta\":{},\"payload\":", 127, "}");
    int rc = decode(in, n, &d, &e);
    if (rc != Q_ERR(JSON_DEPTH)) fail_msg("an envelope 128 levels deep decodes (%s); the Rust server rejects it", q_status_code(rc));
    /* and encode must not write one either */
    n = nest(in, "", 127, "");
    scratch_reset();
    q_buf out = {0};
    q_error_clear(&e);
    rc = env_encode((const uint8_t *)"{}", 2, in, n, NULL, 0, &LIM, NULL, &out, &e);
    if (rc != Q_ERR(JSON_DEPTH)) fail_msg("encode wrote a payload 127 deep (envelope 128): %s", q_status_code(rc));
}

/* ---- F5: url_encode_component of zero bytes into a fresh buffer ------------------------
 * q_buf_reserve(0) on an empty buffer allocates nothing, and the encoder then offset a NULL
 * pointer (UBSan). Found by: fuzz_url on its first (empty) input. */
static void f5_encode_component_of_nothing(void **s) {
    scratch_reset();
    q_buf out = {0};
    assert_int_equal(url_encode_component(&out, (const uint8_t *)"", 0), Q_OK);
    assert_int_equal(out.len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(f1_negative_zero_http_status, setup),
        cmocka_unit_test_setup(f2_timestamp_outside_utc_year_range, setup),
        cmocka_unit_test_setup(f3_canonical_meta_grows_past_the_limit, setup),
        cmocka_unit_test_setup(f4a_encode_output_decodes_at_any_depth, setup),
        cmocka_unit_test_setup(f4b_envelope_nesting_matches_serde_json, setup),
        cmocka_unit_test_setup(f5_encode_component_of_nothing, setup),
    };
    return cmocka_run_group_tests_name("regressions", tests, NULL, NULL);
}
