// The REST transport end to end: the real dist/qollective.wasm driven by js-glue's Client.send
// against the reference server (tests/servers/rest-server.mjs) on 127.0.0.1. What the server
// received (method, URL, headers, body), every error class, timeouts, aborts, retries counted on
// the server side, 1,000 requests in flight, and config errors at q.client().
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
// The REST suites run on the client module with the source glue and again on the REST module with
// the REST glue (Makefile REST_SUITES; tests/js/module.mjs reads QOLLECTIVE_MODULE and _GLUE).
import { WASM, GLUE } from './module.mjs';
import { startRestServer } from '../servers/rest-server.mjs';
const { Qollective, QollectiveError } = await import(GLUE);

const td = new TextDecoder();
const q = await Qollective.load(WASM);

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PLUS00 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/;
const T = (ms) => ({ timeout: ms });   // every test is bounded in time
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

let srv;
const clients = [];

before(async () => {
  srv = await startRestServer({ routes: ['/echo', '/fail', '/slow'], slowMs: 500 });
});
after(async () => {
  for (const c of clients) c.close();
  await srv.close();
});
beforeEach(() => srv.reset());
afterEach(() => { while (clients.length) clients.pop().close(); });

/** A client on the reference server; fast, jitter-free retries unless the test overrides them. */
function mk(extra = {}, options = {}, inst = q) {
  const cfg = {
    ...extra,
    rest: { base_url: srv.url, ...extra.rest },
    retry: { base_delay_ms: 20, max_delay_ms: 1000, jitter_percent: 0, ...extra.retry },
  };
  const c = inst.client(cfg, options);
  clients.push(c);
  return c;
}

/** The last request the server saw. */
const last = () => srv.stats.requests.at(-1);

/** Awaits a rejection and checks it is a QollectiveError with the given fields. */
async function rejectsWith(promise, want = {}) {
  let err;
  try { await promise; } catch (e) { err = e; }
  assert.ok(err, 'expected a rejection');
  assert.ok(err instanceof QollectiveError, `expected QollectiveError, got ${err?.name}: ${err?.message}`);
  for (const [k, v] of Object.entries(want)) {
    if (v instanceof RegExp) assert.match(String(err[k]), v, `${k}: ${err[k]}`);
    else assert.deepEqual(err[k], v, `${k} (message: ${err.message})`);
  }
  return err;
}

const PAYLOAD = {
  text: 'ä&=+#%?/ 😀\n"\\ end',
  amp: 'a=1&b=2+3#frag%20',
  nums: [1, 2.5, -3e-7, 0],
  nested: { z: null, a: true, list: ['x', { y: [] }] },
};

// ---------------------------------------------------------------------------------------- methods

for (const method of ['POST', 'PUT', 'PATCH', 'GET', 'DELETE']) {
  test(`${method}: what the server received and the reply`, T(5000), async () => {
    const c = mk();
    const tenant = 'acme';
    const reply = await c.send({ meta: { tenant }, payload: PAYLOAD }, { method });
    assert.equal(srv.stats.count(method, '/envelope'), 1);
    assert.equal(srv.stats.total, 1);
    const e = last();
    assert.equal(e.method, method);
    assert.equal(e.path, '/envelope');
    const rid = e.headers['x-qollective-request-id'];
    assert.match(rid, UUID_V7);
    const payloadText = JSON.stringify(PAYLOAD);
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      assert.equal(e.query, '');
      assert.equal(e.headers['content-type'], 'application/json');
      // the body is the full canonical envelope: meta first, then the compact payload, nothing else
      const body = JSON.parse(e.body);
      assert.deepEqual(Object.keys(body), ['meta', 'payload']);
      assert.deepEqual(body.payload, PAYLOAD);
      assert.ok(e.body.endsWith(`,"payload":${payloadText}}`), e.body);
      assert.equal(body.meta.request_id, rid);
      assert.equal(body.meta.version, '1.0');
      assert.equal(body.meta.tenant, tenant);
      assert.match(body.meta.timestamp, /Z$/);
      // canonical: re-encoding what was sent gives the same bytes
      assert.equal(td.decode(q.encode({ meta: body.meta, payloadJson: payloadText })), e.body);
      assert.equal(e.bodyBytes, Buffer.byteLength(e.body));
    } else {
      assert.equal(e.bodyBytes, 0);
      assert.equal(e.body, '');
      assert.equal(e.headers['content-type'], undefined);
      assert.equal(e.headers['content-length'], undefined);
      // exactly one parameter, encodeURIComponent of the compact payload
      assert.equal(e.query, `envelope_data=${encodeURIComponent(payloadText)}`);
      const decoded = new URLSearchParams(e.query).get('envelope_data');
      assert.equal(decoded, payloadText);
      assert.deepEqual(JSON.parse(decoded), PAYLOAD);
    }
    // the reply: payload echoed, meta keeps request id and tenant
    assert.deepEqual(reply.payload, PAYLOAD);
    assert.equal(reply.meta.request_id, rid);
    assert.equal(reply.requestId, rid);
    assert.equal(reply.meta.tenant, tenant);
    assert.equal(reply.meta.version, '1.0');
    assert.equal(reply.error, undefined);
  });
}

test('GET on a route with its own query appends envelope_data with &', T(5000), async () => {
  const c = mk();
  const r = await c.send({ payload: { k: 'v&w' } }, { method: 'get', route: '/echo?x=1' });
  assert.equal(last().path, '/echo');
  assert.equal(last().query, `x=1&envelope_data=${encodeURIComponent('{"k":"v&w"}')}`);
  assert.deepEqual(r.payload, { k: 'v&w' });
});

test('configured method and route are used when the call names none', T(5000), async () => {
  const c = mk({ rest: { method: 'PUT', route: '/echo' } });
  await c.send({ payload: 7 });
  assert.equal(srv.stats.count('PUT', '/echo'), 1);
});

// wire-format.md §4: the server answers 413 when the names and values of the request headers
// pass 65,536 bytes; the URL, and the GET/DELETE envelope_data query in it, is bounded apart.
test('GET: a 64 KB payload in envelope_data is sent (the URL is not a header); past the URL bound → TOO_LARGE, nothing sent', T(5000), async () => {
  const c = mk();
  const big = 'x'.repeat(65400);   // a URL of about 65,450 bytes: under 64 KiB, but not with the headers added
  const r = await c.send({ payload: big }, { method: 'GET' });
  assert.equal(r.payload, big);
  assert.equal(srv.stats.total, 1);
  await rejectsWith(c.send({ payload: 'x'.repeat(530000) }, { method: 'GET' }), { code: 'TOO_LARGE', path: 'url', source: 'local' });
  await sleep(20);
  assert.equal(srv.stats.total, 1);
});

