// The real modules through the glue (both; tests/js/module.mjs): round trips, the malformed table, batches,
// no traps, flat memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors } from './vectors.mjs';
import { WASM, MODULE, GLUE } from './module.mjs';
import { C } from './c-constants.mjs';

const { Qollective, QollectiveError } = await import(GLUE);

const q = await Qollective.load(WASM);
const te = new TextEncoder(), td = new TextDecoder();

const FULL_META = {
  timestamp: '2024-03-01T12:00:00.500Z', request_id: '0190a3f2-1234-7abc-8def-0123456789ab', version: '1.0',
  duration: 45.5, tenant: 'acme',
  on_behalf_of: { originalUser: 'ou', delegatingUser: 'du', delegatingTenant: 'dt' },
  security: { user_id: 'u', session_id: 's', auth_method: 'Jwt', permissions: ['read'], ip_address: '127.0.0.1', user_agent: 'ua', roles: ['r'], token_expires_at: '2030-01-01T00:00:00Z' },
  debug: { trace_enabled: true, db_queries: [{ query: 'q', duration: 1.5, rows_affected: 3, database: 'd' }], memory_usage: { heap_used: 1, heap_total: 2, external: 3 }, stack_trace: 'st', environment_vars: { A: 'b' }, request_headers: { h: 'v' }, log_level: 'Debug', profiling_data: { cpu_time: 1, wall_time: 2, allocations: 3 } },
  performance: { db_query_time: 1.5, db_query_count: 2, cache_hit_ratio: 0.5, cache_operations: { hits: 1, misses: 2, sets: 3 }, memory_allocated: 10, memory_peak: 20, cpu_usage: 0.1, network_latency: 2.5, external_calls: [{ service: 's', duration: 1, status: 'Success', endpoint: '/e' }], gc_collections: 1, gc_time: 0.5, thread_count: 4, processing_time_ms: 12 },
  monitoring: { server_id: 'a', datacenter: 'b', build_version: 'c', deployment_id: 'd', instance_type: 'e', load_balancer: 'f', environment: 'Production', cluster_id: 'g', namespace: 'h', health_status: 'Healthy', uptime: 99.5 },
  tracing: { trace_id: 't', span_id: 's', parent_span_id: 'p', baggage: { k: 'v' }, sampling_rate: 1, sampled: true, trace_state: 'x', operation_name: 'op', span_kind: 'Server', span_status: { code: 'Ok', message: 'fine' }, tags: { a: 'b', n: 2, t: false } },
  extensions: { custom: { nested: [1, { deep: null }] } },
};

const PAYLOADS = [null, 0, -1.5e-7, 'text', '', 'é😀\u0000\n"\\', [], {}, [1, [2, [3]]], { z: 1, a: { b: [true, false, null] } },
  { unicode: '\u2028\u2029\u007f', big: 12345678901234567890, neg: -0 }];

test('decode → encode equals the canonical form and JSON.parse deep-equals the input', () => {
  for (const payload of PAYLOADS) {
    const input = { meta: FULL_META, payload };
    const bytes = q.encode(input);
    const env = q.decode(bytes);
    assert.deepEqual(env.meta, FULL_META);
    assert.deepEqual(env.payload, JSON.parse(JSON.stringify(payload)));
    // our output parses to the same value V8 produces from the input
    assert.deepEqual(JSON.parse(td.decode(bytes)), JSON.parse(JSON.stringify(input)));
    // canonical form is a fixed point
    const again = q.encode({ meta: env.meta, payloadJson: env.payloadText });
    assert.deepEqual(again, bytes);
  }
});

test('key order of the output: meta, payload, error; meta fields in the Rust struct order', () => {
  const out = td.decode(q.encode({ error: { message: 'm', code: 'C' }, payload: 1, meta: { tenant: 't', timestamp: '2024-01-01T00:00:00Z' } }));
  assert.equal(out, '{"meta":{"timestamp":"2024-01-01T00:00:00Z","tenant":"t"},"payload":1,"error":{"code":"C","message":"m"}}');
});

