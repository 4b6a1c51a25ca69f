/* Envelope codec. The meta schema below mirrors the Rust Meta struct field by field
 * (order, types, Option vs required); the payload is validated and sliced, never copied
 * on decode, and compacted straight into the output on encode. */
#include "envelope.h"
#include "json.h"
#include "uuid.h"
#include "num.h"
#include "span.h"

/* ---- enums (PascalCase, case-sensitive) ---------------------------------------- */
/* Value lists as schema.h describes them: "A\0B\0". */
static const char AUTH_METHOD[] = "Unspecified\0OAuth2\0Jwt\0ApiKey\0Basic\0Saml\0Oidc\0None\0";
static const char LOG_LEVEL[] = "Unspecified\0Trace\0Debug\0Info\0Warn\0Error\0";
static const char ENVIRONMENT[] = "Unspecified\0Development\0Staging\0Testing\0Production\0Canary\0";
static const char HEALTH_STATUS[] = "Unspecified\0Healthy\0Degraded\0Unhealthy\0";
static const char SPAN_KIND[] = "Unspecified\0Server\0Client\0Producer\0Consumer\0Internal\0";
static const char SPAN_STATUS_CODE[] = "Unspecified\0Ok\0Error\0Timeout\0";
static const char CALL_STATUS[] = "Unspecified\0Success\0Error\0Timeout\0";

/* Every key the envelope's schemas name, once (schema.h SCHEMA_NAMES). */
#define ENV_NAMES(X) \
    X(timestamp) X(request_id) X(version) X(duration) X(tenant) X(on_behalf_of) X(security) X(debug) \
    X(performance) X(monitoring) X(tracing) X(extensions) \
    X(code) X(message) X(details) X(trace) X(http_status_code) \
    X(originalUser) X(delegatingUser) X(delegatingTenant) \
    X(user_id) X(session_id) X(auth_method) X(permissions) X(ip_address) X(user_agent) X(roles) X(token_expires_at) \
    X(query) X(rows_affected) X(database) \
    X(heap_used) X(heap_total) X(external) X(cpu_time) X(wall_time) X(allocations) \
    X(trace_enabled) X(db_queries) X(memory_usage) X(stack_trace) X(environment_vars) X(request_headers) X(log_level) \
    X(profiling_data) X(hits) X(misses) X(sets) X(service) X(status) X(endpoint) \
    X(db_query_time) X(db_query_count) X(cache_hit_ratio) X(cache_operations) X(memory_allocated) X(memory_peak) \
    X(cpu_usage) X(network_latency) X(external_calls) X(gc_collections) X(gc_time) X(thread_count) X(processing_time_ms) \
    X(server_id) X(datacenter) X(build_version) X(deployment_id) X(instance_type) X(load_balancer) X(environment) \
    X(cluster_id) X(namespace) X(health_status) X(uptime) \
    X(trace_id) X(span_id) X(parent_span_id) X(baggage) X(sampling_rate) X(sampled) X(trace_state) X(operation_name) \
    X(span_kind) X(span_status) X(tags)
SCHEMA_NAMES(env_names, ENV_NAMES);

/* The set's schemas (sub-schema indices) and enum lists (ENUM indices). */
enum { S_META, S_ERROR, S_ON_BEHALF_OF, S_SECURITY, S_DB_QUERY, S_MEMORY_USAGE, S_PROFILING, S_DEBUG, S_CACHE_OPS,
       S_EXTERNAL_CALL, S_PERFORMANCE, S_MONITORING, S_SPAN_STATUS, S_TRACING };
enum { E_AUTH_METHOD, E_LOG_LEVEL, E_ENVIRONMENT, E_HEALTH_STATUS, E_SPAN_KIND, E_SPAN_STATUS_CODE, E_CALL_STATUS };
static const char *const ENV_ENUMS[] = {
    [E_AUTH_METHOD] = AUTH_METHOD, [E_LOG_LEVEL] = LOG_LEVEL, [E_ENVIRONMENT] = ENVIRONMENT,
    [E_HEALTH_STATUS] = HEALTH_STATUS, [E_SPAN_KIND] = SPAN_KIND, [E_SPAN_STATUS_CODE] = SPAN_STATUS_CODE,
    [E_CALL_STATUS] = CALL_STATUS,
};