test('limits.max_header_bytes counts names and values as the server does: 65,536 is sent, 65,537 refused locally', T(10000), async () => {
  const recs = [];
  const c = mk({ log: { level: 'debug' } }, { log: (r) => recs.push(r) });
  const meta = { timestamp: '2026-01-02T03:04:05.123456789Z', tenant: 't' };
  const send = (n) => c.send({ meta, payload: 1 }, { headers: { 'x-pad': 'a'.repeat(n) } });
  await send(1);
  // the client's own headers (the plan's, as logged) against what the host adds (Host, User-Agent, ...)
  const mine = new Set(recs.find((r) => r.event === 'rest.send').headers.map((n) => n.toLowerCase()));
  const raw = last().rawHeaders;
  let own = 0, host = 0;
  for (let k = 0; k < raw.length; k += 2) {
    const n = Buffer.byteLength(raw[k], 'latin1') + Buffer.byteLength(raw[k + 1], 'latin1');
    if (mine.has(raw[k].toLowerCase())) own += n; else host += n;
  }
  const pad = 65536 - (own - 1);   // own headers of exactly 65,536 bytes
  await rejectsWith(send(pad + 1), { code: 'TOO_LARGE', path: 'headers', source: 'local' });
  assert.equal(srv.stats.total, 1);
  // sent; the host's own headers then take the server past its line
  await rejectsWith(send(pad), { code: 'REQUEST_HEADERS_TOO_LARGE', status: 413, source: 'envelope' });
  assert.equal(srv.stats.total, 2);
  const r = await send(pad - host);   // 65,536 bytes at the server, the host's included
  assert.equal(r.payload, 1);
});

test('a server\'s error message holding U+0000 comes back whole', T(5000), async () => {
  const c = mk({ retry: { max_attempts: 1 } });
  for (const m of ['a\u0000b\u0000\u0000c', '\u0000', 'x\u0000' + 'é'.repeat(90)]) {
    srv.setFault({ status: 400, envelope: true, code: 'E', message: m });
    const e = await rejectsWith(c.send({ payload: 1 }), { code: 'E', source: 'envelope', status: 400 });
    assert.equal(e.message, m);
  }
});

// wire-format.md §6: user-facing error text is at most 200 characters, counted as Rust's chars()
// counts them (Unicode scalar values), cut at a whole character
test('a server\'s error message is cut at 200 characters, not bytes', T(5000), async () => {
  const c = mk({ retry: { max_attempts: 1 } });
  for (const [m, want] of [['é'.repeat(300), 'é'.repeat(200)], ['😀'.repeat(200), '😀'.repeat(200)], ['😀'.repeat(201), '😀'.repeat(200)],
    ['x'.repeat(199) + '€😀', 'x'.repeat(199) + '€'], ['\u0000'.repeat(250), '\u0000'.repeat(200)]]) {
    srv.setFault({ status: 400, envelope: true, code: 'E', message: m });
    const e = await rejectsWith(c.send({ payload: 1 }), { code: 'E', source: 'envelope' });
    assert.equal(e.message, want);
  }
});

// ---------------------------------------------------------------------------------------- headers

test('X-Qollective-Request-Id: lowercase UUID equal to body meta.request_id (also for a caller-given upper-case id)', T(5000), async () => {
  const c = mk();
  await c.send({ payload: 1 });
  const e = last();
  assert.match(e.headers['x-qollective-request-id'], UUID_V7);
  assert.equal(JSON.parse(e.body).meta.request_id, e.headers['x-qollective-request-id']);
  const given = '0190A3F2-1234-7ABC-8DEF-0123456789AB';
  const r = await c.send({ meta: { request_id: given }, payload: 1 });
  assert.equal(last().headers['x-qollective-request-id'], given.toLowerCase());
  assert.equal(JSON.parse(last().body).meta.request_id, given.toLowerCase());
  assert.equal(r.meta.request_id, given.toLowerCase());
});

test('X-Qollective-Tenant: padded standard Base64 of the UTF-8 tenant', T(5000), async () => {
  const c = mk();
  for (const tenant of ['ärger-🚀', 'a', 'ab', 'abc', 'abcd', '??>>']) {
    const r = await c.send({ meta: { tenant }, payload: null });
    const h = last().headers['x-qollective-tenant'];
    assert.equal(h, b64(tenant), tenant);
    assert.equal(Buffer.from(h, 'base64').toString('utf8'), tenant);
    assert.equal(r.meta.tenant, tenant, 'the server decoded it back');
  }
  assert.equal(b64('a'), 'YQ==');   // the padding cases really are 2, 1 and 0 '='
  assert.equal(last().headers['x-qollective-tenant'], 'Pz8+Pg==');   // '+' and '/' alphabet, not URL-safe
  // the configured default tenant fills in when the envelope has none
  const d = mk({ meta: { tenant: 'dflt-ü' } });
  const r = await d.send({ payload: 1 });
  assert.equal(last().headers['x-qollective-tenant'], b64('dflt-ü'));
  assert.equal(JSON.parse(last().body).meta.tenant, 'dflt-ü');
  assert.equal(r.meta.tenant, 'dflt-ü');
  // no tenant at all → no header
  await c.send({ payload: 1 });
  assert.equal(last().headers['x-qollective-tenant'], undefined);
});

test('X-Qollective-Version and X-Qollective-Timestamp', T(5000), async () => {
  const c = mk();
  const t0 = Date.now();
  await c.send({ payload: 1 });
  const e = last(), body = JSON.parse(e.body);
  assert.equal(e.headers['x-qollective-version'], 'MS4w');
  assert.equal(Buffer.from('MS4w', 'base64').toString(), '1.0');
  const ts = e.headers['x-qollective-timestamp'];
  assert.match(ts, PLUS00);
  assert.equal(Date.parse(ts), Date.parse(body.meta.timestamp));
  assert.ok(Math.abs(Date.parse(ts) - t0) < 5000);
  // a caller-given timestamp with an offset: same instant in both places
  await c.send({ meta: { timestamp: '2024-01-01T12:00:00.5+02:00' }, payload: 1 });
  assert.equal(last().headers['x-qollective-timestamp'], '2024-01-01T10:00:00.500+00:00');
  assert.equal(Date.parse(JSON.parse(last().body).meta.timestamp), Date.parse('2024-01-01T10:00:00.500Z'));
  // the header is the body's canonical Z form with +00:00: whole seconds, 6 and 9 fraction
  // digits, a leap second, an offset crossing midnight
  for (const [given, header] of [
    ['2024-01-01T12:00:00Z', '2024-01-01T12:00:00+00:00'],
    ['2024-02-29t23:59:59.000001-00:30', '2024-03-01T00:29:59.000001+00:00'],
    ['2016-12-31T23:59:60.999999999Z', '2016-12-31T23:59:60.999999999+00:00'],
  ]) {
    await c.send({ meta: { timestamp: given }, payload: 1 });
    assert.equal(last().headers['x-qollective-timestamp'], header, given);
    assert.equal(JSON.parse(last().body).meta.timestamp, header.replace('+00:00', 'Z'), given);
  }
});

