/* libFuzzer harness: config_parse + config_free. Persistent arena bytes return to the
 * baseline after every parse (success or failure, also under injected allocation failures);
 * a failed parse leaves the defaults; a good one has values inside the documented ranges.
 * fuzz-max-len: 65536
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include "config.h"

static bool str_ok(const q_str *s) {
    return s->ptr == NULL ? s->len == 0 : s->ptr[s->len] == 0;   /* owned copies end with NUL */
}

static void check_good(const q_config *c) {
    FUZZ_CHECK(c->method < HM_COUNT_, "method %u", c->method);
    FUZZ_CHECK(c->uuid_version == 4 || c->uuid_version == 7, "uuid_version %u", c->uuid_version);
    FUZZ_CHECK(c->request_timeout_ms >= 1 && c->request_timeout_ms <= Q_MAX_TIMEOUT_MS, "request_timeout_ms %u", c->request_timeout_ms);
    FUZZ_CHECK(c->connect_timeout_ms >= 1 && c->connect_timeout_ms <= Q_MAX_TIMEOUT_MS, "connect_timeout_ms %u", c->connect_timeout_ms);
    FUZZ_CHECK(c->retry_max_attempts >= 1 && c->retry_max_attempts <= Q_MAX_RETRY_ATTEMPTS, "retry_max_attempts %u", c->retry_max_attempts);
    FUZZ_CHECK(c->retry_max_ms >= c->retry_base_ms, "retry_max_ms %u < retry_base_ms %u", c->retry_max_ms, c->retry_base_ms);
    FUZZ_CHECK(c->retry_jitter_pct <= 100, "jitter %u", c->retry_jitter_pct);
    FUZZ_CHECK(c->limits.max_depth >= 2 && c->limits.max_envelope_bytes >= 64 && c->limits.max_meta_bytes >= 2, "limits");
    const q_str *all[] = { &c->base_url, &c->route, &c->headers_json, &c->ws_url, &c->tenant,
                           &c->auth_token_name, &c->auth_scheme, &c->allowed_origins_json };
    for (size_t k = 0; k < Q_ARRAY_LEN(all); k++) FUZZ_CHECK(str_ok(all[k]), "string %zu not NUL-terminated", k);
    FUZZ_CHECK(!c->route.len || c->route.ptr[0] == '/', "route without a leading '/'");
    q_error e;
    if (c->headers_json.ptr) {
        q_error_clear(&e);
        FUZZ_CHECK(c->headers_json.ptr[0] == '{' && json_validate(c->headers_json.ptr, c->headers_json.len, Q_DEFAULT_MAX_DEPTH, &e) == Q_OK,
                   "headers_json is not a JSON object: %s", e.message);
    }
    if (c->allowed_origins_json.ptr) {
        q_error_clear(&e);
        FUZZ_CHECK(c->allowed_origins_json.ptr[0] == '[' &&
                   json_validate(c->allowed_origins_json.ptr, c->allowed_origins_json.len, Q_DEFAULT_MAX_DEPTH, &e) == Q_OK,
                   "allowed_origins_json is not a JSON array: %s", e.message);
    }
    /* The effective configuration is valid JSON. */
    scratch_reset();
    q_buf out = {0};
    FUZZ_CHECK(config_to_json(c, &out) == Q_OK, "config_to_json failed");
    q_error_clear(&e);
    FUZZ_CHECK(json_validate(out.ptr, out.len, Q_DEFAULT_MAX_DEPTH, &e) == Q_OK,
               "config_to_json output is not valid JSON: %s", e.message);
}

/* A failed parse leaves exactly the defaults (config.h: "the config is left with defaults"). */
static void check_defaults(const q_config *c, const uint8_t *data, uint32_t n) {
    q_config dflt;
    config_defaults(&dflt);
    if (memcmp(c, &dflt, sizeof dflt) != 0) {
        fuzz_hex("input", data, n);
        FUZZ_CHECK(0, "a failed config_parse left non-default values behind");
    }
}

/* Scratch chunks come from the persistent heap too, so a leak check compares runs that
 * need no new scratch: after one run and a scratch_reset the single chunk fits the same run. */
static int parse_and_free(const uint8_t *data, uint32_t n, uint32_t fail_nth, uint32_t *used, q_error *err) {
    q_config c;
    scratch_reset();
    q_error_clear(err);
#ifdef Q_ALLOC_FAULTS
    arena_fail_nth(fail_nth);
#endif
    int rc = config_parse(&c, data, n, err);
#ifdef Q_ALLOC_FAULTS
    *used = arena_alloc_count();
    arena_fail_nth(0);
#else
    *used = 0;
#endif
    if (rc == Q_OK) check_good(&c);
    else check_defaults(&c, data, n);
    config_free(&c);
    scratch_reset();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > UINT32_MAX) return 0;
    uint32_t n = (uint32_t)size, used;
    fuzz_begin();
    q_error err;
    int rc = parse_and_free(data, n, 0, &used, &err);          /* sizes scratch for this input */
    if (rc) {
        fuzz_check_error(rc, &err, n);
        FUZZ_CHECK(rc != Q_ERR(OUT_OF_MEMORY), "out of memory on a %u-byte config", n);
    }
    uint32_t base = arena_persistent_in_use();
    int rc2 = parse_and_free(data, n, 0, &used, &err);
    FUZZ_CHECK(rc2 == rc, "second parse gave %s, first %s", q_status_code(rc2), q_status_code(rc));
    FUZZ_CHECK(arena_persistent_in_use() == base, "persistent bytes %u -> %u after config_free (rc %s)",
               base, arena_persistent_in_use(), q_status_code(rc));

#ifdef Q_ALLOC_FAULTS
    /* Every allocation failure is clean: OUT_OF_MEMORY (or the same verdict when the failure
     * was absorbed), defaults left behind, nothing leaked after config_free. */
    for (uint32_t nth = 1; nth < 64; nth++) {
        int frc = parse_and_free(data, n, nth, &used, &err);
        if (frc != Q_OK) fuzz_check_error(frc, &err, n);
        FUZZ_CHECK(frc == rc || frc == Q_ERR(OUT_OF_MEMORY), "allocation %u failed: %s instead of %s or OUT_OF_MEMORY",
                   nth, q_status_code(frc), q_status_code(rc));
        FUZZ_CHECK(arena_persistent_in_use() == base, "leak under allocation failure %u: %u -> %u",
                   nth, base, arena_persistent_in_use());
        if (used < nth) break;   /* the injected failure never came: every allocation was tried */
    }
#endif
    return 0;
}