#define FIELD(name, type, flags, slot, elem, sub) SCHEMA_FIELD(env_names, name, type, flags, slot, elem, sub)
#define F(name, type, flags) FIELD(name, type, flags, -1, 0, 0)
#define FS(name, type, flags, slot) FIELD(name, type, flags, slot, 0, 0)
#define FE(name, values, flags) FIELD(name, ST_ENUM, flags, -1, 0, values)
#define FO(name, sch, flags, slot) FIELD(name, ST_OBJECT, flags, slot, 0, sch)
#define FA(name, elem, sub, flags) FIELD(name, ST_ARRAY, flags, -1, elem, sub)
#define FM(name, elem, flags) FIELD(name, ST_MAP, flags, -1, elem, 0)

/* One array per schema; META's fields first (autofill names them by index). */
static const struct env_fields {
    schema_field meta[12], error[5], on_behalf_of[3], security[8], db_query[4], memory_usage[3], profiling[3],
                 debug[8], cache_ops[3], external_call[4], performance[13], monitoring[11], span_status[2], tracing[11];
} ENV_FIELDS = {
    .meta = {
        FS(timestamp, ST_TIMESTAMP, 0, MS_TIMESTAMP),
        FS(request_id, ST_UUID, 0, MS_REQUEST_ID),
        FS(version, ST_STRING, 0, MS_VERSION),
        FS(duration, ST_F64, 0, MS_DURATION),
        FS(tenant, ST_STRING, 0, MS_TENANT),
        FO(on_behalf_of, S_ON_BEHALF_OF, 0, MS_ON_BEHALF_OF),
        FO(security, S_SECURITY, 0, MS_SECURITY),
        FO(debug, S_DEBUG, 0, -1),
        FO(performance, S_PERFORMANCE, 0, -1),
        FO(monitoring, S_MONITORING, 0, -1),
        FO(tracing, S_TRACING, 0, MS_TRACING),
        FM(extensions, ST_ANY, 0),
    },
    .error = {
        FS(code, ST_STRING, SF_REQUIRED, ES_CODE),
        FS(message, ST_STRING, SF_REQUIRED, ES_MESSAGE),
        FS(details, ST_ANY, 0, ES_DETAILS),
        FS(trace, ST_STRING, 0, ES_TRACE),
        FS(http_status_code, ST_U16, 0, ES_HTTP_STATUS),
    },
    .on_behalf_of = {
        F(originalUser, ST_STRING, SF_REQUIRED),
        F(delegatingUser, ST_STRING, SF_REQUIRED),
        F(delegatingTenant, ST_STRING, SF_REQUIRED),
    },
    .security = {
        FS(user_id, ST_STRING, 0, MS_USER_ID),
        FS(session_id, ST_STRING, 0, MS_SESSION_ID),
        FE(auth_method, E_AUTH_METHOD, 0),
        FA(permissions, ST_STRING, 0, SF_TRAP),
        F(ip_address, ST_STRING, 0),
        F(user_agent, ST_STRING, 0),
        FA(roles, ST_STRING, 0, SF_TRAP),
        F(token_expires_at, ST_TIMESTAMP, 0),
    },
    .db_query = {
        F(query, ST_STRING, SF_REQUIRED),
        F(duration, ST_F64, SF_REQUIRED),
        F(rows_affected, ST_I32, 0),
        F(database, ST_STRING, 0),
    },
    .memory_usage = { F(heap_used, ST_I64, 0), F(heap_total, ST_I64, 0), F(external, ST_I64, 0) },
    .profiling = { F(cpu_time, ST_F64, 0), F(wall_time, ST_F64, 0), F(allocations, ST_I64, 0) },
    .debug = {
        F(trace_enabled, ST_BOOL, 0),
        FA(db_queries, ST_OBJECT, S_DB_QUERY, SF_TRAP),
        FO(memory_usage, S_MEMORY_USAGE, 0, -1),
        F(stack_trace, ST_STRING, 0),
        FM(environment_vars, ST_STRING, SF_NONNULL | SF_OMIT_EMPTY),
        FM(request_headers, ST_STRING, SF_NONNULL | SF_OMIT_EMPTY),
        FE(log_level, E_LOG_LEVEL, 0),
        FO(profiling_data, S_PROFILING, 0, -1),
    },
    .cache_ops = { F(hits, ST_I32, 0), F(misses, ST_I32, 0), F(sets, ST_I32, 0) },
    .external_call = {
        F(service, ST_STRING, SF_REQUIRED),
        F(duration, ST_F64, SF_REQUIRED),
        FE(status, E_CALL_STATUS, SF_REQUIRED),
        F(endpoint, ST_STRING, 0),
    },
    .performance = {
        F(db_query_time, ST_F64, 0),
        F(db_query_count, ST_I32, 0),
        F(cache_hit_ratio, ST_F64, 0),
        FO(cache_operations, S_CACHE_OPS, 0, -1),
        F(memory_allocated, ST_I64, 0),
        F(memory_peak, ST_I64, 0),
        F(cpu_usage, ST_F64, 0),
        F(network_latency, ST_F64, 0),
        FA(external_calls, ST_OBJECT, S_EXTERNAL_CALL, SF_TRAP),
        F(gc_collections, ST_I32, 0),
        F(gc_time, ST_F64, 0),
        F(thread_count, ST_I32, 0),
        F(processing_time_ms, ST_U64, 0),
    },
    .monitoring = {
        F(server_id, ST_STRING, 0), F(datacenter, ST_STRING, 0), F(build_version, ST_STRING, 0),
        F(deployment_id, ST_STRING, 0), F(instance_type, ST_STRING, 0), F(load_balancer, ST_STRING, 0),
        FE(environment, E_ENVIRONMENT, 0), F(cluster_id, ST_STRING, 0), F(namespace, ST_STRING, 0),
        FE(health_status, E_HEALTH_STATUS, 0), F(uptime, ST_F64, 0),
    },
    .span_status = {
        FE(code, E_SPAN_STATUS_CODE, SF_REQUIRED),
        F(message, ST_STRING, 0),
    },
    .tracing = {
        FS(trace_id, ST_STRING, 0, MS_TRACE_ID),
        FS(span_id, ST_STRING, 0, MS_SPAN_ID),
        F(parent_span_id, ST_STRING, 0),
        FM(baggage, ST_STRING, SF_NONNULL | SF_OMIT_EMPTY),
        F(sampling_rate, ST_F64, 0),
        F(sampled, ST_BOOL, 0),
        F(trace_state, ST_STRING, 0),
        F(operation_name, ST_STRING, 0),
        FE(span_kind, E_SPAN_KIND, 0),
        FO(span_status, S_SPAN_STATUS, 0, -1),
        FM(tags, ST_SCALAR, SF_NONNULL | SF_OMIT_EMPTY),
    },
};

