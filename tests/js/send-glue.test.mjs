// What the glue adds around a send (issue 9 items 2 and 4), on the real dist/qollective.wasm:
// the host's own exception is kept as `cause` with its name and code in `details` (never its
// message), a caller's signal shared by many sends gets one listener that is gone when they end,
// and aborting it stops them all.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { getEventListeners } from 'node:events';
// The REST suites run on the client module with the source glue and again on the REST module with
// the REST glue (Makefile REST_SUITES; tests/js/module.mjs reads QOLLECTIVE_MODULE and _GLUE).
import { WASM, GLUE } from './module.mjs';
import { startRestServer } from '../servers/rest-server.mjs';
import { C } from './c-constants.mjs';
const { Qollective, QollectiveError } = await import(GLUE);

const q = await Qollective.load(WASM);
const T = (ms) => ({ timeout: ms });
const SECRET = 'tok-5ecret-canary-77';
const srv = await startRestServer({ routes: ['/slow'], slowMs: 300 });
after(() => srv.close());

async function rejection(p) {
  try { await p; } catch (e) { return e; }
  assert.fail('expected a rejection');
}

/** A port nothing listens on: one the OS handed out and that was closed again. */
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function assertNoSecret(err) {
  for (const text of [err.message, JSON.stringify(err.details), err.stack]) assert.ok(!String(text).includes(SECRET), text);
}

test('refused port: NETWORK with the fetch exception as cause and ECONNREFUSED in details', T(10000), async () => {
  const c = q.client({ rest: { base_url: `http://127.0.0.1:${await closedPort()}` }, security: { auth_token: 'api' } });
  c.setToken('api', SECRET);
  const err = await rejection(c.send({ payload: 1 }));
  c.close();
  assert.ok(err instanceof QollectiveError);
  assert.equal(err.code, 'NETWORK');
  assert.ok(err.cause instanceof TypeError, `cause: ${err.cause}`);       // Node's fetch: TypeError('fetch failed')
  assert.equal(err.cause.cause?.code, 'ECONNREFUSED');
  assert.deepEqual(err.details, { name: 'TypeError', code: 'ECONNREFUSED' });
  assertNoSecret(err);
});

test('a custom fetch that throws: its error is the cause; name and code in details, its message nowhere', T(5000), async () => {
  const thrown = Object.assign(new RangeError(`buggy fetch saw Authorization: Bearer ${SECRET}`), { code: 'EBUGGY' });
  const calls = [];
  const inst = await Qollective.load(WASM, { fetch: (url, init) => { calls.push(init); throw thrown; } });
  const c = inst.client({ rest: { base_url: 'http://127.0.0.1:9' }, security: { auth_token: 'api' } });
  c.setToken('api', SECRET);
  const err = await rejection(c.send({ payload: 1 }));
  assert.equal(calls.length, 1, 'POST is not retried');
  assert.equal(err.code, 'NETWORK');
  assert.equal(err.cause, thrown);
  assert.deepEqual(err.details, { name: 'RangeError', code: 'EBUGGY' });
  assertNoSecret(err);
  // a rejected promise and a throw with an odd code: only identifiers reach details
  const odd = Object.assign(new Error('x'), { code: `has spaces ${SECRET}` });
  const inst2 = await Qollective.load(WASM, { fetch: async () => { throw odd; } });
  const c2 = inst2.client({ rest: { base_url: 'http://127.0.0.1:9' } });
  const err2 = await rejection(c2.send({ payload: 1 }));
  assert.equal(err2.cause, odd);
  assert.deepEqual(err2.details, { name: 'Error' });
  assertNoSecret(err2);
  c.close(); c2.close();
});

test('a host error name or code is kept in details up to Q_GLUE_HOST_IDENT_MAX_CHARS characters, a longer one is left out', T(5000), async () => {
  const max = C.Q_GLUE_HOST_IDENT_MAX_CHARS;
  for (const [len, kept] of [[max, true], [max + 1, false]]) {
    const thrown = Object.assign(new Error('x'), { name: 'N'.repeat(len), code: 'E'.repeat(len) });
    const inst = await Qollective.load(WASM, { fetch: () => { throw thrown; } });
    const c = inst.client({ rest: { base_url: 'http://127.0.0.1:9' } });
    const err = await rejection(c.send({ payload: 1 }));
    assert.equal(err.code, 'NETWORK');
    assert.deepEqual(err.details, kept ? { name: thrown.name, code: thrown.code } : {}, `${len} characters`);
    c.close();
  }
});

test('abort: ABORTED with the signal reason as cause and no host details', T(5000), async () => {
  const c = q.client({ rest: { base_url: srv.url } });
  const ctl = new AbortController();
  const reason = new Error('user left the page');
  const p = c.send({ payload: 1 }, { route: '/slow', signal: ctl.signal });
  await srv.waitForRequests(1, { timeout: 2000 });
  ctl.abort(reason);
  const err = await rejection(p);
  assert.equal(err.code, 'ABORTED');
  assert.equal(err.cause, reason);
  assert.equal(err.details, null);
  assert.equal(c.inFlight, 0);
  c.close();
});

test('one caller signal shared by 25 sends: one listener while they run, none after; aborting it ends them all', T(10000), async () => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const c = q.client({ rest: { base_url: srv.url } });
    const page = new AbortController();
    const replies = await Promise.all(Array.from({ length: 25 }, (_, i) => {
      const p = c.send({ payload: i }, { signal: page.signal, method: 'GET' });
      return p;
    }).map(async (p, i) => {
      if (i === 0) assert.equal(getEventListeners(page.signal, 'abort').length, 1);
      return p;
    }));
    assert.deepEqual(replies.map((r) => r.payload), Array.from({ length: 25 }, (_, i) => i));
    assert.equal(getEventListeners(page.signal, 'abort').length, 0, 'listener removed when the last send ended');

    const sends = Array.from({ length: 25 }, (_, i) => c.send({ payload: i }, { route: '/slow', signal: page.signal }));
    assert.equal(getEventListeners(page.signal, 'abort').length, 1);
    await srv.waitForRequests(1, { timeout: 2000 });
    page.abort();
    const res = await Promise.allSettled(sends);
    assert.deepEqual(res.map((r) => r.reason?.code), Array(25).fill('ABORTED'));
    assert.equal(getEventListeners(page.signal, 'abort').length, 0);
    assert.equal(c.inFlight, 0);
    c.close();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map(String), [], 'no MaxListenersExceededWarning');
  } finally { process.off('warning', onWarning); }
});
