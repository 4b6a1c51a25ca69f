/* Table-driven object validation over value spans (span.h), with an optional canonical writer.
 * Rules: fields are matched on their decoded names; duplicates are errors; unknown keys are
 * ignored (meta, as serde does) or errors (config); null counts as absent for optional
 * fields only; the writer emits fields in schema order (the Rust struct's order). */
#include "schema.h"
#include "json.h"
#include "num.h"
#include "uuid.h"
#include "rfc3339.h"
#include "span.h"
#include "qollective.h"   /* the tape's entries (QT_*) */

/* Values are jsmn-style spans (span.h) read from the bytes as the walk goes: an index is
 * never kept, so nothing proportional to the input is allocated (map key checks aside). */
static inline int64_t tok_offset(schema_walk *w, const jsmntok_t *t) {
    return (int64_t)w->base + t->start - (t->type == JSMN_STRING ? 1 : 0);
}
static inline const uint8_t *tok_ptr(schema_walk *w, const jsmntok_t *t) { return w->js + t->start; }
static inline uint32_t tok_len(const jsmntok_t *t) { return (uint32_t)(t->end - t->start); }
static inline uint8_t first_byte(schema_walk *w, const jsmntok_t *t) { return w->js[t->start]; }
static inline bool is_null(schema_walk *w, const jsmntok_t *t) { return t->type == JSMN_PRIMITIVE && first_byte(w, t) == 'n'; }

/* ---- path frames ------------------------------------------------------------ */

static uint32_t push(schema_walk *w, const char *name, uint32_t len, int32_t index) {
    uint32_t saved = w->depth;
    if (w->depth < SCHEMA_MAX_FRAMES) {
        w->frames[w->depth].name = name; w->frames[w->depth].len = len; w->frames[w->depth].index = index;
    }
    w->depth++;
    return saved;
}

static inline __attribute__((always_inline)) uint32_t push_field_inline(schema_walk *w, const schema_field *f) {
    uint32_t saved = w->depth;   /* push, written out: every field of every walk comes here */
    if (saved < SCHEMA_MAX_FRAMES) {
        w->frames[saved].name = schema_field_name(w->set, f); w->frames[saved].len = f->name_len; w->frames[saved].index = -1;
    }
    w->depth = saved + 1;
    return saved;
}

/* Inlined where each present field is checked (a call less a member, +67 raw); push elsewhere. */
#define path_push_field(w, f) push(w, schema_field_name((w)->set, f), (f)->name_len, -1)

/* Map keys are user data: shown only when short and plain, else as "[key]". */
static uint32_t path_push_key(schema_walk *w, const jsmntok_t *key) {
    const uint8_t *s = tok_ptr(w, key);
    uint32_t n = tok_len(key);
    bool plain = n > 0 && n <= 32;
    for (uint32_t k = 0; plain && k < n; k++) {
        uint8_t c = s[k];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    return plain ? push(w, (const char *)s, n, -1) : push(w, "[key]", 5, -1);
}

static uint32_t path_push_index(schema_walk *w, uint32_t idx) { return push(w, NULL, 0, (int32_t)idx); }

static void path_pop(schema_walk *w, uint32_t saved) { w->depth = saved; }

/* Renders the frames as "meta.security.roles[2]". */
static const char *render_path(schema_walk *w) {
    char *p = w->path;
    p[0] = 0;
    uint32_t n = w->depth < SCHEMA_MAX_FRAMES ? w->depth : SCHEMA_MAX_FRAMES;
    for (uint32_t k = 0; k < n; k++) {
        if (w->frames[k].index >= 0) {
            q_text_append(p, sizeof w->path, "[");
            q_text_append_u64(p, sizeof w->path, (uint64_t)w->frames[k].index);
            q_text_append(p, sizeof w->path, "]");
            continue;
        }
        if (p[0]) q_text_append(p, sizeof w->path, ".");
        q_text_append_n(p, sizeof w->path, w->frames[k].name, w->frames[k].len);
    }
    return p;
}

static int fail_at(schema_walk *w, int status, const jsmntok_t *t, const char *detail) {
    if (w->err->status < 0) return w->err->status;   /* the innermost cause wins */
    return q_fail(w->err, status, t ? tok_offset(w, t) : Q_NO_OFFSET, render_path(w), detail);
}

void schema_walk_init(schema_walk *w, const uint8_t *js, uint32_t len, uint32_t base, q_error *err, q_buf *out, const char *path) {
    w->js = js; w->len = len; w->base = base;
    w->err = err; w->out = out; w->fill = NULL; w->fill_ctx = NULL;
    w->max_depth = 0xFFFFFFFFu; w->nest = 0;
    q_memset(w->slots, 0xFF, sizeof w->slots);   /* every slot -1: absent */
    w->depth = 0; w->path[0] = 0;
    w->canon = false; w->f64_fixes = 0;
    w->tape = NULL; w->tape_cap = w->tape_len = 0;
    w->needs_tape = false;
    if (path && *path) push(w, path, (uint32_t)q_strlen(path), -1);
}

/* ---- the decode tape (schema.h) ------------------------------------------------ */

_Static_assert(QT_OBJECT == JSMN_OBJECT && QT_ARRAY == JSMN_ARRAY && QT_STRING == JSMN_STRING && QT_PRIMITIVE == JSMN_PRIMITIVE,
               "a value's tape kind is its token's type");
/* Appends the entry [kind, start, len] (start an index into js); its index, for tape_count.
 * When the room runs out the tape is dropped: the glue parses the meta's text instead. */
static inline __attribute__((always_inline)) uint32_t tape_inline(schema_walk *w, uint32_t kind, uint32_t start, uint32_t len) {
    uint32_t at = w->tape_len;
    if (!w->tape) return 0;   /* encode, config, error objects: no tape */
    if (w->tape_cap - at < 3) { w->tape = NULL; w->tape_len = 0; return 0; }
    w->tape[at] = (int32_t)kind; w->tape[at + 1] = (int32_t)start; w->tape[at + 2] = (int32_t)len;
    w->tape_len = at + 3;
    return at;
}
static uint32_t tape(schema_walk *w, uint32_t kind, uint32_t start, uint32_t len) { return tape_inline(w, kind, start, len); }
/* Sets the member count of the object or array entry at `at`. */
static void tape_count(schema_walk *w, uint32_t at, uint32_t n) { if (w->tape) w->tape[at + 2] = (int32_t)n; }

/* ---- output helpers -------------------------------------------------------- */

/* Writes n bytes (between quotes when quoted) if the walk writes; a failure becomes the
 * walk's error. One call per piece keeps the value cases free of repeated checks. */
static int emit_out(schema_walk *w, const void *p, uint32_t n, bool quoted) {
    if ((quoted && q_buf_putc(w->out, '"')) || q_buf_put(w->out, p, n) || (quoted && q_buf_putc(w->out, '"')))
        return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, QD(OUTPUT));
    return Q_OK;
}
/* A validating walk writes nothing: that test is inlined where a value is written (a call less a
 * scalar), not for the brackets (inlined there too, 109 bytes more for 1-3 % of a decode). */
