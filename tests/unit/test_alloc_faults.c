/* Allocation-failure loops (the SQLite habit) over every export that allocates, driven the way
 * js-glue drives them: fail allocation 1, then 2, ... until the call succeeds without reaching
 * the injected failure. Each failure must be a clean OUT_OF_MEMORY (never a crash, never a
 * wrong success), the same call must then succeed, the instance must keep working, and the
 * instance's persistent bytes must return to their baseline. Plus the memory cap: a 1 MiB
 * instance fed ever larger envelopes fails cleanly and keeps working for small ones.
 *
 * On the host the arena lives above 4 GiB: the exports return the low 32 bits of pointers,
 * so the real pointers are taken from instance() (as tests/unit/test_api.c does). */
#define _GNU_SOURCE 1   /* vasprintf, memmem */
#include "test_util.h"
#include "qollective.h"
#include "instance.h"
#include "rest.h"
#include "token.h"
#include "error_record.h"

static const double NOW = 1700000000123.0;
#define SECRET "tok-SECRET-123"
#define MAX_ROUNDS 100000u

/* ---- the glue's side of the ABI (always fault-free: faults are armed around the call only) -- */

static uint8_t *in_buf(uint32_t n) {
    if (!q_buffer(n)) fail_msg("q_buffer(%u) failed", n);
    return instance()->in;
}

/* Writes the parts back to back into the input buffer; lens[i] = length of part i. */
static uint32_t put_n(const char *const *parts, uint32_t *lens, int n) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += (uint32_t)strlen(parts[i]);
    uint8_t *b = in_buf(total);
    for (int i = 0, at = 0; i < n; i++) {
        uint32_t l = (uint32_t)strlen(parts[i]);
        memcpy(b + at, parts[i], l);
        if (lens) lens[i] = l;
        at += (int)l;
    }
    return total;
}
static uint32_t put1(const char *text) { return put_n(&text, NULL, 1); }

static void fill_entropy(uint32_t n, uint8_t seed) {
    if (!q_entropy(n)) fail_msg("q_entropy(%u) failed", n);
    for (uint32_t i = 0; i < n; i++) instance()->entropy[i] = (uint8_t)(seed + 13u * i);
}

static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* [u32le length][bytes]... into the input buffer. */
static uint32_t put_batch(const char *const *items, int n) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += 4 + (uint32_t)strlen(items[i]);
    uint8_t *b = in_buf(total);
    for (int i = 0, at = 0; i < n; i++) {
        uint32_t l = (uint32_t)strlen(items[i]);
        wr32(b + at, l);
        memcpy(b + at + 4, items[i], l);
        at += 4 + (int)l;
    }
    return total;
}

/* The error record of the last call as JSON text ("" when none). */
static const char *err_text(void) { return error_record_json(); }

/* The output region of the last call, printable (non-printable bytes as \xHH), malloc'd. */
static char *out_text(void) {
    uint32_t n = q_output_len();
    const uint8_t *p = instance()->out;
    assert_int_equal(n, instance()->out_len);
    char *s = malloc((size_t)n * 4 + 1), *w = s;
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\') *w++ = (char)p[i];
        else w += sprintf(w, "\\x%02x", p[i]);
    }
    *w = 0;
    return s;
}

static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    assert_non_null(s);
    return s;
}

typedef struct { uint32_t limit, footprint, persistent, scratch, clients; } stats;
static stats mem_stats(void) {
    int32_t rc = q_memory_stats();
    if (rc < 0) fail_msg("q_memory_stats: %s", err_text());
    assert_int_equal(q_output_len(), Q_MEMORY_STATS_WORDS * 4);
    _Static_assert(sizeof(stats) == Q_MEMORY_STATS_WORDS * 4, "one word a field");
    stats s;
    memcpy(&s, instance()->out, sizeof s);
    return s;
}

static int32_t new_client(const char *config) {
    int32_t h = q_client_new(config ? put1(config) : 0);
    if (h < 0) fail_msg("q_client_new: %s", err_text());
    return h;
}

static void free_client(int32_t h) {
    if (q_client_free(h) < 0) fail_msg("q_client_free: %s", err_text());
}

static void set_token(int32_t h, const char *name, const char *value) {
    const char *parts[2] = { name, value };
    uint32_t l[2];
    put_n(parts, l, 2);
    if (q_token_set(h, l[0], l[1], 0, 0) < 0) fail_msg("q_token_set: %s", err_text());
}

/* The instance still does ordinary work after whatever happened. */
static void still_works(void) {
    static const char env[] = "{\"meta\":{\"tenant\":\"t\"},\"payload\":[1,2]}";
    uint32_t n = put1(env);
    if (q_envelope_decode(n, -1) != 0) fail_msg("decode after a failure: %s", err_text());
    const int32_t *r = (const int32_t *)(const void *)instance()->out;
    /* the record, then the meta's tape: its object, the tenant key and the string value */
    assert_int_equal(r[Q_DECODE_RECORD_WORDS], 3 * 3);
    assert_int_equal(q_output_len(), (Q_DECODE_RECORD_WORDS + 1 + 3 * 3) * 4);
    assert_int_equal(r[QD_PAYLOAD_OFF], 33);
    assert_int_equal(r[QD_PAYLOAD_LEN], 5);
}

