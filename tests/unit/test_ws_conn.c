/* The WebSocket core through its exports, with a fake clock: the connection state machine
 * (connect, open, loss, backoff, reconnect, stale, drain, close), correlation (by request id,
 * error frames to the oldest unanswered, tombstones for requests that ended early), absolute
 * deadlines checked on every event, the bounded queue, server push and its bound, the pool
 * (LRU eviction of idle sockets only), and that events of a discarded connection are ignored. */
#include "test_util.h"
#include "qollective.h"
#include "instance.h"
#include "error_record.h"

int instance_start(uint32_t limit);

#define T0 1700000000000.0
#define URL "ws://127.0.0.1:9/q"

static char OUT[1 << 20];    /* the actions of the last call rendered as a JSON array, NUL-terminated */
static char TAIL[1 << 16];   /* the bytes after the action records */
static int32_t C;
static uint32_t seed = 1;   /* every call gets different random bytes (request ids must differ) */

static void put_in(const char *const *parts, uint32_t *lens, int n) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += (uint32_t)strlen(parts[i]);
    assert_int_not_equal(q_buffer(total ? total : 1), 0);
    for (int i = 0, at = 0; i < n; i++) { lens[i] = (uint32_t)strlen(parts[i]); memcpy(instance()->in + at, parts[i], lens[i]); at += (int)lens[i]; }
}

static void entropy(uint32_t n) {
    assert_int_not_equal(q_entropy(n), 0);
    for (uint32_t i = 0; i < n; i++) instance()->entropy[i] = (uint8_t)((seed >> (8 * (i % 4))) + i * 7);
    seed++;
}

/* Renders the action records (qollective.h) as the JSON objects the tests look for: the binary
 * records with the field names of their JSON actions, the JSON actions as they are. */
static void render(const uint8_t *p, uint32_t len) {
    size_t at = 0;
    OUT[at++] = '[';
    for (uint32_t i = 0; i < len;) {
        uint32_t w[32] = { 0 };
        memcpy(w, p + i, 4);
        uint32_t words = w[0] >> 8, op = w[0] & 0xFF;
        assert_true(words >= 2 && words <= 32 && i + words * 4 <= len);
        memcpy(w, p + i, words * 4);
        i += words * 4;
        char *o = OUT + at;
        size_t room = sizeof OUT - at - 2;
        int s = (int)w[1], k = 0;
        if (at > 1) { *o++ = ','; room--; at++; }
        switch (op) {
        case 1: assert_true(w[2] + w[3] <= strlen(TAIL)); k = snprintf(o, room, "%.*s", (int)w[3], TAIL + w[2]); break;
        case 2: k = snprintf(o, room, "{\"op\":\"request\",\"s\":%d,\"r\":%u,\"requestId\":\"%.36s\",\"at\":%u,\"n\":%u,\"keep\":%u}", s, w[2], TAIL + w[3], w[4], w[5], w[6]); break;
        case 3: k = snprintf(o, room, "{\"op\":\"send\",\"s\":%d,\"r\":%u}", s, w[2]); break;
        case 4: k = snprintf(o, room, "{\"op\":\"timer\",\"s\":%d,\"in\":%u}", s, w[2]); break;
        case 5: k = snprintf(o, room, "{\"op\":\"ping\",\"s\":%d,\"at\":%u,\"n\":%u}", s, w[2], w[3]); break;
        case 6: case 7:
            assert_int_equal(words, 2 + 3 + Q_DECODE_RECORD_WORDS);
            k = op == 6 ? snprintf(o, room, "{\"op\":\"resolve\",\"s\":%d,\"r\":%u,", s, w[2]) : snprintf(o, room, "{\"op\":\"push\",\"s\":%d,", s);
            k += snprintf(o + k, room - (size_t)k, "\"at\":%u,\"n\":%u,\"rec\":[", w[3], w[4]);
            for (int j = 0; j < Q_DECODE_RECORD_WORDS; j++) k += snprintf(o + k, room - (size_t)k, j ? ",%u" : "%u", w[5 + j]);
            k += snprintf(o + k, room - (size_t)k, "]}");
            break;
        default: fail_msg("unknown action %u", op);
        }
        assert_true(k > 0 && (size_t)k < room);
        at += (size_t)k;
    }
    OUT[at++] = ']';
    OUT[at] = 0;
}

/* Keeps the actions of a call (rc = their length) or fails the test with the error record. */
static int grab(int rc) {
    OUT[0] = TAIL[0] = 0;
    if (rc < 0) {
        snprintf(OUT, sizeof OUT, "%s", error_record_json());
        return rc;
    }
    uint32_t n = instance()->out_len;
    if (!n) { strcpy(OUT, "[]"); return rc; }
    uint32_t len;
    memcpy(&len, instance()->out, 4);
    assert_true(len == (uint32_t)rc && len <= n && n - len < sizeof TAIL && len % 4 == 0);
    memcpy(TAIL, instance()->out + len, n - len); TAIL[n - len] = 0;
    render(instance()->out + 4, len - 4);
    return rc;
}

static int has(const char *needle) {
    int k = 0;
    for (const char *p = OUT; (p = strstr(p, needle)); p++) k++;
    return k;
}
#define ASSERT_HAS(needle) do { if (!has(needle)) fail_msg("no %s in %s", needle, OUT); } while (0)
#define ASSERT_NOT(needle) do { if (has(needle)) fail_msg("unexpected %s in %s", needle, OUT); } while (0)