static inline __attribute__((always_inline)) int emit(schema_walk *w, const void *p, uint32_t n, bool quoted) {
    return w->out ? emit_out(w, p, n, quoted) : Q_OK;
}
static int emit_c_out(schema_walk *w, char c) { return emit_out(w, &c, 1, false); }
static int emit_c(schema_walk *w, char c) { return w->out ? emit_c_out(w, c) : Q_OK; }

/* Whether a string token read by the walk (span.h) holds an escape: its scanner said so. */
static inline bool escaped(const jsmntok_t *t) { return t->size != 0; }

/* ---- canonical check (validating walks with w->canon set, schema.h) ------------- */

/* A member where the writer puts it: the value (an object's key first, then its colon) right
 * after the bracket or the comma before it; tail is the index just past the bracket or the
 * previous value. */
static void canon_member(schema_walk *w, const jsmntok_t *key, uint32_t at, uint32_t tail, bool first) {
    uint32_t want = tail + !first;
    if (key ? (uint32_t)key->start != want + 1 || at != (uint32_t)key->end + 2 : at != want) w->canon = false;
}

/* A string the writer copies as it is: plain, or each escape one the writer writes the same way
 * (the token re-escaped by jw_string_token, as the writer does, into scratch, and compared). */
static int canon_string(schema_walk *w, const jsmntok_t *t) {
    if (!escaped(t)) return Q_OK;
    const uint8_t *tok = tok_ptr(w, t) - 1;
    uint32_t n = tok_len(t) + 2;
    q_buf b = {0};
    if (jw_string_token(&b, tok, n)) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, NULL);   /* a valid token: only room fails */
    if (b.len != n || q_memcmp(b.ptr, tok, n)) w->canon = false;
    return Q_OK;
}

/* A raw value (ANY) the writer copies without whitespace: the same bytes when it has none
 * (compacted into scratch to see; Q_OK or OUT_OF_MEMORY, as the writer would meet it). */
static int canon_compact(schema_walk *w, const jsmntok_t *t) {
    if (t->type == JSMN_STRING || t->type == JSMN_PRIMITIVE) return Q_OK;   /* no whitespace inside */
    uint32_t n = tok_len(t), stop, wrote;
    uint8_t *tmp = scratch_alloc(n);
    if (!tmp) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, NULL);
    int rc = json_compact_value(w->js, (uint32_t)t->end, (uint32_t)t->start, 0, 0xFFFFFFFFu, tmp, &stop, &wrote, w->err);
    if (rc) return fail_at(w, rc, t, NULL);
    if (wrote != n) w->canon = false;
    return Q_OK;
}