static const schema ENV_SCHEMAS[] = {
    [S_META] = SCHEMA_AT(env_fields, meta, 0), [S_ERROR] = SCHEMA_AT(env_fields, error, 0),
    [S_ON_BEHALF_OF] = SCHEMA_AT(env_fields, on_behalf_of, 0), [S_SECURITY] = SCHEMA_AT(env_fields, security, 0),
    [S_DB_QUERY] = SCHEMA_AT(env_fields, db_query, 0), [S_MEMORY_USAGE] = SCHEMA_AT(env_fields, memory_usage, 0),
    [S_PROFILING] = SCHEMA_AT(env_fields, profiling, 0), [S_DEBUG] = SCHEMA_AT(env_fields, debug, 0),
    [S_CACHE_OPS] = SCHEMA_AT(env_fields, cache_ops, 0), [S_EXTERNAL_CALL] = SCHEMA_AT(env_fields, external_call, 0),
    [S_PERFORMANCE] = SCHEMA_AT(env_fields, performance, 0), [S_MONITORING] = SCHEMA_AT(env_fields, monitoring, 0),
    [S_SPAN_STATUS] = SCHEMA_AT(env_fields, span_status, 0), [S_TRACING] = SCHEMA_AT(env_fields, tracing, 0),
};

const schema_set ENV_SCHEMA_SET = SCHEMA_SET(env_names, env_fields, ENV_FIELDS, ENV_SCHEMAS, ENV_ENUMS, 1);

const env_limits ENV_LIMITS_DEFAULT = {
    .max_envelope_bytes = Q_DEFAULT_MAX_ENVELOPE_BYTES, .max_meta_bytes = Q_DEFAULT_MAX_META_BYTES,
    .max_depth = Q_DEFAULT_MAX_DEPTH, .max_error_bytes = Q_DEFAULT_MAX_ERROR_BYTES,
};

void env_limits_default(env_limits *l) { *l = ENV_LIMITS_DEFAULT; }

