/* JSON validator, compactor, string decoders and writer: every grammar rule accepted and
 * rejected with its exact status and offset, depth edges, UTF-8 edges, guard pages. */
#define _DEFAULT_SOURCE 1
#include "test_util.h"
#include <sys/mman.h>
#include <unistd.h>
#include "json.h"

/* ------------------------------------------------------------------ helpers */

static q_buf fresh_buf(void) { q_buf b = { NULL, 0, 0 }; return b; }

/* Copies the bytes to an exactly sized heap block (ASan catches any overread). */
static uint8_t *dup_exact(const char *s, uint32_t n) {
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n) memcpy(p, s, n);
    return p;
}

/* json_validate, but through json_compact_value: must report the same thing. */
static int compact_doc(const uint8_t *in, uint32_t len, uint32_t max_depth, uint8_t *out,
                       uint32_t *out_len, q_error *err) {
    uint32_t p = json_skip_ws(in, len, 0), end;
    if (p == len) return q_fail(err, Q_ERR(JSON_EMPTY), len, NULL, NULL);
    if (p == 0 && len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF)
        return q_fail(err, Q_ERR(JSON_SYNTAX), 0, NULL, "byte order mark");
    int rc = json_compact_value(in, len, p, 0, max_depth, out, &end, out_len, err);
    if (rc) return rc;
    p = json_skip_ws(in, len, end);
    if (p != len) return q_fail(err, Q_ERR(JSON_TRAILING), p, NULL, NULL);
    return Q_OK;
}

/* Validates (exact-size copy) and compacts; asserts both give st at off. */
static void check_doc(const char *name, const char *s, uint32_t n, uint32_t max_depth, int st, int64_t off) {
    uint8_t *in = dup_exact(s, n);
    q_error err;
    q_error_clear(&err);
    int rc = json_validate(in, n, max_depth, &err);
    if (rc != st || (st != Q_OK && err.offset != off))
        fail_msg("%s: expected %s at %lld, got %s at %lld (%s)", name, q_status_code(st), (long long)off,
                 q_status_code(rc), (long long)err.offset, err.message);
    if (st != Q_OK) {
        assert_int_equal(err.status, st);
        assert_true(strlen(err.message) > 0);
    }
    uint8_t *out = malloc(n ? n : 1);
    uint32_t out_len = 0;
    q_error err2;
    q_error_clear(&err2);
    int rc2 = compact_doc(in, n, max_depth, out, &out_len, &err2);
    if (rc2 != rc || (rc != Q_OK && err2.offset != err.offset))
        fail_msg("%s: compact gave %s at %lld", name, q_status_code(rc2), (long long)err2.offset);
    if (rc == Q_OK) {
        /* compact output is valid, has no insignificant whitespace and is a fixed point */
        q_error e3;
        assert_int_equal(json_validate(out, out_len, max_depth, &e3), Q_OK);
        uint8_t *again = malloc(out_len ? out_len : 1);
        uint32_t end, l2;
        assert_int_equal(json_compact_value(out, out_len, 0, 0, max_depth, again, &end, &l2, &e3), Q_OK);
        assert_int_equal(end, out_len);
        assert_int_equal(l2, out_len);
        assert_memory_equal(again, out, out_len);
        free(again);
    }
    free(out);
    free(in);
}

/* No oracle for random input: whatever validate says must be a clean JSON_* failure with
 * an in-range offset, and compact must agree (check_doc). */
static void check_mutation(const uint8_t *s, uint32_t n) {
    q_error err;
    uint8_t *in = dup_exact((const char *)s, n);
    int rc = json_validate(in, n, 4, &err);
    int64_t o = rc ? err.offset : 0;
    if (rc) {
        assert_true(o >= 0 && o <= n);
        assert_true(rc <= Q_ERR(JSON_EMPTY) && rc >= Q_ERR(JSON_TRAILING));
        if (rc == Q_ERR(JSON_TRUNCATED) || rc == Q_ERR(JSON_EMPTY)) assert_int_equal(o, n);
        else assert_true(o < n);
    }
    free(in);
    check_doc("mutation", (const char *)s, n, 4, rc, o);
}

/* ------------------------------------------------------------------ tables */

typedef struct { const char *name; const char *in; uint32_t len; } accept_case;
typedef struct { const char *name; const char *in; uint32_t len; int st; int64_t off; } reject_case;

#define A(name, lit) { name, lit, (uint32_t)(sizeof(lit) - 1) }
#define R(name, lit, st, off) { name, lit, (uint32_t)(sizeof(lit) - 1), Q_ERR(st), off }

