// The shipped modules scan JSON string bodies 16 bytes a step with wasm simd128 (src/json.c; the
// host build takes the same steps with SSE2); build/qollective-codec-scalar.wasm (the same sources
// without simd, `make test-js` builds it) takes the 8-byte scalar path. Over random inputs aimed at the 16-byte steps (escapes,
// control characters, every kind of ill-formed UTF-8, 4-byte characters across a step's edge,
// strings that end with the input), both modules must give the same status, output and error
// record: validation, envelope decode and q_has_replacement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const file = (rel) => new URL(`../../${rel}`, import.meta.url);
const SIMD = 'dist/qollective-codec.wasm', SCALAR = 'build/qollective-codec-scalar.wasm';
// the client modules also end short plain strings without a call (src/json.c scan_string_short)
const CLIENT = 'dist/qollective.wasm';
// The codec modules name a status by its row (src/error.c put_row: code "\x01row", message marker
// "\x01row\x02"), the client module by its name: records compare with the names put in.
const NAMES = [...readFileSync(file('src/error.h'), 'utf8').matchAll(/X\((\w+),\s*QK_\w+,/g)].map((m) => m[1]);
const named = (f, i) => (i === 1 && f[0] === '\x01' ? NAMES[f.slice(1)] : f.replace(/\x01(\d+)\x02/g, (_, row) => `\x01${NAMES[row]}\x02`));
/** A call's result without what only the client modules' error record holds (its HTTP status). */
const shared = (c) => ({ ...c, err: c.err.split('\0').map(named).filter((_, i) => i !== 4).join('\0') });

async function load(rel) {
  if (!existsSync(file(rel))) throw new Error(`${rel} is missing: run make ${rel}`);
  const { instance } = await WebAssembly.instantiate(readFileSync(file(rel)));
  const x = instance.exports;
  assert.equal(x.q_init(0), 0);
  return x;
}

/** Writes bytes into the module's input buffer, calls fn, returns everything the call left behind. */
function call(x, bytes, fn) {
  const p = x.q_buffer(bytes.length);
  new Uint8Array(x.memory.buffer).set(bytes, p);
  const rc = fn(x);
  const mem = new Uint8Array(x.memory.buffer);
  const out = rc >= 0 ? mem.slice(x.q_output_ptr(), x.q_output_ptr() + x.q_output_len()) : null;
  const err = rc < 0 ? new TextDecoder().decode(mem.subarray(x.q_error_ptr(), x.q_error_ptr() + x.q_error_len())) : '';
  return { rc, out: out && Array.from(out), err };
}

/** A small seeded PRNG (mulberry32): the same inputs every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (...b) => b;
// Pieces of a string body, each a list of bytes: plain text, escapes, control characters, UTF-8
// well-formed and ill-formed (overlongs, encoded surrogates, above U+10FFFF, stray and missing
// continuation bytes), U+FFFD and its neighbours.
const ascii = (r, n) => Array.from({ length: n }, () => 0x20 + Math.floor(r() * 95)).map((c) => (c === 0x22 || c === 0x5c ? 0x61 : c));
const PIECES = [
  ...['\\n', '\\"', '\\\\', '\\/', '\\b', '\\u00e9', '\\uD83D\\uDE00', '\\u0000'].map((e) => [...Buffer.from(e)]),
  ...['\\q', '\\u12G4', '\\uD800', '\\uDC00', '\\uD800\\u0041', '\\', '\\u12'].map((e) => [...Buffer.from(e)]),
  bytes(0x00), bytes(0x09), bytes(0x0a), bytes(0x1f), bytes(0x7f), bytes(0x22),
  bytes(0xc3, 0xa9), bytes(0xe2, 0x80, 0x94), bytes(0xe6, 0x9d, 0xb1), bytes(0xf0, 0x9f, 0x98, 0x80), bytes(0xf4, 0x8f, 0xbf, 0xbf),
  bytes(0xef, 0xbf, 0xbd), bytes(0xef, 0xbf, 0xbe), bytes(0xef, 0xbf), bytes(0xef, 0xbd, 0xb1), bytes(0xee, 0x80, 0x80),
  bytes(0xc0, 0x80), bytes(0xc1, 0xbf), bytes(0xe0, 0x80, 0x80), bytes(0xe0, 0x9f, 0xbf), bytes(0xf0, 0x80, 0x80, 0x80),
  bytes(0xed, 0xa0, 0x80), bytes(0xed, 0xbf, 0xbf), bytes(0xf4, 0x90, 0x80, 0x80), bytes(0xf5, 0x80, 0x80, 0x80), bytes(0xff),
  bytes(0x80), bytes(0xbf), bytes(0xc3), bytes(0xe2, 0x80), bytes(0xf0, 0x9f, 0x98), bytes(0xc3, 0x41),
];

/** A string body: plain runs of 0..40 bytes around one to three pieces (or none). */
function body(r) {
  const out = ascii(r, Math.floor(r() * 40));
  for (let k = Math.floor(r() * 4); k > 0; k--) out.push(...PIECES[Math.floor(r() * PIECES.length)], ...ascii(r, Math.floor(r() * 24)));
  return out;
}

/** A document around string bodies: a lone string, an array, an object, each possibly cut short. */
function doc(r) {
  const str = () => [0x22, ...body(r), 0x22];
  const shape = Math.floor(r() * 4);
  let d;
  if (shape === 0) d = str();
  else if (shape === 1) d = [0x5b, ...str(), 0x2c, ...str(), 0x5d];
  else if (shape === 2) d = [0x7b, ...str(), 0x3a, ...str(), 0x2c, ...str(), 0x3a, 0x31, 0x7d];
  else d = [0x22, ...body(r)];   // the string runs to the end of the input
  if (r() < 0.2) d = d.slice(0, Math.floor(r() * d.length));   // cut anywhere, inside a sequence too
  return d;
}

test('every shipped module has the simd path (README "Engines") and the scalar build has none', () => {
  // wasm-dis is binaryen's disassembler (scripts/deps.sh installs binaryen for wasm-opt)
  const dis = (rel) => execFileSync('wasm-dis', [file(rel).pathname], { maxBuffer: 1 << 28 }).toString();
  const shipped = readFileSync(file('size-budget.txt'), 'utf8').split('\n').map((l) => l.split(/\s+/)[0]).filter((f) => f.endsWith('.wasm'));
  assert.ok(shipped.length >= 4, `${shipped}`);
  for (const rel of shipped) assert.match(dis(rel), /i8x16\.bitmask/, rel);
  assert.doesNotMatch(dis(SCALAR), /v128|i8x16/);
});

test('simd and scalar scans agree on validation, decode and U+FFFD over random strings', async () => {
  const [simd, scalar, client] = [await load(SIMD), await load(SCALAR), await load(CLIENT)];
  const te = new TextEncoder();
  const r = rng(0x51d5ca);
  const seen = new Set();
  for (let i = 0; i < 40000; i++) {
    const d = doc(r);
    const input = Uint8Array.from([...Array(Math.floor(r() * 32)).fill(0x20), ...d]);   // 0..31 spaces shift the steps
    const a = call(simd, input, (x) => x.q_json_validate(input.length, 0));
    const b = call(scalar, input, (x) => x.q_json_validate(input.length, 0));
    assert.deepEqual(a, b, `validate ${Buffer.from(input).toString('hex')}`);
    assert.deepEqual(shared(call(client, input, (x) => x.q_json_validate(input.length, 0))), shared(b), `client validate ${Buffer.from(input).toString('hex')}`);
    seen.add(a.rc < 0 ? shared(a).err.split('\0')[1] : 'ok');
    // the same bytes as an envelope's payload, then as its meta's tenant (the schema walk's reader)
    for (const env of [[...te.encode('{"meta":{},"payload":'), ...d, 0x7d], [...te.encode('{"meta":{"tenant":'), ...d, ...te.encode('},"payload":1}')]]) {
      const e = Uint8Array.from(env);
      const want = call(scalar, e, (x) => x.q_envelope_decode(e.length, -1));
      assert.deepEqual(call(simd, e, (x) => x.q_envelope_decode(e.length, -1)), want, `decode ${Buffer.from(e).toString('hex')}`);
      assert.deepEqual(shared(call(client, e, (x) => x.q_envelope_decode(e.length, -1))), shared(want), `client decode ${Buffer.from(e).toString('hex')}`);
    }
    const off = Math.floor(r() * input.length), len = Math.floor(r() * (input.length - off + 1));
    const want = Buffer.from(input.subarray(off, off + len)).includes(Buffer.from([0xef, 0xbf, 0xbd])) ? 1 : 0;
    for (const x of [simd, scalar]) assert.equal(call(x, input, (m) => m.q_has_replacement(off, len)).rc, want, `replacement ${off}+${len}`);
  }
  // the inputs reached every outcome of a string scan, not only the common ones
  for (const code of ['ok', 'JSON_TRUNCATED', 'JSON_CONTROL_CHAR', 'JSON_ESCAPE', 'JSON_SURROGATE', 'JSON_UTF8'])
    assert.ok(seen.has(code), `no input ended in ${code}: ${[...seen]}`);
});

test('long plain runs: the special byte at every position of the 16-byte steps', async () => {
  const te = new TextEncoder();
  const [simd, scalar, client] = [await load(SIMD), await load(SCALAR), await load(CLIENT)];
  for (let pre = 0; pre < 48; pre++) {
    for (const piece of [[0x22], [0x5c, 0x6e], [0x01], [0xc3, 0xa9], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f]]) {
      for (const tail of [0, 1, 15, 16, 17, 40]) {
        const input = Uint8Array.from([0x22, ...Array(pre).fill(0x61), ...piece, ...Array(tail).fill(0x62), 0x22]);
        for (const n of [input.length, input.length - 1]) {   // closed, and running to the end
          const v = input.subarray(0, n), want = call(scalar, v, (x) => x.q_json_validate(n, 0));
          assert.deepEqual(call(simd, v, (x) => x.q_json_validate(n, 0)), want, `${pre} ${Buffer.from(piece).toString('hex')} ${tail} ${n}`);
          assert.deepEqual(shared(call(client, v, (x) => x.q_json_validate(n, 0))), shared(want), `client ${pre} ${Buffer.from(piece).toString('hex')} ${tail} ${n}`);
          // the same string as an object's key and as an array's value (scan_impl's two string sites)
          for (const [open, close] of [['{', ':1}'], ['[', ']']]) {
            const w = Uint8Array.from([...te.encode(open), ...v, ...te.encode(close)]);
            assert.deepEqual(shared(call(client, w, (x) => x.q_json_validate(w.length, 0))), shared(call(scalar, w, (x) => x.q_json_validate(w.length, 0))),
              `client ${open} ${pre} ${Buffer.from(piece).toString('hex')} ${tail} ${n}`);
          }
        }
      }
    }
  }
});

test('q_has_replacement refuses a range past the input buffer', async () => {
  const x = await load(SIMD);
  const cap = 64;
  x.q_buffer(cap);
  assert.ok(call(x, new Uint8Array(cap), (m) => m.q_has_replacement(1 << 30, 1 << 30)).rc < 0);
  const r = call(x, new Uint8Array(cap), (m) => m.q_has_replacement(0xffffffff, 2));
  assert.ok(r.rc < 0);
  assert.equal(shared(r).err.split('\0')[1], 'BAD_ARGUMENT');
});
