// Differential JSON conformance: generated documents go through the real module (tests/js/module.mjs)
// (as the payload of {"meta":{},"payload":<doc>} via q.decode, and alone via q.validateJson)
// and through V8 (JSON.parse of a fatal UTF-8 decode of the document). Accept/reject must agree
// except where the wire spec deliberately differs (EXCEPTIONS.md); accepted payloads must be
// exactly the document's bytes and parse to the same value as V8's parse of the document.
// Env: CONFORMANCE_CASES (generated cases, default 100000), CONFORMANCE_SEED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { WASM } from '../js/module.mjs';
import { C } from '../js/c-constants.mjs';
import { generate, wrap, FIXED_COUNT } from './gen.mjs';
import { trimWs } from './bytes.mjs';

const COUNT = Number(process.env.CONFORMANCE_CASES || 100000);
const SEED = Number(process.env.CONFORMANCE_SEED || 20240301);

// Nesting levels a whole document may have: Q_DEFAULT_MAX_DEPTH, read from the header so the
// test follows the constant. In a payload one level less: the envelope object is a level.
const MAX_DEPTH = C.Q_DEFAULT_MAX_DEPTH;
const PAYLOAD_MAX_NESTING = MAX_DEPTH - 1;
const SERDE_MAX_NESTING = 127;       // serde_json fails on the 128th nested container of a body
const MAX_ENVELOPE = C.Q_DEFAULT_MAX_ENVELOPE_BYTES;

const q = await Qollective.load(WASM);
const fatal = new TextDecoder('utf-8', { fatal: true });
const te = new TextEncoder();

// ---- the reference ---------------------------------------------------------------------

function v8(bytes) {
  try {
    return { ok: true, value: JSON.parse(fatal.decode(bytes)) };
  } catch (e) {
    return { ok: false, why: e instanceof TypeError ? 'utf8' : 'syntax' };
  }
}

/** Facts about a document V8 accepted, read from its text (not from the parsed value: with
 * duplicate keys the value keeps only the last member, so it can hide deep nesting or an
 * unpaired surrogate that the text has). depth = deepest container nesting. */
function textFacts(bytes) {
  const text = fatal.decode(bytes);
  let depth = 0, max = 0, lone = false, overflow = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {   // a number literal: does V8 make it ±Infinity?
      const m = NUMBER.exec(text.slice(i, i + 2000000));
      if (m && !Number.isFinite(Number(m[0]))) overflow = true;
      if (m) i += m[0].length - 1;
    } else if (ch === 0x22) {                       // a string literal: find its end, test it decoded
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (!lone && text.includes('\\u', i) && LONE.test(JSON.parse(text.slice(i, j + 1)))) lone = true;
      i = j;
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) max = depth;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return { depth: max, lone, overflow };
}
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/;

/** Deepest container nesting of a parsed value (0 for a scalar). Iterative: values may be deep. */
function depthOf(value) {
  let max = 0;
  const stack = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    for (const k of Object.keys(v)) stack.push([v[k], d + 1]);
  }
  return max;
}

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const startsWithBom = (b) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Documented reasons (EXCEPTIONS.md) why we reject what V8 accepts, with the code we give. */
function exceptionsFor(doc, context) {
  const reasons = [];
  const facts = textFacts(doc);
  const limit = context === 'payload' ? PAYLOAD_MAX_NESTING : MAX_DEPTH;
  if (facts.depth > limit) reasons.push(['depth', 'JSON_DEPTH']);
  if (facts.lone) reasons.push(['lone-surrogate', 'JSON_SURROGATE']);
  if (facts.overflow) reasons.push(['overflow', 'OUT_OF_RANGE']);
  if (startsWithBom(doc)) reasons.push(['bom', 'JSON_SYNTAX']);
  if (context === 'payload' && wrap(doc).length > MAX_ENVELOPE) reasons.push(['size', 'TOO_LARGE']);
  return reasons;
}

// ---- our side ---------------------------------------------------------------------------

class Trap extends Error {}
function ours(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof QollectiveError) return { ok: false, code: e.code, offset: e.offset, message: e.message };
    throw new Trap(`not a QollectiveError: ${e && e.stack}`);
  }
}

/** Compares one document in one context; returns null (agree / documented) or a mismatch kind. */
function compare(doc, ref, context, stats) {
  const res = context === 'payload' ? ours(() => q.decode(wrap(doc))) : ours(() => q.validateJson(doc));
  if (res.ok && ref.ok) {
    stats[context].bothAccept++;
    if (context !== 'payload') return null;
    const env = res.value;
    if (!sameBytes(env.payloadBytes, trimWs(doc))) return 'payload-slice';
    let ourValue;
    try { ourValue = JSON.parse(env.payloadText); } catch { return 'payload-unparsable'; }
    if (!isDeepStrictEqual(ourValue, ref.value)) return 'payload-value';
    return null;
  }
  if (!res.ok && !ref.ok) { stats[context].bothReject++; return null; }
  if (res.ok) {
    // Only an artifact of wrapping could make a rejected document a valid envelope member.
    if (context === 'payload' && !sameBytes(res.value.payloadBytes, trimWs(doc))) { stats.wrapperArtifacts++; return null; }
    return 'we-accept-v8-rejects';
  }
  const reasons = exceptionsFor(doc, context);
  const hit = reasons.find(([, code]) => code === res.code);
  if (!hit) return `we-reject-v8-accepts(${res.code})`;
  stats[context].exceptions[hit[0]] = (stats[context].exceptions[hit[0]] || 0) + 1;
  return null;
}

