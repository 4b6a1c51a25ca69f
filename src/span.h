/* Spans of values inside JSON text that was already validated: the value at an index, the end
 * of a value, the members of a container, read straight from the bytes with no token array, so
 * the memory a walk needs does not grow with what it skips. */
#ifndef Q_SPAN_H
#define Q_SPAN_H
#include "base.h"
#include "tokens.h"

/* Reads the value at js[p] (no leading whitespace) into *v with jsmn's conventions (a string's
 * body without its quotes; a container from its bracket to just past the closing one; size 0)
 * and returns the index just past the value. Never reads at or past len: on bytes that are
 * not valid JSON the spans are meaningless but stay within len. */
uint32_t span_value(const uint8_t *js, uint32_t len, uint32_t p, jsmntok_t *v);
/* The index just past the value at js[p] (same rules). */
uint32_t span_skip(const uint8_t *js, uint32_t len, uint32_t p);

/* Reads the value at js[p] like span_value, except that a container is only opened: its end
 * stays 0 (unknown) for the walk that reads its members to set, so no byte is scanned twice. */
void span_open(const uint8_t *js, uint32_t len, uint32_t p, jsmntok_t *v);
/* The index just past a value read by span_value (or an opened container once its end is set). */
static inline uint32_t span_next_index(const jsmntok_t *v) { return (uint32_t)v->end + (v->type == JSMN_STRING); }

/* Iterates the members of one container (an object's key/value pairs or an array's elements)
 * in order; an opened container's iteration stops at its closing bracket. */
typedef struct {
    const uint8_t *js;
    uint32_t p, end;     /* next index to read; the closing bracket (or the bound of the text) */
    bool object;
} span_iter;

void span_iter_init(span_iter *it, const uint8_t *js, uint32_t len, const jsmntok_t *container);
/* The next member: its key (objects only; NULL allowed for arrays) and the index of its value,
 * which the caller reads and then moves it->p past. false at the end, with it->p at the
 * closing bracket. */
bool span_next_at(span_iter *it, jsmntok_t *key, uint32_t *value_at);
/* The next member with its value read (span_value). */
bool span_next(span_iter *it, jsmntok_t *key, jsmntok_t *val);
/* true when the container span has no members. */
bool span_empty(const uint8_t *js, const jsmntok_t *container);
#endif