test('user/session ids from meta.security, trace/span ids from meta.tracing; X-On-Behalf-Of JSON', T(5000), async () => {
  const c = mk();
  const obo = { originalUser: 'jürgen 😀', delegatingUser: 'd "q" \\', delegatingTenant: 'ümlaut' };
  const r = await c.send({
    meta: {
      security: { user_id: 'user-1', session_id: 'sess-2' },
      tracing: { trace_id: 'trace-3', span_id: 'span-4' },
      on_behalf_of: obo,
    },
    payload: 1,
  });
  const h = last().headers;
  assert.equal(h['x-qollective-user-id'], 'user-1');
  assert.equal(h['x-qollective-session-id'], 'sess-2');
  assert.equal(h['x-qollective-trace-id'], 'trace-3');
  assert.equal(h['x-qollective-span-id'], 'span-4');
  const ob = h['x-on-behalf-of'];
  assert.match(ob, /^[\x20-\x7e]+$/, 'ASCII only');
  assert.ok(ob.includes('\\u00fc'), ob);
  assert.ok(ob.includes('\\ud83d\\ude00'), ob);
  assert.deepEqual(Object.keys(JSON.parse(ob)), ['originalUser', 'delegatingUser', 'delegatingTenant']);
  assert.deepEqual(JSON.parse(ob), obo);
  // the server read them from the headers and echoes them
  assert.deepEqual(r.meta.on_behalf_of, obo);
  assert.equal(r.meta.security.user_id, 'user-1');
  assert.equal(r.meta.tracing.trace_id, 'trace-3');
  // the body carries the server-required arrays even though the caller gave none
  const sec = JSON.parse(last().body).meta.security;
  assert.deepEqual(sec.permissions, []);
  assert.deepEqual(sec.roles, []);
  // none of these headers when meta has none
  await c.send({ payload: 1 });
  for (const k of ['x-qollective-user-id', 'x-qollective-session-id', 'x-qollective-trace-id', 'x-qollective-span-id', 'x-on-behalf-of']) {
    assert.equal(last().headers[k], undefined, k);
  }
});

test('X-On-Behalf-Of with DEL (U+007F) stays a valid header value and parses back', T(5000), async () => {
  const c = mk();
  const obo = { originalUser: 'a\u007fb', delegatingUser: 'x', delegatingTenant: 'y' };
  const r = await c.send({ meta: { on_behalf_of: obo }, payload: 1 });
  const ob = last().headers['x-on-behalf-of'];
  assert.match(ob, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(ob), obo);
  assert.deepEqual(r.meta.on_behalf_of, obo);
});

test('configured default headers and per-call headers; a per-call header replaces the default of that name', T(5000), async () => {
  const c = mk({ rest: { headers: { 'X-App': 'demo', 'X-Env': 'test' } } });
  await c.send({ payload: 1 }, { headers: { 'X-Call': 'c1' } });
  let h = last().headers;
  assert.equal(h['x-app'], 'demo');
  assert.equal(h['x-env'], 'test');
  assert.equal(h['x-call'], 'c1');
  await c.send({ payload: 1 });
  assert.equal(last().headers['x-call'], undefined);
  await c.send({ payload: 1 }, { headers: { 'x-app': 'override' } });
  h = last().headers;
  assert.equal(h['x-app'], 'override');
  assert.equal(h['x-env'], 'test');
});

test('headers the client owns cannot be set by the caller (no silent "uuid, nope" duplicates)', T(5000), async () => {
  const c = mk();
  for (const name of ['X-Qollective-Request-Id', 'content-type', 'X-Qollective-Tenant', 'X-On-Behalf-Of']) {
    await rejectsWith(c.send({ payload: 1 }, { headers: { [name]: 'nope' } }), { code: 'INVALID_VALUE', path: 'options.headers' });
  }
  await rejectsWith(mk({ rest: { headers: { 'X-Qollective-Version': 'x' } } }).send({ payload: 1 }), { code: 'INVALID_VALUE', path: 'rest.headers' });
  // Authorization belongs to the client only when it sends a configured token
  const a = mk({ security: { auth_token: 'api' } });
  a.setToken('api', 't');
  await rejectsWith(a.send({ payload: 1 }, { headers: { authorization: 'Basic x' } }), { code: 'INVALID_VALUE', path: 'options.headers' });
  await sleep(20);
  assert.equal(srv.stats.total, 0);
  // without a configured token it is the caller's header like any other
  await mk().send({ payload: 1 }, { headers: { Authorization: 'Basic x' } });
  assert.equal(last().headers.authorization, 'Basic x');
});

test('bad per-call header name or value → INVALID_VALUE, nothing sent', T(5000), async () => {
  const c = mk();
  await rejectsWith(c.send({ payload: 1 }, { headers: { 'Bad Name': 'v' } }), { code: 'INVALID_VALUE', path: 'options.headers' });
  await rejectsWith(c.send({ payload: 1 }, { headers: { 'X-V': 'a\nb' } }), { code: 'INVALID_VALUE', path: 'options.headers' });
  await rejectsWith(c.send({ payload: 1 }, { headers: { 'X-V': 'ü' } }), { code: 'INVALID_VALUE' });
  await sleep(20);
  assert.equal(srv.stats.total, 0);
});

test('user_id with a newline, non-ASCII or edge whitespace → INVALID_VALUE naming meta.security.user_id, nothing sent', T(5000), async () => {
  const c = mk();
  for (const user_id of ['a\nb', 'jörg', 'a\rb', ' padded ']) {
    const err = await rejectsWith(c.send({ meta: { security: { user_id } }, payload: { secret: 'PAYLOAD-SECRET' } }),
      { code: 'INVALID_VALUE', path: 'meta.security.user_id', type: 'validation' });
    assert.match(err.message, /meta\.security\.user_id/);
    assert.ok(!err.message.includes(user_id.trim()), 'the value is not echoed');
    assert.ok(!err.message.includes('PAYLOAD-SECRET'));
  }
  await rejectsWith(c.send({ meta: { tracing: { trace_id: 't\u0001' } }, payload: 1 }), { code: 'INVALID_VALUE', path: 'meta.tracing.trace_id' });
  await rejectsWith(c.send({ meta: { security: { session_id: 'ß' } }, payload: 1 }), { code: 'INVALID_VALUE', path: 'meta.security.session_id' });
  await sleep(20);
  assert.equal(srv.stats.total, 0);
});