/* ---- auto-fill ---------------------------------------------------------------------- */

static int autofill(void *ctx, const schema_field *f, q_buf *out, bool *first) {
    const env_autofill *af = ctx;
    if (!af || !af->fill) return Q_OK;
    uint8_t txt[RFC3339_MAX_LEN > UUID_TEXT_LEN ? RFC3339_MAX_LEN : UUID_TEXT_LEN];
    const uint8_t *v = txt;
    uint32_t n;
    if (f == &ENV_FIELDS.meta[0]) {
        n = rfc3339_format(q_time_from_unix_ms(af->now_ms), RFC3339_Z, txt);
        if (!n) return Q_ERR(BAD_ARGUMENT);
    } else if (f == &ENV_FIELDS.meta[1]) {
        uint8_t u[16];
        /* v7 holds 48 bits of milliseconds; a nonsense clock must not be undefined behaviour */
        double ms = af->now_ms >= 0 && af->now_ms < 281474976710655.0 ? af->now_ms : 0;
#ifdef Q_CODEC_ONLY   /* v4 is a client setting (uuid_version): the codec module makes no clients */
        uuid_v7((uint64_t)ms, af->random, u);
#else
        if (af->uuid_v4) uuid_v4(af->random, u); else uuid_v7((uint64_t)ms, af->random, u);
#endif
        uuid_format(u, txt);
        n = UUID_TEXT_LEN;
    } else if (f == &ENV_FIELDS.meta[2]) {
        v = (const uint8_t *)Q_PROTOCOL_VERSION; n = sizeof Q_PROTOCOL_VERSION - 1;
#ifndef Q_CODEC_ONLY   /* the codec module has no clients, so no default tenant */
    } else if (f == &ENV_FIELDS.meta[4] && af->tenant) {
        /* the client's setting: any text, escaped */
        return schema_put_key(out, &ENV_SCHEMA_SET, f, first) || jw_string(out, af->tenant, af->tenant_len) ? Q_ERR(OUT_OF_MEMORY) : 1;
#endif
    } else {
        return Q_OK;
    }
    /* our own values need no escaping */
    return schema_put_key(out, &ENV_SCHEMA_SET, f, first) || q_buf_putc(out, '"') || q_buf_put(out, v, n) || q_buf_putc(out, '"') ? Q_ERR(OUT_OF_MEMORY) : 1;
}

/* ---- meta and error ------------------------------------------------------------------ */

/* Walks one object part ("meta" or "error") against its schema, validating it (one pass: see
 * schema.h) at depth 1, where it sits in an envelope; fill is NULL for the error object, where
 * autofill then adds nothing. */
static int part_walk(const uint8_t *js, uint32_t len, uint32_t base, const env_limits *lim, bool meta,
                     const env_autofill *fill, q_buf *out, schema_walk *w, q_error *err, bool canon, env_tape *tape) {
    const char *where = meta ? "meta" : "error";
    if (!len || js[0] != '{') return q_fail(err, Q_ERR(TYPE_MISMATCH), base, where, QD(EXPECTED_AN_OBJECT));
    schema_walk_init(w, js, len, base, err, out, where);
    w->max_depth = lim->max_depth;
    w->nest = 1;
    w->fill = autofill;
    w->fill_ctx = (void *)fill;
    w->canon = canon;
    if (tape) { w->tape = tape->words; w->tape_cap = tape->cap; }
    return schema_walk_object(w, &ENV_SCHEMA_SET, meta ? S_META : S_ERROR);
}

int env_meta_tape(const uint8_t *meta, uint32_t len, q_error *err, env_tape *tape) {
    schema_walk w;
    w.tape = NULL;   /* a text not an object is refused before the walk is set up */
    int rc = part_walk(meta, len, 0, &ENV_LIMITS_DEFAULT, true, NULL, NULL, &w, err, false, tape);
    tape->len = w.tape ? w.tape_len : 0;
    return rc;
}

int env_meta_walk(const uint8_t *meta, uint32_t len, uint32_t base, const env_limits *lim,
                  const env_autofill *fill, q_buf *out, schema_walk *w, q_error *err) {
    if (len > lim->max_meta_bytes) return q_fail(err, Q_ERR(TOO_LARGE), base, "meta", QD(META_SIZE_LIMIT));
    return part_walk(meta, len, base, lim, true, fill, out, w, err, false, NULL);
}

