// qollective-wasm for Node: mutual TLS through Node's own TLS stack. Node's global fetch takes
// TLS options only through an undici dispatcher (undici is not a dependency), so REST goes
// through node:https with a TLS context made from the client's certificate and key, and
// WebSocket through the `ws` package with the same context. Browsers own TLS client auth:
// there, load without this module (the glue can send X-Client-Cert instead, see README).
//
//   import { Qollective } from 'qollective-wasm';
//   import { nodeTls } from 'qollective-wasm/node-tls';
//   import { WebSocket } from 'ws';
//   const q = await Qollective.load('qollective-tls.wasm', { tls: nodeTls, WebSocket });
//
// The glue calls nodeTls(credentials) once per client (the compiled-in credentials, or those
// of setCredentials) and wipes the byte copies it passed once this returns: the key then lives
// only in the TLS context (OpenSSL's memory), never in a log, an error or this module.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/** Host TLS transport for one set of credentials {ca, cert, key} (PEM or DER, strings or bytes;
 * each may be empty): {fetch, socketClass(WebSocket), close()}. */
export function nodeTls(credentials) {
  const opts = {}, made = [];
  for (const part of ['ca', 'cert', 'key']) {
    const v = credentials[part];
    if (v && v.length) opts[part] = pem(v, part, made);
  }
  let secureContext;
  try { secureContext = tls.createSecureContext(opts); } finally { for (const b of made) b.fill(0); }   // the PEM we wrapped
  const agent = new https.Agent({ keepAlive: true, secureContext });
  const classes = new WeakMap();
  return {
    fetch: (url, init) => request(url, init || {}, agent),
    socketClass(WS) {
      if (!classes.has(WS)) classes.set(WS, tlsWebSocket(WS, secureContext));
      return classes.get(WS);
    },
    close() { agent.destroy(); },
  };
}

// ---- credentials ----------------------------------------------------------------------------
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** PEM as Node's TLS context wants it: PEM input as is, DER wrapped (bytes built in place, no
 * string holds the key). */
function pem(v, part, made) {
  const bytes = typeof v === 'string' ? null : v;
  if (!bytes || bytes[0] !== 0x30) return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) : v;
  const label = part === 'key' ? keyLabel(bytes) : 'CERTIFICATE';
  const head = `-----BEGIN ${label}-----\n`, tail = `-----END ${label}-----\n`;
  const b64len = Math.ceil(bytes.length / 3) * 4;
  const out = Buffer.alloc(head.length + b64len + Math.ceil(b64len / 64) + tail.length);
  made.push(out);
  let at = out.write(head, 0, 'latin1'), col = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    for (let k = 0; k < 4; k++) out[at++] = k <= Math.min(3, bytes.length - i) ? B64.charCodeAt((n >> (18 - 6 * k)) & 63) : 61;
    if ((col += 4) === 64) { out[at++] = 10; col = 0; }
  }
  if (col) out[at++] = 10;
  out.write(tail, at, 'latin1');
  return out;
}

/** The PEM label of a DER private key: PKCS#8 (SEQUENCE{INTEGER 0, SEQUENCE ...}), SEC1
 * (INTEGER 1, OCTET STRING) or PKCS#1 (INTEGER 0, INTEGER n). */
function keyLabel(d) {
  let i = 1;
  i += d[i] & 0x80 ? 1 + (d[i] & 0x7f) : 1;       // SEQUENCE length
  i += 2 + d[i + 1];                               // version INTEGER
  return d[i] === 0x30 ? 'PRIVATE KEY' : d[i] === 0x04 ? 'EC PRIVATE KEY' : 'RSA PRIVATE KEY';
}

// ---- failures --------------------------------------------------------------------------------
/** A Node server with rejectUnauthorized refuses a client certificate by closing the connection
 * right after the handshake, with no TLS alert: on a fresh connection whose handshake finished
 * and that got no answer, a reset is that refusal (the core maps ERR_TLS_PEER_CLOSED to a
 * security error; every other code goes to it unchanged). */
function refusal(e, handshakeDone) {
  if (!handshakeDone || !['ECONNRESET', 'EPIPE', 'ECONNABORTED'].includes(e?.code)) return e;
  return Object.assign(new Error('the server closed the connection right after the TLS handshake', { cause: e }), { code: 'ERR_TLS_PEER_CLOSED' });
}

// ---- REST --------------------------------------------------------------------------------------
/** fetch(url, {method, headers, body, signal, redirect: 'manual'}) on node:http(s): a Response,
 * redirects returned as they are; failures reject with TypeError('fetch failed', {cause}) as
 * Node's fetch does, the cause carrying Node's error code. */
function request(url, init, agent) {
  return new Promise((resolve, reject) => {
    const u = new URL(url), signal = init.signal;
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    const fail = (cause) => reject(new TypeError('fetch failed', { cause }));
    if (!lib) return fail(Object.assign(new Error(`unsupported scheme ${u.protocol}`), { code: 'ERR_INVALID_URL_SCHEME' }));
    if (signal?.aborted) return reject(signal.reason);
    const headers = {};
    for (const [k, v] of new Headers(init.headers)) headers[k] = v;
    let handshakeDone = false, answered = false;
    const req = lib.request(u, { method: init.method || 'GET', headers, agent: lib === https ? agent : undefined });
    const onAbort = () => req.destroy(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (s) => {
      if (req.reusedSocket) return;   // an idle connection the server may close at any time: not a refusal
      s.once('secureConnect', () => { handshakeDone = true; });
    });
    req.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason);
      fail(answered ? e : refusal(e, handshakeDone));
    });
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => { signal?.removeEventListener('abort', onAbort); fail(signal?.aborted ? signal.reason : e); });
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const status = res.statusCode, empty = status === 204 || status === 205 || status === 304;
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        if (status < 200 || status > 599) return fail(Object.assign(new Error(`unexpected status ${status}`), { code: 'ERR_UNEXPECTED_STATUS' }));
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: h }));
      });
    });
    const body = init.body;
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}

// ---- WebSocket -----------------------------------------------------------------------------------
/** The `ws` WebSocket class with the TLS context on every wss:// connection. `ws` passes its
 * options on to tls.connect; the connection is made here to see whether its handshake finished. */
function tlsWebSocket(WS, secureContext) {
  return class TlsWebSocket extends WS {
    constructor(url, protocols, options) {
      let handshakeDone = false, opened = false;
      const secure = /^wss:/i.test(String(url));
      const createConnection = (o) => {
        o.path = undefined;
        if (!o.servername && o.servername !== '') o.servername = net.isIP(o.host) ? '' : o.host;
        const s = tls.connect(o);
        s.once('secureConnect', () => { handshakeDone = true; });
        return s;
      };
      super(url, protocols, secure ? { ...options, secureContext, createConnection } : options);
      this.on('open', () => { opened = true; });
      // first listener: the glue's onerror sees the refusal's code
      this.on('error', (e) => {
        if (!opened && e && refusal(e, handshakeDone) !== e) { e.code = 'ERR_TLS_PEER_CLOSED'; }
      });
    }
  };
}
