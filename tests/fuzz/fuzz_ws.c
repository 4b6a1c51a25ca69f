/* libFuzzer harness: the WebSocket core through its exports (frame parser, correlation, the
 * connection state machine), driven by a script of host events: frames (raw, or a reply to a
 * live request built around the input's bytes), requests, opens, closes, timer ticks, aborts,
 * push hand-outs, binary and oversized frames, drain and close. Properties: every call returns
 * actions or a well-formed error (never INTERNAL); the action records and JSON actions are
 * well-formed; every request ends at most once while the socket lives and exactly once in all
 * after close(); the client leaves no persistent memory behind.
 * Script: op byte, then its arguments (see the switch); frames are [len hi][len lo][bytes].
 * fuzz-max-len: 16384
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include "instance.h"
#include "qollective.h"
#include "ws_frame.h"
#include "envelope.h"

int instance_start(uint32_t limit);

#define T0 1700000000000.0
enum { MAX_REQ = 512 };

static struct {
    int32_t c, s;
    uint32_t g;                 /* the connection the core opened last */
    double now;
    uint32_t entropy_seq;
    struct { int32_t r; uint8_t state; char id[37]; } req[MAX_REQ];   /* state 1 live, 2 ended */
    uint32_t nreq, ended;
} S;

static void input(const uint8_t *p, uint32_t n) {
    FUZZ_CHECK(q_buffer(n ? n : 1) != 0, "input buffer");
    if (n) memcpy(instance()->in, p, n);
}

static void entropy(uint32_t n) {
    FUZZ_CHECK(q_entropy(n) != 0, "entropy buffer");
    for (uint32_t i = 0; i < n; i++) instance()->entropy[i] = (uint8_t)(S.entropy_seq * 31 + i * 7);
    S.entropy_seq++;
}

static int find(int32_t r) {
    for (uint32_t k = 0; k < S.nreq; k++) if (S.req[k].r == r && S.req[k].state == 1) return (int)k;
    return -1;
}

static void ended(int32_t r, const char *how) {
    int k = find(r);
    FUZZ_CHECK(k >= 0, "%s of request %d that is not live (ended twice, or never issued)", how, r);
    S.req[k].state = 2;
    S.ended++;
}

/* Where needle first occurs in js[0..n), or NULL. */
static const char *find_in(const char *js, uint32_t n, const char *needle) {
    size_t k = strlen(needle);
    for (uint32_t i = 0; i + k <= n; i++) if (!memcmp(js + i, needle, k)) return js + i;
    return NULL;
}

