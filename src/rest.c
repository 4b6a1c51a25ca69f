/* REST request lifecycle. One entry per call, from prepare until it resolves or rejects
 * (exactly once). Rules:
 *   - The body carries the full envelope (POST/PUT/PATCH); GET/DELETE carry the payload in
 *     ?envelope_data= and no body. Meta always travels in headers too: the server reads
 *     meta ONLY from headers (wire-format.md §4).
 *   - Retries only for retryable failures, only while attempts and the deadline allow, and
 *     for POST/PATCH only when the config or the call marks them safe.
 *   - The deadline is absolute (now + timeout at prepare) and covers retries and backoff.
 *
 *   state       event                       next        output
 *   (none)      prepare                     IN_FLIGHT   plan + body
 *   IN_FLIGHT   response 2xx envelope       (freed)     resolve
 *   IN_FLIGHT   response error / failure    BACKOFF     retry {delay}   if retry allowed
 *   IN_FLIGHT   response error / failure    (freed)     reject          otherwise
 *   BACKOFF     attempt (timer fired)       IN_FLIGHT   send            before the deadline
 *   BACKOFF     attempt past the deadline   (freed)     reject TIMEOUT
 *   any         failure ABORTED             (freed)     reject ABORTED
 *   other combinations                      unchanged   BAD_STATE error */
#include "rest.h"
#include "envelope.h"
#include "json.h"
#include "base64.h"
#include "url.h"
#include "uuid.h"
#include "retry.h"
#include "token.h"
#include "tokens.h"
#include "num.h"
#include "qollective.h"

typedef enum { RS_FREE = 0, RS_IN_FLIGHT, RS_BACKOFF } rest_state;

typedef struct {
    uint8_t state, method, attempt, retry_ok;   /* retry_ok: method may be repeated */
    uint32_t generation;
    uint32_t seed;
    double deadline_ms;
    uint8_t request_id[UUID_TEXT_LEN];
} rest_entry;

typedef struct {
    rest_entry *e;
    uint32_t cap, live, next_generation;
} rest_table;

#define SLOT_BITS 20u
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK ((1u << (31 - SLOT_BITS)) - 1)

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, "request"); }

/* ---- request table ------------------------------------------------------------------ */

static rest_entry *entry_new(q_client *c, uint32_t *id, q_error *err) {
    rest_table *t = c->rest;
    if (!t && !(t = c->rest = q_calloc(1, sizeof(rest_table)))) { oom(err); return NULL; }
    if (t->live >= c->cfg.max_in_flight) {
        q_fail(err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "limits.max_in_flight", "too many requests in flight");
        return NULL;
    }
    uint32_t slot = 0;
    while (slot < t->cap && t->e[slot].state != RS_FREE) slot++;
    if (slot == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2 : 16;
        if (ncap > SLOT_MASK) ncap = SLOT_MASK;
        rest_entry *ne = q_realloc(t->e, ncap * (uint32_t)sizeof(rest_entry));
        if (!ne || ncap <= t->cap) { oom(err); return NULL; }
        q_memset(ne + t->cap, 0, (ncap - t->cap) * sizeof(rest_entry));
        t->e = ne; t->cap = ncap;
    }
    rest_entry *e = &t->e[slot];
    q_memset(e, 0, sizeof *e);
    /* generations stay within their bits (ids fit in 31 bits); 0 is never used */
    e->generation = (++t->next_generation) & GEN_MASK;
    if (!e->generation) e->generation = (++t->next_generation) & GEN_MASK;
    e->state = RS_IN_FLIGHT;
    e->attempt = 1;
    t->live++;
    *id = slot | e->generation << SLOT_BITS;
    return e;
}

static rest_entry *entry_get(q_client *c, uint32_t id, q_error *err) {
    rest_table *t = c->rest;
    uint32_t slot = id & SLOT_MASK;
    if (!t || slot >= t->cap || t->e[slot].state == RS_FREE || t->e[slot].generation != id >> SLOT_BITS) {
        q_fail(err, Q_ERR(BAD_HANDLE), Q_NO_OFFSET, "request", "unknown or finished request");
        return NULL;
    }
    return &t->e[slot];
}

static void entry_free(q_client *c, rest_entry *e) {
    e->state = RS_FREE;
    ((rest_table *)c->rest)->live--;
}

