// Interleaved A/B of whole encode calls from JS objects (glue + core: what bench/codec.mjs times as
// "encode ours obj") for two or more glue/module pairs in one process, beside the V8 baseline
// (TextEncoder of JSON.stringify):
//   node bench/encode-ab.mjs GLUE.js:MODULE.wasm GLUE2.js:MODULE2.wasm [...]   (ROUNDS=N, default 21)
// Per fixture and round every variant runs in turn (order reversed every other round). Prints
// min/median µs per call and each pair's ratio to V8 from the medians.
import { loadPairs, interleave } from './ab-pairs.mjs';
import { requestMeta, compactFullMeta, fullMeta, payloadFor } from './codec-data.mjs';

const { qs, ROUNDS } = await loadPairs('encode-ab.mjs');
const te = new TextEncoder();
for (const [label, meta, size] of [['1 KB compact-full', compactFullMeta(), 1024], ['1 KB request', requestMeta(), 1024], ['16 KB full', fullMeta(), 16384]]) {
  const payload = payloadFor(meta, size), iters = size >= 16384 ? 300 : 3000;
  const variants = [['V8', () => te.encode(JSON.stringify({ meta, payload })).length], ...qs.map((q, i) => [`#${i}`, () => q.encode({ meta, payload }).length])];
  const st = interleave(variants.map(([, fn]) => fn), iters, ROUNDS);
  console.log(label);
  variants.forEach(([name], i) => console.log(`  ${name.padEnd(4)} ${st[i][0].toFixed(2)}/${st[i][1].toFixed(2)} µs${i ? `  ratio to V8 ${(st[0][1] / st[i][1]).toFixed(2)}` : ''}`));
}