static const accept_case ACCEPT[] = {
    A("y_array_empty", "[]"),
    A("y_object_empty", "{}"),
    A("y_array_arraysWithSpaces", "[[]   ]"),
    A("y_structure_whitespace_array", " [] "),
    A("y_all_ws_kinds", "\r\n\t {\t\"a\"\r:\n[ 1 ,\t2 ] , \"b\" : { } }\n\r\t "),
    A("y_number_0", "0"),
    A("y_number_negative_zero", "-0"),
    A("y_number_minus_zero_frac_exp", "-0.0e-0"),
    A("y_number_real_capital_e_pos_exp", "1E+2"),
    A("y_number_real_neg_exp", "1e-2"),
    A("y_number_real_exponent", "123e45"),
    A("y_number_real_fraction_exponent", "123.456e78"),
    A("y_number_huge_int", "123456789012345678901234567890"),
    A("y_number_after_space", "[ 4]"),
    A("y_number_double_close_to_zero", "[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]"),
    A("y_number_in_array", "[1,-2,3.5,4e6,0.7E-8]"),
    A("y_literals", "[true,false,null]"),
    A("y_true", "true"),
    A("y_false", "false"),
    A("y_null", "null"),
    A("y_string_empty", "\"\""),
    A("y_string_simple", "\"hello world\""),
    A("y_string_long_ascii", "\"abcdefghijklmnopqrstuvwxyz0123456789 ~!@#$%^&*()_+`-={}|[]:;'<>?,./\""),
    A("y_string_allowed_escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
    A("y_string_escaped_null", "\"\\u0000\""),
    A("y_string_unicode_escaped_double_quote", "\"\\u0022\""),
    A("y_string_uEscape_mixed_case", "\"\\u00aB\\u00Cd\""),
    A("y_string_surrogates_U+1D11E_MUSICAL_SYMBOL_G_CLEF", "\"\\uD834\\uDd1e\""),
    A("y_string_last_surrogates_1_and_2", "\"\\uDBFF\\uDFFF\""),
    A("y_string_first_surrogates", "\"\\ud800\\udc00\""),
    A("y_string_uD7FF_uE000", "\"\\uD7FF\\uE000\""),
    A("y_string_del_raw", "\"\x7f\""),
    A("y_string_utf8_2byte_min_max", "\"\xc2\x80\xdf\xbf\""),
    A("y_string_utf8_3byte_min", "\"\xe0\xa0\x80\""),
    A("y_string_utf8_U+D7FF", "\"\xed\x9f\xbf\""),
    A("y_string_utf8_U+E000", "\"\xee\x80\x80\""),
    A("y_string_utf8_U+FFFF", "\"\xef\xbf\xbf\""),
    A("y_string_utf8_4byte_min", "\"\xf0\x90\x80\x80\""),
    A("y_string_utf8_U+10FFFF", "\"\xf4\x8f\xbf\xbf\""),
    A("y_string_bom_inside", "\"\xef\xbb\xbf\""),
    A("y_string_accented", "\"caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbb\xc3\xa9\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87\""),
    A("y_string_utf8_then_ascii_long", "\"\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87" "abcdefghijklmnop\xc3\xa9qrstuvwxyz\""),
    A("y_object_duplicated_key", "{\"a\":\"b\",\"a\":\"c\"}"),
    A("y_object_empty_key", "{\"\":0}"),
    A("y_object_escaped_key", "{\"\\u0061\\n\":1}"),
    A("y_object_nested", "{\"a\":{\"b\":[1,{\"c\":\"d\"},[]]},\"e\":[],\"f\":{}}"),
    A("y_array_nested5", "[[[[[]]]]]"),
    A("y_mixed_nesting", "[{\"a\":[{\"b\":[{}]}]},[[{}]]]"),
    A("y_structure_lonely_string", "\"asd\""),
    A("y_structure_trailing_newline", "[\"a\"]\n"),
};

static const reject_case REJECT[] = {
    /* empty and whitespace */
    R("n_structure_no_data", "", JSON_EMPTY, 0),
    R("n_structure_whitespace_only", "   ", JSON_EMPTY, 3),
    R("n_all_ws_kinds_only", " \t\n\r", JSON_EMPTY, 4),
    R("n_structure_whitespace_formfeed", "\f1", JSON_SYNTAX, 0),
    R("n_vertical_tab_between", "[1,\v2]", JSON_SYNTAX, 3),
    R("n_nbsp_before_value", "\xc2\xa0" "1", JSON_SYNTAX, 0),
    R("n_structure_UTF8_BOM_no_data", "\xef\xbb\xbf", JSON_SYNTAX, 0),
    R("n_structure_UTF8_BOM_object", "\xef\xbb\xbf{}", JSON_SYNTAX, 0),
    R("n_nul_byte", "\0", JSON_SYNTAX, 0),
    /* literals */
    R("n_incomplete_true", "tru", JSON_TRUNCATED, 3),
    R("n_incomplete_true_in_array", "[tru", JSON_TRUNCATED, 4),
    R("n_true_wrong_case", "trUe", JSON_SYNTAX, 2),
    R("n_structure_capitalized_True", "True", JSON_SYNTAX, 0),
    R("n_incomplete_null", "nul", JSON_TRUNCATED, 3),
    R("n_null_wrong_last", "nulL", JSON_SYNTAX, 3),
    R("n_incomplete_false", "fals", JSON_TRUNCATED, 4),
    R("n_false_wrong", "falsy", JSON_SYNTAX, 4),
    R("n_false_wrong_2nd", "fAlse", JSON_SYNTAX, 1),
    R("n_true_then_letter", "truex", JSON_TRAILING, 4),
    R("n_true_then_letter_in_array", "[truex]", JSON_SYNTAX, 5),
    R("n_number_NaN", "NaN", JSON_SYNTAX, 0),
    R("n_number_infinity", "Infinity", JSON_SYNTAX, 0),
    R("n_number_minus_infinity", "-Infinity", JSON_NUMBER, 1),
    R("n_undefined", "undefined", JSON_SYNTAX, 0),
    /* numbers */
    R("n_number_with_leading_zero", "01", JSON_NUMBER, 1),
    R("n_number_neg_int_starting_with_zero", "-01", JSON_NUMBER, 2),
    R("n_number_double_zero", "00", JSON_NUMBER, 1),
    R("n_number_leading_zero_in_array", "[012]", JSON_NUMBER, 2),
    R("n_number_real_without_fractional_part_eof", "1.", JSON_TRUNCATED, 2),
    R("n_number_real_without_fractional_part", "[1.]", JSON_NUMBER, 3),
    R("n_number_starting_with_dot", ".5", JSON_SYNTAX, 0),
    R("n_number_starting_with_dot_in_array", "[.123]", JSON_SYNTAX, 1),
    R("n_number_+1", "+1", JSON_SYNTAX, 0),
    R("n_number_minus_only_eof", "-", JSON_TRUNCATED, 1),
    R("n_number_minus_only", "[-]", JSON_NUMBER, 2),
    R("n_number_minus_space_1", "- 1", JSON_NUMBER, 1),
    R("n_number_neg_real_without_int_part", "-.5", JSON_NUMBER, 1),
    R("n_number_exp_eof", "1e", JSON_TRUNCATED, 2),
    R("n_number_exp_no_digits", "[1e]", JSON_NUMBER, 3),
    R("n_number_exp_sign_eof", "1e+", JSON_TRUNCATED, 3),
    R("n_number_exp_sign_no_digits", "[1E-]", JSON_NUMBER, 4),
    R("n_number_double_e", "1ee5", JSON_NUMBER, 2),
    R("n_number_dot_e", "1.e5", JSON_NUMBER, 2),
    R("n_number_hex_1_digit", "0x1F", JSON_TRAILING, 1),
    R("n_number_hex_in_array", "[0x1F]", JSON_SYNTAX, 2),
    R("n_number_two_dots", "1.5.3", JSON_TRAILING, 3),
    R("n_number_space_between", "[1 2]", JSON_SYNTAX, 3),
    R("n_number_comma_decimal", "[1,5.]", JSON_NUMBER, 5),
    /* strings: termination, control bytes, escapes */
    R("n_string_single_doublequote", "\"", JSON_TRUNCATED, 1),
    R("n_string_unterminated", "\"abc", JSON_TRUNCATED, 4),
    R("n_string_unterminated_long", "[\"abcdefghijklmnopqrstuvwxyz", JSON_TRUNCATED, 28),
    R("n_string_single_quote", "['single quote']", JSON_SYNTAX, 1),
    R("n_string_ctrl_0x01", "\"a\x01" "b\"", JSON_CONTROL_CHAR, 2),
    R("n_string_unescaped_tab", "[\"\t\"]", JSON_CONTROL_CHAR, 2),
    R("n_string_unescaped_newline", "\"\n\"", JSON_CONTROL_CHAR, 1),
    R("n_string_ctrl_0x1f", "\"\x1f\"", JSON_CONTROL_CHAR, 1),
    R("n_string_ctrl_nul", "\"ab\0\"", JSON_CONTROL_CHAR, 3),
    R("n_string_ctrl_after_8_plain", "\"abcdefghijk\x01\"", JSON_CONTROL_CHAR, 12),
    R("n_string_escape_x", "\"\\x41\"", JSON_ESCAPE, 2),
    R("n_string_escape_a", "\"\\a\"", JSON_ESCAPE, 2),
    R("n_string_escape_U", "\"\\U0041\"", JSON_ESCAPE, 2),
    R("n_string_escape_single_quote", "\"\\'\"", JSON_ESCAPE, 2),
    R("n_string_escape_zero", "\"\\0\"", JSON_ESCAPE, 2),
    R("n_string_escape_space", "\"\\ \"", JSON_ESCAPE, 2),
    R("n_string_escape_nonascii", "\"\\\xc3\xa9\"", JSON_ESCAPE, 2),
    R("n_string_invalid_unicode_escape", "\"\\u00G1\"", JSON_ESCAPE, 5),
    R("n_string_incomplete_escaped_character", "\"\\u12\"", JSON_ESCAPE, 5),
    R("n_string_1_surrogate_then_escape_u1x", "\"\\uD800\\u1x\"", JSON_ESCAPE, 10),
    R("n_string_unicode_escape_eof", "\"\\u12", JSON_TRUNCATED, 5),
    R("n_string_backslash_eof", "\"\\", JSON_TRUNCATED, 2),
    R("n_string_escape_eof_after_u", "\"\\u", JSON_TRUNCATED, 3),
    R("n_string_long_escape_bad", "\"abcdefghij\\q\"", JSON_ESCAPE, 12),
    /* strings: surrogate escapes */
    R("i_string_lone_second_surrogate", "\"\\uDC00\"", JSON_SURROGATE, 1),
    R("i_string_lone_second_surrogate_max", "\"\\uDFFF\"", JSON_SURROGATE, 1),
    R("i_string_1st_surrogate_but_2nd_missing", "\"\\uD800\"", JSON_SURROGATE, 1),
    R("i_string_incomplete_surrogate_then_escape_n", "\"\\uD800\\n\"", JSON_SURROGATE, 1),
    R("i_string_1st_valid_surrogate_2nd_invalid", "\"\\uD800\\uD800\"", JSON_SURROGATE, 1),
    R("i_string_high_then_bmp", "\"\\uDBFF\\u0041\"", JSON_SURROGATE, 1),
    R("i_string_high_then_raw_char", "\"\\uD800x\"", JSON_SURROGATE, 1),
    R("i_string_pair_then_lone_low", "\"x\\uD834\\uDD1E\\uDD1E\"", JSON_SURROGATE, 14),
    R("i_string_high_eof", "\"a\\uD800", JSON_TRUNCATED, 8),
    R("i_string_high_backslash_eof", "\"\\uD800\\", JSON_TRUNCATED, 8),
    R("i_string_high_low_partial_eof", "\"\\uD800\\uDC", JSON_TRUNCATED, 11),
    R("i_string_high_low_bad_hex", "\"\\uD800\\uDCZ0\"", JSON_ESCAPE, 11),
    /* strings: UTF-8 */
    R("n_string_overlong_C0_80", "\"\xc0\x80\"", JSON_UTF8, 1),
    R("n_string_overlong_C1_BF", "\"\xc1\xbf\"", JSON_UTF8, 1),
    R("n_string_overlong_E0_80_80", "\"\xe0\x80\x80\"", JSON_UTF8, 1),
    R("n_string_overlong_E0_9F_BF", "\"\xe0\x9f\xbf\"", JSON_UTF8, 1),
    R("n_string_overlong_F0_80_80_80", "\"\xf0\x80\x80\x80\"", JSON_UTF8, 1),
    R("n_string_overlong_F0_8F_BF_BF", "\"\xf0\x8f\xbf\xbf\"", JSON_UTF8, 1),
    R("n_string_UTF8_surrogate_U+D800", "\"\xed\xa0\x80\"", JSON_UTF8, 1),
    R("n_string_UTF8_surrogate_U+DFFF", "\"\xed\xbf\xbf\"", JSON_UTF8, 1),
    R("n_string_above_U+10FFFF", "\"\xf4\x90\x80\x80\"", JSON_UTF8, 1),
    R("n_string_lead_F5", "\"\xf5\x80\x80\x80\"", JSON_UTF8, 1),
    R("n_string_lead_F8", "\"\xf8\x88\x80\x80\x80\"", JSON_UTF8, 1),
    R("n_string_invalid_utf8_FF", "\"\xff\"", JSON_UTF8, 1),
    R("n_string_invalid_utf8_FE", "\"\xfe\"", JSON_UTF8, 1),
    R("n_string_lone_continuation", "\"\x80\"", JSON_UTF8, 1),
    R("n_string_stray_continuation_after_ascii", "\"a\xbf\"", JSON_UTF8, 2),
    R("n_string_stray_continuation_after_2byte", "\"\xc3\xa9\xa9\"", JSON_UTF8, 3),
    R("n_string_truncated_2byte_by_quote", "\"\xc3\"", JSON_UTF8, 1),
    R("n_string_truncated_3byte_by_quote", "\"\xe2\x82\"", JSON_UTF8, 1),
    R("n_string_truncated_4byte_by_quote", "\"\xf0\x9f\x98\"", JSON_UTF8, 1),
    R("n_string_bad_second_byte", "\"\xe2\x28\xa1\"", JSON_UTF8, 1),
    R("n_string_bad_third_byte", "\"\xe2\x82\x28\"", JSON_UTF8, 1),
    R("n_string_bad_fourth_byte", "\"\xf0\x9f\x98\x28\"", JSON_UTF8, 1),
    R("n_string_overlong_after_8_plain", "\"abcdefgh\xc0\x80\"", JSON_UTF8, 9),
    R("n_string_bad_in_utf8_run", "\"\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\"", JSON_UTF8, 7),
    R("n_string_utf8_eof_2of3", "\"\xe2\x82", JSON_TRUNCATED, 3),
    R("n_string_utf8_eof_1of2", "\"\xc3", JSON_TRUNCATED, 2),
    R("n_string_utf8_eof_3of4", "\"\xf0\x9f\x98", JSON_TRUNCATED, 4),
    R("n_string_utf8_eof_overlong_prefix", "\"\xe0\x80", JSON_UTF8, 1),
    /* non-ASCII outside strings */
    R("n_structure_unicode_identifier", "\xc3\xa5", JSON_SYNTAX, 0),
    R("n_array_invalid_utf8_outside_string", "[\xc3\xa9]", JSON_SYNTAX, 1),
    R("n_structure_trailing_utf8", "{\"a\":1}\xc3\xa9", JSON_TRAILING, 7),
    R("n_after_comma_nonascii", "[1,\xff]", JSON_SYNTAX, 3),
    /* arrays */
    R("n_structure_unclosed_array", "[", JSON_TRUNCATED, 1),
    R("n_array_unclosed_with_value", "[1", JSON_TRUNCATED, 2),
    R("n_array_unclosed_trailing_comma", "[1,", JSON_TRUNCATED, 3),
    R("n_array_unclosed_after_ws", "[1,\n", JSON_TRUNCATED, 4),
    R("n_array_extra_comma", "[1,]", JSON_SYNTAX, 3),
    R("n_array_comma_only", "[,]", JSON_SYNTAX, 1),
    R("n_array_comma_first", "[,1]", JSON_SYNTAX, 1),
    R("n_array_double_comma", "[1,,2]", JSON_SYNTAX, 3),
    R("n_array_colon_instead_of_comma", "[\"a\":1]", JSON_SYNTAX, 4),
    R("n_array_wrong_close", "[1}", JSON_SYNTAX, 2),
    R("n_array_empty_wrong_close", "[}", JSON_SYNTAX, 1),
    R("n_structure_close_only", "]", JSON_SYNTAX, 0),
    R("n_array_extra_close", "[]]", JSON_TRAILING, 2),
    R("n_array_items_separated_by_semicolon", "[1;2]", JSON_SYNTAX, 2),
    /* objects */
    R("n_structure_unclosed_object", "{", JSON_TRUNCATED, 1),
    R("n_object_key_eof", "{\"a\"", JSON_TRUNCATED, 4),
    R("n_object_colon_eof", "{\"a\":", JSON_TRUNCATED, 5),
    R("n_object_value_eof", "{\"a\":1", JSON_TRUNCATED, 6),
    R("n_object_comma_eof", "{\"a\":1,", JSON_TRUNCATED, 7),
    R("n_object_missing_colon", "{\"a\" 1}", JSON_SYNTAX, 5),
    R("n_object_trailing_comma", "{\"a\":1,}", JSON_SYNTAX, 7),
    R("n_object_comma_only", "{,}", JSON_SYNTAX, 1),
    R("n_object_unquoted_key", "{a:1}", JSON_SYNTAX, 1),
    R("n_object_single_quote", "{'a':1}", JSON_SYNTAX, 1),
    R("n_object_non_string_key", "{1:1}", JSON_SYNTAX, 1),
    R("n_object_wrong_close", "{\"a\":1]", JSON_SYNTAX, 6),
    R("n_object_double_colon", "{\"a\"::1}", JSON_SYNTAX, 5),
    R("n_object_missing_value", "{\"a\":}", JSON_SYNTAX, 5),
    R("n_object_missing_comma", "{\"a\":1 \"b\":2}", JSON_SYNTAX, 7),
    R("n_object_bad_key_string", "{\"a\x01\":1}", JSON_CONTROL_CHAR, 3),
    R("n_object_key_without_value_then_close", "{\"a\"}", JSON_SYNTAX, 4),
    R("n_object_extra_close", "{\"a\":1}}", JSON_TRAILING, 7),
    R("n_object_lone_value", "{\"a\"", JSON_TRUNCATED, 4),
    /* trailing data */
    R("n_structure_double_array", "[1] [2]", JSON_TRAILING, 4),
    R("n_structure_object_followed_by_letter", "{} x", JSON_TRAILING, 3),
    R("n_structure_two_strings", "\"a\" \"b\"", JSON_TRAILING, 4),
    R("n_structure_comment", "1 /* c */", JSON_TRAILING, 2),
    R("n_structure_trailing_nul", "[1]\0", JSON_TRAILING, 3),
    R("n_structure_trailing_comma", "1,", JSON_TRAILING, 1),
};

typedef struct { const char *name; const char *in; uint32_t len; uint32_t max_depth; int st; int64_t off; } depth_case;
#define D(name, lit, md, st, off) { name, lit, (uint32_t)(sizeof(lit) - 1), md, st, off }

static const depth_case DEPTH[] = {
    D("scalar at max 0", "1", 0, Q_OK, 0),
    D("array at max 0", "[]", 0, Q_ERR(JSON_DEPTH), 0),
    D("object at max 0", " {}", 0, Q_ERR(JSON_DEPTH), 1),
    D("max 1 one level", "[1]", 1, Q_OK, 0),
    D("max 1 two levels", "[[1]]", 1, Q_ERR(JSON_DEPTH), 1),
    D("max 1 object in array", "[1,{}]", 1, Q_ERR(JSON_DEPTH), 3),
    D("max 2 nested object", "{\"a\":{\"b\":[1]}}", 2, Q_ERR(JSON_DEPTH), 10),
    D("max 3 nested object", "{\"a\":{\"b\":[1]}}", 3, Q_OK, 0),
    D("siblings do not add", "[[],[],{\"a\":[]}]", 3, Q_OK, 0),
    D("third level in a sibling", "[[],[],{\"a\":[]}]", 2, Q_ERR(JSON_DEPTH), 12),
    D("depth error wins over later syntax", "[[[x", 2, Q_ERR(JSON_DEPTH), 2),
    D("syntax before depth", "[x[[", 1, Q_ERR(JSON_SYNTAX), 1),
};

/* ------------------------------------------------------------------ grammar tests */

/* json_scan_string says whether a body holds an escape (the schema walks' token size): plain
 * bodies, ASCII or not, short or past a 16-byte step, leave the flag as it was. */
static void scan_string_tells_escapes(void **s) {
    static const struct { const char *in; int escaped; } CASES[] = {
        { "\"\"", 0 }, { "\"plain\"", 0 }, { "\"caf\xc3\xa9 \xe2\x82\xac\"", 0 }, { "\"0123456789abcdef0123456789\"", 0 },
        { "\"\\n\"", 1 }, { "\"a\\\"b\"", 1 }, { "\"0123456789abcdef012\\u00e9\"", 1 }, { "\"\\ud83d\\ude00\"", 1 },
    };
    for (size_t k = 0; k < Q_ARRAY_LEN(CASES); k++) {
        q_error e; q_error_clear(&e);
        uint32_t n = (uint32_t)strlen(CASES[k].in);
        int escaped = 0;
        assert_int_equal(json_scan_string((const uint8_t *)CASES[k].in, n, 0, &e, &escaped), n);
        assert_int_equal(escaped, CASES[k].escaped);
        assert_int_equal(json_scan_string((const uint8_t *)CASES[k].in, n, 0, &e, NULL), n);   /* NULL: not told */
    }
}

static void accepts_valid_documents(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(ACCEPT); i++)
        check_doc(ACCEPT[i].name, ACCEPT[i].in, ACCEPT[i].len, Q_DEFAULT_MAX_DEPTH, Q_OK, 0);
}

