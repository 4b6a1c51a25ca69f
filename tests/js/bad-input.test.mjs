// Bad input at every door of the public JS surface, as one table: each row names the exact
// QollectiveError it must produce (type, code, and path / message / offset where they carry
// meaning). Every failure is a QollectiveError (never a TypeError, SyntaxError, RangeError or
// WebAssembly.RuntimeError), its message is at most 200 characters, and no error ever carries a
// token, the Authorization header or a payload value, neither from the table nor from REST
// failures (error envelope, HTML 502, network, timeout). Loopback only (reference server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { C } from './c-constants.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const TOKEN = 'tok-SECRET-123';
const SECRET = 'PAYLOAD-SECRET-456';
const KiB = 1024, MiB = 1024 * KiB;
const T = (ms) => ({ timeout: ms });
const te = new TextEncoder();

const q = await Qollective.load(WASM);
let srv, closedPort, client;
const produced = [];   // every error the table produced, for the leak check

before(async () => {
  srv = await startRestServer({ routes: ['/echo', '/fail', '/slow'], slowMs: 2000 });
  closedPort = await new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  client = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' }, retry: { base_delay_ms: 10, jitter_percent: 0 } });
  client.setToken('api', TOKEN);
});
after(async () => {
  client?.close();
  await srv?.close();
});

/** Every property of the error, its stack and its cause chain, as text. */
function everything(err) {
  let text = '';
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    text += JSON.stringify(e, typeof e === 'object' ? Object.getOwnPropertyNames(e) : undefined) + String(e?.stack ?? '');
  }
  return text;
}

/** The shape every failure must have, and no secret in it. */
function checkError(err, label) {
  assert.ok(err instanceof QollectiveError, `${label}: expected a QollectiveError, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.name, 'QollectiveError', label);
  assert.ok(!(err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof WebAssembly.RuntimeError), label);
  assert.equal(typeof err.code, 'string', label);
  assert.ok(err.code.length > 0, label);
  assert.equal(typeof err.type, 'string', label);
  assert.ok(err.message.length > 0 && err.message.length <= C.Q_MAX_ERROR_MESSAGE_CHARS, `${label}: message of ${err.message.length} chars`);
  assert.ok(['none', 'exponential', 'linear', 'immediate'].includes(err.retryPolicy), label);
  const text = everything(err);
  for (const s of [TOKEN, SECRET, `Bearer ${TOKEN}`]) assert.ok(!text.includes(s), `${label}: error carries ${s}: ${text.slice(0, 300)}`);
  assert.ok(!/authorization/i.test(text), `${label}: error mentions the Authorization header`);
  produced.push(err);
}

/** Runs f (sync or async); returns the error it threw, or fails when it did not throw. */
async function failure(f, label) {
  let err;
  try { await f(); } catch (e) { err = e; }
  if (err === undefined) assert.fail(`${label}: expected a failure`);
  checkError(err, label);
  return err;
}

function matches(err, want, label) {
  for (const [k, v] of Object.entries(want)) {
    if (k === 'cause') assert.ok(err.cause instanceof v, `${label}: cause ${err.cause}`);
    else if (v instanceof RegExp) assert.match(String(err[k]), v, `${label}: ${k} = ${err[k]}`);
    else assert.deepEqual(err[k], v, `${label}: ${k} (message: ${err.message})`);
  }
}

/** A table: [label, () => call, expected fields | { ok: check }]. */
async function runTable(rows) {
  for (const [label, call, want] of rows) {
    if (typeof want.ok === 'function') {
      let r;
      try { r = await call(); } catch (e) { assert.fail(`${label}: expected success, got ${e?.constructor?.name} ${e?.code}: ${e?.message}`); }
      want.ok(r);
      continue;
    }
    const err = await failure(call, label);
    matches(err, want, label);
  }
}

const env = (meta, payload = { s: SECRET }) => JSON.stringify({ meta, payload });
const bytes = (...parts) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...te.encode(p)] : p)));
const deep = (n, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
const text = (u8) => new TextDecoder().decode(u8);
const payloadOf = (u8) => JSON.parse(text(u8)).payload;

// A minimal module with one import (type section + import section "a"."b").
const WITH_IMPORT = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 7, 1, 1, 97, 1, 98, 0, 0]);
const EMPTY_MODULE = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]);

// ------------------------------------------------------------------------------------------ load

test('Qollective.load: garbage, non-wasm responses, unreadable sources and wrong argument types', T(10000), async () => {
  const BAD_MODULE = { type: 'config', code: 'BAD_MODULE' };
  await runTable([
    ['garbage bytes', () => Qollective.load(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), { ...BAD_MODULE, message: /not a WebAssembly module/ }],
    ['empty bytes', () => Qollective.load(new Uint8Array(0)), { ...BAD_MODULE, message: /not a WebAssembly module/ }],
    ['truncated core', async () => Qollective.load((await import('node:fs')).readFileSync(WASM).subarray(0, 1000)), BAD_MODULE],
    ['an HTML page as a Response', () => Qollective.load(new Response('<html><body>404</body></html>', { headers: { 'content-type': 'text/html' } })),
      { ...BAD_MODULE, message: /not a WebAssembly module/ }],
    ['garbage with application/wasm (streaming compile)', () => Qollective.load(new Response('not wasm', { headers: { 'content-type': 'application/wasm' } })), BAD_MODULE],
    ['a 404 Response', () => Qollective.load(new Response('nope', { status: 404 })), { type: 'transport', code: 'LOAD_FAILED', status: 404, message: /HTTP 404/ }],
    ['a rejected fetch promise', () => Qollective.load(Promise.reject(new TypeError('fetch failed'))), { type: 'transport', code: 'LOAD_FAILED', cause: TypeError }],
    ['a URL nobody listens on', () => Qollective.load(`http://127.0.0.1:${closedPort}/qollective.wasm`), { type: 'transport', code: 'LOAD_FAILED' }],
    ['a missing file', () => Qollective.load('/nonexistent/qollective.wasm'), { type: 'transport', code: 'LOAD_FAILED', message: /loading the module failed/ }],
    ['a valid module that is not the core', () => Qollective.load(EMPTY_MODULE), { ...BAD_MODULE, message: /not the qollective core/ }],
    ['a compiled module that is not the core', () => Qollective.load(new WebAssembly.Module(EMPTY_MODULE)), BAD_MODULE],
    ['a module with an import', () => Qollective.load(WITH_IMPORT), { ...BAD_MODULE, message: /unexpected import a\.b/ }],
    ['a number', () => Qollective.load(42), { type: 'config', code: 'BAD_ARGUMENT', message: /load\(\) takes/ }],
    ['null', () => Qollective.load(null), { type: 'config', code: 'BAD_ARGUMENT' }],
    ['undefined', () => Qollective.load(undefined), { type: 'config', code: 'BAD_ARGUMENT' }],
    ['a plain object', () => Qollective.load({ url: 'x' }), { type: 'config', code: 'BAD_ARGUMENT' }],
    ['an array', () => Qollective.load([0, 97, 115, 109]), { type: 'config', code: 'BAD_ARGUMENT' }],
  ]);
  // the real core still loads from each accepted source type
  const raw = (await import('node:fs')).readFileSync(WASM);
  for (const src of [WASM, WASM.href, raw, new Uint8Array(raw), raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length),
    new Response(raw, { headers: { 'content-type': 'application/wasm' } }), new WebAssembly.Module(raw)]) {
    const inst = await Qollective.load(src);
    assert.equal(inst.decode('{"meta":{},"payload":7}').payload, 7);
  }
});

