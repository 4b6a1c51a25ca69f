// Child process of ws-memory.test.mjs: many request/reply rounds over one WebSocket (the `ws`
// package) and prints the JS heap (after full GCs), the wasm memory and the core's memory stats
// at checkpoints, plus how every request ended, as one JSON line.
// Usage: node --expose-gc ws-memory-child.mjs <server url> <checkpoints, e.g. 20000,100000>
// Per 64 requests: plain replies (some with a long-lived caller signal, some idempotent), three
// error frames, three error envelopes, three aborted after they were written (their late replies
// are dropped), three aborted before they are sent, and one that times out before its reply,
// which the server delays by 3 ms (replies are in order: a delay holds up the connection).
import WebSocket from 'ws';
import { Qollective } from '../../js-glue/qollective.js';

const [url, marks] = process.argv.slice(2);
const checkpoints = marks.split(',').map(Number);
const CONCURRENCY = 32;

const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url), { WebSocket });
const client = q.client({ websocket: { url } });
const sock = client.socket();
// a caller signal that lives as long as the client, as a page-wide signal would
const pageSignal = new AbortController().signal;
const aborted = AbortSignal.abort();

const heap = async () => {
  for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  return process.memoryUsage().heapUsed;
};

const ends = { resolved: 0, rejected: 0, codes: {}, wrong: 0 };
async function one(i) {
  const k = i % 64;
  let payload = { i }, options = {};
  if (k % 16 === 11) payload = { __fail: 'validation' };
  else if (k % 16 === 12) payload = { __envelopeError: { code: 'HANDLER_ERROR', message: 'no', http_status_code: 400 } };
  else if (k % 16 === 13) { const c = new AbortController(); options = { signal: c.signal }; queueMicrotask(() => c.abort()); }
  else if (k === 14) { options = { timeout: 1 }; payload = { __delay: 3, i }; }
  else if (k % 16 === 15) options = { signal: aborted };
  else if (k % 3 === 0) options = { signal: pageSignal };
  else if (k % 3 === 1) options = { idempotent: true };
  try {
    const r = await sock.request({ payload }, options);
    ends.resolved++;
    if (r.payload.i !== i) ends.wrong++;
  } catch (e) {
    ends.rejected++;
    ends.codes[e.code] = (ends.codes[e.code] || 0) + 1;
  }
}

let issued = 0;
const out = { points: [] };
for (const mark of checkpoints) {
  const worker = async () => { while (issued < mark) await one(issued++); };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  out.points.push({ requests: mark, heap: await heap(), wasm: q.x.memory.buffer.byteLength, stats: q.memoryStats(), info: sock.info });
}
out.ends = ends;
sock.close();
client.close();
process.stdout.write(JSON.stringify(out) + '\n');