static void rejects_with_status_and_offset(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(REJECT); i++)
        check_doc(REJECT[i].name, REJECT[i].in, REJECT[i].len, Q_DEFAULT_MAX_DEPTH, REJECT[i].st, REJECT[i].off);
}

static void depth_limit_edges(void **s) {
    for (size_t i = 0; i < Q_ARRAY_LEN(DEPTH); i++)
        check_doc(DEPTH[i].name, DEPTH[i].in, DEPTH[i].len, DEPTH[i].max_depth, DEPTH[i].st, DEPTH[i].off);
}

/* Every strict prefix of a valid document is JSON_TRUNCATED at its length (or a number
 * that just ended / trailing-free prefix that is itself valid). */
static void every_prefix_is_truncated(void **s) {
    static const char doc[] = "{\"a\\u00e9\\ud834\\udd1e\":[1.5e-3,-0,true,false,null,\"x\xc3\xa9y\xf0\x9f\x98\x80\"],\"b\":{}}";
    uint32_t n = (uint32_t)sizeof doc - 1;
    check_doc("full", doc, n, 8, Q_OK, 0);
    for (uint32_t k = 1; k < n; k++) check_doc("prefix", doc, k, 8, Q_ERR(JSON_TRUNCATED), k);
}

static void scan_value_positions_and_depth(void **s) {
    q_error err;
    uint32_t end = 0;
    const uint8_t *in = (const uint8_t *)"xx[1,2] , {\"a\":[]}";
    uint32_t n = (uint32_t)strlen((const char *)in);
    assert_int_equal(json_scan_value(in, n, 2, 0, 10, &end, &err), Q_OK);
    assert_int_equal(end, 7);
    assert_int_equal(json_scan_value(in, n, 10, 0, 10, &end, &err), Q_OK);
    assert_int_equal(end, n);
    /* container depth is relative to the given depth */
    assert_int_equal(json_scan_value(in, n, 10, 1, 3, &end, &err), Q_OK);
    assert_fails_at(json_scan_value(in, n, 10, 2, 3, &end, &err), Q_ERR(JSON_DEPTH), 15, &err);
    assert_fails_at(json_scan_value(in, n, 10, 2, 2, &end, &err), Q_ERR(JSON_DEPTH), 10, &err);
    assert_fails_at(json_scan_value(in, n, 2, 7, 7, &end, &err), Q_ERR(JSON_DEPTH), 2, &err);
    assert_int_equal(json_scan_value(QS("5"), 0, 9, 3, &end, &err), Q_OK);   /* scalar past the limit */
    assert_int_equal(end, 1);
    /* no leading whitespace, absolute offsets, pos at end */
    assert_fails_at(json_scan_value(in, n, 7, 0, 10, &end, &err), Q_ERR(JSON_SYNTAX), 7, &err);
    assert_fails_at(json_scan_value(QS("ab[1,]"), 2, 0, 10, &end, &err), Q_ERR(JSON_SYNTAX), 5, &err);
    assert_fails_at(json_scan_value(QS("[1]"), 3, 0, 10, &end, &err), Q_ERR(JSON_TRUNCATED), 3, &err);
    /* a value followed by anything: scan stops right after it */
    assert_int_equal(json_scan_value(QS("12345,"), 0, 0, 10, &end, &err), Q_OK);
    assert_int_equal(end, 5);
    assert_int_equal(json_scan_value(QS("\"a\"}"), 0, 0, 10, &end, &err), Q_OK);
    assert_int_equal(end, 3);
    /* skip_ws */
    assert_int_equal(json_skip_ws(QS(" \t\r\n x"), 0), 5);
    assert_int_equal(json_skip_ws(QS("  "), 0), 2);
    assert_int_equal(json_skip_ws(QS("\f"), 0), 0);
    assert_int_equal(json_skip_ws(QS("a  "), 1), 3);
}

