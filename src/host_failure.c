/* Host failure identifiers that name a TLS failure (host_failure.h). Node reports OpenSSL's
 * verify results under their X509 names, TLS alerts from the peer as ERR_SSL_*_ALERT_*, its own
 * checks as ERR_TLS_*. ERR_TLS_PEER_CLOSED is js-glue/node-tls.js's: a Node server with
 * rejectUnauthorized refuses a client certificate by closing the connection right after the
 * handshake, without an alert, and that glue saw exactly that happen on a fresh connection.
 * Only the TLS module names TLS failures (it is the one for mutual TLS); the plain client
 * module reports them as NETWORK, as before. */
#include "host_failure.h"

#ifdef Q_TLS

/* "code\0message\0" pairs; a code ending in '*' is a prefix. The first match wins. */
static const char TLS_FAILURES[] =
    "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\0the server requires a client certificate; none was sent\0"
    "ERR_TLS_PEER_CLOSED\0the server closed the connection after the handshake: client certificate refused\0"
    "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED\0the server refused the client certificate as expired\0"
    "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\0the server does not trust the client certificate's CA\0"
    "ERR_SSL_SSLV3_ALERT_*\0the server refused the client certificate\0"
    "ERR_TLS_CERT_ALTNAME_INVALID\0the server certificate names another host\0"
    "CERT_HAS_EXPIRED\0the server certificate expired\0"
    "CERT_NOT_YET_VALID\0the server certificate is not yet valid\0"
    "UNABLE_TO_*\0the server certificate is not trusted\0"
    "DEPTH_ZERO_SELF_SIGNED_CERT\0the server certificate is not trusted\0"
    "SELF_SIGNED_CERT_IN_CHAIN\0the server certificate is not trusted\0"
    "CERT_*\0the server certificate was refused\0"
    "ERR_SSL_*\0TLS protocol failure\0"
    "ERR_TLS_*\0TLS protocol failure\0";

/* code matches pattern: exactly, or by prefix when the pattern ends in '*'. */
static bool code_matches(const char *pat, uint32_t pn, const uint8_t *code, uint32_t n) {
    bool prefix = pat[pn - 1] == '*';
    uint32_t m = pn - prefix;
    return (prefix ? n >= m : n == m) && q_memcmp(code, pat, m) == 0;
}

const char *host_tls_failure(const uint8_t *code, uint32_t n) {
    for (const char *p = TLS_FAILURES; *p;) {
        uint32_t pn = (uint32_t)q_strlen(p);
        const char *msg = p + pn + 1;
        if (code_matches(p, pn, code, n)) return msg;
        p = msg + q_strlen(msg) + 1;
    }
    return NULL;
}
#else
/* The plain client and codec modules keep their size: every host failure is a network one. */
const char *host_tls_failure(const uint8_t *code, uint32_t n) { (void)code; (void)n; return NULL; }
#endif
