/* Certificates through mbedtls: parsing with named errors (PEM or DER, one or more
 * certificates), the checks a client makes (validity at the host's now, host name, chain to
 * the configured CA) and an inspection record as JSON. */
#include "tls.h"
#include "json.h"
#include "rfc3339.h"
#include "mbedtls/pem.h"
#include "mbedtls/oid.h"
#include "mbedtls/asn1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ecp.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"
#define CERT_LABEL "CERTIFICATE"

static const uint8_t *find(const uint8_t *s, uint32_t n, const char *lit) {
    uint32_t m = (uint32_t)q_strlen(lit);
    for (uint32_t i = 0; m <= n && i <= n - m; i++)
        if (q_memcmp(s + i, lit, m) == 0) return s + i;
    return NULL;
}

/* DER parse errors: truncation is told apart from other malformations. */
static int der_error(int ret, int64_t at, const char *what, q_error *err) {
    if (tls_is_oom(ret)) return q_fail(err, Q_ERR(OUT_OF_MEMORY), at, what, QD(CERTIFICATE));
    if (-(-ret & 0x7F) == MBEDTLS_ERR_ASN1_OUT_OF_DATA)
        return q_fail(err, Q_ERR(CERT_TRUNCATED), at, what, QD(THE_DER_STRUCTURE_ENDS_EARLY));
    int hi = -(-ret & 0xFF80);   /* the high-level part of a summed code */
    if (hi == MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG || hi == MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE || hi == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG ||
        hi == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE || hi == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE)
        return q_fail(err, Q_ERR(CERT_BAD_DER), at, what, QD(ALGORITHM_NOT_SUPPORTED_BY_THIS_BUILD));
    return q_fail(err, Q_ERR(CERT_BAD_DER), at, what, QD(MALFORMED_X_509_STRUCTURE));
}

/* The length the outer DER header declares (header included), or 0 when unreadable.
 * mbedtls reports a short outer SEQUENCE as a format error; we name it truncation. */
static uint32_t der_declared_len(const uint8_t *d, uint32_t n) {
    if (n < 2) return 0;
    uint32_t len = d[1], hdr = 2;
    if (len & 0x80) {
        uint32_t k = len & 0x7F;
        if (k == 0 || k > 3 || n < 2 + k) return 0;
        len = 0;
        for (uint32_t i = 0; i < k; i++) len = len << 8 | d[2 + i];
        hdr += k;
    }
    return hdr + len;
}

static int parse_der(mbedtls_x509_crt *chain, const uint8_t *der, uint32_t n, int64_t at, const char *what, q_error *err) {
    uint32_t declared = der_declared_len(der, n);
    if (n < 2 || declared > n) return q_fail(err, Q_ERR(CERT_TRUNCATED), at, what, QD(THE_DER_STRUCTURE_ENDS_EARLY));
    int ret = mbedtls_x509_crt_parse_der(chain, der, n);
    if (ret) return der_error(ret, at, what, err);
    const mbedtls_x509_crt *last = chain;
    while (last->next) last = last->next;
    if (last->raw.len != n) return q_fail(err, Q_ERR(CERT_BAD_DER), at + (int64_t)last->raw.len, what, QD(DATA_AFTER_THE_CERTIFICATE));
    return Q_OK;
}