// ---------------------------------------------------------------------------------------- auth

test('Authorization: Bearer <token> from the token store; NO_TOKEN when missing; clearToken', T(5000), async () => {
  const c = mk({ security: { auth_token: 'api' } });
  await rejectsWith(c.send({ payload: 1 }), { code: 'NO_TOKEN', type: 'security', path: 'security.auth_token' });
  assert.equal(srv.stats.total, 0);
  c.setToken('api', 'tok-SECRET-1');
  await c.send({ payload: 1 });
  assert.equal(last().headers.authorization, 'Bearer tok-SECRET-1');
  assert.ok(!JSON.stringify(c.config).includes('tok-SECRET-1'), 'config never shows the value');
  c.setToken('api', 'tok-2');
  await c.send({ payload: 1 }, { method: 'GET' });
  assert.equal(last().headers.authorization, 'Bearer tok-2');
  assert.equal(c.clearToken('api'), true);
  assert.equal(c.clearToken('api'), false);
  const err = await rejectsWith(c.send({ payload: 1 }), { code: 'NO_TOKEN' });
  assert.ok(!err.message.includes('tok-'));
  assert.equal(srv.stats.total, 2);
  // no auth configured → no header even when tokens are set
  const d = mk();
  d.setToken('api', 'unused');
  await d.send({ payload: 1 });
  assert.equal(last().headers.authorization, undefined);
  // a custom scheme
  const e = mk({ security: { auth_token: 'k', auth_scheme: 'Token' } });
  e.setToken('k', 'abc');
  await e.send({ payload: 1 });
  assert.equal(last().headers.authorization, 'Token abc');
  // invalid token values are refused at setToken
  assert.throws(() => e.setToken('k', 'has space'), (x) => x instanceof QollectiveError && x.code === 'INVALID_VALUE');
  assert.throws(() => e.setToken('k', 'ü'), (x) => x instanceof QollectiveError && x.code === 'INVALID_VALUE');
});

test('auth provider is consulted on every request: a rotated token reaches the server', T(5000), async () => {
  let calls = 0;
  const c = mk({ security: { auth_token: 'api' } }, { auth: async () => ({ name: 'api', token: `rot-${++calls}` }) });
  for (let i = 1; i <= 3; i++) {
    await c.send({ payload: i }, { method: i === 2 ? 'GET' : 'POST' });
    assert.equal(last().headers.authorization, `Bearer rot-${i}`);
  }
  assert.equal(calls, 3);
  // a provider that returns nothing keeps the stored token
  let give = true;
  const d = mk({ security: { auth_token: 'api' } }, { auth: async () => (give ? { name: 'api', token: 'once' } : null) });
  await d.send({ payload: 1 });
  give = false;
  await d.send({ payload: 1 });
  assert.equal(last().headers.authorization, 'Bearer once');
});

test('an auth provider that throws rejects with a QollectiveError (cause kept), nothing sent', T(5000), async () => {
  const boom = new Error('idp down');
  const c = mk({ security: { auth_token: 'api' } }, { auth: async () => { throw boom; } });
  const err = await rejectsWith(c.send({ payload: 1 }), { code: 'NO_TOKEN', type: 'security' });
  assert.equal(err.cause, boom);
  assert.equal(srv.stats.total, 0);
});

// ---------------------------------------------------------------------------------------- error classes

test('error envelope from /fail → HANDLER_ERROR, 400, validation, details, requestId', T(5000), async () => {
  const c = mk();
  const err = await rejectsWith(c.send({ payload: 1 }, { route: '/fail' }), {
    code: 'HANDLER_ERROR', status: 400, type: 'validation', retryable: false, retryPolicy: 'none',
    details: { operation: 'handler_execution' },
  });
  assert.match(err.message, /intentional failure on \/fail/);
  assert.equal(err.requestId, last().headers['x-qollective-request-id']);
  assert.equal(srv.stats.total, 1, 'GET-safe or not, a 400 is never retried');
});

test('plain 404 → HTTP_STATUS 404, message names status and content type', T(5000), async () => {
  const c = mk();
  for (const method of ['POST', 'GET']) {
    const err = await rejectsWith(c.send({ payload: 1 }, { route: '/nowhere', method }), { code: 'HTTP_STATUS', status: 404, retryable: false });
    assert.match(err.message, /404/);
    assert.match(err.message, /text\/plain/);
    assert.match(err.requestId, UUID_V7);
  }
  assert.equal(srv.stats.total, 2);
});

test('415 from a wrong content type and 422/413 plain texts → HTTP_STATUS validation', T(5000), async () => {
  const c = mk();
  // (the client never sends another content type, so 415/422 plain texts come from fault injection)
  const err415 = await rejectsWith(c.send({ payload: 1 }, { headers: { 'X-Test-Fault': 'status=415;envelope=false' } }),
    { code: 'HTTP_STATUS', status: 415, type: 'validation' });
  assert.match(err415.message, /415/);
  const e422 = await rejectsWith(c.send({ payload: 1 }, { headers: { 'X-Test-Fault': 'status=422;envelope=false' } }),
    { code: 'HTTP_STATUS', status: 422, type: 'validation', retryable: false });
  assert.match(e422.message, /^HTTP 422 without an envelope \(text\/plain, \d+ bytes\)$/);   // never body bytes
  // the real 413: a body over the server's 2 MB limit
  const big = mk({ limits: { max_envelope_bytes: 4 * 1048576 } });
  await rejectsWith(big.send({ payload: 'y'.repeat(2 * 1048576 + 10) }), { code: 'HTTP_STATUS', status: 413, type: 'validation' });
  assert.equal(srv.stats.total, 3);
});

