/* Table-driven object validation over jsmn tokens, with an optional canonical writer.
 * Rules: fields are matched on their decoded names; duplicates are errors; unknown keys are
 * ignored (meta, as serde does) or errors (config); null counts as absent for optional
 * fields only; the writer emits fields in schema order (the Rust struct's order). */
#include "schema.h"
#include "json.h"
#include "num.h"
#include "uuid.h"
#include "rfc3339.h"

static inline jsmntok_t *T(schema_walk *w, int i) { return &w->t.tok[i]; }
static inline int64_t tok_offset(schema_walk *w, int i) {
    return (int64_t)w->t.base + T(w, i)->start - (T(w, i)->type == JSMN_STRING ? 1 : 0);
}
static inline uint8_t first_byte(schema_walk *w, int i) { return w->t.js[T(w, i)->start]; }

/* ---- path frames ------------------------------------------------------------ */

#define NUL_TERMINATED 0xFFFFFFFFu

static uint32_t push(schema_walk *w, const char *name, uint32_t len, int32_t index) {
    uint32_t saved = w->depth;
    if (w->depth < SCHEMA_MAX_FRAMES) {
        w->frames[w->depth].name = name; w->frames[w->depth].len = len; w->frames[w->depth].index = index;
    }
    w->depth++;
    return saved;
}

static uint32_t path_push_name(schema_walk *w, const char *name) { return push(w, name, NUL_TERMINATED, -1); }

/* Map keys are user data: shown only when short and plain, else as "[key]". */
static uint32_t path_push_key(schema_walk *w, int key_tok) {
    const uint8_t *s = schema_tok_ptr(w, key_tok);
    uint32_t n = schema_tok_len(w, key_tok);
    bool plain = n > 0 && n <= 32;
    for (uint32_t k = 0; plain && k < n; k++) {
        uint8_t c = s[k];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    return plain ? push(w, (const char *)s, n, -1) : push(w, "[key]", NUL_TERMINATED, -1);
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
        if (w->frames[k].len == NUL_TERMINATED) q_text_append(p, sizeof w->path, w->frames[k].name);
        else q_text_append_n(p, sizeof w->path, w->frames[k].name, w->frames[k].len);
    }
    return p;
}

static int fail_at(schema_walk *w, int status, int i, const char *detail) {
    if (w->err->status < 0) return w->err->status;   /* the innermost cause wins */
    return q_fail(w->err, status, i >= 0 ? tok_offset(w, i) : Q_NO_OFFSET, render_path(w), detail);
}

void schema_walk_init(schema_walk *w, const q_tokens *t, q_error *err, q_buf *out, const char *path) {
    w->t = *t; w->err = err; w->out = out; w->fill = NULL; w->fill_ctx = NULL;
    q_memset(w->slots, 0xFF, sizeof w->slots);   /* every slot -1: absent */
    w->depth = 0; w->path[0] = 0;
    if (path && *path) path_push_name(w, path);
}

/* ---- output helpers -------------------------------------------------------- */

/* Writes n bytes (between quotes when quoted) if the walk writes; a failure becomes the
 * walk's error. One call per piece keeps the value cases free of repeated checks. */
static int emit(schema_walk *w, const void *p, uint32_t n, bool quoted) {
    if (!w->out) return Q_OK;
    if ((quoted && q_buf_putc(w->out, '"')) || q_buf_put(w->out, p, n) || (quoted && q_buf_putc(w->out, '"')))
        return fail_at(w, Q_ERR(OUT_OF_MEMORY), -1, QD(OUTPUT));
    return Q_OK;
}
static int emit_c(schema_walk *w, char c) { return emit(w, &c, 1, false); }

/* A validated string token (its body at token i), re-escaped canonically. */
static int emit_token(schema_walk *w, int i) {
    if (!w->out) return Q_OK;
    int rc = jw_string_token(w->out, schema_tok_ptr(w, i) - 1, schema_tok_len(w, i) + 2);
    return rc ? fail_at(w, rc, -1, QD(OUTPUT)) : Q_OK;
}