// ------------------------------------------------------------------------------------------ decode

test('q.decode: wrong types, schema violations, limits, NUL bytes, invalid UTF-8', () => {
  const TYPE = { type: 'validation', code: 'TYPE_MISMATCH', message: /expected a string or bytes/ };
  const oversize = '{"meta":{},"payload":"' + 'x'.repeat(MiB) + '"}';
  const bigMeta = `{"meta":{"tenant":"${'m'.repeat(64 * KiB)}"},"payload":1}`;
  return runTable([
    ['a number', () => q.decode(42), TYPE],
    ['an object', () => q.decode({ meta: {}, payload: 1 }), TYPE],
    ['null', () => q.decode(null), TYPE],
    ['undefined', () => q.decode(undefined), TYPE],
    ['an array of numbers', () => q.decode([123, 125]), TYPE],
    ['an ArrayBuffer', () => q.decode(new ArrayBuffer(2)), TYPE],
    ['a DataView', () => q.decode(new DataView(new ArrayBuffer(2))), TYPE],
    ['a symbol', () => q.decode(Symbol('env')), TYPE],
    ['a BigInt', () => q.decode(10n), TYPE],
    ['empty string', () => q.decode(''), { code: 'JSON_EMPTY', offset: 0 }],
    ['whitespace', () => q.decode(' \n\t '), { code: 'JSON_EMPTY', offset: 4 }],
    ['not an object', () => q.decode('[1]'), { code: 'TYPE_MISMATCH', offset: 0 }],
    ['missing payload', () => q.decode('{"meta":{"tenant":"t"}}'), { type: 'validation', code: 'MISSING_FIELD', path: 'payload' }],
    ['missing meta', () => q.decode(`{"payload":"${SECRET}"}`), { code: 'MISSING_FIELD', path: 'meta' }],
    ['non-UUID request_id', () => q.decode(env({ request_id: 'req-42' })), { code: 'INVALID_UUID', path: 'meta.request_id', offset: 22, message: /^meta\.request_id: not a UUID at byte 22$/ }],
    ['UUID with a bad digit', () => q.decode(env({ request_id: '0190a3f2-1234-7abc-8def-0123456789ag' })), { code: 'INVALID_UUID', path: 'meta.request_id' }],
    ['request_id a number', () => q.decode(env({ request_id: 5 })), { code: 'TYPE_MISMATCH', path: 'meta.request_id' }],
    ['auth_method wrong case', () => q.decode(env({ security: { auth_method: 'jwt' } })), { code: 'INVALID_ENUM', path: 'meta.security.auth_method' }],
    ['log_level', () => q.decode(env({ debug: { log_level: 'INFO' } })), { code: 'INVALID_ENUM', path: 'meta.debug.log_level' }],
    ['environment', () => q.decode(env({ monitoring: { environment: 'prod' } })), { code: 'INVALID_ENUM', path: 'meta.monitoring.environment' }],
    ['health_status', () => q.decode(env({ monitoring: { health_status: '' } })), { code: 'INVALID_ENUM', path: 'meta.monitoring.health_status' }],
    ['span_kind', () => q.decode(env({ tracing: { span_kind: 'server' } })), { code: 'INVALID_ENUM', path: 'meta.tracing.span_kind' }],
    ['span_status.code', () => q.decode(env({ tracing: { span_status: { code: 'OK' } } })), { code: 'INVALID_ENUM', path: 'meta.tracing.span_status.code' }],
    ['external_calls[0].status', () => q.decode(env({ performance: { external_calls: [{ service: 's', duration: 1, status: 'Failed' }] } })),
      { code: 'INVALID_ENUM', path: 'meta.performance.external_calls[0].status' }],
    ['enum of the wrong type', () => q.decode(env({ security: { auth_method: 1 } })), { code: 'TYPE_MISMATCH', path: 'meta.security.auth_method' }],
    ['timestamp', () => q.decode(env({ timestamp: '2024-13-01T00:00:00Z' })), { code: 'INVALID_TIMESTAMP', path: 'meta.timestamp' }],
    ['envelope over 1 MiB', () => q.decode(oversize), { type: 'validation', code: 'TOO_LARGE', message: /envelope size limit/ }],
    ['meta over 64 KiB', () => q.decode(bigMeta), { code: 'TOO_LARGE', path: 'meta', message: /meta size limit/ }],
    ['payload 10,000 deep', () => q.decode(`{"meta":{},"payload":${deep(10000)}}`), { code: 'JSON_DEPTH' }],
    ['meta 10,000 deep', () => q.decode(`{"meta":{"extensions":{"x":${deep(10000)}}},"payload":1}`), { code: 'JSON_DEPTH' }],
    ['objects 10,000 deep', () => q.decode(`{"meta":{},"payload":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`), { code: 'JSON_DEPTH' }],
    ['raw NUL in a string', () => q.decode(bytes('{"meta":{},"payload":"a', [0], 'b"}')), { code: 'JSON_CONTROL_CHAR', offset: 23 }],
    ['raw NUL in the tenant', () => q.decode(bytes('{"meta":{"tenant":"t', [0], '"},"payload":1}')), { code: 'JSON_CONTROL_CHAR', offset: 20 }],
    ['raw NUL in a key', () => q.decode(bytes('{"meta":{},"payload":{"k', [0], '":1}}')), { code: 'JSON_CONTROL_CHAR' }],
    ['raw NUL outside strings', () => q.decode(bytes('{"meta":{},"payload":1', [0], '}')), { code: 'JSON_SYNTAX', offset: 22 }],
    ['raw NUL as a JS string', () => q.decode('{"meta":{},"payload":"a\u0000b"}'), { code: 'JSON_CONTROL_CHAR', offset: 23 }],
    ['escaped \\u0000 is fine', () => q.decode('{"meta":{},"payload":"a\\u0000b"}'), { ok: (e) => assert.equal(e.payload, 'a\u0000b') }],
    ['0xFF byte', () => q.decode(bytes('{"meta":{},"payload":"', [0xff], '"}')), { code: 'JSON_UTF8', offset: 22 }],
    ['overlong "/"', () => q.decode(bytes('{"meta":{},"payload":"', [0xc0, 0xaf], '"}')), { code: 'JSON_UTF8', offset: 22 }],
    ['encoded surrogate', () => q.decode(bytes('{"meta":{},"payload":"', [0xed, 0xa0, 0x80], '"}')), { code: 'JSON_UTF8', offset: 22 }],
    ['truncated sequence', () => q.decode(bytes('{"meta":{},"payload":"', [0xe2, 0x82], '"}')), { code: 'JSON_UTF8', offset: 22 }],
    ['above U+10FFFF', () => q.decode(bytes('{"meta":{},"payload":"', [0xf4, 0x90, 0x80, 0x80], '"}')), { code: 'JSON_UTF8', offset: 22 }],
    ['invalid UTF-8 in the tenant', () => q.decode(bytes('{"meta":{"tenant":"', [0xfe], '"},"payload":1}')), { code: 'JSON_UTF8', offset: 19 }],
    ['lone surrogate escape', () => q.decode('{"meta":{},"payload":"\\ud800"}'), { code: 'JSON_SURROGATE', offset: 22 }],
    ['a JS lone surrogate becomes U+FFFD (TextEncoder)', () => q.decode('{"meta":{},"payload":"\ud800"}'), { ok: (e) => assert.equal(e.payload, '\ufffd') }],
    ['an unknown client handle', () => q.decode('{"meta":{},"payload":1}', 123456), { type: 'internal', code: 'BAD_HANDLE' }],
  ]);
});