static int parse_pem(mbedtls_x509_crt *chain, const uint8_t *in, uint32_t len, const char *what, q_error *err) {
    /* mbedtls's PEM reader wants a NUL-terminated string */
    uint8_t *text = scratch_alloc(len + 1);
    if (!text) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, what, NULL);
    q_memcpy(text, in, len);
    text[len] = 0;
    uint32_t pos = 0, blocks = 0;
    const uint8_t *b;
    while ((b = find(text + pos, len - pos, PEM_BEGIN)) != NULL) {
        int64_t at = b - text;
        const uint8_t *label = b + sizeof PEM_BEGIN - 1;
        const uint8_t *end = find(label, len - (uint32_t)(label - text), PEM_DASHES);
        if (!end) return q_fail(err, Q_ERR(CERT_TRUNCATED), at, what, QD(PEM_HEADER_LINE_IS_CUT_OFF));
        if ((uint32_t)(end - label) != sizeof CERT_LABEL - 1 || q_memcmp(label, CERT_LABEL, sizeof CERT_LABEL - 1))
            return q_fail(err, Q_ERR(CERT_WRONG_TYPE), at, what, QD(EXPECTED_A_CERTIFICATE_BLOCK));
        if (!find(end, len - (uint32_t)(end - text), "-----END " CERT_LABEL PEM_DASHES))
            return q_fail(err, Q_ERR(CERT_TRUNCATED), at, what, QD(NO_END_CERTIFICATE_LINE));
        if (++blocks > Q_TLS_MAX_CHAIN_CERTS)
            return q_fail(err, Q_ERR(LIMIT_REACHED), at, what, QD(MORE_CERTIFICATES_THAN_Q_TLS_MAX_CHAIN));
        mbedtls_pem_context pem;
        mbedtls_pem_init(&pem);
        size_t used = 0;
        int ret = mbedtls_pem_read_buffer(&pem, PEM_BEGIN CERT_LABEL PEM_DASHES, "-----END " CERT_LABEL PEM_DASHES,
                                          text + at, NULL, 0, &used);
        if (ret) {
            mbedtls_pem_free(&pem);
            if (tls_is_oom(ret)) return q_fail(err, Q_ERR(OUT_OF_MEMORY), at, what, QD(PEM));
            return q_fail(err, Q_ERR(CERT_BAD_PEM), at, what, QD(INVALID_BASE64_IN_THE_PEM_BLOCK));
        }
        ret = parse_der(chain, pem.buf, (uint32_t)pem.buflen, at, what, err);
        mbedtls_pem_free(&pem);
        if (ret) return ret;
        pos = (uint32_t)at + (uint32_t)used;
    }
    if (!blocks) return q_fail(err, Q_ERR(CERT_BAD_PEM), Q_NO_OFFSET, what, QD(NO_BEGIN_CERTIFICATE_LINE));
    return Q_OK;
}

int tls_cert_parse(mbedtls_x509_crt *chain, const uint8_t *in, uint32_t len, const char *what, q_error *err) {
    mbedtls_x509_crt_init(chain);
    if (len > Q_TLS_MAX_PEM_BYTES) return q_fail(err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, what, QD(LARGER_THAN_Q_TLS_MAX_PEM_BYTES));
    if (len == 0) return q_fail(err, Q_ERR(CERT_BAD_PEM), Q_NO_OFFSET, what, QD(EMPTY_INPUT));
    if (in[0] == 0x30) return parse_der(chain, in, len, 0, what, err);   /* a DER SEQUENCE */
    return parse_pem(chain, in, len, what, err);
}

/* ---- time ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t tls_time_secs(const mbedtls_x509_time *t) {
    return days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

static int64_t now_secs(double now_ms) {
    double s = now_ms / 1000.0;
    return (int64_t)(s < 0 ? s - 1 : s);   /* floor */
}

/* 0 valid, 1 not yet valid, 2 expired */
static int validity(const mbedtls_x509_crt *c, int64_t now) {
    if (now < tls_time_secs(&c->valid_from)) return 1;
    if (now > tls_time_secs(&c->valid_to)) return 2;
    return 0;
}

/* ---- host names ------------------------------------------------------------------------ */

#define SAN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define SAN_IP  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

bool tls_cert_matches_host(const mbedtls_x509_crt *crt, const uint8_t *host, uint32_t n) {
    uint8_t ip[TLS_IP_TEXT_MAX], san[TLS_IP_TEXT_MAX];
    uint32_t ip_len = tls_host_ip_text(host, n, ip);
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
        if (ip_len) {   /* compared as canonical text: the same address in any spelling */
            if (s->buf.tag == SAN_IP && (s->buf.len == 4 || s->buf.len == 16) &&
                tls_ip_text(s->buf.p, (uint32_t)s->buf.len, san) == ip_len && q_memcmp(san, ip, ip_len) == 0) return true;
        } else if (s->buf.tag == SAN_DNS && tls_dns_name_matches(s->buf.p, (uint32_t)s->buf.len, host, n)) {
            return true;
        }
    }
    return false;
}

