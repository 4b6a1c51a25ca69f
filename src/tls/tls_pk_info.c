/* The key types of mbedtls's pk layer (pk.c, pkparse.c, x509_crt.c reach them through
 * mbedtls_pk_info_from_type), in place of mbedtls's library/pk_wrap.c. That file wires every
 * operation of every key type into one table per type, so a link keeps all of them: RSA
 * encryption and decryption, the debug dumps and DER-writing ECDSA signing (with asn1write),
 * none of which this module uses (about 2 KB). Here each type has what the module does with a
 * key: its size, certificate signature verification, the key pair check, and allocation.
 * Signing does not go through pk: tls_sign.c calls RSA PKCS#1 v1.5 and deterministic ECDSA
 * directly (RFC 9421 wants ECDSA as raw r||s, not DER), so sign_func stays NULL and
 * mbedtls_pk_sign reports FEATURE_UNAVAILABLE. Verification keeps pk_wrap's checks: an RSA
 * signature shorter than the modulus fails, a longer one is SIG_LEN_MISMATCH after it verified;
 * an ECDSA signature is DER, read and checked by mbedtls_ecdsa_read_signature on the key itself
 * (mbedtls_ecdsa_context is mbedtls_ecp_keypair in 2.28: no copy of the key is made). */
#include "tls.h"
#include "mbedtls/pk_internal.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/platform.h"

/* ---- RSA ---------------------------------------------------------------------------------- */

static size_t rsa_bits(const void *ctx) { return 8 * mbedtls_rsa_get_len(ctx); }

static int rsa_can_do(mbedtls_pk_type_t type) { return type == MBEDTLS_PK_RSA; }

static int rsa_verify(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash, size_t hash_len,
                      const unsigned char *sig, size_t sig_len) {
    size_t n = mbedtls_rsa_get_len(ctx);
    if (sig_len < n) return MBEDTLS_ERR_RSA_VERIFY_FAILED;
    int ret = mbedtls_rsa_pkcs1_verify(ctx, NULL, NULL, MBEDTLS_RSA_PUBLIC, md_alg, (unsigned int)hash_len, hash, sig);
    if (ret) return ret;
    return sig_len > n ? MBEDTLS_ERR_PK_SIG_LEN_MISMATCH : 0;   /* a valid signature, then extra bytes */
}

static int rsa_check_pair(const void *pub, const void *prv) { return mbedtls_rsa_check_pub_priv(pub, prv); }

static void *rsa_alloc(void) {
    mbedtls_rsa_context *ctx = mbedtls_calloc(1, sizeof *ctx);
    if (ctx) mbedtls_rsa_init(ctx, MBEDTLS_RSA_PKCS_V15, 0);
    return ctx;
}

static void rsa_release(void *ctx) {
    mbedtls_rsa_free(ctx);
    mbedtls_free(ctx);
}

const mbedtls_pk_info_t mbedtls_rsa_info = {
    .type = MBEDTLS_PK_RSA, .name = "RSA", .get_bitlen = rsa_bits, .can_do = rsa_can_do, .verify_func = rsa_verify,
    .check_pair_func = rsa_check_pair, .ctx_alloc_func = rsa_alloc, .ctx_free_func = rsa_release,
};

/* ---- EC keys: ECKEY (id-ecPublicKey, may do ECDSA), ECKEY_DH (id-ecDH: no signatures), ECDSA --- */

static size_t ec_bits(const void *ctx) { return ((const mbedtls_ecp_keypair *)ctx)->grp.pbits; }

static int eckey_can_do(mbedtls_pk_type_t type) {
    return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECKEY_DH || type == MBEDTLS_PK_ECDSA;
}
static int eckeydh_can_do(mbedtls_pk_type_t type) { return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECKEY_DH; }
static int ecdsa_can_do(mbedtls_pk_type_t type) { return type == MBEDTLS_PK_ECDSA; }

static int ec_verify(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash, size_t hash_len,
                     const unsigned char *sig, size_t sig_len) {
    (void)md_alg;
    int ret = mbedtls_ecdsa_read_signature(ctx, hash, hash_len, sig, sig_len);
    return ret == MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH ? MBEDTLS_ERR_PK_SIG_LEN_MISMATCH : ret;
}

static int ec_check_pair(const void *pub, const void *prv) { return mbedtls_ecp_check_pub_priv(pub, prv); }

static void *ec_alloc(void) {
    mbedtls_ecp_keypair *ctx = mbedtls_calloc(1, sizeof *ctx);
    if (ctx) mbedtls_ecp_keypair_init(ctx);
    return ctx;
}

static void ec_release(void *ctx) {
    mbedtls_ecp_keypair_free(ctx);
    mbedtls_free(ctx);
}

const mbedtls_pk_info_t mbedtls_eckey_info = {
    .type = MBEDTLS_PK_ECKEY, .name = "EC", .get_bitlen = ec_bits, .can_do = eckey_can_do, .verify_func = ec_verify,
    .check_pair_func = ec_check_pair, .ctx_alloc_func = ec_alloc, .ctx_free_func = ec_release,
};

const mbedtls_pk_info_t mbedtls_eckeydh_info = {
    .type = MBEDTLS_PK_ECKEY_DH, .name = "EC_DH", .get_bitlen = ec_bits, .can_do = eckeydh_can_do,
    .check_pair_func = ec_check_pair, .ctx_alloc_func = ec_alloc, .ctx_free_func = ec_release,
};

const mbedtls_pk_info_t mbedtls_ecdsa_info = {
    .type = MBEDTLS_PK_ECDSA, .name = "ECDSA", .get_bitlen = ec_bits, .can_do = ecdsa_can_do, .verify_func = ec_verify,
    .check_pair_func = ec_check_pair, .ctx_alloc_func = ec_alloc, .ctx_free_func = ec_release,
};
