/* REST transport core with a fake clock: the plan JSON (method, URL, envelope_data, the exact
 * header list), the lifecycle table including every BAD_STATE/BAD_HANDLE combination, retry
 * schedules and deadlines, status classification, Retry-After, URL checks, the token store,
 * allocation failures, and that no error or failed output ever carries a secret or payload. */
#include "test_util.h"
#include "config.h"
#include "instance.h"
#include "rest.h"
#include "retry.h"
#include "url.h"
#include "token.h"

void client_release(q_client *c);

#define NOW 1700000000123.0                 /* 2023-11-14T22:13:20.123Z */
#define RID "018bcfe5-687b-7001-8203-040506070809"   /* v7 from NOW and RND[0..9] */
#define TS_PLUS "2023-11-14T22:13:20.123+00:00"
#define TS_Z "2023-11-14T22:13:20.123Z"

static const uint8_t RND[20] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };

static int setup(void **s) { return q_test_setup(s); }

static q_client *client_new(const char *cfg) {
    q_client *c = q_calloc(1, sizeof *c);
    assert_non_null(c);
    q_error e; q_error_clear(&e);
    int rc = config_parse(&c->cfg, (const uint8_t *)cfg, (uint32_t)strlen(cfg), &e);
    if (rc) fail_msg("config %s: %s", cfg, e.message);
    return c;
}

/* ---- calls with their output copied out of scratch -------------------------------------- */

/* The fields of the error record (include/qollective.h, q_error_ptr), in order. */
enum { REC_TYPE, REC_CODE, REC_MESSAGE, REC_POLICY, REC_STATUS, REC_OFFSET, REC_PATH, REC_SOURCE, REC_COUNT_ };

static struct {
    int rc;
    q_error err;
    char text[1 << 21];       /* plan + body, or an action */
    uint32_t len, plan_len;
    char plan[1 << 16];       /* the plan JSON alone, NUL-terminated */
    const char *body;         /* text + plan_len */
    char rec[4096];           /* a reject's error record, unescaped */
    const char *field[REC_COUNT_];   /* its fields (NULL: the action is no reject) */
} R;

/* A reject carries the error record (NUL-separated fields) as a JSON string: read it back. */
static void read_reject(void) {
    static const char PRE[] = "{\"action\":\"reject\",\"error\":\"";
    memset(R.field, 0, sizeof R.field);
    if (strncmp(R.text, PRE, sizeof PRE - 1)) return;
    size_t n = 0;
    int f = 0;
    R.field[0] = R.rec;
    for (const char *p = R.text + sizeof PRE - 1; *p != '"'; p++) {
        assert_true(*p && n + 1 < sizeof R.rec);
        char ch = *p;
        if (ch == '\\') {
            ch = *++p;
            if (ch == 'u') { unsigned v = 0; assert_int_equal(sscanf(p + 1, "%4x", &v), 1); assert_true(v < 0x80); ch = (char)v; p += 4; }
            else if (ch == 'n') ch = '\n';
            else if (ch == 't') ch = '\t';
            else if (ch == 'r') ch = '\r';
        }
        R.rec[n++] = ch;
        if (!ch) { assert_true(f + 1 < REC_COUNT_); R.field[++f] = R.rec + n; }
    }
    R.rec[n] = 0;
    assert_int_equal(f, REC_COUNT_ - 1);
}

static void capture(const q_buf *out) {
    R.len = out->len;
    assert_true(out->len < sizeof R.text);
    if (out->len) memcpy(R.text, out->ptr, out->len);
    R.text[out->len] = 0;
    read_reject();
}

static int prep(q_client *c, const char *meta, const char *payload, const char *opts, double now) {
    scratch_reset();
    q_error_clear(&R.err);
    q_buf out = {0};
    R.plan_len = 0;
    R.rc = rest_prepare(c, (const uint8_t *)meta, (uint32_t)strlen(meta), (const uint8_t *)payload, (uint32_t)strlen(payload),
                        (const uint8_t *)opts, (uint32_t)strlen(opts), RND, now, &out, &R.plan_len, &R.err);
    capture(&out);
    if (R.rc == Q_OK) {
        assert_true(R.plan_len <= R.len && R.plan_len < sizeof R.plan);
        memcpy(R.plan, R.text, R.plan_len); R.plan[R.plan_len] = 0;
        R.body = R.text + R.plan_len;
    } else {
        assert_int_equal(R.plan_len, 0);
        assert_int_equal(R.len, 0);
    }
    return R.rc;
}

/* Prepares and returns the request id (fails the test when prepare fails). */
static uint64_t start(q_client *c, const char *meta, const char *payload, const char *opts, double now) {
    if (prep(c, meta, payload, opts, now)) fail_msg("prepare: %s", R.err.message);
    const char *p = strstr(R.plan, "\"id\":");
    assert_non_null(p);
    return (uint64_t)strtoull(p + 5, NULL, 10);
}

static int respond(q_client *c, uint64_t id, int32_t status, const char *body, const char *ct, const char *ra, double now) {
    scratch_reset();
    q_error_clear(&R.err);
    q_buf out = {0};
    R.rc = rest_response(c, id, status, (const uint8_t *)body, (uint32_t)strlen(body), (const uint8_t *)ct, (uint32_t)strlen(ct),
                         (const uint8_t *)ra, (uint32_t)strlen(ra), now, &out, &R.err);
    capture(&out);
    return R.rc;
}

static int failure(q_client *c, uint64_t id, int kind, double now) {
    scratch_reset();
    q_error_clear(&R.err);
    q_buf out = {0};
    R.rc = rest_failure(c, id, (rest_failure_kind)kind, now, &out, &R.err);
    capture(&out);
    return R.rc;
}

static int attempt(q_client *c, uint64_t id, double now) {
    scratch_reset();
    q_error_clear(&R.err);
    q_buf out = {0};
    R.rc = rest_attempt(c, id, now, &out, &R.err);
    capture(&out);
    return R.rc;
}

#define expect_ok_text(call, want) do { \
        int rc_ = (call); \
        if (rc_) fail_msg("%s failed: %s", #call, R.err.message); \
        assert_string_equal(R.text, want); \
    } while (0)

#define expect_status(call, st) do { \
        int rc_ = (call); \
        if (rc_ != (st)) fail_msg("%s: want %s, got %s (%s)", #call, q_status_code(st), q_status_code(rc_), R.err.message); \
        assert_int_equal(R.len, 0); \
    } while (0)

static void expect_retry(int rc, uint32_t delay, uint32_t next) {
    if (rc) fail_msg("want retry, got %s (%s)", q_status_code(rc), R.err.message);
    char want[96];
    snprintf(want, sizeof want, "{\"action\":\"retry\",\"delay\":%u,\"attempt\":%u}", delay, next);
    assert_string_equal(R.text, want);
}

static void expect_send(int rc, uint32_t n) {
    if (rc) fail_msg("want send, got %s (%s)", q_status_code(rc), R.err.message);
    char want[64];
    snprintf(want, sizeof want, "{\"action\":\"send\",\"attempt\":%u}", n);
    assert_string_equal(R.text, want);
}

/* A reject action with this code (and status, unless -1); checks the shape of the whole action. */
static void expect_reject(int rc, const char *code, int status) {
    if (rc) fail_msg("want reject, got %s (%s)", q_status_code(rc), R.err.message);
    if (!R.field[0]) fail_msg("not a reject: %s", R.text);
    if (strcmp(R.field[REC_CODE], code)) fail_msg("want code %s: %s", code, R.text);
    if (status >= 0) {
        char want[16];
        snprintf(want, sizeof want, "%d", status);
        if (strcmp(R.field[REC_STATUS], want)) fail_msg("want status %d: %s", status, R.text);
    }
    assert_non_null(strstr(R.text, ",\"requestId\":\""));
    assert_int_equal(R.text[R.len - 1], '}');
}

static bool bytes_contain(const void *hay, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp((const uint8_t *)hay + i, needle, m) == 0) return true;
    return false;
}

/* ---- the plan -------------------------------------------------------------------------- */

static void plan_post_exact(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h.example:8080/api/\"}}");
    uint64_t id = start(c, "", "{ \"a\" : 1 }", "", NOW);
    assert_true(id != 0);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"method\":\"POST\",\"url\":\"http://h.example:8080/api/envelope\",\"headers\":["
             "[\"Content-Type\",\"application/json\"],[\"X-Qollective-Request-Id\",\"" RID "\"],"
             "[\"X-Qollective-Version\",\"MS4w\"],[\"X-Qollective-Timestamp\",\"" TS_PLUS "\"]],"
             "\"id\":%llu,\"timeout\":30000,\"deadline\":1700000030123,\"requestId\":\"" RID "\",\"body\":%u}",
             (unsigned long long)id, (unsigned)(R.len - R.plan_len));
    assert_string_equal(R.plan, want);
    assert_string_equal(R.body, "{\"meta\":{\"timestamp\":\"" TS_Z "\",\"request_id\":\"" RID "\",\"version\":\"1.0\"},\"payload\":{\"a\":1}}");
    assert_int_equal(rest_in_flight(c), 1);
    client_release(c);
}

