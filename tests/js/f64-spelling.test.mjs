// The writer's f64 spellings are Rust's: serde_json writes an f64 with ryu's format64 (dtolnay/ryu
// src/pretty/mod.rs), so every meta f64 q.encode writes must be the bytes ryu writes for that double.
// From objects the core gets JSON.stringify's text, whose digits are the double's shortest (as
// ryu's), so the reference below is ryu's layout written out from its source, applied to JS's own
// digits (String(v)). Over seeded random doubles, on both ways a meta is written (copied when
// already canonical, rewritten otherwise), and from meta text of at most 15 significant digits in
// any JSON spelling (such digits are the double's shortest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WASM, GLUE } from './module.mjs';

const { Qollective } = await import(GLUE);
const q = await Qollective.load(WASM);
const td = new TextDecoder();

/** Significant digits of a number text (no leading or trailing zeros) and kk, 10^(kk-1) <= |v| < 10^kk. */
function digitsOf(text) {
  const [mant, exp = '0'] = text.replace(/^-/, '').toLowerCase().split('e');
  const [int, frac = ''] = mant.split('.');
  const all = int + frac, digits = all.replace(/^0+/, '').replace(/0+$/, '');
  return { digits, kk: int.length + Number(exp) - (all.length - all.replace(/^0+/, '').length) };
}

/** ryu's format64 layout, its five branches as src/pretty/mod.rs writes them. */
function ryuLayout(neg, digits, kk) {
  const sign = neg ? '-' : '';
  if (!digits) return `${sign}0.0`;
  const length = digits.length, k = kk - length;
  if (k >= 0 && kk <= 16) return `${sign}${digits}${'0'.repeat(kk - length)}.0`;   // 1234e7 -> 12340000000.0
  if (kk > 0 && kk <= 16) return `${sign}${digits.slice(0, kk)}.${digits.slice(kk)}`;   // 1234e-2 -> 12.34
  if (kk > -5 && kk <= 0) return `${sign}0.${'0'.repeat(-kk)}${digits}`;   // 1234e-6 -> 0.001234
  if (length === 1) return `${sign}${digits}e${kk - 1}`;   // 1e30
  return `${sign}${digits[0]}.${digits.slice(1)}e${kk - 1}`;   // 1234e30 -> 1.234e33
}

/** What serde_json writes for the double v, from JS's shortest digits of it. */
function rust(v) {
  const { digits, kk } = digitsOf(String(Math.abs(v)));
  return ryuLayout(v < 0 || Object.is(v, -0), digits, kk);
}

/** xorshift64, seeded: the same doubles every run. */
function rng(seed) {
  let s = BigInt(seed);
  const M = (1n << 64n) - 1n;
  return () => { s ^= (s << 13n) & M; s ^= s >> 7n; s ^= (s << 17n) & M; return s; };
}

/** Seeded doubles: every bit pattern, short decimals, integers up to 2^53 and past, and the layout's edges. */
function doubles(n, seed) {
  const next = rng(seed), view = new DataView(new ArrayBuffer(8)), out = [];
  const EDGES = [1e15, 1e16, 9999999999999998, 1e21, 1e-5, 1e-6, 1.5e-6, 9.9e-6, 0.00001, 0.000012, 5e-324,
    1.7976931348623157e308, 2.2250738585072014e-308, 2 ** 53, 2 ** 53 + 2, 123456789012345680, 0.1 + 0.2, 45, 1, 0];
  out.push(...EDGES, ...EDGES.map((v) => -v));
  while (out.length < n) {
    const r = next(), kind = Number(r & 3n);
    let v;
    if (kind === 0) { view.setBigUint64(0, next()); v = view.getFloat64(0); }   // any bit pattern
    else if (kind === 1) v = Number(next() % 100000n) / 10 ** Number(next() % 8n);   // a short decimal
    else if (kind === 2) v = Number(next() >> BigInt(Number(next() % 64n)));   // an integer, up to 2^64
    else v = Number(next() % 1000n + 1n) * 10 ** (Number(next() % 60n) - 30);   // across the switches
    if (Number.isFinite(v)) out.push(r & 4n ? -v : v);
  }
  return out;
}

/** The f64 texts q.encode wrote for the tags of the envelope it encoded. */
function tagTexts(bytes) {
  return [...td.decode(bytes).matchAll(/"t(\d+)":([^,}]+)/g)].map((m) => m[2]);
}

