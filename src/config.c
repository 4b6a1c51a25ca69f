/* Client configuration: schema (strict: unknown keys are errors), range table, defaults.
 * Schema layout:
 *   rest       { base_url, route, method, headers{}, max_redirects }
 *   timeouts   { request_ms, connect_ms }
 *   retry      { max_attempts, base_delay_ms, max_delay_ms, jitter_percent, retry_non_idempotent }
 *   websocket  { url, ping_interval_ms, message_timeout_ms, max_message_bytes, max_connections, max_queue, reconnect }
 *   limits     { max_envelope_bytes, max_meta_bytes, max_depth, max_in_flight, max_header_bytes, max_error_bytes }
 *   meta       { tenant, uuid_version }
 *   security   { auth_token, auth_scheme, allowed_origins[], client_cert_header, sign_requests, signature_key_id,
 *                token_ttl_ms }
 *   log        { level }   (the glue logs; the core validates the level and shows it) */
#include "config.h"
#include "json.h"
#include "num.h"
#include "span.h"
#include "url.h"
#include "origin.h"

const char Q_HTTP_METHOD_LIST[] = "GET\0POST\0PUT\0PATCH\0DELETE\0";   /* q_http_method order, a schema enum */
static const char LOG_LEVEL_LIST[] = "off\0error\0warn\0info\0debug\0";     /* log_level order, a schema enum */

const char *list_nth(const char *list, unsigned i) {
    while (i--) list += q_strlen(list) + 1;
    return list;
}

/* The index in list of string token tok (a schema ST_ENUM of that list validated it: the last
 * entry is the one left when no other matched). */
static uint8_t list_index(const schema_walk *w, int tok, const char *list) {
    uint8_t i = 0;
    for (; list[q_strlen(list) + 1]; list += q_strlen(list) + 1, i++)
        if (json_strings_equal(schema_tok_ptr(w, tok), schema_tok_len(w, tok), (const uint8_t *)list, (uint32_t)q_strlen(list))) break;
    return i;
}

/* Shared by the config and the call options. */
uint8_t config_method(const schema_walk *w, int tok) { return list_index(w, tok, Q_HTTP_METHOD_LIST); }
const char *config_method_name(uint8_t m) { return list_nth(Q_HTTP_METHOD_LIST, m); }

enum {
    C_BASE_URL, C_ROUTE, C_METHOD, C_HEADERS, C_MAX_REDIRECTS,
    C_REQUEST_MS, C_CONNECT_MS,
    C_MAX_ATTEMPTS, C_BASE_DELAY, C_MAX_DELAY, C_JITTER, C_RETRY_NON_IDEMPOTENT,
    C_WS_URL, C_WS_PING, C_WS_MSG_TIMEOUT, C_WS_MAX_MSG, C_WS_MAX_CONN, C_WS_MAX_QUEUE, C_WS_RECONNECT,
    C_MAX_ENVELOPE, C_MAX_META, C_MAX_DEPTH, C_MAX_IN_FLIGHT, C_MAX_HEADER, C_MAX_ERROR,
    C_TENANT, C_UUID_VERSION,
    C_AUTH_TOKEN, C_AUTH_SCHEME, C_ORIGINS, C_CLIENT_CERT_HEADER, C_SIGN_REQUESTS, C_SIGNATURE_KEY_ID, C_TOKEN_TTL,
    C_LOG_LEVEL,
    C_COUNT_
};
_Static_assert(C_COUNT_ <= SCHEMA_MAX_SLOTS, "config slots fit the walker");

/* Every key the config schemas name, once (schema.h SCHEMA_NAMES). */
#define CONFIG_NAMES(X) \
    X(rest) X(timeouts) X(retry) X(websocket) X(limits) X(meta) X(security) X(log) \
    X(base_url) X(route) X(method) X(headers) X(max_redirects) X(request_ms) X(connect_ms) \
    X(max_attempts) X(base_delay_ms) X(max_delay_ms) X(jitter_percent) X(retry_non_idempotent) \
    X(url) X(ping_interval_ms) X(message_timeout_ms) X(max_message_bytes) X(max_connections) X(max_queue) X(reconnect) \
    X(max_envelope_bytes) X(max_meta_bytes) X(max_depth) X(max_in_flight) X(max_header_bytes) X(max_error_bytes) \
    X(tenant) X(uuid_version) \
    X(auth_token) X(auth_scheme) X(allowed_origins) X(client_cert_header) X(sign_requests) X(signature_key_id) X(token_ttl_ms) \
    X(level)
