/* Request headers (wire-format.md §4): the client's own (Content-Type, one per meta field,
 * Authorization) and the extra ones from rest.headers and the call, each checked so that
 * fetch sends exactly what the plan says. */
#include "rest_headers.h"
#include "envelope.h"
#include "json.h"
#include "base64.h"
#include "url.h"
#include "token.h"
#include "qollective.h"
#include "span.h"
#ifdef Q_TLS
#include "tls.h"
#endif

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(REQUEST)); }

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
    h->bytes += (uint32_t)q_strlen(name) + n;   /* as the server counts: names and values */
}

/* How a meta field travels in its header. */
enum { HV_RAW, HV_BASE64, HV_TIMESTAMP, HV_TEXT, HV_JSON };

/* Headers the client writes itself, in the order they are sent: Content-Type (bodies only),
 * one per meta field (from the canonical meta), Authorization (when a token is configured,
 * last). An extra header of the same name would travel as a second value ("<uuid>, other")
 * and contradict the body. */
static const char OWN_HEADERS[] =   /* NUL-separated (no pointer table); FORBIDDEN_HEADERS follow */
    "Content-Type\0X-Qollective-Request-Id\0X-Qollective-Tenant\0X-Qollective-Version\0"
    "X-Qollective-Timestamp\0X-Qollective-User-Id\0X-Qollective-Session-Id\0"
    "X-Qollective-Trace-Id\0X-Qollective-Span-Id\0X-On-Behalf-Of\0Authorization\0"
/* Names fetch refuses or silently drops (Fetch standard, forbidden request headers), and the
 * meta header the server would read instead of ours: refused before anything is sent. One
 * list with the own headers, so an extra header's name is looked up in one walk. */
#define FORBIDDEN_HEADERS \
    "Accept-Charset\0Accept-Encoding\0Access-Control-Request-Headers\0Access-Control-Request-Method\0" \
    "Connection\0Content-Length\0Cookie\0Cookie2\0Date\0DNT\0Expect\0Host\0Keep-Alive\0" \
    "Origin\0Referer\0Set-Cookie\0TE\0Trailer\0Transfer-Encoding\0Upgrade\0Via\0" \
    "X-Qollective-Meta\0"
    FORBIDDEN_HEADERS;   /* "" ends */
#define OWN_META_FIRST 1   /* X-Qollective-Request-Id */
#define OWN_TEXT_FIRST 5   /* X-Qollective-User-Id */
#define OWN_META_END 10    /* Authorization, the last */
#define OWN_COUNT 11
/* For OWN_HEADERS[OWN_META_FIRST..OWN_META_END): the meta field and how it travels. */
static const uint8_t META_HEADER_SLOT[] = {
    MS_REQUEST_ID, MS_TENANT, MS_VERSION, MS_TIMESTAMP, MS_USER_ID, MS_SESSION_ID, MS_TRACE_ID, MS_SPAN_ID, MS_ON_BEHALF_OF,
};
static const uint8_t META_HEADER_KIND[] = {
    HV_RAW /* canonical: 36 bytes */, HV_BASE64, HV_BASE64, HV_TIMESTAMP, HV_TEXT, HV_TEXT, HV_TEXT, HV_TEXT, HV_JSON,
};
/* The meta field named when a HV_TEXT value cannot travel (from OWN_HEADERS[OWN_TEXT_FIRST]). */
static const char META_HEADER_PATH[] =
    "meta.security.user_id\0meta.security.session_id\0meta.tracing.trace_id\0meta.tracing.span_id\0";
_Static_assert(OWN_META_END + 1 == OWN_COUNT, "Authorization is the last own header");
_Static_assert(Q_ARRAY_LEN(META_HEADER_SLOT) == OWN_META_END - OWN_META_FIRST, "one meta slot per meta header");
_Static_assert(Q_ARRAY_LEN(META_HEADER_KIND) == OWN_META_END - OWN_META_FIRST, "one encoding per meta header");
/* the HV_TEXT headers run from OWN_TEXT_FIRST to the one before X-On-Behalf-Of */
_Static_assert(OWN_META_END - 1 - OWN_TEXT_FIRST == 4, "one path per text meta header (META_HEADER_PATH)");

