// The logger (issue 12 item 8), on the real .wasm against the reference servers: log.level from
// the config (off by default; error|warn|info|debug), records to the configured sink (default the
// console), and redaction: at debug level, with a token, Authorization / Cookie / X-Client-Cert
// values, a private key and a payload in play, no record carries any of them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Qollective } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { startWsServer } from '../servers/ws-server.mjs';
import { canary } from './memscan.mjs';
import { C } from './c-constants.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const T = (ms) => ({ timeout: ms });
const rest = await startRestServer({ routes: ['/echo', '/fail'] });
const wsSrv = await startWsServer();
after(() => Promise.all([rest.close(), wsSrv.close()]));
const q = await Qollective.load(WASM, { WebSocket });

/** A client whose records land in the returned list. */
function logged(config, options = {}) {
  const records = [];
  const c = q.client(config, { log: (r) => records.push(r), ...options });
  return { c, records };
}

test('off by default: no record, and the config says "off"', T(10000), async () => {
  const { c, records } = logged({ rest: { base_url: rest.url } });
  assert.equal(c.config.log.level, 'off');
  const console0 = { ...console };
  let printed = 0;
  for (const k of ['log', 'error', 'warn', 'info', 'debug']) console[k] = () => { printed++; };
  const quiet = q.client({ rest: { base_url: rest.url } }, { log: undefined });   // the default sink: the console
  try { await quiet.send({ payload: 1 }); quiet.close(); } finally { Object.assign(console, console0); }
  assert.equal(printed, 0, 'nothing printed');
  await c.send({ payload: 1 });
  await assert.rejects(c.send({ payload: 1 }, { route: '/fail' }));
  c.setToken('t', 'v');
  c.close();
  assert.deepEqual(records, []);
});

test('levels: each level passes its own records and the more severe ones, nothing below', T(10000), async () => {
  const events = {};
  for (const level of ['error', 'warn', 'info', 'debug']) {
    const { c, records } = logged({ rest: { base_url: rest.url }, log: { level } });
    c.setToken('t', 'v');                                                   // info
    await c.send({ payload: 1 });                                           // debug: send, response, done
    await assert.rejects(c.send({ payload: 1 }, { route: '/fail' }));       // warn: rest.failed
    c.close();
    events[level] = [...new Set(records.map((r) => `${r.level}:${r.event}`))].sort();
  }
  assert.deepEqual(events.error, []);
  assert.deepEqual(events.warn, ['warn:rest.failed']);
  assert.deepEqual(events.info, ['info:token.set', 'warn:rest.failed']);
  assert.deepEqual(events.debug, ['debug:client.close', 'debug:client.new', 'debug:rest.done', 'debug:rest.response', 'debug:rest.send',
    'info:token.set', 'warn:rest.failed']);
  assert.throws(() => q.client({ log: { level: 'verbose' } }), { code: 'INVALID_ENUM', path: 'log.level' });
  assert.throws(() => q.client({ log: { level: 'DEBUG' } }), { code: 'INVALID_ENUM', path: 'log.level' });
});