/* JSON.stringify's usual f64s are Rust's spelling as they are (0), or with ".0" after an integer
 * (1), told in one pass: "-?d+" of at most 16 digits, "-?d+.d*[1-9]" or "-?d+.0" with at most 16
 * digits before the point and at most four zeros after "0." (ryu's plain layout, num_format_f64,
 * so the writer's own output is copied too); -1 otherwise. */
static int f64_plain(const uint8_t *p, uint32_t n) {
    uint32_t i = p[0] == '-', k = n, zeros = 0;   /* back from the end to the point */
    while (--k > i && p[k] != '.') {
        if (p[k] > '9') return -1;                /* an exponent */
        zeros = p[k] == '0' ? zeros + 1 : 0;      /* at the point: the zeros just after it */
    }
    if (k == i) return n - i <= 16 ? 1 : -1;      /* no point: an integer */
    return (p[n - 1] == '0' && k != n - 2) || k - i > 16 || (p[i] == '0' && zeros > 4) ? -1 : 0;
}

/* An integral f64 (JSON.stringify's 45 for 45.0): the writer adds ".0" just past it. */
static void canon_f64_fix(schema_walk *w, const jsmntok_t *t) {
    if (w->f64_fixes < Q_ENCODE_MAX_F64_FIXES) w->f64_fix[w->f64_fixes++] = (uint32_t)t->end;
    else w->canon = false;
}

/* A validated string (its body spanned by t), re-escaped canonically. */
static int emit_token(schema_walk *w, const jsmntok_t *t) {
    if (!w->out) return w->canon ? canon_string(w, t) : Q_OK;
    int rc = jw_string_token(w->out, tok_ptr(w, t) - 1, tok_len(t) + 2);
    return rc ? fail_at(w, rc, NULL, QD(OUTPUT)) : Q_OK;
}

int schema_put_key(q_buf *out, const schema_set *set, const schema_field *f, bool *first) {
    bool comma = !*first;
    *first = false;
    return (comma && q_buf_putc(out, ',')) || q_buf_putc(out, '"') || q_buf_put(out, schema_field_name(set, f), f->name_len) ||
           q_buf_put(out, "\":", 2) ? Q_ERR(OUT_OF_MEMORY) : Q_OK;
}
static int emit_key(schema_walk *w, const schema_field *f, bool *first) { return w->out ? schema_put_key(w->out, w->set, f, first) : Q_OK; }

/* Copies a validated value's bytes without insignificant whitespace. */
static int emit_raw_compact(schema_walk *w, const jsmntok_t *t) {
    uint32_t start = (uint32_t)t->start - (t->type == JSMN_STRING ? 1 : 0);
    uint32_t end = (uint32_t)t->end + (t->type == JSMN_STRING ? 1 : 0);
    if (q_buf_reserve(w->out, end - start)) return Q_ERR(OUT_OF_MEMORY);
    uint32_t stop = 0, wrote = 0;
    int rc = json_compact_value(w->js, end, start, 0, 0xFFFFFFFFu, w->out->ptr + w->out->len, &stop, &wrote, w->err);
    if (rc) return rc;
    w->out->len += wrote;
    return Q_OK;
}

/* A string token's decoded bytes (strings that need parsing: UUIDs, timestamps): the
 * token itself unless it holds escapes, else a decoded copy in scratch. */
static const uint8_t *tok_decoded(schema_walk *w, const jsmntok_t *t, uint32_t *n) {
    uint32_t len = tok_len(t);
    *n = len;
    if (!escaped(t)) return tok_ptr(w, t);
    uint8_t *buf = scratch_alloc(len + 1);
    if (!buf) return NULL;
    *n = json_unescape(tok_ptr(w, t), len, buf);
    return buf;
}

/* A detail's id as a byte (QD gives it as a pointer); its name ends in QD because
 * scripts/glue-rest.mjs keeps the text of every QD(NAME) the REST module's sources name. */
#define BYTE_QD(name) Q_DETAIL_##name
static const char *type_name(uint8_t type) {
    static const uint8_t DETAIL[] = {   /* by schema_type: a byte table is smaller than the switch */
        BYTE_QD(EXPECTED_A_STRING), BYTE_QD(EXPECTED_A_STRING), BYTE_QD(EXPECTED_A_STRING), BYTE_QD(EXPECTED_A_NUMBER),
        BYTE_QD(EXPECTED_AN_INTEGER), BYTE_QD(EXPECTED_AN_INTEGER), BYTE_QD(EXPECTED_AN_INTEGER), BYTE_QD(EXPECTED_AN_INTEGER),
        BYTE_QD(EXPECTED_AN_INTEGER), BYTE_QD(EXPECTED_TRUE_OR_FALSE), BYTE_QD(EXPECTED_A_STRING), BYTE_QD(EXPECTED_AN_OBJECT),
        BYTE_QD(EXPECTED_AN_ARRAY), BYTE_QD(EXPECTED_AN_OBJECT), BYTE_QD(UNEXPECTED_VALUE), BYTE_QD(EXPECTED_A_SCALAR),
    };
    _Static_assert(sizeof DETAIL == ST_SCALAR + 1 && Q_DETAIL_COUNT_ < 256, "a detail id by schema type, in one byte");
    return (const char *)(__UINTPTR_TYPE__)DETAIL[type];
}

