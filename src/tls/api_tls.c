/* The TLS module's exports (include/qollective.h, "TLS module"): credentials per client,
 * certificate inspection and checks, SHA-256/HMAC and signing. Every one takes a client
 * handle first (-1 or ignored where none is needed), then input lengths, so the glue calls
 * them all the same way. Only dist/qollective-tls.wasm
 * has them; the glue tells modules apart by these names. */
#include "qollective.h"
#include "instance.h"
#include "tls.h"
#include "json.h"

/* The credentials a call uses: the client's own when it has any, else the compiled-in set
 * (parsed into tmp; the caller frees tmp). NULL and the error record set on failure. */
const tls_creds *tls_effective(void *instance, q_client *c, tls_creds *tmp, bool need_key) {
    q_instance *I = instance;
    if (c && c->tls) return c->tls;
    if (tls_creds_load(tmp, tls_embedded_ca.ptr, tls_embedded_ca.len, tls_embedded_cert.ptr, tls_embedded_cert.len,
                       tls_embedded_key.ptr, need_key ? tls_embedded_key.len : 0, &I->err)) {
        q_error_in(&I->err, "embedded");
        return NULL;
    }
    return tmp;
}

int tls_client_cert_der(q_client *c, const uint8_t **der, uint32_t *n, q_error *err) {
    q_instance *I = instance();
    tls_creds tmp = {0};
    const tls_creds *cr = tls_effective(I, c, &tmp, false);
    int rc = cr ? Q_OK : err->status;
    if (!rc && !cr->has_cert) rc = q_fail(err, Q_ERR(TLS_NO_CREDENTIALS), Q_NO_OFFSET, "security.client_cert_header", QD(NO_CERTIFICATE_CONFIGURED_OR_EMBEDDED));
    if (!rc) {
        uint8_t *copy = scratch_alloc((uint32_t)cr->cert.raw.len);   /* outlives tmp until the call ends */
        if (!copy) rc = q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "security.client_cert_header", NULL);
        else { q_memcpy(copy, cr->cert.raw.p, cr->cert.raw.len); *der = copy; *n = (uint32_t)cr->cert.raw.len; }
    }
    tls_creds_free(&tmp);
    return rc;
}

void tls_client_release(q_client *c) {
    if (!c->tls) return;
    tls_creds_free(c->tls);
    q_free(c->tls);
    c->tls = NULL;
}

Q_EXPORT(q_tls_credentials) int32_t q_tls_credentials(int32_t client, uint32_t ca_len, uint32_t cert_len, uint32_t key_len) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, (uint64_t)ca_len + cert_len + key_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    uint8_t *in = I->in;
    tls_creds *n = NULL;
    int rc = Q_OK;
    if (ca_len || cert_len || key_len) {
        n = q_calloc(1, sizeof *n);
        if (!n) rc = q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "credentials", NULL);
        else rc = tls_creds_load(n, in, ca_len, in + ca_len, cert_len, in + ca_len + cert_len, key_len, &I->err);
        if (rc) { q_free(n); n = NULL; }
    }
    q_wipe(in + ca_len + cert_len, key_len);   /* the input buffer keeps no copy of the key */
    tls_stack_wipe();
    if (rc) return call_end(I, rc);
    tls_client_release(c);                      /* the old set is wiped only once the new one parsed */
    c->tls = n;
    tls_stack_wipe();
    return call_end(I, Q_OK);
}

/* Shared by inspect and check: parses the certificate and picks the CA. */
static int cert_call(q_instance *I, int32_t client, uint32_t cert_len, uint32_t host_len, mbedtls_x509_crt *chain,
                     tls_creds *tmp, const tls_creds **cr) {
    q_client *c = client_get(I, client, true);
    if (!c && client != -1) return Q_ERR(BAD_HANDLE);
    if (!input_ok(I, (uint64_t)cert_len + host_len)) return Q_ERR(BAD_ARGUMENT);
    if (!(*cr = tls_effective(I, c, tmp, false))) return I->err.status;
    return tls_cert_parse(chain, I->in, cert_len, "cert", &I->err);
}

