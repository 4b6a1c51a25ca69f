/* Arena: persistent reuse keeps memory flat, scratch resets, the cap is respected with a
 * clean NULL, q_buf grows in place, and injected allocation failures are clean. */
#include "test_util.h"

static void persistent_reuse_is_flat(void **s) {
    arena_init(4u << 20);
    void *a = q_alloc(100); assert_non_null(a);
    q_free(a);
    uint32_t fp = arena_footprint();
    for (int i = 0; i < 200000; i++) {
        void *p = q_alloc((uint32_t)(i % 3000) + 1);
        void *big = q_alloc(200000);
        assert_non_null(p); assert_non_null(big);
        memset(p, 0xAB, (size_t)(i % 3000) + 1);
        q_free(big); q_free(p);
    }
    assert_int_equal(arena_persistent_in_use(), 0);
    assert_true(arena_footprint() <= fp + (1u << 20));
}

static void alignment_and_distinct(void **s) {
    uint8_t *p[64];
    for (int i = 0; i < 64; i++) { p[i] = q_alloc((uint32_t)i * 37 + 1); assert_non_null(p[i]); assert_int_equal((uintptr_t)p[i] % 8, 0); memset(p[i], i, (size_t)i * 37 + 1); }
    for (int i = 0; i < 64; i++) for (int j = 0; j < i * 37 + 1; j++) assert_int_equal(p[i][j], (uint8_t)i);
    for (int i = 0; i < 64; i++) q_free(p[i]);
}

static void cap_returns_null_not_trap(void **s) {
    arena_init(Q_MIN_MEMORY_LIMIT_BYTES);
    assert_null(q_alloc(2u << 20));
    void *p = q_alloc(512u << 10); assert_non_null(p);
    assert_null(q_alloc(800u << 10));
    q_free(p);
    assert_non_null(q_alloc(512u << 10));     /* reused after free */
    assert_true(arena_footprint() <= arena_limit());
    assert_null(scratch_alloc(4u << 20));
}

static void realloc_keeps_content(void **s) {
    uint8_t *p = q_alloc(10); memcpy(p, "0123456789", 10);
    p = q_realloc(p, 100000); assert_non_null(p);
    assert_memory_equal(p, "0123456789", 10);
    q_free(p);
}

static void scratch_reset_reuses(void **s) {
    scratch_reset();
    uint8_t *a = scratch_alloc(100);
    scratch_reset();
    uint8_t *b = scratch_alloc(100);
    assert_ptr_equal(a, b);
    /* a call that needed several chunks is served by one chunk next time */
    for (int i = 0; i < 10; i++) assert_non_null(scratch_alloc(60000));
    uint32_t fp = arena_footprint();
    for (int round = 0; round < 100; round++) {
        scratch_reset();
        for (int i = 0; i < 10; i++) assert_non_null(scratch_alloc(60000));
    }
    assert_true(arena_footprint() <= fp + (2u << 20));
}

static void buf_grows_in_place(void **s) {
    scratch_reset();
    q_buf b = {0};
    assert_int_equal(q_buf_puts(&b, "hello"), Q_OK);
    uint8_t *first = b.ptr;
    for (int i = 0; i < 1000; i++) assert_int_equal(q_buf_putc(&b, 'x'), Q_OK);
    assert_ptr_equal(b.ptr, first);
    for (int i = 0; i < 100000; i++) assert_int_equal(q_buf_putc(&b, (uint8_t)('a' + i % 26)), Q_OK);
    assert_int_equal(b.len, 5 + 1000 + 100000);
    assert_memory_equal(b.ptr, "hello", 5);
    assert_int_equal(b.ptr[5 + 1000 + 27], 'b');
}

static void injected_failures_are_clean(void **s) {
    for (uint32_t n = 1; n <= 6; n++) {
        arena_init(8u << 20);
        arena_fail_nth(n);
        int failed = 0;
        for (int i = 0; i < 6; i++) {
            void *p = (i % 2) ? scratch_alloc(100) : q_alloc(100);
            if (!p) failed++;
        }
        assert_int_equal(failed, 1);
        arena_fail_nth(0);
        assert_non_null(q_alloc(100));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(persistent_reuse_is_flat, q_test_setup),
        cmocka_unit_test_setup(alignment_and_distinct, q_test_setup),
        cmocka_unit_test_setup(cap_returns_null_not_trap, q_test_setup),
        cmocka_unit_test_setup(realloc_keeps_content, q_test_setup),
        cmocka_unit_test_setup(scratch_reset_reuses, q_test_setup),
        cmocka_unit_test_setup(buf_grows_in_place, q_test_setup),
        cmocka_unit_test_setup(injected_failures_are_clean, q_test_setup),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
