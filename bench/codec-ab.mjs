// Interleaved A/B of the core's own decode and encode time for two or more builds of the module,
// in one process: node bench/codec-ab.mjs BEFORE.wasm AFTER.wasm [...]   (ROUNDS=N, default 15)
// Per fixture and round, each build decodes the same envelope (already in its memory:
// q_envelope_decode only) and encodes it (q.encode with payloadJson: glue + core) in turn, so a
// burst from another process hits every build alike. Prints min/median µs per call.
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { requestMeta, compactFullMeta, fullMeta, payloadFor } from './codec-data.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { Qollective } = await import(pathToFileURL(`${HERE}/../js-glue/qollective.js`).href);
const files = process.argv.slice(2);
if (files.length < 2) { console.error('usage: node bench/codec-ab.mjs A.wasm B.wasm [...]'); process.exit(2); }
const ROUNDS = +(process.env.ROUNDS || 15);
const te = new TextEncoder();
const qs = await Promise.all(files.map((f) => Qollective.load(f)));
// '16 KB one string': a payload that is one 16 KB plain string (what the string scan's 16-byte steps are for);
// '3 KB full meta': the full meta with payload 1, so the meta walk (maps, timestamps, integers) is what is timed
const fixtures = [['1 KB compact-full', compactFullMeta(), 1024], ['1 KB request', requestMeta(), 1024], ['16 KB full', fullMeta(), 16384],
  ['16 KB one string', requestMeta(), 16384, 'x'.repeat(16000)], ['3 KB full meta', fullMeta(), 0, 1]];
const stat = (a) => { a.sort((x, y) => x - y); return `${a[0].toFixed(2)}/${a[a.length >> 1].toFixed(2)}`; };
files.forEach((f, i) => console.log(`#${i} ${f}`));
for (const [label, meta, size, given] of fixtures) {
  const payload = given ?? payloadFor(meta, size);
  const bytes = te.encode(JSON.stringify({ meta, payload }));
  const payloadJson = JSON.stringify(payload), n = bytes.length;
  const iters = size >= 16384 ? 1000 : 5000;
  const res = qs.map(() => ({ dec: [], enc: [] }));
  for (let r = 0; r < ROUNDS; r++) {
    qs.forEach((q, i) => {
      const x = q.x, p = x.q_buffer(n);
      new Uint8Array(x.memory.buffer).set(bytes, p);
      if (x.q_envelope_decode(n, -1) !== 0) throw new Error(`${files[i]} refused ${label}`);
      let t = process.hrtime.bigint();
      for (let k = 0; k < iters; k++) x.q_envelope_decode(n, -1);
      res[i].dec.push(Number(process.hrtime.bigint() - t) / iters / 1000);
      t = process.hrtime.bigint();
      for (let k = 0; k < iters; k++) q.encode({ meta, payloadJson });
      res[i].enc.push(Number(process.hrtime.bigint() - t) / iters / 1000);
    });
  }
  console.log(label.padEnd(18), res.map((r, i) => `#${i} decode ${stat(r.dec)} encode ${stat(r.enc)}`).join(' | '));
}
