// The WebSocket transport end to end: dist/qollective.wasm driven by js-glue's Socket with the
// `ws` package injected as WebSocket, against the reference server (tests/servers/ws-server.mjs)
// on 127.0.0.1. Round trips with full meta, error frames and error envelopes with their source,
// 1,000 requests in flight on one socket, deadlines, AbortSignal at every stage, server push and
// its bound, keepalive against a stalled server, reconnect under every fault knob with
// exactly-once accounting, the bounded queue, pool eviction, drain and close.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import net from 'node:net';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { startWsServer } from '../servers/ws-server.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const q = await Qollective.load(WASM, { WebSocket });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Waits for what a late event brings (on a loaded machine it may come later than planned): true once
// cond() holds, false after ms.
const until = async (cond, ms = 5000) => { for (const end = Date.now() + ms; !cond(); await sleep(10)) if (Date.now() > end) return false; return true; };
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let srv;
const clients = [];
before(async () => { srv = await startWsServer(); });
after(async () => { await srv.close(); });
afterEach(() => { srv.clearFault(); while (clients.length) clients.pop().close(); });

/** A client on the reference server: fast, jitter-free reconnects unless overridden. */
function mk(ws = {}, extra = {}) {
  const c = q.client({ ...extra, websocket: { url: srv.url, ...ws }, retry: { base_delay_ms: 20, max_delay_ms: 200, jitter_percent: 0, ...extra.retry } });
  clients.push(c);
  return c;
}

async function rejects(p, want) {
  try { await p; } catch (e) {
    assert.ok(e instanceof QollectiveError, `not a QollectiveError: ${e}`);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(e[k], v, `${k}: ${e[k]} (${e.message})`);
    return e;
  }
  assert.fail('resolved, expected a rejection');
}

/** Fires n requests and counts outcomes; every request must end exactly once. */
function fire(sock, n, opts = {}, payload = (i) => ({ i })) {
  const tally = { sent: n, resolved: 0, rejected: 0, twice: 0, wrong: 0, codes: {}, ends: new Array(n).fill(0) };
  const all = [];
  for (let i = 0; i < n; i++) {
    all.push(sock.request({ payload: payload(i) }, opts).then(
      (env) => { tally.ends[i]++; tally.resolved++; if (env.payload?.i !== i) tally.wrong++; },
      (e) => { tally.ends[i]++; tally.rejected++; tally.codes[e.code] = (tally.codes[e.code] || 0) + 1; },
    ));
  }
  tally.done = Promise.all(all).then(() => { tally.twice = tally.ends.filter((k) => k !== 1).length; return tally; });
  return tally;
}

function assertExactlyOnce(t) {
  assert.equal(t.resolved + t.rejected, t.sent, `sent ${t.sent} = resolved ${t.resolved} + rejected ${t.rejected}`);
  assert.equal(t.twice, 0, 'a request ended twice');
  assert.equal(t.wrong, 0, 'a reply was delivered to the wrong request');
}

test('round trip with full meta; empty permissions/roles sent, absent ones accepted in the reply', async () => {
  const c = mk({}, { meta: { tenant: 'acme' } });
  const s = c.socket();
  const meta = {
    security: { user_id: 'ada', permissions: [], roles: [] },
    tracing: { trace_id: 't1', span_id: 's1', baggage: { k: 'v' } },
    on_behalf_of: { originalUser: 'o', delegatingUser: 'd', delegatingTenant: 'dt' },
  };
  const r = await s.request({ meta, payload: { hello: 'wörld', n: [1, 2.5] } }, { timeout: 5000 });
  assert.deepEqual(r.payload, { hello: 'wörld', n: [1, 2.5] });
  assert.match(r.requestId, UUID_V7);
  assert.equal(r.meta.request_id, r.requestId);
  assert.equal(r.meta.tenant, 'acme');
  assert.equal(r.meta.version, '1.0');
  assert.equal(r.meta.security.user_id, 'ada');
  assert.equal(r.meta.security.permissions, undefined); // the server leaves empty arrays out
  assert.deepEqual(r.meta.tracing.baggage, { k: 'v' });
  assert.deepEqual(r.meta.on_behalf_of, meta.on_behalf_of);
  assert.equal(srv.stats.byRequestId.get(r.requestId), 1);
  // the path routes (unknown paths fall back to /), the same URL gives the same socket
  assert.equal(c.socket(), s);
  const other = c.socket(`${srv.url}/some/where`);
  assert.notEqual(other, s);
  assert.equal((await other.request({ payload: 7 })).payload, 7);
});