SCHEMA_NAMES(config_names, CONFIG_NAMES);

/* Schema indices: the sections in ROOT's order, then ROOT. Enum lists: */
enum { S_REST, S_TIMEOUTS, S_RETRY, S_WEBSOCKET, S_LIMITS, S_META, S_SECURITY, S_LOG, S_ROOT };
enum { E_METHOD, E_LOG_LEVEL };
static const char *const CONFIG_ENUMS[] = { [E_METHOD] = Q_HTTP_METHOD_LIST, [E_LOG_LEVEL] = LOG_LEVEL_LIST };

#define FIELD(name, type, slot, elem, sub) SCHEMA_FIELD(config_names, name, type, SF_NONNULL, slot, elem, sub)
#define S(name, type, slot) FIELD(name, type, slot, 0, 0)
/* Integer settings are walked as any integer; INTS below checks each one's own range, so
 * the message names the allowed range (also for negative values). */
#define I(name, slot) S(name, ST_I64, slot)
#define O(name, sch) FIELD(name, ST_OBJECT, -1, 0, sch)

static const struct config_fields {
    schema_field rest[5], timeouts[2], retry[5], websocket[7], limits[6], meta[2], security[7], log[1], root[8];
} CONFIG_FIELDS = {
    .rest = {
        S(base_url, ST_STRING, C_BASE_URL), S(route, ST_STRING, C_ROUTE),
        FIELD(method, ST_ENUM, C_METHOD, 0, E_METHOD),
        FIELD(headers, ST_MAP, C_HEADERS, ST_STRING, 0),
        I(max_redirects, C_MAX_REDIRECTS),
    },
    .timeouts = { I(request_ms, C_REQUEST_MS), I(connect_ms, C_CONNECT_MS) },
    .retry = {
        I(max_attempts, C_MAX_ATTEMPTS), I(base_delay_ms, C_BASE_DELAY),
        I(max_delay_ms, C_MAX_DELAY), I(jitter_percent, C_JITTER),
        S(retry_non_idempotent, ST_BOOL, C_RETRY_NON_IDEMPOTENT),
    },
    .websocket = {
        S(url, ST_STRING, C_WS_URL), I(ping_interval_ms, C_WS_PING),
        I(message_timeout_ms, C_WS_MSG_TIMEOUT), I(max_message_bytes, C_WS_MAX_MSG),
        I(max_connections, C_WS_MAX_CONN), I(max_queue, C_WS_MAX_QUEUE),
        S(reconnect, ST_BOOL, C_WS_RECONNECT),
    },
    .limits = {
        I(max_envelope_bytes, C_MAX_ENVELOPE), I(max_meta_bytes, C_MAX_META),
        I(max_depth, C_MAX_DEPTH), I(max_in_flight, C_MAX_IN_FLIGHT),
        I(max_header_bytes, C_MAX_HEADER), I(max_error_bytes, C_MAX_ERROR),
    },
    .meta = { S(tenant, ST_STRING, C_TENANT), I(uuid_version, C_UUID_VERSION) },
    .security = {
        S(auth_token, ST_STRING, C_AUTH_TOKEN), S(auth_scheme, ST_STRING, C_AUTH_SCHEME),
        FIELD(allowed_origins, ST_ARRAY, C_ORIGINS, ST_STRING, 0),
        S(client_cert_header, ST_BOOL, C_CLIENT_CERT_HEADER),
        S(sign_requests, ST_BOOL, C_SIGN_REQUESTS),
        S(signature_key_id, ST_STRING, C_SIGNATURE_KEY_ID),
        I(token_ttl_ms, C_TOKEN_TTL),
    },
    .log = { FIELD(level, ST_ENUM, C_LOG_LEVEL, 0, E_LOG_LEVEL) },
    .root = {
        O(rest, S_REST), O(timeouts, S_TIMEOUTS), O(retry, S_RETRY), O(websocket, S_WEBSOCKET),
        O(limits, S_LIMITS), O(meta, S_META), O(security, S_SECURITY), O(log, S_LOG),
    },
};
static const schema CONFIG_SCHEMAS[] = {
    [S_REST] = SCHEMA_AT(config_fields, rest, 1), [S_TIMEOUTS] = SCHEMA_AT(config_fields, timeouts, 1),
    [S_RETRY] = SCHEMA_AT(config_fields, retry, 1), [S_WEBSOCKET] = SCHEMA_AT(config_fields, websocket, 1),
    [S_LIMITS] = SCHEMA_AT(config_fields, limits, 1), [S_META] = SCHEMA_AT(config_fields, meta, 1),
    [S_SECURITY] = SCHEMA_AT(config_fields, security, 1), [S_LOG] = SCHEMA_AT(config_fields, log, 1),
    [S_ROOT] = SCHEMA_AT(config_fields, root, 1),
};
const schema_set CONFIG_SCHEMA_SET = SCHEMA_SET(config_names, config_fields, CONFIG_FIELDS, CONFIG_SCHEMAS, CONFIG_ENUMS, 0);