test('encode from objects: every f64 as serde_json/ryu writes it, copied or rewritten', () => {
  const all = doubles(6000, 0x2545F4914F6CDD1Dn);
  let checked = 0;
  for (let i = 0; i < all.length; i += 40) {
    const vs = all.slice(i, i + 40);
    const tags = Object.fromEntries(vs.map((v, k) => [`t${k}`, v]));
    // canonical order (the copy, with ".0" places), then duration after tracing (the writer)
    for (const meta of [{ duration: vs[0], tracing: { tags } }, { tracing: { tags }, duration: vs[0] }]) {
      const out = q.encode({ meta, payload: {} });
      const got = tagTexts(out);
      assert.equal(got.length, vs.length);
      // JSON.stringify writes -0 as 0: the sign is gone before the core sees it
      vs.forEach((v, k) => { assert.equal(got[k], rust(Object.is(v, -0) ? 0 : v), `${v}`); checked++; });
      assert.match(td.decode(out), new RegExp(`"duration":${rust(Object.is(vs[0], -0) ? 0 : vs[0]).replace(/[.+]/g, '\\$&')}[,}]`));
    }
  }
  assert.ok(checked >= 12000);
});

test('the reference is ryu: its own expectations (tests/d2s_test.rs check!) and the switches', () => {
  const RYU = ['0.3', '1234000000000000.0', '1.234e16', '2.71828', '1.1e128', '1.1e-64', '2.718281828459045', '5e-324',
    '1.7976931348623157e308', '1.0', '-1.0', '2.2250738585072014e-308', '2.9802322387695312e-8', '-2.109808898695963e16',
    '4.940656e-318', '9060801153433600.0', '4.708356024711512e18', '9.409340012568248e18', '9007199254740992.0',
    '1000000000000001.0', '8796093022208000.0', '1.8014398509481984e16'];
  for (const s of RYU) assert.equal(rust(Number(s)), s);
  assert.deepEqual([1e16, 1e21, 1.5e-6, 1e-5, 1e15, -0].map(rust), ['1e16', '1e21', '1.5e-6', '0.00001', '1000000000000000.0', '-0.0']);
});

/** Encodes meta text as encode does (the core's encode export), the meta's bytes back. */
function encodeMetaText(metaText) {
  const [m, p] = q._input([metaText, '1']);
  q._check(q.x.q_envelope_encode(m, p, 0, 0, q.io.now(), -1));
  const text = td.decode(q._out());
  return text.slice('{"meta":'.length, text.length - ',"payload":1}'.length);
}

test('encode from meta text of at most 15 significant digits, any spelling: as ryu writes the double', () => {
  const next = rng(0x9E3779B97F4A7C15n);
  const pick = (n) => Number(next() % BigInt(n));
  for (let i = 0; i < 3000; i++) {
    let digits = String(1 + pick(9));
    for (let n = pick(15); n > 0; n--) digits += pick(10);
    const kk = pick(600) - 300, point = pick(digits.length + 1), neg = pick(2) === 1;
    // the point after `point` digits ("0.00" before them when 0), zeros after, an exponent in any form
    const lead = point === 0 ? '0.' + '0'.repeat(pick(3)) : '';
    const mant = point === 0 ? lead + digits : digits.slice(0, point) + (point < digits.length ? '.' + digits.slice(point) : '');
    const zeros = pick(2) ? (mant.includes('.') ? '000' : '.000') : '';
    const e = kk - (point === 0 ? 2 - lead.length : point);
    const exp = `${pick(2) ? 'E' : 'e'}${e < 0 ? '-' : pick(2) ? '+' : ''}${pick(2) ? '00' : ''}${Math.abs(e)}`;
    const text = `${neg ? '-' : ''}${mant}${zeros}${exp}`;
    const v = Number(text);
    const want = `{"duration":${rust(v)},"tracing":{"tags":{"a":${rust(v)}}}}`;
    for (const meta of [`{"duration":${text},"tracing":{"tags":{"a":${text}}}}`, `{ "duration": ${text}, "tracing": {"tags": {"a": ${text}}} }`])
      assert.equal(encodeMetaText(meta), want, text);
  }
  // and the spellings JSON allows beyond that: zero, -0, '+', leading zeros in the exponent
  const CASES = { '0': '0.0', '-0': '-0.0', '0.0': '0.0', '-0.0': '-0.0', '0e5': '0.0', '-0E-7': '-0.0', '45.10': '45.1',
    '4.5E1': '45.0', '1e2': '100.0', '0.5e-3': '0.0005', '1E+021': '1e21', '1e-0007': '1e-7', '100.50': '100.5',
    '10000000000000000': '1e16', '0.0000015': '1.5e-6', '1e-400': '0.0', '9007199254740993': '9007199254740993.0' };
  for (const [text, want] of Object.entries(CASES)) assert.equal(encodeMetaText(`{"duration":${text}}`), `{"duration":${want}}`, text);
});
