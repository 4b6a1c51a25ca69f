/* Envelope codec: the malformed-input table, every meta field and enum value, lenient
 * traps, canonical encoding, auto-fill, the error status fallback, limits, round trips and
 * allocation failures. */
#include "test_util.h"
#include "vectors.h"
#include "envelope.h"
#include "json.h"

static env_limits LIM;

static int setup(void **s) { q_test_setup(s); env_limits_default(&LIM); return 0; }

static int decode(const char *text, env_decoded *d, q_error *e) {
    scratch_reset();
    q_error_clear(e);
    return env_decode((const uint8_t *)text, (uint32_t)strlen(text), &LIM, d, e);
}

/* Encodes and returns a NUL-terminated copy of the output (scratch). */
static const char *encode3(const char *meta, const char *payload, const char *error, const env_autofill *af, int *rc, q_error *e) {
    scratch_reset();
    q_error_clear(e);
    q_buf out = {0};
    *rc = env_encode((const uint8_t *)meta, (uint32_t)strlen(meta), (const uint8_t *)payload, (uint32_t)strlen(payload),
                     (const uint8_t *)error, (uint32_t)strlen(error), &LIM, af, &out, e);
    if (*rc) return NULL;
    static char copy[1 << 16];
    assert_true(out.len < sizeof copy);
    memcpy(copy, out.ptr, out.len); copy[out.len] = 0;
    return copy;
}

static void expect_encode(const char *meta, const char *payload, const char *error, const char *want) {
    int rc; q_error e;
    const char *got = encode3(meta, payload, error, NULL, &rc, &e);
    if (rc) fail_msg("encode failed: %s", e.message);
    assert_string_equal(got, want);
}

/* ---- the malformed table ---------------------------------------------------------- */

static void malformed_table(void **s) {
    vector_case *v;
    int n = vectors_load("../vectors/malformed-envelopes.tsv", &v);
    assert_true(n >= 40);
    for (int i = 0; i < n; i++) {
        scratch_reset();
        env_decoded d; q_error e; q_error_clear(&e);
        int rc = env_decode(v[i].input, (uint32_t)v[i].len, &LIM, &d, &e);
        if (strcmp(q_status_code(rc), v[i].code) || e.offset != v[i].offset || strcmp(e.path, v[i].path))
            fail_msg("line %d: want %s@%ld '%s', got %s@%lld '%s' (%s)", v[i].line, v[i].code, v[i].offset,
                     v[i].path, q_status_code(rc), (long long)e.offset, e.path, e.message);
        assert_true(rc < 0);
        assert_true(strlen(e.message) <= Q_ERROR_MESSAGE_BYTES);
        assert_int_equal(e.kind, QK_VALIDATION);
    }
    vectors_free(v, n);
}

/* ---- one pass answers as two passes ------------------------------------------------ */

/* env_decode against env_decode_two_pass (the scanner over the whole envelope, then the schema
 * walks) under limits lim: the same status, offset, path, message and record. */
static void expect_same_as_two_passes(const uint8_t *in, uint32_t n, const env_limits *lim, const char *what) {
    env_decoded d1, d2; q_error e1, e2;
    scratch_reset(); q_error_clear(&e1);
    int rc1 = env_decode(in, n, lim, &d1, &e1);
    scratch_reset(); q_error_clear(&e2);
    int rc2 = env_decode_two_pass(in, n, lim, &d2, &e2);
    if (rc1 != rc2 || e1.offset != e2.offset || strcmp(e1.path, e2.path) || strcmp(e1.message, e2.message))
        fail_msg("%s: one pass %s@%lld '%s' (%s), two passes %s@%lld '%s' (%s)", what, q_status_code(rc1), (long long)e1.offset,
                 e1.path, e1.message, q_status_code(rc2), (long long)e2.offset, e2.path, e2.message);
    if (!rc1 && memcmp(&d1, &d2, sizeof d1)) fail_msg("%s: the records differ", what);
}

/* What a failure in the middle of a one-pass walk must still report: invalid JSON anywhere in
 * the envelope before any schema failure, the meta's schema failure before the error object's
 * whatever their order, the top level's own checks first. The expected answers are those of the
 * decoder before the one-pass walk (scanner over the whole envelope, then the walks). */
