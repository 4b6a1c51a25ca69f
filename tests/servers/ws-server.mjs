// ws-server.mjs — reference Qollective WebSocket server (wire-format.md §5) on node:http + the `ws`
// package, with fault knobs and per-request-id stats for exactly-once checks.
//
// Usage (library):  const s = await startWsServer();  ... new WebSocket(s.url + '/any/path') ...
//                   s.setFault({ stall: true }); s.push(envelope); await s.close();
// Usage (CLI):      node tests/servers/ws-server.mjs --port 8081 [--host 127.0.0.1]
//
// Upstream behaviour mirrored (wire-format.md §5):
// - routing by the handshake path, unknown paths fall back to `/`; a handshake that asks for a
//   subprotocol fails (the server negotiates none);
// - text frames only, binary ignored; frames are {"type":"envelope"|"ping"|"pong"|"error"};
// - replies in order per connection, request_id preserved (response meta as on REST);
// - unparsable frame → error frame 400; a ping without timestamp → 400; an envelope the handler
//   cannot read → 500; handler errors → error frames (validation 400, security 401, config 400,
//   transport/connection 500, not found 404, else 500), never error envelopes;
// - no keepalives from the server; control pings get pongs and a Close is echoed (by `ws`).

import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import * as wire from './envelope-wire.mjs';
import { verifyRequest } from './httpsig-verify.mjs';
import { parse as parseSerde } from './serde-json.mjs';

export const WS_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  validate: true,       // check envelopes as Rust's Envelope<Value> (serde); false: JSON.parse only (benchmarks)
  countIds: true,       // stats.byRequestId counts every request id (the exactly-once checks); false: not kept (benchmarks)
  maxPayload: 16 * 1048576, // the server's own frame limit (tungstenite's default max message 64 MiB; 16 MiB here)
  logLimit: 1000,
  perMessageDeflate: false, // ws's default for servers; true or ws's options: negotiate RFC 7692 compression (tests only)
});

// Handler error kind → error frame code (§5).
export const ERROR_CODES = Object.freeze({ validation: 400, security: 401, config: 400, transport: 500, connection: 500, not_found: 404, internal: 500 });

// Fault knobs: see tests/servers/README.md "WebSocket fault knobs".
const KNOBS = { dropAfter: 'count', stall: 'bool', malformed: 'mode', oversized: 'count', refuseMs: 'count', delay: 'count', failTimes: 'count' };
const MALFORMED = { true: 'not json{', json: '[1,2,3]', type: '{"type":"bogus"}', envelope: '{"type":"envelope","payload":{"meta":{"request_id":"nope"},"payload":1}}' };