test('error frames map to status and type with source "frame"; an error envelope has source "envelope"', async () => {
  const s = mk().socket();
  const want = { validation: [400, 'validation'], security: [401, 'security'], not_found: [404, 'remote'], internal: [500, 'remote'] };
  for (const [kind, [status, type]] of Object.entries(want)) {
    const e = await rejects(s.request({ payload: { __fail: kind } }), { code: 'ERROR_FRAME', status, type, source: 'frame' });
    assert.match(e.message, new RegExp(kind));
    assert.match(e.requestId, UUID_V7);
  }
  const e = await rejects(s.request({ payload: { __envelopeError: { code: 'HANDLER_ERROR', message: 'no', details: { operation: 'x' }, http_status_code: 400 } } }),
    { code: 'HANDLER_ERROR', status: 400, type: 'validation', source: 'envelope' });
  assert.deepEqual(e.details, { code: 'HANDLER_ERROR', message: 'no', details: { operation: 'x' }, http_status_code: 400 });
  // the socket keeps working, still in order
  assert.equal((await s.request({ payload: 'after' })).payload, 'after');
  // local failures say so
  await rejects(s.request({ meta: { request_id: 'nope' }, payload: 1 }), { type: 'validation', code: 'INVALID_UUID', source: 'local' });
});

test('1,000 requests in flight on one socket are all correlated', async () => {
  const s = mk({}, { limits: { max_in_flight: 2000 } }).socket();
  const t = fire(s, 1000, { timeout: 20000 });
  await t.done;
  assertExactlyOnce(t);
  assert.equal(t.resolved, 1000);
  assert.equal(s.info.pending, 0);
});

test('a timed-out request ends with TIMEOUT; its late reply is dropped and the next replies still correlate', async () => {
  const s = mk().socket();
  await s.request({ payload: 0 });
  const late = s.request({ payload: { __delay: 1500, i: 1 } }, { timeout: 50 });
  const t0 = Date.now();
  await rejects(late, { code: 'TIMEOUT', type: 'timeout', source: 'network' });
  assert.ok(Date.now() - t0 < 1200, 'timed out by its deadline, not by the reply');
  // answered in order after the slow one; the error frame of a failing one still pairs right
  const ok = s.request({ payload: { i: 2 } });
  const bad = s.request({ payload: { __fail: 'validation' } });
  assert.equal((await ok).payload.i, 2);
  await rejects(bad, { status: 400, source: 'frame' });
  assert.equal(s.info.tombstones, 0);
});

test('an error frame answering a timed-out request is absorbed by it, not given to the next', async () => {
  const s = mk().socket();
  const a = s.request({ payload: { __delay: 200, __fail: 'internal' } }, { timeout: 50 });
  const b = s.request({ payload: { i: 'b' } }, { timeout: 5000 });
  await rejects(a, { code: 'TIMEOUT' });
  assert.equal((await b).payload.i, 'b');
});

