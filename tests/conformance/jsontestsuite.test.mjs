// JSONTestSuite (nst/JSONTestSuite, vendored unmodified in ./JSONTestSuite/test_parsing) through
// the real dist/qollective.wasm, two ways per file:
//   validate: q.validateJson(<file>)                          (default max_depth)
//   payload:  q.decode({"meta":{},"payload":<file>})           (the envelope decoder, default limits)
// y_ files must be accepted by both, n_ files rejected by both with a JSON_* QollectiveError, and
// i_ files (implementation-defined) must give the outcome in I_CASES below, which follows
// serde_json (`serde_json::from_slice::<serde_json::Value>`, the upstream servers' parser; serde_json
// 1.0.150 as read from its source, default features) except for the KNOWN_DISCREPANCIES listed.
// Every failure must be a QollectiveError (never a trap or another exception) whose offset lies
// within the input. Takes well under a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { WASM } from '../js/module.mjs';
import { trimWs } from './bytes.mjs';

// a path, not a URL: file names contain '#' (n_structure_trailing_#.json)
const DIR = fileURLToPath(new URL('./JSONTestSuite/test_parsing/', import.meta.url));
const readCase = (name) => new Uint8Array(readFileSync(join(DIR, name)));
const MAX_DEPTH = Number(/#define\s+Q_DEFAULT_MAX_DEPTH\s+(\d+)/.exec(
  readFileSync(new URL('../../include/qollective/constants.h', import.meta.url), 'utf8'))[1]);

const q = await Qollective.load(WASM);
const PREFIX = new TextEncoder().encode('{"meta":{},"payload":');
const SUFFIX = new TextEncoder().encode('}');

