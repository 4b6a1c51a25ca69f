/* Client configuration: defaults from constants.h, strict parsing (unknown keys, types,
 * nulls, duplicates, ranges and cross-field rules name the key path and byte offset),
 * decoded strings, the effective-config JSON, and clean memory on success, failure and
 * injected allocation failures. */
#include "test_util.h"
#include "config.h"

/* ---- helpers ------------------------------------------------------------------------ */

static int parse(q_config *c, const char *json, q_error *e) {
    q_error_clear(e);
    scratch_reset();
    return config_parse(c, (const uint8_t *)json, (uint32_t)strlen(json), e);
}

/* config_to_json as a NUL-terminated string (static buffer, valid until the next call). */
static const char *cfg_json(const q_config *c) {
    static char text[8192];
    q_buf b = {0};
    assert_int_equal(config_to_json(c, &b), Q_OK);
    assert_true(b.len < sizeof text);
    memcpy(text, b.ptr, b.len);
    text[b.len] = 0;
    return text;
}

/* Byte offset of the nth (0-based) occurrence of needle in json. */
static long off_of(const char *json, const char *needle, int nth) {
    const char *p = json;
    for (;;) {
        const char *f = strstr(p, needle);
        if (!f) fail_msg("'%s' not in '%s'", needle, json);
        if (nth-- == 0) return f - json;
        p = f + 1;
    }
}

static int is_defaults(const q_config *c) {
    q_config d;
    config_defaults(&d);
    return memcmp(c, &d, sizeof d) == 0;
}

/* Parses json expecting a failure: status, path, offset (-2 = don't check) and an optional
 * message fragment. The config must be left with defaults and no memory held. */
static void expect_fail_(const char *json, int status, const char *path, long off, const char *fragment, int line) {
    q_config c;
    q_error e;
    uint32_t base = arena_persistent_in_use();
    int rc = parse(&c, json, &e);
    if (rc != status) fail_msg("line %d: %s: got %s (%s), want %s", line, json, q_status_code(rc), e.message, q_status_code(status));
    assert_int_equal(e.status, status);
    assert_string_equal(e.code, q_status_code(status));
    if (strcmp(e.path, path)) fail_msg("line %d: %s: path '%s', want '%s'", line, json, e.path, path);
    if (off != -2 && e.offset != off) fail_msg("line %d: %s: offset %lld, want %ld", line, json, (long long)e.offset, off);
    if (fragment && !strstr(e.message, fragment)) fail_msg("line %d: %s: message '%s' lacks '%s'", line, json, e.message, fragment);
    if (path[0]) {   /* the message starts with the path */
        assert_memory_equal(e.message, path, strlen(path));
        assert_memory_equal(e.message + strlen(path), ": ", 2);
    }
    if (!is_defaults(&c)) fail_msg("line %d: %s: config not left at defaults", line, json);
    if (arena_persistent_in_use() != base) fail_msg("line %d: %s: %u bytes leaked", line, json, arena_persistent_in_use() - base);
    config_free(&c);
}
#define expect_fail(json, st, path, off, frag) expect_fail_(json, st, path, off, frag, __LINE__)

static void expect_ok_(const char *json, const char *fragment, int line) {
    q_config c;
    q_error e;
    int rc = parse(&c, json, &e);
    if (rc != Q_OK) fail_msg("line %d: %s: %s (%s)", line, json, q_status_code(rc), e.message);
    assert_int_equal(e.status, 0);
    const char *text = cfg_json(&c);
    if (fragment && !strstr(text, fragment)) fail_msg("line %d: %s: '%s' not in %s", line, json, fragment, text);
    config_free(&c);
}
#define expect_ok(json, frag) expect_ok_(json, frag, __LINE__)

/* The effective configuration when nothing is configured, built from the constants. */
static const char *defaults_json(void) {
    static char t[2048];
    snprintf(t, sizeof t,
        "{\"rest\":{\"base_url\":null,\"route\":\"%s\",\"method\":\"POST\",\"headers\":{},\"max_redirects\":%d},"
        "\"timeouts\":{\"request_ms\":%d,\"connect_ms\":%d},"
        "\"retry\":{\"max_attempts\":%d,\"base_delay_ms\":%d,\"max_delay_ms\":%d,\"jitter_percent\":%d,\"retry_non_idempotent\":%s},"
        "\"websocket\":{\"url\":null,\"ping_interval_ms\":%d,\"message_timeout_ms\":%d,\"max_message_bytes\":%d,"
        "\"max_connections\":%d,\"max_queue\":%d,\"reconnect\":true},"
        "\"limits\":{\"max_envelope_bytes\":%d,\"max_meta_bytes\":%d,\"max_depth\":%d,\"max_in_flight\":%d,\"max_header_bytes\":%d,\"max_error_bytes\":%d},"
        "\"meta\":{\"tenant\":null,\"uuid_version\":7},"
        "\"security\":{\"auth_token\":null,\"auth_scheme\":\"Bearer\",\"allowed_origins\":[],\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":null,\"token_ttl_ms\":0},\"log\":{\"level\":\"off\"}}",
        Q_DEFAULT_ROUTE, Q_DEFAULT_MAX_REDIRECTS, Q_DEFAULT_REQUEST_TIMEOUT_MS, Q_DEFAULT_CONNECT_TIMEOUT_MS,
        Q_DEFAULT_RETRY_ATTEMPTS, Q_DEFAULT_RETRY_BASE_MS, Q_DEFAULT_RETRY_MAX_MS, Q_DEFAULT_RETRY_JITTER_PCT,
        Q_DEFAULT_RETRY_POST ? "true" : "false",
        Q_DEFAULT_WS_PING_INTERVAL_MS, Q_DEFAULT_WS_MESSAGE_TIMEOUT_MS, Q_DEFAULT_MAX_WS_MESSAGE_BYTES,
        Q_DEFAULT_MAX_WS_CONNECTIONS, Q_DEFAULT_WS_MAX_QUEUE,
        Q_DEFAULT_MAX_ENVELOPE_BYTES, Q_DEFAULT_MAX_META_BYTES, Q_DEFAULT_MAX_DEPTH, Q_DEFAULT_MAX_IN_FLIGHT,
        Q_DEFAULT_MAX_HEADER_BYTES, Q_DEFAULT_MAX_ERROR_BYTES);
    return t;
}