test('HTML 502 from a proxy → typed error naming status 502 and text/html', T(5000), async () => {
  const c = mk();
  srv.setFault({ html502: true });
  const err = await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 502, type: 'remote', retryable: true });
  assert.match(err.message, /502/);
  assert.match(err.message, /text\/html/);
  assert.doesNotMatch(err.message, /Bad Gateway/);   // the size, never the bytes
  assert.equal(err.details, null);
  // the same for a GET that exhausts its retries
  const g = mk({ retry: { max_attempts: 2 } });
  const e2 = await rejectsWith(g.send({ payload: 1 }, { method: 'GET' }), { code: 'HTTP_STATUS', status: 502 });
  assert.match(e2.message, /text\/html/);
  srv.setFault({ html504: true });
  await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 504, message: /text\/html/ });
});

test('5xx with an envelope vs 5xx plain text', T(5000), async () => {
  const c = mk();
  srv.setFault({ status: 503, envelope: true });
  const a = await rejectsWith(c.send({ payload: 1 }), { code: 'SERVICE_UNAVAILABLE', status: 503, type: 'remote', retryable: true });
  assert.match(a.message, /Injected fault: 503/);
  assert.deepEqual(a.details, { operation: 'fault_injection' });
  srv.setFault({ status: 503, envelope: false });
  const b = await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 503, retryable: true, details: null });
  assert.match(b.message, /^HTTP 503 without an envelope \(text\/plain, \d+ bytes\)$/);
  // an error envelope without http_status_code: REST knows the real status
  srv.setFault({ status: 500, statusInBody: false, code: 'CUSTOM_THING' });
  await rejectsWith(c.send({ payload: 1 }), { code: 'CUSTOM_THING', status: 500 });
});

test('malformed 200 body → NOT_AN_ENVELOPE; oversized 200 body → limit error', T(5000), async () => {
  const c = mk();
  srv.setFault({ malformed: true });
  const a = await rejectsWith(c.send({ payload: 1 }), { code: 'NOT_AN_ENVELOPE', status: 200, type: 'deserialization' });
  assert.match(a.message, /application\/json/);
  srv.setFault({ oversized: true });
  const b = await rejectsWith(c.send({ payload: 1 }), { code: 'NOT_AN_ENVELOPE' });
  assert.match(b.message, /limit/);
  // a client whose limit allows it takes the same reply
  const big = mk({ limits: { max_envelope_bytes: 4 * 1048576 } });
  const r = await big.send({ payload: 1 });
  assert.ok(r.payload.blob.length > 2 * 1048576 - 1000);
});

test('replies as written by a server or a proxy, byte for byte: the body decides, never the media type (wire-format.md §4)', T(5000), async () => {
  // a raw server on 127.0.0.1 that answers each request with the next [status, content type, body]
  let replies = [];
  const raw = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [status, type, body] = replies.shift();
      res.writeHead(status, type ? { 'content-type': type } : {});
      res.end(body);
    });
  });
  await new Promise((r) => raw.listen(0, '127.0.0.1', r));
  try {
    const c = mk({ rest: { base_url: `http://127.0.0.1:${raw.address().port}` } });
    // a success with sorted keys, unknown keys at every level and no server-required arrays
    const sorted = '{"meta":{"security":{"user_id":"u","zz":1},"version":"1.0","zz":[1]},"payload":{"b":[1],"a":null},"zz":{}}';
    for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', null]) {
      replies = [[200, type, sorted]];
      const r = await c.send({ payload: 1 });
      assert.deepEqual(r.payload, { b: [1], a: null }, String(type));
      assert.equal(r.meta.security.user_id, 'u');
    }
    // a 2xx that is not an envelope: NOT_AN_ENVELOPE with the status and what was wrong
    replies = [[200, 'application/json', '']];
    let e = await rejectsWith(c.send({ payload: 1 }), { code: 'NOT_AN_ENVELOPE', status: 200, type: 'deserialization' });
    assert.match(e.message, /^HTTP 200 response is not a valid envelope \(application\/json\): empty input at byte 0$/);
    replies = [[204, null, '']];
    e = await rejectsWith(c.send({ payload: 1 }), { code: 'NOT_AN_ENVELOPE', status: 204 });
    assert.match(e.message, /\(no content type\): empty input/);
    replies = [[200, 'application/json', '{"meta":{}}']];
    e = await rejectsWith(c.send({ payload: 1 }), { code: 'NOT_AN_ENVELOPE', status: 200, path: 'response' });
    assert.match(e.message, /payload: required field missing/);
    // an error status whose body is truncated JSON or JSON that is no envelope: the status, never a parse failure
    replies = [[500, 'application/json', '{"meta":{},"payload":null,"error":{"co']];
    e = await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 500, type: 'remote', source: 'http', details: null });
    assert.match(e.message, /^HTTP 500 without an envelope \(application\/json, 38 bytes\)$/);
    replies = [[400, 'application/json', '{"message":"nope"}']];
    e = await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 400, type: 'validation' });
    assert.match(e.message, /^HTTP 400 without an envelope \(application\/json, 18 bytes\)$/);
    // the oversized head answer (431) and an empty 404
    replies = [[431, 'text/plain', 'Request Header Fields Too Large']];
    await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 431, message: /^HTTP 431 without an envelope \(text\/plain, 31 bytes\)$/ });
    replies = [[404, null, '']];
    await rejectsWith(c.send({ payload: 1 }), { code: 'HTTP_STATUS', status: 404, message: /^HTTP 404 without an envelope \(no content type, 0 bytes\)$/ });
    // the server's 400 for bad Base64 and its 413 for oversized headers, error envelopes sorted by key
    replies = [[400, 'application/json', '{"error":{"code":"HANDLER_ERROR","message":"Invalid base64 in header"},"meta":{},"payload":null}']];
    await rejectsWith(c.send({ payload: 1 }), { code: 'HANDLER_ERROR', status: 400, type: 'validation', source: 'envelope', message: 'Invalid base64 in header' });
    replies = [[413, 'application/json', '{"error":{"code":"REQUEST_HEADERS_TOO_LARGE","details":{"error_type":"size_limit","operation":"header_parsing"},"http_status_code":413,"message":"Headers too large"},"meta":{},"payload":null}']];
    await rejectsWith(c.send({ payload: 1 }), { code: 'REQUEST_HEADERS_TOO_LARGE', status: 413, details: { error_type: 'size_limit', operation: 'header_parsing' } });
    // a service's own code, however long the constants allow (Q_MAX_ERROR_CODE_CHARS 128), comes back whole
    const custom = 'PAYMENT_PROVIDER_' + 'X'.repeat(128 - 'PAYMENT_PROVIDER_'.length);
    replies = [[402, 'application/json', `{"error":{"code":"${custom}","message":"declined"},"meta":{},"payload":null}`]];
    await rejectsWith(c.send({ payload: 1 }), { code: custom, status: 402, source: 'envelope', message: 'declined' });
    assert.equal(replies.length, 0, 'one request per reply: none of these was retried');
  } finally {
    await new Promise((r) => raw.close(r));
  }
});