static void error_record_has_no_input_bytes(void **s) {
    q_error err;
    /* the input contains a marker that must not show up in the message */
    assert_fails_at(json_validate(QS("{\"SECRETKEY\":\"SECRETVAL\x01\"}"), 128, &err), Q_ERR(JSON_CONTROL_CHAR), 23, &err);
    assert_null(strstr(err.message, "SECRET"));
    assert_string_equal(err.code, "JSON_CONTROL_CHAR");
    assert_int_equal(err.http_status, 0);   /* local failure: no HTTP status */
    assert_fails_at(json_validate(QS("[1,2,SECRET]"), 128, &err), Q_ERR(JSON_SYNTAX), 5, &err);
    assert_null(strstr(err.message, "SECRET"));
    assert_fails_at(json_validate(QS("{\"a\" 1}"), 128, &err), Q_ERR(JSON_SYNTAX), 5, &err);
    assert_non_null(strstr(err.message, "expected ':'"));
    assert_fails_at(json_validate(QS("01"), 128, &err), Q_ERR(JSON_NUMBER), 1, &err);
    assert_non_null(strstr(err.message, "leading zero"));
    assert_non_null(strstr(err.message, "at byte 1"));
}

/* ------------------------------------------------------------------ deep nesting */

static uint8_t *brackets(uint32_t open, uint32_t close, uint32_t *n) {
    uint8_t *p = malloc(open + close + 1);
    memset(p, '[', open);
    memset(p + open, ']', close);
    *n = open + close;
    return p;
}

static void deep_nesting_is_iterative(void **s) {
    q_error err;
    uint32_t n;
    uint8_t *p = brackets(100000, 0, &n);
    assert_fails_at(json_validate(p, n, Q_DEFAULT_MAX_DEPTH, &err), Q_ERR(JSON_DEPTH), Q_DEFAULT_MAX_DEPTH, &err);   /* the first bracket too deep */
    assert_fails_at(json_validate(p, n, 100000, &err), Q_ERR(JSON_TRUNCATED), 100000, &err);
    assert_fails_at(json_validate(p, n, 0xFFFFFFFFu, &err), Q_ERR(JSON_TRUNCATED), 100000, &err);
    free(p);
    p = brackets(100000, 100000, &n);
    assert_int_equal(json_validate(p, n, 100000, &err), Q_OK);
    assert_fails_at(json_validate(p, n, 99999, &err), Q_ERR(JSON_DEPTH), 99999, &err);
    uint8_t *out = malloc(n);
    uint32_t end, ol;
    assert_int_equal(json_compact_value(p, n, 0, 0, 100000, out, &end, &ol, &err), Q_OK);
    assert_int_equal(ol, n);
    assert_memory_equal(out, p, n);
    free(out);
    free(p);
    /* exactly the default limit */
    p = brackets(128, 128, &n);
    assert_int_equal(json_validate(p, n, 128, &err), Q_OK);
    assert_fails_at(json_validate(p, n, 127, &err), Q_ERR(JSON_DEPTH), 127, &err);
    free(p);
}