static void plan_every_header_in_order(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"https://h\",\"headers\":{\"X-App\":\"demo\",\"X-Both\":\"config\"}},"
                             "\"security\":{\"auth_token\":\"api\"},\"timeouts\":{\"request_ms\":5000}}");
    q_error e; q_error_clear(&e);
    assert_int_equal(token_set(c, QS("api"), QS("tok.EN~1"), 0, &e), Q_OK);
    const char *meta =
        "{\"tenant\":\"\\u00e4rger-\\ud83d\\ude80\",\"security\":{\"user_id\":\"u1\",\"session_id\":\"s1\"},"
        "\"tracing\":{\"trace_id\":\"t1\",\"span_id\":\"p1\"},"
        "\"on_behalf_of\":{\"originalUser\":\"\xc3\xb6\\\"x\xf0\x9f\x98\x80\x7f\",\"delegatingUser\":\"d\",\"delegatingTenant\":\"t\"}}";
    uint64_t id = start(c, meta, "{\"q\":\"a b&c=d+e#f%g/\xc3\xbc\"}",
                        "{\"method\":\"GET\",\"route\":\"/r?x=1\",\"timeout_ms\":250,\"headers\":{\"X-Call\":\"c\",\"x-both\":\"call\"}}", NOW);
    char want[4096];
    snprintf(want, sizeof want,
             "{\"method\":\"GET\",\"url\":\"https://h/r?x=1&envelope_data=%%7B%%22q%%22%%3A%%22a%%20b%%26c%%3Dd%%2Be%%23f%%25g%%2F%%C3%%BC%%22%%7D\","
             "\"headers\":[[\"X-Qollective-Request-Id\",\"" RID "\"],[\"X-Qollective-Tenant\",\"w6RyZ2VyLfCfmoA=\"],"
             "[\"X-Qollective-Version\",\"MS4w\"],[\"X-Qollective-Timestamp\",\"" TS_PLUS "\"],"
             "[\"X-Qollective-User-Id\",\"u1\"],[\"X-Qollective-Session-Id\",\"s1\"],"
             "[\"X-Qollective-Trace-Id\",\"t1\"],[\"X-Qollective-Span-Id\",\"p1\"],"
             "[\"X-On-Behalf-Of\",\"{\\\"originalUser\\\":\\\"\\\\u00f6\\\\\\\"x\\\\ud83d\\\\ude00\\\\u007f\\\",\\\"delegatingUser\\\":\\\"d\\\",\\\"delegatingTenant\\\":\\\"t\\\"}\"],"
             "[\"Authorization\",\"Bearer tok.EN~1\"],[\"X-App\",\"demo\"],[\"X-Call\",\"c\"],[\"x-both\",\"call\"]],"
             "\"id\":%llu,\"timeout\":250,\"deadline\":1700000000373,\"requestId\":\"" RID "\",\"body\":0}", (unsigned long long)id);
    assert_string_equal(R.plan, want);
    assert_int_equal(R.len, R.plan_len);   /* no body */
    client_release(c);
}

static void plan_methods_and_bodies(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h/\",\"route\":\"/e\",\"method\":\"PUT\"}}");
    static const struct { const char *opts, *method; bool body; } M[] = {
        { "", "PUT", true }, { "{\"method\":\"POST\"}", "POST", true }, { "{\"method\":\"PATCH\"}", "PATCH", true },
        { "{\"method\":\"GET\"}", "GET", false }, { "{\"method\":\"DELETE\"}", "DELETE", false },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(M); k++) {
        start(c, "{\"tenant\":\"a\"}", "[1, \"\\u00e9\", null]", M[k].opts, NOW);
        char want[256];
        snprintf(want, sizeof want, "{\"method\":\"%s\",\"url\":\"http://h/e%s\",\"headers\":[%s", M[k].method,
                 M[k].body ? "" : "?envelope_data=%5B1%2C%22%5Cu00e9%22%2Cnull%5D",
                 M[k].body ? "[\"Content-Type\",\"application/json\"]," : "");
        if (strncmp(R.plan, want, strlen(want))) fail_msg("%s\nwant prefix %s", R.plan, want);
        assert_non_null(strstr(R.plan, "[\"X-Qollective-Tenant\",\"YQ==\"]"));
        if (M[k].body) {
            assert_string_equal(R.body, "{\"meta\":{\"timestamp\":\"" TS_Z "\",\"request_id\":\"" RID "\",\"version\":\"1.0\",\"tenant\":\"a\"},\"payload\":[1,\"\\u00e9\",null]}");
            assert_non_null(strstr(R.plan, "\"body\":"));
        } else {
            assert_int_equal(R.len, R.plan_len);
            assert_non_null(strstr(R.plan, "\"body\":0}"));
            assert_null(strstr(R.plan, "Content-Type"));
        }
    }
    assert_int_equal(rest_in_flight(c), 5);
    client_release(c);
}

static void plan_tenant_padding_and_defaults(void **s) {
    static const struct { const char *tenant, *b64; } T[] = {
        { "a", "YQ==" }, { "ab", "YWI=" }, { "abc", "YWJj" }, { "?\?>>", "Pz8+Pg==" }, { "", "" },
    };
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"}}");
    for (size_t k = 0; k < Q_ARRAY_LEN(T); k++) {
        char meta[64], want[96];
        snprintf(meta, sizeof meta, "{\"tenant\":\"%s\"}", T[k].tenant);
        snprintf(want, sizeof want, "[\"X-Qollective-Tenant\",\"%s\"]", T[k].b64);
        start(c, meta, "1", "", NOW);
        if (!strstr(R.plan, want)) fail_msg("%s: %s", T[k].tenant, R.plan);
    }
    client_release(c);
    /* the configured tenant fills in; uuid v4 when configured */
    c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"meta\":{\"tenant\":\"dflt\",\"uuid_version\":4}}");
    start(c, "", "1", "", NOW);
    assert_non_null(strstr(R.plan, "[\"X-Qollective-Tenant\",\"ZGZsdA==\"]"));
    assert_non_null(strstr(R.plan, "[\"X-Qollective-Request-Id\",\"00010203-0405-4607-8809-0a0b0c0d0e0f\"]"));
    /* a caller-given request id and timestamp with an offset */
    start(c, "{\"request_id\":\"0190A3F2-1234-7ABC-8DEF-0123456789AB\",\"timestamp\":\"2024-01-01T12:00:00.5+02:00\"}", "1", "", NOW);
    assert_non_null(strstr(R.plan, "[\"X-Qollective-Request-Id\",\"0190a3f2-1234-7abc-8def-0123456789ab\"]"));
    assert_non_null(strstr(R.plan, "[\"X-Qollective-Timestamp\",\"2024-01-01T10:00:00.500+00:00\"]"));
    assert_non_null(strstr(R.plan, "\"requestId\":\"0190a3f2-1234-7abc-8def-0123456789ab\""));
    assert_non_null(strstr(R.body, "\"timestamp\":\"2024-01-01T10:00:00.500Z\""));
    client_release(c);
}

static void plan_errors(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"X-App\":\"a\"}},\"security\":{\"auth_token\":\"api\"}}");
    /* NO_TOKEN before the token is set */
    expect_status(prep(c, "", "1", "", NOW), Q_ERR(NO_TOKEN));
    assert_string_equal(R.err.path, "security.auth_token");
    q_error e; q_error_clear(&e);
    assert_int_equal(token_set(c, QS("api"), QS("t"), 0, &e), Q_OK);
    static const struct { const char *meta, *opts; int st; const char *path; } BAD[] = {
        { "{\"security\":{\"user_id\":\"a\\nb\"}}", "", Q_ERR(INVALID_VALUE), "meta.security.user_id" },
        { "{\"security\":{\"user_id\":\"j\xc3\xb6rg\"}}", "", Q_ERR(INVALID_VALUE), "meta.security.user_id" },
        { "{\"security\":{\"user_id\":\"a\\u007fb\"}}", "", Q_ERR(INVALID_VALUE), "meta.security.user_id" },
        { "{\"security\":{\"user_id\":\" padded\"}}", "", Q_ERR(INVALID_VALUE), "meta.security.user_id" },
        { "{\"security\":{\"session_id\":\"x\\t\"}}", "", Q_ERR(INVALID_VALUE), "meta.security.session_id" },
        { "{\"tracing\":{\"trace_id\":\"\\r\"}}", "", Q_ERR(INVALID_VALUE), "meta.tracing.trace_id" },
        { "{\"tracing\":{\"span_id\":\"\\u00e9\"}}", "", Q_ERR(INVALID_VALUE), "meta.tracing.span_id" },
        { "", "{\"headers\":{\"Bad Name\":\"v\"}}", Q_ERR(INVALID_VALUE), "options.headers" },
        { "", "{\"headers\":{\"X-V\":\"a\\nb\"}}", Q_ERR(INVALID_VALUE), "options.headers" },
        { "", "{\"headers\":{\"x-qollective-request-id\":\"nope\"}}", Q_ERR(INVALID_VALUE), "options.headers" },
        { "", "{\"headers\":{\"CONTENT-TYPE\":\"text/plain\"}}", Q_ERR(INVALID_VALUE), "options.headers" },
        { "", "{\"headers\":{\"Authorization\":\"Basic x\"}}", Q_ERR(INVALID_VALUE), "options.headers" },
        { "", "{\"route\":\"//evil\"}", Q_ERR(INVALID_URL), "options.route" },
        { "", "{\"route\":\"x\"}", Q_ERR(INVALID_URL), "options.route" },
        { "", "{\"method\":\"HEAD\"}", Q_ERR(INVALID_ENUM), "options.method" },
        { "", "{\"method\":{\"GET\":null}}", Q_ERR(TYPE_MISMATCH), "options.method" },   /* serde's map form: the meta's only */
        { "", "{\"timeout_ms\":0}", Q_ERR(OUT_OF_RANGE), "options.timeout_ms" },
        { "", "{\"nope\":1}", Q_ERR(UNKNOWN_KEY), NULL },
        { "", "[1]", Q_ERR(TYPE_MISMATCH), "options" },
        { "{\"request_id\":\"x\"}", "", Q_ERR(INVALID_UUID), "meta.request_id" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        int rc = prep(c, BAD[k].meta, "1", BAD[k].opts, NOW);
        if (rc != BAD[k].st) fail_msg("case %zu: want %s, got %s (%s)", k, q_status_code(BAD[k].st), q_status_code(rc), R.err.message);
        if (BAD[k].path && strcmp(R.err.path, BAD[k].path)) fail_msg("case %zu: path '%s' (%s)", k, R.err.path, R.err.message);
        assert_int_equal(rest_in_flight(c), 0);
    }
    /* header names and values past limits.max_header_bytes (the URL does not count: wire-format.md §4) */
    static char pad[Q_DEFAULT_MAX_HEADER_BYTES + 64];
    snprintf(pad, sizeof pad, "{\"headers\":{\"X-Pad\":\"%0*d\"}}", Q_DEFAULT_MAX_HEADER_BYTES, 0);
    expect_status(prep(c, "", "1", pad, NOW), Q_ERR(TOO_LARGE));
    assert_string_equal(R.err.path, "headers");
    assert_int_equal(rest_in_flight(c), 0);
    /* a GET payload too big for its URL */
    static char big[Q_MAX_QUERY_URL_BYTES + 16];
    memset(big, 'x', sizeof big); big[0] = '"'; big[sizeof big - 2] = '"'; big[sizeof big - 1] = 0;
    expect_status(prep(c, "", big, "{\"method\":\"GET\"}", NOW), Q_ERR(TOO_LARGE));
    assert_string_equal(R.err.path, "url");
    assert_int_equal(rest_in_flight(c), 0);
    /* no base URL configured */
    q_client *d = client_new("{}");
    expect_status(prep(d, "", "1", "", NOW), Q_ERR(CONFIG_INVALID));
    assert_string_equal(R.err.path, "rest.base_url");
    client_release(d);
    client_release(c);
}

