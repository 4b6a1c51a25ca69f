// ws.mjs — helpers for tests/browser/ws.test.mjs: a client on the page's core with Chromium's own
// WebSocket (no injection), and outcome tallies as plain objects (nothing else crosses CDP).
import { core, plainError } from './harness.mjs';

export { plainError };

/** A client whose sockets use the browser's native WebSocket. */
export async function client(config) {
  const q = await core();
  if (q.io.WebSocket !== globalThis.WebSocket) throw new Error('not the native WebSocket');
  return q.client(config);
}

/** Fires n requests on a socket; resolves with the tally once every one has ended. */
export async function fire(sock, n, options = {}, payload = (i) => ({ i })) {
  const ends = new Array(n).fill(0);
  const t = { sent: n, resolved: 0, rejected: 0, wrong: 0, codes: {} };
  await Promise.all(Array.from({ length: n }, (_, i) => sock.request({ payload: payload(i) }, options).then(
    (env) => { ends[i]++; t.resolved++; if (env.payload?.i !== i) t.wrong++; },
    (e) => { ends[i]++; t.rejected++; t.codes[e.code] = (t.codes[e.code] || 0) + 1; })));
  t.twice = ends.filter((k) => k !== 1).length;
  t.pending = sock.info.pending;
  return t;
}

/** Awaits a request: {ok, payload, requestId, meta} or {ok:false, error}. */
export async function outcome(p) {
  try {
    const env = await p;
    return { ok: true, payload: env.payload, meta: env.meta, requestId: env.requestId };
  } catch (e) {
    return { ok: false, error: { ...plainError(e), source: e.source } };
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
