/* Digests, MACs and signatures with mbedtls: SHA-256, HMAC-SHA-256, and signing with a
 * client key (ECDSA P-256 as raw r||s, RSA PKCS#1 v1.5), called directly rather than through
 * mbedtls_pk_sign (tls_pk_info.c). The blinding RNG is an HMAC_DRBG seeded from host random
 * bytes; ECDSA nonces are deterministic (RFC 6979). */
#include "tls.h"
#include "mbedtls/sha256.h"
#include "mbedtls/md.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/rsa.h"

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

/* The signature itself, straight from the key (no DER in between): RSA PKCS#1 v1.5 into sig
 * (the modulus length), ECDSA as fixed-width big-endian r||s (2 x 32 bytes for P-256). */
static int sign_hash(mbedtls_pk_context *key, const uint8_t hash[32], mbedtls_hmac_drbg_context *rng, uint8_t *sig,
                     uint32_t sig_cap, uint32_t *sig_len) {
    if (mbedtls_pk_get_type(key) == MBEDTLS_PK_RSA) {
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*key);
        *sig_len = (uint32_t)mbedtls_rsa_get_len(rsa);
        if (*sig_len > sig_cap) return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
        return mbedtls_rsa_pkcs1_sign(rsa, mbedtls_hmac_drbg_random, rng, MBEDTLS_RSA_PRIVATE, MBEDTLS_MD_SHA256, 32, hash, sig);
    }
    if (!mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA)) return MBEDTLS_ERR_PK_TYPE_MISMATCH;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*key);
    uint32_t half = (uint32_t)(ec->grp.nbits + 7) / 8;
    if (2 * half > sig_cap) return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    /* RFC 6979 nonce; the DRBG only blinds the computation */
    int ret = mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, hash, 32, MBEDTLS_MD_SHA256, mbedtls_hmac_drbg_random, rng);
    if (!ret) ret = mbedtls_mpi_write_binary(&r, sig, half);
    if (!ret) ret = mbedtls_mpi_write_binary(&s, sig + half, half);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    *sig_len = 2 * half;
    return ret;
}

int tls_sign(mbedtls_pk_context *key, const uint8_t *data, uint32_t n, const uint8_t *seed, uint32_t seed_len,
             uint8_t *sig, uint32_t sig_cap, q_error *err) {
    if (seed_len < Q_ENTROPY_BYTES) return q_fail(err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, "sign", QD(NEEDS_32_ENTROPY_BYTES));
    uint8_t hash[32];
    tls_sha256(data, n, hash);
    mbedtls_hmac_drbg_context rng;
    mbedtls_hmac_drbg_init(&rng);
    int ret = mbedtls_hmac_drbg_seed_buf(&rng, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), seed, seed_len);
    uint32_t refused = arena_refusals(), sig_len = 0;
    if (!ret) ret = sign_hash(key, hash, &rng, sig, sig_cap, &sig_len);
    mbedtls_hmac_drbg_free(&rng);
    q_wipe(hash, sizeof hash);
    if (!ret) return (int)sig_len;
    q_wipe(sig, sig_cap);
    return tls_is_oom(ret) || arena_refusals() != refused ? q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, "sign", NULL)
                                                          : q_fail(err, Q_ERR(KEY_INVALID), Q_NO_OFFSET, "sign", QD(THE_KEY_CANNOT_SIGN));
}
