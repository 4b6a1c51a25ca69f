/* Numbers from already-validated JSON number text, with the range rules serde applies. */
#ifndef Q_NUM_H
#define Q_NUM_H
#include "base.h"
#include "error.h"

/* Integer fields: a fraction or exponent is TYPE_MISMATCH (serde rejects 5.0 for i32);
 * outside [min, max] is OUT_OF_RANGE. "-0" is 0. */
int num_to_i64(const uint8_t *raw, uint32_t n, int64_t min, int64_t max, int64_t *out);
int num_to_u64(const uint8_t *raw, uint32_t n, uint64_t max, uint64_t *out);
/* The same rules for a type of `bits` value bits, its value not needed: 31 (i32) and 63 (i64)
 * are signed (a signed type's bits are odd), 16 (u16), 32 (u32) and 64 (u64) unsigned. */
int num_check_int(const uint8_t *raw, uint32_t n, uint32_t bits);
/* f64 fields: Q_OK unless the value overflows a double (serde_json rejects 1e400). */
int num_check_f64(const uint8_t *raw, uint32_t n);
/* f64 text (validated, not overflowing) spelt as serde_json (ryu's format64) spells the double
 * it reads as, e.g. 1e16 -> "1e16", 0.0000015 -> "1.5e-6", 45 -> "45.0", -0 -> "-0.0": exact
 * when the text's digits are that double's shortest, which any text of at most 15 significant
 * digits in the normal range (>= 2.2250738585072014e-308) and any JSON.stringify output has;
 * longer digits are kept. Writes at most NUM_F64_OUT_MAX(n) bytes; returns the count. */
#define NUM_F64_OUT_MAX(n) ((n) + 20)
uint32_t num_format_f64(const uint8_t *raw, uint32_t n, uint8_t *out);
/* Decimal text of v; returns bytes written (<= 20 / 21). */
uint32_t num_format_u64(uint64_t v, uint8_t *out);
uint32_t num_format_i64(int64_t v, uint8_t *out);
#endif
