// REST decisions of the core, end to end on the real dist/qollective.wasm against the reference
// server on 127.0.0.1: where each error comes from (err.source), deadlines checked on every event
// the core is fed, what is retried and what is not, and what error messages may quote.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
// The REST suites run on the client module with the source glue and again on the REST module with
// the REST glue (Makefile REST_SUITES; tests/js/module.mjs reads QOLLECTIVE_MODULE and _GLUE).
import { WASM, GLUE } from './module.mjs';
import { startRestServer } from '../servers/rest-server.mjs';
const { Qollective, QollectiveError } = await import(GLUE);

const q = await Qollective.load(WASM);
const T = (ms) => ({ timeout: ms });

let srv;
const clients = [];
before(async () => { srv = await startRestServer({ routes: ['/echo', '/fail', '/slow'], slowMs: 300 }); });
after(async () => { await srv.close(); });
beforeEach(() => { srv.reset(); srv.clearFault(); });
afterEach(() => { while (clients.length) clients.pop().close(); });

function mk(extra = {}, options = {}, inst = q) {
  const c = inst.client({
    ...extra,
    rest: { base_url: srv.url, ...extra.rest },
    retry: { base_delay_ms: 10, max_delay_ms: 100, jitter_percent: 0, ...extra.retry },
  }, options);
  clients.push(c);
  return c;
}

async function rejection(promise) {
  try { await promise; } catch (e) { assert.ok(e instanceof QollectiveError, `${e?.name}: ${e?.message}`); return e; }
  assert.fail('expected a rejection');
}

async function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// ------------------------------------------------------------------------------ err.source

test('source local: refused before sending (bad meta, missing token) and aborted by the caller', T(5000), async () => {
  const c = mk();
  let err = await rejection(c.send({ meta: { request_id: 'nope' }, payload: 1 }));
  assert.equal(err.code, 'INVALID_UUID');
  assert.equal(err.source, 'local');
  const t = mk({ security: { auth_token: 'missing' } });
  err = await rejection(t.send({ payload: 1 }));
  assert.equal(err.code, 'NO_TOKEN');
  assert.equal(err.source, 'local');
  const ctl = new AbortController();
  const p = c.send({ payload: 1 }, { route: '/slow', signal: ctl.signal });
  await srv.waitForRequests(1, { timeout: 3000 });   // in flight: the server has it
  ctl.abort();
  err = await rejection(p);
  assert.equal(err.code, 'ABORTED');
  assert.equal(err.source, 'local');
  assert.equal(srv.stats.total, 1, 'only the aborted request was sent');
});

test('source network: nothing listening, and a deadline that passes in flight', T(5000), async () => {
  const c = mk({ rest: { base_url: `http://127.0.0.1:${await closedPort()}` } });
  let err = await rejection(c.send({ payload: 1 }));
  assert.equal(err.code, 'NETWORK');
  assert.equal(err.source, 'network');
  err = await rejection(mk().send({ payload: 1 }, { route: '/slow', timeout: 100 }));
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.source, 'network');
});

test('source envelope: the server\'s 400 HANDLER_ERROR is told apart from a local validation failure', T(5000), async () => {
  const err = await rejection(mk().send({ payload: 1 }, { route: '/fail' }));
  assert.equal(err.code, 'HANDLER_ERROR');
  assert.equal(err.type, 'validation');
  assert.equal(err.status, 400);
  assert.equal(err.source, 'envelope');
});

test('source http: a status without an envelope, and a 2xx body that is not an envelope', T(5000), async () => {
  const c = mk();
  srv.setFault({ status: 404, envelope: false });
  let err = await rejection(c.send({ payload: 1 }));
  assert.equal(err.code, 'HTTP_STATUS');
  assert.equal(err.source, 'http');
  srv.setFault({ malformed: true });
  err = await rejection(c.send({ payload: 1 }));
  assert.equal(err.code, 'NOT_AN_ENVELOPE');
  assert.equal(err.source, 'http');
  srv.setFault({ redirect: 307, location: 'http://127.0.0.1:1/x' });
  err = await rejection(c.send({ payload: 1 }));
  assert.equal(err.code, 'ORIGIN_DENIED');
  assert.equal(err.source, 'http');
});

test('a failure the core finds in a call is source local', () => {
  let err;
  try { q.decode('{'); } catch (e) { err = e; }
  assert.equal(err.source, 'local');
});

// ------------------------------------------------------------------------------ deadlines on every event

