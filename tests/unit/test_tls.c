/* TLS module core (src/tls): host-name rules, certificate parsing with named errors,
 * validity at the host's time, chain checks, inspection, credentials, signing, and clean
 * failure when the arena runs out. Certificates come from scripts/gen-test-pki.sh (build/pki). */
#include "test_util.h"
#include "tls.h"
#include "json.h"

#define PKI "../../build/pki/"

typedef struct { uint8_t *p; uint32_t n; } file_bytes;

/* File contents live in a ring of static buffers: no test holds more than a few at once. */
static uint8_t *file_buffer(void) {
    static uint8_t ring[16][70000];
    static unsigned next;
    return ring[next++ % 16];
}

static file_bytes slurp(const char *name) {
    char path[256];
    snprintf(path, sizeof path, PKI "%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing %s (run scripts/gen-test-pki.sh)", path);
    file_bytes b = { file_buffer(), 0 };
    b.n = (uint32_t)fread(b.p, 1, 70000, f);
    fclose(f);
    return b;
}

/* PEM to DER through openssl's own output, so the DER path is checked against another tool. */
static file_bytes der_of(const char *name) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "openssl x509 -in " PKI "%s -outform DER", name);
    FILE *f = popen(cmd, "r");
    file_bytes b = { file_buffer(), 0 };
    b.n = (uint32_t)fread(b.p, 1, 70000, f);
    pclose(f);
    assert_true(b.n > 100);
    return b;
}

static int parse(mbedtls_x509_crt *c, file_bytes b, q_error *err) {
    q_error_clear(err);
    return tls_cert_parse(c, b.p, b.n, "cert", err);
}

/* ---- host names ---------------------------------------------------------------------- */

static void dns_wildcard_rules(void **s) {
    static const struct { const char *pat, *host; bool match; } cases[] = {
        { "example.com", "example.com", true },
        { "Example.COM", "example.com", true },          /* ASCII case-insensitive */
        { "example.com.", "example.com", true },         /* one trailing dot ignored */
        { "example.com", "example.com.", true },
        { "example.com", "example.com..", false },
        { "example.com", "www.example.com", false },
        { "*.example.com", "www.example.com", true },
        { "*.example.com", "WWW.Example.Com", true },
        { "*.example.com", "example.com", false },       /* the wildcard needs a label */
        { "*.example.com", ".example.com", false },      /* ... a non-empty one */
        { "*.example.com", "a.b.example.com", false },   /* one label only, not across dots */
        { "*.example.com", "www.example.org", false },
        { "*.com", "example.com", false },               /* not on a bare public-suffix-like label */
        { "*.local", "printer.local", false },
        { "*", "localhost", false },
        { "*.", "a.", false },
        { "w*.example.com", "www.example.com", false },  /* partial wildcards are refused */
        { "*w.example.com", "www.example.com", false },
        { "www.*.com", "www.example.com", false },       /* not in the middle */
        { "*.*.example.com", "a.b.example.com", false },
        { "*.example.com.", "www.example.com", true },
        { "*.example.com", "www.example.com.", true },
        { "xn--bcher-kva.example", "XN--BCHER-KVA.example", true }, /* A-labels compare as ASCII */
        { "*.example.com", "www..example.com", false },
        { "", "", false },
        { "example..com", "example..com", false },       /* empty labels never match */
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(cases); i++) {
        bool m = tls_dns_name_matches((const uint8_t *)cases[i].pat, (uint32_t)strlen(cases[i].pat),
                                      (const uint8_t *)cases[i].host, (uint32_t)strlen(cases[i].host));
        if (m != cases[i].match) fail_msg("'%s' vs '%s': got %d", cases[i].pat, cases[i].host, m);
    }
}

/* Which hosts are IP literals, read by the core's origin parser, and their canonical text;
 * NULL: not an IP literal (then matched as a DNS name). */
