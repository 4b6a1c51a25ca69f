// A server's own text (an error envelope's code and message, an error frame's message) is
// copied into the error record as it came, except for the bytes the glue reads as message
// markers (src/error.h Q_MARK_*): those become U+FFFD, so no server can make its text read as
// one of this client's messages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import { Qollective } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const q = await Qollective.load(WASM, { WebSocket });
const srv = await startRestServer();
after(() => srv.close());
const SNEAKY = 'before \u0001NETWORK\u0002 middle \u00031\u0002 after';
const SHOWN = 'before \uFFFDNETWORK\uFFFD middle \uFFFD1\uFFFD after';

test('REST: an error envelope whose message holds marker bytes reads as the server wrote it', { timeout: 10000 }, async () => {
  const c = q.client({ rest: { base_url: srv.url }, retry: { max_attempts: 1 } });
  srv.setFault({ status: 400, envelope: true, code: 'X\u0001TIMEOUT\u0002', message: SNEAKY });
  try {
    await assert.rejects(c.send({ payload: 1 }), (e) => {
      assert.equal(e.code, 'X\uFFFDTIMEOUT\uFFFD');
      assert.equal(e.message, SHOWN);
      assert.equal(e.source, 'envelope');
      return true;
    });
  } finally { srv.setFault(null); c.close(); }
});

test('WebSocket: an error frame whose message holds marker bytes reads as the server wrote it', { timeout: 10000 }, async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'error', message: SNEAKY, code: 400 }))));
  const url = `ws://127.0.0.1:${wss.address().port}/`;
  const c = q.client({ websocket: { url } });
  try {
    await assert.rejects(c.socket().request({ payload: 1 }, { timeout: 5000 }), (e) => {
      assert.equal(e.source, 'frame');
      assert.ok(e.message.includes(SHOWN), e.message);
      assert.ok(!e.message.includes('network failure'), e.message);
      return true;
    });
  } finally { c.close(); await new Promise((r) => wss.close(r)); }
});

test('WebSocket: an error frame whose message holds U+0000 comes back whole', { timeout: 10000 }, async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const sent = 'a\u0000b\u0000\u0000c é';
  wss.on('connection', (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'error', message: sent, code: 400 }))));
  const c = q.client({ websocket: { url: `ws://127.0.0.1:${wss.address().port}/` } });
  try {
    await assert.rejects(c.socket().request({ payload: 1 }, { timeout: 5000 }), (e) => {
      assert.equal(e.source, 'frame');
      assert.ok(e.message.includes(sent), JSON.stringify(e.message));
      return true;
    });
  } finally { c.close(); await new Promise((r) => wss.close(r)); }
});