/* Integer settings: range, slot, where it goes (small fields: the table is data in the
 * module; the key path for errors comes from the schema tables, config_path). */
typedef struct { uint32_t max; uint16_t min; uint8_t slot, offset; } int_setting;
#define OFF(field) (uint8_t)__builtin_offsetof(q_config, field)
_Static_assert(sizeof(q_config) <= 256, "config offsets fit uint8_t");
static const int_setting INTS[] = {
    { Q_CONFIG_MAX_REDIRECTS, 0, C_MAX_REDIRECTS, OFF(max_redirects) },
    { Q_MAX_TIMEOUT_MS, 1, C_REQUEST_MS, OFF(request_timeout_ms) },
    { Q_MAX_TIMEOUT_MS, 1, C_CONNECT_MS, OFF(connect_timeout_ms) },
    { Q_MAX_RETRY_ATTEMPTS, 1, C_MAX_ATTEMPTS, OFF(retry_max_attempts) },
    { Q_MAX_TIMEOUT_MS, 0, C_BASE_DELAY, OFF(retry_base_ms) },
    { Q_MAX_TIMEOUT_MS, 0, C_MAX_DELAY, OFF(retry_max_ms) },
    { 100, 0, C_JITTER, OFF(retry_jitter_pct) },
    { Q_MAX_TIMEOUT_MS, 0, C_WS_PING, OFF(ws_ping_interval_ms) },
    { Q_MAX_TIMEOUT_MS, 1, C_WS_MSG_TIMEOUT, OFF(ws_message_timeout_ms) },
    { Q_CONFIG_MAX_BYTES, 64, C_WS_MAX_MSG, OFF(ws_max_message_bytes) },
    { Q_CONFIG_MAX_CONNECTIONS, 1, C_WS_MAX_CONN, OFF(ws_max_connections) },
    { Q_CONFIG_MAX_QUEUE, 0, C_WS_MAX_QUEUE, OFF(ws_max_queue) },
    { Q_CONFIG_MAX_BYTES, 64, C_MAX_ENVELOPE, OFF(limits.max_envelope_bytes) },
    { Q_CONFIG_MAX_BYTES, 2, C_MAX_META, OFF(limits.max_meta_bytes) },
    { Q_CONFIG_MAX_DEPTH, 2, C_MAX_DEPTH, OFF(limits.max_depth) },
    { Q_CONFIG_MAX_IN_FLIGHT, 1, C_MAX_IN_FLIGHT, OFF(max_in_flight) },
    { Q_CONFIG_MAX_BYTES, 256, C_MAX_HEADER, OFF(max_header_bytes) },
    { Q_CONFIG_MAX_BYTES, 2, C_MAX_ERROR, OFF(limits.max_error_bytes) },
    { 7, 4, C_UUID_VERSION, OFF(uuid_version) },
    { Q_CONFIG_MAX_TOKEN_TTL_MS, 0, C_TOKEN_TTL, OFF(token_ttl_ms) },
};

/* String settings (copied, decoded) and JSON settings (kept compact): slot, where, and the
 * default config_to_json shows, as the JSON it writes (plain text: nothing to escape). */
