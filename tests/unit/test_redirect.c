/* Redirect decisions in the core: Location resolution (RFC 3986 §5.2 forms, dot segments,
 * fragments, invalid targets), the Fetch method rules, the allowlist (with and without
 * security.allowed_origins), the hop limit, a hidden target, and the request table's
 * redirect action (headers kept per hop, credentials dropped across origins for good). */
#include "test_util.h"
#include "config.h"
#include "instance.h"
#include "rest.h"
#include "rest_redirect.h"
#include "url.h"
#include "token.h"

void client_release(q_client *c);

static int setup(void **s) { return q_test_setup(s); }

static const char *resolve(const char *base, const char *ref, int *rc) {
    static char out[512];
    q_buf b = { 0 };
    url_parts p;
    q_error e;
    *rc = url_resolve(&b, (const uint8_t *)base, (uint32_t)strlen(base), (const uint8_t *)ref, (uint32_t)strlen(ref), &p, "Location", &e);
    if (*rc) return NULL;
    assert_true(b.len < sizeof out);
    memcpy(out, b.ptr, b.len);
    out[b.len] = 0;
    return out;
}

static void resolution_forms(void **s) {
    static const struct { const char *base, *ref, *want; } OK[] = {
        { "http://h:1/a/b/c?envelope_data=1", "http://x:2/y", "http://x:2/y" },
        { "http://h:1/a/b/c?envelope_data=1", "HTTPS://X/Y?q#f", "HTTPS://X/Y?q" },
        { "http://h:1/a/b/c", "//x:3/p", "http://x:3/p" },
        { "http://h:1/a/b/c?q=1", "/p/./q/../r", "http://h:1/p/r" },
        { "http://h:1/a/b/c?q=1", "d", "http://h:1/a/b/d" },
        { "http://h:1/a/b/c", "../d?z=1#frag", "http://h:1/a/d?z=1" },
        { "http://h:1/a/b/c", "../../../../d", "http://h:1/d" },
        { "http://h:1/a/b/c?q=1", "?z=2", "http://h:1/a/b/c?z=2" },
        { "http://h:1/a/b/c?q=1", "", "http://h:1/a/b/c" },
        { "http://h:1/a/b/c", "..", "http://h:1/a/" },
        { "http://h:1", "d", "http://h:1/d" },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(OK); k++) {
        int rc;
        const char *got = resolve(OK[k].base, OK[k].ref, &rc);
        if (rc) fail_msg("%s + %s failed", OK[k].base, OK[k].ref);
        assert_string_equal(got, OK[k].want);
    }
    /* targets the client could not have been configured with */
    static const char *const BAD[] = {
        "ftp://h/x", "http://user:pw@h/x", "http:///x", "http://h:0/x", "http://h/a b", "http://h/\xC3\xA9",
        "javascript:alert(1)", "//", "http://h:99999/",
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(BAD); k++) {
        int rc;
        q_error e;
        q_buf b = { 0 };
        url_parts p;
        rc = url_resolve(&b, QS("http://h:1/a"), (const uint8_t *)BAD[k], (uint32_t)strlen(BAD[k]), &p, "Location", &e);
        if (rc != Q_ERR(INVALID_URL)) fail_msg("%s: expected INVALID_URL, got %s", BAD[k], q_status_code(rc));
        assert_string_equal(e.path, "Location");
        assert_null(strstr(e.message, BAD[k]));
    }
}

static q_config cfg_of(const char *json) {
    q_config c;
    q_error e;
    if (config_parse(&c, (const uint8_t *)json, (uint32_t)strlen(json), &e)) fail_msg("config: %s", e.message);
    return c;
}

static int decide(const q_config *c, uint8_t method, uint32_t hops, int32_t status, const char *loc, redirect_hop *hop, q_error *fail) {
    q_error err;
    const char *url = "http://a.test:8080/api/old?envelope_data=x";
    return redirect_decide(c, method, hops, status, (const uint8_t *)url, (uint32_t)strlen(url), (const uint8_t *)loc,
                           (uint32_t)strlen(loc), hop, fail, &err);
}

