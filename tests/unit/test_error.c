/* Error records: the status table, message composition and truncation, first-cause-wins,
 * location prefixes, retry policy per kind (wire-format.md §3), the HTTP status fallback
 * table for wire codes (§3, first match wins) and the JSON record the glue parses. */
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* Strict UTF-8 check: no truncated or stray sequences (overlongs are not our concern here). */
static int utf8_complete(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!need || i + need > n) return 0;
        for (size_t k = 1; k < need; k++) if (((uint8_t)s[i + k] & 0xC0) != 0x80) return 0;
        i += need;
    }
    return 1;
}

/* Serialises e with the record's own bound and returns it as a NUL-terminated string. */
static const char *to_json(const q_error *e, char *buf) {
    int n = q_error_to_json(e, (uint8_t *)buf, Q_ERROR_JSON_BYTES);
    if (n < 0) fail_msg("q_error_to_json failed: %s", q_status_code(n));
    assert_true(n <= Q_ERROR_JSON_BYTES);
    buf[n] = 0;
    assert_int_equal(strlen(buf), (size_t)n);
    return buf;
}

/* ---- the status table --------------------------------------------------------------- */

typedef struct { const char *name; q_kind kind; int http; const char *msg; int idx; } row;
static const row ROWS[] = {
#define ROW_(name, kind, http, msg) { #name, kind, http, msg, (int)Q_IDX_##name },
    Q_STATUS_TABLE(ROW_)
#undef ROW_
};

static void status_table_codes_and_kinds(void **s) {
    assert_int_equal(Q_ARRAY_LEN(ROWS), (size_t)Q_IDX_COUNT_);
    for (size_t i = 0; i < Q_ARRAY_LEN(ROWS); i++) {
        int st = -(int)i;
        assert_int_equal(ROWS[i].idx, (int)i);
        assert_string_equal(q_status_code(st), ROWS[i].name);
        assert_int_equal(q_status_kind(st), ROWS[i].kind);
        assert_true(strlen(ROWS[i].name) <= Q_MAX_ERROR_CODE_CHARS);

        /* q_fail fills the record from the same row */
        q_error e;
        assert_int_equal(q_fail(&e, st, Q_NO_OFFSET, NULL, NULL), st);
        assert_int_equal(e.status, st);
        assert_string_equal(e.code, ROWS[i].name);
        assert_int_equal(e.kind, ROWS[i].kind);
        assert_int_equal(e.http_status, ROWS[i].http);
        assert_string_equal(e.message, ROWS[i].msg);
        assert_string_equal(e.path, "");
        assert_int_equal(e.offset, Q_NO_OFFSET);
        assert_int_equal(e.retry_policy, q_kind_retry_policy(ROWS[i].kind));
        assert_int_equal(e.retryable, e.retry_policy != QR_NONE);
    }
    assert_int_equal(Q_ERR(OK), 0);
    assert_int_equal(Q_ERR(JSON_EMPTY), -1);
    assert_int_equal(Q_ERR(INTERNAL), -((int)Q_IDX_COUNT_ - 1));
    assert_string_equal(q_status_code(0), "OK");
    /* anything outside the table is INTERNAL */
    assert_string_equal(q_status_code(-(int)Q_IDX_COUNT_), "INTERNAL");
    assert_string_equal(q_status_code(-1000), "INTERNAL");
    assert_string_equal(q_status_code(5), "INTERNAL");
    assert_string_equal(q_status_code(INT32_MIN), "INTERNAL");
    assert_int_equal(q_status_kind(-1000), QK_INTERNAL);
}

static void kind_and_policy_names(void **s) {
    static const char *const KINDS[] = { "none", "validation", "serialization", "deserialization", "config",
        "transport", "connection", "timeout", "security", "remote", "external", "internal", "aborted", "capacity",
        "protocol" };
    assert_int_equal(Q_ARRAY_LEN(KINDS), (size_t)QK_COUNT_);
    for (int k = 0; k < QK_COUNT_; k++) assert_string_equal(q_kind_name((q_kind)k), KINDS[k]);
    assert_string_equal(q_kind_name(QK_COUNT_), "internal");
    assert_string_equal(q_kind_name((q_kind)200), "internal");
    assert_string_equal(q_retry_policy_name(QR_NONE), "none");
    assert_string_equal(q_retry_policy_name(QR_EXPONENTIAL), "exponential");
    assert_string_equal(q_retry_policy_name(QR_LINEAR), "linear");
    assert_string_equal(q_retry_policy_name(QR_IMMEDIATE), "immediate");
    assert_string_equal(q_retry_policy_name((q_retry_policy)9), "none");
}

/* wire-format.md §3: exponential for transport and connection (and timeout, by design),
 * linear for external and remote, immediate for deserialization, none for the rest. */