typedef struct { uint8_t slot; bool compact; uint8_t offset; const char *dflt; } str_setting;
static const str_setting STRS[] = {
    { C_BASE_URL, false, OFF(base_url), "null" }, { C_ROUTE, false, OFF(route), "\"" Q_DEFAULT_ROUTE "\"" },
    { C_HEADERS, true, OFF(headers_json), "{}" }, { C_WS_URL, false, OFF(ws_url), "null" },
    { C_TENANT, false, OFF(tenant), "null" }, { C_AUTH_TOKEN, false, OFF(auth_token_name), "null" },
    { C_AUTH_SCHEME, false, OFF(auth_scheme), "\"Bearer\"" }, { C_ORIGINS, true, OFF(allowed_origins_json), "[]" },
    { C_SIGNATURE_KEY_ID, false, OFF(signature_key_id), "null" },
};

/* Boolean settings: slot, where; tls_only: true only in the TLS module (certificate, key). */
typedef struct { uint8_t slot, offset; bool tls_only; } bool_setting;
static const bool_setting BOOLS[] = {
    { C_RETRY_NON_IDEMPOTENT, OFF(retry_non_idempotent), false }, { C_WS_RECONNECT, OFF(ws_reconnect), false },
    { C_CLIENT_CERT_HEADER, OFF(client_cert_header), true }, { C_SIGN_REQUESTS, OFF(sign_requests), true },
};

/* Where each setting lives in q_config, by slot (config_to_json reads every kind through it). */
static const uint8_t SLOT_OFFSET[C_COUNT_] = {
    [C_BASE_URL] = OFF(base_url), [C_ROUTE] = OFF(route), [C_METHOD] = OFF(method), [C_HEADERS] = OFF(headers_json),
    [C_MAX_REDIRECTS] = OFF(max_redirects), [C_REQUEST_MS] = OFF(request_timeout_ms), [C_CONNECT_MS] = OFF(connect_timeout_ms),
    [C_MAX_ATTEMPTS] = OFF(retry_max_attempts), [C_BASE_DELAY] = OFF(retry_base_ms), [C_MAX_DELAY] = OFF(retry_max_ms),
    [C_JITTER] = OFF(retry_jitter_pct), [C_RETRY_NON_IDEMPOTENT] = OFF(retry_non_idempotent),
    [C_WS_URL] = OFF(ws_url), [C_WS_PING] = OFF(ws_ping_interval_ms), [C_WS_MSG_TIMEOUT] = OFF(ws_message_timeout_ms),
    [C_WS_MAX_MSG] = OFF(ws_max_message_bytes), [C_WS_MAX_CONN] = OFF(ws_max_connections), [C_WS_MAX_QUEUE] = OFF(ws_max_queue),
    [C_WS_RECONNECT] = OFF(ws_reconnect),
    [C_MAX_ENVELOPE] = OFF(limits.max_envelope_bytes), [C_MAX_META] = OFF(limits.max_meta_bytes), [C_MAX_DEPTH] = OFF(limits.max_depth),
    [C_MAX_IN_FLIGHT] = OFF(max_in_flight), [C_MAX_HEADER] = OFF(max_header_bytes), [C_MAX_ERROR] = OFF(limits.max_error_bytes),
    [C_TENANT] = OFF(tenant), [C_UUID_VERSION] = OFF(uuid_version),
    [C_AUTH_TOKEN] = OFF(auth_token_name), [C_AUTH_SCHEME] = OFF(auth_scheme), [C_ORIGINS] = OFF(allowed_origins_json),
    [C_CLIENT_CERT_HEADER] = OFF(client_cert_header), [C_SIGN_REQUESTS] = OFF(sign_requests),
    [C_SIGNATURE_KEY_ID] = OFF(signature_key_id), [C_TOKEN_TTL] = OFF(token_ttl_ms), [C_LOG_LEVEL] = OFF(log_level),
};

