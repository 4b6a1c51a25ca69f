/* JSON validation and writing. Strict RFC 8259 grammar, UTF-8 validity (no overlongs,
 * no encoded surrogates, nothing above U+10FFFF), escapes incl. \u surrogate pairs
 * (a lone surrogate escape is rejected, as serde_json does), nesting depth limit.
 * Structure is walked over value spans of validated text (span.h); this file is the
 * validator, plus the compact writer. */
#ifndef Q_JSON_H
#define Q_JSON_H

#include "base.h"
#include "error.h"
#include "arena.h"

/* Index of the first byte at or after pos that is not JSON whitespace (SP, TAB, LF, CR). */
uint32_t json_skip_ws(const uint8_t *in, uint32_t len, uint32_t pos);

/* Validates one JSON value starting exactly at in[pos] (no leading whitespace).
 * `depth` is the nesting depth of the value's container (0 at top level); a container
 * that would make depth exceed max_depth fails with JSON_DEPTH.
 * On success returns Q_OK and sets *end just past the value. On failure returns a
 * negative status with err->offset = absolute offset of the offending byte. */
int json_scan_value(const uint8_t *in, uint32_t len, uint32_t pos, uint32_t depth,
                    uint32_t max_depth, uint32_t *end, q_error *err);

/* The fast path of json_scan_value for the string whose opening quote is at in[pos]: the index
 * just past its closing quote, or 0 with err set. *escaped (unless NULL; the caller clears it)
 * is set to 1 when the body holds an escape (a token's size, span.h: the schema walks never look
 * for a backslash again). */
uint32_t json_scan_string(const uint8_t *in, uint32_t len, uint32_t pos, q_error *err, int *escaped);

/* Validates a whole document: whitespace, exactly one value, whitespace, end of input.
 * Empty input -> JSON_EMPTY; extra data -> JSON_TRAILING. */
int json_validate(const uint8_t *in, uint32_t len, uint32_t max_depth, q_error *err);

/* Same as json_scan_value but also copies the value without insignificant whitespace
 * to out (which must have room for end - pos bytes). *out_len = bytes written. */
int json_compact_value(const uint8_t *in, uint32_t len, uint32_t pos, uint32_t depth,
                       uint32_t max_depth, uint8_t *out, uint32_t *end, uint32_t *out_len,
                       q_error *err);

/* Validates UTF-8 (same rules as strings); Q_OK or JSON_UTF8 with err offset. */
int json_utf8_validate(const uint8_t *s, uint32_t n, q_error *err);

/* true when s[0..n) holds U+FFFD (EF BF BD), which is what TextEncoder writes for a lone
 * surrogate: a slice of the JS string the bytes came from reads the same only without it. */
bool json_utf8_has_replacement(const uint8_t *s, uint32_t n);
/* Writes code point cp (<= 0x10FFFF) as UTF-8 at o; returns its length (1..4). */
uint32_t json_utf8_encode(uint32_t cp, uint8_t *o);

/* --- Strings that were already validated (body = bytes between the quotes) --- */

/* Decodes escapes into out (room for n bytes is always enough); returns bytes written. */
uint32_t json_unescape(const uint8_t *body, uint32_t n, uint8_t *out);
/* true when the decoded body equals lit[0..lit_len). Fast path when there is no backslash. */
bool json_string_eq(const uint8_t *body, uint32_t n, const char *lit, uint32_t lit_len);
/* true when the decoded body equals another decoded body (or a plain name: text without a
 * backslash decodes to itself). */
bool json_strings_equal(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn);
/* FNV-1a hash of the decoded body (equal decoded strings hash equal). */
uint32_t json_string_hash(const uint8_t *body, uint32_t n);

/* --- Writer: compact JSON into a scratch buffer --- */

/* The one JSON string escaper. Escapes s[0..n) (valid UTF-8) under flags:
 *   JE_STRING  ", \ and control characters (\b \f \n \r \t short forms, \u00XX otherwise),
 *              like serde_json: the body of a JSON string;
 *   JE_ASCII   DEL and every non-ASCII character as \uXXXX (surrogate pairs past the BMP):
 *              JSON text that must travel in an HTTP header and still parse the same.
 * Whole characters and escapes only: stops before one that would pass `cap` output bytes.
 * Writes to out unless it is NULL (then it only counts). Returns output bytes; *used (may
 * be NULL) = input bytes consumed. */
#define JE_STRING 1u
#define JE_ASCII 2u
uint32_t json_escape(const uint8_t *s, uint32_t n, uint8_t *out, uint32_t cap, unsigned flags, uint32_t *used);
/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
uint32_t json_utf8_prefix(const uint8_t *s, uint32_t n);

/* Writes s (valid UTF-8) as a JSON string with quotes. Escapes ", \ and control
 * characters (\b \f \n \r \t short forms, \u00XX otherwise), like serde_json. */
int jw_string(q_buf *b, const uint8_t *s, uint32_t n);
/* Writes an already-valid JSON string token (with its quotes) re-escaped canonically. */
int jw_string_token(q_buf *b, const uint8_t *tok, uint32_t n);
int jw_u64(q_buf *b, uint64_t v);
int jw_i64(q_buf *b, int64_t v);

/* Appends text built from fmt (one call instead of a chain of puts; the output shapes are
 * all fixed JSON skeletons). Directives:
 *   %s  NUL-terminated C string, raw        %r  raw bytes (const void *, uint32_t len)
 *   %j  JSON string of (bytes, len)         %u  uint32_t decimal     %U  uint64_t decimal
 * Everything else is copied. Q_OK or the first failure (Q_ERR(OUT_OF_MEMORY)). */
int jw_fmt(q_buf *b, const char *fmt, ...);

#endif