/* Every key of every section, with insignificant whitespace and escapes. */
static const char FULL[] =
    "{ \"rest\": {\"base_url\": \"https:\\/\\/api.example.com\\/v1\", \"route\": \"/rpc\", \"method\": \"PUT\",\n"
    "            \"headers\": { \"X-A\" : \"1\", \"X-B\": \"two words\" }, \"max_redirects\": 0 },\n"
    "  \"timeouts\": {\"request_ms\": 5000, \"connect_ms\": 2000},\n"
    "  \"retry\": {\"max_attempts\": 5, \"base_delay_ms\": 200, \"max_delay_ms\": 4000, \"jitter_percent\": 10,\n"
    "            \"retry_non_idempotent\": true},\n"
    "  \"websocket\": {\"url\": \"wss://ws.example.com/socket\", \"ping_interval_ms\": 15000, \"message_timeout_ms\": 5000,\n"
    "                \"max_message_bytes\": 1048576, \"max_connections\": 4, \"max_queue\": 50, \"reconnect\": false},\n"
    "  \"limits\": {\"max_envelope_bytes\": 2097152, \"max_meta_bytes\": 8192, \"max_depth\": 64, \"max_in_flight\": 100,\n"
    "             \"max_header_bytes\": 32768, \"max_error_bytes\": 4096},\n"
    "  \"meta\": {\"tenant\": \"acme \\u00e9\", \"uuid_version\": 4},\n"
    "  \"security\": {\"auth_token\": \"main\", \"auth_scheme\": \"Token\", \"allowed_origins\": [\"https://a.example\", \"HTTPS://API.example.com\", \"wss://ws.example.com\"],\n"
    "               \"client_cert_header\": false, \"sign_requests\": false, \"signature_key_id\": \"qollective-test\", \"token_ttl_ms\": 60000},\n  \"log\": {\"level\": \"debug\"}\n"
    "}\n";

static const char FULL_JSON[] =
    "{\"rest\":{\"base_url\":\"https://api.example.com/v1\",\"route\":\"/rpc\",\"method\":\"PUT\","
    "\"headers\":{\"X-A\":\"1\",\"X-B\":\"two words\"},\"max_redirects\":0},"
    "\"timeouts\":{\"request_ms\":5000,\"connect_ms\":2000},"
    "\"retry\":{\"max_attempts\":5,\"base_delay_ms\":200,\"max_delay_ms\":4000,\"jitter_percent\":10,\"retry_non_idempotent\":true},"
    "\"websocket\":{\"url\":\"wss://ws.example.com/socket\",\"ping_interval_ms\":15000,\"message_timeout_ms\":5000,"
    "\"max_message_bytes\":1048576,\"max_connections\":4,\"max_queue\":50,\"reconnect\":false},"
    "\"limits\":{\"max_envelope_bytes\":2097152,\"max_meta_bytes\":8192,\"max_depth\":64,\"max_in_flight\":100,\"max_header_bytes\":32768,\"max_error_bytes\":4096},"
    "\"meta\":{\"tenant\":\"acme \xC3\xA9\",\"uuid_version\":4},"
    "\"security\":{\"auth_token\":\"main\",\"auth_scheme\":\"Token\",\"allowed_origins\":[\"https://a.example\",\"HTTPS://API.example.com\",\"wss://ws.example.com\"],\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":\"qollective-test\",\"token_ttl_ms\":60000},\"log\":{\"level\":\"debug\"}}";

/* The integer settings with their ranges (src/config.c INTS), and a JSON builder. */
typedef struct { const char *section, *key; long long min, max; } int_key;
static const int_key INT_KEYS[] = {
    { "rest", "max_redirects", 0, Q_CONFIG_MAX_REDIRECTS },
    { "timeouts", "request_ms", 1, Q_MAX_TIMEOUT_MS },
    { "timeouts", "connect_ms", 1, Q_MAX_TIMEOUT_MS },
    { "retry", "max_attempts", 1, Q_MAX_RETRY_ATTEMPTS },
    { "retry", "base_delay_ms", 0, Q_MAX_TIMEOUT_MS },
    { "retry", "max_delay_ms", 0, Q_MAX_TIMEOUT_MS },
    { "retry", "jitter_percent", 0, 100 },
    { "websocket", "ping_interval_ms", 0, Q_MAX_TIMEOUT_MS },
    { "websocket", "message_timeout_ms", 1, Q_MAX_TIMEOUT_MS },
    { "websocket", "max_message_bytes", 64, 0x40000000 },
    { "websocket", "max_connections", 1, 1024 },
    { "websocket", "max_queue", 0, 1000000 },
    { "limits", "max_envelope_bytes", 64, 0x40000000 },
    { "limits", "max_meta_bytes", 2, 0x40000000 },
    { "limits", "max_depth", 2, 100000 },
    { "limits", "max_in_flight", 1, 1000000 },
    { "limits", "max_header_bytes", 256, 0x40000000 },
    { "limits", "max_error_bytes", 2, 0x40000000 },
    { "meta", "uuid_version", 4, 7 },
};

static const char *one_key(const int_key *k, const char *value) {
    static char t[256];
    /* keep the retry delays consistent so only the key under test decides */
    const char *extra = !strcmp(k->key, "base_delay_ms") ? ",\"max_delay_ms\":86400000"
                      : !strcmp(k->key, "max_delay_ms") ? ",\"base_delay_ms\":0" : "";
    snprintf(t, sizeof t, "{\"%s\":{\"%s\":%s%s}}", k->section, k->key, value, extra);
    return t;
}

/* Fresh arena, with the scratch chunk a parse uses already taken (the arena counts scratch
 * chunks as persistent bytes), so persistent_in_use measures what a config owns. */
static int setup(void **state) {
    q_test_setup(state);
    q_config c;
    q_error e;
    if (parse(&c, FULL, &e) != Q_OK) return -1;
    config_free(&c);
    scratch_reset();
    return 0;
}

/* ---- defaults ------------------------------------------------------------------------- */

