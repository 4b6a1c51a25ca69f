// Fault injection end to end over REST: the real dist/qollective.wasm through js-glue against the
// reference server's fault knobs (tests/servers/README.md) on 127.0.0.1. Connection resets mid-body,
// slow-loris replies, truncated bodies, 5xx storms with and without envelopes, HTML error pages, and
// a server restart under 1,000 requests in flight. Every send settles exactly once (counted with
// Promise.allSettled and per-request flags, and no fetch attempt after a send settled), every
// rejection is a QollectiveError, nothing is left unhandled, no timer outlives its request, and the
// core's in-flight table empties. Bounded: the whole file runs in well under 60 s and exits by itself
// (`node tests/js/faults.test.mjs`).
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { C } from './c-constants.mjs';

const WASM = new URL('../../dist/qollective.wasm', import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T = (ms) => ({ timeout: ms });

// Unhandled rejections anywhere fail the test that was running.
const unhandled = [];
const onUnhandled = (e) => unhandled.push(e);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  const seen = unhandled.splice(0);
  assert.deepEqual(seen.map((e) => `${e?.name}: ${e?.message}`), [], 'unhandled rejections');
});

const timersAtStart = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const servers = new Set();
after(async () => {
  for (const s of servers) await s.close();
  process.off('unhandledRejection', onUnhandled);
});

async function server(options = {}) {
  const s = await startRestServer({ routes: ['/echo', '/slow'], slowMs: 300, logLimit: 5000, ...options });
  servers.add(s);
  const close = s.close;
  s.close = async () => { servers.delete(s); await close(); };
  return s;
}

/**
 * A send ledger: fetch goes through `fetch` below, which records each attempt by request id; each
 * send gets its own request id and flags. `settle()` waits for every send and checks the accounting.
 */
function ledger() {
  const L = { sends: new Map(), recOf: new WeakMap(), attempts: 0, lateAttempts: [], inFetch: 0, maxInFetch: 0, untracked: 0 };
  L.fetch = async (url, init) => {
    const id = init.headers.find(([k]) => k === 'X-Qollective-Request-Id')?.[1];
    const rec = L.sends.get(id);
    if (!rec) L.untracked++;                              // sends made without L.send (warm-ups)
    else {
      if (rec.settles) L.lateAttempts.push(id);           // an attempt after its send settled
      rec.attempts++;
    }
    L.attempts++;
    L.maxInFetch = Math.max(L.maxInFetch, ++L.inFetch);
    try { return await fetch(url, init); } finally { L.inFetch--; }
  };
  /** Starts c.send with a fresh request id; returns the raw promise. */
  L.send = (c, payload, options = {}) => {
    const id = randomUUID();
    const rec = { id, method: options.method ?? 'POST', attempts: 0, settles: 0, startedAt: performance.now() };
    L.sends.set(id, rec);
    const p = c.send({ meta: { request_id: id }, payload }, options);
    L.recOf.set(p, rec);
    p.then((v) => { rec.settles++; rec.ok = true; rec.value = v; rec.endedAt = performance.now(); },
      (e) => { rec.settles++; rec.ok = false; rec.error = e; rec.endedAt = performance.now(); });
    return p;
  };
  /** Waits for every send; asserts sent = resolved + rejected, each settled once, no late attempt. */
  L.settle = async (promises) => {
    const results = await Promise.allSettled(promises);
    await sleep(0);   // the ledger's own then() callbacks
    const sends = promises.map((p) => L.recOf.get(p));
    const resolved = results.filter((r) => r.status === 'fulfilled').length;
    const rejected = results.filter((r) => r.status === 'rejected').length;
    assert.equal(resolved + rejected, promises.length, 'sent = resolved + rejected');
    assert.ok(sends.every(Boolean), 'every promise came from L.send');
    for (const s of sends) assert.equal(s.settles, 1, `request ${s.id} settled ${s.settles} times`);
    assert.equal(sends.filter((s) => s.ok).length, resolved);
    for (const r of results) {
      if (r.status === 'rejected') {
        assert.ok(r.reason instanceof QollectiveError, `a ${r.reason?.constructor?.name}: ${r.reason?.message}`);
        assert.ok(r.reason.message.length <= C.Q_MAX_ERROR_MESSAGE_CHARS);
      }
    }
    await sleep(30);  // an attempt started by a stray timer would show up now
    assert.deepEqual(L.lateAttempts, [], 'fetch attempts after their send settled');
    assert.equal(L.inFetch, 0, 'fetches still running');
    const codes = {};
    for (const s of sends) { const k = s.ok ? 'resolved' : s.error.code; codes[k] = (codes[k] ?? 0) + 1; }
    return { resolved, rejected, codes, sends };
  };
  return L;
}