/* ---- reading ------------------------------------------------------------------------ */

/* The value at index `at`, validated: measured when the walk writes (fields are written in
 * schema order, so each value's end is needed before its turn), else a container is only opened:
 * its walk finds its end, and validation reads every byte of the structure once. */
static int read_value(schema_walk *w, uint32_t at, jsmntok_t *v) {
    int rc = span_read_checked(w->js, w->len, at, w->nest, w->max_depth, w->out != NULL, v, w->err);
    return rc ? fail_at(w, rc, NULL, NULL) : Q_OK;
}

/* The index just past the (validated) value at `at` the walk does not look into (unknown keys,
 * ANY, map values counted for the duplicate check); 0 when it is not valid JSON. */
static uint32_t skip_value(schema_walk *w, uint32_t at) {
    uint32_t end;
    return json_scan_value(w->js, w->len, at, w->nest, w->max_depth, &end, w->err) ? 0 : end;
}

/* Starts reading a container's members; the container counts toward the depth limit (w->nest
 * is restored by close_members). */
static int open_members(schema_walk *w, span_iter *it, const jsmntok_t *t) {
    span_iter_init(it, w->js, w->len, t);
    if (w->nest++ >= w->max_depth) return fail_at(w, Q_ERR(JSON_DEPTH), t, NULL);
    return Q_OK;
}

/* Ends reading a container's n members (tail: where the last one ended, it->p: the closing
 * bracket): its tape entry (at tp) gets the count, whitespace before the bracket makes the text
 * not canonical, the depth is given back and the token learns its end. */
static inline __attribute__((always_inline)) void close_members(schema_walk *w, const span_iter *it, uint32_t tail, jsmntok_t *t, uint32_t tp, uint32_t n) {
    tape_count(w, tp, n);
    if (it->p != tail) w->canon = false;
    w->nest--;
    if (!t->end) t->end = (int)it->p + 1;
}

/* The next member, its grammar and key checked: 1, 0 at the end, or a negative status. */
static inline __attribute__((always_inline)) int next_member(schema_walk *w, span_iter *it, jsmntok_t *key, uint32_t *at) {
    int rc = span_next_checked(it, key, at, w->err);
    return rc < 0 ? fail_at(w, rc, NULL, NULL) : rc;
}

/* ---- duplicate keys in maps -------------------------------------------------- */

/* Open addressing over decoded-key hashes, for every size: linear in the number of keys,
 * and from three keys on faster than comparing each pair. The table holds each key's offset
 * (4 bytes a slot, at most 2/3 full): the one allocation of a walk that grows with the input,
 * at most about 1.3 bytes per byte of map (a distinct key and its value take 6 bytes or more).
 * It is sized by counting the members first (map_keys_open) and filled as the walk reads them
 * (key_seen): the first key equal to an earlier one fails. */
typedef struct { int32_t *slot; uint32_t cap; } map_keys;

static int map_keys_open(schema_walk *w, const jsmntok_t *obj, map_keys *m) {
    span_iter it;
    jsmntok_t key;
    uint32_t n = 0, at;
    int more = open_members(w, &it, obj);   /* the values sit inside the map (nest + 1) */
    while (!more && (more = next_member(w, &it, &key, &at)) > 0) {
        if (!(it.p = skip_value(w, at))) return w->err->status;
        n++; more = 0;
    }
    w->nest--;
    m->slot = NULL;
    if (more < 0 || n < 2) return more;
    m->cap = 4; while (m->cap < n + n / 2) m->cap <<= 1;
    if (!(m->slot = scratch_alloc(m->cap * sizeof(int32_t)))) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, QD(MAP_KEYS));
    q_memset(m->slot, 0xFF, m->cap * sizeof(int32_t));   /* every slot -1: empty */
    return Q_OK;
}

/* Enters a key of the map: DUPLICATE_KEY when an equal key is in already. */
static int key_seen(schema_walk *w, map_keys *m, const jsmntok_t *key) {
    const uint8_t *kp = tok_ptr(w, key);
    uint32_t kl = tok_len(key), s = json_string_hash(kp, kl) & (m->cap - 1);
    while (m->slot[s] >= 0) {
        uint32_t o = (uint32_t)m->slot[s], oe = json_scan_string(w->js, w->len, o - 1, w->err, NULL) - 1;   /* from its opening quote */
        if (json_strings_equal(kp, kl, w->js + o, oe - o)) return fail_at(w, Q_ERR(DUPLICATE_KEY), key, NULL);
        s = (s + 1) & (m->cap - 1);
    }
    m->slot[s] = key->start;
    return Q_OK;
}