/* Mixed arrays and objects deeper than the on-stack bit stack: every closer must match. */
static void deep_mixed_types_match(void **s) {
    const uint32_t levels = 6000;
    uint8_t *p = malloc(levels * 6 + 16);
    uint32_t n = 0;
    for (uint32_t i = 0; i < levels; i++) {
        if (i % 3 == 1) { memcpy(p + n, "{\"k\":", 5); n += 5; }
        else p[n++] = '[';
    }
    p[n++] = '0';
    for (uint32_t i = levels; i-- > 0;) p[n++] = i % 3 == 1 ? '}' : ']';
    q_error err;
    assert_int_equal(json_validate(p, n, levels, &err), Q_OK);
    assert_fails_at(json_validate(p, n, levels - 1, &err), Q_ERR(JSON_DEPTH), -1, &err);
    /* swap one closer deep inside (level 4000, past the local stack) */
    uint32_t closer = n - 4000 - 1;   /* closes level index 3999 */
    uint8_t saved = p[closer];
    p[closer] = saved == ']' ? '}' : ']';
    assert_fails_at(json_validate(p, n, levels, &err), Q_ERR(JSON_SYNTAX), closer, &err);
    p[closer] = saved;
    /* and one shallow */
    closer = n - 2;
    saved = p[closer];
    p[closer] = saved == ']' ? '}' : ']';
    assert_fails_at(json_validate(p, n, levels, &err), Q_ERR(JSON_SYNTAX), closer, &err);
    free(p);
}

static void deep_stack_allocation_failure(void **s) {
    uint32_t n;
    uint8_t *p = brackets(5000, 5000, &n);
    q_error err;
    arena_fail_nth(1);
    assert_fails_at(json_validate(p, n, 10000, &err), Q_ERR(OUT_OF_MEMORY), 2048, &err);
    arena_fail_nth(0);
    assert_int_equal(json_validate(p, n, 10000, &err), Q_OK);
    /* shallow documents never allocate */
    arena_fail_nth(1);
    uint32_t n2;
    uint8_t *q = brackets(2048, 2048, &n2);
    assert_int_equal(json_validate(q, n2, 10000, &err), Q_OK);
    arena_fail_nth(0);
    free(q);
    free(p);
}

/* ------------------------------------------------------------------ UTF-8 */

