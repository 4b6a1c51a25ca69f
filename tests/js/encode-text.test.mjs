// Encode from JS objects as one text: q.encode({meta, payload}) stringifies the whole envelope once
// and the core splits it (Q_ENCODE_TEXT, include/qollective.h). It must write the very bytes, and
// throw the very errors, that encoding the meta and the payload stringified apart does
// ({meta, payloadJson}) and what the writer writes for the same meta (a canonical meta is only
// validated and copied: the shortcut must not show), over the benchmark fixtures, upstream's
// vectors and seeded variants of every way a meta can differ from its canonical form; and the
// glue must fall back to the parts wherever one text would not be the same JSON (toJSON, dropped
// payloads, an error object).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WASM, GLUE } from './module.mjs';
import { requestMeta, compactFullMeta, fullMeta, payloadFor, rng } from '../../bench/codec-data.mjs';

const { Qollective } = await import(GLUE);
// a fixed clock and entropy, so autofilled envelopes compare byte for byte
const IO = { now: () => 1.7e12, random: (b) => b.fill(7) };
const q = await Qollective.load(WASM, IO);

/** Encodes meta and payload texts as parts through the raw export (what encode does apart). */
function encodeTexts(metaText, payloadText, options) {
  const flags = options?.autofill ? 1 : 0;
  if (flags) q._entropy(16);
  const [m, p] = q._input([metaText, payloadText]);
  q._check(q.x.q_envelope_encode(m, p, 0, flags, q.io.now(), -1));
  return q._out();
}

/** The one-text encode against the encode of the parts (same bytes, or the same error), and both
 * against the writer: the meta pretty-printed is never canonical (whitespace), so the core always
 * rewrites it, the way it rewrote every meta before the shortcut (same bytes, same error code and path). */
function sameAsParts(env, options, what) {
  const run = (f) => { try { return { out: f() }; } catch (err) { return { err }; } };
  const one = run(() => q.encode(env, options));
  const payloadJson = JSON.stringify(env.payload) ?? 'null';
  const apart = run(() => q.encode({ meta: env.meta, payloadJson }, options));
  const pretty = JSON.stringify(env.meta, null, 1);
  const writer = run(() => encodeTexts(pretty, payloadJson, options));
  if (apart.err) {
    assert.ok(one.err, `${what}: one text encoded what the parts refuse (${apart.err.message})`);
    for (const k of ['code', 'message', 'path', 'offset']) assert.equal(one.err[k], apart.err[k], `${what}: error ${k}`);
    assert.ok(writer.err, `${what}: the writer encoded what the parts refuse`);
    for (const k of ['code', 'path']) assert.equal(writer.err[k], apart.err[k], `${what}: writer's error ${k}`);
    return 0;
  }
  assert.ok(!one.err, `${what}: one text refused what the parts encode: ${one.err?.message}`);
  assert.deepEqual(one.out, apart.out, `${what}: bytes differ`);
  assert.ok(!writer.err, `${what}: the writer refused: ${writer.err?.message}`);
  assert.deepEqual(one.out, writer.out, `${what}: bytes differ from the writer's`);
  return 1;
}

const PAYLOADS = [null, 0, -1.5e-7, 'text', '', 'é😀\u0000\n"\\', '\ud800', [], {}, [1, [2, [3]]],
  { z: 1, a: { b: [true, false, null] }, meta: { payload: ',"payload":' } }, { s: '}]"' }];

test('the benchmark fixtures and their payloads encode as one text exactly as apart', () => {
  let ok = 0;
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    const meta = make();
    for (const size of [300, 1000, 16000, 100000]) ok += sameAsParts({ meta, payload: payloadFor(meta, size) }, undefined, `${make.name} ${size}`);
    for (const payload of PAYLOADS) ok += sameAsParts({ meta, payload }, undefined, `${make.name} ${JSON.stringify(payload)}`);
  }
  assert.ok(ok >= 3 * 4 + 3 * (PAYLOADS.length - 1));   // only the lone surrogate is refused
});

test("upstream's vectors encode as one text exactly as apart", () => {
  const vectors = readFileSync(new URL('../vectors/upstream-envelopes.jsonl', import.meta.url), 'utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  let n = 0;
  for (const v of vectors) {
    let env;
    try { env = v.kind === 'encode' ? v.input : JSON.parse(v.input); } catch { continue; }
    if (env === null || typeof env !== 'object' || typeof env.meta !== 'object' || env.meta === null || 'error' in env) continue;
    sameAsParts({ meta: env.meta, payload: env.payload }, undefined, v.name);
    n++;
  }
  assert.ok(n >= 50, `only ${n} vectors compared`);
});

// Each way a meta's JSON.stringify can differ from what the writer writes (the core then rewrites it).
const CHANGES = [
  (m) => { m.duration = 45; }, (m) => { m.tenant = null; }, (m) => { m.zzz = { a: [1] }; },
  (m) => { const t = m.timestamp; delete m.timestamp; m.timestamp = t; },       // key order
  (m) => { m.request_id = m.request_id.toUpperCase(); }, (m) => { m.request_id = `{${m.request_id}}`; },
  (m) => { m.timestamp = '2024-01-01T00:00:00+01:00'; }, (m) => { m.timestamp = '2024-01-01T00:00:00.5Z'; },
  (m) => { m.timestamp = new Date(0); },                                        // a nested toJSON
  (m) => { delete m.security.permissions; }, (m) => { m.security.roles = undefined; },
  (m) => { m.tracing.tags = {}; }, (m) => { m.tracing.baggage = {}; },
  (m) => { m.version = 'a\u0001b"\\/\u2028\u007f'; }, (m) => { m.version = '\ud800'; }, (m) => { m.version = '\udc00x\ud83d'; },
  (m) => { m.performance.db_query_count = 1e3; }, (m) => { m.performance.processing_time_ms = 1e21; },
  (m) => { m.performance.memory_peak = 2 ** 63; }, (m) => { m.performance.cpu_usage = -0; },
  (m) => { m.performance.cpu_usage = 1e21; }, (m) => { m.performance.cpu_usage = 1e-7; }, (m) => { m.duration = 123456789012345680000; },
  (m) => { m.performance.cpu_usage = 1e15; }, (m) => { m.performance.cpu_usage = 1e16; }, (m) => { m.performance.cpu_usage = NaN; },
  (m) => { m.extensions = { a: { b: [1, 2, { c: null }] }, d: 'x y', e: [] }; },
  (m) => { m.debug.log_level = 'Nope'; }, (m) => { m.tracing.span_status = { message: 'm' }; },
  (m) => { m.tracing.tags = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, i])); },
  (m) => { m.on_behalf_of = { originalUser: 'a' }; }, (m) => { delete m.timestamp; delete m.request_id; delete m.version; },
  (m) => { m.tracing.sampled = 1; }, (m) => { m.debug.db_queries = [null]; }, (m) => { m.security = []; },
  (m) => { let d = m.extensions = {}; for (let i = 0; i < 200; i++) d = d.x = {}; },   // deeper than the limit
];

