// Memory to decode an envelope (issue 9 item 3). Goal: the arena's whole footprint (every heap
// page the core took from the host, input buffer included) after decoding an envelope of n bytes
// stays within 2 n + 256 KiB, and so does the growth of memory.buffer.byteLength — starting from
// a fresh instance, whatever the envelope holds. The adversarial envelopes below are the shapes
// that cost most per byte: 1-byte numbers (an array element every 2 bytes), short strings, many
// small map entries, deep nesting; in the payload, the error details and the meta. Checked on
// q.decode (codec and client modules, bytes and strings), on a REST send whose reply is an error
// envelope from the reference server, and on a WebSocket reply frame; the same decodes succeed
// under memoryLimit: 4 MiB. A memory assertion, not a timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { startRestServer } from '../servers/rest-server.mjs';
import { startWsServer } from '../servers/ws-server.mjs';

const KiB = 1024, MiB = 1024 * KiB;
const FILES = { codec: 'dist/qollective-codec.wasm', client: 'dist/qollective.wasm' };
const BYTES = Object.fromEntries(Object.entries(FILES).map(([m, f]) => [m, readFileSync(new URL(`../../${f}`, import.meta.url))]));
const bound = (n) => 2 * n + 256 * KiB;
const te = new TextEncoder();

// ---- adversarial envelopes -------------------------------------------------------------------

const META = '{"timestamp":"2026-12-04T23:00:00Z","request_id":"0190f3c4-5b6a-7c8d-9e0f-112233445566","version":"1.0"}';
/** n elements "x" joined by commas, as many as fit in `bytes` (each element costs its length + 1). */
const fill = (x, bytes) => new Array(Math.max(1, Math.floor(bytes / (x.length + 1)))).fill(x).join(',');
const nest = (depth, open, close, inner) => open.repeat(depth) + inner + close.repeat(depth);
/** A meta of exactly about `bytes` whose extensions hold `inner` (a JSON value). */
const metaWith = (section) => `{"timestamp":"2026-12-04T23:00:00Z","version":"1.0",${section}}`;
const errorEnv = (details) => `{"meta":${META},"payload":null,"error":{"code":"HANDLER_ERROR","message":"big details","details":${details},"http_status_code":400}}`;

