/* Reconnect schedule of a WebSocket: exponential backoff with jitter from the retry config
 * (retry.base_delay_ms, retry.max_delay_ms, retry.jitter_percent); the jitter comes from a
 * per-socket seed the host supplied, so the core keeps no hidden randomness. */
#ifndef Q_WS_BACKOFF_H
#define Q_WS_BACKOFF_H
#include "base.h"
#include "config.h"

/* Delay before reconnect attempt `attempt` (1 = the first reconnect); *seed advances. */
uint32_t ws_backoff_delay(const q_config *cfg, uint32_t attempt, uint32_t *seed);
#endif
