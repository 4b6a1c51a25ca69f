/* The mbedtls configuration of the TLS module: certificate parsing and checking, PEM,
 * SHA-256/HMAC, ECDSA P-256 and RSA. No networking, no clock, no platform entropy: time
 * and randomness come in from the host, and every allocation goes to the arena (tls_alloc.c). */
#ifndef Q_MBEDTLS_CONFIG_H
#define Q_MBEDTLS_CONFIG_H

/* Platform: no libc runtime. calloc/free are the arena's; the clock is never read
 * (no MBEDTLS_HAVE_TIME): validity is checked against the host's now_ms in tls_cert.c. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_CALLOC_MACRO tls_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO   tls_free
#include <stddef.h>
void *tls_calloc(size_t count, size_t size);
void tls_free(void *p);
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_DEPRECATED_REMOVED
#define MBEDTLS_X509_REMOVE_INFO        /* no printf-style dumps: tls_cert.c writes JSON */

/* Big numbers and public-key algorithms. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_RSA_NO_CRT
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM          /* fast P-256 reduction: verify and sign several times faster */
/* No comb table cached in the key's group: tls_pk_info.c and tls_sign.c use the parsed key
 * itself (no per-call copy), and a cache there (8 points) would hold about 1 KB of arena per key as long
 * as the credentials live. Every multiplication builds its table, as it did with the copy. */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM   0
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC     /* RFC 6979 nonces: no RNG needed for k */
#define MBEDTLS_HMAC_DRBG_C             /* required by deterministic ECDSA */
#define MBEDTLS_PK_C                    /* the key types themselves: src/tls/tls_pk_info.c, not pk_wrap.c */
#define MBEDTLS_PK_PARSE_C

/* Hashes and MACs. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER          /* rolled loop: smaller, still fast enough for certs */

/* Encodings and certificates. */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* check_config.h wants it with ECDSA; nothing calls it (signatures
                                         * are raw r||s, tls_sign.c), so the link drops it */
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* Build-variant switches used to measure what each part costs (mk/tls.mk TLS_VARIANT). */
#ifdef Q_TLS_NO_RSA
#undef MBEDTLS_RSA_C
#undef MBEDTLS_PKCS1_V15
#endif

#include "mbedtls/check_config.h"
#endif