/* A client for cfg (a JSON object) whose allowlist takes the socket URLs these tests open. */
static int32_t client(const char *cfg) {
    static char full[1024];
    snprintf(full, sizeof full, "{\"security\":{\"allowed_origins\":[\"ws://127.0.0.1:9\",\"ws://a\",\"ws://b\",\"ws://c\",\"ws://d\"]}%s%s",
             cfg[1] == '}' ? "" : ",", cfg + 1);
    const char *parts[] = { full };
    uint32_t l[1];
    put_in(parts, l, 1);
    int32_t c = q_client_new(l[0]);
    if (c < 0) fail_msg("config: %s", error_record_json());
    return c;
}

static int32_t sock(const char *url, double now) {
    const char *parts[] = { url };
    uint32_t l[1];
    put_in(parts, l, 1);
    entropy(4);
    int32_t h = q_ws_open(C, l[0], now);
    if (h < 0) { grab(h); return h; }
    uint32_t len = 0;   /* open returns the handle: the records' length is only in the output */
    if (instance()->out_len) memcpy(&len, instance()->out, 4);
    grab((int)len);
    return h;
}

/* Issues a request; returns its handle (or the negative status), its id in rid. */
static char RID[64];
static int32_t request(int32_t s, const char *payload, double timeout, int idem, double now) {
    const char *parts[] = { "", payload };
    uint32_t l[2];
    put_in(parts, l, 2);
    entropy(16);
    int rc = grab(q_ws_request(C, s, l[0], l[1], timeout, idem, now));
    if (rc < 0) return rc;
    const char *r = strstr(OUT, "\"op\":\"request\"");
    assert_non_null(r);
    int32_t h = atoi(strstr(r, "\"r\":") + 4);
    const char *id = strstr(r, "\"requestId\":\"") + 13;
    memcpy(RID, id, 36); RID[36] = 0;
    return h;
}

static int message(int32_t s, uint32_t g, const char *frame, double now) {
    const char *parts[] = { frame };
    uint32_t l[1];
    put_in(parts, l, 1);
    return grab(q_ws_message(C, s, g, l[0], now));
}

static int event(int32_t s, uint32_t g, int kind, int code, const char *reason, double now) {
    const char *parts[] = { reason };
    uint32_t l[1];
    put_in(parts, l, 1);
    return grab(q_ws_event(C, s, g, kind, code, l[0], now));
}

static char FRAME[4096];
static const char *reply(const char *rid, const char *payload) {
    snprintf(FRAME, sizeof FRAME, "{\"type\":\"envelope\",\"payload\":{\"meta\":{\"request_id\":\"%s\"},\"payload\":%s}}", rid, payload);
    return FRAME;
}
#define ERROR_FRAME(code) "{\"type\":\"error\",\"message\":\"bad thing\",\"code\":" code "}"

static char INFO[512];
static const char *info(int32_t s) {
    int rc = q_ws_info(C, s);
    assert_true(rc > 0);
    memcpy(INFO, instance()->out, (size_t)rc); INFO[rc] = 0;
    return INFO;
}

static int setup(void **st) {
    (void)st;
    assert_int_equal(instance_start(0), Q_OK);
    C = client("{\"retry\":{\"jitter_percent\":0,\"base_delay_ms\":100,\"max_delay_ms\":1000},\"websocket\":{\"ping_interval_ms\":30000,\"message_timeout_ms\":10000}}");
    return 0;
}

