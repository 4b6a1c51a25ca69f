/* Guard pages (the picohttpparser habit) for everything that reads untrusted bytes: each input
 * is copied so that its last byte is the last byte before a PROT_NONE page, so any read past
 * the given length segfaults the test. Covered: env_decode, json_validate, the meta/error walks
 * behind env_encode, config_parse, rest_response's body / content-type / Retry-After handling,
 * and the small parsers (UUID, RFC 3339, numbers, Base64, URLs, Retry-After, UTF-8, unescape).
 * Inputs: every malformed vector of tests/vectors/malformed-envelopes.tsv, every prefix of large
 * valid envelopes, configs and replies (so inputs end inside escapes, UTF-8 sequences, numbers,
 * literals, keys and values), and short documents that end in each of those states.
 * tests/unit/test_json.c has the json.c-only version of this. Linux (mmap/mprotect). */
#define _GNU_SOURCE 1   /* MAP_ANONYMOUS, memmem */
#include "test_util.h"
#include "vectors.h"
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include "qollective.h"
#include "instance.h"
#include "envelope.h"
#include "json.h"
#include "config.h"
#include "rest.h"
#include "uuid.h"
#include "rfc3339.h"
#include "num.h"
#include "retry.h"
#include "base64.h"
#include "url.h"

/* ---- guarded regions ------------------------------------------------------------------------ */

#define REGION_PAGES 32   /* room for the largest input (128 KiB with 4 KiB pages) */

typedef struct { uint8_t *map, *end; size_t size, room; } region;
static region BODY, AUX;   /* two regions: a body and a header value can both end at a guard */

static void region_open(region *r) {
    long pg = sysconf(_SC_PAGESIZE);
    r->room = (size_t)pg * REGION_PAGES;
    r->size = r->room + (size_t)pg;
    r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(r->map != MAP_FAILED);
    assert_int_equal(mprotect(r->map + r->room, (size_t)pg, PROT_NONE), 0);
    r->end = r->map + r->room;
}
static void region_close(region *r) { munmap(r->map, r->size); r->map = r->end = NULL; }

/* Copies n bytes so the last one sits right before the guard page; returns where they start.
 * n = 0 gives the guard address itself: any read at all faults. */
static const uint8_t *guard(region *r, const void *src, size_t n) {
    assert_true(n <= r->room);
    uint8_t *p = r->end - n;
    if (n) memcpy(p, src, n);
    return p;
}

/* ---- the instance and a client for rest_response ------------------------------------------------ */

static env_limits LIM;
static q_client *CLIENT;
static int32_t HANDLE;
static unsigned long RUNS;   /* inputs exercised, for the summary */

static int setup(void **state) {
    (void)state;
    if (q_init(0) != Q_OK) return -1;
    env_limits_default(&LIM);
    static const char cfg[] = "{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"},\"retry\":{\"jitter_percent\":0}}";
    uint32_t p = q_buffer(sizeof cfg - 1);
    if (!p) return -1;
    memcpy(instance()->in, cfg, sizeof cfg - 1);
    HANDLE = q_client_new(sizeof cfg - 1);
    if (HANDLE < 0) return -1;
    CLIENT = client_get(instance(), HANDLE, false);
    region_open(&BODY);
    region_open(&AUX);
    RUNS = 0;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    region_close(&BODY);
    region_close(&AUX);
    q_client_free(HANDLE);
    print_message("    %lu guarded runs\n", RUNS);
    return 0;
}