static void defaults_equal_constants(void **s) {
    q_config c;
    memset(&c, 0xA5, sizeof c);
    config_defaults(&c);
    assert_null(c.base_url.ptr); assert_int_equal(c.base_url.len, 0);
    assert_null(c.route.ptr); assert_null(c.headers_json.ptr); assert_null(c.ws_url.ptr);
    assert_null(c.tenant.ptr); assert_null(c.auth_token_name.ptr); assert_null(c.auth_scheme.ptr);
    assert_null(c.allowed_origins_json.ptr);
    assert_int_equal(c.method, HM_POST);
    assert_int_equal(c.request_timeout_ms, Q_DEFAULT_REQUEST_TIMEOUT_MS);
    assert_int_equal(c.connect_timeout_ms, Q_DEFAULT_CONNECT_TIMEOUT_MS);
    assert_int_equal(c.retry_max_attempts, Q_DEFAULT_RETRY_ATTEMPTS);
    assert_int_equal(c.retry_base_ms, Q_DEFAULT_RETRY_BASE_MS);
    assert_int_equal(c.retry_max_ms, Q_DEFAULT_RETRY_MAX_MS);
    assert_int_equal(c.retry_jitter_pct, Q_DEFAULT_RETRY_JITTER_PCT);
    assert_int_equal(c.retry_non_idempotent, Q_DEFAULT_RETRY_POST);
    assert_int_equal(c.ws_ping_interval_ms, Q_DEFAULT_WS_PING_INTERVAL_MS);
    assert_int_equal(c.ws_message_timeout_ms, Q_DEFAULT_WS_MESSAGE_TIMEOUT_MS);
    assert_int_equal(c.ws_max_message_bytes, Q_DEFAULT_MAX_WS_MESSAGE_BYTES);
    assert_int_equal(c.ws_max_connections, Q_DEFAULT_MAX_WS_CONNECTIONS);
    assert_int_equal(c.ws_max_queue, Q_DEFAULT_WS_MAX_QUEUE);
    assert_true(c.ws_reconnect);
    assert_int_equal(c.limits.max_envelope_bytes, Q_DEFAULT_MAX_ENVELOPE_BYTES);
    assert_int_equal(c.limits.max_meta_bytes, Q_DEFAULT_MAX_META_BYTES);
    assert_int_equal(c.limits.max_depth, Q_DEFAULT_MAX_DEPTH);
    assert_int_equal(c.max_in_flight, Q_DEFAULT_MAX_IN_FLIGHT);
    assert_int_equal(c.max_header_bytes, Q_DEFAULT_MAX_HEADER_BYTES);
    assert_int_equal(c.limits.max_error_bytes, Q_DEFAULT_MAX_ERROR_BYTES);
    assert_int_equal(c.uuid_version, 7);
    /* wire-format.md §6 */
    assert_int_equal(Q_DEFAULT_REQUEST_TIMEOUT_MS, 30000);
    assert_int_equal(Q_DEFAULT_CONNECT_TIMEOUT_MS, 10000);
    assert_int_equal(Q_DEFAULT_WS_PING_INTERVAL_MS, 30000);
    assert_int_equal(Q_DEFAULT_WS_MESSAGE_TIMEOUT_MS, 10000);
    assert_int_equal(Q_DEFAULT_RETRY_ATTEMPTS, 3);
    assert_int_equal(Q_DEFAULT_RETRY_BASE_MS, 1000);
    assert_int_equal(Q_DEFAULT_RETRY_MAX_MS, 30000);
    assert_int_equal(Q_DEFAULT_MAX_ENVELOPE_BYTES, 1048576);
    assert_int_equal(Q_DEFAULT_MAX_META_BYTES, 65536);
    assert_int_equal(Q_DEFAULT_MAX_WS_MESSAGE_BYTES, 16777216);
    assert_int_equal(Q_DEFAULT_MAX_WS_CONNECTIONS, 10);
    assert_int_equal(Q_MAX_ERROR_MESSAGE_CHARS, 200);
    assert_int_equal(Q_DEFAULT_REST_PORT, 8080);
    /* the defaults sit inside their own ranges */
    for (size_t k = 0; k < Q_ARRAY_LEN(INT_KEYS); k++) assert_true(INT_KEYS[k].min <= INT_KEYS[k].max);
    assert_string_equal(cfg_json(&c), defaults_json());
}

static void empty_inputs_are_defaults(void **s) {
    static const char *const EMPTY[] = { "", " ", "\n\t\r ", "{}", " {} \n", "{ }",
        "{\"rest\":{},\"timeouts\":{},\"retry\":{},\"websocket\":{},\"limits\":{},\"meta\":{},\"security\":{}}" };
    for (size_t i = 0; i < Q_ARRAY_LEN(EMPTY); i++) {
        q_config c;
        q_error e;
        memset(&c, 0x5A, sizeof c);
        if (parse(&c, EMPTY[i], &e) != Q_OK) fail_msg("'%s': %s", EMPTY[i], e.message);
        assert_int_equal(e.status, 0);
        assert_true(is_defaults(&c));
        assert_string_equal(cfg_json(&c), defaults_json());
        config_free(&c);
    }
    /* length 0 with no buffer at all */
    q_config c; q_error e; q_error_clear(&e);
    assert_int_equal(config_parse(&c, NULL, 0, &e), Q_OK);
    assert_true(is_defaults(&c));
    /* the length bounds the input: bytes past it are not read */
    assert_int_equal(config_parse(&c, (const uint8_t *)"{}garbage", 2, &e), Q_OK);
    assert_int_equal(config_parse(&c, (const uint8_t *)"   {\"rest\":1}", 3, &e), Q_OK);
}

/* ---- every key --------------------------------------------------------------------------- */

static void full_config_exact_json(void **s) {
    q_config c;
    q_error e;
    assert_int_equal(parse(&c, FULL, &e), Q_OK);
    assert_string_equal(cfg_json(&c), FULL_JSON);
    /* and in the struct */
    assert_int_equal(c.base_url.len, strlen("https://api.example.com/v1"));
    assert_memory_equal(c.base_url.ptr, "https://api.example.com/v1", c.base_url.len);
    assert_int_equal(c.base_url.ptr[c.base_url.len], 0);
    assert_string_equal((const char *)c.route.ptr, "/rpc");
    assert_int_equal(c.method, HM_PUT);
    assert_string_equal((const char *)c.headers_json.ptr, "{\"X-A\":\"1\",\"X-B\":\"two words\"}");
    assert_int_equal(c.request_timeout_ms, 5000);
    assert_int_equal(c.connect_timeout_ms, 2000);
    assert_int_equal(c.retry_max_attempts, 5);
    assert_int_equal(c.retry_base_ms, 200);
    assert_int_equal(c.retry_max_ms, 4000);
    assert_int_equal(c.retry_jitter_pct, 10);
    assert_true(c.retry_non_idempotent);
    assert_string_equal((const char *)c.ws_url.ptr, "wss://ws.example.com/socket");
    assert_int_equal(c.ws_ping_interval_ms, 15000);
    assert_int_equal(c.ws_message_timeout_ms, 5000);
    assert_int_equal(c.ws_max_message_bytes, 1048576);
    assert_int_equal(c.ws_max_connections, 4);
    assert_int_equal(c.ws_max_queue, 50);
    assert_false(c.ws_reconnect);
    assert_int_equal(c.limits.max_envelope_bytes, 2097152);
    assert_int_equal(c.limits.max_meta_bytes, 8192);
    assert_int_equal(c.limits.max_depth, 64);
    assert_int_equal(c.max_in_flight, 100);
    assert_int_equal(c.max_header_bytes, 32768);
    assert_int_equal(c.limits.max_error_bytes, 4096);
    assert_int_equal(c.tenant.len, 7);
    assert_memory_equal(c.tenant.ptr, "acme \xC3\xA9", 7);
    assert_int_equal(c.uuid_version, 4);
    assert_string_equal((const char *)c.auth_token_name.ptr, "main");
    assert_string_equal((const char *)c.auth_scheme.ptr, "Token");
    assert_string_equal((const char *)c.allowed_origins_json.ptr, "[\"https://a.example\",\"HTTPS://API.example.com\",\"wss://ws.example.com\"]");
    config_free(&c);

    /* the effective configuration of a full config parses back to itself */
    assert_int_equal(parse(&c, FULL_JSON, &e), Q_OK);
    assert_string_equal(cfg_json(&c), FULL_JSON);
    config_free(&c);
}

