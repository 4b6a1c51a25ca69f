/* Shared helpers for the cmocka unit suites (host build of the same sources). */
#ifndef Q_TEST_UTIL_H
#define Q_TEST_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "base.h"
#include "error.h"
#include "arena.h"

/* Fresh arena and scratch for each test. */
static inline int q_test_setup(void **state) {
    (void)state;
    arena_init(Q_DEFAULT_MEMORY_LIMIT_BYTES);
    scratch_reset();
    return 0;
}

#define QS(lit) (const uint8_t *)(lit), (uint32_t)(sizeof(lit) - 1)

/* Asserts a failure with the given status and (when >= 0) offset. */
#define assert_fails_at(expr, st, off, errp) do { \
        int rc_ = (expr); \
        if (rc_ != (st)) fail_msg("expected %s, got %s (%s) at %lld", q_status_code(st), \
                                 q_status_code(rc_), (errp)->message, (long long)(errp)->offset); \
        if ((off) >= 0) assert_int_equal((errp)->offset, (off)); \
    } while (0)
#endif