/* A POST in flight on CLIENT (never retried, so every response ends it). */
static uint64_t start_post(void) {
    static const uint8_t RANDOM[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
    scratch_reset();
    q_buf out = { 0 };
    q_error err; q_error_clear(&err);
    uint32_t plan_len = 0;
    int rc = rest_prepare(CLIENT, NULL, 0, (const uint8_t *)"1", 1, NULL, 0, RANDOM, 1700000000000.0, &out, &plan_len, &err);
    if (rc) fail_msg("prepare: %s", err.message);
    const uint8_t *idp = memmem(out.ptr, plan_len, "\"id\":", 5);
    assert_non_null(idp);
    return (uint64_t)strtoull((const char *)idp + 5, NULL, 10);
}

/* rest_response with body at BODY's guard and the content type or Retry-After at AUX's guard. */
static int respond(int32_t status, const uint8_t *body, uint32_t n, const char *ct, const char *ra, bool aux_is_type) {
    RUNS++;
    uint64_t id = start_post();
    const char *a = aux_is_type ? ct : ra;
    const uint8_t *ap = guard(&AUX, a, strlen(a));
    const uint8_t *ctp = aux_is_type ? ap : (const uint8_t *)ct;
    const uint8_t *rap = aux_is_type ? (const uint8_t *)ra : ap;
    q_buf out = { 0 };
    q_error err; q_error_clear(&err);
    int rc = rest_response(CLIENT, id, status, body, n, ctp, (uint32_t)strlen(ct), rap, (uint32_t)strlen(ra), 1700000000010.0, &out, &err);
    if (rc) fail_msg("rest_response(%d, %u bytes): %s", status, n, err.message);
    if (rest_in_flight(CLIENT) != 0) fail_msg("a POST answered %d is still in flight", status);
    /* the action is well-formed JSON */
    q_error e2;
    if (json_validate(out.ptr, out.len, 128, &e2)) fail_msg("action is not JSON: %.*s", (int)out.len, (const char *)out.ptr);
    return rc;
}

/* Every reader of untrusted bytes, on in[0..n) which ends at BODY's guard. Returns env_decode's status. */
static int exercise(const uint8_t *in, uint32_t n) {
    RUNS++;
    q_error err;
    env_decoded d;

    scratch_reset(); q_error_clear(&err);
    int vrc = json_validate(in, n, Q_DEFAULT_MAX_DEPTH, &err);

    scratch_reset(); q_error_clear(&err);
    int drc = env_decode(in, n, &LIM, &d, &err);
    assert_true(drc <= 0);
    if (drc == Q_OK) {
        assert_int_equal(vrc, Q_OK);
        /* the decoded slices lie inside the input */
        assert_true(d.meta_off + d.meta_len <= n && d.payload_off + d.payload_len <= n && d.error_off + d.error_len <= n);
    }

    /* the meta walk, the payload compaction and the error walk of the encoder, each part at the guard */
    static const uint8_t ONE[] = "1", EMPTY[] = "{}";
    q_buf out;
    scratch_reset(); q_error_clear(&err); out = (q_buf){ 0 };
    (void)env_encode(in, n, ONE, 1, NULL, 0, &LIM, NULL, &out, &err);
    scratch_reset(); q_error_clear(&err); out = (q_buf){ 0 };
    (void)env_encode(EMPTY, 2, in, n, NULL, 0, &LIM, NULL, &out, &err);
    scratch_reset(); q_error_clear(&err); out = (q_buf){ 0 };
    (void)env_encode(EMPTY, 2, ONE, 1, in, n, &LIM, NULL, &out, &err);
    if (vrc == Q_OK) {
        /* the walker alone (it needs validated JSON) */
        schema_walk w;
        scratch_reset(); q_error_clear(&err);
        (void)env_meta_walk(in, n, 0, &LIM, NULL, NULL, &w, &err);
    }

    /* the config parser */
    q_config cfg;
    scratch_reset(); q_error_clear(&err);
    if (config_parse(&cfg, in, n, &err) == Q_OK) config_free(&cfg);

    /* response classification: a success, an error envelope, a 503 with Retry-After, an HTML 502 */
    static const int32_t STATUS[] = { 200, 400, 503, 502 };
    for (size_t k = 0; k < Q_ARRAY_LEN(STATUS); k++) respond(STATUS[k], in, n, "application/json; charset=utf-8", "2", k & 1);
    return drc;
}

/* ---- inputs --------------------------------------------------------------------------------------------- */

static const char BIG_META[] =
    "{\"timestamp\":\"2024-03-01T12:00:00.123456789-02:30\",\"request_id\":\"urn:uuid:0190A3F2-1234-7ABC-8DEF-0123456789AB\","
    "\"version\":\"1.0\",\"duration\":-45.5e-3,\"tenant\":\"t\\u00e9n\\\"a\\\\nt/\\/\\b\\f\\n\\r\\t \\ud83d\\ude00 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
    "\"on_behalf_of\":{\"originalUser\":\"ou\",\"delegatingUser\":\"du\",\"delegatingTenant\":\"dt\"},"
    "\"security\":{\"user_id\":\"usr\",\"session_id\":\"sess\",\"auth_method\":\"OAuth2\",\"permissions\":[\"read\",\"write\"],"
    "\"ip_address\":\"10.0.0.1\",\"user_agent\":\"ua\",\"roles\":[],\"token_expires_at\":\"2030-01-01t00:00:00z\"},"
    "\"debug\":{\"trace_enabled\":true,\"db_queries\":[{\"query\":\"select 1\",\"duration\":0.5,\"rows_affected\":-2147483648,\"database\":null}],"
    "\"memory_usage\":{\"heap_used\":9223372036854775807,\"heap_total\":0,\"external\":-1},\"stack_trace\":null,"
    "\"environment_vars\":{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\",\"D\":\"4\",\"E\":\"5\",\"F\":\"6\",\"G\":\"7\",\"H\":\"8\",\"I\":\"9\",\"\\u004a\":\"10\"},"
    "\"request_headers\":{},\"log_level\":\"Error\",\"profiling_data\":{\"cpu_time\":1E+2,\"wall_time\":2.5e10,\"allocations\":7}},"
    "\"performance\":{\"db_query_time\":1e-3,\"db_query_count\":2,\"cache_hit_ratio\":0.9,\"cache_operations\":{\"hits\":1,\"misses\":2,\"sets\":3},"
    "\"memory_allocated\":100,\"memory_peak\":200,\"cpu_usage\":0.25,\"network_latency\":4.5,"
    "\"external_calls\":[{\"service\":\"svc\",\"duration\":3,\"status\":\"Timeout\",\"endpoint\":\"/x\"}],"
    "\"gc_collections\":2,\"gc_time\":1.0,\"thread_count\":8,\"processing_time_ms\":18446744073709551615},"
    "\"monitoring\":{\"server_id\":\"srv\",\"environment\":\"Canary\",\"health_status\":\"Degraded\",\"uptime\":12.5},"
    "\"tracing\":{\"trace_id\":\"t\",\"span_id\":\"s\",\"baggage\":{\"k\":\"v\"},\"sampled\":false,\"span_kind\":\"Client\","
    "\"span_status\":{\"code\":\"Error\",\"message\":\"m\"},\"tags\":{\"s\":\"v\",\"n\":1.5,\"b\":true,\"f\":false}},"
    "\"extensions\":{\"z\":{\"deep\":[1, 2, [[[{}]]]]},\"a\":null,\"u\":\"\\uD834\\uDD1E\"},\"unknown\":[true,false,null]}";

static const char PAYLOAD[] =
    " { \"text\" : \"\\u0000 \\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00E9 \\uD83D\\uDE00 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 end\","
    " \"nums\" : [ 0, -0, 1, -1.5, 1e5, 1E-5, 2.5e+10, 12345678901234567890, -9.87654321e-300 ],"
    " \"lits\" : [ true , false , null ], \"nested\" : { \"a\" : [ { \"b\" : [ ] } , { } ] }, \"\" : \"\" } ";

static const char ERROR_OBJ[] =
    "{\"code\":\"HANDLER_ERROR\",\"message\":\"boom \\u00e9 \\\"q\\\"\",\"details\":{\"operation\":\"handler_execution\",\"n\":[1,2.5]},"
    "\"trace\":\"t\",\"http_status_code\":400}";

static const char FULL_CONFIG[] =
    " {\"rest\":{\"base_url\":\"https://[::1]:8443/base/\",\"route\":\"/envelope?x=1\",\"method\":\"PATCH\","
    "\"headers\":{\"X-App\":\"demo \\u0041\",\"X-E\":\"\"}},"
    "\"timeouts\":{\"request_ms\":5000,\"connect_ms\":1000},"
    "\"retry\":{\"max_attempts\":4,\"base_delay_ms\":10,\"max_delay_ms\":100,\"jitter_percent\":0,\"retry_non_idempotent\":true},"
    "\"websocket\":{\"url\":\"ws://127.0.0.1:8080/ws\",\"ping_interval_ms\":1000,\"message_timeout_ms\":2000,"
    "\"max_message_bytes\":65536,\"max_connections\":2,\"max_queue\":10,\"reconnect\":false},"
    "\"limits\":{\"max_envelope_bytes\":65536,\"max_meta_bytes\":4096,\"max_depth\":64,\"max_in_flight\":8,\"max_header_bytes\":8192},"
    "\"meta\":{\"tenant\":\"acme-\\u00fc\xc3\xa9\",\"uuid_version\":4},"
    "\"security\":{\"auth_token\":\"api\",\"auth_scheme\":\"Token\",\"allowed_origins\":[\"http://example.com\",\"HTTPS://[::1]:8443/\",\"ws://127.0.0.1:8080\"]}} ";

/* Every prefix of text (length 0 .. n) at the guard; the full text must decode to want. */
static void every_prefix(const char *text, int want_full) {
    uint32_t n = (uint32_t)strlen(text);
    for (uint32_t k = 0; k <= n; k++) {
        const uint8_t *in = guard(&BODY, text, k);
        int rc = exercise(in, k);
        if (k == n && rc != want_full) fail_msg("the whole input (%u bytes): %s, want %s", n, q_status_code(rc), q_status_code(want_full));
        if (k < n && rc == Q_OK && want_full == Q_OK) {
            /* a proper prefix of an envelope that ends in '}' (plus spaces) is never one */
            uint32_t e = n;
            while (e && text[e - 1] == ' ') e--;
            if (k >= e) continue;
            fail_msg("prefix of %u bytes decoded", k);
        }
    }
}

/* The harness itself: the last byte is readable, the one after it faults (in a child process). */
static void the_guard_is_really_there(void **state) {
    const uint8_t *in = guard(&BODY, "abc", 3);
    assert_int_equal(in[2], 'c');
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);   /* no sanitizer report, just the signal */
        signal(SIGBUS, SIG_DFL);
        volatile uint8_t past = in[3];
        (void)past;
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0));
}