test('AbortSignal at every stage: before sending, while queued, while waiting for the reply', async () => {
  const s = mk().socket();
  const pre = new AbortController();
  pre.abort(new Error('mine'));
  const e0 = await rejects(s.request({ payload: 1 }, { signal: pre.signal }), { code: 'ABORTED', source: 'local' });
  assert.equal(e0.cause.message, 'mine');
  // queued: the server refuses connections for a while
  srv.setFault({ refuseMs: 400 });
  const s2 = mk().socket(`${srv.url}/queued`);
  const ctl = new AbortController();
  const p = s2.request({ payload: 1 }, { signal: ctl.signal, timeout: 5000 });
  await sleep(30);
  assert.equal(s2.info.queued, 1);
  ctl.abort();
  await rejects(p, { code: 'ABORTED', source: 'local' });
  assert.equal(s2.info.pending, 0);
  srv.clearFault();
  // written: abort while the server is slow; the late reply is dropped
  await s.request({ payload: 0 });
  const ctl2 = new AbortController();
  const p2 = s.request({ payload: { __delay: 150 } }, { signal: ctl2.signal });
  await sleep(20);
  ctl2.abort();
  await rejects(p2, { code: 'ABORTED', type: 'aborted', source: 'local' });
  assert.equal(s.info.tombstones, 1);
  assert.ok(await until(() => s.info.tombstones === 0), 'the late reply cleared the tombstone');
  // after the end: nothing happens
  const ctl3 = new AbortController();
  assert.equal((await s.request({ payload: 3 }, { signal: ctl3.signal })).payload, 3);
  ctl3.abort();
});

test('server push: incoming() and onEnvelope; a full buffer reports OVERFLOW at its place', async () => {
  const s = mk({ max_queue: 2 }).socket();
  await s.request({ payload: 0 });
  srv.push({ meta: {}, payload: 'p1' });
  srv.push({ meta: {}, payload: 'p2' });
  srv.push({ meta: {}, payload: 'p3' }); // over the bound of 2
  await sleep(50);
  const it = s.incoming();
  assert.equal((await it.next()).value.payload, 'p1');
  assert.equal((await it.next()).value.payload, 'p2');
  const e = await rejects(it.next(), { code: 'OVERFLOW', type: 'capacity' });
  assert.deepEqual(e.details, { dropped: 1 });
  srv.push({ meta: {}, payload: 'p4' });
  assert.equal((await s.incoming().next()).value.payload, 'p4');
  assert.equal(s.info.pushDropped, 1);
  const got = [];
  s.onEnvelope = (env) => got.push(env.payload);
  for (let i = 0; i < 5; i++) srv.push({ meta: {}, payload: i });
  await sleep(50);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.equal(s.info.pushBuffered, 0);
});

test('server push with websocket.max_queue 0: no buffer; only a waiting consumer gets a push, the rest is reported', async () => {
  const s = mk({ max_queue: 0 }).socket();
  // max_queue also bounds requests issued while connecting: 0 takes none, so wait for open
  for (let t = 0; s.info.state !== 'open' && t < 200; t++) await sleep(10);
  await s.request({ payload: 0 });
  srv.push({ meta: {}, payload: 'early' });   // nobody waits: refused and counted
  await sleep(50);
  const it = s.incoming();
  const e = await rejects(it.next(), { code: 'OVERFLOW', type: 'capacity' });
  assert.deepEqual(e.details, { dropped: 1 });
  const next = it.next();                     // now a consumer waits
  await sleep(20);
  srv.push({ meta: {}, payload: 'p1' });
  assert.equal((await next).value.payload, 'p1');
  assert.equal(s.info.pushBuffered, 0);
  const got = [];
  s.onEnvelope = (env) => got.push(env.payload);
  for (let i = 0; i < 5; i++) srv.push({ meta: {}, payload: i });
  await sleep(50);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.equal(s.info.pushDropped, 1);
  s.onEnvelope = null;
  srv.push({ meta: {}, payload: 'late' });    // nobody waits again
  await sleep(50);
  assert.equal(s.info.pushDropped, 2);
});

