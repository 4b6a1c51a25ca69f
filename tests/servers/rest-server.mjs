// rest-server.mjs — reference Qollective REST server (wire-format.md §4) on node:http only. It mimics
// the Rust axum server byte for byte where it can, quirks included, plus fault injection and stats.
//
// Usage (library):  const s = await startRestServer({ routes: ['/echo', '/fail', '/slow'] });
//                   ... fetch(s.url + '/envelope', ...) ...; s.setFault({ failTimes: 2, status: 503 }); await s.close();
// Usage (CLI):      node tests/servers/rest-server.mjs --port 8080 [--host 127.0.0.1] [--routes /echo,/fail,/slow]
//
// Upstream facts mirrored here (see also envelope-wire.mjs):
// - meta comes from headers only; error envelopes carry meta {timestamp, version:"1.0"} and no x-qollective-* headers;
// - a custom CORS middleware: every OPTIONS on any path is a preflight; every other reply gets
//   allow-origin/-methods/-headers; never expose-headers;
// - axum extractor rejections are plain text (415 / 400 / 422 / 413), hyper rejects oversized heads with 431.

import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';
import * as wire from './envelope-wire.mjs';
import { verifyRequest } from './httpsig-verify.mjs';
import { parse as parseJson, stringify, toPlain, SerdeJsonError } from './serde-json.mjs';

export const REST_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  maxHeaderSize: 417792, // hyper's default read buffer (8 KiB + 100 × 4 KiB); bigger heads → 431
  maxHeaderCount: 100, // hyper's default header count; more → 431
  bodyLimit: 2097152, // axum DefaultBodyLimit (2 MB); bigger JSON bodies → 413 plain text
  slowMs: 500, // delay of the built-in `slow` handler
  logLimit: 1000, // stats.requests keeps this many entries
  extendedMetaHeaders: true, // also read user/session/trace/span ids, X-On-Behalf-Of, X-Qollective-Timestamp
  validateBodyMeta: true, // deserialise the body as Rust's Envelope<Value> (types, enums, UUIDs, required arrays)
  lenientEnvelopeData: false, // GET/DELETE: invalid envelope_data JSON → payload null (upstream Value handler) instead of 400
  headerFaults: true, // honour the X-Test-Fault request header
  sortAllKeys: false, // true: sort meta/error keys too (Rust emits struct order for those, sorted maps for payload)
  corsAllowHeaders: '*', // Access-Control-Allow-Headers; the Rust server sends *, a list models a server naming what it allows
});

const FAULT_HEADER = 'x-test-fault';
const ENVELOPE_METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'HEAD', 'DELETE'];
// axum builds Allow in registration order: post, put, get (+HEAD), delete, options, patch.
const ROUTE_ALLOW = 'POST,PUT,GET,HEAD,DELETE,OPTIONS,PATCH';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const BUILTIN_BY_ROUTE = { '/echo': 'echo', '/fail': 'fail', '/slow': 'slow' };

// ---------------------------------------------------------------------------- fault knobs
// kind: how the value is validated. Failure modes make a request "fail"; others only shape delivery.
const FAULT_KNOBS = {
  delay: 'ms', hang: 'bool', reset: 'bool', status: 'status', envelope: 'bool', code: 'string', message: 'string',
  statusInBody: 'bool', html502: 'bool', html504: 'bool', malformed: 'bool', resetMidBody: 'bool', truncate: 'bool',
  slowloris: 'msOrTrue', slowlorisChunk: 'count', oversized: 'bytesOrTrue', failTimes: 'count', key: 'string',
  retryAfter: 'count', cors: 'bool', paths: 'list', methods: 'list', redirect: 'status', location: 'string',
};
const FAILURE_MODES = ['redirect', 'hang', 'reset', 'status', 'html502', 'html504', 'malformed', 'oversized', 'resetMidBody', 'truncate'];
export const OVERSIZED_DEFAULT_BYTES = 2 * 1048576;
const SLOWLORIS_DEFAULT_MS = 20;

