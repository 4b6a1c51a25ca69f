/* Reconnect schedule (see ws_backoff.h): base * 2^(attempt-1), capped, +/- jitter. */
#include "ws_backoff.h"
#include "retry.h"

uint32_t ws_backoff_delay(const q_config *cfg, uint32_t attempt, uint32_t *seed) {
    retry_params p = { 0, cfg->retry_base_ms, cfg->retry_max_ms, cfg->retry_jitter_pct };
    return retry_delay_ms(QR_EXPONENTIAL, attempt + 1, &p, -1, seed);
}