test('keepalive: a stalled server is detected as stale within ping interval + pong deadline', async () => {
  const s = mk({ ping_interval_ms: 100, message_timeout_ms: 100 }).socket();
  await s.request({ payload: 0 });
  const events = [];
  s.onStatus = (e) => events.push({ ...e, at: Date.now() });
  srv.setFault({ stall: true });
  const t0 = Date.now();
  while (!events.some((e) => e.state === 'stale') && Date.now() - t0 < 2000) await sleep(10);
  const stale = events.find((e) => e.state === 'stale');
  assert.ok(stale, `no stale event: ${JSON.stringify(events)}`);
  assert.ok(stale.at - t0 <= 100 + 100 + 60, `stale after ${stale.at - t0} ms`);
  assert.ok(events.some((e) => e.state === 'reconnecting'));
  srv.clearFault();
  assert.equal((await s.request({ payload: 'back' }, { timeout: 3000 })).payload, 'back');
});

test('keepalive: an idle socket on a healthy server sends ping frames, gets pongs and stays open', async () => {
  const s = mk({ ping_interval_ms: 50, message_timeout_ms: 100 }).socket();
  await s.request({ payload: 0 });
  const events = [], conn = s.info.conn, framesIn = srv.stats.framesIn;
  s.onStatus = (e) => events.push(e);
  await sleep(600);   // 12 ping intervals, 6 pong deadlines: a missing pong would have shown as stale
  assert.deepEqual(events, []);
  assert.equal(s.info.conn, conn, 'the connection was replaced');
  // each ping is a text frame {"type":"ping","timestamp":...} the server answers (a malformed one
  // gets an error frame, which would show as an "error" status above)
  assert.ok(srv.stats.framesIn - framesIn >= 5, `${srv.stats.framesIn - framesIn} ping frames in 600 ms`);
  assert.equal((await s.request({ payload: 'still' })).payload, 'still');
});

// Each fault knob, with reconnect: every request ends exactly once, none after its deadline, and
// only requests marked idempotent are written again (at most retry.max_attempts = 3 times in all).
const FAULTS = {
  dropAfter: { fault: { dropAfter: 20 } },
  stall: { fault: { stall: true, failTimes: 30 }, ws: { ping_interval_ms: 50, message_timeout_ms: 50 } },
  malformed: { fault: { malformed: true, failTimes: 10 } },
  oversized: { fault: { oversized: 4096, failTimes: 5 }, ws: { max_message_bytes: 2048 } },
  refuse: { fault: { refuseMs: 150, dropAfter: 0, failTimes: 1 } },
  delay: { fault: { delay: 5 } },
};
for (const [name, { fault, ws }] of Object.entries(FAULTS)) {
  for (const idempotent of [false, true]) {
    test(`fault ${name} (${idempotent ? 'idempotent' : 'not idempotent'}): every request ends exactly once`, async () => {
      const s = mk({ ...ws }).socket(`${srv.url}/${name}-${idempotent}`);
      await s.request({ payload: 0 }, { timeout: 3000 });
      srv.setFault(fault);
      const before = new Set(srv.stats.byRequestId.keys());
      const deadline = 1500;
      const t0 = Date.now();
      const t = fire(s, 60, { timeout: deadline, idempotent });
      await t.done;
      assert.ok(Date.now() - t0 < deadline + 500, `took ${Date.now() - t0} ms`);
      assertExactlyOnce(t);
      assert.equal(s.info.pending, 0);
      for (const [rid, n] of srv.stats.byRequestId) {
        if (before.has(rid)) continue;
        assert.ok(n <= (idempotent ? 3 : 1), `request ${rid} written ${n} times`);
      }
      srv.clearFault();
    });
  }
}

test('while disconnected, requests wait in a bounded queue and are flushed on connect; a full queue says OVERFLOW', async () => {
  srv.setFault({ refuseMs: 200 });
  const s = mk({ max_queue: 3 }).socket(`${srv.url}/q`);
  const ok = [1, 2, 3].map((i) => s.request({ payload: { i } }, { timeout: 3000 }));
  await rejects(s.request({ payload: 4 }), { code: 'OVERFLOW', type: 'capacity', source: 'local' });
  const got = await Promise.all(ok);
  assert.deepEqual(got.map((e) => e.payload.i), [1, 2, 3]);
});