static void plan_config_headers_reserved(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"X-Qollective-Tenant\":\"x\"}}}");
    expect_status(prep(c, "", "1", "", NOW), Q_ERR(INVALID_VALUE));
    assert_string_equal(R.err.path, "rest.headers");
    client_release(c);
    /* Authorization is the caller's own when no token is configured */
    c = client_new("{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"Authorization\":\"Basic eA==\"}}}");
    start(c, "", "1", "", NOW);
    assert_non_null(strstr(R.plan, "[\"Authorization\",\"Basic eA==\"]"));
    client_release(c);
}

static void limit_in_flight(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"limits\":{\"max_in_flight\":2}}");
    uint32_t a = start(c, "", "1", "", NOW);
    start(c, "", "1", "", NOW);
    expect_status(prep(c, "", "1", "", NOW), Q_ERR(LIMIT_REACHED));
    assert_string_equal(R.err.path, "limits.max_in_flight");
    expect_reject(failure(c, a, RF_ABORTED, NOW), "ABORTED", -1);
    start(c, "", "1", "", NOW);
    assert_int_equal(rest_in_flight(c), 2);
    client_release(c);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

#define GOOD_BODY "{\"meta\":{\"request_id\":\"" RID "\",\"tenant\":\"t\"},\"payload\":{\"a\":1}}"

static void resolve_record_and_exactly_once(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"}}");
    uint64_t id = start(c, "", "1", "", NOW);
    const char *body = GOOD_BODY;
    uint32_t moff = 8, mlen = (uint32_t)(strstr(body, ",\"payload\"") - body) - 8;
    uint32_t poff = (uint32_t)(strstr(body, "{\"a\"") - body), rid = (uint32_t)(strstr(body, RID) - body);
    char want[256];
    snprintf(want, sizeof want, "{\"action\":\"resolve\",\"record\":[%u,%u,%u,7,0,0,0,0,0,0,0,%u,36,0]}", moff, mlen, poff, rid);
    expect_ok_text(respond(c, id, 200, body, "application/json", "", NOW + 5), want);
    assert_int_equal(rest_in_flight(c), 0);
    /* the id is unknown from now on, whatever arrives */
    expect_status(respond(c, id, 200, body, "application/json", "", NOW), Q_ERR(BAD_HANDLE));
    assert_string_equal(R.err.path, "request");
    for (int k = RF_NETWORK; k <= RF_ABORTED; k++) expect_status(failure(c, id, k, NOW), Q_ERR(BAD_HANDLE));
    expect_status(attempt(c, id, NOW), Q_ERR(BAD_HANDLE));
    /* 2xx other than 200, with unknown keys and sorted keys */
    id = start(c, "", "1", "", NOW);
    if (respond(c, id, 201, "{\"payload\":null,\"x\":1,\"meta\":{}}", "", "", NOW)) fail_msg("%s", R.err.message);
    assert_non_null(strstr(R.text, "\"action\":\"resolve\""));
    client_release(c);
}

static void reject_is_final(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"}}");
    uint64_t id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    const char *err_env = "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"HANDLER_ERROR\",\"message\":\"Handler error: boom\","
                          "\"details\":{\"operation\":\"handler_execution\"},\"http_status_code\":400}}";
    respond(c, id, 400, err_env, "application/json", "", NOW);
    expect_reject(R.rc, "HANDLER_ERROR", 400);
    assert_string_equal(R.field[REC_TYPE], "validation");
    assert_string_equal(R.field[REC_MESSAGE], "Handler error: boom");
    assert_string_equal(R.field[REC_POLICY], "none");   /* not retryable */
    /* the details are named by their range in the body (the host holds it), never copied */
    const char *details = "{\"operation\":\"handler_execution\"}";
    char tail[128];
    snprintf(tail, sizeof tail, ",\"requestId\":\"" RID "\",\"detailsAt\":[%d,%d]}", (int)(strstr(err_env, details) - err_env), (int)strlen(details));
    assert_non_null(strstr(R.text, tail));
    assert_int_equal(rest_in_flight(c), 0);
    expect_status(respond(c, id, 400, err_env, "", "", NOW), Q_ERR(BAD_HANDLE));
    expect_status(failure(c, id, RF_ABORTED, NOW), Q_ERR(BAD_HANDLE));
    /* string details are JSON text too, quotes included */
    id = start(c, "", "1", "", NOW);
    const char *conflict = "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"CONFLICT\",\"message\":\"m\",\"details\":\"d\\\"q\"}}";
    respond(c, id, 409, conflict, "", "", NOW);
    expect_reject(R.rc, "CONFLICT", 409);
    snprintf(tail, sizeof tail, ",\"detailsAt\":[%d,6]}", (int)(strstr(conflict, "\"d\\") - conflict));
    assert_non_null(strstr(R.text, tail));
    /* no details: null */
    id = start(c, "", "1", "", NOW);
    respond(c, id, 404, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"m\"}}", "", "", NOW);
    assert_non_null(strstr(R.text, ",\"details\":null}"));
    client_release(c);
}

static void bad_state_combinations(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0,\"max_attempts\":5}}");
    uint64_t id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    /* IN_FLIGHT: a timer event is out of place; the entry is untouched */
    expect_status(attempt(c, id, NOW), Q_ERR(BAD_STATE));
    assert_string_equal(R.err.path, "request");
    /* bad arguments leave the entry as it was */
    expect_status(respond(c, id, 99, "", "", "", NOW), Q_ERR(BAD_ARGUMENT));
    expect_status(respond(c, id, 600, "", "", "", NOW), Q_ERR(BAD_ARGUMENT));
    expect_status(failure(c, id, 0, NOW), Q_ERR(BAD_ARGUMENT));
    expect_status(failure(c, id, 4, NOW), Q_ERR(BAD_ARGUMENT));
    /* → BACKOFF */
    expect_retry(respond(c, id, 503, "Service Unavailable", "text/plain", "", NOW), 1000, 2);
    expect_status(respond(c, id, 200, GOOD_BODY, "application/json", "", NOW), Q_ERR(BAD_STATE));
    expect_status(respond(c, id, 503, "x", "", "", NOW), Q_ERR(BAD_STATE));
    expect_status(failure(c, id, RF_NETWORK, NOW), Q_ERR(BAD_STATE));
    expect_status(failure(c, id, RF_TIMEOUT, NOW), Q_ERR(BAD_STATE));
    expect_status(failure(c, id, 9, NOW), Q_ERR(BAD_STATE));
    assert_int_equal(rest_in_flight(c), 1);
    /* BACKOFF → IN_FLIGHT; a second attempt event is out of place again */
    expect_send(attempt(c, id, NOW + 1000), 2);
    expect_status(attempt(c, id, NOW + 1000), Q_ERR(BAD_STATE));
    expect_retry(failure(c, id, RF_NETWORK, NOW + 1001), 2000, 3);
    /* ABORTED is accepted in any state */
    expect_reject(failure(c, id, RF_ABORTED, NOW + 1002), "ABORTED", -1);
    assert_string_equal(R.field[REC_TYPE], "aborted");
    assert_int_equal(rest_in_flight(c), 0);
    expect_status(attempt(c, id, NOW + 3000), Q_ERR(BAD_HANDLE));
    /* ABORTED while in flight; TIMEOUT while in flight */
    id = start(c, "", "1", "", NOW);
    expect_reject(failure(c, id, RF_ABORTED, NOW), "ABORTED", -1);
    id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    expect_reject(failure(c, id, RF_TIMEOUT, NOW + 1), "TIMEOUT", -1);
    assert_string_equal(R.field[REC_TYPE], "timeout");
    expect_status(failure(c, id, RF_TIMEOUT, NOW), Q_ERR(BAD_HANDLE));
    client_release(c);
}