const SHAPES = {
  // under the default limits.max_error_bytes (64 KiB): the error decodes
  'error.details: 1-byte numbers, 60 KB': () => errorEnv(`[${fill('0', 60000)}]`),
  'error.details: short strings, 60 KB': () => errorEnv(`[${fill('"a"', 60000)}]`),
  'error.details: 120 nested arrays of 1-byte numbers': () => errorEnv(nest(120, '[', ']', fill('0', 50000))),
  'meta 64 KiB: extensions full of 1-byte numbers': () => `{"meta":${metaWith(`"extensions":{"n":[${fill('0', 65000)}]}`)},"payload":null}`,
  'meta 64 KiB: extensions with many small entries': () => `{"meta":${metaWith(`"extensions":{${Array.from({ length: 7400 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`)},"payload":null}`,
  'meta 64 KiB: security.roles of short strings': () => `{"meta":${metaWith(`"security":{"roles":[${fill('"r"', 64900)}]}`)},"payload":null}`,
  'meta 64 KiB: tracing.tags with many small entries': () => `{"meta":${metaWith(`"tracing":{"tags":{${Array.from({ length: 7400 }, (_, i) => `"${i.toString(36)}":1`).join(',')}}}`)},"payload":null}`,
  'meta: extensions nested 120 deep': () => `{"meta":${metaWith(`"extensions":{"d":${nest(120, '{"a":', '}', '0')}}`)},"payload":null}`,
  'payload: 1-byte numbers, 600 KB': () => `{"meta":${META},"payload":[${fill('0', 600000)}]}`,
  'payload: short strings, 600 KB': () => `{"meta":${META},"payload":[${fill('"a"', 600000)}]}`,
  'payload: non-ASCII text, 600 KB': () => `{"meta":${META},"payload":"${'ä'.repeat(300000)}"}`,
  'payload: ASCII text ending in one non-ASCII character, 600 KB': () => `{"meta":${META},"payload":"${'a'.repeat(600000)}é"}`,
  'payload: 126 nested arrays': () => `{"meta":${META},"payload":${nest(126, '[', ']', fill('0', 600000))}}`,
};
// over the default error cap: refused with TOO_LARGE at `error`, within the same memory
const BIG_ERROR = errorEnv(`[${fill('0', 600000)}]`);

/** Loads a fresh instance; the module's first call has not happened yet. */
async function fresh(module, options = {}) {
  const q = await Qollective.load(BYTES[module], { WebSocket, ...options });
  return { q, wasm0: q.x.memory.buffer.byteLength };
}

/** Asserts the decode's memory bound for an input of n bytes; returns the figures. */
function assertBound(label, q, wasm0, n) {
  const stats = q.memoryStats();
  const wasm = q.x.memory.buffer.byteLength;
  const fig = `${label}: ${n} B in; core footprint ${(stats.footprint / MiB).toFixed(2)} MB, linear memory ${(wasm0 / MiB).toFixed(2)} -> ${(wasm / MiB).toFixed(2)} MB; bound ${(bound(n) / MiB).toFixed(2)} MB`;
  assert.ok(stats.footprint <= bound(n), `core footprint over 2n + 256 KiB: ${fig}`);
  assert.ok(wasm - wasm0 <= bound(n), `linear memory grew over 2n + 256 KiB: ${fig}`);
  return fig;
}

for (const module of ['codec', 'client']) {
  for (const [name, make] of Object.entries(SHAPES)) {
    test(`${module} module, q.decode: ${name}`, async (t) => {
      const text = make();
      const bytes = te.encode(text);
      for (const [how, input] of [['bytes', bytes], ['string', text]]) {
        const { q, wasm0 } = await fresh(module);
        const env = q.decode(input);
        assert.equal(env.meta.version, '1.0');
        t.diagnostic(assertBound(`${how}`, q, wasm0, bytes.length));
        // the same under a 4 MiB memory limit
        const small = (await fresh(module, { memoryLimit: 4 * MiB })).q;
        assert.equal(small.decode(input).meta.version, '1.0');
      }
    });
  }

  test(`${module} module, q.decode: a 600 KB error object is refused (limits.max_error_bytes) within the bound`, async (t) => {
    const bytes = te.encode(BIG_ERROR);
    const { q, wasm0 } = await fresh(module);
    assert.throws(() => q.decode(bytes), (e) => e instanceof QollectiveError && e.code === 'TOO_LARGE' && e.path === 'error');
    t.diagnostic(assertBound('refused', q, wasm0, bytes.length));
  });
}

test('client module, q.decode with limits.max_error_bytes 1 MiB: the 600 KB error decodes within the bound, also under memoryLimit 4 MiB', async (t) => {
  const bytes = te.encode(BIG_ERROR);
  for (const memoryLimit of [0, 4 * MiB]) {
    const { q } = await fresh('client', { memoryLimit });
    const c = q.client({ limits: { max_error_bytes: MiB } });
    const s0 = q.memoryStats().footprint, wasm0 = q.x.memory.buffer.byteLength;
    const env = q.decode(bytes, c.h);
    assert.equal(env.error.code, 'HANDLER_ERROR');
    assert.equal(env.error.details.length, 300000);
    const fig = assertBound(`memoryLimit ${memoryLimit}`, q, wasm0, bytes.length);
    t.diagnostic(`${fig}; the client's own state ${(s0 / MiB).toFixed(2)} MB before`);
  }
});

// ---- REST: the reference server answers with a big error envelope ------------------------------

let rest, ws;
before(async () => {
  const thrower = (details) => () => { throw { envelopeError: { code: 'HANDLER_ERROR', message: 'big details', details, http_status_code: 400 } }; };
  rest = await startRestServer({
    handlers: {
      '/numbers': thrower(new Array(300000).fill(0)),
      '/strings': thrower(new Array(150000).fill('a')),
    },
  });
  const replyError = (details) => () => ({ error: { code: 'HANDLER_ERROR', message: 'big details', details, http_status_code: 400 } });
  ws = await startWsServer({
    handlers: {
      '/numbers': replyError(new Array(300000).fill(0)),
      '/strings': replyError(new Array(150000).fill('a')),
      '/payload': () => ({ payload: new Array(300000).fill(0) }),
    },
  });
});
after(async () => { await rest?.close(); await ws?.close(); });

for (const route of ['/numbers', '/strings']) {
  test(`REST send: a ~600 KB error envelope (${route}) from the reference server, within the bound`, async (t) => {
    for (const memoryLimit of [0, 4 * MiB]) {
      const { q } = await fresh('client', { memoryLimit });
      const c = q.client({ rest: { base_url: rest.url, route }, limits: { max_error_bytes: MiB } });
      const wasm0 = q.x.memory.buffer.byteLength;
      let err;
      try { await c.send({ payload: null }); } catch (e) { err = e; }
      assert.ok(err instanceof QollectiveError, `expected a rejection, got ${err}`);
      assert.equal(err.code, 'HANDLER_ERROR');
      assert.equal(err.source, 'envelope');
      assert.equal(err.details.length, route === '/numbers' ? 300000 : 150000);
      t.diagnostic(assertBound(`memoryLimit ${memoryLimit}`, q, wasm0, 600000));   // the body is a little over 600 KB
      c.close();
    }
  });
}

test('REST send: with the default limits.max_error_bytes the 600 KB error envelope is refused clearly', async () => {
  const { q } = await fresh('client');
  const c = q.client({ rest: { base_url: rest.url, route: '/numbers' } });
  let err;
  try { await c.send({ payload: null }); } catch (e) { err = e; }
  assert.ok(err instanceof QollectiveError);
  assert.equal(err.status, 400);
  assert.match(err.message, /max_error_bytes/);
  c.close();
});

// ---- WebSocket: reply frames -------------------------------------------------------------------

for (const route of ['/numbers', '/strings', '/payload']) {
  test(`WebSocket reply frame of ~600 KB (${route}), within the bound`, async (t) => {
    for (const memoryLimit of [0, 4 * MiB]) {
      const { q } = await fresh('client', { memoryLimit });
      const c = q.client({ websocket: { url: ws.url + route }, limits: { max_error_bytes: MiB } });
      const s = c.socket(ws.url + route);
      const wasm0 = q.x.memory.buffer.byteLength;
      let env, err;
      try { env = await s.request({ payload: null }); } catch (e) { err = e; }
      if (route === '/payload') {
        assert.ok(env, `expected a reply, got ${err}`);
        assert.equal(env.payload.length, 300000);
      } else {
        assert.ok(err instanceof QollectiveError, `expected a rejection, got ${err}`);
        assert.equal(err.code, 'HANDLER_ERROR');
        assert.equal(err.source, 'envelope');
        // a reply frame's error carries the whole error object as details
        assert.equal(err.details.details.length, route === '/numbers' ? 300000 : 150000);
      }
      t.diagnostic(assertBound(`memoryLimit ${memoryLimit}`, q, wasm0, 600000));
      c.close();
    }
  });
}

// ---- many decodes: flat JS heap and wasm memory ---------------------------------------------
// q.decode builds `meta` from the core's tape kept in one array of the instance (issue 10 item 4):
// over 200,000 decodes (ASCII and non-ASCII metas, strings and bytes, a 3,000-unit string that the
// client modules take in as UTF-16 in Node (q_input_utf16), meta and payload read,
// nothing kept) the JS heap after full collections and the wasm memory stay flat. A child process
// with --expose-gc; an Envelope or input kept per decode would grow the heap by 100 B or more each.
for (const module of Object.keys(FILES)) {
  test(`${module} module: 200,000 decodes with meta read keep a flat JS heap and wasm memory`, async (t) => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const child = new URL('./decode-heap-child.mjs', import.meta.url).pathname;
    const file = new URL(`../../${FILES[module]}`, import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', child, file, '20000,220000'], { encoding: 'utf8' });
    const [a, b] = JSON.parse(stdout).points;
    t.diagnostic(`JS heap after GC ${(a.heap / MiB).toFixed(2)} -> ${(b.heap / MiB).toFixed(2)} MiB over ${b.decodes - a.decodes} decodes; wasm ${a.wasm} -> ${b.wasm} B`);
    assert.ok(b.heap - a.heap < 1 * MiB, `JS heap grew ${b.heap - a.heap} B`);
    assert.equal(b.wasm, a.wasm, 'wasm memory did not grow');
  });
}