/** Shrinks a failing document (ddmin over byte chunks) while the same mismatch persists. */
function shrink(doc, context, kind) {
  const fails = (d) => {
    try {
      const ref = v8(d);
      if (context === 'meta-f64') return ref.ok && typeof ref.value === 'number' && !startsWithBom(d) && compareMetaF64(d, ref, freshStats()) === kind;
      return compare(d, ref, context, freshStats()) === kind;
    } catch { return false; }
  };
  let cur = doc;
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1; chunk >>= 1) {
    let i = 0;
    while (i < cur.length) {
      const cand = new Uint8Array(cur.length - Math.min(chunk, cur.length - i));
      cand.set(cur.subarray(0, i));
      cand.set(cur.subarray(i + chunk), i);
      if (cand.length < cur.length && fails(cand)) cur = cand; else i += chunk;
    }
  }
  return cur;
}

function freshStats() {
  const ctx = () => ({ bothAccept: 0, bothReject: 0, exceptions: {} });
  return { payload: ctx(), validate: ctx(), wrapperArtifacts: 0, metaF64: { finite: 0, infinite: 0 } };
}

/** A number document in a meta f64 field (duration): OUT_OF_RANGE exactly when V8 overflows. */
function compareMetaF64(doc, ref, stats) {
  const env = cat(META_F64_PREFIX, doc, META_F64_SUFFIX);
  const res = ours(() => q.decode(env));
  const finite = Number.isFinite(ref.value);
  stats.metaF64[finite ? 'finite' : 'infinite']++;
  if (finite ? res.ok : !res.ok && res.code === 'OUT_OF_RANGE') return null;
  return finite ? `meta-f64-rejects-finite(${res.code})` : 'meta-f64-accepts-overflow';
}
const META_F64_PREFIX = te.encode('{"meta":{"duration":');
const META_F64_SUFFIX = te.encode('},"payload":1}');
const cat = (a, b, c) => { const o = new Uint8Array(a.length + b.length + c.length); o.set(a); o.set(b, a.length); o.set(c, a.length + b.length); return o; };

const show = (b) => {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 200));
  const hex = Buffer.from(b.subarray(0, 64)).toString('hex');
  return `${JSON.stringify(text)}${b.length > 200 ? '…' : ''} [${b.length} bytes, hex ${hex}${b.length > 64 ? '…' : ''}]`;
};

// ---- the tests ----------------------------------------------------------------------------

test(`differential: ${FIXED_COUNT} fixed + ${COUNT} generated documents (seed ${SEED}) agree with V8`, (t) => {
  const started = performance.now();
  const stats = freshStats();
  const mismatches = [];
  const kinds = {};
  let cases = 0;
  for (const c of generate({ seed: SEED, count: COUNT })) {
    cases++;
    kinds[c.kind] = (kinds[c.kind] || 0) + 1;
    const ref = v8(c.doc);
    for (const context of ['payload', 'validate']) {
      const kind = compare(c.doc, ref, context, stats);
      if (kind) mismatches.push({ id: c.id, genKind: c.kind, context, kind, doc: c.doc });
    }
    if (ref.ok && typeof ref.value === 'number' && !startsWithBom(c.doc)) {   // BOM: exception 4
      const kind = compareMetaF64(c.doc, ref, stats);
      if (kind) mismatches.push({ id: c.id, genKind: c.kind, context: 'meta-f64', kind, doc: c.doc });
    }
  }
  const ms = Math.round(performance.now() - started);
  t.diagnostic(`cases ${cases} in ${ms} ms; by kind ${JSON.stringify(kinds)}`);
  t.diagnostic(`payload: ${JSON.stringify(stats.payload)}`);
  t.diagnostic(`validate: ${JSON.stringify(stats.validate)}; wrapper artifacts: ${stats.wrapperArtifacts}`);
  t.diagnostic(`meta f64 (duration): ${JSON.stringify(stats.metaF64)}`);

  if (mismatches.length) {
    const byKind = {};
    for (const m of mismatches) (byKind[`${m.context}:${m.kind}`] ||= []).push(m);
    const lines = [];
    for (const [k, list] of Object.entries(byKind)) {
      const smallest = list.reduce((a, b) => (b.doc.length < a.doc.length ? b : a));
      lines.push(`${k}: ${list.length} case(s); e.g. #${smallest.id} (${smallest.genKind}) minimal ${show(shrink(smallest.doc, smallest.context, smallest.kind))}`);
    }
    assert.fail(`${mismatches.length} unexplained difference(s) from V8:\n  ${lines.join('\n  ')}`);
  }
  assert.ok(cases >= 100000 || COUNT < 100000, `only ${cases} cases`);
  assert.ok(stats.metaF64.finite > 0 && stats.metaF64.infinite > 0, 'the f64 overflow edge was not exercised');
  // Every documented exception is exercised, so EXCEPTIONS.md stays true.
  for (const reason of ['depth', 'lone-surrogate', 'bom', 'overflow']) {
    assert.ok(stats.payload.exceptions[reason] > 0, `exception ${reason} never exercised in payloads`);
    assert.ok(stats.validate.exceptions[reason] > 0, `exception ${reason} never exercised in validate`);
  }
});