uint32_t rest_in_flight(const q_client *c) { return c->rest ? ((rest_table *)c->rest)->live : 0; }

void rest_release(q_client *c) {
    rest_table *t = c->rest;
    if (!t) return;
    q_free(t->e);
    q_free(t);
    c->rest = NULL;
}

/* ---- headers ----------------------------------------------------------------------------- */

typedef struct {
    q_buf *out;
    int rc;
    uint32_t count, bytes;
    uint32_t extra;               /* headers from config and call, limited by Q_MAX_HEADER_COUNT */
} header_list;

static bool header_value_ok(const uint8_t *v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] > 0x7E) return false;
    return true;
}

static bool header_name_ok(const uint8_t *v, uint32_t n) {
    if (!n) return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = v[i];
        bool tchar = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || url_char_in(c, "!#$%&'*+-.^_`|~");
        if (!tchar) return false;
    }
    return true;
}

static void header_add(header_list *h, const char *name, const uint8_t *v, uint32_t n) {
    if (!h->rc) h->rc = jw_fmt(h->out, "%s[\"%s\",%j]", h->count ? "," : "", name, v, n);
    h->count++;
    h->bytes += (uint32_t)q_strlen(name) + n + 4;
}

/* Copies JSON text with every non-ASCII character escaped as \uXXXX, so it can travel in a
 * header (X-On-Behalf-Of) and still parse to the same value. */
static int json_ascii_copy(q_buf *o, const uint8_t *s, uint32_t n) {
    static const char HEX[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; ) {
        uint8_t c = s[i];
        if (c < 0x7F) { if (q_buf_putc(o, c)) return Q_ERR(OUT_OF_MEMORY); i++; continue; }
        /* DEL (0x7F, valid raw in JSON but not in a header value) and non-ASCII become \uXXXX */
        uint32_t cp, len = c == 0x7F ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : len == 2 ? 0x1F : 0x7F);
        for (uint32_t k = 1; k < len && i + k < n; k++) cp = cp << 6 | (s[i + k] & 0x3F);
        i += len;
        uint32_t units[2], nu = 0;
        if (cp >= 0x10000) { cp -= 0x10000; units[nu++] = 0xD800 | (cp >> 10); units[nu++] = 0xDC00 | (cp & 0x3FF); }
        else units[nu++] = cp;
        for (uint32_t u = 0; u < nu; u++) {
            uint8_t e[6] = { '\\', 'u', (uint8_t)HEX[units[u] >> 12], (uint8_t)HEX[(units[u] >> 8) & 15], (uint8_t)HEX[(units[u] >> 4) & 15], (uint8_t)HEX[units[u] & 15] };
            if (q_buf_put(o, e, 6)) return Q_ERR(OUT_OF_MEMORY);
        }
    }
    return Q_OK;
}

/* How a meta field travels in its header. */
enum { HV_RAW, HV_BASE64, HV_TIMESTAMP, HV_TEXT, HV_JSON };

/* Headers the client writes itself, in the order they are sent: Content-Type (bodies only),
 * one per meta field (from the canonical meta), Authorization (when a token is configured,
 * last). An extra header of the same name would travel as a second value ("<uuid>, other")
 * and contradict the body. */
static const char *const OWN_HEADERS[] = {
    "Content-Type", "X-Qollective-Request-Id", "X-Qollective-Tenant", "X-Qollective-Version",
    "X-Qollective-Timestamp", "X-Qollective-User-Id", "X-Qollective-Session-Id",
    "X-Qollective-Trace-Id", "X-Qollective-Span-Id", "X-On-Behalf-Of", "Authorization",
};
#define OWN_META_FIRST 1   /* X-Qollective-Request-Id */
#define OWN_TEXT_FIRST 5   /* X-Qollective-User-Id */
#define OWN_META_END 10    /* Authorization */
/* For OWN_HEADERS[OWN_META_FIRST..OWN_META_END): the meta field and how it travels. */
static const uint8_t META_HEADER_SLOT[] = {
    MS_REQUEST_ID, MS_TENANT, MS_VERSION, MS_TIMESTAMP, MS_USER_ID, MS_SESSION_ID, MS_TRACE_ID, MS_SPAN_ID, MS_ON_BEHALF_OF,
};
static const uint8_t META_HEADER_KIND[] = {
    HV_RAW /* canonical: 36 bytes */, HV_BASE64, HV_BASE64, HV_TIMESTAMP, HV_TEXT, HV_TEXT, HV_TEXT, HV_TEXT, HV_JSON,
};
/* The meta field named when a HV_TEXT value cannot travel (from OWN_HEADERS[OWN_TEXT_FIRST]). */
static const char *const META_HEADER_PATH[] = {
    "meta.security.user_id", "meta.security.session_id", "meta.tracing.trace_id", "meta.tracing.span_id",
};