static void stale_and_bogus_ids(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"}}");
    expect_status(respond(c, 1u << 20, 200, GOOD_BODY, "", "", NOW), Q_ERR(BAD_HANDLE));   /* no table yet */
    uint64_t a = start(c, "", "1", "", NOW);
    expect_status(respond(c, 0, 200, GOOD_BODY, "", "", NOW), Q_ERR(BAD_HANDLE));
    expect_status(respond(c, a + 1, 200, GOOD_BODY, "", "", NOW), Q_ERR(BAD_HANDLE));          /* other slot */
    expect_status(respond(c, a ^ (1u << 21), 200, GOOD_BODY, "", "", NOW), Q_ERR(BAD_HANDLE)); /* other generation */
    expect_status(respond(c, 0xFFFFFFFFu, 200, GOOD_BODY, "", "", NOW), Q_ERR(BAD_HANDLE));
    expect_reject(failure(c, a, RF_ABORTED, NOW), "ABORTED", -1);
    /* the slot is reused under a new generation: the old id stays dead */
    uint64_t b = start(c, "", "1", "", NOW);
    assert_int_equal(b & 0xFFFFF, a & 0xFFFFF);
    assert_true(b != a);
    expect_status(failure(c, a, RF_ABORTED, NOW), Q_ERR(BAD_HANDLE));
    assert_int_equal(rest_in_flight(c), 1);
    if (respond(c, b, 200, GOOD_BODY, "application/json", "", NOW)) fail_msg("%s", R.err.message);
    /* thousands of ids through one slot never hand out a live id twice, and the first ids stay
     * dead: the 33-bit generation does not come round for 2^33 requests (it had 11 bits, and
     * `a` came back to life after 2,047) */
    for (int k = 0; k < 5000; k++) {
        uint64_t x = start(c, "", "1", "", NOW);
        assert_true(x != 0 && x < (UINT64_C(1) << 53));   /* exact as a JS number on the wasm boundary */
        assert_int_equal(x & 0xFFFFF, a & 0xFFFFF);        /* the same slot every time */
        expect_status(failure(c, a, RF_ABORTED, NOW), Q_ERR(BAD_HANDLE));
        expect_status(failure(c, b, RF_ABORTED, NOW), Q_ERR(BAD_HANDLE));
        expect_reject(failure(c, x, RF_ABORTED, NOW), "ABORTED", -1);
        expect_status(failure(c, x, RF_ABORTED, NOW), Q_ERR(BAD_HANDLE));
    }
    client_release(c);
}

/* ---- classification and retries ------------------------------------------------------------ */

static void status_kinds(void **s) {
    static const struct { int32_t status; q_kind kind; bool retryable; } K[] = {
        { 408, QK_TIMEOUT, true }, { 429, QK_REMOTE, true },
        { 400, QK_VALIDATION, false }, { 405, QK_VALIDATION, false }, { 413, QK_VALIDATION, false },
        { 414, QK_VALIDATION, false }, { 415, QK_VALIDATION, false }, { 422, QK_VALIDATION, false },
        { 431, QK_VALIDATION, false }, { 401, QK_SECURITY, false }, { 403, QK_SECURITY, false },
        { 501, QK_REMOTE, false }, { 505, QK_REMOTE, false },
        { 500, QK_REMOTE, true }, { 502, QK_REMOTE, true }, { 503, QK_REMOTE, true }, { 504, QK_REMOTE, true },
        { 599, QK_REMOTE, true }, { 404, QK_REMOTE, false }, { 409, QK_REMOTE, false }, { 418, QK_REMOTE, false },
        { 300, QK_REMOTE, false }, { 200, QK_REMOTE, false }, { 100, QK_REMOTE, false },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(K); k++) {
        bool r = !K[k].retryable;
        q_kind kind = rest_status_kind(K[k].status, &r);
        if (kind != K[k].kind || r != K[k].retryable)
            fail_msg("%d: kind %s retryable %d", K[k].status, q_kind_name(kind), r);
    }
}

static void non_envelope_replies(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"}}");
    uint64_t id = start(c, "", "1", "", NOW);
    const char *html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body></html>";
    respond(c, id, 502, html, "text/html", "", NOW);
    expect_reject(R.rc, "HTTP_STATUS", 502);
    assert_string_equal(R.field[REC_MESSAGE], "HTTP 502 without an envelope (text/html, 118 bytes)");
    assert_string_equal(R.field[REC_POLICY], "linear");   /* retryable */
    id = start(c, "", "1", "", NOW);
    respond(c, id, 404, "", "text/plain; charset=utf-8", "", NOW);
    expect_reject(R.rc, "HTTP_STATUS", 404);
    assert_string_equal(R.field[REC_MESSAGE], "HTTP 404 without an envelope (text/plain, 0 bytes)");
    id = start(c, "", "1", "", NOW);
    respond(c, id, 200, "{\"meta\":{},\"payl", "application/json", "", NOW);
    expect_reject(R.rc, "NOT_AN_ENVELOPE", 200);
    assert_non_null(strstr(R.text, "HTTP 200 response is not a valid envelope (application/json)"));
    id = start(c, "", "1", "", NOW);
    respond(c, id, 204, "", "", "", NOW);
    expect_reject(R.rc, "NOT_AN_ENVELOPE", 204);
    assert_non_null(strstr(R.text, "(no content type)"));
    /* error envelope on 200 with its own status */
    id = start(c, "", "1", "", NOW);
    respond(c, id, 200, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"NOT_FOUND_THING\",\"message\":\"\"}}", "application/json", "", NOW);
    expect_reject(R.rc, "NOT_FOUND_THING", 404);
    assert_non_null(strstr(R.text, "server returned an error without a message"));
    /* error envelope without http_status_code: the HTTP status wins over the code table */
    id = start(c, "", "1", "", NOW);
    respond(c, id, 503, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"VALIDATION_X\",\"message\":\"m\"}}", "application/json", "", NOW);
    expect_reject(R.rc, "VALIDATION_X", 503);
    /* an oversized 200 (the limit leaves room for the request's own auto-filled envelope) */
    q_client *small = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"limits\":{\"max_envelope_bytes\":200}}");
    id = start(small, "", "1", "", NOW);
    char big[320];
    snprintf(big, sizeof big, "{\"meta\":{},\"payload\":\"%0*d\"}", 250, 0);
    respond(small, id, 200, big, "application/json", "", NOW);
    expect_reject(R.rc, "NOT_AN_ENVELOPE", 200);
    assert_non_null(strstr(R.text, "limit"));
    client_release(small);
    client_release(c);
}