test('q.decodeMany / q.validateJson: wrong types, per-item errors', () => {
  return runTable([
    ['decodeMany(number)', () => q.decodeMany(5), { code: 'TYPE_MISMATCH', message: /expected an array/ }],
    ['decodeMany(string)', () => q.decodeMany('{"meta":{},"payload":1}'), { code: 'TYPE_MISMATCH' }],
    ['decodeMany([number])', () => q.decodeMany([5]), { code: 'TYPE_MISMATCH', message: /expected a string or bytes/ }],
    ['decodeMany([null])', () => q.decodeMany([null]), { code: 'TYPE_MISMATCH' }],
    ['decodeMany items', () => q.decodeMany(['{"meta":{},"payload":1}', env({ request_id: 'x' }), '', te.encode('{"meta":{},"payload":2}')]), {
      ok: (r) => {
        assert.equal(r.length, 4);
        assert.equal(r[0].payload, 1);
        checkError(r[1], 'item 1'); assert.equal(r[1].code, 'INVALID_UUID');
        checkError(r[2], 'item 2'); assert.equal(r[2].code, 'JSON_EMPTY');
        assert.equal(r[3].payload, 2);
      },
    }],
    ['validateJson(number)', () => q.validateJson(5), { code: 'TYPE_MISMATCH' }],
    ['validateJson(object)', () => q.validateJson({}), { code: 'TYPE_MISMATCH' }],
    ['validateJson(deep)', () => q.validateJson(deep(10000)), { code: 'JSON_DEPTH' }],
    ['validateJson(NUL)', () => q.validateJson('"\u0000"'), { code: 'JSON_CONTROL_CHAR', offset: 1 }],
  ]);
});

// ------------------------------------------------------------------------------------------ encode

