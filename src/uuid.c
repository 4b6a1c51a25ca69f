/* UUIDs: parsing exactly the shapes Rust's uuid crate accepts (so a request_id is valid
 * here iff the server takes it), lowercase hyphenated output, and v4/v7 construction. */
#include "uuid.h"
#include "json.h"


/* 32 hex digits, with hyphens exactly at 8, 13, 18, 23 when `hyphens` (36 bytes). */
static int parse_hex(const uint8_t *s, bool hyphens, uint8_t out[16]) {
    for (uint32_t k = 0, i = 0; k < 32; k++, i++) {
        if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23) && s[i++] != '-') return Q_ERR(INVALID_UUID);
        int v = q_hex_value(s[i]);   /* inline (base.h): ids are parsed on every decode */
        if (v < 0) return Q_ERR(INVALID_UUID);
        out[k / 2] = (uint8_t)(out[k / 2] << 4 | v);   /* the high digit first: shifted out of the byte by the low one */
    }
    return Q_OK;
}

/* The shape is decided by the length alone, as in the uuid crate: braces only around
 * the hyphenated form, and the URN prefix in lower case only. */
static int parse_shape(const uint8_t *s, uint32_t n, uint8_t out[16]) {
    switch (n) {
    case 32: return parse_hex(s, false, out);
    case UUID_TEXT_LEN: return parse_hex(s, true, out);
    case UUID_TEXT_LEN + 2:
        if (s[0] != '{' || s[n - 1] != '}') return Q_ERR(INVALID_UUID);
        return parse_hex(s + 1, true, out);
    case UUID_TEXT_LEN + 9:
        if (!q_bytes_eq(s, 9, "urn:uuid:")) return Q_ERR(INVALID_UUID);
        return parse_hex(s + 9, true, out);
    default: return Q_ERR(INVALID_UUID);
    }
}

int uuid_parse(const uint8_t *s, uint32_t n, uint8_t out[16]) {
    uint8_t tmp[16];                             /* out is left untouched on failure */
    int rc = parse_shape(s, n, tmp);
    if (rc == Q_OK) q_memcpy(out, tmp, 16);
    return rc;
}

void uuid_format(const uint8_t u[16], uint8_t out[UUID_TEXT_LEN]) {
    static const char HEX[] = "0123456789abcdef";
    uint32_t o = 0;
    for (uint32_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = (uint8_t)HEX[u[i] >> 4];
        out[o++] = (uint8_t)HEX[u[i] & 15];
    }
}

/* Version nibble in byte 6, RFC variant (binary 10) in the top bits of byte 8. */
static void set_version(uint8_t out[16], uint8_t version) {
    out[6] = (uint8_t)((out[6] & 0x0F) | (version << 4));
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

void uuid_v4(const uint8_t rnd[16], uint8_t out[16]) {
    q_memcpy(out, rnd, 16);
    set_version(out, 4);
}

void uuid_v7(uint64_t unix_ms, const uint8_t rnd[10], uint8_t out[16]) {
    /* Bytes 0-5: the low 48 bits of the time, big-endian, so ids sort by creation time.
     * Bytes 6-15: the random bytes; version and variant then overwrite 6 of their 80 bits,
     * leaving the 74 random bits RFC 9562 §5.7 asks for (rand_a 12, rand_b 62). */
    for (uint32_t i = 0; i < 6; i++) out[i] = (uint8_t)(unix_ms >> (40 - 8 * i));
    q_memcpy(out + 6, rnd, 10);
    set_version(out, 7);
}

int uuid_canonical(const uint8_t *body, uint32_t n, uint8_t out[UUID_TEXT_LEN]) {
    /* the longest shape (urn:uuid:, 45 bytes) written with escapes takes six bytes a character */
    uint8_t text[(UUID_TEXT_LEN + 9) * 6], u[16];
    if (n > sizeof text) return Q_ERR(INVALID_UUID);
    int rc = uuid_parse(text, json_unescape(body, n, text), u);
    if (rc == Q_OK) uuid_format(u, out);
    return rc;
}
