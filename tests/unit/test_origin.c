/* Origin validation (issue 12 item 7): the shared verdict table tests/vectors/origins.txt through
 * config_origin_allowed (the check REST, redirects and WebSocket opens use), allowlist entries
 * refused at config time, the default allowlist (the configured URLs' own origins), the
 * normalised forms, and error records that never quote the URL. */
#include "test_util.h"
#include "config.h"
#include "origin.h"
#include "tokens.h"

static int setup(void **s) { return q_test_setup(s); }

typedef struct { char verdict[8]; char url[256]; char why[128]; } row;

/* Reads the table: the "list" entries as a JSON array into list, the rows into rows. */
static int read_table(char *list, size_t cap, row *rows, int max) {
    FILE *f = fopen("../vectors/origins.txt", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    size_t at = (size_t)snprintf(list, cap, "[");
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        if (!strncmp(line, "list ", 5)) {
            at += (size_t)snprintf(list + at, cap - at, "%s\"%s\"", at > 1 ? "," : "", line + 5);
            continue;
        }
        assert_true(n < max);
        char *bar1 = strstr(line, " | "), *bar2 = bar1 ? strstr(bar1 + 3, " | ") : NULL;
        if (!bar2) fail_msg("bad table line: %s", line);
        *bar1 = *bar2 = 0;
        snprintf(rows[n].verdict, sizeof rows[n].verdict, "%.*s", (int)strcspn(line, " "), line);
        /* {TAB} stands for a tab */
        char *u = bar1 + 3, *w = rows[n].url;
        while (*u) { if (!strncmp(u, "{TAB}", 5)) { *w++ = '\t'; u += 5; } else *w++ = *u++; }
        *w = 0;
        snprintf(rows[n].why, sizeof rows[n].why, "%s", bar2 + 3);
        n++;
    }
    fclose(f);
    snprintf(list + at, cap - at, "]");
    return n;
}

static void parse_config(q_config *c, const char *json) {
    q_error e; q_error_clear(&e);
    if (config_parse(c, (const uint8_t *)json, (uint32_t)strlen(json), &e)) fail_msg("config %s: %s", json, e.message);
}

static const char *verdict_of(const q_config *c, const char *url, q_error *e) {
    bool allowed = false;
    q_error_clear(e);
    int rc = config_origin_allowed(c, (const uint8_t *)url, (uint32_t)strlen(url), &allowed, "url", e);
    if (rc == Q_ERR(INVALID_URL)) return "invalid";
    if (rc) fail_msg("%s: status %d", url, rc);
    return allowed ? "allow" : "deny";
}

static void shared_table(void **s) {
    static row rows[200];
    char list[2048], json[2200];
    int n = read_table(list, sizeof list, rows, 200);
    assert_true(n >= 30);
    snprintf(json, sizeof json, "{\"security\":{\"allowed_origins\":%s}}", list);
    q_config c;
    parse_config(&c, json);
    int wrong = 0;
    for (int k = 0; k < n; k++) {
        q_error e;
        const char *got = verdict_of(&c, rows[k].url, &e);
        if (strcmp(got, rows[k].verdict)) { print_error("%s: %s, expected %s (%s) %s\n", rows[k].url, got, rows[k].verdict, rows[k].why, e.message); wrong++; }
        /* the record names the key and why, never the URL */
        if (!strcmp(got, "invalid")) {
            assert_string_equal(e.path, "url");
            assert_null(strstr(e.message, "example"));
        }
    }
    assert_int_equal(wrong, 0);
    config_free(&c);
}

static const char *norm(const char *url) {
    static char out[300];
    static q_error e;
    q_origin o;
    if (origin_parse((const uint8_t *)url, (uint32_t)strlen(url), false, &o, "url", -1, &e)) return e.message;
    snprintf(out, sizeof out, "%s://%.*s:%u", o.secure ? "https" : "http", (int)o.host_len, o.host, o.port);
    return out;
}