/* ---- the loop -------------------------------------------------------------------------------- */

typedef struct {
    int32_t h;          /* client made by setup (or -1) */
    uint64_t id;        /* request made by setup */
    uint32_t len[4];    /* lengths written by input */
} op_state;

typedef struct {
    const char *name;
    void (*setup)(op_state *);              /* fault-free: what the call needs (client, request in flight) */
    void (*input)(op_state *);              /* fault-free: input bytes and entropy (again before the retry) */
    int32_t (*call)(op_state *);            /* the export under test */
    char *(*result)(op_state *, int32_t);   /* a success, as text compared with the fault-free run */
    void (*after_failure)(op_state *);      /* checks on the state a clean failure left */
    void (*teardown)(op_state *);           /* fault-free: free what setup and the call made */
} op_def;

typedef struct { unsigned allocations, failures, recovered_inside; } loop_report;

/* One run of the call with allocation n failing (0: none). *reached: the nth allocation happened. */
static int32_t run_call(const op_def *op, op_state *st, uint32_t n, bool *reached) {
    arena_fail_nth(n);
    int32_t rc = op->call(st);
    uint32_t count = arena_alloc_count();
    arena_fail_nth(0);
    *reached = n && count >= n;
    return rc;
}

static char *success_text(const op_def *op, op_state *st, int32_t rc) {
    if (q_error_len() != 0) fail_msg("%s: success %d with an error record %s", op->name, rc, err_text());
    return op->result(st, rc);
}

static loop_report fault_loop(const op_def *op) {
    loop_report rep = { 0, 0, 0 };
    op_state st = { -1, 0, { 0 } };
    bool reached;

    /* the fault-free reference, and the persistent baseline once everything is freed */
    if (op->setup) op->setup(&st);
    op->input(&st);
    int32_t rc = run_call(op, &st, 0, &reached);
    if (rc < 0) fail_msg("%s: the fault-free run failed: %s", op->name, err_text());
    char *want = success_text(op, &st, rc);
    if (op->teardown) op->teardown(&st);
    const unsigned base = mem_stats().persistent;

    for (uint32_t n = 1;; n++) {
        if (n > MAX_ROUNDS) fail_msg("%s: no end after %u injected failures", op->name, MAX_ROUNDS);
        st = (op_state){ -1, 0, { 0 } };
        if (op->setup) op->setup(&st);
        op->input(&st);
        rc = run_call(op, &st, n, &reached);
        if (rc >= 0) {
            char *got = success_text(op, &st, rc);
            if (strcmp(got, want))
                fail_msg("%s: allocation %u failed and the call still succeeded, wrongly:\n got  %s\n want %s", op->name, n, got, want);
            free(got);
            if (op->teardown) op->teardown(&st);
            unsigned p = mem_stats().persistent;
            if (p != base) fail_msg("%s: round %u: persistent %u, baseline %u", op->name, n, p, base);
            if (!reached) { rep.allocations = n - 1; break; }   /* nothing left to fail */
            rep.recovered_inside++;                             /* a fallback absorbed the failure */
            continue;
        } else {
            /* a clean failure */
            const char *e = err_text();
            if (!reached) fail_msg("%s: round %u failed without an injected failure: %s", op->name, n, e);
            if (rc != Q_ERR(OUT_OF_MEMORY)) fail_msg("%s: allocation %u failed: got %s, want OUT_OF_MEMORY (%s)", op->name, n, q_status_code(rc), e);
            if (!strstr(e, "\"code\":\"OUT_OF_MEMORY\"") || !strstr(e, "\"type\":\"capacity\"") || !strstr(e, "out of memory"))
                fail_msg("%s: allocation %u: error record %s", op->name, n, e);
            if (strstr(e, SECRET)) fail_msg("%s: the token leaked into the error record", op->name);
            assert_int_equal(q_output_len(), 0);
            if (op->after_failure) op->after_failure(&st);
        }
        /* the same call, without faults, succeeds with the same result */
        op->input(&st);
        rc = run_call(op, &st, 0, &reached);
        if (rc < 0) fail_msg("%s: after allocation %u failed, the same call failed again: %s", op->name, n, err_text());
        char *got = success_text(op, &st, rc);
        if (strcmp(got, want)) fail_msg("%s: after allocation %u failed, the retry gave\n got  %s\n want %s", op->name, n, got, want);
        free(got);
        if (op->teardown) op->teardown(&st);
        still_works();
        unsigned p = mem_stats().persistent;
        if (p != base) fail_msg("%s: after allocation %u failed: persistent %u, baseline %u", op->name, n, p, base);
        rep.failures++;
    }
    free(want);
    assert_int_equal(mem_stats().clients, 0);
    print_message("    %-34s %3u allocations, %3u clean failures, %u absorbed by fallbacks\n",
                  op->name, rep.allocations, rep.failures, rep.recovered_inside);
    assert_true(rep.failures + rep.recovered_inside >= 1);   /* something was injected */
    return rep;
}