/* Adds the header of one meta field, when the meta has it. */
static int header_from_meta(header_list *h, uint32_t k, schema_walk *w, q_error *err) {
    uint8_t kind = META_HEADER_KIND[k - OWN_META_FIRST];
    int tok = w->slots[META_HEADER_SLOT[k - OWN_META_FIRST]];
    if (tok < 0) return Q_OK;
    const uint8_t *p = schema_tok_ptr(w, tok);
    uint32_t n = schema_tok_len(w, tok);
    uint8_t *v = (uint8_t *)p, txt[RFC3339_MAX_LEN];
    if (kind == HV_TIMESTAMP) {
        /* same instant as the body, in the +00:00 form native clients send */
        q_time tm;
        v = txt;
        n = rfc3339_parse(p, n, &tm) ? 0 : rfc3339_format(tm, RFC3339_PLUS00, txt);
        if (!n) return Q_OK;
    } else if (kind == HV_JSON) {
        q_buf b = { 0 };
        if (json_ascii_copy(&b, p, n)) return oom(err);
        v = b.ptr; n = b.len;
    } else if (kind != HV_RAW) {
        if (!(v = scratch_alloc(n + 1))) return oom(err);
        n = json_unescape(p, n, v);
        if (kind == HV_BASE64) {
            uint8_t *b64 = scratch_alloc(b64_encoded_len(n) + 1);
            if (!b64) return oom(err);
            n = b64_encoded_len(n) ? b64_encode(v, n, b64) : 0;
            v = b64;
        } else {
            if (!header_value_ok(v, n))
                return q_fail(err, Q_ERR(INVALID_VALUE), schema_tok_offset(w, tok), META_HEADER_PATH[k - OWN_TEXT_FIRST], "cannot travel in an HTTP header: control or non-ASCII characters");
            /* HTTP strips leading/trailing whitespace: the server would read another value than the body's */
            if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
                return q_fail(err, Q_ERR(INVALID_VALUE), schema_tok_offset(w, tok), META_HEADER_PATH[k - OWN_TEXT_FIRST], "cannot travel in an HTTP header: leading or trailing whitespace");
        }
    }
    header_add(h, OWN_HEADERS[k], v, n);
    return Q_OK;
}

/* ---- options ------------------------------------------------------------------------------ */

enum { O_METHOD, O_ROUTE, O_TIMEOUT, O_HEADERS, O_IDEMPOTENT, O_COUNT_ };
static const schema_field OPTION_F[] = {
    { "method", ST_ENUM, SF_NONNULL, O_METHOD, 0, Q_HTTP_METHODS },
    { "route", ST_STRING, SF_NONNULL, O_ROUTE, 0, NULL },
    { "timeout_ms", ST_U32, SF_NONNULL, O_TIMEOUT, 0, NULL },
    { "headers", ST_MAP, SF_NONNULL, O_HEADERS, ST_STRING, NULL },
    { "idempotent", ST_BOOL, SF_NONNULL, O_IDEMPOTENT, 0, NULL },
};
static const schema OPTIONS = { OPTION_F, (uint8_t)Q_ARRAY_LEN(OPTION_F), 1 };

static bool is_blank(const uint8_t *p, uint32_t n) { return json_skip_ws(p, n, 0) >= n; }

/* Names fetch refuses or silently drops (Fetch standard, forbidden request headers), and the
 * meta header the server would read instead of ours: refused before anything is sent. */
static const char FORBIDDEN_HEADERS[] =   /* NUL-separated (no pointer table), "" ends */
    "Accept-Charset\0Accept-Encoding\0Access-Control-Request-Headers\0Access-Control-Request-Method\0"
    "Connection\0Content-Length\0Cookie\0Cookie2\0Date\0DNT\0Expect\0Host\0Keep-Alive\0"
    "Origin\0Referer\0Set-Cookie\0TE\0Trailer\0Transfer-Encoding\0Upgrade\0Via\0"
    "X-Qollective-Meta\0";