/* An open socket at T0 (connection 1). */
static int32_t open_sock(void) {
    int32_t s = sock(URL, T0);
    assert_true(s >= 0);
    event(s, 1, 1, 0, "", T0);
    ASSERT_HAS("\"state\":\"open\"");
    return s;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void connect_queue_then_flush(void **st) {
    int32_t s = sock(URL, T0);
    ASSERT_HAS("{\"op\":\"connect\",\"s\":");
    ASSERT_HAS("\"g\":1,\"url\":\"" URL "\"");
    ASSERT_HAS("\"state\":\"connecting\"");
    ASSERT_HAS("\"op\":\"timer\"");                      /* the connect timeout */
    int32_t a = request(s, "{\"n\":1}", -1, -1, T0 + 1);
    ASSERT_NOT("\"op\":\"send\"");                       /* not connected: queued */
    assert_non_null(strstr(TAIL, "{\"type\":\"envelope\",\"payload\":{\"meta\":{\"timestamp\":"));
    assert_non_null(strstr(info(s), "\"queued\":1"));
    event(s, 1, 1, 0, "", T0 + 2);
    char want[64];
    snprintf(want, sizeof want, "{\"op\":\"send\",\"s\":%d,\"r\":%d}", s, a);
    ASSERT_HAS(want);
    assert_non_null(strstr(info(s), "\"state\":\"open\",\"conn\":1,\"queued\":0,\"written\":1"));
    /* the same URL gives the same socket */
    assert_int_equal(sock(URL, T0 + 3), s);
}

static void reply_resolves_by_request_id_in_any_form(void **st) {
    int32_t s = open_sock();
    int32_t a = request(s, "1", -1, -1, T0 + 1);
    char ida[40]; strcpy(ida, RID);
    int32_t b = request(s, "2", -1, -1, T0 + 1);
    char idb[40]; strcpy(idb, RID);
    /* B answered first, with its id upper-cased and braced: still B's */
    char odd[64];
    snprintf(odd, sizeof odd, "{%s}", idb);
    for (char *p = odd; *p; p++) if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    message(s, 1, reply(odd, "\"b\""), T0 + 2);
    char want[64];
    snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d", s, b);
    ASSERT_HAS(want);
    message(s, 1, reply(ida, "\"a\""), T0 + 3);
    snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d", s, a);
    ASSERT_HAS(want);
    assert_non_null(strstr(info(s), "\"pending\":0"));
}

/* A request id the caller set (here upper-cased) is the one correlated, not the one auto-fill
 * would have made from the entropy (its reply comes while another request is the oldest, so it is
 * found by the id stored for it); the oldest request's reply is matched whether its id comes back
 * canonical (compared without a parse) or in another form (parsed). */
static void caller_ids_and_head_replies_in_any_form(void **st) {
    int32_t s = open_sock();
    int32_t b = request(s, "2", -1, -1, T0 + 1);
    char idb[40]; strcpy(idb, RID);
    const char *parts[] = { "{\"request_id\":\"0191E5A0-0000-7000-8000-00000000000A\"}", "1" };
    uint32_t l[2];
    put_in(parts, l, 2);
    entropy(16);
    assert_true(grab(q_ws_request(C, s, l[0], l[1], -1, -1, T0 + 1)) >= 0);
    ASSERT_HAS("\"requestId\":\"0191e5a0-0000-7000-8000-00000000000a\"");
    int32_t a = atoi(strstr(strstr(OUT, "\"op\":\"request\""), "\"r\":") + 4);
    char want[64];
    message(s, 1, reply("0191e5a0-0000-7000-8000-00000000000a", "\"a\""), T0 + 2);
    snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d", s, a);
    ASSERT_HAS(want);
    for (char *p = idb; *p; p++) if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    message(s, 1, reply(idb, "\"b\""), T0 + 3);   /* the oldest, its id upper-cased */
    snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d", s, b);
    ASSERT_HAS(want);
    message(s, 1, reply(RID, "\"again\""), T0 + 4);   /* b's reply again: nobody waits, a push */
    ASSERT_HAS("\"op\":\"push\"");
    assert_non_null(strstr(info(s), "\"pending\":0"));
}

/* The reply's place in the frame is right whatever the frame's layout: payload last (read
 * once, to the frame's last brace), a member after it, payload before type, whitespace. */
static void replies_resolve_in_any_frame_layout(void **st) {
    int32_t s = open_sock();
    static const char *const LAYOUT[] = {
        "{\"type\":\"envelope\",\"payload\":%s}",
        "{\"type\":\"envelope\",\"payload\":%s,\"note\":{\"x\":[1]}}",
        "{\"payload\":%s,\"type\":\"envelope\"}",
        " { \"type\" : \"envelope\" , \"payload\" : %s \n } \t",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(LAYOUT); i++) {
        int32_t a = request(s, "1", -1, -1, T0);
        char env[128], frame[256], want[96];
        int n = snprintf(env, sizeof env, "{\"meta\":{\"request_id\":\"%s\"},\"payload\":%zu}", RID, i);
        snprintf(frame, sizeof frame, LAYOUT[i], env);
        message(s, 1, frame, T0 + 1);
        snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d,\"at\":%zu,\"n\":%d,", s, a,
                 (size_t)(strstr(frame, "{\"meta\"") - frame), n);
        if (!has(want)) fail_msg("layout %zu: want %s in %s", i, want, OUT);
    }
    assert_non_null(strstr(info(s), "\"pending\":0"));
}

static void error_frames_fail_the_oldest_with_their_code(void **st) {
    int32_t s = open_sock();
    int32_t a = request(s, "1", -1, -1, T0);
    int32_t b = request(s, "2", -1, -1, T0);
    message(s, 1, ERROR_FRAME("401"), T0 + 1);
    char want[64];
    snprintf(want, sizeof want, "\"op\":\"reject\",\"s\":%d,\"r\":%d,\"source\":\"frame\"", s, a);
    ASSERT_HAS(want);
    ASSERT_HAS("\"type\":\"security\",\"code\":\"ERROR_FRAME\",\"message\":\"bad thing\"");
    ASSERT_HAS("\"source\":\"frame\"}");              /* the error record itself says so too */
    ASSERT_HAS("\"status\":401");
    message(s, 1, ERROR_FRAME("null"), T0 + 2);
    snprintf(want, sizeof want, "\"r\":%d,\"source\":\"frame\"", b);
    ASSERT_HAS(want);
    ASSERT_HAS("\"status\":null");
    /* nothing written: an unsolicited error frame is reported, not dropped */
    message(s, 1, ERROR_FRAME("500"), T0 + 3);
    ASSERT_HAS("\"state\":\"error\",\"source\":\"frame\"");
}

