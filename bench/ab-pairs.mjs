// Shared by the interleaved A/B scripts (decode-ab, encode-ab, string-input-ab): the GLUE.js:MODULE.wasm
// pairs from the command line, each loaded as its own instance, ROUNDS from the environment, and the
// min/median of a list of timings.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Loads every GLUE.js:MODULE.wasm pair of argv (at least one, else a usage line and exit 2). */
export async function loadPairs(script) {
  const pairs = process.argv.slice(2);
  if (pairs.length < 1) { console.error(`usage: node bench/${script} GLUE.js:MODULE.wasm [...]`); process.exit(2); }
  const qs = [];
  for (const p of pairs) {
    const [glue, wasm] = p.split(':');
    const { Qollective } = await import(pathToFileURL(resolve(glue)).href);
    qs.push(await Qollective.load(readFileSync(resolve(wasm))));
  }
  pairs.forEach((p, i) => console.log(`#${i} ${p}`));
  return { pairs, qs, ROUNDS: +(process.env.ROUNDS || 21) };
}

/** [min, median] of a list of timings (the list is left as it was). */
export const stat = (a) => { const s = a.slice().sort((x, y) => x - y); return [s[0], s[s.length >> 1]]; };

let sink = 0;   // what the timed calls return, kept so no call can be optimised away

/** Times the calls fns (each run iters times a round) interleaved over rounds, the order reversed
 * every other round so a burst from another process hits all alike, after one warm-up pass.
 * Returns [min, median] µs per call of each. */
export function interleave(fns, iters, rounds) {
  for (const fn of fns) for (let k = 0; k < iters; k++) sink = (sink + (fn() | 0)) | 0;
  const us = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = fns.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const fn = fns[i], t = process.hrtime.bigint();
      for (let k = 0; k < iters; k++) sink = (sink + (fn() | 0)) | 0;
      us[i].push(Number(process.hrtime.bigint() - t) / iters / 1000);
    }
  }
  globalThis.qollectiveAbSink = sink;
  return us.map(stat);
}
