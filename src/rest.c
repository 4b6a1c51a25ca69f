/* REST request lifecycle: build the plan, then feed each outcome through the request table
 * (rest_table.h holds the state machine). Rules:
 *   - The body carries the full envelope (POST/PUT/PATCH); GET/DELETE carry the payload in
 *     ?envelope_data= and no body. Meta always travels in headers too: the server reads
 *     meta ONLY from headers (wire-format.md §4).
 *   - Retries only for retryable failures, only while attempts and the deadline allow, and
 *     for POST/PATCH only when the config or the call marks them safe.
 *   - The deadline is absolute (now + timeout at prepare) and covers retries and backoff. */
#include "rest.h"
#include "rest_table.h"
#include "rest_headers.h"
#include "rest_classify.h"
#include "rest_redirect.h"
#include "envelope.h"
#include "json.h"
#include "url.h"
#include "uuid.h"
#include "retry.h"
#include "num.h"
#include "host_failure.h"
#ifdef Q_TLS
#include "tls.h"
#endif
#include "qollective.h"

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(REQUEST)); }

/* ---- options ------------------------------------------------------------------------------ */

enum { O_METHOD, O_ROUTE, O_TIMEOUT, O_HEADERS, O_IDEMPOTENT, O_COUNT_ };
#define OPTION_NAMES(X) X(method) X(route) X(timeout_ms) X(headers) X(idempotent)
SCHEMA_NAMES(option_names, OPTION_NAMES);
#define OPTION(name, type, slot, elem) SCHEMA_FIELD(option_names, name, type, SF_NONNULL, slot, elem, 0)
static const struct option_fields { schema_field options[5]; } OPTION_FIELDS = { .options = {
    OPTION(method, ST_ENUM, O_METHOD, 0),   /* enum list 0: OPTION_ENUMS */
    OPTION(route, ST_STRING, O_ROUTE, 0),
    OPTION(timeout_ms, ST_U32, O_TIMEOUT, 0),
    OPTION(headers, ST_MAP, O_HEADERS, ST_STRING),
    OPTION(idempotent, ST_BOOL, O_IDEMPOTENT, 0),
} };
static const schema OPTION_SCHEMAS[] = { SCHEMA_AT(option_fields, options, 1) };
static const char *const OPTION_ENUMS[] = { Q_HTTP_METHOD_LIST };
const schema_set REST_OPTION_SCHEMA_SET = SCHEMA_SET(option_names, option_fields, OPTION_FIELDS, OPTION_SCHEMAS, OPTION_ENUMS, 0);
_Static_assert(O_COUNT_ <= SCHEMA_MAX_SLOTS, "option slots fit the walker");

static bool is_blank(const uint8_t *p, uint32_t n) { return json_skip_ws(p, n, 0) >= n; }

/* ---- prepare -------------------------------------------------------------------------------- */

static int prepare(q_client *c, const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
                   const uint8_t *opts, uint32_t opts_len, const uint8_t *random, double now_ms,
                   q_buf *out, uint32_t *plan_len, q_error *err);

int rest_prepare(q_client *c, const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
                 const uint8_t *opts, uint32_t opts_len, const uint8_t *random, double now_ms,
                 q_buf *out, uint32_t *plan_len, q_error *err) {
    int rc = prepare(c, meta, meta_len, payload, payload_len, opts, opts_len, random, now_ms, out, plan_len, err);
    /* a failed plan may already hold the Authorization value or a GET payload: leave nothing */
    if (rc && out->ptr) { q_wipe(out->ptr, out->len); out->len = 0; }
    return rc;
}

