/* libFuzzer harness: rfc3339_parse. A parsed instant whose UTC year is in 0000..9999
 * formats (both styles) to text that parses back to the same instant; the Z form is a fixed
 * point of parse+format.
 * fuzz-max-len: 4096 */
#include "fuzz_common.h"
#include "rfc3339.h"

static void roundtrip(q_time t, rfc3339_style style) {
    uint8_t *text = malloc(RFC3339_MAX_LEN);   /* exact size on the heap: ASan sees overruns */
    uint32_t n = rfc3339_format(t, style, text);
    FUZZ_CHECK(n >= 20 && n <= RFC3339_MAX_LEN, "format wrote %u bytes", n);
    q_time back;
    int rc = rfc3339_parse(text, n, &back);
    if (rc || back.secs != t.secs || back.nanos != t.nanos) {
        fprintf(stderr, "formatted: %.*s\n", (int)n, (const char *)text);
        FUZZ_CHECK(0, "instant %lld.%09u (style %d) came back as %lld.%09u (rc %d)",
                   (long long)t.secs, t.nanos, (int)style, (long long)back.secs, back.nanos, rc);
    }
    if (style == RFC3339_Z) {
        uint8_t again[RFC3339_MAX_LEN];
        uint32_t m = rfc3339_format(back, style, again);
        FUZZ_CHECK(m == n && memcmp(again, text, n) == 0, "Z form is not a fixed point");
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0xFFFFFu) return 0;
    fuzz_begin();
    q_time t = { 0, 0 };
    int rc = rfc3339_parse(data, (uint32_t)size, &t);
    if (rc) {
        FUZZ_CHECK(rc == Q_ERR(INVALID_TIMESTAMP), "status %s", q_status_code(rc));
        return 0;
    }
    FUZZ_CHECK(t.nanos < 2000000000u, "nanos %u", t.nanos);
    FUZZ_CHECK(t.nanos < 1000000000u || t.secs % 60 == 59 || t.secs % 60 == -1, "leap nanos outside second 59");
    /* Four-digit years with offsets up to 23:59 stay within a day of 0000..9999. */
    FUZZ_CHECK(t.secs >= INT64_C(-62167219200) - 86400 && t.secs < INT64_C(253402300800) + 86400, "secs %lld", (long long)t.secs);
    uint8_t probe[RFC3339_MAX_LEN];
    if (!rfc3339_format(t, RFC3339_Z, probe)) return 0;   /* more than a day outside 0000..9999 */
    roundtrip(t, RFC3339_Z);
    roundtrip(t, RFC3339_PLUS00);
    return 0;
}