static int emit_key(schema_walk *w, const char *name, bool *first) {
    if (!w->out) return Q_OK;
    const char *sep = *first ? "" : ",";
    *first = false;
    return jw_fmt(w->out, "%s\"%s\":", sep, name);
}

/* Copies a validated value's bytes without insignificant whitespace. */
static int emit_raw_compact(schema_walk *w, int i) {
    uint32_t start = (uint32_t)T(w, i)->start - (T(w, i)->type == JSMN_STRING ? 1 : 0);
    uint32_t end = (uint32_t)T(w, i)->end + (T(w, i)->type == JSMN_STRING ? 1 : 0);
    if (q_buf_reserve(w->out, end - start)) return Q_ERR(OUT_OF_MEMORY);
    uint32_t stop = 0, wrote = 0;
    int rc = json_compact_value(w->t.js, end, start, 0, 0xFFFFFFFFu, w->out->ptr + w->out->len, &stop, &wrote, w->err);
    if (rc) return rc;
    w->out->len += wrote;
    return Q_OK;
}

static bool has_backslash(const uint8_t *p, uint32_t n) {
    for (uint32_t k = 0; k < n; k++) if (p[k] == '\\') return true;
    return false;
}

/* A string token's decoded bytes (strings that need parsing: UUIDs, timestamps): the
 * token itself unless it holds escapes, else a decoded copy in scratch. */
static const uint8_t *tok_decoded(schema_walk *w, int i, uint32_t *n) {
    uint32_t len = schema_tok_len(w, i);
    *n = len;
    if (!has_backslash(schema_tok_ptr(w, i), len)) return schema_tok_ptr(w, i);
    uint8_t *buf = scratch_alloc(len + 1);
    if (!buf) return NULL;
    *n = json_unescape(schema_tok_ptr(w, i), len, buf);
    return buf;
}

/* An integer literal of at most 15 digits (no fraction, no exponent). */
static bool is_short_integer(const uint8_t *p, uint32_t n) {
    uint32_t k = n && p[0] == '-';
    if (n - k > 15) return false;
    for (; k < n; k++) if (p[k] < '0' || p[k] > '9') return false;
    return true;
}

static const char *type_name(uint8_t type) {
    switch (type) {
    case ST_STRING: case ST_UUID: case ST_TIMESTAMP: case ST_ENUM: return QD(EXPECTED_A_STRING);
    case ST_F64: return QD(EXPECTED_A_NUMBER);
    case ST_I32: case ST_I64: case ST_U64: case ST_U16: case ST_U32: return QD(EXPECTED_AN_INTEGER);
    case ST_BOOL: return QD(EXPECTED_TRUE_OR_FALSE);
    case ST_OBJECT: case ST_MAP: return QD(EXPECTED_AN_OBJECT);
    case ST_ARRAY: return QD(EXPECTED_AN_ARRAY);
    case ST_SCALAR: return QD(EXPECTED_A_SCALAR);
    default: return QD(UNEXPECTED_VALUE);
    }
}

/* ---- duplicate keys in maps -------------------------------------------------- */

/* Open addressing over decoded-key hashes, for every size: linear in the number of keys,
 * and from three keys on faster than comparing each pair. The first key equal to an
 * earlier one fails. */
static int check_map_duplicates(schema_walk *w, int obj) {
    int n = T(w, obj)->size;
    if (n < 2) return Q_OK;
    uint32_t cap = 4; while (cap < (uint32_t)n * 2) cap <<= 1;
    int *table = scratch_alloc(cap * sizeof(int));   /* key token indexes */
    if (!table) return fail_at(w, Q_ERR(OUT_OF_MEMORY), -1, QD(MAP_KEYS));
    q_memset(table, 0xFF, cap * sizeof(int));         /* every slot -1: empty */
    for (int k = 0, key = obj + 1; k < n; k++, key = tokens_skip(&w->t, key + 1)) {
        const uint8_t *kp = schema_tok_ptr(w, key); uint32_t kl = schema_tok_len(w, key);
        uint32_t s = json_string_hash(kp, kl) & (cap - 1);
        while (table[s] >= 0) {
            int o = table[s];
            if (json_strings_equal(kp, kl, schema_tok_ptr(w, o), schema_tok_len(w, o)))
                return fail_at(w, Q_ERR(DUPLICATE_KEY), key, NULL);
            s = (s + 1) & (cap - 1);
        }
        table[s] = key;
    }
    return Q_OK;
}