static const q_config CONFIG_DEFAULTS = {
    .method = HM_POST,
    .max_redirects = Q_DEFAULT_MAX_REDIRECTS,
    .request_timeout_ms = Q_DEFAULT_REQUEST_TIMEOUT_MS,
    .connect_timeout_ms = Q_DEFAULT_CONNECT_TIMEOUT_MS,
    .retry_max_attempts = Q_DEFAULT_RETRY_ATTEMPTS,
    .retry_base_ms = Q_DEFAULT_RETRY_BASE_MS,
    .retry_max_ms = Q_DEFAULT_RETRY_MAX_MS,
    .retry_jitter_pct = Q_DEFAULT_RETRY_JITTER_PCT,
    .retry_non_idempotent = Q_DEFAULT_RETRY_POST,
    .ws_ping_interval_ms = Q_DEFAULT_WS_PING_INTERVAL_MS,
    .ws_message_timeout_ms = Q_DEFAULT_WS_MESSAGE_TIMEOUT_MS,
    .ws_max_message_bytes = Q_DEFAULT_MAX_WS_MESSAGE_BYTES,
    .ws_max_connections = Q_DEFAULT_MAX_WS_CONNECTIONS,
    .ws_max_queue = Q_DEFAULT_WS_MAX_QUEUE,
    .ws_reconnect = true,
    .limits = { .max_envelope_bytes = Q_DEFAULT_MAX_ENVELOPE_BYTES, .max_meta_bytes = Q_DEFAULT_MAX_META_BYTES,
                .max_depth = Q_DEFAULT_MAX_DEPTH, .max_error_bytes = Q_DEFAULT_MAX_ERROR_BYTES },
    .max_in_flight = Q_DEFAULT_MAX_IN_FLIGHT,
    .max_header_bytes = Q_DEFAULT_MAX_HEADER_BYTES,
    .uuid_version = 7,
};

void config_defaults(q_config *c) { *c = CONFIG_DEFAULTS; }

void config_free(q_config *c) {
    for (size_t k = 0; k < Q_ARRAY_LEN(STRS); k++) {   /* every owned string is a STRS setting */
        q_str *v = (q_str *)(void *)((uint8_t *)c + STRS[k].offset);
        if (v->ptr) { q_wipe(v->ptr, v->len); q_free(v->ptr); }
        v->ptr = NULL; v->len = 0;
    }
}

/* Persistent copy of a string setting (decoded, NUL-terminated for convenience) or of a
 * validated object/array setting (compact JSON). */
static int take_setting(schema_walk *w, int tok, bool compact, q_str *dst, q_error *err) {
    uint32_t start = (uint32_t)schema_tok(w, tok)->start, end = (uint32_t)schema_tok(w, tok)->end, stop, n;
    uint8_t *p = q_alloc(end - start + 1);
    if (!p) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "config", NULL);
    if (compact) {
        int rc = json_compact_value(w->js, end, start, 0, 0xFFFFFFFFu, p, &stop, &n, err);
        if (rc) { q_free(p); return rc; }
    } else n = json_unescape(w->js + start, end - start, p);
    p[n] = 0;
    dst->ptr = p; dst->len = n;
    return Q_OK;
}

static const uint8_t *origin_entry(const q_tokens *t, int k, uint32_t *len);
static const char *config_path(char *buf, size_t cap, int slot);
static int setting_fail(const schema_walk *w, int slot, int status, const char *why);

