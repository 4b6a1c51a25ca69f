// The meta's tape (include/qollective.h QT_*): a single decode hands the glue, after its record,
// every key and value of the meta as its walk read them, and the Envelope builds `meta` from it
// instead of parsing the meta's text again (issue 10 item 4). `meta` must stay what JSON.parse of
// the meta's text gives: equal values, the same key order, a plain object, `__proto__` an own key.
// Checked over the benchmark fixtures, upstream's vectors and seeded variants of every kind of
// member (escapes in strings and keys, unknown and duplicate keys, nulls, whitespace, number forms,
// raw extensions), from strings and bytes; metas the tape cannot serve (not ASCII, too long) are
// parsed. The tape itself is read here against the meta's text, entry by entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WASM, GLUE } from './module.mjs';
import { C } from './c-constants.mjs';
import { requestMeta, compactFullMeta, fullMeta, rng } from '../../bench/codec-data.mjs';
import { expectedMeta, expectedMetaOf, orderText } from './lossless-meta.mjs';

const { Qollective } = await import(GLUE);
const q = await Qollective.load(WASM);
const te = new TextEncoder();
const RECORD_WORDS = C.Q_DECODE_RECORD_WORDS;
const QT = { OBJECT: 1, ARRAY: 2, STRING: 3, PRIMITIVE: 4, FIELD: 5, KEY: 6, RAW: 7, BIG: 8 };   // include/qollective.h
const TAPE_WORDS = C.Q_DECODE_TAPE_WORDS;

/** The tape words of decoding envelope text (raw exports), and where its meta starts. */
function tapeOf(text) {
  const bytes = te.encode(text), x = q.x, p = x.q_buffer(bytes.length);
  new Uint8Array(x.memory.buffer).set(bytes, p);
  assert.equal(x.q_envelope_decode(bytes.length, -1), 0, `refused: ${text.slice(0, 80)}`);
  const w = new Int32Array(x.memory.buffer, x.q_output_ptr(), x.q_output_len() >> 2).slice();
  assert.equal(x.q_output_len(), (RECORD_WORDS + 1 + w[RECORD_WORDS]) * 4, 'output = record, tape length, tape');
  return { words: w.subarray(RECORD_WORDS + 1), meta0: w[0] - 0, metaLen: w[1] };
}

/** Reads the tape back into a value, entry by entry, with JSON.parse for every text (not the glue's
 * code): it must be the meta's own value (JSON.parse of its text, an i64/u64 field beyond 2^53 - 1 a
 * BigInt: lossless-meta.mjs), keys in the same order, and a field key its plain name, the same name
 * for the same index. Returns the names by index. */
function readTape(words, metaText, names = new Map()) {
  let k = 0;
  const body = (a, n) => JSON.parse(`"${metaText.slice(a, a + n)}"`);
  const value = () => {
    const kind = words[k], a = words[k + 1], n = words[k + 2];
    k += 3;
    switch (kind) {
      case QT.STRING: return body(a, n);
      case QT.PRIMITIVE: assert.match(metaText.slice(a, a + n), /^(-?\d[-+.eE\d]*|true|false|null)$/); return JSON.parse(metaText.slice(a, a + n));
      case QT.RAW: return JSON.parse(metaText.slice(a, a + n));
      case QT.BIG: assert.match(metaText.slice(a, a + n), /^-?[1-9]\d{15,19}$/); return BigInt(metaText.slice(a, a + n));
      case QT.ARRAY: return Array.from({ length: n }, value);
      case QT.OBJECT: {
        const o = {};
        for (let i = 0; i < n; i++) {
          const kk = words[k], ka = words[k + 1], kl = words[k + 2];
          k += 3;
          const key = body(ka, kl);
          if ((kk & 255) === QT.FIELD) {
            assert.equal(metaText.slice(ka, ka + kl), key, 'a field key is its plain name');
            assert.equal(names.get(kk >> 8) ?? key, key, `field ${kk >> 8} is always ${key}`);
            names.set(kk >> 8, key);
          } else assert.equal(kk, QT.KEY, `a key entry, not ${kk}`);
          Object.defineProperty(o, key, { value: value(), writable: true, enumerable: true, configurable: true });
        }
        return o;
      }
      default: assert.fail(`kind ${kind} at word ${k - 3}`);
    }
  };
  const v = value();
  assert.equal(k, words.length, 'the tape ends with the meta');
  assert.deepEqual(v, expectedMeta(metaText));
  assert.equal(orderText(v), orderText(expectedMeta(metaText)), 'keys in the order of the text');
  return names;
}

