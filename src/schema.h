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

/* The tables are packed (issue 10 item 2): a field is 6 bytes and a schema 3, because names,
 * sub-schemas and enum lists are reached through the schema set the walk is given (one per kind
 * of document: the envelope, the config, a call's options) instead of by pointers. */
typedef struct __attribute__((packed)) schema_field {
    uint16_t name;         /* offset of the name in its set's name text (NUL-terminated there) */
    uint8_t type : 4;      /* schema_type */
    uint8_t flags : 4;
    int8_t slot;           /* capture slot, or -1 */
    uint8_t name_len;      /* strlen(name): a key is matched by length first and never measured */
    uint8_t elem : 4;      /* ARRAY/MAP element type (schema_type) */
    uint8_t sub : 4;       /* OBJECT (or element OBJECT): index in the set's schemas; ENUM: in its enums */
} schema_field;
_Static_assert(sizeof(schema_field) == 6, "a schema field is packed into 6 bytes");

/* A schema's fields are set->fields[first .. first + count). */
typedef struct schema {
    uint8_t first;
    uint8_t count;
    uint8_t strict;        /* unknown keys are errors (config) instead of ignored (meta) */
} schema;

typedef struct schema_set {
    const char *names;               /* every field name of the set, each NUL-terminated */
    const schema_field *fields;      /* every field of the set, schema after schema */
    const schema *schemas;
    const char *const *enums;        /* enum value lists (below) */
    uint8_t field_count;             /* fields[0 .. field_count) (for the tables' own tests) */
    uint8_t enum_map_form;           /* an enum may also be serde's map form of a unit variant,
                                      * {"Jwt":null} (the envelope's; the config and call options
                                      * keep an enum's token in a slot and read it as a string) */
} schema_set;

static inline const char *schema_field_name(const schema_set *set, const schema_field *f) { return set->names + f->name; }
static inline const schema_field *schema_fields(const schema_set *set, const schema *s) { return set->fields + s->first; }

/* Declaring a set's tables (envelope.c, config.c, rest.c):
 *  - SCHEMA_NAMES(tag, LIST) defines the name text from an X-macro list of identifiers spelled
 *    as the JSON keys (X(timestamp) X(request_id) ...): struct tag holds a char array per name,
 *    and the constant `tag` its text, so a name's offset is offsetof(struct tag, name). A name
 *    listed twice does not compile; keys that are not C identifiers cannot be named this way.
 *  - the fields are one constant struct of arrays (struct <fields tag> { schema_field meta[12],
 *    error[5], ...; }), one array per schema, so SCHEMA_AT can give each schema its first index;
 *    an array declared longer than its initializer would hold an empty field: test_schema_sets
 *    (tests/unit/test_envelope.c) checks that every field of every set is named.
 *  - SCHEMA_FIELD(names tag, name, type, flags, slot, elem, sub) and SCHEMA_AT(fields tag,
 *    member, strict) build the entries. */
#define SCHEMA_NAME_ARRAY_(n) char n[sizeof #n];
#define SCHEMA_NAME_TEXT_(n) #n,
#define SCHEMA_NAMES(tag, list) static const struct tag { list(SCHEMA_NAME_ARRAY_) } tag = { list(SCHEMA_NAME_TEXT_) }
#define SCHEMA_FIELD(tag, n, type, flags, slot, elem, sub) \
    { (uint16_t)__builtin_offsetof(struct tag, n), type, flags, slot, (uint8_t)(sizeof(((struct tag *)0)->n) - 1), elem, \
      (uint8_t)((sub) + 0 * sizeof(struct { _Static_assert((sub) < 16, "a sub-schema or enum index fits in 4 bits"); char c; })) }

/* An enum's allowed values are one string literal, each value followed by "\0", e.g.
 * "Ok\0Error\0" (the literal's own NUL ends the list; no value may start with a digit, or
 * "\0" would read as an octal escape). No pointer array: 4 bytes less per value. */