static int setup_instance(void **state) {
    (void)state;
    if (q_init(0) != Q_OK) return -1;
    /* size the host buffers once, so their growth is not part of every baseline */
    q_buffer(1u << 20);
    q_entropy(256);
    return 0;
}

/* ---- the operations ------------------------------------------------------------------------------ */

static const char FULL_META[] =
    "{\"timestamp\":\"2024-03-01T12:00:00.5-02:30\",\"request_id\":\"{0190A3F2-1234-7ABC-8DEF-0123456789AB}\","
    "\"version\":\"1.0\",\"duration\":45.0,\"tenant\":\"acme\","
    "\"on_behalf_of\":{\"originalUser\":\"ou\",\"delegatingUser\":\"du\",\"delegatingTenant\":\"dt\"},"
    "\"security\":{\"user_id\":\"usr\",\"session_id\":\"sess\",\"auth_method\":\"OAuth2\",\"permissions\":[\"read\"],"
    "\"ip_address\":\"10.0.0.1\",\"user_agent\":\"ua\",\"roles\":[\"admin\"],\"token_expires_at\":\"2030-01-01T00:00:00+01:00\"},"
    "\"debug\":{\"trace_enabled\":true,\"db_queries\":[{\"query\":\"q\",\"duration\":0.5,\"rows_affected\":2,\"database\":\"db\"}],"
    "\"memory_usage\":{\"heap_used\":1,\"heap_total\":2,\"external\":3},\"stack_trace\":\"st\","
    "\"environment_vars\":{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\",\"D\":\"4\",\"E\":\"5\",\"F\":\"6\",\"G\":\"7\",\"H\":\"8\",\"I\":\"9\",\"J\":\"10\"},"
    "\"request_headers\":{\"accept\":\"*/*\"},\"log_level\":\"Warn\",\"profiling_data\":{\"cpu_time\":1.5,\"wall_time\":2.5,\"allocations\":7}},"
    "\"performance\":{\"db_query_time\":1e-3,\"db_query_count\":2,\"cache_hit_ratio\":0.9,\"cache_operations\":{\"hits\":1,\"misses\":2,\"sets\":3},"
    "\"memory_allocated\":100,\"memory_peak\":200,\"cpu_usage\":0.25,\"network_latency\":4.5,"
    "\"external_calls\":[{\"service\":\"svc\",\"duration\":3,\"status\":\"Timeout\",\"endpoint\":\"/x\"}],"
    "\"gc_collections\":2,\"gc_time\":1.0,\"thread_count\":8,\"processing_time_ms\":18},"
    "\"monitoring\":{\"server_id\":\"srv\",\"environment\":\"Canary\",\"health_status\":\"Degraded\",\"uptime\":12.5},"
    "\"tracing\":{\"trace_id\":\"t\",\"span_id\":\"s\",\"baggage\":{\"k\":\"v\"},\"sampled\":false,\"span_kind\":\"Client\","
    "\"span_status\":{\"code\":\"Error\",\"message\":\"m\"},\"tags\":{\"s\":\"v\",\"n\":1.5,\"b\":true}},"
    "\"extensions\":{\"z\":{\"deep\":[1, 2]},\"a\":null}}";

/* A meta without timestamp/request_id/version, so auto-fill writes them. */
static const char FILL_META[] =
    " { \"tenant\" : \"t\\u00e9\", \"security\":{\"user_id\":\"u\"},\"debug\":{\"log_level\":\"Info\"},"
    "\"performance\":{\"cpu_usage\":1},\"tracing\":{\"tags\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9}},"
    "\"extensions\":{\"x\":[ 1 , { \"y\" : null } ]} } ";
static const char PAYLOAD[] = " { \"items\" : [ 1, 2.5e3, \"\\u00e9\", { \"deep\" : [ [ [ ] ] ] } ], \"s\" : \"PAYLOAD-SECRET-456\" } ";
/* no http_status_code: the status comes from the code, which the decoder copies to scratch */
static const char ERROR_OBJ[] = "{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"no such \\\"thing\\\"\",\"details\":{\"k\":[1,2]},\"trace\":\"tr\"}";

static char *rc_and_output(op_state *st, int32_t rc) {
    (void)st;
    char *o = out_text(), *s = fmt("rc=%d out=%s", rc, o);
    free(o);
    return s;
}

/* q_envelope_decode: a full envelope with an error object and a deep payload (client with a
 * depth limit above the local JSON stack, so the scanner's stack growth allocates too). */
static char g_env[16384];
static void decode_setup(op_state *st) { st->h = new_client("{\"limits\":{\"max_depth\":5000}}"); }
static void decode_input(op_state *st) { st->len[0] = put1(g_env); }
static int32_t decode_call(op_state *st) { return q_envelope_decode(st->len[0], st->h); }
static void teardown_client(op_state *st) { if (st->h >= 0) free_client(st->h); st->h = -1; }
static const op_def OP_DECODE = { "q_envelope_decode", decode_setup, decode_input, decode_call, rc_and_output, NULL, teardown_client };