static void each_key_alone(void **s) {
    static const struct { const char *json, *fragment; } K[] = {
        { "{\"rest\":{\"base_url\":\"http://h:1\"}}", "\"rest\":{\"base_url\":\"http://h:1\",\"route\":\"/envelope\"," },
        { "{\"rest\":{\"route\":\"/a/b\"}}", "\"route\":\"/a/b\",\"method\":\"POST\"" },
        { "{\"rest\":{\"route\":\"/\"}}", "\"route\":\"/\"," },
        { "{\"rest\":{\"method\":\"GET\"}}", "\"method\":\"GET\"" },
        { "{\"rest\":{\"method\":\"POST\"}}", "\"method\":\"POST\"" },
        { "{\"rest\":{\"method\":\"PUT\"}}", "\"method\":\"PUT\"" },
        { "{\"rest\":{\"method\":\"PATCH\"}}", "\"method\":\"PATCH\"" },
        { "{\"rest\":{\"method\":\"DELETE\"}}", "\"method\":\"DELETE\"" },
        { "{\"rest\":{\"method\":\"P\\u0041TCH\"}}", "\"method\":\"PATCH\"" },
        { "{\"rest\":{\"headers\":{}}}", "\"headers\":{}," },
        { "{\"rest\":{\"headers\":{\"a\" :\"\\u0041\"}}}", "\"headers\":{\"a\":\"\\u0041\"}," },
        { "{\"rest\":{\"max_redirects\":0}}", "\"max_redirects\":0}" },
        { "{\"timeouts\":{\"request_ms\":1}}", "\"timeouts\":{\"request_ms\":1,\"connect_ms\":10000}" },
        { "{\"timeouts\":{\"connect_ms\":86400000}}", "\"timeouts\":{\"request_ms\":30000,\"connect_ms\":86400000}" },
        { "{\"retry\":{\"max_attempts\":20}}", "\"retry\":{\"max_attempts\":20,\"base_delay_ms\":1000," },
        { "{\"retry\":{\"base_delay_ms\":0}}", "\"base_delay_ms\":0,\"max_delay_ms\":30000," },
        { "{\"retry\":{\"max_delay_ms\":1000}}", "\"base_delay_ms\":1000,\"max_delay_ms\":1000," },
        { "{\"retry\":{\"jitter_percent\":0}}", "\"jitter_percent\":0," },
        { "{\"retry\":{\"retry_non_idempotent\":true}}", "\"retry_non_idempotent\":true}" },
        { "{\"retry\":{\"retry_non_idempotent\":false}}", "\"retry_non_idempotent\":false}" },
        { "{\"websocket\":{\"url\":\"ws://x\"}}", "\"websocket\":{\"url\":\"ws://x\",\"ping_interval_ms\":30000," },
        { "{\"websocket\":{\"ping_interval_ms\":0}}", "\"ping_interval_ms\":0," },
        { "{\"websocket\":{\"message_timeout_ms\":7}}", "\"message_timeout_ms\":7," },
        { "{\"websocket\":{\"max_message_bytes\":64}}", "\"max_message_bytes\":64," },
        { "{\"websocket\":{\"max_connections\":1024}}", "\"max_connections\":1024," },
        { "{\"websocket\":{\"max_queue\":0}}", "\"max_queue\":0,\"reconnect\":true}" },
        { "{\"websocket\":{\"reconnect\":false}}", "\"reconnect\":false}" },
        { "{\"websocket\":{\"reconnect\":true}}", "\"reconnect\":true}" },
        { "{\"limits\":{\"max_envelope_bytes\":1073741824}}", "\"limits\":{\"max_envelope_bytes\":1073741824,\"max_meta_bytes\":65536," },
        { "{\"limits\":{\"max_meta_bytes\":2}}", "\"max_meta_bytes\":2," },
        { "{\"limits\":{\"max_depth\":100000}}", "\"max_depth\":100000," },
        { "{\"limits\":{\"max_in_flight\":1}}", "\"max_in_flight\":1," },
        { "{\"limits\":{\"max_header_bytes\":256}}", "\"max_header_bytes\":256," },
        { "{\"limits\":{\"max_error_bytes\":2}}", "\"max_error_bytes\":2}" },
        { "{\"meta\":{\"tenant\":\"\"}}", "\"meta\":{\"tenant\":\"\",\"uuid_version\":7}" },
        { "{\"meta\":{\"uuid_version\":4}}", "\"meta\":{\"tenant\":null,\"uuid_version\":4}" },
        { "{\"meta\":{\"uuid_version\":7}}", "\"uuid_version\":7}" },
        { "{\"security\":{\"auth_token\":\"t1\"}}", "\"security\":{\"auth_token\":\"t1\",\"auth_scheme\":\"Bearer\",\"allowed_origins\":[],\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":null,\"token_ttl_ms\":0},\"log\":{\"level\":\"off\"}}" },
        { "{\"security\":{\"auth_scheme\":\"Basic\"}}", "\"auth_token\":null,\"auth_scheme\":\"Basic\"," },
        { "{\"security\":{\"allowed_origins\":[]}}", "\"allowed_origins\":[],\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":null,\"token_ttl_ms\":0},\"log\":{\"level\":\"off\"}}" },
        { "{\"security\":{\"allowed_origins\":[ \"http://a\" , \"https://*.b.c\" ]}}", "\"allowed_origins\":[\"http://a\",\"https://*.b.c\"],\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":null,\"token_ttl_ms\":0},\"log\":{\"level\":\"off\"}}" },
        { "{\"security\":{\"client_cert_header\":false}}", "\"client_cert_header\":false,\"sign_requests\":false,\"signature_key_id\":null,\"token_ttl_ms\":0},\"log\":{\"level\":\"off\"}}" },
        { "{\"security\":{\"token_ttl_ms\":2592000000}}", "\"token_ttl_ms\":2592000000},\"log\":{\"level\":\"off\"}}" },
        { "{\"log\":{\"level\":\"error\"}}", "\"log\":{\"level\":\"error\"}}" },
        { "{\"log\":{\"level\":\"warn\"}}", "\"log\":{\"level\":\"warn\"}}" },
        { "{\"log\":{\"level\":\"info\"}}", "\"log\":{\"level\":\"info\"}}" },
        { "{\"log\":{}}", "\"log\":{\"level\":\"off\"}}" },
        /* keys may be escaped */
        { "{\"\\u0072est\":{\"r\\u006fute\":\"/x\"}}", "\"route\":\"/x\"," },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(K); i++) expect_ok(K[i].json, K[i].fragment);
}

