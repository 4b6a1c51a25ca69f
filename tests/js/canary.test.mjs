// The canary test (issue 12 item 8). Every node suite runs with tests/canary/hook.mjs preloaded:
// each client of every suite stores this process's canary token and canary private key and logs
// at debug level, and all output, log records and errors are scanned (a leak fails the suite and
// `make test`, see tests/canary/check.mjs). Here the canaries are also used for real: the token
// as the Authorization credential over REST (sent, refused, failed, retried, redirected, expired)
// and WebSocket (from an auth provider), the key as the TLS module's signing key (used, then a
// corrupted copy refused). Last, the detector itself is shown to catch a leak in a child process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicKey, verify } from 'node:crypto';
import WebSocket from 'ws';
import '../canary/hook.mjs';   // preloaded under make; a bare run loads it here
import { Qollective } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { startWsServer } from '../servers/ws-server.mjs';

const C = globalThis.__qollectiveCanary;
const T = (ms) => ({ timeout: ms });
const rest = await startRestServer({ routes: ['/echo', '/fail'] });
const wsSrv = await startWsServer();
after(() => Promise.all([rest.close(), wsSrv.close()]));

test('the canary token as a real credential: REST and WebSocket at debug level, every outcome', T(20000), async () => {
  const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url), { WebSocket });
  const c = q.client({ rest: { base_url: rest.url, max_redirects: 1 }, security: { auth_token: 'canary' } });
  c.setToken('canary', C.token, { expiresAt: Date.now() + 60_000 });
  await c.send({ payload: 1 });
  assert.equal(rest.stats.requests.at(-1).headers.authorization, `Bearer ${C.token}`, 'the canary was really sent');
  await assert.rejects(c.send({ payload: 1 }, { route: '/fail' }), { code: 'HANDLER_ERROR' });
  await assert.rejects(c.send({ payload: 1 }, { headers: { Cookie: `sid=${C.token}` } }), { code: 'INVALID_VALUE' });
  rest.setFault({ status: 503, failTimes: 1 });
  await c.send({ payload: 1 }, { method: 'PUT' });                       // retried once
  rest.setFault({ redirect: 307, location: 'http://127.0.0.1:1/elsewhere' });
  await assert.rejects(c.send({ payload: 1 }), { code: 'ORIGIN_DENIED' });
  rest.clearFault();
  assert.throws(() => c.setToken('canary', `${C.token} x`), { code: 'INVALID_VALUE' });
  c.setToken('canary', C.token, { expiresAt: Date.now() - 1 });
  await assert.rejects(c.send({ payload: 1 }), { code: 'NO_TOKEN', message: /expired/ });
  c.close();
  const dead = q.client({ rest: { base_url: 'http://127.0.0.1:1' }, security: { auth_token: 'canary' }, retry: { max_attempts: 1 } });
  dead.setToken('canary', C.token);
  await assert.rejects(dead.send({ payload: 1 }, { method: 'GET' }), { code: 'NETWORK' });
  dead.close();
  const w = q.client({ websocket: { url: wsSrv.url }, security: { auth_token: 'canary' } }, { auth: () => ({ name: 'canary', token: C.token }) });
  const s = w.socket();
  assert.equal((await s.request({ payload: 7 })).payload, 7);
  await assert.rejects(s.request({ payload: { __fail: 'security' } }));
  w.close();
});

test('the canary private key in the TLS module: it signs, and a corrupted copy is refused without being quoted', T(10000), async () => {
  const q = await Qollective.load(new URL('../../dist/qollective-tls.wasm', import.meta.url));
  const c = q.client({});
  // a throwaway self-signed certificate for the canary key (openssl, as scripts/gen-test-pki.sh)
  const dir = mkdtempSync(join(tmpdir(), 'qcanary-cert-'));
  writeFileSync(join(dir, 'key.pem'), C.key, { mode: 0o600 });
  const made = spawnSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'key.pem'), '-subj', '/CN=canary', '-days', '1', '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true });
  c.setCredentials({ cert, key: C.key });
  const data = new TextEncoder().encode('signed with the canary');
  const sig = c.sign(data);
  const pub = createPublicKey(C.key);
  assert.ok(verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig), 'the canary key was really the signing key');
  const lines = C.key.split('\n');
  lines[2] = lines[2].slice(0, 10) + (lines[2][10] === 'A' ? 'B' : 'A') + lines[2].slice(11);
  assert.throws(() => c.setCredentials({ cert, key: lines.join('\n') }), (e) => e.code === 'KEY_INVALID');
  c.close();
});

test('no canary reached any output, log record or error of this process', () => {
  assert.equal(C.leaks(), 0);
});

/** Runs code in a child node with the hook preloaded; its canary dir and exit status. */
function child(code) {
  const dir = mkdtempSync(join(tmpdir(), 'qcanary-'));
  const hook = fileURLToPath(new URL('../canary/hook.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', code],
    { env: { ...process.env, QOLLECTIVE_CANARY_DIR: dir }, encoding: 'utf8', timeout: 20000 });
  const leaks = existsSync(join(dir, 'leaks.log')) ? readFileSync(join(dir, 'leaks.log'), 'utf8') : '';
  return { status: r.status, leaks };
}

test('the detector: a child that prints the token, or throws the key, fails with a report that does not quote it', T(30000), () => {
  const clean = child('console.log("nothing secret")');
  assert.deepEqual(clean, { status: 0, leaks: '' });
  const printed = child('console.log("oops", globalThis.__qollectiveCanary.token)');
  assert.notEqual(printed.status, 0);
  assert.match(printed.leaks, /canary token appeared in stdout/);
  assert.doesNotMatch(printed.leaks, /qcanary[0-9a-f]{32}/, 'the report does not carry the canary');
  const thrown = child('throw new Error(globalThis.__qollectiveCanary.keyBody)');
  assert.notEqual(thrown.status, 0);
  assert.match(thrown.leaks, /canary private key appeared in (uncaught exception|stderr)/);
  // a log record of a client at debug level that would carry it (a sink of the hook: instrument.mjs)
  const logged = child(`
    const { Qollective } = await import(${JSON.stringify(new URL('../../js-glue/qollective.js', import.meta.url).href)});
    const q = await Qollective.load(${JSON.stringify(fileURLToPath(new URL('../../dist/qollective.wasm', import.meta.url)))});
    const c = q.client({});
    c._log('error', 'leak-on-purpose', { message: globalThis.__qollectiveCanary.token });
    c.close();`);
  assert.notEqual(logged.status, 0);
  assert.match(logged.leaks, /canary token appeared in log record leak-on-purpose/);
});
