/* Spans of values inside JSON text: the value at an index, the end of a value, the members of
 * a container, read straight from the bytes with no token array (so the memory a walk needs does
 * not grow with what it skips); the checked readers validate what they read (one-pass walks). */
#ifndef Q_SPAN_H
#define Q_SPAN_H
#include "base.h"
#include "tokens.h"
#include "error.h"

/* Reads the value at js[p] (no leading whitespace) of JSON text that was already validated into
 * *v with jsmn's conventions (a string's body without its quotes; a container from its bracket to
 * just past the closing one; size 0) and returns the index just past the value, by brackets and
 * quotes alone. Never reads at or past len: on bytes that are not valid JSON the spans are
 * meaningless but stay within len. */
uint32_t span_value(const uint8_t *js, uint32_t len, uint32_t p, jsmntok_t *v);
/* The index just past the value at js[p] (same rules; text a later step validates may use it). */
uint32_t span_skip(const uint8_t *js, uint32_t len, uint32_t p);

/* The index just past a value read by span_value or span_read_checked (or an opened container
 * once its end is set). */
static inline uint32_t span_next_index(const jsmntok_t *v) { return (uint32_t)v->end + (v->type == JSMN_STRING); }

/* Iterates the members of one container (an object's key/value pairs or an array's elements)
 * in order, up to its closing bracket. */
typedef struct {
    const uint8_t *js;
    uint32_t p, end;     /* next index to read; the bound of the text */
    bool object;
    uint8_t close;       /* the closing bracket */
    bool first;          /* no member read yet (span_next_checked) */
} span_iter;

void span_iter_init(span_iter *it, const uint8_t *js, uint32_t len, const jsmntok_t *container);
/* The next member of text NOT validated yet (a one-pass walk, see schema.h; the envelope's own
 * members), its key and the index of its value, which the caller reads and then moves it->p past:
 * checks the grammar between members (a comma, or the closing bracket of the
 * container's own kind; a key that is a valid string, then a colon) and validates the key. 1: a
 * member; 0: the end, with it->p at the closing bracket; else the status of the failure, err
 * set as env_decode reports it for the envelope (offsets are indexes into it->js). */
int span_next_checked(span_iter *it, jsmntok_t *key, uint32_t *value_at, q_error *err);
/* span_next_checked's shortcut for an object's member after the first whose key is the one a
 * schema walk expects (its next field's name, n bytes of plain ASCII: no '"', '\\' or control
 * byte, schema.h), written compactly: `,"name":` and the value right after the colon. Then the
 * index of the value is returned and key->start, end and size are set as span_next_checked sets
 * them (those bytes are a valid key: nothing is scanned); else 0 and nothing is read:
 * span_next_checked reads the member, the end, or fails. */
uint32_t span_next_expected(span_iter *it, const char *name, uint32_t n, jsmntok_t *key);
/* Reads the value at js[p] for a one-pass walk, validated and spanned as span_value spans it
 * (but a string's size is 1 when its body holds an escape, as is a key's from span_next_checked):
 * a scalar (string, number, literal) always; a container too when `measure`, else only opened
 * (end 0) for the walk to read and check. depth and max_depth as json_scan_value takes
 * them. Q_OK or the status of the failure (err set). */
int span_read_checked(const uint8_t *js, uint32_t len, uint32_t p, uint32_t depth, uint32_t max_depth,
                      bool measure, jsmntok_t *v, q_error *err);
/* The next member of validated text with its value read (span_value); key may be NULL. false at
 * the end. */
bool span_next(span_iter *it, jsmntok_t *key, jsmntok_t *val);
/* true when the container span has no members. */
bool span_empty(const uint8_t *js, const jsmntok_t *container);
#endif