/* q_envelope_encode with auto-fill, the client's default tenant, an error object */
static void encode_input(op_state *st) {
    const char *parts[3] = { FILL_META, PAYLOAD, ERROR_OBJ };
    put_n(parts, st->len, 3);
    fill_entropy(16, 0x21);
}
static void encode_setup(op_state *st) { st->h = new_client("{\"meta\":{\"tenant\":\"dflt\",\"uuid_version\":4}}"); }
static int32_t encode_call(op_state *st) { return q_envelope_encode(st->len[0], st->len[1], st->len[2], Q_ENCODE_AUTOFILL, NOW, st->h); }
static const op_def OP_ENCODE = { "q_envelope_encode (autofill)", encode_setup, encode_input, encode_call, rc_and_output, NULL, teardown_client };

/* the same without a client and without an error object: the meta is auto-filled from scratch */
static void encode_bare_input(op_state *st) {
    const char *parts[2] = { "", PAYLOAD };
    put_n(parts, st->len, 2);
    fill_entropy(16, 0x33);
}
static int32_t encode_bare_call(op_state *st) { return q_envelope_encode(st->len[0], st->len[1], 0, Q_ENCODE_AUTOFILL, NOW, -1); }
static const op_def OP_ENCODE_BARE = { "q_envelope_encode (empty meta)", NULL, encode_bare_input, encode_bare_call, rc_and_output, NULL, NULL };

/* q_meta_tape: the full meta (a map's key table, the tape's room) */
static void meta_tape_input(op_state *st) { st->len[0] = put1(FULL_META); }
static int32_t meta_tape_call(op_state *st) { return q_meta_tape(st->len[0]); }
static const op_def OP_META_TAPE = { "q_meta_tape", NULL, meta_tape_input, meta_tape_call, rc_and_output, NULL, NULL };

/* the encode batch (decodeMany is the glue's loop over q_envelope_decode) */
static void encode_batch_input(op_state *st) {
    const char *items[] = { FILL_META, PAYLOAD, "", "[1, 2]", FULL_META, " \"x\" ", "{}", "" };
    st->len[0] = put_batch(items, (int)Q_ARRAY_LEN(items));
    fill_entropy(64, 0x45);
}
static int32_t encode_batch_call(op_state *st) { return q_envelope_encode_batch(st->len[0], Q_ENCODE_AUTOFILL, NOW, st->h); }
static void encode_batch_setup(op_state *st) { st->h = new_client("{\"meta\":{\"tenant\":\"b\"}}"); }
static const op_def OP_ENCODE_BATCH = { "q_envelope_encode_batch (autofill)", encode_batch_setup, encode_batch_input, encode_batch_call, rc_and_output, NULL, teardown_client };

/* q_client_new with every section */
static const char FULL_CONFIG[] =
    "{\"rest\":{\"base_url\":\"http://127.0.0.1:8080/api/\",\"route\":\"/envelope\",\"method\":\"PUT\","
    "\"headers\":{\"X-App\":\"demo\",\"X-Env\":\"test\",\"X-Escaped\":\"a\\u0041b\"}},"
    "\"timeouts\":{\"request_ms\":5000,\"connect_ms\":1000},"
    "\"retry\":{\"max_attempts\":4,\"base_delay_ms\":10,\"max_delay_ms\":100,\"jitter_percent\":0,\"retry_non_idempotent\":true},"
    "\"websocket\":{\"url\":\"ws://127.0.0.1:8080/ws\",\"ping_interval_ms\":1000,\"message_timeout_ms\":2000,"
    "\"max_message_bytes\":65536,\"max_connections\":2,\"max_queue\":10,\"reconnect\":false},"
    "\"limits\":{\"max_envelope_bytes\":65536,\"max_meta_bytes\":4096,\"max_depth\":64,\"max_in_flight\":8,\"max_header_bytes\":8192},"
    "\"meta\":{\"tenant\":\"acme-\\u00fc\",\"uuid_version\":4},"
    "\"security\":{\"auth_token\":\"api\",\"auth_scheme\":\"Token\",\"allowed_origins\":[\"http://example.com\",\"HTTP://127.0.0.1:8080/\"]}}";
static void client_new_input(op_state *st) { st->len[0] = put1(FULL_CONFIG); }
static int32_t client_new_call(op_state *st) { int32_t h = q_client_new(st->len[0]); if (h >= 0) st->h = h; return h; }
static char *client_new_result(op_state *st, int32_t rc) {
    (void)rc;
    if (q_client_config(st->h) < 0) fail_msg("q_client_config: %s", err_text());
    return out_text();
}
static void client_new_failed(op_state *st) {
    assert_int_equal(st->h, -1);
    assert_int_equal(mem_stats().clients, 0);
}
static const op_def OP_CLIENT_NEW = { "q_client_new (full config)", NULL, client_new_input, client_new_call, client_new_result, client_new_failed, teardown_client };

