// Real mutual TLS in Node (issue 12 item 4): dist/qollective-tls.wasm through the glue and
// js-glue/node-tls.js against the reference servers in TLS mode (https and wss, requestCert and
// rejectUnauthorized), with a throwaway PKI made for this run in a temp dir. Success with the
// right certificate (configured, and compiled in with make CERTS=dir), and a security error
// (source network, a message naming the TLS failure, no secret) without one, with an expired
// one, with one from another CA, and when the server's certificate does not match the host.
// Also the X-Client-Cert header for TLS-terminating proxies: off by default, on by config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { nodeTls } from '../../js-glue/node-tls.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { startWsServer } from '../servers/ws-server.mjs';

const root = new URL('../../', import.meta.url);
const TLS_WASM = new URL('dist/qollective-tls.wasm', root);
const BUNDLE_WASM = new URL('build/tls/test-bundle/qollective-tls.wasm', root);   // make CERTS=build/pki/bundle
const dir = mkdtempSync(join(tmpdir(), 'qollective-mtls-'));
execFileSync('bash', [new URL('scripts/gen-test-pki.sh', root).pathname, dir]);
const pki = (f) => readFileSync(join(dir, f), 'utf8');
// the compiled-in credentials of the test bundle come from build/pki (made by make)
execFileSync('bash', [new URL('scripts/gen-test-pki.sh', root).pathname, new URL('build/pki', root).pathname]);
const buildPki = (f) => readFileSync(new URL(`build/pki/${f}`, root), 'utf8');

const serverTls = (p, cert = 'server') => ({ key: p(`${cert}.key`), cert: p(`${cert}.pem`), ca: p('ca.pem'), requestCert: true, rejectUnauthorized: true });
let rest, ws, restWrongHost, wsWrongHost, restBundle, wsBundle, q;
before(async () => {
  [rest, ws, restWrongHost, wsWrongHost, restBundle, wsBundle] = await Promise.all([
    startRestServer({ tls: serverTls(pki) }), startWsServer({ tls: serverTls(pki) }),
    startRestServer({ tls: serverTls(pki, 'wildcard') }), startWsServer({ tls: serverTls(pki, 'wildcard') }),
    startRestServer({ tls: serverTls(buildPki) }), startWsServer({ tls: serverTls(buildPki) }),
  ]);
  q = await Qollective.load(TLS_WASM, { tls: nodeTls, WebSocket });
});
after(async () => {
  await Promise.all([rest, ws, restWrongHost, wsWrongHost, restBundle, wsBundle].map((s) => s?.close()));
  rmSync(dir, { recursive: true, force: true });
});

const creds = (name) => ({ ca: pki('ca.pem'), ...(name ? { cert: pki(`${name}.pem`), key: pki(`${name}.key`) } : {}) });
const KEY_LINES = ['client', 'expired', 'other-client'].map((n) => pki(`${n}.key`).split('\n')[1]);

/** A TLS failure as the issue asks: security kind, source network, the message naming it, no secret. */
function assertTlsFailure(e, message) {
  assert.ok(e instanceof QollectiveError, String(e));
  assert.equal(e.code, 'TLS_HANDSHAKE');
  assert.equal(e.type, 'security');
  assert.equal(e.source, 'network');
  assert.equal(e.retryable, false);
  assert.match(e.message, message);
  const all = JSON.stringify({ ...e, message: e.message, cause: String(e.cause), causeCause: String(e.cause?.cause) });
  for (const line of KEY_LINES) assert.ok(!all.includes(line), 'no key material in the error');
  return true;
}

test('REST over https with the configured client certificate: the server sees it, verified', async () => {
  const c = q.client({ rest: { base_url: rest.url } });
  c.setCredentials(creds('client'));
  const reply = await c.send({ payload: { hello: 'mtls' } });
  assert.deepEqual(reply.payload, { hello: 'mtls' });
  const seen = rest.stats.requests.at(-1);
  assert.deepEqual([seen.clientCert.cn, seen.clientCert.authorized], ['qollective-test-client', true]);
  assert.equal(seen.headers['x-client-cert'], undefined, 'X-Client-Cert is off by default');
  // the key's PEM text is in no byte of linear memory after a request (input wiped, key parsed)
  assert.ok(Buffer.from(q.x.memory.buffer).indexOf(Buffer.from(KEY_LINES[0])) < 0);
  c.close();
});

test('WebSocket over wss with the configured client certificate', async () => {
  const c = q.client({ websocket: { url: `${ws.url}/` } });   // a socket goes to a configured URL's origin (no allowlist)
  c.setCredentials(creds('client'));
  const s = c.socket(ws.url + '/');
  const reply = await s.request({ payload: { over: 'wss' } }, { timeout: 5000 });
  assert.deepEqual(reply.payload, { over: 'wss' });
  assert.deepEqual(ws.stats.handshakes.at(-1).clientCert, { cn: 'qollective-test-client', authorized: true });
  c.close();
});

