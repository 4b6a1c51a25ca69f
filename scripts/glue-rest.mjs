#!/usr/bin/env node
// Builds the REST glue: js-glue/qollective.js bundled for pages that load dist/qollective-rest.wasm
// (QOLLECTIVE_REST_ONLY: no Socket, no TLS calls), with the detail texts and status messages that
// no source of the REST module uses (WebSocket, TLS) left as empty lines: every other detail id
// keeps its place, and such a marker would read as "detail N" or the status name. Usage: node scripts/glue-rest.mjs OUT.js SOURCE.c...  (the Makefile passes
// the REST module's sources, rest_SRC). The source map carries the glue's source as it was read.
import { build } from 'esbuild';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const [out, ...sources] = process.argv.slice(2);
const read = (p) => readFileSync(root + p, 'utf8');
const headers = readdirSync(root + 'src').filter((f) => f.endsWith('.h')).map((f) => `src/${f}`);
const text = [...sources, ...headers].map(read).join('\n');
const used = new Set([...text.matchAll(/QD\((\w+)\)/g)].map((m) => m[1]));
const statuses = new Set([...text.matchAll(/Q_ERR\((\w+)\)/g)].map((m) => m[1]));
const DETAIL = [...read('src/error_detail.h').matchAll(/X\((\w+),\s*"(?:[^"\\]|\\.)*"\)/g)].map((m) => m[1]);
if (sources.length < 10 || used.size < 100 || DETAIL.length < 100) throw new Error(`glue-rest: ${sources.length} sources, ${used.size} details used of ${DETAIL.length}`);

// The glue's detail lines: CODEC_DETAILS then CLIENT_DETAILS, in the order of the C table; its
// status lines ("NAME text"): a status no REST source returns (WebSocket, TLS) reads as its name.
function keepUsedText(src) {
  let id = 0;
  return src
    .replace(/^const (CODEC|CLIENT)_DETAILS = `([^`]*)`;$/gm, (all, which, body) =>
      `const ${which}_DETAILS = \`${body.split('\n').map((line) => (used.has(DETAIL[id++]) ? line : '')).join('\n')}\`;`)
    .replace(/^const (CODEC|CLIENT)_MESSAGES = `([^`]*)`;$/gm, (all, which, body) =>
      `const ${which}_MESSAGES = \`${body.split('\n').map((line) => (statuses.has(line.split(' ')[0]) ? line : '')).join('\n')}\`;`);
}

const glue = root + 'js-glue/qollective.js';
await build({
  stdin: { contents: "export { Qollective, QollectiveError, Envelope, Client } from './js-glue/qollective.js';", resolveDir: root, sourcefile: 'qollective-rest.js' },
  bundle: true, external: ['node:*'], minify: true, sourcemap: true, format: 'esm', target: 'es2020', logLevel: 'warning',
  define: { 'globalThis.QOLLECTIVE_CODEC_ONLY': 'false', 'globalThis.QOLLECTIVE_REST_ONLY': 'true' },
  outfile: out,
  plugins: [{
    name: 'rest-details',
    setup(b) { b.onLoad({ filter: /js-glue[\\/]qollective\.js$/ }, (a) => ({ contents: a.path === glue ? keepUsedText(readFileSync(a.path, 'utf8')) : undefined, loader: 'js' })); },
  }],
});
