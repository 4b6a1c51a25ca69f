// Strings go into the core without an intermediate byte array, and an Envelope decoded from a
// string keeps the string and the payload's place in it (issue 10 item 4). Each case decodes the
// same envelope from its string and from its UTF-8 bytes: every accessor must agree, whatever the
// member order, the mix of ASCII, multi-byte characters, surrogate pairs and lone surrogates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const q = await Qollective.load(WASM);
const te = new TextEncoder();

function assertSame(text, label) {
  const fromText = q.decode(text);
  const fromBytes = q.decode(te.encode(text));
  assert.deepEqual(fromText.meta, fromBytes.meta, `${label}: meta`);
  assert.equal(fromText.payloadText, new TextDecoder().decode(fromBytes.payloadBytes), `${label}: payloadText`);
  assert.deepEqual(fromText.payloadBytes, fromBytes.payloadBytes, `${label}: payloadBytes`);
  assert.deepEqual(fromText.payload, fromBytes.payload, `${label}: payload`);
  assert.deepEqual(fromText.error, fromBytes.error, `${label}: error`);
  assert.equal(fromText.errorStatus, fromBytes.errorStatus, `${label}: errorStatus`);
  assert.equal(fromText.requestId, fromBytes.requestId, `${label}: requestId`);
  assert.deepEqual(fromText.toJSON(), fromBytes.toJSON(), `${label}: toJSON`);
}

// a small seeded generator, so a failure names a case that can be run again
function rng(seed) { return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32); }
const PIECES = ['a', 'Z', ' ', 'ä', 'ß', 'Ω', 'ж', '日本', '😀', '\u{10FFFF}', '\\n', '\\"', '\\u00e9', '\ud800', '\udfff'];

test('hand-picked: ASCII, non-ASCII before/inside/after the payload, members in any order, error and request id', () => {
  const id = '0190f5a6-1b2c-7d3e-8f40-5a6b7c8d9e0f';
  const cases = [
    `{"meta":{},"payload":1}`,
    `{"meta":{"tenant":"ACME"},"payload":{"a":"b"}}`,
    `{"meta":{"tenant":"Ärger 😀"},"payload":"plain"}`,
    `{"meta":{"tenant":"x"},"payload":"größe 😀 日本"}`,
    `{"payload":"größe 😀","meta":{"tenant":"Ω"}}`,
    `{"payload":[1,"ж"],"error":{"code":"NOT_FOUND","message":"nicht gefunden: ä"},"meta":{"request_id":"${id}"}}`,
    `{"meta":{"request_id":"{${id.toUpperCase()}}","tenant":"日本"},"payload":null,"error":{"code":"HANDLER_ERROR","message":"😀","http_status_code":503}}`,
    `{ "meta" : { "tenant" : "é" } , "payload" : "ü" , "error" : null }`,
    `{"meta":{},"payload":"lone \ud800 surrogate"}`,
    `{"meta":{"tenant":"lone \udc00 in meta"},"payload":"after"}`,
  ];
  cases.forEach((c, i) => assertSame(c, `case ${i}`));
});