/** Validate and normalise a fault spec (throws TypeError naming the bad knob). */
export function normalizeFault(spec, { fromHeader = false } = {}) {
  if (spec === null || spec === undefined) return null;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('fault must be an object');
  const out = {};
  for (const [name, value] of Object.entries(spec)) {
    const kind = FAULT_KNOBS[name];
    if (!kind) throw new TypeError(`unknown fault knob '${name}'`);
    if (fromHeader && (name === 'paths' || name === 'methods')) throw new TypeError(`'${name}' is only for setFault()`);
    const bad = () => { throw new TypeError(`fault knob '${name}' has a bad value ${JSON.stringify(value)}`); };
    switch (kind) {
      case 'bool': if (typeof value !== 'boolean') bad(); break;
      case 'string': if (typeof value !== 'string') bad(); break;
      case 'ms': case 'count': if (!Number.isInteger(value) || value < 0) bad(); break;
      case 'status': if (!Number.isInteger(value) || value < 100 || value > 599) bad(); break;
      case 'msOrTrue': if (!(value === true || value === false || (Number.isInteger(value) && value > 0))) bad(); break;
      case 'bytesOrTrue': if (!(value === true || value === false || (Number.isInteger(value) && value > 0))) bad(); break;
      case 'list': if (!Array.isArray(value) || value.some((x) => typeof x !== 'string')) bad(); break;
      default: bad();
    }
    out[name] = name === 'methods' ? value.map((m) => m.toUpperCase()) : value;
  }
  if (out.slowloris === true) out.slowloris = SLOWLORIS_DEFAULT_MS;
  if (out.oversized === true) out.oversized = OVERSIZED_DEFAULT_BYTES;
  if (out.slowloris === false) delete out.slowloris;
  if (out.oversized === false) delete out.oversized;
  if (out.failTimes !== undefined && !FAILURE_MODES.some((m) => out[m])) out.status = 503; // default failure
  return out;
}

/**
 * Parse an X-Test-Fault header: a JSON object (`{"status":503,"envelope":false}`) or a `;`/`,`
 * separated list of `name=value` / bare `name` (= true), e.g. `failTimes=2;status=503;key=t1`.
 * Values true/false become booleans, integers become numbers, anything else stays a string.
 */
export function parseFaultHeader(value) {
  const v = value.trim();
  let spec;
  if (v.startsWith('{')) {
    try { spec = JSON.parse(v); } catch (e) { throw new TypeError(`X-Test-Fault is not valid JSON: ${e.message}`); }
  } else {
    spec = {};
    for (const part of v.split(/[;,]/)) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      const name = (eq < 0 ? p : p.slice(0, eq)).trim();
      const raw = eq < 0 ? 'true' : p.slice(eq + 1).trim();
      spec[name] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
  }
  return normalizeFault(spec, { fromHeader: true });
}

function isFailure(fault) {
  return !!fault && FAILURE_MODES.some((m) => fault[m]);
}

// ---------------------------------------------------------------------------- small response builders
function corsHeaders(allowHeaders) {
  return [
    ['access-control-allow-origin', '*'],
    ['access-control-allow-methods', wire.CORS_ALLOW_METHODS],
    ['access-control-allow-headers', allowHeaders],
  ];
}

function text(status, body, extra = []) {
  return { status, headers: [['content-type', TEXT], ...extra], body };
}

function jsonReply(status, body, extra = []) {
  return { status, headers: [['content-type', JSON_TYPE], ...extra], body };
}

function errorEnvelope(error, sortAll) {
  return jsonReply(wire.statusForError(error), wire.errorEnvelopeText(error, { sortAll }));
}

// axum's Json extractor accepts application/json and application/*+json, parameters allowed.
function isJsonContentType(value) {
  if (typeof value !== 'string') return false;
  const essence = value.split(';')[0].trim().toLowerCase();
  const [type, subtype] = essence.split('/');
  return type === 'application' && !!subtype && (subtype === 'json' || subtype.endsWith('+json'));
}

function splitUrl(url) {
  let u = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = u.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/';
  const q = u.indexOf('?');
  return q < 0 ? { path: u, query: '' } : { path: u.slice(0, q), query: u.slice(q + 1) };
}

const NGINX_HTML = (status, reason) => `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n`;

// ---------------------------------------------------------------------------- server
/**
 * Start the reference REST server (tests/servers/README.md lists every option and fault knob):
 * { host, port, routes: ['/echo', ...], handlers: { '/route': 'echo'|'fail'|'slow'|{type,ms,message}|fn },
 *   ...REST_DEFAULTS overrides }.
 * Resolves to { url, port, host, close(), stats, setFault(spec|null), clearFault(), reset(),
 *               waitForRequests(n, {timeout, method, path}), httpServer }.
 */
