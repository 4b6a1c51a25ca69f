// Encode's shortcut for a meta already canonical (src/schema.c "canonical check"): such a meta,
// what JSON.stringify gives for an object with its keys in the struct's order, is validated once
// and copied (with ".0" after integral f64s) instead of rewritten. It must not show: q.encode
// writes the very bytes, and throws the very errors, the writer gives for the same meta, over the
// benchmark fixtures, upstream's vectors and seeded variants of every way a meta can differ from
// its canonical form. The writer's answer comes from the same meta pretty-printed, which is never
// canonical (whitespace), so the core always rewrites it, as it rewrote every meta before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WASM, GLUE } from './module.mjs';
import { requestMeta, compactFullMeta, fullMeta, payloadFor, rng } from '../../bench/codec-data.mjs';

const { Qollective } = await import(GLUE);
// a fixed clock and entropy, so autofilled envelopes compare byte for byte
const IO = { now: () => 1.7e12, random: (b) => b.fill(7) };
const q = await Qollective.load(WASM, IO);

/** Encodes meta and payload texts as parts through the raw export (what encode does). */
function encodeTexts(metaText, payloadText, options) {
  const flags = options?.autofill ? 1 : 0;
  if (flags) q._entropy(16);
  const [m, p] = q._input([metaText, payloadText]);
  q._check(q.x.q_envelope_encode(m, p, 0, flags, q.io.now(), -1));
  return q._out();
}

/** q.encode against the writer: same bytes, or an error with the same code and path (the offset
 * is into the other text). */
function sameAsWriter(env, options, what) {
  const run = (f) => { try { return { out: f() }; } catch (err) { return { err }; } };
  const ours = run(() => q.encode(env, options));
  const writer = run(() => encodeTexts(JSON.stringify(env.meta, null, 1), JSON.stringify(env.payload) ?? 'null', options));
  if (writer.err) {
    assert.ok(ours.err, `${what}: encoded what the writer refuses (${writer.err.message})`);
    for (const k of ['code', 'path']) assert.equal(ours.err[k], writer.err[k], `${what}: error ${k}`);
    return 0;
  }
  assert.ok(!ours.err, `${what}: refused what the writer encodes: ${ours.err?.message}`);
  assert.deepEqual(ours.out, writer.out, `${what}: bytes differ from the writer's`);
  return 1;
}

const PAYLOADS = [null, 0, -1.5e-7, 'text', '', 'é😀\u0000\n"\\', '\ud800', [], {}, [1, [2, [3]]],
  { z: 1, a: { b: [true, false, null] }, meta: { payload: ',"payload":' } }, { s: '}]"' }];

test('the benchmark fixtures encode as the writer writes them', () => {
  let ok = 0;
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    const meta = make();
    for (const size of [300, 1000, 16000, 100000]) ok += sameAsWriter({ meta, payload: payloadFor(meta, size) }, undefined, `${make.name} ${size}`);
    for (const payload of PAYLOADS) ok += sameAsWriter({ meta, payload }, undefined, `${make.name} ${JSON.stringify(payload)}`);
  }
  assert.ok(ok >= 3 * 4 + 3 * (PAYLOADS.length - 1));   // only the lone surrogate is refused
});

test("upstream's vectors encode as the writer writes them", () => {
  const vectors = readFileSync(new URL('../vectors/upstream-envelopes.jsonl', import.meta.url), 'utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  let n = 0;
  for (const v of vectors) {
    let env;
    try { env = v.kind === 'encode' ? v.input : JSON.parse(v.input); } catch { continue; }
    if (env === null || typeof env !== 'object' || typeof env.meta !== 'object' || env.meta === null || 'error' in env) continue;
    sameAsWriter({ meta: env.meta, payload: env.payload }, undefined, v.name);
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

test('every kind of non-canonical meta encodes as the writer writes it (seeded variants, autofill too)', () => {
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
        for (const options of [undefined, { autofill: true }]) sameAsWriter({ meta: m, payload }, options, `${make.name} change ${i} round ${round}`);
      }
    }
  }
});