test('a reply that arrives after the deadline rejects TIMEOUT, not resolve (clock checked by the core)', T(5000), async () => {
  // The host clock jumps past the deadline while the request is in flight (a suspended tab whose
  // timers did not fire): the glue's own timer has not fired yet, the core sees the late reply.
  let skew = 0;
  const c = mk({}, {}, await Qollective.load(WASM, { now: () => Date.now() + skew }));
  const p = c.send({ payload: 1 }, { route: '/slow', timeout: 4000 });
  setTimeout(() => { skew = 10000; }, 100);
  const err = await rejection(p);
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.source, 'network');
  assert.match(err.message, /after the request deadline/);
  assert.equal(srv.stats.total, 1);
  // the same reply in time resolves
  skew = 0;
  const r = await c.send({ payload: 2 }, { route: '/slow', timeout: 4000 });
  assert.equal(r.payload, 2);
});

test('a redirect or a network failure after the deadline rejects TIMEOUT too', T(5000), async () => {
  let skew = 0;
  const inst = await Qollective.load(WASM, { now: () => Date.now() + skew });
  const c = mk({}, {}, inst);
  srv.setFault({ redirect: 307, location: '/echo', delay: 150, paths: ['/envelope'] });
  const p = c.send({ payload: 1 }, { timeout: 4000 });
  setTimeout(() => { skew = 10000; }, 50);
  const err = await rejection(p);
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(srv.stats.total, 1, 'the hop was not followed');
  skew = 0;
  srv.clearFault();
  srv.setFault({ reset: true, delay: 150 });
  const p2 = c.send({ payload: 1 }, { method: 'GET', timeout: 4000 });
  setTimeout(() => { skew = 10000; }, 50);
  const err2 = await rejection(p2);
  assert.equal(err2.code, 'TIMEOUT');
  assert.equal(srv.stats.total, 2, 'a GET past its deadline is not retried');
});

// ------------------------------------------------------------------------------ what is retried

test('timeouts are not retried: the deadline covers every attempt (a 408 from the server is)', T(5000), async () => {
  const c = mk({ retry: { max_attempts: 5 } });
  const err = await rejection(c.send({ payload: 1 }, { method: 'GET', route: '/slow', timeout: 150 }));
  assert.equal(err.code, 'TIMEOUT');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(srv.stats.total, 1, 'one attempt: no time is left to retry with');
  srv.reset();
  srv.setFault({ status: 408, failTimes: 1 });
  const r = await c.send({ payload: 3 }, { method: 'GET', timeout: 2000 });
  assert.equal(r.payload, 3);
  assert.equal(srv.stats.total, 2, 'the server\'s 408 is retried');
});

test('a 2xx body that is not an envelope follows its kind\'s policy: immediate retry, only where safe', T(5000), async () => {
  const c = mk({ retry: { max_attempts: 4, base_delay_ms: 500, max_delay_ms: 1000 } });
  for (const [method, attempts] of [['GET', 4], ['PUT', 4], ['POST', 1]]) {
    srv.reset();
    srv.setFault({ malformed: true });
    const t0 = performance.now();
    const err = await rejection(c.send({ payload: 1 }, { method }));
    assert.equal(err.code, 'NOT_AN_ENVELOPE');
    assert.equal(err.type, 'deserialization');
    assert.equal(err.retryPolicy, 'immediate');
    assert.equal(srv.stats.total, attempts, `${method}: ${attempts} attempts`);
    // immediate: none of the 500 ms backoff the other policies would wait (3 retries: >= 1.5 s)
    assert.ok(performance.now() - t0 < 1400, `${method} took ${performance.now() - t0} ms`);
  }
  // a cut body that comes whole the next time resolves
  srv.reset();
  srv.setFault({ malformed: true, failTimes: 1 });
  assert.equal((await c.send({ payload: 5 }, { method: 'GET' })).payload, 5);
});

test('HTTP-status messages quote no body bytes (a body may echo the request or a header value)', T(5000), async () => {
  const SECRET = 'echoed-secret-4b1d';
  const c = mk({ rest: { headers: { 'X-Api-Key': SECRET } } });
  for (const fault of [{ status: 404, envelope: false, message: `no route; you sent X-Api-Key: ${SECRET}` }, { html502: true }]) {
    srv.setFault(fault);
    const err = await rejection(c.send({ payload: { secret: SECRET } }));
    assert.equal(err.code, 'HTTP_STATUS');
    assert.ok(!err.message.includes(SECRET), err.message);
    assert.match(err.message, /^HTTP (404|502) without an envelope \((text\/plain|text\/html), \d+ bytes\)$/);
  }
});
