/* UUIDs: the four shapes the uuid crate parses and nothing else, lowercase hyphenated
 * output, and v4/v7 layout including the RFC 9562 appendix example. */
#include "test_util.h"
#include "uuid.h"

static const uint8_t SAMPLE[16] = { 0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4,
                                     0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00 };

static void parse_ok(const char *txt, const uint8_t want[16]) {
    uint8_t u[16];
    int rc = uuid_parse((const uint8_t *)txt, (uint32_t)strlen(txt), u);
    if (rc != Q_OK) fail_msg("rejected %s", txt);
    assert_memory_equal(u, want, 16);
}

static void parse_bad(const char *txt, uint32_t n) {
    uint8_t u[16];
    memset(u, 0xA5, 16);
    uint8_t *copy = malloc(n ? n : 1);         /* exact size: ASan sees any over-read */
    memcpy(copy, txt, n);
    int rc = uuid_parse(copy, n, u);
    free(copy);
    if (rc != Q_ERR(INVALID_UUID)) fail_msg("accepted %.*s", (int)n, txt);
    for (int i = 0; i < 16; i++) assert_int_equal(u[i], 0xA5);   /* untouched */
}
#define BAD(lit) parse_bad(lit, (uint32_t)(sizeof(lit) - 1))

static void accepts_the_four_shapes(void **s) {
    parse_ok("550e8400-e29b-41d4-a716-446655440000", SAMPLE);
    parse_ok("550E8400-E29B-41D4-A716-446655440000", SAMPLE);
    parse_ok("550e8400-E29b-41D4-a716-446655440000", SAMPLE);
    parse_ok("550e8400e29b41d4a716446655440000", SAMPLE);
    parse_ok("550E8400E29B41D4A716446655440000", SAMPLE);
    parse_ok("{550e8400-e29b-41d4-a716-446655440000}", SAMPLE);
    parse_ok("{550E8400-E29B-41D4-A716-446655440000}", SAMPLE);
    parse_ok("urn:uuid:550e8400-e29b-41d4-a716-446655440000", SAMPLE);
    parse_ok("urn:uuid:550E8400-E29B-41D4-A716-446655440000", SAMPLE);
    static const uint8_t NIL[16] = { 0 };
    static const uint8_t MAX[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    parse_ok("00000000-0000-0000-0000-000000000000", NIL);
    parse_ok("ffffffff-ffff-ffff-ffff-ffffffffffff", MAX);
    parse_ok("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", MAX);
}

static void rejects_other_shapes(void **s) {
    BAD("");
    BAD("550e8400-e29b-41d4-a716-44665544000");        /* 35 */
    BAD("550e8400-e29b-41d4-a716-4466554400000");      /* 37 */
    BAD("550e8400e29b41d4a71644665544000");            /* 31 */
    BAD("550e8400e29b41d4a7164466554400000");          /* 33 */
    BAD("550e840-0e29b-41d4-a716-446655440000");       /* hyphen moved */
    BAD("550e8400-e29b-41d4-a7164-46655440000");
    BAD("550e8400-e29b-41d4a-716-446655440000");
    BAD("550e8400-e29b41d4-a716-4466554400000");
    BAD("550e8400ee29bb41d4aa716a446655440000");       /* 36 without hyphens */
    BAD("550e8400_e29b_41d4_a716_446655440000");
    BAD("g50e8400-e29b-41d4-a716-446655440000");       /* non-hex */
    BAD("550e8400-e29b-41d4-a716-44665544000g");
    BAD("550e8400-e29b-41d4-a716-44665544000 ");
    BAD(" 550e8400-e29b-41d4-a716-44665544000");
    BAD("+50e8400-e29b-41d4-a716-446655440000");
    BAD("550e8400e29b41d4a71644665544000G");
    BAD("550e8400e29b41d4a71644665544000\0");
    BAD("{550e8400e29b41d4a716446655440000}");         /* braces only around hyphenated */
    BAD("{550e8400-e29b-41d4-a716-446655440000]");
    BAD("(550e8400-e29b-41d4-a716-446655440000)");
    BAD("{550e8400-e29b-41d4-a716-446655440000");
    BAD("550e8400-e29b-41d4-a716-446655440000}");
    BAD("{{550e8400-e29b-41d4-a716-446655440000}}");
    BAD("URN:UUID:550e8400-e29b-41d4-a716-446655440000");   /* the crate's prefix is lower case */
    BAD("urn:UUID:550e8400-e29b-41d4-a716-446655440000");
    BAD("urn-uuid-550e8400-e29b-41d4-a716-446655440000");
    BAD("urn:uuid:550e8400e29b41d4a716446655440000");  /* URN only around hyphenated */
    BAD("urn:uuid:{550e8400-e29b-41d4-a716-446655440000}");
    BAD("{urn:uuid:550e8400-e29b-41d4-a716-446655440000}");
    BAD("550e8400-e29b-41d4-a716-446655440000\n");
    BAD("0x550e8400e29b41d4a716446655440000");
    BAD("\xef\xbc\x95" "50e8400e29b41d4a7164466554400");  /* fullwidth digit, 32 bytes */
}

/* Every single-byte change of a hyphenated UUID: valid iff the byte fits its position. */
static void single_byte_mutations(void **s) {
    static const char BASE[] = "550e8400-e29b-41d4-a716-446655440000";
    for (uint32_t pos = 0; pos < UUID_TEXT_LEN; pos++) {
        bool hyphen_pos = pos == 8 || pos == 13 || pos == 18 || pos == 23;
        for (uint32_t c = 0; c < 256; c++) {
            uint8_t txt[UUID_TEXT_LEN], u[16];
            memcpy(txt, BASE, UUID_TEXT_LEN);
            txt[pos] = (uint8_t)c;
            bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            bool want = hyphen_pos ? c == '-' : hex;
            int rc = uuid_parse(txt, UUID_TEXT_LEN, u);
            if ((rc == Q_OK) != want) fail_msg("pos %u byte 0x%02x: rc %d", pos, c, rc);
            assert_true(rc == Q_OK || rc == Q_ERR(INVALID_UUID));
        }
    }
}

static void format_lowercase_hyphenated(void **s) {
    uint8_t out[UUID_TEXT_LEN + 1];
    out[UUID_TEXT_LEN] = '#';
    uuid_format(SAMPLE, out);
    assert_memory_equal(out, "550e8400-e29b-41d4-a716-446655440000", UUID_TEXT_LEN);
    assert_int_equal(out[UUID_TEXT_LEN], '#');                   /* no NUL, no overrun */
    static const uint8_t MIX[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
    uuid_format(MIX, out);
    assert_memory_equal(out, "01234567-89ab-cdef-fedc-ba9876543210", UUID_TEXT_LEN);
}

static void round_trips(void **s) {
    uint8_t u[16], back[16], txt[UUID_TEXT_LEN];
    for (uint32_t seed = 0; seed < 4096; seed++) {
        for (int i = 0; i < 16; i++) u[i] = (uint8_t)((seed * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)(i * 29);
        uuid_format(u, txt);
        assert_int_equal(uuid_parse(txt, UUID_TEXT_LEN, back), Q_OK);
        assert_memory_equal(back, u, 16);
    }
}

static void v4_bits(void **s) {
    uint8_t rnd[16], u[16], txt[UUID_TEXT_LEN];
    memset(rnd, 0xFF, 16);
    uuid_v4(rnd, u);
    assert_int_equal(u[6], 0x4F);
    assert_int_equal(u[8], 0xBF);
    uuid_format(u, txt);
    assert_memory_equal(txt, "ffffffff-ffff-4fff-bfff-ffffffffffff", UUID_TEXT_LEN);
    memset(rnd, 0, 16);
    uuid_v4(rnd, u);
    uuid_format(u, txt);
    assert_memory_equal(txt, "00000000-0000-4000-8000-000000000000", UUID_TEXT_LEN);
    for (int i = 0; i < 16; i++) rnd[i] = (uint8_t)(i * 17 + 3);
    uuid_v4(rnd, u);
    for (int i = 0; i < 16; i++) {
        if (i == 6) assert_int_equal(u[i], 0x40 | (rnd[i] & 0x0F));
        else if (i == 8) assert_int_equal(u[i], 0x80 | (rnd[i] & 0x3F));
        else assert_int_equal(u[i], rnd[i]);
    }
}

/* RFC 9562 Appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F. */
static void v7_rfc9562_example(void **s) {
    static const uint8_t WANT[16] = { 0x01, 0x7F, 0x22, 0xE2, 0x79, 0xB0, 0x7C, 0xC3,
                                      0x98, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F };
    uint8_t rnd[10] = { 0x0C, 0xC3, 0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F };
    uint8_t u[16], txt[UUID_TEXT_LEN];
    uuid_v7(0x017F22E279B0ull, rnd, u);
    assert_memory_equal(u, WANT, 16);
    uuid_format(u, txt);
    assert_memory_equal(txt, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", UUID_TEXT_LEN);
    /* The bits version and variant overwrite do not matter. */
    rnd[0] = 0xFC; rnd[2] = 0xD8;
    uuid_v7(0x017F22E279B0ull, rnd, u);
    assert_memory_equal(u, WANT, 16);
    /* Only the low 48 bits of the time are used. */
    uuid_v7(0xABCD017F22E279B0ull, rnd, u);
    assert_memory_equal(u, WANT, 16);
    uint8_t parsed[16];
    assert_int_equal(uuid_parse(QS("017F22E2-79B0-7CC3-98C4-DC0C0C07398F"), parsed), Q_OK);
    assert_memory_equal(parsed, WANT, 16);
}

static void v7_sorts_by_time(void **s) {
    uint8_t rnd[10], prev[UUID_TEXT_LEN], cur[UUID_TEXT_LEN], u[16];
    memset(rnd, 0xFF, 10);
    uuid_v7(0, rnd, u);
    uuid_format(u, prev);
    assert_memory_equal(prev, "00000000-0000-7fff-bfff-ffffffffffff", UUID_TEXT_LEN);
    for (uint64_t ms = 1; ms < (1ull << 48); ms = ms * 3 + 1) {
        memset(rnd, (int)(ms & 0xFF) ^ 0x5A, 10);    /* random bits never outrank the time */
        uuid_v7(ms, rnd, u);
        uuid_format(u, cur);
        assert_true(memcmp(prev, cur, UUID_TEXT_LEN) < 0);
        assert_int_equal(cur[14], '7');
        assert_true(cur[19] == '8' || cur[19] == '9' || cur[19] == 'a' || cur[19] == 'b');
        memset(rnd, 0xFF, 10);
        uuid_v7(ms, rnd, u);
        uuid_format(u, prev);
    }
}


/* The canonical request id comes from the core, from a JSON string body in any shape. */
static void canonical_from_json_body(void **state) {
    (void)state;
    static const char *const FORMS[] = {
        "550E8400-E29B-41D4-A716-446655440000", "550e8400e29b41d4a716446655440000",
        "{550e8400-e29b-41d4-a716-446655440000}", "urn:uuid:550e8400-e29b-41d4-a716-446655440000",
        "\\u0035\\u00350e8400-e29b-41d4-a716-446655440000",
    };
    for (size_t k = 0; k < sizeof FORMS / sizeof FORMS[0]; k++) {
        uint8_t out[UUID_TEXT_LEN];
        assert_int_equal(uuid_canonical((const uint8_t *)FORMS[k], (uint32_t)strlen(FORMS[k]), out), Q_OK);
        assert_memory_equal(out, "550e8400-e29b-41d4-a716-446655440000", UUID_TEXT_LEN);
    }
    uint8_t out[UUID_TEXT_LEN];
    assert_int_equal(uuid_canonical((const uint8_t *)"not-a-uuid", 10, out), Q_ERR(INVALID_UUID));
    uint8_t big[400];
    memset(big, 'a', sizeof big);
    assert_int_equal(uuid_canonical(big, sizeof big, out), Q_ERR(INVALID_UUID));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_the_four_shapes),
        cmocka_unit_test(rejects_other_shapes),
        cmocka_unit_test(single_byte_mutations),
        cmocka_unit_test(format_lowercase_hyphenated),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(v4_bits),
        cmocka_unit_test(v7_rfc9562_example),
        cmocka_unit_test(v7_sorts_by_time),
        cmocka_unit_test(canonical_from_json_body),
    };
    return cmocka_run_group_tests_name("uuid", tests, NULL, NULL);
}
