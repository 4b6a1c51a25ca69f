/* Base64 (RFC 4648 §4, standard alphabet, padded) for the X-Qollective-* headers.
 * The decoder is strict like the server's: anything it would reject is rejected here. */
#include "base64.h"

static const char B64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of one alphabet character, -1 otherwise. Branches instead of a 256-byte table:
 * smaller in the size-budgeted module, and headers are short. */
static int b64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

uint32_t b64_encoded_len(uint32_t n) {
    /* Past this the length does not fit 32 bits; saturate so the caller's allocation fails. */
    if (n > 0xBFFFFFFDu) return UINT32_MAX;
    return (n + 2) / 3 * 4;
}

uint32_t b64_encode(const uint8_t *in, uint32_t n, uint8_t *out) {
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i += 3) {
        uint32_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1) v |= (uint32_t)in[i + 1] << 8;
        if (left > 2) v |= in[i + 2];
        out[o++] = (uint8_t)B64_ALPHABET[v >> 18];
        out[o++] = (uint8_t)B64_ALPHABET[(v >> 12) & 63];
        out[o++] = left > 1 ? (uint8_t)B64_ALPHABET[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? (uint8_t)B64_ALPHABET[v & 63] : '=';
    }
    return o;
}

int b64_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t *out_len, q_error *err) {
    uint32_t o = 0;
    *out_len = 0;
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t acc = 0, pad = 0;
        for (uint32_t j = 0; j < 4; j++) {
            /* Characters are checked before the length so a bad byte is reported where it
             * is; a clean but short tail is reported at the end, where input is missing. */
            if (i + j >= n)
                return q_fail(err, Q_ERR(INVALID_BASE64), n, NULL, QD(LENGTH_NOT_A_MULTIPLE_OF_4));
            uint8_t c = in[i + j];
            int v = b64_value(c);
            if (c == '=') {
                /* '=' may only fill positions 2-3 of the last group. A short last group
                 * falls through to the length error above. */
                if (j < 2 || i + 4 < n)
                    return q_fail(err, Q_ERR(INVALID_BASE64), i + j, NULL, QD(MISPLACED_PADDING));
                pad++;
                v = 0;
            } else if (v < 0) {
                return q_fail(err, Q_ERR(INVALID_BASE64), i + j, NULL, QD(INVALID_CHARACTER));
            } else if (pad) {
                return q_fail(err, Q_ERR(INVALID_BASE64), i + j, NULL, QD(DATA_AFTER_PADDING));
            }
            acc = acc << 6 | (uint32_t)v;
        }
        /* Bits the padding drops must be zero, or two encodings would decode alike. The
         * culprit is the last data character: position 2 with one '=', 1 with two. */
        if (pad && (acc & (pad == 1 ? 0xFFu : 0xFFFFu)))
            return q_fail(err, Q_ERR(INVALID_BASE64), i + 3 - pad, NULL, QD(NON_ZERO_PADDING_BITS));
        /* All three stores stay within the n/4*3 bytes the caller provides. */
        out[o] = (uint8_t)(acc >> 16);
        out[o + 1] = (uint8_t)(acc >> 8);
        out[o + 2] = (uint8_t)acc;
        o += 3 - pad;
    }
    *out_len = o;
    return Q_OK;
}
