/* The exports, driven as the JS glue drives them: q_init, q_buffer -> write bytes -> call
 * -> read the output region or the error JSON. On the host the arena lives above 4 GiB, so
 * the uint32 pointers the exports return are checked against the low 32 bits of the real
 * pointers (taken from the instance) and the real pointers are used to read and write. */
#include "test_util.h"
#include "qollective.h"
#include "instance.h"
#include "envelope.h"
#include "config.h"
#include "token.h"
#include "error_record.h"

#define LOW32(p) ((uint32_t)(uintptr_t)(p))

/* ---- glue-like helpers ----------------------------------------------------------------- */

/* q_buffer(n), checked against the instance; returns the real pointer. */
static uint8_t *in_buf(uint32_t n) {
    uint32_t p = q_buffer(n);
    if (!p) fail_msg("q_buffer(%u) failed", n);
    assert_non_null(instance()->in);
    assert_int_equal(p, LOW32(instance()->in));
    assert_true(instance()->in_cap >= n);
    return instance()->in;
}

/* Writes parts back to back into the input buffer; returns the total length. */
static uint32_t put_parts(const char *const *parts, uint32_t *lens, int n) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += (uint32_t)strlen(parts[i]);
    uint8_t *b = in_buf(total);
    uint32_t at = 0;
    for (int i = 0; i < n; i++) {
        uint32_t l = (uint32_t)strlen(parts[i]);
        memcpy(b + at, parts[i], l);
        if (lens) lens[i] = l;
        at += l;
    }
    return total;
}
static uint32_t put(const char *text) { return put_parts(&text, NULL, 1); }

static uint8_t *entropy(uint32_t n, uint8_t seed) {
    uint32_t p = q_entropy(n);
    assert_int_not_equal(p, 0);
    assert_int_equal(p, LOW32(instance()->entropy));
    uint8_t *e = instance()->entropy;
    for (uint32_t i = 0; i < n; i++) e[i] = (uint8_t)(seed + i * 7u);
    return e;
}

/* The output region of the last call (real pointer), checked against q_output_ptr/len. */
static const uint8_t *output(uint32_t *len) {
    *len = q_output_len();
    assert_int_equal(*len, instance()->out_len);
    assert_int_equal(q_output_ptr(), LOW32(instance()->out));
    return instance()->out;
}

static const char *output_text(void) {
    static char t[1 << 16];
    uint32_t n;
    const uint8_t *p = output(&n);
    assert_true(n < sizeof t);
    memcpy(t, p, n);
    t[n] = 0;
    assert_int_equal(strlen(t), n);
    return t;
}

/* The error record of the last call (q_error_ptr/len), checked field by field, as JSON text. */
static const char *error_text(void) {
    assert_int_equal(q_error_ptr(), LOW32(instance()->err_rec));
    const char *t = error_record_json();
    if (!*t) fail_msg("no error record");
    return t;
}

#define has(text, frag) do { const char *t_ = (text), *f_ = (frag); \
        if (!strstr(t_, f_)) fail_msg("'%s' not in %s", f_, t_); } while (0)

/* Asserts a failed call: the status, the code in the error JSON, and no output. */
static void failed_(int32_t rc, int status, int line) {
    if (rc != status) fail_msg("line %d: got %d (%s), want %s", line, rc, rc < 0 ? error_text() : "ok", q_status_code(status));
    char code[80];
    snprintf(code, sizeof code, "\"code\":\"%s\"", q_status_code(status));
    has(error_text(), code);
    assert_int_equal(q_output_len(), 0);
}
#define failed(rc, st) failed_((rc), (st), __LINE__)

/* A successful call leaves no error record. */
static void succeeded(int32_t rc) {
    if (rc < 0) fail_msg("failed: %s", error_text());
    assert_int_equal(q_error_len(), 0);
}

static const int32_t *record(void) {
    uint32_t n;
    const uint8_t *p = output(&n);
    assert_int_equal((uintptr_t)p % 4, 0);
    const int32_t *r = (const int32_t *)(const void *)p;
    assert_int_equal(n, (Q_DECODE_RECORD_WORDS + 1 + r[Q_DECODE_RECORD_WORDS]) * 4);   /* then the meta's tape */
    return r;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* Frames items as [u32le length][bytes]... into the input buffer; data offsets in offs. */
static uint32_t put_batch(const char *const *items, int n, uint32_t *offs) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += 4 + (uint32_t)strlen(items[i]);
    uint8_t *b = in_buf(total);
    uint32_t at = 0;
    for (int i = 0; i < n; i++) {
        uint32_t l = (uint32_t)strlen(items[i]);
        wr32(b + at, l);
        if (offs) offs[i] = at + 4;
        memcpy(b + at + 4, items[i], l);
        at += 4 + l;
    }
    return total;
}

