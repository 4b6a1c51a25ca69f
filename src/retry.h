/* Retry schedule: which failures are retried and after how long. Policies follow
 * wire-format.md §3 (exponential, linear, immediate, none); jitter comes from a per-request
 * seed the host supplied, so the core keeps no hidden randomness. */
#ifndef Q_RETRY_H
#define Q_RETRY_H
#include "base.h"
#include "error.h"

typedef struct {
    uint32_t max_attempts;   /* total, the first included */
    uint32_t base_ms, max_ms, jitter_pct;
} retry_params;

/* Delay before attempt `next_attempt` (2 = the first retry) under policy; jitter applied
 * from *seed (advanced). A Retry-After the server sent (ms, or -1) overrides when longer. */
uint32_t retry_delay_ms(q_retry_policy policy, uint32_t next_attempt, const retry_params *p,
                        int64_t retry_after_ms, uint32_t *seed);

/* Parses a Retry-After header value (delay-seconds only; HTTP dates are ignored): ms or -1. */
int64_t retry_after_parse(const uint8_t *s, uint32_t n);
#endif
