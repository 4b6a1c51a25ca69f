// Load-time benchmark: headless Chromium loads a page that imports the shipped glue and loads
// each core module from a local static server that sends every file brotli-compressed
// (Content-Encoding: br), under no throttling, Fast 3G and Slow 3G (CDP
// Network.emulateNetworkConditions). Per module and condition: time from navigation to
// ready-to-send (module loaded; for the client module also a client made), the same page with an
// empty script as the zero line, and compile + instantiate alone. Writes bench/results/load.json.
//
//   node bench/load.mjs [--runs N] [--slow-runs N] [--out FILE]
//
// The module list is whatever dist/*.wasm holds. See bench/README.md.

import http from 'node:http';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { brotliCompressSync, constants as zc } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i < 0 ? dflt : argv[i + 1]; };
const RUNS = Number(opt('runs', 7));
const SLOW_RUNS = Number(opt('slow-runs', 3));
const OUT = opt('out', join(HERE, 'results/load.json'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Chrome DevTools' presets (throughput in bytes/s, latency in ms)
const CONDITIONS = [
  { name: 'no throttling', latency: 0, downloadThroughput: -1, uploadThroughput: -1, runs: RUNS },
  { name: 'Fast 3G', latency: 562.5, downloadThroughput: (1.6 * 1024 * 1024 / 8) * 0.9, uploadThroughput: (750 * 1024 / 8) * 0.9, runs: RUNS },
  { name: 'Slow 3G', latency: 2000, downloadThroughput: (500 * 1024 / 8) * 0.8, uploadThroughput: (500 * 1024 / 8) * 0.8, runs: SLOW_RUNS },
];

// ---------------------------------------------------------------- what is served
const MODULES = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.wasm')).sort();
if (!MODULES.length) throw new Error('no dist/*.wasm: run make first');
const GLUE = 'dist/qollective.min.js';

// The pages, each reporting performance.now() (ms since navigation start) when ready:
//   empty      an empty module script: the zero line (HTML, one round trip)
//   glue       imports the glue, loads no module: what the glue alone costs
//   <m>        imports the glue, then loads module m: the wasm request starts only once the glue
//              has run, so it adds a round trip after the glue's
//   <m> + preload  the same with <link rel=preload> for m: its request starts with the page's
// Ready means ready to send: the module loaded and, on the client module, a client made.
const html = (head, body) => `<!doctype html><meta charset="utf-8"><title>load</title>${head}<script type="module">${body}</script>`;
const loadScript = (m) => `
    import { Qollective } from '/${GLUE}';
    const q = await Qollective.load('/dist/${m}');
    if (q.module !== 'codec') q.client({ rest: { base_url: 'http://127.0.0.1:9' } }).close();
    globalThis.ready = { at: performance.now() };`;
const PAGES = {
  '/empty.html': html('', 'globalThis.ready = { at: performance.now() };'),
  '/glue.html': html('', `import { Qollective } from '/${GLUE}'; globalThis.ready = { at: performance.now(), ok: !!Qollective };`),
};
for (const m of MODULES) {
  PAGES[`/load-${m}.html`] = html('', loadScript(m));
  PAGES[`/preload-${m}.html`] = html(`<link rel="preload" href="/dist/${m}" as="fetch" type="application/wasm" crossorigin>`, loadScript(m));
}

const files = new Map();
const serve = (path, type, body) => {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const br = brotliCompressSync(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: raw.length } });
  files.set(path, { type, raw: raw.length, br });
};
for (const [path, html] of Object.entries(PAGES)) serve(path, 'text/html; charset=utf-8', html);
serve(`/${GLUE}`, 'text/javascript; charset=utf-8', readFileSync(join(ROOT, GLUE)));
for (const m of MODULES) serve(`/dist/${m}`, 'application/wasm', readFileSync(join(ROOT, 'dist', m)));

