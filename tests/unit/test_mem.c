/* The small memory helpers of base.h / mem.c: q_same_bytes compares 4 bytes a step, then the
 * rest, so its edges are the lengths around a multiple of 4 and a difference in each place. */
#include "test_util.h"

static void same_bytes_at_every_length_and_place(void **s) {
    static const char NAME[] = "delegatingTenant_x";   /* 18 bytes, as long as the longest names */
    uint8_t key[sizeof NAME];
    for (uint32_t n = 0; n < sizeof NAME; n++) {
        memcpy(key, NAME, sizeof NAME);
        assert_true(q_same_bytes(key, NAME, n));
        for (uint32_t k = 0; k < n; k++) {   /* one byte off, anywhere: in a 4-byte step or the tail */
            key[k] ^= 0x20;
            assert_false(q_same_bytes(key, NAME, n));
            key[k] ^= 0x20;
        }
        key[n] = 'Z';   /* a byte past the length is not compared */
        assert_true(q_same_bytes(key, NAME, n));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_at_every_length_and_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