static void error_envelope_rejects_with_source_envelope(void **st) {
    int32_t s = open_sock();
    int32_t a = request(s, "1", -1, -1, T0);
    char f[512];
    snprintf(f, sizeof f, "{\"type\":\"envelope\",\"payload\":{\"meta\":{\"request_id\":\"%s\"},\"payload\":null,"
             "\"error\":{\"code\":\"HANDLER_ERROR\",\"message\":\"nope\",\"details\":{\"x\":1},\"http_status_code\":400}}}", RID);
    message(s, 1, f, T0 + 1);
    char want[64];
    snprintf(want, sizeof want, "\"r\":%d,\"source\":\"envelope\"", a);
    ASSERT_HAS(want);
    ASSERT_HAS("\"code\":\"HANDLER_ERROR\",\"message\":\"nope\"");
    /* the error object is named by its range in the frame (the host reads it there), not copied */
    const char *eo = strstr(f, "{\"code\":\"HANDLER_ERROR\"");
    char at[64];
    snprintf(at, sizeof at, "\"detailsAt\":[%d,%d]}", (int)(eo - f), (int)(strlen(eo) - 2));
    ASSERT_HAS(at);
}

/* A request that timed out stays a tombstone: the error frame that answers it is absorbed, and
 * the next one fails the next request, not the wrong one. */
static void timeout_keeps_error_frame_correlation(void **st) {
    int32_t s = open_sock();
    int32_t a = request(s, "1", 100, -1, T0);
    int32_t b = request(s, "2", 5000, -1, T0);
    event(s, 1, 3, 0, "", T0 + 100);                    /* timer: a's deadline */
    char want[80];
    snprintf(want, sizeof want, "\"r\":%d,\"source\":\"network\"", a);
    ASSERT_HAS(want);
    ASSERT_HAS("\"code\":\"TIMEOUT\"");
    assert_non_null(strstr(info(s), "\"tombstones\":1"));
    message(s, 1, ERROR_FRAME("500"), T0 + 200);        /* the server's answer to a */
    ASSERT_NOT("\"op\":\"reject\"");
    assert_non_null(strstr(info(s), "\"tombstones\":0"));
    message(s, 1, ERROR_FRAME("404"), T0 + 300);        /* b's */
    snprintf(want, sizeof want, "\"r\":%d,\"source\":\"frame\"", b);
    ASSERT_HAS(want);
    ASSERT_HAS("\"status\":404");
}

static void late_reply_after_timeout_is_dropped(void **st) {
    int32_t s = open_sock();
    request(s, "1", 100, -1, T0);
    char id[40]; strcpy(id, RID);
    /* no timer fired (a throttled tab): the reply itself arrives past the deadline */
    message(s, 1, reply(id, "1"), T0 + 150);
    ASSERT_HAS("\"code\":\"TIMEOUT\"");
    ASSERT_NOT("\"op\":\"resolve\"");
    ASSERT_NOT("\"op\":\"push\"");
    assert_non_null(strstr(info(s), "\"pending\":0,\"pushBuffered\":0"));
    assert_non_null(strstr(info(s), "\"tombstones\":0"));
}

static void abort_queued_and_written(void **st) {
    int32_t s = sock(URL, T0);
    int32_t a = request(s, "1", -1, -1, T0);
    assert_true(grab(q_ws_abort(C, s, (uint32_t)a, T0 + 1)) > 0);
    ASSERT_HAS("\"code\":\"ABORTED\"");
    ASSERT_HAS("\"source\":\"local\"");
    event(s, 1, 1, 0, "", T0 + 2);
    ASSERT_NOT("\"op\":\"send\"");                       /* the aborted one is not written */
    int32_t b = request(s, "2", -1, -1, T0 + 3);
    char id[40]; strcpy(id, RID);
    grab(q_ws_abort(C, s, (uint32_t)b, T0 + 4));
    ASSERT_HAS("\"code\":\"ABORTED\"");
    assert_non_null(strstr(info(s), "\"tombstones\":1"));
    grab(q_ws_abort(C, s, (uint32_t)b, T0 + 5));          /* twice: nothing more */
    ASSERT_NOT("reject");
    message(s, 1, reply(id, "1"), T0 + 6);               /* the late reply: dropped */
    ASSERT_NOT("resolve");
    ASSERT_NOT("push");
}

static void keepalive_detects_a_silent_server(void **st) {
    int32_t s = open_sock();
    event(s, 1, 3, 0, "", T0 + 29999);
    ASSERT_NOT("\"op\":\"ping\"");
    event(s, 1, 3, 0, "", T0 + 30000);
    ASSERT_HAS("\"op\":\"ping\"");
    assert_non_null(strstr(TAIL, "{\"type\":\"ping\",\"timestamp\":\"2023-11-14T22:13:50Z\"}"));
    /* a pong clears it; the next ping comes an interval after the last frame */
    message(s, 1, "{\"type\":\"pong\",\"timestamp\":\"x\"}", T0 + 30010);
    event(s, 1, 3, 0, "", T0 + 30010 + 10000);
    ASSERT_NOT("stale");
    event(s, 1, 3, 0, "", T0 + 60010);
    ASSERT_HAS("\"op\":\"ping\"");
    /* silence: stale at ping + message_timeout, closed, reconnecting */
    event(s, 1, 3, 0, "", T0 + 70009);
    ASSERT_NOT("stale");
    event(s, 1, 3, 0, "", T0 + 70010);
    ASSERT_HAS("\"state\":\"stale\"");
    ASSERT_HAS("\"op\":\"close\"");
    ASSERT_HAS("\"code\":4000");
    ASSERT_HAS("\"state\":\"reconnecting\",\"attempt\":1,\"delay\":100");
}