test('pool: least-recently-used idle socket evicted; all busy is a capacity error', async () => {
  const c = mk({ max_connections: 2 });
  const a = c.socket(`${srv.url}/a`);
  const b = c.socket(`${srv.url}/b`);
  await Promise.all([a.request({ payload: 1 }), b.request({ payload: 1 })]);
  c.socket(`${srv.url}/a`); // a used last
  const cc = c.socket(`${srv.url}/c`);
  assert.equal(b.closed, true);
  assert.equal(a.closed, false);
  const pa = a.request({ payload: { __delay: 100 } });
  const pc = cc.request({ payload: { __delay: 100 } });
  assert.throws(() => c.socket(`${srv.url}/d`), (e) => e.type === 'capacity' && /max_connections/.test(e.message) && e.source === 'local');
  await Promise.all([pa, pc]);
  const d = c.socket(`${srv.url}/d`);
  assert.equal((await d.request({ payload: 'd' })).payload, 'd');
});

test('drain waits for replies in flight, then closes with 1000; close() rejects what is left with ABORTED', async () => {
  const c = mk();
  const s = c.socket();
  const events = [];
  s.onStatus = (e) => events.push(e);
  const p = s.request({ payload: { __delay: 50, i: 1 } });
  const drained = s.drain();
  await rejects(s.request({ payload: 2 }), { code: 'BAD_STATE', source: 'local' });
  assert.equal((await p).payload.i, 1);
  await drained;
  assert.equal(events.at(-1).state, 'closed');
  const s2 = c.socket(`${srv.url}/other`);
  const pending = [s2.request({ payload: { __delay: 500 } }), s2.request({ payload: 2 })];
  c.close();
  for (const p of pending) await rejects(p, { code: 'ABORTED', source: 'local' });
});

test('the server side is killed with 500 requests outstanding: sent = resolved + rejected, none pending after the deadline', async () => {
  const s = mk({}, { limits: { max_in_flight: 1000 } }).socket(`${srv.url}/kill`);
  await s.request({ payload: 0 });
  const t = fire(s, 500, { timeout: 2000 }, (i) => ({ i, __delay: i < 100 ? 0 : 50 }));
  await sleep(20);
  srv.killAll();
  await t.done;
  assertExactlyOnce(t);
  assert.ok(t.rejected > 0, 'some were in flight when the server died');
  assert.equal(s.info.pending, 0);
  assert.equal(t.codes.CONNECTION_LOST, t.rejected);
});

test('reference server: a subprotocol fails the handshake, binary frames get no reply, ping needs a timestamp', async () => {
  await assert.rejects(new Promise((resolve, reject) => {
    const ws = new WebSocket(srv.url, ['qollective']);
    ws.on('open', resolve);
    ws.on('error', reject);
  }));
  const ws = new WebSocket(srv.url);
  await new Promise((r) => ws.on('open', r));
  const got = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  ws.send(Buffer.from([1, 2, 3]));
  ws.send('{"type":"ping"}');
  ws.send('{"type":"ping","timestamp":"2024-01-01T00:00:00Z"}');
  ws.send('nope');
  await sleep(100);
  assert.deepEqual(got.map((f) => [f.type, f.code]), [['error', 400], ['pong', undefined], ['error', 400]]);
  ws.close();
});

test('reference server: countIds false (the benchmark) answers the same and keeps no request id', async () => {
  const quiet = await startWsServer({ validate: false, countIds: false });
  const c = q.client({ websocket: { url: quiet.url } });
  try {
    const r = await c.socket().request({ payload: { n: 7 } });
    assert.equal(r.payload.n, 7);
    assert.equal(quiet.stats.envelopes, 1);
    assert.equal(quiet.stats.byRequestId.size, 0);
  } finally { c.close(); await quiet.close(); }
});

