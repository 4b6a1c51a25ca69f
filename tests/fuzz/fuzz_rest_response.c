/* libFuzzer harness: HTTP response classification. A request is prepared, then the input is
 * read as a response (status, content type, Retry-After, body). Whatever arrives, the call
 * ends in one action: resolve (with record slices inside the body), retry (then the attempt
 * continues) or reject (with a well-formed error); never a crash, an INTERNAL error or a
 * leak: the request table is empty afterwards.
 * Input: [status hi][status lo][ct len][ra len][ct][ra][body].
 * fuzz-max-len: 65536
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include "instance.h"
#include "rest.h"

static q_client *client(void) {
    static q_client *c;
    if (!c) {
        static const char CFG[] = "{\"rest\":{\"base_url\":\"http://127.0.0.1:8080\"},\"retry\":{\"max_attempts\":2}}";
        c = q_calloc(1, sizeof *c);
        q_error e; q_error_clear(&e);
        FUZZ_CHECK(c && config_parse(&c->cfg, (const uint8_t *)CFG, sizeof CFG - 1, &e) == Q_OK, "config: %s", e.message);
    }
    return c;
}

static bool action_is(const q_buf *o, const char *name) {
    char want[48];
    snprintf(want, sizeof want, "{\"action\":\"%s\"", name);
    return o->len >= strlen(want) && memcmp(o->ptr, want, strlen(want)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    fuzz_begin();
    q_client *c = client();
    int32_t status = 100 + (int32_t)(((uint32_t)data[0] << 8 | data[1]) % 500);
    uint32_t ctl = data[2] % 64, ral = data[3] % 16;
    if (4 + ctl + ral > size) return 0;
    const uint8_t *ct = data + 4, *ra = ct + ctl, *body = ra + ral;
    uint32_t bl = (uint32_t)(size - 4 - ctl - ral);
    uint8_t *b = malloc(bl ? bl : 1);          /* exact size: ASan sees any over-read */
    memcpy(b, body, bl);

    static const uint8_t RND[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
    q_buf plan = {0};
    uint32_t plan_len;
    q_error e; q_error_clear(&e);
    FUZZ_CHECK(rest_prepare(c, (const uint8_t *)"{}", 2, (const uint8_t *)"1", 1, (const uint8_t *)"{\"method\":\"GET\"}", 16,
                            RND, 1700000000000.0, &plan, &plan_len, &e) == Q_OK, "prepare: %s", e.message);
    uint64_t id = 0;
    const char *p = strstr((const char *)plan.ptr, "\"id\":");
    FUZZ_CHECK(p != NULL, "plan without id");
    id = (uint64_t)strtoull(p + 5, NULL, 10);

    double now = 1700000000000.0;
    for (int round = 0; round < 4; round++) {
        q_buf out = {0};
        q_error_clear(&e);
        int rc = rest_response(c, id, status, b, bl, ct, ctl, ra, ral, now, &out, &e);
        FUZZ_CHECK(rc == Q_OK, "response failed: %s", e.message);
        q_error je; q_error_clear(&je);
        FUZZ_CHECK(json_validate(out.ptr, out.len, Q_DEFAULT_MAX_DEPTH, &je) == Q_OK, "action is not JSON: %s", je.message);
        if (action_is(&out, "resolve")) {
            FUZZ_CHECK(status >= 200 && status <= 299, "resolved a %d", status);
            break;
        }
        if (action_is(&out, "reject")) break;
        FUZZ_CHECK(action_is(&out, "retry"), "unknown action");
        /* the backoff timer fires: the attempt goes on, or rejects once the deadline passed */
        const char *d = strstr((const char *)out.ptr, "\"delay\":");
        FUZZ_CHECK(d != NULL, "retry without a delay");
        now += (double)strtoul(d + 8, NULL, 10);
        out.len = 0;
        q_error_clear(&e);
        rc = rest_attempt(c, id, now, &out, &e);
        FUZZ_CHECK(rc == Q_OK, "attempt failed: %s", e.message);
        if (action_is(&out, "reject")) break;
        FUZZ_CHECK(action_is(&out, "send"), "attempt gave neither send nor reject");
    }
    FUZZ_CHECK(rest_in_flight(c) == 0, "request still in flight after its final action");
    free(b);
    return 0;
}