static void retry_policy_per_kind(void **s) {
    static const struct { q_kind k; q_retry_policy p; } WANT[] = {
        { QK_NONE, QR_NONE }, { QK_VALIDATION, QR_NONE }, { QK_SERIALIZATION, QR_NONE },
        { QK_DESERIALIZATION, QR_IMMEDIATE }, { QK_CONFIG, QR_NONE }, { QK_TRANSPORT, QR_EXPONENTIAL },
        { QK_CONNECTION, QR_EXPONENTIAL }, { QK_TIMEOUT, QR_EXPONENTIAL }, { QK_SECURITY, QR_NONE },
        { QK_REMOTE, QR_LINEAR }, { QK_EXTERNAL, QR_LINEAR }, { QK_INTERNAL, QR_NONE },
        { QK_ABORTED, QR_NONE }, { QK_CAPACITY, QR_NONE }, { QK_PROTOCOL, QR_NONE },
    };
    assert_int_equal(Q_ARRAY_LEN(WANT), (size_t)QK_COUNT_);
    for (size_t i = 0; i < Q_ARRAY_LEN(WANT); i++) {
        assert_int_equal(WANT[i].k, (q_kind)i);
        if (q_kind_retry_policy(WANT[i].k) != WANT[i].p)
            fail_msg("kind %s: policy %s, want %s", q_kind_name(WANT[i].k),
                     q_retry_policy_name(q_kind_retry_policy(WANT[i].k)), q_retry_policy_name(WANT[i].p));
    }
    /* and through q_fail: retryable == (policy != none), for every status */
    for (int i = 0; i < (int)Q_IDX_COUNT_; i++) {
        q_error e;
        q_fail(&e, -i, 0, NULL, NULL);
        assert_int_equal(e.retry_policy, WANT[e.kind].p);
        assert_int_equal(e.retryable, WANT[e.kind].p != QR_NONE);
    }
    q_error e;
    q_fail(&e, Q_ERR(NETWORK), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_EXPONENTIAL); assert_true(e.retryable);
    q_fail(&e, Q_ERR(TIMEOUT), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_EXPONENTIAL); assert_true(e.retryable);
    q_fail(&e, Q_ERR(REMOTE_ERROR), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_LINEAR); assert_true(e.retryable);
    q_fail(&e, Q_ERR(NOT_AN_ENVELOPE), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_IMMEDIATE); assert_true(e.retryable);
    q_fail(&e, Q_ERR(NO_TOKEN), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_NONE); assert_false(e.retryable);
    q_fail(&e, Q_ERR(JSON_SYNTAX), Q_NO_OFFSET, NULL, NULL);
    assert_int_equal(e.retry_policy, QR_NONE); assert_false(e.retryable);
}

/* ---- q_fail composition ------------------------------------------------------------- */

static void fail_composes_message(void **s) {
    q_error e;
    assert_int_equal(q_fail(&e, Q_ERR(TYPE_MISMATCH), 17, "meta.tenant", "expected a string"), Q_ERR(TYPE_MISMATCH));
    assert_string_equal(e.message, "meta.tenant: wrong type (expected a string) at byte 17");
    assert_string_equal(e.path, "meta.tenant");
    assert_string_equal(e.code, "TYPE_MISMATCH");
    assert_int_equal(e.offset, 17);
    assert_int_equal(e.http_status, 0);   /* found locally: nothing was sent, no HTTP status */
    assert_int_equal(e.kind, QK_VALIDATION);

    /* a detail named by id (error_detail.h): the host build writes its text */
    q_fail(&e, Q_ERR(JSON_NUMBER), 3, "payload", QD(LEADING_ZERO));
    assert_string_equal(e.message, "payload: invalid number (leading zero) at byte 3");

    q_fail(&e, Q_ERR(JSON_SYNTAX), 0, NULL, NULL);
    assert_string_equal(e.message, "invalid JSON syntax at byte 0");
    assert_string_equal(e.path, "");
    assert_int_equal(e.offset, 0);

    q_fail(&e, Q_ERR(JSON_SYNTAX), Q_NO_OFFSET, "", "");
    assert_string_equal(e.message, "invalid JSON syntax");
    assert_string_equal(e.path, "");

    q_fail(&e, Q_ERR(UNKNOWN_KEY), Q_NO_OFFSET, "rest.base_ur", NULL);
    assert_string_equal(e.message, "rest.base_ur: unknown key");
    assert_int_equal(e.http_status, 0);
    assert_int_equal(e.kind, QK_CONFIG);

    q_fail(&e, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, "memory limit reached");
    assert_string_equal(e.message, "out of memory (memory limit reached)");

    q_fail(&e, Q_ERR(TOO_LARGE), (int64_t)1 << 40, NULL, NULL);
    assert_string_equal(e.message, "larger than the limit at byte 1099511627776");
    assert_int_equal(e.offset, (int64_t)1 << 40);

    /* a second q_fail replaces the whole record, nothing of the first remains */
    q_fail(&e, Q_ERR(INVALID_UUID), 3, "meta.request_id", "x");
    q_fail(&e, Q_ERR(ABORTED), Q_NO_OFFSET, NULL, NULL);
    assert_string_equal(e.message, "aborted by the caller");
    assert_string_equal(e.path, "");
    assert_string_equal(e.code, "ABORTED");
    assert_int_equal(e.offset, Q_NO_OFFSET);

    /* an unknown status becomes INTERNAL's row but keeps the given number */
    assert_int_equal(q_fail(&e, -999, Q_NO_OFFSET, NULL, NULL), -999);
    assert_string_equal(e.code, "INTERNAL");
    assert_string_equal(e.message, "internal error");

    q_error_clear(&e);
    assert_int_equal(e.status, 0);
    assert_int_equal(e.offset, Q_NO_OFFSET);
    assert_string_equal(e.code, "");
    assert_string_equal(e.message, "");
    assert_string_equal(e.path, "");
    assert_false(e.retryable);
}