static void method_rules_and_allowlist(void **s) {
    q_config c = cfg_of("{\"rest\":{\"base_url\":\"http://a.test:8080/api\"}}");
    static const struct { int32_t status; uint8_t method, next; bool drop; } RULES[] = {
        { 301, HM_POST, HM_GET, true }, { 302, HM_POST, HM_GET, true }, { 303, HM_POST, HM_GET, true },
        { 303, HM_PUT, HM_GET, true }, { 303, HM_DELETE, HM_GET, true }, { 301, HM_PUT, HM_PUT, false },
        { 302, HM_PATCH, HM_PATCH, false }, { 307, HM_POST, HM_POST, false }, { 308, HM_PUT, HM_PUT, false },
        { 301, HM_GET, HM_GET, false },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(RULES); k++) {
        redirect_hop hop;
        q_error fail;
        assert_int_equal(decide(&c, RULES[k].method, 0, RULES[k].status, "/new", &hop, &fail), Q_OK);
        assert_int_equal(fail.status, 0);
        assert_int_equal(hop.method, RULES[k].next);
        assert_int_equal(hop.drop_body, RULES[k].drop);
        assert_false(hop.cross_origin);
        assert_memory_equal(hop.url.ptr, "http://a.test:8080/new", hop.url.len);
    }
    /* without security.allowed_origins only the base URL's origin is allowed (case-insensitive) */
    redirect_hop hop;
    q_error fail;
    static const char *const DENIED[] = { "http://b.test:8080/x", "http://a.test:8081/x", "https://a.test:8080/x", "//b.test/x" };
    for (size_t k = 0; k < Q_ARRAY_LEN(DENIED); k++) {
        assert_int_equal(decide(&c, HM_POST, 0, 307, DENIED[k], &hop, &fail), Q_OK);
        assert_int_equal(fail.status, Q_ERR(ORIGIN_DENIED));
        assert_int_equal(fail.kind, QK_SECURITY);
        assert_int_equal(fail.http_status, 307);
        assert_false(fail.retryable);
        assert_null(strstr(fail.message, "b.test"));
    }
    assert_int_equal(decide(&c, HM_POST, 0, 307, "HTTP://A.TEST:8080/x", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, 0);
    /* relative targets resolve against the requested URL read once: its path, never its query */
    assert_int_equal(decide(&c, HM_POST, 0, 307, "new2", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, 0);
    assert_int_equal(hop.url.len, strlen("http://a.test:8080/api/new2"));
    assert_memory_equal(hop.url.ptr, "http://a.test:8080/api/new2", hop.url.len);
    assert_int_equal(decide(&c, HM_POST, 0, 307, "?z=1", &hop, &fail), Q_OK);
    assert_int_equal(hop.url.len, strlen("http://a.test:8080/api/old?z=1"));
    assert_memory_equal(hop.url.ptr, "http://a.test:8080/api/old?z=1", hop.url.len);
    /* a requested URL that is no base URL (the host echoes the plan's): refused, named "url" */
    q_error err;
    assert_int_equal(redirect_decide(&c, HM_POST, 0, 307, QS("http://a.test:8080/a b?q"), QS("/x"), &hop, &fail, &err), Q_OK);
    assert_int_equal(fail.status, Q_ERR(INVALID_URL));
    assert_string_equal(fail.path, "url");
    assert_false(fail.retryable);
    config_free(&c);
    /* with a list: exactly the listed origins, and a different one is a cross-origin hop */
    c = cfg_of("{\"rest\":{\"base_url\":\"http://a.test:8080\"},\"security\":{\"allowed_origins\":[\"http://a.test:8080\",\"http://b.test:9/\"]}}");
    assert_int_equal(decide(&c, HM_POST, 0, 308, "http://b.test:9/x", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, 0);
    assert_true(hop.cross_origin);
    assert_int_equal(decide(&c, HM_POST, 0, 308, "http://c.test:9/x", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, Q_ERR(ORIGIN_DENIED));
    config_free(&c);
}

static void limits_and_hidden_targets(void **s) {
    q_config c = cfg_of("{\"rest\":{\"base_url\":\"http://a.test:8080\",\"max_redirects\":2}}");
    redirect_hop hop;
    q_error fail;
    assert_int_equal(decide(&c, HM_GET, 1, 302, "/x", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, 0);
    assert_int_equal(decide(&c, HM_GET, 2, 302, "/x", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, Q_ERR(TOO_MANY_REDIRECTS));
    assert_false(fail.retryable);
    assert_int_equal(decide(&c, HM_GET, 0, 0, "", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, Q_ERR(REDIRECT_HIDDEN));
    assert_int_equal(fail.kind, QK_SECURITY);
    static const int32_t NOT_FOLLOWED[] = { 300, 304, 305, 306 };
    for (size_t k = 0; k < Q_ARRAY_LEN(NOT_FOLLOWED); k++) {
        assert_int_equal(decide(&c, HM_GET, 0, NOT_FOLLOWED[k], "/x", &hop, &fail), Q_OK);
        assert_int_equal(fail.status, Q_ERR(HTTP_STATUS));
        assert_int_equal(fail.http_status, NOT_FOLLOWED[k]);
    }
    assert_int_equal(decide(&c, HM_GET, 0, 301, "", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, Q_ERR(HTTP_STATUS));
    assert_int_equal(decide(&c, HM_GET, 0, 301, "http://a.test:8080/\x01", &hop, &fail), Q_OK);
    assert_int_equal(fail.status, Q_ERR(INVALID_URL));
    config_free(&c);
}

/* The table's side: a POST with a token and an extra header, redirected 308 within its origin
 * (everything kept), then 307 across origins and 303 back: the cross-origin hop keeps
 * Content-Type and meta only, the hop after it drops the body too. */
static void hop_actions_from_the_table(void **s) {
    q_client *cl = q_calloc(1, sizeof *cl);
    const char *cfg = "{\"rest\":{\"base_url\":\"http://a.test:1\",\"headers\":{\"X-K\":\"v\"}},"
                      "\"security\":{\"auth_token\":\"t\",\"allowed_origins\":[\"http://a.test:1\",\"http://b.test:2\"]}}";
    q_error e;
    assert_int_equal(config_parse(&cl->cfg, (const uint8_t *)cfg, (uint32_t)strlen(cfg), &e), Q_OK);
    assert_int_equal(token_set(cl, QS("t"), QS("secret"), 0, &e), Q_OK);
    static const uint8_t RND[20] = { 1 };
    q_buf out = { 0 };
    uint32_t plan_len;
    assert_int_equal(rest_prepare(cl, QS("{}"), QS("1"), QS(""), RND, 1000, &out, &plan_len, &e), Q_OK);
    const char *idp = strstr((const char *)out.ptr, "\"id\":");
    uint64_t id = (uint64_t)strtoull(idp + 5, NULL, 10);
    /* Content-Type + request id + version + timestamp = 4 own headers, then Authorization, X-K */
    /* same origin: every header stays ([0,0]: to the end), nothing to add (not signed) */
    out = (q_buf){ 0 };
    assert_int_equal(rest_redirect(cl, id, 308, QS("http://a.test:1/envelope"), QS("/moved"), 1001, &out, &e), Q_OK);
    assert_non_null(strstr((const char *)out.ptr, "\"url\":\"http://a.test:1/moved\",\"method\":\"POST\",\"body\":true,\"attempt\":2,\"add\":[],\"headers\":[0,0]}"));
    out = (q_buf){ 0 };
    assert_int_equal(rest_redirect(cl, id, 307, QS("http://a.test:1/moved"), QS("http://b.test:2/e"), 1001, &out, &e), Q_OK);
    assert_non_null(strstr((const char *)out.ptr, "\"url\":\"http://b.test:2/e\",\"method\":\"POST\",\"body\":true,\"attempt\":3,\"add\":[],\"headers\":[0,4]}"));
    out = (q_buf){ 0 };
    assert_int_equal(rest_redirect(cl, id, 303, QS("http://b.test:2/e"), QS("http://a.test:1/r"), 1002, &out, &e), Q_OK);
    assert_non_null(strstr((const char *)out.ptr, "\"method\":\"GET\",\"body\":false,\"attempt\":4,\"add\":[],\"headers\":[1,4]}"));
    /* denied: a reject that ends the request */
    out = (q_buf){ 0 };
    assert_int_equal(rest_redirect(cl, id, 302, QS("http://a.test:1/r"), QS("http://evil.test/"), 1003, &out, &e), Q_OK);
    assert_non_null(strstr((const char *)out.ptr, "\"action\":\"reject\""));
    assert_non_null(strstr((const char *)out.ptr, "\\u0000ORIGIN_DENIED\\u0000"));   /* the error record's code field */
    assert_null(strstr((const char *)out.ptr, "evil"));
    assert_int_equal(rest_in_flight(cl), 0);
    assert_int_equal(rest_redirect(cl, id, 302, QS("http://a.test:1/r"), QS("/x"), 1004, &out, &e), Q_ERR(BAD_HANDLE));
    client_release(cl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(resolution_forms, setup),
        cmocka_unit_test_setup(method_rules_and_allowlist, setup),
        cmocka_unit_test_setup(limits_and_hidden_targets, setup),
        cmocka_unit_test_setup(hop_actions_from_the_table, setup),
    };
    return cmocka_run_group_tests_name("redirect", tests, NULL, NULL);
}