test('the auth provider is consulted at every (re)connect; a failing provider counts as a failed connect', async () => {
  let calls = 0, fail = false;
  const c = q.client({ websocket: { url: srv.url }, security: { auth_token: 'api' }, retry: { base_delay_ms: 20, jitter_percent: 0 } },
    { auth: async () => { calls++; if (fail) throw new Error('expired'); return { name: 'api', token: `t${calls}` }; } });
  clients.push(c);
  const s = c.socket(`${srv.url}/auth`);
  const events = [];
  s.onStatus = (e) => events.push(e);
  await s.request({ payload: 1 });
  assert.equal(calls, 1);
  fail = true;
  srv.closeAll(1012, 'restart');
  while (!events.some((e) => e.code === 4001)) await sleep(10);
  const lost = events.find((e) => e.state === 'reconnecting');
  assert.deepEqual([lost.code, lost.reason], [1012, 'restart']);
  assert.equal(events.find((e) => e.code === 4001).reason, 'auth provider failed');
  fail = false;
  assert.equal((await s.request({ payload: 2 }, { timeout: 3000 })).payload, 2);
  assert.ok(calls >= 3);
});

test('replies read the same from an ASCII frame (kept as the string) and from a non-ASCII one (read as bytes)', async () => {
  const s = mk().socket();
  const enc = new TextEncoder();
  for (const payload of [{ a: 'plain', n: [1, 2] }, { a: 'plüs 😀', n: [1, 2] }]) {
    const r = await s.request({ meta: { tenant: 't' }, payload });
    const text = JSON.stringify(payload);
    assert.equal(r.payloadText, text);
    assert.deepEqual(r.payloadBytes, enc.encode(text));
    assert.deepEqual(r.payload, payload);
    assert.equal(r.meta.tenant, 't');
    assert.match(r.requestId, UUID_V7);
    assert.equal(r.meta.request_id, r.requestId);
    assert.deepEqual(r.toJSON(), { meta: r.meta, payload });
  }
});

test('random bytes come from a pool: one random() call serves a wave of requests; no request id repeats', async () => {
  let calls = 0;
  const q2 = await Qollective.load(WASM, { WebSocket, random: (b) => { calls++; return globalThis.crypto.getRandomValues(b); } });
  const c = q2.client({ websocket: { url: srv.url }, limits: { max_in_flight: 500 } });
  clients.push(c);
  const s = c.socket();
  const ids = new Set();
  await Promise.all(Array.from({ length: 200 }, (_, i) => s.request({ payload: i }).then((r) => ids.add(r.requestId))));
  assert.equal(ids.size, 200);
  assert.ok(calls <= 2, `random() called ${calls} times for 200 requests (16 bytes each)`);
});

test('with the ws package, the frames of one tick leave the TCP socket in one write', async () => {
  const s = mk({}, { limits: { max_in_flight: 500 } }).socket();
  await s.request({ payload: 0 });
  const raw = s.ws._socket;
  let writes = 0;
  for (const k of ['_write', '_writev']) {
    const f = raw[k];
    raw[k] = function (...a) { writes++; return f.apply(this, a); };
  }
  const t = fire(s, 100);
  await t.done;
  delete raw._write; delete raw._writev;
  assertExactlyOnce(t);
  assert.equal(t.resolved, 100);
  assert.ok(writes >= 1 && writes <= 2, `${writes} socket writes for 100 frames sent in one tick`);
});

test('with the ws package, a burst larger than the cork budget leaves in writes of about 64 KiB, not one at the end of the tick', async () => {
  const s = mk({}, { limits: { max_in_flight: 2000 } }).socket();
  await s.request({ payload: 0 });
  const raw = s.ws._socket;
  const sizes = [];
  // frames leave either corked (one _writev of many) or framed by the glue (one _write a buffer)
  const fv = raw._writev, f1 = raw._write;
  raw._writev = function (chunks, cb) { sizes.push(chunks.reduce((n, c) => n + c.chunk.length, 0)); return fv.call(this, chunks, cb); };
  raw._write = function (chunk, enc, cb) { sizes.push(chunk.length); return f1.call(this, chunk, enc, cb); };
  const note = 'x'.repeat(400);
  const t = fire(s, 1000, {}, (i) => ({ i, note }));   // ~450 KB of frames in one tick
  await t.done;
  delete raw._writev; delete raw._write;
  assertExactlyOnce(t);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(total > 400000, `${total} bytes written`);
  // the budget is 64 KiB of frame text (CORK_BYTES in the glue): a write holds that, the frames'
  // headers (8 B each) and the one frame that crossed it (< 1 KB here)
  assert.ok(Math.max(...sizes) <= 72 * 1024, `largest write ${Math.max(...sizes)} bytes`);
  assert.ok(sizes.length >= 6, `${sizes.length} writes for ${total} bytes`);
});