static void escaped_strings_are_decoded(void **s) {
    q_config c;
    q_error e;
    const char *json = "{\"meta\":{\"tenant\":\"\\u0041\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\t\"},"
                       "\"rest\":{\"base_url\":\"http:\\/\\/h\\u002fx\",\"route\":\"\\/r\"},"
                       "\"security\":{\"auth_scheme\":\"B\\u0000c\"}}";
    assert_int_equal(parse(&c, json, &e), Q_OK);
    static const char TENANT[] = "A\xC3\xA9\xF0\x9F\x98\x80\n\"\\/\t";
    assert_int_equal(c.tenant.len, sizeof TENANT - 1);
    assert_memory_equal(c.tenant.ptr, TENANT, sizeof TENANT - 1);
    assert_string_equal((const char *)c.base_url.ptr, "http://h/x");
    assert_string_equal((const char *)c.route.ptr, "/r");
    assert_int_equal(c.auth_scheme.len, 3);                  /* an escaped NUL is kept */
    assert_memory_equal(c.auth_scheme.ptr, "B\0c", 3);
    const char *t = cfg_json(&c);
    assert_non_null(strstr(t, "\"tenant\":\"A\xC3\xA9\xF0\x9F\x98\x80\\n\\\"\\\\/\\t\""));
    assert_non_null(strstr(t, "\"base_url\":\"http://h/x\",\"route\":\"/r\","));
    assert_non_null(strstr(t, "\"auth_scheme\":\"B\\u0000c\""));
    config_free(&c);
}

/* ---- strictness ---------------------------------------------------------------------------- */

static void unknown_keys(void **s) {
    static const char *const SECTIONS[] = { "rest", "timeouts", "retry", "websocket", "limits", "meta", "security" };
    expect_fail("{\"bogus\":1}", Q_ERR(UNKNOWN_KEY), "bogus", 1, "unknown key at byte 1");
    expect_fail("{\"rest\":{}, \"Rest\":{}}", Q_ERR(UNKNOWN_KEY), "Rest", 12, NULL);
    expect_fail("{\"a b\":1}", Q_ERR(UNKNOWN_KEY), "[key]", 1, NULL);       /* key text that is not plain stays out */
    expect_fail("{\"\":1}", Q_ERR(UNKNOWN_KEY), "[key]", 1, NULL);
    for (size_t i = 0; i < Q_ARRAY_LEN(SECTIONS); i++) {
        char json[128], path[64];
        snprintf(json, sizeof json, "{\"%s\":{},\n  \"%s\" : { \"bogus_key\" : 1 } }",
                 strcmp(SECTIONS[i], "meta") ? "meta" : "rest", SECTIONS[i]);
        snprintf(path, sizeof path, "%s.bogus_key", SECTIONS[i]);
        expect_fail(json, Q_ERR(UNKNOWN_KEY), path, off_of(json, "\"bogus_key\"", 0), "unknown key");
    }
    /* the unknown key is reported even when it comes before known ones */
    expect_fail("{\"rest\":{\"base_ur\":\"x\",\"route\":\"/\"}}", Q_ERR(UNKNOWN_KEY), "rest.base_ur", 9, "rest.base_ur: unknown key at byte 9");
    expect_fail("{\"timeouts\":{\"request\":1}}", Q_ERR(UNKNOWN_KEY), "timeouts.request", 13, NULL);
    expect_fail("{\"retry\":{\"max_attempt\":1}}", Q_ERR(UNKNOWN_KEY), "retry.max_attempt", 10, NULL);
    expect_fail("{\"websocket\":{\"URL\":\"ws://x\"}}", Q_ERR(UNKNOWN_KEY), "websocket.URL", 14, NULL);
    expect_fail("{\"limits\":{\"max_bytes\":1}}", Q_ERR(UNKNOWN_KEY), "limits.max_bytes", 11, NULL);
    expect_fail("{\"meta\":{\"version\":\"1.0\"}}", Q_ERR(UNKNOWN_KEY), "meta.version", 9, NULL);
    expect_fail("{\"security\":{\"token\":\"x\"}}", Q_ERR(UNKNOWN_KEY), "security.token", 13, NULL);
    expect_fail("{\"rest\":{\"headers\":{}, \"a.b\":1}}", Q_ERR(UNKNOWN_KEY), "rest.[key]", 23, NULL);
}

static void wrong_types(void **s) {
    /* value offsets: strings at their opening quote */
    static const struct { const char *json, *path, *at, *fragment; } T[] = {
        { "{\"rest\":[]}", "rest", "[", "expected an object" },
        { "{\"rest\":\"x\"}", "rest", "\"x", NULL },
        { "{\"timeouts\":1}", "timeouts", "1", NULL },
        { "{\"retry\":true}", "retry", "true", NULL },
        { "{\"websocket\":[{}]}", "websocket", "[", NULL },
        { "{\"limits\":\"{}\"}", "limits", "\"{}", NULL },
        { "{\"meta\":0}", "meta", "0", NULL },
        { "{\"security\":[]}", "security", "[", NULL },
        { "{\"rest\":{\"base_url\":1}}", "rest.base_url", "1", "expected a string" },
        { "{\"rest\":{\"route\":[\"/\"]}}", "rest.route", "[", NULL },
        { "{\"rest\":{\"method\":1}}", "rest.method", "1", NULL },
        { "{\"rest\":{\"headers\":[]}}", "rest.headers", "[", "expected an object" },
        { "{\"rest\":{\"headers\":\"a:b\"}}", "rest.headers", "\"a:b", NULL },
        { "{\"rest\":{\"headers\":{\"X-A\":1}}}", "rest.headers.X-A", "1", "expected a string" },
        { "{\"rest\":{\"headers\":{\"X-A\":\"1\",\"X-B\":{}}}}", "rest.headers.X-B", "{}}", NULL },
        { "{\"rest\":{\"headers\":{\"a b\":true}}}", "rest.headers.[key]", "true", NULL },
        { "{\"timeouts\":{\"request_ms\":\"5\"}}", "timeouts.request_ms", "\"5", NULL },
        { "{\"timeouts\":{\"connect_ms\":true}}", "timeouts.connect_ms", "true", NULL },
        { "{\"retry\":{\"max_attempts\":[3]}}", "retry.max_attempts", "[", NULL },
        { "{\"retry\":{\"retry_non_idempotent\":1}}", "retry.retry_non_idempotent", "1", "expected true or false" },
        { "{\"retry\":{\"retry_non_idempotent\":\"true\"}}", "retry.retry_non_idempotent", "\"true", NULL },
        { "{\"websocket\":{\"url\":{}}}", "websocket.url", "{}", NULL },
        { "{\"websocket\":{\"reconnect\":0}}", "websocket.reconnect", "0", NULL },
        { "{\"websocket\":{\"max_queue\":false}}", "websocket.max_queue", "false", NULL },
        { "{\"limits\":{\"max_depth\":\"64\"}}", "limits.max_depth", "\"64", NULL },
        { "{\"meta\":{\"tenant\":7}}", "meta.tenant", "7", NULL },
        { "{\"meta\":{\"uuid_version\":\"7\"}}", "meta.uuid_version", "\"7", NULL },
        { "{\"security\":{\"auth_token\":false}}", "security.auth_token", "false", NULL },
        { "{\"security\":{\"auth_scheme\":[]}}", "security.auth_scheme", "[]", NULL },
        { "{\"security\":{\"allowed_origins\":\"*\"}}", "security.allowed_origins", "\"*", "expected an array" },
        { "{\"security\":{\"allowed_origins\":{}}}", "security.allowed_origins", "{}", NULL },
        { "{\"security\":{\"allowed_origins\":[1]}}", "security.allowed_origins[0]", "1", "expected a string" },
        { "{\"security\":{\"allowed_origins\":[\"a\",[]]}}", "security.allowed_origins[1]", "[]", NULL },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(T); i++)
        expect_fail(T[i].json, Q_ERR(TYPE_MISMATCH), T[i].path, off_of(T[i].json, T[i].at, 0), T[i].fragment);
    /* the document itself must be an object */
    expect_fail("[]", Q_ERR(TYPE_MISMATCH), "", 0, "expected an object");
    expect_fail(" 1 ", Q_ERR(TYPE_MISMATCH), "", 1, NULL);
    expect_fail("\"{}\"", Q_ERR(TYPE_MISMATCH), "", 0, NULL);
    expect_fail("true", Q_ERR(TYPE_MISMATCH), "", 0, NULL);
    /* enums are case-sensitive */
    expect_fail("{\"rest\":{\"method\":\"get\"}}", Q_ERR(INVALID_ENUM), "rest.method", 18, NULL);
    expect_fail("{\"rest\":{\"method\":\"OPTIONS\"}}", Q_ERR(INVALID_ENUM), "rest.method", 18, NULL);
    expect_fail("{\"rest\":{\"method\":\"\"}}", Q_ERR(INVALID_ENUM), "rest.method", 18, NULL);
    /* serde_json's map form of an enum is the envelope's rule only: the config refuses it */
    expect_fail("{\"rest\":{\"method\":{\"GET\":null}}}", Q_ERR(TYPE_MISMATCH), "rest.method", 18, "expected a string");
    expect_fail("{\"log\":{\"level\":{\"debug\":null}}}", Q_ERR(TYPE_MISMATCH), "log.level", 16, "expected a string");
    expect_fail("{\"log\":{\"level\":\"verbose\"}}", Q_ERR(INVALID_ENUM), "log.level", 16, NULL);
    expect_fail("{\"log\":{\"level\":\"DEBUG\"}}", Q_ERR(INVALID_ENUM), "log.level", 16, NULL);
}

