// Secrets in memory (issue 9 item 6): a canary secret is put where callers put secrets — a token
// (security.auth_token), rest.headers Authorization and X-Api-Key, per-call Authorization and
// X-Api-Key, and a Cookie (which fetch forbids, so the core rejects it before sending) —
// and the whole wasm memory plus every byte array the glue objects reach is scanned for it after
// each send, after clearToken and after close(). Where the secret must live on (a stored token,
// the client's configured headers) it is found exactly once, in the core's own copy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Qollective } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const T = (ms) => ({ timeout: ms });
const srv = await startRestServer();
after(() => srv.close());

/** Non-overlapping occurrences of needle in bytes. */
function count(bytes, needle) {
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Every byte array reachable from the given objects through own properties (not the wasm memory itself). */
function glueBuffers(roots, memory) {
  const seen = new Set(), out = [];
  const walk = (v, depth) => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 6) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) { if (v.buffer !== memory.buffer) out.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
    if (v instanceof ArrayBuffer) { if (v !== memory.buffer) out.push(new Uint8Array(v)); return; }
    if (v instanceof WebAssembly.Memory || v instanceof AbortSignal) return;
    const values = v instanceof Map || v instanceof Set ? [...v.values(), ...(v instanceof Map ? v.keys() : [])] : Object.values(v);
    for (const x of values) walk(x, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

/** Where the secret is: occurrences in the wasm memory and in the glue's buffers. */
function find(q, roots, secret) {
  const needle = Buffer.from(secret);
  return {
    wasm: count(new Uint8Array(q.x.memory.buffer), needle),
    glue: glueBuffers([q, ...roots], q.x.memory).reduce((n, b) => n + count(b, needle), 0),
  };
}

const canary = (what) => `c4nary-${what}-${Math.random().toString(36).slice(2)}`;

test('a token: once in the store after each send, nowhere after clearToken and after close()', T(10000), async () => {
  const q = await Qollective.load(WASM);
  const token = canary('token');
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } });
  c.setToken('api', token);
  assert.deepEqual(find(q, [c], token), { wasm: 1, glue: 0 }, 'after setToken: the store only');
  for (const method of ['POST', 'GET']) {
    const r = await c.send({ payload: 1 }, { method });
    assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${token}`);
    assert.deepEqual(find(q, [c, r], token), { wasm: 1, glue: 0 }, `after a ${method}`);
  }
  assert.equal(c.clearToken('api'), true);
  assert.deepEqual(find(q, [c], token), { wasm: 0, glue: 0 }, 'after clearToken');
  c.setToken('api', token);
  await c.send({ payload: 2 });
  c.close();
  assert.deepEqual(find(q, [c], token), { wasm: 0, glue: 0 }, 'after close');
});
