// Compile-only check of js-glue/qollective.d.ts (tsc --noEmit): typical use must type-check.
import { Qollective, QollectiveError, type Envelope, type Meta } from '../../js-glue/qollective.js';

interface Greeting { greeting: string }

export async function example(url: string): Promise<string> {
  const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url), { now: () => Date.now() });
  const client = q.client({ rest: { base_url: url, headers: { 'x-app': 'demo' }, max_redirects: 3 }, retry: { max_attempts: 2 }, meta: { tenant: 't' } });
  client.setToken('api', 'secret');
  const meta: Meta = { security: { user_id: 'u', auth_method: 'Jwt', roles: [] }, tracing: { tags: { a: 1, b: true } } };
  try {
    const reply: Envelope<Greeting> = await client.send<Greeting>({ meta, payload: { hi: 1 } }, { method: 'GET', timeout: 500, signal: AbortSignal.timeout(1000) });
    return reply.payload.greeting + (reply.requestId ?? '');
  } catch (e) {
    if (e instanceof QollectiveError && e.retryable) return `${e.type}:${e.code}:${e.status ?? 0}:${client.inFlight}`;
    if (e instanceof QollectiveError && e.cause instanceof Error) return `${e.code} caused by ${e.cause.name}`;
    throw e;
  } finally {
    client.close();
  }
}

export async function websocket(q: Qollective, url: string): Promise<number> {
  const client = q.client({ websocket: { url, ping_interval_ms: 10000, max_queue: 100 } });
  const socket = client.socket();
  socket.onStatus = (e) => { if (e.state === 'reconnecting') console.log(e.attempt, e.delay ?? 0); };
  const reply = await socket.request<Greeting>({ payload: 1 }, { timeout: 500, signal: AbortSignal.timeout(1000), idempotent: true });
  for await (const pushed of socket.incoming()) { console.log(pushed.payload); break; }
  try { await socket.request({ payload: 2 }); } catch (e) { if (e instanceof QollectiveError && e.source === 'frame') return e.status ?? 0; }
  await socket.drain();
  return reply.payload.greeting.length + socket.info.pending;
}

export function codec(q: Qollective): number {
  const bytes: Uint8Array = q.encode({ meta: { tenant: 'x' }, payloadJson: '{"a":1}' }, { autofill: true });
  const env = q.decode<{ a: number }>(bytes);
  const many = q.decodeMany([bytes, '{"meta":{},"payload":2}']);
  const fromText: string = q.decode('{"meta":{},"payload":[1]}').payloadText;
  return env.payload.a + many.length + q.memoryStats().footprint + fromText.length;
}