test('compiled-in credentials (make CERTS=dir) authenticate over https and wss', async () => {
  const own = await Qollective.load(BUNDLE_WASM, { tls: nodeTls, WebSocket });
  const c = own.client({ rest: { base_url: restBundle.url }, websocket: { url: `${wsBundle.url}/` } });
  assert.deepEqual((await c.send({ payload: 1 })).payload, 1);
  assert.equal(restBundle.stats.requests.at(-1).clientCert.authorized, true);
  const reply = await c.socket(wsBundle.url + '/').request({ payload: 2 }, { timeout: 5000 });
  assert.equal(reply.payload, 2);
  assert.equal(wsBundle.stats.handshakes.at(-1).clientCert.cn, 'qollective-test-client');
  c.close();
});

// [name, credentials, server, expected message]
const FAILURES = [
  ['no client certificate', () => creds(null), () => [rest, ws], /requires a client certificate; none was sent/],
  ['an expired client certificate', () => creds('expired'), () => [rest, ws], /after the handshake: client certificate refused/],
  ['a client certificate from another CA', () => creds('other-client'), () => [rest, ws], /after the handshake: client certificate refused/],
  ['a server certificate for another host', () => creds('client'), () => [restWrongHost, wsWrongHost], /server certificate names another host/],
];

for (const [name, cr, servers, message] of FAILURES) {
  test(`REST: ${name} is a security error naming the TLS failure`, async () => {
    const [server] = servers();
    const c = q.client({ rest: { base_url: server.url }, retry: { max_attempts: 3, base_delay_ms: 1 } });
    c.setCredentials(cr());
    const before = server.stats.total;
    await assert.rejects(c.send({ payload: 1 }, { idempotent: true }), (e) => assertTlsFailure(e, message));
    assert.equal(server.stats.total, before, 'no HTTP request got through');
    assert.equal(c.inFlight, 0);
    c.close();
  });

  test(`WebSocket: ${name} rejects the request and closes the socket with the TLS failure`, async () => {
    const [, server] = servers();
    const c = q.client({ websocket: { url: `${server.url}/` }, retry: { base_delay_ms: 1 } });
    c.setCredentials(cr());
    const s = c.socket(server.url + '/');
    const events = [];
    s.onStatus = (e) => events.push(e);
    await assert.rejects(s.request({ payload: 1 }, { timeout: 5000, idempotent: true }), (e) => assertTlsFailure(e, message));
    const closed = events.at(-1);
    assert.equal(closed.state, 'closed', 'no reconnect: a refused certificate does not heal');
    assertTlsFailure(closed.error, message);
    assert.ok(!events.some((e) => e.state === 'reconnecting'));
    c.close();
  });
}

test('without the host TLS transport, Node fetch does not trust the test CA: a security error too', async () => {
  const plain = await Qollective.load(TLS_WASM, { WebSocket });
  const c = plain.client({ rest: { base_url: rest.url }, retry: { max_attempts: 1 } });
  await assert.rejects(c.send({ payload: 1 }), (e) => assertTlsFailure(e, /not trusted/));
  c.close();
});

test('X-Client-Cert: the Base64 DER of the client certificate, only when enabled, never the key', async () => {
  const c = q.client({ rest: { base_url: rest.url }, security: { client_cert_header: true } });
  assert.equal(c.config.security.client_cert_header, true);
  const dflt = q.client({});
  assert.equal(dflt.config.security.client_cert_header, false);
  dflt.close();
  c.setCredentials(creds('client'));
  await c.send({ payload: 1 });
  const h = rest.stats.requests.at(-1).headers['x-client-cert'];
  assert.equal(h, Buffer.from(new X509Certificate(pki('client.pem')).raw).toString('base64'));
  c.close();
  // a client without any certificate cannot send it: refused before anything is sent
  const none = q.client({ rest: { base_url: rest.url }, security: { client_cert_header: true } });
  const before = rest.stats.total;
  await assert.rejects(none.send({ payload: 1 }), (e) => e.code === 'TLS_NO_CREDENTIALS' && e.source === 'local');
  assert.equal(rest.stats.total, before);
  none.close();
  // the plain client module has no certificate to send: a config error names the module
  const plainModule = await Qollective.load(new URL('dist/qollective.wasm', root));
  assert.throws(() => plainModule.client({ security: { client_cert_header: true } }),
    (e) => e.code === 'CONFIG_INVALID' && e.path === 'security.client_cert_header' && /qollective-tls.wasm/.test(e.message));
});

test('the compiled-in key handed to the host is wiped from the glue and the core output', async () => {
  const own = await Qollective.load(BUNDLE_WASM, { tls: (c) => { seen.push(c); return nodeTls(c); }, WebSocket });
  const seen = [];
  const c = own.client({ rest: { base_url: restBundle.url } });
  await c.send({ payload: 1 });
  assert.equal(seen.length, 1, 'one host TLS context per client');
  assert.ok(seen[0].key.length > 0 && seen[0].cert.length > 0);
  for (const part of ['ca', 'cert', 'key']) assert.ok(seen[0][part].every((b) => b === 0), `the glue zeroed its copy of ${part} once the TLS context had it`);
  own.wipeEmbeddedKey();
  const line = Buffer.from(buildPki('client.key').split('\n')[1]);
  assert.ok(Buffer.from(own.x.memory.buffer).indexOf(line) < 0, 'no copy of the PEM key is left in linear memory');
  c.close();
});