// ---- i_ files: the expected outcome, for validate and payload alike ------------------------
// ours:  'accept' or the QollectiveError code we give (both ways);
// serde: 'accept' or serde_json's error (both for the file alone and wrapped in the envelope);
// why:   the reason, one phrase. serde_json line numbers: serde_json 1.0.150 (commit 827a315),
//        src/de.rs and src/read.rs.
// A row whose ours/serde disagree on accept-vs-reject must be listed in KNOWN_DISCREPANCIES.
const OUT_OF_RANGE = 'NumberOutOfRange (de.rs parse_exponent_overflow 859-868 / f64_from_parts 639-668)';
const I_CASES = {
  // numbers: serde_json converts every number of a Value to u64/i64/f64 and refuses an infinite
  // f64; so do we (OUT_OF_RANGE, EXCEPTIONS.md §3), though payload numbers stay text.
  'i_number_double_huge_neg_exp.json':   { ours: 'accept', serde: 'accept', why: '123.456e-789 underflows to 0.0' },
  'i_number_huge_exp.json':              { ours: 'OUT_OF_RANGE', serde: OUT_OF_RANGE, why: '0.4e<very long exponent>: exponent overflows i32, non-zero significand, positive exponent' },
  'i_number_neg_int_huge_exp.json':      { ours: 'OUT_OF_RANGE', serde: OUT_OF_RANGE, why: '-1e+9999 beyond f64' },
  'i_number_pos_double_huge_exp.json':   { ours: 'OUT_OF_RANGE', serde: OUT_OF_RANGE, why: '1.5e+9999 beyond f64' },
  'i_number_real_neg_overflow.json':     { ours: 'OUT_OF_RANGE', serde: OUT_OF_RANGE, why: '-123123e100000 beyond f64' },
  'i_number_real_pos_overflow.json':     { ours: 'OUT_OF_RANGE', serde: OUT_OF_RANGE, why: '123123e100000 beyond f64' },
  'i_number_real_underflow.json':        { ours: 'accept', serde: 'accept', why: '123e-10000000 underflows to 0.0' },
  'i_number_too_big_neg_int.json':       { ours: 'accept', serde: 'accept', why: 'integer beyond i64 becomes an f64 (de.rs parse_long_integer)' },
  'i_number_too_big_pos_int.json':       { ours: 'accept', serde: 'accept', why: 'integer beyond u64 becomes an f64' },
  'i_number_very_big_negative_int.json': { ours: 'accept', serde: 'accept', why: 'integer beyond i64 becomes an f64' },
  // \u surrogate escapes: Value strings are parsed with validate = true (read.rs parse_str 587-588)
  'i_object_key_lone_2nd_surrogate.json':                { ours: 'JSON_SURROGATE', serde: 'LoneLeadingSurrogateInHexEscape (read.rs 911-914)', why: 'lone low surrogate \\uDFAA in a key' },
  'i_string_1st_surrogate_but_2nd_missing.json':         { ours: 'JSON_SURROGATE', serde: 'UnexpectedEndOfHexEscape (read.rs 927-936)', why: 'high surrogate \\uDADA then end of string' },
  'i_string_1st_valid_surrogate_2nd_invalid.json':       { ours: 'JSON_SURROGATE', serde: 'LoneLeadingSurrogateInHexEscape (read.rs 955-960)', why: 'high surrogate then non-surrogate \\u1234' },
  'i_string_incomplete_surrogate_and_escape_valid.json': { ours: 'JSON_SURROGATE', serde: 'UnexpectedEndOfHexEscape (read.rs 939-944)', why: 'high surrogate then \\n' },
  'i_string_incomplete_surrogate_pair.json':             { ours: 'JSON_SURROGATE', serde: 'UnexpectedEndOfHexEscape (read.rs 927-936)', why: 'high surrogate \\uDd1e then plain "a"' },
  'i_string_incomplete_surrogates_escape_valid.json':    { ours: 'JSON_SURROGATE', serde: 'LoneLeadingSurrogateInHexEscape (read.rs 955-960)', why: 'high surrogate then another high surrogate' },
  'i_string_invalid_lonely_surrogate.json':              { ours: 'JSON_SURROGATE', serde: 'UnexpectedEndOfHexEscape (read.rs 927-936)', why: 'lone high surrogate \\ud800' },
  'i_string_invalid_surrogate.json':                     { ours: 'JSON_SURROGATE', serde: 'UnexpectedEndOfHexEscape (read.rs 927-936)', why: 'high surrogate then plain "abc"' },
  'i_string_inverted_surrogates_U+1D11E.json':           { ours: 'JSON_SURROGATE', serde: 'LoneLeadingSurrogateInHexEscape (read.rs 911-914)', why: 'low surrogate before high surrogate' },
  'i_string_lone_second_surrogate.json':                 { ours: 'JSON_SURROGATE', serde: 'LoneLeadingSurrogateInHexEscape (read.rs 911-914)', why: 'lone low surrogate \\uDFAA' },
  // raw bytes in strings: str::from_utf8 of the string (read.rs as_str 868-869)
  'i_string_UTF-8_invalid_sequence.json':          { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'invalid UTF-8 byte FA after valid characters' },
  'i_string_UTF8_surrogate_U+D800.json':           { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'surrogate encoded in UTF-8 (ED A0 80)' },
  'i_string_invalid_utf-8.json':                   { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'byte FF' },
  'i_string_iso_latin_1.json':                     { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'Latin-1 byte E9' },
  'i_string_lone_utf8_continuation_byte.json':     { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'stray continuation byte 81' },
  'i_string_not_in_unicode_range.json':            { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'F4 BF BF BF is above U+10FFFF' },
  'i_string_overlong_sequence_2_bytes.json':       { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'overlong C0 AF' },
  'i_string_overlong_sequence_6_bytes.json':       { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: '6-byte sequence FC ...' },
  'i_string_overlong_sequence_6_bytes_null.json':  { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: '6-byte overlong NUL' },
  'i_string_truncated-utf-8.json':                 { ours: 'JSON_UTF8', serde: 'InvalidUnicodeCodePoint (read.rs 868-869)', why: 'E0 followed by FF' },
  // encodings other than UTF-8 and a BOM: no byte skipping before a value (de.rs parse_whitespace 255-266)
  'i_string_UTF-16LE_with_BOM.json':          { ours: 'JSON_SYNTAX', serde: 'ExpectedSomeValue (de.rs deserialize_any 1455)', why: 'UTF-16LE with BOM: FF FE is not a value' },
  'i_string_utf16BE_no_BOM.json':             { ours: 'JSON_SYNTAX', serde: 'ExpectedSomeValue (de.rs deserialize_any 1455)', why: 'UTF-16BE: leading NUL byte' },
  'i_string_utf16LE_no_BOM.json':             { ours: 'JSON_SYNTAX', serde: 'ExpectedSomeValue (de.rs deserialize_any 1455)', why: 'UTF-16LE: NUL after "["' },
  'i_structure_UTF-8_BOM_empty_object.json':  { ours: 'JSON_SYNTAX', serde: 'ExpectedSomeValue (de.rs deserialize_any 1455)', why: 'UTF-8 BOM is not skipped (EXCEPTIONS.md §4)' },
  // depth: remaining_depth starts at 128 (de.rs 63) and the 128th container fails (check_recursion 1372-1378)
  'i_structure_500_nested_arrays.json':       { ours: 'JSON_DEPTH', serde: 'RecursionLimitExceeded (de.rs 1372-1378)', why: '500 levels > 127 (Q_DEFAULT_MAX_DEPTH, EXCEPTIONS.md §1)' },
};

// Files where our accept/reject differs from serde_json's. Expected to pass as listed (ours), so
// fixing the core makes this test fail until the row and this list are updated.
const KNOWN_DISCREPANCIES = [];

// ---- running one file ------------------------------------------------------------------------

function wrap(bytes) {
  const out = new Uint8Array(PREFIX.length + bytes.length + SUFFIX.length);
  out.set(PREFIX, 0);
  out.set(bytes, PREFIX.length);
  out.set(SUFFIX, PREFIX.length + bytes.length);
  return out;
}

/** Runs fn(input); returns { ok: true, value } or { ok: false, error } and checks the failure's shape. */
function outcome(what, input, fn) {
  let value;
  try {
    value = fn(input);
  } catch (error) {
    assert.ok(error instanceof QollectiveError, `${what}: threw ${error?.name}: ${error?.message} (not a QollectiveError)`);
    assert.ok(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= input.length,
      `${what}: ${error.code} offset ${error.offset} outside the input (length ${input.length})`);
    return { ok: false, error };
  }
  return { ok: true, value };
}