const server = http.createServer((req, res) => {
  const f = files.get(req.url.split('?')[0]);
  if (!f) { res.writeHead(404, { 'cache-control': 'no-store' }); res.end(); return; }
  res.writeHead(200, { 'content-type': f.type, 'content-encoding': 'br', 'content-length': f.br.length, 'cache-control': 'no-store' });
  res.end(f.br);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------- the browser
const profile = mkdtempSync(join(tmpdir(), 'qollective-load-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true, timeout: 30000,
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r1 = (v) => Math.round(v * 10) / 10;

/** One navigation under `cond`; returns ms from navigation start to ready. */
async function navigate(path, cond) {
  const p = await context.newPage();
  try {
    const cdp = await context.newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: cond.latency,
      downloadThroughput: cond.downloadThroughput, uploadThroughput: cond.uploadThroughput });
    await p.goto(ORIGIN + path, { timeout: 120000 });
    await p.waitForFunction(() => globalThis.ready !== undefined, null, { timeout: 120000, polling: 10 });
    return await p.evaluate(() => globalThis.ready);
  } finally {
    await p.close();
  }
}

/** Compile + instantiate alone, in the page, from bytes already there: median of 15. */
async function instantiate(module) {
  const p = await context.newPage();
  try {
    await p.goto(`${ORIGIN}/empty.html`);
    return await p.evaluate(async (url) => {
      const bytes = await (await fetch(url)).arrayBuffer();
      const c = [], i = [];
      for (let k = 0; k < 15; k++) {
        const t0 = performance.now();
        const mod = await WebAssembly.compile(bytes);
        const t1 = performance.now();
        await WebAssembly.instantiate(mod, {});
        const t2 = performance.now();
        c.push(t1 - t0); i.push(t2 - t1);
      }
      const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
      return { compileMs: med(c), instantiateMs: med(i), totalMs: med(c.map((v, k) => v + i[k])) };
    }, `/dist/${module}`);
  } finally {
    await p.close();
  }
}

const version = context.browser()?.version() ?? (await (async () => { const p = await context.newPage(); const v = await p.evaluate(() => navigator.userAgent); await p.close(); return v; })());
console.log(`qollective load benchmark — ${version}; files served brotli -q 11; medians`);
console.log(`  glue ${GLUE}: ${files.get(`/${GLUE}`).raw} B raw, ${files.get(`/${GLUE}`).br.length} B br`);
for (const m of MODULES) console.log(`  dist/${m}: ${files.get(`/dist/${m}`).raw} B raw, ${files.get(`/dist/${m}`).br.length} B br`);

const VARIANTS = [['glue only', () => '/glue.html'], ...MODULES.flatMap((m) => [
  [m, () => `/load-${m}.html`], [`${m} + preload`, () => `/preload-${m}.html`]])];
const rows = [];
for (const cond of CONDITIONS) {
  const zero = [], samples = VARIANTS.map(() => []);
  // interleaved: zero line, then each variant, run after run
  for (let k = 0; k < cond.runs; k++) {
    zero.push((await navigate('/empty.html', cond)).at);
    for (const [i, [, path]] of VARIANTS.entries()) samples[i].push((await navigate(path(), cond)).at);
  }
  const z = median(zero), glue = median(samples[0]);
  for (const [i, [name]] of VARIANTS.entries()) {
    const ready = median(samples[i]);
    rows.push({ condition: cond.name, page: name, runs: cond.runs, zeroMs: r1(z), readyMs: r1(ready), overEmptyMs: r1(ready - z),
      moduleShareMs: i === 0 ? null : r1(ready - glue), samples: samples[i].map(r1), zeroSamples: zero.map(r1) });
  }
}
const inst = {};
for (const m of MODULES) inst[m] = await instantiate(m);

await context.close();
server.close();
rmSync(profile, { recursive: true, force: true });

console.log(`\n${'condition'.padEnd(14)} ${'page'.padEnd(34)} ${'empty page'.padStart(11)} ${'ready'.padStart(10)} ${'over empty'.padStart(11)} ${'module share'.padStart(13)}`);
for (const r of rows) {
  console.log(`${r.condition.padEnd(14)} ${r.page.padEnd(34)} ${(r.zeroMs + ' ms').padStart(11)} ${(r.readyMs + ' ms').padStart(10)} ` +
    `${(r.overEmptyMs + ' ms').padStart(11)} ${(r.moduleShareMs === null ? '' : r.moduleShareMs + ' ms').padStart(13)}`);
}
console.log('(module share = ready - ready of the glue-only page)');
console.log('\ncompile + instantiate from bytes in the page (median of 15):');
for (const m of MODULES) console.log(`  ${m.padEnd(24)} compile ${r1(inst[m].compileMs)} ms + instantiate ${r1(inst[m].instantiateMs)} ms = ${r1(inst[m].totalMs)} ms`);

const row = (cond, page) => rows.find((r) => r.condition === cond && r.page === page);
const codec = MODULES.find((m) => /codec/.test(m));
const goals = [
  { goal: 'compile + instantiate ≤ 5 ms (every module)', met: MODULES.every((m) => inst[m].totalMs <= 5),
    value: Object.fromEntries(MODULES.map((m) => [m, r1(inst[m].totalMs)])) },
  ...(codec ? [{ goal: 'codec module share of load time under Fast 3G ≤ 150 ms (with preload)', met: row('Fast 3G', `${codec} + preload`).moduleShareMs <= 150,
    value: { preload: row('Fast 3G', `${codec} + preload`).moduleShareMs, 'no preload': row('Fast 3G', codec).moduleShareMs } }] : []),
  { goal: 'ready ≤ 2 s under Fast 3G (every module, without preload)', met: MODULES.every((m) => row('Fast 3G', m).readyMs <= 2000),
    value: Object.fromEntries(MODULES.map((m) => [m, row('Fast 3G', m).readyMs])) },
];
console.log('\ngoals (not a gate):');
for (const g of goals) console.log(`  ${g.met ? 'met   ' : 'MISSED'} ${g.goal}: ${JSON.stringify(g.value)}`);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ benchmark: 'load', date: new Date().toISOString(), browser: version, node: process.version,
  conditions: CONDITIONS, files: Object.fromEntries([...files].map(([p, f]) => [p, { raw: f.raw, br: f.br.length }])),
  rows, instantiate: inst, goals }, null, 2)}\n`);
console.log(`\nwrote ${OUT.replace(`${HERE}/`, 'bench/')}`);
