/* Digests, MACs and signatures with mbedtls: SHA-256, HMAC-SHA-256, and signing with a
 * client key (ECDSA P-256 as raw r||s, RSA PKCS#1 v1.5). The blinding RNG is an HMAC_DRBG
 * seeded from host random bytes; ECDSA nonces are deterministic (RFC 6979). */
#include "tls.h"
#include "mbedtls/sha256.h"
#include "mbedtls/md.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/asn1.h"

void tls_sha256(const uint8_t *data, uint32_t n, uint8_t out[32]) {
    mbedtls_sha256_ret(data, n, out, 0);
}

int tls_hmac_sha256(const uint8_t *key, uint32_t kn, const uint8_t *data, uint32_t n, uint8_t out[32], q_error *err) {
    int ret = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, kn, data, n, out);
    if (ret) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "hmac", NULL);
    return Q_OK;
}

int tls_key_parse(mbedtls_pk_context *pk, const uint8_t *in, uint32_t len, q_error *err) {
    mbedtls_pk_init(pk);
    if (len == 0 || len > Q_TLS_MAX_PEM_BYTES) return q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "key", len ? QD(LARGER_THAN_Q_TLS_MAX_PEM_BYTES) : QD(EMPTY_INPUT));
    /* mbedtls_pk_parse_key wants PEM NUL-terminated (length counting the NUL) */
    bool pem = in[0] != 0x30;
    uint8_t *buf = tls_calloc(1, len + 1);   /* tls_free wipes it */
    if (!buf) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "key", NULL);
    q_memcpy(buf, in, len);
    uint32_t refused = arena_refusals();
    int ret = mbedtls_pk_parse_key(pk, buf, pem ? len + 1 : len, NULL, 0);
    tls_free(buf);
    if (ret == 0) return Q_OK;
    mbedtls_pk_free(pk);
    /* mbedtls tries one key format after another: the last one's verdict can hide the
     * allocation that made an earlier one fail */
    if (tls_is_oom(ret) || arena_refusals() != refused) return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "key", NULL);
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || ret == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || ret == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE)
        return q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "key", QD(ENCRYPTED_OR_UNSUPPORTED_KEY_FORMAT_GIVE));
    return q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "key", QD(NOT_A_PEM_OR_DER_PRIVATE_KEY_RSA_OR_EC_P));
}

int tls_sign(mbedtls_pk_context *key, const uint8_t *data, uint32_t n, const uint8_t *seed, uint32_t seed_len,
             uint8_t *sig, uint32_t sig_cap, q_error *err) {
    if (seed_len < Q_ENTROPY_BYTES) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "sign", QD(NEEDS_32_ENTROPY_BYTES));
    uint8_t hash[32];
    tls_sha256(data, n, hash);
    mbedtls_hmac_drbg_context rng;
    mbedtls_hmac_drbg_init(&rng);
    int ret = mbedtls_hmac_drbg_seed_buf(&rng, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), seed, seed_len);
    size_t der_len = 0;
    uint8_t der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    uint32_t refused = arena_refusals();
    if (!ret) ret = mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, 32, der, &der_len, mbedtls_hmac_drbg_random, &rng);
    mbedtls_hmac_drbg_free(&rng);
    int rc;
    if (ret) {
        rc = tls_is_oom(ret) || arena_refusals() != refused ? q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "sign", NULL)
                             : q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "sign", QD(THE_KEY_CANNOT_SIGN));
    } else if (mbedtls_pk_get_type(key) == MBEDTLS_PK_RSA) {
        rc = der_len <= sig_cap ? (q_memcpy(sig, der, der_len), (int)der_len) : q_fail(err, Q_ERR(INTERNAL), Q_NO_OFFSET, "sign", QD(SIGNATURE_BUFFER));
    } else {
        /* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } to fixed-width r||s */
        unsigned char *p = der, *end = der + der_len;
        size_t len;
        rc = q_fail(err, Q_ERR(INTERNAL), Q_NO_OFFSET, "sign", QD(ECDSA_SIGNATURE_ENCODING));
        if (sig_cap >= 64 && mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0) {
            q_memset(sig, 0, 64);
            int ok = 1;
            for (int i = 0; i < 2 && ok; i++) {
                if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_INTEGER) || len > 33) { ok = 0; break; }
                while (len > 32) { if (*p) { ok = 0; break; } p++; len--; }   /* drop the sign byte */
                if (!ok) break;
                q_memcpy(sig + 32 * i + (32 - len), p, len);
                p += len;
            }
            if (ok) { q_error_clear(err); rc = 64; }
        }
    }
    q_wipe(der, sizeof der);
    q_wipe(hash, sizeof hash);
    return rc;
}