static void malformed_vectors_at_the_guard(void **state) {
    vector_case *v;
    int n = vectors_load("../vectors/malformed-envelopes.tsv", &v);
    assert_true(n >= 40);
    for (int i = 0; i < n; i++) {
        const uint8_t *in = guard(&BODY, v[i].input, v[i].len);
        /* the same error as anywhere else in memory */
        scratch_reset();
        env_decoded d; q_error e; q_error_clear(&e);
        int rc = env_decode(in, (uint32_t)v[i].len, &LIM, &d, &e);
        if (strcmp(q_status_code(rc), v[i].code) || e.offset != v[i].offset || strcmp(e.path, v[i].path))
            fail_msg("line %d at the guard: want %s@%ld '%s', got %s@%lld '%s'", v[i].line, v[i].code, v[i].offset, v[i].path,
                     q_status_code(rc), (long long)e.offset, e.path);
        exercise(in, (uint32_t)v[i].len);
        /* and every prefix of the malformed input too */
        for (size_t k = 0; k < v[i].len; k++) exercise(guard(&BODY, v[i].input, k), (uint32_t)k);
    }
    vectors_free(v, n);
}

static void every_prefix_of_large_envelopes(void **state) {
    static char env[16384];
    snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":%s,\"error\":%s}", BIG_META, PAYLOAD, ERROR_OBJ);
    every_prefix(env, Q_OK);
    snprintf(env, sizeof env, " { \"payload\" : %s , \"extra\" : { \"k\" : [ 1, \"\\u00e9\" ] } , \"meta\" : %s , \"error\" : null }  ", PAYLOAD, BIG_META);
    every_prefix(env, Q_OK);
    /* the reference server's shapes: sorted keys, error envelope, echo */
    every_prefix("{\"error\":{\"code\":\"HANDLER_ERROR\",\"details\":{\"operation\":\"handler_execution\"},\"http_status_code\":400,"
                 "\"message\":\"boom\"},\"meta\":{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\",\"tenant\":\"t\","
                 "\"timestamp\":\"2024-01-01T00:00:00.000000001+00:00\",\"version\":\"1.0\"},\"payload\":null}", Q_OK);
    every_prefix("{\"meta\":{},\"payload\":\"\xf4\x8f\xbf\xbf \xed\x9f\xbf \xef\xbf\xbd\"}", Q_OK);
}