Q_EXPORT(q_tls_cert_inspect) int32_t q_tls_cert_inspect(int32_t client, uint32_t cert_len, uint32_t host_len, double now_ms, double refresh_ms) {
    BEGIN();
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    tls_creds tmp = {0};
    const tls_creds *cr = NULL;
    q_buf out = {0};
    int rc = cert_call(I, client, cert_len, host_len, &chain, &tmp, &cr);
    if (!rc) {
        rc = tls_cert_inspect(&chain, cr->has_ca ? (mbedtls_x509_crt *)&cr->ca : NULL, I->in + cert_len, host_len, now_ms,
                              refresh_ms > 0 ? refresh_ms : Q_TLS_DEFAULT_REFRESH_MS, &out);
        if (rc) q_fail(&I->err, rc, Q_NO_OFFSET, "inspect", NULL);
    }
    mbedtls_x509_crt_free(&chain);
    tls_creds_free(&tmp);
    return output_end(I, rc, &out);
}

Q_EXPORT(q_tls_cert_check) int32_t q_tls_cert_check(int32_t client, uint32_t cert_len, uint32_t host_len, double now_ms) {
    BEGIN();
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    tls_creds tmp = {0};
    const tls_creds *cr = NULL;
    int rc = cert_call(I, client, cert_len, host_len, &chain, &tmp, &cr);
    if (!rc) rc = tls_cert_check(&chain, cr->has_ca ? (mbedtls_x509_crt *)&cr->ca : NULL, I->in + cert_len, host_len, now_ms, &I->err);
    mbedtls_x509_crt_free(&chain);
    tls_creds_free(&tmp);
    return call_end(I, rc);
}

static int32_t output_bytes(q_instance *I, const uint8_t *p, uint32_t n) {
    q_buf out = {0};
    return output_end(I, q_buf_put(&out, p, n) ? q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, NULL) : Q_OK, &out);
}

Q_EXPORT(q_tls_sha256) int32_t q_tls_sha256(int32_t client, uint32_t len) {
    BEGIN();
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    uint8_t d[32];
    tls_sha256(I->in, len, d);
    return output_bytes(I, d, 32);
}

