/* The TLS module's core (dist/qollective-tls.wasm only): certificate parsing, inspection and
 * checks, credentials per client, digests and signatures, all through mbedtls. Time comes in
 * as now_ms from the host; randomness as the instance's entropy bytes. */
#ifndef Q_TLS_H
#define Q_TLS_H
#include "base.h"
#include "error.h"
#include "arena.h"

#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"

/* ---- allocation bridge (tls_alloc.c) ---- */
void *tls_calloc(size_t count, size_t size);
void tls_free(void *p);
/* true when an mbedtls return code means an allocation failed (the arena's cap). */
bool tls_is_oom(int ret);
/* Zeroes the unused part of the wasm stack (below the caller's frame): every export that
 * handled a key calls it before returning. */
void tls_stack_wipe(void);

/* ---- hostnames (tls_hostname.c) ---- */
/* Room for canonical IP text: IPv6 is at most 39 characters (8 groups of 4 and 7 colons). */
#define TLS_IP_TEXT_MAX 40
/* When host is an IP literal (dotted IPv4, or IPv6 with or without brackets), its canonical
 * text (dotted IPv4; IPv6 as RFC 5952, no brackets) in out and the length; else 0. */
uint32_t tls_host_ip_text(const uint8_t *host, uint32_t n, uint8_t out[TLS_IP_TEXT_MAX]);
/* The same text for IP address bytes (4 or 16). */
uint32_t tls_ip_text(const uint8_t *ip, uint32_t len, uint8_t out[TLS_IP_TEXT_MAX]);
/* One DNS SAN pattern against a host name (rules at the top of tls_hostname.c). */
bool tls_dns_name_matches(const uint8_t *pat, uint32_t pn, const uint8_t *host, uint32_t hn);

/* ---- certificates (tls_cert.c) ---- */
/* Parses one certificate chain, PEM (one or more CERTIFICATE blocks) or DER, into chain
 * (initialised here; the caller frees it with mbedtls_x509_crt_free even on failure).
 * `what` names the input in errors ("cert", "ca"). Named errors: CERT_BAD_PEM,
 * CERT_BAD_DER, CERT_TRUNCATED, CERT_WRONG_TYPE, TOO_LARGE, OUT_OF_MEMORY. */
int tls_cert_parse(mbedtls_x509_crt *chain, const uint8_t *in, uint32_t len, const char *what, q_error *err);
/* true when the leaf's SANs match host (a DNS name or an IP literal). */
bool tls_cert_matches_host(const mbedtls_x509_crt *crt, const uint8_t *host, uint32_t n);
/* Seconds since the epoch of an X.509 time (UTC). */
int64_t tls_time_secs(const mbedtls_x509_time *t);
/* Checks validity at now_ms, then host (when host_len > 0), then the chain against ca (when
 * ca has a certificate): Q_OK, CERT_NOT_YET_VALID, CERT_EXPIRED, CERT_WRONG_HOST,
 * CERT_UNTRUSTED (message names why). */
int tls_cert_check(mbedtls_x509_crt *chain, mbedtls_x509_crt *ca, const uint8_t *host, uint32_t host_len,
                   double now_ms, q_error *err);
/* Inspection record of the leaf as JSON (fields in include/qollective.h). */
int tls_cert_inspect(mbedtls_x509_crt *chain, mbedtls_x509_crt *ca, const uint8_t *host, uint32_t host_len,
                     double now_ms, double refresh_ms, q_buf *out);

/* ---- keys and signatures (tls_sign.c) ---- */
/* Parses a PEM or DER private key into pk (initialised here; caller frees). KEY_INVALID. */
int tls_key_parse(mbedtls_pk_context *pk, const uint8_t *in, uint32_t len, q_error *err);
/* SHA-256 of data. */
void tls_sha256(const uint8_t *data, uint32_t n, uint8_t out[32]);
/* HMAC-SHA-256. Q_OK or OUT_OF_MEMORY. */
int tls_hmac_sha256(const uint8_t *key, uint32_t kn, const uint8_t *data, uint32_t n, uint8_t out[32], q_error *err);
/* Signs SHA-256(data) with key: ECDSA P-256 as raw r||s (64 bytes, the RFC 9421 form),
 * RSA as PKCS#1 v1.5. seed (>= 32 host random bytes) feeds the blinding RNG.
 * Returns the signature length, or a negative status. */