static int error_walk(const uint8_t *js, uint32_t len, uint32_t base, const env_limits *lim, q_buf *out, schema_walk *w, q_error *err) {
    if (len > lim->max_error_bytes) return q_fail(err, Q_ERR(TOO_LARGE), base, "error", QD(ERROR_SIZE_LIMIT));
    return part_walk(js, len, base, lim, false, NULL, out, w, err, false, NULL);
}

/* ---- decode -------------------------------------------------------------------------- */

enum { KEY_META, KEY_PAYLOAD, KEY_ERROR, KEY_OTHER };
static const char *const TOP_KEYS[] = { "meta", "payload", "error" };
static const uint8_t TOP_KEY_LEN[] = { sizeof "meta" - 1, sizeof "payload" - 1, sizeof "error" - 1 };

/* Which top-level key a string body names (plain bytes first: escaped keys are rare). */
static int top_key(const uint8_t *k, uint32_t n) {
    for (int which = 0; which < KEY_OTHER; which++)
        if (n == TOP_KEY_LEN[which] && !q_memcmp(k, TOP_KEYS[which], n)) return which;
    for (int which = 0; which < KEY_OTHER; which++)
        if (json_strings_equal(k, n, (const uint8_t *)TOP_KEYS[which], TOP_KEY_LEN[which])) return which;
    return KEY_OTHER;
}

/* What the transports need from a meta walk: the request id's place. */
static void take_meta(env_decoded *d, const schema_walk *w, uint32_t off, uint32_t len) {
    d->meta_off = off; d->meta_len = len;
    d->meta_needs_tape = w->needs_tape;
    int rid = w->slots[MS_REQUEST_ID];
    if (rid >= 0) {
        d->request_id_off = off + (uint32_t)schema_tok(w, rid)->start;
        d->request_id_len = schema_tok_len(w, rid);
    }
}

/* What the transports need from an error walk: code, message, details and the status. */
static int take_error(env_decoded *d, const schema_walk *w, const uint8_t *in, uint32_t eo, uint32_t len, q_error *err) {
    d->error_off = eo; d->error_len = len;
    int c = w->slots[ES_CODE], m = w->slots[ES_MESSAGE], s = w->slots[ES_HTTP_STATUS], x = w->slots[ES_DETAILS];
    d->error_code_off = eo + (uint32_t)schema_tok(w, c)->start; d->error_code_len = schema_tok_len(w, c);
    d->error_message_off = eo + (uint32_t)schema_tok(w, m)->start; d->error_message_len = schema_tok_len(w, m);
#ifndef Q_CODEC_ONLY   /* for the transports' rejects; the codec's record does not carry it */
    if (x >= 0) {
        /* the whole value, a string with its quotes: the host parses it as JSON */
        const jsmntok_t *dt = schema_tok(w, x);
        uint32_t q = dt->type == JSMN_STRING;
        d->error_details_off = eo + (uint32_t)dt->start - q; d->error_details_len = (uint32_t)(dt->end - dt->start) + 2 * q;
    }
#else
    (void)x;
#endif
    uint32_t v = 0;   /* the walk checked it: digits of 0..65535 (it refuses "-0") */
    for (uint32_t k = 0; s >= 0 && k < schema_tok_len(w, s); k++) v = v * 10 + (uint32_t)(schema_tok_ptr(w, s)[k] - '0');
    if (v >= 400 && v <= 599) {
        /* the servers honour only an error status; any other value falls back to the code */
        d->error_status = (int32_t)v;
        d->error_status_given = true;
    } else {
        /* Upper-casing happens inside; escapes in codes are rare, so decode first. */
        uint8_t *code = scratch_alloc(d->error_code_len + 1);
        if (!code) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, NULL);
        uint32_t cl = json_unescape(in + d->error_code_off, d->error_code_len, code);
        d->error_status = q_status_from_wire_code(code, cl);
    }
    return Q_OK;
}

/* One decode. Two passes (one_pass false): the envelope is validated as JSON by the scanner,
 * then meta and error are walked against their schemas, so the failure reported is the first
 * invalid JSON in the document, else the first schema failure, each with its precise cause.
 * One pass: meta and error objects are validated by their schema walks as they are read
 * (schema.h), everything else by the scanner, so the meta's bytes are read once. A walk that
 * fails had either invalid JSON, which the scanner then finds again (from the object's start: all
 * before it is valid) to report the same error, or a schema failure, which is walked again after
 * the whole envelope is validated, as in two passes: the answers are the same. */