static void nulls_are_type_mismatches(void **s) {
    static const char *const PATHS[] = {
        "rest", "timeouts", "retry", "websocket", "limits", "meta", "security",
        "rest.base_url", "rest.route", "rest.method", "rest.headers", "rest.max_redirects",
        "timeouts.request_ms", "timeouts.connect_ms",
        "retry.max_attempts", "retry.base_delay_ms", "retry.max_delay_ms", "retry.jitter_percent", "retry.retry_non_idempotent",
        "websocket.url", "websocket.ping_interval_ms", "websocket.message_timeout_ms", "websocket.max_message_bytes",
        "websocket.max_connections", "websocket.max_queue", "websocket.reconnect",
        "limits.max_envelope_bytes", "limits.max_meta_bytes", "limits.max_depth", "limits.max_in_flight", "limits.max_header_bytes",
        "limits.max_error_bytes", "meta.tenant", "meta.uuid_version",
        "security.auth_token", "security.auth_scheme", "security.allowed_origins", "security.token_ttl_ms", "log", "log.level",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(PATHS); i++) {
        char json[160], section[32];
        const char *dot = strchr(PATHS[i], '.');
        if (!dot) snprintf(json, sizeof json, "{ \"%s\" : null }", PATHS[i]);
        else {
            snprintf(section, sizeof section, "%.*s", (int)(dot - PATHS[i]), PATHS[i]);
            snprintf(json, sizeof json, "{\"%s\":{\"%s\":null}}", section, dot + 1);
        }
        expect_fail(json, Q_ERR(TYPE_MISMATCH), PATHS[i], off_of(json, "null", 0), NULL);
    }
    expect_fail("null", Q_ERR(TYPE_MISMATCH), "", 0, NULL);
    const char *j = "{\"rest\":{\"headers\":{\"X\":null}}}";
    expect_fail(j, Q_ERR(TYPE_MISMATCH), "rest.headers.X", off_of(j, "null", 0), NULL);
    j = "{\"security\":{\"allowed_origins\":[\"a\",null]}}";
    expect_fail(j, Q_ERR(TYPE_MISMATCH), "security.allowed_origins[1]", off_of(j, "null", 0), NULL);
}

static void integer_ranges(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(INT_KEYS); i++) {
        const int_key *k = &INT_KEYS[i];
        char path[64], v[32], allowed[64];
        snprintf(path, sizeof path, "%s.%s", k->section, k->key);
        snprintf(allowed, sizeof allowed, "(allowed %lld..%lld)", k->min, k->max);
        /* just outside: OUT_OF_RANGE naming the key, where the value is and the allowed range */
        long long bad[2] = { k->min - 1, k->max + 1 };
        for (int b = 0; b < 2; b++) {
            snprintf(v, sizeof v, "%lld", bad[b]);
            const char *json = one_key(k, v);
            char frag[96];
            snprintf(frag, sizeof frag, "number out of range %s at byte %ld", allowed, off_of(json, v, 0));
            expect_fail(json, Q_ERR(OUT_OF_RANGE), path, off_of(json, v, 0), frag);
        }
        /* the bounds themselves are accepted and visible */
        long long good[2] = { k->min, k->max };
        for (int g = 0; g < 2; g++) {
            if (!strcmp(k->key, "uuid_version")) break;   /* 4..7 but only 4 and 7: below */
            char frag[96];
            snprintf(v, sizeof v, "%lld", good[g]);
            snprintf(frag, sizeof frag, "\"%s\":%lld", k->key, good[g]);
            expect_ok(one_key(k, v), frag);
        }
        /* far outside, negative, and beyond 64 bits */
        const char *json = one_key(k, "-4294967296");
        expect_fail(json, Q_ERR(OUT_OF_RANGE), path, off_of(json, "-4294967296", 0), allowed);
        json = one_key(k, "4294967296");
        expect_fail(json, Q_ERR(OUT_OF_RANGE), path, off_of(json, "4294967296", 0), allowed);
        json = one_key(k, "99999999999999999999");
        expect_fail(json, Q_ERR(OUT_OF_RANGE), path, off_of(json, "99999999999999999999", 0), NULL);
        /* numbers that are not integers are the wrong type, whatever their value */
        static const char *const NON_INT[] = { "1.5", "1e3", "1E3", "5.0", "-0.5", "0.0", "7e0" };
        for (size_t n = 0; n < Q_ARRAY_LEN(NON_INT); n++) {
            json = one_key(k, NON_INT[n]);
            expect_fail(json, Q_ERR(TYPE_MISMATCH), path, off_of(json, NON_INT[n], 0), NULL);
        }
        /* a number no double holds is refused while validating, like serde_json does */
        json = one_key(k, "1e400");
        expect_fail(json, Q_ERR(OUT_OF_RANGE), "config", off_of(json, "1e400", 0), "exceeds a 64-bit float");
    }
    /* uuid_version: only 4 and 7 */
    expect_fail("{\"meta\":{\"uuid_version\":5}}", Q_ERR(OUT_OF_RANGE), "meta.uuid_version", 24, "meta.uuid_version: number out of range (4 or 7) at byte 24");
    expect_fail("{\"meta\":{\"uuid_version\":6}}", Q_ERR(OUT_OF_RANGE), "meta.uuid_version", 24, "(4 or 7)");
    expect_ok("{\"meta\":{\"uuid_version\":4}}", "\"uuid_version\":4}");
    expect_ok("{\"meta\":{\"uuid_version\":7}}", "\"uuid_version\":7}");
    /* -0 is 0 */
    /* -0 is a float to serde_json: integer settings refuse it like the wire does */
    expect_fail("{\"retry\":{\"base_delay_ms\":-0}}", Q_ERR(TYPE_MISMATCH), "retry.base_delay_ms", 26, "-0 is a float");
    expect_fail("{\"retry\":{\"max_attempts\":-0}}", Q_ERR(TYPE_MISMATCH), "retry.max_attempts", 25, "-0 is a float");
}