/* ---- checks ----------------------------------------------------------------------------- */

typedef struct { int64_t now; } verify_ctx;

/* mbedtls is built without a clock: every certificate on the verified path, the trust
 * anchor included, is checked against the host's time here. */
static int verify_time(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    int v = validity(crt, ((verify_ctx *)p)->now);
    if (v == 1) *flags |= MBEDTLS_X509_BADCERT_FUTURE;
    if (v == 2) *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
    return 0;
}

/* Chain to ca: Q_OK or a named error, and *why as a detail id (inspect writes its text, or
 * in the wasm its marker for the glue, as trustError.message). */
static int chain_status(mbedtls_x509_crt *chain, mbedtls_x509_crt *ca, int64_t now, const char **why) {
    uint32_t flags = 0;
    verify_ctx vc = { now };
    uint32_t refused = arena_refusals();
    int ret = mbedtls_x509_crt_verify(chain, ca, NULL, NULL, &flags, verify_time, &vc);
    if (ret == 0) return Q_OK;
    /* mbedtls reports a signature it could not check for lack of memory as "not trusted" */
    if (tls_is_oom(ret) || arena_refusals() != refused) { *why = QD(CHAIN_CHECK); return Q_ERR(OUT_OF_MEMORY); }
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED) { *why = QD(A_CERTIFICATE_IN_THE_CHAIN_HAS_EXPIRED); return Q_ERR(CERT_EXPIRED); }
    if (flags & MBEDTLS_X509_BADCERT_FUTURE) { *why = QD(A_CERTIFICATE_IN_THE_CHAIN_NOT_YET_VALID); return Q_ERR(CERT_NOT_YET_VALID); }
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) *why = QD(NOT_ISSUED_BY_THE_CONFIGURED_CA);
    else if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY))
        *why = QD(SIGNED_WITH_AN_ALGORITHM_OR_KEY_REFUSED);
    else if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE))
        *why = QD(A_CA_IN_THE_CHAIN_MAY_NOT_SIGN);
    else *why = QD(CHAIN_VERIFICATION_FAILED);
    return Q_ERR(CERT_UNTRUSTED);
}

int tls_cert_check(mbedtls_x509_crt *chain, mbedtls_x509_crt *ca, const uint8_t *host, uint32_t host_len,
                   double now_ms, q_error *err) {
    int64_t now = now_secs(now_ms);
    int v = validity(chain, now);
    if (v == 1) return q_fail(err, Q_ERR(CERT_NOT_YET_VALID), Q_NO_OFFSET, "cert", QD(NOTBEFORE_IS_AFTER_NOW));
    if (v == 2) return q_fail(err, Q_ERR(CERT_EXPIRED), Q_NO_OFFSET, "cert", QD(NOTAFTER_IS_BEFORE_NOW));
    if (host_len && !tls_cert_matches_host(chain, host, host_len))
        return q_fail(err, Q_ERR(CERT_WRONG_HOST), Q_NO_OFFSET, "cert", QD(NO_SUBJECTALTNAME_MATCHES_THE_HOST));
    if (ca && ca->raw.p) {
        const char *why = NULL;
        int rc = chain_status(chain, ca, now, &why);
        if (rc) return q_fail(err, rc, Q_NO_OFFSET, "cert", why);
    }
    return Q_OK;
}

/* ---- inspection ------------------------------------------------------------------------- */

static const char HEX[] = "0123456789ABCDEF";

static int put_hex(q_buf *b, const uint8_t *p, uint32_t n, bool colons) {
    int rc = q_buf_putc(b, '"');
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (colons && i) rc |= q_buf_putc(b, ':');
        rc |= q_buf_putc(b, (uint8_t)HEX[p[i] >> 4]);
        rc |= q_buf_putc(b, (uint8_t)HEX[p[i] & 15]);
    }
    return rc | q_buf_putc(b, '"');
}