test('with the ws package, the glue frames a new request itself: 16-bit and 64-bit lengths, masked with a fresh key each, read back by the server as the text the core wrote', async () => {
  const s = mk({ max_message_bytes: 1 << 20 }).socket();
  await s.request({ payload: 0 });
  const raw = s.ws._socket, frames = [];
  const f1 = raw._write;
  // every write of the glue's own framing holds whole frames: parse them (RFC 6455 5.2)
  raw._write = function (chunk, enc, cb) {
    for (let at = 0; at < chunk.length;) {
      const b1 = chunk[at + 1];
      let n = b1 & 127, hl = 2;
      if (n === 126) { n = chunk.readUInt16BE(at + 2); hl = 4; } else if (n === 127) { n = Number(chunk.readBigUInt64BE(at + 2)); hl = 10; }
      const key = chunk.subarray(at + hl, at + hl + 4), text = Buffer.alloc(n);
      for (let i = 0; i < n; i++) text[i] = chunk[at + hl + 4 + i] ^ key[i & 3];
      frames.push({ op: chunk[at], masked: b1 >> 7, n, hl, key: key.toString('hex'), text: text.toString() });
      at += hl + 4 + n;
    }
    return f1.call(this, chunk, enc, cb);
  };
  const sizes = [10, 300, 70000, 5];
  const replies = await Promise.all(sizes.map((k, i) => s.request({ payload: { i, note: 'é'.repeat(k) } })));
  delete raw._write;
  assert.deepEqual(replies.map((r) => r.payload.note.length), sizes);
  assert.equal(frames.length, sizes.length);
  for (const [i, f] of frames.entries()) {
    assert.equal(f.op, 0x81, 'FIN + text');
    assert.equal(f.masked, 1, 'client frames are masked');
    assert.equal(f.hl, f.n >= 65536 ? 10 : f.n >= 126 ? 4 : 2, `length form of ${f.n} bytes`);
    const frame = JSON.parse(f.text);
    assert.equal(frame.type, 'envelope');
    assert.equal(frame.payload.payload.note, 'é'.repeat(sizes[i]));
  }
  assert.ok(frames.some((f) => f.n >= 65536) && frames.some((f) => f.n < 65536));
  assert.equal(new Set(frames.map((f) => f.key)).size, frames.length, 'a fresh masking key a frame');
});

test('with the ws package, frames of every length modulo 4 are masked whole from wasm memory: the last 1-3 bytes too', async () => {
  const s = mk().socket();
  await s.request({ payload: 0 });
  const raw = s.ws._socket, frames = [];
  const f1 = raw._write;
  raw._write = function (chunk, enc, cb) {
    for (let at = 0; at < chunk.length;) {
      const b1 = chunk[at + 1] & 127, hl = b1 === 126 ? 4 : 2, n = b1 === 126 ? chunk.readUInt16BE(at + 2) : b1;   // frames < 64 KiB here
      const key = chunk.subarray(at + hl, at + hl + 4), text = Buffer.alloc(n);
      for (let i = 0; i < n; i++) text[i] = chunk[at + hl + 4 + i] ^ key[i & 3];
      frames.push({ n, text: text.toString() });
      at += hl + 4 + n;
    }
    return f1.call(this, chunk, enc, cb);
  };
  // one request each with notes of 0-7 characters: consecutive frame lengths, every residue twice
  const notes = Array.from({ length: 8 }, (_, k) => 'x'.repeat(k));
  const replies = await Promise.all(notes.map((note) => s.request({ payload: { note } })));
  delete raw._write;
  assert.deepEqual(replies.map((r) => r.payload.note), notes, 'the server read every frame as the text the core wrote');
  assert.equal(frames.length, notes.length);
  assert.deepEqual(new Set(frames.map((f) => f.n % 4)), new Set([0, 1, 2, 3]));
  for (const [k, f] of frames.entries()) assert.equal(JSON.parse(f.text).payload.payload.note, notes[k]);
});