/* On a lost connection: non-idempotent written requests reject (retryable), idempotent ones are
 * written again exactly once on the next connection; old-connection events are ignored. */
static void reconnect_resends_only_idempotent(void **st) {
    int32_t s = open_sock();
    int32_t a = request(s, "1", 60000, 0, T0);
    ASSERT_HAS("\"keep\":0}");                          /* written at most once: the host may drop it */
    int32_t b = request(s, "2", 60000, 1, T0);
    ASSERT_HAS("\"keep\":1}");                          /* may be written again: the host keeps it */
    char idb[40]; strcpy(idb, RID);
    event(s, 1, 2, 1006, "", T0 + 10);
    char want[80];
    snprintf(want, sizeof want, "\"r\":%d,\"source\":\"network\"", a);
    ASSERT_HAS(want);
    ASSERT_HAS("\"type\":\"connection\",\"code\":\"CONNECTION_LOST\"");
    ASSERT_HAS("\"retryable\":true");
    assert_int_equal(has("\"op\":\"reject\""), 1);
    ASSERT_HAS("\"state\":\"reconnecting\",\"attempt\":1,\"delay\":100,\"code\":1006");
    event(s, 1, 3, 0, "", T0 + 109);
    ASSERT_NOT("connect\"");
    event(s, 1, 3, 0, "", T0 + 110);
    ASSERT_HAS("\"op\":\"connect\"");
    ASSERT_HAS("\"g\":2");
    /* the old connection's reply and close arrive late: ignored */
    message(s, 1, reply(idb, "1"), T0 + 111);
    ASSERT_NOT("resolve");
    event(s, 1, 2, 1006, "", T0 + 112);
    ASSERT_NOT("reconnecting");
    event(s, 2, 1, 0, "", T0 + 120);
    snprintf(want, sizeof want, "{\"op\":\"send\",\"s\":%d,\"r\":%d}", s, b);
    ASSERT_HAS(want);
    assert_int_equal(has("\"op\":\"send\""), 1);
    message(s, 2, reply(idb, "1"), T0 + 130);
    assert_int_equal(has("\"op\":\"resolve\""), 1);
    message(s, 2, reply(idb, "1"), T0 + 131);            /* a duplicate: a push, never a second resolve */
    ASSERT_NOT("resolve");
}

/* An idempotent request is written at most retry.max_attempts times in all. */
static void resends_are_bounded_by_max_attempts(void **st) {
    C = client("{\"retry\":{\"max_attempts\":2,\"jitter_percent\":0,\"base_delay_ms\":10}}");
    int32_t s = open_sock();
    request(s, "1", 60000, 1, T0);
    event(s, 1, 2, 1006, "", T0 + 1);                    /* first loss: back to the queue */
    ASSERT_NOT("reject");
    event(s, 1, 3, 0, "", T0 + 11);
    event(s, 2, 1, 0, "", T0 + 12);
    ASSERT_HAS("\"op\":\"send\"");
    event(s, 2, 2, 1006, "", T0 + 13);                   /* second loss: two writes, no more */
    ASSERT_HAS("\"code\":\"CONNECTION_LOST\"");
    assert_non_null(strstr(info(s), "\"pending\":0"));
}

static void backoff_grows_and_connect_times_out(void **st) {
    int32_t s = sock(URL, T0);
    event(s, 1, 3, 0, "", T0 + 10000);                   /* timeouts.connect_ms */
    ASSERT_HAS("\"code\":4008");
    ASSERT_HAS("\"attempt\":1,\"delay\":100");
    event(s, 1, 3, 0, "", T0 + 10100);
    ASSERT_HAS("\"g\":2");
    event(s, 2, 2, 1006, "", T0 + 10101);
    ASSERT_HAS("\"attempt\":2,\"delay\":200");
    event(s, 2, 3, 0, "", T0 + 10301);
    event(s, 3, 2, 1006, "", T0 + 10302);
    ASSERT_HAS("\"attempt\":3,\"delay\":400");
}

static void queue_is_bounded(void **st) {
    C = client("{\"websocket\":{\"max_queue\":2}}");
    int32_t s = sock(URL, T0);
    assert_true(request(s, "1", -1, -1, T0) >= 0);
    assert_true(request(s, "2", -1, -1, T0) >= 0);
    assert_int_equal(request(s, "3", -1, -1, T0), Q_ERR(OVERFLOW));
    ASSERT_HAS("\"type\":\"capacity\",\"code\":\"OVERFLOW\"");
    ASSERT_HAS("websocket.max_queue");
    assert_non_null(strstr(info(s), "\"queued\":2"));
}

/* A request refused for room (queue full, in-flight limit) after its call did other work (the
 * connect timed out, a ping fell due): the call fails AND outputs those actions, so the host
 * still closes, reconnects, pings. They used to go with the failure: the socket sat connecting
 * with no timer, or marked a ping it never sent and later went stale on a healthy server. */
