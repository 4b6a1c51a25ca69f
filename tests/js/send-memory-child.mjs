// Child process of send-memory.test.mjs: sends many envelopes through one client and prints
// the JS heap (after full GCs) and the wasm memory at checkpoints, as one JSON line.
// Usage: node --expose-gc send-memory-child.mjs <server url> <checkpoints, e.g. 20000,100000> [--no-abort-signal-any]
import { Qollective } from '../../js-glue/qollective.js';

const [url, marks, flag] = process.argv.slice(2);
if (flag === '--no-abort-signal-any') delete AbortSignal.any;   // runtimes without it (before Node 20.3, older browsers)
const checkpoints = marks.split(',').map(Number);
const CONCURRENCY = 32;

const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url));
const client = q.client({ rest: { base_url: url } });
// a caller signal that lives as long as the client, as a page-wide signal would
const pageSignal = new AbortController().signal;

const heap = async () => {
  for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  return process.memoryUsage().heapUsed;
};

let sent = 0;
const out = { anyPresent: typeof AbortSignal.any === 'function', points: [] };
for (const mark of checkpoints) {
  const worker = async () => {
    while (sent < mark) {
      const i = sent++;
      const r = await client.send({ payload: i }, { method: i % 2 ? 'GET' : 'POST', signal: i % 4 < 2 ? pageSignal : undefined });
      if (r.payload !== i) throw new Error(`send ${i}: got ${r.payload}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  out.points.push({ sends: mark, heap: await heap(), wasm: q.x.memory.buffer.byteLength, stats: q.memoryStats() });
}
client.close();
process.stdout.write(JSON.stringify(out) + '\n');