/** e.meta (from a string and from bytes) is what JSON.parse of the meta's text gives (an i64/u64 field
 * beyond 2^53 - 1 a BigInt). */
function sameAsParse(metaText, what) {
  const text = `{"meta":${metaText},"payload":{"ok":1}}`;
  const want = expectedMeta(metaText);
  let decoded = 0;
  for (const input of [text, te.encode(text)]) {
    let e;
    try { e = q.decode(input); } catch { return 0; }
    const m = e.meta;
    assert.deepEqual(m, want, `${what}: meta`);
    assert.equal(orderText(m), orderText(want), `${what}: key order`);
    assert.equal(Object.getPrototypeOf(m), Object.prototype, `${what}: a plain object`);
    assert.equal(e.meta, m, `${what}: built once`);
    decoded++;
  }
  return decoded / 2;
}

test('the tape lists every key and value of the meta as its text holds them', () => {
  const names = new Map();
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    for (const metaText of [JSON.stringify(make()), JSON.stringify(make(), null, 2)]) {
      const { words } = tapeOf(`{"payload":[1],"meta":${metaText}}`);
      assert.ok(words.length > 0, `${make.name}: a tape`);
      readTape(words, metaText, names);
    }
  }
  assert.ok(names.size >= 60, `${names.size} field names`);
});

test('a meta the tape has no room for gets none (and is parsed)', () => {
  const tags = Object.fromEntries(Array.from({ length: TAPE_WORDS / 6 + 1 }, (_, i) => [`t${i}`, i]));
  const metaText = JSON.stringify({ tenant: 'x', tracing: { tags } });
  assert.equal(tapeOf(`{"meta":${metaText},"payload":1}`).words.length, 0);
  assert.equal(sameAsParse(metaText, 'long'), 1);
  const fits = JSON.stringify({ tracing: { tags: Object.fromEntries(Object.entries(tags).slice(0, 400)) } });
  readTape(tapeOf(`{"meta":${fits},"payload":1}`).words, fits);
});

test('the tape kinds are in one order in the header, the glue and this suite', () => {
  const header = readFileSync(new URL('../../include/qollective.h', import.meta.url), 'utf8');
  const names = /enum \{ (QT_OBJECT = 1[^}]*)\}/.exec(header)[1].split(',').map((n) => n.trim().replace(/ = 1$/, '').slice(3));
  assert.deepEqual(names, Object.keys(QT), 'include/qollective.h enum order');
  names.forEach((n, i) => assert.equal(QT[n], i + 1, n));
  // the glue's meta builder: each case it reads names its kind in a comment
  const glue = readFileSync(new URL('../../js-glue/qollective.js', import.meta.url), 'utf8');
  const cases = [...glue.matchAll(/case (\d+): .*\/\/ QT_(\w+)$/gm)].map((m) => [m[2], +m[1]]);
  assert.ok(cases.length >= 5, `${cases.length} cases`);
  for (const [n, k] of cases) assert.equal(k, QT[n], `the glue's case for QT_${n}`);
  assert.ok(cases.some(([n]) => n === 'BIG'), "the glue reads QT_BIG");
});

test('meta equals JSON.parse of its text: fixtures and upstream vectors', () => {
  let n = 0;
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    n += sameAsParse(JSON.stringify(make()), make.name);
    n += sameAsParse(JSON.stringify(make(), null, '\t'), `${make.name} indented`);
  }
  const vectors = readFileSync(new URL('../vectors/upstream-envelopes.jsonl', import.meta.url), 'utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  for (const v of vectors) {
    if (v.kind === 'encode') continue;
    let env;
    try { env = JSON.parse(v.input); } catch { continue; }
    if (env === null || typeof env !== 'object' || env.meta === null || typeof env.meta !== 'object' || Array.isArray(env.meta)) continue;
    let e;
    try { e = q.decode(v.input); } catch { continue; }
    const want = expectedMetaOf(v.input);
    assert.deepEqual(e.meta, want, v.name);
    assert.equal(orderText(e.meta), orderText(want), `${v.name}: key order`);
    n++;
  }
  assert.ok(n >= 40, `only ${n} metas compared`);
});