static int32_t refused_request(int32_t s, double timeout, double now) {
    const char *parts[] = { "", "\"late\"" };
    uint32_t l[2];
    put_in(parts, l, 2);
    entropy(16);
    int32_t rc = q_ws_request(C, s, l[0], l[1], timeout, -1, now);
    assert_true(rc < 0);
    char failure[512];
    snprintf(failure, sizeof failure, "%s", error_record_json());
    uint32_t len = 0;
    assert_true(instance()->out_len >= 4);
    memcpy(&len, instance()->out, 4);
    grab((int)len);
    size_t at = strlen(OUT);
    snprintf(OUT + at, sizeof OUT - at, "%s", failure);   /* the actions, then the failure */
    return rc;
}

static void a_refused_request_keeps_the_actions_its_call_took(void **st) {
    C = client("{\"retry\":{\"jitter_percent\":0,\"base_delay_ms\":100},\"websocket\":{\"max_queue\":1}}");
    int32_t s = sock(URL, T0);
    assert_true(request(s, "1", 60000, -1, T0) >= 0);
    assert_int_equal(refused_request(s, 60000, T0 + 10000), Q_ERR(OVERFLOW));   /* timeouts.connect_ms */
    ASSERT_HAS("\"code\":\"OVERFLOW\"");
    ASSERT_HAS("\"code\":4008");                             /* the timed-out connect is closed */
    ASSERT_HAS("\"state\":\"reconnecting\",\"attempt\":1,\"delay\":100");
    ASSERT_HAS("\"op\":\"timer\"");                         /* and the backoff has its timer */
    event(s, 1, 3, 0, "", T0 + 10100);
    ASSERT_HAS("\"g\":2");                                    /* the reconnect happens */

    C = client("{\"limits\":{\"max_in_flight\":1},\"websocket\":{\"ping_interval_ms\":30000,\"message_timeout_ms\":10000}}");
    s = open_sock();
    assert_true(request(s, "1", 60000, -1, T0) >= 0);
    assert_true(refused_request(s, 60000, T0 + 30000) < 0);
    ASSERT_HAS("max_in_flight");
    ASSERT_HAS("\"op\":\"ping\"");                          /* the ping that fell due goes out */
    assert_non_null(strstr(TAIL, "{\"type\":\"ping\""));
    message(s, 1, "{\"type\":\"pong\",\"timestamp\":\"x\"}", T0 + 30010);
    event(s, 1, 3, 0, "", T0 + 40010);
    ASSERT_NOT("stale");
}

static void outgoing_too_large_sends_nothing(void **st) {
    C = client("{\"websocket\":{\"max_message_bytes\":200}}");
    int32_t s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    char big[300];
    memset(big, 'x', sizeof big); big[0] = '"'; big[sizeof big - 2] = '"'; big[sizeof big - 1] = 0;
    assert_int_equal(request(s, big, -1, -1, T0), Q_ERR(TOO_LARGE));
    ASSERT_HAS("websocket.max_message_bytes");
    assert_non_null(strstr(info(s), "\"queued\":0,\"written\":0"));
}

/* The limits hold exactly: a frame of max_message_bytes and an envelope of max_envelope_bytes
 * go out (the envelope is encoded inside its frame: the frame's prefix is not the envelope's). */
static void outgoing_limits_are_exact(void **st) {
    int32_t s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    assert_true(request(s, "1", -1, -1, T0) >= 0);
    int frame = atoi(strstr(strstr(OUT, "\"op\":\"request\""), "\"n\":") + 4), env = frame - 30;
    char cfg[128];
    snprintf(cfg, sizeof cfg, "{\"limits\":{\"max_envelope_bytes\":%d},\"websocket\":{\"max_message_bytes\":%d}}", env, frame);
    C = client(cfg);
    s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    assert_true(request(s, "1", -1, -1, T0) >= 0);
    assert_int_equal(request(s, "12", -1, -1, T0), Q_ERR(TOO_LARGE));
    ASSERT_HAS("envelope size limit");
    snprintf(cfg, sizeof cfg, "{\"websocket\":{\"max_message_bytes\":%d}}", frame - 1);
    C = client(cfg);
    s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    assert_int_equal(request(s, "1", -1, -1, T0), Q_ERR(TOO_LARGE));
    ASSERT_HAS("websocket.max_message_bytes");
}

static void incoming_too_large_breaks_the_connection(void **st) {
    C = client("{\"websocket\":{\"max_message_bytes\":200},\"retry\":{\"jitter_percent\":0}}");
    int32_t s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    request(s, "1", -1, 1, T0);                          /* idempotent, still ends: the connection broke */
    event(s, 1, 5, 5000, "", T0 + 1);
    ASSERT_HAS("\"code\":\"CONNECTION_LOST\"");
    ASSERT_HAS("\"source\":\"frame\"");
    ASSERT_HAS("\"op\":\"close\"");
    ASSERT_HAS("\"state\":\"reconnecting\"");
    /* also when the bytes themselves are over (a short string of wide characters) */
    event(s, 1, 3, 0, "", T0 + 2000);
    event(s, 2, 1, 0, "", T0 + 2001);
    request(s, "2", -1, -1, T0 + 2002);
    char big[400];
    memset(big, ' ', sizeof big); big[0] = '{'; big[sizeof big - 2] = '}'; big[sizeof big - 1] = 0;
    message(s, 2, big, T0 + 2003);
    ASSERT_HAS("\"code\":\"CONNECTION_LOST\"");
}