static void normal_forms(void **s) {
    assert_string_equal(norm("WSS://API.Example.COM:443/x"), "https://api.example.com:0");
    assert_string_equal(norm("ws://h:80"), "http://h:0");
    assert_string_equal(norm("ws://h:443"), "http://h:443");
    assert_string_equal(norm("http://[0:0:0:0:0:0:0:1]"), "http://[::1]:0");
    assert_string_equal(norm("http://[::]"), "http://[::]:0");
    assert_string_equal(norm("http://[1::]"), "http://[1::]:0");
    assert_string_equal(norm("http://[1:0:0:2:0:0:0:3]"), "http://[1:0:0:2::3]:0");
    assert_string_equal(norm("http://[1:0:2:0:3:0:4:0]"), "http://[1:0:2:0:3:0:4:0]:0");   /* no run of two */
    assert_string_equal(norm("http://[0:0:1:0:0:2:0:0]"), "http://[::1:0:0:2:0:0]:0");     /* the first longest run */
    assert_string_equal(norm("http://[ABCD:EF01::]"), "http://[abcd:ef01::]:0");
    assert_string_equal(norm("http://[::ffff:192.168.0.1]"), "http://[::ffff:c0a8:1]:0");
    assert_string_equal(norm("http://a.example."), "http://a.example.:0");
    /* IPv6 forms WHATWG refuses too */
    static const char *const BAD6[] = { "http://[1:2:3:4:5:6:7:8:9]", "http://[12345::]", "http://[::1.2.3]", "http://[::1.2.3.4.5]",
                                        "http://[::256.0.0.1]", "http://[:1]", "http://[1:]", "http://[]", "http://[::01.2.3.4]" };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD6); k++) {
        q_origin o; q_error e;
        if (origin_parse((const uint8_t *)BAD6[k], (uint32_t)strlen(BAD6[k]), false, &o, "url", -1, &e) != Q_ERR(INVALID_URL)) fail_msg("%s accepted", BAD6[k]);
    }
    /* a second "::", named where it starts: right after a leading one, after a piece's "::", later on */
    static const struct { const char *url; int64_t at; } TWO[] = {
        { "http://[:::1]", 10 }, { "http://[1:::2]", 11 }, { "http://[1::2::3]", 13 }, { "http://[::1::]", 12 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(TWO); k++) {
        q_origin o; q_error e;
        q_error_clear(&e);
        assert_int_equal(origin_parse((const uint8_t *)TWO[k].url, (uint32_t)strlen(TWO[k].url), false, &o, "url", 0, &e), Q_ERR(INVALID_URL));
        if (!strstr(e.message, "two '::'")) fail_msg("%s: %s", TWO[k].url, e.message);
        if (e.offset != TWO[k].at) fail_msg("%s: at %lld", TWO[k].url, (long long)e.offset);
    }
}

