/* HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530), TLS module only: the
 * signature base built exactly per RFC 9421 §2.5, signed with the client's key (ECDSA P-256 as
 * raw r||s per §3.3.4, or RSA PKCS#1 v1.5 per §3.3.2), and the headers that carry it.
 *   Content-Digest:  sha-256=:<Base64 of SHA-256(body)>:
 *   Signature-Input: sig1=("@method" "@target-uri" "content-digest" "x-qollective-request-id");created=<s>;keyid="<id>";alg="ecdsa-p256-sha256"
 *   Signature:       sig1=:<Base64 signature>:
 * A component the message does not have is not covered (no body: no content-digest). */
#include "tls.h"
#include "instance.h"
#include "base64.h"
#include "json.h"
#include "qollective.h"

/* An sf-string (RFC 8941 §3.3.3): quoted, with '"' and '\' escaped; the caller checked that
 * every byte is printable ASCII. */
static int sf_string(q_buf *out, const uint8_t *s, uint32_t n) {
    int rc = q_buf_putc(out, '"');
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (s[i] == '"' || s[i] == '\\') rc = q_buf_putc(out, '\\');
        if (!rc) rc = q_buf_putc(out, s[i]);
    }
    return rc || q_buf_putc(out, '"');
}

int httpsig_params_write(q_buf *out, const httpsig_component *c, uint32_t n, const httpsig_params *p) {
    int rc = q_buf_putc(out, '(');
    for (uint32_t i = 0; i < n && !rc; i++) rc = jw_fmt(out, i ? " \"%s\"" : "\"%s\"", c[i].name);
    if (!rc) rc = q_buf_putc(out, ')');
    if (!rc && p->created >= 0) rc = jw_fmt(out, ";created=%U", (uint64_t)p->created);
    if (!rc && p->keyid) rc = q_buf_puts(out, ";keyid=") || sf_string(out, p->keyid, p->keyid_len);
    if (!rc && p->alg) rc = jw_fmt(out, ";alg=\"%s\"", p->alg);
    return rc;
}

int httpsig_base(q_buf *out, const httpsig_component *c, uint32_t n, const httpsig_params *p) {
    int rc = Q_OK;
    for (uint32_t i = 0; i < n && !rc; i++) rc = jw_fmt(out, "\"%s\": %r\n", c[i].name, c[i].value, c[i].len);
    return rc || q_buf_puts(out, "\"@signature-params\": ") || httpsig_params_write(out, c, n, p);
}

/* Appends ,["name","value"] to a JSON header list (value JSON-escaped). */
static int header(q_buf *h, bool *first, const char *name, const uint8_t *v, uint32_t n) {
    int rc = jw_fmt(h, "%s[\"%s\",%j]", *first ? "" : ",", name, v, n);
    *first = false;
    return rc;
}

/* "label=:<b64>:" style values: prefix, Base64 of bytes, suffix. */
static uint8_t *b64_wrapped(const char *prefix, const uint8_t *bytes, uint32_t n, const char *suffix, uint32_t *len) {
    uint32_t pl = (uint32_t)q_strlen(prefix), sl = (uint32_t)q_strlen(suffix), bl = b64_encoded_len(n);
    uint8_t *v = scratch_alloc(pl + bl + sl + 1);
    if (!v) return NULL;
    q_memcpy(v, prefix, pl);
    b64_encode(bytes, n, v + pl);
    q_memcpy(v + pl + bl, suffix, sl);
    *len = pl + bl + sl;
    return v;
}

int tls_sign_message(q_client *c, const char *method, const uint8_t *url, uint32_t url_len, const uint8_t *body_sha256,
                     const uint8_t *request_id, uint32_t request_id_len, double now_ms,
                     const uint8_t *seed, uint32_t seed_len, q_buf *headers, bool first, q_error *err) {
    q_instance *I = instance();
    tls_creds tmp = {0};
    const tls_creds *cr = tls_effective(I, c, &tmp, true);
    if (!cr) { q_error_in(err, "security.sign_requests"); return err->status; }
    int rc = cr ? Q_OK : err->status;
    if (!rc && !cr->has_key)
        rc = q_fail(err, Q_ERR(TLS_NO_CREDENTIALS), Q_NO_OFFSET, "security.sign_requests", QD(NO_PRIVATE_KEY_CONFIGURED_OR_EMBEDDED));
    const char *alg = NULL;
    if (!rc) {
        mbedtls_pk_type_t t = mbedtls_pk_get_type(&cr->key);
        alg = t == MBEDTLS_PK_RSA ? "rsa-v1_5-sha256" : t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA ? "ecdsa-p256-sha256" : NULL;
        if (!alg) rc = q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "security.sign_requests", QD(THE_KEY_CAN_SIGN_NEITHER_ALGORITHM));
    }
    /* keyid: configured, else the SHA-256 of the certificate (lowercase hex), which a server can map to the certificate it knows */
    const q_config *cfg = &c->cfg;
    uint8_t fp_hex[64];
    httpsig_params p = { (int64_t)(now_ms / 1000), cfg->signature_key_id.ptr, cfg->signature_key_id.len, alg };
    if (!rc && !p.keyid) {
        uint8_t fp[32];
        tls_sha256(cr->cert.raw.p, (uint32_t)cr->cert.raw.len, fp);
        for (int i = 0; i < 32; i++) { fp_hex[2 * i] = "0123456789abcdef"[fp[i] >> 4]; fp_hex[2 * i + 1] = "0123456789abcdef"[fp[i] & 15]; }
        p.keyid = fp_hex; p.keyid_len = 64;
    }
    httpsig_component comp[4];
    uint32_t n = 0;
    comp[n++] = (httpsig_component){ "@method", (const uint8_t *)method, (uint32_t)q_strlen(method) };
    comp[n++] = (httpsig_component){ "@target-uri", url, url_len };
    if (!rc && body_sha256) {
        uint32_t dl;
        uint8_t *digest = b64_wrapped("sha-256=:", body_sha256, 32, ":", &dl);
        if (!digest) rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "signature", NULL);
        else {
            comp[n++] = (httpsig_component){ "content-digest", digest, dl };
            rc = header(headers, &first, "Content-Digest", digest, dl) ? q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "signature", NULL) : Q_OK;
        }
    }
    if (request_id) comp[n++] = (httpsig_component){ "x-qollective-request-id", request_id, request_id_len };
    q_buf base = {0}, input = {0};
    uint8_t sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    int sl = 0;
    if (!rc && (httpsig_base(&base, comp, n, &p) || q_buf_puts(&input, Q_SIGNATURE_LABEL "=") || httpsig_params_write(&input, comp, n, &p)))
        rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "signature", NULL);
    if (!rc && (sl = tls_sign((mbedtls_pk_context *)&cr->key, base.ptr, base.len, seed, seed_len, sig, sizeof sig, err)) < 0) rc = sl;
    uint32_t vl;
    uint8_t *v = rc ? NULL : b64_wrapped(Q_SIGNATURE_LABEL "=:", sig, (uint32_t)sl, ":", &vl);
    if (!rc && !v) rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "signature", NULL);
    if (!rc && (header(headers, &first, "Signature-Input", input.ptr, input.len) || header(headers, &first, "Signature", v, vl)))
        rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "signature", NULL);
    tls_creds_free(&tmp);
    tls_stack_wipe();
    return rc;
}
