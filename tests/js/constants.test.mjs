// Every default and limit lives in include/qollective/constants.h (and the record layout in
// include/qollective.h); the glue names the ones it needs as `const NAME = value;   // Q_NAME`.
// These tests hold each such constant to the header's value, and keep the glue from repeating
// one of those values as a bare number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { C } from './c-constants.mjs';

const glue = readFileSync(new URL('../../js-glue/qollective.js', import.meta.url), 'utf8');
const named = [...glue.matchAll(/^const (\w+) = (\d+);\s*\/\/ (Q_\w+)/gm)].map(([, name, value, c]) => ({ name, value: +value, c }));
// what the glue must name (a constant dropped or renamed without its C name fails here)
const REQUIRED = { RECORD_WORDS: 'Q_DECODE_RECORD_WORDS', TAPE_WORDS: 'Q_DECODE_TAPE_WORDS', MESSAGE_CHARS: 'Q_MAX_ERROR_MESSAGE_CHARS',
  AUTOFILL: 'Q_ENCODE_AUTOFILL', REQUEST_ID_BYTES: 'Q_ENTROPY_REQUEST_ID_BYTES', SEED_BYTES: 'Q_ENTROPY_SEED_BYTES',
  PREPARE_BYTES: 'Q_ENTROPY_PREPARE_BYTES', SIGN_BYTES: 'Q_ENTROPY_BYTES', ENTROPY_POOL: 'Q_GLUE_ENTROPY_POOL_BYTES', CORK_BYTES: 'Q_GLUE_WS_CORK_BYTES', UTF16_MIN_UNITS: 'Q_GLUE_UTF16_MIN_UNITS',
  HOST_IDENT_CHARS: 'Q_GLUE_HOST_IDENT_MAX_CHARS', LOG_HEADER_NAME_CHARS: 'Q_GLUE_LOG_HEADER_NAME_CHARS' };

test('the headers were read (guards the parsing)', () => {
  assert.equal(C.Q_DEFAULT_MAX_ENVELOPE_BYTES, 1 << 20);
  assert.equal(C.Q_ERROR_MESSAGE_BYTES, 4 * C.Q_MAX_ERROR_MESSAGE_CHARS);   // an expression of another constant
  assert.ok(Object.keys(C).length > 50, `${Object.keys(C).length} constants`);
});

test('every constant the glue names after a C constant has its value', () => {
  for (const [name, c] of Object.entries(REQUIRED)) assert.ok(named.some((k) => k.name === name && k.c === c), `the glue names ${name} after ${c}`);
  for (const { name, value, c } of named) {
    assert.ok(c in C, `${name}: ${c} is not in the headers`);
    assert.equal(value, C[c], `${name} = ${value}, ${c} = ${C[c]}`);
  }
});

test('the glue code does not repeat a named value as a bare number', () => {
  // code only: comments and the message tables (template texts) left out
  const code = glue.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/`[^`]*`/g, '``');
  // values with one meaning in the glue: small numbers are also offsets, shifts and sizes, 65536 a
  // WebSocket frame header's bound
  for (const { name, value } of named.filter((k) => k.value >= 100 && k.value !== 65536)) {
    const uses = [...code.matchAll(new RegExp(`(?<![\\w.])${value}(?![\\w.])`, 'g'))].length;
    assert.equal(uses, 1, `${value} (${name}) appears ${uses} times in the glue's code: name it`);
  }
});