export async function startRestServer(options = {}) {
  const opts = { ...REST_DEFAULTS, ...options };
  const routes = new Map();
  const addRoute = (route, spec) => {
    if (typeof route !== 'string' || !route.startsWith('/')) throw new TypeError(`route must start with '/': ${route}`);
    routes.set(route, resolveHandler(route, spec, opts));
  };
  addRoute('/envelope', opts.handlers?.['/envelope']);
  for (const r of opts.routes ?? []) if (!routes.has(r)) addRoute(r, opts.handlers?.[r]);
  for (const [r, spec] of Object.entries(opts.handlers ?? {})) addRoute(r, spec);

  // ---- state
  const sockets = new Set();
  const timers = new Set();
  const inflight = new Set(); // AbortControllers of requests being processed
  const waiters = new Set();
  let serverFault = null; // { spec, remaining }
  const headerFaultUses = new Map(); // key → times applied (for header failTimes)
  let closing = null;
  let seq = 0;

  const stats = {
    total: 0,
    byMethod: {},
    byRoute: {},
    byMethodRoute: {},
    requests: [],
    clientErrors: 0,
    faultsApplied: 0,
  };
  Object.defineProperty(stats, 'count', {
    enumerable: false,
    value: (method, route) => {
      if (method && route) return stats.byMethodRoute[`${method.toUpperCase()} ${route}`] ?? 0;
      if (method) return stats.byMethod[method.toUpperCase()] ?? 0;
      if (route) return stats.byRoute[route] ?? 0;
      return stats.total;
    },
  });

  function later(ms, fn) {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
    return t;
  }

  /** Resolves true after ms, false early if the signal aborts (client gone or server closing). */
  function sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      const onAbort = () => { clearTimeout(t); timers.delete(t); resolve(false); };
      const t = later(ms, () => { signal?.removeEventListener('abort', onAbort); resolve(true); });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function record(req, path, query, bodyBuf, bodyBytes) {
    const method = req.method;
    stats.total++;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    stats.byRoute[path] = (stats.byRoute[path] ?? 0) + 1;
    const mr = `${method} ${path}`;
    stats.byMethodRoute[mr] = (stats.byMethodRoute[mr] ?? 0) + 1;
    const entry = {
      seq: ++seq,
      time: Date.now(),
      method,
      path,
      query,
      url: req.url,
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      clientCert: peerCert(req.socket),
      body: bodyBuf.toString('utf8'),
      bodyBytes,
      fault: null,
      status: null,
      outcome: 'pending',
    };
    stats.requests.push(entry);
    if (stats.requests.length > opts.logLimit) stats.requests.splice(0, stats.requests.length - opts.logLimit);
    for (const w of [...waiters]) w.check();
    return entry;
  }

  function pickFault(req, path) {
    const hv = opts.headerFaults ? req.headers[FAULT_HEADER] : undefined;
    if (hv !== undefined) {
      const spec = parseFaultHeader(Array.isArray(hv) ? hv[0] : hv);
      if (spec.failTimes !== undefined) {
        const key = spec.key ?? hv;
        const used = headerFaultUses.get(key) ?? 0;
        if (used >= spec.failTimes) return null;
        headerFaultUses.set(key, used + 1);
      }
      return spec;
    }
    if (!serverFault) return null;
    const { spec } = serverFault;
    const methods = spec.methods ?? null;
    if (methods ? !methods.includes(req.method) : req.method === 'OPTIONS') return null;
    if (spec.paths && !spec.paths.includes(path)) return null;
    if (spec.failTimes !== undefined) {
      if (serverFault.remaining <= 0) return null;
      serverFault.remaining--;
    }
    return spec;
  }

  // ---- fault-generated replies (everything except delivery-shaping knobs)
  function faultReply(fault) {
    const extra = [];
    if (fault.retryAfter !== undefined) extra.push(['retry-after', String(fault.retryAfter)]);
    // a redirect (3xx + Location, default '/envelope'), answered before any envelope handling
    if (fault.redirect !== undefined) return { status: fault.redirect, headers: [['location', fault.location ?? '/envelope'], ...extra], body: '' };
    if (fault.html502 || fault.html504) {
      const status = fault.html502 ? 502 : 504;
      return { status, headers: [['content-type', 'text/html'], ['server', 'nginx/1.24.0'], ...extra], body: NGINX_HTML(status, http.STATUS_CODES[status]) };
    }
    if (fault.status !== undefined) {
      const status = fault.status;
      if (fault.envelope === false) {
        return text(status, fault.message ?? http.STATUS_CODES[status] ?? `HTTP ${status}`, extra);
      }
      const error = {
        code: fault.code ?? wire.codeForStatus(status),
        message: fault.message ?? `Injected fault: ${status} ${http.STATUS_CODES[status] ?? ''}`.trim(),
        details: { operation: 'fault_injection' },
        http_status_code: fault.statusInBody === false ? undefined : status,
      };
      return { status, headers: [['content-type', JSON_TYPE], ...extra], body: wire.errorEnvelopeText(error, { sortAll: opts.sortAllKeys }) };
    }
    if (fault.malformed) {
      const nanos = wire.nowNanos();
      const full = wire.envelopeText({ meta: wire.responseMeta({}, nanos), payload: { ok: true, items: [1, 2, 3] } });
      return jsonReply(200, full.slice(0, Math.floor(full.length * 0.6)), extra);
    }
    if (fault.oversized) {
      const head = wire.envelopeText({ meta: wire.responseMeta({}), payload: { blob: '' } });
      const pad = Math.max(0, fault.oversized - Buffer.byteLength(head));
      const body = head.replace('"blob":""', `"blob":"${'x'.repeat(pad)}"`);
      return jsonReply(200, body, extra);
    }
    return null;
  }

  // ---- the emulated Rust server
  async function buildReply(ctx) {
    const { req, method, path } = ctx;
    // CORS middleware: every OPTIONS request, on any path, is answered as a preflight.
    if (method === 'OPTIONS') {
      return {
        status: 200,
        cors: false,
        headers: [
          ['content-type', TEXT],
          ['access-control-allow-origin', '*'],
          ['access-control-allow-methods', wire.CORS_ALLOW_METHODS],
          ['access-control-allow-headers', opts.corsAllowHeaders],
          ['access-control-max-age', wire.CORS_MAX_AGE],
        ],
        body: '',
      };
    }
    const handler = routes.get(path);
    if (!handler) {
      if (path === '/health') {
        if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: [['allow', 'GET,HEAD']], body: '' };
        // serde_json::json! map → keys sorted; to_rfc3339() → "+00:00" form.
        return jsonReply(200, stringify({ status: 'healthy', service: 'qollective-rest-server', timestamp: wire.rfc3339(wire.nowNanos(), { zulu: false }) }));
      }
      // axum's default fallback is an empty 404; we label it text/plain (wire-format: plain-text 404).
      return text(404, '');
    }
    if (!ENVELOPE_METHODS.includes(method)) return { status: 405, headers: [['allow', ROUTE_ALLOW]], body: '' };

    let payload = null;
    let dataError = null;
    let query = null;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      // axum Json<…> extractor: content type, then body limit, then syntax (400), then data (422).
      if (!isJsonContentType(req.headers['content-type'])) return text(415, 'Expected request with `Content-Type: application/json`');
      if (ctx.overLimit) return text(413, 'Failed to buffer the request body: length limit exceeded');
      let parsed;
      try {
        parsed = parseJson(ctx.bodyBuf);
      } catch (e) {
        if (e instanceof SerdeJsonError) return text(400, `Failed to parse the request body as JSON: ${e.message}`);
        throw e;
      }
      const invalid = opts.validateBodyMeta ? wire.validateEnvelope(parsed) : shallowEnvelopeCheck(parsed);
      if (invalid) {
        return invalid.category === 'syntax'
          ? text(400, `Failed to parse the request body as JSON: ${invalid.message}`)
          : text(422, `Failed to deserialize the JSON body into the target type: ${invalid.message}`);
      }
      payload = Array.isArray(parsed.value) ? parsed.value[1] : parsed.value.payload;
    } else {
      // GET/HEAD/DELETE: Query<HashMap<String,String>> (form-urlencoded, last duplicate wins).
      query = new URLSearchParams(ctx.query);
      const all = query.getAll('envelope_data');
      if (all.length) {
        try {
          payload = parseJson(all[all.length - 1]).value;
        } catch (e) {
          if (!(e instanceof SerdeJsonError)) throw e;
          if (!opts.lenientEnvelopeData) dataError = `Envelope error: Failed to deserialize request data: ${e.message}`;
        }
      }
    }

    const nanos = wire.nowNanos();
    const got = wire.metaFromHeaders({
      get: (name) => { const v = req.headersDistinct[name]; return v ? v[0] : undefined; },
      rawHeaders: req.rawHeaders,
      query,
      extended: opts.extendedMetaHeaders,
      nanos,
    });
    if (got.error?.kind === 'too_large') {
      return errorEnvelope({
        code: 'REQUEST_HEADERS_TOO_LARGE',
        message: `Request headers too large: Envelope error: ${got.error.message}`,
        details: { operation: 'header_parsing', error_type: 'size_limit' },
        http_status_code: 413,
      }, opts.sortAllKeys);
    }
    const handlerError = (message) => errorEnvelope({
      code: 'HANDLER_ERROR', message: `Handler error: ${message}`, details: { operation: 'handler_execution' }, http_status_code: 400,
    }, opts.sortAllKeys);
    if (got.error) return handlerError(got.error.message);
    if (dataError) return handlerError(dataError);

    const requestMeta = got.meta;
    let result;
    try {
      result = await handler(toPlain(payload), {
        method, path, query: query ?? new URLSearchParams(ctx.query), headers: { ...req.headers },
        meta: structuredClone(requestMeta), rawPayload: payload, body: ctx.bodyBuf.toString('utf8'),
        signal: ctx.signal, sleep: (ms) => sleep(ms, ctx.signal),
      });
    } catch (e) {
      if (ctx.signal.aborted) return null;
      if (e && typeof e.envelopeError === 'object') return errorEnvelope(e.envelopeError, opts.sortAllKeys);
      return handlerError(e?.message ?? String(e));
    }
    if (ctx.signal.aborted) return null;
    const rnanos = wire.nowNanos();
    const meta = wire.responseMeta(requestMeta, rnanos);
    let metaHeaders;
    try {
      metaHeaders = wire.responseMetaHeaders(meta, rnanos);
    } catch (e) {
      if (!e.injection) throw e;
      return errorEnvelope({
        code: 'METADATA_INJECTION_FAILED',
        message: `Failed to inject response metadata: Envelope error: ${e.message}`,
        details: { operation: 'metadata_injection' },
        http_status_code: 500,
      }, opts.sortAllKeys);
    }
    const body = wire.envelopeText({ meta, payload: result === undefined ? null : result }, { sortAll: opts.sortAllKeys });
    return jsonReply(200, body, metaHeaders);
  }

  // ---- delivery (normal, or shaped by resetMidBody / truncate / slowloris)
  function deliver(req, res, reply, fault, entry) {
    const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body ?? '', 'utf8');
    const headers = [...reply.headers];
    if (reply.cors !== false && !(fault && fault.cors === false)) headers.push(...corsHeaders(opts.corsAllowHeaders));
    headers.push(['content-length', String(body.length)]);
    entry.status = reply.status;
    const socket = req.socket;
    if (fault?.resetMidBody || fault?.truncate) {
      // Raw bytes on the socket so the head promises more body than is ever sent.
      const head = `HTTP/1.1 ${reply.status} ${http.STATUS_CODES[reply.status] ?? ''}\r\n`
        + headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + `date: ${new Date().toUTCString()}\r\nconnection: close\r\n\r\n`;
      const part = body.subarray(0, Math.max(1, Math.floor(body.length / 2)));
      if (fault.resetMidBody) {
        entry.outcome = 'midbody-reset';
        socket.write(Buffer.concat([Buffer.from(head, 'latin1'), part]), () => {
          later(30, () => { if (!socket.destroyed) socket.resetAndDestroy(); });
        });
      } else {
        entry.outcome = 'truncated';
        socket.end(Buffer.concat([Buffer.from(head, 'latin1'), part]));
      }
      return;
    }
    const flat = headers.flat();
    if (fault?.slowloris) {
      entry.outcome = 'slowloris';
      res.writeHead(reply.status, flat);
      res.flushHeaders();
      const chunk = fault.slowlorisChunk || 1;
      let off = 0;
      const drip = () => {
        if (res.destroyed || closing) return;
        if (off >= body.length || req.method === 'HEAD') { res.end(); return; }
        res.write(body.subarray(off, off + chunk));
        off += chunk;
        later(fault.slowloris, drip);
      };
      later(fault.slowloris, drip);
      return;
    }
    entry.outcome = 'ok';
    res.writeHead(reply.status, flat);
    res.end(body);
  }

  async function onRequest(req, res) {
    const ac = new AbortController();
    inflight.add(ac);
    res.on('close', () => { inflight.delete(ac); if (!res.writableFinished) ac.abort(); });
    const { path, query } = splitUrl(req.url);

    // Read (and bound) the body first, whatever the route: the log wants it and keep-alive stays sane.
    const chunks = [];
    let size = 0;
    const complete = await new Promise((resolve) => {
      req.on('data', (c) => {
        size += c.length;
        if (size <= opts.bodyLimit + 1) chunks.push(c);
      });
      req.on('end', () => resolve(true));
      req.on('error', () => resolve(false));
      req.on('close', () => resolve(req.complete));
    });
    if (!complete || closing) return;
    const bodyBuf = Buffer.concat(chunks).subarray(0, opts.bodyLimit + 1);
    const entry = record(req, path, query, bodyBuf.subarray(0, opts.bodyLimit), size);
    res.on('close', () => { if (entry.outcome === 'pending') entry.outcome = 'aborted'; });

    // hyper: too many header lines → 431 before the app (and its CORS middleware) ever runs.
    if (req.rawHeaders.length / 2 > opts.maxHeaderCount) {
      entry.status = 431;
      entry.outcome = 'ok';
      res.writeHead(431, ['content-length', '0', 'connection', 'close']);
      res.end();
      return;
    }

    // RFC 9421 request signatures (options.signatures = {keyFor(keyid, alg), windowSec}): every
    // request but a preflight must carry a valid one, else 401 (the Rust server has no such layer)
    if (opts.signatures && req.method !== 'OPTIONS') {
      const targetUri = `${opts.tls ? 'https' : 'http'}://${req.headers.host}${req.url}`;
      const v = verifyRequest({ method: req.method, targetUri, headers: req.headers, body: bodyBuf.subarray(0, opts.bodyLimit) }, opts.signatures);
      entry.signature = v.ok ? 'valid' : v.reason;
      if (!v.ok) {
        deliver(req, res, errorEnvelope({ code: 'AUTHENTICATION_FAILED', message: `Signature verification failed: ${v.reason}`,
          details: { operation: 'signature_verification' }, http_status_code: 401 }, opts.sortAllKeys), null, entry);
        return;
      }
    }

    let fault;
    try {
      fault = pickFault(req, path);
    } catch (e) {
      deliver(req, res, text(400, `X-Test-Fault: ${e.message}`), null, entry);
      return;
    }
    entry.fault = fault;
    if (fault) stats.faultsApplied++;

    if (fault?.delay) {
      const ok = await sleep(fault.delay, ac.signal);
      if (!ok) return;
    }
    if (fault?.hang) { entry.outcome = 'hang'; return; }
    if (fault?.reset) {
      entry.outcome = 'reset';
      req.socket.resetAndDestroy();
      return;
    }
    let reply = fault ? faultReply(fault) : null;
    if (!reply) {
      try {
        reply = await buildReply({ req, method: req.method, path, query, bodyBuf: bodyBuf.subarray(0, opts.bodyLimit), overLimit: size > opts.bodyLimit, signal: ac.signal });
      } catch (e) {
        reply = text(500, `reference server bug: ${e?.stack ?? e}`);
      }
    }
    if (!reply || ac.signal.aborted || res.destroyed) return;
    deliver(req, res, reply, fault, entry);
  }

  // TLS mode (options.tls = https.createServer options: key, cert, ca, requestCert,
  // rejectUnauthorized): https instead of http, everything else the same.
  const server = (opts.tls ? https : http).createServer({ maxHeaderSize: opts.maxHeaderSize, requestTimeout: 0, ...opts.tls }, (req, res) => {
    onRequest(req, res).catch((e) => {
      if (!res.headersSent && !res.destroyed) { res.writeHead(500, { 'content-type': TEXT }); res.end(`reference server bug: ${e?.stack ?? e}`); }
    });
  });
  server.maxHeadersCount = 0; // keep every header line so the hyper-style count check sees them all
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  // TLS connections that failed (a refused client certificate, ...): counted by their error code
  stats.tlsErrors = [];
  server.on('tlsClientError', (err) => { stats.tlsErrors.push(err.code ?? 'ERR'); });
  server.on('clientError', (err, socket) => {
    stats.clientErrors++;
    if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  const url = `${opts.tls ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;

  function setFault(spec) {
    const n = normalizeFault(spec);
    serverFault = n ? { spec: n, remaining: n.failTimes ?? Infinity } : null;
    return n;
  }

  function reset() {
    stats.total = 0;
    stats.clientErrors = 0;
    stats.faultsApplied = 0;
    for (const k of ['byMethod', 'byRoute', 'byMethodRoute']) for (const key of Object.keys(stats[k])) delete stats[k][key];
    stats.requests.length = 0;
    serverFault = null;
    headerFaultUses.clear();
  }

  /** Resolve with the matching log entries once at least n requests (optionally filtered) were seen. */
  function waitForRequests(n, { timeout = 5000, method, path } = {}) {
    const match = () => stats.requests.filter((e) => (!method || e.method === method.toUpperCase()) && (!path || e.path === path));
    return new Promise((resolve, reject) => {
      const w = {
        reject,
        check() {
          const m = match();
          if (m.length >= n) { waiters.delete(w); clearTimeout(w.timer); timers.delete(w.timer); resolve(m); }
        },
      };
      w.timer = later(timeout, () => { waiters.delete(w); reject(new Error(`waitForRequests: saw ${match().length} of ${n} within ${timeout} ms`)); });
      waiters.add(w);
      w.check();
    });
  }

  function close() {
    if (closing) return closing;
    closing = new Promise((resolve) => {
      for (const ac of inflight) ac.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of waiters) w.reject(new Error('waitForRequests: server closed'));
      waiters.clear();
      server.close(() => resolve());
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    });
    return closing;
  }

  return {
    url,
    port,
    host: opts.host,
    routes: [...routes.keys()],
    stats,
    setFault,
    clearFault: () => setFault(null),
    reset,
    waitForRequests,
    close,
    httpServer: server,
  };
}

/** The client certificate a TLS connection presented: {subject CN, fingerprint256, authorized}, or null. */
export function peerCert(socket) {
  if (!socket?.encrypted) return null;
  const c = socket.getPeerCertificate();
  if (!c || !c.subject) return null;
  return { cn: c.subject.CN, fingerprint256: c.fingerprint256, authorized: socket.authorized };
}

// Only checks that meta and payload exist (used when validateBodyMeta is false).
function shallowEnvelopeCheck(parsed) {
  const v = parsed.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { category: 'data', message: 'invalid type: expected struct Envelope' };
  }
  for (const k of ['meta', 'payload']) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) return { category: 'data', message: `missing field \`${k}\`` };
  }
  return null;
}

