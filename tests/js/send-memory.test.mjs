// Memory over many sends (issue 9 item 2): a client sending 100,000 envelopes to the reference
// server keeps a flat JS heap and a flat wasm memory. Each run is a child process with
// --expose-gc, so the heap is measured after full collections and the server (in this process)
// does not count. The slack (2 MB over 80,000 sends, 25 B a send) is well under what the
// AbortSignal.any leak this replaces grew by: 72 B a send (9.96 -> 15.69 MB here).
// A memory assertion, not a timing: the run takes as long as the machine needs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startRestServer } from '../servers/rest-server.mjs';

const CHILD = fileURLToPath(new URL('./send-memory-child.mjs', import.meta.url));
const MB = 1048576;
let srv;
before(async () => { srv = await startRestServer(); });
after(async () => { await srv.close(); });

async function runChild(marks, ...flags) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', CHILD, srv.url, marks.join(','), ...flags],
    { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

function assertFlat(r, slackBytes) {
  const [a, b] = r.points;
  const grew = b.heap - a.heap;
  assert.ok(grew < slackBytes, `JS heap after GC grew ${(grew / MB).toFixed(2)} MB from ${a.sends} to ${b.sends} sends ` +
    `(${(grew / (b.sends - a.sends)).toFixed(1)} B a send; slack ${(slackBytes / MB).toFixed(1)} MB)`);
  assert.equal(b.wasm, a.wasm, 'wasm memory grew');
  assert.equal(b.stats.footprint, a.stats.footprint, 'core footprint grew');
  assert.equal(b.stats.persistent, a.stats.persistent, 'core persistent heap grew');
}

// Both children run at once (they are mostly waiting on the network).
test('100,000 sends: JS heap after GC and wasm memory stay flat; the same without AbortSignal.any', { timeout: 400000 }, async () => {
  const [withAny, withoutAny] = await Promise.all([
    runChild([20000, 100000]),
    runChild([20000, 60000], '--no-abort-signal-any'),
  ]);
  assert.equal(withAny.anyPresent, true);
  assertFlat(withAny, 2 * MB);
  assert.equal(withoutAny.anyPresent, false, 'the child runs without AbortSignal.any');
  assertFlat(withoutAny, 1 * MB);   // 40,000 sends: 25 B a send again
});