static int decode_pass(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *d, q_error *err, bool one_pass, env_tape *tape) {
    q_memset(d, 0, sizeof *d);
    if (len > lim->max_envelope_bytes) return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, NULL, QD(ENVELOPE_SIZE_LIMIT));
    uint32_t p = json_skip_ws(in, len, 0), vend;
    if (p >= len) return q_fail(err, Q_ERR(JSON_EMPTY), (int64_t)p, NULL, NULL);
    int rc;
    if (in[p] != '{') {
        if ((rc = json_scan_value(in, len, p, 0, lim->max_depth, &vend, err))) return rc;
        return q_fail(err, Q_ERR(TYPE_MISMATCH), (int64_t)p, "", QD(AN_ENVELOPE_IS_A_JSON_OBJECT));
    }
    uint32_t span_off[3] = {0}, span_len[3] = {0};
    bool seen[3] = { false, false, false }, walked[KEY_OTHER + 1] = { false, false, false, false };
    /* a walk that fails keeps err set; one pass needs it clear to walk (callers hand it clear) */
    one_pass = one_pass && !err->status;
    schema_walk w[2];   /* meta's, error's */
    span_iter it;
    jsmntok_t key, obj = { .type = JSMN_OBJECT, .start = (int)p };
    span_iter_init(&it, in, len, &obj);
    while ((rc = span_next_checked(&it, &key, &p, err)) > 0) {
        const uint8_t *kb = in + key.start; uint32_t kl = (uint32_t)(key.end - key.start);
        int which = top_key(kb, kl);
        if (which != KEY_OTHER && seen[which]) return q_fail(err, Q_ERR(DUPLICATE_KEY), (int64_t)key.start - 1, TOP_KEYS[which], NULL);
        if (one_pass && (which == KEY_META || which == KEY_ERROR) && p < len && in[p] == '{') {
            /* the object walked where it stands, to its end; the captures taken now (the
             * walk is reused), the size limit checked once its end is known */
            bool meta = which == KEY_META;
            rc = part_walk(in + p, len - p, p, lim, meta, NULL, NULL, &w[!meta], err, false, meta ? tape : NULL);
            if (rc == Q_ERR(OUT_OF_MEMORY)) return rc;   /* whichever pass meets it */
            vend = p + w[!meta].end;
            if (!rc && vend - p <= (meta ? lim->max_meta_bytes : lim->max_error_bytes)) {
                walked[which] = true;
            } else {
                q_error_clear(err);   /* scanned, then walked again below, as in two passes */
            }
        }
        if (!walked[which] && (rc = json_scan_value(in, len, p, 1, lim->max_depth, &vend, err))) return rc;
        if (which != KEY_OTHER) { seen[which] = true; span_off[which] = p; span_len[which] = vend - p; }
        it.p = vend;
    }
    if (rc < 0) return rc;
    p = json_skip_ws(in, len, it.p + 1);
    if (p < len) return q_fail(err, Q_ERR(JSON_TRAILING), (int64_t)p, NULL, NULL);
    if (!seen[KEY_META]) return q_fail(err, Q_ERR(MISSING_FIELD), 0, "meta", NULL);
    if (!seen[KEY_PAYLOAD]) return q_fail(err, Q_ERR(MISSING_FIELD), 0, "payload", NULL);
    d->payload_off = span_off[KEY_PAYLOAD]; d->payload_len = span_len[KEY_PAYLOAD];

    if (!walked[KEY_META] &&
        (rc = env_meta_walk(in + span_off[KEY_META], span_len[KEY_META], span_off[KEY_META], lim, NULL, NULL, &w[0], err)))
        return rc;
    take_meta(d, &w[0], span_off[KEY_META], span_len[KEY_META]);
    if (tape && w[0].tape) tape->len = w[0].tape_len;   /* a meta walked again (not one pass) has none */
    uint32_t eo = span_off[KEY_ERROR];
    if (!seen[KEY_ERROR] || (span_len[KEY_ERROR] == 4 && in[eo] == 'n')) return Q_OK;   /* absent or null */
    if (!walked[KEY_ERROR] && (rc = error_walk(in + eo, span_len[KEY_ERROR], eo, lim, NULL, &w[1], err))) return rc;
    return take_error(d, &w[1], in, eo, span_len[KEY_ERROR], err);
}