/* A value as printable ASCII: other bytes as \xHH, so any string type reads safely. */
static int put_text(q_buf *b, const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        int rc;
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') rc = q_buf_putc(b, c);
        else if (c == '"' || c == '\\') rc = q_buf_putc(b, '\\') || q_buf_putc(b, c);
        else rc = jw_fmt(b, "\\\\x%r%r", &HEX[c >> 4], 1u, &HEX[c & 15], 1u);
        if (rc) return rc;
    }
    return Q_OK;
}

/* Short names of the usual attribute types (X.520 2.5.4.x, PKCS#9 email, RFC 4519 DC); any
 * other is written as OID. Ours rather than mbedtls's table, which also carries long names
 * and descriptions (about 1 KB of the module). */
static const char *attr_name(const mbedtls_x509_buf *oid) {
    static const struct { uint8_t tail; const char *name; } x520[] = {
        { 3, "CN" }, { 4, "SN" }, { 5, "serialNumber" }, { 6, "C" }, { 7, "L" }, { 8, "ST" }, { 9, "street" },
        { 10, "O" }, { 11, "OU" }, { 12, "title" }, { 42, "GN" }, { 46, "dnQualifier" }, { 65, "pseudonym" },
    };
    static const uint8_t email[] = { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01 };
    static const uint8_t dc[] = { 0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x19 };
    if (oid->len == 3 && oid->p[0] == 0x55 && oid->p[1] == 0x04)
        for (uint32_t i = 0; i < Q_ARRAY_LEN(x520); i++) if (x520[i].tail == oid->p[2]) return x520[i].name;
    if (oid->len == sizeof email && q_memcmp(oid->p, email, sizeof email) == 0) return "emailAddress";
    if (oid->len == sizeof dc && q_memcmp(oid->p, dc, sizeof dc) == 0) return "DC";
    return "OID";
}

/* "CN=..., O=..." in the certificate's order, multi-valued RDNs joined by " + ". */
static int put_dn(q_buf *b, const mbedtls_x509_name *dn) {
    int rc = q_buf_putc(b, '"');
    bool first = true;
    for (const mbedtls_x509_name *n = dn; n && !rc; n = n->next) {
        if (!n->oid.p) continue;
        if (!first) rc |= q_buf_puts(b, ", ");
        first = false;
        rc |= q_buf_puts(b, attr_name(&n->oid)) || q_buf_putc(b, '=') || put_text(b, n->val.p, (uint32_t)n->val.len);
        while (n->next_merged && n->next && !rc) {   /* the rest of a multi-valued RDN */
            n = n->next;
            rc |= q_buf_puts(b, " + ") || q_buf_puts(b, attr_name(&n->oid)) || q_buf_putc(b, '=') ||
                  put_text(b, n->val.p, (uint32_t)n->val.len);
        }
    }
    return rc | q_buf_putc(b, '"');
}

/* "2027-06-01T00:00:00Z": the core's RFC 3339 writer (X.509 years are 0000-9999). */
static int put_time(q_buf *b, const mbedtls_x509_time *t) {
    uint8_t s[RFC3339_MAX_LEN];
    q_time at = { tls_time_secs(t), 0 };
    return jw_fmt(b, "\"%r\"", s, rfc3339_format(at, RFC3339_Z, s));
}

static int put_sans(q_buf *b, const mbedtls_x509_crt *crt) {
    int rc = q_buf_putc(b, '[');
    uint32_t count = 0;
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p && !rc; s = s->next) {
        if (count++ == Q_TLS_MAX_SAN_ENTRIES) break;
        if (count > 1) rc |= q_buf_putc(b, ',');
        if (s->buf.tag == SAN_DNS) {
            rc |= q_buf_puts(b, "{\"type\":\"dns\",\"value\":\"") || put_text(b, s->buf.p, (uint32_t)s->buf.len) || q_buf_puts(b, "\"}");
        } else if (s->buf.tag == SAN_IP && (s->buf.len == 4 || s->buf.len == 16)) {
            uint8_t ip[TLS_IP_TEXT_MAX];
            rc |= jw_fmt(b, "{\"type\":\"ip\",\"value\":\"%r\"}", ip, tls_ip_text(s->buf.p, (uint32_t)s->buf.len, ip));
        } else {
            rc |= jw_fmt(b, "{\"type\":\"other\",\"tag\":%u}", (uint32_t)(s->buf.tag & 0x1F));
        }
    }
    return rc | q_buf_putc(b, ']');
}

