// A few REST round trips against a Qollective server, printed readably.
// Usage: node examples/node/demo.mjs http://127.0.0.1:8080
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';

const server = process.argv[2] || 'http://127.0.0.1:8080';
const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url));
const client = q.client({
  rest: { base_url: server },
  meta: { tenant: 'demo-tenant' },
  retry: { max_attempts: 3, base_delay_ms: 100 },
});

const show = (title, value) => console.log(`\n== ${title}\n${JSON.stringify(value, null, 2)}`);

async function roundTrip(title, envelope, options) {
  const started = performance.now();
  try {
    const reply = await client.send(envelope, options);
    show(`${title}  (${(performance.now() - started).toFixed(1)} ms)`, reply.toJSON());
  } catch (err) {
    if (!(err instanceof QollectiveError)) throw err;
    const { type, code, status, message, retryable, requestId, details } = err;
    show(`${title}  -> error (${(performance.now() - started).toFixed(1)} ms)`, { type, code, status, message, retryable, requestId, details });
  }
}

console.log(`qollective-wasm demo against ${server}`);
await roundTrip('POST /envelope: echo a payload', {
  meta: { security: { user_id: 'ada', roles: ['reader'] }, tracing: { trace_id: 'trace-1' } },
  payload: { greeting: 'hello', from: 'qollective-wasm', unicode: 'grüße 🚀' },
});
await roundTrip('GET /envelope: payload travels in ?envelope_data=', { payload: { query: 'status' } }, { method: 'GET' });
await roundTrip('POST /fail: the handler fails, the server answers with an error envelope', { payload: { will: 'fail' } }, { route: '/fail' });
await roundTrip('POST /missing: an unknown route gives a plain-text 404', { payload: 1 }, { route: '/missing' });

const stats = q.memoryStats();
console.log(`\ncore memory: ${stats.footprint} bytes of linear memory in use (limit ${stats.limit})`);
client.close();
