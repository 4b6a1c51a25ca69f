/* libFuzzer harness: strict Base64 decode. A decode that succeeds is canonical, so encoding
 * its output gives back the input byte for byte; a failure names a byte inside the input.
 * The output buffer is exactly the documented n/4*3 bytes, on the heap, so ASan sees overruns.
 * fuzz-max-len: 4096 */
#include "fuzz_common.h"
#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0xFFFFFu) return 0;
    uint32_t n = (uint32_t)size;
    fuzz_begin();
    uint32_t room = n / 4 * 3;
    uint8_t *out = malloc(room ? room : 1);
    uint32_t out_len = 12345;
    q_error err;
    q_error_clear(&err);
    int rc = b64_decode(data, n, out, &out_len, &err);
    if (rc) {
        fuzz_check_error(rc, &err, n);
        FUZZ_CHECK(rc == Q_ERR(INVALID_BASE64), "status %s", q_status_code(rc));
        FUZZ_CHECK(err.offset >= 0 && err.offset <= n, "offset %lld", (long long)err.offset);
        free(out);
        return 0;
    }
    FUZZ_CHECK(n % 4 == 0, "accepted a length of %u", n);
    FUZZ_CHECK(out_len <= room && out_len + 2 >= room, "decoded %u bytes from %u", out_len, n);
    uint32_t elen = b64_encoded_len(out_len);
    FUZZ_CHECK(elen == n, "encoded length %u for %u input bytes", elen, n);
    uint8_t *again = malloc(elen ? elen : 1);
    FUZZ_CHECK(b64_encode(out, out_len, again) == elen, "b64_encode wrote a different length");
    if (memcmp(again, data, n) != 0) {
        fuzz_hex("input ", data, n);
        fuzz_hex("again ", again, elen);
        FUZZ_CHECK(0, "encode(decode(x)) != x");
    }
    free(again);
    free(out);
    return 0;
}
