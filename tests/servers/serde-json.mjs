// serde-json.mjs — a JSON reader/writer for the reference servers that behaves like serde_json:
// same grammar and error texts ("... at line L column C"), exact integers, ryu float text, sorted maps.

// serde_json's ErrorCode texts; EOF_* codes are Category::Eof, the rest Category::Syntax.
export const ERR = Object.freeze({
  EofWhileParsingList: 'EOF while parsing a list',
  EofWhileParsingObject: 'EOF while parsing an object',
  EofWhileParsingString: 'EOF while parsing a string',
  EofWhileParsingValue: 'EOF while parsing a value',
  ExpectedColon: 'expected `:`',
  ExpectedListCommaOrEnd: 'expected `,` or `]`',
  ExpectedObjectCommaOrEnd: 'expected `,` or `}`',
  ExpectedSomeIdent: 'expected ident',
  ExpectedSomeValue: 'expected value',
  InvalidEscape: 'invalid escape',
  InvalidNumber: 'invalid number',
  NumberOutOfRange: 'number out of range',
  InvalidUnicodeCodePoint: 'invalid unicode code point',
  ControlCharacterWhileParsingString: 'control character (\\u0000-\\u001F) found while parsing a string',
  KeyMustBeAString: 'key must be a string',
  LoneLeadingSurrogateInHexEscape: 'lone leading surrogate in hex escape',
  TrailingComma: 'trailing comma',
  TrailingCharacters: 'trailing characters',
  UnexpectedEndOfHexEscape: 'unexpected end of hex escape',
  RecursionLimitExceeded: 'recursion limit exceeded',
});

/** serde_json's default recursion limit: nesting depth 128 fails, 127 passes. */
export const SERDE_RECURSION_LIMIT = 128;

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

/** A JSON number kept as serde_json would print it after a parse (u64/i64 exact, f64 via ryu). */
export class RawNumber {
  constructor(text, kind) {
    this.text = text; // normalised serde_json output text
    this.kind = kind; // 'u64' | 'i64' | 'f64'
  }
  valueOf() { return Number(this.text); }
  toJSON() { return Number(this.text); }
}

/** Error raised by parse(); `message` is serde_json's Display text ("<what> at line L column C"). */
export class SerdeJsonError extends Error {
  constructor(what, category, line, column) {
    super(`${what} at line ${line} column ${column}`);
    this.what = what;
    this.category = category; // 'eof' | 'syntax' | 'data'
    this.line = line;
    this.column = column;
  }
}

// serde_json positions: `line` 1-based, `column` = bytes since the line start up to `byteIndex`.
export function positionOf(text, charIndex) {
  let lineStart = 0;
  let line = 1;
  for (let k = 0; k < charIndex && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) { line++; lineStart = k + 1; }
  }
  const column = Buffer.byteLength(text.slice(lineStart, Math.min(charIndex, text.length)));
  return { line, column };
}

function firstInvalidUtf8(buf) {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let need;
    let min;
    if (b < 0x80) { i++; continue; } else if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; } else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; } else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Parse JSON text (string or Buffer) the way serde_json::from_slice::<Value> does.
 * Returns { value, text, info } where objects are null-prototype objects (duplicate keys: last
 * wins, as in a serde_json Map), numbers are RawNumber, and `info` is a WeakMap from each
 * container to { end, childEnd: Map(key|index -> end), dups: [keys] } (char offsets, for data
 * error positions). Throws SerdeJsonError (category 'eof' | 'syntax').
 */