/* serde_json reads a unit variant in map form too, {"Jwt":null}: one member, a variant's
 * name, null. *key gets the name; it is written as the name and is the name on the tape
 * entry tp (needs_tape: the glue takes the core's tape for such a meta, not JSON.parse). */
static __attribute__((noinline)) int enum_map_form(schema_walk *w, jsmntok_t *t, jsmntok_t *key, uint32_t tp) {
    span_iter it;
    jsmntok_t val;
    uint32_t at;
    int rc;
    if ((rc = open_members(w, &it, t)) || (rc = next_member(w, &it, key, &at)) < 0) return rc;
    if (!rc) return fail_at(w, Q_ERR(TYPE_MISMATCH), t, QD(ENUM_MAP_FORM));
    if ((rc = read_value(w, at, &val))) return rc;
    if (!is_null(w, &val)) return fail_at(w, Q_ERR(TYPE_MISMATCH), &val, QD(ENUM_MAP_FORM));
    it.p = span_next_index(&val);
    if ((rc = next_member(w, &it, &val, &at))) return rc < 0 ? rc : fail_at(w, Q_ERR(TYPE_MISMATCH), &val, QD(ENUM_MAP_FORM));
    w->nest--;
    if (!t->end) t->end = (int)it.p + 1;
    w->canon = false;
    w->needs_tape = true;
    if (w->tape) { w->tape[tp] = QT_STRING; w->tape[tp + 1] = key->start; w->tape[tp + 2] = (int32_t)tok_len(key); }
    return Q_OK;
}

/* ---- values --------------------------------------------------------------------- */

static int walk_object(schema_walk *w, jsmntok_t *obj, const schema *s);

/* The value at index `at`: measured when the walk writes (fields are written in schema order,
 * so each value's end is needed before its turn), else only opened: the walk of a container
 * finds its end, and validation reads every byte of the structure once. */
