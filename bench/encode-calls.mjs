// N encode calls straight on the export, for callgrind (bench/README.md "Rust's f64 spellings"):
// the 1 KB compact-full meta of bench/codec-data.mjs as JSON.stringify writes it and its payload,
// written into the module once, then q_envelope_encode N times; run it with N and with 0 and
// subtract, so the count is the calls' alone:
//   valgrind --tool=callgrind node --no-liftoff --single-threaded bench/encode-calls.mjs GLUE.js MODULE.wasm N
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compactFullMeta, payloadFor } from './codec-data.mjs';

const [glue, wasm, n] = process.argv.slice(2);
const { Qollective } = await import(pathToFileURL(resolve(glue)));
const q = await Qollective.load(pathToFileURL(resolve(wasm)));
const meta = compactFullMeta();
const [m, p] = q._input([JSON.stringify(meta), JSON.stringify(payloadFor(meta, 1024))]);
for (let i = 0; i < Number(n); i++) q._check(q.x.q_envelope_encode(m, p, 0, 0, 0, -1));
console.log(`${n} calls, ${q._out().length} bytes each`);
