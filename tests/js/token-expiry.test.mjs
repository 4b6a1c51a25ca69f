// Token store with expiry (issue 12 item 6), on the real .wasm against the reference server: a
// token with an expiry (setToken's expiresAt, an auth provider's expiresAt, or
// security.token_ttl_ms) is wiped by the core at the first event it is fed at or after that
// instant (or by the glue's timer when nothing happens), and a send needing it then fails
// NO_TOKEN "expired" without reaching the server. The whole wasm memory and the glue's buffers
// are scanned for the token bytes after replace, clear, expiry and close().
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
// The REST suites run on the client module with the source glue and again on the REST module with
// the REST glue (Makefile REST_SUITES; tests/js/module.mjs reads QOLLECTIVE_MODULE and _GLUE).
import { WASM, GLUE } from './module.mjs';
import { startRestServer } from '../servers/rest-server.mjs';
import { find, canary } from './memscan.mjs';
const { Qollective } = await import(GLUE);

const T = (ms) => ({ timeout: ms });
const srv = await startRestServer();
after(() => srv.close());

/** A core whose clock the test moves. */
async function withClock() {
  const clock = { t: 1_800_000_000_000 };
  const q = await Qollective.load(WASM, { now: () => clock.t });
  return { q, clock };
}

test('an expired token is wiped at the next event and a send fails NO_TOKEN "expired" without reaching the server', T(10000), async () => {
  const { q, clock } = await withClock();
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } });
  const token = canary('expiring');
  c.setToken('api', token, { expiresAt: clock.t + 60_000 });
  assert.deepEqual(find(q, [c], token), { wasm: 1, glue: 0 }, 'stored: the core\'s copy only');
  clock.t += 59_999;
  await c.send({ payload: 1 });
  assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${token}`, 'one ms before: sent');
  const seen = srv.stats.count;
  clock.t += 1;
  const err = await c.send({ payload: 2 }).then(() => assert.fail('sent with an expired token'), (e) => e);
  assert.equal(err.code, 'NO_TOKEN');
  assert.equal(err.type, 'security');
  assert.match(err.message, /expired/);
  assert.equal(srv.stats.count, seen, 'nothing reached the server');
  assert.deepEqual(find(q, [c, err], token), { wasm: 0, glue: 0 }, 'after expiry: nowhere');
  assert.ok(!String(err.stack).includes(token) && !JSON.stringify(err).includes(token));
  // a Date works too, and setting it again makes it usable again
  c.setToken('api', token, { expiresAt: new Date(clock.t + 1000) });
  await c.send({ payload: 3 });
  assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${token}`);
  c.close();
  assert.deepEqual(find(q, [c], token), { wasm: 0, glue: 0 }, 'after close');
});

test('replace and clear wipe the old value; a token that arrives expired is not kept', T(10000), async () => {
  const { q, clock } = await withClock();
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } });
  const a = canary('first'), b = canary('second');
  c.setToken('api', a, { expiresAt: clock.t + 1000 });
  c.setToken('api', b, { expiresAt: clock.t + 1000 });
  assert.deepEqual(find(q, [c], a), { wasm: 0, glue: 0 }, 'replaced: the old value is gone');
  assert.deepEqual(find(q, [c], b), { wasm: 1, glue: 0 });
  assert.equal(c.clearToken('api'), true);
  assert.deepEqual(find(q, [c], b), { wasm: 0, glue: 0 }, 'after clearToken');
  c.setToken('api', a, { expiresAt: clock.t - 1 });
  assert.deepEqual(find(q, [c], a), { wasm: 0, glue: 0 }, 'already expired: never kept');
  await assert.rejects(c.send({ payload: 1 }), { code: 'NO_TOKEN', message: /expired/ });
  assert.throws(() => c.setToken('api', a, { expiresAt: -5 }), { code: 'TYPE_MISMATCH', path: 'expiresAt' });
  assert.throws(() => c.setToken('api', a, { expiresAt: 'soon' }), { code: 'TYPE_MISMATCH' });
  assert.deepEqual(find(q, [c], a), { wasm: 0, glue: 0 });
  c.close();
});