test('connection reset / reset mid-body / truncated body → clean NETWORK errors', T(5000), async () => {
  const c = mk();
  for (const fault of [{ reset: true }, { resetMidBody: true }, { truncate: true }]) {
    srv.reset();
    srv.setFault(fault);
    await rejectsWith(c.send({ payload: 1 }), { code: 'NETWORK', type: 'connection', status: null, retryable: true });
    assert.equal(srv.stats.total, 1, `${JSON.stringify(fault)}: POST is not retried`);
  }
});

test('no fault ever escapes as a raw SyntaxError/TypeError', T(15000), async () => {
  const c = mk({ retry: { max_attempts: 1 } });
  const faults = [{ html502: true }, { html504: true }, { malformed: true }, { oversized: 3000000 }, { reset: true },
    { resetMidBody: true }, { truncate: true }, { status: 500, envelope: false }, { status: 418 }, { status: 200, envelope: false },
    { status: 204, envelope: false }, { status: 301, envelope: false }];
  for (const fault of faults) {
    for (const method of ['POST', 'GET']) {
      srv.setFault(fault);
      try {
        await c.send({ payload: 1 }, { method });
        assert.fail(`${JSON.stringify(fault)} ${method} resolved`);
      } catch (e) {
        assert.ok(e instanceof QollectiveError, `${JSON.stringify(fault)} ${method}: ${e?.name} ${e?.message}`);
        assert.ok(typeof e.code === 'string' && e.code.length > 0);
        assert.ok(e.message.length <= 200);
      }
    }
  }
});

test('an envelope JSON cannot represent (cycle, a boxed BigInt, not an object) → QollectiveError, nothing sent', T(5000), async () => {
  const c = mk();
  const cyclic = { n: 1n };   // a BigInt is written as its digits (README "64-bit integers"); the cycle still fails
  cyclic.self = cyclic;
  for (const env of [{ payload: Object(1n) }, { payload: cyclic }, { meta: { extensions: { n: cyclic } }, payload: 1 }, null, 'text']) {
    const err = await rejectsWith(c.send(env), { code: 'TYPE_MISMATCH', type: 'validation' });
    if (env && typeof env === 'object') assert.ok(err.cause instanceof TypeError);
  }
  await sleep(20);
  assert.equal(srv.stats.total, 0);
});

// ---------------------------------------------------------------------------------------- timeouts

test('timeout option against the slow handler → TIMEOUT, promptly', T(5000), async () => {
  const c = mk();
  const t0 = performance.now();
  const err = await rejectsWith(c.send({ payload: 1 }, { route: '/slow', timeout: 200 }), { code: 'TIMEOUT', type: 'timeout' });
  const dt = performance.now() - t0;
  assert.ok(dt >= 180 && dt < 1500, `took ${dt} ms`);
  assert.match(err.requestId, UUID_V7);
  assert.equal(srv.stats.total, 1, 'a timeout is not retried: the deadline covers the whole call');
});

test('default timeout from config timeouts.request_ms (delay fault, GET)', T(5000), async () => {
  const c = mk({ timeouts: { request_ms: 250 } });
  assert.equal(c.config.timeouts.request_ms, 250);
  const t0 = performance.now();
  await rejectsWith(c.send({ payload: 1 }, { method: 'GET', headers: { 'X-Test-Fault': 'delay=3000' } }), { code: 'TIMEOUT' });
  const dt = performance.now() - t0;
  assert.ok(dt >= 230 && dt < 1500, `took ${dt} ms`);
  // a per-call timeout wins over the config
  const t1 = performance.now();
  const r = await c.send({ payload: 2 }, { route: '/slow', timeout: 3000 });
  assert.equal(r.payload, 2);
  assert.ok(performance.now() - t1 >= 450);
});

test('the deadline stops retries: a retry that cannot finish in time rejects with the last error at once', T(5000), async () => {
  const c = mk({ retry: { base_delay_ms: 2000, max_delay_ms: 5000 } });
  srv.setFault({ failTimes: 3, status: 503 });
  const t0 = performance.now();
  await rejectsWith(c.send({ payload: 1 }, { method: 'GET', timeout: 500 }), { code: 'SERVICE_UNAVAILABLE', status: 503 });
  assert.ok(performance.now() - t0 < 400);
  assert.equal(srv.stats.total, 1);
});

// ---------------------------------------------------------------------------------------- abort

test('abort before send: ABORTED, nothing reaches the server, cause is the reason', T(5000), async () => {
  const c = mk();
  const ac = new AbortController();
  const reason = new Error('user left');
  ac.abort(reason);
  const err = await rejectsWith(c.send({ payload: 1 }, { signal: ac.signal }), { code: 'ABORTED', type: 'aborted', retryable: false });
  assert.equal(err.cause, reason);
  await sleep(50);
  assert.equal(srv.stats.total, 0);
});

test('abort during the request: ABORTED promptly', T(5000), async () => {
  const c = mk();
  const ac = new AbortController();
  const p = c.send({ payload: 1 }, { route: '/slow', signal: ac.signal, method: 'GET' });
  await srv.waitForRequests(1, { timeout: 2000 });
  const t0 = performance.now();
  ac.abort();
  await rejectsWith(p, { code: 'ABORTED' });
  assert.ok(performance.now() - t0 < 300);
  await sleep(50);
  assert.equal(srv.stats.total, 1);
  assert.equal(last().outcome, 'aborted', 'the server saw the connection go');
});

test('abort during retry backoff: ABORTED promptly, no further attempt', T(5000), async () => {
  const c = mk({ retry: { base_delay_ms: 5000, max_delay_ms: 10000 } });
  srv.setFault({ failTimes: 3, status: 503 });
  const ac = new AbortController();
  const p = c.send({ payload: 1 }, { method: 'GET', signal: ac.signal });
  await srv.waitForRequests(1, { timeout: 2000 });
  await sleep(100);   // the 503 arrived; the client is now waiting 5 s to retry
  const t0 = performance.now();
  ac.abort();
  await rejectsWith(p, { code: 'ABORTED' });
  assert.ok(performance.now() - t0 < 300);
  await sleep(100);
  assert.equal(srv.stats.total, 1);
});

// ---------------------------------------------------------------------------------------- retries