static void every_prefix_of_a_config(void **state) {
    uint32_t n = (uint32_t)strlen(FULL_CONFIG);
    for (uint32_t k = 0; k <= n; k++) {
        const uint8_t *in = guard(&BODY, FULL_CONFIG, k);
        q_config cfg; q_error err; q_error_clear(&err);
        scratch_reset();
        int rc = config_parse(&cfg, in, k, &err);
        if (rc == Q_OK) config_free(&cfg);
        /* the blank prefix is "no config"; the whole text parses; nothing in between does */
        bool blank = k <= 1, whole = k >= n - 1;
        if ((rc == Q_OK) != (blank || whole)) fail_msg("config prefix of %u bytes: %s (%s)", k, q_status_code(rc), err.message);
        if (k % 7 == 0 || whole) exercise(in, k);
    }
}

/* Short documents that end in every interesting state, at the top level and inside envelopes. */
static void inputs_ending_mid_token(void **state) {
    static const char *const TAILS[] = {
        /* escapes */ "\"\\", "\"\\u", "\"\\u0", "\"\\u00", "\"\\u00e", "\"\\u00e9", "\"\\ud83d", "\"\\ud83d\\", "\"\\ud83d\\u",
        "\"\\ud83d\\ude0", "\"\\ud83d\\ude00", "\"a\\\"", "\"\\n",
        /* UTF-8 */ "\"\xc3", "\"\xe2", "\"\xe2\x82", "\"\xf0", "\"\xf0\x9f", "\"\xf0\x9f\x98", "\"\xf0\x9f\x98\x80", "\xc3", "\xf0\x9f",
        /* numbers */ "-", "0", "-0", "1", "12", "1.", "1.5", "1e", "1E", "1e+", "1e-", "1e5", "-1.5e-1", "0.", "01", "123456789012345678901",
        /* literals */ "t", "tr", "tru", "true", "f", "fa", "fal", "fals", "false", "n", "nu", "nul", "null",
        /* structure */ "{", "[", "{\"", "{\"a", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "[1", "[1,", "\"", "\"abc", " ", "",
    };
    static const char *const FRAMES[][2] = {
        { "", "" },                                              /* the document itself */
        { "{\"meta\":{},\"payload\":", "" },                       /* the payload */
        { "{\"meta\":{\"tenant\":", "" },                          /* a meta string */
        { "{\"meta\":{\"duration\":", "" },                        /* a meta number */
        { "{\"meta\":{\"debug\":{\"trace_enabled\":", "" },         /* a meta bool */
        { "{\"meta\":{\"extensions\":{\"k\":", "" },               /* anything */
        { "{\"meta\":{},\"payload\":1,\"error\":{\"code\":", "" },  /* the error object */
        { "{\"meta\":{},\"payload\":1,\"error\":{\"code\":\"C\",\"message\":\"m\",\"http_status_code\":", "" },
        { "{\"rest\":{\"base_url\":", "" },                        /* config */
        { "{\"timeouts\":{\"request_ms\":", "" },
    };
    char buf[512];
    for (size_t f = 0; f < Q_ARRAY_LEN(FRAMES); f++) {
        for (size_t t = 0; t < Q_ARRAY_LEN(TAILS); t++) {
            int len = snprintf(buf, sizeof buf, "%s%s%s", FRAMES[f][0], TAILS[t], FRAMES[f][1]);
            exercise(guard(&BODY, buf, (size_t)len), (uint32_t)len);
        }
    }
    /* complete scalars exactly at the end of the input are valid documents */
    static const char *const WHOLE[] = { "0", "-0", "123", "-1.5e-7", "1E+2", "true", "false", "null", "\"\"", "\"\\u00e9\"", "\"\xf0\x9f\x98\x80\"" };
    for (size_t i = 0; i < Q_ARRAY_LEN(WHOLE); i++) {
        q_error err; q_error_clear(&err);
        uint32_t n = (uint32_t)strlen(WHOLE[i]);
        if (json_validate(guard(&BODY, WHOLE[i], n), n, 128, &err)) fail_msg("'%s' at the guard: %s", WHOLE[i], err.message);
    }
}