/* q_token_set: a new token (the store is made lazily) and a replaced one (the old value stays on failure) */
static void token_setup(op_state *st) { st->h = new_client("{\"security\":{\"auth_token\":\"api\"}}"); }
static void token_input(op_state *st) {
    const char *parts[2] = { "api", SECRET };
    put_n(parts, st->len, 2);
}
static int32_t token_call(op_state *st) { return q_token_set(st->h, st->len[0], st->len[1], 0, 0); }
static char *token_result(op_state *st, int32_t rc) {
    uint32_t n = 0;
    const uint8_t *v = token_get(client_get(instance(), st->h, false), (const uint8_t *)"api", 3, &n);
    return fmt("rc=%d value=%.*s", rc, v ? (int)n : 6, v ? (const char *)v : "(none)");
}
static void token_new_failed(op_state *st) {
    uint32_t n;
    assert_null(token_get(client_get(instance(), st->h, false), (const uint8_t *)"api", 3, &n));
    /* the input buffer keeps no copy of the secret, also on failure */
    assert_null(memmem(instance()->in, instance()->in_cap, SECRET, strlen(SECRET)));
}
static const op_def OP_TOKEN_NEW = { "q_token_set (new)", token_setup, token_input, token_call, token_result, token_new_failed, teardown_client };

static void token_replace_setup(op_state *st) { token_setup(st); set_token(st->h, "api", "old-value"); }
static void token_replace_failed(op_state *st) {
    uint32_t n = 0;
    const uint8_t *v = token_get(client_get(instance(), st->h, false), (const uint8_t *)"api", 3, &n);
    assert_non_null(v);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "old-value", 9);
}
static const op_def OP_TOKEN_REPLACE = { "q_token_set (replace)", token_replace_setup, token_input, token_call, token_result, token_replace_failed, teardown_client };

/* q_rest_prepare: auth + default and per-call headers + every meta header, GET and POST */
static const char REST_CONFIG[] =
    "{\"rest\":{\"base_url\":\"http://127.0.0.1:8080/api\",\"headers\":{\"X-App\":\"demo\",\"X-Env\":\"test\"}},"
    "\"security\":{\"auth_token\":\"api\"},\"meta\":{\"tenant\":\"acme\"},"
    "\"retry\":{\"base_delay_ms\":10,\"max_delay_ms\":100,\"jitter_percent\":10}}";
static const char REST_META[] =
    "{\"timestamp\":\"2024-01-01T12:00:00.5+02:00\",\"tenant\":\"t\\u00fc\",\"version\":\"1.0\","
    "\"security\":{\"user_id\":\"user-1\",\"session_id\":\"sess-2\"},\"tracing\":{\"trace_id\":\"tr-3\",\"span_id\":\"sp-4\"},"
    "\"on_behalf_of\":{\"originalUser\":\"j\\u00fcrgen \\ud83d\\ude00\",\"delegatingUser\":\"d\",\"delegatingTenant\":\"t\"}}";
static const char *g_rest_options = "";
static void rest_client_setup(op_state *st) { st->h = new_client(REST_CONFIG); set_token(st->h, "api", SECRET); }
static void prepare_input(op_state *st) {
    const char *parts[3] = { REST_META, PAYLOAD, g_rest_options };
    put_n(parts, st->len, 3);
    fill_entropy(20, 0x57);
}
static int32_t prepare_call(op_state *st) { return q_rest_prepare(st->h, st->len[0], st->len[1], st->len[2], NOW); }
static void prepare_failed(op_state *st) {
    assert_int_equal(rest_in_flight(client_get(instance(), st->h, false)), 0);
    assert_int_equal(q_output_len(), 0);
}
static void prepare_teardown(op_state *st) {
    q_client *c = client_get(instance(), st->h, false);
    assert_int_equal(rest_in_flight(c), 1);
    teardown_client(st);
}
static const op_def OP_PREPARE = { "q_rest_prepare", rest_client_setup, prepare_input, prepare_call, rc_and_output, prepare_failed, prepare_teardown };

/* Makes a request in flight (fault-free) on a fresh client; returns its id. */
static uint32_t start_request(op_state *st, const char *options) {
    rest_client_setup(st);
    const char *parts[3] = { REST_META, PAYLOAD, options };
    uint32_t l[3];
    put_n(parts, l, 3);
    fill_entropy(20, 0x61);
    int32_t rc = q_rest_prepare(st->h, l[0], l[1], l[2], NOW);
    if (rc < 0) fail_msg("q_rest_prepare: %s", err_text());
    uint32_t n = q_output_len();
    char *plan = malloc(n + 1);
    memcpy(plan, instance()->out, n);
    plan[n] = 0;
    const char *idp = strstr(plan, "\"id\":");
    assert_non_null(idp);
    uint64_t id = (uint64_t)strtoull(idp + 5, NULL, 10);
    free(plan);
    return id;
}