static void retry_delay_schedules(void **s) {
    retry_params p = { 10, 1000, 30000, 0 };
    uint32_t seed = 1;
    const uint32_t expo[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
    for (uint32_t k = 0; k < Q_ARRAY_LEN(expo); k++)
        assert_int_equal(retry_delay_ms(QR_EXPONENTIAL, k + 2, &p, -1, &seed), expo[k]);
    assert_int_equal(retry_delay_ms(QR_EXPONENTIAL, 40, &p, -1, &seed), 30000);
    assert_int_equal(retry_delay_ms(QR_EXPONENTIAL, 1, &p, -1, &seed), 1000);
    assert_int_equal(retry_delay_ms(QR_EXPONENTIAL, 0, &p, -1, &seed), 1000);
    for (uint32_t k = 2; k < 40; k++) assert_int_equal(retry_delay_ms(QR_LINEAR, k, &p, -1, &seed), Q_MIN(1000 * (k - 1), 30000));
    assert_int_equal(retry_delay_ms(QR_IMMEDIATE, 3, &p, -1, &seed), 0);
    assert_int_equal(retry_delay_ms(QR_NONE, 3, &p, -1, &seed), 0);
    /* Retry-After wins when longer, even past the cap */
    assert_int_equal(retry_delay_ms(QR_LINEAR, 2, &p, 5000, &seed), 5000);
    assert_int_equal(retry_delay_ms(QR_LINEAR, 2, &p, 500, &seed), 1000);
    assert_int_equal(retry_delay_ms(QR_LINEAR, 2, &p, 60000, &seed), 60000);
    assert_int_equal(retry_delay_ms(QR_IMMEDIATE, 2, &p, 2000, &seed), 2000);
    assert_int_equal(seed, 1);   /* no jitter: the seed is not consumed */
    /* cap below the base */
    retry_params q = { 10, 1000, 500, 0 };
    assert_int_equal(retry_delay_ms(QR_EXPONENTIAL, 2, &q, -1, &seed), 500);

    /* with jitter: within +/- pct, spread out, never above the cap, the seed advances */
    retry_params j = { 10, 1000, 30000, 20 };
    uint32_t lo = UINT32_MAX, hi = 0;
    seed = 0x13121110;
    for (int k = 0; k < 2000; k++) {
        uint32_t before = seed;
        uint32_t d = retry_delay_ms(QR_EXPONENTIAL, 3, &j, -1, &seed);
        assert_true(d >= 1600 && d <= 2400);
        assert_true(seed != before);
        lo = Q_MIN(lo, d); hi = Q_MAX(hi, d);
        uint32_t l = retry_delay_ms(QR_LINEAR, 4, &j, -1, &seed);
        assert_true(l >= 2400 && l <= 3600);
        uint32_t m = retry_delay_ms(QR_EXPONENTIAL, 20, &j, -1, &seed);
        assert_true(m >= 24000 && m <= 30000);
    }
    assert_true(lo < 1700 && hi > 2300);
    /* the same seed gives the same schedule (the core keeps no hidden randomness) */
    uint32_t s1 = 42, s2 = 42;
    for (int k = 2; k < 8; k++) assert_int_equal(retry_delay_ms(QR_LINEAR, (uint32_t)k, &j, -1, &s1), retry_delay_ms(QR_LINEAR, (uint32_t)k, &j, -1, &s2));
    /* 100 % jitter stays within [0, 2d] and the cap */
    retry_params h = { 10, 1000, 1500, 100 };
    for (int k = 0; k < 500; k++) assert_true(retry_delay_ms(QR_LINEAR, 2, &h, -1, &seed) <= 1500);
}

static void retry_after_values(void **s) {
    static const struct { const char *v; int64_t ms; } V[] = {
        { "", -1 }, { "   ", -1 }, { "0", 0 }, { "1", 1000 }, { " 5\t", 5000 }, { "120", 120000 },
        { "86400", 86400000 }, { "86401", 86400000 }, { "999999999999999999999", 86400000 },
        { "abc", -1 }, { "1.5", -1 }, { "-1", -1 }, { "+1", -1 }, { "5 6", -1 }, { "12a", -1 },
        { "Wed, 21 Oct 2015 07:28:00 GMT", -1 }, { "1\n", -1 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(V); k++) {
        int64_t got = retry_after_parse((const uint8_t *)V[k].v, (uint32_t)strlen(V[k].v));
        if (got != V[k].ms) fail_msg("'%s': want %lld, got %lld", V[k].v, (long long)V[k].ms, (long long)got);
    }
}

static void lifecycle_schedules(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0,\"max_attempts\":5,\"max_delay_ms\":3000}}");
    /* network failures: exponential 1000, 2000, 4000→3000 (cap), then the last attempt's error */
    uint64_t id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    double t = NOW;
    const uint32_t expo[] = { 1000, 2000, 3000, 3000 };
    for (uint32_t k = 0; k < 4; k++) {
        expect_retry(failure(c, id, RF_NETWORK, t), expo[k], k + 2);
        t += expo[k];
        expect_send(attempt(c, id, t), k + 2);
    }
    expect_reject(failure(c, id, RF_NETWORK, t), "NETWORK", -1);
    assert_string_equal(R.field[REC_TYPE], "connection");
    assert_string_equal(R.field[REC_POLICY], "exponential");
    /* 5xx: linear 1000, 2000, 3000, 3000 */
    id = start(c, "", "1", "{\"method\":\"DELETE\"}", NOW);
    t = NOW;
    const uint32_t lin[] = { 1000, 2000, 3000, 3000 };
    for (uint32_t k = 0; k < 4; k++) {
        expect_retry(respond(c, id, 500, "oops", "text/plain", "", t), lin[k], k + 2);
        t += lin[k];
        expect_send(attempt(c, id, t), k + 2);
    }
    expect_reject(respond(c, id, 500, "oops", "text/plain", "", t), "HTTP_STATUS", 500);
    /* 408: exponential; a malformed 200: immediate (deserialization, wire-format.md §3) */
    id = start(c, "", "1", "{\"method\":\"PUT\"}", NOW);
    expect_retry(respond(c, id, 408, "", "", "", NOW), 1000, 2);
    expect_send(attempt(c, id, NOW + 1000), 2);
    expect_retry(respond(c, id, 408, "", "", "", NOW + 1000), 2000, 3);
    expect_reject(failure(c, id, RF_ABORTED, NOW + 1000), "ABORTED", -1);
    id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    expect_retry(respond(c, id, 200, "{\"meta\"", "application/json", "", NOW), 0, 2);
    expect_send(attempt(c, id, NOW), 2);
    expect_reject(failure(c, id, RF_ABORTED, NOW), "ABORTED", -1);
    /* Retry-After: only for 429 and 503, only when longer, garbage ignored */
    static const struct { int32_t status; const char *ra; uint32_t delay; } RA[] = {
        { 429, "2", 2000 }, { 503, "  3 ", 3000 }, { 503, "0", 1000 }, { 500, "5", 1000 }, { 429, "soon", 1000 },
        { 429, "Wed, 21 Oct 2015 07:28:00 GMT", 1000 }, { 503, "60", 60000 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(RA); k++) {
        id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":100000}", NOW);
        expect_retry(respond(c, id, RA[k].status, "x", "text/plain", RA[k].ra, NOW), RA[k].delay, 2);
        expect_reject(failure(c, id, RF_ABORTED, NOW), "ABORTED", -1);
    }
    assert_int_equal(rest_in_flight(c), 0);
    client_release(c);
}

/* The core checks the deadline on every event it is fed (fake clock): an outcome at or after
 * the deadline is a TIMEOUT whatever it says, one just before it is taken as it is. */
static void deadline_on_every_event(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0}}");
    const double DL = NOW + 1000;                       /* timeout_ms 1000 */
    uint64_t id = start(c, "", "1", "{\"timeout_ms\":1000}", NOW);
    respond(c, id, 200, GOOD_BODY, "application/json", "", DL);
    expect_reject(R.rc, "TIMEOUT", -1);
    assert_non_null(strstr(R.text, "after the request deadline"));
    assert_string_equal(R.field[REC_SOURCE], "network");
    id = start(c, "", "1", "{\"timeout_ms\":1000}", NOW);
    respond(c, id, 200, GOOD_BODY, "application/json", "", DL - 1);
    assert_int_equal(R.rc, Q_OK);
    assert_non_null(strstr(R.text, "\"action\":\"resolve\""));
    /* a GET whose network failure comes late is not retried */
    id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":1000}", NOW);
    expect_reject(failure(c, id, RF_NETWORK, DL + 5), "TIMEOUT", -1);
    /* a late redirect is not followed */
    id = start(c, "", "1", "{\"timeout_ms\":1000}", NOW);
    scratch_reset();
    q_buf out = { 0 };
    q_error_clear(&R.err);
    R.rc = rest_redirect(c, id, 307, QS("http://h/envelope"), QS("/x"), DL, &out, &R.err);
    capture(&out);
    expect_reject(R.rc, "TIMEOUT", -1);
    /* and an error envelope that comes late is a TIMEOUT too, not the server's error */
    id = start(c, "", "1", "{\"timeout_ms\":1000}", NOW);
    respond(c, id, 503, "x", "text/plain", "", DL + 1);
    expect_reject(R.rc, "TIMEOUT", -1);
    assert_int_equal(rest_in_flight(c), 0);
    client_release(c);
}

static void retry_policy_by_method(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0}}");
    static const struct { const char *opts; bool retried; } M[] = {
        { "{\"method\":\"GET\"}", true }, { "{\"method\":\"PUT\"}", true }, { "{\"method\":\"DELETE\"}", true },
        { "{\"method\":\"POST\"}", false }, { "{\"method\":\"PATCH\"}", false },
        { "{\"method\":\"POST\",\"idempotent\":true}", true }, { "{\"method\":\"PATCH\",\"idempotent\":true}", true },
        { "{\"method\":\"POST\",\"idempotent\":false}", false },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(M); k++) {
        uint64_t id = start(c, "", "1", M[k].opts, NOW);
        int rc = respond(c, id, 503, "x", "text/plain", "", NOW);
        if (M[k].retried) { expect_retry(rc, 1000, 2); expect_reject(failure(c, id, RF_ABORTED, NOW), "ABORTED", -1); }
        else expect_reject(rc, "HTTP_STATUS", 503);
        /* 4xx is never retried, whatever the method */
        id = start(c, "", "1", M[k].opts, NOW);
        expect_reject(respond(c, id, 400, "bad", "text/plain", "", NOW), "HTTP_STATUS", 400);
        id = start(c, "", "1", M[k].opts, NOW);
        expect_reject(respond(c, id, 404, "", "text/plain", "", NOW), "HTTP_STATUS", 404);
        id = start(c, "", "1", M[k].opts, NOW);
        expect_reject(respond(c, id, 401, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"AUTHENTICATION_FAILED\",\"message\":\"no\"}}", "application/json", "", NOW),
                      "AUTHENTICATION_FAILED", 401);
    }
    client_release(c);
    /* the config switch covers POST and PATCH */
    c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0,\"retry_non_idempotent\":true}}");
    uint64_t id = start(c, "", "1", "", NOW);
    expect_retry(failure(c, id, RF_NETWORK, NOW), 1000, 2);
    client_release(c);
    /* max_attempts 1: nothing is retried */
    c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"max_attempts\":1}}");
    id = start(c, "", "1", "{\"method\":\"GET\"}", NOW);
    expect_reject(failure(c, id, RF_NETWORK, NOW), "NETWORK", -1);
    client_release(c);
}