/** Fresh instance and client through the ledger; fast, jitter-free retries unless overridden. */
async function setup(srv, cfg = {}) {
  const L = ledger();
  const q = await Qollective.load(WASM, { fetch: L.fetch });
  const c = q.client({
    ...cfg,
    rest: { base_url: srv.url, ...cfg.rest },
    retry: { base_delay_ms: 20, max_delay_ms: 200, jitter_percent: 0, ...cfg.retry },
  });
  return { q, c, L };
}

/** After close: no client left and the instance's persistent bytes back where they were. */
function assertReleased(q, c, baseline) {
  c.close();
  const m = q.memoryStats();
  assert.equal(m.clients, 0);
  if (baseline !== undefined) assert.equal(m.persistent, baseline, 'persistent bytes back to the baseline');
}

function timers() { return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length; }

// ------------------------------------------------------------------------------------------ resets

test('connection reset mid-body: POST rejects NETWORK at once, GET retries, a one-off reset heals', T(10000), async () => {
  const srv = await server();
  const { q, c, L } = await setup(srv, { retry: { max_attempts: 3 } });
  const t0 = timers();
  srv.setFault({ resetMidBody: true });
  const all = [L.send(c, { n: 1 }), L.send(c, { n: 2 }, { method: 'GET' }), L.send(c, { n: 3 }, { method: 'PUT' })];
  const r1 = await L.settle(all);
  assert.deepEqual(r1.codes, { NETWORK: 3 });
  const [post, get, put] = r1.sends;
  assert.equal(post.attempts, 1, 'POST is not retried');
  assert.equal(get.attempts, 3);
  assert.equal(put.attempts, 3);
  for (const s of r1.sends) {
    assert.equal(s.error.type, 'connection');
    assert.equal(s.error.retryPolicy, 'exponential');
  }
  // the server saw the bodies cut: the fault was real
  assert.ok(srv.stats.requests.every((e) => e.outcome === 'midbody-reset'));
  // one reset, then health: the GET succeeds on its second attempt
  srv.reset();
  srv.setFault({ resetMidBody: true, failTimes: 1 });
  const L2 = await L.settle([L.send(c, { n: 4 }, { method: 'GET' })]);
  assert.equal(L2.sends.at(-1).ok, true);
  assert.equal(L2.sends.at(-1).attempts, 2);
  assert.deepEqual(L2.sends.at(-1).value.payload, { n: 4 });
  assert.equal(timers(), t0, 'no timer left behind');
  assertReleased(q, c);
});

test('truncated bodies and malformed JSON: NETWORK for a short body, NOT_AN_ENVELOPE for a cut envelope', T(10000), async () => {
  const srv = await server();
  const { q, c, L } = await setup(srv, { retry: { max_attempts: 2 } });
  srv.setFault({ truncate: true });
  const a = await L.settle([L.send(c, 'a'), L.send(c, 'b', { method: 'GET' })]);
  assert.deepEqual(a.codes, { NETWORK: 2 });
  assert.deepEqual(a.sends.map((s) => s.attempts), [1, 2]);
  srv.setFault({ malformed: true });
  const L2 = ledger();
  const q2 = await Qollective.load(WASM, { fetch: L2.fetch });
  const c2 = q2.client({ rest: { base_url: srv.url } });
  const b = await L2.settle([L2.send(c2, 'c'), L2.send(c2, 'd', { method: 'GET' })]);
  assert.deepEqual(b.codes, { NOT_AN_ENVELOPE: 2 });
  for (const s of b.sends) {
    assert.equal(s.error.type, 'deserialization');
    assert.equal(s.error.status, 200);
    assert.equal(s.error.retryPolicy, 'immediate');
    assert.match(s.error.message, /HTTP 200 response is not a valid envelope \(application\/json\)/);
  }
  // deserialization failures retry at once (wire-format.md §3), but only where a retry is safe
  assert.deepEqual(b.sends.map((s) => s.attempts), [1, 3]);
  assertReleased(q, c);
  assertReleased(q2, c2);
});

