/* Table-driven validation (and optional canonical re-writing) of a JSON object against a
 * schema: field types, required fields, enums, UUIDs, timestamps, integer ranges,
 * duplicate keys. Used for the envelope's meta and error objects and for the config. */
#ifndef Q_SCHEMA_H
#define Q_SCHEMA_H
#include "base.h"
#include "error.h"
#include "arena.h"
#include "tokens.h"

typedef enum {
    ST_STRING, ST_UUID, ST_TIMESTAMP, ST_F64, ST_I32, ST_I64, ST_U64, ST_U16, ST_U32,
    ST_BOOL, ST_ENUM, ST_OBJECT, ST_ARRAY, ST_MAP, ST_ANY, ST_SCALAR /* string|number|bool */
} schema_type;

enum {
    SF_REQUIRED = 1,   /* missing -> MISSING_FIELD; null -> TYPE_MISMATCH */
    SF_TRAP     = 2,   /* required by the server, lenient on decode, always written on encode */
    SF_NONNULL  = 4,   /* present but null -> TYPE_MISMATCH (Rust: not an Option) */
    SF_OMIT_EMPTY = 8, /* an empty map is not written (Rust: skip_serializing_if is_empty) */
};
_Static_assert(ST_SCALAR < 16, "a schema type fits in 4 bits");

struct schema;
/* 12 bytes a field: the type and the flags share a byte, and the name's length rides along so
 * a key is matched by length first and never measured (SCHEMA_FIELD fills it in). */
typedef struct schema_field {
    const char *name;
    const void *sub;       /* OBJECT (or element OBJECT): const struct schema *; ENUM: a value list (SCHEMA_ENUM) */
    uint8_t type : 4;      /* schema_type */
    uint8_t flags : 4;
    int8_t slot;           /* capture slot, or -1 */
    uint8_t elem;          /* ARRAY/MAP element type (schema_type) */
    uint8_t name_len;      /* strlen(name) */
} schema_field;
/* A field initializer; name must be a string literal. */
#define SCHEMA_FIELD(name, type, flags, slot, elem, sub) { name, sub, type, flags, slot, elem, (uint8_t)(sizeof(name) - 1) }

typedef struct schema {
    const schema_field *fields;
    uint8_t count;
    uint8_t strict;        /* unknown keys are errors (config) instead of ignored (meta) */
} schema;

/* An enum's allowed values are one string literal, each value followed by "\0", e.g.
 * "Ok\0Error\0" (the literal's own NUL ends the list; no value may start with a digit, or
 * "\0" would read as an octal escape). No pointer array: 4 bytes less per value. */
#define SCHEMA_MAX_FIELDS 24
/* A schema's field count, checked at compile time against the walker's found[SCHEMA_MAX_FIELDS]
 * (walk_object records one entry per field): every schema initializer uses it. */
#define SCHEMA_COUNT(fields) ((uint8_t)(Q_ARRAY_LEN(fields) + 0 * sizeof(struct { \
    _Static_assert(Q_ARRAY_LEN(fields) <= SCHEMA_MAX_FIELDS, "a schema has more fields than found[] holds"); char c; })))
#define SCHEMA_MAX_SLOTS  40
#define SCHEMA_MAX_FRAMES 16     /* meta nests 6 deep at most; deeper frames are dropped */

typedef struct {
    const uint8_t *js;           /* the object walked: js[0..len), already validated JSON */
    uint32_t len;
    uint32_t base;               /* absolute offset of js[0] in the caller's input (for errors) */
    q_error *err;
    q_buf *out;                  /* NULL: validate only; else canonical compact JSON is written */
    /* The walk validates the JSON as it reads it (grammar, strings, numbers, nesting against
     * max_depth as json_scan_value checks it), so the bytes are read once when it only validates
     * (containers are measured first when it writes). Its first failure on invalid JSON may name
     * another cause than the scanner would: callers that report JSON errors precisely scan the
     * object again when the walk fails (envelope.c). Default: no depth limit, nest 0. */
    uint32_t max_depth;
    uint32_t nest;               /* containers around the walk's position (the caller's ones first) */
    uint32_t end;                /* after schema_walk_object: the index just past the object */
    /* The walk reads members straight from the bytes (span.h): no token array, so its memory
     * does not grow with the input. A captured field's value is kept in vals[slot]. */
    int slots[SCHEMA_MAX_SLOTS]; /* index into vals of each captured field, -1 when absent */
    jsmntok_t vals[SCHEMA_MAX_SLOTS];
    /* The key path is kept as frames (cheap to push and pop on every field) and rendered
     * into `path` only when something fails. */
    struct { const char *name; uint32_t len; int32_t index; } frames[SCHEMA_MAX_FRAMES];
    uint32_t depth;
    char path[Q_MAX_ERROR_PATH_CHARS + 1];
    /* Called while writing an object when a field is absent, so the caller can fill it
     * (auto-fill of timestamp/request_id/version). Returns Q_OK, 1 when it wrote the field
     * (key and value, preceded by a comma when *first is false), or a negative status. */
    int (*fill)(void *ctx, const schema_field *f, q_buf *out, bool *first);
    void *fill_ctx;
    /* A validating walk (out NULL) can also tell whether the writer would give back the object's
     * own bytes (encode's one-text fast path, envelope.c): the caller sets canon, the walk clears
     * it at the first difference, except an integral f64 the writer follows with ".0": those
     * places (indexes into js, just past the number) are kept in f64_fix. Default: off. */
    bool canon;
    uint32_t f64_fixes;
    uint32_t f64_fix[Q_ENCODE_MAX_F64_FIXES];
} schema_walk;

/* Prepares a walk over js[0..len) (one JSON object from js[0], maybe followed by more bytes) at
 * offset base of the caller's input, with path prefix (e.g. "meta"). */
void schema_walk_init(schema_walk *w, const uint8_t *js, uint32_t len, uint32_t base, q_error *err, q_buf *out, const char *path);
/* Writes a field's key: ,"name": (no comma when *first, which it then clears). */
int schema_put_key(q_buf *out, const schema_field *f, bool *first);
/* Validates (and writes, when w->out is set) the object as schema s. */
int schema_walk_object(schema_walk *w, const schema *s);

/* A captured value (i = w->slots[...] >= 0): its token, bytes (a string's body), length, offset. */
static inline const jsmntok_t *schema_tok(const schema_walk *w, int i) { return &w->vals[i]; }
static inline const uint8_t *schema_tok_ptr(const schema_walk *w, int i) { return w->js + w->vals[i].start; }
static inline uint32_t schema_tok_len(const schema_walk *w, int i) { return (uint32_t)(w->vals[i].end - w->vals[i].start); }
static inline int64_t schema_tok_offset(const schema_walk *w, int i) { return (int64_t)w->base + w->vals[i].start; }
#endif