static void deadline_stops_retries(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0,\"max_attempts\":10}}");
    /* timeout 2500: retry after 1000 fits; the next (2000 more, at 3000) would not → the last error */
    uint64_t id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":2500}", NOW);
    assert_non_null(strstr(R.plan, "\"deadline\":1700000002623"));
    expect_retry(failure(c, id, RF_NETWORK, NOW), 1000, 2);
    expect_send(attempt(c, id, NOW + 1000), 2);
    expect_reject(failure(c, id, RF_NETWORK, NOW + 1000), "NETWORK", -1);
    /* now + delay == deadline is too late; one ms more is fine */
    id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":1000}", NOW);
    expect_reject(respond(c, id, 503, "x", "", "", NOW), "HTTP_STATUS", 503);
    id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":1001}", NOW);
    expect_retry(respond(c, id, 503, "x", "", "", NOW), 1000, 2);
    /* the timer fired late, past the deadline → TIMEOUT, and the id is gone */
    expect_reject(attempt(c, id, NOW + 1001), "TIMEOUT", -1);
    assert_non_null(strstr(R.text, "deadline passed while waiting to retry"));
    expect_status(attempt(c, id, NOW + 1001), Q_ERR(BAD_HANDLE));
    /* a Retry-After beyond the deadline rejects at once with the server's error */
    id = start(c, "", "1", "{\"method\":\"GET\",\"timeout_ms\":5000}", NOW);
    expect_reject(respond(c, id, 429, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"RATE_LIMIT\",\"message\":\"slow down\"}}", "application/json", "10", NOW),
                  "RATE_LIMIT", 429);
    /* the default deadline comes from timeouts.request_ms */
    q_client *d = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"timeouts\":{\"request_ms\":1234}}");
    start(d, "", "1", "", NOW);
    assert_non_null(strstr(R.plan, "\"timeout\":1234,\"deadline\":1700000001357,"));
    client_release(d);
    assert_int_equal(rest_in_flight(c), 0);
    client_release(c);
}

/* ---- URLs -------------------------------------------------------------------------------- */