/* Reference: decode one sequence by value, then check the range and minimal length. */
static int ref_utf8_len(const uint8_t *s, uint32_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || (uint32_t)len > n) return 0;
    uint32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    static const uint32_t MIN[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < MIN[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static bool ref_utf8_valid(const uint8_t *s, uint32_t n) {
    for (uint32_t i = 0; i < n;) {
        int k = ref_utf8_len(s + i, n - i);
        if (!k) return false;
        i += (uint32_t)k;
    }
    return true;
}

static void utf8_matches_reference(void **s) {
    static const uint8_t TAIL[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xF0, 0xFF };
    uint8_t buf[8], js[16];
    q_error err;
    for (int a = 0x80; a < 0x100; a++)
        for (int b = 0; b < 0x100; b++)
            for (size_t c = 0; c < sizeof TAIL; c++)
                for (size_t d = 0; d < sizeof TAIL; d += 3) {
                    buf[0] = (uint8_t)a; buf[1] = (uint8_t)b; buf[2] = TAIL[c]; buf[3] = TAIL[d];
                    for (uint32_t n = 1; n <= 4; n++) {
                        bool want = ref_utf8_valid(buf, n);
                        int rc = json_utf8_validate(buf, n, &err);
                        if ((rc == Q_OK) != want) fail_msg("utf8 %02x %02x %02x %02x len %u", a, b, TAIL[c], TAIL[d], n);
                        if (rc != Q_OK) {
                            assert_int_equal(rc, Q_ERR(JSON_UTF8));
                            assert_true(err.offset >= 0 && err.offset < n);
                        }
                        /* the same bytes inside a JSON string (no control bytes) */
                        bool ctl = false;
                        for (uint32_t k = 0; k < n; k++) ctl |= buf[k] < 0x20 || buf[k] == '"' || buf[k] == '\\';
                        if (ctl) continue;
                        js[0] = '"'; memcpy(js + 1, buf, n); js[n + 1] = '"';
                        rc = json_validate(js, n + 2, 4, &err);
                        if ((rc == Q_OK) != want) fail_msg("json utf8 %02x %02x %02x %02x len %u", a, b, TAIL[c], TAIL[d], n);
                        if (rc != Q_OK) assert_int_equal(rc, Q_ERR(JSON_UTF8));
                    }
                }
}

static void utf8_validate_offsets(void **s) {
    q_error err;
    assert_int_equal(json_utf8_validate(QS(""), &err), Q_OK);
    assert_int_equal(json_utf8_validate(QS("plain ascii text, long enough for words"), &err), Q_OK);
    assert_int_equal(json_utf8_validate(QS("\x00\x01\x1f control bytes are fine here"), &err), Q_OK);
    assert_int_equal(json_utf8_validate(QS("caf\xc3\xa9 \xf4\x8f\xbf\xbf"), &err), Q_OK);
    assert_fails_at(json_utf8_validate(QS("abcdefghij\xc0\x80"), &err), Q_ERR(JSON_UTF8), 10, &err);
    assert_fails_at(json_utf8_validate(QS("abc\xe2\x82"), &err), Q_ERR(JSON_UTF8), 3, &err);
    assert_fails_at(json_utf8_validate(QS("\xed\xa0\x80"), &err), Q_ERR(JSON_UTF8), 0, &err);
    assert_non_null(strstr(err.message, "surrogate"));
    assert_fails_at(json_utf8_validate(QS("xx\xf4\x90\x80\x80"), &err), Q_ERR(JSON_UTF8), 2, &err);
    assert_fails_at(json_utf8_validate(QS("\xc3\xa9\x80"), &err), Q_ERR(JSON_UTF8), 2, &err);
    assert_fails_at(json_utf8_validate(QS("\xe0\x9f\x80"), &err), Q_ERR(JSON_UTF8), 0, &err);
    assert_non_null(strstr(err.message, "overlong"));
}

/* Every position of a special byte relative to the scan's 16-byte steps (8-byte without SSE2). */
static void string_scan_window_positions(void **s) {
    char buf[96];
    for (uint32_t pre = 0; pre < 40; pre++) {
        for (int kind = 0; kind < 5; kind++) {
            uint32_t n = 0;
            buf[n++] = '"';
            for (uint32_t k = 0; k < pre; k++) buf[n++] = (char)('a' + k % 26);
            uint32_t at = n;
            static const char *const INS[] = { "\x01", "\\q", "\xc0\x80", "\\n\xc3\xa9", "\\uD800" };
            static const int ST[] = { Q_ERR(JSON_CONTROL_CHAR), Q_ERR(JSON_ESCAPE), Q_ERR(JSON_UTF8), Q_OK, Q_ERR(JSON_SURROGATE) };
            static const int OFF[] = { 0, 1, 0, 0, 0 };
            memcpy(buf + n, INS[kind], strlen(INS[kind])); n += (uint32_t)strlen(INS[kind]);
            for (uint32_t k = 0; k < 9; k++) buf[n++] = 'z';
            buf[n++] = '"';
            check_doc("window", buf, n, 4, ST[kind], at + (uint32_t)OFF[kind]);
            /* unterminated variant: truncated at the end */
            if (ST[kind] == Q_OK) check_doc("window-unterminated", buf, n - 1, 4, Q_ERR(JSON_TRUNCATED), n - 1);
        }
    }
}

/* json_utf8_has_replacement: U+FFFD (EF BF BD) at every position of a buffer and of the 8-byte
 * steps, cut short at the end, beside its neighbours (U+FFFE, U+FF7D) and after another 0xEF lead. */
static void replacement_char_is_found(void **s) {
    static const struct { const char *in; bool want; } CASES[] = {
        { "", false }, { "\xEF\xBF\xBD", true }, { "abc\xEF\xBF\xBD", true }, { "\xEF\xBF\xBE", false },
        { "\xEF\xBF", false }, { "\xEF", false }, { "\xEF\xBD\xBD", false }, { "\xEF\xEF\xBF\xBD", true },
        { "\xEF\xBF\xEF\xBF\xBD", true }, { "\xBF\xBD\xEF", false }, { "\xE2\x80\x94 \xC3\xA9", false },
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(CASES); i++)
        assert_int_equal(json_utf8_has_replacement((const uint8_t *)CASES[i].in, (uint32_t)strlen(CASES[i].in)), CASES[i].want);
    uint8_t buf[64];
    for (uint32_t at = 0; at + 3 <= sizeof buf; at++) {
        memset(buf, 'a', sizeof buf);
        memcpy(buf + at, "\xEF\xBF\xBD", 3);
        assert_true(json_utf8_has_replacement(buf, sizeof buf));
        assert_true(json_utf8_has_replacement(buf, at + 3));          /* ending the input */
        assert_false(json_utf8_has_replacement(buf, at + 2));         /* cut short */
        assert_false(json_utf8_has_replacement(buf + at + 1, (uint32_t)sizeof buf - at - 1));
    }
}

/* ------------------------------------------------------------------ guard pages */

static void inputs_end_at_guard_page(void **s) {
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
    uint8_t *page_end = map + pg;
    q_error err;
    uint32_t end, ol;
    uint8_t out[256];
    for (size_t i = 0; i < Q_ARRAY_LEN(ACCEPT); i++) {
        uint8_t *in = page_end - ACCEPT[i].len;
        memcpy(in, ACCEPT[i].in, ACCEPT[i].len);
        assert_int_equal(json_validate(in, ACCEPT[i].len, 128, &err), Q_OK);
        uint32_t p = json_skip_ws(in, ACCEPT[i].len, 0);
        assert_int_equal(json_compact_value(in, ACCEPT[i].len, p, 0, 128, out, &end, &ol, &err), Q_OK);
        /* every prefix too */
        for (uint32_t k = 0; k < ACCEPT[i].len; k++) {
            uint8_t *q = page_end - k;
            memcpy(q, ACCEPT[i].in, k);
            int rc = json_validate(q, k, 128, &err);
            if (rc == Q_OK) continue;   /* "12" is a prefix of "123" */
            assert_true(rc == Q_ERR(JSON_TRUNCATED) || rc == Q_ERR(JSON_EMPTY) || rc == Q_ERR(JSON_NUMBER));
        }
    }
    for (size_t i = 0; i < Q_ARRAY_LEN(REJECT); i++) {
        uint8_t *in = page_end - REJECT[i].len;
        memcpy(in, REJECT[i].in, REJECT[i].len);
        assert_fails_at(json_validate(in, REJECT[i].len, 128, &err), REJECT[i].st, REJECT[i].off, &err);
    }
    /* decoders and writer input at the guard too */
    static const char body[] = "ab\\u00e9\\ud83d\\ude00\\n";
    uint8_t *b = page_end - (sizeof body - 1);
    memcpy(b, body, sizeof body - 1);
    assert_int_equal(json_unescape(b, sizeof body - 1, out), 2 + 2 + 4 + 1);
    assert_true(json_string_eq(b, sizeof body - 1, "ab\xc3\xa9\xf0\x9f\x98\x80\n", 9));
    memcpy(page_end - 3, "\xEF\xBF\xBD", 3);
    assert_true(json_utf8_has_replacement(page_end - 3, 3));
    assert_false(json_utf8_has_replacement(page_end - 2, 2));
    memcpy(page_end - 3, "a\xe2\x82", 3);
    assert_fails_at(json_utf8_validate(page_end - 3, 3, &err), Q_ERR(JSON_UTF8), 1, &err);
    memcpy(page_end - 9, "abcdefgh\xf0", 9);
    assert_fails_at(json_utf8_validate(page_end - 9, 9, &err), Q_ERR(JSON_UTF8), 8, &err);
    q_buf wb = fresh_buf();
    memcpy(page_end - 9, "abcdefg\n\"", 9);
    assert_int_equal(jw_string(&wb, page_end - 9, 9), Q_OK);
    assert_memory_equal(wb.ptr, "\"abcdefg\\n\\\"\"", wb.len);
    munmap(map, (size_t)pg * 2);
}

/* ------------------------------------------------------------------ compact */

static void compact_removes_only_insignificant_ws(void **s) {
    static const char in[] = " { \"a b\" : [ 1 , 2.5e3 ,\t\"x \\n y\" ] ,\r\n \"c\":{ } , \"d\" : [ ] , \"e\" : null }  ";
    static const char want[] = "{\"a b\":[1,2.5e3,\"x \\n y\"],\"c\":{},\"d\":[],\"e\":null}";
    q_error err;
    uint8_t out[sizeof in];
    uint32_t end, ol;
    uint32_t n = (uint32_t)sizeof in - 1;
    assert_int_equal(json_compact_value((const uint8_t *)in, n, 1, 0, 128, out, &end, &ol, &err), Q_OK);
    assert_int_equal(end, n - 2);
    assert_int_equal(ol, sizeof want - 1);
    assert_memory_equal(out, want, ol);
    /* already compact: identical */
    assert_int_equal(json_compact_value((const uint8_t *)want, (uint32_t)sizeof want - 1, 0, 0, 128, out, &end, &ol, &err), Q_OK);
    assert_int_equal(ol, sizeof want - 1);
    assert_memory_equal(out, want, ol);
    /* in place */
    uint8_t buf[sizeof in];
    memcpy(buf, in, sizeof in);
    assert_int_equal(json_compact_value(buf, n, 1, 0, 128, buf + 1, &end, &ol, &err), Q_OK);
    assert_memory_equal(buf + 1, want, ol);
    /* scalars */
    assert_int_equal(json_compact_value(QS("-1.5e+3 "), 0, 0, 8, out, &end, &ol, &err), Q_OK);
    assert_int_equal(ol, 7);
    assert_int_equal(end, 7);
    /* errors identical to the validator's, output length untouched */
    ol = 12345;
    assert_fails_at(json_compact_value(QS("[ 1 , ]"), 0, 0, 8, out, &end, &ol, &err), Q_ERR(JSON_SYNTAX), 6, &err);
    assert_int_equal(ol, 12345);
    assert_fails_at(json_compact_value(QS("[[ ]]"), 0, 0, 1, out, &end, &ol, &err), Q_ERR(JSON_DEPTH), 1, &err);
    assert_fails_at(json_compact_value(QS("[1]"), 0, 0, 1, NULL, &end, &ol, &err), Q_ERR(BAD_ARGUMENT), -1, &err);
}

/* Random byte mutations: no crash, compact agrees with validate, valid output is a fixed point. */
static void mutation_consistency(void **s) {
    static const char seed[] = "{\"meta\":{\"request_id\":\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\",\"tenant\":\"t\\u00e9\",\"security\":{\"roles\":[\"a\",\"b\"]}},"
                               " \"payload\": [1, -2.5e-3, true, false, null, {\"x\": \"\xe4\xb8\xad\\ud83d\\ude00\"}], \"error\":null}";
    uint32_t n = (uint32_t)sizeof seed - 1;
    uint8_t buf[sizeof seed];
    uint32_t rng = 12345;
    static const uint8_t PICK[] = { '[', ']', '{', '}', '"', '\\', ',', ':', ' ', '0', '-', '.', 'e', 'u', 0x01, 0x80, 0xC3, 0xED, 0xF4, 'D', 'n', 't' };
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, seed, n);
        int muts = 1 + iter % 3;
        for (int m = 0; m < muts; m++) {
            rng = rng * 1103515245u + 12345u;
            uint32_t at = (rng >> 8) % n;
            rng = rng * 1103515245u + 12345u;
            buf[at] = (rng >> 16) & 1 ? PICK[(rng >> 8) % sizeof PICK] : (uint8_t)(rng >> 20);
        }
        rng = rng * 1103515245u + 12345u;
        uint32_t len = (iter & 7) == 0 ? (rng >> 8) % (n + 1) : n;
        check_mutation(buf, len);
    }
}