static int prepare(q_client *c, const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
                   const uint8_t *opts, uint32_t opts_len, const uint8_t *random, double now_ms,
                   q_buf *out, uint32_t *plan_len, q_error *err) {
    const q_config *cfg = &c->cfg;
    int rc;
    if (!cfg->base_url.len)
        return q_fail(err, Q_ERR(CONFIG_INVALID), Q_NO_OFFSET, "rest.base_url", QD(NOT_CONFIGURED));

    /* options */
    uint8_t method = cfg->method;
    const uint8_t *route = cfg->route.len ? cfg->route.ptr : (const uint8_t *)Q_DEFAULT_ROUTE;
    uint32_t route_len = cfg->route.len ? cfg->route.len : (uint32_t)q_strlen(Q_DEFAULT_ROUTE);
    uint32_t timeout = cfg->request_timeout_ms;
    bool idempotent_override = false;
    schema_walk ow;
    bool have_opts = !is_blank(opts, opts_len);
    if (have_opts) {
        if ((rc = config_walk_text(&ow, opts, opts_len, "options", "options", err))) return rc;
        if ((rc = schema_walk_object(&ow, &REST_OPTION_SCHEMA_SET, 0))) return rc;
        int s;
        if ((s = ow.slots[O_METHOD]) >= 0) method = config_method(&ow, s);
        if ((s = ow.slots[O_ROUTE]) >= 0) {
            uint32_t n = schema_tok_len(&ow, s);
            uint8_t *r = scratch_alloc(n + 1);
            if (!r) return oom(err);
            route_len = json_unescape(schema_tok_ptr(&ow, s), n, r);
            route = r;
            if ((rc = url_check_route(route, route_len, "options.route", schema_tok_offset(&ow, s), err))) return rc;
        }
        if ((s = ow.slots[O_TIMEOUT]) >= 0) {
            int64_t v;
            if ((rc = num_to_i64(schema_tok_ptr(&ow, s), schema_tok_len(&ow, s), 1, Q_MAX_TIMEOUT_MS, &v)))
                return q_fail(err, rc, schema_tok_offset(&ow, s), "options.timeout_ms", QD(RANGE_1_86400000));
            timeout = (uint32_t)v;
        }
        if ((s = ow.slots[O_IDEMPOTENT]) >= 0) idempotent_override = *schema_tok_ptr(&ow, s) == 't';
    }

    /* the envelope, with a fresh request id and timestamp */
    env_autofill af = { .fill = true, .now_ms = now_ms, .random = random, .uuid_v4 = cfg->uuid_version == 4,
                        .tenant = cfg->tenant.len ? cfg->tenant.ptr : NULL, .tenant_len = cfg->tenant.len };
    q_buf env = { 0 };
    if ((rc = env_encode(meta, meta_len, payload, payload_len, NULL, 0, &cfg->limits, &af, &env, err))) return rc;
    /* env = {"meta":<canonical meta>,"payload":<compact payload>} (no error part is given): the
     * payload ends at the last byte, only the meta's end is looked for */
    uint32_t meta_end, payload_end = env.len - 1;
    if (json_scan_value(env.ptr, env.len, 8, 1, 0xFFFFFFFFu, &meta_end, err)) return q_error_in(err, "internal");
    uint32_t payload_off = meta_end + 11;
    schema_walk mw;
    if ((rc = env_meta_walk(env.ptr + 8, meta_end - 8, 8, &cfg->limits, NULL, NULL, &mw, err))) return rc;

    const uint8_t *request_id = schema_tok_ptr(&mw, mw.slots[MS_REQUEST_ID]);   /* canonical: 36 bytes */

    /* plan: {"id":..,"method":..,"url":..,"headers":[..],"timeout":..,"deadline":..,"requestId":..,"body":n} */
    bool has_body = method == HM_POST || method == HM_PUT || method == HM_PATCH;
    q_buf url = { 0 };
    if (url_join(&url, cfg->base_url.ptr, cfg->base_url.len, route, route_len)) return oom(err);
    if (!has_body) {
        bool has_query = false;
        for (uint32_t i = 0; i < route_len; i++) if (route[i] == '?') has_query = true;
        if (q_buf_puts(&url, has_query ? "&" Q_ENVELOPE_DATA_PARAM "=" : "?" Q_ENVELOPE_DATA_PARAM "=") ||
            url_encode_component(&url, env.ptr + payload_off, payload_end - payload_off)) return oom(err);
    }
    if (url.len > Q_MAX_QUERY_URL_BYTES)
        return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "url", QD(PAYLOAD_TOO_LARGE_FOR_A_GET_DELETE_QUERY));
    /* URL characters need no JSON escaping */
    int wrc = jw_fmt(out, "{\"method\":\"%s\",\"url\":\"%r\",\"headers\":[", config_method_name(method), url.ptr, url.len);
    if (wrc) return oom(err);
    uint32_t own;
    if ((rc = rest_headers_write(c, out, has_body, &mw, have_opts ? &ow : NULL, have_opts ? ow.slots[O_HEADERS] : -1, &own, err)))
        return rc;

