/* RFC 9421 signature base and RFC 9530 Content-Digest, known answers from the RFCs: the base
 * of RFC 9421 Appendix B.2.6 byte for byte (its base is the same whatever the algorithm), the
 * SHA-256 Content-Digest example of RFC 9530, and the base of the request form this client
 * signs, written out by hand from RFC 9421 §2.5 (component lines, sf-string escaping of keyid,
 * the @signature-params line with no newline after it). */
#include "test_util.h"
#include "tls.h"
#include "base64.h"

#define C(name, value) { name, (const uint8_t *)(value), (uint32_t)(sizeof(value) - 1) }

/* The base of comps with p is exactly want (no byte more: no newline after the last line). */
static void expect_base(const httpsig_component *comps, uint32_t n, const httpsig_params *p, const char *want) {
    q_buf out = {0};
    assert_int_equal(httpsig_base(&out, comps, n, p), Q_OK);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.ptr, want, out.len);
}

static void rfc9421_b26_signature_base(void **s) {
    const httpsig_component comps[] = {
        C("date", "Tue, 20 Apr 2021 02:07:55 GMT"), C("@method", "POST"), C("@path", "/foo"),
        C("@authority", "example.com"), C("content-type", "application/json"), C("content-length", "18"),
    };
    httpsig_params p = { 1618884473, (const uint8_t *)"test-key-ed25519", 16, NULL };
    static const char want[] =
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
        "\"@method\": POST\n"
        "\"@path\": /foo\n"
        "\"@authority\": example.com\n"
        "\"content-type\": application/json\n"
        "\"content-length\": 18\n"
        "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\")"
        ";created=1618884473;keyid=\"test-key-ed25519\"";
    expect_base(comps, Q_ARRAY_LEN(comps), &p, want);
    /* Signature-Input carries the same parameters text after "label=" (RFC 9421 §4.1) */
    q_buf params = {0};
    assert_int_equal(httpsig_params_write(&params, comps, Q_ARRAY_LEN(comps), &p), Q_OK);
    const char *tail = strstr(want, "\"@signature-params\": ") + 21;
    assert_int_equal(params.len, strlen(tail));
    assert_memory_equal(params.ptr, tail, params.len);
}

static void rfc9530_content_digest_example(void **s) {
    static const char body[] = "{\"hello\": \"world\"}";
    uint8_t d[32], b64[45];
    tls_sha256((const uint8_t *)body, sizeof body - 1, d);
    uint32_t n = b64_encode(d, 32, b64);
    assert_int_equal(n, 44);
    assert_memory_equal(b64, "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", 44);
}

static void the_request_form_this_client_signs(void **s) {
    const httpsig_component comps[] = {
        C("@method", "POST"), C("@target-uri", "https://api.example.com/v1/envelope?x=1"),
        C("content-digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
        C("x-qollective-request-id", "01890a5d-ac96-774b-bcce-b302099a8057"),
    };
    httpsig_params p = { 1700000000, (const uint8_t *)"k\"1\\x", 5, "ecdsa-p256-sha256" };
    static const char want[] =
        "\"@method\": POST\n"
        "\"@target-uri\": https://api.example.com/v1/envelope?x=1\n"
        "\"content-digest\": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:\n"
        "\"x-qollective-request-id\": 01890a5d-ac96-774b-bcce-b302099a8057\n"
        "\"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\" \"x-qollective-request-id\")"
        ";created=1700000000;keyid=\"k\\\"1\\\\x\";alg=\"ecdsa-p256-sha256\"";
    expect_base(comps, Q_ARRAY_LEN(comps), &p, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(rfc9421_b26_signature_base, q_test_setup),
        cmocka_unit_test_setup(rfc9530_content_digest_example, q_test_setup),
        cmocka_unit_test_setup(the_request_form_this_client_signs, q_test_setup),
    };
    return cmocka_run_group_tests_name("tls_httpsig", tests, NULL, NULL);
}
