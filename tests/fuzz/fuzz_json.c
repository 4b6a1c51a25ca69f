/* libFuzzer harness: the JSON validator against itself and a reference. json_validate must
 * agree with an independent, deliberately plain RFC 8259 + UTF-8 checker (including the exact
 * depth limit), with json_compact_value (same verdict, same error; compact output validates
 * and is a fixed point, also when compacting in place), and with jsmn (tokens_parse never
 * disagrees). Every string token decodes, re-escapes and compares consistently. Numbers
 * beyond a double are invalid (serde_json refuses them); strtod is the reference there.
 * fuzz-max-len: 65536
 * fuzz-dict: json.dict */
#include "fuzz_common.h"
#include <math.h>
#include "tokens.h"

/* ---- reference validator: byte at a time, iterative, no shared code with json.c ---- */

static uint32_t ref_ws(const uint8_t *s, uint32_t n, uint32_t p) {
    while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) p++;
    return p;
}

static int ref_hex(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* \uXXXX at s[p] (the backslash); -1 if not one. */
static long ref_u4(const uint8_t *s, uint32_t n, uint32_t p) {
    if (n - p < 6 || s[p] != '\\' || s[p + 1] != 'u') return -1;
    long v = 0;
    for (int k = 2; k < 6; k++) {
        int h = ref_hex(s[p + k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Unicode Table 3-7: well-formed UTF-8 byte sequences. Returns the length or 0. */
static uint32_t ref_utf8(const uint8_t *s, uint32_t n, uint32_t p) {
    uint8_t c = s[p];
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else return 0;
    if (n - p < len) return 0;
    if (s[p + 1] < lo || s[p + 1] > hi) return 0;
    for (uint32_t k = 2; k < len; k++) if (s[p + k] < 0x80 || s[p + k] > 0xBF) return 0;
    return len;
}

/* String starting at the quote s[*pp]; on success *pp is past the closing quote. */
static bool ref_string(const uint8_t *s, uint32_t n, uint32_t *pp) {
    uint32_t p = *pp + 1;
    for (;;) {
        if (p >= n) return false;
        uint8_t c = s[p];
        if (c == '"') { *pp = p + 1; return true; }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (p + 1 >= n) return false;
            uint8_t e = s[p + 1];
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') { p += 2; continue; }
            long u = ref_u4(s, n, p);
            if (u < 0) return false;
            if (u >= 0xDC00 && u <= 0xDFFF) return false;             /* lone low surrogate */
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = ref_u4(s, n, p + 6);
                if (lo < 0xDC00 || lo > 0xDFFF) return false;         /* high without low */
                p += 12;
                continue;
            }
            p += 6;
            continue;
        }
        if (c < 0x80) { p++; continue; }
        uint32_t k = ref_utf8(s, n, p);
        if (!k) return false;
        p += k;
    }
}

static bool ref_digits(const uint8_t *s, uint32_t n, uint32_t *pp) {
    uint32_t p = *pp;
    while (p < n && s[p] >= '0' && s[p] <= '9') p++;
    if (p == *pp) return false;
    *pp = p;
    return true;
}

static bool ref_number(const uint8_t *s, uint32_t n, uint32_t *pp) {
    uint32_t p = *pp;
    if (s[p] == '-') p++;
    if (p >= n) return false;
    if (s[p] == '0') p++;
    else if (!ref_digits(s, n, &p)) return false;
    if (p < n && s[p] == '.') { p++; if (!ref_digits(s, n, &p)) return false; }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) p++;
        if (!ref_digits(s, n, &p)) return false;
    }
    /* like serde_json, a number no double holds is invalid: glibc's strtod (correctly
     * rounded) says which ones */
    char *txt = malloc(p - *pp + 1);
    memcpy(txt, s + *pp, p - *pp);
    txt[p - *pp] = 0;
    bool finite = isfinite(strtod(txt, NULL));
    free(txt);
    if (!finite) return false;
    *pp = p;
    return true;
}

static bool ref_literal(const uint8_t *s, uint32_t n, uint32_t *pp, const char *lit) {
    size_t l = strlen(lit);
    if (n - *pp < l || memcmp(s + *pp, lit, l) != 0) return false;
    *pp += (uint32_t)l;
    return true;
}

/* One document. *nesting = the deepest container nesting seen (valid documents only). */
static bool ref_validate(const uint8_t *s, uint32_t n, uint32_t *nesting) {
    char *stack = malloc(n + 1);
    uint32_t sp = 0, deepest = 0, p = ref_ws(s, n, 0);
    bool ok = false;
    if (p >= n) goto out;
value:
    if (p >= n) goto out;
    switch (s[p]) {
    case '{': case '[':
        stack[sp++] = (char)s[p];
        if (sp > deepest) deepest = sp;
        p = ref_ws(s, n, p + 1);
        if (p < n && s[p] == (stack[sp - 1] == '{' ? '}' : ']')) { p++; sp--; goto after; }
        if (stack[sp - 1] == '{') goto key;
        goto value;
    case '"': if (!ref_string(s, n, &p)) goto out; goto after;
    case 't': if (!ref_literal(s, n, &p, "true")) goto out; goto after;
    case 'f': if (!ref_literal(s, n, &p, "false")) goto out; goto after;
    case 'n': if (!ref_literal(s, n, &p, "null")) goto out; goto after;
    default:
        if (s[p] == '-' || (s[p] >= '0' && s[p] <= '9')) { if (!ref_number(s, n, &p)) goto out; goto after; }
        goto out;
    }
key:
    if (p >= n || s[p] != '"' || !ref_string(s, n, &p)) goto out;
    p = ref_ws(s, n, p);
    if (p >= n || s[p] != ':') goto out;
    p = ref_ws(s, n, p + 1);
    goto value;
after:
    if (sp == 0) { ok = ref_ws(s, n, p) == n; goto out; }
    p = ref_ws(s, n, p);
    if (p >= n) goto out;
    if (s[p] == ',') {
        p = ref_ws(s, n, p + 1);
        if (stack[sp - 1] == '{') goto key;
        goto value;
    }
    if (s[p] == (stack[sp - 1] == '{' ? '}' : ']')) { p++; sp--; goto after; }
out:
    free(stack);
    *nesting = deepest;
    return ok;
}

/* ---- string helpers over every string token ---- */

static void check_string_token(const uint8_t *tok, uint32_t tn) {
    const uint8_t *body = tok + 1;
    uint32_t bn = tn - 2;
    uint8_t *dec = malloc(bn ? bn : 1);
    uint32_t dn = json_unescape(body, bn, dec);
    FUZZ_CHECK(dn <= bn, "unescape grew %u -> %u", bn, dn);
    q_error e;
    q_error_clear(&e);
    FUZZ_CHECK(json_utf8_validate(dec, dn, &e) == Q_OK, "decoded string is not UTF-8: %s", e.message);
    FUZZ_CHECK(json_string_eq(body, bn, (const char *)dec, dn), "json_string_eq(body, decoded) is false");
    if (dn) FUZZ_CHECK(!json_string_eq(body, bn, (const char *)dec, dn - 1), "json_string_eq matched a prefix");

    /* Writing the decoded bytes and re-escaping the token give the same canonical text. */
    q_buf a = {0}, b = {0};
    FUZZ_CHECK(jw_string(&a, dec, dn) == Q_OK, "jw_string failed");
    FUZZ_CHECK(jw_string_token(&b, tok, tn) == Q_OK, "jw_string_token failed");
    if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0) {
        fuzz_hex("token      ", tok, tn);
        fuzz_hex("jw_string  ", a.ptr, a.len);
        fuzz_hex("string_tok ", b.ptr, b.len);
        FUZZ_CHECK(0, "jw_string(unescape(t)) != jw_string_token(t)");
    }
    FUZZ_CHECK(b.len <= tn, "re-escaped token grew %u -> %u", tn, b.len);
    q_error_clear(&e);
    FUZZ_CHECK(json_validate(a.ptr, a.len, 1, &e) == Q_OK, "written string is not valid JSON: %s", e.message);
    FUZZ_CHECK(json_strings_equal(body, bn, a.ptr + 1, a.len - 2), "token and its canonical form compare unequal");
    FUZZ_CHECK(json_string_hash(body, bn) == json_string_hash(a.ptr + 1, a.len - 2), "hash differs for equal strings");
    uint8_t *dec2 = malloc(a.len);
    uint32_t dn2 = json_unescape(a.ptr + 1, a.len - 2, dec2);
    FUZZ_CHECK(dn2 == dn && memcmp(dec, dec2, dn) == 0, "canonical form decodes differently");
    free(dec2);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0x7FFFFFFu) return 0;
    uint32_t n = (uint32_t)size;
    fuzz_begin();

    uint32_t nesting = 0;
    bool ref_ok = ref_validate(data, n, &nesting);

    /* Verdicts with the default limit, no limit, and exactly at the document's depth. */
    q_error e128, e;
    q_error_clear(&e128);
    int rc = json_validate(data, n, Q_DEFAULT_MAX_DEPTH, &e128);
    bool want = ref_ok && nesting <= Q_DEFAULT_MAX_DEPTH;
    if (want != (rc == Q_OK)) {
        fuzz_hex("input", data, n);
        FUZZ_CHECK(0, "json_validate says %s (%s), the reference says %s (nesting %u)",
                   q_status_code(rc), e128.message, ref_ok ? "valid" : "invalid", nesting);
    }
    if (rc) fuzz_check_error(rc, &e128, n);
    if (ref_ok && nesting > Q_DEFAULT_MAX_DEPTH) FUZZ_CHECK(rc == Q_ERR(JSON_DEPTH), "too deep but %s", q_status_code(rc));

    scratch_reset();
    q_error_clear(&e);
    int rcu = json_validate(data, n, UINT32_MAX, &e);
    FUZZ_CHECK((rcu == Q_OK) == ref_ok, "unlimited depth: %s, the reference says %s", q_status_code(rcu), ref_ok ? "valid" : "invalid");
    if (rcu) fuzz_check_error(rcu, &e, n);
    if (ref_ok && nesting > 0) {
        scratch_reset();
        q_error_clear(&e);
        FUZZ_CHECK(json_validate(data, n, nesting, &e) == Q_OK, "nesting %u rejected with max_depth %u: %s", nesting, nesting, e.message);
        q_error_clear(&e);
        FUZZ_CHECK(json_validate(data, n, nesting - 1, &e) == Q_ERR(JSON_DEPTH), "nesting %u accepted with max_depth %u", nesting, nesting - 1);
    }

    /* The compactor gives the same verdict on the value, and the same error inside it. */
    uint32_t p = json_skip_ws(data, n, 0);
    if (p >= n) { FUZZ_CHECK(rc == Q_ERR(JSON_EMPTY), "blank input gave %s", q_status_code(rc)); return 0; }
    scratch_reset();
    uint8_t *out = malloc(n - p);
    uint32_t end = 0, olen = 0;
    q_error_clear(&e);
    int rcc = json_compact_value(data, n, p, 0, Q_DEFAULT_MAX_DEPTH, out, &end, &olen, &e);
    bool bom = p == 0 && n >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF;
    if (rc == Q_OK || rc == Q_ERR(JSON_TRAILING)) {
        FUZZ_CHECK(rcc == Q_OK, "validate %s but compact %s (%s)", q_status_code(rc), q_status_code(rcc), e.message);
        uint32_t after = json_skip_ws(data, n, end);
        if (rc == Q_OK) FUZZ_CHECK(after == n, "compact stopped at %u of %u", end, n);
        else FUZZ_CHECK((int64_t)after == e128.offset, "trailing data at %u, validate said %lld", after, (long long)e128.offset);
    } else if (!bom) {
        FUZZ_CHECK(rcc == rc && e.offset == e128.offset, "validate %s@%lld, compact %s@%lld", q_status_code(rc),
                   (long long)e128.offset, q_status_code(rcc), (long long)e.offset);
    }

    if (rcc == Q_OK) {
        FUZZ_CHECK(olen <= end - p, "compact output %u longer than the value %u", olen, end - p);
        q_error_clear(&e);
        FUZZ_CHECK(json_validate(out, olen, Q_DEFAULT_MAX_DEPTH, &e) == Q_OK, "compact output is invalid: %s", e.message);
        uint32_t nest2 = 0;
        FUZZ_CHECK(ref_validate(out, olen, &nest2), "the reference rejects the compact output");
        uint8_t *out2 = malloc(olen ? olen : 1);
        uint32_t end2 = 0, olen2 = 0;
        q_error_clear(&e);
        FUZZ_CHECK(json_compact_value(out, olen, 0, 0, Q_DEFAULT_MAX_DEPTH, out2, &end2, &olen2, &e) == Q_OK, "recompact: %s", e.message);
        FUZZ_CHECK(end2 == olen && olen2 == olen && memcmp(out, out2, olen) == 0, "compact form is not a fixed point");
        free(out2);

        /* In place (out == in + pos), as the header allows. */
        uint8_t *inplace = fuzz_dup(data, n);
        uint32_t end3 = 0, olen3 = 0;
        scratch_reset();
        q_error_clear(&e);
        FUZZ_CHECK(json_compact_value(inplace, n, p, 0, Q_DEFAULT_MAX_DEPTH, inplace + p, &end3, &olen3, &e) == Q_OK,
                   "in-place compact failed: %s", e.message);
        FUZZ_CHECK(end3 == end && olen3 == olen && memcmp(inplace + p, out, olen) == 0, "in-place compaction differs");
        free(inplace);

        /* jsmn tokenizes what we validated (built without JSMN_STRICT, a bare top-level value is
         * one token too: test_origin's allowlist_tokens), and every string behaves. */
        if (rc == Q_OK && (out[0] == '{' || out[0] == '[' || out[0] == '"')) {
            scratch_reset();
            q_tokens t;
            q_error_clear(&e);
            int trc = tokens_parse(&t, out, olen, 0, &e);
            FUZZ_CHECK(trc == Q_OK, "jsmn disagrees with the validator: %s", e.message);
            FUZZ_CHECK(tokens_skip(&t, 0) == t.count, "token tree does not cover the value");
            for (int k = 0; k < t.count; k++) {
                if (t.tok[k].type != JSMN_STRING) continue;
                uint32_t s0 = (uint32_t)t.tok[k].start, s1 = (uint32_t)t.tok[k].end;
                FUZZ_CHECK(s0 >= 1 && s1 < olen && out[s0 - 1] == '"' && out[s1] == '"', "string token bounds");
                check_string_token(out + s0 - 1, s1 - s0 + 2);
            }
        }
    }
    free(out);
    return 0;
}
