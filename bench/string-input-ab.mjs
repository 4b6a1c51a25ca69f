// Interleaved A/B of how a string gets into the core (the glue's _inputText: what q.decode(text) and
// q.validateJson(text) do first) for two or more glue/module pairs in one process:
//   node bench/string-input-ab.mjs GLUE.js:MODULE.wasm GLUE2.js:MODULE2.wasm [...]   (ROUNDS=N, default 21)
// Strings of 256 units to 64 K units, three kinds: all ASCII (a one-byte string in V8), one 'ä' in
// 500 units (one-byte, Latin-1) and one 'ж' in 500 (two-byte). Prints min µs per call.
import { loadPairs } from './ab-pairs.mjs';

const { qs, ROUNDS } = await loadPairs('string-input-ab.mjs');
const text = (n, other) => { let s = ''; for (let i = 0; s.length < n; i++) s += i % 50 === 0 && other ? other : 'abcdefghij'; return s.slice(0, n); };
let sink = 0;
for (const n of [256, 1024, 4096, 16384, 65536]) {
  for (const [kind, other] of [['ASCII', ''], ['Latin-1', 'ä'], ['two-byte', 'ж']]) {
    const s = text(n, other), iters = Math.max(200, (2e6 / n) | 0), us = qs.map(() => []);
    for (const q of qs) for (let k = 0; k < iters; k++) sink += q._inputText(s);   // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      const order = qs.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        const q = qs[i], t = process.hrtime.bigint();
        for (let k = 0; k < iters; k++) sink += q._inputText(s);
        us[i].push(Number(process.hrtime.bigint() - t) / iters / 1000);
      }
    }
    console.log(`${String(n).padStart(6)} units ${kind.padEnd(9)} ${us.map((a, i) => `#${i} ${Math.min(...a).toFixed(3)}`).join('  ')} µs`);
  }
}
if (!sink) console.log('');