#ifdef Q_TLS
    /* RFC 9421 signature over method, URL, body digest and request id (the last own headers) */
    uint8_t body_sha256[32];
    if (cfg->sign_requests) {
        q_instance *I = instance();
        if (I->entropy_cap < Q_ENTROPY_PREPARE_BYTES + Q_ENTROPY_BYTES)
            return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, "a signed request needs 52 entropy bytes");
        if (has_body) tls_sha256(env.ptr, env.len, body_sha256);
        rc = tls_sign_message(c, config_method_name(method), url.ptr, url.len, has_body ? body_sha256 : NULL, request_id,
                              UUID_TEXT_LEN, now_ms, random + Q_ENTROPY_PREPARE_BYTES, I->entropy_cap - Q_ENTROPY_PREPARE_BYTES, out, false, err);
        q_wipe(I->entropy + Q_ENTROPY_PREPARE_BYTES, I->entropy_cap - Q_ENTROPY_PREPARE_BYTES);   /* never reuse a seed */
        if (rc) return rc;
    }
#endif
    rest_id id;
    rest_entry *e = rest_entry_new(c, &id, err);
    if (!e) return err->status;
#ifdef Q_TLS
    if (cfg->sign_requests && has_body) q_memcpy(e->body_sha256, body_sha256, 32);
#endif
    q_memcpy(e->request_id, request_id, UUID_TEXT_LEN);
    e->method = method;
    e->own_headers = (uint8_t)own;
    e->had_body = has_body;
    e->retry_ok = method == HM_GET || method == HM_PUT || method == HM_DELETE || cfg->retry_non_idempotent || idempotent_override;
    e->deadline_ms = now_ms + timeout;
    const uint8_t *seed = random + Q_ENTROPY_REQUEST_ID_BYTES;   /* after the id's bytes */
    e->seed = (uint32_t)seed[0] | (uint32_t)seed[1] << 8 | (uint32_t)seed[2] << 16 | (uint32_t)seed[3] << 24;

    /* deadlines are integral milliseconds */
    uint64_t deadline = e->deadline_ms < 0 ? 0 : (uint64_t)e->deadline_ms;
    if (!wrc) wrc = jw_fmt(out, "],\"id\":%U,\"timeout\":%u,\"deadline\":%U,\"requestId\":\"%r\",\"body\":%u}",
                           id, timeout, deadline, e->request_id, UUID_TEXT_LEN, has_body ? env.len : 0);
    *plan_len = out->len;
    if (has_body && !wrc) wrc = q_buf_put(out, env.ptr, env.len);
    if (wrc) { rest_entry_end(c, e); return oom(err); }
    return Q_OK;
}

/* Rejects the request (no retry). Out of memory: the request stays, the same call can come again. */
static int reject(q_client *c, rest_entry *en, const q_error *fail, const rest_details *x, q_buf *out, q_error *err) {
    uint8_t rec[Q_ERROR_RECORD_BYTES];
    /* the error as the record q_error_ptr gives (NUL-separated fields), in a JSON string: the
     * glue reads both with one function, and the module needs no JSON form of the record */
    int n = q_error_record(fail, rec, sizeof rec);
    /* details stay in the body the host holds: their range, not a copy (memory, issue 9) */
    if (n < 0 || jw_fmt(out, "{\"action\":\"reject\",\"error\":%j,\"requestId\":\"%r\"", rec, (uint32_t)n, en->request_id, UUID_TEXT_LEN) ||
        (x && x->details_len ? jw_fmt(out, ",\"detailsAt\":[%u,%u]}", x->details_off, x->details_len) : jw_fmt(out, ",\"details\":null}")))
        return oom(err);
    rest_entry_end(c, en);
    return Q_OK;
}

/* Rejects at once with a failure found by the client (source: where it came from). */
static int reject_now(q_client *c, rest_entry *en, int status, q_source source, const char *detail, q_buf *out, q_error *err) {
    q_error fail;
    q_fail(&fail, status, Q_NO_OFFSET, NULL, detail);
    fail.source = (uint8_t)source;
    return reject(c, en, &fail, NULL, out, err);
}

/* Deadlines are checked on every event the core is fed, not only by the host's timers
 * (browsers throttle those in background tabs): an outcome that arrives late is a TIMEOUT. */
static int reject_late(q_client *c, rest_entry *en, q_buf *out, q_error *err) {
    return reject_now(c, en, Q_ERR(TIMEOUT), QS_NETWORK, QD(THE_REPLY_CAME_AFTER_THE_REQUEST), out, err);
}