// ------------------------------------------------------------------------------------------ slow loris

test('slow-loris reply: a timeout shorter than the dribble gives TIMEOUT on time; a fast dribble completes', T(10000), async () => {
  const srv = await server();
  const { q, c, L } = await setup(srv);
  const t0 = timers();
  // the reply (~250 bytes) one byte every 40 ms takes ~10 s; the deadline is 400 ms
  srv.setFault({ slowloris: 40, slowlorisChunk: 1 });
  const started = performance.now();
  const r = await L.settle([L.send(c, { x: 'y'.repeat(100) }, { timeout: 400 }), L.send(c, 2, { method: 'GET', timeout: 400 })]);
  const took = performance.now() - started;
  assert.deepEqual(r.codes, { TIMEOUT: 2 });
  for (const s of r.sends) {
    assert.equal(s.error.type, 'timeout');
    assert.equal(s.attempts, 1, 'the deadline covers the whole call: no retry after it');
    assert.ok(s.endedAt - s.startedAt >= 380 && s.endedAt - s.startedAt < 1500, `settled after ${Math.round(s.endedAt - s.startedAt)} ms`);
  }
  assert.ok(took < 1500);
  await sleep(50);
  assert.ok(srv.stats.requests.every((e) => e.outcome === 'slowloris'));
  // 64 bytes every 5 ms: done long before its 3 s deadline
  srv.setFault({ slowloris: 5, slowlorisChunk: 64 });
  const ok = await L.settle([L.send(c, { big: 'z'.repeat(2000) }, { timeout: 3000 })]);
  assert.equal(ok.resolved, 1);
  assert.equal(ok.sends[0].value.payload.big.length, 2000);
  assert.equal(timers(), t0);
  assertReleased(q, c);
});

// ------------------------------------------------------------------------------------------ storms

/** 200 sends spread over ~200 ms while the server fails for at least `stormMs` and until it has
 *  failed a few POSTs (on a loaded machine the first requests can arrive late), then recovers. */
async function storm(fault, { stormMs = 150, expectCode, expectType }) {
  const srv = await server();
  const { q, c, L } = await setup(srv, { retry: { max_attempts: 4, base_delay_ms: 20, max_delay_ms: 100 } });
  const t0 = timers();
  srv.setFault(fault);
  const stormStart = performance.now();
  let stormEnd = Infinity;
  const failedPosts = () => srv.stats.requests.filter((e) => e.method === 'POST' && e.status >= 500).length;
  const calm = (async () => {
    while (performance.now() - stormStart < stormMs || failedPosts() < 3) await sleep(5);
    srv.clearFault();
    stormEnd = performance.now();
  })();
  const sends = [];
  for (let i = 0; i < 200; i++) {
    const method = ['GET', 'POST', 'PUT', 'DELETE'][i % 4];
    sends.push(L.send(c, { i }, { method, timeout: 5000 }));
    if (i % 20 === 19) await sleep(20);
  }
  const r = await L.settle(sends);
  await calm;
  for (const s of r.sends) {
    if (s.ok) { assert.deepEqual(s.value.payload.i !== undefined, true); continue; }
    assert.equal(s.error.code, expectCode, `${s.method}: ${s.error.code} ${s.error.message}`);
    assert.equal(s.error.type, expectType);
    assert.ok(s.error.requestId === s.id, 'the rejection names its request');
    if (s.method === 'POST') assert.equal(s.attempts, 1, 'POST is never retried');
    else assert.equal(s.attempts, 4, `${s.method} rejected after ${s.attempts} attempts`);
  }
  // every send that started after the storm ended resolved; idempotent ones outlasted it by retrying
  for (const s of r.sends) if (s.startedAt > stormEnd + 20) assert.ok(s.ok, `a send started after the storm failed: ${s.error?.code}`);
  const posts = r.sends.filter((s) => s.method === 'POST');
  const rejectedPosts = posts.filter((s) => !s.ok).length;
  const rejectedOthers = r.sends.filter((s) => s.method !== 'POST' && !s.ok).length;
  assert.ok(rejectedPosts > 0, 'the storm hit POSTs');
  assert.ok(rejectedOthers < rejectedPosts, `retries saved idempotent sends: ${rejectedOthers} vs ${rejectedPosts} POSTs`);
  assert.equal(srv.stats.total, r.sends.reduce((n, s) => n + s.attempts, 0), 'the server saw every attempt');
  assert.equal(timers(), t0);
  assertReleased(q, c);
  await srv.close();
  return r;
}