static void ip_literals(void **s) {
    static const struct { const char *text, *canonical; } cases[] = {
        { "127.0.0.1", "127.0.0.1" }, { "0.0.0.0", "0.0.0.0" }, { "255.255.255.255", "255.255.255.255" },
        { "256.0.0.1", NULL }, { "1.2.3", NULL }, { "1.2.3.4.5", NULL }, { "01.2.3.4", NULL }, { "1.2.3.4 ", NULL },
        { "0x7f.0.0.1", NULL }, { "127.0.0.1.", NULL }, { "127.0.0.1:443", NULL }, { "127.0.0.1/x", NULL },
        { "::1", "::1" }, { "[::1]", "::1" }, { "::", "::" }, { "fe80::1:2", "fe80::1:2" },
        { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" }, { "0:0:0:0:0:0:0:1", "::1" }, { "[0:0:0:0:0:0:0:1]", "::1" },
        { "FE80:0:0:0:1:0:0:2", "fe80::1:0:0:2" }, { "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
        { "::ffff:127.0.0.1", "::ffff:7f00:1" }, { "[0000:0000:0000:0000:0000:ffff:255.255.255.255]", "::ffff:ffff:ffff" },
        { "1:2:3:4:5:6:7:8:9", NULL }, { "1::2::3", NULL }, { ":1::2", NULL }, { "1:2:3:4:5:6:7:", NULL },
        { "12345::1", NULL }, { "g::1", NULL }, { "localhost", NULL }, { "[::1", NULL }, { "::1]", NULL },
        { "[::1]:443", NULL }, { "[::1]]", NULL }, { "[]", NULL }, { "", NULL }, { "cafe.bad", NULL }, { "fe80::1%eth0", NULL },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(cases); i++) {
        uint8_t ip[TLS_IP_TEXT_MAX];
        uint32_t k = tls_host_ip_text((const uint8_t *)cases[i].text, (uint32_t)strlen(cases[i].text), ip);
        const char *want = cases[i].canonical;
        if (!want ? k != 0 : k != strlen(want) || memcmp(ip, want, k))
            fail_msg("'%s': got '%.*s', expected '%s'", cases[i].text, (int)k, ip, want ? want : "(not an IP)");
    }
    /* SAN bytes to the same text */
    static const uint8_t v6[16] = { 0xfe, 0x80, 0,0, 0,0, 0,0, 0,1, 0,0, 0,0, 0,2 }, v4[4] = { 10, 0, 255, 1 };
    uint8_t t[TLS_IP_TEXT_MAX];
    assert_int_equal(tls_ip_text(v6, 16, t), 13);
    assert_memory_equal(t, "fe80::1:0:0:2", 13);
    assert_int_equal(tls_ip_text(v4, 4, t), 10);
    assert_memory_equal(t, "10.0.255.1", 10);
}

static void server_cert_hosts(void **s) {
    mbedtls_x509_crt c; q_error err;
    assert_int_equal(parse(&c, slurp("server.pem"), &err), Q_OK);
    assert_true(tls_cert_matches_host(&c, QS("localhost")));
    assert_true(tls_cert_matches_host(&c, QS("LOCALHOST.")));
    assert_true(tls_cert_matches_host(&c, QS("127.0.0.1")));
    assert_true(tls_cert_matches_host(&c, QS("::1")));
    assert_true(tls_cert_matches_host(&c, QS("[0:0:0:0:0:0:0:1]")));
    assert_false(tls_cert_matches_host(&c, QS("127.0.0.2")));
    assert_false(tls_cert_matches_host(&c, QS("localhost.localdomain")));
    assert_false(tls_cert_matches_host(&c, QS("Qollective Test")));   /* the subject is not consulted */
    mbedtls_x509_crt_free(&c);
    assert_int_equal(parse(&c, slurp("wildcard.pem"), &err), Q_OK);
    assert_true(tls_cert_matches_host(&c, QS("api.example.test")));
    assert_false(tls_cert_matches_host(&c, QS("a.api.example.test")));
    assert_false(tls_cert_matches_host(&c, QS("example.test")));
    assert_true(tls_cert_matches_host(&c, QS("exact.example.org")));
    assert_false(tls_cert_matches_host(&c, QS("wildcard.example.test.evil")));
    mbedtls_x509_crt_free(&c);
}

/* ---- parsing errors ------------------------------------------------------------------ */

static void parse_named_errors(void **s) {
    mbedtls_x509_crt c; q_error err;
    file_bytes pem = slurp("server.pem"), der = der_of("server.pem");
    assert_int_equal(parse(&c, pem, &err), Q_OK); mbedtls_x509_crt_free(&c);
    assert_int_equal(parse(&c, der, &err), Q_OK);
    assert_int_equal(c.raw.len, der.n);
    mbedtls_x509_crt_free(&c);

    file_bytes cut = { pem.p, pem.n / 2 };                        /* no END line */
    assert_fails_at(parse(&c, cut, &err), Q_ERR(CERT_TRUNCATED), 0, &err); mbedtls_x509_crt_free(&c);
    file_bytes cut_hdr = { pem.p, 15 };                           /* "-----BEGIN CERT" */
    assert_fails_at(parse(&c, cut_hdr, &err), Q_ERR(CERT_TRUNCATED), 0, &err); mbedtls_x509_crt_free(&c);
    file_bytes der_cut = { der.p, der.n - 10 };
    assert_fails_at(parse(&c, der_cut, &err), Q_ERR(CERT_TRUNCATED), 0, &err); mbedtls_x509_crt_free(&c);

    uint8_t *bad = malloc(pem.n); memcpy(bad, pem.p, pem.n);
    bad[40] = '!';                                                  /* inside the Base64 body */
    file_bytes bad64 = { bad, pem.n };
    assert_fails_at(parse(&c, bad64, &err), Q_ERR(CERT_BAD_PEM), 0, &err); mbedtls_x509_crt_free(&c);

    uint8_t *flip = malloc(der.n); memcpy(flip, der.p, der.n);
    flip[4] = 0x05;                                                 /* tbsCertificate is no longer a SEQUENCE */
    file_bytes bad_der = { flip, der.n };
    assert_fails_at(parse(&c, bad_der, &err), Q_ERR(CERT_BAD_DER), 0, &err); mbedtls_x509_crt_free(&c);

    uint8_t *tail = malloc(der.n + 3); memcpy(tail, der.p, der.n); memset(tail + der.n, 0, 3);
    file_bytes trailing = { tail, der.n + 3 };
    assert_fails_at(parse(&c, trailing, &err), Q_ERR(CERT_BAD_DER), der.n, &err); mbedtls_x509_crt_free(&c);

    assert_fails_at(parse(&c, slurp("client.key"), &err), Q_ERR(CERT_WRONG_TYPE), 0, &err); mbedtls_x509_crt_free(&c);
    file_bytes text = { (uint8_t *)"hello, not a certificate", 24 };
    assert_fails_at(parse(&c, text, &err), Q_ERR(CERT_BAD_PEM), -1, &err); mbedtls_x509_crt_free(&c);
    file_bytes empty = { (uint8_t *)"", 0 };
    assert_fails_at(parse(&c, empty, &err), Q_ERR(CERT_BAD_PEM), -1, &err); mbedtls_x509_crt_free(&c);

    /* a chain: leaf then CA, both parsed; the second block's errors name its offset */
    uint8_t *two = malloc(pem.n * 2 + 1);
    memcpy(two, pem.p, pem.n); memcpy(two + pem.n, pem.p, pem.n);
    file_bytes chain = { two, pem.n * 2 };
    assert_int_equal(parse(&c, chain, &err), Q_OK);
    assert_non_null(c.next); mbedtls_x509_crt_free(&c);
    two[pem.n + 40] = '!';
    assert_fails_at(parse(&c, chain, &err), Q_ERR(CERT_BAD_PEM), pem.n, &err); mbedtls_x509_crt_free(&c);
    /* messages never carry the input */
    assert_null(strstr(err.message, "MII"));
    free(bad); free(flip); free(tail); free(two);
}

/* ---- validity, host, chain ----------------------------------------------------------- */

static void validity_boundaries(void **s) {
    mbedtls_x509_crt c; q_error err;
    assert_int_equal(parse(&c, slurp("server.pem"), &err), Q_OK);
    double nb = (double)tls_time_secs(&c.valid_from) * 1000, na = (double)tls_time_secs(&c.valid_to) * 1000;
    assert_fails_at(tls_cert_check(&c, NULL, NULL, 0, nb - 1000, &err), Q_ERR(CERT_NOT_YET_VALID), -1, &err);
    assert_int_equal(tls_cert_check(&c, NULL, NULL, 0, nb, &err), Q_OK);
    assert_int_equal(tls_cert_check(&c, NULL, NULL, 0, na + 999, &err), Q_OK);      /* notAfter is inclusive */
    assert_fails_at(tls_cert_check(&c, NULL, NULL, 0, na + 1000, &err), Q_ERR(CERT_EXPIRED), -1, &err);
    mbedtls_x509_crt_free(&c);
    /* the generated expired certificate: 2020-01-01 .. 2020-02-01 */
    assert_int_equal(parse(&c, slurp("expired.pem"), &err), Q_OK);
    assert_int_equal(tls_time_secs(&c.valid_to), 1580515200);
    mbedtls_x509_crt_free(&c);
}

static void chain_and_host(void **s) {
    mbedtls_x509_crt ca, c; q_error err;
    assert_int_equal(parse(&ca, slurp("ca.pem"), &err), Q_OK);
    double now = 1.8e12;   /* 2027-01-15: inside every generated certificate's validity but the odd ones */
    static const struct { const char *file, *host; int status; } cases[] = {
        { "server.pem", "localhost", Q_OK },
        { "server.pem", "127.0.0.1", Q_OK },
        { "server.pem", "example.com", Q_ERR(CERT_WRONG_HOST) },
        { "client.pem", NULL, Q_OK },
        { "client-rsa.pem", NULL, Q_OK },
        { "other-client.pem", NULL, Q_ERR(CERT_UNTRUSTED) },
        { "other-ca.pem", NULL, Q_ERR(CERT_UNTRUSTED) },
        { "expired.pem", NULL, Q_ERR(CERT_EXPIRED) },
        { "future.pem", NULL, Q_ERR(CERT_NOT_YET_VALID) },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(cases); i++) {
        assert_int_equal(parse(&c, slurp(cases[i].file), &err), Q_OK);
        const char *h = cases[i].host;
        int rc = tls_cert_check(&c, &ca, (const uint8_t *)h, h ? (uint32_t)strlen(h) : 0, now, &err);
        if (rc != cases[i].status) fail_msg("%s: got %s (%s)", cases[i].file, q_status_code(rc), err.message);
        mbedtls_x509_crt_free(&c);
    }
    /* an expired CA fails the chain even when the leaf is fine: checked at a time past the CA */
    assert_int_equal(parse(&c, slurp("server.pem"), &err), Q_OK);
    double ca_end = (double)tls_time_secs(&ca.valid_to) * 1000;
    double leaf_end = (double)tls_time_secs(&c.valid_to) * 1000;
    assert_true(leaf_end < ca_end);
    mbedtls_x509_crt_free(&c);
    mbedtls_x509_crt_free(&ca);
}

/* Certificate signatures verified through the module's pk key types (src/tls/tls_pk_info.c):
 * an ECDSA P-256 chain and an RSA-2048 chain verify, and each fails as CERT_UNTRUSTED once a
 * byte of the leaf's signature (the last bytes of the DER) or of its signed body changes. */
static void signature_verification(void **s) {
    static const struct { const char *ca, *leaf; } chains[] = { { "ca.pem", "server.pem" }, { "rsa-ca.pem", "rsa-server.pem" } };
    double now = 1.8e12;
    for (size_t i = 0; i < Q_ARRAY_LEN(chains); i++) {
        mbedtls_x509_crt ca, c; q_error err;
        assert_int_equal(parse(&ca, slurp(chains[i].ca), &err), Q_OK);
        file_bytes der = der_of(chains[i].leaf);
        assert_int_equal(parse(&c, der, &err), Q_OK);
        assert_int_equal(tls_cert_check(&c, &ca, QS("localhost"), now, &err), Q_OK);
        assert_int_equal(mbedtls_pk_get_type(&ca.pk), i ? MBEDTLS_PK_RSA : MBEDTLS_PK_ECKEY);
        mbedtls_x509_crt_free(&c);
        /* the last byte is inside the signature value; byte 16 is the last of the serial (0x1000) */
        uint32_t at[2] = { der.n - 1, 16 };
        for (int k = 0; k < 2; k++) {
            der.p[at[k]] ^= 0x01;
            if (parse(&c, der, &err) != Q_OK) fail_msg("%s, byte %u flipped: %s", chains[i].leaf, at[k], err.message);
            int rc = tls_cert_check(&c, &ca, QS("localhost"), now, &err);
            if (rc != Q_ERR(CERT_UNTRUSTED)) fail_msg("%s, byte %u flipped: got %s", chains[i].leaf, at[k], q_status_code(rc));
            mbedtls_x509_crt_free(&c);
            der.p[at[k]] ^= 0x01;
        }
        /* the other chain's CA does not vouch for it */
        mbedtls_x509_crt other;
        assert_int_equal(parse(&other, slurp(chains[1 - i].ca), &err), Q_OK);
        assert_int_equal(parse(&c, der, &err), Q_OK);
        assert_int_equal(tls_cert_check(&c, &other, QS("localhost"), now, &err), Q_ERR(CERT_UNTRUSTED));
        mbedtls_x509_crt_free(&c);
        mbedtls_x509_crt_free(&other);
        mbedtls_x509_crt_free(&ca);
    }
    assert_int_equal(arena_persistent_in_use(), 0);
}

static void inspection_record(void **s) {
    mbedtls_x509_crt ca, c; q_error err;
    assert_int_equal(parse(&ca, slurp("ca.pem"), &err), Q_OK);
    assert_int_equal(parse(&c, slurp("server.pem"), &err), Q_OK);
    double na = (double)tls_time_secs(&c.valid_to) * 1000;
    q_buf out = {0};
    assert_int_equal(tls_cert_inspect(&c, &ca, QS("localhost"), na - 10 * 86400000.0, 30 * 86400000.0, &out), Q_OK);
    assert_int_equal(json_validate(out.ptr, out.len, 64, &err), Q_OK);
    char j[4096];
    assert_true(out.len < sizeof j);
    memcpy(j, out.ptr, out.len); j[out.len] = 0;
    assert_non_null(strstr(j, "\"subject\":\"CN=localhost, O=Qollective Test\""));
    assert_non_null(strstr(j, "\"issuer\":\"CN=Qollective Test CA, O=Qollective Test\""));
    assert_non_null(strstr(j, "{\"type\":\"dns\",\"value\":\"localhost\"}"));
    assert_non_null(strstr(j, "{\"type\":\"ip\",\"value\":\"127.0.0.1\"}"));
    assert_non_null(strstr(j, "\"keyType\":\"EC\",\"keyBits\":256,\"curve\":\"P-256\""));
    assert_non_null(strstr(j, "\"refreshDue\":true"));   /* 10 days left, threshold 30 */
    assert_non_null(strstr(j, "\"expiresInMs\":864000000,"));
    assert_non_null(strstr(j, "\"hostMatch\":true,\"trusted\":true"));
    out = (q_buf){0};
    assert_int_equal(tls_cert_inspect(&c, &ca, QS("example.com"), na - 40 * 86400000.0, 30 * 86400000.0, &out), Q_OK);
    memcpy(j, out.ptr, out.len); j[out.len] = 0;
    assert_non_null(strstr(j, "\"refreshDue\":false"));
    assert_non_null(strstr(j, "\"hostMatch\":false"));
    mbedtls_x509_crt_free(&c);
    mbedtls_x509_crt_free(&ca);
}

/* ---- credentials and signing ----------------------------------------------------------- */

static void credentials_pairing(void **s) {
    tls_creds cr; q_error err;
    file_bytes ca = slurp("ca.pem"), cert = slurp("client.pem"), key = slurp("client.key"), rsa_key = slurp("client-rsa.key");
    q_error_clear(&err);
    assert_int_equal(tls_creds_load(&cr, ca.p, ca.n, cert.p, cert.n, key.p, key.n, &err), Q_OK);
    assert_true(cr.has_ca && cr.has_cert && cr.has_key);
    tls_creds_free(&cr);
    assert_fails_at(tls_creds_load(&cr, ca.p, ca.n, cert.p, cert.n, rsa_key.p, rsa_key.n, &err), Q_ERR(KEY_INVALID), -1, &err);
    assert_non_null(strstr(err.message, "does not match"));
    assert_fails_at(tls_creds_load(&cr, NULL, 0, NULL, 0, key.p, key.n, &err), Q_ERR(KEY_INVALID), -1, &err);
    assert_fails_at(tls_creds_load(&cr, NULL, 0, cert.p, cert.n, cert.p, cert.n, &err), Q_ERR(KEY_INVALID), -1, &err);
    assert_int_equal(arena_persistent_in_use(), 0);   /* every failure gave its blocks back */
}

static void signatures(void **s) {
    q_error err; mbedtls_pk_context k;
    file_bytes key = slurp("client.key"), rsa_key = slurp("client-rsa.key");
    uint8_t seed[32] = { 1 }, seed2[32] = { 2 }, a[512], b[512];
    q_error_clear(&err);
    assert_int_equal(tls_key_parse(&k, key.p, key.n, &err), Q_OK);
    assert_int_equal(tls_sign(&k, QS("hello"), seed, 32, a, sizeof a, &err), 64);
    assert_int_equal(tls_sign(&k, QS("hello"), seed2, 32, b, sizeof b, &err), 64);
    assert_memory_equal(a, b, 64);                       /* RFC 6979: the nonce depends on key and data only */
    assert_int_equal(tls_sign(&k, QS("hellp"), seed, 32, b, sizeof b, &err), 64);
    assert_memory_not_equal(a, b, 64);
    assert_fails_at(tls_sign(&k, QS("hello"), seed, 16, b, sizeof b, &err), Q_ERR(BAD_ARGUMENT), -1, &err);
    mbedtls_pk_free(&k);
    assert_int_equal(tls_key_parse(&k, rsa_key.p, rsa_key.n, &err), Q_OK);
    assert_int_equal(tls_sign(&k, QS("hello"), seed, 32, a, sizeof a, &err), 256);
    mbedtls_pk_free(&k);
    assert_fails_at(tls_key_parse(&k, QS("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), &err), Q_ERR(KEY_INVALID), -1, &err);
    uint8_t d[32];
    tls_sha256(QS("abc"), d);
    static const uint8_t abc[4] = { 0xba, 0x78, 0x16, 0xbf };
    assert_memory_equal(d, abc, 4);
    assert_int_equal(arena_persistent_in_use(), 0);
}

/* ---- allocation failures ---------------------------------------------------------------- */

/* Fail allocation 1, 2, ... of a full parse + check: each failure is OUT_OF_MEMORY and gives
 * back every block, until the run succeeds. */
static void allocation_failures(void **s) {
    file_bytes ca_f = slurp("ca.pem"), cert_f = slurp("server.pem"), key_f = slurp("client.key"), client_f = slurp("client.pem");
    int failures = 0;
    /* the run makes tens of thousands of allocations (big-number limbs grow one at a time):
     * step through the first 300 one by one, then by 1/64 of the count, so every part of
     * the run fails somewhere in about 650 runs */
    for (uint32_t nth = 1; nth < 1000000; nth += nth < 300 ? 1 : nth / 64) {
        scratch_reset();
        arena_fail_nth(nth);
        q_error err; q_error_clear(&err);
        mbedtls_x509_crt ca, c;
        int rc = tls_cert_parse(&ca, ca_f.p, ca_f.n, "ca", &err);
        if (!rc) rc = tls_cert_parse(&c, cert_f.p, cert_f.n, "cert", &err);
        else mbedtls_x509_crt_init(&c);
        if (!rc) rc = tls_cert_check(&c, &ca, QS("localhost"), 1.8e12, &err);
        tls_creds cr;
        if (!rc) { rc = tls_creds_load(&cr, NULL, 0, client_f.p, client_f.n, key_f.p, key_f.n, &err); if (!rc) tls_creds_free(&cr); }
        mbedtls_x509_crt_free(&c);
        mbedtls_x509_crt_free(&ca);
        arena_fail_nth(0);
        assert_int_equal(arena_persistent_in_use(), 0);
        if (rc == Q_OK) { assert_true(failures > 10); printf("allocation_failures: %d failing runs, success from allocation %u\n", failures, nth); return; }
        if (rc != Q_ERR(OUT_OF_MEMORY)) fail_msg("allocation %u: %s (%s)", nth, q_status_code(rc), err.message);
        failures++;
    }
    fail_msg("never succeeded");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(dns_wildcard_rules, q_test_setup),
        cmocka_unit_test_setup(ip_literals, q_test_setup),
        cmocka_unit_test_setup(server_cert_hosts, q_test_setup),
        cmocka_unit_test_setup(parse_named_errors, q_test_setup),
        cmocka_unit_test_setup(validity_boundaries, q_test_setup),
        cmocka_unit_test_setup(chain_and_host, q_test_setup),
        cmocka_unit_test_setup(signature_verification, q_test_setup),
        cmocka_unit_test_setup(inspection_record, q_test_setup),
        cmocka_unit_test_setup(credentials_pairing, q_test_setup),
        cmocka_unit_test_setup(signatures, q_test_setup),
        cmocka_unit_test_setup(allocation_failures, q_test_setup),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
