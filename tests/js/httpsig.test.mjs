// RFC 9421 request signing with RFC 9530 Content-Digest (issue 12 item 5): the real
// dist/qollective-tls.wasm signs, the reference server verifies with Node's crypto and its own
// signature base (tests/servers/httpsig-verify.mjs). Valid (ECDSA P-256 and RSA, with and
// without a body, over https with mTLS too), then every way it must fail: tampered body,
// tampered header, wrong key, `created` outside the window (a replay), not signed at all.
// WebSocket: the handshake is signed where the host takes headers (Node `ws`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import WebSocket from 'ws';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { nodeTls } from '../../js-glue/node-tls.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { startWsServer } from '../servers/ws-server.mjs';
import { parseSignatureInput } from '../servers/httpsig-verify.mjs';

const root = new URL('../../', import.meta.url);
const TLS_WASM = new URL('dist/qollective-tls.wasm', root);
const dir = mkdtempSync(join(tmpdir(), 'qollective-httpsig-'));
execFileSync('bash', [new URL('scripts/gen-test-pki.sh', root).pathname, dir]);
const pki = (f) => readFileSync(join(dir, f), 'utf8');
const fingerprint = (name) => createHash('sha256').update(new X509Certificate(pki(`${name}.pem`)).raw).digest('hex');

