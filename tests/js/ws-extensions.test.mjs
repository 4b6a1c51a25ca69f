// The WebSocket transport when the server negotiates an extension (RFC 7692 permessage-deflate,
// which Node's `ws` offers by default; the real servers do not negotiate it): the glue then leaves
// the framing of every frame to `ws` (js-glue Socket._send: it frames a request itself only when no
// extension is in use), and `ws` compresses asynchronously, reading a frame's bytes later. Requests
// of every length form, in one burst, must arrive whole and in order and end exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Qollective } from '../../js-glue/qollective.js';
import { startWsServer } from '../servers/ws-server.mjs';

const q = await Qollective.load(new URL('../../dist/qollective.wasm', import.meta.url), { WebSocket });
let srv;
before(async () => { srv = await startWsServer({ perMessageDeflate: { threshold: 0 } }); });
after(async () => { await srv.close(); });

test('with permessage-deflate negotiated, a burst of requests of every length form round trips whole, in order, exactly once', async () => {
  const c = q.client({ websocket: { url: srv.url, max_message_bytes: 1 << 20 } });
  try {
    const s = c.socket();
    await s.request({ payload: 0 });
    assert.match(s.ws.extensions, /permessage-deflate/, 'the server negotiated compression');
    const before = srv.stats.framesIn;
    // 10 B to 70 KB notes: 7-bit, 16-bit and 64-bit payload lengths, compressed while later ones queue
    const sizes = Array.from({ length: 300 }, (_, i) => [3, 200, 70000][i % 3] + i);
    const ends = new Array(sizes.length).fill(0);
    const replies = await Promise.all(sizes.map((n, i) => s.request({ payload: { i, note: 'é'.repeat(n) } })
      .then((r) => { ends[i]++; return r; }, (e) => { ends[i]++; throw e; })));
    assert.deepEqual(ends, sizes.map(() => 1), 'every request ended once');
    for (const [i, r] of replies.entries()) {
      assert.equal(r.payload.i, i);
      assert.equal(r.payload.note, 'é'.repeat(sizes[i]), `request ${i}'s note came back whole`);
    }
    assert.equal(srv.stats.framesIn - before, sizes.length, 'one frame a request');
  } finally { c.close(); }
});
