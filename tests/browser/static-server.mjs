// static-server.mjs — a tiny static file server for the browser tests and the browser example.
// Serves only js-glue/, dist/, examples/browser/, tests/browser/pages/ and tests/canary/ of the repository, by
// their repository paths, with the MIME types browsers insist on (application/wasm, text/javascript).
//
// Usage (library): const s = await startStaticServer({ root, wasmType }); page.goto(s.url + '/tests/browser/pages/harness.html'); await s.close();
// Usage (CLI):     node tests/browser/static-server.mjs [--port 8000] [--host 127.0.0.1] [--wasm-type application/octet-stream]

import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** URL prefixes (= repository folders) that are served; everything else is a 404. */
export const SERVED_PREFIXES = Object.freeze(['/js-glue/', '/dist/', '/examples/browser/', '/tests/browser/pages/', '/tests/canary/']);

export const MIME_TYPES = Object.freeze({
  '.wasm': 'application/wasm',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8', // qollective.d.ts: readable, never executed
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
});

/**
 * Starts the server. Options:
 *   root      repository root (default: the one this file lives in)
 *   host/port 127.0.0.1 / 0 (0 = a free port)
 *   wasmType  Content-Type for .wasm files (default application/wasm); pass e.g.
 *             'application/octet-stream' to exercise the loader's non-streaming fallback
 *   index     where `/` redirects (default /examples/browser/)
 * Resolves to { url, port, host, requests, close() }. `requests` logs {method, path, status, type}.
 */
export async function startStaticServer(options = {}) {
  const root = path.resolve(options.root ?? REPO_ROOT);
  const host = options.host ?? '127.0.0.1';
  const wasmType = options.wasmType ?? MIME_TYPES['.wasm'];
  const index = options.index ?? '/examples/browser/';
  const requests = [];

  const server = http.createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, status: 0, type: null };
    requests.push(entry);
    if (requests.length > 1000) requests.splice(0, requests.length - 1000);
    const reply = (status, body, headers = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n', { allow: 'GET, HEAD' });
      let pathname;
      try {
        pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        return reply(400, 'bad path\n');
      }
      if (pathname === '/') return reply(302, `see ${index}\n`, { location: index });
      if (SERVED_PREFIXES.includes(pathname + '/')) return reply(301, 'moved\n', { location: pathname + '/' });
      if (pathname.includes('\0') || !SERVED_PREFIXES.some((p) => pathname.startsWith(p))) return reply(404, 'not found\n');
      let file = path.resolve(root, '.' + pathname);
      // path.resolve folds "..": whatever is left must still sit under a served folder.
      if (!SERVED_PREFIXES.some((p) => (file + (pathname.endsWith('/') ? path.sep : '')).startsWith(path.join(root, p)))) {
        return reply(404, 'not found\n');
      }
      let st = await stat(file).catch(() => null);
      if (st?.isDirectory()) {
        if (!pathname.endsWith('/')) return reply(301, 'moved\n', { location: pathname + '/' });
        file = path.join(file, 'index.html');
        st = await stat(file).catch(() => null);
      }
      if (!st?.isFile()) return reply(404, 'not found\n');
      const ext = path.extname(file).toLowerCase();
      const type = ext === '.wasm' ? wasmType : MIME_TYPES[ext] ?? 'application/octet-stream';
      entry.status = 200;
      entry.type = type;
      res.writeHead(200, { 'content-type': type, 'content-length': st.size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch (e) {
      if (!res.headersSent) reply(500, `internal error: ${e.message}\n`);
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed = null;
  return {
    url,
    port,
    host,
    requests,
    close() {
      // Browsers keep connections alive; drop them so close() resolves at once.
      closed ??= new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      return closed;
    },
    httpServer: server,
  };
}

// ---------------------------------------------------------------------------- CLI
async function main(argv) {
  const opts = { port: 8000, host: '127.0.0.1' };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--port') opts.port = Number(argv[++k]);
    else if (a === '--host') opts.host = argv[++k];
    else if (a === '--wasm-type') opts.wasmType = argv[++k];
    else if (a === '--root') opts.root = argv[++k];
    else { console.error(`usage: static-server.mjs [--port N] [--host H] [--wasm-type T] [--root DIR]  (unknown ${a})`); process.exit(2); }
  }
  const s = await startStaticServer(opts);
  console.log(`serving ${s.url} (${SERVED_PREFIXES.join(' ')})`);
  const stop = () => { s.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(1); });
}
