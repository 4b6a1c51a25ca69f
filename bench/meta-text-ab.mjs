// Interleaved A/B of building `meta` from its text, the way REST replies, WebSocket frames, an
// Envelope read after a later decode and a meta not ASCII get it (no tape of their decode: the glue
// parses the text, or has the core walk it again when it may hold an i64/u64 beyond 2^53), for two or
// more glue/module pairs in one process:
//   node bench/meta-text-ab.mjs GLUE.js:MODULE.wasm GLUE2.js:MODULE2.wasm [...]   (ROUNDS=N, default 21)
// Each call decodes the envelope, then another one, then reads the first's meta (so the meta comes
// from its text); the second decode is the same for every pair. Rows: the fixtures' metas as they
// are, and the 3 KB full meta with processing_time_ms = u64::MAX (the core's walk of the text).
// Prints min/median µs per call.
import { loadPairs, interleave } from './ab-pairs.mjs';
import { requestMeta, compactFullMeta, fullMeta } from './codec-data.mjs';

const { qs, ROUNDS } = await loadPairs('meta-text-ab.mjs');
const big = fullMeta();
big.performance = { ...big.performance, processing_time_ms: 1 };
const bigText = JSON.stringify({ meta: big, payload: 1 }).replace('"processing_time_ms":1', '"processing_time_ms":18446744073709551615');
const other = JSON.stringify({ meta: requestMeta(), payload: 2 });
const rows = [['1 KB compact-full meta', JSON.stringify({ meta: compactFullMeta(), payload: 1 })], ['request meta', JSON.stringify({ meta: requestMeta(), payload: 1 })],
  ['3 KB full meta', JSON.stringify({ meta: fullMeta(), payload: 1 })], ['3 KB full meta, a u64 beyond 2^53', bigText]];
for (const [label, text] of rows) {
  const variants = qs.map((q, i) => [`#${i}`, () => { const e = q.decode(text); q.decode(other); return e.meta ? 1 : 0; }]);
  const st = interleave(variants.map(([, fn]) => fn), 2000, ROUNDS);
  console.log(label);
  variants.forEach(([name], i) => console.log(`  ${name.padEnd(4)} ${st[i][0].toFixed(2)}/${st[i][1].toFixed(2)} µs${i ? `  ratio to #0 ${(st[i][1] / st[0][1]).toFixed(3)}` : ''}`));
}
