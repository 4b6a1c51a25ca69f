// server.test.mjs — tests the reference REST server itself with plain fetch, so client tests can
// trust it: wire-format.md §4 behaviour, upstream quirks, every fault knob, stats and clean close.

import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRestServer, parseFaultHeader, normalizeFault } from '../servers/rest-server.mjs';
import {
  statusFromCode, statusForError, decodeBase64Strict, parseUuid, isStrictUuid, rfc3339Error,
} from '../servers/envelope-wire.mjs';
import { parse as serdeParse, stringify, formatF64 } from '../servers/serde-json.mjs';

const SERVER_FILE = fileURLToPath(new URL('../servers/rest-server.mjs', import.meta.url));
const TEST_TIMEOUT = 10000;
const JSON_CT = { 'content-type': 'application/json' };
const UUID = '0190c6a5-1234-7abc-8def-0123456789ab';
const TS_BODY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/;
const TS_HEADER = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?\+00:00$/;
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

let server;

function send(path, { method = 'POST', headers = {}, body, signal } = {}) {
  return fetch(server.url + path, { method, headers, body, signal: signal ?? AbortSignal.timeout(5000) });
}

function post(path, payload, { headers = {}, meta = {}, method = 'POST' } = {}) {
  return send(path, { method, headers: { ...JSON_CT, ...headers }, body: JSON.stringify({ meta, payload }) });
}

async function json(res) {
  const t = await res.text();
  return { text: t, body: JSON.parse(t) };
}

function assertNoExposeHeaders(res) {
  assert.equal(res.headers.get('access-control-expose-headers'), null);
}