test('unknown keys are ignored at every level, inside each nested struct and array element too (wire-format.md §1)', () => {
  const z = { zz: [1, { y: null }], 'k\\u00e9': 'x' };   // an unknown key, and one with an escape
  const meta = {
    on_behalf_of: { originalUser: 'a', delegatingUser: 'b', delegatingTenant: 'c', ...z },
    security: { user_id: 'u', ...z },
    debug: { db_queries: [{ query: 'q', duration: 1.5, ...z }], memory_usage: { heap_used: 1, ...z }, profiling_data: { cpu_time: 2.5, ...z }, ...z },
    performance: { cache_operations: { hits: 1, ...z }, external_calls: [{ service: 's', duration: 1.5, status: 'Success', ...z }], ...z },
    monitoring: { server_id: 'm', ...z },
    tracing: { span_status: { code: 'Ok', ...z }, ...z },
    ...z,
  };
  const text = JSON.stringify({ zz: z, meta, payload: 1, error: { code: 'C', message: 'm', ...z } }).replaceAll('k\\\\u00e9', 'k\\u00e9');
  const env = q.decode(text);
  assert.deepEqual(env.meta, JSON.parse(text).meta);   // the meta object keeps them, as JSON.parse does
  assert.equal(env.error.code, 'C');
  // the writer, like serde, writes none of them back
  assert.equal(td.decode(q.encode({ meta: env.meta, payload: 1, error: env.error })),
    '{"meta":{"on_behalf_of":{"originalUser":"a","delegatingUser":"b","delegatingTenant":"c"},"security":{"user_id":"u","permissions":[],"roles":[]},' +
    '"debug":{"db_queries":[{"query":"q","duration":1.5}],"memory_usage":{"heap_used":1},"profiling_data":{"cpu_time":2.5}},' +
    '"performance":{"cache_operations":{"hits":1},"external_calls":[{"service":"s","duration":1.5,"status":"Success"}]},' +
    '"monitoring":{"server_id":"m"},"tracing":{"span_status":{"code":"Ok"}}},"payload":1,"error":{"code":"C","message":"m"}}');
  // a known key spelled with an escape is that key, not an unknown one: its value is checked
  assert.throws(() => q.decode('{"meta":{"security":{"auth_\\u006dethod":"jwt"}},"payload":1}'),
    (e) => e.code === 'INVALID_ENUM' && e.path === 'meta.security.auth_method');
});

test('servers echo sorted keys: decoding does not depend on key order', () => {
  const sorted = '{"error":{"code":"HANDLER_ERROR","details":{"operation":"handler_execution"},"http_status_code":400,"message":"boom"},"meta":{"request_id":"0190a3f2-1234-7abc-8def-0123456789ab","security":{"user_id":"u"},"timestamp":"2024-01-01T00:00:00Z"},"payload":null}';
  const env = q.decode(sorted);
  assert.equal(env.errorStatus, 400);
  assert.equal(env.error.code, 'HANDLER_ERROR');
  assert.equal(env.requestId, '0190a3f2-1234-7abc-8def-0123456789ab');
  assert.equal(env.payload, null);
});

