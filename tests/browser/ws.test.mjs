// ws.test.mjs — the WebSocket transport in headless Chromium with the browser's native WebSocket,
// against the reference WebSocket server (tests/servers/ws-server.mjs) on another origin: round
// trips with full meta, error frames with their source, 1,000 requests in flight, aborts, server
// push, keepalive against a stalled server, and the server killed with 500 requests outstanding.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startWsServer } from '../servers/ws-server.mjs';
import { startStaticServer } from './static-server.mjs';
import { watchCanary } from './canary.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
let srv, site, browser, page, canary;

before(async () => {
  srv = await startWsServer();
  site = await startStaticServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20000 });
  const context = await browser.newContext();
  canary = await watchCanary(context);
  page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(`${site.url}/tests/browser/pages/ws.html`);
  await page.waitForFunction(() => globalThis.wsHarness !== undefined, null, { timeout: 5000 });
});

after(async () => {
  await browser?.close();
  await Promise.all([srv?.close(), site?.close()]);
});

test('round trip with full meta, error frames with source "frame", 1,000 in flight correlated', async () => {
  const r = await page.evaluate(async (url) => {
    const { client, outcome, fire } = globalThis.wsHarness;
    const c = await client({ websocket: { url }, meta: { tenant: 'acme' }, limits: { max_in_flight: 2000 } });
    const s = c.socket();
    const one = await outcome(s.request({ meta: { security: { user_id: 'ada', permissions: [], roles: [] } }, payload: { s: 'héllo' } }));
    const errors = [];
    for (const kind of ['validation', 'security', 'not_found', 'internal']) errors.push(await outcome(s.request({ payload: { __fail: kind } })));
    const many = await fire(s, 1000, { timeout: 20000 });
    c.close();
    return { one, errors, many, origin: location.origin };
  }, srv.url);
  assert.equal(r.one.ok, true);
  assert.deepEqual(r.one.payload, { s: 'héllo' });
  assert.equal(r.one.meta.tenant, 'acme');
  assert.equal(r.one.meta.security.user_id, 'ada');
  assert.equal(r.one.meta.request_id, r.one.requestId);
  assert.deepEqual(r.errors.map((e) => [e.error.code, e.error.status, e.error.type, e.error.source]),
    [['ERROR_FRAME', 400, 'validation', 'frame'], ['ERROR_FRAME', 401, 'security', 'frame'], ['ERROR_FRAME', 404, 'remote', 'frame'], ['ERROR_FRAME', 500, 'remote', 'frame']]);
  assert.deepEqual([r.many.resolved, r.many.rejected, r.many.wrong, r.many.twice, r.many.pending], [1000, 0, 0, 0, 0]);
  assert.notEqual(new URL(r.origin).port, String(srv.port));
});

test('AbortSignal and deadlines; server push through incoming()', async () => {
  const r = await page.evaluate(async (url) => {
    const { client, outcome, sleep } = globalThis.wsHarness;
    const c = await client({ websocket: { url } });
    const s = c.socket(`${url}/push`);
    await s.request({ payload: 0 });
    const ctl = new AbortController();
    const p = s.request({ payload: { __delay: 200 } }, { signal: ctl.signal });
    await sleep(20);
    ctl.abort();
    const aborted = await outcome(p);
    const timedOut = await outcome(s.request({ payload: { __delay: 200 } }, { timeout: 50 }));
    const after = await outcome(s.request({ payload: { i: 'after' } }));
    c.close();
    return { aborted, timedOut, after };
  }, srv.url);
  assert.deepEqual([r.aborted.error.code, r.aborted.error.source], ['ABORTED', 'local']);
  assert.deepEqual([r.timedOut.error.code, r.timedOut.error.source], ['TIMEOUT', 'network']);
  assert.equal(r.after.payload.i, 'after');
  const pushed = page.evaluate(async (url) => {
    const { client } = globalThis.wsHarness;
    const c = await client({ websocket: { url } });
    const s = c.socket(`${url}/push2`);
    await s.request({ payload: 0 });
    globalThis.pushReady = true;
    const it = s.incoming();
    const got = (await it.next()).value.payload;
    c.close();
    return got;
  }, srv.url);
  await page.waitForFunction(() => globalThis.pushReady === true);
  srv.push({ meta: {}, payload: 'from the server' });
  assert.equal(await pushed, 'from the server');
});

test('keepalive detects a stalled server; the server killed with 500 requests outstanding ends every one exactly once', async () => {
  const stale = page.evaluate(async (url) => {
    const { client, sleep } = globalThis.wsHarness;
    const c = await client({ websocket: { url, ping_interval_ms: 100, message_timeout_ms: 100 } });
    const s = c.socket(`${url}/stall`);
    await s.request({ payload: 0 });
    const events = [];
    s.onStatus = (e) => events.push(e.state);
    globalThis.stallReady = true;
    const t0 = performance.now();
    while (!events.includes('stale') && performance.now() - t0 < 3000) await sleep(10);
    c.close();
    return { events, ms: performance.now() - t0 };
  }, srv.url);
  await page.waitForFunction(() => globalThis.stallReady === true);
  srv.setFault({ stall: true });
  const st = await stale;
  srv.clearFault();
  assert.ok(st.events.includes('stale'), JSON.stringify(st));
  assert.ok(st.events.includes('reconnecting'));

  const killed = page.evaluate(async (url) => {
    const { client, fire } = globalThis.wsHarness;
    const c = await client({ websocket: { url }, limits: { max_in_flight: 1000 } });
    const s = c.socket(`${url}/kill`);
    await s.request({ payload: 0 });
    const t = fire(s, 500, { timeout: 3000 }, (i) => ({ i, __delay: i < 100 ? 0 : 50 }));
    globalThis.killReady = true;
    const r = await t;
    c.close();
    return r;
  }, srv.url);
  await page.waitForFunction(() => globalThis.killReady === true);
  await new Promise((r) => setTimeout(r, 30));
  srv.killAll();
  const k = await killed;
  assert.equal(k.resolved + k.rejected, 500, JSON.stringify(k));
  assert.deepEqual([k.twice, k.wrong, k.pending], [0, 0, 0]);
  assert.ok(k.rejected > 0, 'some were in flight when the server died');
});

test('canary: debug log records reached the console, and no console message or page error held the canary', () => {
  assert.ok(canary.seen.records > 0, 'the page logged at debug level (the harness instrumented its clients)');
  assert.equal(canary.leaks(), 0);
});