describe('reference REST server', { timeout: 60000 }, () => {
  before(async () => {
    server = await startRestServer({
      routes: ['/echo', '/fail', '/slow'],
      slowMs: 150,
      handlers: {
        '/ctx': (payload, ctx) => ({ payload, meta: ctx.meta, method: ctx.method }),
        '/coded': () => { throw Object.assign(new Error('x'), { envelopeError: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } }); },
      },
    });
  });
  after(async () => { await server.close(); });
  beforeEach(() => server.reset());

  describe('methods and routes', { timeout: TEST_TIMEOUT }, () => {
    for (const method of ['POST', 'PUT', 'PATCH']) {
      it(`${method} /envelope echoes body.payload`, async () => {
        const res = await post('/envelope', { n: 1, s: 'x' }, { method });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'application/json');
        const { body } = await json(res);
        assert.deepEqual(body.payload, { n: 1, s: 'x' });
        assert.equal('error' in body, false);
        assert.match(body.meta.timestamp, TS_BODY);
      });
    }

    for (const method of ['GET', 'DELETE']) {
      it(`${method} takes the payload from envelope_data`, async () => {
        const data = encodeURIComponent(JSON.stringify({ q: 'a b+c', list: [1, 2] }));
        const res = await send(`/envelope?envelope_data=${data}`, { method });
        assert.equal(res.status, 200);
        assert.deepEqual((await json(res)).body.payload, { list: [1, 2], q: 'a b+c' });
      });
    }

    it('GET without envelope_data gives payload null; form decoding turns + into space', async () => {
      let res = await send('/envelope', { method: 'GET' });
      assert.equal((await json(res)).body.payload, null);
      res = await send('/envelope?envelope_data=%22a+b%22', { method: 'GET' });
      assert.equal((await json(res)).body.payload, 'a b');
    });

    it('GET with invalid envelope_data JSON → 400 HANDLER_ERROR envelope', async () => {
      const res = await send('/envelope?envelope_data=%7Bnope', { method: 'GET' });
      assert.equal(res.status, 400);
      const { body } = await json(res);
      assert.equal(body.error.code, 'HANDLER_ERROR');
      assert.equal(body.error.http_status_code, 400);
      assert.equal(body.payload, null);
    });

    it('HEAD answers like GET without a body', async () => {
      const res = await send('/envelope', { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '');
    });

    it('extra routes: /echo echoes, /slow waits, /fail fails', async () => {
      assert.deepEqual((await json(await post('/echo', [1]))).body.payload, [1]);
      const t0 = Date.now();
      const slow = await post('/slow', 'z');
      assert.equal(slow.status, 200);
      assert.ok(Date.now() - t0 >= 140, 'slow handler should take ~150 ms');
      assert.equal((await json(slow)).body.payload, 'z');
      const fail = await post('/fail', 1);
      assert.equal(fail.status, 400);
      assert.equal((await json(fail)).body.error.code, 'HANDLER_ERROR');
    });

    it('custom handlers get the plain payload and the header-built meta', async () => {
      const res = await post('/ctx', { a: 1 }, { headers: { 'x-qollective-tenant': b64('t1') } });
      const { body } = await json(res);
      assert.deepEqual(body.payload.payload, { a: 1 });
      assert.equal(body.payload.meta.tenant, 't1');
      assert.equal(body.payload.method, 'POST');
    });

    it('a thrown envelopeError keeps its code; the status comes from the code table', async () => {
      const res = await post('/coded', 1);
      assert.equal(res.status, 429);
      const { body } = await json(res);
      assert.equal(body.error.code, 'RATE_LIMIT_EXCEEDED');
      assert.equal('http_status_code' in body.error, false);
    });

    it('GET /health is a non-envelope status object; POST /health is 405', async () => {
      const res = await send('/health', { method: 'GET' });
      assert.equal(res.status, 200);
      const { text, body } = await json(res);
      assert.equal(body.status, 'healthy');
      assert.equal('meta' in body, false);
      assert.match(text, /^\{"service":"qollective-rest-server","status":"healthy","timestamp":"[^"]+\+00:00"\}$/);
      const bad = await send('/health', { method: 'POST' });
      assert.equal(bad.status, 405);
      assert.equal(bad.headers.get('allow'), 'GET,HEAD');
    });

    it('unknown method on a route → 405 with Allow', async () => {
      const res = await send('/envelope', { method: 'PROPFIND' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST,PUT,GET,HEAD,DELETE,OPTIONS,PATCH');
    });

    it('unknown path → plain-text 404 (not JSON), with CORS', async () => {
      for (const path of ['/nope', '/envelope/', '/Envelope']) {
        const res = await send(path, { method: 'GET' });
        assert.equal(res.status, 404);
        assert.match(res.headers.get('content-type'), /^text\/plain/);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        const t = await res.text();
        assert.throws(() => JSON.parse(t), SyntaxError);
      }
    });
  });

  describe('CORS', { timeout: TEST_TIMEOUT }, () => {
    it('OPTIONS on any path is the preflight answer', async () => {
      for (const path of ['/envelope', '/nowhere', '/health']) {
        const res = await send(path, {
          method: 'OPTIONS',
          headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-qollective-tenant' },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PUT, DELETE, OPTIONS, PATCH');
        assert.equal(res.headers.get('access-control-allow-headers'), '*');
        assert.equal(res.headers.get('access-control-max-age'), '86400');
        assertNoExposeHeaders(res);
        assert.equal(await res.text(), '');
      }
    });

    it('every reply carries Allow-Origin * and never Expose-Headers', async () => {
      const replies = [
        await post('/envelope', 1),
        await post('/fail', 1),
        await send('/nope', { method: 'GET' }),
        await send('/envelope', { method: 'POST', body: '{}' }),
        await send('/health', { method: 'GET' }),
      ];
      for (const res of replies) {
        assert.equal(res.headers.get('access-control-allow-origin'), '*', `status ${res.status}`);
        assertNoExposeHeaders(res);
        await res.arrayBuffer();
      }
    });
  });

  describe('meta from headers only', { timeout: TEST_TIMEOUT }, () => {
    it('Base64 tenant and version round-trip (UTF-8) into body meta and reply headers', async () => {
      const tenant = 'acme ü 😀';
      const res = await post('/envelope', 1, {
        headers: { 'x-qollective-request-id': UUID, 'x-qollective-tenant': b64(tenant), 'x-qollective-version': b64('1.0') },
      });
      assert.equal(res.status, 200);
      const { body } = await json(res);
      assert.equal(body.meta.tenant, tenant);
      assert.equal(body.meta.version, '1.0');
      assert.equal(body.meta.request_id, UUID);
      assert.equal(res.headers.get('x-qollective-request-id'), UUID);
      assert.equal(res.headers.get('x-qollective-tenant'), b64(tenant));
      assert.equal(res.headers.get('x-qollective-version'), b64('1.0'));
      assert.match(res.headers.get('x-qollective-timestamp'), TS_HEADER);
    });

    it('the body meta is ignored', async () => {
      const res = await post('/envelope', 1, { meta: { tenant: 'from-body', request_id: UUID, version: '9' } });
      const { body } = await json(res);
      assert.deepEqual(Object.keys(body.meta), ['timestamp']);
      assert.equal(res.headers.get('x-qollective-request-id'), null);
      assert.equal(res.headers.get('x-qollective-tenant'), null);
    });

    for (const [label, value] of [['not Base64', 'no!tenant'], ['unpadded', 'YWI'], ['bad trailing bits', 'YR=='], ['not UTF-8', '/w==']]) {
      it(`invalid tenant header (${label}) → 400 HANDLER_ERROR envelope`, async () => {
        const res = await post('/envelope', 1, { headers: { 'x-qollective-tenant': value } });
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('content-type'), 'application/json');
        const { body } = await json(res);
        assert.equal(body.error.code, 'HANDLER_ERROR');
        assert.deepEqual(body.error.details, { operation: 'handler_execution' });
        assert.equal(body.error.http_status_code, 400);
        assert.equal(body.payload, null);
      });
    }

    it('invalid version header → 400 HANDLER_ERROR', async () => {
      const res = await post('/envelope', 1, { headers: { 'x-qollective-version': '1.0' } });
      assert.equal(res.status, 400);
      assert.equal((await json(res)).body.error.code, 'HANDLER_ERROR');
    });

    it('non-UUID request id is silently dropped; other UUID spellings are normalised', async () => {
      let res = await post('/envelope', 1, { headers: { 'x-qollective-request-id': 'req-123' } });
      assert.equal(res.status, 200);
      assert.equal('request_id' in (await json(res)).body.meta, false);
      assert.equal(res.headers.get('x-qollective-request-id'), null);
      res = await post('/envelope', 1, { headers: { 'x-qollective-request-id': UUID.toUpperCase() } });
      assert.equal((await json(res)).body.meta.request_id, UUID);
    });

    it('X-Qollective-Meta: tenant/version taken from Base64 JSON; garbage ignored; > 4096 bytes → 413', async () => {
      let res = await post('/envelope', 1, {
        headers: { 'x-qollective-tenant': b64('hdr'), 'x-qollective-meta': b64(JSON.stringify({ tenant: 'meta-t', version: '2.0', other: 1 })) },
      });
      let { body } = await json(res);
      assert.equal(body.meta.tenant, 'meta-t');
      assert.equal(body.meta.version, '2.0');
      res = await post('/envelope', 1, { headers: { 'x-qollective-meta': 'not base64 at all' } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      res = await post('/envelope', 1, { headers: { 'x-qollective-meta': b64(JSON.stringify({ pad: 'x'.repeat(4000) })) } });
      assert.equal(res.status, 413);
      ({ body } = await json(res));
      assert.equal(body.error.code, 'REQUEST_HEADERS_TOO_LARGE');
    });

    it('native-client headers rebuild on_behalf_of, security and tracing in the reply meta', async () => {
      const obo = { originalUser: 'alice', delegatingUser: 'svc', delegatingTenant: 't2' };
      const res = await post('/envelope', 1, {
        headers: {
          'x-on-behalf-of': JSON.stringify(obo),
          'x-qollective-user-id': 'u1',
          'x-qollective-session-id': 's1',
          'x-qollective-trace-id': 'tr1',
          'x-qollective-span-id': 'sp1',
          'x-qollective-timestamp': '2024-01-02T03:04:05.123+00:00',
        },
      });
      const { text, body } = await json(res);
      assert.deepEqual(body.meta.on_behalf_of, obo);
      // the server omits empty permissions/roles when it echoes security
      assert.deepEqual(body.meta.security, { user_id: 'u1', session_id: 's1' });
      assert.deepEqual(body.meta.tracing, { trace_id: 'tr1', span_id: 'sp1' });
      assert.notEqual(body.meta.timestamp, '2024-01-02T03:04:05.123Z', 'reply gets a fresh timestamp');
      assert.match(text, /"on_behalf_of":\{"originalUser":"alice","delegatingUser":"svc","delegatingTenant":"t2"\}/);
    });

    it('query fallbacks for GET: request_id/tenant/version as plain text when the header is absent', async () => {
      const res = await send(`/envelope?tenant=qt&version=3&request_id=${UUID}`, { method: 'GET' });
      const { body } = await json(res);
      assert.equal(body.meta.tenant, 'qt');
      assert.equal(body.meta.version, '3');
      assert.equal(body.meta.request_id, UUID);
    });

    it('total request headers > 65536 bytes → 413 REQUEST_HEADERS_TOO_LARGE envelope; below passes', async () => {
      let res = await post('/envelope', 1, { headers: { 'x-pad': 'a'.repeat(70000) } });
      assert.equal(res.status, 413);
      const { body } = await json(res);
      assert.equal(body.error.code, 'REQUEST_HEADERS_TOO_LARGE');
      assert.equal(body.error.http_status_code, 413);
      assert.deepEqual(body.error.details, { error_type: 'size_limit', operation: 'header_parsing' });
      assert.deepEqual(Object.keys(body.meta), ['timestamp', 'version']);
      res = await post('/envelope', 1, { headers: { 'x-pad': 'a'.repeat(60000) } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    });

    it('header limit is checked after the JSON extractor (415 wins over 413)', async () => {
      const res = await send('/envelope', { method: 'POST', headers: { 'x-pad': 'a'.repeat(70000) }, body: '{}' });
      assert.equal(res.status, 415);
      await res.arrayBuffer();
    });

    it('too many header lines or an oversized head → 431 without CORS (hyper level)', async () => {
      const many = {};
      for (let k = 0; k < 120; k++) many[`x-h${k}`] = 'v';
      let res = await send('/envelope', { method: 'GET', headers: many });
      assert.equal(res.status, 431);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      await res.arrayBuffer();
      const small = await startRestServer({ maxHeaderSize: 16384 });
      try {
        res = await fetch(small.url + '/envelope', { headers: { 'x-pad': 'a'.repeat(20000) }, signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 431);
        await res.arrayBuffer();
        assert.equal(small.stats.clientErrors, 1);
      } finally {
        await small.close();
      }
    });

    it('a tenant whose Base64 exceeds 4096 bytes → 500 METADATA_INJECTION_FAILED', async () => {
      const res = await post('/envelope', 1, { headers: { 'x-qollective-tenant': b64('t'.repeat(3100)) } });
      assert.equal(res.status, 500);
      const { body } = await json(res);
      assert.equal(body.error.code, 'METADATA_INJECTION_FAILED');
      assert.equal(body.error.http_status_code, 500);
    });
  });

  describe('axum extractor rejections (plain text)', { timeout: TEST_TIMEOUT }, () => {
    it('415 without Content-Type: application/json', async () => {
      for (const headers of [{}, { 'content-type': 'text/plain' }]) {
        const res = await send('/envelope', { method: 'POST', headers, body: '{"meta":{},"payload":1}' });
        assert.equal(res.status, 415);
        assert.match(res.headers.get('content-type'), /^text\/plain/);
        assert.equal(await res.text(), 'Expected request with `Content-Type: application/json`');
      }
      const ok = await send('/envelope', { method: 'POST', headers: { 'content-type': 'application/vnd.q+json; charset=utf-8' }, body: '{"meta":{},"payload":1}' });
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
    });

    it('400 for malformed JSON, with serde_json position text', async () => {
      for (const [body, expected] of [
        ['{"meta":', 'EOF while parsing a value at line 1 column 8'],
        ['', 'EOF while parsing a value at line 1 column 0'],
        ['{"meta":{},"payload":1} x', 'trailing characters at line 1 column 25'],
        ['{"meta":{},\n"payload":01}', 'invalid number at line 2 column 12'],
      ]) {
        const res = await send('/envelope', { method: 'POST', headers: JSON_CT, body });
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type'), /^text\/plain/);
        assert.equal(await res.text(), `Failed to parse the request body as JSON: ${expected}`);
      }
    });

    it('422 when payload (or meta) is missing; payload null is fine', async () => {
      let res = await send('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{}}' });
      assert.equal(res.status, 422);
      assert.equal(await res.text(), 'Failed to deserialize the JSON body into the target type: missing field `payload` at line 1 column 11');
      res = await send('/envelope', { method: 'POST', headers: JSON_CT, body: '{"payload":1}' });
      assert.equal(res.status, 422);
      assert.match(await res.text(), /missing field `meta`/);
      res = await send('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{},"payload":null,"extra":true}' });
      assert.equal(res.status, 200);
      assert.equal((await json(res)).body.payload, null);
    });

    it('422 for a body meta the Rust Meta type rejects (required arrays, enums, UUIDs)', async () => {
      const cases = [
        [{ security: { user_id: 'u' } }, /meta\.security: missing field `permissions`/],
        [{ request_id: 'nope' }, /meta\.request_id: UUID parsing failed/],
        [{ security: { permissions: [], roles: [], auth_method: 'jwt' } }, /unknown variant `jwt`/],
        [{ performance: {} }, /meta\.performance: missing field `external_calls`/],
        [{ debug: { db_queries: [{ query: 'q' }] } }, /meta\.debug\.db_queries\[0\]: missing field `duration`/],
      ];
      for (const [meta, re] of cases) {
        const res = await post('/envelope', 1, { meta });
        assert.equal(res.status, 422, JSON.stringify(meta));
        assert.match(await res.text(), re);
      }
      const full = {
        timestamp: '2024-01-01T00:00:00+02:00', request_id: UUID, version: '1.0', duration: 45.0, tenant: 't',
        security: { permissions: [], roles: [], auth_method: 'Jwt' }, debug: { db_queries: [] },
        performance: { external_calls: [] }, tracing: { tags: { a: 1, b: 'x', c: true } }, extensions: { any: [1] },
      };
      const res = await post('/envelope', 1, { meta: full });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    });

    it('413 plain text for a body over the 2 MB axum limit', async () => {
      const res = await post('/envelope', 'x'.repeat(2 * 1048576));
      assert.equal(res.status, 413);
      assert.equal(await res.text(), 'Failed to buffer the request body: length limit exceeded');
    });
  });

  describe('reply bytes', { timeout: TEST_TIMEOUT }, () => {
    it('handler error envelope is byte-exact (meta = timestamp + version "1.0", no x-qollective headers)', async () => {
      const res = await post('/fail', { a: 1 }, { headers: { 'x-qollective-request-id': UUID, 'x-qollective-tenant': b64('t') } });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('x-qollective-request-id'), null);
      assert.equal(res.headers.get('x-qollective-timestamp'), null);
      const text = await res.text();
      const ts = /"timestamp":"([^"]+)"/.exec(text)[1];
      assert.match(ts, TS_BODY);
      assert.equal(text.replace(ts, 'TS'),
        '{"meta":{"timestamp":"TS","version":"1.0"},"payload":null,"error":{"code":"HANDLER_ERROR",'
        + '"message":"Handler error: intentional failure on /fail","details":{"operation":"handler_execution"},'
        + '"http_status_code":400}}');
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
    });

    it('payload objects come back with sorted keys; meta keeps Rust struct order; compact', async () => {
      const res = await send('/envelope', {
        method: 'POST',
        headers: { ...JSON_CT, 'x-qollective-tenant': b64('t'), 'x-qollective-request-id': UUID, 'x-qollective-version': b64('1.0') },
        body: '{"meta":{},"payload":{"zeta":1,"alpha":{"y":[{"b":1,"a":2}],"x":null},"Mid":"é"}}',
      });
      const text = await res.text();
      const payloadText = text.slice(text.indexOf('"payload":') + 10, -1);
      assert.equal(payloadText, '{"Mid":"é","alpha":{"x":null,"y":[{"a":2,"b":1}]},"zeta":1}');
      assert.match(text, /^\{"meta":\{"timestamp":"[^"]+","request_id":"[^"]+","version":"1\.0","tenant":"t"\},"payload":/);
      assert.doesNotMatch(text, /\s/);
    });

    it('numbers are re-printed the serde_json way (floats keep .0, big integers stay exact)', async () => {
      const res = await send('/envelope', {
        method: 'POST', headers: JSON_CT,
        body: '{"meta":{},"payload":[1.0,2.50,1e2,-0,18446744073709551615,-9223372036854775808,1E-7,0.1]}',
      });
      const text = await res.text();
      assert.ok(text.endsWith('"payload":[1.0,2.5,100.0,-0.0,18446744073709551615,-9223372036854775808,1e-7,0.1]}'), text);
    });

    it('duplicate keys in a payload: last one wins (serde_json Map)', async () => {
      const res = await send('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{},"payload":{"a":1,"a":2}}' });
      assert.deepEqual((await json(res)).body.payload, { a: 2 });
    });
  });

  describe('fault injection', { timeout: TEST_TIMEOUT }, () => {
    it('delay holds the reply back', async () => {
      server.setFault({ delay: 200 });
      const t0 = Date.now();
      const res = await post('/envelope', 1);
      assert.equal(res.status, 200);
      assert.ok(Date.now() - t0 >= 190);
      await res.arrayBuffer();
    });

    it('hang never answers (client timeout fires)', async () => {
      server.setFault({ hang: true });
      await assert.rejects(send('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{},"payload":1}', signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
    });

    it('status with envelope:true → JSON error envelope; envelope:false → plain text', async () => {
      server.setFault({ status: 503, retryAfter: 2 });
      let res = await post('/envelope', 1);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '2');
      assert.equal(res.headers.get('content-type'), 'application/json');
      let { body } = await json(res);
      assert.equal(body.error.code, 'SERVICE_UNAVAILABLE');
      assert.equal(body.error.http_status_code, 503);
      assert.equal(body.payload, null);
      server.setFault({ status: 500, code: 'DB_TIMEOUT', statusInBody: false });
      res = await post('/envelope', 1);
      ({ body } = await json(res));
      assert.equal(body.error.code, 'DB_TIMEOUT');
      assert.equal('http_status_code' in body.error, false);
      server.setFault({ status: 502, envelope: false });
      res = await post('/envelope', 1);
      assert.equal(res.status, 502);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      assert.equal(await res.text(), 'Bad Gateway');
    });

    it('html502 / html504 send an nginx-style HTML page', async () => {
      for (const [knob, status] of [['html502', 502], ['html504', 504]]) {
        server.setFault({ [knob]: true });
        const res = await post('/envelope', 1);
        assert.equal(res.status, status);
        assert.equal(res.headers.get('content-type'), 'text/html');
        assert.match(await res.text(), new RegExp(`<title>${status} `));
      }
    });

    it('malformed: 200 application/json whose body is not JSON', async () => {
      server.setFault({ malformed: true });
      const res = await post('/envelope', 1);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      const t = await res.text();
      assert.ok(t.startsWith('{"meta":'));
      assert.throws(() => JSON.parse(t), SyntaxError);
    });

    it('reset destroys the connection before any reply', async () => {
      server.setFault({ reset: true });
      await assert.rejects(post('/envelope', 1), (e) => e instanceof TypeError);
      assert.equal(server.stats.requests.at(-1).outcome, 'reset');
    });

    it('resetMidBody: head and part of the body, then the socket dies', async () => {
      server.setFault({ resetMidBody: true });
      await assert.rejects(async () => { const res = await post('/envelope', { big: 'x'.repeat(1000) }); await res.text(); }, TypeError);
      assert.equal(server.stats.requests.at(-1).outcome, 'midbody-reset');
    });

    it('truncate: Content-Length promises more than is sent, then the connection ends', async () => {
      server.setFault({ truncate: true });
      const res = await post('/envelope', { big: 'x'.repeat(1000) });
      assert.equal(res.status, 200);
      await assert.rejects(res.text(), TypeError);   // undici: 'terminated'
    });

    it('slowloris dribbles a complete body in many chunks', async () => {
      server.setFault({ slowloris: 5, slowlorisChunk: 16 });
      const t0 = Date.now();
      const res = await post('/envelope', { s: 'x'.repeat(200) });
      assert.equal(res.status, 200);
      let chunks = 0;
      let got = '';
      const dec = new TextDecoder();
      for await (const c of res.body) { chunks++; got += dec.decode(c, { stream: true }); }
      assert.ok(chunks > 3, `expected many chunks, got ${chunks}`);
      assert.equal(JSON.parse(got).payload.s.length, 200);
      assert.ok(Date.now() - t0 >= 50);
    });

    it('oversized: a valid 2 MiB envelope', async () => {
      server.setFault({ oversized: true });
      const res = await post('/envelope', 1);
      const t = await res.text();
      assert.equal(Buffer.byteLength(t), 2 * 1048576);
      assert.equal(JSON.parse(t).payload.blob.length > 2000000, true);
    });

    it('failTimes: the next N requests fail, then the server succeeds (server-side retry count)', async () => {
      server.setFault({ failTimes: 2, status: 503 });
      const statuses = [];
      for (let k = 0; k < 4; k++) { const r = await post('/envelope', k); statuses.push(r.status); await r.arrayBuffer(); }
      assert.deepEqual(statuses, [503, 503, 200, 200]);
      assert.equal(server.stats.count('POST', '/envelope'), 4);
      assert.equal(server.stats.faultsApplied, 2);
    });

    it('failTimes works with any failure mode (reset twice, then success)', async () => {
      server.setFault({ failTimes: 2, reset: true });
      await assert.rejects(post('/envelope', 1), TypeError);   // fetch failed (socket reset)
      await assert.rejects(post('/envelope', 1), TypeError);
      const res = await post('/envelope', 1);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    });

    it('paths/methods filters; OPTIONS is exempt by default; cors:false drops CORS on fault replies', async () => {
      server.setFault({ status: 500, paths: ['/echo'], cors: false });
      let res = await post('/envelope', 1);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      res = await post('/echo', 1);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      await res.arrayBuffer();
      res = await send('/echo', { method: 'OPTIONS' });
      assert.equal(res.status, 200);
      server.setFault({ status: 500, methods: ['get'] });
      res = await post('/envelope', 1);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      res = await send('/envelope', { method: 'GET' });
      assert.equal(res.status, 500);
      await res.arrayBuffer();
    });

    it('X-Test-Fault header (list and JSON syntax), with per-key failTimes counters', async () => {
      let res = await post('/envelope', 1, { headers: { 'x-test-fault': 'status=504; envelope=false' } });
      assert.equal(res.status, 504);
      assert.equal(await res.text(), 'Gateway Timeout');
      res = await post('/envelope', 1, { headers: { 'x-test-fault': '{"html502":true}' } });
      assert.equal(res.status, 502);
      await res.arrayBuffer();
      const h = { 'x-test-fault': 'failTimes=1;status=500;key=k1' };
      res = await post('/envelope', 1, { headers: h });
      assert.equal(res.status, 500);
      await res.arrayBuffer();
      res = await post('/envelope', 1, { headers: h });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      res = await post('/envelope', 1, { headers: { 'x-test-fault': 'bogus=1' } });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /unknown fault knob 'bogus'/);
    });

    it('fault spec parsing and validation', () => {
      assert.deepEqual(parseFaultHeader('delay=10;reset'), { delay: 10, reset: true });
      assert.deepEqual(parseFaultHeader('failTimes=3'), { failTimes: 3, status: 503 });
      assert.deepEqual(parseFaultHeader('slowloris'), { slowloris: 20 });
      assert.throws(() => normalizeFault({ status: 'x' }), TypeError);
      assert.throws(() => server.setFault({ nope: true }), /unknown fault knob/);
      assert.throws(() => parseFaultHeader('paths=/a'), /only for setFault/);
      assert.equal(server.setFault(null), null);
    });
  });

  describe('stats', { timeout: TEST_TIMEOUT }, () => {
    it('counts per method and route and logs lower-cased headers and body text', async () => {
      await (await post('/envelope', { a: 1 }, { headers: { 'X-Qollective-Tenant': b64('t') } })).arrayBuffer();
      await (await send('/echo?envelope_data=1', { method: 'GET' })).arrayBuffer();
      await (await send('/echo', { method: 'OPTIONS' })).arrayBuffer();
      assert.equal(server.stats.total, 3);
      assert.deepEqual(server.stats.byMethod, { POST: 1, GET: 1, OPTIONS: 1 });
      assert.deepEqual(server.stats.byRoute, { '/envelope': 1, '/echo': 2 });
      assert.equal(server.stats.count('GET', '/echo'), 1);
      assert.equal(server.stats.count(null, '/echo'), 2);
      const [first, second] = server.stats.requests;
      assert.equal(first.method, 'POST');
      assert.equal(first.headers['x-qollective-tenant'], b64('t'));
      assert.equal(first.body, '{"meta":{},"payload":{"a":1}}');
      assert.equal(first.status, 200);
      assert.equal(second.query, 'envelope_data=1');
      server.reset();
      assert.equal(server.stats.total, 0);
      assert.equal(server.stats.requests.length, 0);
      assert.deepEqual(server.stats.byMethod, {});
    });

    it('waitForRequests resolves once enough requests arrived', async () => {
      const waiting = server.waitForRequests(2, { method: 'POST', timeout: 3000 });
      await (await post('/envelope', 1)).arrayBuffer();
      await (await post('/echo', 1)).arrayBuffer();
      const seen = await waiting;
      assert.equal(seen.length, 2);
      await assert.rejects(server.waitForRequests(99, { timeout: 50 }), /saw 2 of 99/);
    });

    it('the log keeps only the last 1000 requests', async () => {
      const s = await startRestServer({ logLimit: 5 });
      try {
        for (let k = 0; k < 8; k++) await (await fetch(`${s.url}/envelope?envelope_data=${k}`, { signal: AbortSignal.timeout(5000) })).arrayBuffer();
        assert.equal(s.stats.requests.length, 5);
        assert.equal(s.stats.requests[0].query, 'envelope_data=3');
        assert.equal(s.stats.total, 8);
      } finally {
        await s.close();
      }
    });
  });

  describe('wire helpers', { timeout: TEST_TIMEOUT }, () => {
    it('status-from-code table (first match wins)', () => {
      assert.equal(statusFromCode('AUTHENTICATION_FAILED'), 401);
      assert.equal(statusFromCode('permission_denied'), 403);
      assert.equal(statusFromCode('VALIDATION_FAILED'), 400);
      assert.equal(statusFromCode('RESOURCE_NOT_FOUND'), 404);
      assert.equal(statusFromCode('ALREADY_EXISTS'), 409);
      assert.equal(statusFromCode('REQUEST_HEADERS_TOO_LARGE'), 413);
      assert.equal(statusFromCode('RATE_LIMIT_EXCEEDED'), 429);
      assert.equal(statusFromCode('DEADLINE_EXCEEDED'), 504);
      assert.equal(statusFromCode('SERVICE_DOWN'), 503);
      assert.equal(statusFromCode('NOT_IMPLEMENTED'), 501);
      assert.equal(statusFromCode('HANDLER_ERROR'), 500);
      assert.equal(statusFromCode('INVALID_AUTH_TOKEN'), 401);
      assert.equal(statusForError({ code: 'X', http_status_code: 418 }), 418);
      assert.equal(statusForError({ code: 'X', http_status_code: 200 }), 500);
    });

    it('Base64, UUID, RFC 3339, serde number and parse rules', () => {
      assert.equal(decodeBase64Strict('YWI=').ok, true);
      assert.equal(decodeBase64Strict('YWI').ok, false);
      assert.equal(decodeBase64Strict('YW I=').ok, false);
      assert.equal(isStrictUuid(UUID), true);
      assert.equal(isStrictUuid(UUID.replace(/-/g, '')), false);
      assert.equal(parseUuid(`{${UUID}}`), UUID);
      assert.equal(parseUuid('nope'), null);
      assert.equal(rfc3339Error('2024-02-30T00:00:00Z'), 'input is out of range');
      assert.equal(rfc3339Error('2024-02-29T23:59:60.5-05:00'), null);
      assert.equal(formatF64(1e16), '1e16');
      assert.equal(formatF64(123.0), '123.0');
      assert.equal(stringify(serdeParse('{"b":1,"a":[1.50,1e400]}'.replace('1e400', '2')).value), '{"a":[1.5,2],"b":1}');
      assert.throws(() => serdeParse('[1e400]'), /number out of range at line 1 column 6/);
      assert.throws(() => serdeParse('['.repeat(128) + ']'.repeat(128)), /recursion limit exceeded/);
    });
  });
});

describe('non-default options', { timeout: TEST_TIMEOUT }, () => {
  it('lenientEnvelopeData, validateBodyMeta:false, extendedMetaHeaders:false, sortAllKeys', async () => {
    const s = await startRestServer({ lenientEnvelopeData: true, validateBodyMeta: false, extendedMetaHeaders: false, sortAllKeys: true });
    try {
      const go = (path, init = {}) => fetch(s.url + path, { ...init, signal: AbortSignal.timeout(5000) });
      let res = await go('/envelope?envelope_data=%7Bnope');
      assert.equal(res.status, 200);
      assert.equal((await res.json()).payload, null);
      res = await go('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{"security":{}},"payload":1}' });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      res = await go('/envelope', { method: 'POST', headers: JSON_CT, body: '{"meta":{}}' });
      assert.equal(res.status, 422);
      await res.arrayBuffer();
      res = await go('/envelope', {
        method: 'POST',
        headers: { ...JSON_CT, 'x-qollective-user-id': 'u', 'x-qollective-tenant': b64('t'), 'x-qollective-request-id': UUID },
        body: '{"meta":{},"payload":1}',
      });
      const text = await res.text();
      assert.equal('security' in JSON.parse(text).meta, false);
      assert.match(text, /^\{"meta":\{"request_id":"[^"]+","tenant":"t","timestamp":"[^"]+"\},"payload":1\}$/);
    } finally {
      await s.close();
    }
  });
});

describe('process hygiene', { timeout: 30000 }, () => {
  it('close() leaves no handles: a child process with requests in flight exits on its own', async () => {
    const script = `
      import { startRestServer } from ${JSON.stringify(SERVER_FILE)};
      const s = await startRestServer({ routes: ['/slow'], slowMs: 60000 });
      const body = JSON.stringify({ meta: {}, payload: 1 });
      const h = { 'content-type': 'application/json' };
      const inflight = [
        fetch(s.url + '/slow', { method: 'POST', headers: h, body }),
        fetch(s.url + '/envelope', { method: 'POST', headers: { ...h, 'x-test-fault': 'hang' }, body }),
        fetch(s.url + '/envelope', { method: 'POST', headers: { ...h, 'x-test-fault': 'delay=60000' }, body }),
        fetch(s.url + '/envelope', { method: 'POST', headers: { ...h, 'x-test-fault': 'slowloris=1000' }, body }).then((r) => r.text()),
      ].map((p) => p.catch(() => 'failed'));
      await s.waitForRequests(4);
      await (await fetch(s.url + '/health')).text();
      await s.close();
      const results = await Promise.all(inflight);
      console.log('closed', JSON.stringify(results));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const t0 = Date.now();
    const code = await new Promise((resolve) => {
      const killer = setTimeout(() => { child.kill('SIGKILL'); resolve('timeout'); }, 15000);
      child.on('exit', (c) => { clearTimeout(killer); resolve(c); });
    });
    assert.equal(code, 0, `child did not exit cleanly: ${code}\n${out}\n${err}`);
    assert.match(out, /^closed \["failed","failed","failed","failed"\]/);
    assert.ok(Date.now() - t0 < 10000);
  });

  it('CLI: prints "listening http://127.0.0.1:PORT", serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [SERVER_FILE, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`no banner: ${buf}`)), 5000);
        child.stdout.on('data', (d) => {
          buf += d;
          const m = /^listening (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(buf);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.on('exit', (c) => { clearTimeout(timer); reject(new Error(`exited ${c}`)); });
      });
      const res = await fetch(`${url}/echo`, { method: 'POST', headers: JSON_CT, body: '{"meta":{},"payload":7}', signal: AbortSignal.timeout(5000) });
      assert.equal((await res.json()).payload, 7);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