/* Walks the value t as `type`. An opened container gets its end set. */
static int walk_value(schema_walk *w, jsmntok_t *t, uint8_t type, uint8_t elem, uint8_t sub) {
    const uint8_t *p = tok_ptr(w, t);   /* the value's bytes (a string's body) */
    uint32_t n = tok_len(t);
    bool number = t->type == JSMN_PRIMITIVE && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9'));
    bool boolean = t->type == JSMN_PRIMITIVE && (p[0] == 't' || p[0] == 'f');
    int rc;
    uint32_t tp = 0;
    /* on the tape a scalar is its token (QT_STRING or QT_PRIMITIVE); containers and raw values below */
    if (type < ST_OBJECT || type == ST_SCALAR) tp = tape_inline(w, (uint32_t)t->type, (uint32_t)t->start, n);
again:
    switch (type) {
    case ST_STRING:
        if (t->type != JSMN_STRING) break;
        return w->out || w->canon ? emit_token(w, t) : Q_OK;   /* decode: nothing more to do */
    case ST_UUID: case ST_TIMESTAMP: {
        if (t->type != JSMN_STRING) break;
        uint8_t txt[RFC3339_MAX_LEN > UUID_TEXT_LEN ? RFC3339_MAX_LEN : UUID_TEXT_LEN], u[16];
        q_time tm;
        /* the token's own bytes first: neither parser takes a backslash, so only a token that
         * fails and holds one is parsed again, decoded */
        for (const uint8_t *d = p;;) {
            if (!(type == ST_UUID ? uuid_parse(d, n, u) : rfc3339_parse(d, n, &tm))) break;
            if (d != p || !escaped(t)) return fail_at(w, type == ST_UUID ? Q_ERR(INVALID_UUID) : Q_ERR(INVALID_TIMESTAMP), t, NULL);
            if (!(d = tok_decoded(w, t, &n))) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, NULL);
        }
        if (type == ST_UUID) {
            if (!w->out && !w->canon) return Q_OK;
            uuid_format(u, txt);
            n = UUID_TEXT_LEN;
        } else {
            /* rfc3339_parse gives only instants rfc3339_format writes: what we accept, we write back */
            if (!w->out && !w->canon) return Q_OK;
            n = rfc3339_format(tm, RFC3339_Z, txt);
        }
        if (w->out) return emit(w, txt, n, true);
        if (tok_len(t) != n || q_memcmp(tok_ptr(w, t), txt, n)) w->canon = false;   /* checking: the writer's form? */
        return Q_OK;
    }
    case ST_F64:
        if (!number) break;   /* the validator already refused doubles that overflow */
        /* Rust's spelling (num_format_f64: 45 -> 45.0, 1e+21 -> 1e21, 0.0000015 -> 1.5e-6), written
         * straight into the output. Checking: JSON.stringify's usual text is it, or the copy plus
         * ".0" at a kept place; any other text is left to the writer (its rarer forms, 1.5e-7 or
         * 1e21, included: the bytes are the same, only written, not copied) */
        if (w->out) {
            if (q_buf_reserve(w->out, NUM_F64_OUT_MAX(n))) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, QD(OUTPUT));
            w->out->len += num_format_f64(p, n, w->out->ptr + w->out->len);
        } else if (w->canon) {
            int plain = f64_plain(p, n);
            if (plain > 0) canon_f64_fix(w, t);
            else if (plain < 0) w->canon = false;
        }
        return Q_OK;
    case ST_I32: case ST_I64: case ST_U64: case ST_U16: case ST_U32: {
        static const char *const RANGE_DETAIL[] = {   /* by type - ST_I32 */
            QD(EXPECTED_A_32_BIT_INTEGER), QD(EXPECTED_A_64_BIT_INTEGER), QD(EXPECTED_AN_UNSIGNED_64_BIT_INTEGER),
            QD(EXPECTED_AN_INTEGER_0_65535), QD(EXPECTED_AN_INTEGER_0_4294967295),
        };
        _Static_assert(ST_I64 == ST_I32 + 1 && ST_U64 == ST_I32 + 2 && ST_U16 == ST_I32 + 3 && ST_U32 == ST_I32 + 4,
                       "RANGE_DETAIL and BITS follow the schema_type order");
        if (!number) break;
        /* serde_json parses "-0" as a float, so integer fields reject it. */
        if (n == 2 && p[0] == '-' && p[1] == '0') return fail_at(w, Q_ERR(TYPE_MISMATCH), t, QD(MINUS_ZERO_IS_A_FLOAT_TO_SERDE_JSON));
        static const uint8_t BITS[] = { 31, 63, 64, 16, 32 };   /* by type - ST_I32 (num_check_int) */
        rc = num_check_int(p, n, BITS[type - ST_I32]);
        if (rc) return fail_at(w, rc, t, RANGE_DETAIL[type - ST_I32]);
        /* beyond +-(2^53 - 1) (more than 16 digits, or 16 above 9007199254740991: no leading
         * zeros) a JS number loses digits: the walk and the tape say so (QT_BIG), the glue makes a
         * BigInt */
        uint32_t digits = n - (p[0] == '-');
        if (digits > 16 || (digits == 16 && q_memcmp(p + n - 16, "9007199254740991", 16) > 0)) {
            w->needs_tape = true;
            if (w->tape) w->tape[tp] = QT_BIG;
        }
        /* an integer the parser took is "-?digits" without leading zeros (JSON) and not "-0":
         * its text is already the canonical form */
        return emit(w, p, n, false);
    }
    case ST_BOOL:
        if (!boolean) break;
        return emit(w, p, n, false);
    case ST_ENUM: {
        jsmntok_t key;
        if (t->type == JSMN_OBJECT && w->set->enum_map_form) {
            if ((rc = enum_map_form(w, t, &key, tp))) return rc;
            t = &key; p = tok_ptr(w, t); n = tok_len(t);
        }
        if (t->type != JSMN_STRING) break;
        bool esc = escaped(t);
        uint32_t vl;
        for (const char *v = w->set->enums[sub]; *v; v += vl + 1) {
            vl = (uint32_t)q_strlen(v);   /* once a value: its length, then its bytes */
            if (esc ? json_strings_equal(p, n, (const uint8_t *)v, vl) : vl == n && q_same_bytes(p, v, n)) {
                if (esc) w->canon = false;   /* the writer writes the plain name */
                return emit(w, v, vl, true);
            }
        }
        return fail_at(w, Q_ERR(INVALID_ENUM), t, NULL);
    }
    case ST_OBJECT:
        return walk_object(w, t, &w->set->schemas[sub]);
    case ST_ARRAY: case ST_MAP: {
        /* One loop for both: a map element is a key token followed by its value. */
        bool map = type == ST_MAP;
        if (t->type != (map ? JSMN_OBJECT : JSMN_ARRAY)) break;
        uint8_t open = map ? '{' : '[';
        if ((rc = emit_c(w, (char)open))) return rc;
        span_iter it;
        jsmntok_t key, val;
        map_keys keys = { NULL, 0 };
        uint32_t at, tail = (uint32_t)t->start + 1, k = 0, tp = tape(w, map ? QT_OBJECT : QT_ARRAY, (uint32_t)t->start, 0);
        if ((map && (rc = map_keys_open(w, t, &keys))) || (rc = open_members(w, &it, t))) return rc;
        for (; (rc = next_member(w, &it, &key, &at)) > 0; k++) {
            if ((map && keys.slot && (rc = key_seen(w, &keys, &key))) || (rc = read_value(w, at, &val))) return rc;
            if (map) tape(w, QT_KEY, (uint32_t)key.start, tok_len(&key));
            if (w->canon) canon_member(w, map ? &key : NULL, at, tail, k == 0);
            if (k && (rc = emit_c(w, ','))) return rc;
            uint32_t saved;
            if (map) {
                if ((rc = emit_token(w, &key)) || (rc = emit_c(w, ':'))) return rc;
                saved = path_push_key(w, &key);
            } else {
                saved = path_push_index(w, k);
            }
            if (is_null(w, &val) && elem != ST_ANY) return fail_at(w, Q_ERR(TYPE_MISMATCH), &val, type_name(elem));
            rc = walk_value(w, &val, elem, 0, sub);
            if (rc) return rc;
            path_pop(w, saved);
            it.p = tail = span_next_index(&val);
        }
        if (rc < 0) return rc;
        close_members(w, &it, tail, t, tp, k);
        return emit_c(w, (char)(open + 2));   /* '[' + 2 = ']', '{' + 2 = '}' */
    }
    case ST_ANY:
        if (!t->end && !(t->end = (int)skip_value(w, (uint32_t)t->start))) return fail_at(w, Q_ERR(JSON_SYNTAX), t, NULL);   /* opened: measure it */
        if (w->tape) {   /* the value's whole text, a string's quotes included */
            uint32_t q = t->type == JSMN_STRING;
            tape(w, QT_RAW, (uint32_t)t->start - q, tok_len(t) + 2 * q);
        }
        if (w->out) { rc = emit_raw_compact(w, t); if (rc) return fail_at(w, rc, t, NULL); }
        else if (w->canon && (rc = canon_compact(w, t))) return rc;
        return Q_OK;
    case ST_SCALAR:   /* walked as the type it turns out to be */
        if (t->type != JSMN_STRING && !number && !boolean) break;
        type = t->type == JSMN_STRING ? ST_STRING : number ? ST_F64 : ST_BOOL;
        goto again;
    }
    return fail_at(w, Q_ERR(TYPE_MISMATCH), t, type_name(type));
}

