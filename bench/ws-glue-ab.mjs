// WebSocket A/B of two glues without a socket, in one process: the library's own CPU a request (glue +
// core), for glue changes too small for bench/ws.mjs's run-to-run spread. A fake `ws` takes the glue's
// frames on its raw socket; each request frame is unmasked and handed back as its reply (the request
// envelope echoed: the core validates it as a reply). Waves of N in flight, ROUNDS rounds alternating
// which glue goes first, median CPU µs a request of each; B/A < 1: B is cheaper.
//
//   node bench/ws-glue-ab.mjs --a OLD_GLUE.js [--b js-glue/qollective.js] [--wasm dist/qollective.wasm] [--n 10000] [--waves 4] [--rounds 6]
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventEmitter } from 'node:events';
const argv = process.argv.slice(2);
const opt = (name, d) => { const i = argv.indexOf(`--${name}`); return i < 0 ? d : argv[i + 1]; };
const N = Number(opt('n', 10000)), WAVES = Number(opt('waves', 4)), ROUNDS = Number(opt('rounds', 6));
const HERE = dirname(fileURLToPath(import.meta.url));
const glues = [opt('a', `${HERE}/../js-glue/qollective.js`), opt('b', `${HERE}/../js-glue/qollective.js`)];
const wasm = readFileSync(opt('wasm', `${HERE}/../dist/qollective.wasm`));
const PAYLOAD = { op: 'get', id: 12345, tags: ['a', 'b'], note: 'benchmark payload' };
const META = { tenant: 'bench', security: { user_id: 'u1', permissions: [], roles: [] } };
class Raw { constructor(ws) { this.ws = ws; this.writable = true; } cork() {} uncork() {}
  write(chunk) { // frames -> replies, delivered on a later turn
    const out = [];
    for (let at = 0; at < chunk.length;) {
      const b1 = chunk[at + 1] & 127, hl = b1 === 126 ? 4 : 2, n = b1 === 126 ? (chunk[at + 2] << 8 | chunk[at + 3]) : b1;
      const k = at + hl, t = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) t[i] = chunk[k + 4 + i] ^ chunk[k + (i & 3)];
      out.push(t); at = k + 4 + n;
    }
    setImmediate(() => { for (const t of out) this.ws.emit('message', t, false); });
    return true;
  } }
class FakeWs extends EventEmitter {
  constructor() { super(); this.readyState = 0; this._socket = new Raw(this); this.extensions = ''; this.bufferedAmount = 0;
    setImmediate(() => { this.readyState = 1; this.onopen?.(); }); }
  send(text) { const t = Buffer.from(text); setImmediate(() => this.emit('message', t, false)); }
  close() { this.readyState = 3; }
}
const sides = [];
for (const g of glues) {
  const { Qollective } = await import(pathToFileURL(g).href + `?${sides.length}`);   // two module instances
  const q = await Qollective.load(wasm, { WebSocket: FakeWs });
  const client = q.client({ websocket: { url: 'ws://fake/x', max_queue: 20000 }, limits: { max_in_flight: 20000 } });
  const sock = client.socket();
  await sock.request({ payload: 0 });
  sides.push(() => sock.request({ meta: META, payload: PAYLOAD }, { timeout: 60000 }));
}
async function wave(request, n) {
  const all = new Array(n);
  for (let i = 0; i < n; i++) all[i] = request().then((env) => env.payload.id === PAYLOAD.id ? 1 : 0, () => 0);
  return (await Promise.all(all)).reduce((a, b) => a + b, 0);
}
async function measure(k) { const c0 = process.cpuUsage(); let ok = 0; for (let w = 0; w < WAVES; w++) ok += await wave(sides[k], N);
  const c = process.cpuUsage(c0); if (ok !== N * WAVES) throw new Error('lost'); return (c.user + c.system) / (N * WAVES); }
for (const k of [0, 1]) await measure(k);
const res = [[], []];
for (let r = 0; r < ROUNDS; r++) for (const k of r % 2 ? [1, 0] : [0, 1]) res[k].push(await measure(k));
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`N=${N} A ${glues[0]}: min ${Math.min(...res[0]).toFixed(2)} med ${med(res[0]).toFixed(2)} | B ${glues[1]}: min ${Math.min(...res[1]).toFixed(2)} med ${med(res[1]).toFixed(2)} us/req | B/A med ${(med(res[1]) / med(res[0])).toFixed(3)}`);
process.exit(0);
