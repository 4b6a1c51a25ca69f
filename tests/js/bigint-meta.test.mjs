// i64/u64 meta fields beyond +-(2^53 - 1) kept exactly (README "64-bit integers"): decode makes them
// BigInts, and only them (an f64 field's big integer, a string of digits, extensions, tags and the
// payload stay what JSON.parse gives), by every way a meta is built: the decode's tape, and the text
// walked again by the core (q_meta_tape) when it is not ASCII, too long for the tape, read after a
// later decode, or holds `__proto__`; decodeMany; REST responses; WebSocket frames. Encode writes a
// BigInt's exact digits (meta and payload), so decode -> encode gives the canonical bytes back, and
// refuses one out of its field's range as it refuses a number. Through the built modules and glues
// (tests/js/module.mjs); expected metas from lossless-meta.mjs's own parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WASM, GLUE } from './module.mjs';
import { INT64_FIELDS, UINT64_FIELDS, expectedMeta, orderText } from './lossless-meta.mjs';

const { Qollective, QollectiveError } = await import(GLUE);
const q = await Qollective.load(WASM);
const te = new TextEncoder(), td = new TextDecoder();

const SAFE = 2n ** 53n - 1n, I64_MIN = -(2n ** 63n), I64_MAX = 2n ** 63n - 1n, U64_MAX = 2n ** 64n - 1n;
const I64_VALUES = [I64_MIN, I64_MIN + 1n, -(SAFE + 2n), -(SAFE + 1n), -SAFE, -1n, 0n, 7n, SAFE, SAFE + 1n, SAFE + 2n, 10n ** 16n, 10n ** 18n, I64_MAX];
const U64_VALUES = [0n, SAFE, SAFE + 1n, I64_MAX, I64_MAX + 1n, U64_MAX];
/** What meta holds for the integer v: a number when exact, else the BigInt. */
const held = (v) => (v >= -SAFE && v <= SAFE ? Number(v) : v);
const HEAD = '"timestamp":"2024-01-01T00:00:00Z","request_id":"123e4567-e89b-12d3-a456-426614174000","version":"1.0"';

/** Meta text with `path` (a.b.c) set to the JSON text `json`, after `extra` members. */
function metaWith(path, json, extra = '') {
  let inner = json;
  for (const key of path.split('.').reverse()) inner = `{"${key}":${inner}}`;
  return `{${HEAD}${extra},${inner.slice(1, -1)}}`;
}
const envelope = (metaText) => `{"meta":${metaText},"payload":{"n":1}}`;
const at = (o, path) => path.split('.').reduce((v, k) => v?.[k], o);

/** The canonical envelope the core writes for meta and payload texts (the raw export encode uses). */
function canonical(metaText, payloadText) {
  const [m, p] = q._input([metaText, payloadText]);
  q._check(q.x.q_envelope_encode(m, p, 0, 0, 0, -1));
  return q._out();
}

// Every way a meta is built from an envelope text; each returns the Envelope (its meta not read yet).
const tags = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`t${i}`, i]));
const WAYS = {
  string: { make: (t) => q.decode(t) },
  bytes: { make: (t) => q.decode(te.encode(t)) },
  'read after a later decode': { make: (t) => { const e = q.decode(t); q.decode(envelope(`{${HEAD}}`)); return e; } },
  decodeMany: { make: (t) => q.decodeMany([te.encode(envelope(`{${HEAD}}`)), t])[1] },
  'not ASCII (string)': { extra: ',"tenant":"Ärger 😀 \\u00e9"', make: (t) => q.decode(t) },
  'not ASCII (bytes)': { extra: ',"tenant":"Ärger 😀"', make: (t) => q.decode(te.encode(t)) },
  'too long for the tape': { extra: `,"tracing":{"tags":${JSON.stringify(tags)}}`, make: (t) => q.decode(t) },
  '__proto__ key': { extra: ',"__proto__":{"polluted":1},"zz":[12345678901234567890]', make: (t) => q.decode(t) },
};