/* Decides retry or reject for a failed attempt (event ev) described by *fail. */
static int decide(q_client *c, rest_entry *en, rest_event ev, q_error *fail, int64_t retry_after_ms, double now_ms,
                  const rest_details *x, q_buf *out, q_error *err) {
    const q_config *cfg = &c->cfg;
    retry_params rp = { cfg->retry_max_attempts, cfg->retry_base_ms, cfg->retry_max_ms, cfg->retry_jitter_pct };
    uint32_t seed = en->seed;   /* out of memory: nothing changes, the same call can come again */
    if (fail->retryable && en->retry_ok && en->attempt < rp.max_attempts) {
        uint32_t delay = retry_delay_ms((q_retry_policy)fail->retry_policy, en->attempt + 1u, &rp, retry_after_ms, &en->seed);
        if (now_ms + delay < en->deadline_ms) {
            if (jw_fmt(out, "{\"action\":\"retry\",\"delay\":%u,\"attempt\":%u}", delay, en->attempt + 1u)) { en->seed = seed; return oom(err); }
            rest_entry_continue(en, ev);
            return Q_OK;
        }
    }
    en->seed = seed;   /* a rejected request is freed; one that stays (out of memory) is unchanged */
    return reject(c, en, fail, x, out, err);
}

int rest_response(q_client *c, rest_id id, int32_t status, const uint8_t *body, uint32_t body_len,
                  const uint8_t *content_type, uint32_t ct_len, const uint8_t *retry_after, uint32_t ra_len,
                  double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = rest_entry_for(c, id, RE_RESPONSE, err);
    if (!en) return err->status;
    if (status < 100 || status > 599) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "status", QD(NOT_AN_HTTP_STATUS));
    if (now_ms >= en->deadline_ms) return reject_late(c, en, out, err);

    env_decoded d;
    q_error derr; q_error_clear(&derr);
    int drc = env_decode(body, body_len, &c->cfg.limits, &d, &derr);
    if (drc == Q_ERR(OUT_OF_MEMORY)) { *err = derr; return drc; }   /* not the server's fault: retry the call */
    if (drc == Q_OK && status >= 200 && status <= 299 && !d.error_len) {
        int rc = jw_fmt(out, "{\"action\":\"resolve\",\"record\":[");
        int32_t words[Q_DECODE_RECORD_WORDS];
        decode_record(&d, words);
        for (int k = 0; k < Q_DECODE_RECORD_WORDS && !rc; k++) rc = jw_fmt(out, k ? ",%u" : "%u", (uint32_t)words[k]);
        if (!rc) rc = jw_fmt(out, "]}");
        if (rc) return oom(err);
        rest_entry_end(c, en);
        return Q_OK;
    }

    q_error fail;
    rest_details x;
    int rc = rest_classify(status, body, body_len, content_type, ct_len, drc, &d, &derr, &fail, &x, err);
    if (rc) return rc;
    int64_t ra = (status == 429 || status == 503) ? retry_after_parse(retry_after, ra_len) : -1;
    return decide(c, en, RE_RESPONSE, &fail, ra, now_ms, &x, out, err);
}

int rest_failure(q_client *c, rest_id id, rest_failure_kind kind, double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = rest_entry_for(c, id, kind == RF_ABORTED ? RE_ABORT : RE_FAILURE, err);
    if (!en) return err->status;
    if (kind == RF_ABORTED) return reject_now(c, en, Q_ERR(ABORTED), QS_LOCAL, NULL, out, err);
    /* the deadline covers the whole call: nothing left to retry with */
    if (kind == RF_TIMEOUT) return reject_now(c, en, Q_ERR(TIMEOUT), QS_NETWORK, QD(THE_REQUEST_DEADLINE_PASSED), out, err);
    if (kind == RF_NETWORK && now_ms >= en->deadline_ms) return reject_late(c, en, out, err);
    if (kind != RF_NETWORK) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "failure", QD(UNKNOWN_FAILURE_KIND));
    q_error fail;
    q_fail(&fail, Q_ERR(NETWORK), Q_NO_OFFSET, NULL, QD(CONNECTION_REFUSED_OR_RESET_DNS_TLS_OR));
    fail.source = QS_NETWORK;
    return decide(c, en, RE_FAILURE, &fail, -1, now_ms, NULL, out, err);
}