/* An entry that could never match as written, or would match too much, is a config error. */
static void entries_checked_at_config(void **s) {
    static const struct { const char *entry, *why; } BAD[] = {
        { "https://*.com", "at least two labels" },
        { "https://*", "first label" },
        { "https://a.*.example.com", "only allowed as the first label" },
        { "https://*.1.2.3", "no wildcard over an IP" },
        { "https://api.example.com/v1", "no path" },
        { "https://api.example.com?x", "no path" },
        { "api.example.com", "not an absolute URL" },
        { "ftp://api.example.com", "scheme must be" },
        { "https://user@api.example.com", "credentials" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        char json[256];
        snprintf(json, sizeof json, "{\"security\":{\"allowed_origins\":[\"https://ok.example\",\"%s\"]}}", BAD[k].entry);
        q_config c; q_error e; q_error_clear(&e);
        int rc = config_parse(&c, (const uint8_t *)json, (uint32_t)strlen(json), &e);
        if (rc != Q_ERR(INVALID_URL)) fail_msg("%s: accepted (%d)", BAD[k].entry, rc);
        assert_string_equal(e.path, "security.allowed_origins[1]");
        if (!strstr(e.message, BAD[k].why)) fail_msg("%s: %s", BAD[k].entry, e.message);
        /* where in the config text: the entry's first byte plus the position in it */
        assert_true(e.offset >= (int64_t)(strstr(json, BAD[k].entry) - json));
        assert_true(e.offset <= (int64_t)(strstr(json, BAD[k].entry) - json + strlen(BAD[k].entry)));
    }
    /* the configured URLs must be allowed by the list */
    q_config c; q_error e; q_error_clear(&e);
    const char *j = "{\"websocket\":{\"url\":\"wss://ws.example.com/s\"},\"security\":{\"allowed_origins\":[\"https://api.example.com\"]}}";
    assert_int_equal(config_parse(&c, (const uint8_t *)j, (uint32_t)strlen(j), &e), Q_ERR(ORIGIN_DENIED));
    assert_string_equal(e.path, "websocket.url");
    j = "{\"websocket\":{\"url\":\"wss://ws.example.com/s\"},\"security\":{\"allowed_origins\":[\"https://*.example.com\"]}}";
    parse_config(&c, j);
    config_free(&c);
}

/* Without security.allowed_origins: the origins of rest.base_url and websocket.url only. */
static void default_allowlist(void **s) {
    q_config c;
    q_error e;
    parse_config(&c, "{\"rest\":{\"base_url\":\"https://api.example.com/v1\"},\"websocket\":{\"url\":\"ws://127.0.0.1:9000/ws\"}}");
    assert_string_equal(verdict_of(&c, "wss://api.example.com/other", &e), "allow");
    assert_string_equal(verdict_of(&c, "https://API.example.com:443", &e), "allow");
    assert_string_equal(verdict_of(&c, "http://127.0.0.1:9000/", &e), "allow");
    assert_string_equal(verdict_of(&c, "ws://127.0.0.1:9001/", &e), "deny");
    assert_string_equal(verdict_of(&c, "wss://evil.example.com/", &e), "deny");
    config_free(&c);
    parse_config(&c, "{}");
    assert_string_equal(verdict_of(&c, "ws://127.0.0.1:9000/", &e), "deny");   /* nothing configured: nothing allowed */
    config_free(&c);
}

/* The allowlist's tokens: jsmn (built without JSMN_STRICT) over validated JSON gives each entry's
 * string body, and a bare top-level value is one token, as the fuzz suite's jsmn check expects. */
static void allowlist_tokens(void **s) {
    static const struct { const char *js; int count; int type; int start, end; } CASES[] = {
        { "[\"https://a.example\",\"http://b\\u002e\"]", 3, JSMN_ARRAY, 0, 38 },
        { "[]", 1, JSMN_ARRAY, 0, 2 },
        { "\"x\\\"y\"", 1, JSMN_STRING, 1, 5 },
        { "-12.5e3", 1, JSMN_PRIMITIVE, 0, 7 },
        { "null", 1, JSMN_PRIMITIVE, 0, 4 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        q_tokens t;
        q_error e;
        q_error_clear(&e);
        uint32_t n = (uint32_t)strlen(CASES[k].js);
        assert_int_equal(tokens_parse(&t, (const uint8_t *)CASES[k].js, n, 0, &e), Q_OK);
        assert_int_equal(t.count, CASES[k].count);
        assert_int_equal(t.tok[0].type, CASES[k].type);
        assert_int_equal(t.tok[0].start, CASES[k].start);
        assert_int_equal(t.tok[0].end, CASES[k].end);
        assert_int_equal(tokens_skip(&t, 0), t.count);
    }
    q_tokens t;
    q_error e;
    const char *list = "[\"https://a.example\",\"http://b\\u002e\"]";
    assert_int_equal(tokens_parse(&t, (const uint8_t *)list, (uint32_t)strlen(list), 0, &e), Q_OK);
    assert_int_equal(t.tok[1].type, JSMN_STRING);
    assert_int_equal(t.tok[1].end - t.tok[1].start, (int)strlen("https://a.example"));
    assert_memory_equal(list + t.tok[2].start, "http://b\\u002e", (size_t)(t.tok[2].end - t.tok[2].start));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(shared_table, setup),
        cmocka_unit_test_setup(normal_forms, setup),
        cmocka_unit_test_setup(entries_checked_at_config, setup),
        cmocka_unit_test_setup(default_allowlist, setup),
        cmocka_unit_test_setup(allowlist_tokens, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