static void fail_truncates_on_utf8_boundaries(void **s) {
    /* the message holds Q_ERROR_MESSAGE_BYTES (800: 200 characters of 4 bytes; the glue shows 200
     * characters). "a" + 300 x "€" (3 bytes): 799 bytes of the path fit (266 euros), ":" fits, nothing else */
    char path[1 + 300 * 3 + 1];
    path[0] = 'a';
    for (int i = 0; i < 300; i++) memcpy(path + 1 + 3 * i, "\xE2\x82\xAC", 3);
    path[901] = 0;
    q_error e;
    q_fail(&e, Q_ERR(TYPE_MISMATCH), 12345, path, "expected a string");
    char want[Q_ERROR_MESSAGE_BYTES + 8];
    memcpy(want, path, 1 + 266 * 3);
    memcpy(want + 799, ":", 2);
    assert_string_equal(e.message, want);
    assert_int_equal(strlen(e.message), Q_ERROR_MESSAGE_BYTES);
    /* the path field keeps 96 bytes at most: "a" + 31 euros = 94 (a 32nd would need 97) */
    assert_int_equal(strlen(e.path), 94);
    assert_memory_equal(e.path, path, 94);
    assert_true(utf8_complete(e.path, strlen(e.path)));
    assert_int_equal(e.offset, 12345);

    /* 4-byte characters: "ab" + 220 x U+1D11E; 798 bytes fit in the message, 94 in the path */
    char p4[2 + 220 * 4 + 1];
    memcpy(p4, "ab", 2);
    for (int i = 0; i < 220; i++) memcpy(p4 + 2 + 4 * i, "\xF0\x9D\x84\x9E", 4);
    p4[882] = 0;
    q_fail(&e, Q_ERR(JSON_UTF8), 1, p4, NULL);
    assert_int_equal(strlen(e.path), 94);
    memcpy(want, p4, 798);
    memcpy(want + 798, ": ", 3);
    assert_string_equal(e.message, want);

    /* a long multi-byte detail: cut at a boundary, the rest of the text only where it fits */
    char detail[1000];
    for (int i = 0; i < 499; i++) memcpy(detail + 2 * i, "\xC3\xA9", 2);
    detail[998] = 0;
    q_fail(&e, Q_ERR(INVALID_VALUE), 7, "x", detail);
    /* "x: invalid value (" is 18 bytes: 782 bytes left = 391 "é" */
    assert_int_equal(strlen(e.message), Q_ERROR_MESSAGE_BYTES);
    assert_memory_equal(e.message, "x: invalid value (", 18);
    assert_memory_equal(e.message + 18, detail, 782);

    /* every combination of lead-in and character width stays within bounds and complete */
    static const char *const CH[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E" };
    for (int w = 0; w < 3; w++) {
        for (int lead = 0; lead < 8; lead++) {
            char big[1400];
            size_t n = 0;
            for (int k = 0; k < lead; k++) big[n++] = 'k';
            while (n + 4 < 1390) { size_t cl = strlen(CH[w]); memcpy(big + n, CH[w], cl); n += cl; }
            big[n] = 0;
            q_fail(&e, Q_ERR(INVALID_ENUM), 99, big, big);
            assert_true(strlen(e.message) <= Q_ERROR_MESSAGE_BYTES);
            assert_true(strlen(e.path) <= Q_MAX_ERROR_PATH_CHARS);
            if (!utf8_complete(e.message, strlen(e.message))) fail_msg("split sequence in message (w=%d lead=%d)", w, lead);
            if (!utf8_complete(e.path, strlen(e.path))) fail_msg("split sequence in path (w=%d lead=%d)", w, lead);
            /* the path's longest complete prefix, then as much of ": not an allowed value" as fits */
            size_t ml = strlen(e.message);
            const char *colon = strchr(e.message, ':');
            size_t cut = colon ? (size_t)(colon - e.message) : ml;
            assert_memory_equal(e.message, big, cut);
            assert_true(cut > Q_ERROR_MESSAGE_BYTES - strlen(CH[w]));
            assert_memory_equal(e.message + cut, ": not an allowed value", ml - cut);
            /* a path cut short by at most one character */
            assert_true(strlen(e.path) > Q_MAX_ERROR_PATH_CHARS - strlen(CH[w]));
        }
    }
}

static void text_append_helpers(void **s) {
    char b[8] = "";
    q_text_append(b, sizeof b, "abc");
    q_text_append(b, sizeof b, "defgh");
    assert_string_equal(b, "abcdefg");
    q_text_append(b, sizeof b, "z");                /* full: unchanged */
    assert_string_equal(b, "abcdefg");
    char c[6] = "ab";
    q_text_append(c, sizeof c, "\xE2\x82\xAC\xE2\x82\xAC");   /* room 3: one euro */
    assert_string_equal(c, "ab\xE2\x82\xAC");
    char d[6] = "abc";
    q_text_append(d, sizeof d, "\xE2\x82\xAC");     /* room 2: nothing */
    assert_string_equal(d, "abc");
    char u[24] = "";
    q_text_append_u64(u, sizeof u, 0);
    q_text_append_u64(u, sizeof u, UINT64_MAX);
    assert_string_equal(u, "018446744073709551615");
    char t[5] = "";
    q_text_append_n(t, sizeof t, "hello", 2);
    assert_string_equal(t, "he");
    /* a server's text: marker bytes become U+FFFD, U+0000 becomes Q_MARK_NUL (the text goes on) */
    char f[32] = "";
    q_text_append_foreign(f, sizeof f, "a\0b\x01" "c\0", 6);
    assert_string_equal(f, "a" Q_MARK_NUL "b\xEF\xBF\xBD" "c" Q_MARK_NUL);
}

/* ---- first cause wins, locations ---------------------------------------------------- */

static void fail_keep_keeps_first(void **s) {
    q_error e;
    q_error_clear(&e);
    assert_int_equal(q_fail_keep(&e, Q_ERR(INVALID_UUID), 5, "meta.request_id", NULL), Q_ERR(INVALID_UUID));
    assert_string_equal(e.code, "INVALID_UUID");
    /* the outer layer's failure does not overwrite the inner cause */
    assert_int_equal(q_fail_keep(&e, Q_ERR(OUT_OF_MEMORY), 99, "other", "outer"), Q_ERR(INVALID_UUID));
    assert_int_equal(e.status, Q_ERR(INVALID_UUID));
    assert_string_equal(e.code, "INVALID_UUID");
    assert_string_equal(e.path, "meta.request_id");
    assert_string_equal(e.message, "meta.request_id: not a UUID at byte 5");
    assert_int_equal(e.offset, 5);
    /* once cleared it records again */
    q_error_clear(&e);
    assert_int_equal(q_fail_keep(&e, Q_ERR(OUT_OF_MEMORY), 99, "other", "outer"), Q_ERR(OUT_OF_MEMORY));
    assert_string_equal(e.message, "other: out of memory (outer) at byte 99");
}

static void error_in_prefixes_only_without_path(void **s) {
    q_error e;
    q_fail(&e, Q_ERR(JSON_SYNTAX), 4, NULL, "expected ':'");
    assert_int_equal(q_error_in(&e, "payload"), Q_ERR(JSON_SYNTAX));
    assert_string_equal(e.path, "payload");
    assert_string_equal(e.message, "payload: invalid JSON syntax (expected ':') at byte 4");
    assert_int_equal(e.offset, 4);
    assert_string_equal(e.code, "JSON_SYNTAX");
    /* a path is set now: a second location changes nothing */
    assert_int_equal(q_error_in(&e, "config"), Q_ERR(JSON_SYNTAX));
    assert_string_equal(e.path, "payload");
    assert_string_equal(e.message, "payload: invalid JSON syntax (expected ':') at byte 4");

    q_fail(&e, Q_ERR(MISSING_FIELD), 0, "meta.code", NULL);
    q_error_in(&e, "error");
    assert_string_equal(e.path, "meta.code");
    assert_string_equal(e.message, "meta.code: required field missing at byte 0");

    q_fail(&e, Q_ERR(JSON_EMPTY), 0, NULL, NULL);
    q_error_in(&e, NULL);
    q_error_in(&e, "");
    assert_string_equal(e.path, "");
    assert_string_equal(e.message, "empty input at byte 0");

    /* prefixing a message that is already full keeps the bound */
    char longdetail[900];
    memset(longdetail, 'd', 899); longdetail[899] = 0;
    q_fail(&e, Q_ERR(INVALID_VALUE), Q_NO_OFFSET, NULL, longdetail);
    assert_int_equal(strlen(e.message), Q_ERROR_MESSAGE_BYTES);
    q_error_in(&e, "batch[3]");
    assert_int_equal(strlen(e.message), Q_ERROR_MESSAGE_BYTES);
    assert_memory_equal(e.message, "batch[3]: invalid value (ddd", 28);
    assert_string_equal(e.path, "batch[3]");

    /* a clear record gets a path, status stays 0 */
    q_error_clear(&e);
    assert_int_equal(q_error_in(&e, "x"), 0);
}

static void error_within_always_prefixes(void **s) {
    q_error e;
    q_fail(&e, Q_ERR(JSON_TRUNCATED), 3, "payload", NULL);
    assert_int_equal(q_error_within(&e, "batch[1]"), Q_ERR(JSON_TRUNCATED));
    assert_string_equal(e.path, "batch[1].payload");
    assert_string_equal(e.message, "batch[1]: payload: unexpected end of input at byte 3");
    assert_int_equal(e.offset, 3);
    assert_string_equal(e.code, "JSON_TRUNCATED");
    /* without a path it names the place alone */
    q_fail(&e, Q_ERR(TOO_LARGE), Q_NO_OFFSET, NULL, "envelope size limit");
    q_error_within(&e, "batch[0]");
    assert_string_equal(e.path, "batch[0]");
    assert_string_equal(e.message, "batch[0]: larger than the limit (envelope size limit)");
    /* nested */
    q_error_within(&e, "outer");
    assert_string_equal(e.path, "outer.batch[0]");
    assert_string_equal(e.message, "outer: batch[0]: larger than the limit (envelope size limit)");
    /* the bounds hold and multi-byte text is never split */
    char longpath[200];
    memset(longpath, 'p', 95); longpath[95] = 0;
    q_fail(&e, Q_ERR(INVALID_VALUE), Q_NO_OFFSET, longpath, NULL);
    q_error_within(&e, "\xE2\x82\xAC\xE2\x82\xAC");
    assert_true(strlen(e.path) <= Q_MAX_ERROR_PATH_CHARS);
    assert_true(strlen(e.message) <= Q_ERROR_MESSAGE_BYTES);
    assert_true(utf8_complete(e.path, strlen(e.path)));
    assert_true(utf8_complete(e.message, strlen(e.message)));
    assert_memory_equal(e.path, "\xE2\x82\xAC\xE2\x82\xAC.ppp", 10);
}

/* ---- HTTP status from wire codes (wire-format.md §3) ---------------------------------- */

static int wire(const char *code) { return q_status_from_wire_code((const uint8_t *)code, strlen(code)); }

static void wire_code_status_table(void **s) {
    static const struct { const char *code; int status; } CASES[] = {
        /* every needle on its own */
        { "AUTH", 401 }, { "UNAUTHORIZED", 401 }, { "FORBIDDEN", 403 }, { "PERMISSION", 403 },
        { "VALIDATION", 400 }, { "INVALID", 400 }, { "NOT_FOUND", 404 }, { "MISSING", 404 },
        { "CONFLICT", 409 }, { "EXISTS", 409 }, { "TOO_LARGE", 413 }, { "SIZE", 413 },
        { "RATE_LIMIT", 429 }, { "THROTTLE", 429 }, { "TIMEOUT", 504 }, { "DEADLINE", 504 },
        { "UNAVAILABLE", 503 }, { "SERVICE", 503 }, { "NOT_IMPLEMENTED", 501 },
        /* inside longer codes, codes the servers send */
        { "AUTHENTICATION_FAILED", 401 }, { "VALIDATION_FAILED", 400 }, { "RESOURCE_NOT_FOUND", 404 },
        { "INTERNAL_SERVER_ERROR", 500 }, { "HANDLER_ERROR", 500 }, { "REQUEST_HEADERS_TOO_LARGE", 413 },
        { "METADATA_INJECTION_FAILED", 500 }, { "SERIALIZATION_ERROR", 500 },
        { "CRITICAL_SERIALIZATION_ERROR", 500 }, { "PERMISSION_DENIED", 403 }, { "ALREADY_EXISTS", 409 },
        { "RATE_LIMITED", 429 }, { "THROTTLED", 429 }, { "GATEWAY_TIMEOUT", 504 }, { "DEADLINE_EXCEEDED", 504 },
        { "PAYLOAD_SIZE_EXCEEDED", 413 }, { "EDIT_CONFLICT", 409 }, { "FIELD_MISSING", 404 },
        /* first rule wins, whatever the position in the code */
        { "INVALID_AUTH", 401 }, { "INVALID_PERMISSION", 403 }, { "PERMISSION_INVALID", 403 },
        { "SERVICE_UNAVAILABLE", 503 }, { "SERVICE_NOT_IMPLEMENTED", 503 }, { "NOT_IMPLEMENTED_SERVICE", 503 },
        { "TIMEOUT_NOT_FOUND", 404 }, { "MISSING_AUTH", 401 }, { "FORBIDDEN_VALIDATION", 403 },
        { "CONFLICT_TOO_LARGE", 409 }, { "SIZE_THROTTLE", 413 }, { "RATE_LIMIT_TIMEOUT", 429 },
        { "DEADLINE_UNAVAILABLE", 504 }, { "VALIDATION_NOT_FOUND", 400 }, { "EXISTS_SIZE", 409 },
        { "UNAUTHORIZED_FORBIDDEN", 401 },
        /* upper-casing */
        { "not_found", 404 }, { "Not_Found", 404 }, { "auth", 401 }, { "service_unavailable", 503 },
        { "rate_limit", 429 }, { "not_implemented", 501 }, { "x-invalid-y", 400 },
        /* no rule */
        { "QUOTA", 500 }, { "", 500 }, { "NOTFOUND", 500 }, { "NOT FOUND", 500 }, { "RATE-LIMIT", 500 },
        { "TOO-LARGE", 500 }, { "NOT_IMPLEMENTE", 500 }, { "AUT", 500 }, { "ERROR", 500 },
        { "\xC3\xA4UTH", 500 },   /* "äUTH": no ASCII "AUTH" in it */
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(CASES); i++) {
        int got = wire(CASES[i].code);
        if (got != CASES[i].status) fail_msg("%s: got %d, want %d", CASES[i].code, got, CASES[i].status);
    }
    /* the length is the boundary, not a NUL */
    assert_int_equal(q_status_from_wire_code((const uint8_t *)"AUTH", 3), 500);
    assert_int_equal(q_status_from_wire_code((const uint8_t *)"x\0AUTH", 6), 401);
    assert_int_equal(q_status_from_wire_code((const uint8_t *)"NOT_FOUNDX", 9), 404);
    assert_int_equal(q_status_from_wire_code((const uint8_t *)"xNOT_FOUND", 9), 500);
    assert_int_equal(q_status_from_wire_code(NULL, 0), 500);
}

/* ---- the JSON record ------------------------------------------------------------------ */

static void json_record_exact(void **s) {
    char buf[Q_ERROR_JSON_BYTES + 1];
    q_error e;
    q_fail(&e, Q_ERR(TYPE_MISMATCH), 17, "meta.tenant", "expected a string");
    assert_string_equal(to_json(&e, buf),
        "{\"type\":\"validation\",\"code\":\"TYPE_MISMATCH\","
        "\"message\":\"meta.tenant: wrong type (expected a string) at byte 17\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":17,\"path\":\"meta.tenant\",\"source\":\"local\"}");

    /* null status and offset */
    q_fail(&e, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, NULL);
    assert_string_equal(to_json(&e, buf),
        "{\"type\":\"internal\",\"code\":\"BAD_ARGUMENT\",\"message\":\"bad argument\","
        "\"retryable\":false,\"retryPolicy\":\"none\",\"status\":null,\"offset\":null,\"path\":\"\",\"source\":\"local\"}");

    /* offset 0 is a number, not null */
    q_fail(&e, Q_ERR(JSON_EMPTY), 0, NULL, NULL);
    assert_non_null(strstr(to_json(&e, buf), ",\"status\":null,\"offset\":0,\"path\":\"\",\"source\":\"local\"}"));

    /* retryable kinds */
    q_fail(&e, Q_ERR(NETWORK), Q_NO_OFFSET, "rest", NULL);
    assert_string_equal(to_json(&e, buf),
        "{\"type\":\"connection\",\"code\":\"NETWORK\",\"message\":\"rest: network failure\","
        "\"retryable\":true,\"retryPolicy\":\"exponential\",\"status\":null,\"offset\":null,\"path\":\"rest\",\"source\":\"local\"}");
    q_fail(&e, Q_ERR(REMOTE_ERROR), Q_NO_OFFSET, NULL, NULL);
    assert_non_null(strstr(to_json(&e, buf), "\"type\":\"remote\",\"code\":\"REMOTE_ERROR\","));
    assert_non_null(strstr(buf, "\"retryable\":true,\"retryPolicy\":\"linear\","));
    q_fail(&e, Q_ERR(NOT_AN_ENVELOPE), Q_NO_OFFSET, NULL, NULL);
    assert_non_null(strstr(to_json(&e, buf), "\"type\":\"deserialization\","));
    assert_non_null(strstr(buf, "\"retryable\":true,\"retryPolicy\":\"immediate\","));

    /* numbers at their extremes */
    e.http_status = 599; e.offset = INT64_MAX;
    assert_non_null(strstr(to_json(&e, buf), ",\"status\":599,\"offset\":9223372036854775807,"));
    e.http_status = INT32_MIN;
    assert_non_null(strstr(to_json(&e, buf), ",\"status\":-2147483648,"));
}

static void json_record_escapes(void **s) {
    char buf[Q_ERROR_JSON_BYTES + 1];
    q_error e;
    q_fail(&e, Q_ERR(REMOTE_ERROR), 3, NULL, NULL);
    strcpy(e.message, "a\"b\\c\nd\x01\x1f\x7f\xC3\xA9/\t");
    strcpy(e.path, "p\"q");
    strcpy(e.code, "C\\D");
    to_json(&e, buf);
    /* the one escaper (json_escape): serde_json's short forms, \u00XX for the other controls */
    assert_non_null(strstr(buf, ",\"message\":\"a\\\"b\\\\c\\nd\\u0001\\u001f\x7f\xC3\xA9/\\t\","));
    assert_non_null(strstr(buf, ",\"path\":\"p\\\"q\",\"source\":\"local\"}"));
    assert_non_null(strstr(buf, ",\"code\":\"C\\\\D\","));
    /* no raw control character survives */
    for (const char *p = buf; *p; p++) assert_true((uint8_t)*p >= 0x20);
}

static void json_record_cap(void **s) {
    q_error e;
    q_fail(&e, Q_ERR(TYPE_MISMATCH), 17, "meta.tenant", "expected a string");
    uint8_t full[Q_ERROR_JSON_BYTES];
    int n = q_error_to_json(&e, full, sizeof full);
    assert_true(n > 0);
    /* exactly enough room works; one byte less fails and writes nothing past the cap */
    uint8_t b[Q_ERROR_JSON_BYTES + 16];
    memset(b, 0xEE, sizeof b);
    assert_int_equal(q_error_to_json(&e, b, (size_t)n), n);
    assert_memory_equal(b, full, (size_t)n);
    assert_int_equal(b[n], 0xEE);
    for (size_t cap = 0; cap < (size_t)n; cap++) {
        memset(b, 0xEE, sizeof b);
        assert_int_equal(q_error_to_json(&e, b, cap), Q_ERR(BAD_ARGUMENT));
        for (size_t k = cap; k < sizeof b; k++) if (b[k] != 0xEE) fail_msg("cap %zu: byte %zu written", cap, k);
    }
}

/* The worst records a q_error can hold still serialise within Q_ERROR_JSON_BYTES, as
 * valid JSON with every field present. */
static void json_record_worst_case_fits(void **s) {
    char buf[Q_ERROR_JSON_BYTES + 1];
    q_error e;

    /* message full of control characters (6 bytes each when escaped) */
    q_fail(&e, Q_ERR(JSON_CONTROL_CHAR), INT64_MAX, NULL, NULL);
    memset(e.message, 0x01, Q_ERROR_MESSAGE_BYTES); e.message[Q_ERROR_MESSAGE_BYTES] = 0;
    memset(e.path, '"', Q_MAX_ERROR_PATH_CHARS); e.path[Q_MAX_ERROR_PATH_CHARS] = 0;
    to_json(&e, buf);
    assert_non_null(strstr(buf, "\\u0001\\u0001\",\"retryable\":false,"));

    /* every text field full of control characters, the longest names and numbers */
    q_fail(&e, Q_ERR(NOT_AN_ENVELOPE), INT64_MAX, NULL, NULL);
    e.retry_policy = QR_EXPONENTIAL; e.http_status = INT32_MIN; e.source = QS_ENVELOPE;   /* the longest source name */
    memset(e.code, 0x1f, Q_MAX_ERROR_CODE_CHARS); e.code[Q_MAX_ERROR_CODE_CHARS] = 0;
    memset(e.path, 0x02, Q_MAX_ERROR_PATH_CHARS); e.path[Q_MAX_ERROR_PATH_CHARS] = 0;
    memset(e.message, 0x01, Q_ERROR_MESSAGE_BYTES); e.message[Q_ERROR_MESSAGE_BYTES] = 0;
    int n = q_error_to_json(&e, (uint8_t *)buf, Q_ERROR_JSON_BYTES);
    if (n < 0) fail_msg("worst-case record does not fit in Q_ERROR_JSON_BYTES (%d)", Q_ERROR_JSON_BYTES);
    assert_true(n <= Q_ERROR_JSON_BYTES);
    buf[n] = 0;
    /* code and path are complete; the message may be shortened, by whole escapes only */
    char want_code[Q_MAX_ERROR_CODE_CHARS * 6 + 1] = "", want_path[Q_MAX_ERROR_PATH_CHARS * 6 + 32] = "";
    for (int i = 0; i < Q_MAX_ERROR_CODE_CHARS; i++) strcat(want_code, "\\u001f");
    for (int i = 0; i < Q_MAX_ERROR_PATH_CHARS; i++) strcat(want_path, "\\u0002");
    char *code = strstr(buf, "\"code\":\"");
    assert_non_null(code);
    assert_memory_equal(code + 8, want_code, strlen(want_code));
    assert_memory_equal(code + 8 + strlen(want_code), "\",\"message\":\"", 13);
    char *msg = code + 8 + strlen(want_code) + 13;
    char *end = strstr(msg, "\",\"retryable\":true,\"retryPolicy\":\"exponential\",\"status\":-2147483648,"
                             "\"offset\":9223372036854775807,\"path\":\"");
    assert_non_null(end);
    assert_int_equal((end - msg) % 6, 0);
    for (char *p = msg; p < end; p += 6) assert_memory_equal(p, "\\u0001", 6);
    assert_string_equal(end + strlen("\",\"retryable\":true,\"retryPolicy\":\"exponential\",\"status\":-2147483648,"
                                      "\"offset\":9223372036854775807,\"path\":\""), strcat(want_path, "\",\"source\":\"envelope\"}"));
    assert_memory_equal(buf, "{\"type\":\"deserialization\",\"code\":\"", 34);
    assert_true(n > Q_ERROR_JSON_BYTES - 6);   /* shortened by less than one escape too many */

    /* control characters mixed with multi-byte characters: every cut point is whole */
    for (int at = 380; at <= 460; at++) for (int lead = 0; lead < 6; lead++) {   /* the cut lands near 425 */
        q_fail(&e, Q_ERR(NOT_AN_ENVELOPE), INT64_MAX, NULL, NULL);
        e.http_status = INT32_MIN;
        memset(e.code, 0x1f, Q_MAX_ERROR_CODE_CHARS); e.code[Q_MAX_ERROR_CODE_CHARS] = 0;
        memset(e.path, 0x02, Q_MAX_ERROR_PATH_CHARS); e.path[Q_MAX_ERROR_PATH_CHARS] = 0;
        size_t m = Q_ERROR_MESSAGE_BYTES;
        memset(e.message, 0x01, m);
        memset(e.message, 'x', (size_t)lead);               /* shifts the cut against the escapes */
        memcpy(e.message + at, "\xF0\x9D\x84\x9E", 4);   /* one 4-byte character near the cut */
        e.message[m] = 0;
        n = q_error_to_json(&e, (uint8_t *)buf, Q_ERROR_JSON_BYTES);
        assert_true(n > 0 && n <= Q_ERROR_JSON_BYTES);
        buf[n] = 0;
        assert_true(utf8_complete(buf, (size_t)n));
        msg = strstr(buf, "\"message\":\"") + 11;
        end = strstr(msg, "\",\"retryable\"");
        assert_non_null(end);
        /* the kept part is the escaped message's prefix */
        char full[Q_ERROR_MESSAGE_BYTES * 6 + 1] = "";
        for (size_t k = 0; k < m; k++) {
            uint8_t c = (uint8_t)e.message[k];
            if (c < 0x20) sprintf(full + strlen(full), "\\u%04x", c);
            else { size_t l = strlen(full); full[l] = (char)c; full[l + 1] = 0; }
        }
        assert_true((size_t)(end - msg) < strlen(full));
        assert_memory_equal(msg, full, (size_t)(end - msg));
        assert_true(n > Q_ERROR_JSON_BYTES - 6);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_table_codes_and_kinds),
        cmocka_unit_test(kind_and_policy_names),
        cmocka_unit_test(retry_policy_per_kind),
        cmocka_unit_test(fail_composes_message),
        cmocka_unit_test(fail_truncates_on_utf8_boundaries),
        cmocka_unit_test(text_append_helpers),
        cmocka_unit_test(fail_keep_keeps_first),
        cmocka_unit_test(error_in_prefixes_only_without_path),
        cmocka_unit_test(error_within_always_prefixes),
        cmocka_unit_test(wire_code_status_table),
        cmocka_unit_test(json_record_exact),
        cmocka_unit_test(json_record_escapes),
        cmocka_unit_test(json_record_cap),
        cmocka_unit_test(json_record_worst_case_fits),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