test('with nothing else happening, the glue\'s timer feeds the clock and the core wipes the token', T(10000), async () => {
  const q = await Qollective.load(WASM);
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } });
  const token = canary('timer');
  c.setToken('api', token, { expiresAt: Date.now() + 50 });
  assert.deepEqual(find(q, [c], token), { wasm: 1, glue: 0 });
  await sleep(200);
  assert.deepEqual(find(q, [c], token), { wasm: 0, glue: 0 }, 'wiped by the timer, no send needed');
  await assert.rejects(c.send({ payload: 1 }), { code: 'NO_TOKEN', message: /expired/ });
  c.close();
});

test('security.token_ttl_ms gives a token set without expiresAt its lifetime', T(10000), async () => {
  const { q, clock } = await withClock();
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api', token_ttl_ms: 5000 } });
  assert.equal(c.config.security.token_ttl_ms, 5000);
  const token = canary('ttl');
  c.setToken('api', token);
  clock.t += 4999;
  await c.send({ payload: 1 });
  clock.t += 1;
  await assert.rejects(c.send({ payload: 2 }), { code: 'NO_TOKEN', message: /expired/ });
  assert.deepEqual(find(q, [c], token), { wasm: 0, glue: 0 });
  assert.throws(() => q.client({ security: { token_ttl_ms: 2592000001 } }), { code: 'OUT_OF_RANGE', path: 'security.token_ttl_ms' });
  c.close();
});

test('with an auth provider, the provider is asked before each send, so an expired token is replaced, not reported', T(10000), async () => {
  const { q, clock } = await withClock();
  const issued = [];
  const auth = () => {
    const token = canary(`issued${issued.length}`);
    issued.push(token);
    return { name: 'api', token, expiresAt: clock.t + 1000 };
  };
  const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } }, { auth });
  await c.send({ payload: 1 });
  assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${issued[0]}`);
  clock.t += 1000;                                   // the first token's expiry
  await c.send({ payload: 2 });
  assert.equal(issued.length, 2);
  assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer ${issued[1]}`);
  assert.deepEqual(find(q, [c], issued[0]), { wasm: 0, glue: 0 }, 'the replaced token is gone');
  assert.deepEqual(find(q, [c], issued[1]), { wasm: 1, glue: 0 });
  c.close();
  assert.deepEqual(find(q, [c], issued[1]), { wasm: 0, glue: 0 }, 'after close');
});

test('a provider consulted before every send keeps one expiry timer per client, not one per send', T(20000), async () => {
  const { q, clock } = await withClock();
  const live = new Set(), realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
  // only timers an hour ahead are counted: the expiry timers (fetch's own timers are short)
  globalThis.setTimeout = (f, ms, ...a) => { const t = realSet((...b) => { live.delete(t); f(...b); }, ms, ...a); if (ms > 1_000_000) live.add(t); return t; };
  globalThis.clearTimeout = (t) => { live.delete(t); realClear(t); };
  try {
    let k = 0;
    const c = q.client({ rest: { base_url: srv.url }, security: { auth_token: 'api' } },
      { auth: async () => ({ name: 'api', token: `tok-${k++}`, expiresAt: clock.t + 3_600_000 }) });
    for (let i = 0; i < 300; i++) { await c.send({ payload: i }); clock.t += 10; }
    assert.equal(srv.stats.requests.at(-1).headers.authorization, `Bearer tok-${k - 1}`);
    assert.equal(live.size, 1, `${live.size} expiry timers pending after 300 sends`);
    c.close();
    assert.equal(live.size, 0, 'close() cancels the expiry timer');
  } finally { globalThis.setTimeout = realSet; globalThis.clearTimeout = realClear; }
});