/* q_rest_response: an error envelope, a success, a retryable 503 envelope, an HTML 502 */
static const char *g_body = "", *g_type = "application/json", *g_retry_after = "";
static int32_t g_status = 200;
static const char *g_request_options = "{\"method\":\"GET\"}";
static void response_setup(op_state *st) { st->id = start_request(st, g_request_options); }
static void response_input(op_state *st) {
    const char *parts[3] = { g_body, g_type, g_retry_after };
    put_n(parts, st->len, 3);
}
static int32_t response_call(op_state *st) {
    return q_rest_response(st->h, st->id, g_status, st->len[0], st->len[1], st->len[2], NOW + 5);
}
static void in_flight_failed(op_state *st) {
    /* the request is still there, waiting for the same call again */
    assert_int_equal(rest_in_flight(client_get(instance(), st->h, false)), 1);
}
static void response_teardown(op_state *st) {
    q_client *c = client_get(instance(), st->h, false);
    if (rest_in_flight(c)) {
        /* a retry decision keeps the request: the caller aborts it */
        if (q_rest_failure(st->h, st->id, 3, NOW + 10) < 0) fail_msg("abort: %s", err_text());
    }
    assert_int_equal(rest_in_flight(c), 0);
    teardown_client(st);
}
static const op_def OP_RESPONSE = { "q_rest_response", response_setup, response_input, response_call, rc_and_output, in_flight_failed, response_teardown };

/* q_rest_failure (network: retry decision) and q_rest_attempt (the backoff timer fired) */
static void failure_setup(op_state *st) { st->id = start_request(st, "{\"method\":\"GET\"}"); }
static void no_input(op_state *st) { (void)st; }
static int32_t failure_call(op_state *st) { return q_rest_failure(st->h, st->id, 1, NOW + 5); }
static const op_def OP_FAILURE = { "q_rest_failure (network, retry)", failure_setup, no_input, failure_call, rc_and_output, in_flight_failed, response_teardown };

static int32_t timeout_call(op_state *st) { return q_rest_failure(st->h, st->id, 2, NOW + 5); }
static int32_t abort_call(op_state *st) { return q_rest_failure(st->h, st->id, 3, NOW + 5); }
static const op_def OP_TIMEOUT = { "q_rest_failure (timeout, reject)", failure_setup, no_input, timeout_call, rc_and_output, in_flight_failed, response_teardown };

static const op_def OP_ABORT = { "q_rest_failure (aborted)", failure_setup, no_input, abort_call, rc_and_output, in_flight_failed, response_teardown };

static void attempt_setup(op_state *st) {
    failure_setup(st);
    if (q_rest_failure(st->h, st->id, 1, NOW + 5) < 0) fail_msg("network failure: %s", err_text());
    char *o = out_text();
    if (!strstr(o, "\"action\":\"retry\"")) fail_msg("expected a retry: %s", o);
    free(o);
}
static int32_t attempt_call(op_state *st) { return q_rest_attempt(st->h, st->id, NOW + 200); }
static const op_def OP_ATTEMPT = { "q_rest_attempt", attempt_setup, no_input, attempt_call, rc_and_output, in_flight_failed, response_teardown };

/* q_client_config and q_memory_stats */
static void config_setup(op_state *st) { st->h = new_client(FULL_CONFIG); }
static int32_t config_call(op_state *st) { return q_client_config(st->h); }
static const op_def OP_CONFIG = { "q_client_config", config_setup, no_input, config_call, rc_and_output, NULL, teardown_client };

static int32_t stats_call(op_state *st) { (void)st; return q_memory_stats(); }
static char *stats_result(op_state *st, int32_t rc) {
    (void)st;
    /* the numbers move (a fallback allocation changes "scratch"); the shape must not */
    return fmt("rc>0:%d words=%u", rc > 0 && (uint32_t)rc == q_output_len(), q_output_len() / 4);
}
static const op_def OP_STATS = { "q_memory_stats", NULL, no_input, stats_call, stats_result, NULL, NULL };

/* q_json_validate: deep enough for the scanner's stack to leave the C stack */
static char *g_deep;
static void validate_input(op_state *st) { st->len[0] = put1(g_deep); }
static int32_t validate_call(op_state *st) { return q_json_validate(st->len[0], 4000); }
static const op_def OP_VALIDATE = { "q_json_validate (depth 3000)", NULL, validate_input, validate_call, rc_and_output, NULL, NULL };

/* ---- tests ---------------------------------------------------------------------------------------- */

static char *deep_array(int depth, const char *inner) {
    size_t n = strlen(inner);
    char *s = malloc((size_t)depth * 2 + n + 1);
    memset(s, '[', (size_t)depth);
    memcpy(s + depth, inner, n);
    memset(s + depth + n, ']', (size_t)depth);
    s[depth * 2 + n] = 0;
    return s;
}

static void codec_calls(void **state) {
    char *deep = deep_array(3000, "1");
    snprintf(g_env, sizeof g_env, "{ \"meta\" : %s, \"payload\": %s, \"error\": %s, \"extra\": [1] }", FULL_META, deep, ERROR_OBJ);
    free(deep);
    g_deep = deep_array(3000, "{\"a\":[]}");
    fault_loop(&OP_DECODE);
    fault_loop(&OP_ENCODE);
    fault_loop(&OP_ENCODE_BARE);
    fault_loop(&OP_ENCODE_BATCH);
    fault_loop(&OP_VALIDATE);
    fault_loop(&OP_META_TAPE);
    free(g_deep);
}