/* URL fields are checked when the client is made, so requests never carry a bad URL. */
static int config_check_urls(q_config *c, schema_walk *w, q_error *err) {
    int rc;
    url_parts up;
    /* offsets point into the string's bytes (exact when it has no escapes) */
    if (c->route.len && (rc = url_check_route(c->route.ptr, c->route.len, "rest.route", schema_tok_offset(w, w->slots[C_ROUTE]), err)))
        return rc;
    if (c->base_url.len && (rc = url_parse_base(c->base_url.ptr, c->base_url.len, &up, "rest.base_url", schema_tok_offset(w, w->slots[C_BASE_URL]), err)))
        return rc;
    if (!c->allowed_origins_json.len) return Q_OK;
    /* security.allowed_origins: every entry an origin (or "*." pattern), and the configured
     * URLs among them, so a mistake shows when the client is made, not at the first send */
    q_tokens t;
    if ((rc = tokens_parse(&t, c->allowed_origins_json.ptr, c->allowed_origins_json.len, 0, err))) return rc;
    int list = w->slots[C_ORIGINS];
    span_iter in_config;   /* the same entries where the config text has them (for offsets) */
    jsmntok_t at;
    if (list >= 0) span_iter_init(&in_config, w->js, w->len, schema_tok(w, list));
    for (int k = 1; k < t.count; k++) {
        q_origin o;
        char path[48];   /* "security.allowed_origins[k]": the literal is the one the failures below name */
        path[0] = 0;
        q_text_append(path, sizeof path, "security.allowed_origins");
        q_text_append(path, sizeof path, "[");
        q_text_append_u64(path, sizeof path, (uint64_t)(k - 1));
        q_text_append(path, sizeof path, "]");
        uint32_t m;
        const uint8_t *entry = origin_entry(&t, k, &m);
        if (!entry) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "security.allowed_origins", NULL);
        /* the offset: where the entry's text is in the config (exact when it has no escapes) */
        int64_t off = list >= 0 && span_next(&in_config, NULL, &at) ? (int64_t)w->base + at.start : -1;
        if ((rc = origin_parse(entry, m, true, &o, path, off, err))) return rc;
    }
    static const struct { uint8_t slot; uint8_t offset; } URLS[] = { { C_BASE_URL, OFF(base_url) }, { C_WS_URL, OFF(ws_url) } };
    for (size_t k = 0; k < Q_ARRAY_LEN(URLS); k++) {
        const q_str *u = (const q_str *)(const void *)((const uint8_t *)c + URLS[k].offset);
        bool allowed;
        char path[48];
        if (!u->len) continue;
        if ((rc = config_origin_allowed(c, u->ptr, u->len, &allowed, config_path(path, sizeof path, URLS[k].slot), err))) return rc;
        if (!allowed) return setting_fail(w, URLS[k].slot, Q_ERR(ORIGIN_DENIED), QD(ORIGIN_NOT_IN_SECURITY_ALLOWED_ORIGINS));
    }
    return Q_OK;
}

/* Entry k of the parsed allowlist, unescaped into scratch (NULL: out of memory). */
static const uint8_t *origin_entry(const q_tokens *t, int k, uint32_t *len) {
    uint32_t m = (uint32_t)(t->tok[k].end - t->tok[k].start);
    uint8_t *o = scratch_alloc(m + 1);
    if (o) *len = json_unescape(t->js + t->tok[k].start, m, o);
    return o;
}

int config_origin_allowed(const q_config *c, const uint8_t *url, uint32_t n, bool *allowed, const char *path, q_error *err) {
    *allowed = false;
    q_origin want, p;
    int rc = origin_parse(url, n, false, &want, path, -1, err);
    if (rc) return rc;
    if (!c->allowed_origins_json.len) {   /* no list: the origins of the configured URLs only */
        const q_str *own[2] = { &c->base_url, &c->ws_url };
        q_error ignored;
        for (int k = 0; k < 2 && !*allowed; k++)
            *allowed = own[k]->len && origin_parse(own[k]->ptr, own[k]->len, false, &p, NULL, -1, &ignored) == Q_OK && origin_match(&p, &want);
        return Q_OK;
    }
    q_tokens t;
    if ((rc = tokens_parse(&t, c->allowed_origins_json.ptr, c->allowed_origins_json.len, 0, err))) return rc;
    for (int k = 1; k < t.count && !*allowed; k++) {
        uint32_t m;
        const uint8_t *entry = origin_entry(&t, k, &m);
        if (!entry) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "security.allowed_origins", NULL);
        if ((rc = origin_parse(entry, m, true, &p, "security.allowed_origins", -1, err))) return rc;   /* checked at config time */
        *allowed = origin_match(&p, &want);
    }
    return Q_OK;
}

/* "section.key" of config slot `slot`, read from the schema tables (not kept twice as text). */
__attribute__((noinline)) static const char *config_path(char *buf, size_t cap, int slot) {
    buf[0] = 0;
    for (size_t s = 0; s < Q_ARRAY_LEN(CONFIG_FIELDS.root); s++) {
        const schema *sec = &CONFIG_SCHEMAS[CONFIG_FIELDS.root[s].sub];
        const schema_field *fields = schema_fields(&CONFIG_SCHEMA_SET, sec);
        for (uint8_t f = 0; f < sec->count; f++)
            if (fields[f].slot == slot) {
                q_text_append(buf, cap, schema_field_name(&CONFIG_SCHEMA_SET, &CONFIG_FIELDS.root[s]));
                q_text_append(buf, cap, ".");
                q_text_append(buf, cap, schema_field_name(&CONFIG_SCHEMA_SET, &fields[f]));
            }
    }
    return buf;
}