function resolveHandler(route, spec, opts) {
  if (typeof spec === 'function') return spec;
  const s = spec ?? BUILTIN_BY_ROUTE[route] ?? 'echo';
  const o = typeof s === 'string' ? { type: s } : s;
  switch (o.type) {
    case 'echo':
      return (payload, ctx) => ctx.rawPayload;
    case 'fail':
      return () => { throw new Error(o.message ?? `intentional failure on ${route}`); };
    case 'slow':
      return async (payload, ctx) => {
        const done = await ctx.sleep(o.ms ?? opts.slowMs);
        if (!done) throw new Error('request abandoned');
        return ctx.rawPayload;
      };
    default:
      throw new TypeError(`unknown handler type for ${route}: ${JSON.stringify(spec)}`);
  }
}

// ---------------------------------------------------------------------------- CLI
async function main(argv) {
  const args = { port: wire.DEFAULT_REST_PORT, host: REST_DEFAULTS.host, routes: ['/echo', '/fail', '/slow'] };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--port') args.port = Number(argv[++k]);
    else if (a === '--host') args.host = argv[++k];
    else if (a === '--routes') args.routes = argv[++k].split(',').filter(Boolean);
    else { console.error(`usage: rest-server.mjs [--port N] [--host H] [--routes /a,/b]  (unknown ${a})`); process.exit(2); }
  }
  const s = await startRestServer(args);
  console.log(`listening ${s.url}`);
  const stop = () => { s.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(1); });
}