static void client_calls(void **state) {
    fault_loop(&OP_CLIENT_NEW);
    fault_loop(&OP_CONFIG);
    fault_loop(&OP_TOKEN_NEW);
    fault_loop(&OP_TOKEN_REPLACE);
    fault_loop(&OP_STATS);
}

static void rest_prepare_calls(void **state) {
    static const char *const OPTIONS[] = {
        "{\"method\":\"GET\",\"route\":\"/echo?x=1\",\"timeout_ms\":5000,\"headers\":{\"X-Call\":\"c\",\"x-app\":\"override\"},\"idempotent\":true}",
        "{\"method\":\"POST\",\"headers\":{\"X-Call\":\"c\"}}",
        "",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(OPTIONS); i++) {
        g_rest_options = OPTIONS[i];
        print_message("  options %s\n", OPTIONS[i][0] ? OPTIONS[i] : "(none)");
        fault_loop(&OP_PREPARE);
    }
    g_rest_options = "";
}

static void rest_response_calls(void **state) {
    static const struct { const char *what, *options; int32_t status; const char *body, *type, *retry_after; } CASES[] = {
        { "error envelope (400)", "{\"method\":\"GET\"}", 400,
          "{\"meta\":{\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\",\"tenant\":\"t\"},\"payload\":null,"
          "\"error\":{\"code\":\"HANDLER_ERROR\",\"message\":\"boom \\u00e9\",\"details\":{\"operation\":\"handler_execution\"},\"http_status_code\":400}}",
          "application/json", "" },
        { "error envelope without status (404)", "{\"method\":\"POST\"}", 404,
          "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"\",\"details\":\"d\"}}",
          "application/json", "" },
        { "success (200)", "{\"method\":\"GET\"}", 200,
          "{\"meta\":{\"timestamp\":\"2024-01-01T00:00:00Z\",\"request_id\":\"0190a3f2-1234-7abc-8def-0123456789ab\",\"tenant\":\"t\","
          "\"security\":{\"user_id\":\"u\"},\"tracing\":{\"trace_id\":\"x\"}},\"payload\":{\"echo\":[1,2,3],\"s\":\"PAYLOAD-SECRET-456\"}}",
          "application/json", "" },
        { "503 envelope, Retry-After (retry)", "{\"method\":\"GET\"}", 503,
          "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"SERVICE_UNAVAILABLE\",\"message\":\"later\"}}",
          "application/json", "1" },
        { "HTML 502 (retry)", "{\"method\":\"GET\"}", 502,
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>",
          "text/html; charset=utf-8", "" },
        { "HTML 502 (reject)", "{\"method\":\"POST\"}", 502, "<html>Bad Gateway</html>", "text/html", "" },
        { "200 not an envelope", "{\"method\":\"GET\"}", 200, "{\"meta\":{},\"payload\":", "application/json", "" },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(CASES); i++) {
        g_request_options = CASES[i].options;
        g_status = CASES[i].status;
        g_body = CASES[i].body;
        g_type = CASES[i].type;
        g_retry_after = CASES[i].retry_after;
        print_message("  %s\n", CASES[i].what);
        fault_loop(&OP_RESPONSE);
    }
    fault_loop(&OP_FAILURE);
    fault_loop(&OP_TIMEOUT);
    fault_loop(&OP_ABORT);
    fault_loop(&OP_ATTEMPT);
}

/* q_buffer / q_entropy growth: a failed growth keeps the old buffer and its bytes. */
static void host_buffer_growth(void **state) {
    assert_int_equal(q_init(0), Q_OK);
    for (int which = 0; which < 2; which++) {
        uint32_t (*grow)(uint32_t) = which ? q_entropy : q_buffer;
        uint8_t **buf = which ? &instance()->entropy : &instance()->in;
        uint32_t *cap = which ? &instance()->entropy_cap : &instance()->in_cap;
        unsigned failures = 0;
        for (uint32_t size = 16; size <= (1u << 20); size *= 4) {
            if (!grow(size / 2)) fail_msg("setup growth failed");
            uint8_t *old = *buf;
            uint32_t old_cap = *cap;
            for (uint32_t i = 0; i < old_cap; i++) old[i] = (uint8_t)(i * 7);
            for (uint32_t n = 1;; n++) {
                assert_true(n < 10);
                const unsigned before = mem_stats().persistent;
                arena_fail_nth(n);
                uint32_t p = grow(size);
                bool reached = arena_alloc_count() >= n;
                arena_fail_nth(0);
                if (p) {
                    assert_int_equal(p, (uint32_t)(uintptr_t)*buf);
                    assert_true(*cap >= size);
                    for (uint32_t i = 0; i < old_cap; i++) if ((*buf)[i] != (uint8_t)(i * 7)) fail_msg("byte %u lost", i);
                    if (!reached) break;
                    continue;
                }
                assert_true(reached);
                const char *e = err_text();
                if (!strstr(e, "\"code\":\"OUT_OF_MEMORY\"") || !strstr(e, "memory limit")) fail_msg("%s", e);
                assert_ptr_equal(*buf, old);
                assert_int_equal(*cap, old_cap);
                assert_int_equal(mem_stats().persistent, before);   /* nothing half-allocated kept */
                for (uint32_t i = 0; i < old_cap; i++) if (old[i] != (uint8_t)(i * 7)) fail_msg("byte %u changed", i);
                failures++;
            }
        }
        assert_true(failures >= 5);
    }
    still_works();
}

