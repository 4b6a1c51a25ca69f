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

test('a large string under a tight memoryLimit: the input buffer grows to its exact UTF-8 size, never 3 bytes a unit', async () => {
  const small = await Qollective.load(WASM, { memoryLimit: 3 * 1048576 });
  const client = small.client({ limits: { max_envelope_bytes: 3 * 1048576 } });
  const real = small.x, asked = [];
  small.x = { ...real, q_buffer: (n) => { const p = real.q_buffer(n); asked.push([n, p !== 0]); return p; } };
  const body = 'ä'.repeat(1200000);                        // 2.4 MB of UTF-8; 3 bytes a unit would be 3.6 MB
  const e = small.decode(`{"meta":{},"payload":"${body}"}`, client.h);
  assert.equal(e.payload, body);
  // one unit a byte first (enough for ASCII), then the exact size, grown in place
  const exact = te.encode(`{"meta":{},"payload":"${body}"}`).length;
  assert.deepEqual(asked, [[body.length + 24, true], [exact, true]], `q_buffer calls: ${JSON.stringify(asked)}`);
  // ASCII takes one call of its own length
  asked.length = 0;
  assert.equal(small.decode(`{"meta":{},"payload":"${'a'.repeat(1000000)}"}`, client.h).payload.length, 1000000);
  assert.deepEqual(asked, [[1000024, true]]);
  // a string that cannot fit at all is a clear error
  assert.throws(() => small.decode(`{"meta":{},"payload":"${'ä'.repeat(3000000)}"}`),
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