Q_EXPORT(q_tls_hmac_sha256) int32_t q_tls_hmac_sha256(int32_t client, uint32_t key_len, uint32_t len) {
    BEGIN();
    if (!input_ok(I, (uint64_t)key_len + len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    uint8_t d[32];
    int rc = tls_hmac_sha256(I->in, key_len, I->in + key_len, len, d, &I->err);
    q_wipe(I->in, key_len);
    tls_stack_wipe();
    if (rc) return call_end(I, rc);
    return output_bytes(I, d, 32);
}

Q_EXPORT(q_tls_sign) int32_t q_tls_sign(int32_t client, uint32_t len) {
    BEGIN();
    q_client *c = client_get(I, client, true);
    if (!c && client != -1) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (len > Q_TLS_MAX_SIGN_BYTES) return call_end(I, q_fail(&I->err, Q_ERR(TOO_LARGE), Q_NO_OFFSET, "sign", QD(LARGER_THAN_Q_TLS_MAX_SIGN_BYTES)));
    tls_creds tmp = {0};
    const tls_creds *cr = tls_effective(I, c, &tmp, true);
    int rc = cr ? Q_OK : I->err.status;
    uint8_t sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    if (!rc && !cr->has_key) rc = q_fail(&I->err, Q_ERR(TLS_NO_CREDENTIALS), Q_NO_OFFSET, "key", QD(NO_PRIVATE_KEY_CONFIGURED_OR_EMBEDDED));
    if (!rc) rc = tls_sign((mbedtls_pk_context *)&cr->key, I->in, len, I->entropy, I->entropy_cap, sig, sizeof sig, &I->err);
    tls_creds_free(&tmp);
    if (I->entropy) q_wipe(I->entropy, I->entropy_cap);   /* never reuse a seed */
    tls_stack_wipe();
    if (rc < 0) return call_end(I, rc);
    return output_bytes(I, sig, (uint32_t)rc);
}

/* The client's certificate as DER (for the X-Client-Cert header; never the key). */
Q_EXPORT(q_tls_client_cert) int32_t q_tls_client_cert(int32_t client) {
    BEGIN();
    q_client *c = client_get(I, client, true);
    if (!c && client != -1) return call_end(I, Q_ERR(BAD_HANDLE));
    tls_creds tmp = {0};
    const tls_creds *cr = tls_effective(I, c, &tmp, false);
    int32_t rc;
    if (!cr) rc = call_end(I, I->err.status);
    else if (!cr->has_cert) rc = call_end(I, q_fail(&I->err, Q_ERR(TLS_NO_CREDENTIALS), Q_NO_OFFSET, "cert", QD(NO_CERTIFICATE_CONFIGURED_OR_EMBEDDED)));
    else rc = output_bytes(I, cr->cert.raw.p, (uint32_t)cr->cert.raw.len);
    tls_creds_free(&tmp);
    return rc;
}

/* The compiled-in credentials as PEM, for the host's own TLS stack (Node's tls: mTLS needs the
 * key there, and only there): [u32le length][bytes] for ca, cert and key. The glue copies them
 * out, wipes this output and hands the copies to the host (js-glue/node-tls.js), which keeps
 * them in its TLS context only. Scratch is wiped before the next call. */
Q_EXPORT(q_tls_host_credentials) int32_t q_tls_host_credentials(int32_t client) {
    BEGIN();
    q_buf out = {0};
    int rc = Q_OK;
    const tls_blob *parts[] = { &tls_embedded_ca, &tls_embedded_cert, &tls_embedded_key };
    for (uint32_t k = 0; k < 3 && !rc; k++) {
        uint8_t len[4] = { (uint8_t)parts[k]->len, (uint8_t)(parts[k]->len >> 8), (uint8_t)(parts[k]->len >> 16), (uint8_t)(parts[k]->len >> 24) };
        rc = q_buf_put(&out, len, 4) || q_buf_put(&out, parts[k]->ptr, parts[k]->len);
    }
    I->scratch_has_secret = true;
    return output_end(I, rc ? q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "credentials", NULL) : Q_OK, &out);
}

/* The signature headers of a WebSocket handshake (RFC 9421, security.sign_requests): input = the
 * socket URL; @target-uri is its http(s) form (ws -> http, wss -> https: the handshake is that
 * HTTP request). Output = a JSON list [["Signature-Input",".."],["Signature",".."]]; entropy = 32. */
Q_EXPORT(q_tls_sign_handshake) int32_t q_tls_sign_handshake(int32_t client, uint32_t url_len, double now_ms) {
    BEGIN();
    q_client *c = client_get(I, client, false);
    if (!c) return call_end(I, Q_ERR(BAD_HANDLE));
    if (!input_ok(I, url_len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    if (I->entropy_cap < Q_ENTROPY_BYTES) return call_end(I, q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "sign", QD(NEEDS_32_ENTROPY_BYTES)));
    const uint8_t *u = I->in;
    uint32_t n = url_len;
    uint8_t *http = scratch_alloc(url_len + 2);
    if (!http) return call_end(I, q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "sign", NULL));
    if (n >= 3 && (u[0] | 32) == 'w' && (u[1] | 32) == 's') {
        q_memcpy(http, "http", 4);
        q_memcpy(http + 4, u + 2, n - 2);
        u = http; n += 2;
    }
    q_buf out = {0};
    int rc = q_buf_putc(&out, '[') ? Q_ERR(OUT_OF_MEMORY) : Q_OK;
    if (!rc) rc = tls_sign_message(c, "GET", u, n, NULL, NULL, 0, now_ms, I->entropy, I->entropy_cap, &out, true, &I->err);
    if (!rc && q_buf_putc(&out, ']')) rc = q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "sign", NULL);
    q_wipe(I->entropy, I->entropy_cap);   /* never reuse a seed */
    return output_end(I, rc, &out);
}

/* Which credentials were compiled in: {"ca":bool,"cert":bool,"key":bool}. */
Q_EXPORT(q_tls_embedded) int32_t q_tls_embedded(int32_t client) {
    BEGIN();
    q_buf out = {0};
    int rc = jw_fmt(&out, "{\"ca\":%s,\"cert\":%s,\"key\":%s}", tls_embedded_ca.len ? "true" : "false",
                    tls_embedded_cert.len ? "true" : "false", tls_embedded_key.len ? "true" : "false");
    return output_end(I, rc, &out);
}

/* Wipes the compiled-in private key from linear memory (the glue calls it on close()). */
Q_EXPORT(q_tls_wipe_embedded) int32_t q_tls_wipe_embedded(int32_t client) {
    BEGIN();
    tls_embedded_wipe();
    return call_end(I, Q_OK);
}