/* ------------------------------------------------------------------ decoders */

static void unescape_decodes_all_forms(void **s) {
    uint8_t out[64];
    static const char body[] = "a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00z";
    static const char want[] = "a\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    uint32_t n = json_unescape((const uint8_t *)body, (uint32_t)sizeof body - 1, out);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    assert_int_equal(json_unescape((const uint8_t *)"", 0, out), 0);
    assert_int_equal(json_unescape(QS("plain text longer than eight"), out), 28);
    assert_memory_equal(out, "plain text longer than eight", 28);
    n = json_unescape(QS("\\u0000"), out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0);
    /* in place */
    char ip[] = "x\\u00e9\\ny";
    n = json_unescape((const uint8_t *)ip, (uint32_t)strlen(ip), (uint8_t *)ip);
    assert_int_equal(n, 5);
    assert_memory_equal(ip, "x\xc3\xa9\ny", 5);
    /* unvalidated garbage is still memory-safe: lone surrogate -> U+FFFD, dangling backslash kept */
    n = json_unescape(QS("\\uDC00"), out);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\xef\xbf\xbd", 3);
    n = json_unescape(QS("a\\"), out);
    assert_int_equal(n, 2);
    n = json_unescape(QS("\\u12"), out);
    assert_true(n <= 4);
}

static void string_eq_and_equal(void **s) {
    assert_true(json_string_eq(QS("meta"), "meta", 4));
    assert_false(json_string_eq(QS("meta"), "met", 3));
    assert_false(json_string_eq(QS("met"), "meta", 4));
    assert_false(json_string_eq(QS("meTa"), "meta", 4));
    assert_true(json_string_eq(QS(""), "", 0));
    assert_true(json_string_eq(QS("\\u006deta"), "meta", 4));
    assert_true(json_string_eq(QS("caf\\u00e9"), "caf\xc3\xa9", 5));
    assert_true(json_string_eq(QS("caf\xc3\xa9"), "caf\xc3\xa9", 5));
    assert_false(json_string_eq(QS("caf\\u00e9"), "cafe", 4));
    assert_false(json_string_eq(QS("\\n"), "\\n", 2));      /* decoded newline vs backslash-n */
    assert_true(json_string_eq(QS("\\n"), "\n", 1));
    assert_true(json_string_eq(QS("\\ud83d\\ude00"), "\xf0\x9f\x98\x80", 4));
    assert_false(json_string_eq(QS("\\ud83d\\ude00"), "\xf0\x9f\x98", 3));
    assert_false(json_string_eq(QS("a\\u0062c"), "ab", 2));

    assert_true(json_strings_equal(QS("abc"), QS("abc")));
    assert_false(json_strings_equal(QS("abc"), QS("abd")));
    assert_false(json_strings_equal(QS("abc"), QS("ab")));
    assert_true(json_strings_equal(QS(""), QS("")));
    assert_true(json_strings_equal(QS("\\u0041"), QS("A")));
    assert_true(json_strings_equal(QS("A"), QS("\\u0041")));
    assert_false(json_strings_equal(QS("\\u0041"), QS("\\u0061")));
    assert_true(json_strings_equal(QS("\\/x\\u00E9"), QS("/x\\u00e9")));
    assert_true(json_strings_equal(QS("\\ud834\\udd1e"), QS("\xf0\x9d\x84\x9e")));
    assert_false(json_strings_equal(QS("\\ud834\\udd1e"), QS("\xf0\x9d\x84\x9e!")));
    assert_false(json_strings_equal(QS("abcdefgh"), QS("\\u0041")));
}

static void string_hash_is_fnv1a_of_decoded(void **s) {
    assert_int_equal(json_string_hash(QS("")), 0x811c9dc5u);
    assert_int_equal(json_string_hash(QS("a")), 0xe40c292cu);
    assert_int_equal(json_string_hash(QS("foobar")), 0xbf9cf968u);
    assert_int_equal(json_string_hash(QS("\\u0061")), 0xe40c292cu);
    assert_int_equal(json_string_hash(QS("caf\\u00e9")), json_string_hash(QS("caf\xc3\xa9")));
    assert_int_equal(json_string_hash(QS("\\ud83d\\ude00")), json_string_hash(QS("\xf0\x9f\x98\x80")));
    assert_int_equal(json_string_hash(QS("a\\/b")), json_string_hash(QS("a/b")));
    assert_int_not_equal(json_string_hash(QS("ab")), json_string_hash(QS("ba")));
}

/* ------------------------------------------------------------------ writer */

/* serde_json's escaping, written out independently. */
static size_t ref_escape(const uint8_t *s, size_t n, char *out) {
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '"': out[o++] = '\\'; out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
        case '\b': out[o++] = '\\'; out[o++] = 'b'; break;
        case '\f': out[o++] = '\\'; out[o++] = 'f'; break;
        case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
        case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
        case '\t': out[o++] = '\\'; out[o++] = 't'; break;
        default:
            if (c < 0x20) o += (size_t)sprintf(out + o, "\\u%04x", c);
            else out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

static void writer_escapes_like_serde(void **s) {
    q_buf b = fresh_buf();
    assert_int_equal(jw_string(&b, QS("plain")), Q_OK);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.ptr, "\"plain\"", 7);
    b = fresh_buf();
    assert_int_equal(jw_string(&b, QS("")), Q_OK);
    assert_memory_equal(b.ptr, "\"\"", 2);
    b = fresh_buf();
    assert_int_equal(jw_string(&b, QS("a\"b\\c/d\x08\x0c\n\r\t\x01\x1f\x7f\xc3\xa9\xf0\x9f\x98\x80")), Q_OK);
    static const char want[] = "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xf0\x9f\x98\x80\"";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.ptr, want, b.len);
    /* all 256 byte values, each at every position of the 8-byte window */
    uint8_t src[40];
    char ref[300];
    for (int c = 0; c < 256; c++) {
        for (uint32_t at = 0; at < 24; at++) {
            for (uint32_t k = 0; k < 24; k++) src[k] = (uint8_t)('a' + k);
            src[at] = (uint8_t)c;
            b = fresh_buf();
            assert_int_equal(jw_string(&b, src, 24), Q_OK);
            size_t rl = ref_escape(src, 24, ref);
            assert_int_equal(b.len, rl);
            assert_memory_equal(b.ptr, ref, rl);
        }
    }
    /* appends to what is there */
    b = fresh_buf();
    assert_int_equal(q_buf_puts(&b, "{\"k\":"), Q_OK);
    assert_int_equal(jw_string(&b, QS("v\n")), Q_OK);
    assert_int_equal(q_buf_putc(&b, '}'), Q_OK);
    assert_memory_equal(b.ptr, "{\"k\":\"v\\n\"}", b.len);
    assert_int_equal(b.len, 11);
}

static void writer_output_round_trips(void **s) {
    /* every byte string the writer emits is a valid token that decodes back */
    uint8_t src[300];
    uint32_t n = 0;
    for (int c = 0; c < 0x80; c++) src[n++] = (uint8_t)c;
    memcpy(src + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9); n += 9;
    q_buf b = fresh_buf();
    assert_int_equal(jw_string(&b, src, n), Q_OK);
    q_error err;
    assert_int_equal(json_validate(b.ptr, b.len, 1, &err), Q_OK);
    uint8_t out[300];
    uint32_t ol = json_unescape(b.ptr + 1, b.len - 2, out);
    assert_int_equal(ol, n);
    assert_memory_equal(out, src, n);
    assert_true(json_string_eq(b.ptr + 1, b.len - 2, (const char *)src, n));
}