export function normalizeWsFault(spec) {
  if (spec === null || spec === undefined) return null;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('fault must be an object');
  const out = {};
  for (const [k, v] of Object.entries(spec)) {
    const kind = KNOBS[k];
    if (!kind) throw new TypeError(`unknown fault knob '${k}'`);
    const ok = kind === 'bool' ? typeof v === 'boolean' : kind === 'count' ? Number.isInteger(v) && v >= 0 : v === true || Object.hasOwn(MALFORMED, v);
    if (!ok) throw new TypeError(`fault knob '${k}' has a bad value ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

class HandlerError extends Error {
  constructor(kind, message) { super(message); this.kind = kind; }
}

/** The built-in handler: echoes the payload. A payload {"__delay": ms} waits first; {"__fail": kind}
 * then fails with that handler error kind; {"__envelopeError": {...}} answers with an error envelope. */
async function echoHandler(payload, ctx) {
  if (payload && typeof payload === 'object') {
    if (Number.isInteger(payload.__delay)) await ctx.sleep(payload.__delay);
    if (typeof payload.__fail === 'string') throw new HandlerError(payload.__fail, `handler failed: ${payload.__fail}`);
    if (payload.__envelopeError) return { error: payload.__envelopeError };
  }
  return { payload };
}

export async function startWsServer(options = {}) {
  const opt = { ...WS_DEFAULTS, ...options };
  const handlers = { '/': echoHandler, ...(options.handlers || {}) };
  const stats = { connections: 0, open: 0, refused: 0, framesIn: 0, framesOut: 0, envelopes: 0, errorFrames: 0, byRequestId: new Map(), log: [], handshakes: [], tlsErrors: [] };
  let fault = null, refuseUntil = 0, faultUses = 0;
  const sockets = new Set();

  // TLS mode (options.tls = https.createServer options): wss:// instead of ws://
  const httpServer = (opt.tls ? https : http).createServer({ ...opt.tls }, (req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }); res.end('Upgrade Required'); });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opt.maxPayload,
    perMessageDeflate: opt.perMessageDeflate,
  });
  httpServer.on('tlsClientError', (err) => { stats.tlsErrors.push(err.code ?? 'ERR'); });
  httpServer.on('upgrade', (req, socket, head) => {
    // every handshake request as the server saw it (headers lower-cased, the TLS client certificate)
    const cert = socket.encrypted ? socket.getPeerCertificate() : null;
    const seen = { url: req.url, headers: { ...req.headers }, clientCert: cert?.subject ? { cn: cert.subject.CN, authorized: socket.authorized } : null };
    stats.handshakes.push(seen);
    // RFC 9421 (options.signatures = {keyFor, windowSec}): the handshake must be signed over @method and @target-uri
    if (opt.signatures) {
      const targetUri = `${opt.tls ? 'https' : 'http'}://${req.headers.host}${req.url}`;
      const v = verifyRequest({ method: req.method, targetUri, headers: req.headers, body: Buffer.alloc(0) }, { required: ['@method', '@target-uri'], ...opt.signatures });
      seen.signature = v.ok ? 'valid' : v.reason;
      if (!v.ok) { socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'); return; }
    }
    // the server negotiates no subprotocol: a client that asks for one fails the handshake
    if (req.headers['sec-websocket-protocol'] !== undefined || Date.now() < refuseUntil) {
      stats.refused++;
      socket.end(`HTTP/1.1 ${Date.now() < refuseUntil ? '503 Service Unavailable' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const takeFault = () => {
    if (!fault) return null;
    if (fault.failTimes !== undefined) {
      if (faultUses >= fault.failTimes) return null;
      faultUses++;
    }
    return fault;
  };

  wss.on('connection', (ws, req) => {
    stats.connections++; stats.open++;
    sockets.add(ws);
    const path = new URL(req.url, 'http://x').pathname;
    const handler = handlers[path] || handlers['/'];
    const conn = { framesIn: 0, queue: Promise.resolve(), closed: false };
    const send = (text) => { if (!conn.closed && ws.readyState === 1) { stats.framesOut++; ws.send(text); } };
    const sendError = (code, message) => { stats.errorFrames++; send(JSON.stringify({ type: 'error', message, code })); };
    ws.on('close', () => { conn.closed = true; stats.open--; sockets.delete(ws); });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // binary frames are ignored without reply
      stats.framesIn++; conn.framesIn++;
      const f = takeFault();
      if (f?.dropAfter !== undefined && conn.framesIn > f.dropAfter) { ws._socket?.destroy(); return; }
      if (f?.stall) return; // keep TCP open, answer nothing
      const text = data.toString('utf8');
      // replies go out in order: each frame waits for the one before it
      conn.queue = conn.queue.then(() => answer(text, f)).catch(() => {});
    });

    async function answer(text, f) {
      if (conn.closed) return; // a dead connection's backlog is not worked off
      if (f?.delay) await sleep(f.delay);
      let frame;
      try { frame = JSON.parse(text); } catch { return sendError(400, 'Failed to parse message: invalid JSON'); }
      if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return sendError(400, 'Failed to parse message: expected a tagged object');
      if (frame.type === 'ping') {
        if (typeof frame.timestamp !== 'string') return sendError(400, 'Failed to parse message: missing field `timestamp`');
        return send(JSON.stringify({ type: 'pong', timestamp: wire.rfc3339() }));
      }
      if (frame.type === 'pong') return;
      if (frame.type !== 'envelope') return sendError(400, `Failed to parse message: unknown variant \`${frame.type}\``);
      if (opt.validate) {
        const parsed = parseSerde(JSON.stringify(frame.payload));
        const bad = wire.validateEnvelope(parsed);
        if (bad) return sendError(400, `Failed to parse message: ${bad.message}`);
      }
      const env = frame.payload;
      if (!env || typeof env !== 'object' || !('payload' in env)) return sendError(400, 'Failed to parse message: missing field `payload`');
      const rid = env.meta?.request_id;
      if (rid) {
        if (opt.countIds) stats.byRequestId.set(rid, (stats.byRequestId.get(rid) || 0) + 1);
        if (stats.log.length < opt.logLimit) stats.log.push({ requestId: rid, path });
      }
      stats.envelopes++;
      let result;
      if (conn.closed) return;
      try {
        result = await handler(env.payload, { path, meta: env.meta || {}, sleep, envelope: env });
      } catch (e) {
        if (e instanceof HandlerError) return sendError(ERROR_CODES[e.kind] ?? 500, e.message);
        return sendError(500, `Handler failed: ${e?.message ?? e}`);
      }
      const meta = wire.responseMeta(env.meta || {});
      if (f?.malformed) return send(MALFORMED[f.malformed]);
      let out = opt.validate
        ? wire.envelopeText({ meta, payload: result.payload ?? null, error: result.error })
        : JSON.stringify(result.error ? { meta, payload: null, error: result.error } : { meta, payload: result.payload ?? null });
      if (f?.oversized) out = out.slice(0, -1) + `,"pad":"${'x'.repeat(f.oversized)}"}`;
      send(`{"type":"envelope","payload":${out}}`);
    }
  });

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opt.port, opt.host, () => { httpServer.off('error', reject); resolve(); });
  });
  const { port } = httpServer.address();

  return {
    url: `${opt.tls ? 'wss' : 'ws'}://${opt.host}:${port}`,
    port,
    stats,
    /** Sets the fault for later frames (null clears). refuseMs starts refusing new connections now. */
    setFault(spec) {
      fault = normalizeWsFault(spec);
      faultUses = 0;
      if (fault?.refuseMs) refuseUntil = Date.now() + fault.refuseMs;
    },
    clearFault() { fault = null; refuseUntil = 0; },
    /** Sends an envelope (object) to every open connection, unsolicited (server push). */
    push(envelope) {
      const text = `{"type":"envelope","payload":${JSON.stringify(envelope)}}`;
      for (const ws of sockets) if (ws.readyState === 1) { stats.framesOut++; ws.send(text); }
    },
    /** Sends raw text (or bytes as a binary frame) to every open connection. */
    sendRaw(data) { for (const ws of sockets) if (ws.readyState === 1) ws.send(data); },
    /** Kills every connection at the TCP level (no Close frame). */
    killAll() { for (const ws of sockets) ws._socket?.destroy(); },
    /** Closes every connection with a Close frame. */
    closeAll(code = 1001, reason = 'going away') { for (const ws of sockets) ws.close(code, reason); },
    async close() {
      refuseUntil = 0;
      for (const ws of sockets) ws.terminate();
      await new Promise((r) => wss.close(() => r()));
      await new Promise((r) => httpServer.close(() => r()));
    },
  };
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const args = process.argv.slice(2);
  const get = (name, d) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : d; };
  const s = await startWsServer({ host: get('--host', '127.0.0.1'), port: Number(get('--port', 8081)) });
  console.log(`listening ${s.url}`);
  const stop = async () => { await s.close(); process.exit(0); };
  process.on('SIGINT', stop); process.on('SIGTERM', stop);
}