test('what a record carries: ids, method, origin and path, status, header names; a failure its code and message', T(10000), async () => {
  const { c, records } = logged({ rest: { base_url: rest.url }, log: { level: 'debug' } });
  await c.send({ payload: 1 }, { route: '/echo?x=1', headers: { 'X-Trace': 'abc' } });
  const send = records.find((r) => r.event === 'rest.send');
  assert.equal(send.method, 'POST');
  assert.equal(send.url, `${rest.url}/echo`, 'origin and path only: no query');
  assert.ok(send.headers.includes('X-Trace') && !send.headers.includes('abc'));
  // a header name is cut at Q_GLUE_LOG_HEADER_NAME_CHARS characters in the record
  const long = `X-${'n'.repeat(C.Q_GLUE_LOG_HEADER_NAME_CHARS)}`;
  await c.send({ payload: 1 }, { route: '/echo', headers: { [long]: 'v' } });
  const sendLong = records.filter((r) => r.event === 'rest.send').at(-1);
  assert.ok(sendLong.headers.includes(long.slice(0, C.Q_GLUE_LOG_HEADER_NAME_CHARS)) && !sendLong.headers.includes(long), sendLong.headers.join());
  assert.match(send.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(records.find((r) => r.event === 'rest.response').status, 200);
  const err = await c.send({ payload: 1 }, { route: '/fail' }).catch((e) => e);
  const failed = records.find((r) => r.event === 'rest.failed');
  assert.equal(failed.code, err.code);
  assert.equal(failed.message, err.message);
  assert.equal(failed.status, 400);
  c.close();
});

test('redaction at debug level: token, Authorization, Cookie, X-Client-Cert, a private key and the payload never appear', T(15000), async () => {
  const token = canary('token'), auth = canary('auth'), cookie = canary('cookie'), cert = canary('cert'), secret = canary('payload');
  const key = `-----BEGIN PRIVATE KEY-----\n${canary('key')}\n-----END PRIVATE KEY-----\n`;
  const { c, records } = logged({ rest: { base_url: rest.url, headers: { 'X-Client-Cert': cert } }, security: { auth_token: 'api' }, log: { level: 'debug' } });
  c.setToken('api', token, { expiresAt: Date.now() + 60_000 });
  await c.send({ payload: { secret, key } });
  const plain = q.client({ rest: { base_url: rest.url }, log: { level: 'debug' } }, { log: (r) => records.push(r) });
  await plain.send({ payload: secret }, { method: 'GET', headers: { Authorization: `Bearer ${auth}` } });
  plain.close();
  await assert.rejects(c.send({ payload: secret }, { headers: { Cookie: `sid=${cookie}` } }), { code: 'INVALID_VALUE' });
  await assert.rejects(c.send({ payload: secret }, { route: '/fail' }));
  rest.setFault({ status: 503, failTimes: 1 });
  await c.send({ payload: secret }, { method: 'PUT' }).catch(() => {});        // a retry record
  rest.clearFault();
  assert.throws(() => c.setToken('api', `${token} x`));                         // refused value
  assert.equal(c.clearToken('api'), true);
  // a WebSocket with the token from an auth provider, a request and a failing one
  const w = q.client({ websocket: { url: wsSrv.url }, security: { auth_token: 'api' }, log: { level: 'debug' } },
    { log: (r) => records.push(r), auth: () => ({ name: 'api', token }) });
  const s = w.socket();
  await s.request({ payload: { secret } });
  await assert.rejects(s.request({ payload: { __fail: 'security', secret } }));
  w.close();
  c.close();
  const text = JSON.stringify(records);
  for (const [what, v] of Object.entries({ token, auth, cookie, cert, secret, key: key.split('\n')[1] })) {
    assert.ok(!text.includes(v), `${what} appeared in a log record`);
  }
  const events = new Set(records.map((r) => r.event));
  for (const e of ['token.set', 'token.clear', 'rest.send', 'rest.response', 'rest.done', 'rest.refused', 'rest.failed', 'rest.retry', 'ws.connect', 'ws.status', 'ws.failed']) {
    assert.ok(events.has(e), `no ${e} record`);
  }
  // header names are there, their values are not
  assert.ok(records.some((r) => r.event === 'rest.send' && r.headers.includes('Authorization') && r.headers.includes('X-Client-Cert')));
});

test('the default sink is the console; a throwing sink never fails a request', T(10000), async () => {
  const seen = [];
  const saved = { debug: console.debug, info: console.info };
  console.debug = console.info = (...a) => seen.push(a);
  try {
    const c = q.client({ rest: { base_url: rest.url }, log: { level: 'debug' } }, { log: undefined });   // no sink given: the console
    await c.send({ payload: 1 });
    c.close();
  } finally { Object.assign(console, saved); }
  assert.ok(seen.some(([head]) => head === 'qollective debug rest.send'));
  const { c } = logged({ rest: { base_url: rest.url }, log: { level: 'debug' } }, { log: () => { throw new Error('sink down'); } });
  assert.equal((await c.send({ payload: 2 })).payload, 2);
  c.close();
  // a load option sets the sink for every client of that instance
  const records = [];
  const q2 = await Qollective.load(WASM, { log: (r) => records.push(r) });
  q2.client({ log: { level: 'info' } }).setToken('t', 'v');
  assert.deepEqual(records.filter((r) => r.name === 't').map((r) => r.event), ['token.set']);
});