// keyid -> public key, as a server that knows its clients' certificates would hold them
const keys = new Map([
  [fingerprint('client'), pki('client.pem')],
  [fingerprint('client-rsa'), pki('client-rsa.pem')],
  ['configured-id', pki('client.pem')],
]);
let serverNow = () => Date.now();
const signatures = { keyFor: (keyid) => keys.get(keyid) ?? null, windowSec: 300, get now() { return serverNow(); } };
let rest, ws, q;
before(async () => {
  [rest, ws] = await Promise.all([startRestServer({ routes: ['/echo'], signatures }), startWsServer({ signatures })]);
  q = await Qollective.load(TLS_WASM, { WebSocket });
});
after(async () => {
  await Promise.all([rest?.close(), ws?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function signedClient(qq, config = {}, who = 'client') {
  // websocket.url: without security.allowed_origins a socket may only go to a configured URL's origin
  const c = qq.client({ rest: { base_url: rest.url }, websocket: { url: `${ws.url}/` }, retry: { max_attempts: 1 }, ...config, security: { sign_requests: true, ...config.security } });
  c.setCredentials({ cert: pki(`${who}.pem`), key: pki(`${who}.key`) });
  return c;
}
const last = () => rest.stats.requests.at(-1);
const COVERED_POST = ['@method', '@target-uri', 'content-digest', 'x-qollective-request-id'];

test('a signed POST: Content-Digest over the body, ECDSA P-256 over the RFC 9421 base, verified by the server', async () => {
  const c = signedClient(q);
  const t0 = Math.floor(Date.now() / 1000);
  const reply = await c.send({ payload: { sign: 'me' } });
  assert.deepEqual(reply.payload, { sign: 'me' });
  const seen = last();
  assert.equal(seen.signature, 'valid');
  const h = seen.headers;
  assert.equal(h['content-digest'], `sha-256=:${createHash('sha256').update(Buffer.from(seen.body)).digest('base64')}:`);
  const input = parseSignatureInput(h['signature-input']);
  assert.equal(input.label, 'sig1');
  assert.deepEqual(input.components, COVERED_POST);
  assert.deepEqual(Object.keys(input.params), ['created', 'keyid', 'alg']);
  assert.equal(input.params.alg, 'ecdsa-p256-sha256');
  assert.equal(input.params.keyid, fingerprint('client'), 'default keyid: the certificate SHA-256');
  assert.ok(Math.abs(input.params.created - t0) <= 2, 'created is now');
  const sig = /^sig1=:(.*):$/.exec(h.signature)[1];
  assert.equal(Buffer.from(sig, 'base64').length, 64, 'r||s, not DER (RFC 9421 §3.3.4)');
  assert.equal(h['x-qollective-request-id'], reply.requestId);
  c.close();
});

test('a signed GET covers no content-digest (no body); RSA keys sign rsa-v1_5-sha256; keyid from config', async () => {
  const get = signedClient(q, { rest: { base_url: rest.url, method: 'GET' } });
  await get.send({ payload: { q: 1 } });
  assert.equal(last().signature, 'valid');
  assert.equal(last().headers['content-digest'], undefined);
  assert.deepEqual(parseSignatureInput(last().headers['signature-input']).components, ['@method', '@target-uri', 'x-qollective-request-id']);
  get.close();
  const rsa = signedClient(q, {}, 'client-rsa');
  await rsa.send({ payload: 2 });
  assert.equal(last().signature, 'valid');
  assert.equal(parseSignatureInput(last().headers['signature-input']).params.alg, 'rsa-v1_5-sha256');
  rsa.close();
  const named = signedClient(q, { security: { signature_key_id: 'configured-id' } });
  assert.equal(named.config.security.signature_key_id, 'configured-id');
  await named.send({ payload: 3 });
  assert.equal(last().signature, 'valid');
  assert.equal(parseSignatureInput(last().headers['signature-input']).params.keyid, 'configured-id');
  named.close();
});

/** A client whose requests pass through `tamper(init)` on the way (a man in the middle). */
async function tampered(tamper) {
  const mitm = await Qollective.load(TLS_WASM, { fetch: (url, init) => fetch(url, tamper({ ...init, headers: new Headers(init.headers) })) });
  return signedClient(mitm);
}
const rejected = (reason) => (e) => e instanceof QollectiveError && e.code === 'AUTHENTICATION_FAILED' && e.status === 401 &&
  e.type === 'security' && e.source === 'envelope' && e.message.includes(reason) && last().signature === reason;

test('a tampered body fails Content-Digest; one with a recomputed digest fails the signature', async () => {
  const flip = (init) => { const b = Buffer.from(init.body); b[b.indexOf('original')] = 'O'.charCodeAt(0); return { ...init, body: b }; };
  let c = await tampered(flip);
  await assert.rejects(c.send({ payload: 'original' }), rejected('Content-Digest does not match the body'));
  c.close();
  c = await tampered((init) => {
    const out = flip(init);
    out.headers.set('content-digest', `sha-256=:${createHash('sha256').update(out.body).digest('base64')}:`);
    return out;
  });
  await assert.rejects(c.send({ payload: 'original' }), rejected('signature does not verify'));
  c.close();
});

test('a tampered covered header fails the signature', async () => {
  const c = await tampered((init) => { init.headers.set('x-qollective-request-id', crypto.randomUUID()); return init; });
  await assert.rejects(c.send({ payload: 1 }), rejected('signature does not verify'));
  c.close();
});

test('a signature by another key than the keyid names fails', async () => {
  keys.set('wrong-key', pki('other-client.pem'));
  const c = signedClient(q, { security: { signature_key_id: 'wrong-key' } });
  await assert.rejects(c.send({ payload: 1 }), rejected('signature does not verify'));
  c.close();
  keys.delete('wrong-key');
});

test('created outside the window: an old clock, and a valid request replayed later', async () => {
  const old = await Qollective.load(TLS_WASM, { now: () => Date.now() - 600_000 });
  let c = signedClient(old);
  await assert.rejects(c.send({ payload: 1 }), rejected('created is outside the 300 s window'));
  c.close();
  c = signedClient(q);
  await c.send({ payload: { once: true } });
  const { method, url, headers, body } = last();
  assert.equal(last().signature, 'valid');
  const replay = () => fetch(rest.url + url, { method, body, headers: Object.entries(headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) });
  assert.equal((await replay()).status, 200, 'inside the window a replay verifies (no nonce: README says so)');
  serverNow = () => Date.now() + 600_000;
  try {
    const res = await replay();
    assert.equal(res.status, 401);
    assert.equal(last().signature, 'created is outside the 300 s window');
  } finally { serverNow = () => Date.now(); }
  c.close();
});

test('signing is off by default; on without a key it is refused before sending; the plain module refuses the config', async () => {
  const plainClient = q.client({ rest: { base_url: rest.url }, retry: { max_attempts: 1 } });
  assert.equal(plainClient.config.security.sign_requests, false);
  await assert.rejects(plainClient.send({ payload: 1 }), rejected('no or malformed Signature-Input'));
  assert.equal(last().headers.signature, undefined);
  plainClient.close();
  const keyless = q.client({ rest: { base_url: rest.url }, security: { sign_requests: true } });
  const before = rest.stats.total;
  await assert.rejects(keyless.send({ payload: 1 }), (e) => e.code === 'TLS_NO_CREDENTIALS' && e.source === 'local');
  assert.equal(rest.stats.total, before);
  keyless.close();
  const plainModule = await Qollective.load(new URL('dist/qollective.wasm', root));
  assert.throws(() => plainModule.client({ security: { sign_requests: true } }),
    (e) => e.code === 'CONFIG_INVALID' && e.path === 'security.sign_requests' && /qollective-tls.wasm/.test(e.message));
  assert.throws(() => q.client({ security: { signature_key_id: 'bad\nid' } }), (e) => e.code === 'CONFIG_INVALID' && e.path === 'security.signature_key_id');
});

test('the key is in no byte of linear memory after signed requests and close()', async () => {
  const own = await Qollective.load(TLS_WASM);
  const c = signedClient(own);
  for (let i = 0; i < 3; i++) await c.send({ payload: i });
  assert.equal(last().signature, 'valid');
  c.close();
  const line = Buffer.from(pki('client.key').split('\n')[1]);
  assert.ok(Buffer.from(own.x.memory.buffer).indexOf(line) < 0);
});

test('WebSocket: the handshake is signed over @method and @target-uri (Node ws takes headers)', async () => {
  const c = signedClient(q);
  const s = c.socket(ws.url + '/');
  assert.equal((await s.request({ payload: 'hi' }, { timeout: 5000 })).payload, 'hi');
  const hs = ws.stats.handshakes.at(-1);
  assert.equal(hs.signature, 'valid');
  assert.deepEqual(parseSignatureInput(hs.headers['signature-input']).components, ['@method', '@target-uri']);
  c.close();
  // a handshake signed with a key the server does not hold is refused (401): the request never gets through
  keys.set('wrong-key', pki('other-client.pem'));
  const bad = signedClient(q, { security: { signature_key_id: 'wrong-key' } });
  await assert.rejects(bad.socket(ws.url + '/').request({ payload: 1 }, { timeout: 600 }), (e) => e.code === 'TIMEOUT');
  assert.equal(ws.stats.handshakes.at(-1).signature, 'signature does not verify');
  bad.close();
  keys.delete('wrong-key');
});

test('WebSocket: a signing client without a key rejects its requests with TLS_NO_CREDENTIALS, nothing connects', async () => {
  const keyless = q.client({ websocket: { url: `${ws.url}/` }, security: { sign_requests: true } });
  const before = ws.stats.handshakes.length;
  await assert.rejects(keyless.socket(ws.url + '/').request({ payload: 1 }, { timeout: 5000 }), (e) => e.code === 'TLS_NO_CREDENTIALS');
  assert.equal(ws.stats.handshakes.length, before);
  keyless.close();
});

test('redirects: a cross-origin hop carries no signature, digest or X-Client-Cert; a same-origin hop is signed again', async () => {
  const foreign = await startRestServer({ routes: ['/echo'] });
  try {
    const c = signedClient(q, { rest: { base_url: rest.url, route: '/old' }, security: { client_cert_header: true, allowed_origins: [rest.url, foreign.url, ws.url] } });
    rest.setFault({ redirect: 307, location: `${foreign.url}/echo`, paths: ['/old'] });
    await c.send({ payload: 1 });
    assert.equal(last().signature, 'valid', 'the first hop was signed');
    assert.ok(last().headers['x-client-cert']);
    const got = foreign.stats.requests.at(-1).headers;
    for (const h of ['signature', 'signature-input', 'content-digest', 'x-client-cert']) assert.equal(got[h], undefined, h);
    // same origin, 307: the same method and body at another URL, under a new signature
    rest.setFault({ redirect: 307, location: '/echo', paths: ['/old'] });
    const n = rest.stats.requests.length;
    const reply = await c.send({ payload: { hop: 307 } });
    assert.deepEqual(reply.payload, { hop: 307 });
    const [first, hop] = rest.stats.requests.slice(n);
    assert.equal(first.path, '/old');
    assert.equal(first.signature, 'valid');
    assert.equal(hop.path, '/echo');
    assert.equal(hop.signature, 'valid', 'the hop carries a signature over its own URL');
    assert.notEqual(hop.headers.signature, first.headers.signature);
    assert.match(hop.headers.signature, /^sig1=:[A-Za-z0-9+/=]+:$/, 'one signature, the old one dropped');
    assert.equal(hop.headers['content-digest'], first.headers['content-digest'], 'the same body');
    assert.deepEqual(parseSignatureInput(hop.headers['signature-input']).components, COVERED_POST);
    assert.equal(hop.headers['x-qollective-request-id'], first.headers['x-qollective-request-id']);
    assert.ok(hop.headers['x-client-cert']);
    // same origin, 303: a GET without the body, signed without content-digest
    rest.setFault({ redirect: 303, location: '/echo', paths: ['/old'] });
    const m = rest.stats.requests.length;
    await c.send({ payload: { hop: 303 } }).catch(() => {});   // the GET carries no envelope: the server's answer does not matter here
    const get = rest.stats.requests[m + 1];
    assert.equal(get.method, 'GET');
    assert.equal(get.signature, 'valid');
    assert.equal(get.headers['content-digest'], undefined, 'no body, no digest');
    assert.deepEqual(parseSignatureInput(get.headers['signature-input']).components, ['@method', '@target-uri', 'x-qollective-request-id']);
    rest.clearFault();
    c.close();
  } finally { rest.clearFault(); await foreign.close(); }
});

test('redirects: a same-origin hop that cannot be signed (the key was replaced by none meanwhile) rejects, nothing unsigned is sent', async () => {
  // The key goes away between the first response and the hop: the fetch the glue uses clears the
  // client's credentials once the server's 307 has arrived (the real server, the real module).
  let c;
  const fq = await Qollective.load(TLS_WASM, {
    WebSocket,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      if (res.status === 307) c.setCredentials({});
      return res;
    },
  });
  c = signedClient(fq, { rest: { base_url: rest.url, route: '/old' } });
  rest.setFault({ redirect: 307, location: '/echo', paths: ['/old'] });
  try {
    const n = rest.stats.requests.length;
    await assert.rejects(c.send({ payload: { hop: 'unsigned?' } }), (e) => {
      assert.ok(e instanceof QollectiveError);
      assert.equal(e.code, 'TLS_NO_CREDENTIALS');
      assert.doesNotMatch(e.message, /PRIVATE KEY|BEGIN/);
      return true;
    });
    const seen = rest.stats.requests.slice(n);
    assert.equal(seen.length, 1, 'only the first request reached the server');
    assert.equal(seen[0].path, '/old');
    assert.equal(seen[0].signature, 'valid');
    assert.equal(c.inFlight, 0, 'the request ended in the core');
  } finally { rest.clearFault(); c.close(); }
});

test('WebSocket: a browser WebSocket (globalThis.WebSocket) gets no headers, so the handshake is not signed', async () => {
  const made = [];
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = class { constructor(...args) { made.push(args); } close() {} };
  try {
    const bq = await Qollective.load(TLS_WASM);
    const c = signedClient(bq, { websocket: { url: 'wss://example.test/ws' } });
    c.socket('wss://example.test/ws');
    assert.equal(made.length, 1);
    assert.deepEqual(made[0], ['wss://example.test/ws'], 'the URL only: no protocols, no headers');
    c.close();
  } finally { globalThis.WebSocket = saved; }
});

test('signed and mutually authenticated at once: https with the client certificate', async () => {
  const serverTls = { key: pki('server.key'), cert: pki('server.pem'), ca: pki('ca.pem'), requestCert: true, rejectUnauthorized: true };
  const secure = await startRestServer({ tls: serverTls, signatures });
  try {
    const mq = await Qollective.load(TLS_WASM, { tls: nodeTls, WebSocket });
    const c = mq.client({ rest: { base_url: secure.url }, security: { sign_requests: true } });
    c.setCredentials({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') });
    await c.send({ payload: 1 });
    const seen = secure.stats.requests.at(-1);
    assert.equal(seen.signature, 'valid');
    assert.equal(seen.clientCert.authorized, true);
    c.close();
  } finally { await secure.close(); }
});