int env_decode(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *d, q_error *err) {
    return decode_pass(in, len, lim, d, err, true, NULL);
}

int env_decode_taped(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *d, q_error *err, env_tape *tape) {
    tape->len = 0;
    return decode_pass(in, len, lim, d, err, true, tape);
}

int env_decode_two_pass(const uint8_t *in, uint32_t len, const env_limits *lim, env_decoded *d, q_error *err) {
    return decode_pass(in, len, lim, d, err, false, NULL);
}

/* ---- encode -------------------------------------------------------------------------- */

/* Trims JSON whitespace around a part; false when nothing is left. */
static bool trim_part(const uint8_t *p, uint32_t n, uint32_t *s, uint32_t *e) {
    *s = json_skip_ws(p, n, 0);
    *e = n;
    while (*e > *s && (p[*e - 1] == ' ' || p[*e - 1] == '\n' || p[*e - 1] == '\r' || p[*e - 1] == '\t')) (*e)--;
    return *e > *s;
}

/* Validates one part of an envelope at depth 1, where it will sit (so what we write, our
 * decoder and the server read back within the same depth limit). */
static int validate_part(const uint8_t *p, uint32_t n, uint32_t base, const env_limits *lim, const char *where, q_error *err) {
    uint32_t end;
    int rc = json_scan_value(p, n, 0, 1, lim->max_depth, &end, err);
    if (!rc && end < n) rc = q_fail(err, Q_ERR(JSON_TRAILING), (int64_t)json_skip_ws(p, n, end), NULL, NULL);
    if (rc) {
        if (err->offset >= 0) err->offset += base;
        return q_error_in(err, where);
    }
    return Q_OK;
}

/* Walks (and writes) one part, validating it as it goes (schema.h): its bytes are read once.
 * When the walk fails, the scanner reads the part again, so invalid JSON is reported as the
 * scanner names it and before any schema failure, which is reported otherwise. */
static int encode_part(const uint8_t *p, uint32_t n, uint32_t base, const env_limits *lim, bool meta,
                       const env_autofill *fill, q_buf *out, schema_walk *w, q_error *err) {
    int rc = meta ? env_meta_walk(p, n, base, lim, fill, out, w, err) : error_walk(p, n, base, lim, out, w, err);
    if (!rc && w->end == n) return Q_OK;
    int v = validate_part(p, n, base, lim, meta ? "meta" : "error", err);
    return v ? v : rc ? rc : q_fail(err, Q_ERR(INTERNAL), base, NULL, NULL);
}

/* true when autofill() would add a field the walked meta lacks. */
static bool fills_something(const env_autofill *af, const schema_walk *w) {
    if (!af || !af->fill) return false;
    if (w->slots[MS_TIMESTAMP] < 0 || w->slots[MS_REQUEST_ID] < 0 || w->slots[MS_VERSION] < 0) return true;
#ifndef Q_CODEC_ONLY
    if (af->tenant && w->slots[MS_TENANT] < 0) return true;
#endif
    return false;
}

/* The meta, most often already what the writer makes of it (JSON.stringify of an object with
 * its keys in the struct's order): then it is only validated, once, and copied with the ".0"
 * the writer adds after integral f64s; otherwise (or when the walk fails) written by encode_part
 * as always, so output and errors do not depend on the shortcut. */
#ifdef Q_CODEC_ONLY
#define fill_ahead(af, w, out, n) (fills_something(af, w) ? UINT32_MAX : 0)
#else
/* Where the copy of a canonical meta starts: 0, nothing to fill; 1, autofill()'s fields are
 * written ahead of the meta's own members, the usual client request (tenant, security... without
 * timestamp, request_id, version), as they all come before its first field in the struct's
 * order; UINT32_MAX, the writer must place them (one goes between the meta's fields), nothing
 * written. */