test('every i64/u64 field, every way a meta is built: exact values, numbers while exact, and encode gives the canonical bytes back', () => {
  let n = 0;
  for (const [fields, values] of [[INT64_FIELDS, I64_VALUES], [UINT64_FIELDS, U64_VALUES]]) {
    for (const field of fields) {
      for (const v of values) {
        for (const [way, { extra, make }] of Object.entries(WAYS)) {
          const what = `${field} = ${v} (${way})`, metaText = metaWith(field, String(v), extra), e = make(envelope(metaText));
          const got = at(e.meta, field);
          assert.equal(got, held(v), what);
          assert.equal(typeof got, v >= -SAFE && v <= SAFE ? 'number' : 'bigint', what);
          assert.deepEqual(e.meta, expectedMeta(metaText), `${what}: the whole meta`);
          assert.equal(orderText(e.meta), orderText(expectedMeta(metaText)), `${what}: key order`);
          assert.equal(Object.getPrototypeOf(e.meta), Object.prototype, `${what}: a plain object`);
          const bytes = canonical(metaText, '{"n":1}');
          assert.deepEqual(q.encode({ meta: e.meta, payload: e.payload }), bytes, `${what}: decode -> encode`);
          assert.ok(td.decode(bytes).includes(`:${v}`), `${what}: the digits on the wire`);
          // the canonical bytes (what a Rust server writes) decode to the same and encode to themselves
          const again = q.decode(bytes);
          assert.equal(at(again.meta, field), held(v), `${what}: canonical`);
          assert.deepEqual(q.encode({ meta: again.meta, payload: again.payload }), bytes, `${what}: canonical round trip`);
          n++;
        }
      }
    }
  }
  assert.equal(n, (INT64_FIELDS.length * I64_VALUES.length + UINT64_FIELDS.length * U64_VALUES.length) * Object.keys(WAYS).length);
});

test('a decode still refuses an integer out of its field range (no BigInt past it)', () => {
  const refuses = (field, v) => assert.throws(() => q.decode(envelope(metaWith(field, String(v)))),
    (e) => e instanceof QollectiveError && e.code === 'OUT_OF_RANGE' && e.path === `meta.${field}`, `${field} = ${v}`);
  for (const field of INT64_FIELDS) { refuses(field, I64_MAX + 1n); refuses(field, I64_MIN - 1n); refuses(field, U64_MAX); }
  for (const field of UINT64_FIELDS) { refuses(field, U64_MAX + 1n); refuses(field, -1n); refuses(field, 10n ** 30n); }
});

test('only i64/u64 fields: an f64 field, digit strings, extensions, tags and the payload are what JSON.parse gives', () => {
  const metaText = `{${HEAD},"tenant":"12345678901234567890","performance":{"db_query_time":12345678901234567890,"cpu_usage":-9223372036854775808,`
    + '"gc_time":9223372036854775807},"tracing":{"tags":{"n":12345678901234567890,"s":"9007199254740993"}},'
    + '"extensions":{"x":12345678901234567890,"y":[9223372036854775807,-9007199254740993],"memory_peak":9223372036854775807}}';
  for (const [way, { make }] of Object.entries(WAYS)) {
    if (way === '__proto__ key' || WAYS[way].extra) continue;
    const m = make(`{"meta":${metaText},"payload":{"big":18446744073709551615}}`);
    const parsed = JSON.parse(metaText);
    assert.deepEqual(m.meta, parsed, way);
    assert.equal(m.meta.tenant, '12345678901234567890', `${way}: a string stays a string`);
    assert.equal(m.meta.performance.db_query_time, 12345678901234567890, `${way}: an f64 field stays a number`);
    assert.equal(m.meta.extensions.y[0], 9223372036854775807, `${way}: extensions as JSON.parse gives them`);
    assert.equal(m.meta.extensions.memory_peak, 9223372036854775807, `${way}: a field's name in extensions is not the field`);
    assert.equal(m.payload.big, 18446744073709551615, `${way}: the payload as JSON.parse gives it`);
  }
});

test('encode writes a BigInt as its exact digits, in the meta and the payload; JSON.stringify semantics otherwise', () => {
  const env = {
    meta: { performance: { memory_peak: I64_MIN, processing_time_ms: U64_MAX, cpu_usage: 0.5 }, debug: { memory_usage: { heap_used: 2n ** 60n } }, tenant: '0' },
    payload: { big: 10n ** 30n, neg: -(2n ** 70n), zero: 0n, s: '12345678901234567890', zeros: '0 1 00 10', n: [0, 1, 10], d: new Date(0), j: { toJSON: () => 5n }, u: undefined, f: () => 1 },
  };
  const text = td.decode(q.encode(env));
  assert.match(text, /"memory_peak":-9223372036854775808[,}]/);
  assert.match(text, /"processing_time_ms":18446744073709551615[,}]/);
  assert.match(text, /"heap_used":1152921504606846976[,}]/);
  assert.match(text, /"tenant":"0"/);
  const payload = text.slice(text.indexOf('"payload":') + 10, -1);
  assert.equal(payload, '{"big":1000000000000000000000000000000,"neg":-1180591620717411303424,"zero":0,"s":"12345678901234567890",'
    + '"zeros":"0 1 00 10","n":[0,1,10],"d":"1970-01-01T00:00:00.000Z","j":5}');
  // the same through encodeMany, and a payload that is a BigInt
  const many = q.encodeMany([env, { meta: {}, payload: 7n }]).map((b) => td.decode(b));
  assert.equal(many[0], text);
  assert.match(many[1], /"payload":7}$/);
  // decoded again: the meta's BigInts, the payload's numbers as JSON.parse gives them
  const e = q.decode(text);
  assert.equal(e.meta.performance.memory_peak, I64_MIN);
  assert.equal(e.meta.debug.memory_usage.heap_used, 2n ** 60n);
  assert.equal(e.payload.big, 1e30);
});

