/* Credentials of a client: trust anchors (CA), its certificate and private key, given at run
 * time or compiled in with `make CERTS=dir`. Everything is parsed into arena blocks that are
 * wiped when freed (tls_alloc.c). */
#include "tls.h"

void tls_creds_free(tls_creds *c) {
    if (c->has_ca) mbedtls_x509_crt_free(&c->ca);
    if (c->has_cert) mbedtls_x509_crt_free(&c->cert);
    if (c->has_key) mbedtls_pk_free(&c->key);
    q_wipe(c, sizeof *c);
}

int tls_creds_load(tls_creds *c, const uint8_t *ca, uint32_t ca_len, const uint8_t *cert, uint32_t cert_len,
                   const uint8_t *key, uint32_t key_len, q_error *err) {
    q_memset(c, 0, sizeof *c);
    int rc = Q_OK;
    if (ca_len) { c->has_ca = true; rc = tls_cert_parse(&c->ca, ca, ca_len, "ca", err); }
    if (!rc && cert_len) { c->has_cert = true; rc = tls_cert_parse(&c->cert, cert, cert_len, "cert", err); }
    if (!rc && key_len) { c->has_key = true; rc = tls_key_parse(&c->key, key, key_len, err); c->has_key = rc == Q_OK; }
    if (!rc && c->has_key && !c->has_cert)
        rc = q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "key", QD(A_KEY_NEEDS_ITS_CERTIFICATE));
    if (!rc && c->has_key) {
        uint32_t refused = arena_refusals();
        if (mbedtls_pk_check_pair(&c->cert.pk, &c->key) != 0)
            rc = arena_refusals() != refused ? q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "key", NULL)
                                             : q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "key", QD(DOES_NOT_MATCH_THE_CERTIFICATE));
    }
    if (rc) tls_creds_free(c);
    return rc;
}

void tls_embedded_wipe(void) {
    if (tls_embedded_key.len) q_wipe((void *)tls_embedded_key.ptr, tls_embedded_key.len);
    tls_embedded_key.len = 0;
}