/* rest_response: reply bodies (every prefix), HTML and plain-text pages of every length up to
 * past the 48-byte preview, content types around the 40-byte cut, Retry-After values. */
static void response_classification_at_the_guard(void **state) {
    static char reply[8192];
    snprintf(reply, sizeof reply, "{\"meta\":%s,\"payload\":%s}", BIG_META, PAYLOAD);
    static const int32_t STATUS[] = { 200, 400, 404, 503 };
    uint32_t n = (uint32_t)strlen(reply);
    for (uint32_t k = 0; k <= n; k++)
        for (size_t s = 0; s < Q_ARRAY_LEN(STATUS); s++) respond(STATUS[s], guard(&BODY, reply, k), k, "application/json", "1", s & 1);
    static const char HTML[] = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\t<center>\xc3\xa9\x01\x7f</center></body></html>";
    for (uint32_t k = 0; k < sizeof HTML; k++) {
        respond(502, guard(&BODY, HTML, k), k, "text/html", "", true);
        respond(200, guard(&BODY, HTML, k), k, "text/html", "", true);
    }
    static const char CT[] = "application/vnd.some-very-long-vendor-type+json; charset=utf-8; boundary=x";
    static const char RA[] = " 86401234  ";
    char ct[sizeof CT], ra[sizeof RA];
    for (uint32_t k = 0; k < sizeof CT; k++) {
        memcpy(ct, CT, k); ct[k] = 0;
        respond(502, (const uint8_t *)"<p>x</p>", 8, ct, "", true);
        respond(200, (const uint8_t *)"nope", 4, ct, "", true);
    }
    for (uint32_t k = 0; k < sizeof RA; k++) {
        memcpy(ra, RA, k); ra[k] = 0;
        respond(503, (const uint8_t *)"x", 1, "text/plain", ra, false);
        respond(429, (const uint8_t *)"x", 1, "text/plain", ra, false);
    }
}

