/* The codec exports (include/qollective.h): instance, host buffers, JSON validation, envelope
 * codec, the encode batch, memory stats. Each export brackets its work with BEGIN()/call_end. */
#include "qollective.h"
#include "instance.h"
#include "json.h"
#include "envelope.h"
#include "uuid.h"
#include "utf16.h"

int instance_start(uint32_t limit);

Q_EXPORT(q_init) int32_t q_init(uint32_t memory_limit_bytes) {
    int rc = instance_start(memory_limit_bytes);
    return rc;
}

/* Grows a host-facing buffer to at least n bytes; its address, or 0 with the error record set. */
static uint32_t host_buffer(q_instance *I, uint8_t **buf, uint32_t *cap, uint32_t n, const char *what) {
    if (n == 0) n = 1;
    if (n > *cap) {
        uint8_t *p = q_realloc(*buf, n);
        if (!p) { q_fail(&I->err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, what, NULL); call_end(I, I->err.status); return 0; }
        *buf = p; *cap = n;
    }
    return (uint32_t)(uintptr_t)*buf;
}

Q_EXPORT(q_buffer) uint32_t q_buffer(uint32_t n) {
    q_instance *I = instance();
    return I ? host_buffer(I, &I->in, &I->in_cap, n, "input buffer") : 0;
}

Q_EXPORT(q_entropy) uint32_t q_entropy(uint32_t n) {
    q_instance *I = instance();
    return I ? host_buffer(I, &I->entropy, &I->entropy_cap, n, "entropy buffer") : 0;
}

Q_EXPORT(q_output_ptr) uint32_t q_output_ptr(void) { return instance() ? (uint32_t)(uintptr_t)instance()->out : 0; }
Q_EXPORT(q_output_len) uint32_t q_output_len(void) { return instance() ? instance()->out_len : 0; }
Q_EXPORT(q_error_ptr) uint32_t q_error_ptr(void) { return instance() ? (uint32_t)(uintptr_t)instance()->err_rec : 0; }
Q_EXPORT(q_error_len) uint32_t q_error_len(void) { return instance() ? instance()->err_rec_len : 0; }

static const env_limits *limits_of(q_client *c) { return c ? &c->cfg.limits : &ENV_LIMITS_DEFAULT; }

Q_EXPORT(q_json_validate) int32_t q_json_validate(uint32_t len, uint32_t max_depth) {
    BEGIN();
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    return call_end(I, json_validate(I->in, len, max_depth ? max_depth : Q_DEFAULT_MAX_DEPTH, &I->err));
}

/* Common start of the codec exports: the input length fits the buffer and the client (or
 * -1 for the defaults) exists. Sets *lim to that client's limits (or the defaults). Inlined into both
 * callers: then the codec module, whose client_get never finds a client, knows the client is
 * NULL and drops every per-client branch (limits, autofill's v4 UUIDs and tenant). */
static inline __attribute__((always_inline)) bool codec_args(q_instance *I, uint64_t len, int32_t client, q_client **c, const env_limits **lim) {
    if (!input_ok(I, len)) return false;
    *c = client_get(I, client, true);
    if (client != -1 && !*c) return false;
    *lim = limits_of(*c);
    return true;
}

static void autofill_of(q_client *c, uint32_t flags, double now_ms, const uint8_t *random, env_autofill *af) {
    af->fill = (flags & Q_ENCODE_AUTOFILL) != 0;
    af->now_ms = now_ms;
    af->random = random;
    af->uuid_v4 = c && c->cfg.uuid_version == 4;
    af->tenant = c && c->cfg.tenant.ptr ? c->cfg.tenant.ptr : NULL;
    af->tenant_len = c ? c->cfg.tenant.len : 0;
}

static bool entropy_ok(q_instance *I, uint32_t flags, uint64_t need) {
    if (!(flags & Q_ENCODE_AUTOFILL) || need <= I->entropy_cap) return true;
    q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(AUTO_FILL_NEEDS_16_ENTROPY_BYTES_PER));
    return false;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* Reads the next [u32le length][bytes] item; false (with the error record) when malformed or
 * past Q_MAX_BATCH items. */
static bool next_item(q_instance *I, uint32_t len, uint32_t count, uint32_t *pos, uint32_t *off, uint32_t *n) {
    if (count >= Q_MAX_BATCH) {
        q_fail(&I->err, Q_ERR(LIMIT_REACHED), (int64_t)*pos, "batch", QD(TOO_MANY_ITEMS));
        return false;
    }
    if (len - *pos < 4 || rd32(I->in + *pos) > len - *pos - 4) {
        q_fail(&I->err, Q_ERR(BAD_ARGUMENT), (int64_t)*pos, "batch", QD(ITEM_LENGTH_RUNS_PAST_THE_INPUT));
        return false;
    }
    *n = rd32(I->in + *pos); *off = *pos + 4; *pos = *off + *n;
    return true;
}