/* Expected v7 / v4 UUID text from the timestamp and 16 entropy bytes. */
static void uuid_text(char out[37], const uint8_t *rnd, uint64_t ms, int version) {
    uint8_t u[16];
    if (version == 7) {
        for (int i = 0; i < 6; i++) u[i] = (uint8_t)(ms >> (40 - 8 * i));
        memcpy(u + 6, rnd, 10);
    } else memcpy(u, rnd, 16);
    u[6] = (uint8_t)((u[6] & 0x0F) | (version << 4));
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* Reads q_memory_stats output, which must be exactly Q_MEMORY_STATS_WORDS words. */
typedef struct { uint32_t limit, footprint, persistent, scratch, clients; } stats;
static stats memory_stats(void) {
    int32_t rc = q_memory_stats();
    succeeded(rc);
    uint32_t n;
    const uint8_t *p = output(&n);
    assert_int_equal(n, Q_MEMORY_STATS_WORDS * 4);
    assert_int_equal((uint32_t)rc, n);
    _Static_assert(sizeof(stats) == Q_MEMORY_STATS_WORDS * 4, "one word a field");
    stats s;
    memcpy(&s, p, sizeof s);
    return s;
}

static int setup(void **state) {
    (void)state;
    return q_init(0) == Q_OK ? 0 : -1;
}

static const double NOW = 1700000000123.0;    /* 2023-11-14T22:13:20.123Z */

/* ---- before q_init (runs first) --------------------------------------------------------- */

static void exports_before_init(void **s) {
    assert_null(instance());
    assert_int_equal(q_buffer(10), 0);
    assert_int_equal(q_entropy(16), 0);
    assert_int_equal(q_output_ptr(), 0);
    assert_int_equal(q_output_len(), 0);
    assert_int_equal(q_error_ptr(), 0);
    assert_int_equal(q_error_len(), 0);
    const int st = Q_ERR(BAD_STATE);
    assert_int_equal(q_json_validate(0, 0), st);
    assert_int_equal(q_envelope_decode(0, -1), st);
    assert_int_equal(q_envelope_encode(0, 0, 0, 0, NOW, -1), st);
    assert_int_equal(q_envelope_encode_batch(0, 0, NOW, -1), st);
    assert_int_equal(q_client_new(0), st);
    assert_int_equal(q_client_free(0), st);
    assert_int_equal(q_client_config(0), st);
    assert_int_equal(q_token_set(0, 1, 1, 0, 0), st);
    assert_int_equal(q_token_clear(0, 1), st);
    assert_int_equal(q_rest_prepare(0, 0, 0, 0, NOW), st);
    assert_int_equal(q_rest_response(0, 1, 200, 0, 0, 0, NOW), st);
    assert_int_equal(q_rest_failure(0, 1, 1, NOW), st);
    assert_int_equal(q_rest_attempt(0, 1, NOW), st);
    assert_int_equal(q_memory_stats(), st);
}

/* ---- init, buffers, stats ------------------------------------------------------------------ */

static void init_buffers_and_stats(void **s) {
    assert_non_null(instance());
    stats st = memory_stats();
    assert_int_equal(st.limit, Q_DEFAULT_MEMORY_LIMIT_BYTES);
    assert_int_equal(st.limit, arena_limit());
    assert_int_equal(st.clients, 0);
    assert_true(st.footprint > 0 && st.footprint <= st.limit);
    assert_int_equal(st.footprint, arena_footprint());
    assert_true(st.persistent > 0 && st.persistent <= st.footprint);
    assert_true(st.scratch > 0);    /* the stats text itself */
    assert_true(st.scratch <= arena_scratch_in_use());

    uint8_t *b = in_buf(100);
    for (int i = 0; i < 100; i++) b[i] = (uint8_t)i;
    assert_ptr_equal(in_buf(50), b);            /* no shrinking, same buffer */
    assert_ptr_equal(in_buf(0), b);
    uint8_t *big = in_buf(200000);              /* grows and keeps the contents */
    for (int i = 0; i < 100; i++) assert_int_equal(big[i], i);
    memset(big, 'x', 200000);
    assert_ptr_equal(in_buf(200000), big);

    uint8_t *e = entropy(16, 1);
    assert_ptr_equal(entropy(8, 2), e);
    assert_true(instance()->entropy_cap >= 16);

    /* the cap is rounded up to pages and never below the minimum */
    assert_int_equal(q_init(1), Q_OK);
    assert_int_equal(memory_stats().limit, Q_MIN_MEMORY_LIMIT_BYTES);
    assert_int_equal(q_init(Q_MIN_MEMORY_LIMIT_BYTES - 1), Q_OK);
    assert_int_equal(memory_stats().limit, Q_MIN_MEMORY_LIMIT_BYTES);
    assert_int_equal(q_init(5u * 1024 * 1024 + 1), Q_OK);
    assert_int_equal(memory_stats().limit, 5u * 1024 * 1024 + Q_PAGE_BYTES);
    /* a restart forgets buffers */
    assert_int_equal(instance()->in_cap, 0);
    assert_int_equal(instance()->entropy_cap, 0);
}

/* Every export with zero lengths straight after q_init, before any q_buffer: defined
 * behaviour (no arithmetic on a NULL buffer) and the documented results. */
static void zero_lengths_before_any_buffer(void **s) {
    assert_int_equal(instance()->in_cap, 0);
    failed(q_json_validate(0, 0), Q_ERR(JSON_EMPTY));
    failed(q_envelope_decode(0, -1), Q_ERR(JSON_EMPTY));
    succeeded(q_envelope_encode(0, 0, 0, 0, NOW, -1));
    assert_string_equal(output_text(), "{\"meta\":{},\"payload\":null}");
    succeeded(q_envelope_encode_batch(0, 0, NOW, -1));
    failed(q_json_validate(1, 0), Q_ERR(BAD_ARGUMENT));
    int32_t h = q_client_new(0);
    succeeded(h);
    failed(q_token_set(h, 0, 0, 0, 0), Q_ERR(BAD_ARGUMENT));
    assert_int_equal(q_token_clear(h, 0), 0);
    entropy(20, 1);
    failed(q_rest_prepare(h, 0, 0, 0, NOW), Q_ERR(CONFIG_INVALID));     /* no base_url */
    has(error_text(), "\"path\":\"rest.base_url\"");
    assert_true(q_rest_response(h, 1, 200, 0, 0, 0, NOW) < 0);
    succeeded(q_client_free(h));
}

/* ---- q_json_validate ------------------------------------------------------------------------- */

/* q_input_utf16: UTF-16LE units in the input buffer become UTF-8 in place; a range past the
 * buffer is refused with BAD_ARGUMENT (nothing read or written), text dense in 3-byte characters
 * and zero units give 0 (the glue then uses encodeInto). */
static void input_utf16_export(void **s) {
    uint8_t *in = in_buf(64);
    const uint16_t units[] = { 'h', 'i', 0xE9, 0xD83D, 0xDE00, 0xD800, '!' };   /* e-acute, U+1F600, a lone surrogate */
    memcpy(in + 8, units, sizeof units);
    int32_t r = q_input_utf16(8, 7);
    assert_true(r > 0);
    assert_int_equal(r & 1, 1);                                  /* a lone surrogate was replaced */
    assert_int_equal(r >> 1, 12);
    assert_memory_equal(in + 8, "hi\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD!", 12);
    assert_int_equal(q_error_len(), 0);
    uint32_t len, wide[2];
    memcpy(wide, output(&len), sizeof wide);                     /* the UTF-8's non-ASCII bytes: [2, 11) */
    assert_int_equal(len, 8);
    assert_int_equal(wide[0], 2);
    assert_int_equal(wide[1], 11);
    uint32_t cap = instance()->in_cap;
    const uint16_t plain[] = { 'o', 'k' };                       /* all ASCII: [2, 0) */
    memcpy(in, plain, sizeof plain);
    assert_int_equal(q_input_utf16(0, 2), 4);
    memcpy(wide, output(&len), sizeof wide);
    assert_int_equal(wide[0], 2);
    assert_int_equal(wide[1], 0);
    failed(q_input_utf16(cap - 2, 2), Q_ERR(BAD_ARGUMENT));      /* 4 bytes from 2 before the end */
    failed(q_input_utf16(0xFFFFFFFFu, 1), Q_ERR(BAD_ARGUMENT));
    failed(q_input_utf16(0, 0x80000000u), Q_ERR(BAD_ARGUMENT));  /* 2^32 bytes: no wrap-around */
    const uint16_t cjk[] = { 0x4E2D, 0x6587 };                  /* 6 bytes of UTF-8 from 4 of UTF-16 */
    memcpy(in, cjk, sizeof cjk);
    assert_int_equal(q_input_utf16(0, 2), 0);
    assert_int_equal(q_input_utf16(0, 0), 0);
}

static void json_validate_export(void **s) {
    succeeded(q_json_validate(put("{\"a\":[1,2.5e3,{\"b\":null}],\"c\":\"\\u00e9\"}"), 0));
    assert_int_equal(q_output_len(), 0);
    failed(q_json_validate(put("{\"a\":}"), 0), Q_ERR(JSON_SYNTAX));
    assert_string_equal(error_text(),
        "{\"type\":\"validation\",\"code\":\"JSON_SYNTAX\",\"message\":\"invalid JSON syntax (expected a value) at byte 5\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":5,\"path\":\"\",\"source\":\"local\"}");
    failed(q_json_validate(0, 0), Q_ERR(JSON_EMPTY));
    has(error_text(), "\"offset\":0,");
    failed(q_json_validate(put(" [1] x"), 0), Q_ERR(JSON_TRAILING));
    has(error_text(), "\"offset\":5,");
    /* only len bytes count */
    uint32_t n = put("[1]xyz");
    succeeded(q_json_validate(n - 3, 0));
    failed(q_json_validate(n, 0), Q_ERR(JSON_TRAILING));
    /* a call after a failure starts clean */
    succeeded(q_json_validate(put("true"), 0));
    /* max_depth: explicit, and 0 = the default */
    n = put("[[[]]]");
    failed(q_json_validate(n, 2), Q_ERR(JSON_DEPTH));
    succeeded(q_json_validate(n, 3));
    char deep[2 * Q_DEFAULT_MAX_DEPTH + 3];
    memset(deep, '[', Q_DEFAULT_MAX_DEPTH); memset(deep + Q_DEFAULT_MAX_DEPTH, ']', Q_DEFAULT_MAX_DEPTH);
    deep[2 * Q_DEFAULT_MAX_DEPTH] = 0;
    succeeded(q_json_validate(put(deep), 0));
    memset(deep, '[', Q_DEFAULT_MAX_DEPTH + 1); memset(deep + Q_DEFAULT_MAX_DEPTH + 1, ']', Q_DEFAULT_MAX_DEPTH + 1);
    deep[2 * Q_DEFAULT_MAX_DEPTH + 2] = 0;
    failed(q_json_validate(put(deep), 0), Q_ERR(JSON_DEPTH));
    char at[32];
    snprintf(at, sizeof at, "\"offset\":%d,", Q_DEFAULT_MAX_DEPTH);   /* the first bracket too deep */
    has(error_text(), at);
    /* longer than the buffer */
    n = put("{}");
    failed(q_json_validate(instance()->in_cap + 1, 0), Q_ERR(BAD_ARGUMENT));
    assert_string_equal(error_text(),
        "{\"type\":\"internal\",\"code\":\"BAD_ARGUMENT\",\"message\":\"bad argument (length exceeds the input buffer)\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"\",\"source\":\"local\"}");
    failed(q_json_validate(0xFFFFFFFFu, 0), Q_ERR(BAD_ARGUMENT));
}

/* ---- q_envelope_decode ------------------------------------------------------------------------- */

/* The meta's tape (include/qollective.h QT_*): after the record, every key and value of the meta in
 * the order of its bytes, each [kind, start, len] with start an offset into the meta. */
static void decode_meta_tape(void **s) {
    static const char META[] = "{\"tenant\":\"t\\\"1\",\"zz\":[1,{\"a\":null}],\"duration\":null,\"vers\\u0069on\":\"1\","
                               "\"tracing\":{\"sampled\":true,\"tags\":{\"k\":-2.5e1}},\"extensions\":{\"x\":[1]}}";
    char env[512];
    snprintf(env, sizeof env, "{\"payload\":7,\"meta\": %s}", META);
    succeeded(q_envelope_decode(put(env), -1));
    const int32_t *r = record(), *t = r + Q_DECODE_RECORD_WORDS + 1;
    const char *m = env + r[QD_META_OFF];
#define AT(text) (int32_t)(strstr(META, text) - META)
    const int32_t want[][3] = {
        { QT_OBJECT, 0, 6 },
        { QT_FIELD, AT("tenant"), 6 }, { QT_STRING, AT("t\\\"1"), 4 },
        { QT_KEY, AT("zz"), 2 }, { QT_RAW, AT("[1,"), 14 },                          /* unknown: kept as text */
        { QT_FIELD, AT("duration"), 8 }, { QT_PRIMITIVE, AT("null,\"v"), 4 },
        { QT_KEY, AT("vers"), 12 }, { QT_STRING, AT("1\",\"tr"), 1 },                /* an escaped key: its text */
        { QT_FIELD, AT("tracing"), 7 }, { QT_OBJECT, AT("{\"sampled"), 2 },
        { QT_FIELD, AT("sampled"), 7 }, { QT_PRIMITIVE, AT("true"), 4 },
        { QT_FIELD, AT("tags"), 4 }, { QT_OBJECT, AT("{\"k\""), 1 }, { QT_KEY, AT("k\""), 1 }, { QT_PRIMITIVE, AT("-2.5e1"), 6 },
        { QT_FIELD, AT("extensions"), 10 }, { QT_OBJECT, AT("{\"x\""), 1 }, { QT_KEY, AT("x\""), 1 }, { QT_RAW, AT("[1]"), 3 },
    };
#undef AT
    uint32_t n = sizeof want / sizeof want[0];
    assert_int_equal(r[Q_DECODE_RECORD_WORDS], n * 3);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(t[3 * i] & 255, want[i][0]);
        assert_int_equal(t[3 * i + 1], want[i][1]);
        assert_int_equal(t[3 * i + 2], want[i][2]);
        if (want[i][0] == QT_FIELD) {   /* a field key: its index in the envelope's set names it */
            const schema_field *f = &ENV_SCHEMA_SET.fields[t[3 * i] >> 8];
            assert_int_equal(f->name_len, want[i][2]);
            assert_memory_equal(schema_field_name(&ENV_SCHEMA_SET, f), m + want[i][1], f->name_len);
        } else {
            assert_int_equal(t[3 * i] >> 8, 0);
        }
    }
    /* a meta of more entries than Q_DECODE_TAPE_WORDS holds gets none; the record is the same */
    char big[20000];
    int at = snprintf(big, sizeof big, "{\"meta\":{\"tracing\":{\"tags\":{");
    for (int i = 0; i < Q_DECODE_TAPE_WORDS / 6 + 1; i++) at += snprintf(big + at, sizeof big - (size_t)at, "%s\"%d\":1", i ? "," : "", i);
    snprintf(big + at, sizeof big - (size_t)at, "}}},\"payload\":1}");
    succeeded(q_envelope_decode(put(big), -1));
    r = record();
    assert_int_equal(r[Q_DECODE_RECORD_WORDS], 0);
    assert_int_equal(r[QD_META_OFF], 8);
}