test('every kind of non-canonical meta encodes as one text exactly as apart (seeded variants, autofill too)', () => {
  const r = rng(20261205);
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    for (let i = 0; i < CHANGES.length; i++) {
      for (let round = 0; round < 3; round++) {
        const m = structuredClone(make());
        m.security ??= {}; m.performance ??= {}; m.debug ??= {}; m.tracing ??= {};
        // one change, then up to two more picked by the seeded generator
        CHANGES[i](m);
        for (let k = Math.floor(r() * 3); k > 0; k--) CHANGES[Math.floor(r() * CHANGES.length)](m);
        if (m.timestamp instanceof Date && round) m.timestamp = m.timestamp.toISOString();
        const payload = PAYLOADS[Math.floor(r() * PAYLOADS.length)];
        for (const options of [undefined, { autofill: true }]) sameAsParts({ meta: m, payload }, options, `${make.name} change ${i} round ${round}`);
      }
    }
  }
});

test('the glue sends one text only where it is the same JSON as the parts', () => {
  const calls = [];
  const x = q.x;
  const spy = new Qollective({ ...x, q_envelope_encode: (...a) => { calls.push(a[3] & 2 ? 'text' : 'parts'); return x.q_envelope_encode(...a); } }, IO);
  const sent = (env) => { calls.length = 0; try { spy.encode(env); } catch { /* the error is checked by sameAsParts */ } return calls[0]; };
  const meta = { tenant: 't' };
  assert.equal(sent({ meta, payload: { a: 1 } }), 'text');
  assert.equal(sent({ meta, payload: 'x' }), 'text');
  assert.equal(sent({ meta, payload: null }), 'text');
  assert.equal(sent({ meta, payload: new Date(0) }), 'parts');            // toJSON: told "payload", not ""
  assert.equal(sent({ meta: { ...meta, toJSON: () => ({}) }, payload: 1 }), 'parts');
  assert.equal(sent({ meta, payload: undefined }), 'parts');              // dropped from one text
  assert.equal(sent({ meta, payload: () => 1 }), 'parts');
  assert.equal(sent({ meta, payload: Symbol('s') }), 'parts');
  assert.equal(sent({ meta, payload: 1, error: { code: 'C', message: 'm' } }), 'parts');
  assert.equal(sent({ meta, payloadJson: '1' }), 'parts');
  assert.equal(sent({ meta: undefined, payload: 1 }), 'parts');
  assert.equal(sent({ meta: null, payload: 1 }), 'parts');
  assert.equal(sent({ meta, payload: { big: 1n } }), undefined);          // stringify throws: the parts path throws it
  const cyclic = {}; cyclic.self = cyclic;
  assert.equal(sent({ meta, payload: cyclic }), undefined);
  // and each of them gives what the parts give
  const toJSONed = { toJSON: (k) => ({ key: k }) };
  for (const env of [{ meta: { ...meta, toJSON: (k) => ({ tenant: `k=${k}` }) }, payload: toJSONed }, { meta, payload: toJSONed }, { meta, payload: new Date(0) }]) {
    assert.deepEqual(q.encode(env), q.encode({ meta: env.meta, payloadJson: JSON.stringify(env.payload) }));
  }
  assert.throws(() => q.encode({ meta, payload: { big: 1n } }), { code: 'TYPE_MISMATCH', message: /payload: not serializable as JSON/ });
  assert.throws(() => q.encode({ meta, payload: cyclic }), { message: /payload: not serializable as JSON/ });
  assert.deepEqual(q.encode({ meta, payload: undefined }), q.encode({ meta, payloadJson: 'null' }));
});

test('encodeMany sends one text per envelope when all have it, and agrees with encode', () => {
  const list = [{ meta: fullMeta(), payload: { a: 1 } }, { meta: requestMeta(), payload: [1, 2] }, { meta: { duration: 5 }, payload: 'x' }];
  const many = q.encodeMany(list);
  list.forEach((env, i) => assert.deepEqual(many[i], q.encode(env)));
  const mixed = [...list, { meta: {}, payloadJson: '{"raw":true}' }];
  const m2 = q.encodeMany(mixed);
  mixed.forEach((env, i) => assert.deepEqual(m2[i], q.encode(env)));
  assert.throws(() => q.encodeMany([{ meta: {}, payload: 1 }, { meta: { tenant: 5 }, payload: 1 }]), { path: 'batch[1].meta.tenant' });
});
