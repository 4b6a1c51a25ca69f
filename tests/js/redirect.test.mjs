// Redirects under the core's control: the real dist/qollective.wasm driven by Client.send against two
// reference servers on 127.0.0.1 — the client's own origin and a "foreign" one on another port. Every
// hop is decided by the core (fetch runs with redirect: 'manual'): 301/302/303/307/308 with relative
// and absolute Locations, the Fetch method rules, a foreign origin that must receive nothing, an
// allowed cross-origin hop that carries no credentials, and the hop limit.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
// The REST suites run on the client module with the source glue and again on the REST module with
// the REST glue (Makefile REST_SUITES; tests/js/module.mjs reads QOLLECTIVE_MODULE and _GLUE).
import { WASM, GLUE } from './module.mjs';
import { startRestServer } from '../servers/rest-server.mjs';
const { Qollective, QollectiveError } = await import(GLUE);

const q = await Qollective.load(WASM);
const T = (ms) => ({ timeout: ms });
const SECRET = 'canary-secret-7f3a';

let srv, foreign;
const clients = [];
before(async () => {
  srv = await startRestServer({ routes: ['/echo'] });
  foreign = await startRestServer({ routes: ['/echo'] });
});
after(async () => { await srv.close(); await foreign.close(); });
beforeEach(() => { srv.reset(); srv.clearFault(); foreign.reset(); foreign.clearFault(); });
afterEach(() => { while (clients.length) clients.pop().close(); });

/** A client on srv, with a bearer token and a configured extra header (both credentials). */
function mk(extra = {}) {
  const c = q.client({
    ...extra,
    rest: { base_url: srv.url, route: '/old', headers: { 'X-Api-Key': SECRET }, ...extra.rest },
    retry: { base_delay_ms: 10, jitter_percent: 0 },
    security: { auth_token: 'api', ...extra.security },
  });
  c.setToken('api', SECRET);
  clients.push(c);
  return c;
}

async function rejection(promise) {
  try { await promise; } catch (e) { return e; }
  assert.fail('expected a rejection');
}

const hops = (s) => s.stats.requests.map((r) => `${r.method} ${r.path}`);

// ------------------------------------------------------------------------------ same origin

// Fetch's rules: 303 turns anything into GET without a body; 301/302 turn POST into GET; 307/308 keep it.
const RULES = [
  [301, 'POST', 'GET'], [302, 'POST', 'GET'], [303, 'PUT', 'GET'], [303, 'POST', 'GET'],
  [301, 'PUT', 'PUT'], [302, 'PUT', 'PUT'], [307, 'POST', 'POST'], [308, 'POST', 'POST'], [307, 'PATCH', 'PATCH'],
];
for (const [status, method, next] of RULES) {
  for (const form of ['absolute', 'relative']) {
    test(`${status} ${method} → ${next}, ${form} Location: the core follows it on the same origin`, T(5000), async () => {
      const c = mk();
      const location = form === 'absolute' ? `${srv.url}/echo` : '../echo';
      srv.setFault({ redirect: status, location, paths: ['/old'] });
      const reply = await c.send({ payload: { n: 1 } }, { method });
      assert.deepEqual(hops(srv), [`${method} /old`, `${next} /echo`]);
      const [first, second] = srv.stats.requests;
      assert.equal(second.headers['x-qollective-request-id'], first.headers['x-qollective-request-id']);
      assert.equal(second.headers.authorization, `Bearer ${SECRET}`, 'same origin keeps the credentials');
      assert.equal(second.headers['x-api-key'], SECRET);
      if (next === 'GET') {
        assert.equal(second.bodyBytes, 0, 'the body is dropped with the method');
        assert.equal(second.headers['content-type'], undefined);
        assert.equal(reply.payload, null);
      } else {
        assert.equal(second.body, first.body, 'the same body again');
        assert.deepEqual(reply.payload, { n: 1 });
      }
      assert.equal(q.x.q_client_free !== undefined, true);
    });
  }
}

test('a relative-path Location resolves against the requested URL (dot segments removed)', T(5000), async () => {
  const c = mk({ rest: { route: '/a/b/old' } });
  srv.setFault({ redirect: 307, location: '../../echo?x=1#frag', paths: ['/a/b/old'] });
  const reply = await c.send({ payload: 7 });
  assert.deepEqual(hops(srv), ['POST /a/b/old', 'POST /echo']);
  assert.equal(srv.stats.requests[1].query, 'x=1');
  assert.equal(reply.payload, 7);
});

// ------------------------------------------------------------------------------ foreign origins

