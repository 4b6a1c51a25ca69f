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
import { find, canary } from './memscan.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const T = (ms) => ({ timeout: ms });
const srv = await startRestServer();
after(() => srv.close());


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

test('rest.headers Authorization and X-Api-Key: once in the config after each send, nowhere after close()', T(10000), async () => {
  const q = await Qollective.load(WASM);
  const auth = canary('auth'), cookie = canary('key');
  const c = q.client({ rest: { base_url: srv.url, headers: { Authorization: `Basic ${auth}`, 'X-Api-Key': cookie } } });
  for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c], secret), { wasm: 1, glue: 0 }, 'after q.client');
  for (const method of ['POST', 'GET', 'PUT']) {
    const r = await c.send({ payload: 1 }, { method });
    assert.equal(srv.stats.requests.at(-1).headers['x-api-key'], cookie);
    for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c, r], secret), { wasm: 1, glue: 0 }, `after a ${method}`);
  }
  // c.config hands the headers out through scratch: once the caller has them, the next call wipes them
  assert.equal(c.config.rest.headers['X-Api-Key'], cookie);
  assert.equal(c.inFlight, 0);
  for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c], secret), { wasm: 1, glue: 0 }, 'after c.config and the next call');
  c.close();
  for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c], secret), { wasm: 0, glue: 0 }, 'after close');
  // a configured Cookie (forbidden by fetch) refuses every send, and leaves no copy behind after close
  const jar = canary('cookie');
  const c2 = q.client({ rest: { base_url: srv.url, headers: { Cookie: `sid=${jar}` } } });
  await assert.rejects(c2.send({ payload: 1 }), { code: 'INVALID_VALUE', path: 'rest.headers' });
  assert.deepEqual(find(q, [c2], jar), { wasm: 1, glue: 0 }, 'after a refused send: the config only');
  c2.close();
  assert.deepEqual(find(q, [c2], jar), { wasm: 0, glue: 0 }, 'after close');
});

test('per-call Authorization and X-Api-Key: nowhere after each send, nor after a send refused for a Cookie', T(10000), async () => {
  const q = await Qollective.load(WASM);
  const auth = canary('auth'), cookie = canary('key');
  const c = q.client({ rest: { base_url: srv.url } });
  const headers = { Authorization: `Bearer ${auth}`, 'X-Api-Key': cookie };
  for (const method of ['POST', 'GET', 'DELETE']) {
    const r = await c.send({ payload: 1 }, { method, headers });
    assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${auth}`);
    for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c, r], secret), { wasm: 0, glue: 0 }, `after a ${method}`);
  }
  // refused before anything is sent: a Cookie (forbidden by fetch) next to the secret ones
  const jar = canary('cookie');
  await assert.rejects(c.send({ payload: 1 }, { headers: { ...headers, Cookie: `sid=${jar}` } }), { code: 'INVALID_VALUE', path: 'options.headers' });
  for (const secret of [auth, cookie, jar]) assert.deepEqual(find(q, [c], secret), { wasm: 0, glue: 0 }, 'after a refused send');
  c.close();
  for (const secret of [auth, cookie]) assert.deepEqual(find(q, [c], secret), { wasm: 0, glue: 0 }, 'after close');
});