test('q.encode: values JSON cannot carry, meta and error of the wrong types', () => {
  const cyclic = { s: SECRET };
  cyclic.self = cyclic;
  const NOT_JSON = (path) => ({ type: 'validation', code: 'TYPE_MISMATCH', path, message: new RegExp(`^${path}: not serializable as JSON$`), cause: TypeError });
  const nested = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
  return runTable([
    // JSON.stringify's own answer for these is "no value": the payload travels as null
    ['payload a function → null', () => q.encode({ payload: () => SECRET }), { ok: (u8) => assert.equal(payloadOf(u8), null) }],
    ['payload a symbol → null', () => q.encode({ payload: Symbol(SECRET) }), { ok: (u8) => assert.equal(payloadOf(u8), null) }],
    ['payload undefined → null', () => q.encode({ payload: undefined }), { ok: (u8) => assert.equal(text(u8), '{"meta":{},"payload":null}') }],
    ['payload absent → null', () => q.encode({ meta: {} }), { ok: (u8) => assert.equal(payloadOf(u8), null) }],
    ['functions inside are dropped', () => q.encode({ payload: { f: () => 1, k: 2 } }), { ok: (u8) => assert.deepEqual(payloadOf(u8), { k: 2 }) }],
    // a BigInt is written as its digits (README "64-bit integers"); a boxed one JSON.stringify refuses
    ['BigInt payload → its digits', () => q.encode({ payload: { n: 2n ** 64n, s: SECRET } }), { ok: (u8) => assert.match(text(u8), /"payload":\{"n":18446744073709551616,"s":"/) }],
    ['BigInt in meta → its digits', () => q.encode({ meta: { extensions: { n: 2n } }, payload: SECRET }), { ok: (u8) => assert.match(text(u8), /"extensions":\{"n":2\}/) }],
    ['BigInt in error → its digits', () => q.encode({ error: { code: 'C', message: 'm', details: 3n }, payload: 1 }), { ok: (u8) => assert.match(text(u8), /"details":3[,}]/) }],
    ['boxed BigInt payload', () => q.encode({ payload: { n: Object(1n), s: SECRET } }), NOT_JSON('payload')],
    ['boxed BigInt in meta', () => q.encode({ meta: { extensions: { n: Object(2n) } }, payload: SECRET }), NOT_JSON('meta')],
    ['boxed BigInt in error', () => q.encode({ error: { code: 'C', message: 'm', details: Object(3n) }, payload: 1 }), NOT_JSON('error')],
    ['cyclic payload', () => q.encode({ payload: cyclic }), NOT_JSON('payload')],
    ['cyclic meta', () => { const m = {}; m.extensions = { m }; return q.encode({ meta: m, payload: 1 }); }, NOT_JSON('meta')],
    ['toJSON that throws', () => q.encode({ payload: { s: SECRET, toJSON() { throw new RangeError('no JSON for you'); } } }),
      { code: 'TYPE_MISMATCH', path: 'payload', cause: RangeError }],
    ['payload 200 deep', () => q.encode({ payload: nested(200) }), { code: 'JSON_DEPTH', path: 'payload' }],
    ['payload 10,000 deep (JSON.stringify overflows)', () => q.encode({ payload: nested(10000) }), { code: 'TYPE_MISMATCH', path: 'payload', cause: RangeError }],
    ['payloadJson 10,000 deep', () => q.encode({ payloadJson: deep(10000) }), { code: 'JSON_DEPTH', path: 'payload' }],
    ['payload a lone surrogate', () => q.encode({ payload: '\ud800' + SECRET }), { code: 'JSON_SURROGATE', path: 'payload' }],
    ['payload over 1 MiB', () => q.encode({ payload: 'x'.repeat(MiB) }), { code: 'TOO_LARGE', message: /envelope size limit/ }],
    ['envelope null', () => q.encode(null), { code: 'TYPE_MISMATCH', message: /envelope: expected an object/ }],
    ['envelope undefined', () => q.encode(undefined), { code: 'TYPE_MISMATCH', message: /envelope: expected an object/ }],
    ['envelope a string', () => q.encode(SECRET), { code: 'TYPE_MISMATCH', message: /envelope: expected an object/ }],
    ['envelope a number', () => q.encode(7), { code: 'TYPE_MISMATCH' }],
    ['meta a function', () => q.encode({ meta: () => 1, payload: 1 }), { code: 'TYPE_MISMATCH', message: /meta\/error must be objects/ }],
    ['meta a symbol', () => q.encode({ meta: Symbol('m'), payload: 1 }), { code: 'TYPE_MISMATCH', message: /meta\/error must be objects/ }],
    ['error a function', () => q.encode({ error: () => 1, payload: 1 }), { code: 'TYPE_MISMATCH', message: /meta\/error must be objects/ }],
    ['meta an array', () => q.encode({ meta: [], payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta', offset: 0 }],
    ['meta a string', () => q.encode({ meta: 'tenant', payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta' }],
    ['meta null', () => q.encode({ meta: null, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta' }],
    ['meta.tenant a number', () => q.encode({ meta: { tenant: 5 }, payload: SECRET }), { code: 'TYPE_MISMATCH', path: 'meta.tenant', offset: 10 }],
    ['meta.timestamp a number', () => q.encode({ meta: { timestamp: 1700000000 }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.timestamp' }],
    ['meta.timestamp not RFC 3339', () => q.encode({ meta: { timestamp: 'yesterday' }, payload: 1 }), { code: 'INVALID_TIMESTAMP', path: 'meta.timestamp' }],
    ['meta.request_id not a UUID', () => q.encode({ meta: { request_id: SECRET }, payload: 1 }), { code: 'INVALID_UUID', path: 'meta.request_id', message: /^meta\.request_id: not a UUID at byte 14$/ }],
    ['meta.duration a string', () => q.encode({ meta: { duration: '45' }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.duration' }],
    ['meta.security.roles[1] a number', () => q.encode({ meta: { security: { roles: ['a', 1] } }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.security.roles[1]' }],
    ['meta.on_behalf_of incomplete', () => q.encode({ meta: { on_behalf_of: { originalUser: 'u' } }, payload: 1 }), { code: 'MISSING_FIELD', path: 'meta.on_behalf_of.delegatingUser' }],
    ['meta.debug.trace_enabled a string', () => q.encode({ meta: { debug: { trace_enabled: 'yes' } }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.debug.trace_enabled' }],
    ['meta.tracing.tags nested', () => q.encode({ meta: { tracing: { tags: { a: { b: 1 } } } }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.tracing.tags.a' }],
    ['meta.performance.thread_count 2^31', () => q.encode({ meta: { performance: { thread_count: 2 ** 31 } }, payload: 1 }), { code: 'OUT_OF_RANGE', path: 'meta.performance.thread_count' }],
    ['meta.performance.processing_time_ms -1', () => q.encode({ meta: { performance: { processing_time_ms: -1 } }, payload: 1 }), { code: 'OUT_OF_RANGE', path: 'meta.performance.processing_time_ms' }],
    ['meta.debug.memory_usage.heap_used 1.5', () => q.encode({ meta: { debug: { memory_usage: { heap_used: 1.5 } } }, payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta.debug.memory_usage.heap_used' }],
    ['error without message', () => q.encode({ error: { code: 'X' }, payload: 1 }), { code: 'MISSING_FIELD', path: 'error.message' }],
    ['error.http_status_code 70000', () => q.encode({ error: { code: 'X', message: 'm', http_status_code: 70000 }, payload: 1 }), { code: 'OUT_OF_RANGE', path: 'error.http_status_code' }],
    ['error an array', () => q.encode({ error: [], payload: 1 }), { code: 'TYPE_MISMATCH', path: 'error' }],
    ['payloadJson a number', () => q.encode({ payloadJson: 5 }), { code: 'TYPE_MISMATCH', message: /expected a string or bytes/ }],
    ['payloadJson an object', () => q.encode({ payloadJson: { a: 1 } }), { code: 'TYPE_MISMATCH' }],
    ['payloadJson not JSON', () => q.encode({ payloadJson: `{"s":"${SECRET}"` }), { code: 'JSON_TRUNCATED', path: 'payload' }],
    ['payloadJson with trailing data', () => q.encode({ payloadJson: '1 2' }), { code: 'JSON_TRAILING', path: 'payload' }],
    ['encode options null', () => q.encode({ payload: 1 }, null), { ok: (u8) => assert.equal(payloadOf(u8), 1) }],
    ['encodeMany(number)', () => q.encodeMany(5), { code: 'TYPE_MISMATCH', message: /expected an array/ }],
    ['encodeMany([null])', () => q.encodeMany([null]), { code: 'TYPE_MISMATCH' }],
    ['encodeMany([boxed BigInt])', () => q.encodeMany([{ payload: Object(1n) }]), NOT_JSON('payload')],
    ['encodeMany item 1 bad', () => q.encodeMany([{ payload: 1 }, { meta: { tenant: 1 }, payload: 2 }]), { code: 'TYPE_MISMATCH', path: 'batch[1].meta.tenant' }],
  ]);
});

// ------------------------------------------------------------------------------------------ client config

test('q.client: unknown keys, wrong types, out-of-range values, bad URLs and routes', () => {
  return runTable([
    ['unknown top-level key', () => q.client({ bogus: 1 }), { type: 'config', code: 'UNKNOWN_KEY', path: 'bogus', offset: 1 }],
    ['unknown nested key', () => q.client({ rest: { base_ur: 'http://127.0.0.1' } }), { type: 'config', code: 'UNKNOWN_KEY', path: 'rest.base_ur' }],
    ['section of the wrong type', () => q.client({ rest: 'http://127.0.0.1' }), { code: 'TYPE_MISMATCH', path: 'rest' }],
    ['request_ms a string', () => q.client({ timeouts: { request_ms: 'x' } }), { code: 'TYPE_MISMATCH', path: 'timeouts.request_ms' }],
    ['request_ms a float', () => q.client({ timeouts: { request_ms: 1.5 } }), { code: 'TYPE_MISMATCH', path: 'timeouts.request_ms' }],
    ['base_url a number', () => q.client({ rest: { base_url: 5 } }), { code: 'TYPE_MISMATCH', path: 'rest.base_url' }],
    ['retry_non_idempotent a string', () => q.client({ retry: { retry_non_idempotent: 'yes' } }), { code: 'TYPE_MISMATCH', path: 'retry.retry_non_idempotent' }],
    ['a null setting', () => q.client({ timeouts: { request_ms: null } }), { code: 'TYPE_MISMATCH', path: 'timeouts.request_ms' }],
    ['headers with a number', () => q.client({ rest: { headers: { 'X-A': 1 } } }), { code: 'TYPE_MISMATCH', path: 'rest.headers.X-A' }],
    ['method unknown', () => q.client({ rest: { method: 'FOO' } }), { code: 'INVALID_ENUM', path: 'rest.method' }],
    ['max_attempts 0', () => q.client({ retry: { max_attempts: 0 } }), { code: 'OUT_OF_RANGE', path: 'retry.max_attempts', message: /allowed 1\.\.20/ }],
    ['max_attempts 21', () => q.client({ retry: { max_attempts: 21 } }), { code: 'OUT_OF_RANGE', path: 'retry.max_attempts' }],
    ['request_ms -1', () => q.client({ timeouts: { request_ms: -1 } }), { code: 'OUT_OF_RANGE', path: 'timeouts.request_ms' }],
    ['request_ms 0', () => q.client({ timeouts: { request_ms: 0 } }), { code: 'OUT_OF_RANGE', path: 'timeouts.request_ms' }],
    ['jitter 101', () => q.client({ retry: { jitter_percent: 101 } }), { code: 'OUT_OF_RANGE', path: 'retry.jitter_percent' }],
    ['max_depth 1', () => q.client({ limits: { max_depth: 1 } }), { code: 'OUT_OF_RANGE', path: 'limits.max_depth' }],
    ['max_envelope_bytes 2^40', () => q.client({ limits: { max_envelope_bytes: 2 ** 40 } }), { code: 'OUT_OF_RANGE', path: 'limits.max_envelope_bytes' }],
    ['uuid_version 5', () => q.client({ meta: { uuid_version: 5 } }), { code: 'OUT_OF_RANGE', path: 'meta.uuid_version' }],
    ['max_delay < base_delay', () => q.client({ retry: { base_delay_ms: 100, max_delay_ms: 10 } }), { code: 'OUT_OF_RANGE', path: 'retry.max_delay_ms' }],
    ['base_url with credentials', () => q.client({ rest: { base_url: `http://user:${TOKEN}@127.0.0.1:1/` } }), { type: 'config', code: 'INVALID_URL', path: 'rest.base_url', message: /credentials/ }],
    ['base_url with a user only', () => q.client({ rest: { base_url: 'http://user@127.0.0.1/' } }), { code: 'INVALID_URL', path: 'rest.base_url' }],
    ['base_url with a query', () => q.client({ rest: { base_url: 'http://127.0.0.1/?a=1' } }), { code: 'INVALID_URL', path: 'rest.base_url' }],
    ['base_url ftp', () => q.client({ rest: { base_url: 'ftp://127.0.0.1/' } }), { code: 'INVALID_URL', path: 'rest.base_url' }],
    ['base_url port 0', () => q.client({ rest: { base_url: 'http://127.0.0.1:0' } }), { code: 'INVALID_URL', path: 'rest.base_url' }],
    ['base_url with CRLF', () => q.client({ rest: { base_url: 'http://127.0.0.1/\r\nX: y' } }), { code: 'INVALID_URL', path: 'rest.base_url' }],
    ['route without /', () => q.client({ rest: { route: 'envelope' } }), { type: 'config', code: 'CONFIG_INVALID', path: 'rest.route', message: /must start with '\/'/ }],
    ['route empty', () => q.client({ rest: { route: '' } }), { code: 'CONFIG_INVALID', path: 'rest.route' }],
    ['auth_token name empty', () => q.client({ security: { auth_token: '' } }), { code: 'CONFIG_INVALID', path: 'security.auth_token' }],
    ['origin not allowed', () => q.client({ rest: { base_url: 'http://127.0.0.1:1' }, security: { allowed_origins: ['http://example.com'] } }),
      { type: 'security', code: 'ORIGIN_DENIED', path: 'rest.base_url' }],
    ['config a number', () => q.client(42), { code: 'TYPE_MISMATCH', offset: 0 }],
    ['config null', () => q.client(null), { code: 'TYPE_MISMATCH' }],
    ['config an array', () => q.client([]), { code: 'TYPE_MISMATCH' }],
    ['config a function', () => q.client(() => 1), { code: 'TYPE_MISMATCH' }],
    ['config with a BigInt', () => q.client({ limits: { max_depth: 5n } }), { code: 'TYPE_MISMATCH', path: 'config', cause: TypeError }],
    ['config text truncated', () => q.client('{"rest":'), { code: 'JSON_TRUNCATED', path: 'config' }],
    ['config text with NUL', () => q.client('{"meta":{"tenant":"a\u0000"}}'), { code: 'JSON_CONTROL_CHAR', path: 'config' }],
    ['client options null is no options', () => q.client({}, null), { ok: (c) => { assert.equal(c.config.rest.route, '/envelope'); c.close(); } }],
  ]).then(() => assert.equal(q.memoryStats().clients, 1, 'only the shared client exists: failed configs keep nothing'));
});

// ------------------------------------------------------------------------------------------ send options

test('client.send: bad options are refused before anything is sent', T(10000), async () => {
  srv.reset();
  const OPT = (path, code = 'TYPE_MISMATCH') => ({ type: code === 'INVALID_URL' ? 'config' : 'validation', code, path });
  const payload = { s: SECRET };
  await runTable([
    ["method 'FOO'", () => client.send({ payload }, { method: 'FOO' }), { ...OPT('options.method', 'INVALID_ENUM'), offset: 10 }],
    ['method a number', () => client.send({ payload }, { method: 5 }), OPT('options.method')],
    ['method HEAD', () => client.send({ payload }, { method: 'HEAD' }), OPT('options.method', 'INVALID_ENUM')],
    ['timeout -1', () => client.send({ payload }, { timeout: -1 }), OPT('options.timeout_ms', 'OUT_OF_RANGE')],
    ['timeout 0', () => client.send({ payload }, { timeout: 0 }), { ...OPT('options.timeout_ms', 'OUT_OF_RANGE'), message: /1\.\.86400000/ }],
    ["timeout 'x'", () => client.send({ payload }, { timeout: 'x' }), OPT('options.timeout_ms')],
    ['timeout 1.5', () => client.send({ payload }, { timeout: 1.5 }), OPT('options.timeout_ms')],
    ['timeout NaN', () => client.send({ payload }, { timeout: NaN }), OPT('options.timeout_ms')],
    ['timeout over a day', () => client.send({ payload }, { timeout: 86400001 }), OPT('options.timeout_ms', 'OUT_OF_RANGE')],
    ['header value with CRLF', () => client.send({ payload }, { headers: { 'X-A': `a\r\nX-Injected: ${SECRET}` } }), OPT('options.headers', 'INVALID_VALUE')],
    ['header value with LF', () => client.send({ payload }, { headers: { 'X-A': 'a\nb' } }), OPT('options.headers', 'INVALID_VALUE')],
    ['header value with NUL', () => client.send({ payload }, { headers: { 'X-A': 'a\u0000b' } }), OPT('options.headers', 'INVALID_VALUE')],
    ['header value non-ASCII', () => client.send({ payload }, { headers: { 'X-A': 'ü' } }), OPT('options.headers', 'INVALID_VALUE')],
    ['header name with CRLF', () => client.send({ payload }, { headers: { 'X-A\r\nB': 'v' } }), { ...OPT('options.headers', 'INVALID_VALUE'), message: /not a valid header name/ }],
    ['header name with a space', () => client.send({ payload }, { headers: { 'X A': 'v' } }), OPT('options.headers', 'INVALID_VALUE')],
    ['header value a number', () => client.send({ payload }, { headers: { 'X-A': 1 } }), OPT('options.headers.X-A')],
    ['headers an array', () => client.send({ payload }, { headers: ['X-A'] }), OPT('options.headers')],
    ...['X-Qollective-Request-Id', 'content-type', 'X-Qollective-Tenant', 'X-QOLLECTIVE-VERSION', 'X-Qollective-Timestamp',
      'X-Qollective-User-Id', 'X-Qollective-Session-Id', 'X-Qollective-Trace-Id', 'X-Qollective-Span-Id', 'X-On-Behalf-Of', 'Authorization'].map((name) =>
      [`reserved header ${name}`, () => client.send({ payload }, { headers: { [name]: `Bearer ${TOKEN}` } }), { ...OPT('options.headers', 'INVALID_VALUE'), message: /written by the client/ }]),
    ["route 'x'", () => client.send({ payload }, { route: 'x' }), { ...OPT('options.route', 'INVALID_URL'), message: /must start with '\/'/ }],
    ["route '//evil'", () => client.send({ payload }, { route: '//evil.example/x' }), OPT('options.route', 'INVALID_URL')],
    ['route with CRLF', () => client.send({ payload }, { route: '/a\r\nb' }), OPT('options.route', 'INVALID_URL')],
    ['idempotent a string', () => client.send({ payload }, { idempotent: 'yes' }), OPT('options.idempotent')],
    ['signal not an AbortSignal', () => client.send({ payload }, { signal: { aborted: false } }), { code: 'TYPE_MISMATCH', message: /signal: not an AbortSignal/ }],
    ['envelope null', () => client.send(null), { code: 'TYPE_MISMATCH', message: /envelope: expected an object/ }],
    ['envelope a string', () => client.send(SECRET), { code: 'TYPE_MISMATCH' }],
    ['envelope with a boxed BigInt', () => client.send({ payload: { n: Object(1n), s: SECRET } }), { code: 'TYPE_MISMATCH', path: 'payload', cause: TypeError }],
    ['meta with a bad UUID', () => client.send({ meta: { request_id: 'r' }, payload }), { code: 'INVALID_UUID', path: 'meta.request_id' }],
    ['user_id with a newline', () => client.send({ meta: { security: { user_id: `u\n${SECRET}` } }, payload }), { code: 'INVALID_VALUE', path: 'meta.security.user_id' }],
    ['GET payload too large for a URL', () => client.send({ payload: 'x'.repeat(530000) }, { method: 'GET' }), { code: 'TOO_LARGE', path: 'url' }],
    ['headers past limits.max_header_bytes', () => client.send({ payload }, { headers: { 'X-Pad': 'a'.repeat(65537) } }), { code: 'TOO_LARGE', path: 'headers' }],
  ]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(srv.stats.total, 0, 'nothing reached the server');
  // null options are no options; a lower-case method is fine
  assert.equal((await client.send({ payload: 3 }, null)).payload, 3);
  assert.equal((await client.send({ payload: 4 }, { method: 'put' })).payload, 4);
  assert.equal(srv.stats.count('PUT'), 1);
});

test('headers fetch forbids are a caller error, not a retried NETWORK failure; nothing is sent', { timeout: 10000 }, async () => {
  const c = q.client({ rest: { base_url: srv.url }, retry: { base_delay_ms: 10, jitter_percent: 0 } });
  try {
    srv.reset();
    for (const name of ['Connection', 'Transfer-Encoding', 'Keep-Alive', 'Upgrade', 'Expect', 'Host', 'Content-Length',
      'Cookie', 'Origin', 'Proxy-Authorization', 'Sec-Fetch-Mode', 'x-qollective-meta', 'accept-charset', 'Via']) {
      const err = await failure(() => c.send({ payload: 1 }, { headers: { [name]: 'x' }, method: 'GET' }), name);
      assert.equal(err.code, 'INVALID_VALUE', `${name}: got ${err.code}`);
      assert.equal(err.path, 'options.headers');
      assert.match(err.message, /header not allowed \(forbidden by fetch or reserved\)/, name);
    }
    assert.equal(srv.stats.total, 0);
    const withDefault = q.client({ rest: { base_url: srv.url, headers: { Connection: 'close' } } });
    await assert.rejects(withDefault.send({ payload: 1 }), { code: 'INVALID_VALUE', path: 'rest.headers' });
    withDefault.close();
  } finally { c.close(); }
});

// ------------------------------------------------------------------------------------------ tokens and close

test('setToken / clearToken: empty name, newline, 10 KB, non-strings; every call after close()', T(5000), async () => {
  srv.reset();
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } });
  const badProvider = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } }, { auth: () => ({ name: 'api', token: `${TOKEN}\n` }) });
  const throwingProvider = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } }, { auth: () => { throw new Error('idp down'); } });
  await runTable([
    ['empty name', () => c.setToken('', TOKEN), { type: 'internal', code: 'BAD_ARGUMENT', path: 'token.name', message: /1\.\.64 bytes/ }],
    ['65-byte name', () => c.setToken('n'.repeat(65), TOKEN), { code: 'BAD_ARGUMENT', path: 'token.name' }],
    ['empty token', () => c.setToken('api', ''), { code: 'BAD_ARGUMENT', path: 'token.value' }],
    ['token with a newline', () => c.setToken('api', `${TOKEN}\nX-Injected: 1`), { type: 'validation', code: 'INVALID_VALUE', path: 'token.value', message: /visible ASCII only/ }],
    ['token with a space', () => c.setToken('api', `Bearer ${TOKEN}`), { code: 'INVALID_VALUE', path: 'token.value' }],
    ['token non-ASCII', () => c.setToken('api', `${TOKEN}ü`), { code: 'INVALID_VALUE', path: 'token.value' }],
    ['10 KB token', () => c.setToken('api', TOKEN + 'x'.repeat(10 * KiB)), { code: 'BAD_ARGUMENT', path: 'token.value', message: /1\.\.8192 bytes/ }],
    ['token undefined', () => c.setToken('api', undefined), { code: 'TYPE_MISMATCH', message: /expected a string or bytes/ }],
    ['token a number', () => c.setToken('api', 123), { code: 'TYPE_MISMATCH' }],
    ['name a symbol', () => c.setToken(Symbol('api'), TOKEN), { code: 'TYPE_MISMATCH' }],
    ['name an object', () => c.setToken({ toString: () => 'api' }, TOKEN), { code: 'TYPE_MISMATCH', message: /expected a string or bytes/ }],
    ['clearToken(undefined)', () => c.clearToken(undefined), { code: 'TYPE_MISMATCH' }],
    ['clearToken(null-prototype object)', () => c.clearToken(Object.create(null)), { code: 'TYPE_MISMATCH' }],
    ['the store after the refusals is empty', () => c.send({ payload: 1 }), { type: 'security', code: 'NO_TOKEN', path: 'security.auth_token' }],
    ['an auth provider giving a bad token', () => badProvider.send({ payload: 1 }), { code: 'INVALID_VALUE', path: 'token.value' }],
    ['an auth provider that throws', () => throwingProvider.send({ payload: 1 }), { type: 'security', code: 'NO_TOKEN', message: /auth provider failed/ }],
  ]);
  badProvider.close();
  throwingProvider.close();
  c.setToken('api', TOKEN);
  const handle = c.h;
  c.close();
  c.close();
  const CLOSED = { type: 'internal', code: 'BAD_HANDLE', message: /closed/ };
  await runTable([
    ['send after close', () => c.send({ payload: SECRET }), CLOSED],
    ['setToken after close', () => c.setToken('api', TOKEN), CLOSED],
    ['clearToken after close', () => c.clearToken('api'), CLOSED],
    ['config after close', () => c.config, CLOSED],
    ['decode with the closed handle', () => q.decode('{"meta":{},"payload":1}', handle), { code: 'BAD_HANDLE', message: /unknown or closed handle/ }],
  ]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(srv.stats.total, 0);
});

// ------------------------------------------------------------------------------------------ sweep

test('junk of every JS type into every public call: only QollectiveErrors, no trap', T(20000), async () => {
  const junk = () => [undefined, null, 0, -1, NaN, Infinity, 2 ** 53, 1n, '', 'x', '\u0000', '\ud800', true, Symbol('s'), () => 1,
    {}, [], [1, 2], [null], new Uint8Array([0xff, 0]), new ArrayBuffer(4), new Date(0), Object.create(null), new Map([[1, 2]]), /re/,
    { meta: 1, payload: 2 }, { payloadJson: 1 }, { meta: { tenant: 1n } }, { length: 1e9 }];
  const c = q.client({ rest: { base_url: `http://127.0.0.1:${closedPort}` }, retry: { max_attempts: 1 }, timeouts: { request_ms: 500 } });
  const calls = {
    decode: (v) => q.decode(v),
    validateJson: (v) => q.validateJson(v),
    encode: (v) => q.encode(v),
    encodeOptions: (v) => q.encode({ payload: 1 }, v),
    encodeAutofill: (v) => q.encode(v, { autofill: true }),
    decodeMany: (v) => q.decodeMany(v),
    decodeManyItem: (v) => q.decodeMany([v]),
    encodeMany: (v) => q.encodeMany(v),
    encodeManyItem: (v) => q.encodeMany([v], { autofill: true }),
    client: (v) => q.client(v).close(),
    clientOptions: (v) => q.client({}, v).close(),
    setTokenName: (v) => c.setToken(v, 'tok'),
    setTokenValue: (v) => c.setToken('n', v),
    clearToken: (v) => c.clearToken(v),
    send: (v) => c.send(v),
    sendOptions: (v) => c.send({ payload: 1 }, v),
    sendMethod: (v) => c.send({ payload: 1 }, { method: v }),
    sendRoute: (v) => c.send({ payload: 1 }, { route: v }),
    sendTimeout: (v) => c.send({ payload: 1 }, { timeout: v }),
    sendHeaders: (v) => c.send({ payload: 1 }, { headers: v }),
  };
  let failures = 0, successes = 0;
  for (const [name, call] of Object.entries(calls)) {
    for (const v of junk()) {
      let shown;
      try { shown = typeof v === 'symbol' ? 'Symbol' : typeof v === 'function' ? 'fn' : JSON.stringify(v) ?? String(v); } catch { shown = Object.prototype.toString.call(v); }
      const label = `${name}(${shown})`;
      try { await call(v); successes++; } catch (e) { checkError(e, label); failures++; }
    }
  }
  c.close();
  assert.ok(failures > 300, `${failures} failures, ${successes} successes`);
  assert.equal(q.memoryStats().clients, 1, 'no client left behind by the sweep');
  assert.equal(q.decode('{"meta":{},"payload":9}').payload, 9);
});

// ------------------------------------------------------------------------------------------ memory cap

test('an instance at the minimum memory cap: ever larger envelopes end in OUT_OF_MEMORY, never a trap', T(20000), async () => {
  const small = await Qollective.load(WASM, { memoryLimit: MiB });
  assert.equal(small.memoryStats().limit, MiB);
  let firstOom = 0, largestOk = 0;
  for (let n = KiB; n <= 4 * MiB; n = Math.ceil(n * 1.5)) {
    const doc = `{"meta":{"tenant":"t"},"payload":[${'1,'.repeat(Math.max(0, (n >> 1) - 1))}1]}`;
    try {
      const e = small.decode(doc);
      assert.equal(e.payloadBytes.length, doc.length - 34);
      assert.ok(!firstOom, `${doc.length} bytes fit after ${firstOom} did not`);
      largestOk = doc.length;
    } catch (err) {
      checkError(err, `decode of ${doc.length} bytes`);
      assert.ok(['OUT_OF_MEMORY', 'TOO_LARGE'].includes(err.code), err.code);
      if (err.code === 'OUT_OF_MEMORY') {
        assert.equal(err.type, 'capacity');
        assert.match(err.message, /out of memory/);
        assert.match(err.message, /memory limit/);
        firstOom ||= doc.length;
      }
    }
    // small work still fine between the big ones
    assert.equal(small.decode('{"meta":{},"payload":[1,2]}').payload.length, 2);
    assert.ok(small.memoryStats().footprint <= MiB);
  }
  assert.ok(firstOom > 0 && largestOk >= 64 * KiB, `largest ${largestOk}, first OOM ${firstOom}`);
  // a batch whose items together do not fit: the items the batch call could not decode for lack of
  // memory are decoded one by one; the result keeps one entry per item, in order
  const fresh = await Qollective.load(WASM, { memoryLimit: MiB });
  const meta = { extensions: Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, [i]])) };
  const items = Array.from({ length: 12 }, (_, i) => JSON.stringify({ meta, payload: i }));
  const many = fresh.decodeMany(items);
  assert.equal(many.length, 12);
  many.forEach((e, i) => {
    if (e instanceof QollectiveError) { checkError(e, `item ${i}`); assert.equal(e.code, 'OUT_OF_MEMORY'); } else assert.equal(e.payload, i);
  });
  assert.ok(many.filter((e) => !(e instanceof QollectiveError)).length >= 10);
  // encoding and clients still work
  assert.deepEqual(payloadOf(small.encode({ payload: { a: 1 } })), { a: 1 });
  const c = small.client({ rest: { base_url: srv.url } });
  assert.equal((await c.send({ payload: 'after' })).payload, 'after');
  c.close();
});

// ------------------------------------------------------------------------------------------ no leaks from REST failures

test('REST failures never carry the token, the Authorization header or the payload', T(20000), async () => {
  srv.reset();
  srv.clearFault();
  const payload = { s: SECRET, nested: [SECRET] };
  const viaProvider = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' }, retry: { max_attempts: 2, base_delay_ms: 5, jitter_percent: 0 } },
    { auth: async () => ({ name: 'api', token: TOKEN }) });
  const dead = q.client({ rest: { base_url: `http://127.0.0.1:${closedPort}` }, security: { auth_token: 'api' }, retry: { max_attempts: 2, base_delay_ms: 5 } });
  dead.setToken('api', TOKEN);
  const noToken = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'other' } });
  const cases = [
    ['error envelope (/fail)', client, () => ({ route: '/fail' }), null, { code: 'HANDLER_ERROR', status: 400 }],
    ['503 envelope', client, () => ({ headers: { 'X-Test-Fault': 'status=503' } }), null, { code: 'SERVICE_UNAVAILABLE', status: 503 }],
    ['503 plain text', client, () => ({ headers: { 'X-Test-Fault': 'status=503;envelope=false' } }), null, { code: 'HTTP_STATUS', status: 503 }],
    ['HTML 502', client, () => ({}), { html502: true }, { code: 'HTTP_STATUS', status: 502, message: /text\/html/ }],
    ['HTML 504 on GET after retries', viaProvider, () => ({ method: 'GET' }), { html504: true }, { code: 'HTTP_STATUS', status: 504 }],
    ['plain 404', client, () => ({ route: '/nowhere' }), null, { code: 'HTTP_STATUS', status: 404 }],
    ['malformed 200', client, () => ({}), { malformed: true }, { code: 'NOT_AN_ENVELOPE' }],
    ['reset', client, () => ({}), { reset: true }, { code: 'NETWORK' }],
    ['reset mid-body', client, () => ({}), { resetMidBody: true }, { code: 'NETWORK' }],
    ['truncated body', client, () => ({}), { truncate: true }, { code: 'NETWORK' }],
    ['network (nothing listening)', dead, () => ({ method: 'GET' }), null, { type: 'connection', code: 'NETWORK' }],
    ['timeout (/slow)', client, () => ({ route: '/slow', timeout: 150 }), null, { type: 'timeout', code: 'TIMEOUT' }],
    ['timeout (hang, GET, provider)', viaProvider, () => ({ method: 'GET', timeout: 150 }), { hang: true }, { code: 'TIMEOUT' }],
    ['aborted', client, () => { const ac = new AbortController(); setTimeout(() => ac.abort(), 50); return { route: '/slow', signal: ac.signal }; }, null, { type: 'aborted', code: 'ABORTED' }],
    ['NO_TOKEN', noToken, () => ({}), null, { code: 'NO_TOKEN' }],
  ];
  for (const [label, c, opts, fault, want] of cases) {
    if (fault) srv.setFault(fault); else srv.clearFault();
    for (const method of [undefined, 'PUT']) {
      const o = opts();
      if (method && !o.method) o.method = method;
      const err = await failure(() => c.send({ meta: { tenant: 'acme' }, payload }, o), `${label} ${o.method ?? 'POST'}`);
      matches(err, want, label);
    }
  }
  srv.clearFault();
  // the requests really carried the secrets: the checks above had something to find
  assert.ok(srv.stats.requests.some((e) => e.headers.authorization === `Bearer ${TOKEN}`));
  assert.ok(srv.stats.requests.some((e) => e.body.includes(SECRET)));
  viaProvider.close();
  dead.close();
  noToken.close();
});

test('every error the table produced was checked for secrets', () => {
  assert.ok(produced.length > 200, `${produced.length} errors`);
  for (const e of produced) {
    const text = everything(e);
    assert.ok(!text.includes(TOKEN) && !text.includes(SECRET) && !/authorization/i.test(text));
  }
});