test('GET with failTimes=2 (503) succeeds on the 3rd attempt; the same request id each time', T(5000), async () => {
  const c = mk();
  srv.setFault({ failTimes: 2, status: 503 });
  const r = await c.send({ payload: { v: 1 } }, { method: 'GET' });
  assert.deepEqual(r.payload, { v: 1 });
  assert.equal(srv.stats.count('GET', '/envelope'), 3);
  const ids = srv.stats.requests.map((e) => e.headers['x-qollective-request-id']);
  assert.equal(new Set(ids).size, 1);
  assert.equal(r.meta.request_id, ids[0]);
});

test('PUT and DELETE are retried by default too', T(5000), async () => {
  const c = mk();
  for (const method of ['PUT', 'DELETE']) {
    srv.reset();
    srv.setFault({ failTimes: 2, status: 503 });
    await c.send({ payload: 1 }, { method });
    assert.equal(srv.stats.count(method), 3, method);
  }
});

test('POST is NOT retried by default; retried with retry_non_idempotent or idempotent:true', T(5000), async () => {
  const c = mk();
  srv.setFault({ failTimes: 2, status: 503 });
  await rejectsWith(c.send({ payload: 1 }), { status: 503, code: 'SERVICE_UNAVAILABLE' });
  assert.equal(srv.stats.total, 1);

  srv.reset();
  srv.setFault({ failTimes: 2, status: 503 });
  await rejectsWith(c.send({ payload: 1 }, { method: 'PATCH' }), { code: 'SERVICE_UNAVAILABLE', status: 503 });
  assert.equal(srv.stats.total, 1, 'PATCH neither');

  srv.reset();
  srv.setFault({ failTimes: 2, status: 503 });
  const d = mk({ retry: { retry_non_idempotent: true } });
  assert.equal((await d.send({ payload: 2 })).payload, 2);
  assert.equal(srv.stats.count('POST'), 3);

  srv.reset();
  srv.setFault({ failTimes: 2, status: 503 });
  assert.equal((await c.send({ payload: 3 }, { idempotent: true })).payload, 3);
  assert.equal(srv.stats.count('POST'), 3);
});

test('4xx is never retried (GET, retry_non_idempotent, idempotent)', T(5000), async () => {
  const c = mk({ retry: { retry_non_idempotent: true } });
  for (const status of [400, 401, 403, 404, 409, 422]) {
    for (const envelope of [true, false]) {
      srv.reset();
      srv.setFault({ failTimes: 5, status, envelope });
      const err = await rejectsWith(c.send({ payload: 1 }, { method: 'GET', idempotent: true }), { status, retryable: false });
      if (!envelope) assert.equal(err.code, 'HTTP_STATUS');
      else assert.notEqual(err.code, 'HTTP_STATUS', 'the envelope\'s own code');
      assert.equal(srv.stats.total, 1, `${status} envelope=${envelope}`);
    }
  }
});

test('max_attempts is respected: failTimes=10 → exactly max_attempts requests', T(5000), async () => {
  for (const max of [1, 4]) {
    srv.reset();
    const c = mk({ retry: { max_attempts: max } });
    srv.setFault({ failTimes: 10, status: 503 });
    await rejectsWith(c.send({ payload: 1 }, { method: 'GET' }), { code: 'SERVICE_UNAVAILABLE', status: 503 });
    assert.equal(srv.stats.total, max);
  }
});

test('Retry-After is honoured (429, 1 s)', T(5000), async () => {
  const c = mk();
  srv.setFault({ failTimes: 1, status: 429, retryAfter: 1 });
  const t0 = performance.now();
  const r = await c.send({ payload: 'ra' }, { method: 'GET' });
  assert.equal(r.payload, 'ra');
  assert.ok(performance.now() - t0 >= 980);
  assert.equal(srv.stats.total, 2);
  const [a, b] = srv.stats.requests;
  assert.equal(a.status, 429);
  assert.ok(b.time - a.time >= 950, `gap ${b.time - a.time} ms`);
});

test('network failure (nothing listening): GET retried with exponential backoff, then NETWORK', T(5000), async () => {
  const port = await new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const calls = [];
  const counting = await Qollective.load(WASM, { fetch: (...a) => { calls.push(performance.now()); return fetch(...a); } });
  const c = mk({ rest: { base_url: `http://127.0.0.1:${port}` }, retry: { max_attempts: 4, base_delay_ms: 50, max_delay_ms: 1000 } }, {}, counting);
  const err = await rejectsWith(c.send({ payload: 1 }, { method: 'GET' }), { code: 'NETWORK', type: 'connection', retryPolicy: 'exponential' });
  assert.match(err.requestId, UUID_V7);
  assert.equal(calls.length, 4);
  const gaps = calls.slice(1).map((t, i) => t - calls[i]);
  assert.ok(gaps[0] >= 45 && gaps[1] >= 95 && gaps[2] >= 195, `gaps ${gaps.map(Math.round)}: 50, 100, 200 expected`);
  // a POST to the same place is tried once
  calls.length = 0;
  await rejectsWith(c.send({ payload: 1 }), { code: 'NETWORK' });
  assert.equal(calls.length, 1);
});

// ---------------------------------------------------------------------------------------- concurrency

test('1,000 requests in flight at once: all resolve, distinct ids, replies to the right caller, table empties', T(15000), async () => {
  const c = mk({ limits: { max_in_flight: 1000 } });
  const batch = async () => {
    const sends = [];
    for (let i = 0; i < 1000; i++) sends.push(c.send({ payload: { i, s: `p${i}` } }, { method: i % 2 ? 'GET' : 'POST' }));
    const replies = await Promise.all(sends);
    replies.forEach((r, i) => assert.deepEqual(r.payload, { i, s: `p${i}` }));
    const ids = new Set(replies.map((r) => r.meta.request_id));
    assert.equal(ids.size, 1000);
    return ids;
  };
  await batch();                                   // warm-up: the table grows to its high-water mark
  const before = q.memoryStats().persistent;
  srv.reset();
  const ids = await batch();                       // a second full batch fits: nothing was left in the table
  assert.equal(srv.stats.total, 1000);
  assert.deepEqual(new Set(srv.stats.requests.map((e) => e.headers['x-qollective-request-id'])), ids);
  assert.equal(q.memoryStats().persistent, before);
});

test('limits.max_in_flight = 5: the 6th concurrent send rejects LIMIT_REACHED while the first 5 complete', T(5000), async () => {
  const c = mk({ limits: { max_in_flight: 5 } });
  const first = [];
  for (let i = 0; i < 5; i++) first.push(c.send({ payload: i }, { route: '/slow' }));
  await rejectsWith(c.send({ payload: 5 }), { code: 'LIMIT_REACHED', path: 'limits.max_in_flight' });
  const r = await Promise.all(first);
  assert.deepEqual(r.map((e) => e.payload), [0, 1, 2, 3, 4]);
  assert.equal(srv.stats.total, 5);
  assert.equal((await c.send({ payload: 6 })).payload, 6, 'slots are free again');
});

