/* Host failure identifiers: which Node/OpenSSL codes name a TLS failure (a security error, not
 * retried) and which are plain network failures (retried as before). */
#include "test_util.h"
#include "host_failure.h"
/* host builds compile host_failure.c without Q_TLS (the table is the TLS module's): the test
 * compiles its own copy with Q_TLS, under another name */
#define Q_TLS
#define host_tls_failure host_tls_failure_of_tls_module
#include "../../src/host_failure.c"

/* The detail id a code maps to, as the text an error message carries (host builds put the
 * text in; the wasm writes a marker the glue expands); NULL when the code is no TLS failure. */
static const char *tls(const char *code) {
    static q_error e;
    const char *detail = host_tls_failure((const uint8_t *)code, (uint32_t)strlen(code));
    if (!detail) return NULL;
    assert_true(Q_DETAIL_IS_ID(detail));
    q_error_clear(&e);
    q_msg_append(&e, detail);
    return e.message;
}

static void tls_codes_get_their_message(void **s) {
    assert_string_equal(tls("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), "the server requires a client certificate; none was sent");
    assert_non_null(strstr(tls("ERR_TLS_PEER_CLOSED"), "client certificate refused"));
    assert_non_null(strstr(tls("ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED"), "expired"));
    assert_non_null(strstr(tls("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"), "does not trust the client certificate's CA"));
    assert_string_equal(tls("ERR_TLS_CERT_ALTNAME_INVALID"), "the server certificate names another host");
    assert_string_equal(tls("CERT_HAS_EXPIRED"), "the server certificate expired");
    /* prefixes, and the self-signed codes */
    assert_non_null(strstr(tls("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"), "refused the client certificate"));
    assert_non_null(strstr(tls("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "not trusted"));
    assert_non_null(strstr(tls("DEPTH_ZERO_SELF_SIGNED_CERT"), "not trusted"));
    assert_non_null(strstr(tls("SELF_SIGNED_CERT_IN_CHAIN"), "not trusted"));
    assert_string_equal(tls("ERR_SSL_WRONG_VERSION_NUMBER"), "TLS protocol failure");
}

static void other_codes_are_not_tls(void **s) {
    const char *plain[] = { "ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "UND_ERR_SOCKET", "", "ERR_SSL",
                            "CERT", "XERR_TLS_CERT_ALTNAME_INVALID" };
    for (size_t i = 0; i < Q_ARRAY_LEN(plain); i++) assert_null(tls(plain[i]));
    /* lengths are honoured: a prefix of a code is not the code */
    assert_null(host_tls_failure((const uint8_t *)"CERT_HAS_EXPIRED", 4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_codes_get_their_message),
        cmocka_unit_test(other_codes_are_not_tls),
    };
    return cmocka_run_group_tests_name("host_failure", tests, NULL, NULL);
}
