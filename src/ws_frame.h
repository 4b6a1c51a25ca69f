/* WebSocket frame codec (wire-format.md §5): every frame is a text frame holding one JSON
 * object tagged by `type`. Wraps outgoing envelopes and pings; classifies incoming frames. */
#ifndef Q_WS_FRAME_H
#define Q_WS_FRAME_H
#include "base.h"
#include "error.h"
#include "arena.h"

typedef enum { WF_ENVELOPE = 1, WF_PONG, WF_ERROR, WF_PING } ws_frame_type;

/* What an incoming frame holds: byte ranges into the frame, nothing copied. */
typedef struct {
    uint8_t type;                        /* ws_frame_type */
    uint32_t payload_off, payload_len;   /* envelope frames: the envelope value */
    uint8_t unverified;                  /* fast parse: payload_len assumes the payload is the last member */
    int32_t code;                        /* error frames: the integer code, -1 when null or absent */
    uint32_t message_off, message_len;   /* error frames: raw string body of `message` */
} ws_frame;

/* Classifies frame[0..len): a JSON object with a known `type` and the fields that type needs.
 * The envelope inside an envelope frame is only delimited here (its validation is env_decode's).
 * fast: a frame that names its type "envelope" before its payload is taken to end with the
 * payload, which then is not even delimited (unverified = 1): its bytes are read once, by
 * env_decode; when that fails, parse the frame again with fast = false for the exact failure.
 * Q_OK, or PROTOCOL with err naming what was wrong and where. */
int ws_frame_parse(const uint8_t *frame, uint32_t len, uint32_t max_depth, bool fast, ws_frame *f, q_error *err);

/* An envelope frame is ws_frame_open, the encoded envelope, ws_frame_close:
 * {"type":"envelope","payload":<envelope>} (the envelope is written in place, not copied). */
int ws_frame_open(q_buf *out);
int ws_frame_close(q_buf *out);
/* Appends {"type":"ping","timestamp":"<now, RFC 3339>"} (the server refuses a ping without one). */
int ws_frame_ping(q_buf *out, double now_ms);
#endif
