// WebSocket benchmark: requests over one socket on loopback with 100, 1,000 and 10,000 in flight,
// the real dist/qollective.wasm through js-glue's Socket against a plain-JS baseline in the same
// run (the `ws` package + JSON.stringify/JSON.parse + a Map for correlation), both talking to the
// reference server (tests/servers/ws-server.mjs, validation and request-id counting off so the
// server costs little).
// Interleaved rounds, medians. Reports envelopes/s, p50/p99 latency, lost requests and the wasm
// memory used at the highest in-flight count. Writes bench/results/ws.json.
//
//   node bench/ws.mjs [--rounds N] [--inflight 100,1000,10000] [--batches N] [--smoke] [--out FILE]
//                     [--wasm FILE] [--glue FILE]   (another core build or glue, for A/B work)
//
// --smoke: one short round per count, no result file; it checks only that everything completes.

import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import WebSocket from 'ws';
import { startWsServer } from '../tests/servers/ws-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i < 0 ? dflt : argv[i + 1]; };
const SMOKE = argv.includes('--smoke');
const ROUNDS = SMOKE ? 1 : Number(opt('rounds', 5));
const INFLIGHT = String(opt('inflight', SMOKE ? '100,1000' : '100,1000,10000')).split(',').map(Number);
const BATCHES = SMOKE ? 1 : Number(opt('batches', 3));     // waves of N in flight per round
const OUT = opt('out', `${HERE}/results/ws.json`);
const WASM = opt('wasm', `${HERE}/../dist/qollective.wasm`);
const GLUE = opt('glue', `${HERE}/../js-glue/qollective.js`);
const { Qollective } = await import(pathToFileURL(GLUE).href);
const PAYLOAD = { op: 'get', id: 12345, tags: ['a', 'b'], note: 'benchmark payload' };
const META = { tenant: 'bench', security: { user_id: 'u1', permissions: [], roles: [] } };

const srv = await startWsServer({ validate: false, countIds: false });
const url = `${srv.url}/bench`;

// Both sides are a request function with the same contract: send one envelope, resolve with the
// reply envelope, reject once its deadline (TIMEOUT) has passed. wave() issues n requests through
// one of them and counts the replies that echo the payload: the same code for both sides.
const TIMEOUT = 60000;

// ---------------------------------------------------------------- the library
const q = await Qollective.load(readFileSync(WASM), { WebSocket });
const client = q.client({ websocket: { url, max_queue: 20000 }, limits: { max_in_flight: 20000 } });
const sock = client.socket();
await sock.request({ payload: 0 });
const libRequest = () => sock.request({ meta: META, payload: PAYLOAD }, { timeout: TIMEOUT });

// ---------------------------------------------------------------- the plain-JS baseline
// What a user writes without the library: the `ws` package, JSON.stringify of the frame with a
// randomUUID() request id, JSON.parse of each reply frame, a Map from request id to the waiting
// request, and the same deadline per request without a timer each: one sweep a second. Every
// request here has the same timeout, so the Map (in insertion order) is in deadline order and
// the sweep stops at the first request still in time.
const base = new WebSocket(url);
await new Promise((r, j) => { base.once('open', r); base.once('error', j); });
const pending = new Map();   // request id -> { resolve, reject, deadline }
base.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  const env = frame.payload;
  const id = env?.meta?.request_id;
  const p = pending.get(id);
  if (p) { pending.delete(id); p.resolve(env); }
});
const sweep = setInterval(() => {
  const now = performance.now();
  for (const [id, p] of pending) {
    if (p.deadline > now) break;
    pending.delete(id);
    p.reject(new Error(`request ${id} timed out`));
  }
}, 1000);
function baseRequest() {
  const id = randomUUID();
  const meta = { timestamp: new Date().toISOString(), request_id: id, version: '1.0', ...META };
  base.send(JSON.stringify({ type: 'envelope', payload: { meta, payload: PAYLOAD } }));
  return new Promise((resolve, reject) => { pending.set(id, { resolve, reject, deadline: performance.now() + TIMEOUT }); });
}

async function wave(request, n, lat) {
  const all = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    all[i] = request().then((env) => {
      lat.push(performance.now() - t);
      return env.payload.id === PAYLOAD.id ? 1 : 0;
    }, () => 0);
  }
  return (await Promise.all(all)).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------- runs
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const median = (a) => pct(a, 0.5);

// at least this many requests per measurement (small in-flight counts run more waves), so a
// measurement is not a few milliseconds that one burst from another process decides
const MIN_REQUESTS = SMOKE ? 0 : 3000;