/* Adds the header of one meta field, when the meta has it. */
static int header_from_meta(header_list *h, uint32_t k, schema_walk *w, q_error *err) {
    uint8_t kind = META_HEADER_KIND[k - OWN_META_FIRST];
    int tok = w->slots[META_HEADER_SLOT[k - OWN_META_FIRST]];
    if (tok < 0) return Q_OK;
    const uint8_t *p = schema_tok_ptr(w, tok);
    uint32_t n = schema_tok_len(w, tok);
    uint8_t *v = (uint8_t *)p, txt[RFC3339_MAX_LEN + 6];
    if (kind == HV_TIMESTAMP) {
        /* same instant as the body, in the +00:00 form native clients send: the canonical meta
         * holds rfc3339_format's Z form, which differs from the +00:00 form only in that suffix */
        v = txt;
        q_memcpy(txt, p, --n);
        q_memcpy(txt + n, "+00:00", 6);
        n += 6;
    } else if (kind == HV_JSON) {
        /* JSON text with DEL and non-ASCII as \uXXXX: travels in a header, parses the same */
        uint32_t w = json_escape(p, n, NULL, 0xFFFFFFFFu, JE_ASCII, NULL);
        if (!(v = scratch_alloc(w + 1))) return oom(err);
        n = json_escape(p, n, v, w, JE_ASCII, NULL);
    } else if (kind != HV_RAW) {
        if (!(v = scratch_alloc(n + 1))) return oom(err);
        n = json_unescape(p, n, v);
        if (kind == HV_BASE64) {
            uint8_t *b64 = scratch_alloc(b64_encoded_len(n) + 1);
            if (!b64) return oom(err);
            n = b64_encoded_len(n) ? b64_encode(v, n, b64) : 0;
            v = b64;
        } else {
            /* HTTP strips leading/trailing whitespace: the server would read another value than the body's */
            const char *why = !header_value_ok(v, n) ? QD(CANNOT_TRAVEL_IN_AN_HTTP_HEADER_CONTROL)
                            : n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t') ? QD(CANNOT_TRAVEL_IN_AN_HTTP_HEADER_LEADING)
                            : NULL;
            if (why) return q_fail(err, Q_ERR(INVALID_VALUE), schema_tok_offset(w, tok), list_nth(META_HEADER_PATH, k - OWN_TEXT_FIRST), why);
        }
    }
    header_add(h, list_nth(OWN_HEADERS, k), v, n);
    return Q_OK;
}


/* A JSON object of strings (validated), where it sits: rest.headers or the call's headers. */
typedef struct { const uint8_t *js; uint32_t len, base; jsmntok_t obj; } header_map;

/* true when the map has a key naming the header (raw key text; a key with escapes is no
 * header name and fails validation anyway). Header names compare ASCII case-insensitively. */
static bool map_has(const header_map *m, const uint8_t *name, uint32_t n) {
    if (!m) return false;
    span_iter it;
    jsmntok_t key, val;
    span_iter_init(&it, m->js, m->len, &m->obj);
    while (span_next(&it, &key, &val))
        if (url_case_eq(m->js + key.start, (uint32_t)(key.end - key.start), name, n)) return true;
    return false;
}

/* Adds extra headers from a map (config or call). Names in `over` (the call's headers, when
 * adding the configured defaults) are left to that map. Authorization is the client's own
 * only when a token is configured. */
static int headers_from_map(header_list *h, const header_map *m, const header_map *over, bool own_auth,
                            const char *path, q_error *err) {
    span_iter it;
    jsmntok_t key, vt;
    span_iter_init(&it, m->js, m->len, &m->obj);
    while (span_next(&it, &key, &vt)) {
        const uint8_t *kp = m->js + key.start; uint32_t kl = (uint32_t)(key.end - key.start);
        /* every refusal names the key (or the value) it is about: one q_fail below */
        const char *why = NULL, *refused = QD(HEADER_NOT_ALLOWED_FORBIDDEN_BY_FETCH_OR);
        int status = Q_ERR(INVALID_VALUE);
        const jsmntok_t *at = &key;
        uint32_t r = 0;   /* the own headers, then the forbidden ones (disjoint lists) */
        for (const char *o = OWN_HEADERS; *o; o += q_strlen(o) + 1, r++)
            if (url_case_eq(kp, kl, (const uint8_t *)o, (uint32_t)q_strlen(o)) && (r != OWN_META_END || own_auth))   /* Authorization */
                why = r < OWN_COUNT ? QD(HEADER_IS_WRITTEN_BY_THE_CLIENT_FROM) : refused;
        if ((kl > 6 && url_case_eq(kp, 6, (const uint8_t *)"proxy-", 6)) || (kl > 4 && url_case_eq(kp, 4, (const uint8_t *)"sec-", 4)))
            why = refused;
        if (!why) {
            if (map_has(over, kp, kl)) continue;
            const uint8_t *vp = m->js + vt.start; uint32_t vl = (uint32_t)(vt.end - vt.start);
            uint8_t *name = scratch_alloc(kl + 1), *val = scratch_alloc(vl + 1);
            if (!name || !val) return oom(err);
            kl = json_unescape(kp, kl, name); name[kl] = 0;
            vl = json_unescape(vp, vl, val);
            if (!header_name_ok(name, kl)) why = QD(NOT_A_VALID_HEADER_NAME);
            else if (!header_value_ok(val, vl)) { why = QD(HEADER_VALUE_HAS_CONTROL_OR_NON_ASCII); at = &vt; }
            else if (++h->extra > Q_MAX_HEADER_COUNT) { status = Q_ERR(LIMIT_REACHED); why = QD(MORE_THAN_64_EXTRA_HEADERS); }
            else { header_add(h, (const char *)name, val, vl); continue; }
        }
        return q_fail(err, status, (int64_t)m->base + at->start - 1, path, why);
    }
    return Q_OK;
}