static void url_base_table(void **s) {
    static const struct { const char *url; uint32_t scheme, origin; } OK[] = {
        { "http://h", 4, 8 }, { "https://h:443/", 5, 13 }, { "HTTP://Example.COM:8080/a/b", 4, 23 },
        { "http://127.0.0.1:1", 4, 18 }, { "http://[::1]:8080/x", 4, 17 }, { "http://[2001:db8::1]", 4, 20 },
        { "http://h/a%2Fb@c", 4, 8 }, { "http://h:65535", 4, 14 }, { "http://a_b.c-d/", 4, 14 }, { "hTTpS://h", 5, 9 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(OK); k++) {
        url_parts p; q_error e; q_error_clear(&e);
        int rc = url_parse_base((const uint8_t *)OK[k].url, (uint32_t)strlen(OK[k].url), &p, "rest.base_url", 100, &e);
        if (rc) fail_msg("%s: %s", OK[k].url, e.message);
        assert_int_equal(p.scheme_len, OK[k].scheme);
        assert_int_equal(p.origin_len, OK[k].origin);
        assert_int_equal(p.path_off, OK[k].origin);
    }
    static const struct { const char *url; int64_t off; const char *why; } BAD[] = {
        { "", 0, "empty" }, { "ftp://h", 0, "scheme" }, { "ws://h", 0, "scheme" }, { "httpx://h", 0, "scheme" },
        { "http:/h", 4, "://" }, { "http//h", 4, "://" }, { "http:", 4, "://" },
        { "http://user@h", 7, "credentials" }, { "http://user:pw@h/", 7, "credentials" }, { "http://u:1@h", 7, "credentials" },
        { "http://[::1]@h", 7, "credentials" },
        { "http://h?x=1", 8, "query" }, { "http://h/p?x", 10, "query" }, { "http://h#f", 8, "fragment" }, { "http://h/p#f", 10, "fragment" },
        { "http://h:0", 9, "port" }, { "http://h:65536", 9, "port" }, { "http://h:abc", 9, "port" }, { "http://h:", 9, "port" },
        { "http://h:1234567", 9, "port" }, { "http://h:-1", 9, "port" },
        { "http:///x", 7, "missing host" }, { "http://:80", 7, "missing host" }, { "http://", 7, "missing host" },
        { "http://[::1", 7, "unclosed IPv6" }, { "http://[]", 8, "IPv6" }, { "http://[zz]", 8, "IPv6" },
        { "http://h\xc3\xb6.de", 8, "non-ASCII character in the host" }, { "http://h/\xc3\xa4", 9, "non-ASCII" }, { "http://h/a b", 10, "space" },
        { "http://h/a%zz", 10, "percent" }, { "http://h/a%2", 10, "percent" }, { "http://h/a\"b", 10, "percent-encoded" },
        { "http://h/a\\b", 10, "percent-encoded" }, { "http://h/\x7f", 9, "control" },
        /* the host as the origin check reads it (origin.c): what a WHATWG parser would read as another host */
        { "http://0x7f.1/", 9, "IPv4" }, { "http://a..b/", 9, "empty label" }, { "http://[1::2::3]", 13, "two '::'" },
        { "http://h\\x/", 8, "backslash" }, { "http://h%41/", 8, "percent" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        url_parts p; q_error e; q_error_clear(&e);
        int rc = url_parse_base((const uint8_t *)BAD[k].url, (uint32_t)strlen(BAD[k].url), &p, "rest.base_url", 100, &e);
        if (rc != Q_ERR(INVALID_URL) || e.offset != 100 + BAD[k].off || !strstr(e.message, BAD[k].why))
            fail_msg("'%s': %s at %lld: %s", BAD[k].url, q_status_code(rc), (long long)e.offset, e.message);
        assert_string_equal(e.path, "rest.base_url");
        assert_non_null(strstr(e.message, "rest.base_url"));
        assert_int_equal(e.kind, QK_CONFIG);
        assert_null(strstr(e.message, "pw"));
        /* without a base the record has no offset */
        q_error_clear(&e);
        url_parse_base((const uint8_t *)BAD[k].url, (uint32_t)strlen(BAD[k].url), &p, "x", -1, &e);
        assert_true(e.offset == Q_NO_OFFSET);
    }
    static char long_url[Q_MAX_URL_BYTES + 2];
    memcpy(long_url, "http://h/", 9);
    memset(long_url + 9, 'a', sizeof long_url - 10);
    url_parts p; q_error e; q_error_clear(&e);
    assert_int_equal(url_parse_base((const uint8_t *)long_url, Q_MAX_URL_BYTES, &p, "u", 0, &e), Q_OK);
    assert_int_equal(url_parse_base((const uint8_t *)long_url, Q_MAX_URL_BYTES + 1, &p, "u", 0, &e), Q_ERR(INVALID_URL));
    assert_int_equal(e.offset, Q_MAX_URL_BYTES);
}

static void url_route_table(void **s) {
    static const char *OK[] = { "/", "/envelope", "/a/b?c=d&e", "/a%20b", "/a@b:c", "/x?y=/z" };
    for (size_t k = 0; k < Q_ARRAY_LEN(OK); k++) {
        q_error e; q_error_clear(&e);
        if (url_check_route((const uint8_t *)OK[k], (uint32_t)strlen(OK[k]), "route", 0, &e)) fail_msg("%s: %s", OK[k], e.message);
    }
    static const struct { const char *r; int64_t off; } BAD[] = {
        { "", 0 }, { "x", 0 }, { "//x", 1 }, { "//", 1 }, { "/a#b", 2 }, { "/\xc3\xa4", 1 }, { "/a b", 2 }, { "/%g0", 1 }, { "?x", 0 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        q_error e; q_error_clear(&e);
        assert_fails_at(url_check_route((const uint8_t *)BAD[k].r, (uint32_t)strlen(BAD[k].r), "options.route", 50, &e),
                        Q_ERR(INVALID_URL), 50 + BAD[k].off, &e);
        assert_string_equal(e.path, "options.route");
    }
    /* join drops the base's trailing slashes */
    scratch_reset();
    q_buf b = {0};
    assert_int_equal(url_join(&b, QS("http://h/api//"), QS("/e?x")), Q_OK);
    assert_int_equal(b.len, strlen("http://h/api/e?x"));
    assert_memory_equal(b.ptr, "http://h/api/e?x", b.len);
}

/* encodeURIComponent: A-Z a-z 0-9 - _ . ! ~ * ' ( ) kept, every other byte %XX upper-case. */
static void url_encode_component_semantics(void **s) {
    scratch_reset();
    for (int c = 0; c < 256; c++) {
        uint8_t in = (uint8_t)c;
        q_buf b = {0};
        assert_int_equal(url_encode_component(&b, &in, 1), Q_OK);
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("-_.!~*'()", c));
        char want[4];
        if (keep) snprintf(want, sizeof want, "%c", c); else snprintf(want, sizeof want, "%%%02X", c);
        if (b.len != strlen(want) || memcmp(b.ptr, want, b.len)) fail_msg("byte %d: got %.*s want %s", c, (int)b.len, b.ptr, want);
    }
    /* known answers from node's encodeURIComponent */
    q_buf b = {0};
    const char *in = "{\"a\":\"x&=+#%\xc3\xbc \xf0\x9f\x98\x80\"}";
    assert_int_equal(url_encode_component(&b, (const uint8_t *)in, (uint32_t)strlen(in)), Q_OK);
    const char *want = "%7B%22a%22%3A%22x%26%3D%2B%23%25%C3%BC%20%F0%9F%98%80%22%7D";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.ptr, want, b.len);
    /* appends to what is there; empty input adds nothing */
    assert_int_equal(url_encode_component(&b, (const uint8_t *)"", 0), Q_OK);
    assert_int_equal(b.len, strlen(want));
    assert_int_equal(url_encode_component(&b, (const uint8_t *)"/?", 2), Q_OK);
    assert_memory_equal(b.ptr + strlen(want), "%2F%3F", 6);
}

/* ---- tokens ------------------------------------------------------------------------------ */

#define SECRET "SeCrEt-TOKEN-value-0123456789abcdef"

static void token_store(void **s) {
    q_client *c = client_new("{}");
    q_error e; q_error_clear(&e);
    uint32_t n = 0;
    assert_null(token_get(c, QS("api"), &n));
    assert_false(token_clear(c, QS("api")));
    assert_int_equal(token_set(c, QS("api"), QS(SECRET), 0, &e), Q_OK);
    const uint8_t *v = token_get(c, QS("api"), &n);
    assert_non_null(v);
    assert_int_equal(n, strlen(SECRET));
    assert_memory_equal(v, SECRET, n);
    /* replace: the new value is served, the old bytes are wiped (the first 8 bytes now hold the
     * allocator's free-list link) */
    const uint8_t *old = v;
    assert_int_equal(token_set(c, QS("api"), QS("second-value"), 0, &e), Q_OK);
    v = token_get(c, QS("api"), &n);
    assert_memory_equal(v, "second-value", n);
    assert_true(v != old);
    for (uint32_t i = 8; i < strlen(SECRET); i++) if (old[i]) fail_msg("old value byte %u not wiped", i);
    assert_false(bytes_contain(old, strlen(SECRET), "SeCrEt"));
    /* clear: wiped too, and gone */
    old = v;
    assert_true(token_clear(c, QS("api")));
    assert_null(token_get(c, QS("api"), &n));
    for (uint32_t i = 8; i < 12; i++) assert_int_equal(old[i], 0);
    assert_false(token_clear(c, QS("api")));
    /* names are exact (case-sensitive) */
    assert_int_equal(token_set(c, QS("Api"), QS("x"), 0, &e), Q_OK);
    assert_null(token_get(c, QS("api"), &n));
    assert_true(token_clear(c, QS("Api")));
    client_release(c);
}

static void token_limits_and_values(void **s) {
    q_client *c = client_new("{}");
    q_error e; q_error_clear(&e);
    char name[16];
    for (int k = 0; k < Q_MAX_TOKENS; k++) {
        snprintf(name, sizeof name, "t%d", k);
        assert_int_equal(token_set(c, (const uint8_t *)name, (uint32_t)strlen(name), QS("v"), 0, &e), Q_OK);
    }
    assert_fails_at(token_set(c, QS("one-more"), QS("v"), 0, &e), Q_ERR(LIMIT_REACHED), -1, &e);
    assert_int_equal(token_set(c, QS("t3"), QS("replaced"), 0, &e), Q_OK);   /* replacing needs no new slot */
    assert_true(token_clear(c, QS("t0")));
    assert_int_equal(token_set(c, QS("one-more"), QS("v"), 0, &e), Q_OK);
    /* values: visible ASCII only, 1..8192 bytes; names 1..64 bytes */
    static const char *BADV[] = { "has space", "tab\t", "nl\n", "del\x7f", "\xc3\xa4", "\x01" };
    for (size_t k = 0; k < Q_ARRAY_LEN(BADV); k++) {
        q_error_clear(&e);
        assert_fails_at(token_set(c, QS("t3"), (const uint8_t *)BADV[k], (uint32_t)strlen(BADV[k]), 0, &e), Q_ERR(INVALID_VALUE), -1, &e);
        assert_string_equal(e.path, "token.value");
    }
    uint32_t n;
    assert_memory_equal(token_get(c, QS("t3"), &n), "replaced", 8);   /* a refused value changes nothing */
    assert_fails_at(token_set(c, QS("t3"), (const uint8_t *)"", 0, 0, &e), Q_ERR(BAD_ARGUMENT), -1, &e);
    assert_fails_at(token_set(c, (const uint8_t *)"", 0, QS("v"), 0, &e), Q_ERR(BAD_ARGUMENT), -1, &e);
    static char big[Q_MAX_TOKEN_BYTES + 1];
    memset(big, 'k', sizeof big);
    assert_int_equal(token_set(c, QS("t3"), (const uint8_t *)big, Q_MAX_TOKEN_BYTES, 0, &e), Q_OK);
    assert_fails_at(token_set(c, QS("t3"), (const uint8_t *)big, Q_MAX_TOKEN_BYTES + 1, 0, &e), Q_ERR(BAD_ARGUMENT), -1, &e);
    char lname[Q_MAX_TOKEN_NAME_BYTES + 1];
    memset(lname, 'n', sizeof lname);
    assert_fails_at(token_set(c, (const uint8_t *)lname, Q_MAX_TOKEN_NAME_BYTES + 1, QS("v"), 0, &e), Q_ERR(BAD_ARGUMENT), -1, &e);
    assert_true(token_clear(c, QS("t5")));
    assert_int_equal(token_set(c, (const uint8_t *)lname, Q_MAX_TOKEN_NAME_BYTES, QS("v"), 0, &e), Q_OK);
    /* the refused value never appears in the record */
    q_error_clear(&e);
    token_set(c, QS("t3"), QS(SECRET " x"), 0, &e);
    assert_false(bytes_contain(&e, sizeof e, "SeCrEt"));
    /* everything goes with clear_all */
    uint32_t before = arena_persistent_in_use();
    token_clear_all(c);
    assert_true(arena_persistent_in_use() < before);
    assert_null(token_get(c, QS("t3"), &n));
    client_release(c);
}

static void token_allocation_failures(void **s) {
    q_client *c = client_new("{}");
    q_error e;
    uint32_t base = arena_persistent_in_use();
    int failures = 0;
    for (uint32_t n = 1; n < 20; n++) {
        q_error_clear(&e);
        arena_fail_nth(n);
        int rc = token_set(c, QS("api"), QS(SECRET), 0, &e);
        uint32_t count = arena_alloc_count();
        arena_fail_nth(0);
        if (rc == Q_OK && count < n) break;
        if (rc == Q_OK) { token_clear_all(c); continue; }
        assert_int_equal(rc, Q_ERR(OUT_OF_MEMORY));
        failures++;
        uint32_t len;
        assert_null(token_get(c, QS("api"), &len));
        token_clear_all(c);
        assert_int_equal(arena_persistent_in_use(), base);
    }
    assert_true(failures >= 2);
    client_release(c);
}

/* ---- allocation failures and secrets ------------------------------------------------------ */

/* Fills the first scratch chunk with a pattern so that only the next call's bytes can match. */
static void poison_scratch(void) {
    scratch_reset();
    uint8_t *p = scratch_alloc(60000);
    assert_non_null(p);
    memset(p, 0xA5, 60000);
    scratch_reset();
}

#define PAYLOAD_SECRET "PaYlOaD-SECRET-text"
static const char FULL_CFG[] =
    "{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"X-App\":\"demo\"}},\"security\":{\"auth_token\":\"api\"}}";
static const char FULL_META[] =
    "{\"tenant\":\"t\",\"security\":{\"user_id\":\"u\",\"session_id\":\"s\"},\"tracing\":{\"trace_id\":\"t\",\"span_id\":\"p\"},"
    "\"on_behalf_of\":{\"originalUser\":\"\xc3\xb6\",\"delegatingUser\":\"d\",\"delegatingTenant\":\"t\"}}";
static const char FULL_PAYLOAD[] = "{\"s\":\"" PAYLOAD_SECRET "\",\"n\":[1,2,3]}";

static void prepare_allocation_failures(void **s) {
    for (int m = 0; m < 2; m++) {
        const char *opts = m ? "{\"method\":\"GET\",\"headers\":{\"X-Call\":\"c\"}}" : "{\"headers\":{\"X-Call\":\"c\"}}";
        arena_init(64u << 20);
        q_client *c = client_new(FULL_CFG);
        q_error e; q_error_clear(&e);
        assert_int_equal(token_set(c, QS("api"), QS(SECRET), 0, &e), Q_OK);
        /* warm up: scratch chunks are persistent blocks too */
        start(c, FULL_META, FULL_PAYLOAD, opts, NOW);
        rest_release(c);
        scratch_reset();
        uint32_t base = arena_persistent_in_use();
        int failures = 0;
        uint32_t n = 1;
        for (;; n++) {
            assert_true(n < 1000);
            poison_scratch();
            q_error_clear(&e);
            q_buf out = {0};
            uint32_t plan_len = 0;
            arena_fail_nth(n);
            int rc = rest_prepare(c, (const uint8_t *)FULL_META, (uint32_t)strlen(FULL_META), (const uint8_t *)FULL_PAYLOAD,
                                  (uint32_t)strlen(FULL_PAYLOAD), (const uint8_t *)opts, (uint32_t)strlen(opts), RND, NOW, &out, &plan_len, &e);
            uint32_t count = arena_alloc_count();
            arena_fail_nth(0);
            if (rc == Q_OK) {
                assert_int_equal(rest_in_flight(c), 1);
                if (count < n) break;                 /* no allocation left to fail */
                rest_release(c);                      /* the failed allocation had a fallback */
                scratch_reset();
                assert_int_equal(arena_persistent_in_use(), base);
                continue;
            }
            if (rc != Q_ERR(OUT_OF_MEMORY) && rc != Q_ERR(LIMIT_REACHED))
                fail_msg("allocation %u: %s (%s)", n, q_status_code(rc), e.message);
            failures++;
            assert_int_equal(rest_in_flight(c), 0);
            assert_int_equal(plan_len, 0);
            assert_int_equal(out.len, 0);
            if (out.ptr) assert_false(bytes_contain(out.ptr, out.cap, "SeCrEt") || bytes_contain(out.ptr, out.cap, PAYLOAD_SECRET));
            assert_false(bytes_contain(&e, sizeof e, "SeCrEt") || bytes_contain(&e, sizeof e, PAYLOAD_SECRET));
            rest_release(c);
            scratch_reset();
            assert_int_equal(arena_persistent_in_use(), base);
        }
        assert_true(failures >= 5);
        rest_release(c);
        scratch_reset();
        assert_int_equal(arena_persistent_in_use(), base);
        client_release(c);
    }
}

static void response_allocation_failures(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"retry\":{\"jitter_percent\":0}}");
    static const struct { int32_t status; const char *body, *method; } CASES[] = {
        { 200, GOOD_BODY, "GET" }, { 400, "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"HANDLER_ERROR\",\"message\":\"boom\",\"details\":{\"a\":[1]}}}", "GET" },
        { 503, "nope", "GET" }, { 502, "<html>", "POST" }, { 200, "{\"meta\"", "POST" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        char opts[64];
        snprintf(opts, sizeof opts, "{\"method\":\"%s\"}", CASES[k].method);
        int injected = 0;   /* some failures are absorbed (q_buf falls back to a smaller block) */
        for (uint32_t n = 1; n < 200; n++) {
            uint64_t id = start(c, "", "1", opts, NOW);
            scratch_reset();
            q_error e; q_error_clear(&e);
            q_buf out = {0};
            arena_fail_nth(n);
            int rc = rest_response(c, id, CASES[k].status, (const uint8_t *)CASES[k].body, (uint32_t)strlen(CASES[k].body),
                                   (const uint8_t *)"text/plain", 10, NULL, 0, NOW, &out, &e);
            uint32_t count = arena_alloc_count();
            arena_fail_nth(0);
            if (rc == Q_OK) {
                scratch_reset();
                q_buf o2 = {0};
                rest_failure(c, id, RF_ABORTED, NOW, &o2, &e);   /* clean up a retry; BAD_HANDLE otherwise */
                if (count < n) break;                           /* no allocation left to fail */
                injected++;
                continue;
            }
            assert_int_equal(rc, Q_ERR(OUT_OF_MEMORY));
            injected++;
            /* the request is not left half-way: either still waiting for its outcome, or ended */
            scratch_reset();
            q_buf o2 = {0};
            q_error e2; q_error_clear(&e2);
            int rc2 = rest_failure(c, id, RF_ABORTED, NOW, &o2, &e2);
            assert_true(rc2 == Q_OK || rc2 == Q_ERR(BAD_HANDLE));
            assert_int_equal(rest_in_flight(c), 0);
        }
        if (injected < 1) fail_msg("case %zu: no allocation failed", k);
    }
    assert_int_equal(rest_in_flight(c), 0);
    client_release(c);
}

static void no_secret_or_payload_in_failures(void **s) {
    q_client *c = client_new("{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"X-App\":\"demo\"}},\"security\":{\"auth_token\":\"api\"},"
                             "\"limits\":{\"max_in_flight\":1}}");
    q_error e; q_error_clear(&e);
    assert_int_equal(token_set(c, QS("api"), QS(SECRET), 0, &e), Q_OK);
    static char big[70100];
    snprintf(big, sizeof big, "{\"method\":\"GET\",\"headers\":{\"X-Pad\":\"%066000d\"}}", 0);
    static const struct { const char *meta, *payload, *opts; int st; } F[] = {
        { "", FULL_PAYLOAD, big, Q_ERR(TOO_LARGE) },                                                   /* after Authorization */
        { "", FULL_PAYLOAD, "{\"method\":\"GET\",\"headers\":{\"X-V\":\"" PAYLOAD_SECRET "\\n\"}}", Q_ERR(INVALID_VALUE) },
        { "{\"security\":{\"user_id\":\"" PAYLOAD_SECRET "\\n\"}}", FULL_PAYLOAD, "", Q_ERR(INVALID_VALUE) },
        { "{\"request_id\":\"" PAYLOAD_SECRET "\"}", FULL_PAYLOAD, "", Q_ERR(INVALID_UUID) },
        { "", "{\"s\":\"" PAYLOAD_SECRET "\",}", "", Q_ERR(JSON_SYNTAX) },
        { "", "{\"s\":\"" PAYLOAD_SECRET "\\q\"}", "", Q_ERR(JSON_ESCAPE) },
        { "", FULL_PAYLOAD, "{\"method\":\"GET\"}", Q_ERR(LIMIT_REACHED) },                           /* the 2nd in flight */
        { "", FULL_PAYLOAD, "", Q_ERR(LIMIT_REACHED) },
    };
    start(c, "", "1", "", NOW);   /* takes the one in-flight slot for the LIMIT_REACHED cases */
    for (size_t k = 0; k < Q_ARRAY_LEN(F); k++) {
        poison_scratch();
        q_error_clear(&e);
        q_buf out = {0};
        uint32_t plan_len = 0;
        int rc = rest_prepare(c, (const uint8_t *)F[k].meta, (uint32_t)strlen(F[k].meta), (const uint8_t *)F[k].payload,
                              (uint32_t)strlen(F[k].payload), (const uint8_t *)F[k].opts, (uint32_t)strlen(F[k].opts), RND, NOW, &out, &plan_len, &e);
        if (rc != F[k].st) fail_msg("case %zu: want %s, got %s (%s)", k, q_status_code(F[k].st), q_status_code(rc), e.message);
        assert_false(bytes_contain(&e, sizeof e, "SeCrEt"));
        if (bytes_contain(&e, sizeof e, PAYLOAD_SECRET)) fail_msg("case %zu: record holds the payload: %s", k, e.message);
        if (out.ptr && (bytes_contain(out.ptr, out.cap, "SeCrEt") || bytes_contain(out.ptr, out.cap, PAYLOAD_SECRET)))
            fail_msg("case %zu: failed output keeps a secret", k);
        uint8_t rec[Q_ERROR_JSON_BYTES];
        int n = q_error_to_json(&e, rec, sizeof rec);
        assert_true(n > 0);
        assert_false(bytes_contain(rec, (size_t)n, "SeCrEt") || bytes_contain(rec, (size_t)n, PAYLOAD_SECRET));
    }
    /* reject actions carry no token either */
    client_release(c);
    c = client_new("{\"rest\":{\"base_url\":\"http://h\"},\"security\":{\"auth_token\":\"api\"}}");
    assert_int_equal(token_set(c, QS("api"), QS(SECRET), 0, &e), Q_OK);
    uint64_t id = start(c, "", FULL_PAYLOAD, "", NOW);
    assert_non_null(strstr(R.plan, "[\"Authorization\",\"Bearer " SECRET "\"]"));
    respond(c, id, 500, "<html>bad</html>", "text/html", "", NOW);
    expect_reject(R.rc, "HTTP_STATUS", 500);
    assert_false(bytes_contain(R.text, R.len, "SeCrEt") || bytes_contain(R.text, R.len, PAYLOAD_SECRET));
    id = start(c, "", FULL_PAYLOAD, "", NOW);
    expect_reject(failure(c, id, RF_NETWORK, NOW), "NETWORK", -1);
    assert_false(bytes_contain(R.text, R.len, "SeCrEt") || bytes_contain(R.text, R.len, PAYLOAD_SECRET));
    client_release(c);
}

static void release_frees_everything(void **s) {
    assert_non_null(scratch_alloc(1000));   /* the scratch chunk is a persistent block: make it first */
    scratch_reset();
    uint32_t base = arena_persistent_in_use();
    q_client *c = client_new(FULL_CFG);
    q_error e; q_error_clear(&e);
    assert_int_equal(token_set(c, QS("api"), QS(SECRET), 0, &e), Q_OK);
    for (int k = 0; k < 100; k++) start(c, FULL_META, FULL_PAYLOAD, "", NOW);
    assert_int_equal(rest_in_flight(c), 100);
    client_release(c);
    scratch_reset();
    assert_int_equal(arena_persistent_in_use(), base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(plan_post_exact, setup),
        cmocka_unit_test_setup(plan_every_header_in_order, setup),
        cmocka_unit_test_setup(plan_methods_and_bodies, setup),
        cmocka_unit_test_setup(plan_tenant_padding_and_defaults, setup),
        cmocka_unit_test_setup(plan_errors, setup),
        cmocka_unit_test_setup(plan_config_headers_reserved, setup),
        cmocka_unit_test_setup(limit_in_flight, setup),
        cmocka_unit_test_setup(resolve_record_and_exactly_once, setup),
        cmocka_unit_test_setup(reject_is_final, setup),
        cmocka_unit_test_setup(bad_state_combinations, setup),
        cmocka_unit_test_setup(stale_and_bogus_ids, setup),
        cmocka_unit_test_setup(status_kinds, setup),
        cmocka_unit_test_setup(non_envelope_replies, setup),
        cmocka_unit_test_setup(retry_delay_schedules, setup),
        cmocka_unit_test_setup(retry_after_values, setup),
        cmocka_unit_test_setup(lifecycle_schedules, setup),
        cmocka_unit_test_setup(deadline_on_every_event, setup),
        cmocka_unit_test_setup(retry_policy_by_method, setup),
        cmocka_unit_test_setup(deadline_stops_retries, setup),
        cmocka_unit_test_setup(url_base_table, setup),
        cmocka_unit_test_setup(url_route_table, setup),
        cmocka_unit_test_setup(url_encode_component_semantics, setup),
        cmocka_unit_test_setup(token_store, setup),
        cmocka_unit_test_setup(token_limits_and_values, setup),
        cmocka_unit_test_setup(token_allocation_failures, setup),
        cmocka_unit_test_setup(prepare_allocation_failures, setup),
        cmocka_unit_test_setup(response_allocation_failures, setup),
        cmocka_unit_test_setup(no_secret_or_payload_in_failures, setup),
        cmocka_unit_test_setup(release_frees_everything, setup),
    };
    return cmocka_run_group_tests_name("rest", tests, NULL, NULL);
}