/* ---- values --------------------------------------------------------------------- */

static int walk_object(schema_walk *w, int i, const schema *s);

static int walk_value(schema_walk *w, int i, uint8_t type, uint8_t elem, const void *sub) {
    jsmntok_t *t = T(w, i);
    const uint8_t *p = schema_tok_ptr(w, i);   /* the token's bytes (a string's body) */
    uint32_t n = schema_tok_len(w, i);
    bool number = t->type == JSMN_PRIMITIVE && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9'));
    bool boolean = t->type == JSMN_PRIMITIVE && (p[0] == 't' || p[0] == 'f');
    int rc;
again:
    switch (type) {
    case ST_STRING:
        if (t->type != JSMN_STRING) break;
        return emit_token(w, i);
    case ST_UUID: case ST_TIMESTAMP: {
        if (t->type != JSMN_STRING) break;
        const uint8_t *d = tok_decoded(w, i, &n);
        if (!d) return fail_at(w, Q_ERR(OUT_OF_MEMORY), -1, NULL);
        uint8_t txt[RFC3339_MAX_LEN > UUID_TEXT_LEN ? RFC3339_MAX_LEN : UUID_TEXT_LEN];
        if (type == ST_UUID) {
            uint8_t u[16];
            if (uuid_parse(d, n, u)) return fail_at(w, Q_ERR(INVALID_UUID), i, NULL);
            if (!w->out) return Q_OK;
            uuid_format(u, txt);
            n = UUID_TEXT_LEN;
        } else {
            q_time tm;
            if (rfc3339_parse(d, n, &tm)) return fail_at(w, Q_ERR(INVALID_TIMESTAMP), i, NULL);
            /* Checked on decode too: what we accept, we can always write back. */
            if (!rfc3339_writable(tm)) return fail_at(w, Q_ERR(INVALID_TIMESTAMP), i, QD(YEAR_OUTSIDE_0000_9999_IN_UTC));
            if (!w->out) return Q_OK;
            n = rfc3339_format(tm, RFC3339_Z, txt);
        }
        return emit(w, txt, n, true);
    }
    case ST_F64:
        if (!number) break;   /* the validator already refused doubles that overflow */
        if ((rc = emit(w, p, n, false))) return rc;
        /* Rust writes an f64 that holds an integer as 45.0, and JSON.stringify wrote 45:
         * up to 15 digits every integer is exact, so adding ".0" gives Rust's bytes. */
        return is_short_integer(p, n) ? emit(w, ".0", 2, false) : Q_OK;
    case ST_I32: case ST_I64: case ST_U64: case ST_U16: case ST_U32: {
        static const char *const RANGE_DETAIL[] = {   /* by type - ST_I32 */
            QD(EXPECTED_A_32_BIT_INTEGER), QD(EXPECTED_A_64_BIT_INTEGER), QD(EXPECTED_AN_UNSIGNED_64_BIT_INTEGER),
            QD(EXPECTED_AN_INTEGER_0_65535), QD(EXPECTED_AN_INTEGER_0_4294967295),
        };
        _Static_assert(ST_I64 == ST_I32 + 1 && ST_U64 == ST_I32 + 2 && ST_U16 == ST_I32 + 3 && ST_U32 == ST_I32 + 4,
                       "RANGE_DETAIL follows the schema_type order");
        if (!number) break;
        /* serde_json parses "-0" as a float, so integer fields reject it. */
        if (n == 2 && p[0] == '-' && p[1] == '0') return fail_at(w, Q_ERR(TYPE_MISMATCH), i, QD(MINUS_ZERO_IS_A_FLOAT_TO_SERDE_JSON));
        int64_t v;
        uint64_t u;
        if (type == ST_U64) {
            rc = num_to_u64(p, n, UINT64_MAX, &u);
        } else {
            int64_t lo = type == ST_I32 ? INT32_MIN : type == ST_I64 ? INT64_MIN : 0;
            int64_t hi = type == ST_I32 ? INT32_MAX : type == ST_I64 ? INT64_MAX : type == ST_U16 ? 65535 : (int64_t)UINT32_MAX;
            rc = num_to_i64(p, n, lo, hi, &v);
        }
        if (rc) return fail_at(w, rc, i, RANGE_DETAIL[type - ST_I32]);
        uint8_t d[24];
        return emit(w, d, type == ST_U64 ? num_format_u64(u, d) : num_format_i64(v, d), false);
    }
    case ST_BOOL:
        if (!boolean) break;
        return emit(w, p, n, false);
    case ST_ENUM: {
        if (t->type != JSMN_STRING) break;
        bool escaped = has_backslash(p, n);
        for (const char *v = sub; *v; v += q_strlen(v) + 1) {
            uint32_t vl = (uint32_t)q_strlen(v);
            if (escaped ? json_string_eq(p, n, v, vl) : q_bytes_eq(p, n, v)) return emit(w, v, vl, true);
        }
        return fail_at(w, Q_ERR(INVALID_ENUM), i, NULL);
    }
    case ST_OBJECT:
        return walk_object(w, i, sub);
    case ST_ARRAY: case ST_MAP: {
        /* One loop for both: a map element is a key token followed by its value. */
        bool map = type == ST_MAP;
        if (t->type != (map ? JSMN_OBJECT : JSMN_ARRAY)) break;
        if (map && (rc = check_map_duplicates(w, i))) return rc;
        uint8_t open = map ? '{' : '[';
        int count = t->size, j = i + 1;
        if ((rc = emit_c(w, (char)open))) return rc;
        for (int k = 0; k < count; k++) {
            if (k && (rc = emit_c(w, ','))) return rc;
            uint32_t saved;
            if (map) {
                if ((rc = emit_token(w, j)) || (rc = emit_c(w, ':'))) return rc;
                saved = path_push_key(w, j++);
            } else {
                saved = path_push_index(w, (uint32_t)k);
            }
            if (first_byte(w, j) == 'n' && T(w, j)->type == JSMN_PRIMITIVE && elem != ST_ANY)
                return fail_at(w, Q_ERR(TYPE_MISMATCH), j, type_name(elem));
            rc = walk_value(w, j, elem, 0, sub);
            if (rc) return rc;
            path_pop(w, saved);
            j = tokens_skip(&w->t, j);
        }
        return emit_c(w, (char)(open + 2));   /* '[' + 2 = ']', '{' + 2 = '}' */
    }
    case ST_ANY:
        if (w->out) { rc = emit_raw_compact(w, i); if (rc) return fail_at(w, rc, i, NULL); }
        return Q_OK;
    case ST_SCALAR:   /* walked as the type it turns out to be */
        if (t->type != JSMN_STRING && !number && !boolean) break;
        type = t->type == JSMN_STRING ? ST_STRING : number ? ST_F64 : ST_BOOL;
        goto again;
    }
    return fail_at(w, Q_ERR(TYPE_MISMATCH), i, type_name(type));
}