Q_EXPORT(q_envelope_decode) int32_t q_envelope_decode(uint32_t len, int32_t client) {
    BEGIN();
    q_client *c; const env_limits *lim;
    if (!codec_args(I, len, client, &c, &lim)) return call_end(I, I->err.status);
    /* the output: the decode record, then the meta's tape (its length, then room for it) */
    env_tape tape = { NULL, Q_MIN(Q_DECODE_TAPE_WORDS, 2 * len + 8), 0 };
    int32_t *r = scratch_alloc((Q_DECODE_RECORD_WORDS + 1 + tape.cap) * 4);
    if (!r) return call_end(I, Q_ERR(OUT_OF_MEMORY));
    tape.words = r + Q_DECODE_RECORD_WORDS + 1;
    env_decoded d;
    int rc = env_decode_taped(I->in, len, lim, &d, &I->err, &tape);
    if (rc) return call_end(I, rc);
    decode_record(&d, r);
    r[Q_DECODE_RECORD_WORDS] = (int32_t)tape.len;
    call_output(I, (const uint8_t *)r, (Q_DECODE_RECORD_WORDS + 1 + tape.len) * 4);
    return call_end(I, Q_OK);
}

/* Counts the UTF-16 units of valid UTF-8 from byte *b on, up to byte `to`, into *u; returns *u. A lead
 * byte is one unit, a 4-byte sequence's two, a continuation byte none. */
static uint32_t units_to(const uint8_t *s, uint32_t *b, uint32_t *u, uint32_t to) {
    for (; *b < to; (*b)++) *u += (s[*b] & 0xC0) != 0x80 ? 1u + (s[*b] >= 0xF0) : 0u;
    return *u;
}

Q_EXPORT(q_meta_tape) int32_t q_meta_tape(uint32_t len) {
    BEGIN();
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    /* room for every entry (three words a key or value, and each takes two bytes or more), as a
     * decode's tape would have without its cap */
    uint64_t words = 2 * (uint64_t)len + 8;
    env_tape tape = { NULL, (uint32_t)words, 0 };
    if (words > UINT32_MAX / 4 || !(tape.words = scratch_alloc((uint32_t)words * 4))) return call_end(I, Q_ERR(OUT_OF_MEMORY));
    int rc = env_meta_tape(I->in, len, &I->err, &tape);
    if (rc) return call_end(I, rc);
    /* the entries are in the text's order, a span ending before the next entry: one pass over the
     * text turns every offset and span (not a container's member count) into units */
    int32_t *t = tape.words;
    for (uint32_t k = 0, b = 0, u = 0; k < tape.len; k += 3) {
        uint32_t at = (uint32_t)t[k + 1], ua = units_to(I->in, &b, &u, at), kind = (uint32_t)t[k] & 255;
        t[k + 1] = (int32_t)ua;
        if (kind != QT_OBJECT && kind != QT_ARRAY) t[k + 2] = (int32_t)(units_to(I->in, &b, &u, at + (uint32_t)t[k + 2]) - ua);
    }
    call_output(I, (const uint8_t *)tape.words, tape.len * 4);
    return call_end(I, (int32_t)tape.len);
}

/* The encode exports, single and batch, share one body (one copy of the code in the module): a
 * single call is the loop run once over the whole input, with no item framing, its failure the
 * call's own. (A batch decode is the glue's loop over q_envelope_decode: less code, and as fast.)
 * A single encode reads meta, payload and error back to back (len their sum); a batch reads
 * [meta item][payload item] pairs and writes each envelope as an item. */