static void malformed_frames_fail_the_oldest(void **st) {
    int32_t s = open_sock();
    static const char *const BAD[] = {
        "not json", "[1,2]", "{\"type\":\"bogus\"}", "{\"payload\":{}}", "{\"type\":\"envelope\"}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{\"request_id\":\"nope\"},\"payload\":1}}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{}}}", "{\"type\":\"error\",\"code\":\"x\"}", "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":[1,}}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1}} x",
        /* the payload is not the frame's last member, and what follows it is wrong */
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1},\"payload\":{\"meta\":{},\"payload\":2}}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1},\"x\":}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1},}",
        "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":1}}}",
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(BAD); i++) {
        int32_t a = request(s, "1", -1, -1, T0);
        message(s, 1, BAD[i], T0 + 1);
        char want[64];
        snprintf(want, sizeof want, "\"r\":%d,\"source\":\"frame\"", a);
        if (!has(want) || !has("\"type\":\"protocol\",\"code\":\"PROTOCOL\"")) fail_msg("frame %zu: %s", i, OUT);
    }
    /* binary frames are ignored (but show the peer is alive) */
    int32_t a = request(s, "1", -1, -1, T0);
    (void)a;
    event(s, 1, 4, 0, "", T0 + 2);
    ASSERT_NOT("reject");
}

static void push_is_bounded_and_reported(void **st) {
    C = client("{\"websocket\":{\"max_queue\":2}}");
    int32_t s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    const char *pushf = "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":\"hi\"}}";
    message(s, 1, pushf, T0 + 1);
    ASSERT_HAS("\"op\":\"push\"");
    ASSERT_HAS("\"at\":29,");
    message(s, 1, pushf, T0 + 2);
    ASSERT_HAS("\"op\":\"push\"");
    message(s, 1, pushf, T0 + 3);
    ASSERT_NOT("\"op\":\"push\"");
    ASSERT_HAS("\"state\":\"overflow\",\"attempt\":0,\"dropped\":1");
    assert_int_equal(q_ws_taken(C, s, 1, 0), 0);
    message(s, 1, pushf, T0 + 4);
    ASSERT_HAS("\"op\":\"push\"");
}

/* max_queue 0 is no buffer: a push goes only to a consumer the host says is waiting; any other
 * is refused and reported (it used to be buffered once: "at least 1"). */
static void push_without_a_buffer_goes_only_to_a_waiting_consumer(void **st) {
    C = client("{\"websocket\":{\"max_queue\":0}}");
    int32_t s = sock(URL, T0);
    event(s, 1, 1, 0, "", T0);
    const char *pushf = "{\"type\":\"envelope\",\"payload\":{\"meta\":{},\"payload\":\"hi\"}}";
    message(s, 1, pushf, T0 + 1);
    ASSERT_NOT("\"op\":\"push\"");
    ASSERT_HAS("\"state\":\"overflow\",\"attempt\":0,\"dropped\":1");
    assert_int_equal(q_ws_taken(C, s, 0, 1), 0);   /* one consumer waits */
    message(s, 1, pushf, T0 + 2);
    ASSERT_HAS("\"op\":\"push\",\"s\":");
    assert_non_null(strstr(info(s), "\"pushBuffered\":0,\"pushDropped\":1"));
    message(s, 1, pushf, T0 + 3);                  /* it took one; nobody waits now */
    ASSERT_NOT("\"op\":\"push\"");
    ASSERT_HAS("\"dropped\":2");
}

static void drain_closes_after_the_last_reply(void **st) {
    int32_t s = open_sock();
    request(s, "1", -1, -1, T0);
    char id[40]; strcpy(id, RID);
    grab(q_ws_drain(C, s, T0 + 1));
    ASSERT_NOT("close");
    assert_int_equal(request(s, "2", -1, -1, T0 + 2), Q_ERR(BAD_STATE));
    ASSERT_HAS("draining");
    message(s, 1, reply(id, "1"), T0 + 3);
    ASSERT_HAS("\"op\":\"resolve\"");
    ASSERT_HAS("\"op\":\"close\"");
    ASSERT_HAS("\"code\":1000,\"reason\":\"drained\",\"flush\":true");
    ASSERT_HAS("\"state\":\"closed\"");
}

static void close_ends_everything_once(void **st) {
    int32_t s = open_sock();
    request(s, "1", -1, -1, T0);
    event(s, 1, 2, 1006, "", T0 + 1);                    /* requeue nothing: not idempotent */
    request(s, "2", -1, -1, T0 + 2);                     /* queued */
    grab(q_ws_close(C, s, T0 + 3));
    assert_int_equal(has("\"op\":\"reject\""), 1);
    ASSERT_HAS("\"code\":\"ABORTED\"");
    ASSERT_HAS("\"state\":\"closed\"");
    assert_int_equal(q_ws_info(C, s), Q_ERR(BAD_HANDLE));
}