const show = (r) => (r.ok ? 'accept' : `${r.error.code}@${r.error.offset} (${r.error.message})`);

function run(name) {
  const bytes = readCase(name);
  const wrapped = wrap(bytes);
  return {
    bytes,
    validate: outcome(`${name} validate`, bytes, (b) => q.validateJson(b)),
    payload: outcome(`${name} payload`, wrapped, (b) => q.decode(b)),
  };
}

const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const kind = (p) => FILES.filter((f) => f.startsWith(p));
const Y = kind('y_'), N = kind('n_'), I = kind('i_');

// ---- tests -----------------------------------------------------------------------------------

test('the vendored corpus is complete: 318 files, 95 y_ / 188 n_ / 35 i_, every i_ in the table', () => {
  assert.equal(FILES.length, 318);
  assert.deepEqual([Y.length, N.length, I.length], [95, 188, 35]);
  assert.deepEqual(Object.keys(I_CASES).sort(), I);
  for (const [name, c] of Object.entries(I_CASES)) {
    assert.ok(c.ours && c.serde && c.why, `${name}: incomplete row`);
    // OUT_OF_RANGE: a well-formed number no double holds (EXCEPTIONS.md §3)
    assert.ok(c.ours === 'accept' || c.ours === 'OUT_OF_RANGE' || /^JSON_[A-Z0-9_]+$/.test(c.ours), `${name}: ours must be accept, OUT_OF_RANGE or a JSON_* code`);
  }
  // the discrepancy list is exactly the rows where ours and serde_json disagree
  const differ = Object.entries(I_CASES).filter(([, c]) => (c.ours === 'accept') !== (c.serde === 'accept')).map(([n]) => n).sort();
  assert.deepEqual(differ, [...KNOWN_DISCREPANCIES].sort());
});

test(`y_: all ${Y.length} accepted by validate and as a payload; payload slice is the document`, () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const bad = [];
  for (const name of Y) {
    const r = run(name);
    if (!r.validate.ok || !r.payload.ok) { bad.push(`${name}: validate ${show(r.validate)}, payload ${show(r.payload)}`); continue; }
    const env = r.payload.value;
    assert.deepEqual(env.payloadBytes, trimWs(r.bytes), `${name}: payload slice`);
    assert.ok(isDeepStrictEqual(env.payload, JSON.parse(fatal.decode(r.bytes))), `${name}: payload value differs from V8's`);
  }
  assert.deepEqual(bad, []);
});

test(`n_: all ${N.length} rejected by validate and as a payload with a JSON_* QollectiveError`, () => {
  const bad = [];
  for (const name of N) {
    const r = run(name);
    for (const way of ['validate', 'payload']) {
      const o = r[way];
      if (o.ok) bad.push(`${name}: ${way} accepted`);
      else if (!/^JSON_[A-Z0-9_]+$/.test(o.error.code)) bad.push(`${name}: ${way} ${show(o)} (not a JSON_* code)`);
    }
  }
  assert.deepEqual(bad, []);
});

test(`i_: all ${I.length} give the outcome of the table (serde_json's, except ${KNOWN_DISCREPANCIES.length} known discrepancies)`, () => {
  const bad = [];
  for (const name of I) {
    const want = I_CASES[name].ours;
    const r = run(name);
    for (const way of ['validate', 'payload']) {
      const got = r[way].ok ? 'accept' : r[way].error.code;
      if (got !== want) bad.push(`${name}: ${way} ${show(r[way])}, table says ${want} (serde_json: ${I_CASES[name].serde})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('depth boundary from i_structure_500_nested_arrays: serde_json accepts 127 levels in a body, rejects 128', () => {
  assert.ok(MAX_DEPTH <= 127, `Q_DEFAULT_MAX_DEPTH = ${MAX_DEPTH} exceeds serde_json's limit`);
  const deep = readCase('i_structure_500_nested_arrays.json');
  const nest = (k) => new Uint8Array([...deep.subarray(0, k), ...new Uint8Array(k).fill(0x5d)]);
  assert.equal(deep.subarray(0, 128).every((c) => c === 0x5b), true);
  // alone: MAX_DEPTH levels pass, one more fails at the bracket that opens it
  q.validateJson(nest(MAX_DEPTH));
  const v = outcome('validate', nest(MAX_DEPTH + 1), (b) => q.validateJson(b));
  assert.equal(v.ok ? 'accept' : v.error.code, 'JSON_DEPTH');
  assert.equal(v.error.offset, MAX_DEPTH);
  // in a payload the envelope object is a level: MAX_DEPTH - 1 pass, MAX_DEPTH fail
  q.decode(wrap(nest(MAX_DEPTH - 1)));
  const p = outcome('payload', wrap(nest(MAX_DEPTH)), (b) => q.decode(b));
  assert.equal(p.ok ? 'accept' : p.error.code, 'JSON_DEPTH');
  assert.equal(p.error.offset, PREFIX.length + MAX_DEPTH - 1);
});
