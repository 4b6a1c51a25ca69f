// Interleaved A/B of whole decode calls (glue + core, what bench/codec.mjs times as "decode ours")
// for two or more glue/module pairs in one process, beside the V8 baseline of the same rows:
//   node bench/decode-ab.mjs GLUE.js:MODULE.wasm GLUE2.js:MODULE2.wasm [...]   (ROUNDS=N, default 21)
// Per fixture and round every variant runs in turn (order reversed every other round), so a burst
// from another process hits all alike. Prints min/median µs per call and each pair's ratio to V8
// from the medians.
import { loadPairs, interleave } from './ab-pairs.mjs';
import { requestMeta, compactFullMeta, fullMeta, payloadFor } from './codec-data.mjs';
import { checkEnvelope } from './meta-check.mjs';

const { qs, ROUNDS } = await loadPairs('decode-ab.mjs');
const te = new TextEncoder(), td = new TextDecoder();
const fixtures = [['1 KB compact-full', compactFullMeta(), 1024], ['1 KB request', requestMeta(), 1024], ['16 KB full', fullMeta(), 16384]];
let sink = 0;
for (const [label, meta, size] of fixtures) {
  const text = JSON.stringify({ meta, payload: payloadFor(meta, size) }), bytes = te.encode(text);
  const iters = size >= 16384 ? 400 : 4000;
  const variants = [
    ['V8 bytes', () => { sink += checkEnvelope(JSON.parse(td.decode(bytes))).meta ? 1 : 0; }],
    ['V8 string', () => { sink += checkEnvelope(JSON.parse(text)).meta ? 1 : 0; }],
  ];
  qs.forEach((q, i) => {
    variants.push([`#${i} bytes`, () => { const e = q.decode(bytes); const m = e.meta; sink += e.payloadBytes.length + (m ? 1 : 0); }]);
    variants.push([`#${i} string`, () => { const e = q.decode(text); const m = e.meta; sink += e.payloadText.length + (m ? 1 : 0); }]);
  });
  const st = interleave(variants.map(([, fn]) => fn), iters, ROUNDS);
  console.log(label);
  variants.forEach(([name], i) => {
    const v8 = st[name.endsWith('bytes') ? 0 : 1][1];
    console.log(`  ${name.padEnd(10)} ${st[i][0].toFixed(2)}/${st[i][1].toFixed(2)} µs${i > 1 ? `  ratio to V8 ${(v8 / st[i][1]).toFixed(2)}` : ''}`);
  });
}
if (!sink) console.log('');