/* An i64/u64 field's integer beyond +-(2^53 - 1) is QT_BIG (the glue makes a BigInt); at the edge, in
 * an f64 field and in extensions it stays QT_PRIMITIVE / QT_RAW. */
static void decode_meta_tape_big(void **s) {
    static const char META[] = "{\"debug\":{\"memory_usage\":{\"heap_used\":9007199254740991,\"heap_total\":-9007199254740992,"
                               "\"external\":-9007199254740991}},\"performance\":{\"cpu_usage\":12345678901234567890,"
                               "\"memory_peak\":9007199254740992,\"processing_time_ms\":18446744073709551615},"
                               "\"extensions\":{\"x\":9223372036854775807}}";
    char env[512];
    snprintf(env, sizeof env, "{\"meta\":%s,\"payload\":1}", META);
    succeeded(q_envelope_decode(put(env), -1));
    const int32_t *r = record(), *t = r + Q_DECODE_RECORD_WORDS + 1;
    static const struct { const char *text; int kind; } want[] = {
        { ":9007199254740991,", QT_PRIMITIVE }, { ":-9007199254740992", QT_BIG }, { ":-9007199254740991}", QT_PRIMITIVE },
        { ":12345678901234567890", QT_PRIMITIVE }, { ":9007199254740992,", QT_BIG }, { ":18446744073709551615", QT_BIG },
        { ":9223372036854775807", QT_RAW },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {   /* the value just past the colon */
        int32_t at = (int32_t)(strstr(META, want[i].text) - META) + 1, found = -1;
        for (int32_t k = 0; k < r[Q_DECODE_RECORD_WORDS]; k += 3) if (t[k + 1] == at) found = t[k];
        assert_int_equal(found, want[i].kind);
    }
}

/* q_meta_tape: the tape of a meta text alone, every entry, offsets and lengths in UTF-16 units */
static void meta_tape_units(void **s) {
    /* "é" is 2 bytes and 1 unit, the emoji 4 bytes and 2 units: 3 units less from there on */
    static const char META[] = "{\"tenant\":\"\xc3\xa9\xf0\x9f\x98\x80\",\"performance\":{\"memory_peak\":-9223372036854775808},\"zz\":[1]}";
#define AT(text, less) (int32_t)(strstr(META, text) - META - (less))
    const int32_t want[][3] = {
        { QT_OBJECT, 0, 3 }, { QT_FIELD, AT("tenant", 0), 6 }, { QT_STRING, AT("\xc3", 0), 3 },
        { QT_FIELD, AT("performance", 3), 11 }, { QT_OBJECT, AT("{\"memory", 3), 1 },
        { QT_FIELD, AT("memory_peak", 3), 11 }, { QT_BIG, AT("-9223", 3), 20 },
        { QT_KEY, AT("zz", 3), 2 }, { QT_RAW, AT("[1]", 3), 3 },
    };
#undef AT
    int32_t n = q_meta_tape(put(META));
    succeeded(n);
    assert_int_equal(n, (int32_t)(sizeof want / sizeof want[0]) * 3);
    uint32_t len;
    const int32_t *t = (const int32_t *)(const void *)output(&len);
    assert_int_equal(len, (uint32_t)n * 4);
    for (int32_t i = 0; i < n / 3; i++) {
        assert_int_equal(t[3 * i] & 255, want[i][0]);
        assert_int_equal(t[3 * i + 1], want[i][1]);
        assert_int_equal(t[3 * i + 2], want[i][2]);
    }
    /* not a meta: the walk's failure; past the input: refused */
    failed(q_meta_tape(put("[1]")), Q_ERR(TYPE_MISMATCH));
    failed(q_meta_tape(put("{\"performance\":{\"memory_peak\":9223372036854775808}}")), Q_ERR(OUT_OF_RANGE));
    failed(q_meta_tape(instance()->in_cap + 1), Q_ERR(BAD_ARGUMENT));
}

static void decode_record_words(void **s) {
    static const char META[] = "{\"timestamp\":\"2024-01-02T03:04:05Z\",\"request_id\":\"0190163D-8694-739B-AEA5-966C26F8AD91\",\"tenant\":\"t1\"}";
    static const char PAYLOAD[] = "{ \"x\" : [1, 2, 3] }";
    static const char ERROR[] = "{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"no \\\"such\\\" thing\",\"details\":{\"k\":1}}";
    char env[512];
    snprintf(env, sizeof env, " {\n \"meta\" : %s, \"payload\":%s ,\"error\": %s, \"extra\": [1] }\n", META, PAYLOAD, ERROR);
    uint32_t n = put(env);
    int32_t rc = q_envelope_decode(n, -1);
    succeeded(rc);
    assert_int_equal(rc, 0);
    const int32_t *r = record();
    long meta = strstr(env, META) - env, payload = strstr(env, PAYLOAD) - env, error = strstr(env, ERROR) - env;
    assert_int_equal(r[QD_META_OFF], meta);
    assert_int_equal(r[QD_META_LEN], strlen(META));
    assert_int_equal(r[QD_PAYLOAD_OFF], payload);
    assert_int_equal(r[QD_PAYLOAD_LEN], strlen(PAYLOAD));
    assert_int_equal(r[QD_ERROR_OFF], error);
    assert_int_equal(r[QD_ERROR_LEN], strlen(ERROR));
    assert_int_equal(r[QD_ERROR_STATUS], 404);
    assert_int_equal(r[QD_ERROR_CODE_OFF], strstr(env, "RESOURCE_NOT_FOUND") - env);
    assert_int_equal(r[QD_ERROR_CODE_LEN], 18);
    assert_int_equal(r[QD_ERROR_MESSAGE_OFF], strstr(env, "no \\\"such") - env);
    assert_int_equal(r[QD_ERROR_MESSAGE_LEN], strlen("no \\\"such\\\" thing"));
    assert_int_equal(r[QD_REQUEST_ID_OFF], strstr(env, "0190163D") - env);
    assert_int_equal(r[QD_REQUEST_ID_LEN], 36);
    /* the words point at the bytes in the input buffer */
    assert_memory_equal(instance()->in + r[QD_PAYLOAD_OFF], PAYLOAD, strlen(PAYLOAD));

    /* http_status_code wins over the code; no request id; absent/null error */
    const char *e2 = "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"m\",\"http_status_code\":418}}";
    succeeded(q_envelope_decode(put(e2), -1));
    r = record();
    assert_int_equal(r[QD_ERROR_STATUS], 418);
    assert_int_equal(r[QD_REQUEST_ID_OFF], 0);
    assert_int_equal(r[QD_REQUEST_ID_LEN], 0);
    assert_int_equal(r[QD_META_OFF], 8);
    assert_int_equal(r[QD_META_LEN], 2);
    assert_int_equal(r[QD_PAYLOAD_OFF], 21);
    assert_int_equal(r[QD_PAYLOAD_LEN], 4);
    const char *e3 = "{\"payload\":[],\"meta\":{},\"error\":null}";
    succeeded(q_envelope_decode(put(e3), -1));
    r = record();
    assert_int_equal(r[QD_META_OFF], 21);
    assert_int_equal(r[QD_PAYLOAD_OFF], 11);
    assert_int_equal(r[QD_PAYLOAD_LEN], 2);
    for (int w = QD_ERROR_OFF; w < Q_DECODE_RECORD_WORDS; w++) assert_int_equal(r[w], 0);
    /* the status fallback of §3 through the export */
    const char *e4 = "{\"meta\":{},\"payload\":null,\"error\":{\"code\":\"invalid_auth\",\"message\":\"\"}}";
    succeeded(q_envelope_decode(put(e4), -1));
    assert_int_equal(record()[QD_ERROR_STATUS], 401);

    /* failures: error JSON with code, path and offset into the input */
    failed(q_envelope_decode(put("{\"meta\":{\"request_id\":\"nope\"},\"payload\":null}"), -1), Q_ERR(INVALID_UUID));
    assert_string_equal(error_text(),
        "{\"type\":\"validation\",\"code\":\"INVALID_UUID\",\"message\":\"meta.request_id: not a UUID at byte 22\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":22,\"path\":\"meta.request_id\",\"source\":\"local\"}");
    failed(q_envelope_decode(put("{\"meta\":{}}"), -1), Q_ERR(MISSING_FIELD));
    has(error_text(), "\"path\":\"payload\"");
    failed(q_envelope_decode(put("[]"), -1), Q_ERR(TYPE_MISMATCH));
    failed(q_envelope_decode(0, -1), Q_ERR(JSON_EMPTY));
    /* length past the buffer */
    put("{\"meta\":{},\"payload\":1}");
    failed(q_envelope_decode(instance()->in_cap + 1, -1), Q_ERR(BAD_ARGUMENT));
    failed(q_envelope_decode(0xFFFFFFFFu, -1), Q_ERR(BAD_ARGUMENT));
}

/* ---- q_envelope_encode ---------------------------------------------------------------------- */

static void encode_without_autofill(void **s) {
    const char *parts[3] = { " { \"tenant\" : \"a\", \"version\":\"1.0\" } ", " { \"b\" : [1, 2] } ", "" };
    uint32_t l[3];
    put_parts(parts, l, 3);
    int32_t rc = q_envelope_encode(l[0], l[1], l[2], 0, NOW, -1);
    succeeded(rc);
    const char *want = "{\"meta\":{\"version\":\"1.0\",\"tenant\":\"a\"},\"payload\":{\"b\":[1,2]}}";
    assert_string_equal(output_text(), want);
    assert_int_equal(rc, strlen(want));

    parts[2] = "{\"message\":\"m\",\"code\":\"E\",\"http_status_code\":400}";
    put_parts(parts, l, 3);
    succeeded(q_envelope_encode(l[0], l[1], l[2], 0, NOW, -1));
    assert_string_equal(output_text(),
        "{\"meta\":{\"version\":\"1.0\",\"tenant\":\"a\"},\"payload\":{\"b\":[1,2]},\"error\":{\"code\":\"E\",\"message\":\"m\",\"http_status_code\":400}}");

    /* everything empty: meta {} and payload null; no entropy needed without the flag */
    succeeded(q_envelope_encode(0, 0, 0, 0, NOW, -1));
    assert_string_equal(output_text(), "{\"meta\":{},\"payload\":null}");

    /* failures name the part */
    parts[0] = "{\"request_id\":\"bad\"}"; parts[1] = "1"; parts[2] = "";
    put_parts(parts, l, 3);
    failed(q_envelope_encode(l[0], l[1], l[2], 0, NOW, -1), Q_ERR(INVALID_UUID));
    has(error_text(), "\"offset\":14,\"path\":\"meta.request_id\",\"source\":\"local\"}");
    parts[0] = ""; parts[1] = "[1,";
    put_parts(parts, l, 3);
    failed(q_envelope_encode(l[0], l[1], l[2], 0, NOW, -1), Q_ERR(JSON_TRUNCATED));
    has(error_text(), "\"path\":\"payload\",\"source\":\"local\"}");
    has(error_text(), "\"message\":\"payload: unexpected end of input");

    /* lengths larger than the buffer */
    in_buf(10);
    uint32_t cap = instance()->in_cap;
    failed(q_envelope_encode(cap, 1, 0, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
    failed(q_envelope_encode(0, 0, cap + 1, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
    failed(q_envelope_encode(0xFFFFFFFFu, 0xFFFFFFFFu, 2, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
    failed(q_envelope_encode(0x80000000u, 0x80000000u, 0, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
}

static void encode_with_autofill(void **s) {
    /* no entropy yet: BAD_ARGUMENT */
    failed(q_envelope_encode(0, 0, 0, Q_ENCODE_AUTOFILL, NOW, -1), Q_ERR(BAD_ARGUMENT));
    has(error_text(), "16 entropy bytes");
    entropy(15, 0);
    failed(q_envelope_encode(0, 0, 0, Q_ENCODE_AUTOFILL, NOW, -1), Q_ERR(BAD_ARGUMENT));

    const uint8_t *rnd = entropy(16, 0x11);
    uint8_t saved[16];
    memcpy(saved, rnd, 16);
    const char *parts[2] = { "", "{\"q\":1}" };
    uint32_t l[2];
    put_parts(parts, l, 2);
    int32_t rc = q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW, -1);
    succeeded(rc);
    char uuid[37], want[256];
    uuid_text(uuid, saved, 1700000000123ull, 7);
    snprintf(want, sizeof want, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":\"%s\",\"version\":\"1.0\"},"
             "\"payload\":{\"q\":1}}", uuid);
    assert_string_equal(output_text(), want);
    assert_int_equal(rc, strlen(want));
    /* the request id: lowercase, version 7, variant 10, timestamp bits = now_ms */
    const char *id = strstr(output_text(), "\"request_id\":\"") + 14;
    for (int i = 0; i < 36; i++) {
        char c = id[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) assert_int_equal(c, '-');
        else assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
    assert_int_equal(id[14], '7');
    assert_non_null(strchr("89ab", id[19]));
    char hex[13];
    snprintf(hex, sizeof hex, "%012llx", 1700000000123ull);
    assert_memory_equal(id, hex, 8);
    assert_memory_equal(id + 9, hex + 8, 4);

    /* fields already present are kept; meta order is canonical */
    parts[0] = "{\"tenant\":\"t\",\"version\":\"2.0\",\"request_id\":\"0190163D-8694-739B-AEA5-966C26F8AD91\",\"timestamp\":\"2024-01-02T03:04:05+01:00\"}";
    put_parts(parts, l, 2);
    succeeded(q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW, -1));
    assert_string_equal(output_text(), "{\"meta\":{\"timestamp\":\"2024-01-02T02:04:05Z\",\"request_id\":\"0190163d-8694-739b-aea5-966c26f8ad91\","
                                       "\"version\":\"2.0\",\"tenant\":\"t\"},\"payload\":{\"q\":1}}");

    /* a whole second has no fraction */
    succeeded(q_envelope_encode(0, 0, 0, Q_ENCODE_AUTOFILL, 1700000000000.0, -1));
    has(output_text(), "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20Z\",\"request_id\":\"018bcfe5-6800-7");
}

/* ---- batches ------------------------------------------------------------------------------------ */

static void encode_batch_framing(void **s) {
    const char *items[] = { "", "1", "{\"tenant\":\"x\"}", " [ 1 , 2 ] ", "{}", "" };
    uint32_t len = put_batch(items, 6, NULL);
    int32_t rc = q_envelope_encode_batch(len, 0, NOW, -1);
    succeeded(rc);
    assert_int_equal(rc, 3);
    static const char *const WANT[] = {
        "{\"meta\":{},\"payload\":1}",
        "{\"meta\":{\"tenant\":\"x\"},\"payload\":[1,2]}",
        "{\"meta\":{},\"payload\":null}",
    };
    uint32_t n;
    const uint8_t *o = output(&n);
    uint32_t at = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(at + 4 <= n);
        uint32_t el = rd32(o + at);
        assert_int_equal(el, strlen(WANT[i]));
        assert_memory_equal(o + at + 4, WANT[i], el);
        at += 4 + el;
    }
    assert_int_equal(at, n);

    /* auto-fill takes 16 entropy bytes per item, in order */
    uint8_t rnd[48];
    memcpy(rnd, entropy(48, 0x40), 48);
    len = put_batch(items, 6, NULL);
    succeeded(q_envelope_encode_batch(len, Q_ENCODE_AUTOFILL, NOW, -1));
    o = output(&n);
    at = 0;
    for (int i = 0; i < 3; i++) {
        char uuid[37], frag[64];
        uuid_text(uuid, rnd + 16 * i, 1700000000123ull, 7);
        snprintf(frag, sizeof frag, "\"request_id\":\"%s\"", uuid);
        uint32_t el = rd32(o + at);
        char env[256];
        assert_true(el < sizeof env);
        memcpy(env, o + at + 4, el); env[el] = 0;
        has(env, frag);
        has(env, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",");
        at += 4 + el;
    }
    assert_int_equal(at, n);
    /* not enough entropy for every item (the entropy buffer never shrinks: restart) */
    assert_int_equal(q_init(0), Q_OK);
    entropy(32, 0);
    len = put_batch(items, 6, NULL);
    failed(q_envelope_encode_batch(len, Q_ENCODE_AUTOFILL, NOW, -1), Q_ERR(BAD_ARGUMENT));
    has(error_text(), "16 entropy bytes");

    /* an empty batch */
    rc = q_envelope_encode_batch(0, 0, NOW, -1);
    succeeded(rc);
    assert_int_equal(rc, 0);
    assert_int_equal(q_output_len(), 0);

    /* malformed framing: a meta without its payload */
    uint8_t *b = in_buf(6);
    wr32(b, 2); memcpy(b + 4, "{}", 2);
    failed(q_envelope_encode_batch(6, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
    has(error_text(), "\"offset\":6,\"path\":\"batch\",\"source\":\"local\"}");
    failed(q_envelope_encode_batch(instance()->in_cap + 1, 0, NOW, -1), Q_ERR(BAD_ARGUMENT));
}

static void encode_batch_names_failing_item(void **s) {
    /* item 1 fails inside the payload (an error that already has a path) */
    const char *items[] = { "", "1", "", "[1,", "", "2" };
    uint32_t len = put_batch(items, 6, NULL);
    failed(q_envelope_encode_batch(len, 0, NOW, -1), Q_ERR(JSON_TRUNCATED));
    has(error_text(), "\"message\":\"batch[1]: payload: unexpected end of input");
    has(error_text(), "\"path\":\"batch[1].payload\",\"source\":\"local\"}");
    /* item 2 fails in the meta */
    const char *items2[] = { "", "1", "{}", "2", "{\"request_id\":7}", "3" };
    len = put_batch(items2, 6, NULL);
    failed(q_envelope_encode_batch(len, 0, NOW, -1), Q_ERR(TYPE_MISMATCH));
    has(error_text(), "\"message\":\"batch[2]: meta.request_id: wrong type (expected a string) at byte 14\"");
    has(error_text(), "\"path\":\"batch[2].meta.request_id\",\"source\":\"local\"}");
}

/* ---- clients ----------------------------------------------------------------------------------- */

static void client_defaults_and_config(void **s) {
    /* the expected default text, from the config module itself */
    char dflt[2048];
    {
        q_config c; q_buf b = {0};
        config_defaults(&c);
        assert_int_equal(config_to_json(&c, &b), Q_OK);
        memcpy(dflt, b.ptr, b.len); dflt[b.len] = 0;
    }
    in_buf(1);
    int32_t h = q_client_new(0);
    succeeded(h);
    assert_true(h >= 0);
    int32_t rc = q_client_config(h);
    succeeded(rc);
    assert_string_equal(output_text(), dflt);
    assert_int_equal(rc, strlen(dflt));
    has(dflt, "\"route\":\"/envelope\"");

    /* a configured client: tenant filled on auto-fill, limits enforced */
    int32_t c = q_client_new(put("{\"meta\":{\"tenant\":\"acme\"},\"limits\":{\"max_envelope_bytes\":64,\"max_meta_bytes\":20,\"max_depth\":3}}"));
    succeeded(c);
    assert_int_not_equal(c, h);
    succeeded(q_client_config(c));
    has(output_text(), "\"limits\":{\"max_envelope_bytes\":64,\"max_meta_bytes\":20,\"max_depth\":3,");
    has(output_text(), "\"meta\":{\"tenant\":\"acme\",\"uuid_version\":7}");

    /* auto-fill with the configured tenant (a client with room for the filled meta: the
     * canonical output is checked against the limits too) */
    int32_t ct = q_client_new(put("{\"meta\":{\"tenant\":\"acme\"}}"));
    assert_true(ct >= 0);
    const uint8_t *rnd = entropy(16, 3);
    uint8_t saved[16]; memcpy(saved, rnd, 16);
    const char *parts[2] = { "", "1" };
    uint32_t l[2];
    put_parts(parts, l, 2);
    succeeded(q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW, ct));
    char uuid[37], want[256];
    uuid_text(uuid, saved, 1700000000123ull, 7);
    snprintf(want, sizeof want, "{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"request_id\":\"%s\",\"version\":\"1.0\","
             "\"tenant\":\"acme\"},\"payload\":1}", uuid);
    assert_string_equal(output_text(), want);
    /* an explicit tenant is kept; without auto-fill nothing is added */
    parts[0] = "{\"tenant\":\"own\"}";
    put_parts(parts, l, 2);
    succeeded(q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW, ct));
    has(output_text(), "\"version\":\"1.0\",\"tenant\":\"own\"},\"payload\":1}");
    parts[0] = "";
    put_parts(parts, l, 2);
    succeeded(q_envelope_encode(l[0], l[1], 0, 0, NOW, ct));
    assert_string_equal(output_text(), "{\"meta\":{},\"payload\":1}");
    /* the default client adds no tenant */
    succeeded(q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW, h));
    assert_null(strstr(output_text(), "tenant"));

    /* limits on decode: 64 bytes pass, 65 do not */
    const char *small = "{\"meta\":{},\"payload\":[[1]]}";
    succeeded(q_envelope_decode(put(small), c));
    char fit[80], over[80];
    snprintf(fit, sizeof fit, "{\"meta\":{},\"payload\":\"%0*d\"}", 64 - 24, 0);
    snprintf(over, sizeof over, "{\"meta\":{},\"payload\":\"%0*d\"}", 65 - 24, 0);
    assert_int_equal(strlen(fit), 64);
    assert_int_equal(strlen(over), 65);
    succeeded(q_envelope_decode(put(fit), c));
    failed(q_envelope_decode(put(over), c), Q_ERR(TOO_LARGE));
    assert_string_equal(error_text(),
        "{\"type\":\"validation\",\"code\":\"TOO_LARGE\",\"message\":\"larger than the limit (envelope size limit)\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"\",\"source\":\"local\"}");
    succeeded(q_envelope_decode(put(over), -1));      /* fine with the defaults */
    succeeded(q_envelope_decode(put(over), h));
    failed(q_envelope_decode(put("{\"meta\":{},\"payload\":[[[1]]]}"), c), Q_ERR(JSON_DEPTH));
    succeeded(q_envelope_decode(put("{\"meta\":{},\"payload\":[[[1]]]}"), h));
    failed(q_envelope_decode(put("{\"meta\":{\"tenant\":\"abcdefgh\"},\"payload\":1}"), c), Q_ERR(TOO_LARGE));
    has(error_text(), "\"path\":\"meta\",\"source\":\"local\"}");
    /* limits on encode (the input parts together) and in batches */
    char pay[80];
    snprintf(pay, sizeof pay, "\"%0*d\"", 63, 0);      /* a 65-byte payload */
    const char *p65[2] = { "", pay };
    put_parts(p65, l, 2);
    failed(q_envelope_encode(l[0], l[1], 0, 0, NOW, c), Q_ERR(TOO_LARGE));
    succeeded(q_envelope_encode(l[0], l[1], 0, 0, NOW, -1));
    const char *eitems[] = { "", pay };
    uint32_t len = put_batch(eitems, 2, NULL);
    failed(q_envelope_encode_batch(len, 0, NOW, c), Q_ERR(TOO_LARGE));
    has(error_text(), "\"path\":\"batch[0]\",\"source\":\"local\"}");

    /* a v4 client */
    int32_t v4 = q_client_new(put("{\"meta\":{\"uuid_version\":4}}"));
    succeeded(v4);
    rnd = entropy(16, 9);
    memcpy(saved, rnd, 16);
    succeeded(q_envelope_encode(0, 0, 0, Q_ENCODE_AUTOFILL, NOW, v4));
    uuid_text(uuid, saved, 0, 4);
    char frag[64];
    snprintf(frag, sizeof frag, "\"request_id\":\"%s\"", uuid);
    has(output_text(), frag);
    assert_int_equal(memory_stats().clients, 4);   /* h, c, ct, v4 */
}

static void client_invalid_config(void **s) {
    in_buf(256);                          /* the input buffer is sized before measuring */
    uint32_t before = memory_stats().persistent;
    failed(q_client_new(put("{\"rest\":{\"base_ur\":\"x\"}}")), Q_ERR(UNKNOWN_KEY));
    assert_string_equal(error_text(),
        "{\"type\":\"config\",\"code\":\"UNKNOWN_KEY\",\"message\":\"rest.base_ur: unknown key at byte 9\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":9,\"path\":\"rest.base_ur\",\"source\":\"local\"}");
    failed(q_client_new(put("{\"limits\":{\"max_depth\":1}}")), Q_ERR(OUT_OF_RANGE));
    has(error_text(), "\"path\":\"limits.max_depth\",\"source\":\"local\"}");
    failed(q_client_new(put("{\"rest\":")), Q_ERR(JSON_TRUNCATED));
    has(error_text(), "\"path\":\"config\",\"source\":\"local\"}");
    failed(q_client_new(put("{\"rest\":{\"route\":\"x\",\"base_url\":\"http://h\"},\"meta\":{\"tenant\":\"t\"}}")), Q_ERR(CONFIG_INVALID));
    has(error_text(), "\"path\":\"rest.route\",\"source\":\"local\"}");
    /* nothing kept */
    stats st = memory_stats();
    assert_int_equal(st.clients, 0);
    assert_int_equal(st.persistent, before);
    /* length past the buffer */
    failed(q_client_new(instance()->in_cap + 1), Q_ERR(BAD_ARGUMENT));
}

static void client_handles(void **s) {
    in_buf(64);
    int32_t h = q_client_new(0);
    succeeded(h);
    const char *env = "{\"meta\":{},\"payload\":1}";
    succeeded(q_envelope_decode(put(env), h));
    succeeded(q_client_free(h));
    assert_int_equal(memory_stats().clients, 0);
    /* the stale handle is refused everywhere */
    uint32_t n = put(env);
    failed(q_client_free(h), Q_ERR(BAD_HANDLE));
    assert_string_equal(error_text(),
        "{\"type\":\"internal\",\"code\":\"BAD_HANDLE\",\"message\":\"client: unknown or closed handle\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"client\",\"source\":\"local\"}");
    failed(q_client_config(h), Q_ERR(BAD_HANDLE));
    failed(q_envelope_decode(n, h), Q_ERR(BAD_HANDLE));
    failed(q_envelope_encode(0, 0, 0, 0, NOW, h), Q_ERR(BAD_HANDLE));
    failed(q_envelope_encode_batch(0, 0, NOW, h), Q_ERR(BAD_HANDLE));
    failed(q_token_set(h, 1, 1, 0, 0), Q_ERR(BAD_HANDLE));
    failed(q_token_clear(h, 1), Q_ERR(BAD_HANDLE));
    failed(q_rest_prepare(h, 0, 0, 0, NOW), Q_ERR(BAD_HANDLE));
    failed(q_rest_response(h, 1, 200, 0, 0, 0, NOW), Q_ERR(BAD_HANDLE));
    failed(q_rest_failure(h, 1, 1, NOW), Q_ERR(BAD_HANDLE));
    failed(q_rest_attempt(h, 1, NOW), Q_ERR(BAD_HANDLE));
    /* the slot is reused under a new handle; the old one stays dead */
    int32_t h2 = q_client_new(0);
    succeeded(h2);
    assert_int_not_equal(h2, h);
    assert_int_equal(h2 & 0xFF, h & 0xFF);
    failed(q_client_config(h), Q_ERR(BAD_HANDLE));
    succeeded(q_client_config(h2));
    /* handles that never existed; -1 means "no client" only where a client is optional */
    const int32_t BOGUS[] = { -2, INT32_MIN, 64, 255, 0x7FFFFFFF, h2 ^ 0x100, h2 + 1, (int32_t)((uint32_t)h2 | 0x80000000u) };
    for (size_t i = 0; i < Q_ARRAY_LEN(BOGUS); i++) {
        failed(q_client_config(BOGUS[i]), Q_ERR(BAD_HANDLE));
        failed(q_client_free(BOGUS[i]), Q_ERR(BAD_HANDLE));
        failed(q_envelope_decode(n, BOGUS[i]), Q_ERR(BAD_HANDLE));
    }
    failed(q_client_config(-1), Q_ERR(BAD_HANDLE));
    failed(q_client_free(-1), Q_ERR(BAD_HANDLE));
    succeeded(q_envelope_decode(n, -1));
    succeeded(q_client_free(h2));
}

static void client_table_full(void **s) {
    in_buf(1);
    uint32_t before = memory_stats().persistent;
    int32_t h[Q_MAX_CLIENTS];
    for (int i = 0; i < Q_MAX_CLIENTS; i++) {
        h[i] = q_client_new(0);
        succeeded(h[i]);
        for (int j = 0; j < i; j++) assert_int_not_equal(h[i], h[j]);
    }
    assert_int_equal(memory_stats().clients, Q_MAX_CLIENTS);
    failed(q_client_new(0), Q_ERR(LIMIT_REACHED));
    assert_string_equal(error_text(),
        "{\"type\":\"capacity\",\"code\":\"LIMIT_REACHED\",\"message\":\"client: limit reached (client table full)\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"client\",\"source\":\"local\"}");
    for (int i = 0; i < Q_MAX_CLIENTS; i++) succeeded(q_client_config(h[i]));
    succeeded(q_client_free(h[17]));
    int32_t again = q_client_new(0);
    succeeded(again);
    assert_int_equal(again & 0xFF, h[17] & 0xFF);
    failed(q_client_new(0), Q_ERR(LIMIT_REACHED));
    h[17] = again;
    for (int i = 0; i < Q_MAX_CLIENTS; i++) succeeded(q_client_free(h[i]));
    stats st = memory_stats();
    assert_int_equal(st.clients, 0);
    assert_int_equal(st.persistent, before);
}

/* ---- tokens and REST (contract level) -------------------------------------------------------- */

static void token_exports(void **s) {
    int32_t h = q_client_new(put("{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"},\"security\":{\"auth_token\":\"main\"}}"));
    succeeded(h);
    const char *parts[2] = { "main", "s3cr3t-v4lue" };
    uint32_t l[2];
    put_parts(parts, l, 2);
    succeeded(q_token_set(h, l[0], l[1], 0, 0));
    /* the input buffer keeps no copy of the value */
    for (uint32_t i = 0; i < l[1]; i++) assert_int_equal(instance()->in[l[0] + i], 0);
    assert_int_equal(q_token_clear(h, put("main")), 1);
    assert_int_equal(q_token_clear(h, put("main")), 0);
    assert_int_equal(q_token_clear(h, put("other")), 0);
    /* a value that cannot go into a header is refused without echoing it */
    parts[1] = "two words";
    put_parts(parts, l, 2);
    int32_t rc = q_token_set(h, l[0], l[1], 0, 0);
    assert_true(rc < 0);
    assert_null(strstr(error_text(), "words"));
    /* lengths past the buffer */
    failed(q_token_set(h, instance()->in_cap, 1, 0, 0), Q_ERR(BAD_ARGUMENT));
    failed(q_token_clear(h, instance()->in_cap + 1), Q_ERR(BAD_ARGUMENT));
    succeeded(q_client_free(h));
}

/* Token expiry (issue 12 item 6): the core wipes a token at its expiry on whatever event it is
 * fed next (the clock comes in with it), and a send that needs it fails NO_TOKEN "expired". */
static const uint8_t *token_value(int32_t h, const char *name) {
    uint32_t n = 0;
    return token_get(client_get(instance(), h, false), (const uint8_t *)name, (uint32_t)strlen(name), &n);
}
static void assert_wiped(const uint8_t *old, size_t n) {
    for (size_t i = 8; i < n; i++) if (old[i]) fail_msg("byte %zu of the expired value not wiped", i);   /* 0..8: free-list link */
}
static int32_t set_token_at(int32_t h, const char *name, const char *value, double expires, double now) {
    const char *parts[2] = { name, value };
    uint32_t l[2];
    put_parts(parts, l, 2);
    return q_token_set(h, l[0], l[1], expires, now);
}
static void token_expiry(void **s) {
    static const char V[] = "expiring-s3cr3t-value";
    int32_t h = q_client_new(put("{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"},\"security\":{\"auth_token\":\"main\"}}"));
    succeeded(h);
    succeeded(set_token_at(h, "main", V, NOW + 1000, NOW));
    entropy(20, 1);
    int32_t rc = q_rest_prepare(h, 0, put("1"), 0, NOW + 999);          /* before: sent */
    succeeded(rc);
    has(output_text(), "Bearer expiring-s3cr3t-value");
    double id = strtod(strstr(output_text(), "\"id\":") + 5, NULL);
    const uint8_t *old = token_value(h, "main");
    assert_non_null(old);
    /* any event at or after the expiry wipes it: here the request's failure report */
    succeeded(q_rest_failure(h, id, 3, NOW + 1000));
    assert_null(token_value(h, "main"));
    assert_wiped(old, sizeof V - 1);
    entropy(20, 2);
    failed(q_rest_prepare(h, 0, put("1"), 0, NOW + 1001), Q_ERR(NO_TOKEN));
    has(error_text(), "expired");
    assert_null(strstr(error_text(), V));
    /* set again: usable again; q_token_expire alone (the host's timer) wipes it too */
    succeeded(set_token_at(h, "main", V, NOW + 2000, NOW + 1500));
    old = token_value(h, "main");
    assert_int_equal(q_token_expire(h, NOW + 1999), 0);
    assert_non_null(token_value(h, "main"));
    assert_int_equal(q_token_expire(h, NOW + 2000), 1);
    assert_null(token_value(h, "main"));
    assert_wiped(old, sizeof V - 1);
    assert_int_equal(q_token_expire(h, NOW + 3000), 0);                 /* wiped once */
    /* a token that arrives expired is not kept */
    succeeded(set_token_at(h, "main", V, NOW - 1, NOW));
    assert_null(token_value(h, "main"));
    entropy(20, 3);
    failed(q_rest_prepare(h, 0, put("1"), 0, NOW), Q_ERR(NO_TOKEN));
    has(error_text(), "expired");
    /* a token never set says so */
    assert_int_equal(q_token_clear(h, put("main")), 1);
    entropy(20, 4);
    failed(q_rest_prepare(h, 0, put("1"), 0, NOW), Q_ERR(NO_TOKEN));
    has(error_text(), "not set");
    /* expiries that are not instants: refused, nothing stored */
    failed(set_token_at(h, "main", V, -1, NOW), Q_ERR(BAD_ARGUMENT));
    failed(set_token_at(h, "main", V, __builtin_nan(""), NOW), Q_ERR(BAD_ARGUMENT));
    failed(set_token_at(h, "main", V, 1e300, NOW), Q_ERR(BAD_ARGUMENT));
    assert_null(token_value(h, "main"));
    succeeded(q_client_free(h));
    /* security.token_ttl_ms: the lifetime of a token set without an expiry */
    h = q_client_new(put("{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"},\"security\":{\"auth_token\":\"main\",\"token_ttl_ms\":500}}"));
    succeeded(set_token_at(h, "main", V, 0, NOW));
    uint32_t olen = 0;
    const uint8_t *o = output(&olen);                                    /* the expiry in effect, for the host's timer */
    double at;
    assert_int_equal(olen, sizeof at);
    memcpy(&at, o, sizeof at);
    assert_true(at == NOW + 500);
    assert_int_equal(q_token_expire(h, NOW + 499), 0);
    assert_int_equal(q_token_expire(h, NOW + 500), 1);
    succeeded(set_token_at(h, "main", V, NOW + 10000, NOW));             /* an explicit expiry wins */
    assert_int_equal(q_token_expire(h, NOW + 9999), 0);
    succeeded(q_client_free(h));
    failed(q_token_expire(h, NOW), Q_ERR(BAD_HANDLE));
}

static void rest_exports(void **s) {
    int32_t h = q_client_new(put("{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"}}"));
    succeeded(h);
    /* prepare needs 20 entropy bytes */
    failed(q_rest_prepare(h, 0, put("1"), 0, NOW), Q_ERR(BAD_ARGUMENT));
    entropy(20, 5);
    failed(q_rest_prepare(h, 0, instance()->in_cap + 1, 0, NOW), Q_ERR(BAD_ARGUMENT));
    int32_t rc = q_rest_prepare(h, 0, put("1"), 0, NOW);
    succeeded(rc);
    /* returns the plan's length; the output is the plan followed by `body` bytes of body */
    const char *plan = output_text();
    uint32_t total = (uint32_t)strlen(plan);
    assert_true(rc > 0 && (uint32_t)rc < total);
    assert_int_equal(plan[rc - 1], '}');
    char frag[64];
    snprintf(frag, sizeof frag, ",\"body\":%u}{\"meta\":{\"timestamp\":\"2023-11-14T22:13:20.123Z\"", total - (uint32_t)rc);
    has(plan, frag);
    has(plan + rc, "\"version\":\"1.0\"},\"payload\":1}");
    has(plan, "{\"method\":\"POST\",\"url\":\"http://127.0.0.1:8080/envelope\",\"headers\":[");
    const char *idp = strstr(plan, "\"id\":");
    assert_non_null(idp);
    uint64_t id = (uint64_t)strtoull(idp + 5, NULL, 10);
    /* the attempt is in flight: the retry timer call is out of order */
    rc = q_rest_attempt(h, id, NOW);
    assert_true(rc < 0);
    error_text();
    /* the caller aborts: reject, and the request is gone */
    rc = q_rest_failure(h, id, 3, NOW + 1);
    succeeded(rc);
    has(output_text(), "\"action\":\"reject\"");
    rc = q_rest_failure(h, id, 3, NOW + 2);
    assert_true(rc < 0);
    error_text();
    rc = q_rest_response(h, id + 1000, 200, 0, 0, 0, NOW);
    assert_true(rc < 0);
    error_text();
    failed(q_rest_response(h, id, 200, instance()->in_cap + 1, 0, 0, NOW), Q_ERR(BAD_ARGUMENT));
    succeeded(q_client_free(h));
}

/* ---- memory ------------------------------------------------------------------------------------ */

static void memory_stays_flat(void **s) {
    const char *env = "{\"meta\":{\"timestamp\":\"2024-01-02T03:04:05.123Z\",\"request_id\":\"0190163d-8694-739b-aea5-966c26f8ad91\","
                      "\"tenant\":\"acme\",\"tracing\":{\"trace_id\":\"abc\"}},\"payload\":{\"items\":[1,2,3],\"name\":\"x\"}}";
    const char *parts[2] = { "{\"tenant\":\"acme\",\"security\":{\"user_id\":\"u\"}}", "{\"items\":[1,2,3],\"name\":\"x\"}" };
    int32_t h = q_client_new(put("{\"meta\":{\"tenant\":\"t\"}}"));
    succeeded(h);
    entropy(16, 1);
    uint32_t fp100 = 0, persistent100 = 0;
    for (int i = 0; i < 100000; i++) {
        int32_t client = (i & 1) ? h : -1;
        uint32_t n = put(env);
        int32_t rc = q_envelope_decode(n, client);
        if (rc != 0) fail_msg("decode %d: %s", i, error_text());
        uint32_t l[2];
        put_parts(parts, l, 2);
        rc = q_envelope_encode(l[0], l[1], 0, Q_ENCODE_AUTOFILL, NOW + i, client);
        if (rc <= 0) fail_msg("encode %d: %s", i, error_text());
        if (i == 99) { fp100 = arena_footprint(); persistent100 = arena_persistent_in_use(); }
    }
    stats st = memory_stats();
    assert_true(st.footprint <= fp100);
    assert_int_equal(arena_persistent_in_use(), persistent100);
    assert_int_equal(st.persistent, persistent100);
    succeeded(q_client_free(h));
}

static void small_memory_cap(void **s) {
    assert_int_equal(q_init(Q_MIN_MEMORY_LIMIT_BYTES), Q_OK);
    assert_int_equal(memory_stats().limit, Q_MIN_MEMORY_LIMIT_BYTES);
    const char *env = "{\"meta\":{},\"payload\":[1,2,3]}";
    uint32_t n = put(env);
    uint8_t *old = instance()->in;
    uint32_t old_cap = instance()->in_cap;
    /* an input larger than the cap: 0 and an OUT_OF_MEMORY record */
    assert_int_equal(q_buffer(Q_MIN_MEMORY_LIMIT_BYTES + 1), 0);
    assert_string_equal(error_text(),
        "{\"type\":\"capacity\",\"code\":\"OUT_OF_MEMORY\",\"message\":\"input buffer: out of memory; memory limit 1048576 bytes\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"input buffer\",\"source\":\"local\"}");
    assert_int_equal(q_output_len(), 0);
    assert_int_equal(q_buffer(0xFFFFFFFFu), 0);
    has(error_text(), "\"code\":\"OUT_OF_MEMORY\"");
    /* the old buffer and its contents are intact and the instance works */
    assert_ptr_equal(instance()->in, old);
    assert_int_equal(instance()->in_cap, old_cap);
    assert_memory_equal(instance()->in, env, n);
    succeeded(q_envelope_decode(n, -1));
    assert_int_equal(record()[QD_PAYLOAD_OFF], 21);
    int32_t h = q_client_new(0);
    succeeded(h);
    succeeded(q_client_free(h));
    assert_true(memory_stats().footprint <= Q_MIN_MEMORY_LIMIT_BYTES);
    /* an output that does not fit fails cleanly too: a 600 KiB payload needs a 600 KiB
     * output buffer on top of the 640 KiB input block */
    uint32_t plen = 600u * 1024u + 1;
    uint8_t *b = in_buf(plen);
    b[0] = '[';
    for (uint32_t i = 1; i + 1 < plen; i += 2) { b[i] = '1'; b[i + 1] = ','; }
    b[plen - 2] = '1'; b[plen - 1] = ']';
    succeeded(q_json_validate(plen, 0));
    failed(q_envelope_encode(0, plen, 0, 0, NOW, -1), Q_ERR(OUT_OF_MEMORY));
    has(error_text(), "\"type\":\"capacity\"");
    succeeded(q_envelope_decode(put(env), -1));
    assert_true(memory_stats().footprint <= Q_MIN_MEMORY_LIMIT_BYTES);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exports_before_init),   /* must stay first */
        cmocka_unit_test_setup(init_buffers_and_stats, setup),
        cmocka_unit_test_setup(zero_lengths_before_any_buffer, setup),
        cmocka_unit_test_setup(json_validate_export, setup),
        cmocka_unit_test_setup(input_utf16_export, setup),
        cmocka_unit_test_setup(decode_record_words, setup),
        cmocka_unit_test_setup(encode_without_autofill, setup),
        cmocka_unit_test_setup(encode_with_autofill, setup),
        cmocka_unit_test_setup(encode_batch_framing, setup),
        cmocka_unit_test_setup(encode_batch_names_failing_item, setup),
        cmocka_unit_test_setup(client_defaults_and_config, setup),
        cmocka_unit_test_setup(client_invalid_config, setup),
        cmocka_unit_test_setup(client_handles, setup),
        cmocka_unit_test_setup(client_table_full, setup),
        cmocka_unit_test_setup(token_exports, setup),
        cmocka_unit_test_setup(token_expiry, setup),
        cmocka_unit_test_setup(rest_exports, setup),
        cmocka_unit_test_setup(memory_stays_flat, setup),
        cmocka_unit_test_setup(small_memory_cap, setup),
        cmocka_unit_test_setup(decode_meta_tape, setup),
        cmocka_unit_test_setup(decode_meta_tape_big, setup),
        cmocka_unit_test_setup(meta_tape_units, setup),
    };
    return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
