// Interleaved A/B of q.decodeMany / q.encodeMany (glue + core) for two glue + module pairs, in one
// process: node bench/batch-ab.mjs A/qollective.js A.wasm B/qollective.js B.wasm   (ROUNDS=N, default 15)
// Per round, each pair decodes a list of ITEMS envelopes (bytes) and encodes the same list in turn,
// so a burst from another process hits both alike. Prints min/median µs per batch call.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requestMeta, compactFullMeta, payloadFor } from './codec-data.mjs';

const args = process.argv.slice(2);
if (args.length < 4 || args.length % 2) { console.error('usage: node bench/batch-ab.mjs A.js A.wasm B.js B.wasm [...]'); process.exit(2); }
const ROUNDS = +(process.env.ROUNDS || 15), ITEMS = +(process.env.ITEMS || 100);
const te = new TextEncoder();
const qs = [];
for (let i = 0; i < args.length; i += 2) {
  const { Qollective } = await import(pathToFileURL(resolve(args[i])).href);
  qs.push(await Qollective.load(args[i + 1]));
}
const stat = (a) => { a.sort((x, y) => x - y); return `${a[0].toFixed(1)}/${a[a.length >> 1].toFixed(1)}`; };
args.forEach((f, i) => { if (!(i % 2)) console.log(`#${i / 2} ${f} ${args[i + 1]}`); });
for (const [label, meta, size] of [['1 KB request', requestMeta(), 1024], ['1 KB compact-full', compactFullMeta(), 1024], ['200 B request', requestMeta(), 200]]) {
  const envs = Array.from({ length: ITEMS }, (_, i) => ({ meta, payload: payloadFor(meta, size + (i % 7)) }));
  const bytes = envs.map((e) => te.encode(JSON.stringify(e)));
  const iters = 200, res = qs.map(() => ({ dec: [], enc: [] }));
  for (let r = 0; r < ROUNDS; r++) {
    qs.forEach((q, i) => {
      let t = process.hrtime.bigint();
      for (let k = 0; k < iters; k++) if (q.decodeMany(bytes).length !== ITEMS) throw new Error('count');
      res[i].dec.push(Number(process.hrtime.bigint() - t) / iters / 1000);
      t = process.hrtime.bigint();
      for (let k = 0; k < iters; k++) if (q.encodeMany(envs).length !== ITEMS) throw new Error('count');
      res[i].enc.push(Number(process.hrtime.bigint() - t) / iters / 1000);
    });
  }
  console.log(`${label} x${ITEMS}`.padEnd(24), res.map((r, i) => `#${i} decodeMany ${stat(r.dec)} encodeMany ${stat(r.enc)}`).join(' | '));
}