test('auto-fill: v7 request id, UTC timestamp, version 1.0', async () => {
  const now = 1700000000123;
  const fixed = await Qollective.load(WASM, { now: () => now });
  const out = JSON.parse(td.decode(fixed.encode({ payload: { a: 1 } }, { autofill: true })));
  assert.equal(out.meta.timestamp, '2023-11-14T22:13:20.123Z');
  assert.equal(out.meta.version, '1.0');
  assert.match(out.meta.request_id, /^018bcfe5-687b-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ids = new Set();
  for (let i = 0; i < 1000; i++) ids.add(JSON.parse(td.decode(q.encode({ payload: i }, { autofill: true }))).meta.request_id);
  assert.equal(ids.size, 1000);
});

test('every malformed input yields its named error through the real .wasm, no trap', () => {
  const cases = loadVectors('malformed-envelopes.tsv');
  assert.ok(cases.length >= 40);
  for (const c of cases) {
    let err;
    try { q.decode(c.input); } catch (e) { err = e; }
    assert.ok(err instanceof QollectiveError, `line ${c.line}: expected an error`);
    assert.equal(err.code, c.code, `line ${c.line}: ${err.message}`);
    assert.equal(err.offset ?? -1, c.offset, `line ${c.line}: ${err.message}`);
    assert.equal(err.path, c.path, `line ${c.line}`);
    assert.equal(err.type, 'validation');
    assert.equal(err.retryable, false);
    assert.ok(err.message.length <= C.Q_MAX_ERROR_MESSAGE_CHARS);
  }
  // the instance is still healthy afterwards
  assert.equal(q.decode('{"meta":{},"payload":1}').payload, 1);
});

test('random bytes never trap the module', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const alphabet = te.encode('{}[]":,0123456789-+.eEtruefalsnl \\u"metapayloaderror\u00e9');
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(rnd() * 64);
    const b = new Uint8Array(n);
    for (let k = 0; k < n; k++) b[k] = rnd() < 0.9 ? alphabet[Math.floor(rnd() * alphabet.length)] : Math.floor(rnd() * 256);
    try { q.decode(b); } catch (e) { assert.ok(e instanceof QollectiveError, String(e)); }
  }
});

test('encode rejects bad input with a clear error', () => {
  assert.throws(() => q.encode({ meta: { request_id: 'nope' }, payload: 1 }), { code: 'INVALID_UUID', path: 'meta.request_id' });
  assert.throws(() => q.encode({ meta: [], payload: 1 }), { code: 'TYPE_MISMATCH', path: 'meta' });
  assert.throws(() => q.encode({ meta: {}, payloadJson: '{"a":' }), { code: 'JSON_TRUNCATED', path: 'payload' });
  assert.throws(() => q.encode(null), { code: 'TYPE_MISMATCH' });
  assert.throws(() => q.encode({ meta: { security: { auth_method: 'jwt' } }, payload: 1 }), (e) => e.code === 'INVALID_ENUM' && /meta\.security\.auth_method/.test(e.message));
});

test('batch decode and encode reuse one buffer and report per-item failures', () => {
  const items = [];
  for (let i = 0; i < 500; i++) items.push(i % 50 === 7 ? '{"meta":{},"payload":' : `{"meta":{"tenant":"t${i}"},"payload":{"i":${i}}}`);
  const res = q.decodeMany(items);
  assert.equal(res.length, 500);
  res.forEach((r, i) => {
    if (i % 50 === 7) { assert.ok(r instanceof QollectiveError); assert.equal(r.code, 'JSON_TRUNCATED'); }
    else { assert.equal(r.payload.i, i); assert.equal(r.meta.tenant, `t${i}`); }
  });
  const encoded = q.encodeMany(items.filter((_, i) => i % 50 !== 7).map((s) => JSON.parse(s)), { autofill: true });
  assert.equal(encoded.length, 490);
  const again = q.decodeMany(encoded);
  assert.ok(again.every((e) => !(e instanceof QollectiveError) && e.meta.version === '1.0'));
  assert.throws(() => q.encodeMany([{ meta: {}, payload: 1 }, { meta: { tenant: 5 }, payload: 1 }]), { path: 'batch[1].meta.tenant', message: /^batch\[1\]: meta\.tenant: wrong type/ });
  assert.equal(new Set(again.map((e) => e.requestId)).size, 490);   // 16 fresh entropy bytes an item
  // an item's bytes are those of its own encode (meta and payload; a batch writes no error)
  const list = [{ meta: { tenant: 'a' }, payload: [1] }, { payload: 'x', error: { code: 'E', message: 'm' } }];
  q.encodeMany(list).forEach((u8, i) => assert.deepEqual(u8, q.encode({ ...list[i], error: undefined })));
  // an unknown client fails the whole call, unprefixed (it is no item's failure)
  assert.throws(() => q.decodeMany(['{"meta":{},"payload":1}'], 12345), { code: 'BAD_HANDLE', path: 'client' });
  assert.throws(() => q.encodeMany([{ payload: 1 }], {}, 12345), { code: 'BAD_HANDLE', path: 'client' });
});