/* true when the object at obj has a key naming the header (raw key text; a key with escapes
 * is no header name and fails validation anyway). Header names compare ASCII case-insensitively. */
static bool map_has(const q_tokens *t, int obj, const uint8_t *name, uint32_t n) {
    if (!t || obj < 0) return false;
    for (int k = 0, j = obj + 1; k < t->tok[obj].size; k++, j += 2)
        if (url_case_eq(t->js + t->tok[j].start, (uint32_t)(t->tok[j].end - t->tok[j].start), name, n)) return true;
    return false;
}

/* Adds extra headers from a compact or raw JSON object of strings (config or call). Names in
 * `over` (the call's headers, when adding the configured defaults) are left to that map.
 * Authorization is the client's own only when a token is configured. */
static int headers_from_map(header_list *h, q_tokens *t, int obj, const q_tokens *over, int over_obj, bool own_auth,
                            const char *path, q_error *err) {
    int n = t->tok[obj].size, j = obj + 1;
    for (int k = 0; k < n; k++, j += 2) {
        const uint8_t *kp = t->js + t->tok[j].start; uint32_t kl = (uint32_t)(t->tok[j].end - t->tok[j].start);
        /* every refusal names the key (or the value) it is about: one q_fail below */
        const char *why = NULL, *refused = "header not allowed (forbidden by fetch or reserved)";
        int status = Q_ERR(INVALID_VALUE), at = j;
        for (uint32_t r = 0; r < Q_ARRAY_LEN(OWN_HEADERS) - !own_auth; r++)   /* Authorization is last */
            if (url_case_eq(kp, kl, (const uint8_t *)OWN_HEADERS[r], (uint32_t)q_strlen(OWN_HEADERS[r])))
                why = "header is written by the client (from meta, the body or the token)";
        for (const char *f = FORBIDDEN_HEADERS; *f; f += q_strlen(f) + 1)   /* disjoint from OWN_HEADERS */
            if (url_case_eq(kp, kl, (const uint8_t *)f, (uint32_t)q_strlen(f))) why = refused;
        if ((kl > 6 && url_case_eq(kp, 6, (const uint8_t *)"proxy-", 6)) || (kl > 4 && url_case_eq(kp, 4, (const uint8_t *)"sec-", 4)))
            why = refused;
        if (!why) {
            if (map_has(over, over_obj, kp, kl)) continue;
            const uint8_t *vp = t->js + t->tok[j + 1].start; uint32_t vl = (uint32_t)(t->tok[j + 1].end - t->tok[j + 1].start);
            uint8_t *name = scratch_alloc(kl + 1), *val = scratch_alloc(vl + 1);
            if (!name || !val) return oom(err);
            kl = json_unescape(kp, kl, name); name[kl] = 0;
            vl = json_unescape(vp, vl, val);
            if (!header_name_ok(name, kl)) why = "not a valid header name";
            else if (!header_value_ok(val, vl)) { why = "header value has control or non-ASCII characters"; at = j + 1; }
            else if (++h->extra > Q_MAX_HEADER_COUNT) { status = Q_ERR(LIMIT_REACHED); why = "more than 64 extra headers"; }
            else { header_add(h, (const char *)name, val, vl); continue; }
        }
        return q_fail(err, status, (int64_t)t->base + t->tok[at].start - 1, path, why);
    }
    return Q_OK;
}

