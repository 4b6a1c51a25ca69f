/* libFuzzer harness: the TLS module's certificate and key entry points (PEM or DER).
 * The first byte picks the target: certificate chain (parse, inspect, check against a host
 * and against itself as CA), private key, or host name matching. Properties: every failure
 * is a well-formed named error, inspection is valid JSON, every arena block mbedtls took is
 * given back (no leak), and a wildcard-free pattern matches only its own name.
 * fuzz-max-len: 8192 */
#include "fuzz_common.h"
#include "tls.h"

static void cert_target(const uint8_t *d, uint32_t n) {
    static const uint8_t host[] = "localhost";
    q_error err;
    q_error_clear(&err);
    mbedtls_x509_crt chain;
    int rc = tls_cert_parse(&chain, d, n, "cert", &err);
    if (rc) {
        fuzz_check_error(rc, &err, n);
        FUZZ_CHECK(rc == Q_ERR(CERT_BAD_PEM) || rc == Q_ERR(CERT_BAD_DER) || rc == Q_ERR(CERT_TRUNCATED) ||
                   rc == Q_ERR(CERT_WRONG_TYPE) || rc == Q_ERR(LIMIT_REACHED) || rc == Q_ERR(TOO_LARGE),
                   "unexpected status %s", q_status_code(rc));
    } else {
        q_buf out = {0};
        FUZZ_CHECK(tls_cert_inspect(&chain, &chain, host, sizeof host - 1, 1.7e12, 1e9, &out) == Q_OK, "inspect failed");
        q_error_clear(&err);
        FUZZ_CHECK(json_validate(out.ptr, out.len, Q_DEFAULT_MAX_DEPTH, &err) == Q_OK, "inspection is not JSON: %.*s", (int)out.len, out.ptr);
        q_error_clear(&err);
        rc = tls_cert_check(&chain, &chain, host, sizeof host - 1, 1.7e12, &err);
        if (rc) fuzz_check_error(rc, &err, n);
    }
    mbedtls_x509_crt_free(&chain);
}

static void key_target(const uint8_t *d, uint32_t n) {
    q_error err;
    q_error_clear(&err);
    mbedtls_pk_context pk;
    int rc = tls_key_parse(&pk, d, n, &err);
    if (rc) {
        fuzz_check_error(rc, &err, n);
        FUZZ_CHECK(rc == Q_ERR(KEY_INVALID), "unexpected status %s", q_status_code(rc));
    }
    mbedtls_pk_free(&pk);
}

static void host_target(const uint8_t *d, uint32_t n) {
    uint32_t cut = 0;
    while (cut < n && d[cut] != '\n') cut++;
    const uint8_t *pat = d, *host = d + (cut < n ? cut + 1 : n);
    uint32_t pn = cut, hn = n - (cut < n ? cut + 1 : n);
    bool m = tls_dns_name_matches(pat, pn, host, hn);
    bool star = memchr(pat, '*', pn) != NULL;
    if (m && !star) {
        uint32_t a = pn - (pn && pat[pn - 1] == '.'), b = hn - (hn && host[hn - 1] == '.');
        FUZZ_CHECK(a == b, "matched names of different length");
        for (uint32_t i = 0; i < a; i++)
            FUZZ_CHECK((pat[i] | 0x20) == (host[i] | 0x20), "matched different names");
    }
    /* an IP literal's canonical text is an IP literal that reads as itself */
    uint8_t ip[TLS_IP_TEXT_MAX], again[TLS_IP_TEXT_MAX];
    uint32_t k = tls_host_ip_text(host, hn, ip);
    if (k) {
        FUZZ_CHECK(k <= 39, "IP text longer than an IPv6 address");
        FUZZ_CHECK(tls_host_ip_text(ip, k, again) == k && memcmp(ip, again, k) == 0, "canonical IP text not stable");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 0xFFFFu) return 0;
    fuzz_begin();
    uint32_t before = arena_persistent_in_use();
    const uint8_t *d = data + 1;
    uint32_t n = (uint32_t)size - 1;
    switch (data[0] % 3) {
    case 0: cert_target(d, n); break;
    case 1: key_target(d, n); break;
    default: host_target(d, n); break;
    }
    FUZZ_CHECK(arena_persistent_in_use() == before, "arena blocks leaked: %u -> %u", before, arena_persistent_in_use());
    return 0;
}