int rest_headers_write(q_client *c, q_buf *out, bool has_body, schema_walk *mw, const schema_walk *ow, int call_slot,
                       uint32_t *own, q_error *err) {
    const q_config *cfg = &c->cfg;
    bool own_auth = cfg->auth_token_name.len != 0;
    int rc;
    header_list h = { out, 0, 0, 0, 0 };
    if (has_body) header_add(&h, OWN_HEADERS, (const uint8_t *)"application/json", 16);   /* Content-Type */
    for (uint32_t k = OWN_META_FIRST; k < OWN_META_END; k++)
        if ((rc = header_from_meta(&h, k, mw, err))) return rc;
    *own = h.count;
    if (own_auth) {
        uint32_t tl;
        const uint8_t *tok = token_get(c, cfg->auth_token_name.ptr, cfg->auth_token_name.len, &tl);
        if (!tok) return q_fail(err, Q_ERR(NO_TOKEN), Q_NO_OFFSET, "security.auth_token",
                                token_expired(c, cfg->auth_token_name.ptr, cfg->auth_token_name.len)
                                    ? QD(THE_CONFIGURED_TOKEN_EXPIRED) : QD(THE_CONFIGURED_TOKEN_IS_NOT_SET));
        const uint8_t *scheme = cfg->auth_scheme.len ? cfg->auth_scheme.ptr : (const uint8_t *)"Bearer";
        uint32_t sl = cfg->auth_scheme.len ? cfg->auth_scheme.len : 6;
        uint8_t *v = scratch_alloc(sl + 1 + tl);
        if (!v) return oom(err);
        q_memcpy(v, scheme, sl); v[sl] = ' '; q_memcpy(v + sl + 1, tok, tl);
        header_add(&h, list_nth(OWN_HEADERS, OWN_META_END), v, sl + 1 + tl);
        q_wipe(v, sl + 1 + tl);   /* the only copy left is in the plan the host consumes */
    }
    header_map call = { 0 };
    if (ow && call_slot >= 0) { call.js = ow->js; call.len = ow->len; call.base = ow->base; call.obj = *schema_tok(ow, call_slot); }
    const header_map *over = call.js ? &call : NULL;
#ifdef Q_TLS
    /* for TLS-terminating proxies (browsers own TLS client auth): the certificate, never the key;
     * after *own, so a cross-origin redirect strips it like Authorization */
    if (cfg->client_cert_header) {
        const uint8_t *der;
        uint32_t dn;
        if ((rc = tls_client_cert_der(c, &der, &dn, err))) return rc;
        uint8_t *b64 = scratch_alloc(b64_encoded_len(dn) + 1);
        if (!b64) return oom(err);
        header_add(&h, "X-Client-Cert", b64, b64_encode(der, dn, b64));
    }
#endif
    if (cfg->headers_json.len) {
        header_map cm = { cfg->headers_json.ptr, cfg->headers_json.len, 0, { 0 } };
        span_value(cm.js, cm.len, 0, &cm.obj);
        if ((rc = headers_from_map(&h, &cm, over, own_auth, "rest.headers", err))) return rc;
    }
    if (over && (rc = headers_from_map(&h, over, NULL, own_auth, "options.headers", err))) return rc;
    if (h.rc) return oom(err);
    if (h.bytes > cfg->max_header_bytes)
        return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "headers", QD(REQUEST_HEADERS_EXCEED_LIMITS_MAX_HEADER));
    return Q_OK;
}
