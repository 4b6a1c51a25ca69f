/* libFuzzer harness: the URL pieces of the request builder. url_parse_base and
 * url_check_route never read past the input and fail only with INVALID_URL; an accepted base
 * has an http(s) origin; url_encode_component output uses only unreserved characters and
 * %XX, and percent-decoding it gives the input back. url_resolve with the input as a
 * redirect Location fails only with INVALID_URL and otherwise yields a URL that parses as a
 * base (before its query) with no fragment.
 * fuzz-max-len: 4096 */
#include "fuzz_common.h"
#include "url.h"

static int hexv(uint8_t c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_begin();
    uint32_t n = (uint32_t)size;
    uint8_t *in = malloc(n ? n : 1);            /* exact size: ASan sees any over-read */
    memcpy(in, data, n);

    q_error e; q_error_clear(&e);
    url_parts up;
    int rc = url_parse_base(in, n, &up, "rest.base_url", 0, &e);
    if (rc) {
        fuzz_check_error(rc, &e, n);
        FUZZ_CHECK(rc == Q_ERR(INVALID_URL), "base URL failure %s", q_status_code(rc));
    } else {
        FUZZ_CHECK(up.origin_len <= n && up.path_off <= n && up.scheme_len >= 4, "parts out of range");
        FUZZ_CHECK(memchr(in, '@', up.origin_len) == NULL, "credentials accepted");
        for (uint32_t i = 0; i < n; i++) FUZZ_CHECK(in[i] > 0x20 && in[i] < 0x7F && in[i] != '#', "byte 0x%02x accepted", in[i]);
    }

    q_error_clear(&e);
    q_buf to = {0};
    url_parts tp;
    static const uint8_t BASE[] = "http://h.test:8080/a/b/c?envelope_data=1";
    rc = url_resolve(&to, BASE, sizeof BASE - 1, in, n, &tp, "Location", &e);
    if (rc) {
        fuzz_check_error(rc, &e, n);
        FUZZ_CHECK(rc == Q_ERR(INVALID_URL), "Location failure %s", q_status_code(rc));
    } else {
        uint32_t qpos = 0;
        while (qpos < to.len && to.ptr[qpos] != '?') qpos++;
        url_parts again;
        q_error e2;
        FUZZ_CHECK(url_parse_base(to.ptr, qpos, &again, "x", 0, &e2) == Q_OK, "resolved URL does not parse");
        FUZZ_CHECK(again.origin_len == tp.origin_len, "origins disagree");
        FUZZ_CHECK(memchr(to.ptr, '#', to.len) == NULL, "fragment kept");
    }

    q_error_clear(&e);
    rc = url_check_route(in, n, "options.route", 0, &e);
    if (rc) fuzz_check_error(rc, &e, n);
    else FUZZ_CHECK(n && in[0] == '/' && (n == 1 || in[1] != '/'), "bad route accepted");

    q_buf out = {0};
    FUZZ_CHECK(url_encode_component(&out, in, n) == Q_OK, "encode failed");
    uint32_t k = 0;
    for (uint32_t i = 0; i < out.len; i++, k++) {
        uint8_t c = out.ptr[i], dec = c;
        if (c == '%') {
            FUZZ_CHECK(i + 2 < out.len, "escape cut short at %u", i);
            dec = (uint8_t)(hexv(out.ptr[i + 1]) * 16 + hexv(out.ptr[i + 2]));
            i += 2;
        } else {
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       strchr("-_.!~*'()", c), "unescaped 0x%02x", c);
        }
        FUZZ_CHECK(k < n && dec == in[k], "decoding differs at %u", k);
    }
    FUZZ_CHECK(k == n, "decoded %u of %u bytes", k, n);
    free(in);
    return 0;
}