test('JSON validation export', () => {
  q.validateJson('{"a":[1,2,{"b":null}]}');
  assert.throws(() => q.validateJson('{"a":1,}'), { code: 'JSON_SYNTAX', offset: 7 });
  assert.throws(() => q.validateJson('[[[1]]]', 2), { code: 'JSON_DEPTH' });
});

test('memory stays flat over many calls', () => {
  const env = te.encode(JSON.stringify({ meta: FULL_META, payload: { list: Array.from({ length: 100 }, (_, i) => ({ i, s: 'x'.repeat(i) })) } }));
  for (let i = 0; i < 200; i++) q.encode({ meta: q.decode(env).meta, payload: 1 });
  const before = q.memoryStats();
  for (let i = 0; i < 20000; i++) q.encode({ meta: q.decode(env).meta, payload: i });
  const after = q.memoryStats();
  assert.equal(after.footprint, before.footprint);
  assert.equal(after.persistent, before.persistent);
});

test('a 1 MiB envelope decodes; one byte over the default limit is TOO_LARGE', () => {
  const filler = 'x'.repeat(C.Q_DEFAULT_MAX_ENVELOPE_BYTES - 40);
  const ok = `{"meta":{},"payload":"${filler}"}`;
  const okBytes = te.encode(ok);
  assert.ok(okBytes.length <= C.Q_DEFAULT_MAX_ENVELOPE_BYTES);
  assert.equal(q.decode(okBytes).payloadBytes.length, filler.length + 2);
  const over = te.encode(`{"meta":{},"payload":"${'x'.repeat(C.Q_DEFAULT_MAX_ENVELOPE_BYTES)}"}`);
  assert.throws(() => q.decode(over), { code: 'TOO_LARGE' });
});

test('the module has no imports and the expected exports', async () => {
  const { readFile } = await import('node:fs/promises');
  const mod = new WebAssembly.Module(await readFile(WASM));
  assert.deepEqual(WebAssembly.Module.imports(mod), []);
  const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
  for (const n of ['memory', 'q_init', 'q_buffer', 'q_entropy', 'q_output_ptr', 'q_output_len', 'q_error_ptr', 'q_error_len',
    'q_json_validate', 'q_envelope_decode', 'q_envelope_encode', 'q_memory_stats']) assert.ok(names.includes(n), n);
  // decodeMany is the glue's loop over q_envelope_decode: no module has a batch decode
  assert.ok(names.includes('q_envelope_encode_batch') && !names.includes('q_envelope_decode_batch'), names.join());
  const clientExports = ['q_client_new', 'q_client_free', 'q_client_config', 'q_token_set', 'q_token_clear', 'q_rest_prepare'];
  for (const n of clientExports) assert.equal(names.includes(n), MODULE !== 'codec', n);
});

test('the .d.ts type-checks a typical program (tsc --noEmit)', async () => {
  const { execFileSync } = await import('node:child_process');
  const tsc = new URL('../../node_modules/.bin/tsc', import.meta.url).pathname;
  execFileSync(tsc, ['-p', new URL('../types', import.meta.url).pathname], { stdio: 'pipe' });
});

test('Envelope.requestId is canonical whatever form the sender used', () => {
  const want = '0190a3f2-1234-7abc-8def-0123456789ab';
  for (const form of ['0190A3F2-1234-7ABC-8DEF-0123456789AB', '0190a3f212347abc8def0123456789ab',
    '{0190a3f2-1234-7abc-8def-0123456789ab}', 'urn:uuid:0190a3f2-1234-7abc-8def-0123456789ab',
    '\\u0030190a3f2-1234-7abc-8def-0123456789ab']) {
    assert.equal(q.decode(`{"meta":{"request_id":"${form}"},"payload":1}`).requestId, want, form);
  }
  assert.equal(q.decode('{"meta":{},"payload":1}').requestId, undefined);
});