test('5xx storm with envelopes: 200 sends while the server answers 503 for a while', T(15000), async () => {
  const r = await storm({ status: 503 }, { expectCode: 'SERVICE_UNAVAILABLE', expectType: 'remote' });
  assert.ok(r.resolved > 100 && r.rejected > 0, JSON.stringify(r.codes));
});

test('5xx storm without envelopes (plain text 503)', T(15000), async () => {
  const r = await storm({ status: 503, envelope: false }, { expectCode: 'HTTP_STATUS', expectType: 'remote' });
  for (const s of r.sends) if (!s.ok) assert.equal(s.error.status, 503);
});

test('HTML 502 storm from a proxy', T(15000), async () => {
  const r = await storm({ html502: true }, { expectCode: 'HTTP_STATUS', expectType: 'remote' });
  for (const s of r.sends) {
    if (s.ok) continue;
    assert.equal(s.error.status, 502);
    assert.match(s.error.message, /text\/html/);
  }
});

test('HTML 504 and 500-with-envelope pages are told apart and never parsed as JSON', T(10000), async () => {
  const srv = await server();
  const { q, c, L } = await setup(srv, { retry: { max_attempts: 2 } });
  srv.setFault({ html504: true });
  const a = await L.settle([L.send(c, 1), L.send(c, 2, { method: 'GET' })]);
  assert.deepEqual(a.codes, { HTTP_STATUS: 2 });
  for (const s of a.sends) assert.match(s.error.message, /^HTTP 504 without an envelope \(text\/html, \d+ bytes\)$/);
  srv.setFault({ status: 500 });
  const b = await L.settle([L.send(c, 3, { method: 'GET' })]);
  assert.equal(b.sends.at(-1).error.code, 'INTERNAL_SERVER_ERROR');
  assert.equal(b.sends.at(-1).error.status, 500);
  assert.equal(b.sends.at(-1).attempts, 2);
  assertReleased(q, c);
});

// ------------------------------------------------------------------------------------------ restart