static int range_fail(q_error *err, const char *path, int64_t off, const char *what) {
    return q_fail(err, Q_ERR(OUT_OF_RANGE), off, path, what);
}

/* A setting's value refused: named by its key path (from the schema tables) at its offset. */
__attribute__((noinline)) static int setting_fail(const schema_walk *w, int slot, int status, const char *why) {
    char path[48];
    return q_fail(w->err, status, schema_tok_offset(w, w->slots[slot]), config_path(path, sizeof path, slot), why);
}

int config_walk_text(schema_walk *w, const uint8_t *js, uint32_t len, const char *where, const char *path, q_error *err) {
    int rc = json_validate(js, len, Q_DEFAULT_MAX_DEPTH, err);
    if (rc) return q_error_in(err, where);
    uint32_t s = json_skip_ws(js, len, 0), e = len;
    while (e > s && (js[e - 1] == ' ' || js[e - 1] == '\n' || js[e - 1] == '\r' || js[e - 1] == '\t')) e--;
    schema_walk_init(w, js + s, e - s, s, err, NULL, path);
    /* a bare scalar at the top: say what is wrong before walking */
    return *w->js == '{' ? Q_OK : q_fail(err, Q_ERR(TYPE_MISMATCH), s, path, QD(EXPECTED_AN_OBJECT));
}

static int parse_into(q_config *c, const uint8_t *json, uint32_t len, q_error *err) {
    if (json_skip_ws(json, len, 0) >= len) return Q_OK;   /* no config: all defaults */
    schema_walk w;
    int rc = config_walk_text(&w, json, len, "config", "", err);
    if (rc || (rc = schema_walk_object(&w, &CONFIG_SCHEMA_SET, S_ROOT))) return rc;

    for (size_t k = 0; k < Q_ARRAY_LEN(INTS); k++) {
        int tok = w.slots[INTS[k].slot];
        if (tok < 0) continue;
        int64_t v;
        rc = num_to_i64(schema_tok_ptr(&w, tok), schema_tok_len(&w, tok), INTS[k].min, INTS[k].max, &v);
        char path[48];
        if (rc) {
            char what[48];
            what[0] = 0;
            q_text_append(what, sizeof what, "allowed ");
            q_text_append_u64(what, sizeof what, INTS[k].min);
            q_text_append(what, sizeof what, "..");
            q_text_append_u64(what, sizeof what, INTS[k].max);
            return q_fail(err, rc, schema_tok_offset(&w, tok), config_path(path, sizeof path, INTS[k].slot), what);
        }
        if (INTS[k].slot == C_UUID_VERSION && v != 4 && v != 7) return setting_fail(&w, C_UUID_VERSION, Q_ERR(OUT_OF_RANGE), QD(FOUR_OR_SEVEN));
        *(uint32_t *)(void *)((uint8_t *)c + INTS[k].offset) = (uint32_t)v;
    }
    if (c->retry_max_ms < c->retry_base_ms)
        return range_fail(err, "retry.max_delay_ms", Q_NO_OFFSET, QD(AT_LEAST_RETRY_BASE_DELAY_MS));
    if (w.slots[C_METHOD] >= 0) c->method = config_method(&w, w.slots[C_METHOD]);
    if (w.slots[C_LOG_LEVEL] >= 0) c->log_level = list_index(&w, w.slots[C_LOG_LEVEL], LOG_LEVEL_LIST);
    for (size_t k = 0; k < Q_ARRAY_LEN(BOOLS); k++) {
        int tok = w.slots[BOOLS[k].slot];
        if (tok < 0) continue;
        bool on = *schema_tok_ptr(&w, tok) == 't';
        *((uint8_t *)c + BOOLS[k].offset) = on;
#ifndef Q_TLS
        /* the certificate and key live in the TLS module: elsewhere neither could ever be used */
        if (on && BOOLS[k].tls_only) return setting_fail(&w, BOOLS[k].slot, Q_ERR(CONFIG_INVALID), "needs the TLS module (qollective-tls.wasm)");
#endif
    }

    for (size_t k = 0; k < Q_ARRAY_LEN(STRS); k++) {
        int tok = w.slots[STRS[k].slot];
        if (tok < 0) continue;
        q_str *dst = (q_str *)(void *)((uint8_t *)c + STRS[k].offset);
        if ((rc = take_setting(&w, tok, STRS[k].compact, dst, err))) return rc;
    }
    if (c->route.ptr && (c->route.len == 0 || c->route.ptr[0] != '/')) return setting_fail(&w, C_ROUTE, Q_ERR(CONFIG_INVALID), QD(MUST_START_WITH_SLASH));
    /* a keyid travels as an sf-string: printable ASCII only */
    for (uint32_t i = 0; c->signature_key_id.ptr && i <= c->signature_key_id.len; i++)
        if (i == c->signature_key_id.len ? i == 0 || i > Q_SIGNATURE_KEY_ID_MAX_BYTES : c->signature_key_id.ptr[i] < 0x20 || c->signature_key_id.ptr[i] > 0x7E)
            return setting_fail(&w, C_SIGNATURE_KEY_ID, Q_ERR(CONFIG_INVALID), "1..64 printable ASCII characters");
    if (c->auth_token_name.ptr && (c->auth_token_name.len == 0 || c->auth_token_name.len > Q_MAX_TOKEN_NAME_BYTES))
        return setting_fail(&w, C_AUTH_TOKEN, Q_ERR(CONFIG_INVALID), QD(A_TOKEN_NAME_OF_1_64_BYTES));
    return config_check_urls(c, &w, err);
}