/* The field a key names, searched from the hint on (keys usually come in the schema's order,
 * servers and our encoder write the Rust struct's: the next present field is near), by length
 * first; names hold no backslash, so an escaped key can only match a shorter name, after
 * decoding. -1 when none. */
static int find_field(schema_walk *w, const schema_field *fields, int n, const jsmntok_t *key, int hint) {
    const uint8_t *kp = tok_ptr(w, key);
    uint32_t kl = tok_len(key);
    const char *names = w->set->names;
    bool esc = escaped(key);
    for (int k = 0, f = hint; k < n; k++, f = f + 1 < n ? f + 1 : 0) {
        const char *name = names + fields[f].name;
        uint32_t nl = fields[f].name_len;
        if (esc ? kl > nl && json_strings_equal(kp, kl, (const uint8_t *)name, nl) : kl == nl && q_same_bytes(kp, name, kl)) return f;
    }
    return -1;
}

/* A present field's value when only validating: walked where it stands, then captured. */
static int check_field(schema_walk *w, const schema_field *fd, jsmntok_t *v) {
    uint32_t saved = push_field_inline(w, fd);
    int rc = Q_OK;
    if (is_null(w, v)) {
        if (fd->flags & (SF_REQUIRED | SF_TRAP | SF_NONNULL)) return fail_at(w, Q_ERR(TYPE_MISMATCH), v, type_name(fd->type));
        tape(w, QT_PRIMITIVE, (uint32_t)v->start, 4);
        if (fd->slot >= 0) w->slots[fd->slot] = -1;   /* Option<T>: null is None */
        w->canon = false;                              /* and not written */
    } else {
        if ((rc = walk_value(w, v, fd->type, fd->elem, fd->sub))) return rc;
        /* an empty map is not written (checked: it has no whitespace either, so it is "{}") */
        if (w->canon && (fd->flags & SF_OMIT_EMPTY) && v->end - v->start == 2) w->canon = false;
        if (fd->slot >= 0) { w->slots[fd->slot] = fd->slot; w->vals[fd->slot] = *v; }
    }
    path_pop(w, saved);
    return rc;
}