int rest_failure_code(q_client *c, rest_id id, const uint8_t *code, uint32_t code_len, double now_ms, q_buf *out, q_error *err) {
    const char *tls = host_tls_failure(code, code_len);
    if (!tls) return rest_failure(c, id, RF_NETWORK, now_ms, out, err);
    rest_entry *en = rest_entry_for(c, id, RE_FAILURE, err);
    if (!en) return err->status;
    return reject_now(c, en, Q_ERR(TLS_HANDSHAKE), QS_NETWORK, tls, out, err);
}

int rest_attempt(q_client *c, rest_id id, double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = rest_entry_for(c, id, RE_TIMER, err);
    if (!en) return err->status;
    if (now_ms >= en->deadline_ms)
        return reject_now(c, en, Q_ERR(TIMEOUT), QS_NETWORK, QD(THE_REQUEST_DEADLINE_PASSED_WHILE), out, err);
    if (jw_fmt(out, "{\"action\":\"send\",\"attempt\":%u}", en->attempt + 1u)) return oom(err);   /* still waiting: the timer call can come again */
    rest_entry_continue(en, RE_TIMER);
    en->attempt++;
    return Q_OK;
}

int rest_redirect(q_client *c, rest_id id, int32_t status, const uint8_t *url, uint32_t url_len, const uint8_t *loc,
                  uint32_t loc_len, double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = rest_entry_for(c, id, RE_REDIRECT, err);
    if (!en) return err->status;
    if (status != 0 && (status < 300 || status > 399)) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "status", QD(NOT_A_3XX_STATUS_OR_0));
    if (now_ms >= en->deadline_ms) return reject_late(c, en, out, err);
    redirect_hop hop;
    q_error fail;
    int rc = redirect_decide(&c->cfg, en->method, en->hops, status, url, url_len, loc, loc_len, &hop, &fail, err);
    if (rc) return rc;
    if (fail.status) return reject(c, en, &fail, NULL, out, err);
    /* the hop is an attempt of its own; the body and the credentials, once dropped, stay dropped */
    bool drop_body = en->body_dropped || hop.drop_body, stripped = en->stripped || hop.cross_origin;
    /* the plan's headers the hop keeps, as a slice [from, to) (to < 0: counted from the end, like
     * JavaScript's Array.slice; 0: to the end) */
    int from = en->had_body && drop_body ? 1 : 0, to = stripped ? (int)en->own_headers : 0;
    /* URL characters need no JSON escaping (url_resolve validated them) */
    if (jw_fmt(out, "{\"action\":\"redirect\",\"url\":\"%r\",\"method\":\"%s\",\"body\":%s,\"attempt\":%u,\"add\":[",
               hop.url.ptr, hop.url.len, config_method_name(hop.method), drop_body ? "false" : "true", en->attempt + 1u))
        return oom(err);
#ifdef Q_TLS
    /* A signature covers the method, the URL and the body, all of which a hop may change: a hop to
     * the same origin is signed again (the old signature is dropped, a new one added); a hop to
     * another origin carries none (stripped with the credentials). */
    if (c->cfg.sign_requests && !stripped) {
        q_instance *I = instance();
        to = en->had_body ? -3 : -2;   /* the plan's last headers: [Content-Digest,] Signature-Input, Signature */
        if (I->entropy_cap < Q_ENTROPY_BYTES)
            return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "sign", QD(NEEDS_32_ENTROPY_BYTES));
        q_error sf;
        q_error_clear(&sf);
        rc = tls_sign_message(c, config_method_name(hop.method), hop.url.ptr, hop.url.len, drop_body ? NULL : en->body_sha256,
                              en->request_id, UUID_TEXT_LEN, now_ms, I->entropy, I->entropy_cap, out, true, &sf);
        q_wipe(I->entropy, I->entropy_cap);   /* never reuse a seed */
        if (rc == Q_ERR(OUT_OF_MEMORY)) { *err = sf; return rc; }
        if (rc) { out->len = 0; return reject(c, en, &sf, NULL, out, err); }   /* e.g. the key was wiped meanwhile */
    }
#endif
    if (jw_fmt(out, "],\"headers\":[%u,%s%u]}", (uint32_t)from, to < 0 ? "-" : "", (uint32_t)(to < 0 ? -to : to)))
        return oom(err);
    rest_entry_continue(en, RE_REDIRECT);
    en->method = hop.method;
    en->body_dropped = drop_body;
    en->stripped = stripped;
    en->hops++;
    en->attempt++;
    return Q_OK;
}
