/* WebSocket frames: envelope/pong/error/ping classification with byte ranges, keys in any
 * order and with escapes, error codes (integer or null), every malformed shape refused with
 * PROTOCOL naming where, inputs ending exactly at the buffer end, and the writers. */
#include "test_util.h"
#include "ws_frame.h"

static int setup(void **s) { return q_test_setup(s); }

static int parse_as(const char *text, bool fast, ws_frame *f, q_error *e) {
    q_error_clear(e);
    size_t n = strlen(text);
    uint8_t *copy = malloc(n ? n : 1);   /* exact size: ASan catches any read past the end */
    memcpy(copy, text, n);
    int rc = ws_frame_parse(copy, (uint32_t)n, 127, fast, f, e);
    free(copy);
    return rc;
}
static int parse(const char *text, ws_frame *f, q_error *e) { return parse_as(text, false, f, e); }

static void classifies_frames(void **st) {
    ws_frame f; q_error e;
    const char *env = "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":\"}]\\\"\"}}";
    assert_int_equal(parse(env, &f, &e), Q_OK);
    assert_int_equal(f.type, WF_ENVELOPE);
    assert_int_equal(f.payload_off, 29);
    assert_int_equal(f.payload_len, strlen(env) - 30);
    /* keys in any order, escaped key names, unknown keys ignored, whitespace */
    assert_int_equal(parse(" { \"payload\" : 7 , \"x\":[1], \"t\\u0079pe\" : \"envelope\" } ", &f, &e), Q_OK);
    assert_int_equal(f.type, WF_ENVELOPE);
    assert_int_equal(f.payload_len, 1);
    assert_int_equal(parse("{\"type\":\"pong\",\"timestamp\":\"2024-01-01T00:00:00Z\"}", &f, &e), Q_OK);
    assert_int_equal(f.type, WF_PONG);
    assert_int_equal(parse("{\"type\":\"error\",\"message\":\"Failed \\\"x\\\"\",\"code\":400}", &f, &e), Q_OK);
    assert_int_equal(f.type, WF_ERROR);
    assert_int_equal(f.code, 400);
    assert_int_equal(f.message_len, 12);
    assert_int_equal(parse("{\"type\":\"error\",\"message\":\"m\",\"code\":null}", &f, &e), Q_OK);
    assert_int_equal(f.code, -1);
    assert_int_equal(parse("{\"type\":\"error\"}", &f, &e), Q_OK);
    assert_int_equal(f.code, -1);
    assert_int_equal(f.message_len, 0);
}

static void refuses_malformed_frames(void **st) {
    static const struct { const char *text; const char *path; } BAD[] = {
        { "", "" }, { "x", "" }, { "[1]", "" }, { "\"envelope\"", "" }, { "{", "" }, { "{\"type\"", "" },
        { "{\"type\":}", "" }, { "{\"type\":\"envelope\",}", "" }, { "{\"type\":\"envelope\"} {}", "" },
        { "{}", "type" }, { "{\"type\":1}", "type" }, { "{\"type\":\"Envelope\"}", "type" },
        { "{\"type\":\"envelope\"}", "payload" }, { "{\"type\":\"pong\",\"type\":\"pong\"}", "type" },
        { "{\"type\":\"error\",\"code\":\"400\"}", "code" }, { "{\"type\":\"error\",\"code\":-1}", "code" },
        { "{\"type\":\"error\",\"code\":4.5}", "code" }, { "{\"type\":\"error\",\"message\":3}", "message" },
        { "{\"type\":\"envelope\",\"payload\":\"unterminated", "" }, { "{\"type\":\"envelope\",\"payload\":{\"a\":[}", "" },
        { "{\"type\":\"pong\",\"x\":\"\\q\"}", "" }, { "{\"type\":\"pong\",\"x\":\"\xff\"}", "" },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(BAD); i++) {
        ws_frame f; q_error e;
        int rc = parse(BAD[i].text, &f, &e);
        if (rc != Q_ERR(PROTOCOL)) fail_msg("frame %zu (%s): %s", i, BAD[i].text, q_status_code(rc));
        if (strcmp(e.path, BAD[i].path)) fail_msg("frame %zu: path '%s', want '%s'", i, e.path, BAD[i].path);
        assert_int_equal(e.kind, QK_PROTOCOL);
    }
}

/* fast: the payload of a frame that names its type first runs to the frame's last brace, not
 * delimited (env_decode reads it once); any other frame is parsed as in strict mode. */
static void fast_parse_takes_the_payload_to_the_last_brace(void **st) {
    ws_frame f; q_error e;
    const char *env = "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":\"}]\\\"\"}}";
    assert_int_equal(parse_as(env, true, &f, &e), Q_OK);
    assert_int_equal(f.type, WF_ENVELOPE);
    assert_int_equal(f.unverified, 1);
    assert_int_equal(f.payload_off, 29);
    assert_int_equal(f.payload_len, strlen(env) - 30);
    assert_int_equal(parse_as("{\"type\":\"envelope\",\"payload\": {\"a\":1} \n} \t", true, &f, &e), Q_OK);
    assert_int_equal(f.unverified, 1);
    assert_int_equal(f.payload_off, 30);
    assert_int_equal(f.payload_len, 7);
    /* a member after the payload: the guess is wrong, and env_decode will say so */
    assert_int_equal(parse_as("{\"type\":\"envelope\",\"payload\":{\"a\":1},\"x\":2}", true, &f, &e), Q_OK);
    assert_int_equal(f.unverified, 1);
    assert_int_equal(f.payload_len, 13);
    /* payload first, an escaped type, a frame not ending in a brace: delimited as in strict mode */
    assert_int_equal(parse_as("{\"payload\":{\"a\":1},\"type\":\"envelope\"}", true, &f, &e), Q_OK);
    assert_int_equal(f.unverified, 0);
    assert_int_equal(f.payload_len, 7);
    assert_int_equal(parse_as("{\"type\":\"envelop\\u0065\",\"payload\":{}}", true, &f, &e), Q_OK);
    assert_int_equal(f.unverified, 0);
    assert_int_equal(f.payload_len, 2);
    assert_int_equal(parse_as("{\"type\":\"envelope\",\"payload\":\"unterminated", true, &f, &e), Q_ERR(PROTOCOL));
    /* strict mode never guesses */
    assert_int_equal(parse(env, &f, &e), Q_OK);
    assert_int_equal(f.unverified, 0);
    assert_int_equal(f.payload_len, strlen(env) - 30);
}

static void writes_frames(void **st) {
    q_buf b = { 0 };
    assert_int_equal(ws_frame_open(&b), Q_OK);
    assert_int_equal(q_buf_put(&b, QS("{\"meta\":{},\"payload\":1}")), Q_OK);
    assert_int_equal(ws_frame_close(&b), Q_OK);
    assert_int_equal(b.len, 30 + 23);
    assert_memory_equal(b.ptr, "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1}}", b.len);
    q_buf p = { 0 };
    assert_int_equal(ws_frame_ping(&p, 1700000000123.0), Q_OK);
    assert_memory_equal(p.ptr, "{\"type\":\"ping\",\"timestamp\":\"2023-11-14T22:13:20.123Z\"}", p.len);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(classifies_frames, setup),
        cmocka_unit_test_setup(refuses_malformed_frames, setup),
        cmocka_unit_test_setup(fast_parse_takes_the_payload_to_the_last_brace, setup),
        cmocka_unit_test_setup(writes_frames, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
