/* Retry schedule (see retry.h). Exponential: base * 2^(k-1); linear: base * k; both capped
 * at max and spread by +/- jitter percent; immediate: 0. */
#include "retry.h"
_Static_assert(Q_MAX_RETRY_AFTER_S <= 4294967, "Retry-After milliseconds fit 32 bits");

/* xorshift32: cheap spreading of the host-supplied seed, not a source of secrets. */
static uint32_t next_random(uint32_t *s) {
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    *s = x;
    return x;
}

uint32_t retry_delay_ms(q_retry_policy policy, uint32_t next_attempt, const retry_params *p,
                        int64_t retry_after_ms, uint32_t *seed) {
    uint32_t k = next_attempt > 1 ? next_attempt - 1 : 1;   /* retry number, 1-based */
    uint64_t d = 0;
    if (policy == QR_EXPONENTIAL) d = k >= 32 ? p->max_ms : (uint64_t)p->base_ms << (k - 1);
    else if (policy == QR_LINEAR) d = (uint64_t)p->base_ms * k;
    if (d > p->max_ms) d = p->max_ms;
    if (d && p->jitter_pct) {
        uint64_t span = d * p->jitter_pct / 100;              /* d +/- span */
        uint64_t r = next_random(seed) % (2 * span + 1);
        d = d - span + r;
        if (d > p->max_ms) d = p->max_ms;
    }
    if (retry_after_ms > 0 && (uint64_t)retry_after_ms > d) d = (uint64_t)retry_after_ms;
    return d > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)d;
}

int64_t retry_after_parse(const uint8_t *s, uint32_t n) {
    uint32_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    if (i == n) return -1;
    uint32_t v = 0;   /* <= Q_MAX_RETRY_AFTER_S, so v * 10 + 9 and v * 1000 fit 32 bits */
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint32_t)(s[i] - '0');
        if (v > Q_MAX_RETRY_AFTER_S) v = Q_MAX_RETRY_AFTER_S;   /* more than any caller waits */
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    return i == n ? (int64_t)(v * 1000) : -1;
}