static void string_token_is_rewritten_canonically(void **s) {
    q_buf b = fresh_buf();
    static const char tok[] = "\"\\u0041\\/\\u00e9\\ud83d\\ude00\\u001F\\u0022\\u005c\\b\\u0008\\u000a\\u007f x\xc3\xa9\"";
    static const char want[] = "\"A/\xc3\xa9\xf0\x9f\x98\x80\\u001f\\\"\\\\\\b\\b\\n\x7f x\xc3\xa9\"";
    assert_int_equal(jw_string_token(&b, QS(tok)), Q_OK);
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.ptr, want, b.len);
    b = fresh_buf();
    assert_int_equal(jw_string_token(&b, QS("\"\"")), Q_OK);
    assert_int_equal(b.len, 2);
    b = fresh_buf();
    assert_int_equal(jw_string_token(&b, QS("\"already canonical \\\" \\\\ \\n\"")), Q_OK);
    assert_memory_equal(b.ptr, "\"already canonical \\\" \\\\ \\n\"", b.len);
    /* equal to decode + jw_string for every single escape */
    for (int c = 0; c < 0x80; c++) {
        char t[16];
        snprintf(t, sizeof t, "\"\\u%04X\"", c);
        b = fresh_buf();
        assert_int_equal(jw_string_token(&b, (const uint8_t *)t, 8), Q_OK);
        q_buf r = fresh_buf();
        uint8_t ch = (uint8_t)c;
        assert_int_equal(jw_string(&r, &ch, 1), Q_OK);
        assert_int_equal(b.len, r.len);
        assert_memory_equal(b.ptr, r.ptr, r.len);
    }
    b = fresh_buf();
    assert_int_equal(jw_string_token(&b, QS("x")), Q_ERR(BAD_ARGUMENT));
    assert_int_equal(jw_string_token(&b, QS("\"abc")), Q_ERR(BAD_ARGUMENT));
    assert_int_equal(jw_string_token(&b, QS("\"\\\"")), Q_ERR(BAD_ARGUMENT));
    assert_int_equal(b.len, 0);
}

static void writer_numbers(void **s) {
    q_buf b = fresh_buf();
    assert_int_equal(jw_u64(&b, 0), Q_OK);
    assert_int_equal(q_buf_putc(&b, ','), Q_OK);
    assert_int_equal(jw_u64(&b, UINT64_MAX), Q_OK);
    assert_int_equal(q_buf_putc(&b, ','), Q_OK);
    assert_int_equal(jw_i64(&b, INT64_MIN), Q_OK);
    assert_int_equal(q_buf_putc(&b, ','), Q_OK);
    assert_int_equal(jw_i64(&b, -1), Q_OK);
    assert_int_equal(q_buf_putc(&b, ','), Q_OK);
    assert_int_equal(jw_i64(&b, INT64_MAX), Q_OK);
    assert_int_equal(q_buf_putc(&b, ','), Q_OK);
    assert_int_equal(jw_i64(&b, 42), Q_OK);
    static const char want[] = "0,18446744073709551615,-9223372036854775808,-1,9223372036854775807,42";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.ptr, want, b.len);
}

/* SQLite-style loop: fail allocation 1, 2, ... until the call succeeds; every failure is
 * OUT_OF_MEMORY and leaves the buffer as it was. */
static void writer_allocation_failures(void **s) {
    static uint8_t big[600];
    for (size_t k = 0; k < sizeof big; k++) big[k] = (uint8_t)(k % 7 == 0 ? '\n' : 'a' + k % 26);
    for (int op = 0; op < 5; op++) {
        for (uint32_t nth = 1; nth < 20; nth++) {
            q_buf b = fresh_buf();
            assert_int_equal(q_buf_puts(&b, "prefix"), Q_OK);
            q_buf before = b;
            arena_fail_nth(nth);
            int rc;
            switch (op) {
            case 0: rc = jw_string(&b, big, sizeof big); break;
            case 1: rc = jw_string(&b, QS("short \"one\"\n")); break;
            case 2: rc = jw_string_token(&b, QS("\"\\u0041\\n\"")); break;
            case 3: rc = jw_u64(&b, 7); break;
            default: rc = jw_i64(&b, -7); break;
            }
            arena_fail_nth(0);
            if (rc == Q_OK) { assert_true(b.len > before.len); break; }
            assert_int_equal(rc, Q_ERR(OUT_OF_MEMORY));
            if (op != 4) assert_int_equal(b.len, before.len);   /* jw_i64 may have put the '-' */
            assert_memory_equal(b.ptr, "prefix", 6);
        }
    }
    /* a request larger than the doubling fallback fails outright on the first allocation */
    q_buf b = fresh_buf();
    arena_fail_nth(1);
    assert_int_equal(jw_string(&b, big, sizeof big), Q_ERR(OUT_OF_MEMORY));
    arena_fail_nth(0);
    assert_int_equal(b.len, 0);
}


/* The one escaper: both modes, counting without writing, and stopping only between whole
 * characters or escapes when the room runs out. */
static void escaper_modes_and_room(void **state) {
    (void)state;
    uint8_t o[64];
    uint32_t used;
    const char *s = "a\"\\\n\x01\x7f\xC3\xA9\xF0\x9F\x98\x80z";
    uint32_t n = (uint32_t)strlen(s);
    uint32_t w = json_escape((const uint8_t *)s, n, o, sizeof o, JE_STRING, &used);
    assert_int_equal(used, n);
    assert_memory_equal(o, "a\\\"\\\\\\n\\u0001\x7f\xC3\xA9\xF0\x9F\x98\x80z", w);
    assert_int_equal(json_escape((const uint8_t *)s, n, NULL, sizeof o, JE_STRING, NULL), w);   /* counting agrees */
    /* JE_ASCII: JSON text keeps its quotes and escapes; DEL and non-ASCII become \uXXXX, pairs past the BMP */
    const char *t = "{\"k\":\"\\\"\x7f\xC3\xA9\xF0\x9F\x98\x80\"}";
    w = json_escape((const uint8_t *)t, (uint32_t)strlen(t), o, sizeof o, JE_ASCII, &used);
    assert_memory_equal(o, "{\"k\":\"\\\"\\u007f\\u00e9\\ud83d\\ude00\"}", w);
    /* room: never half an escape, never half a UTF-8 sequence */
    assert_int_equal(json_escape((const uint8_t *)"ab\n", 3, o, 3, JE_STRING, &used), 2);
    assert_int_equal(used, 2);
    assert_int_equal(json_escape((const uint8_t *)"a\xC3\xA9", 3, o, 2, JE_STRING, &used), 1);
    assert_int_equal(used, 1);
    assert_int_equal(json_escape((const uint8_t *)"\xF0\x9F\x98\x80", 4, o, 11, JE_ASCII, &used), 0);
    assert_int_equal(used, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(accepts_valid_documents, q_test_setup),
        cmocka_unit_test_setup(scan_string_tells_escapes, q_test_setup),
        cmocka_unit_test_setup(rejects_with_status_and_offset, q_test_setup),
        cmocka_unit_test_setup(depth_limit_edges, q_test_setup),
        cmocka_unit_test_setup(every_prefix_is_truncated, q_test_setup),
        cmocka_unit_test_setup(scan_value_positions_and_depth, q_test_setup),
        cmocka_unit_test_setup(error_record_has_no_input_bytes, q_test_setup),
        cmocka_unit_test_setup(deep_nesting_is_iterative, q_test_setup),
        cmocka_unit_test_setup(deep_mixed_types_match, q_test_setup),
        cmocka_unit_test_setup(deep_stack_allocation_failure, q_test_setup),
        cmocka_unit_test_setup(utf8_matches_reference, q_test_setup),
        cmocka_unit_test_setup(utf8_validate_offsets, q_test_setup),
        cmocka_unit_test_setup(string_scan_window_positions, q_test_setup),
        cmocka_unit_test_setup(replacement_char_is_found, q_test_setup),
        cmocka_unit_test_setup(inputs_end_at_guard_page, q_test_setup),
        cmocka_unit_test_setup(compact_removes_only_insignificant_ws, q_test_setup),
        cmocka_unit_test_setup(mutation_consistency, q_test_setup),
        cmocka_unit_test_setup(unescape_decodes_all_forms, q_test_setup),
        cmocka_unit_test_setup(string_eq_and_equal, q_test_setup),
        cmocka_unit_test_setup(string_hash_is_fnv1a_of_decoded, q_test_setup),
        cmocka_unit_test_setup(writer_escapes_like_serde, q_test_setup),
        cmocka_unit_test_setup(writer_output_round_trips, q_test_setup),
        cmocka_unit_test_setup(string_token_is_rewritten_canonically, q_test_setup),
        cmocka_unit_test_setup(writer_numbers, q_test_setup),
        cmocka_unit_test_setup(writer_allocation_failures, q_test_setup),
        cmocka_unit_test(escaper_modes_and_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