int config_parse(q_config *c, const uint8_t *json, uint32_t len, q_error *err) {
    config_defaults(c);
    int rc = parse_into(c, json, len, err);
    if (rc) { config_free(c); config_defaults(c); }   /* nothing half-parsed stays, nothing leaks */
    return rc;
}

/* The effective configuration, walking the same schema tables the parser uses; the auth
 * token NAME is shown, never a token value. */
static int put_setting(const q_config *c, const schema_field *f, q_buf *o) {
    const uint8_t *at = (const uint8_t *)c + SLOT_OFFSET[f->slot];
    if (f->type == ST_I64) return jw_u64(o, *(const uint32_t *)(const void *)at);
    if (f->type == ST_BOOL) return q_buf_puts(o, *at ? "true" : "false");
    if (f->type == ST_ENUM) return jw_fmt(o, "\"%s\"", list_nth(CONFIG_ENUMS[f->sub], *at));
    const q_str *v = (const q_str *)(const void *)at;   /* a string, an object or an array */
    if (v->ptr) return f->type == ST_STRING ? jw_string(o, v->ptr, v->len) : q_buf_put(o, v->ptr, v->len);
    for (size_t k = 0; k < Q_ARRAY_LEN(STRS); k++)
        if (STRS[k].slot == f->slot) return q_buf_puts(o, STRS[k].dflt);
    return Q_OK;   /* every string setting is in STRS */
}

int config_to_json(const q_config *c, q_buf *o) {
    int rc = q_buf_putc(o, '{');
    for (size_t s = 0; s < Q_ARRAY_LEN(CONFIG_FIELDS.root) && !rc; s++) {
        const schema *sec = &CONFIG_SCHEMAS[CONFIG_FIELDS.root[s].sub];
        const schema_field *fields = schema_fields(&CONFIG_SCHEMA_SET, sec);
        rc = jw_fmt(o, "%s\"%s\":{", s ? "," : "", schema_field_name(&CONFIG_SCHEMA_SET, &CONFIG_FIELDS.root[s]));
        for (uint8_t f = 0; f < sec->count && !rc; f++)
            rc = jw_fmt(o, "%s\"%s\":", f ? "," : "", schema_field_name(&CONFIG_SCHEMA_SET, &fields[f])) || put_setting(c, &fields[f], o);
        if (!rc) rc = q_buf_putc(o, '}');
    }
    if (!rc) rc = q_buf_putc(o, '}');
    return rc ? Q_ERR(OUT_OF_MEMORY) : Q_OK;
}
