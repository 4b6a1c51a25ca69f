/* Base64, standard alphabet with padding (RFC 4648 §4), as the server's headers use. */
#ifndef Q_BASE64_H
#define Q_BASE64_H
#include "base.h"
#include "error.h"

/* Bytes needed to encode n input bytes. */
uint32_t b64_encoded_len(uint32_t n);
/* Encodes into out (room for b64_encoded_len(n)); returns bytes written. */
uint32_t b64_encode(const uint8_t *in, uint32_t n, uint8_t *out);
/* Strict decode: length multiple of 4, padding only at the end, no whitespace, non-zero
 * trailing bits rejected. out needs room for n/4*3 bytes. Q_OK or INVALID_BASE64 with
 * err->offset at the first bad byte. */
int b64_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t *out_len, q_error *err);
#endif