test('a BigInt out of its field range fails OUT_OF_RANGE at its path, as a number does; one JSON cannot hold fails TYPE_MISMATCH', () => {
  const fails = (meta, path) => assert.throws(() => q.encode({ meta, payload: 1 }),
    (e) => e instanceof QollectiveError && e.code === 'OUT_OF_RANGE' && e.path === path && e.message.includes(path), path);
  fails({ performance: { memory_peak: I64_MAX + 1n } }, 'meta.performance.memory_peak');
  fails({ performance: { memory_allocated: I64_MIN - 1n } }, 'meta.performance.memory_allocated');
  fails({ performance: { processing_time_ms: -1n } }, 'meta.performance.processing_time_ms');
  fails({ performance: { processing_time_ms: U64_MAX + 1n } }, 'meta.performance.processing_time_ms');
  fails({ debug: { profiling_data: { allocations: 2n ** 64n } } }, 'meta.debug.profiling_data.allocations');
  fails({ performance: { db_query_count: 2n ** 31n } }, 'meta.performance.db_query_count');
  const cycle = { big: 1n };
  cycle.self = cycle;
  assert.throws(() => q.encode({ meta: {}, payload: cycle }), (e) => e instanceof QollectiveError && e.code === 'TYPE_MISMATCH' && e.path === 'payload');
  assert.throws(() => q.encode({ meta: {}, payload: Object(1n) }), (e) => e instanceof QollectiveError && e.code === 'TYPE_MISMATCH');
});

test('REST: a BigInt goes out as its digits, and a response meta beyond 2^53 comes back exact', { skip: q.module === 'codec' && 'no clients in the codec module' }, async () => {
  const bodies = [];
  // an in-process server that answers with the request's own envelope
  const echo = await Qollective.load(WASM, {
    fetch: async (url, init) => {
      bodies.push(td.decode(init.body));
      return new Response(init.body, { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
  const c = echo.client({ rest: { base_url: 'http://127.0.0.1:9' } });
  try {
    const r = await c.send({ meta: { performance: { memory_peak: I64_MAX, processing_time_ms: U64_MAX, memory_allocated: 5 } }, payload: { big: 2n ** 64n } });
    assert.match(bodies[0], /"memory_peak":9223372036854775807,/);
    assert.match(bodies[0], /"processing_time_ms":18446744073709551615}/);
    assert.match(bodies[0], /"payload":\{"big":18446744073709551616\}/);
    assert.equal(r.meta.performance.memory_peak, I64_MAX);
    assert.equal(r.meta.performance.processing_time_ms, U64_MAX);
    assert.equal(r.meta.performance.memory_allocated, 5);
    assert.equal(r.payload.big, 18446744073709551616);
  } finally { c.close(); }
});

test('WebSocket: a pushed frame\'s meta beyond 2^53 comes back exact; a BigInt meta is sent', { skip: !q.x.q_ws_open && 'no WebSocket in this module' }, async () => {
  const { startWsServer } = await import('../servers/ws-server.mjs');
  const { default: WebSocket } = await import('ws');
  const srv = await startWsServer(), qw = await Qollective.load(WASM, { WebSocket });
  const c = qw.client({ websocket: { url: srv.url } });
  try {
    const s = c.socket();
    // (the reference server reads frames with JSON.parse: a BigInt it can hold exactly)
    await s.request({ meta: { performance: { memory_peak: 5n } }, payload: 0 });
    const meta = metaWith('performance.processing_time_ms', String(U64_MAX), ',"tenant":"é"').replace('}}', ',"memory_peak":-9007199254740993}}');
    srv.sendRaw(`{"type":"envelope","payload":{"meta":${meta},"payload":"p"}}`);
    const e = (await s.incoming().next()).value;
    assert.equal(e.payload, 'p');
    assert.equal(e.meta.performance.processing_time_ms, U64_MAX);
    assert.equal(e.meta.performance.memory_peak, -(SAFE + 2n));
    assert.deepEqual(e.meta, expectedMeta(meta));
  } finally { c.close(); await srv.close(); }
});