async function measure(kind, n) {
  const lat = [], waves = Math.max(BATCHES, Math.ceil(MIN_REQUESTS / n));
  let ok = 0;
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let b = 0; b < waves; b++) ok += await wave(kind === 'lib' ? libRequest : baseRequest, n, lat);
  const ms = performance.now() - t0, cpu = process.cpuUsage(c0);
  return { rate: (n * waves) / (ms / 1000), cpuUsPerRequest: (cpu.user + cpu.system) / (n * waves),
    p50: pct(lat, 0.5), p99: pct(lat, 0.99), lost: n * waves - ok };
}

const rows = [];
let peak = null;
for (const n of INFLIGHT) {
  await measure('lib', Math.min(n, 1000)); await measure('base', Math.min(n, 1000)); // warm-up
  const lib = [], bl = [];
  for (let r = 0; r < ROUNDS; r++) {
    // interleaved, alternating which goes first
    if (r % 2) { bl.push(await measure('base', n)); lib.push(await measure('lib', n)); }
    else { lib.push(await measure('lib', n)); bl.push(await measure('base', n)); }
  }
  const sum = (list) => ({
    rate: median(list.map((x) => x.rate)), p50: median(list.map((x) => x.p50)), p99: median(list.map((x) => x.p99)),
    cpuUsPerRequest: median(list.map((x) => x.cpuUsPerRequest)), lost: list.reduce((a, x) => a + x.lost, 0),
  });
  const row = { inFlight: n, lib: sum(lib), baseline: sum(bl) };
  // the median of each round's ratio (its two runs are back to back), so a slow spell of the
  // machine lands on both sides of a pair rather than on one side's median
  row.ratio = median(lib.map((x, i) => x.rate / bl[i].rate));
  row.cpuRatio = median(lib.map((x, i) => bl[i].cpuUsPerRequest / x.cpuUsPerRequest));
  rows.push(row);
  if (n === Math.max(...INFLIGHT)) {
    const m = q.memoryStats();
    peak = { inFlight: n, wasmMemoryBytes: q.x.memory.buffer.byteLength, arenaFootprint: m.footprint, persistent: m.persistent };
  }
}

const fmt = (x, d = 0) => x.toFixed(d).padStart(9);
console.log('in flight |   lib env/s  p50 ms  p99 ms lost | base env/s  p50 ms  p99 ms lost | lib/base | CPU µs/req lib  base  base/lib');
for (const r of rows) {
  console.log(`${String(r.inFlight).padStart(9)} | ${fmt(r.lib.rate)} ${fmt(r.lib.p50, 1)} ${fmt(r.lib.p99, 1)} ${String(r.lib.lost).padStart(4)} | `
    + `${fmt(r.baseline.rate)} ${fmt(r.baseline.p50, 1)} ${fmt(r.baseline.p99, 1)} ${String(r.baseline.lost).padStart(4)} | ${r.ratio.toFixed(2).padStart(8)} | `
    + `${fmt(r.lib.cpuUsPerRequest, 1).padStart(14)} ${fmt(r.baseline.cpuUsPerRequest, 1).padStart(5)} ${r.cpuRatio.toFixed(2).padStart(9)}`);
}
console.log(`wasm memory at ${peak.inFlight} in flight: ${(peak.wasmMemoryBytes / 1048576).toFixed(2)} MiB (arena footprint ${(peak.arenaFootprint / 1048576).toFixed(2)} MiB)`);

// goals (issue 11 item 11): reported; lost requests and memory over the cap fail the run
const MEMORY_CAP = 4 * 1048576;
const slow = rows.filter((r) => r.ratio < 1).map((r) => `${r.inFlight} (${r.ratio.toFixed(2)})`);
console.log(`goal throughput >= baseline at every in-flight count: ${slow.length ? `MISSED at ${slow.join(', ')}` : 'met'}`);
console.log(`goal wasm memory <= 4 MiB at ${peak.inFlight} in flight: ${peak.wasmMemoryBytes <= MEMORY_CAP ? 'met' : 'MISSED'}`);
const lost = rows.reduce((a, r) => a + r.lib.lost + r.baseline.lost, 0);
clearInterval(sweep); sock.close(); client.close(); base.close(); await srv.close();
if (lost) { console.error(`bench ws: ${lost} requests lost`); process.exit(1); }
if (peak.wasmMemoryBytes > MEMORY_CAP) { console.error(`bench ws: wasm memory ${peak.wasmMemoryBytes} B over 4 MiB`); process.exit(1); }
if (!SMOKE) {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, load: os.loadavg(),
    rounds: ROUNDS, batches: BATCHES, rows, peak }, null, 2) + '\n');
}