int tls_sign(mbedtls_pk_context *key, const uint8_t *data, uint32_t n, const uint8_t *seed, uint32_t seed_len,
             uint8_t *sig, uint32_t sig_cap, q_error *err);

/* ---- credentials (tls_creds.c) ---- */
typedef struct tls_creds {
    mbedtls_x509_crt ca;        /* trust anchors for tls_cert_check */
    mbedtls_x509_crt cert;      /* this side's certificate chain (leaf first) */
    mbedtls_pk_context key;     /* its private key */
    bool has_ca, has_cert, has_key;
} tls_creds;

/* The credentials compiled in with `make CERTS=dir` (build/tls/embedded_certs.c). */
typedef struct { const uint8_t *ptr; uint32_t len; } tls_blob;
extern const tls_blob tls_embedded_ca, tls_embedded_cert;
extern tls_blob tls_embedded_key;     /* writable: wiped by tls_embedded_wipe */
void tls_embedded_wipe(void);

/* Loads credentials from PEM/DER (a zero length keeps that part empty); the key must match
 * the certificate. On failure creds are left empty. */
int tls_creds_load(tls_creds *c, const uint8_t *ca, uint32_t ca_len, const uint8_t *cert, uint32_t cert_len,
                   const uint8_t *key, uint32_t key_len, q_error *err);
/* The DER of the leaf certificate a client presents (its own, else the compiled-in one),
 * valid until the call ends (scratch). TLS_NO_CREDENTIALS when there is none. */
struct q_client;
int tls_client_cert_der(struct q_client *c, const uint8_t **der, uint32_t *n, q_error *err);
/* The credentials a call uses for client c (NULL: none): its own when it has any, else the
 * compiled-in set parsed into tmp (the caller frees tmp). NULL and err set on failure. */
const tls_creds *tls_effective(void *instance, struct q_client *c, tls_creds *tmp, bool need_key);
/* Frees (and, through tls_free, wipes) everything creds hold. */
void tls_creds_free(tls_creds *c);

/* ---- HTTP Message Signatures (tls_httpsig.c; RFC 9421, RFC 9530) ---- */
/* One covered component: its identifier (a derived "@name" or a lower-case field name) and value. */
typedef struct { const char *name; const uint8_t *value; uint32_t len; } httpsig_component;
/* Signature parameters, written in this order: created (when >= 0), keyid (when set), alg (when set). */
typedef struct { int64_t created; const uint8_t *keyid; uint32_t keyid_len; const char *alg; } httpsig_params;
/* The signature parameters value (§2.3): ("a" "b");created=..;keyid="..";alg="..". */
int httpsig_params_write(q_buf *out, const httpsig_component *c, uint32_t n, const httpsig_params *p);
/* The signature base (§2.5): a line "<id>": <value> per component, then "@signature-params": <params>
 * (no trailing newline). Q_OK or OUT_OF_MEMORY. */
int httpsig_base(q_buf *out, const httpsig_component *c, uint32_t n, const httpsig_params *p);
/* Signs a request of client c with its key (its own, else the compiled-in one) and appends the
 * headers to the JSON header list `headers` (a leading comma unless first): Content-Digest when
 * body_sha256 (the SHA-256 of the body, 32 bytes) is not NULL, Signature-Input and Signature covering @method, @target-uri, content-digest
 * and x-qollective-request-id (when request_id is not NULL), with created, keyid and alg.
 * seed: >= 32 host random bytes. */
int tls_sign_message(struct q_client *c, const char *method, const uint8_t *url, uint32_t url_len, const uint8_t *body_sha256,
                     const uint8_t *request_id, uint32_t request_id_len, double now_ms,
                     const uint8_t *seed, uint32_t seed_len, q_buf *headers, bool first, q_error *err);
#endif