test('server restart under 1,000 requests in flight: every send settles once, GETs reach the new server', T(30000), async () => {
  let srv = await server({ handlers: { '/envelope': { type: 'slow', ms: 150 } } });
  const port = srv.port;
  const L = ledger();
  const q = await Qollective.load(WASM, { fetch: L.fetch });
  // warm-up on another client with the same shapes of input (the instance's input buffer only
  // grows, and it is persistent), then the baseline
  {
    const w = q.client({ rest: { base_url: srv.url } });
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.send({ meta: { request_id: randomUUID() }, payload: { i: 1000 + i, pad: 'p'.repeat(64) } },
      { method: i % 2 ? 'GET' : 'POST', timeout: 4000 })));
    w.close();
  }
  const baseline = q.memoryStats();
  assert.equal(baseline.clients, 0);
  const t0 = timers();
  const c = q.client({
    rest: { base_url: srv.url },
    retry: { max_attempts: 6, base_delay_ms: 50, max_delay_ms: 400, jitter_percent: 20 },
    limits: { max_in_flight: 1000 },
  });
  const sends = [];
  for (let i = 0; i < 1000; i++) {
    const method = i % 2 ? 'GET' : 'POST';
    sends.push(L.send(c, { i, pad: 'p'.repeat(64) }, { method, timeout: 10000 }));   // room for a loaded machine
  }
  // mid-way: the old server has taken about half of them, then dies without a word
  await srv.waitForRequests(400, { timeout: 5000 });
  const seenByOld = srv.stats.total;
  await srv.close();
  srv = await server({ port, handlers: { '/envelope': { type: 'slow', ms: 20 } } });
  const r = await L.settle(sends);
  const byMethod = (m, ok) => r.sends.filter((s) => s.method === m && s.ok === ok).length;
  console.log(`# restart: old server saw ${seenByOld}, new server ${srv.stats.total}; `
    + `GET ${byMethod('GET', true)} ok / ${byMethod('GET', false)} failed, POST ${byMethod('POST', true)} ok / ${byMethod('POST', false)} failed; `
    + `${L.attempts} attempts, ${L.maxInFetch} fetches at once; codes ${JSON.stringify(r.codes)}`);
  assert.equal(r.resolved + r.rejected, 1000);
  for (const s of r.sends) {
    if (s.ok) { assert.equal(s.value.payload.i !== undefined, true); assert.equal(s.value.requestId, s.id); continue; }
    assert.ok(['NETWORK', 'TIMEOUT'].includes(s.error.code), `${s.method}: ${s.error.code} ${s.error.message}`);
    assert.equal(s.error.requestId, s.id);
    if (s.method === 'POST') assert.equal(s.attempts, 1);
  }
  assert.ok(srv.stats.total > 0, 'the new server got the retries');
  assert.equal(byMethod('GET', false), 0, 'every GET outlived the restart by retrying');
  assert.ok(byMethod('POST', false) > 0, 'POSTs caught by the restart fail (never retried)');
  assert.ok(r.sends.filter((s) => s.method === 'GET').every((s) => s.ok));
  // the in-flight table is empty: a second full batch of 1,000 fits (max_in_flight is 1,000)
  const again = await L.settle(Array.from({ length: 1000 }, (_, i) => L.send(c, { i }, { method: i % 2 ? 'GET' : 'POST', timeout: 8000 })).concat(sends));
  assert.equal(again.sends.slice(0, 1000).filter((s) => s.ok).length, 1000, JSON.stringify(again.codes));
  assert.equal(timers(), t0, 'no timer left behind');
  assertReleased(q, c, baseline.persistent);
  await srv.close();
});

// ------------------------------------------------------------------------------------------ the end

test('close() under a storm of pending retries: everything rejects ABORTED at once, timers gone', T(10000), async () => {
  const srv = await server();
  const { q, c, L } = await setup(srv, { retry: { max_attempts: 5, base_delay_ms: 2000, max_delay_ms: 4000 } });
  const t0 = timers();
  srv.setFault({ status: 503 });
  const sends = Array.from({ length: 100 }, (_, i) => L.send(c, i, { method: i % 2 ? 'GET' : 'PUT', timeout: 9000 }));
  await srv.waitForRequests(100, { timeout: 3000 });
  await sleep(50);           // every send now waits 2 s to retry
  assert.ok(timers() > t0, 'backoff timers are running');
  const closedAt = performance.now();
  c.close();
  const r = await L.settle(sends);
  assert.deepEqual(r.codes, { ABORTED: 100 });
  for (const s of r.sends) assert.ok(s.endedAt - closedAt < 200, 'rejected promptly');
  assert.equal(timers(), t0, 'the backoff timers were cleared');
  assert.equal(q.memoryStats().clients, 0);
  assert.equal(srv.stats.total, 100, 'no attempt after close');
});

test('nothing is left running: no timers, servers closed (the file exits by itself)', async () => {
  for (const s of [...servers]) await s.close();
  await sleep(50);
  assert.equal(timers(), timersAtStart, `timers: ${process.getActiveResourcesInfo()}`);
  assert.deepEqual(process.getActiveResourcesInfo().filter((r) => /TCPServerWrap|TCPSocketWrap|TCPWrap|Timeout/.test(r)), []);
});
