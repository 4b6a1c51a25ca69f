/* libFuzzer harness: env_decode with the default limits. Every failure carries a clean
 * error record; every success returns slices that lie inside the input and hold what they claim;
 * the one-pass decode answers exactly as the two-pass one (env_decode_two_pass).
 * fuzz-max-len: 65536
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include "envelope.h"
#include "uuid.h"

static void check_slice(const char *what, uint32_t off, uint32_t len, uint32_t lo, uint32_t hi) {
    FUZZ_CHECK(off >= lo && off <= hi && len <= hi - off, "%s slice [%u, +%u) outside [%u, %u)", what, off, len, lo, hi);
}

static void check_json(const char *what, const uint8_t *in, uint32_t off, uint32_t len, char first) {
    q_error e;
    q_error_clear(&e);
    FUZZ_CHECK(len > 0, "%s slice is empty", what);
    if (first) FUZZ_CHECK(in[off] == (uint8_t)first, "%s slice starts with 0x%02x", what, in[off]);
    FUZZ_CHECK(json_skip_ws(in + off, len, 0) == 0, "%s slice starts with whitespace", what);
    uint8_t last = in[off + len - 1];
    FUZZ_CHECK(last != ' ' && last != '\t' && last != '\n' && last != '\r', "%s slice ends with whitespace", what);
    int rc = json_validate(in + off, len, Q_DEFAULT_MAX_DEPTH, &e);
    FUZZ_CHECK(rc == Q_OK, "%s slice is not valid JSON: %s", what, e.message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > UINT32_MAX) return 0;
    uint32_t n = (uint32_t)size;
    fuzz_begin();
    env_limits lim;
    env_limits_default(&lim);
    env_decoded d;
    q_error err;
    q_error_clear(&err);
    int rc = env_decode(data, n, &lim, &d, &err);

    /* Same input, same answer: nothing depends on leftover scratch or earlier calls. */
    scratch_reset();
    env_decoded d2;
    q_error err2;
    q_error_clear(&err2);
    int rc2 = env_decode(data, n, &lim, &d2, &err2);
    FUZZ_CHECK(rc == rc2, "second decode returned %d, first %d", rc2, rc);

    /* The one pass answers exactly as two passes (scanner over everything, then the walks). */
    scratch_reset();
    env_decoded d3;
    q_error err3;
    q_error_clear(&err3);
    int rc3 = env_decode_two_pass(data, n, &lim, &d3, &err3);
    FUZZ_CHECK(rc == rc3, "one pass returned %d, two passes %d", rc, rc3);
    FUZZ_CHECK(err.offset == err3.offset && strcmp(err.message, err3.message) == 0 && strcmp(err.path, err3.path) == 0,
               "one pass error %s@%lld differs from two passes' %s@%lld", err.message, (long long)err.offset,
               err3.message, (long long)err3.offset);
    FUZZ_CHECK(rc || memcmp(&d, &d3, sizeof d) == 0, "one pass record differs from two passes'");

    if (rc) {
        fuzz_check_error(rc, &err, n);
        FUZZ_CHECK(rc != Q_ERR(OUT_OF_MEMORY), "out of memory on a %u-byte input", n);
        FUZZ_CHECK(err.offset == err2.offset && strcmp(err.message, err2.message) == 0, "error record differs between runs");
        return 0;
    }
    FUZZ_CHECK(memcmp(&d, &d2, sizeof d) == 0, "decode record differs between runs");

    check_slice("meta", d.meta_off, d.meta_len, 0, n);
    check_json("meta", data, d.meta_off, d.meta_len, '{');
    FUZZ_CHECK(data[d.meta_off + d.meta_len - 1] == '}', "meta slice does not end with '}'");
    check_slice("payload", d.payload_off, d.payload_len, 0, n);
    check_json("payload", data, d.payload_off, d.payload_len, 0);

    if (d.error_len) {
        check_slice("error", d.error_off, d.error_len, 0, n);
        check_json("error", data, d.error_off, d.error_len, '{');
        check_slice("error.code", d.error_code_off, d.error_code_len, d.error_off, d.error_off + d.error_len);
        check_slice("error.message", d.error_message_off, d.error_message_len, d.error_off, d.error_off + d.error_len);
        FUZZ_CHECK(d.error_code_off > d.error_off && data[d.error_code_off - 1] == '"' &&
                   data[d.error_code_off + d.error_code_len] == '"', "error.code slice is not a string body");
        FUZZ_CHECK(d.error_message_off > d.error_off && data[d.error_message_off - 1] == '"' &&
                   data[d.error_message_off + d.error_message_len] == '"', "error.message slice is not a string body");
        if (d.error_status < 0 && fuzz_tolerate_known()) return 0;   /* F1: "-0" status */
        /* http_status_code is a u16; the derived statuses are 400..504. */
        FUZZ_CHECK(d.error_status >= 0 && d.error_status <= 65535, "error status %d outside 0..65535", (int)d.error_status);
    } else {
        FUZZ_CHECK(d.error_off == 0 && d.error_code_len == 0 && d.error_message_len == 0 && d.error_status == 0,
                   "error fields set without an error object");
    }

    if (d.request_id_len) {
        check_slice("request_id", d.request_id_off, d.request_id_len, d.meta_off, d.meta_off + d.meta_len);
        uint8_t *body = malloc(d.request_id_len);
        uint32_t bl = json_unescape(data + d.request_id_off, d.request_id_len, body);
        uint8_t u[16];
        FUZZ_CHECK(uuid_parse(body, bl, u) == Q_OK, "request_id slice does not parse as a UUID");
        free(body);
    }
    return 0;
}