test('a request that times out while queued frees its slot for the next one in the same call: both end', async () => {
  const s = mk().socket();                 // connecting: requests wait in the queue
  const a = s.request({ payload: 'a' }, { timeout: 1 });
  const t0 = performance.now();
  while (performance.now() - t0 < 3);      // past a's deadline, no timer has run
  const b = s.request({ payload: 'b' });   // the core expires a first, then gives b a's slot
  const never = (what) => sleep(3000).then(() => assert.fail(`${what} never ended`));
  await Promise.race([rejects(a, { code: 'TIMEOUT' }), never('a')]);
  assert.equal((await Promise.race([b, never('b')])).payload, 'b');
});

test('a refused request does not take the timeouts that fell due before it: they still end', async () => {
  const s = mk().socket();                 // connecting: requests wait in the queue
  const a = s.request({ payload: 'a' }, { timeout: 1 });
  const t0 = performance.now();
  while (performance.now() - t0 < 3);      // past a's deadline, no timer has run
  await rejects(s.request({ meta: { request_id: 'nope' }, payload: 'b' }), { code: 'INVALID_UUID', source: 'local' });
  const never = sleep(3000).then(() => assert.fail('a never ended'));
  await Promise.race([rejects(a, { code: 'TIMEOUT' }), never]);
});

test('a request refused for room still lets its call act: the connect that timed out in it is closed and retried', async () => {
  // a TCP listener that never answers the handshake: the socket stays connecting
  const held = [], closed = [];
  const mute = net.createServer((c) => { held.push(c); c.on('close', () => closed.push(held.indexOf(c))); });
  await new Promise((r) => mute.listen(0, '127.0.0.1', r));
  try {
    const c = q.client({ websocket: { url: `ws://127.0.0.1:${mute.address().port}`, max_queue: 1 }, timeouts: { connect_ms: 100 },
                         retry: { base_delay_ms: 20, jitter_percent: 0 } });
    clients.push(c);
    const s = c.socket(), events = [];
    s.onStatus = (e) => events.push(e.state);
    const a = s.request({ payload: 'a' }, { timeout: 5000 });   // queued
    a.catch(() => {});
    const t0 = performance.now();
    while (performance.now() - t0 < 120);   // past timeouts.connect_ms, no timer has run
    await rejects(s.request({ payload: 'b' }), { code: 'OVERFLOW', source: 'local' });   // the queue holds a
    await sleep(200);   // far before a's deadline
    // every step of the timed-out connect is carried out and reported: its status, its close
    assert.equal(events[0], 'reconnecting', `the timed-out connect was not reported: ${JSON.stringify(events)}`);
    assert.ok(closed.includes(0), 'the timed-out connection was left open');
  } finally {
    for (const h of held) h.destroy();
    await new Promise((r) => mute.close(r));
  }
});

test('the frame of a request that is never written twice (not idempotent) is not held after its send', async () => {
  const s = mk({}, { limits: { max_in_flight: 10 } }).socket();
  await s.request({ payload: 0 });
  srv.setFault({ delay: 200 });
  const once = s.request({ payload: 1 }), again = s.request({ payload: 2 }, { idempotent: true });
  await sleep(20);
  const held = s.pending.filter(Boolean).map((e) => e.frame !== null);
  assert.deepEqual(held, [false, true]);
  assert.equal((await once).payload, 1);
  assert.equal((await again).payload, 2);
});