/* Keys usually arrive in the schema's own order (servers and our encoder write the Rust
 * struct's order), so the search starts after the previous match: one compare per key. */
static int find_field(schema_walk *w, const schema *s, int key, int hint) {
    const uint8_t *kp = schema_tok_ptr(w, key);
    uint32_t kl = schema_tok_len(w, key);
    int n = s->count;
    for (int k = 0, f = hint; k < n; k++, f = f + 1 < n ? f + 1 : 0)
        if (q_bytes_eq(kp, kl, s->fields[f].name)) return f;
    /* names hold no backslash, so only an escaped key can still match after decoding */
    bool escaped = has_backslash(kp, kl);
    for (int f = 0; escaped && f < n; f++)
        if (json_string_eq(kp, kl, s->fields[f].name, (uint32_t)q_strlen(s->fields[f].name))) return f;
    return -1;
}

static int walk_object(schema_walk *w, int i, const schema *s) {
    if (T(w, i)->type != JSMN_OBJECT) return fail_at(w, Q_ERR(TYPE_MISMATCH), i, QD(EXPECTED_AN_OBJECT));
    int found[SCHEMA_MAX_FIELDS];
    q_memset(found, 0xFF, s->count * sizeof(int));   /* every field -1: not seen */
    int n = T(w, i)->size, j = i + 1, rc, hint = 0;
    for (int k = 0; k < n; k++) {
        int f = find_field(w, s, j, hint);
        if (f >= 0) {
            hint = f + 1 < s->count ? f + 1 : 0;
            if (found[f] >= 0) {
                uint32_t saved = path_push_name(w, s->fields[f].name);
                rc = fail_at(w, Q_ERR(DUPLICATE_KEY), j, NULL);
                path_pop(w, saved);
                return rc;
            }
            found[f] = j + 1;
        } else if (s->strict) {
            uint32_t saved = path_push_key(w, j);
            rc = fail_at(w, Q_ERR(UNKNOWN_KEY), j, NULL);
            path_pop(w, saved);
            return rc;
        }
        j = tokens_skip(&w->t, j + 1);
    }
    bool first = true;
    if ((rc = emit_c(w, '{'))) return rc;
    for (int f = 0; f < s->count; f++) {
        const schema_field *fd = &s->fields[f];
        int v = found[f];
        if (v < 0 && !w->out && !(fd->flags & SF_REQUIRED)) {
            if (fd->slot >= 0) w->slots[fd->slot] = -1;
            continue;   /* absent, optional, nothing to write: most fields on decode */
        }
        uint32_t saved = path_push_name(w, fd->name);
        bool is_null = v >= 0 && T(w, v)->type == JSMN_PRIMITIVE && first_byte(w, v) == 'n';
        if (is_null) {
            if (fd->flags & (SF_REQUIRED | SF_TRAP | SF_NONNULL)) return fail_at(w, Q_ERR(TYPE_MISMATCH), v, type_name(fd->type));
            v = -1;   /* Option<T>: null is None */
        }
        if (fd->slot >= 0) w->slots[fd->slot] = v;
        if (v < 0) {
            if (fd->flags & SF_REQUIRED) {
                rc = fail_at(w, Q_ERR(MISSING_FIELD), i, NULL);
                return rc;
            }
            if ((fd->flags & SF_TRAP) && w->out) {
                /* The server demands these even when empty (wire-format.md §2). */
                rc = emit_key(w, fd->name, &first);
                if (rc || q_buf_put(w->out, fd->type == ST_MAP ? "{}" : "[]", 2)) return fail_at(w, Q_ERR(OUT_OF_MEMORY), -1, NULL);
            } else if (w->fill && w->out) {
                rc = w->fill(w->fill_ctx, fd, w->out, &first);
                if (rc < 0) return fail_at(w, rc, -1, NULL);
            }
        } else if (!(fd->flags & SF_OMIT_EMPTY) || T(w, v)->type != JSMN_OBJECT || T(w, v)->size) {
            rc = emit_key(w, fd->name, &first);
            if (rc) return fail_at(w, rc, -1, NULL);
            rc = walk_value(w, v, fd->type, fd->elem, fd->sub);
            if (rc) return rc;
        }
        path_pop(w, saved);
    }
    return emit_c(w, '}');
}

int schema_walk_object(schema_walk *w, const schema *s) {
    if (w->t.count < 1) return q_fail(w->err, Q_ERR(INTERNAL), Q_NO_OFFSET, render_path(w), QD(NO_TOKENS));
    return walk_object(w, 0, s);
}