static void one_pass_reports_what_two_passes_report(void **s) {
    static const struct { const char *in, *code, *path; long offset; } cases[] = {
        /* a schema failure in meta, then invalid JSON later: the JSON error */
        { "{\"meta\":{\"request_id\":\"x\"},\"payload\":[1,}", "JSON_SYNTAX", "", 40 },
        { "{\"meta\":{\"request_id\":\"x\",\"zz\":[1,}]},\"payload\":1}", "JSON_SYNTAX", "", 34 },
        { "{\"meta\":{\"duration\":\"x\",\"zz\":\"\\q\"},\"payload\":1}", "JSON_ESCAPE", "", 31 },
        { "{\"meta\":{\"security\":[],\"zz\":\"\x80\"},\"payload\":1}", "JSON_UTF8", "", 29 },
        { "{\"meta\":{\"request_id\":\"x\"},\"payload\":1,\"payload\":2}", "DUPLICATE_KEY", "payload", 39 },
        { "{\"meta\":{\"request_id\":\"x\"},\"payload\":1} x", "JSON_TRAILING", "", 40 },
        { "{\"meta\":{\"request_id\":\"x\"}}", "MISSING_FIELD", "payload", 0 },
        /* the error object first, both invalid: the meta's failure */
        { "{\"error\":{\"code\":1},\"meta\":{\"request_id\":\"x\"},\"payload\":1}", "INVALID_UUID", "meta.request_id", 41 },
        { "{\"error\":{\"code\":1},\"meta\":{},\"payload\":1}", "TYPE_MISMATCH", "error.code", 17 },
        /* valid, error object before the meta */
        { "{\"error\":{\"code\":\"C\",\"message\":\"m\"},\"payload\":1,\"meta\":{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\"}}", "OK", "", -1 },
        /* invalid JSON inside the meta after valid fields, and in unknown keys and maps */
        { "{\"meta\":{\"tenant\":\"t\",\"version\":1.},\"payload\":1}", "JSON_NUMBER", "", 34 },
        { "{\"meta\":{\"tracing\":{\"tags\":{\"a\":1,\"a\":tru}}},\"payload\":1}", "JSON_SYNTAX", "", 41 },
        { "{\"meta\":{\"extensions\":{\"a\":[1 2]}},\"payload\":1}", "JSON_SYNTAX", "", 30 },
        { "{\"meta\":{\"tenant\":\"t\" \"version\":\"1\"},\"payload\":1}", "JSON_SYNTAX", "", 22 },
        { "{\"meta\":{\"tenant\":\"t\",},\"payload\":1}", "JSON_SYNTAX", "", 22 },
        { "{\"meta\":{\"security\":{\"roles\":[\"a\",]}},\"payload\":1}", "JSON_SYNTAX", "", 34 },
        { "{\"meta\":{\"tenant\":\"t\"", "JSON_TRUNCATED", "", 21 },
        { "{\"meta\":{\"tenant\"", "JSON_TRUNCATED", "", 17 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *in = (const uint8_t *)cases[i].in;
        uint32_t n = (uint32_t)strlen(cases[i].in);
        env_decoded d; q_error e;
        scratch_reset(); q_error_clear(&e);
        int rc = env_decode(in, n, &LIM, &d, &e);
        if (strcmp(q_status_code(rc), cases[i].code) || e.offset != cases[i].offset || strcmp(e.path, cases[i].path))
            fail_msg("case %zu: want %s@%ld '%s', got %s@%lld '%s' (%s)", i, cases[i].code, cases[i].offset, cases[i].path,
                     q_status_code(rc), (long long)e.offset, e.path, e.message);
        expect_same_as_two_passes(in, n, &LIM, cases[i].in);
    }
}

/* Every malformed vector and the cases above again, under tight limits too: depth (the walk
 * counts containers itself), meta and error sizes (known only once the walk found the end). */
static void one_pass_agrees_under_every_limit(void **s) {
    vector_case *v;
    int n = vectors_load("../vectors/malformed-envelopes.tsv", &v);
    static const char *extra[] = {
        "{\"meta\":{\"tracing\":{\"span_status\":{\"code\":\"Ok\"},\"tags\":{\"a\":1}},\"extensions\":{\"x\":[[{}]]}},\"payload\":[[1]]}",
        "{\"meta\":{\"debug\":{\"db_queries\":[{\"query\":\"q\",\"duration\":1}]}},\"payload\":1,\"error\":{\"code\":\"C\",\"message\":\"m\",\"details\":{\"a\":[1]}}}",
        "{\"payload\":{},\"meta\":{\"security\":{\"roles\":[\"r\"],\"permissions\":[]},\"tenant\":\"acme corp\"},\"error\":null}",
    };
    for (uint32_t k = 0; k < 7; k++) {
        env_limits lim;
        env_limits_default(&lim);
        if (k < 4) lim.max_depth = k + 1;
        else if (k == 4) lim.max_meta_bytes = 40;
        else if (k == 5) lim.max_error_bytes = 20;
        for (int i = 0; i < n; i++) expect_same_as_two_passes(v[i].input, (uint32_t)v[i].len, &lim, "vector");
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
            expect_same_as_two_passes((const uint8_t *)extra[i], (uint32_t)strlen(extra[i]), &lim, extra[i]);
    }
    vectors_free(v, n);
}

/* ---- every meta field --------------------------------------------------------------- */

static const char FULL_META[] =
    "{\"extensions\":{\"z\":{\"deep\":[1, 2]},\"a\":null},"
    "\"tracing\":{\"tags\":{\"s\":\"v\",\"n\":1.5,\"b\":true},\"span_status\":{\"message\":\"m\",\"code\":\"Error\"},"
    "\"span_kind\":\"Client\",\"operation_name\":\"op\",\"trace_state\":\"ts\",\"sampled\":false,\"sampling_rate\":0.5,"
    "\"baggage\":{\"k\":\"v\"},\"parent_span_id\":\"p\",\"span_id\":\"s\",\"trace_id\":\"t\"},"
    "\"monitoring\":{\"uptime\":12.5,\"health_status\":\"Degraded\",\"namespace\":\"ns\",\"cluster_id\":\"c\","
    "\"environment\":\"Canary\",\"load_balancer\":\"lb\",\"instance_type\":\"it\",\"deployment_id\":\"d\","
    "\"build_version\":\"bv\",\"datacenter\":\"dc\",\"server_id\":\"srv\"},"
    "\"performance\":{\"processing_time_ms\":18446744073709551615,\"thread_count\":8,\"gc_time\":1.0,\"gc_collections\":2,"
    "\"external_calls\":[{\"endpoint\":\"/x\",\"status\":\"Timeout\",\"duration\":3,\"service\":\"svc\"}],"
    "\"network_latency\":4.5,\"cpu_usage\":0.25,\"memory_peak\":-9223372036854775808,\"memory_allocated\":100,"
    "\"cache_operations\":{\"sets\":3,\"misses\":2,\"hits\":1},\"cache_hit_ratio\":0.9,\"db_query_count\":-2147483648,\"db_query_time\":1e-3},"
    "\"debug\":{\"profiling_data\":{\"allocations\":7,\"wall_time\":2.5,\"cpu_time\":1.5},\"log_level\":\"Warn\","
    "\"request_headers\":{\"accept\":\"*/*\"},\"environment_vars\":{\"HOME\":\"/root\"},\"stack_trace\":\"st\","
    "\"memory_usage\":{\"external\":3,\"heap_total\":2,\"heap_used\":1},"
    "\"db_queries\":[{\"database\":\"db\",\"rows_affected\":2147483647,\"duration\":0.5,\"query\":\"select 1\"}],\"trace_enabled\":true},"
    "\"security\":{\"token_expires_at\":\"2030-01-01T00:00:00+01:00\",\"roles\":[\"admin\"],\"user_agent\":\"ua\","
    "\"ip_address\":\"10.0.0.1\",\"permissions\":[\"read\",\"write\"],\"auth_method\":\"OAuth2\",\"session_id\":\"sess\",\"user_id\":\"usr\"},"
    "\"on_behalf_of\":{\"delegatingTenant\":\"dt\",\"delegatingUser\":\"du\",\"originalUser\":\"ou\"},"
    "\"tenant\":\"acme\",\"duration\":45.0,\"version\":\"1.0\",\"request_id\":\"{0190A3F2-1234-7ABC-8DEF-0123456789AB}\","
    "\"timestamp\":\"2024-03-01T12:00:00.5-02:30\",\"unknown_top\":{\"ignored\":true}}";

static const char FULL_META_CANONICAL[] =
    "{\"timestamp\":\"2024-03-01T14:30:00.500Z\",\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\","
    "\"version\":\"1.0\",\"duration\":45.0,\"tenant\":\"acme\","
    "\"on_behalf_of\":{\"originalUser\":\"ou\",\"delegatingUser\":\"du\",\"delegatingTenant\":\"dt\"},"
    "\"security\":{\"user_id\":\"usr\",\"session_id\":\"sess\",\"auth_method\":\"OAuth2\",\"permissions\":[\"read\",\"write\"],"
    "\"ip_address\":\"10.0.0.1\",\"user_agent\":\"ua\",\"roles\":[\"admin\"],\"token_expires_at\":\"2029-12-31T23:00:00Z\"},"
    "\"debug\":{\"trace_enabled\":true,\"db_queries\":[{\"query\":\"select 1\",\"duration\":0.5,\"rows_affected\":2147483647,\"database\":\"db\"}],"
    "\"memory_usage\":{\"heap_used\":1,\"heap_total\":2,\"external\":3},\"stack_trace\":\"st\","
    "\"environment_vars\":{\"HOME\":\"/root\"},\"request_headers\":{\"accept\":\"*/*\"},\"log_level\":\"Warn\","
    "\"profiling_data\":{\"cpu_time\":1.5,\"wall_time\":2.5,\"allocations\":7}},"
    "\"performance\":{\"db_query_time\":0.001,\"db_query_count\":-2147483648,\"cache_hit_ratio\":0.9,"
    "\"cache_operations\":{\"hits\":1,\"misses\":2,\"sets\":3},\"memory_allocated\":100,\"memory_peak\":-9223372036854775808,"
    "\"cpu_usage\":0.25,\"network_latency\":4.5,\"external_calls\":[{\"service\":\"svc\",\"duration\":3.0,\"status\":\"Timeout\",\"endpoint\":\"/x\"}],"
    "\"gc_collections\":2,\"gc_time\":1.0,\"thread_count\":8,\"processing_time_ms\":18446744073709551615},"
    "\"monitoring\":{\"server_id\":\"srv\",\"datacenter\":\"dc\",\"build_version\":\"bv\",\"deployment_id\":\"d\","
    "\"instance_type\":\"it\",\"load_balancer\":\"lb\",\"environment\":\"Canary\",\"cluster_id\":\"c\",\"namespace\":\"ns\","
    "\"health_status\":\"Degraded\",\"uptime\":12.5},"
    "\"tracing\":{\"trace_id\":\"t\",\"span_id\":\"s\",\"parent_span_id\":\"p\",\"baggage\":{\"k\":\"v\"},\"sampling_rate\":0.5,"
    "\"sampled\":false,\"trace_state\":\"ts\",\"operation_name\":\"op\",\"span_kind\":\"Client\","
    "\"span_status\":{\"code\":\"Error\",\"message\":\"m\"},\"tags\":{\"s\":\"v\",\"n\":1.5,\"b\":true}},"
    "\"extensions\":{\"z\":{\"deep\":[1,2]},\"a\":null}}";

static void every_meta_field_decodes_and_encodes_canonically(void **s) {
    char env[8192];
    snprintf(env, sizeof env, "{\"payload\":{\"k\":[true]},\"meta\":%s}", FULL_META);
    env_decoded d; q_error e;
    int rc = decode(env, &d, &e);
    if (rc) fail_msg("%s", e.message);
    assert_memory_equal(env + d.payload_off, "{\"k\":[true]}", d.payload_len);
    assert_int_equal(d.meta_len, strlen(FULL_META));
    assert_int_equal(d.error_len, 0);
    assert_memory_equal(env + d.request_id_off, "{0190A3F2", 9);

    char want[8192];
    snprintf(want, sizeof want, "{\"meta\":%s,\"payload\":{\"k\":[true]}}", FULL_META_CANONICAL);
    expect_encode(FULL_META, "{ \"k\" : [ true ] }", "", want);
    /* canonical form is a fixed point */
    expect_encode(FULL_META_CANONICAL, "{\"k\":[true]}", "", want);
}

static void every_enum_value(void **s) {
    static const struct { const char *fmt; const char *values[9]; } ENUMS[] = {
        { "{\"security\":{\"auth_method\":\"%s\"}}", { "Unspecified", "OAuth2", "Jwt", "ApiKey", "Basic", "Saml", "Oidc", "None" } },
        { "{\"debug\":{\"log_level\":\"%s\"}}", { "Unspecified", "Trace", "Debug", "Info", "Warn", "Error" } },
        { "{\"monitoring\":{\"environment\":\"%s\"}}", { "Unspecified", "Development", "Staging", "Testing", "Production", "Canary" } },
        { "{\"monitoring\":{\"health_status\":\"%s\"}}", { "Unspecified", "Healthy", "Degraded", "Unhealthy" } },
        { "{\"tracing\":{\"span_kind\":\"%s\"}}", { "Unspecified", "Server", "Client", "Producer", "Consumer", "Internal" } },
        { "{\"tracing\":{\"span_status\":{\"code\":\"%s\"}}}", { "Unspecified", "Ok", "Error", "Timeout" } },
        { "{\"performance\":{\"external_calls\":[{\"service\":\"s\",\"duration\":1,\"status\":\"%s\"}]}}", { "Unspecified", "Success", "Error", "Timeout" } },
    };
    int checked = 0;
    for (size_t k = 0; k < Q_ARRAY_LEN(ENUMS); k++) {
        for (int j = 0; ENUMS[k].values[j]; j++) {
            char meta[512], env[600];
            snprintf(meta, sizeof meta, ENUMS[k].fmt, ENUMS[k].values[j]);
            snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":null}", meta);
            env_decoded d; q_error e;
            if (decode(env, &d, &e)) fail_msg("%s rejected: %s", env, e.message);
            /* serde_json's map form of a unit variant, {"Jwt":null}: read, written as the name */
            char map_fmt[512], map_meta[512], want[600];
            const char *q = strstr(ENUMS[k].fmt, "\"%s\"");
            snprintf(map_fmt, sizeof map_fmt, "%.*s{\"%%s\":null}%s", (int)(q - ENUMS[k].fmt), ENUMS[k].fmt, q + 4);
            snprintf(map_meta, sizeof map_meta, map_fmt, ENUMS[k].values[j]);
            snprintf(want, sizeof want, "{\"meta\":%s,\"payload\":null}", map_meta);
            if (decode(want, &d, &e)) fail_msg("%s rejected: %s", want, e.message);
            assert_int_equal(d.meta_needs_tape, 1);   /* the glue takes the core's tape for this meta */
            int rc;
            const char *from_map = encode3(map_meta, "null", "", NULL, &rc, &e);
            if (rc) fail_msg("%s: %s", map_meta, e.message);
            snprintf(want, sizeof want, "%s", from_map);
            const char *from_name = encode3(meta, "null", "", NULL, &rc, &e);
            assert_int_equal(rc, Q_OK);
            assert_string_equal(want, from_name);
            /* lower-case variant is rejected: enums are case-sensitive */
            char lower[512]; snprintf(lower, sizeof lower, ENUMS[k].fmt, "unspecified");
            snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":null}", lower);
            assert_int_equal(decode(env, &d, &e), Q_ERR(INVALID_ENUM));
            checked++;
        }
    }
    assert_int_equal(checked, 8 + 6 + 6 + 4 + 6 + 4 + 4);
    /* an escaped spelling of a valid value is the same string */
    env_decoded d; q_error e;
    assert_int_equal(decode("{\"meta\":{\"security\":{\"auth_method\":\"\\u004Awt\"}},\"payload\":null}", &d, &e), Q_OK);
}