static void retry_delays_relation(void **s) {
    expect_fail("{\"retry\":{\"base_delay_ms\":5000,\"max_delay_ms\":4999}}", Q_ERR(OUT_OF_RANGE), "retry.max_delay_ms", -2,
                "retry.max_delay_ms: number out of range (must be >= retry.base_delay_ms)");
    expect_ok("{\"retry\":{\"base_delay_ms\":5000,\"max_delay_ms\":5000}}", "\"base_delay_ms\":5000,\"max_delay_ms\":5000,");
    /* against the defaults of the other one */
    expect_fail("{\"retry\":{\"base_delay_ms\":30001}}", Q_ERR(OUT_OF_RANGE), "retry.max_delay_ms", -2, "must be >= retry.base_delay_ms");
    expect_ok("{\"retry\":{\"base_delay_ms\":30000}}", "\"base_delay_ms\":30000,\"max_delay_ms\":30000,");
    expect_fail("{\"retry\":{\"max_delay_ms\":999}}", Q_ERR(OUT_OF_RANGE), "retry.max_delay_ms", -2, NULL);
    expect_ok("{\"retry\":{\"max_delay_ms\":0,\"base_delay_ms\":0}}", "\"base_delay_ms\":0,\"max_delay_ms\":0,");
    /* a late failure undoes settings that were already applied */
    expect_fail("{\"timeouts\":{\"request_ms\":5},\"rest\":{\"route\":\"/x\"},\"retry\":{\"max_delay_ms\":5}}",
                Q_ERR(OUT_OF_RANGE), "retry.max_delay_ms", -2, NULL);
    expect_fail("{\"timeouts\":{\"request_ms\":5},\"meta\":{\"uuid_version\":5}}", Q_ERR(OUT_OF_RANGE), "meta.uuid_version", 52, NULL);
}

static void route_must_start_with_slash(void **s) {
    /* the offset is the string's first byte, the one that breaks the rule */
    expect_fail("{\"rest\":{\"route\":\"envelope\"}}", Q_ERR(CONFIG_INVALID), "rest.route", 18,
                "rest.route: invalid configuration (must start with '/') at byte 18");
    expect_fail("{\"rest\":{\"route\":\"\"}}", Q_ERR(CONFIG_INVALID), "rest.route", 18, "must start with '/'");
    expect_fail("{\"rest\":{\"route\":\" /x\"}}", Q_ERR(CONFIG_INVALID), "rest.route", 18, NULL);
    expect_fail("{\"rest\":{\"base_url\":\"http://h\",\"route\":\"\\\\x\"},\"meta\":{\"tenant\":\"t\"}}",
                Q_ERR(CONFIG_INVALID), "rest.route", 40, NULL);
    expect_ok("{\"rest\":{\"route\":\"\\/x\"}}", "\"route\":\"/x\",");
    expect_ok("{\"rest\":{\"route\":\"\\u002f\"}}", "\"route\":\"/\",");
}

/* The host build is not the TLS module: the certificate header cannot be sent nor a request
 * signed, so enabling either is an error naming the module (the TLS module accepts them:
 * tests/js/mtls.test.mjs, tests/js/httpsig.test.mjs). */
static void tls_settings_need_the_tls_module(void **s) {
    expect_fail("{\"security\":{\"client_cert_header\":true}}", Q_ERR(CONFIG_INVALID), "security.client_cert_header", 34,
                "needs the TLS module (qollective-tls.wasm)");
    expect_fail("{\"security\":{\"sign_requests\":true}}", Q_ERR(CONFIG_INVALID), "security.sign_requests", 29,
                "needs the TLS module (qollective-tls.wasm)");
    /* a keyid travels as an RFC 8941 sf-string: printable ASCII, 1..64 bytes */
    expect_fail("{\"security\":{\"signature_key_id\":\"\"}}", Q_ERR(CONFIG_INVALID), "security.signature_key_id", 33, "printable ASCII");
    expect_fail("{\"security\":{\"signature_key_id\":\"a\\u0001\"}}", Q_ERR(CONFIG_INVALID), "security.signature_key_id", 33, NULL);
}

static void duplicate_keys(void **s) {
    expect_fail("{\"rest\":{},\"rest\":{}}", Q_ERR(DUPLICATE_KEY), "rest", 11, "rest: duplicate key at byte 11");
    expect_fail("{\"meta\":{\"tenant\":\"a\",\"tenant\":\"b\"}}", Q_ERR(DUPLICATE_KEY), "meta.tenant", 22, NULL);
    expect_fail("{\"retry\":{\"max_attempts\":1,\"max_attempts\":1}}", Q_ERR(DUPLICATE_KEY), "retry.max_attempts", 27, NULL);
    expect_fail("{\"rest\":{\"route\":\"/a\",\"r\\u006fute\":\"/a\"}}", Q_ERR(DUPLICATE_KEY), "rest.route", 22, NULL);
    expect_fail("{\"\\u0072est\":{},\"rest\":{}}", Q_ERR(DUPLICATE_KEY), "rest", 16, NULL);
    expect_fail("{\"rest\":{\"headers\":{\"A\":\"1\",\"A\":\"2\"}}}", Q_ERR(DUPLICATE_KEY), "rest.headers", 28, NULL);
    expect_fail("{\"rest\":{\"headers\":{\"A\":\"1\",\"\\u0041\":\"2\"}}}", Q_ERR(DUPLICATE_KEY), "rest.headers", 28, NULL);
    /* a large header map uses the hashed check */
    char big[2048] = "{\"rest\":{\"headers\":{";
    for (int i = 0; i < 40; i++) sprintf(big + strlen(big), "%s\"h%d\":\"v\"", i ? "," : "", i);
    size_t at = strlen(big) + 1;
    strcat(big, ",\"h7\":\"v\"}}}");
    expect_fail(big, Q_ERR(DUPLICATE_KEY), "rest.headers", (long)at, NULL);
    big[at + 2] = 'X';   /* "hX" is new */
    expect_ok(big, "\"h39\":\"v\",\"hX\":\"v\"}");
    /* "A" and "a" differ */
    expect_ok("{\"rest\":{\"headers\":{\"A\":\"1\",\"a\":\"2\"}}}", "{\"A\":\"1\",\"a\":\"2\"}");
}