__attribute__((noinline)) static int32_t encode_items(uint64_t len, uint32_t meta_len, uint32_t payload_len, uint32_t error_len,
                                                      uint32_t flags, double now_ms, int32_t client, bool batch) {
    BEGIN();
    q_client *c; const env_limits *lim;
    if (!codec_args(I, len, client, &c, &lim)) return call_end(I, I->err.status);
    q_buf out = {0};
    uint32_t pos = 0, count = 0, moff = 0, mlen = meta_len, poff = meta_len, plen = payload_len;
    while (batch ? pos < len : count == 0) {
        if (batch && (!next_item(I, (uint32_t)len, count, &pos, &moff, &mlen) || !next_item(I, (uint32_t)len, count, &pos, &poff, &plen)))
            return call_end(I, I->err.status);
        if (!entropy_ok(I, flags, (uint64_t)(count + 1) * Q_ENTROPY_REQUEST_ID_BYTES)) return call_end(I, Q_ERR(BAD_ARGUMENT));
        env_autofill af;
        autofill_of(c, flags, now_ms, I->entropy ? I->entropy + count * Q_ENTROPY_REQUEST_ID_BYTES : NULL, &af);
        uint32_t at = out.len;
        if (batch) {
            if (q_buf_reserve(&out, 4)) return call_end(I, Q_ERR(OUT_OF_MEMORY));
            out.len += 4;
        }
        int rc = env_encode(I->in + moff, mlen, I->in + poff, plen, I->in + poff + plen, error_len, lim, &af, &out, &I->err);
        if (rc) {
            if (batch) {
                char where[24];
                where[0] = 0;
                q_text_append(where, sizeof where, "batch[");
                q_text_append_u64(where, sizeof where, count);
                q_text_append(where, sizeof where, "]");
                q_error_within(&I->err, where);
            }
            return call_end(I, rc);
        }
        if (batch) wr32(out.ptr + at, out.len - at - 4);
        count++;
    }
    call_output(I, out.ptr, out.len);
    return call_end(I, batch ? (int32_t)count : (int32_t)out.len);
}

Q_EXPORT(q_envelope_encode) int32_t q_envelope_encode(uint32_t meta_len, uint32_t payload_len, uint32_t error_len,
                                                       uint32_t flags, double now_ms, int32_t client) {
    return encode_items((uint64_t)meta_len + payload_len + error_len, meta_len, payload_len, error_len, flags, now_ms, client, false);
}

Q_EXPORT(q_envelope_encode_batch) int32_t q_envelope_encode_batch(uint32_t len, uint32_t flags, double now_ms, int32_t client) {
    return encode_items(len, 0, 0, 0, flags, now_ms, client, true);
}

Q_EXPORT(q_memory_stats) int32_t q_memory_stats(void) {
    BEGIN();
    /* the record first, so "scratch" counts it */
    uint32_t *v = scratch_alloc(Q_MEMORY_STATS_WORDS * 4);
    if (!v) return call_end(I, Q_ERR(OUT_OF_MEMORY));
    v[0] = arena_limit(); v[1] = arena_footprint(); v[2] = arena_persistent_in_use(); v[3] = arena_scratch_in_use(); v[4] = 0;
#ifndef Q_CODEC_ONLY   /* the codec module makes no clients */
    for (uint32_t k = 0; k < Q_MAX_CLIENTS; k++) v[4] += I->clients[k] != NULL;
#endif
    call_output(I, (const uint8_t *)v, Q_MEMORY_STATS_WORDS * 4);
    return call_end(I, Q_MEMORY_STATS_WORDS * 4);
}

/* 1 when input[off..off+len) holds U+FFFD (json_utf8_has_replacement), else 0: the glue slices a
 * decoded string's payload without a well-formedness pass when it does not (issue 10 item 4). */
Q_EXPORT(q_has_replacement) int32_t q_has_replacement(uint32_t off, uint32_t len) {
    BEGIN();
    if (!input_ok(I, (uint64_t)off + len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    return call_end(I, json_utf8_has_replacement(I->in + off, len));
}

#ifndef Q_CODEC_ONLY   /* Node's string input (the glue's _inputText); the codec module stays small for pages */
Q_EXPORT(q_input_utf16) int32_t q_input_utf16(uint32_t off, uint32_t units) {
    BEGIN();
    if (!input_ok(I, (uint64_t)off + (uint64_t)units * 2)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    /* the output: two words, where the UTF-8's non-ASCII bytes begin and end (utf16.h); none
     * when scratch has no 8 bytes (the glue then counts units as without it) */
    uint32_t local[2], *wide = scratch_alloc(8);
    int32_t r = utf16_to_utf8_in_place(I->in + off, units, wide ? wide : local);
    if (r > 0 && wide) call_output(I, (const uint8_t *)wide, 8);
    return call_end(I, r);
}
#endif

Q_EXPORT(q_uuid_canonical) int32_t q_uuid_canonical(uint32_t len) {
    BEGIN();
    if (!input_ok(I, len)) return call_end(I, Q_ERR(BAD_ARGUMENT));
    uint8_t *out = scratch_alloc(UUID_TEXT_LEN);
    if (!out) return call_end(I, Q_ERR(OUT_OF_MEMORY));
    int rc = uuid_canonical(I->in, len, out);
    if (rc) return call_end(I, q_fail(&I->err, rc, Q_NO_OFFSET, "request_id", NULL));
    call_output(I, out, UUID_TEXT_LEN);
    return call_end(I, UUID_TEXT_LEN);
}