test('2,000 generated envelopes: string and bytes decode alike', () => {
  const r = rng(9);
  const str = () => Array.from({ length: Math.floor(r() * 12) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');
  for (let i = 0; i < 2000; i++) {
    const members = [
      `"meta":{"tenant":"${str()}","version":"1.0"}`,
      `"payload":{"s":"${str()}","n":[${Math.floor(r() * 1000)},"${str()}"]}`,
    ];
    if (r() < 0.4) members.push(`"error":{"code":"E${i}","message":"${str()}"}`);
    if (r() < 0.5) members.reverse();
    if (r() < 0.3) members.push(members.shift());
    assertSame(`{${members.join(',')}}`, `envelope ${i}`);
  }
});

test("Node's UTF-16 input (2,048 units and more): string and bytes decode alike wherever the non-ASCII text lies", () => {
  // q_input_utf16 reports where the UTF-8's non-ASCII bytes begin and end; when meta, error and the
  // payload's start lie before them and only ASCII follows the payload, the Envelope takes its places
  // without decoding (e._x stays undefined when there is no error): both ways are checked here
  const r = rng(21), ascii = () => (r() < 0.5 ? 'plain' : '');
  const str = () => Array.from({ length: Math.floor(r() * 8) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');
  let taken = 0;
  for (let i = 0; i < 600; i++) {
    const pad = 'x'.repeat(2048 + Math.floor(r() * 40));
    const members = [
      `"meta":{"tenant":"${r() < 0.6 ? ascii() : str()}","request_id":"0190f5a6-1b2c-7d3e-8f40-5a6b7c8d9e0f"}`,
      `"payload":{"s":"${r() < 0.3 ? ascii() : str()}","p":"${pad}","t":["${r() < 0.5 ? ascii() : str()}"]}`,
    ];
    if (r() < 0.3) members.push(`"error":{"code":"E${i}","message":"${r() < 0.5 ? ascii() : str()}"}`);
    if (r() < 0.3) members.reverse();
    if (r() < 0.3) members.push(members.shift());
    if (r() < 0.3) members.splice(Math.floor(r() * 4), 0, `"unknown":"${str()}"`);   // a member the decode skips
    const text = `{${members.join(',')}}`;
    assertSame(text, `envelope ${i}`);
    const e = q.decode(text);
    if (e._x === undefined && te.encode(text).length !== text.length) taken++;
  }
  assert.ok(taken > 30, `${taken} of 600 took their places without decoding`);
});

test('a large string under a tight memoryLimit: the input buffer grows to 2 bytes a unit (Node) or to its exact UTF-8 size, never 3 bytes a unit', async () => {
  const small = await Qollective.load(WASM, { memoryLimit: 3 * 1048576 });
  const client = small.client({ limits: { max_envelope_bytes: 3 * 1048576 } });
  const real = small.x, asked = [], converted = [];
  small.x = {
    ...real,
    q_buffer: (n) => { const p = real.q_buffer(n); asked.push([n, p !== 0]); return p; },
    q_input_utf16: (...a) => { const r = real.q_input_utf16(...a); converted.push(r !== 0); return r; },
  };
  const wrap = (body) => `{"meta":{},"payload":"${body}"}`;
  // Node: the UTF-16 units (2 bytes a unit), made UTF-8 in place: 'ä' is 2 bytes either way
  const body = 'ä'.repeat(1200000);                        // 2.4 MB of UTF-8; 3 bytes a unit would be 3.6 MB
  assert.equal(small.decode(wrap(body), client.h).payload, body);
  assert.deepEqual(asked, [[2 * wrap(body).length, true]], `q_buffer calls: ${JSON.stringify(asked)}`);
  assert.deepEqual(converted, [true]);
  // ASCII: 2 bytes a unit while the limit has room for them
  asked.length = converted.length = 0;
  assert.equal(small.decode(wrap('a'.repeat(1000000)), client.h).payload.length, 1000000);
  assert.deepEqual(asked, [[2000048, true]]);
  // no room for 2 bytes a unit: one byte a unit (enough for ASCII), written with encodeInto
  asked.length = converted.length = 0;
  assert.equal(small.decode(wrap('a'.repeat(1600000)), client.h).payload.length, 1600000);
  assert.deepEqual(asked, [[3200048, false], [1600024, true]]);
  assert.deepEqual(converted, []);
  // 3 bytes a unit do not fit in place: one byte a unit first, then the exact size, grown in place
  asked.length = converted.length = 0;
  const cjk = '日本'.repeat(300000), exact = te.encode(wrap(cjk)).length;
  assert.equal(small.decode(wrap(cjk), client.h).payload, cjk);
  assert.deepEqual(asked, [[2 * wrap(cjk).length, true], [wrap(cjk).length, true], [exact, true]], `q_buffer calls: ${JSON.stringify(asked)}`);
  assert.deepEqual(converted, [false]);
  // a string that cannot fit at all is a clear error
  assert.throws(() => small.decode(wrap('ä'.repeat(3000000))),
    (err) => err instanceof QollectiveError && err.code === 'OUT_OF_MEMORY');
  small.x = real;
  client.close();
});

test('validateJson and encode take strings the same way', () => {
  q.validateJson('{"ä":["😀",1]}');
  assert.throws(() => q.validateJson('{"ä":["😀",1]'), (e) => e instanceof QollectiveError && e.code === 'JSON_TRUNCATED');
  const out = q.encode({ meta: { tenant: 'Ω' }, payloadJson: '{"s":"größe 😀"}' });
  assert.deepEqual(q.decode(out).toJSON(), q.decode(new TextDecoder().decode(out)).toJSON());
});

test('encodeMany writes string parts straight into the batch framing: the same bytes as encode, item by item', () => {
  const items = [
    { meta: { tenant: 'Ω' }, payloadJson: '{"s":"größe 😀"}' },
    { meta: {}, payload: { a: ['ж', 1] } },
    { meta: { tenant: 'x' }, payloadJson: new TextEncoder().encode('[1,"日本"]') },
    { meta: { tenant: 'ascii' }, payload: 'ok' },
  ];
  const many = q.encodeMany(items);
  assert.equal(many.length, items.length);
  items.forEach((it, i) => assert.deepEqual(many[i], q.encode(it), `item ${i}`));
});

test("Node: a string's UTF-16 units go into the core as they are and become exactly TextEncoder's UTF-8 (q_input_utf16), else encodeInto", async () => {
  const r = rng(77);
  const UNITS = ['a', '~', '\n', 'ä', 'ß', '߿', 'ࠀ', '日', '\uFFFD', '\uFFFF', '😀', '\u{10FFFF}', '\ud800', '\udbff', '\udc00', '\udfff'];
  const real = q.x;
  let calls = 0, fits = 0;
  q.x = { ...real, q_input_utf16: (...a) => { calls++; const v = real.q_input_utf16(...a); fits += v !== 0; return v; } };
  try {
    for (let i = 0; i < 1000; i++) {
      // mostly ASCII with runs of others (every position of the core's 16-unit step), or dense; at
      // least 2,048 units (the glue's UTF16_MIN_UNITS: shorter strings take encodeInto)
      const dense = r() < 0.1 ? 0.9 : r() * 0.3, n = 2048 + Math.floor(r() * 80);
      let s = '';
      for (let k = 0; k < n; k++) s += r() < dense ? UNITS[3 + Math.floor(r() * (UNITS.length - 3))] : String.fromCharCode(32 + Math.floor(r() * 95));
      const want = te.encode(s), got = q._inputText(s);
      assert.equal(got, want.length, `string ${i}: length`);
      assert.deepEqual(q.mem.subarray(q._in, q._in + got), want, `string ${i}: bytes`);
      // _wf: no lone surrogate was replaced (then a slice needs no well-formedness pass)
      if (q._wf) assert.ok(s.isWellFormed(), `string ${i}: _wf on a string with a lone surrogate`);
    }
  } finally { q.x = real; }
  assert.ok(calls === 1000 && fits > 700 && fits < calls, `q_input_utf16: ${calls} calls, ${fits} in place`);
  // shorter strings: encodeInto
  calls = 0;
  q.x = { ...real, q_input_utf16: (...a) => { calls++; return real.q_input_utf16(...a); } };
  try { assert.equal(q._inputText('ä'.repeat(2047)), 4094); } finally { q.x = real; }
  assert.equal(calls, 0);
  // the codec module has no q_input_utf16: the same strings go through encodeInto
  const codec = await Qollective.load(new URL('../../dist/qollective-codec.wasm', import.meta.url));
  assert.equal(codec.x.q_input_utf16, undefined);
  assert.deepEqual(codec.decode('{"meta":{},"payload":"日本 \ud800 😀"}').toJSON(), q.decode('{"meta":{},"payload":"日本 \ud800 😀"}').toJSON());
  // encode writes its string parts (meta, payload, error) the same way, one after the other: the same
  // bytes as the codec module's encodeInto
  calls = 0;
  q.x = { ...real, q_input_utf16: (...a) => { calls++; return real.q_input_utf16(...a); } };
  try {
    for (let i = 0; i < 300; i++) {
      const pick = () => UNITS[Math.floor(r() * UNITS.length)].repeat(1 + Math.floor(r() * 20));
      const big = () => pick() + 'x'.repeat(2048) + pick();   // a payload part long enough for utf16Into
      const env = { meta: { tenant: pick() }, payload: { s: big(), a: [pick(), 1] }, error: r() < 0.3 ? { code: 'E', message: pick() } : undefined };
      // (JSON.stringify writes a lone surrogate as a \u escape, which the core refuses: the same error)
      const out = (m, e) => { try { return m.encode(e); } catch (err) { return err.code; } };
      assert.deepEqual(out(q, env), out(codec, env), `envelope ${i}`);
      const raw = { meta: env.meta, payloadJson: `{"s":"${big()}"}` };   // a lone surrogate as it is: U+FFFD
      assert.deepEqual(out(q, raw), out(codec, raw), `envelope ${i} payloadJson`);
    }
  } finally { q.x = real; }
  assert.ok(calls >= 600, `q_input_utf16 in encode: ${calls} calls`);
});