/* Reads a JSON number field "name": from an action object. */
static long field(const char *js, uint32_t n, const char *name) {
    char key[32];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = find_in(js, n, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Checks the outcome of one call and follows its actions (qollective.h: records, then bytes). */
static void outcome(int rc, uint32_t input_len) {
    q_instance *I = instance();
    if (rc < 0) {
        fuzz_check_error(rc, &I->err, input_len);
        return;
    }
    uint32_t n = I->out_len;
    if (!n) return;
    uint32_t len;
    FUZZ_CHECK(n >= 4, "output of %u bytes", n);
    memcpy(&len, I->out, 4);
    FUZZ_CHECK(len >= 4 && len % 4 == 0 && len <= n, "records length %u of %u", len, n);
    const uint8_t *tail = I->out + len;
    uint32_t tail_len = n - len;
    for (uint32_t i = 4; i < len;) {
        uint32_t w[40] = { 0 };
        memcpy(w, I->out + i, 4);
        uint32_t words = w[0] >> 8, op = w[0] & 0xFF;
        FUZZ_CHECK(words >= 2 && words <= 40 && i + words * 4 <= len, "record of %u words at %u", words, i);
        memcpy(w, I->out + i, words * 4);
        i += words * 4;
        switch (op) {
        case 1: {   /* JSON action */
            FUZZ_CHECK(w[2] + w[3] <= tail_len, "JSON action outside the tail");
            const char *js = (const char *)tail + w[2];
            q_error je; q_error_clear(&je);
            FUZZ_CHECK(json_validate((const uint8_t *)js, w[3], Q_DEFAULT_MAX_DEPTH, &je) == Q_OK, "JSON action: %s: %.*s", je.message, (int)w[3], js);
            if (find_in(js, w[3], "\"op\":\"reject\"")) ended((int32_t)field(js, w[3], "r"), "reject");
            else if (find_in(js, w[3], "\"op\":\"connect\"")) S.g = (uint32_t)field(js, w[3], "g");
            break;
        }
        case 2:     /* request {r,id,at,n} */
            FUZZ_CHECK(w[3] + 36 <= tail_len && w[4] + w[5] <= tail_len, "request bytes outside the tail");
            FUZZ_CHECK(find((int32_t)w[2]) < 0, "request handle %u issued twice while live", w[2]);
            if (S.nreq < MAX_REQ) {
                S.req[S.nreq].r = (int32_t)w[2]; S.req[S.nreq].state = 1;
                memcpy(S.req[S.nreq].id, tail + w[3], 36); S.req[S.nreq].id[36] = 0;
                S.nreq++;
            }
            break;
        case 3: case 4: break;
        case 5: FUZZ_CHECK(w[2] + w[3] <= tail_len, "ping bytes outside the tail"); break;
        case 6: case 7:
            FUZZ_CHECK(words == 2 + 3 + Q_DECODE_RECORD_WORDS, "resolve/push of %u words", words);
            FUZZ_CHECK(w[3] + w[4] <= input_len, "envelope [%u,+%u) outside the frame of %u", w[3], w[4], input_len);
            if (op == 6) ended((int32_t)w[2], "resolve");
            break;
        default: FUZZ_CHECK(0, "unknown action %u", op);
        }
    }
}

/* The fast frame parse (an envelope frame's payload taken to run to the frame's last brace, not
 * delimited) agrees with the strict one wherever the core relies on it: when it guessed, and
 * env_decode accepted the guess, the strict parse finds the same payload; when it did not
 * guess, both parses are the same. */
static void frame_parses_agree(const uint8_t *p, uint32_t n) {
    ws_frame a, b;
    q_error ea, eb;
    q_error_clear(&ea); q_error_clear(&eb);
    int ra = ws_frame_parse(p, n, Q_DEFAULT_MAX_DEPTH, true, &a, &ea);
    int rb = ws_frame_parse(p, n, Q_DEFAULT_MAX_DEPTH, false, &b, &eb);
    if (ra || !a.unverified) {
        FUZZ_CHECK(ra == rb && (ra || (a.type == b.type && a.payload_off == b.payload_off && a.payload_len == b.payload_len &&
                                       a.code == b.code && a.message_off == b.message_off && a.message_len == b.message_len)),
                   "fast and strict frame parses differ: %d/%d type %u/%u", ra, rb, a.type, b.type);
        return;
    }
    env_limits lim;
    env_limits_default(&lim);
    lim.max_depth--;
    env_decoded d;
    q_error e;
    q_error_clear(&e);
    if (env_decode(p + a.payload_off, a.payload_len, &lim, &d, &e)) return;   /* the core parses strictly then */
    FUZZ_CHECK(rb == Q_OK && b.type == WF_ENVELOPE && b.payload_off == a.payload_off && b.payload_len == a.payload_len,
               "fast parse guessed payload [%u,+%u), strict parse: %d [%u,+%u)", a.payload_off, a.payload_len, rb, b.payload_off, b.payload_len);
}

static uint32_t take(const uint8_t **d, size_t *n, uint32_t k) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < k; i++) { v = v << 8 | (*n ? **d : 0); if (*n) { (*d)++; (*n)--; } }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(&S, 0, sizeof S);
    FUZZ_CHECK(instance_start(64u << 20) == Q_OK, "instance");
    /* the host buffers at their largest first: what remains after the client is the client's */
    FUZZ_CHECK(q_buffer(8192) != 0 && q_entropy(64) != 0, "host buffers");
    uint32_t base = arena_persistent_in_use();
    static const char CFG[] = "{\"retry\":{\"jitter_percent\":0,\"base_delay_ms\":10,\"max_delay_ms\":100,\"max_attempts\":3},"
                              "\"websocket\":{\"url\":\"ws://127.0.0.1:9/q\",\"ping_interval_ms\":1000,\"message_timeout_ms\":2000,"
                              "\"max_message_bytes\":8192,\"max_queue\":4}}";
    input((const uint8_t *)CFG, sizeof CFG - 1);
    S.c = q_client_new(sizeof CFG - 1);
    FUZZ_CHECK(S.c >= 0, "client");
    S.now = T0;
    input(NULL, 0);
    entropy(4);
    S.s = q_ws_open(S.c, 0, S.now);
    FUZZ_CHECK(S.s >= 0, "open");
    uint32_t first = 0;
    if (instance()->out_len) memcpy(&first, instance()->out, 4);
    outcome((int)first, 0);

    const uint8_t *d = data;
    size_t n = size;
    while (n) {
        uint32_t op = take(&d, &n, 1);
        int rc;
        switch (op % 12) {
        case 0: case 1: {   /* a raw text frame on the current (or, op 1, an older) connection */
            uint32_t len = take(&d, &n, 2) % 4096;
            if (len > n) len = (uint32_t)n;
            frame_parses_agree(d, len);
            input(d, len);
            rc = q_ws_message(S.c, S.s, op % 12 ? S.g - 1 : S.g, len, S.now);
            outcome(rc, len);
            d += len; n -= len;
            break;
        }
        case 2: {   /* a reply frame to live request k around the input's bytes (as its payload) */
            uint32_t k = take(&d, &n, 1), len = take(&d, &n, 1);
            if (len > n) len = (uint32_t)n;
            static char frame[512];
            const char *id = S.nreq ? S.req[k % S.nreq].id : "00000000-0000-0000-0000-000000000000";
            int fl = snprintf(frame, sizeof frame, "{\"type\":\"envelope\",\"payload\":{\"meta\":{\"request_id\":\"%s\"},\"payload\":%.*s}}",
                              id, (int)len, (const char *)d);
            frame_parses_agree((const uint8_t *)frame, (uint32_t)fl);
            input((const uint8_t *)frame, (uint32_t)fl);
            rc = q_ws_message(S.c, S.s, S.g, (uint32_t)fl, S.now);
            outcome(rc, (uint32_t)fl);
            d += len; n -= len;
            break;
        }
        case 3: {   /* a request: payload from the input, idempotent or not, a timeout or the default */
            uint32_t flags = take(&d, &n, 1), len = take(&d, &n, 1) % 32;
            if (len > n) len = (uint32_t)n;
            input(d, len);
            entropy(16);
            rc = q_ws_request(S.c, S.s, 0, len, flags & 1 ? (double)(flags >> 1) * 10 : -1, (int32_t)(flags >> 6 & 1), S.now);
            outcome(rc, len);
            d += len; n -= len;
            break;
        }
        case 4:     /* the connection opened */
            input(NULL, 0);
            outcome(q_ws_event(S.c, S.s, S.g, 1, 0, 0, S.now), 0);
            break;
        case 5: {   /* it closed, with a code */
            uint32_t code = take(&d, &n, 2);
            input((const uint8_t *)"gone", 4);
            entropy(4);
            outcome(q_ws_event(S.c, S.s, S.g, 2, (int32_t)code, 4, S.now), 4);
            break;
        }
        case 6:     /* time passes; the timer fires */
            S.now += take(&d, &n, 1) * 37.0;
            input(NULL, 0);
            entropy(4);
            outcome(q_ws_event(S.c, S.s, S.g, 3, 0, 0, S.now), 0);
            break;
        case 7:     /* a binary frame, or a text frame too long to copy */
            input(NULL, 0);
            outcome(q_ws_event(S.c, S.s, S.g, 4 + (int32_t)(take(&d, &n, 1) & 1), 100000, 0, S.now), 0);
            break;
        case 8: {   /* the caller aborts request k */
            uint32_t k = take(&d, &n, 1);
            if (S.nreq) outcome(q_ws_abort(S.c, S.s, (uint32_t)S.req[k % S.nreq].r, S.now), 0);
            break;
        }
        case 9: {   /* the host hands out pushes and says who waits */
            uint32_t v = take(&d, &n, 1);
            rc = q_ws_taken(S.c, S.s, v & 7, v >> 3 & 3);
            outcome(rc, 0);
            break;
        }
        case 10:
            outcome(q_ws_drain(S.c, S.s, S.now), 0);
            break;
        case 11:    /* the ws_info record is JSON */
            rc = q_ws_info(S.c, S.s);
            if (rc > 0) {
                q_error je; q_error_clear(&je);
                FUZZ_CHECK(json_validate(instance()->out, (uint32_t)rc, Q_DEFAULT_MAX_DEPTH, &je) == Q_OK, "info: %s", je.message);
            } else outcome(rc, 0);
            break;
        }
    }
    /* close(): every request still live ends now, exactly once */
    int rc = q_ws_close(S.c, S.s, S.now);
    outcome(rc, 0);
    uint32_t live = 0;
    for (uint32_t k = 0; k < S.nreq; k++) live += S.req[k].state == 1;
    FUZZ_CHECK(live == 0 || rc < 0, "%u requests still live after close()", live);
    q_client_free(S.c);
    FUZZ_CHECK(arena_persistent_in_use() == base, "client left %u persistent bytes behind", arena_persistent_in_use() - base);
    return 0;
}