static uint32_t fill_ahead(const env_autofill *af, const schema_walk *w, q_buf *out, uint32_t n) {
    if (!fills_something(af, w)) return 0;
    int last = MS_TENANT, k;
    while (w->slots[last] >= 0 || (last > MS_VERSION && !(last == MS_TENANT && af->tenant))) last--;
    for (k = 0; k < last; k++)
        if (w->slots[k] >= 0) return UINT32_MAX;
    uint32_t start = out->len;
    bool first = true;
    int rc = q_buf_putc(out, '{');
    for (k = 0; k <= last && rc >= 0; k++) rc = autofill((void *)af, &ENV_FIELDS.meta[k], out, &first);
    /* then a comma and the members (room reserved for the copy), or an empty meta's "}" */
    if (rc < 0 || (n > 2 && q_buf_putc(out, ',')) || q_buf_reserve(out, n + 2 * w->f64_fixes)) {
        out->len = start;   /* the writer meets it again and reports it */
        return UINT32_MAX;
    }
    return 1;
}
#endif

static int encode_meta(const uint8_t *p, uint32_t n, uint32_t base, const env_limits *lim,
                       const env_autofill *fill, q_buf *out, schema_walk *w, q_error *err) {
    int rc = n <= lim->max_meta_bytes ? part_walk(p, n, base, lim, true, fill, NULL, w, err, true, NULL) : 1;
    if (rc == Q_ERR(OUT_OF_MEMORY)) return rc;   /* whichever walk meets it */
    uint32_t at;
    if (!rc && w->canon && w->end == n && (at = fill_ahead(fill, w, out, n)) <= 1 && !q_buf_reserve(out, n + 2 * w->f64_fixes)) {
        for (uint32_t k = 0; k <= w->f64_fixes; k++) {
            uint32_t to = k < w->f64_fixes ? w->f64_fix[k] : n;
            q_buf_put(out, p + at, to - at);   /* reserved */
            if (k < w->f64_fixes) q_buf_put(out, ".0", 2);
            at = to;
        }
        return Q_OK;
    }
    q_error_clear(err);
    return encode_part(p, n, base, lim, true, fill, out, w, err);
}

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(OUTPUT_BUFFER)); }

int env_encode(const uint8_t *meta, uint32_t meta_len, const uint8_t *payload, uint32_t payload_len,
               const uint8_t *error, uint32_t error_len, const env_limits *lim,
               const env_autofill *fill, q_buf *out, q_error *err) {
    int rc;
    uint32_t s, e;
    if ((uint64_t)meta_len + payload_len + error_len > (uint64_t)lim->max_envelope_bytes)
        return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, NULL, QD(ENVELOPE_SIZE_LIMIT));
    uint32_t start = out->len;   /* out may already hold bytes (a WebSocket frame's prefix) */
    if (q_buf_reserve(out, payload_len + meta_len + error_len + 256) || q_buf_puts(out, "{\"meta\":")) return oom(err);

    /* meta: absent or blank means {} (wire-format.md §1) */
    schema_walk w;
    if (!trim_part(meta, meta_len, &s, &e)) { meta = (const uint8_t *)"{}"; s = 0; e = 2; }
    uint32_t meta_at = out->len;
    if ((rc = encode_meta(meta + s, e - s, s, lim, fill, out, &w, err))) return rc;
    /* the canonical meta can outgrow its input (trap arrays, hyphens, fraction digits) */
    if (out->len - meta_at > lim->max_meta_bytes) return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "meta", QD(META_SIZE_LIMIT));

    /* payload: any JSON value, always written; blank means null */
    if (q_buf_puts(out, ",\"payload\":")) return oom(err);
    if (!trim_part(payload, payload_len, &s, &e)) {
        if (q_buf_puts(out, "null")) return oom(err);
    } else {
        uint32_t end, wrote;
        if (q_buf_reserve(out, e - s)) return oom(err);
        rc = json_compact_value(payload, e, s, 1, lim->max_depth, out->ptr + out->len, &end, &wrote, err);
        if (rc) return q_error_in(err, "payload");
        if (end < e) return q_fail(err, Q_ERR(JSON_TRAILING), (int64_t)json_skip_ws(payload, e, end), "payload", NULL);
        out->len += wrote;
    }

    /* error: omitted when blank or null */
    if (trim_part(error, error_len, &s, &e) && !(e - s == 4 && q_bytes_eq(error + s, 4, "null"))) {
        if (q_buf_puts(out, ",\"error\":")) return oom(err);
        if ((rc = encode_part(error + s, e - s, s, lim, false, NULL, out, &w, err))) return rc;
    }
    if (q_buf_putc(out, '}')) return oom(err);
    if (out->len - start > lim->max_envelope_bytes) return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, NULL, QD(ENVELOPE_SIZE_LIMIT));
    return Q_OK;
}