static int put_key(q_buf *b, const mbedtls_pk_context *pk) {
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    const char *type = t == MBEDTLS_PK_RSA ? "RSA" : (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA) ? "EC" : "other";
    const char *curve = "";
    if (*type == 'E' && mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1) curve = ",\"curve\":\"P-256\"";
    return jw_fmt(b, "\"keyType\":\"%s\",\"keyBits\":%u%s", type, (uint32_t)mbedtls_pk_get_bitlen(pk), curve);
}

int tls_cert_inspect(mbedtls_x509_crt *chain, mbedtls_x509_crt *ca, const uint8_t *host, uint32_t host_len,
                     double now_ms, double refresh_ms, q_buf *out) {
    const mbedtls_x509_crt *c = chain;
    int64_t now = now_secs(now_ms);
    uint8_t fp[32];
    tls_sha256(c->raw.p, (uint32_t)c->raw.len, fp);
    static const char *const state[] = { "valid", "not_yet_valid", "expired" };
    int v = validity(c, now);
    double expires_in = (double)(tls_time_secs(&c->valid_to) - now) * 1000.0;
    uint32_t chain_len = 0;
    for (const mbedtls_x509_crt *k = chain; k && k->raw.p; k = k->next) chain_len++;
    int rc = q_buf_puts(out, "{\"subject\":") || put_dn(out, &c->subject) ||
             q_buf_puts(out, ",\"issuer\":") || put_dn(out, &c->issuer) ||
             q_buf_puts(out, ",\"serial\":") || put_hex(out, c->serial.p, (uint32_t)c->serial.len, false) ||
             q_buf_puts(out, ",\"notBefore\":") || put_time(out, &c->valid_from) ||
             q_buf_puts(out, ",\"notAfter\":") || put_time(out, &c->valid_to) ||
             q_buf_puts(out, ",\"fingerprint256\":") || put_hex(out, fp, 32, true) ||
             q_buf_puts(out, ",\"sans\":") || put_sans(out, c) || q_buf_putc(out, ',') || put_key(out, &c->pk) ||
             jw_fmt(out, ",\"isCA\":%s,\"version\":%u,\"chainLength\":%u,\"validity\":\"%s\",\"expiresInMs\":",
                    c->ca_istrue ? "true" : "false", (uint32_t)c->version, chain_len, state[v]) ||
             jw_i64(out, (int64_t)expires_in) ||
             jw_fmt(out, ",\"refreshDue\":%s,\"hostMatch\":", v == 0 && expires_in <= refresh_ms ? "true" : v == 2 ? "true" : "false");
    if (rc) return Q_ERR(OUT_OF_MEMORY);
    rc = q_buf_puts(out, !host_len ? "null" : tls_cert_matches_host(c, host, host_len) ? "true" : "false") ||
         q_buf_puts(out, ",\"trusted\":");
    if (rc) return Q_ERR(OUT_OF_MEMORY);
    if (ca && ca->raw.p) {
        const char *why = NULL;
        int st = chain_status(chain, ca, now, &why);
        if (st == Q_ERR(OUT_OF_MEMORY)) return st;
        q_error text;   /* the detail as error messages carry it: text, or the glue's marker */
        q_error_clear(&text);
        q_msg_append(&text, why);
        rc = st == Q_OK ? q_buf_puts(out, "true,\"trustError\":null")
                        : jw_fmt(out, "false,\"trustError\":{\"code\":\"%s\",\"message\":%j}", q_status_code(st), text.message,
                                 (uint32_t)q_strlen(text.message));
    } else {
        rc = q_buf_puts(out, "null,\"trustError\":null");
    }
    return rc || q_buf_putc(out, '}') ? Q_ERR(OUT_OF_MEMORY) : Q_OK;
}
