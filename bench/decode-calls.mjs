// N decode calls straight on the export, for callgrind (as bench/encode-calls.mjs for encode): the
// 1 KB compact-full envelope of bench/codec-data.mjs written into the module once, then
// q_envelope_decode N times; run it with N and with 0 and subtract:
//   valgrind --tool=callgrind node --no-liftoff --single-threaded bench/decode-calls.mjs GLUE.js MODULE.wasm N
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compactFullMeta, payloadFor } from './codec-data.mjs';

const [glue, wasm, n] = process.argv.slice(2);
const { Qollective } = await import(pathToFileURL(resolve(glue)));
const q = await Qollective.load(pathToFileURL(resolve(wasm)));
const meta = compactFullMeta();
const [e] = q._input([JSON.stringify({ meta, payload: payloadFor(meta, 1024) })]);
for (let i = 0; i < Number(n); i++) q._check(q.x.q_envelope_decode(e, -1));
console.log(`${n} calls`);