static void invalid_json_names_config(void **s) {
    expect_fail("{\"rest\":}", Q_ERR(JSON_SYNTAX), "config", 8, "config: invalid JSON syntax");
    expect_fail("{\"rest\":{}", Q_ERR(JSON_TRUNCATED), "config", -2, "config: unexpected end of input");
    expect_fail("{} {}", Q_ERR(JSON_TRAILING), "config", 3, "config: ");
    expect_fail("{\"meta\":{\"tenant\":\"a\x01\"}}", Q_ERR(JSON_CONTROL_CHAR), "config", 20, NULL);
    expect_fail("{\"meta\":{\"tenant\":\"\xff\"}}", Q_ERR(JSON_UTF8), "config", 19, NULL);
    expect_fail("{\"meta\":{\"tenant\":\"\\x\"}}", Q_ERR(JSON_ESCAPE), "config", -2, NULL);
    expect_fail("{\"meta\":{\"tenant\":\"\\ud800\"}}", Q_ERR(JSON_SURROGATE), "config", -2, NULL);
    expect_fail("{\"retry\":{\"max_attempts\":01}}", Q_ERR(JSON_NUMBER), "config", -2, NULL);
    expect_fail("{'rest':{}}", Q_ERR(JSON_SYNTAX), "config", 1, NULL);
    /* nesting past the default depth */
    char deep[600] = "{\"rest\":{\"headers\":{\"a\":";
    for (int i = 0; i < 130; i++) strcat(deep, "[");
    expect_fail(deep, Q_ERR(JSON_DEPTH), "config", -2, NULL);
}

/* ---- memory ------------------------------------------------------------------------------- */

static void free_releases_everything(void **s) {
    uint32_t base = arena_persistent_in_use();
    q_config c;
    q_error e;
    for (int round = 0; round < 50; round++) {
        assert_int_equal(parse(&c, FULL, &e), Q_OK);
        assert_true(arena_persistent_in_use() > base);
        config_free(&c);
        assert_int_equal(arena_persistent_in_use(), base);
        assert_null(c.base_url.ptr); assert_null(c.allowed_origins_json.ptr);
        config_free(&c);                     /* twice is harmless */
        assert_int_equal(arena_persistent_in_use(), base);
    }
    /* failures after strings were taken (route check runs last) */
    const char *late = "{\"rest\":{\"base_url\":\"http://h\",\"headers\":{\"a\":\"b\"},\"route\":\"x\"},"
                       "\"meta\":{\"tenant\":\"t\"},\"security\":{\"allowed_origins\":[\"http://o\"]}}";
    expect_fail(late, Q_ERR(CONFIG_INVALID), "rest.route", -2, NULL);
    assert_int_equal(arena_persistent_in_use(), base);
    expect_fail("{\"rest\":{\"base_url\":\"h\"},\"bogus\":1}", Q_ERR(UNKNOWN_KEY), "bogus", -2, NULL);
    assert_int_equal(arena_persistent_in_use(), base);
    /* the scratch used by a parse is given back by the next reset */
    for (int round = 0; round < 1000; round++) { assert_int_equal(parse(&c, FULL, &e), Q_OK); config_free(&c); }
    uint32_t fp = arena_footprint();
    for (int round = 0; round < 1000; round++) { assert_int_equal(parse(&c, FULL, &e), Q_OK); config_free(&c); }
    assert_int_equal(arena_footprint(), fp);
}

static void allocation_failures_are_clean(void **s) {
    uint32_t base = arena_persistent_in_use();
    q_config c;
    q_error e;
    uint32_t n = 1, failures = 0;
    for (;; n++) {
        assert_true(n < 10000);
        q_error_clear(&e);
        scratch_reset();
        arena_fail_nth(n);
        int rc = config_parse(&c, (const uint8_t *)FULL, (uint32_t)strlen(FULL), &e);
        bool injected = arena_alloc_count() >= n;
        arena_fail_nth(0);
        if (rc == Q_OK) {
            assert_false(injected);
            break;
        }
        failures++;
        if (rc != Q_ERR(OUT_OF_MEMORY)) fail_msg("allocation %u failing gave %s (%s)", n, q_status_code(rc), e.message);
        assert_string_equal(e.code, "OUT_OF_MEMORY");
        assert_true(is_defaults(&c));
        assert_int_equal(arena_persistent_in_use(), base);
        config_free(&c);
        assert_int_equal(arena_persistent_in_use(), base);
    }
    assert_true(failures >= 9);   /* the token array and at least the eight owned strings */
    assert_string_equal(cfg_json(&c), FULL_JSON);
    config_free(&c);
    assert_int_equal(arena_persistent_in_use(), base);

    /* config_to_json reports a failed output allocation */
    assert_int_equal(parse(&c, FULL, &e), Q_OK);
    /* (a failed first reservation is retried at the exact size, so not every k fails) */
    uint32_t oom = 0;
    for (uint32_t k = 1; k <= 40; k++) {
        scratch_reset();
        arena_fail_nth(k);
        q_buf b = {0};
        int rc = config_to_json(&c, &b);
        bool injected = arena_alloc_count() >= k;
        arena_fail_nth(0);
        if (rc == Q_OK) {
            assert_int_equal(b.len, strlen(FULL_JSON));
            assert_memory_equal(b.ptr, FULL_JSON, b.len);
        } else {
            assert_true(injected);
            assert_int_equal(rc, Q_ERR(OUT_OF_MEMORY));
            oom++;
        }
        if (!injected) assert_int_equal(rc, Q_OK);
    }
    assert_true(oom >= 1);
    config_free(&c);
    assert_int_equal(arena_persistent_in_use(), base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults_equal_constants, setup),
        cmocka_unit_test_setup(empty_inputs_are_defaults, setup),
        cmocka_unit_test_setup(full_config_exact_json, setup),
        cmocka_unit_test_setup(each_key_alone, setup),
        cmocka_unit_test_setup(escaped_strings_are_decoded, setup),
        cmocka_unit_test_setup(unknown_keys, setup),
        cmocka_unit_test_setup(wrong_types, setup),
        cmocka_unit_test_setup(nulls_are_type_mismatches, setup),
        cmocka_unit_test_setup(integer_ranges, setup),
        cmocka_unit_test_setup(retry_delays_relation, setup),
        cmocka_unit_test_setup(route_must_start_with_slash, setup),
        cmocka_unit_test_setup(tls_settings_need_the_tls_module, setup),
        cmocka_unit_test_setup(duplicate_keys, setup),
        cmocka_unit_test_setup(invalid_json_names_config, setup),
        cmocka_unit_test_setup(free_releases_everything, setup),
        cmocka_unit_test_setup(allocation_failures_are_clean, setup),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