/* The parsers the walkers call on token bytes, on every prefix of their inputs. */
static void small_parsers_at_the_guard(void **state) {
    static const char *const UUIDS[] = { "urn:uuid:0190a3f2-1234-7abc-8def-0123456789ab", "{0190A3F2-1234-7ABC-8DEF-0123456789AB}", "0190a3f212347abc8def0123456789ab" };
    static const char *const TIMES[] = { "2024-03-01T12:00:00.123456789123+02:30", "2024-02-29 23:59:60Z", "2024-03-01t12:00:00-00:00" };
    static const char *const NUMBERS[] = { "-12345678901234567890.5e-10", "18446744073709551616", "-9223372036854775809", "1.7976931348623157e308", "1e400", "0.000001E+7" };
    static const char *const URLS[] = { "https://[::1]:8443/base/path", "http://user:pw@127.0.0.1:1/", "http://127.0.0.1:65535", "http://h\xc3\xb6.de/" };
    static const char *const ROUTES[] = { "/envelope?x=1&y=%20", "//x", "/a#b" };
    static const char *const B64[] = { "YWJjZA==", "YWJjZGU=", "YWJjZGVm", "YW=j" };
    static const char *const RETRY_AFTER[] = { " 120 ", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999" };
    static const char UTF8[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf\xc0\xaf\xed\xa0\x80";
    static const char BODY_ESC[] = "x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9";
    q_error err;
    uint8_t scratch_out[256];
    for (size_t i = 0; i < Q_ARRAY_LEN(UUIDS); i++)
        for (size_t k = 0; k <= strlen(UUIDS[i]); k++) { uint8_t u[16]; (void)uuid_parse(guard(&BODY, UUIDS[i], k), (uint32_t)k, u); }
    for (size_t i = 0; i < Q_ARRAY_LEN(TIMES); i++)
        for (size_t k = 0; k <= strlen(TIMES[i]); k++) { q_time t; (void)rfc3339_parse(guard(&BODY, TIMES[i], k), (uint32_t)k, &t); }
    for (size_t i = 0; i < Q_ARRAY_LEN(NUMBERS); i++)
        for (size_t k = 1; k <= strlen(NUMBERS[i]); k++) {
            const uint8_t *p = guard(&BODY, NUMBERS[i], k);
            q_error_clear(&err);
            if (json_validate(p, (uint32_t)k, 4, &err)) continue;   /* these take validated number text only */
            int64_t v; uint64_t u;
            (void)num_to_i64(p, (uint32_t)k, INT64_MIN, INT64_MAX, &v);
            (void)num_to_u64(p, (uint32_t)k, UINT64_MAX, &u);
            (void)num_check_f64(p, (uint32_t)k);
        }
    for (size_t i = 0; i < Q_ARRAY_LEN(URLS); i++)
        for (size_t k = 0; k <= strlen(URLS[i]); k++) {
            url_parts up; q_error_clear(&err);
            const uint8_t *p = guard(&BODY, URLS[i], k);
            q_buf rb = { 0 };
            if (url_parse_base(p, (uint32_t)k, &up, "rest.base_url", 0, &err) == Q_OK)
                (void)url_resolve(&rb, p, (uint32_t)k, (const uint8_t *)"../x?y", 6, &up, "Location", &err);
            rb = (q_buf){ 0 };   /* the same bytes as a Location */
            (void)url_resolve(&rb, (const uint8_t *)"http://h/a/b", 12, p, (uint32_t)k, &up, "Location", &err);
        }
    for (size_t i = 0; i < Q_ARRAY_LEN(ROUTES); i++)
        for (size_t k = 0; k <= strlen(ROUTES[i]); k++) { q_error_clear(&err); (void)url_check_route(guard(&BODY, ROUTES[i], k), (uint32_t)k, "r", 0, &err); }
    for (size_t i = 0; i < Q_ARRAY_LEN(B64); i++)
        for (size_t k = 0; k <= strlen(B64[i]); k++) { uint32_t ol; q_error_clear(&err); (void)b64_decode(guard(&BODY, B64[i], k), (uint32_t)k, scratch_out, &ol, &err); }
    for (size_t i = 0; i < Q_ARRAY_LEN(RETRY_AFTER); i++)
        for (size_t k = 0; k <= strlen(RETRY_AFTER[i]); k++) (void)retry_after_parse(guard(&BODY, RETRY_AFTER[i], k), (uint32_t)k);
    for (size_t k = 0; k <= sizeof UTF8 - 1; k++) { q_error_clear(&err); (void)json_utf8_validate(guard(&BODY, UTF8, k), (uint32_t)k, &err); }
    /* string bodies: only the prefixes a validator accepts as a string are valid input here */
    char quoted[sizeof BODY_ESC + 2];
    for (size_t k = 0; k <= sizeof BODY_ESC - 1; k++) {
        quoted[0] = '"'; memcpy(quoted + 1, BODY_ESC, k); quoted[k + 1] = '"';
        q_error_clear(&err);
        if (json_validate((const uint8_t *)quoted, (uint32_t)k + 2, 4, &err)) continue;
        const uint8_t *p = guard(&BODY, BODY_ESC, k);
        (void)json_unescape(p, (uint32_t)k, scratch_out);
        (void)json_string_eq(p, (uint32_t)k, "x\"", 2);
        (void)json_string_hash(p, (uint32_t)k);
        (void)json_strings_equal(p, (uint32_t)k, guard(&AUX, BODY_ESC, k), (uint32_t)k);
        (void)q_status_from_wire_code(p, k);
        scratch_reset();
        q_buf b = { 0 };
        (void)jw_string_token(&b, guard(&BODY, quoted, k + 2), (uint32_t)k + 2);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_guard_is_really_there, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_vectors_at_the_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(every_prefix_of_large_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(every_prefix_of_a_config, setup, teardown),
        cmocka_unit_test_setup_teardown(inputs_ending_mid_token, setup, teardown),
        cmocka_unit_test_setup_teardown(response_classification_at_the_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(small_parsers_at_the_guard, setup, teardown),
    };
    return cmocka_run_group_tests_name("guard_page", tests, NULL, NULL);
}
