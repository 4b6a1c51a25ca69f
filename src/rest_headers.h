/* Request headers for a REST plan (wire-format.md §4). */
#ifndef Q_REST_HEADERS_H
#define Q_REST_HEADERS_H
#include "base.h"
#include "error.h"
#include "instance.h"
#include "schema.h"

/* Appends the plan's header pairs (["name","value"],...) to out: Content-Type when there
 * is a body, one header per meta field of the canonical meta walk `mw`, Authorization from
 * the configured token, then rest.headers and the call's headers (the map captured in slot
 * `call_slot` of the options walk `ow`; NULL or -1 for none; a call header replaces a
 * configured one of the same name). Refuses
 * headers fetch would drop or that would contradict the body, and names plus values past
 * limits.max_header_bytes (what the server counts for its 413, wire-format.md §4; the URL is
 * bounded apart). Values may hold secrets: the caller wipes scratch.
 * *own = how many leading pairs are Content-Type and meta headers (what a cross-origin
 * redirect hop keeps: Authorization and every configured or call header come after). */
int rest_headers_write(q_client *c, q_buf *out, bool has_body, schema_walk *mw, const schema_walk *ow, int call_slot,
                       uint32_t *own, q_error *err);
#endif