static int parse_tokens(q_tokens *t, const uint8_t *js, uint32_t len, uint32_t base, const char *where, q_error *err) {
    int rc = json_validate(js, len, Q_DEFAULT_MAX_DEPTH, err);
    if (rc) return q_error_in(err, where);
    uint32_t s = json_skip_ws(js, len, 0), e = len;
    while (e > s && (js[e - 1] == ' ' || js[e - 1] == '\n' || js[e - 1] == '\r' || js[e - 1] == '\t')) e--;
    return tokens_parse(t, js + s, e - s, base + s, err);
}

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
        return q_fail(err, Q_ERR(CONFIG_INVALID), Q_NO_OFFSET, "rest.base_url", "not configured");

    /* options */
    uint8_t method = cfg->method;
    const uint8_t *route = cfg->route.len ? cfg->route.ptr : (const uint8_t *)Q_DEFAULT_ROUTE;
    uint32_t route_len = cfg->route.len ? cfg->route.len : (uint32_t)q_strlen(Q_DEFAULT_ROUTE);
    uint32_t timeout = cfg->request_timeout_ms;
    bool idempotent_override = false;
    schema_walk ow;
    q_tokens ot = { 0 };
    bool have_opts = !is_blank(opts, opts_len);
    if (have_opts) {
        if ((rc = parse_tokens(&ot, opts, opts_len, 0, "options", err))) return rc;
        schema_walk_init(&ow, &ot, err, NULL, "options");
        if ((rc = schema_walk_object(&ow, &OPTIONS))) return rc;
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
                return q_fail(err, rc, schema_tok_offset(&ow, s), "options.timeout_ms", "1..86400000");
            timeout = (uint32_t)v;
        }
        if ((s = ow.slots[O_IDEMPOTENT]) >= 0) idempotent_override = *schema_tok_ptr(&ow, s) == 't';
    }

    /* the envelope, with a fresh request id and timestamp */
    env_autofill af = { .fill = true, .now_ms = now_ms, .random = random, .uuid_v4 = cfg->uuid_version == 4,
                        .tenant = cfg->tenant.len ? cfg->tenant.ptr : NULL, .tenant_len = cfg->tenant.len };
    q_buf env = { 0 };
    if ((rc = env_encode(meta, meta_len, payload, payload_len, NULL, 0, &cfg->limits, &af, &env, err))) return rc;
    /* env = {"meta":<canonical meta>,"payload":<compact payload>} */
    uint32_t meta_end, payload_end;
    if (json_scan_value(env.ptr, env.len, 8, 1, 0xFFFFFFFFu, &meta_end, err)) return q_error_in(err, "internal");
    uint32_t payload_off = meta_end + 11;
    if (json_scan_value(env.ptr, env.len, payload_off, 1, 0xFFFFFFFFu, &payload_end, err)) return q_error_in(err, "internal");
    schema_walk mw;
    if ((rc = env_meta_walk(env.ptr + 8, meta_end - 8, 8, &cfg->limits, NULL, NULL, &mw, err))) return rc;

    rest_entry tmp = { 0 };
    q_memcpy(tmp.request_id, schema_tok_ptr(&mw, mw.slots[MS_REQUEST_ID]), UUID_TEXT_LEN);

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
        return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "url", "payload too large for a GET/DELETE query");
    /* URL characters need no JSON escaping */
    int wrc = jw_fmt(out, "{\"method\":\"%s\",\"url\":\"%r\",\"headers\":[", Q_HTTP_METHODS[method], url.ptr, url.len);

    header_list h = { out, 0, 0, 0, 0 };
    if (has_body) header_add(&h, OWN_HEADERS[0], (const uint8_t *)"application/json", 16);
    for (uint32_t k = OWN_META_FIRST; k < OWN_META_END; k++)
        if ((rc = header_from_meta(&h, k, &mw, err))) return rc;
    if (cfg->auth_token_name.len) {
        uint32_t tl;
        const uint8_t *tok = token_get(c, cfg->auth_token_name.ptr, cfg->auth_token_name.len, &tl);
        if (!tok) return q_fail(err, Q_ERR(NO_TOKEN), Q_NO_OFFSET, "security.auth_token", "the configured token is not set");
        const uint8_t *scheme = cfg->auth_scheme.len ? cfg->auth_scheme.ptr : (const uint8_t *)"Bearer";
        uint32_t sl = cfg->auth_scheme.len ? cfg->auth_scheme.len : 6;
        uint8_t *v = scratch_alloc(sl + 1 + tl);
        if (!v) return oom(err);
        q_memcpy(v, scheme, sl); v[sl] = ' '; q_memcpy(v + sl + 1, tok, tl);
        header_add(&h, OWN_HEADERS[OWN_META_END], v, sl + 1 + tl);
        q_wipe(v, sl + 1 + tl);   /* the only copy left is in the plan the host consumes */
    }
    if (cfg->headers_json.len) {
        q_tokens ht;
        if ((rc = tokens_parse(&ht, cfg->headers_json.ptr, cfg->headers_json.len, 0, err))) return rc;
        int call = have_opts ? ow.slots[O_HEADERS] : -1;
        if ((rc = headers_from_map(&h, &ht, 0, call >= 0 ? &ot : NULL, call, cfg->auth_token_name.len != 0, "rest.headers", err))) return rc;
    }
    if (have_opts && ow.slots[O_HEADERS] >= 0 &&
        (rc = headers_from_map(&h, &ot, ow.slots[O_HEADERS], NULL, -1, cfg->auth_token_name.len != 0, "options.headers", err))) return rc;
    if (h.rc) return oom(err);
    if (h.bytes + url.len > cfg->max_header_bytes)
        return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "headers", "request headers exceed limits.max_header_bytes");

    uint32_t id;
    rest_entry *e = entry_new(c, &id, err);
    if (!e) return err->status;
    q_memcpy(e->request_id, tmp.request_id, UUID_TEXT_LEN);
    e->method = method;
    e->retry_ok = method == HM_GET || method == HM_PUT || method == HM_DELETE || cfg->retry_non_idempotent || idempotent_override;
    e->deadline_ms = now_ms + timeout;
    e->seed = (uint32_t)random[16] | (uint32_t)random[17] << 8 | (uint32_t)random[18] << 16 | (uint32_t)random[19] << 24;

    /* deadlines are integral milliseconds */
    uint64_t deadline = e->deadline_ms < 0 ? 0 : (uint64_t)e->deadline_ms;
    if (!wrc) wrc = jw_fmt(out, "],\"id\":%u,\"timeout\":%u,\"deadline\":%U,\"requestId\":\"%r\",\"body\":%u}",
                           id, timeout, deadline, e->request_id, UUID_TEXT_LEN, has_body ? env.len : 0);
    *plan_len = out->len;
    if (has_body && !wrc) wrc = q_buf_put(out, env.ptr, env.len);
    if (wrc) { entry_free(c, e); return oom(err); }
    return Q_OK;
}

