/* Base64: RFC 4648 vectors, binary round trips, and the strict decoder's rejections with
 * the offset of the first bad byte (the server answers 400 to all of them). */
#include "test_util.h"
#include "base64.h"

static const char *const RFC_PLAIN[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
static const char *const RFC_CODED[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

static void rfc4648_vectors(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(RFC_PLAIN); i++) {
        uint8_t enc[16], dec[16];
        uint32_t pn = (uint32_t)strlen(RFC_PLAIN[i]), cn = (uint32_t)strlen(RFC_CODED[i]), dn = 99;
        q_error err;
        assert_int_equal(b64_encoded_len(pn), cn);
        assert_int_equal(b64_encode((const uint8_t *)RFC_PLAIN[i], pn, enc), cn);
        assert_memory_equal(enc, RFC_CODED[i], cn);
        q_error_clear(&err);
        assert_int_equal(b64_decode((const uint8_t *)RFC_CODED[i], cn, dec, &dn, &err), Q_OK);
        assert_int_equal(dn, pn);
        assert_memory_equal(dec, RFC_PLAIN[i], pn);
        assert_int_equal(err.status, 0);
    }
}

static void encoded_len(void **s) {
    assert_int_equal(b64_encoded_len(0), 0);
    assert_int_equal(b64_encoded_len(1), 4);
    assert_int_equal(b64_encoded_len(3), 4);
    assert_int_equal(b64_encoded_len(4), 8);
    assert_int_equal(b64_encoded_len(0xBFFFFFFDu), 0xFFFFFFFCu);   /* the largest that fits */
    assert_int_equal(b64_encoded_len(0xBFFFFFFEu), UINT32_MAX);    /* saturates */
    assert_int_equal(b64_encoded_len(UINT32_MAX), UINT32_MAX);
}

/* Every length 0..64 with every byte value at every position (start offsets 0..255). */
static void binary_round_trips(void **s) {
    uint8_t in[64], enc[88], dec[66];
    for (uint32_t len = 0; len <= 64; len++) {
        for (uint32_t start = 0; start < 256; start++) {
            for (uint32_t k = 0; k < len; k++) in[k] = (uint8_t)(start + k * 97);
            uint32_t en = b64_encode(in, len, enc), dn = 0;
            assert_int_equal(en, b64_encoded_len(len));
            q_error err;
            assert_int_equal(b64_decode(enc, en, dec, &dn, &err), Q_OK);
            assert_int_equal(dn, len);
            if (len) assert_memory_equal(dec, in, len);
        }
    }
    uint8_t all[256], big_enc[344], big_dec[258];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    uint32_t en = b64_encode(all, 256, big_enc), dn = 0;
    q_error err;
    assert_int_equal(b64_decode(big_enc, en, big_dec, &dn, &err), Q_OK);
    assert_int_equal(dn, 256);
    assert_memory_equal(big_dec, all, 256);
}

static void alphabet_is_standard(void **s) {
    const uint8_t in[3] = { 0xFB, 0xEF, 0xFF };   /* 111110 111110 111111 111111 */
    uint8_t out[4];
    b64_encode(in, 3, out);
    assert_memory_equal(out, "++//", 4);
    const uint8_t zero[3] = { 0, 0, 0 };
    b64_encode(zero, 3, out);
    assert_memory_equal(out, "AAAA", 4);
}

typedef struct { const char *in; int64_t offset; } bad_case;

static void rejects_with_offset(void **s) {
    static const bad_case BAD[] = {
        { "Z", 1 }, { "Zg", 2 }, { "Zg=", 3 }, { "Zm9vYg=", 7 },    /* length: at the end */
        { "Zm9vY", 5 },
        { "====", 0 }, { "Z===", 1 }, { "=Zg=", 0 },                 /* padding too early */
        { "Zg==Zg==", 2 }, { "Zm8=Zm8=", 3 },                         /* padding mid-input */
        { "Zm=v", 3 }, { "Zg=A", 3 },                                 /* data after padding */
        { "Zh==", 1 }, { "Zm9=", 2 }, { "Zm9vYh==", 5 },              /* non-zero pad bits */
        { "Zm9v\n", 4 }, { "Zm 9v", 2 }, { " Zm9v", 0 }, { "Zm9v ", 4 }, /* whitespace */
        { "Zm9v\r\nZm9v", 4 },
        { "Zg-=", 2 }, { "Zm9v_w==", 4 },                             /* URL-safe alphabet */
        { "Zm9\x80", 3 }, { "\xff\xff\xff\xff", 0 },
        { "Zm9v.A==", 4 },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(BAD); i++) {
        uint32_t n = (uint32_t)strlen(BAD[i].in);
        uint8_t out[16];
        uint32_t on = 77;
        q_error err;
        q_error_clear(&err);
        uint8_t *copy = malloc(n);             /* exact size: ASan sees any over-read */
        memcpy(copy, BAD[i].in, n);
        assert_fails_at(b64_decode(copy, n, out, &on, &err), Q_ERR(INVALID_BASE64), BAD[i].offset, &err);
        free(copy);
        assert_int_equal(on, 0);
        assert_string_equal(err.code, "INVALID_BASE64");
        assert_int_equal(err.http_status, 0);   /* local failure: no HTTP status */
    }
}

static void rejects_nul(void **s) {
    uint8_t out[3];
    uint32_t on;
    q_error err;
    assert_fails_at(b64_decode(QS("Zm\0v"), out, &on, &err), Q_ERR(INVALID_BASE64), 2, &err);
}

static int canonical(const uint8_t *txt, uint32_t n) {
    uint8_t dec[3], enc[4];
    uint32_t dn;
    q_error err;
    if (b64_decode(txt, n, dec, &dn, &err) != Q_OK) return 0;
    assert_int_equal(b64_encode(dec, dn, enc), n);
    assert_memory_equal(enc, txt, n);
    return 1;
}

/* Strictness as a property: a padded final group decodes iff it is the one canonical
 * encoding of its bytes. Exhaustive over the alphabet, '=' and a few strangers. */
static void padded_groups_exhaustive(void **s) {
    static const char EXTRA[] = "=-_ .\n";
    char chars[64 + sizeof EXTRA];
    uint8_t tmp[4];
    uint32_t nc = 0;
    for (uint32_t v = 0; v < 64; v++) {    /* the alphabet, taken from the encoder */
        uint8_t one[1] = { (uint8_t)(v << 2) };
        b64_encode(one, 1, tmp);
        chars[nc++] = (char)tmp[0];
    }
    for (size_t i = 0; i + 1 < sizeof EXTRA; i++) chars[nc++] = EXTRA[i];
    uint32_t ok1 = 0, ok2 = 0;
    for (uint32_t a = 0; a < nc; a++)
        for (uint32_t b = 0; b < nc; b++) {
            uint8_t g[4] = { (uint8_t)chars[a], (uint8_t)chars[b], '=', '=' };
            ok2 += (uint32_t)canonical(g, 4);
            for (uint32_t c = 0; c < nc; c++) {
                uint8_t h[4] = { (uint8_t)chars[a], (uint8_t)chars[b], (uint8_t)chars[c], '=' };
                ok1 += (uint32_t)canonical(h, 4);
            }
        }
    assert_int_equal(ok2, 256);            /* one per byte value */
    assert_int_equal(ok1, 65536 + 256);    /* one per pair of bytes, plus c == '=' */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_vectors),
        cmocka_unit_test(encoded_len),
        cmocka_unit_test(binary_round_trips),
        cmocka_unit_test(alphabet_is_standard),
        cmocka_unit_test(rejects_with_offset),
        cmocka_unit_test(rejects_nul),
        cmocka_unit_test(padded_groups_exhaustive),
    };
    return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