static void reconnect_off_closes_for_good(void **st) {
    C = client("{\"websocket\":{\"reconnect\":false}}");
    int32_t s = sock(URL, T0);
    request(s, "1", -1, 1, T0);
    event(s, 1, 2, 1006, "", T0 + 1);
    ASSERT_HAS("\"code\":\"CONNECTION_LOST\"");
    ASSERT_HAS("\"state\":\"closed\"");
    assert_int_equal(request(s, "2", -1, -1, T0 + 2), Q_ERR(BAD_STATE));
    /* the pool gives a fresh socket for the URL */
    int32_t s2 = sock(URL, T0 + 3);
    assert_true(s2 >= 0 && s2 != s);
    ASSERT_HAS("\"op\":\"connect\"");
}

static void pool_evicts_least_recently_used_idle(void **st) {
    C = client("{\"websocket\":{\"max_connections\":2}}");
    int32_t a = sock("ws://a/", T0), b = sock("ws://b/", T0 + 1);
    sock("ws://a/", T0 + 2);                             /* a used last: b is the LRU */
    int32_t c = sock("ws://c/", T0 + 3);
    assert_true(c >= 0);
    char want[64];
    snprintf(want, sizeof want, "{\"op\":\"close\",\"s\":%d", b);
    ASSERT_HAS(want);
    ASSERT_HAS("\"reason\":\"evicted\"");
    assert_int_equal(q_ws_info(C, b), Q_ERR(BAD_HANDLE));
    assert_true(q_ws_info(C, a) > 0);
    /* busy sockets are never evicted */
    request(a, "1", -1, -1, T0 + 4);
    request(c, "1", -1, -1, T0 + 4);
    assert_int_equal(sock("ws://d/", T0 + 5), Q_ERR(LIMIT_REACHED));
    ASSERT_HAS("\"type\":\"capacity\"");
    ASSERT_HAS("websocket.max_connections");
    assert_int_equal(sock("http://x/", T0 + 6), Q_ERR(INVALID_URL));
    /* an origin outside security.allowed_origins: refused before any action (no connect) */
    assert_int_equal(sock("ws://e/", T0 + 7), Q_ERR(ORIGIN_DENIED));
    ASSERT_HAS("\"path\":\"url\"");
    assert_int_equal(sock("wss://a/", T0 + 8), Q_ERR(ORIGIN_DENIED));   /* wss is https: not ws://a */
}

/* 10,000 requests in flight on one socket, answered in reverse order: each resolves once. */
static void ten_thousand_in_flight(void **st) {
    C = client("{\"limits\":{\"max_in_flight\":20000}}");
    int32_t s = open_sock();
    enum { N = 10000 };
    static char ids[N][37];
    static int32_t hs[N];
    for (int i = 0; i < N; i++) { hs[i] = request(s, "1", -1, -1, T0); if (hs[i] < 0) fail_msg("%d: %s", i, OUT); strcpy(ids[i], RID); }
    for (int i = N - 1; i >= 0; i--) {
        message(s, 1, reply(ids[i], "1"), T0 + 1);
        char want[64];
        snprintf(want, sizeof want, "\"op\":\"resolve\",\"s\":%d,\"r\":%d,", s, hs[i]);
        if (!has(want)) fail_msg("request %d: %s", i, OUT);
    }
    assert_non_null(strstr(info(s), "\"pending\":0"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(connect_queue_then_flush, setup),
        cmocka_unit_test_setup(a_refused_request_keeps_the_actions_its_call_took, setup),
        cmocka_unit_test_setup(reply_resolves_by_request_id_in_any_form, setup),
        cmocka_unit_test_setup(caller_ids_and_head_replies_in_any_form, setup),
        cmocka_unit_test_setup(replies_resolve_in_any_frame_layout, setup),
        cmocka_unit_test_setup(error_frames_fail_the_oldest_with_their_code, setup),
        cmocka_unit_test_setup(error_envelope_rejects_with_source_envelope, setup),
        cmocka_unit_test_setup(timeout_keeps_error_frame_correlation, setup),
        cmocka_unit_test_setup(late_reply_after_timeout_is_dropped, setup),
        cmocka_unit_test_setup(abort_queued_and_written, setup),
        cmocka_unit_test_setup(keepalive_detects_a_silent_server, setup),
        cmocka_unit_test_setup(reconnect_resends_only_idempotent, setup),
        cmocka_unit_test_setup(resends_are_bounded_by_max_attempts, setup),
        cmocka_unit_test_setup(backoff_grows_and_connect_times_out, setup),
        cmocka_unit_test_setup(queue_is_bounded, setup),
        cmocka_unit_test_setup(outgoing_too_large_sends_nothing, setup),
        cmocka_unit_test_setup(outgoing_limits_are_exact, setup),
        cmocka_unit_test_setup(incoming_too_large_breaks_the_connection, setup),
        cmocka_unit_test_setup(malformed_frames_fail_the_oldest, setup),
        cmocka_unit_test_setup(push_is_bounded_and_reported, setup),
        cmocka_unit_test_setup(push_without_a_buffer_goes_only_to_a_waiting_consumer, setup),
        cmocka_unit_test_setup(drain_closes_after_the_last_reply, setup),
        cmocka_unit_test_setup(close_ends_everything_once, setup),
        cmocka_unit_test_setup(reconnect_off_closes_for_good, setup),
        cmocka_unit_test_setup(pool_evicts_least_recently_used_idle, setup),
        cmocka_unit_test_setup(ten_thousand_in_flight, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