test('request ids stay valid over 5,000 requests on one client (generation wrap-around)', T(10000), async () => {
  // An in-process fetch that echoes the request envelope: no network, so thousands are cheap.
  const echo = await Qollective.load(WASM, {
    fetch: async (url, init) => new Response(init.body, { status: 200, headers: { 'content-type': 'application/json' } }),
  });
  const c = echo.client({ rest: { base_url: 'http://127.0.0.1:9' } });
  try {
    for (let i = 0; i < 5000; i++) {
      const r = await c.send({ payload: i });
      if (r.payload !== i) assert.fail(`request ${i}: got ${r.payload}`);
    }
  } finally { c.close(); }
});

test('a failure on the host side mid-request (no memory for the reply) still frees its in-flight slot', T(5000), async () => {
  const small = await Qollective.load(WASM, { memoryLimit: 2 * 1048576 });
  const c = small.client({ rest: { base_url: srv.url }, limits: { max_in_flight: 1, max_envelope_bytes: 8 * 1048576 } });
  try {
    srv.setFault({ oversized: 3000000, failTimes: 1 });
    await rejectsWith(c.send({ payload: 1 }), { code: 'OUT_OF_MEMORY' });
    assert.equal((await c.send({ payload: 2 })).payload, 2, 'not LIMIT_REACHED: the slot was released');
  } finally { c.close(); }
});

// ---------------------------------------------------------------------------------------- lifecycle and config

test('client.close() then send → clear error; close is idempotent', T(5000), async () => {
  const c = mk();
  c.close();
  c.close();
  await rejectsWith(c.send({ payload: 1 }), { code: 'BAD_HANDLE', message: /closed/ });
  assert.throws(() => c.setToken('a', 'b'), (e) => e instanceof QollectiveError && e.code === 'BAD_HANDLE');
  assert.equal(srv.stats.total, 0);
});

test('close while a request is in flight → ABORTED, and the request ended in the core before the client was freed', T(5000), async () => {
  const inst = await Qollective.load(WASM);
  const c = mk({}, {}, inst);
  const p = c.send({ payload: 1 }, { route: '/slow' });
  await srv.waitForRequests(1, { timeout: 2000 });
  assert.equal(c.inFlight, 1);
  // watch the free: how many requests did the core still track for this client at that moment?
  const real = inst.x;
  let atFree = null;
  inst.x = { ...real, q_client_free: (h) => { atFree = real.q_rest_in_flight(h); return real.q_client_free(h); } };
  c.close();
  inst.x = real;
  assert.equal(atFree, 0, 'close() ended the request in the core');
  await rejectsWith(p, { code: 'ABORTED', type: 'aborted' });
  assert.equal(inst.memoryStats().clients, 0);
});

test('config errors surface at q.client(): INVALID_URL naming rest.base_url, ORIGIN_DENIED', T(5000), () => {
  const bad = ['http://user:pw@127.0.0.1:1/', 'http://user@127.0.0.1/', 'http://127.0.0.1:1/?a=1', 'http://127.0.0.1/#f',
    'ftp://127.0.0.1/', 'http://127.0.0.1:0/', 'http://127.0.0.1:65536/', 'http:///x', 'http://hö.de/'];
  for (const base_url of bad) {
    assert.throws(() => q.client({ rest: { base_url } }), (e) => {
      assert.ok(e instanceof QollectiveError);
      assert.equal(e.code, 'INVALID_URL', base_url);
      assert.equal(e.path, 'rest.base_url');
      assert.match(e.message, /rest\.base_url/);
      assert.ok(!e.message.includes('pw@'), 'credentials are not echoed');
      return true;
    });
  }
  const cred = (() => { try { q.client({ rest: { base_url: 'http://user:pw@127.0.0.1:1/' } }); } catch (e) { return e; } })();
  assert.match(cred.message, /credentials/);
  assert.throws(() => q.client({ rest: { base_url: srv.url }, security: { allowed_origins: ['http://example.com'] } }),
    (e) => e instanceof QollectiveError && e.code === 'ORIGIN_DENIED' && e.type === 'security' && e.path === 'rest.base_url');
  const ok = mk({ security: { allowed_origins: ['http://example.com', srv.url.toUpperCase() + '/'] } });
  assert.equal(ok.config.rest.base_url, srv.url);
  assert.equal(q.memoryStats().clients, clients.length);
  // a client without base_url can exist but cannot send
  const none = q.client({});
  clients.push(none);
  return rejectsWith(none.send({ payload: 1 }), { code: 'CONFIG_INVALID', path: 'rest.base_url' });
});

test('close() aborts sends still in flight: they reject with ABORTED, nothing leaks', { timeout: 10000 }, async () => {
  const { startRestServer } = await import('../servers/rest-server.mjs');
  const srv = await startRestServer({ routes: ['/slow'], handlers: { '/slow': { type: 'slow', ms: 3000 } } });
  try {
    const q2 = await Qollective.load(WASM);
    const c = q2.client({ rest: { base_url: srv.url } });
    const started = Date.now();
    const pending = Promise.allSettled([1, 2, 3].map((i) => c.send({ payload: i }, { route: '/slow' })));
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    const res = await pending;
    assert.ok(Date.now() - started < 2000, 'close() did not wait for the server');
    for (const r of res) {
      assert.equal(r.status, 'rejected');
      assert.equal(r.reason.code, 'ABORTED');
      assert.equal(r.reason.type, 'aborted');
    }
    assert.equal(q2.memoryStats().clients, 0);
  } finally { await srv.close(); }
});

test('more than 64 extra headers is a clear LIMIT_REACHED before sending', { timeout: 5000 }, async () => {
  const { startRestServer } = await import('../servers/rest-server.mjs');
  const srv = await startRestServer();
  try {
    const q2 = await Qollective.load(WASM);
    const c = q2.client({ rest: { base_url: srv.url } });
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v']));
    await assert.rejects(c.send({ payload: 1 }, { headers: many }), { code: 'LIMIT_REACHED', path: 'options.headers' });
    delete many['x-h64'];
    assert.equal((await c.send({ payload: 1 }, { headers: many })).payload, 1);
    assert.equal(srv.stats.total, 1);
    c.close();
  } finally { await srv.close(); }
});