/* The map form of a unit variant is refused as serde_json refuses it: not one member, a
 * value other than null, a name that is no variant. Code, path and what was wrong. */
static void enum_map_form_refusals(void **s) {
    static const struct { const char *meta; int status; const char *detail; } CASES[] = {
        { "{}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"Jwt\":null,\"Jwt\":null}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"Jwt\":null,\"Basic\":null}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"Jwt\":0}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"Jwt\":{}}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"Jwt\":\"Jwt\"}", Q_ERR(TYPE_MISMATCH), "{\"Name\":null}" },
        { "{\"jwt\":null}", Q_ERR(INVALID_ENUM), "not an allowed value" },
        { "{\"\":null}", Q_ERR(INVALID_ENUM), "not an allowed value" },
        { "{\"Jwt\":null", Q_ERR(JSON_TRUNCATED), "" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        char env[256];
        snprintf(env, sizeof env, "{\"meta\":{\"security\":{\"auth_method\":%s}},\"payload\":null}", CASES[k].meta);
        env_decoded d; q_error e;
        int rc = decode(env, &d, &e);
        if (rc != CASES[k].status) fail_msg("%s: rc %d (%s)", env, rc, e.message);
        if (rc != Q_ERR(JSON_TRUNCATED)) assert_string_equal(e.path, "meta.security.auth_method");
        if (!strstr(e.message, CASES[k].detail)) fail_msg("%s: \"%s\" does not say %s", env, e.message, CASES[k].detail);
    }
    /* encode refuses them alike */
    int rc; q_error e;
    encode3("{\"debug\":{\"log_level\":{\"Debug\":false}}}", "1", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(TYPE_MISMATCH)); assert_string_equal(e.path, "meta.debug.log_level");
}

static void traps_lenient_on_decode_written_on_encode(void **s) {
    env_decoded d; q_error e;
    /* the server omits empty arrays in its own replies: accept */
    assert_int_equal(decode("{\"meta\":{\"security\":{\"user_id\":\"u\"},\"debug\":{},\"performance\":{}},\"payload\":null}", &d, &e), Q_OK);
    expect_encode("{\"security\":{\"user_id\":\"u\"},\"debug\":{},\"performance\":{}}", "null", "",
                  "{\"meta\":{\"security\":{\"user_id\":\"u\",\"permissions\":[],\"roles\":[]},\"debug\":{\"db_queries\":[]},"
                  "\"performance\":{\"external_calls\":[]}},\"payload\":null}");
}

/* A value of the wrong type names what its field's type expects, for every schema type. */
static void type_mismatch_names_the_expected_type(void **s) {
    static const struct { const char *meta, *path, *expected; } CASES[] = {
        { "{\"version\":1}", "meta.version", "expected a string" },
        { "{\"request_id\":1}", "meta.request_id", "expected a string" },
        { "{\"timestamp\":true}", "meta.timestamp", "expected a string" },
        { "{\"security\":{\"auth_method\":2}}", "meta.security.auth_method", "expected a string" },
        { "{\"duration\":\"1\"}", "meta.duration", "expected a number" },
        { "{\"performance\":{\"db_query_count\":\"1\"}}", "meta.performance.db_query_count", "expected an integer" },
        { "{\"performance\":{\"processing_time_ms\":[]}}", "meta.performance.processing_time_ms", "expected an integer" },
        { "{\"tracing\":{\"sampled\":1}}", "meta.tracing.sampled", "expected true or false" },
        { "{\"security\":[]}", "meta.security", "expected an object" },
        { "{\"debug\":{\"request_headers\":\"h\"}}", "meta.debug.request_headers", "expected an object" },
        { "{\"security\":{\"roles\":{}}}", "meta.security.roles", "expected an array" },
        { "{\"tracing\":{\"tags\":{\"a\":{}}}}", "meta.tracing.tags.a", "expected a string, number or boolean" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        char env[256];
        snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":null}", CASES[k].meta);
        env_decoded d; q_error e;
        if (decode(env, &d, &e) != Q_ERR(TYPE_MISMATCH)) fail_msg("%s: %s", env, e.message);
        assert_string_equal(e.path, CASES[k].path);
        if (!strstr(e.message, CASES[k].expected)) fail_msg("%s: \"%s\" does not say %s", env, e.message, CASES[k].expected);
    }
}

static void null_is_absent_for_optional_fields(void **s) {
    env_decoded d; q_error e;
    assert_int_equal(decode("{\"meta\":{\"tenant\":null,\"request_id\":null,\"security\":null},\"payload\":null,\"error\":null}", &d, &e), Q_OK);
    assert_int_equal(d.error_len, 0);
    assert_int_equal(d.request_id_len, 0);
    expect_encode("{\"tenant\":null,\"timestamp\":null,\"tracing\":{\"span_id\":null}}", "", "null",
                  "{\"meta\":{\"tracing\":{}},\"payload\":null}");
}

static void unknown_keys_ignored_everywhere(void **s) {
    env_decoded d; q_error e;
    assert_int_equal(decode("{\"x\":[1,{\"y\":2}],\"meta\":{\"zzz\":1,\"security\":{\"other\":{}},\"tracing\":{\"q\":[]}},"
                            "\"payload\":1,\"error\":{\"code\":\"C\",\"message\":\"m\",\"extra\":true}}", &d, &e), Q_OK);
    expect_encode("{\"zzz\":1,\"security\":{\"other\":{}}}", "1", "{\"code\":\"C\",\"message\":\"m\",\"extra\":true}",
                  "{\"meta\":{\"security\":{\"permissions\":[],\"roles\":[]}},\"payload\":1,\"error\":{\"code\":\"C\",\"message\":\"m\"}}");
}

static void uuid_forms_and_timestamps_canonicalised(void **s) {
    static const char *FORMS[] = {
        "0190a3f2-1234-7abc-8def-0123456789ab", "0190A3F2-1234-7ABC-8DEF-0123456789AB",
        "0190a3f212347abc8def0123456789ab", "{0190a3f2-1234-7abc-8def-0123456789ab}",
        "urn:uuid:0190a3f2-1234-7abc-8def-0123456789ab",
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(FORMS); k++) {
        char meta[128];
        snprintf(meta, sizeof meta, "{\"request_id\":\"%s\"}", FORMS[k]);
        expect_encode(meta, "1", "", "{\"meta\":{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\"},\"payload\":1}");
    }
    expect_encode("{\"timestamp\":\"2024-01-01T00:00:00.123456+00:00\"}", "1", "", "{\"meta\":{\"timestamp\":\"2024-01-01T00:00:00.123456Z\"},\"payload\":1}");
    expect_encode("{\"timestamp\":\"2024-01-01t01:00:00.000000001+01:00\"}", "1", "", "{\"meta\":{\"timestamp\":\"2024-01-01T00:00:00.000000001Z\"},\"payload\":1}");
    expect_encode("{\"timestamp\":\"2024-01-01T00:00:00.100z\"}", "1", "", "{\"meta\":{\"timestamp\":\"2024-01-01T00:00:00.100Z\"},\"payload\":1}");
}

/* The walk's shortcuts answer as the long way: keys are compared 4 bytes a step (a key one byte off
 * a name, at either end or inside a step, is unknown: ignored and not written), and UUIDs and
 * timestamps are parsed from the token's bytes, again decoded only when those fail and hold an
 * escape (accepted when the decoded text is valid, else refused at the field). */
static void walk_shortcuts_answer_as_the_long_way(void **s) {
    expect_encode("{\"tenanx\":\"a\",\"Tenant\":\"b\",\"request_iD\":\"c\",\"versioN\":\"d\",\"tracing\":{\"span_iD\":\"e\",\"trace_idX\":1}}",
                  "1", "", "{\"meta\":{\"tracing\":{}},\"payload\":1}");
    expect_encode("{\"request_id\":\"\\u0030190a3f2-1234-7abc-8def-0123456789a\\u0062\",\"timestamp\":\"2024-01-01T00:00:00.5\\u005a\"}", "1", "",
                  "{\"meta\":{\"timestamp\":\"2024-01-01T00:00:00.500Z\",\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\"},\"payload\":1}");
    static const struct { const char *meta, *path; int status; } BAD[] = {
        { "{\"request_id\":\"\\u0030190a3f2-1234-7abc-8def-0123456789ag\"}", "meta.request_id", Q_ERR(INVALID_UUID) },
        { "{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789a\\\\\"}", "meta.request_id", Q_ERR(INVALID_UUID) },
        { "{\"timestamp\":\"2024-13-01T00:00:00\\u005a\"}", "meta.timestamp", Q_ERR(INVALID_TIMESTAMP) },
        { "{\"security\":{\"token_expires_at\":\"2024-01-01T00:00:00\\\\Z\"}}", "meta.security.token_expires_at", Q_ERR(INVALID_TIMESTAMP) },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        char env[256];
        snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":null}", BAD[k].meta);
        env_decoded d; q_error e;
        if (decode(env, &d, &e) != BAD[k].status) fail_msg("%s: %s", env, e.message);
        assert_string_equal(e.path, BAD[k].path);
        char key[64];   /* the offset is the value's: just past its key and colon */
        snprintf(key, sizeof key, "\"%s\":", strrchr(BAD[k].path, '.') + 1);
        assert_int_equal(e.offset, strstr(env, key) - env + (long)strlen(key));
    }
}

