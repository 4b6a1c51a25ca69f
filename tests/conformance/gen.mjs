// Deterministic generator of valid and invalid JSON documents for the differential test:
// edge numbers, every escape, surrogate pairs (valid and broken), invalid UTF-8, control
// characters, whitespace (allowed and forbidden), literals, nesting around the depth limit,
// duplicate keys, BOMs, huge strings and digit runs, trailing garbage, and random mutations.
// Same seed, same documents (no Math.random). Documents are bytes, never strings, so any
// byte sequence can be produced.

const te = new TextEncoder();

/** mulberry32: small, fast, good enough for test generation. */
export function makeRng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),                 // 0..n-1
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// ---- byte helpers --------------------------------------------------------------------

const cat = (...parts) => {
  const bufs = parts.map((p) => (typeof p === 'string' ? te.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bufs) { out.set(b, at); at += b.length; }
  return out;
};
const B = (...bytes) => Uint8Array.from(bytes);
const hex4 = (r, v) => {
  const h = v.toString(16).padStart(4, '0');
  return r.chance(0.3) ? h.toUpperCase() : h;
};

/** Envelope bytes with the document as its payload: {"meta":{},"payload":<doc>}. */
export const ENVELOPE_PREFIX = te.encode('{"meta":{},"payload":');
export const ENVELOPE_SUFFIX = te.encode('}');
export function wrap(doc) { return cat(ENVELOPE_PREFIX, doc, ENVELOPE_SUFFIX); }

// ---- numbers -------------------------------------------------------------------------

const EDGE_NUMBERS = [
  '0', '-0', '0.0', '-0.0', '0e0', '0E+0', '-0e-0', '1E+2', '1e2', '1E2', '1e-2', '1.5', '-1.5e-7',
  '1e308', '-1e308', '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308',
  '1.797693134862315807e308', '1e309', '1e400', '-1e400', '1e-400', '-1e-400', '4.9e-324', '5e-324', '2.5e-324',
  '2.2250738585072014e-308', '9007199254740991', '9007199254740993', '-9007199254740993',
  '18446744073709551615', '18446744073709551616', '-9223372036854775808', '-9223372036854775809',
  '123456789012345678901234567890', '0.1e1', '100e-2', '1e0000000000000000000000001', '1e-99999999999999999999',
  '0.' + '0'.repeat(400) + '1', '1' + '0'.repeat(400), '9'.repeat(309), '9'.repeat(310) + 'e-1', '1e+308', '10e307',
];
const BAD_NUMBERS = [
  '01', '-01', '00', '-', '+1', '+0', '1.', '.5', '-.5', '1.e5', '1e', '1e+', '1e-', '1E+-2', '0x10', '0X1F', '1_000',
  'Infinity', '-Infinity', 'NaN', '-NaN', '1.5.5', '1e5e5', '--1', '- 1', '1 2', '0.0.0', '١', '１', '1f', '1d', '.', 'e5', '-e5',
  '2.', '1.0e', '08', '-00.5', '1ee2', '1E++2',
];

function randDigits(r, n, lead = true) {
  let s = lead ? String(r.range(1, 9)) : String(r.int(10));
  for (let i = 1; i < n; i++) s += r.int(10);
  return s;
}

function randNumberText(r) {
  if (r.chance(0.3)) return r.pick(EDGE_NUMBERS);
  if (r.chance(0.15)) return r.pick(BAD_NUMBERS);
  let s = r.chance(0.3) ? '-' : '';
  const big = r.chance(0.05);
  s += r.chance(0.2) ? '0' : randDigits(r, big ? r.range(20, 2000) : r.range(1, 20));
  if (r.chance(0.4)) s += '.' + randDigits(r, big ? r.range(20, 1000) : r.range(1, 20), false);
  if (r.chance(0.4)) s += r.pick(['e', 'E']) + r.pick(['', '+', '-']) + randDigits(r, r.range(1, big ? 30 : 4), false);
  return s;
}

// Numbers at the double overflow threshold T = 2^1024 - 2^970 (the midpoint between DBL_MAX
// and 2^1024; round-half-even sends T itself to infinity), written in many equivalent ways.
const T = (1n << 1024n) - (1n << 970n);
const DBL_MAX = ((1n << 53n) - 1n) << 971n;
function f64EdgeText(r) {
  const base = r.pick([T, T - 1n, T + 1n, DBL_MAX, DBL_MAX + 1n, DBL_MAX - 1n, T - (1n << 900n), T + (1n << 900n)]);
  // value = 0.M x 10^E with M the mantissa digits (309 of them for every base above)
  let m = base.toString();
  const E = m.length;
  if (r.chance(0.25)) m = m.slice(0, r.range(1, 40));                             // a shorter mantissa
  if (r.chance(0.3)) m += r.pick(['0', '000', '5', '9'.repeat(r.range(1, 40)), '0'.repeat(r.range(1, 40)) + '1']);
  const sign = r.chance(0.2) ? '-' : '';
  const exp = (n) => (n >= 0 ? r.pick(['e', 'E', 'e+', 'E+']) + n : r.pick(['e', 'E']) + n);
  switch (r.int(5)) {
    case 0: return sign + (m.length >= E ? m.slice(0, E) + (m.length > E ? '.' + m.slice(E) : '') : m.padEnd(E, '0'));
    case 1: return sign + m[0] + (m.length > 1 ? '.' + m.slice(1) : '') + exp(E - 1);
    case 2: { const z = r.int(5); return sign + '0.' + '0'.repeat(z) + m + exp(E + z); }
    case 3: { const z = r.int(30); return sign + m + '0'.repeat(z) + exp(E - m.length - z); }
    default: { const k = r.range(1, m.length); return sign + m.slice(0, k) + (k < m.length ? '.' + m.slice(k) : '') + exp(E - k); }
  }
}

// ---- strings -------------------------------------------------------------------------

const SHORT_ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'];
const BAD_ESCAPES = ['\\a', '\\x41', '\\u12', '\\u12G4', '\\U0041', '\\u{41}', "\\'", '\\0', '\\ ', '\\v', '\\e', '\\u', '\\uD83D\\u', '\\'];

function utf8Of(cp) { return te.encode(String.fromCodePoint(cp)); }

function randCodePoint(r) {
  switch (r.int(6)) {
    case 0: return r.range(0x20, 0x7e);
    case 1: return r.range(0x80, 0x7ff);
    case 2: return r.pick([0xe9, 0x20ac, 0x2028, 0x2029, 0xfeff, 0xfffe, 0xffff, 0xd7ff, 0xe000, 0x7f, 0xa0, 0x3000]);
    case 3: { let c; do c = r.range(0x800, 0xffff); while (c >= 0xd800 && c <= 0xdfff); return c; }
    case 4: return r.range(0x10000, 0x10ffff);
    default: return r.pick([0x1f600, 0x10ffff, 0x10000, 0x1d11e]);
  }
}

// Ill-formed UTF-8: overlongs, encoded surrogates, > U+10FFFF, truncated, stray continuation.
const BAD_UTF8 = [
  B(0xc0, 0x80), B(0xc0, 0xaf), B(0xc1, 0xbf), B(0xe0, 0x80, 0x80), B(0xe0, 0x9f, 0xbf), B(0xf0, 0x80, 0x80, 0x80),
  B(0xf0, 0x8f, 0xbf, 0xbf), B(0xed, 0xa0, 0x80), B(0xed, 0xbf, 0xbf), B(0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf),
  B(0xf4, 0x90, 0x80, 0x80), B(0xf5, 0x80, 0x80, 0x80), B(0xf7, 0xbf, 0xbf, 0xbf), B(0xf8, 0x88, 0x80, 0x80, 0x80),
  B(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80), B(0xfe), B(0xff), B(0xc2), B(0xe2, 0x82), B(0xf0, 0x9f, 0x98), B(0xe2),
  B(0x80), B(0xbf), B(0x80, 0x80), B(0xc2, 0x41), B(0xe2, 0x28, 0xa1), B(0xf0, 0x28, 0x8c, 0xbc), B(0xc3, 0xa9, 0xa9),
];

function surrogatePiece(r) {
  const hi = () => '\\u' + hex4(r, r.range(0xd800, 0xdbff));
  const lo = () => '\\u' + hex4(r, r.range(0xdc00, 0xdfff));
  switch (r.int(9)) {
    case 0: case 1: return hi() + lo();                 // valid pair
    case 2: return hi();                                // lone high
    case 3: return lo();                                // lone low
    case 4: return hi() + hi();                         // high high
    case 5: return lo() + hi();                         // reversed
    case 6: return hi() + r.pick(['\\n', '\\u0041', '\\uE000', 'x', '\\"']);  // high then something else
    case 7: return hi() + lo() + lo();                  // pair then lone low
    default: return '\\u' + hex4(r, r.pick([0xd800, 0xdbff, 0xdc00, 0xdfff])) + (r.chance(0.5) ? '\\u' + hex4(r, r.pick([0xdc00, 0xdfff])) : '');
  }
}

/** String body bytes (between the quotes). */
function randStringBody(r, maxPieces = 12, flavor = r.int(10)) {
  const parts = [];
  const n = r.int(maxPieces + 1);
  for (let i = 0; i < n; i++) {
    const k = r.int(100);
    if (k < 35) parts.push(te.encode(String.fromCharCode(r.range(0x20, 0x7e)).replace(/["\\]/, 'q')));
    else if (k < 50) parts.push(utf8Of(randCodePoint(r)));
    else if (k < 60) parts.push(te.encode(r.pick(SHORT_ESCAPES)));
    else if (k < 70) parts.push(te.encode('\\u' + hex4(r, r.chance(0.5) ? r.range(0, 0x7f) : r.pick([0, 0x1f, 0x22, 0x5c, 0x2f, 0x7f, 0xe9, 0xfeff, 0xffff, 0x2028, r.range(0xe000, 0xffff)]))));
    else if (k < 78 || flavor === 0) parts.push(te.encode(surrogatePiece(r)));
    else if (k < 84 || flavor === 1) parts.push(r.pick(BAD_UTF8));
    else if (k < 88 || flavor === 2) parts.push(B(r.chance(0.8) ? r.range(0, 0x1f) : 0x7f));   // raw control (and DEL, allowed)
    else if (k < 91) parts.push(te.encode(r.pick(BAD_ESCAPES)));
    else parts.push(te.encode('abc def'));
  }
  return cat(...parts);
}

function randString(r, maxPieces) { return cat('"', randStringBody(r, maxPieces), '"'); }

// Keys that decode equal under different spellings (for duplicate-key documents).
const KEY_SPELLINGS = [['a', '\\u0061', '\\u0061'], ['é', '\\u00e9', '\\u00E9'], ['/', '\\/', '\\u002f'], ['😀', '\\ud83d\\ude00', '\\uD83D\\uDE00']];

// ---- values --------------------------------------------------------------------------

const LITERALS = ['true', 'false', 'null'];
const BAD_LITERALS = ['True', 'TRUE', 'tru', 'truee', 'nul', 'nulll', 'NULL', 'None', 'nil', 'fals', 'falsey', 'undefined', 'f', 't', 'n', 'true false', 'nulltrue', 'tRue', 'ｔrue'];

/** A valid random JSON value (text), bounded in size. */
function randValue(r, depth = 0, budget = { n: 60 }) {
  budget.n--;
  const k = depth > 6 || budget.n <= 0 ? r.int(4) : r.int(7);
  switch (k) {
    case 0: return r.pick(LITERALS);
    case 1: return r.pick([...EDGE_NUMBERS.slice(0, 20), String(r.int(1000)), String(-r.int(1000) - 1) + '.25']);
    case 2: case 3: {
      let s = '';
      const n = r.int(6);
      for (let i = 0; i < n; i++) s += r.chance(0.7) ? String.fromCharCode(r.range(0x61, 0x7a)) : r.pick(SHORT_ESCAPES.concat(['\\u00e9', 'é', '€', '😀', '\\ud83d\\ude00']));
      return '"' + s + '"';
    }
    case 4: case 5: {
      const n = r.int(5);
      const items = [];
      for (let i = 0; i < n; i++) items.push(randValue(r, depth + 1, budget));
      return '[' + items.join(',') + ']';
    }
    default: {
      const n = r.int(5);
      const items = [];
      for (let i = 0; i < n; i++) {
        const key = r.chance(0.5) ? `k${r.int(5)}` : r.chance(0.8) ? String.fromCharCode(0x61 + r.int(26)) : r.pick(['', '\\u0061', 'é', '\\"', '__proto__']);
        items.push(`"${key}":${randValue(r, depth + 1, budget)}`);
      }
      return '{' + items.join(',') + '}';
    }
  }
}

// Whitespace between tokens: the four JSON ones, and ones JSON forbids.
const GOOD_WS = [' ', '\t', '\n', '\r', '  ', '\r\n', ' \t\n\r '];
const BAD_WS = [B(0x0c), B(0x0b), B(0xc2, 0xa0), B(0xe2, 0x80, 0xa8), B(0xe2, 0x80, 0xa9), B(0xef, 0xbb, 0xbf), B(0xe3, 0x80, 0x80), B(0x00), B(0x1c), B(0x1f), B(0x85), B(0xc2, 0x85), B(0xe1, 0x9a, 0x80)];

/** Inserts whitespace at token boundaries of a compact document (outside strings). */
function sprinkleWs(r, text, bad) {
  const bytes = te.encode(text);
  const out = [];
  let inStr = false, esc = false;
  const ws = () => (bad && r.chance(0.15) ? r.pick(BAD_WS) : te.encode(r.pick(GOOD_WS)));
  if (r.chance(0.3)) out.push(ws());
  for (const b of bytes) {
    if (inStr) {
      out.push(B(b));
      if (esc) esc = false; else if (b === 0x5c) esc = true; else if (b === 0x22) inStr = false;
      continue;
    }
    if (b === 0x22) { inStr = true; out.push(B(b)); continue; }
    const boundary = b === 0x7b || b === 0x7d || b === 0x5b || b === 0x5d || b === 0x2c || b === 0x3a;
    if (boundary && r.chance(0.3)) out.push(ws());
    out.push(B(b));
    if (boundary && r.chance(0.3)) out.push(ws());
  }
  if (r.chance(0.3)) out.push(ws());
  return cat(...out);
}

function nested(r, depth) {
  const open = [], close = [];
  for (let i = 0; i < depth; i++) {
    if (r.chance(0.5)) { open.push('['); close.push(']'); } else { open.push('{"k":'); close.push('}'); }
  }
  const inner = r.pick(['1', '"x"', '[]', '{}', 'null', '[1,2]']);
  let s = open.join('') + inner + close.reverse().join('');
  const variant = r.int(10);
  if (variant === 0) s = s.slice(0, -1);                          // one closer missing
  else if (variant === 1) s += r.pick([']', '}']);                 // one closer too many
  else if (variant === 2) s = s.replace(/\]$/, '}');               // mismatched closer
  return s;
}

// Random edit of a document: flip, insert, delete, duplicate or truncate.
const INTERESTING = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x0a, 0x30, 0x2d, 0x2e, 0x65, 0x75, 0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
function mutate(r, bytes) {
  const a = Array.from(bytes);
  const edits = r.range(1, 3);
  for (let e = 0; e < edits; e++) {
    const pos = a.length ? r.int(a.length + 1) : 0;
    const val = r.chance(0.6) ? r.pick(INTERESTING) : r.int(256);
    switch (r.int(5)) {
      case 0: if (pos < a.length) a[pos] = val; break;
      case 1: a.splice(pos, 0, val); break;
      case 2: a.splice(pos, 1); break;
      case 3: { const len = r.range(1, 8); a.splice(pos, 0, ...a.slice(pos, pos + len)); break; }
      default: a.length = Math.min(a.length, pos); break;
    }
  }
  return Uint8Array.from(a);
}

// ---- hand-written edge documents (every run starts with these) ------------------------

const FIXED = [
  '', ' ', '\n\t\r ', 'null', 'true', 'false', '0', '-0', '""', '[]', '{}', '[[]]', '{"":""}', '{"a":1,"a":2}',
  '{"a":1,"\\u0061":2}', '"\\u0000"', '"\\uD83D\\uDE00"', '"\\uD800"', '"\\uDFFF"', '"\\uDBFF\\uDFFF"', '"\\uD800\\uD800"',
  '"\\uDC00\\uD800"', '"\\uD800\\n"', '"\\uD800\\u0041"', '"\\ud800\\udc00"', '1e400', '-1e400', '1e-400', '[1e400,{"a":-1e999}]',
  '"\u2028\u2029"', '"\u{10FFFF}"', '"\uFFFE\uFFFF"', '"\x7f"', '[1,]', '[,1]', '{"a":1,}', '{,}', '{"a"}', '{"a":}', '{1:1}', "{'a':1}",
  '["a" "b"]', '[1 2]', '{"a":1 "b":2}', '[', ']', '{', '}', '[}', '{]', '"', '"abc', '"\\', '"\\u00', 'nul', 'tru', 'fals',
  '1 2', '[] []', '{}x', '0/', '/*c*/0', '0//c', '[-]', '[.1]', '[1.]', '[01]', '[+1]', '[0x1]', '[Infinity]', '[NaN]',
  '"\t"', '"\n"', '"\x00"', '"\x1f"', '\u00a0[]', '[]\u00a0', '\f[]', '\v[]', '[\f]', '\uFEFF[]', '[\uFEFF]', '"\uFEFF"',
  '1'.repeat(1000), '-' + '9'.repeat(500) + '.' + '9'.repeat(500) + 'e-999', '[' + '1,'.repeat(5000) + '1]',
  '['.repeat(126) + ']'.repeat(126), '['.repeat(127) + ']'.repeat(127), '['.repeat(128) + ']'.repeat(128), '['.repeat(129) + ']'.repeat(129),
  '{"a":'.repeat(127) + '1' + '}'.repeat(127), '{"a":'.repeat(128) + '1' + '}'.repeat(128),
  '['.repeat(128), ']'.repeat(3), '['.repeat(1000) + ']'.repeat(1000), '"' + 'x'.repeat(100000) + '"',
].map((s) => te.encode(s));
const FIXED_BYTES = [
  B(0xef, 0xbb, 0xbf, 0x5b, 0x5d), B(0xef, 0xbb, 0xbf), B(0xef, 0xbb, 0xbf, 0x22, 0x22), B(0x22, 0xc0, 0xaf, 0x22), B(0x22, 0xed, 0xa0, 0x80, 0x22),
  B(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22), B(0x22, 0xe2, 0x82, 0x22), B(0x22, 0x80, 0x22), B(0x5b, 0x80, 0x5d), B(0xff), B(0x22, 0xe2, 0x82),
  B(0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22), B(0x5b, 0x31, 0x00, 0x5d), B(0x22, 0x5c, 0x75, 0x44, 0x38, 0x30, 0x30, 0xed, 0xb0, 0x80, 0x22),
];

// ---- the case stream -------------------------------------------------------------------

const KINDS = ['number', 'f64edge', 'string', 'surrogate', 'utf8', 'control', 'nesting', 'whitespace', 'literal', 'value', 'mutation',
  'dupkeys', 'trailing', 'bom', 'huge', 'escapes'];

function makeCase(r) {
  const kind = r.pick(KINDS);
  let doc;
  switch (kind) {
    case 'number': {
      const t = randNumberText(r);
      doc = r.chance(0.5) ? t : r.pick([`[${t}]`, `{"n":${t}}`, `[${t},${randNumberText(r)}]`, ` ${t} `]);
      break;
    }
    case 'f64edge': doc = f64EdgeText(r); break;
    case 'string': doc = randString(r, 16); break;
    case 'surrogate': doc = cat('"', r.chance(0.5) ? 'a' : '', surrogatePiece(r), r.chance(0.5) ? surrogatePiece(r) : '', '"'); break;
    case 'utf8': {
      const body = cat(te.encode('x'), r.chance(0.7) ? r.pick(BAD_UTF8) : utf8Of(randCodePoint(r)), r.chance(0.5) ? utf8Of(randCodePoint(r)) : B());
      doc = r.chance(0.8) ? cat('"', body, '"') : r.chance(0.5) ? cat('["', body, '"]') : cat('{"', body, '":1}');
      if (r.chance(0.1)) doc = cat('[', r.pick(BAD_UTF8), ']');                    // outside a string
      break;
    }
    case 'control': doc = cat('"', 'a', B(r.range(0, 0x1f)), 'b', '"'); if (r.chance(0.2)) doc = cat('[1', B(r.range(0, 0x1f)), ']'); break;
    case 'nesting': doc = te.encode(nested(r, r.pick([1, 2, 3, 50, 100, 125, 126, 127, 127, 128, 128, 129, 130, 200, 500, 3000]))); break;
    case 'whitespace': doc = sprinkleWs(r, randValue(r), r.chance(0.5)); break;
    case 'literal': {
      const l = r.chance(0.5) ? r.pick(BAD_LITERALS) : r.pick(LITERALS);
      doc = te.encode(r.pick([l, `[${l}]`, `{"a":${l}}`, `[${l},${r.pick(LITERALS)}]`]));
      break;
    }
    case 'value': doc = te.encode(randValue(r)); break;
    case 'mutation': doc = mutate(r, r.chance(0.7) ? te.encode(randValue(r)) : randString(r, 6)); break;
    case 'dupkeys': {
      const sp = r.pick(KEY_SPELLINGS);
      doc = te.encode(`{"${r.pick(sp)}":${randValue(r, 5)},"b":1,"${r.pick(sp)}":${randValue(r, 5)}}`);
      break;
    }
    case 'trailing': {
      // Never starting with ',': `<value>,"key":...` would become a valid envelope member.
      const tail = r.pick([' x', '}', ']', ' 1', '"a"', ' []', B(0x00), '//c', '/*c*/', 'e5', '.5', ' true', B(0xef, 0xbb, 0xbf), '\f', ' :1']);
      doc = cat(randValue(r), tail);
      break;
    }
    case 'bom': {
      const v = te.encode(randValue(r));
      const bom = B(0xef, 0xbb, 0xbf);
      doc = r.pick([cat(bom, v), cat(v, bom), cat('[', bom, '1]'), cat('"', bom, '"'), cat(bom, bom, v)]);
      break;
    }
    case 'huge': {
      const n = r.pick([1000, 10000, 65536, 200000]);
      doc = r.pick([
        () => te.encode('"' + 'ab\\n€'.repeat(n / 5) + '"'),
        () => te.encode(randDigits(r, Math.min(n, 20000)) + (r.chance(0.5) ? 'e-' + randDigits(r, 3) : '')),
        () => te.encode('[' + Array.from({ length: n / 10 }, (_, i) => i).join(',') + ']'),
        () => te.encode('{' + Array.from({ length: n / 20 }, (_, i) => `"k${i % 500}":${i}`).join(',') + '}'),
        () => cat('"', 'x'.repeat(n), r.pick(BAD_UTF8), '"'),
      ])();
      break;
    }
    default: {   // escapes: every short escape and \u forms in one string
      const pieces = [];
      for (let i = r.range(1, 10); i > 0; i--) pieces.push(r.chance(0.8) ? r.pick(SHORT_ESCAPES) : r.chance(0.5) ? '\\u' + hex4(r, r.int(0x10000)) : r.pick(BAD_ESCAPES));
      doc = te.encode('"' + pieces.join('') + '"');
    }
  }
  return { kind, doc: typeof doc === 'string' ? te.encode(doc) : doc };
}

/** The cases: the fixed edge documents, then `count` generated ones (total = FIXED + count). */
export function* generate({ seed = 20240301, count = 100000 } = {}) {
  let id = 0;
  for (const doc of FIXED) yield { id: id++, kind: 'fixed', doc };
  for (const doc of FIXED_BYTES) yield { id: id++, kind: 'fixed', doc };
  const r = makeRng(seed);
  for (let i = 0; i < count; i++) yield { id: id++, ...makeCase(r) };
}

export const FIXED_COUNT = FIXED.length + FIXED_BYTES.length;
