// Memory over many WebSocket requests (issue 11): one socket doing 100,000 request/reply rounds
// against the reference server keeps a flat JS heap and a flat wasm memory, with every way a
// request ends in the mix (reply, error frame, error envelope, abort after the write with its late
// reply dropped, timeout before a delayed reply, abort before sending). The child process runs
// with --expose-gc, so the heap is measured after full collections and the server (in this
// process) does not count. A memory assertion, not a timing: the run takes as long as the machine
// needs (its test timeout only bounds a hang).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startWsServer } from '../servers/ws-server.mjs';

const CHILD = fileURLToPath(new URL('./ws-memory-child.mjs', import.meta.url));
const MB = 1048576;
let srv;
before(async () => { srv = await startWsServer(); });
after(async () => { await srv.close(); });

test('100,000 WebSocket requests: JS heap after GC and wasm memory stay flat; every request ends once', { timeout: 400000 }, async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', CHILD, srv.url, '20000,100000'],
    { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout);
  const [a, b] = r.points, grew = b.heap - a.heap;
  t.diagnostic(`JS heap after GC ${(a.heap / MB).toFixed(2)} MB at ${a.requests} requests -> ${(b.heap / MB).toFixed(2)} MB at ` +
    `${b.requests} (${(grew / (b.requests - a.requests)).toFixed(1)} B a request); wasm memory ${a.wasm} -> ${b.wasm} B, core ` +
    `footprint ${a.stats.footprint} -> ${b.stats.footprint} B; ends ${JSON.stringify(r.ends)}`);
  // every request ended exactly once, each way it can end was taken, no reply went astray
  assert.equal(r.ends.resolved + r.ends.rejected, 100000);
  assert.equal(r.ends.wrong, 0);
  for (const code of ['ERROR_FRAME', 'HANDLER_ERROR', 'ABORTED', 'TIMEOUT']) assert.ok(r.ends.codes[code] > 0, `no ${code} in ${JSON.stringify(r.ends.codes)}`);
  assert.equal(b.info.pending, 0, 'requests still pending in the core');
  // 1 MB over 80,000 requests: 13 B a request (a per-request leak of a closure or a listener is
  // 100 B or more); the core's memory does not move at all
  assert.ok(grew < 1 * MB, `JS heap after GC grew ${(grew / MB).toFixed(2)} MB from ${a.requests} to ${b.requests} requests`);
  assert.equal(b.wasm, a.wasm, 'wasm memory grew');
  assert.equal(b.stats.footprint, a.stats.footprint, 'core footprint grew');
  assert.equal(b.stats.persistent, a.stats.persistent, 'core persistent heap grew');
});
