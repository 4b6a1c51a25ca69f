/* libFuzzer harness: uuid_parse. A parsed UUID formats to the 36-byte lowercase hyphenated
 * form, which parses back to the same 16 bytes; a failed parse leaves the output untouched.
 * fuzz-max-len: 4096 */
#include "fuzz_common.h"
#include "uuid.h"

static bool is_lower_hyphenated(const uint8_t t[UUID_TEXT_LEN]) {
    for (int i = 0; i < UUID_TEXT_LEN; i++) {
        bool hy = i == 8 || i == 13 || i == 18 || i == 23;
        if (hy ? t[i] != '-' : !((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'))) return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0xFFFFFu) return 0;
    fuzz_begin();
    uint8_t u[16], before[16];
    memset(u, 0xA5, sizeof u);
    memcpy(before, u, sizeof u);
    int rc = uuid_parse(data, (uint32_t)size, u);
    if (rc) {
        FUZZ_CHECK(rc == Q_ERR(INVALID_UUID), "status %s", q_status_code(rc));
        FUZZ_CHECK(memcmp(u, before, 16) == 0, "a failed parse wrote the output");
        return 0;
    }
    FUZZ_CHECK(size == 32 || size == 36 || size == 38 || size == 45, "accepted a %zu-byte UUID", size);
    uint8_t *text = malloc(UUID_TEXT_LEN);   /* exact size on the heap: ASan sees overruns */
    uuid_format(u, text);
    FUZZ_CHECK(is_lower_hyphenated(text), "formatted UUID is not lowercase hyphenated");
    uint8_t v[16];
    FUZZ_CHECK(uuid_parse(text, UUID_TEXT_LEN, v) == Q_OK, "formatted UUID does not parse");
    FUZZ_CHECK(memcmp(u, v, 16) == 0, "format/parse changed the UUID");
    if (size == UUID_TEXT_LEN) {
        /* The hyphenated input differs from our text only in letter case. */
        for (int i = 0; i < UUID_TEXT_LEN; i++)
            FUZZ_CHECK((data[i] | (data[i] >= 'A' ? 0x20 : 0)) == text[i], "byte %d differs beyond case", i);
    }
    free(text);
    return 0;
}
