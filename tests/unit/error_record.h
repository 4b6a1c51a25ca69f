/* The error record a failed export leaves behind q_error_ptr/q_error_len (include/qollective.h,
 * Q_ERROR_RECORD_BYTES), read back field by field and checked against the instance's q_error;
 * then shown as the JSON record (q_error_to_json), so suites assert on "code", "path", "offset"
 * as text. "" when the last call left no record. Include after test_util.h and instance.h. */
#ifndef Q_TEST_ERROR_RECORD_H
#define Q_TEST_ERROR_RECORD_H

static inline const char *error_record_json(void) {
    static char t[Q_ERROR_JSON_BYTES + 1];
    const q_instance *I = instance();
    uint32_t n = q_error_len();
    t[0] = 0;
    if (!n) return t;
    assert_int_equal(n, I->err_rec_len);
    assert_true(n <= sizeof I->err_rec);
    const q_error *e = &I->err;
    char num[2][24] = { "", "" };
    if (e->http_status) snprintf(num[0], sizeof num[0], "%d", (int)e->http_status);
    if (e->offset >= 0) snprintf(num[1], sizeof num[1], "%lld", (long long)e->offset);
    const char *want[] = { q_kind_name((q_kind)e->kind), e->code, e->message, q_retry_policy_name((q_retry_policy)e->retry_policy),
                           num[0], num[1], e->path, q_source_name((q_source)e->source) };
    /* the glue reads retryable as "retryPolicy is not none" */
    assert_int_equal(e->retryable, e->retry_policy != QR_NONE);
    const char *r = (const char *)I->err_rec, *end = r + n;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const char *stop = k + 1 < sizeof want / sizeof want[0] ? memchr(r, 0, (size_t)(end - r)) : end;
        if (!stop) fail_msg("error record field %zu has no NUL", k);
        if ((size_t)(stop - r) != strlen(want[k]) || memcmp(r, want[k], strlen(want[k])))
            fail_msg("error record field %zu: '%.*s', want '%s'", k, (int)(stop - r), r, want[k]);
        r = stop + (stop < end);
    }
    assert_true(r == end);
    int k = q_error_to_json(e, (uint8_t *)t, sizeof t - 1);
    assert_true(k > 0);
    t[k] = 0;
    return t;
}
#endif