/* The arena's own cap: an instance limited to Q_MIN_MEMORY_LIMIT_BYTES, fed ever larger
 * envelopes (payload-heavy, then meta-heavy), fails with OUT_OF_MEMORY once they do not fit,
 * never traps, and keeps decoding small envelopes between the big ones. */
static void memory_cap(void **state) {
    assert_int_equal(q_init(Q_MIN_MEMORY_LIMIT_BYTES), Q_OK);
    assert_int_equal(mem_stats().limit, Q_MIN_MEMORY_LIMIT_BYTES);
    const char *kinds[] = { "payload", "meta", "encode" };
    for (int kind = 0; kind < 3; kind++) {
        uint32_t first_oom = 0, ok = 0;
        for (uint32_t size = 1024; size <= 4u * Q_MIN_MEMORY_LIMIT_BYTES; size += size / 2) {
            uint32_t n = size;
            if (kind == 1 && n > Q_DEFAULT_MAX_META_BYTES) break;     /* the meta limit comes first */
            if (kind == 2 && n > Q_DEFAULT_MAX_ENVELOPE_BYTES) break; /* so does the envelope limit */
            uint32_t p = q_buffer(n + 64);
            int32_t rc;
            if (!p) {
                rc = Q_ERR(OUT_OF_MEMORY);
                if (!strstr(err_text(), "memory limit")) fail_msg("the input buffer's failure names no limit: %s", err_text());
            } else {
                uint8_t *b = instance()->in;
                uint32_t at;
                if (kind == 0) {                        /* {"meta":{},"payload":[1,1,...]} */
                    at = (uint32_t)sprintf((char *)b, "{\"meta\":{},\"payload\":[");
                    while (at < n - 3) { b[at++] = '1'; b[at++] = ','; }
                    b[at++] = '1'; b[at++] = ']'; b[at++] = '}';
                    rc = q_envelope_decode(at, -1);
                } else if (kind == 1) {                 /* {"meta":{"extensions":{"k0":0,...}},"payload":1} */
                    at = (uint32_t)sprintf((char *)b, "{\"meta\":{\"extensions\":{");
                    for (uint32_t k = 0; at < n - 24; k++) at += (uint32_t)sprintf((char *)b + at, "%s\"k%u\":[%u]", k ? "," : "", k, k);
                    at += (uint32_t)sprintf((char *)b + at, "}},\"payload\":1}");
                    rc = q_envelope_decode(at, -1);
                } else {                                /* encode a payload of n bytes */
                    at = 0;
                    b[at++] = '[';
                    while (at < n - 2) { b[at++] = '1'; b[at++] = ','; }
                    b[at++] = '1'; b[at++] = ']';
                    rc = q_envelope_encode(0, at, 0, 0, NOW, -1);
                }
            }
            if (rc < 0) {
                const char *e = err_text();
                if (rc != Q_ERR(OUT_OF_MEMORY) || !strstr(e, "\"type\":\"capacity\""))
                    fail_msg("%s of %u bytes: %s %s", kinds[kind], n, q_status_code(rc), e);
                if (!first_oom) first_oom = n;
                print_message("    %-7s %8u bytes: %s\n", kinds[kind], n, e);
            } else {
                if (first_oom) fail_msg("%s: %u bytes failed but %u bytes fit", kinds[kind], first_oom, n);
                ok = n;
            }
            assert_true(mem_stats().footprint <= Q_MIN_MEMORY_LIMIT_BYTES);
            still_works();
        }
        print_message("  %s: largest that fit %u bytes, first out of memory at %u\n", kinds[kind], ok, first_oom);
        assert_true(ok >= 64 * 1024 || kind == 1);
        if (kind != 1) assert_true(first_oom > 0);
    }
    /* small calls of every kind still work */
    int32_t h = new_client("{\"rest\":{\"base_url\":\"http://127.0.0.1:1\"}}");
    assert_true(q_client_config(h) > 0);
    free_client(h);
    assert_true(q_envelope_encode(0, put1("[1]"), 0, 0, NOW, -1) > 0);
    assert_int_equal(mem_stats().clients, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(codec_calls, setup_instance),
        cmocka_unit_test_setup(client_calls, setup_instance),
        cmocka_unit_test_setup(rest_prepare_calls, setup_instance),
        cmocka_unit_test_setup(rest_response_calls, setup_instance),
        cmocka_unit_test(host_buffer_growth),
        cmocka_unit_test(memory_cap),
    };
    return cmocka_run_group_tests_name("alloc_faults", tests, NULL, NULL);
}