static void error_object_and_status_fallback(void **s) {
    static const struct { const char *code; int status; } CASES[] = {
        { "VALIDATION_FAILED", 400 }, { "AUTHENTICATION_FAILED", 401 }, { "RESOURCE_NOT_FOUND", 404 },
        { "INTERNAL_SERVER_ERROR", 500 }, { "HANDLER_ERROR", 500 }, { "REQUEST_HEADERS_TOO_LARGE", 413 },
        { "METADATA_INJECTION_FAILED", 500 }, { "SERIALIZATION_ERROR", 500 }, { "CRITICAL_SERIALIZATION_ERROR", 500 },
        { "unauthorized", 401 }, { "FORBIDDEN", 403 }, { "NO_PERMISSION", 403 }, { "INVALID_INPUT", 400 },
        { "MISSING_THING", 404 }, { "CONFLICT", 409 }, { "ALREADY_EXISTS", 409 }, { "SIZE_EXCEEDED", 413 },
        { "RATE_LIMITED", 429 }, { "THROTTLED", 429 }, { "GATEWAY_TIMEOUT", 504 }, { "DEADLINE_EXCEEDED", 504 },
        { "SERVICE_UNAVAILABLE", 503 }, { "SERVICE_DOWN", 503 }, { "NOT_IMPLEMENTED", 501 }, { "WEIRD", 500 },
        { "AUTH_INVALID", 401 }, { "INVALID_AUTH", 401 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        char env[256];
        snprintf(env, sizeof env, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"%s\",\"message\":\"m\"}}", CASES[k].code);
        env_decoded d; q_error e;
        assert_int_equal(decode(env, &d, &e), Q_OK);
        if (d.error_status != CASES[k].status) fail_msg("%s: want %d got %d", CASES[k].code, CASES[k].status, d.error_status);
        assert_memory_equal(env + d.error_code_off, CASES[k].code, d.error_code_len);
    }
    /* http_status_code wins over the code */
    env_decoded d; q_error e;
    const char *env = "{\"meta\":{},\"payload\":null,\"error\":{\"message\":\"boom\",\"http_status_code\":400,\"code\":\"HANDLER_ERROR\",\"details\":{\"operation\":\"handler_execution\"}}}";
    assert_int_equal(decode(env, &d, &e), Q_OK);
    assert_int_equal(d.error_status, 400);
    assert_memory_equal(env + d.error_message_off, "boom", 4);
    expect_encode("{}", "null", "{\"message\":\"boom\",\"http_status_code\":400,\"code\":\"HANDLER_ERROR\",\"details\":{\"operation\":\"handler_execution\"},\"trace\":\"t\"}",
                  "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"HANDLER_ERROR\",\"message\":\"boom\",\"details\":{\"operation\":\"handler_execution\"},\"trace\":\"t\",\"http_status_code\":400}}");
}

static void autofill_new_request(void **s) {
    static const uint8_t RND[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
    env_autofill af = { .fill = true, .now_ms = 1700000000123.0, .random = RND };
    int rc; q_error e;
    const char *out = encode3("", "{\"q\":1}", "", &af, &rc, &e);
    assert_int_equal(rc, Q_OK);
    /* v7: 48-bit ms 0x018bcfe5687b then version 7, variant 10 */
    assert_string_equal(out, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":\"018bcfe5-687b-7234-9678-9abcdef01122\","
                             "\"version\":\"1.0\"},\"payload\":{\"q\":1}}");
    /* a null field is an absent one (Option<T>): filled the same */
    out = encode3("{\"timestamp\":null,\"request_id\":null,\"version\":null}", "{\"q\":1}", "", &af, &rc, &e);
    assert_int_equal(rc, Q_OK);
    assert_string_equal(out, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":\"018bcfe5-687b-7234-9678-9abcdef01122\","
                             "\"version\":\"1.0\"},\"payload\":{\"q\":1}}");
    /* a clock past year 9999 cannot be written: refused, named by the field it fills */
    af.now_ms = 1e15;
    encode3("{}", "1", "", &af, &rc, &e);
    assert_int_equal(rc, Q_ERR(BAD_ARGUMENT)); assert_string_equal(e.path, "meta.timestamp");
    af.now_ms = 1700000000123.0;
    /* existing fields are kept; tenant default only when absent */
    af.tenant = (const uint8_t *)"dflt"; af.tenant_len = 4;
    out = encode3("{\"version\":\"2.0\",\"tenant\":\"mine\"}", "1", "", &af, &rc, &e);
    assert_non_null(strstr(out, "\"version\":\"2.0\",\"tenant\":\"mine\""));
    out = encode3("{}", "1", "", &af, &rc, &e);
    assert_non_null(strstr(out, "\"version\":\"1.0\",\"tenant\":\"dflt\"}"));
    af.uuid_v4 = true;
    out = encode3("{}", "1", "", &af, &rc, &e);
    assert_non_null(strstr(out, "\"request_id\":\"12345678-9abc-4ef0-9122-334455667788\""));
}

static void payload_kinds_and_encode_errors(void **s) {
    expect_encode("", "", "", "{\"meta\":{},\"payload\":null}");
    expect_encode(" {} ", " \"x\\u00e9\\n\" ", "", "{\"meta\":{},\"payload\":\"x\\u00e9\\n\"}");
    expect_encode("{}", "[1, -0.5e+10, true, null, {\"a\" : {}}]", "", "{\"meta\":{},\"payload\":[1,-0.5e+10,true,null,{\"a\":{}}]}");
    int rc; q_error e;
    encode3("{}", "[1,", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(JSON_TRUNCATED)); assert_string_equal(e.path, "payload");
    encode3("{}", "1 2", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(JSON_TRAILING)); assert_int_equal(e.offset, 2);
    encode3("[]", "1", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(TYPE_MISMATCH)); assert_string_equal(e.path, "meta");
    encode3("{\"tenant\":", "1", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(JSON_TRUNCATED)); assert_string_equal(e.path, "meta");
    assert_non_null(strstr(e.message, "meta: "));
    encode3("{}", "1", "{\"code\":\"X\"}", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(MISSING_FIELD)); assert_string_equal(e.path, "error.message");
    encode3("{\"timestamp\":\"-0001-01-01T00:00:00Z\"}", "1", "", NULL, &rc, &e);
    assert_int_equal(rc, Q_ERR(INVALID_TIMESTAMP));
}

static void limits_enforced(void **s) {
    env_decoded d; q_error e;
    LIM.max_envelope_bytes = 64;
    char big[128]; memset(big, ' ', sizeof big); memcpy(big, "{\"meta\":{},\"payload\":1}", 23); big[127] = 0;
    assert_int_equal(decode(big, &d, &e), Q_ERR(TOO_LARGE));
    LIM.max_envelope_bytes = Q_DEFAULT_MAX_ENVELOPE_BYTES;
    LIM.max_meta_bytes = 10;
    assert_int_equal(decode("{\"meta\":{\"tenant\":\"abcdef\"},\"payload\":1}", &d, &e), Q_ERR(TOO_LARGE));
    assert_string_equal(e.path, "meta");
    LIM.max_meta_bytes = Q_DEFAULT_MAX_META_BYTES;
    /* depth: the payload sits at depth 1, so max_depth containers in total */
    char deep[600]; int n = 0;
    n += sprintf(deep + n, "{\"meta\":{},\"payload\":");
    for (int i = 0; i < Q_DEFAULT_MAX_DEPTH - 1; i++) deep[n++] = '[';
    for (int i = 0; i < Q_DEFAULT_MAX_DEPTH - 1; i++) deep[n++] = ']';
    deep[n++] = '}'; deep[n] = 0;
    assert_int_equal(decode(deep, &d, &e), Q_OK);
    n = sprintf(deep, "{\"meta\":{},\"payload\":");
    for (int i = 0; i < Q_DEFAULT_MAX_DEPTH; i++) deep[n++] = '[';
    for (int i = 0; i < Q_DEFAULT_MAX_DEPTH; i++) deep[n++] = ']';
    deep[n++] = '}'; deep[n] = 0;
    assert_int_equal(decode(deep, &d, &e), Q_ERR(JSON_DEPTH));
    /* 10,000 levels: a clean error, no crash */
    static char deeper[20100];
    n = sprintf(deeper, "{\"meta\":{},\"payload\":");
    for (int i = 0; i < 10000; i++) deeper[n++] = '[';
    deeper[n] = 0;
    assert_int_equal(decode(deeper, &d, &e), Q_ERR(JSON_DEPTH));
    assert_int_equal(e.offset, 21 + Q_DEFAULT_MAX_DEPTH - 1);
}

/* limits.max_error_bytes caps the error object as max_meta_bytes caps the meta, on decode and
 * encode: TOO_LARGE at path "error", the offset of the object. */
static void error_object_is_capped(void **s) {
    env_decoded d; q_error e;
    const char *env = "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"X\",\"message\":\"m\",\"details\":[1,2,3]}}";
    uint32_t obj = (uint32_t)strlen("{\"meta\":{},\"payload\":null,\"error\":");
    uint32_t size = (uint32_t)strlen(env) - obj - 1;
    LIM.max_error_bytes = size;
    assert_int_equal(decode(env, &d, &e), Q_OK);
    assert_int_equal(d.error_len, size);
    LIM.max_error_bytes = size - 1;
    assert_int_equal(decode(env, &d, &e), Q_ERR(TOO_LARGE));
    assert_string_equal(e.path, "error");
    assert_int_equal(e.offset, obj);
    assert_non_null(strstr(e.message, "max_error_bytes"));
    int rc;
    assert_null(encode3("{}", "1", "{\"code\":\"X\",\"message\":\"m\",\"details\":[1,2,3]}", NULL, &rc, &e));
    assert_int_equal(rc, Q_ERR(TOO_LARGE));
    assert_string_equal(e.path, "error");
    LIM.max_error_bytes = Q_DEFAULT_MAX_ERROR_BYTES;
}

/* The walks skip free-form values (error.details, meta.extensions, the payload) by their span:
 * the scratch a decode uses does not grow with them. 1-byte numbers are the worst case for a
 * token array (one 20-byte token every 2 bytes). Only a map's duplicate-key table grows, with
 * the number of keys of a map the schema defines. */
static void free_form_values_are_skipped(void **s) {
    static char env[1 << 20];
    env_decoded d; q_error e;
    uint32_t small = 0;
    for (int big = 0; big < 2; big++) {
        int count = big ? 150000 : 10;   /* 1-byte numbers in each of the three places */
        int n = sprintf(env, "{\"meta\":{\"request_id\":\"0190f3c4-5b6a-7c8d-9e0f-112233445566\",\"extensions\":{\"n\":[");
        for (int i = 0; i < count / 10; i++) n += sprintf(env + n, "%s0", i ? "," : "");
        n += sprintf(env + n, "]}},\"payload\":[");
        for (int i = 0; i < count; i++) n += sprintf(env + n, "%s0", i ? "," : "");
        n += sprintf(env + n, "],\"error\":{\"code\":\"X\",\"message\":\"m\",\"details\":[");
        for (int i = 0; i < count; i++) n += sprintf(env + n, "%s[0]", i ? "," : "");
        n += sprintf(env + n, "]}}");
        LIM.max_error_bytes = LIM.max_envelope_bytes = (uint32_t)n;
        assert_int_equal(decode(env, &d, &e), Q_OK);
        uint32_t used = arena_scratch_in_use();
        if (!big) small = used;
        else if (used != small) fail_msg("scratch grew with the skipped values: %u bytes for %d bytes of input, %u for a small one", used, n, small);
        /* the details are located, as JSON text, for the transports */
        assert_int_equal(env[d.error_details_off], '[');
        assert_int_equal(env[d.error_details_off + d.error_details_len - 1], ']');
        assert_int_equal(d.error_details_off + d.error_details_len + 2, (uint32_t)n);
    }
    assert_true(small < 1024);
    LIM.max_error_bytes = Q_DEFAULT_MAX_ERROR_BYTES;
    LIM.max_envelope_bytes = Q_DEFAULT_MAX_ENVELOPE_BYTES;
}

static void large_maps_detect_duplicates(void **s) {
    static char env[1 << 16];
    int n = sprintf(env, "{\"meta\":{\"tracing\":{\"baggage\":{");
    for (int i = 0; i < 2000; i++) n += sprintf(env + n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    n += sprintf(env + n, ",\"k1999\":\"again\"}}},\"payload\":null}");
    env_decoded d; q_error e;
    assert_int_equal(decode(env, &d, &e), Q_ERR(DUPLICATE_KEY));
    assert_string_equal(e.path, "meta.tracing.baggage");
    /* escaped and plain spellings of one key are the same key */
    assert_int_equal(decode("{\"meta\":{\"tracing\":{\"baggage\":{\"a\":\"1\",\"\\u0061\":\"2\"}}},\"payload\":1}", &d, &e), Q_ERR(DUPLICATE_KEY));
    assert_int_equal(decode("{\"meta\":{\"\\u0074enant\":\"a\",\"tenant\":\"b\"},\"payload\":1}", &d, &e), Q_ERR(DUPLICATE_KEY));
}

static void round_trip_is_stable(void **s) {
    char env[8192];
    snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":[{\"b\":2,\"a\":\"\\u00e9\\ud83d\\ude00\"}],\"error\":{\"code\":\"X\",\"message\":\"\\\"q\\\"\"}}", FULL_META);
    env_decoded d; q_error e;
    assert_int_equal(decode(env, &d, &e), Q_OK);
    /* encode(decode(x)) */
    char meta[8192], payload[512], error[512];
    memcpy(meta, env + d.meta_off, d.meta_len); meta[d.meta_len] = 0;
    memcpy(payload, env + d.payload_off, d.payload_len); payload[d.payload_len] = 0;
    memcpy(error, env + d.error_off, d.error_len); error[d.error_len] = 0;
    int rc;
    const char *once = encode3(meta, payload, error, NULL, &rc, &e);
    assert_int_equal(rc, Q_OK);
    char first[8192]; strcpy(first, once);
    /* decode(encode(x)) then encode again: a fixed point */
    assert_int_equal(decode(first, &d, &e), Q_OK);
    memcpy(meta, first + d.meta_off, d.meta_len); meta[d.meta_len] = 0;
    memcpy(payload, first + d.payload_off, d.payload_len); payload[d.payload_len] = 0;
    memcpy(error, first + d.error_off, d.error_len); error[d.error_len] = 0;
    const char *twice = encode3(meta, payload, error, NULL, &rc, &e);
    assert_string_equal(first, twice);
}

/* ---- canonical metas are validated and copied, not rewritten ---------------------------- */

/* Walks meta validating only, with the canonical check encode's shortcut uses; returns w->canon. */
static bool walks_canonical(const char *meta, schema_walk *w) {
    scratch_reset();
    q_error e; q_error_clear(&e);
    schema_walk_init(w, (const uint8_t *)meta, (uint32_t)strlen(meta), 0, &e, NULL, "meta");
    w->nest = 1; w->max_depth = LIM.max_depth;
    w->canon = true;
    assert_int_equal(schema_walk_object(w, &ENV_SCHEMA_SET, 0), Q_OK);   /* 0: the set's meta schema */
    return w->canon;
}

/* What env_encode writes for meta (with auto-fill af, or none) equals what the writer alone
 * writes (env_meta_walk with out). */
static void expect_filled_as_writer(const char *meta, const env_autofill *af) {
    int rc; q_error e;
    const char *got = encode3(meta, "1", "", af, &rc, &e);
    if (rc) fail_msg("encode of %s failed: %s", meta, e.message);
    char want[8192];
    q_buf out = {0};
    schema_walk w;
    q_error_clear(&e);
    assert_int_equal(env_meta_walk((const uint8_t *)meta, (uint32_t)strlen(meta), 0, &LIM, af, &out, &w, &e), Q_OK);
    snprintf(want, sizeof want, "{\"meta\":%.*s,\"payload\":1}", (int)out.len, (const char *)out.ptr);
    assert_string_equal(got, want);
}
static void expect_meta_as_writer(const char *meta) { expect_filled_as_writer(meta, NULL); }

static void canonical_metas_are_copied_not_rewritten(void **s) {
    schema_walk w;
    /* the writer's own output is copied as it is, and so is an empty meta */
    assert_true(walks_canonical(FULL_META_CANONICAL, &w));
    assert_int_equal(w.f64_fixes, 0);
    expect_meta_as_writer(FULL_META_CANONICAL);
    assert_true(walks_canonical("{}", &w));
    /* escapes the writer writes the same way (JSON.stringify's): \" \\ \b \f \n \r \t, \u00XX lower case */
    static const char ESCAPED[] = "{\"tenant\":\"q\\\"b\\\\s\\b\\f\\n\\r\\t\\u0001\\u001f\\u007F\"}";
    static const char ESCAPED_OK[] = "{\"tenant\":\"q\\\"b\\\\s\\b\\f\\n\\r\\t\\u0001\\u001f\"}";
    assert_false(walks_canonical(ESCAPED, &w));   /* \u007F: the writer writes DEL as it is */
    expect_meta_as_writer(ESCAPED);
    assert_true(walks_canonical(ESCAPED_OK, &w));
    expect_meta_as_writer(ESCAPED_OK);
    /* JSON.stringify's integral f64s (45 for 45.0): copied with the ".0" the writer adds */
    static const char INTS[] = "{\"duration\":45,\"tracing\":{\"tags\":{\"a\":200,\"b\":\"x\",\"c\":-3,\"d\":1.5}},\"extensions\":{\"n\":7}}";
    assert_true(walks_canonical(INTS, &w));
    assert_int_equal(w.f64_fixes, 3);
    assert_int_equal(w.f64_fix[0], strstr(INTS, "45") + 2 - INTS);
    expect_encode(INTS, "1", "", "{\"meta\":{\"duration\":45.0,\"tracing\":{\"tags\":{\"a\":200.0,\"b\":\"x\",\"c\":-3.0,\"d\":1.5}},"
                                 "\"extensions\":{\"n\":7}},\"payload\":1}");
    expect_meta_as_writer(INTS);
    /* f64s already as Rust spells them in plain form (ryu: 45.0, -0.0, 0.00001) are copied; a 16-digit
     * integer (JSON.stringify's) and -0 get their ".0" too */
    static const char RYU[] = "{\"duration\":1000000000000000,\"tracing\":{\"tags\":{\"a\":45.0,\"b\":0.00001,\"c\":-0.0,\"e\":-0}}}";
    assert_true(walks_canonical(RYU, &w));
    assert_int_equal(w.f64_fixes, 2);
    expect_encode(RYU, "1", "", "{\"meta\":{\"duration\":1000000000000000.0,\"tracing\":{\"tags\":{\"a\":45.0,\"b\":0.00001,"
                                "\"c\":-0.0,\"e\":-0.0}}},\"payload\":1}");
    expect_meta_as_writer(RYU);
    /* its exponent forms are left to the writer, which writes the same bytes */
    static const char RYU_EXP[] = "{\"tracing\":{\"tags\":{\"a\":1.5e-7,\"b\":5e-324,\"c\":1e21,\"d\":-1.7976931348623157e308}}}";
    assert_false(walks_canonical(RYU_EXP, &w));
    expect_encode(RYU_EXP, "1", "", "{\"meta\":{\"tracing\":{\"tags\":{\"a\":1.5e-7,\"b\":5e-324,\"c\":1e21,"
                                    "\"d\":-1.7976931348623157e308}}},\"payload\":1}");
    expect_meta_as_writer(RYU_EXP);
    /* the plain-form shortcut at its edges: copied (with ".0" after an integer) exactly when the
     * writer writes the text itself */
    static const struct { const char *f64; bool copied; } EDGES[] = {
        { "1234567890123456", true }, { "12345678901234567", false }, { "1234567890123456.5", true },
        { "1234567890123456.0", true }, { "0.00001", true }, { "0.000001", false }, { "-0.00012", true },
        { "0.0", true }, { "0", true }, { "-0", true }, { "10.0", true }, { "10.00", false }, { "1.0e1", false },
        { "0.10", false }, { "7", true }, { "7.25", true }, { "7.250", false }, { "0.5", true },
    };
    for (size_t k = 0; k < sizeof EDGES / sizeof *EDGES; k++) {
        char m[64];
        snprintf(m, sizeof m, "{\"duration\":%s}", EDGES[k].f64);
        if (walks_canonical(m, &w) != EDGES[k].copied) fail_msg("%s: copied %d", m, !EDGES[k].copied);
        expect_meta_as_writer(m);
    }
    /* every way the writer's bytes can differ: the meta is rewritten, exactly as the writer writes it */
    static const char *const DIFFERENT[] = {
        "{ }", "{\"tenant\":\"t\" }", "{ \"tenant\":\"t\"}", "{\"tenant\" :\"t\"}", "{\"tenant\": \"t\"}",
        "{\"version\":\"1\" ,\"tenant\":\"t\"}", "{\"version\":\"1\", \"tenant\":\"t\"}",
        "{\"tenant\":\"t\",\"version\":\"1\"}",                          /* key order */
        "{\"zzz\":1}", "{\"tenant\":\"t\",\"zzz\":1}",                  /* unknown keys are dropped */
        "{\"tena\\u006et\":\"t\"}",                                    /* an escaped key */
        "{\"tenant\":null}", "{\"tracing\":{\"span_id\":null}}",         /* null is not written */
        "{\"security\":{}}", "{\"debug\":{\"trace_enabled\":true}}",      /* traps are written [] */
        "{\"tracing\":{\"tags\":{}}}", "{\"debug\":{\"environment_vars\":{}}}",   /* empty maps are omitted */
        "{\"request_id\":\"0190A3F2-1234-7ABC-8DEF-0123456789AB\"}", "{\"request_id\":\"0190a3f212347abc8def0123456789ab\"}",
        "{\"timestamp\":\"2024-03-01T12:00:00+00:00\"}", "{\"timestamp\":\"2024-03-01T12:00:00.5Z\"}",
        "{\"tenant\":\"a\\/b\"}", "{\"tenant\":\"\\u0041\"}", "{\"tenant\":\"\\u001F\"}", "{\"tenant\":\"\\u0008\"}",   /* escapes */
        "{\"tenant\":\"\\u00e9\"}", "{\"tenant\":\"\\ud83d\\ude00\"}", "{\"tracing\":{\"tags\":{\"\\u0061\":\"v\"}}}",
        "{\"debug\":{\"log_level\":\"\\u0057arn\"}}",
        /* f64s Rust spells otherwise (JSON.stringify's 1e+21, 1e16 and 0.0000015 among them) */
        "{\"duration\":1e3}", "{\"duration\":100.50}", "{\"duration\":1e+21}", "{\"duration\":10000000000000000}",
        "{\"duration\":0.0000015}", "{\"duration\":1E2}", "{\"duration\":0.10}", "{\"duration\":0.00}",
        "{\"duration\":12345678901234567.5}", "{\"duration\":-0.000001}", "{\"duration\":100000000000000000}",
        "{\"extensions\":{\"a\":[1, 2]}}", "{\"extensions\":{\"a\":{\"b\" :1}}}", "{\"extensions\":{\"a\": 1}}",
        "{\"security\":{\"permissions\":[ \"a\"],\"roles\":[]}}", "{\"security\":{\"permissions\":[\"a\" ],\"roles\":[]}}",
        "{\"security\":{\"permissions\":[\"a\", \"b\"],\"roles\":[]}}", "{\"tracing\":{\"baggage\":{\"k\": \"v\"}}}",
        ("{\"tracing\":{\"tags\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,"
         "\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}}}"),   /* more ".0"s than Q_ENCODE_MAX_F64_FIXES */
    };
    for (size_t k = 0; k < sizeof DIFFERENT / sizeof *DIFFERENT; k++) {
        if (walks_canonical(DIFFERENT[k], &w)) fail_msg("taken as canonical: %s", DIFFERENT[k]);
        expect_meta_as_writer(DIFFERENT[k]);
    }
    /* autofill: a meta lacking what it adds is rewritten; one that has it all is copied */
    static const uint8_t RND[16] = { 1 };
    env_autofill af = { .fill = true, .now_ms = 1700000000123.0, .random = RND };
    int rc; q_error e;
    const char *out = encode3("{\"version\":\"2\"}", "1", "", &af, &rc, &e);
    assert_non_null(strstr(out, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":"));
    static const char HAS_ALL[] = "{\"timestamp\":\"2024-03-01T14:30:00.500Z\",\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\",\"version\":\"2\"}";
    out = encode3(HAS_ALL, "1", "", &af, &rc, &e);
    assert_true(walks_canonical(HAS_ALL, &w));
    assert_non_null(strstr(out, HAS_ALL));
}

/* A canonical meta lacking only what auto-fill adds ahead of its first field (the usual client
 * request: tenant, security... without timestamp, request_id, version) gets the filled fields
 * written before it is copied; where they would go between its fields, the writer places them. */
static void autofilled_fields_ahead_of_a_canonical_meta(void **s) {
    static const uint8_t RND[16] = { 9, 8, 7 };
    env_autofill af = { .fill = true, .now_ms = 1700000000123.0, .random = RND };
    static const char *const METAS[] = {
        "{}", "{\"tenant\":\"bench\",\"security\":{\"user_id\":\"u1\",\"permissions\":[],\"roles\":[]}}",
        "{\"security\":{\"user_id\":\"u1\",\"permissions\":[],\"roles\":[]}}", "{\"version\":\"2\",\"tenant\":\"x\"}",
        "{\"duration\":45,\"security\":{\"user_id\":\"u\",\"permissions\":[],\"roles\":[]}}",   /* between: the writer */
        "{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\"}", "{\"timestamp\":\"2024-03-01T14:30:00.500Z\"}",
        "{\"duration\":45,\"tracing\":{\"tags\":{\"a\":200,\"b\":\"x\"}},\"extensions\":{\"n\":7}}",   /* with ".0" fixes */
        "{\"tenant\":\"t\",\"zzz\":1}", "{ \"tenant\":\"t\"}",   /* not canonical: the writer */
    };
    for (int tenant = 0; tenant < 2; tenant++) {
        af.tenant = tenant ? (const uint8_t *)"d\"flt" : NULL; af.tenant_len = tenant ? 5 : 0;
        for (size_t k = 0; k < sizeof METAS / sizeof *METAS; k++) expect_filled_as_writer(METAS[k], &af);
    }
    /* written ahead, in the struct's order, then the caller's fields */
    int rc; q_error e;
    const char *out = encode3("{\"security\":{\"user_id\":\"u1\",\"permissions\":[],\"roles\":[]}}", "1", "", &af, &rc, &e);
    assert_string_equal(out, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":\"018bcfe5-687b-7908-8700-000000000000\","
                             "\"version\":\"1.0\",\"tenant\":\"d\\\"flt\",\"security\":{\"user_id\":\"u1\",\"permissions\":[],\"roles\":[]}},\"payload\":1}");
    /* a clock that cannot be written fails as the writer fails, named by the field */
    af.now_ms = 1e15;
    encode3("{\"tenant\":\"t\"}", "1", "", &af, &rc, &e);
    assert_int_equal(rc, Q_ERR(BAD_ARGUMENT)); assert_string_equal(e.path, "meta.timestamp");
}

static void allocation_failures_are_clean(void **s) {
    char env[8192];
    snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":[1,2,3]}", FULL_META);
    int failures = 0;
    for (uint32_t n = 1; n < 200; n++) {
        arena_init(64u << 20);
        scratch_reset();
        arena_fail_nth(n);
        env_decoded d; q_error e; q_error_clear(&e);
        int rc = env_decode((const uint8_t *)env, (uint32_t)strlen(env), &LIM, &d, &e);
        if (rc == Q_OK) {
            q_buf out = {0};
            rc = env_encode((const uint8_t *)FULL_META, (uint32_t)strlen(FULL_META), (const uint8_t *)"1", 1, NULL, 0, &LIM, NULL, &out, &e);
        }
        uint32_t count = arena_alloc_count();
        arena_fail_nth(0);
        if (rc == Q_OK && count < n) break;   /* no allocation left to fail */
        assert_int_equal(rc, Q_ERR(OUT_OF_MEMORY));
        failures++;
        /* still usable afterwards */
        scratch_reset();
        assert_int_equal(env_decode((const uint8_t *)env, (uint32_t)strlen(env), &LIM, &d, &e), Q_OK);
    }
    assert_true(failures >= 3);
}

/* The walk reads a string's escapes from its scanner (span.h: a token's size) instead of looking
 * for a backslash again, and compares keys and enum values by length first: escaped keys and
 * values still match their plain names, names one byte longer or shorter never do. */
static void escapes_and_name_lengths_match_as_before(void **s) {
    schema_walk w;
    env_decoded d; q_error e;
    /* an escaped enum value is its name: written plainly, so not canonical */
    expect_encode("{\"security\":{\"auth_method\":\"J\\u0077t\"}}", "1", "", "{\"meta\":{\"security\":{\"auth_method\":\"Jwt\",\"permissions\":[],\"roles\":[]}},\"payload\":1}");
    assert_false(walks_canonical("{\"security\":{\"auth_method\":\"J\\u0077t\",\"permissions\":[],\"roles\":[]}}", &w));
    assert_true(walks_canonical("{\"security\":{\"auth_method\":\"Jwt\",\"permissions\":[],\"roles\":[]}}", &w));
    /* an enum value a byte short or long of a name, or empty, is none */
    static const char *const NOT_ENUM[] = { "Jw", "Jwtt", "", "Inf", "Infos", "Unspecifie", "Unspecifiedd" };
    for (size_t k = 0; k < Q_ARRAY_LEN(NOT_ENUM); k++) {
        char env[256];
        snprintf(env, sizeof env, "{\"meta\":{\"debug\":{\"log_level\":\"%s\"}},\"payload\":1}", NOT_ENUM[k]);
        assert_int_equal(decode(env, &d, &e), Q_ERR(INVALID_ENUM));
    }
    assert_int_equal(decode("{\"meta\":{\"debug\":{\"log_level\":\"\\u0049nfo\"}},\"payload\":1}", &d, &e), Q_OK);
    /* keys a byte short or long of a field's name are unknown (ignored), an escaped name is the field */
    assert_int_equal(decode("{\"meta\":{\"tenan\":1,\"tenantt\":2,\"t\":3},\"payload\":1}", &d, &e), Q_OK);
    assert_int_equal(decode("{\"meta\":{\"tena\\u006et\":3},\"payload\":1}", &d, &e), Q_ERR(TYPE_MISMATCH));
    assert_string_equal(e.path, "meta.tenant");
    assert_false(walks_canonical("{\"tena\\u006et\":\"a\"}", &w));
    assert_true(walks_canonical("{\"tenant\":\"a\"}", &w));
    /* a plain string with an escape is checked as the writer writes it: "\/" is written "/" */
    assert_false(walks_canonical("{\"tenant\":\"a\\/b\"}", &w));
    assert_true(walks_canonical("{\"tenant\":\"a\\nb\"}", &w));
}

/* The walk reads the key it expects next where it stands (`,"name":` then the value: span.h
 * span_next_expected) and anything else through the member reader: every cut of a compact meta,
 * keys one byte off the expected name, whitespace where the shortcut looks, and the envelope's
 * end right after a key answer as the two-pass decoder does. */
static void expected_keys_answer_as_two_passes(void **s) {
    static const char *const METAS[] = {
        "{\"tenant\":\"a\",\"on_behalf_of\":{\"originalUser\":\"u\",\"delegatingUser\":\"d\",\"delegatingTenant\":\"t\"},\"extensions\":{}}",
        "{\"tenant\":\"a\",\"tenan\":1,\"tenantt\":2,\"on_behalf_of\":{\"originalUser\":\"u\",\"originalUse\":\"v\"}}",
        "{\"tenant\":\"a\", \"on_behalf_of\" :{\"originalUser\":\"u\",\"delegatingUser\": \"d\",\n\"delegatingTenant\"\t:\"t\"}}",
        "{\"tenant\":\"a\",\"on_behalf_of\":{\"originalUser\":\"u\",\"original\\u0055ser\":\"w\"}}",
        "{\"tenant\":\"a\",\"tenant\":\"b\"}",
        "{\"tenant\":\"a\",\"on_behalf_of\":{\"originalUser\":1}}",
    };
    char env[512];
    for (size_t k = 0; k < Q_ARRAY_LEN(METAS); k++) {
        int n = snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":1}", METAS[k]);
        for (int cut = 1; cut <= n; cut++) expect_same_as_two_passes((const uint8_t *)env, (uint32_t)cut, &LIM, env);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(malformed_table, setup),
        cmocka_unit_test_setup(expected_keys_answer_as_two_passes, setup),
        cmocka_unit_test_setup(escapes_and_name_lengths_match_as_before, setup),
        cmocka_unit_test_setup(one_pass_reports_what_two_passes_report, setup),
        cmocka_unit_test_setup(one_pass_agrees_under_every_limit, setup),
        cmocka_unit_test_setup(every_meta_field_decodes_and_encodes_canonically, setup),
        cmocka_unit_test_setup(type_mismatch_names_the_expected_type, setup),
        cmocka_unit_test_setup(every_enum_value, setup),
        cmocka_unit_test_setup(enum_map_form_refusals, setup),
        cmocka_unit_test_setup(walk_shortcuts_answer_as_the_long_way, setup),
        cmocka_unit_test_setup(traps_lenient_on_decode_written_on_encode, setup),
        cmocka_unit_test_setup(null_is_absent_for_optional_fields, setup),
        cmocka_unit_test_setup(unknown_keys_ignored_everywhere, setup),
        cmocka_unit_test_setup(uuid_forms_and_timestamps_canonicalised, setup),
        cmocka_unit_test_setup(error_object_and_status_fallback, setup),
        cmocka_unit_test_setup(autofill_new_request, setup),
        cmocka_unit_test_setup(payload_kinds_and_encode_errors, setup),
        cmocka_unit_test_setup(limits_enforced, setup),
        cmocka_unit_test_setup(error_object_is_capped, setup),
        cmocka_unit_test_setup(free_form_values_are_skipped, setup),
        cmocka_unit_test_setup(large_maps_detect_duplicates, setup),
        cmocka_unit_test_setup(round_trip_is_stable, setup),
        cmocka_unit_test_setup(canonical_metas_are_copied_not_rewritten, setup),
        cmocka_unit_test_setup(autofilled_fields_ahead_of_a_canonical_meta, setup),
        cmocka_unit_test_setup(allocation_failures_are_clean, setup),
    };
    return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