export function parse(input, { recursionLimit = SERDE_RECURSION_LIMIT } = {}) {
  let s;
  if (typeof input === 'string') {
    s = input;
  } else {
    const bad = firstInvalidUtf8(input);
    if (bad >= 0) {
      // serde_json reports the invalid byte's position; mimic with the byte offset.
      const before = input.subarray(0, bad);
      let line = 1;
      let lineStart = 0;
      for (let k = 0; k < before.length; k++) if (before[k] === 10) { line++; lineStart = k + 1; }
      throw new SerdeJsonError(ERR.InvalidUnicodeCodePoint, 'syntax', line, bad + 1 - lineStart);
    }
    s = input.toString('utf8');
  }
  const n = s.length;
  const info = new WeakMap();
  let i = 0;
  let depth = 0;

  const fail = (code, at) => {
    const what = ERR[code];
    const { line, column } = positionOf(s, Math.min(n, at));
    throw new SerdeJsonError(what, code.startsWith('Eof') ? 'eof' : 'syntax', line, column);
  };
  // peek errors point one past the offending char (clamped to the end), as serde_json's peek_position.
  const peekFail = (code) => fail(code, i + 1);

  function ws() {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  }

  function enter() {
    depth++;
    if (depth >= recursionLimit) peekFail('RecursionLimitExceeded');
  }

  function value() {
    ws();
    if (i >= n) peekFail('EofWhileParsingValue');
    const c = s[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') { i++; return string(); }
    if (c === 't') return ident('true', true);
    if (c === 'f') return ident('false', false);
    if (c === 'n') return ident('null', null);
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    return peekFail('ExpectedSomeValue');
  }

  function ident(word, v) {
    i++;
    for (let k = 1; k < word.length; k++) {
      if (i >= n) fail('EofWhileParsingValue', n);
      if (s[i] !== word[k]) fail('ExpectedSomeIdent', i + 1);
      i++;
    }
    return v;
  }

  function hex4() {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (i >= n) fail('EofWhileParsingString', n);
      const c = s.charCodeAt(i);
      let d;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 65 && c <= 70) d = c - 55;
      else if (c >= 97 && c <= 102) d = c - 87;
      else fail('InvalidEscape', i + 1);
      v = v * 16 + d;
      i++;
    }
    return v;
  }

  function string() {
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= n) fail('EofWhileParsingString', n);
      const c = s.charCodeAt(i);
      if (c === 0x22) { out += s.slice(runStart, i); i++; return out; }
      if (c < 0x20) fail('ControlCharacterWhileParsingString', i + 1);
      if (c !== 0x5c) { i++; continue; }
      out += s.slice(runStart, i);
      i++;
      if (i >= n) fail('EofWhileParsingString', n);
      const e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const u = hex4();
          if (u >= 0xdc00 && u <= 0xdfff) fail('LoneLeadingSurrogateInHexEscape', i);
          if (u >= 0xd800 && u <= 0xdbff) {
            if (s[i] !== '\\' || s[i + 1] !== 'u') fail('UnexpectedEndOfHexEscape', Math.min(n, i + 1));
            i += 2;
            const lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail('LoneLeadingSurrogateInHexEscape', i);
            out += String.fromCharCode(u, lo);
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default: fail('InvalidEscape', i);
      }
      runStart = i;
    }
  }

  function number() {
    const start = i;
    if (s[i] === '-') i++;
    if (i >= n) fail('EofWhileParsingValue', n);
    if (s[i] === '0') {
      i++;
      if (i < n && s[i] >= '0' && s[i] <= '9') peekFail('InvalidNumber');
    } else if (s[i] >= '1' && s[i] <= '9') {
      while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    } else {
      fail('InvalidNumber', i + 1);
    }
    let isFloat = false;
    if (s[i] === '.') {
      isFloat = true;
      i++;
      if (i >= n) fail('EofWhileParsingValue', n);
      if (!(s[i] >= '0' && s[i] <= '9')) fail('InvalidNumber', i + 1);
      while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (s[i] === 'e' || s[i] === 'E') {
      isFloat = true;
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (i >= n) fail('EofWhileParsingValue', n);
      if (!(s[i] >= '0' && s[i] <= '9')) fail('InvalidNumber', i + 1);
      while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    const lexeme = s.slice(start, i);
    return numberFromLexeme(lexeme, isFloat, () => fail('NumberOutOfRange', i));
  }

  function object() {
    enter();
    i++;
    const obj = Object.create(null);
    const meta = { start: i - 1, end: 0, childEnd: new Map(), dups: [] };
    ws();
    if (i >= n) fail('EofWhileParsingObject', n);
    if (s[i] === '}') {
      i++;
    } else {
      for (;;) {
        if (s[i] !== '"') peekFail('KeyMustBeAString');
        i++;
        const key = string();
        ws();
        if (i >= n) fail('EofWhileParsingObject', n);
        if (s[i] !== ':') peekFail('ExpectedColon');
        i++;
        const v = value();
        if (Object.prototype.hasOwnProperty.call(obj, key)) meta.dups.push(key);
        obj[key] = v;
        meta.childEnd.set(key, i);
        ws();
        if (i >= n) fail('EofWhileParsingObject', n);
        if (s[i] === ',') {
          i++;
          ws();
          if (i >= n) fail('EofWhileParsingValue', n);
          if (s[i] === '}') peekFail('TrailingComma');
          continue;
        }
        if (s[i] === '}') { i++; break; }
        peekFail('ExpectedObjectCommaOrEnd');
      }
    }
    meta.end = i;
    info.set(obj, meta);
    depth--;
    return obj;
  }

  function array() {
    enter();
    i++;
    const arr = [];
    const meta = { start: i - 1, end: 0, childEnd: new Map(), dups: [] };
    ws();
    if (i >= n) fail('EofWhileParsingList', n);
    if (s[i] === ']') {
      i++;
    } else {
      for (;;) {
        arr.push(value());
        meta.childEnd.set(arr.length - 1, i);
        ws();
        if (i >= n) fail('EofWhileParsingList', n);
        if (s[i] === ',') {
          i++;
          ws();
          if (i >= n) fail('EofWhileParsingValue', n);
          if (s[i] === ']') peekFail('TrailingComma');
          continue;
        }
        if (s[i] === ']') { i++; break; }
        peekFail('ExpectedListCommaOrEnd');
      }
    }
    meta.end = i;
    info.set(arr, meta);
    depth--;
    return arr;
  }

  const v = value();
  const end = i;
  ws();
  if (i < n) peekFail('TrailingCharacters');
  return { value: v, text: s, info, end };
}

/** serde_json's number model: integer lexemes become u64/i64 when they fit, else f64. */
export function numberFromLexeme(lexeme, isFloat, onOutOfRange = () => { throw new RangeError('number out of range'); }) {
  if (!isFloat) {
    const big = BigInt(lexeme);
    if (lexeme[0] !== '-') {
      if (big <= U64_MAX) return new RawNumber(big.toString(), 'u64');
    } else {
      if (big === 0n) return new RawNumber('-0.0', 'f64'); // serde_json parses "-0" as f64 -0.0
      if (big >= I64_MIN) return new RawNumber(big.toString(), 'i64');
    }
  }
  const f = Number(lexeme);
  if (!Number.isFinite(f)) return onOutOfRange();
  return new RawNumber(formatF64(f), 'f64');
}

/** Format an f64 exactly as serde_json does (ryu's shortest digits, ryu's layout rules). */
export function formatF64(x) {
  if (!Number.isFinite(x)) return 'null'; // serde_json writes NaN/inf as null
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const neg = x < 0;
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const len = digits.length;
  const e = Number(expStr);
  const k = e - (len - 1); // exponent of the last digit
  const kk = len + k; // position of the decimal point
  let out;
  if (k >= 0 && kk <= 16) out = digits + '0'.repeat(k) + '.0';
  else if (kk > 0 && kk <= 16) out = digits.slice(0, kk) + '.' + digits.slice(kk);
  else if (kk > -5 && kk <= 0) out = '0.' + '0'.repeat(-kk) + digits;
  else if (len === 1) out = digits + 'e' + (kk - 1);
  else out = digits[0] + '.' + digits.slice(1) + 'e' + (kk - 1);
  return neg ? '-' + out : out;
}

/** A struct serialised in declaration order (serde derive): entries whose value is undefined are skipped. */
export class Ordered {
  constructor(entries) { this.entries = entries; }
}

// BTreeMap<String, _> order: by UTF-8 bytes (differs from UTF-16 order above the BMP).
export function compareUtf8(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function formatJsNumber(x) {
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 64) return BigInt(x).toString();
  return formatF64(x);
}

/**
 * Serialise like serde_json::to_string: compact, maps with sorted keys (serde_json's default Map is
 * a BTreeMap), Ordered structs in their declared order (or sorted when sortAll), RawNumber verbatim.
 */
export function stringify(v, { sortAll = false } = {}) {
  const parts = [];
  const walk = (x) => {
    if (x === null || x === undefined) { parts.push('null'); return; }
    if (x instanceof RawNumber) { parts.push(x.text); return; }
    switch (typeof x) {
      case 'boolean': parts.push(x ? 'true' : 'false'); return;
      case 'number': parts.push(formatJsNumber(x)); return;
      case 'bigint': parts.push(x.toString()); return;
      case 'string': parts.push(JSON.stringify(x)); return; // same escaping as serde_json for valid strings
      default: break;
    }
    if (Array.isArray(x)) {
      parts.push('[');
      x.forEach((item, idx) => { if (idx) parts.push(','); walk(item); });
      parts.push(']');
      return;
    }
    let entries;
    if (x instanceof Ordered) {
      entries = x.entries.filter(([, val]) => val !== undefined);
      if (sortAll) entries = entries.slice().sort((a, b) => compareUtf8(a[0], b[0]));
    } else {
      entries = Object.keys(x).filter((key) => x[key] !== undefined).sort(compareUtf8).map((key) => [key, x[key]]);
    }
    parts.push('{');
    entries.forEach(([key, val], idx) => {
      if (idx) parts.push(',');
      parts.push(JSON.stringify(key), ':');
      walk(val);
    });
    parts.push('}');
  };
  walk(v);
  return parts.join('');
}

/** Convert a parsed tree (null-prototype objects, RawNumber) into ordinary JS values. */
export function toPlain(v) {
  if (v instanceof RawNumber) return Number(v.text);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const key of Object.keys(v)) {
      Object.defineProperty(out, key, { value: toPlain(v[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
