// Origin validation for every request (issue 12 item 7), through the built .wasm: the shared
// verdict table tests/vectors/origins.txt (also run by tests/unit/test_origin.c) for REST
// (rest.base_url) and WebSocket (client.socket()), each URL also with its scheme mapped
// ws<->http; a denied or invalid socket URL never reaches the WebSocket constructor, and a real
// server behind a denied URL sees no connection at all.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Qollective } from '../../js-glue/qollective.js';
import { startWsServer } from '../servers/ws-server.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const TABLE = readFileSync(new URL('../vectors/origins.txt', import.meta.url), 'utf8');

const list = [], rows = [];
for (const line of TABLE.split('\n')) {
  if (!line || line.startsWith('#')) continue;
  if (line.startsWith('list ')) { list.push(line.slice(5)); continue; }
  const [verdict, url, why] = line.split(' | ');
  rows.push({ verdict: verdict.trim(), url: url.replaceAll('{TAB}', '\t'), why });
}

/** The WebSocket constructor the glue is given: it only records the URLs it was asked to open. */
const opened = [];
class RecordingWebSocket {
  constructor(url) { opened.push(url); }
  close() {}
  send() {}
}
const q = await Qollective.load(WASM, { WebSocket: RecordingWebSocket });

const CODES = { deny: 'ORIGIN_DENIED', invalid: 'INVALID_URL' };

/** The verdict of the core for url: REST through rest.base_url, WebSocket through socket(). */
function verdict(url) {
  const security = { allowed_origins: list };
  const ws = /^wss?:/i.test(url);
  const before = opened.length;
  let c;
  try {
    if (ws) {
      c = q.client({ security });
      c.socket(url);
      assert.equal(opened.length, before + 1, `${url}: allowed, so the glue opens it`);
    } else {
      c = q.client({ rest: { base_url: url }, security });
    }
    return 'allow';
  } catch (e) {
    assert.equal(opened.length, before, `${url}: refused, yet a socket was created`);
    assert.ok(!e.message.includes('example.com') && !e.message.includes('evil'), `${url}: the message quotes the URL: ${e.message}`);
    if (e.code === 'ORIGIN_DENIED') return 'deny';
    if (e.code === 'INVALID_URL') return 'invalid';
    throw e;
  } finally {
    c?.close();
  }
}

/** The same URL over the other transport: http <-> ws, https <-> wss (scheme case dropped). */
function mapped(url) {
  const m = /^(https?|wss?):/i.exec(url);
  if (!m) return null;
  const s = m[1].toLowerCase();
  return { http: 'ws', https: 'wss', ws: 'http', wss: 'https' }[s] + url.slice(m[0].length - 1);
}

test(`the shared table: ${rows.length} URLs against ${list.length} allowed origins`, () => {
  assert.ok(rows.length >= 30);
  const wrong = [];
  for (const r of rows) {
    const got = verdict(r.url);
    if (got !== r.verdict) wrong.push(`${r.url}: ${got}, expected ${r.verdict} (${r.why})`);
    const other = mapped(r.url);
    if (other) {
      const got2 = verdict(other);
      if (got2 !== r.verdict) wrong.push(`${other} (mapped from ${r.url}): ${got2}, expected ${r.verdict}`);
    }
  }
  assert.deepEqual(wrong, []);
  // non-network schemes cannot open a socket either
  for (const url of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd']) {
    assert.throws(() => q.client({ security: { allowed_origins: list } }).socket(url), { code: 'INVALID_URL' });
  }
});

test('a denied WebSocket URL opens no connection: the server behind it sees none', async () => {
  const srv = await startWsServer();
  after(() => srv.close());
  const real = await Qollective.load(WASM, { WebSocket });
  const made = [];
  after(() => { for (const x of made) x.close(); });   // also when an assertion below fails
  const port = new URL(srv.url).port;
  // allowed: another port of the same host, the same port on "localhost" (no DNS equivalence)
  const c = real.client({ security: { allowed_origins: [`http://127.0.0.1:${Number(port) + 1}`, `http://localhost:${port}`] } });
  made.push(c);
  for (const url of [srv.url, `${srv.url}/x`, `wss://127.0.0.1:${port}/`, `ws://127.0.0.1:${port}@localhost:${port}/`]) {
    assert.throws(() => c.socket(url), (e) => ['ORIGIN_DENIED', 'INVALID_URL'].includes(e.code) && e.source === 'local');
  }
  // the configured websocket.url is checked when the client is made
  assert.throws(() => real.client({ websocket: { url: srv.url }, security: { allowed_origins: ['http://127.0.0.1:1'] } }),
    { code: 'ORIGIN_DENIED', path: 'websocket.url' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(srv.stats.connections, 0);
  // the control: the same server, allowed, is reached
  const ok = real.client({ security: { allowed_origins: [`ws://127.0.0.1:${port}`] } });
  made.push(ok);
  const s = ok.socket(srv.url);
  const reply = await s.request({ payload: 1 });
  assert.equal(reply.payload, 1);
  assert.equal(srv.stats.connections, 1);
  ok.close();
  c.close();
});
