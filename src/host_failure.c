/* Host failure identifiers that name a TLS failure (host_failure.h). Node reports OpenSSL's
 * verify results under their X509 names, TLS alerts from the peer as ERR_SSL_*_ALERT_*, its own
 * checks as ERR_TLS_*. ERR_TLS_PEER_CLOSED is js-glue/node-tls.js's: a Node server with
 * rejectUnauthorized refuses a client certificate by closing the connection right after the
 * handshake, without an alert, and that glue saw exactly that happen on a fresh connection.
 * Only the TLS module names TLS failures (it is the one for mutual TLS); the plain client
 * module reports them as NETWORK, as before. */
#include "host_failure.h"
#include "error_detail.h"

#ifdef Q_TLS

/* Failure identifiers and what each means (a detail id: the text is in the glue). A code
 * ending in '*' is a prefix; the first match wins. */
#define TLS_FAILURES(X) \
    X("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", SERVER_REQUIRES_A_CLIENT_CERTIFICATE) \
    X("ERR_TLS_PEER_CLOSED",                       SERVER_CLOSED_AFTER_THE_HANDSHAKE) \
    X("ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED",   SERVER_REFUSED_THE_CLIENT_CERT_EXPIRED) \
    X("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",            SERVER_DOES_NOT_TRUST_THE_CLIENT_CA) \
    X("ERR_SSL_SSLV3_ALERT_*",                     SERVER_REFUSED_THE_CLIENT_CERTIFICATE) \
    X("ERR_TLS_CERT_ALTNAME_INVALID",              SERVER_CERTIFICATE_NAMES_ANOTHER_HOST) \
    X("CERT_HAS_EXPIRED",                          SERVER_CERTIFICATE_EXPIRED) \
    X("CERT_NOT_YET_VALID",                        SERVER_CERTIFICATE_NOT_YET_VALID) \
    X("UNABLE_TO_*",                               SERVER_CERTIFICATE_NOT_TRUSTED) \
    X("DEPTH_ZERO_SELF_SIGNED_CERT",               SERVER_CERTIFICATE_NOT_TRUSTED) \
    X("SELF_SIGNED_CERT_IN_CHAIN",                 SERVER_CERTIFICATE_NOT_TRUSTED) \
    X("CERT_*",                                    SERVER_CERTIFICATE_REFUSED) \
    X("ERR_SSL_*",                                 TLS_PROTOCOL_FAILURE) \
    X("ERR_TLS_*",                                 TLS_PROTOCOL_FAILURE)
#define TLS_FAILURE_CODE_(code, detail) code "\0"
#define TLS_FAILURE_DETAIL_(code, detail) Q_DETAIL_##detail,
static const char TLS_FAILURE_CODES[] = TLS_FAILURES(TLS_FAILURE_CODE_);
static const uint16_t TLS_FAILURE_DETAILS[] = { TLS_FAILURES(TLS_FAILURE_DETAIL_) };

/* code matches pattern: exactly, or by prefix when the pattern ends in '*'. */
static bool code_matches(const char *pat, uint32_t pn, const uint8_t *code, uint32_t n) {
    bool prefix = pat[pn - 1] == '*';
    uint32_t m = pn - prefix;
    return (prefix ? n >= m : n == m) && q_memcmp(code, pat, m) == 0;
}

const char *host_tls_failure(const uint8_t *code, uint32_t n) {
    const char *p = TLS_FAILURE_CODES;
    for (uint32_t i = 0; i < Q_ARRAY_LEN(TLS_FAILURE_DETAILS); i++) {
        uint32_t pn = (uint32_t)q_strlen(p);
        if (code_matches(p, pn, code, n)) return (const char *)(__UINTPTR_TYPE__)TLS_FAILURE_DETAILS[i];
        p += pn + 1;
    }
    return NULL;
}
#else
/* The plain client and codec modules keep their size: every host failure is a network one. */
const char *host_tls_failure(const uint8_t *code, uint32_t n) { (void)code; (void)n; return NULL; }
#endif