for (const status of [301, 302, 303, 307, 308]) {
  for (const method of ['POST', 'GET']) {
    test(`${status} ${method} to an origin outside the allowlist: security error, the foreign server sees nothing`, T(5000), async () => {
      const c = mk();
      srv.setFault({ redirect: status, location: `${foreign.url}/echo`, paths: ['/old'] });
      const err = await rejection(c.send({ payload: 1 }, { method }));
      assert.ok(err instanceof QollectiveError);
      assert.equal(err.code, 'ORIGIN_DENIED');
      assert.equal(err.type, 'security');
      assert.equal(err.retryable, false);
      assert.equal(err.status, status);
      assert.equal(err.path, 'Location');
      assert.ok(!err.message.includes(foreign.url) && !err.message.includes(SECRET), err.message);
      assert.equal(foreign.stats.total, 0, 'nothing reached the foreign origin');
      assert.equal(srv.stats.total, 1);
      assert.equal(q.memoryStats().clients, 1);
    });
  }
}

test('a scheme-relative Location (//host:port/...) is checked like an absolute one', T(5000), async () => {
  const c = mk();
  srv.setFault({ redirect: 302, location: `//${foreign.host}:${foreign.port}/echo`, paths: ['/old'] });
  const err = await rejection(c.send({ payload: 1 }, { method: 'PUT' }));
  assert.equal(err.code, 'ORIGIN_DENIED');
  assert.equal(foreign.stats.total, 0);
});

test('an allowed cross-origin hop is followed without Authorization or configured/call headers', T(5000), async () => {
  const c = mk({ security: { allowed_origins: [srv.url, foreign.url] } });
  srv.setFault({ redirect: 307, location: `${foreign.url}/echo`, paths: ['/old'] });
  const reply = await c.send({ meta: { tenant: 't1' }, payload: { ok: true } }, { headers: { 'X-Call': SECRET } });
  assert.deepEqual(reply.payload, { ok: true });
  assert.equal(srv.stats.total, 1);
  assert.equal(foreign.stats.total, 1);
  const got = foreign.stats.requests[0];
  assert.equal(got.headers.authorization, undefined, 'credentials stay with their origin');
  assert.equal(got.headers['x-api-key'], undefined);
  assert.equal(got.headers['x-call'], undefined);
  assert.equal(got.headers['x-qollective-tenant'], Buffer.from('t1').toString('base64'), 'meta headers travel: the server reads meta from them');
  assert.equal(got.headers['content-type'], 'application/json');
  assert.ok(!JSON.stringify(got.headers).includes(SECRET));
});

test('once stripped, credentials stay stripped on a hop back to the first origin', T(5000), async () => {
  const c = mk({ security: { allowed_origins: [srv.url, foreign.url] } });
  srv.setFault({ redirect: 307, location: `${foreign.url}/back`, paths: ['/old'] });
  foreign.setFault({ redirect: 308, location: `${srv.url}/echo`, paths: ['/back'] });
  await c.send({ payload: 1 });
  assert.deepEqual(hops(srv), ['POST /old', 'POST /echo']);
  assert.equal(srv.stats.requests[1].headers.authorization, undefined);
});

// ------------------------------------------------------------------------------ limits and hosts

test('hop limit: rest.max_redirects hops, then TOO_MANY_REDIRECTS; 0 follows none', T(5000), async () => {
  for (const max of [0, 1, 3]) {
    srv.reset();
    const c = mk({ rest: { max_redirects: max } });
    srv.setFault({ redirect: 302, location: '/old', paths: ['/old'] });
    const err = await rejection(c.send({ payload: 1 }, { method: 'PUT' }));
    assert.equal(err.code, 'TOO_MANY_REDIRECTS');
    assert.equal(err.type, 'transport');
    assert.equal(err.retryable, false);
    assert.equal(srv.stats.total, max + 1, `max_redirects ${max}`);
  }
  assert.equal(q.client({}).config.rest.max_redirects, 5);
});

test('3xx without Location, or one the client does not follow (300, 304), rejects as HTTP_STATUS', T(5000), async () => {
  const c = mk();
  for (const status of [300, 304]) {
    srv.setFault({ redirect: status, location: '/echo', paths: ['/old'] });
    const err = await rejection(c.send({ payload: 1 }));
    assert.equal(err.code, 'HTTP_STATUS');
    assert.equal(err.status, status);
  }
});

test('a host that hides the target (browser opaqueredirect, status 0) fails with REDIRECT_HIDDEN', T(5000), async () => {
  // Node's fetch always shows the Location, so the browser's filtered response is mocked here;
  // the browser suite meets the real one.
  let calls = 0;
  const fakeFetch = async (url, init) => {
    calls++;
    assert.equal(init.redirect, 'manual');
    return { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null };
  };
  const q2 = await Qollective.load(WASM, { fetch: fakeFetch });
  const c = q2.client({ rest: { base_url: srv.url } });
  const err = await rejection(c.send({ payload: 1 }));
  assert.equal(err.code, 'REDIRECT_HIDDEN');
  assert.equal(err.type, 'security');
  assert.equal(err.retryable, false);
  assert.equal(calls, 1);
  c.close();
});