// Text-level changes of a meta's JSON: each gives a member the tape must carry as JSON.parse reads it.
const esc = (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
/** Sets meta field key to the JSON text given (the meta re-written first without it). */
const put = (key, json) => (t) => {
  const o = JSON.parse(t);
  delete o[key];
  const rest = JSON.stringify(o);
  return rest === '{}' ? `{"${key}":${json}}` : `${rest.slice(0, -1)},"${key}":${json}}`;
};
const CHANGES = [
  (t) => t.replace('"tenant":"', '"tenant":"a\\"b\\\\c\\/d\\n\\t\\u0041\\ud83d\\ude00 '),   // escapes in a string
  (t) => t.replace('"tenant"', `"${esc('ten')}ant"`),                                              // an escaped field key
  (t) => t.replace('"version":"', `"version":"${esc('1.')}`),
  (t) => t.replace(/^\{/, '{"zzz":{"a":[1,{"b":null}],"c":"\\u00e9"},'),                          // unknown keys, kept
  (t) => t.replace(/^\{/, '{"__proto__":{"polluted":1},'),
  (t) => t.replace(/^\{/, '{"constructor":1,"toString":"x","hasOwnProperty":[],'),
  (t) => t.replace(/^\{/, '{"u":1,"u":{"v":2},'),                                                   // a duplicate unknown key: the last wins
  put('duration', 'null'), put('tenant', 'null'), put('duration', '1E2'), put('duration', '-0.0'),
  put('duration', '1.5e-7'), put('duration', '123456789012345678901234567890'), put('duration', '-0'),
  put('extensions', '{"x":[true,false,null,"s",1.5,{"y":"\\u0000"}],"__proto__":1}'), put('extensions', '{}'),
  put('tracing', '{"baggage":{"__proto__":"b","k\\u0065y":"v","":""},"tags":{"a":1,"b":"s","c":true,"d":-1.5e3}}'),
  (t) => t.replace(/,"/g, ' ,\n "'), (t) => t.replace(/":/g, '" : '), (t) => ` ${t.replace(/^\{/, '{ ').replace(/\}$/, '\t}')}`,   // whitespace
  (t) => t.replace('"tenant":"', '"tenant":"Ärger 😀 '),                                           // not ASCII: parsed
  put('security', '{"roles":[],"permissions":["a","\\"q\\""],"user_id":null}'),
  put('performance', '{"db_query_count":0,"memory_peak":9007199254740993,"cpu_usage":0.5}'),
  put('debug', '{"db_queries":[],"memory_usage":{"heap_used":1},"log_level":"Warn"}'),
];

test('meta equals JSON.parse of its text: seeded variants of every kind of member', () => {
  const r = rng(20261205);
  let n = 0, tried = 0;
  for (const make of [requestMeta, compactFullMeta, fullMeta]) {
    for (let i = 0; i < CHANGES.length; i++) {
      for (let round = 0; round < 4; round++) {
        let t = CHANGES[i](JSON.stringify(make()));
        for (let k = Math.floor(r() * 3); k > 0; k--) t = CHANGES[Math.floor(r() * CHANGES.length)](t);
        tried++;
        n += sameAsParse(t, `${make.name} change ${i} round ${round}`);
      }
    }
  }
  assert.ok(n >= tried * 0.9, `only ${n} of ${tried} variants decoded`);
});

test("the tape serves the last decode's Envelope; an earlier one's meta is parsed, alike", async () => {
  const a = JSON.stringify(compactFullMeta()), b = JSON.stringify(requestMeta());
  const ea = q.decode(`{"meta":${a},"payload":1}`), eb = q.decode(te.encode(`{"meta":${b},"payload":2}`));
  q.encode({ meta: JSON.parse(b), payload: 3 });   // another call in between
  assert.equal(JSON.stringify(ea.meta), a);
  assert.equal(JSON.stringify(eb.meta), b);
  // whatever order they are read in, each Envelope gets its own meta
  const metas = [requestMeta(), compactFullMeta(), fullMeta(), { tenant: 'x' }].map((m) => JSON.stringify(m));
  const envs = metas.map((m, i) => q.decode(i % 2 ? `{"meta":${m},"payload":1}` : te.encode(`{"meta":${m},"payload":1}`)));
  for (const i of [1, 3, 0, 2]) {
    assert.equal(JSON.stringify(envs[i].meta), metas[i]);
    envs.push(q.decode(`{"meta":${metas[(i + 1) % 4]},"payload":1}`));
  }
  envs.slice(4).forEach((e, j) => assert.equal(JSON.stringify(e.meta), metas[([1, 3, 0, 2][j] + 1) % 4]));
  // a fresh instance: an Envelope left unread while others are decoded and read is never served
  // another's tape
  const q2 = await Qollective.load(WASM), first = q2.decode(`{"meta":${metas[0]},"payload":1}`);
  for (const i of [1, 2, 3, 1, 2, 3]) {
    const e = q2.decode(`{"meta":${metas[i]},"payload":1}`);
    if (i === 1) assert.equal(JSON.stringify(e.meta), metas[1]);
  }
  assert.equal(JSON.stringify(first.meta), metas[0]);
  const many = q.decodeMany([te.encode(`{"meta":${a},"payload":1}`), te.encode(`{"meta":${b},"payload":1}`)]);
  assert.deepEqual(many.map((e) => JSON.stringify(e.meta)), [a, b]);
});

test('numbers read as JSON.parse reads them (the glue reads up to 15 digits itself): 6,000 seeded forms, -0 included', () => {
  const r = rng(4242);
  const digits = (n) => { let s = String(1 + Math.floor(r() * 9)); while (s.length < n) s += Math.floor(r() * 10); return s; };
  const form = () => {
    const sign = r() < 0.3 ? '-' : '', kind = Math.floor(r() * 6);
    if (kind === 0) return `${sign}0`;
    if (kind === 1) return `${sign}${digits(1 + Math.floor(r() * 20))}`;                                // integers, to 20 digits
    if (kind === 2) return `${sign}${r() < 0.3 ? '0' : digits(1 + Math.floor(r() * 9))}.${digits(1 + Math.floor(r() * 12)).split('').reverse().join('')}`;
    if (kind === 3) return `${sign}0.${'0'.repeat(Math.floor(r() * 10))}${digits(1 + Math.floor(r() * 8))}`;   // leading zeros after the point
    if (kind === 4) return `${sign}${digits(1 + Math.floor(r() * 3))}.${digits(Math.floor(r() * 3) + 12)}`;    // 13 to 18 digits
    return `${sign}${digits(1 + Math.floor(r() * 4))}${r() < 0.5 ? '.5' : ''}e${r() < 0.5 ? '-' : ''}${Math.floor(r() * 30)}`;
  };
  for (let i = 0; i < 120; i++) {
    const nums = Array.from({ length: 50 }, form);
    const meta = `{"duration":${nums[0]},"tracing":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","tags":{${nums.map((v, j) => `"t${j}":${v}`).join(',')}}}}`;
    const want = JSON.parse(meta);
    for (const input of [`{"meta":${meta},"payload":1}`, te.encode(`{"meta":${meta},"payload":1}`)]) {
      let e;
      try { e = q.decode(input); } catch (err) { assert.equal(err.code, 'OUT_OF_RANGE', `${meta}: ${err.message}`); continue; }   // a number no f64 holds
      const m = e.meta;
      assert.ok(Object.is(m.duration, want.duration), `duration ${nums[0]}: ${m.duration} vs ${want.duration}`);
      nums.forEach((v, j) => assert.ok(Object.is(m.tracing.tags[`t${j}`], want.tracing.tags[`t${j}`]), `${v}: ${m.tracing.tags[`t${j}`]} vs ${want.tracing.tags[`t${j}`]}`));
    }
  }
});