test('documented exceptions, one example each (EXCEPTIONS.md)', () => {
  const dec = (s) => ours(() => q.decode(typeof s === 'string' ? te.encode(s) : s));
  // 1. nesting: MAX_DEPTH levels in a document, one less inside a payload (the envelope is a
  //    level), never more than serde_json takes; V8 takes any of them
  const deep = (n) => '['.repeat(n) + ']'.repeat(n);
  assert.ok(MAX_DEPTH <= SERDE_MAX_NESTING, `Q_DEFAULT_MAX_DEPTH ${MAX_DEPTH} lets through bodies serde_json rejects`);
  assert.equal(dec(`{"meta":{},"payload":${deep(PAYLOAD_MAX_NESTING)}}`).ok, true);
  assert.equal(dec(`{"meta":{},"payload":${deep(PAYLOAD_MAX_NESTING + 1)}}`).code, 'JSON_DEPTH');
  assert.equal(ours(() => q.validateJson(deep(MAX_DEPTH))).ok, true);
  assert.equal(ours(() => q.validateJson(deep(MAX_DEPTH + 1))).code, 'JSON_DEPTH');
  assert.equal(depthOf(JSON.parse(deep(5000))), 5000);
  // 2. unpaired surrogate escapes: rejected (serde_json does too); V8 accepts
  for (const s of ['"\\uD800"', '"\\uDC00"', '"\\uD800\\uD800"', '"\\uDBFF\\n"', '{"\\uDFFF":1}']) {
    assert.equal(dec(`{"meta":{},"payload":${s}}`).code, 'JSON_SURROGATE', s);
    assert.equal(v8(te.encode(s)).ok, true, s);
  }
  assert.equal(dec('{"meta":{},"payload":"\\uD83D\\uDE00"}').ok, true);
  // 3. numbers beyond a double: rejected anywhere in a body (serde_json does too); V8 makes them ±Infinity
  for (const n of ['1e400', '-1e400', '1.7976931348623159e308', '1' + '0'.repeat(400)]) {
    const r = dec(`{"meta":{},"payload":[${n}]}`);
    assert.equal(r.code, 'OUT_OF_RANGE', n);
    assert.equal(r.offset, 22, n);
    assert.equal(ours(() => q.validateJson(`[${n}]`)).code, 'OUT_OF_RANGE', n);
    assert.equal(dec(`{"meta":{"duration":${n}},"payload":1}`).code, 'OUT_OF_RANGE', n);
    assert.equal(Math.abs(JSON.parse(n)), Infinity, n);
  }
  assert.equal(dec(`{"meta":{},"payload":[${'9'.repeat(308)}]}`).ok, true);   // 308 digits: no exponent needed to be finite
  for (const n of ['1.7976931348623157e308', '1.7976931348623158e308', '-1.7976931348623158e308', '4.9e-325']) {
    assert.equal(dec(`{"meta":{"duration":${n}},"payload":1}`).ok, true, n);
    assert.equal(Number.isFinite(JSON.parse(n)), true, n);
  }
  for (const n of ['1.7976931348623159e308', '1e309']) assert.equal(JSON.parse(n), Infinity, n);
  assert.equal(dec('{"meta":{"duration":1e-400},"payload":1e-400}').ok, true);   // underflow is fine everywhere
  // 4. a leading BOM: the reference's TextDecoder strips it; JSON.parse itself and we reject it
  const bom = Uint8Array.from([0xef, 0xbb, 0xbf, 0x5b, 0x5d]);
  assert.equal(v8(bom).ok, true);
  assert.throws(() => JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bom)), SyntaxError);
  assert.equal(ours(() => q.validateJson(bom)).code, 'JSON_SYNTAX');
  assert.equal(dec(wrap(bom)).code, 'JSON_SYNTAX');
  // 5. size: an envelope over max_envelope_bytes (1 MiB by default) is TOO_LARGE whatever it holds
  const big = te.encode(`"${'x'.repeat(MAX_ENVELOPE)}"`);
  assert.equal(v8(big).ok, true);
  assert.equal(dec(wrap(big)).code, 'TOO_LARGE');
});