#define SCHEMA_MAX_FIELDS 24
/* A schema over member `member` of a set's field struct `tag`; its field count is checked at
 * compile time against the walker's found[SCHEMA_MAX_FIELDS] (walk_object records one entry per
 * field). */
#define SCHEMA_AT(tag, member, strict) { \
    (uint8_t)(__builtin_offsetof(struct tag, member) / sizeof(schema_field)), \
    (uint8_t)(Q_ARRAY_LEN(((struct tag *)0)->member) + 0 * sizeof(struct { \
        _Static_assert(Q_ARRAY_LEN(((struct tag *)0)->member) <= SCHEMA_MAX_FIELDS, "a schema has more fields than found[] holds"); char c; })), \
    (uint8_t)((strict) + 0 * sizeof(struct { \
        _Static_assert(SCHEMA_STRICT || !(strict), "a strict schema in a module built without strict walks"); char c; })) }
/* Whether walks refuse unknown keys (strict schemas): the codec module's schemas (the envelope's)
 * never do, so its walks leave that check out; SCHEMA_AT refuses a strict schema there. */
#ifdef Q_CODEC_ONLY
#define SCHEMA_STRICT 0
#else
#define SCHEMA_STRICT 1
#endif
/* The set over name text `names`, field struct `fields` (of struct tag) and the two arrays. */
#define SCHEMA_SET(names, tag, fields, schemas, enums, map_form) { (const char *)&names, (const schema_field *)&fields, schemas, enums, \
    (uint8_t)(sizeof(struct tag) / sizeof(schema_field) + 0 * sizeof(struct { \
        _Static_assert(sizeof(struct tag) / sizeof(schema_field) < 256, "a set's fields are indexed by one byte"); char c; })), map_form }
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
    const schema_set *set;       /* the tables of the walked schema (schema_walk_object) */
    /* A validating walk (out NULL) can also tell whether the writer would give back the object's
     * own bytes (encode's one-text fast path, envelope.c): the caller sets canon, the walk clears
     * it at the first difference, except an integral f64 the writer follows with ".0": those
     * places (indexes into js, just past the number) are kept in f64_fix. Default: off. */
    bool canon;
    uint32_t f64_fixes;
    uint32_t f64_fix[Q_ENCODE_MAX_F64_FIXES];
    /* A validating walk can also write what it reads, in document order, as the tape a decode
     * hands the glue with its record (entries QT_*, include/qollective.h), so the glue builds the
     * meta object without parsing its text again. Past tape_cap words the tape is dropped (tape
     * NULL, tape_len 0): the glue then parses the text. Default: NULL (no tape). */
    int32_t *tape;
    uint32_t tape_cap, tape_len;
    bool needs_tape;   /* an i64/u64 value beyond +-(2^53 - 1) (QT_BIG) or an enum in map form was read: the glue needs the tape */
} schema_walk;

/* Prepares a walk over js[0..len) (one JSON object from js[0], maybe followed by more bytes) at
 * offset base of the caller's input, with path prefix (e.g. "meta"). */
void schema_walk_init(schema_walk *w, const uint8_t *js, uint32_t len, uint32_t base, q_error *err, q_buf *out, const char *path);
/* Writes a field of set's key: ,"name": (no comma when *first, which it then clears). */
int schema_put_key(q_buf *out, const schema_set *set, const schema_field *f, bool *first);
/* Validates (and writes, when w->out is set) the object as set->schemas[root]. */
int schema_walk_object(schema_walk *w, const schema_set *set, uint8_t root);

/* A captured value (i = w->slots[...] >= 0): its token, bytes (a string's body), length, offset. */
static inline const jsmntok_t *schema_tok(const schema_walk *w, int i) { return &w->vals[i]; }
static inline const uint8_t *schema_tok_ptr(const schema_walk *w, int i) { return w->js + w->vals[i].start; }
static inline uint32_t schema_tok_len(const schema_walk *w, int i) { return (uint32_t)(w->vals[i].end - w->vals[i].start); }
static inline int64_t schema_tok_offset(const schema_walk *w, int i) { return (int64_t)w->base + w->vals[i].start; }
#endif