/* ---- classification ----------------------------------------------------------------------- */

q_kind rest_status_kind(int32_t status, bool *retryable) {
    *retryable = false;
    switch (status) {
    case 408: *retryable = true; return QK_TIMEOUT;
    case 429: *retryable = true; return QK_REMOTE;
    case 400: case 405: case 413: case 414: case 415: case 422: case 431: return QK_VALIDATION;
    case 401: case 403: return QK_SECURITY;
    case 501: case 505: return QK_REMOTE;
    default:
        if (status >= 500 && status <= 599) { *retryable = true; return QK_REMOTE; }
        return QK_REMOTE;
    }
}

/* Applies HTTP-derived kind/retryability to the record. */
static void classify(q_error *e, int32_t status) {
    bool retryable;
    q_kind k = rest_status_kind(status, &retryable);
    e->kind = (uint8_t)k;
    e->http_status = status;
    e->retryable = retryable;
    e->retry_policy = retryable ? (uint8_t)(k == QK_TIMEOUT ? QR_EXPONENTIAL : QR_LINEAR) : QR_NONE;
}

/* Printable preview of a non-envelope body for the message: at most Q_ERROR_PREVIEW_BYTES. */
static void append_preview(q_error *e, const uint8_t *b, uint32_t n) {
    char tmp[52]; uint32_t k = 0;
    for (uint32_t i = 0; i < n && k < Q_ERROR_PREVIEW_BYTES; i++) {
        uint8_t c = b[i];
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (c < 0x20 || c > 0x7E) c = '?';
        if (c == ' ' && k && tmp[k - 1] == ' ') continue;
        tmp[k++] = (char)c;
    }
    tmp[k] = 0;
    q_msg_append(e, k ? ": " : " (empty body)");
    q_msg_append(e, tmp);
    if (n > Q_ERROR_PREVIEW_BYTES) q_msg_append(e, "...");
}

static void append_type(q_error *e, const uint8_t *ct, uint32_t n) {
    q_msg_append(e, " (");
    if (!n) q_msg_append(e, "no content type");
    for (uint32_t i = 0; i < n && i < 40; i++) {
        char ch[2] = { (char)((ct[i] >= 0x20 && ct[i] <= 0x7E) ? ct[i] : '?'), 0 };
        if (ct[i] == ';') break;
        q_msg_append(e, ch);
    }
    q_msg_append(e, ")");
}

/* Starts a message "HTTP <status><what> (<content type>)". */
static void http_message(q_error *e, int32_t status, const char *what, const uint8_t *ct, uint32_t ct_len) {
    e->message[0] = 0;
    q_msg_append(e, "HTTP ");
    q_text_append_u64(e->message, sizeof e->message, (uint64_t)status);
    q_msg_append(e, what);
    append_type(e, ct, ct_len);
}

