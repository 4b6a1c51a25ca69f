// Child of decode-memory.test.mjs (run with --expose-gc): decodes envelopes many times, reads
// each Envelope's meta (from the core's tape for ASCII metas, JSON.parse otherwise) and payload,
// keeps nothing, and prints the JS heap after full collections and the wasm memory at two marks.
import { readFileSync } from 'node:fs';
import { Qollective } from '../../js-glue/qollective.js';

const [file, marks] = process.argv.slice(2);
const q = await Qollective.load(readFileSync(file));
const meta = {
  timestamp: '2026-12-05T10:00:00.123456789Z', request_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', version: '1.0',
  tenant: 'acme', security: { user_id: 'u1', permissions: ['read', 'write'], roles: [] },
  tracing: { trace_id: 't-1', baggage: { k: 'v' } }, extensions: { app: { x: [1, 2, 3] } },
};
const texts = [
  JSON.stringify({ meta, payload: { items: [1, 2, 3], note: 'ascii' } }),
  JSON.stringify({ meta: { ...meta, tenant: 'grüße' }, payload: { note: 'non-ASCII meta: parsed' } }),
  // 2,048 units or more: in Node the client modules take it in as UTF-16 (q_input_utf16)
  JSON.stringify({ meta, payload: { note: 'é'.repeat(3000) } }),
];
const inputs = [...texts, ...texts.map((t) => new TextEncoder().encode(t))];
let sink = 0;
const points = [];
let done = 0;
for (const mark of marks.split(',').map(Number)) {
  for (; done < mark; done++) {
    const e = q.decode(inputs[done % inputs.length]);
    sink += e.meta.security.permissions.length + e.payloadText.length;
  }
  globalThis.gc(); globalThis.gc();
  points.push({ decodes: done, heap: process.memoryUsage().heapUsed, wasm: q.x.memory.buffer.byteLength });
}
process.stdout.write(JSON.stringify({ points, sink }));