static int walk_object(schema_walk *w, jsmntok_t *obj, const schema *s) {
    if (obj->type != JSMN_OBJECT) return fail_at(w, Q_ERR(TYPE_MISMATCH), obj, QD(EXPECTED_AN_OBJECT));
    const schema_field *fields = schema_fields(w->set, s);
    jsmntok_t found[SCHEMA_MAX_FIELDS];   /* valid where `seen` has the field's bit */
    uint32_t seen = 0;
    _Static_assert(SCHEMA_MAX_FIELDS <= 32, "one bit a field");
    span_iter it;
    jsmntok_t key;
    uint32_t at, tail = (uint32_t)obj->start + 1, members = 0, tp = tape(w, QT_OBJECT, (uint32_t)obj->start, 0);
    int rc, hint = 0, last = -1;
    if ((rc = open_members(w, &it, obj))) return rc;
    key.type = JSMN_STRING;   /* (span_next_checked sets it too) */
    for (;;) {
        /* the hinted field's key is tried where it stands: no scan and no search then */
        int f = hint;
        if (!(at = span_next_expected(&it, schema_field_name(w->set, &fields[hint]), fields[hint].name_len, &key))) {
            if ((rc = next_member(w, &it, &key, &at)) <= 0) break;
            f = find_field(w, fields, s->count, &key, hint);
        }
        jsmntok_t val;
        members++;
        /* a key spelled as its field's name is told by the field's index in the set (the glue
         * keeps the name); any other key (unknown, escaped) by its text */
        tape_inline(w, f >= 0 && !escaped(&key) ? QT_FIELD | (uint32_t)(s->first + f) << 8 : QT_KEY,
             (uint32_t)key.start, tok_len(&key));
        /* checking: every key known, plain, in schema order (the writer drops the others) */
        if (w->canon && (f <= last || escaped(&key))) w->canon = false;
        if (f < 0) {
            if (SCHEMA_STRICT && s->strict) {
                uint32_t saved = path_push_key(w, &key);
                rc = fail_at(w, Q_ERR(UNKNOWN_KEY), &key, NULL);
                path_pop(w, saved);
                return rc;
            }
            if (!(it.p = skip_value(w, at))) return fail_at(w, Q_ERR(JSON_SYNTAX), NULL, NULL);   /* ignored, as serde ignores it */
            tape(w, QT_RAW, at, it.p - at);   /* but kept in the meta object, as JSON.parse keeps it */
            continue;
        }
        hint = f + 1 < s->count ? f + 1 : 0;
        if (seen >> f & 1) {
            uint32_t saved = path_push_field(w, &fields[f]);
            rc = fail_at(w, Q_ERR(DUPLICATE_KEY), &key, NULL);
            path_pop(w, saved);
            return rc;
        }
        if ((rc = read_value(w, at, &val))) return rc;
        if (w->canon) canon_member(w, &key, at, tail, last < 0);
        last = f;
        /* validating only: each field is walked where it stands, in document order (as serde) */
        if (!w->out && (rc = check_field(w, &fields[f], &val))) return rc;
        found[f] = val;
        seen |= 1u << f;
        it.p = tail = span_next_index(&val);
    }
    if (rc < 0) return rc;
    close_members(w, &it, tail, obj, tp, members);
    /* writing: the fields in schema order (the Rust struct's), each value measured above;
     * validating: only the absent ones are left */
    bool first = true;
    if ((rc = emit_c(w, '{'))) return rc;
    /* the fields by their bits, in order: all of them, or only the absent ones */
    for (uint32_t todo = (uint32_t)((1ull << s->count) - 1) & (w->out ? ~0u : ~seen); todo; todo &= todo - 1) {
        int f = __builtin_ctz(todo);
        const schema_field *fd = &fields[f];
        jsmntok_t *v = seen >> f & 1 ? &found[f] : NULL;   /* validating: NULL (absent) */
        if (!w->out && !(fd->flags & SF_REQUIRED)) {
            if (fd->slot >= 0) w->slots[fd->slot] = -1;
            if (fd->flags & SF_TRAP) w->canon = false;   /* the writer puts [] */
            continue;
        }
        uint32_t saved = path_push_field(w, fd);
        if (v && is_null(w, v)) {
            if (fd->flags & (SF_REQUIRED | SF_TRAP | SF_NONNULL)) return fail_at(w, Q_ERR(TYPE_MISMATCH), v, type_name(fd->type));
            v = NULL;   /* Option<T>: null is None */
        }
        if (fd->slot >= 0) {
            w->slots[fd->slot] = v ? fd->slot : -1;
            if (v) w->vals[fd->slot] = *v;
        }
        if (!v) {
            if (fd->flags & SF_REQUIRED) return fail_at(w, Q_ERR(MISSING_FIELD), obj, NULL);
            /* (only a writing walk comes past here) */
            if (fd->flags & SF_TRAP) {
                /* The server demands these even when empty (wire-format.md §2). */
                rc = emit_key(w, fd, &first);
                if (rc || q_buf_put(w->out, fd->type == ST_MAP ? "{}" : "[]", 2)) return fail_at(w, Q_ERR(OUT_OF_MEMORY), NULL, NULL);
            } else if (w->fill) {
                rc = w->fill(w->fill_ctx, fd, w->out, &first);
                if (rc < 0) return fail_at(w, rc, NULL, NULL);
            }
        } else if (!(fd->flags & SF_OMIT_EMPTY) || v->type != JSMN_OBJECT || !span_empty(w->js, v)) {
            rc = emit_key(w, fd, &first);
            if (rc) return fail_at(w, rc, NULL, NULL);
            rc = walk_value(w, v, fd->type, fd->elem, fd->sub);
            if (rc) return rc;
        }
        path_pop(w, saved);
    }
    return emit_c(w, '}');
}

int schema_walk_object(schema_walk *w, const schema_set *set, uint8_t root) {
    if (!w->len) return q_fail(w->err, Q_ERR(INTERNAL), Q_NO_OFFSET, render_path(w), NULL);
    w->set = set;
    jsmntok_t obj;
    int rc = read_value(w, 0, &obj);
    if (!rc) rc = walk_object(w, &obj, &set->schemas[root]);
    w->end = (uint32_t)obj.end;
    return rc;
}