typedef struct { const uint8_t *details; uint32_t details_len; } reject_extra;

/* Rejects the request (no retry). Out of memory: the request stays, the same call can come again. */
static int reject(q_client *c, rest_entry *en, const q_error *fail, const reject_extra *x, q_buf *out, q_error *err) {
    uint8_t rec[Q_ERROR_JSON_BYTES];
    int n = q_error_to_json(fail, rec, sizeof rec);
    bool has = x && x->details_len;
    if (n < 0 || jw_fmt(out, "{\"action\":\"reject\",\"error\":%r,\"requestId\":\"%r\",\"details\":%r}", rec, (uint32_t)n,
                        en->request_id, UUID_TEXT_LEN, has ? x->details : (const uint8_t *)"null", has ? x->details_len : 4u))
        return oom(err);
    entry_free(c, en);
    return Q_OK;
}

/* Rejects at once with a failure of the client's own. */
static int reject_now(q_client *c, rest_entry *en, int status, const char *detail, q_buf *out, q_error *err) {
    q_error fail;
    q_fail(&fail, status, Q_NO_OFFSET, NULL, detail);
    return reject(c, en, &fail, NULL, out, err);
}

/* Decides retry or reject for a failed attempt described by *fail. */
static int decide(q_client *c, rest_entry *en, q_error *fail, int64_t retry_after_ms, double now_ms,
                  const reject_extra *x, q_buf *out, q_error *err) {
    const q_config *cfg = &c->cfg;
    retry_params rp = { cfg->retry_max_attempts, cfg->retry_base_ms, cfg->retry_max_ms, cfg->retry_jitter_pct };
    uint32_t seed = en->seed;   /* out of memory: nothing changes, the same call can come again */
    if (fail->retryable && en->retry_ok && en->attempt < rp.max_attempts) {
        uint32_t delay = retry_delay_ms((q_retry_policy)fail->retry_policy, en->attempt + 1u, &rp, retry_after_ms, &en->seed);
        if (now_ms + delay < en->deadline_ms) {
            if (jw_fmt(out, "{\"action\":\"retry\",\"delay\":%u,\"attempt\":%u}", delay, en->attempt + 1u)) { en->seed = seed; return oom(err); }
            en->state = RS_BACKOFF;
            return Q_OK;
        }
    }
    en->seed = seed;   /* a rejected request is freed; one that stays (out of memory) is unchanged */
    return reject(c, en, fail, x, out, err);
}