test('timestamps an offset takes to UTC year -1 or 10000: accepted and written as chrono writes them (-0001, +10000)', () => {
  const env = (meta) => `{"meta":${JSON.stringify(meta)},"payload":1}`;
  for (const [input, utc] of [
    ['0000-01-01T00:30:00+01:00', '-0001-12-31T23:30:00Z'], ['0000-01-01T00:00:00+23:59', '-0001-12-31T00:01:00Z'],
    ['9999-12-31T23:59:59-01:00', '+10000-01-01T00:59:59Z'], ['9999-12-31T23:59:59.5-23:59', '+10000-01-01T23:58:59.500Z'],
  ]) {
    for (const meta of [{ timestamp: input }, { security: { token_expires_at: input } }]) {
      const canonical = env(meta).replace(input, utc).replace('"token_expires_at"', '"permissions":[],"roles":[],"token_expires_at"');
      assert.equal(td.decode(q.encode({ meta, payload: 1 })), canonical, input);
      const e = q.decode(env(meta));
      assert.equal(e.meta.timestamp ?? e.meta.security.token_expires_at, input);   // the meta keeps the text sent, as for any offset
      assert.equal(td.decode(q.encode({ meta: e.meta, payloadJson: e.payloadText })), canonical, input);
      assert.equal(td.decode(q.encode({ meta: q.decode(canonical).meta, payload: 1 })), canonical, utc);
    }
  }
  // more than a day outside 0000..9999 stays refused (chrono would take it; we write only -1 and 10000),
  // by the parser, decoding or encoding: the error is the one of any text that is no timestamp
  const errorOf = (f) => { try { f(); } catch (e) { return e; } assert.fail('accepted'); };
  for (const bad of ['-0001-12-30T23:59:59Z', '+10000-01-02T00:00:00Z', '+10000-01-01T23:59:59-00:01', '-0002-12-31T23:59:60.999999999-23:59']) {
    for (const meta of [{ timestamp: bad }, { security: { token_expires_at: bad } }]) {
      const notATime = JSON.parse(JSON.stringify(meta).replace(bad, 'x'.repeat(bad.length)));
      for (const f of [(m) => q.decode(env(m)), (m) => q.encode({ meta: m, payload: 1 })]) {
        const e = errorOf(() => f(meta)), want = errorOf(() => f(notATime));
        assert.equal(e.code, 'INVALID_TIMESTAMP', bad);
        assert.deepEqual([e.message, e.path, e.offset], [want.message, want.path, want.offset], bad);
      }
    }
  }
});

test('an enum in serde_json\'s map form, {"Jwt":null}: read as the name (meta too, every way it is built), written as the name; other maps refused', () => {
  const env = (am, extra = '') => `{"meta":{"security":{"auth_method":${am}}${extra}},"payload":1}`;
  const canonical = '{"meta":{"security":{"auth_method":"Jwt","permissions":[],"roles":[]}},"payload":1}';
  for (const am of ['{"Jwt":null}', '{ "J\\u0077t" : null }']) {
    for (const [extra, make] of [['', (t) => q.decode(t)], ['', (t) => q.decode(te.encode(t))], [',"tenant":"é"', (t) => q.decode(t)],
      ['', (t) => { const e = q.decode(t); q.decode(env('"Basic"')); return e; }], ['', (t) => q.decodeMany([t])[0]]]) {
      const e = make(env(am, extra));
      assert.deepEqual(e.meta.security, { auth_method: 'Jwt' }, am + extra);
      assert.equal(td.decode(q.encode({ meta: e.meta, payload: 1 })), extra ? canonical.replace('{"security"', '{"tenant":"é","security"') : canonical);
    }
    assert.equal(td.decode(q.encode({ meta: JSON.parse(env(am)).meta, payload: 1 })), canonical);
  }
  for (const [am, code] of [['{}', 'TYPE_MISMATCH'], ['{"Jwt":null,"Basic":null}', 'TYPE_MISMATCH'], ['{"Jwt":0}', 'TYPE_MISMATCH'], ['{"jwt":null}', 'INVALID_ENUM']]) {
    assert.throws(() => q.decode(env(am)), { code, path: 'meta.security.auth_method' }, am);
    assert.throws(() => q.encode({ meta: JSON.parse(env(am)).meta, payload: 1 }), { code, path: 'meta.security.auth_method' }, am);
  }
  assert.throws(() => q.decode(env('{"Jwt":1}')), { message: /\{"Name":null\}/ });
});