int rest_response(q_client *c, uint32_t id, int32_t status, const uint8_t *body, uint32_t body_len,
                  const uint8_t *content_type, uint32_t ct_len, const uint8_t *retry_after, uint32_t ra_len,
                  double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = entry_get(c, id, err);
    if (!en) return err->status;
    if (en->state != RS_IN_FLIGHT) return q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "request", "no attempt in flight");
    if (status < 100 || status > 599) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "status", "not an HTTP status");

    env_decoded d;
    q_error derr; q_error_clear(&derr);
    int drc = env_decode(body, body_len, &c->cfg.limits, &d, &derr);
    if (drc == Q_ERR(OUT_OF_MEMORY)) { *err = derr; return drc; }   /* not the server's fault: retry the call */
    bool ok2xx = status >= 200 && status <= 299;
    if (drc == Q_OK && ok2xx && !d.error_len) {
        int rc = jw_fmt(out, "{\"action\":\"resolve\",\"record\":[");
        int32_t words[Q_DECODE_RECORD_WORDS];
        decode_record(&d, words);
        for (int k = 0; k < Q_DECODE_RECORD_WORDS && !rc; k++) rc = jw_fmt(out, k ? ",%u" : "%u", (uint32_t)words[k]);
        if (!rc) rc = jw_fmt(out, "]}");
        if (rc) return oom(err);
        entry_free(c, en);
        return Q_OK;
    }

    q_error fail;   /* every path sets it with q_fail */
    reject_extra x = { 0 };
    if (drc == Q_OK && d.error_len) {
        /* an error envelope: the server's code and message, its status */
        int32_t st = d.error_status;
        /* REST knows the real status: the §3 fallback is for transports without one */
        if (!d.error_status_given && !ok2xx) st = status;
        q_fail(&fail, Q_ERR(REMOTE_ERROR), Q_NO_OFFSET, NULL, NULL);
        classify(&fail, st);
        uint8_t *code = scratch_alloc(d.error_code_len + 1), *msg = scratch_alloc(d.error_message_len + 1);
        if (!code || !msg) return oom(err);
        uint32_t cl = json_unescape(body + d.error_code_off, d.error_code_len, code);
        uint32_t ml = json_unescape(body + d.error_message_off, d.error_message_len, msg);
        fail.code[0] = 0; fail.message[0] = 0;
        q_text_append_n(fail.code, sizeof fail.code, (const char *)code, cl);
        q_text_append_n(fail.message, sizeof fail.message, (const char *)msg, ml);
        if (!fail.message[0]) q_msg_append(&fail, "server returned an error without a message");
        /* details travel as raw JSON for the host to parse */
        schema_walk w; q_tokens t;
        int trc = tokens_parse(&t, body + d.error_off, d.error_len, d.error_off, &derr);
        if (trc == Q_ERR(OUT_OF_MEMORY)) return oom(err);   /* not silently without details */
        if (trc == Q_OK) {
            schema_walk_init(&w, &t, &derr, NULL, "error");
            if (schema_walk_object(&w, &ENV_ERROR_SCHEMA) == Q_OK && w.slots[ES_DETAILS] >= 0) {
                const jsmntok_t *dt = &t.tok[w.slots[ES_DETAILS]];
                uint32_t s0 = (uint32_t)dt->start - (dt->type == JSMN_STRING ? 1 : 0), e0 = (uint32_t)dt->end + (dt->type == JSMN_STRING ? 1 : 0);
                x.details = body + d.error_off + s0; x.details_len = e0 - s0;
            }
        }
    } else if (ok2xx) {
        /* 2xx but not an envelope: say what arrived */
        q_fail(&fail, Q_ERR(NOT_AN_ENVELOPE), derr.offset, "response", NULL);
        http_message(&fail, status, " response is not a valid envelope", content_type, ct_len);
        q_msg_append(&fail, ": ");
        q_msg_append(&fail, derr.message);
        fail.http_status = status;
    } else {
        /* an HTTP error without an envelope: proxies' HTML, plain-text 404, framework 4xx */
        q_fail(&fail, Q_ERR(HTTP_STATUS), Q_NO_OFFSET, NULL, NULL);
        classify(&fail, status);
        http_message(&fail, status, " without an envelope", content_type, ct_len);
        append_preview(&fail, body, body_len);
    }
    int64_t ra = (status == 429 || status == 503) ? retry_after_parse(retry_after, ra_len) : -1;
    return decide(c, en, &fail, ra, now_ms, &x, out, err);
}

int rest_failure(q_client *c, uint32_t id, rest_failure_kind kind, double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = entry_get(c, id, err);
    if (!en) return err->status;
    if (kind == RF_ABORTED) return reject_now(c, en, Q_ERR(ABORTED), NULL, out, err);
    if (en->state != RS_IN_FLIGHT) return q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "request", "no attempt in flight");
    /* the deadline covers the whole call: nothing left to retry with */
    if (kind == RF_TIMEOUT) return reject_now(c, en, Q_ERR(TIMEOUT), "the request deadline passed", out, err);
    if (kind != RF_NETWORK) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "failure", "unknown failure kind");
    q_error fail;
    q_fail(&fail, Q_ERR(NETWORK), Q_NO_OFFSET, NULL, "connection refused or reset, DNS, TLS or CORS failure");
    return decide(c, en, &fail, -1, now_ms, NULL, out, err);
}

int rest_attempt(q_client *c, uint32_t id, double now_ms, q_buf *out, q_error *err) {
    rest_entry *en = entry_get(c, id, err);
    if (!en) return err->status;
    if (en->state != RS_BACKOFF) return q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "request", "not waiting to retry");
    if (now_ms >= en->deadline_ms)
        return reject_now(c, en, Q_ERR(TIMEOUT), "the request deadline passed while waiting to retry", out, err);
    if (jw_fmt(out, "{\"action\":\"send\",\"attempt\":%u}", en->attempt + 1u)) return oom(err);   /* still waiting: the timer call can come again */
    en->state = RS_IN_FLIGHT;
    en->attempt++;
    return Q_OK;
}
