// qollective-wasm glue: loads the raw core (.wasm), moves bytes in and out, and performs
// the I/O the core decides on. No protocol logic lives here; see include/qollective.h.

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });
const RECORD_WORDS = 13;
const AUTOFILL = 1;

/** The one error class: every failure the library reports is a QollectiveError. */
export class QollectiveError extends Error {
  constructor(r, cause) {
    super(r.message || r.code || 'error', cause === undefined ? undefined : { cause });
    this.name = 'QollectiveError';
    this.type = r.type || 'internal';
    this.code = r.code || 'INTERNAL';
    this.retryable = !!r.retryable;
    this.retryPolicy = r.retryPolicy || 'none';
    this.status = r.status ?? null;
    this.requestId = r.requestId ?? null;
    this.details = r.details ?? null;
    this.offset = r.offset ?? null;
    this.path = r.path || '';
  }
}

/** A decoded envelope. meta is parsed on first access; payload too (payloadBytes/payloadText never parse). */
export class Envelope {
  constructor(bytes, rec, base, q) {
    this._b = bytes;
    this._r = rec;
    this._o = base;
    this._q = q; // the core that decoded it (request ids are canonicalised there)
  }
  _slice(off, len) { return this._b.subarray(off - this._o, off - this._o + len); }
  get meta() { return this._m ??= JSON.parse(dec.decode(this._slice(this._r[0], this._r[1]))); }
  get payloadBytes() { return this._slice(this._r[2], this._r[3]); }
  get payloadText() { return dec.decode(this.payloadBytes); }
  get payload() { return this._p ??= JSON.parse(this.payloadText); }
  get error() {
    if (!this._r[5]) return undefined;
    return this._e ??= JSON.parse(dec.decode(this._slice(this._r[4], this._r[5])));
  }
  /** HTTP status of the error object: its http_status_code when 400-599, else derived from its code. */
  get errorStatus() { return this._r[5] ? this._r[6] : null; }
  /** meta.request_id in canonical form (lowercase, hyphenated), whatever form the sender used. */
  get requestId() {
    if (!this._r[12]) return undefined;
    return this._id ??= this._q._uuidCanonical(this._slice(this._r[11], this._r[12]));
  }
  toJSON() {
    const o = { meta: this.meta, payload: this.payload };
    if (this.error) o.error = this.error;
    return o;
  }
}

async function compile(source, fetchImpl) {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) {
    const href = String(source);
    if (typeof process !== 'undefined' && process.versions?.node && !/^(https?|data|blob):/.test(href)) {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(href.startsWith('file:') ? new URL(href) : href));
    }
    source = (fetchImpl || fetch)(href);
  }
  if (source && typeof source.then === 'function') source = await source;
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new QollectiveError({ type: 'transport', code: 'LOAD_FAILED', message: `loading the module failed: HTTP ${source.status}`, status: source.status });
    // Streaming compile needs the application/wasm type; fall back to bytes otherwise.
    if (WebAssembly.compileStreaming && /application\/wasm/.test(source.headers.get('content-type') || '')) {
      return WebAssembly.compileStreaming(source);
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  throw new QollectiveError({ type: 'config', code: 'BAD_ARGUMENT', message: 'load() takes a URL, path, Response, bytes or WebAssembly.Module' });
}

export class Qollective {
  /** Loads the core from a URL, file path (Node), Response, bytes or compiled module. */
  static async load(source, options = {}) {
    let module;
    try { module = await compile(source, options.fetch); } catch (e) {
      throw e instanceof QollectiveError ? e : new QollectiveError(e instanceof WebAssembly.CompileError
        ? { type: 'config', code: 'BAD_MODULE', message: 'not a WebAssembly module' }
        : { type: 'transport', code: 'LOAD_FAILED', message: 'loading the module failed' }, e);
    }
    const want = WebAssembly.Module.imports(module);
    if (want.length || !WebAssembly.Module.exports(module).some((e) => e.name === 'q_init')) {
      throw new QollectiveError({ type: 'config', code: 'BAD_MODULE', message: want.length ? `unexpected import ${want[0].module}.${want[0].name}` : 'not the qollective core' });
    }
    const instance = await WebAssembly.instantiate(module, {});
    return new Qollective(instance.exports, options);
  }

  constructor(exports, options) {
    this.x = exports;
    // Which module this is, told by its exports: the codec module has no client exports, the
    // TLS module adds the q_tls_* ones.
    this.module = typeof exports.q_tls_cert_inspect === 'function' ? 'tls' : typeof exports.q_client_new === 'function' ? 'client' : 'codec';
    this.io = {
      fetch: options.fetch || globalThis.fetch?.bind(globalThis),
      WebSocket: options.WebSocket || globalThis.WebSocket,
      random: options.random || ((b) => globalThis.crypto.getRandomValues(b)),
      now: options.now || (() => Date.now()),
    };
    this._mem = new Uint8Array(0);
    this._check(this.x.q_init(options.memoryLimit || 0));
  }

  // ---- memory and calls -------------------------------------------------------------
  // Views of the wasm memory, made again only when it has grown (a view per call costs).
  _views() {
    const b = this.x.memory.buffer;
    if (this._mem.buffer !== b) { this._mem = new Uint8Array(b); this._i32 = new Int32Array(b); }
  }
  get mem() { this._views(); return this._mem; }
  /** A copy of `count` 32-bit words of the call's output. */
  _outWords(count) {
    const w = this.x.q_output_ptr() >> 2;
    this._views();
    return this._i32.slice(w, w + count);
  }
  /** Copies one byte array into the input buffer (the hot path of decode). */
  _input1(bytes) {
    const ptr = this.x.q_buffer(bytes.length);
    if (!ptr) this._check(-1);
    this.mem.set(bytes, ptr);
    return bytes.length;
  }
  _check(rc) {
    if (rc < 0) {
      const p = this.x.q_error_ptr(), n = this.x.q_error_len();
      const rec = n ? JSON.parse(dec.decode(this.mem.subarray(p, p + n))) : { code: 'INTERNAL', message: `core status ${rc}` };
      throw new QollectiveError(rec);
    }
    return rc;
  }
  /** Copies parts (strings or bytes) into the input buffer back to back; returns their byte lengths. */
  _input(parts) {
    let bound = 0;
    for (const p of parts) bound += typeof p === 'string' ? p.length * 3 : p.length;
    const ptr = this.x.q_buffer(bound);
    if (!ptr) this._check(-1);
    const m = this.mem, lens = [];
    let at = ptr;
    for (const p of parts) {
      let n;
      if (typeof p === 'string') n = enc.encodeInto(p, m.subarray(at, at + p.length * 3)).written;
      else { m.set(p, at); n = p.length; }
      lens.push(n);
      at += n;
    }
    return lens;
  }
  _entropy(n) {
    const ptr = this.x.q_entropy(n);
    if (!ptr) this._check(-1);
    this.io.random(this.mem.subarray(ptr, ptr + n));
  }
  _out() {
    const p = this.x.q_output_ptr(), n = this.x.q_output_len();
    return this.mem.slice(p, p + n);
  }
  /** The canonical form of a UUID given as the raw body of a JSON string (the core decides). */
  _uuidCanonical(body) {
    this._check(this.x.q_uuid_canonical(this._input1(body)));
    return this._outText();
  }
  _outText() {
    const p = this.x.q_output_ptr(), n = this.x.q_output_len();
    return dec.decode(this.mem.subarray(p, p + n));
  }

  // ---- codec ---------------------------------------------------------------------------
  /** Validates a JSON document (string or UTF-8 bytes); throws QollectiveError when invalid. */
  validateJson(doc, maxDepth = 0) {
    this._check(this.x.q_json_validate(this._input1(bytesOf(doc)), maxDepth));
  }

  /** Decodes and validates an envelope from bytes or a string. */
  decode(data, client = -1) {
    data = bytesOf(data);
    this._check(this.x.q_envelope_decode(this._input1(data), client));
    return new Envelope(data, this._outWords(RECORD_WORDS), 0, this);
  }

  /** Encodes {meta, payload, error} to wire bytes. payload may be raw JSON via {payloadJson}. */
  encode(env, options = {}, client = -1) {
    const parts = encodeParts(env);
    const autofill = options?.autofill ? AUTOFILL : 0;
    if (autofill) this._entropy(16);
    const [m, p, e] = this._input(parts);
    this._check(this.x.q_envelope_encode(m, p, e, autofill, this.io.now(), client));
    return this._out();
  }

  /** Decodes many envelopes in one call; returns Envelope or QollectiveError per item. */
  decodeMany(list, client = -1) {
    const bufs = listOf(list).map(bytesOf);
    const all = frame(bufs);
    const count = this._check(this.x.q_envelope_decode_batch(this._input1(all), client));
    const words = this._outWords(count * (RECORD_WORDS + 1));
    const out = [];
    for (let i = 0; i < count; i++) {
      const w = words.subarray(i * (RECORD_WORDS + 1), (i + 1) * (RECORD_WORDS + 1));
      if (w[0] < 0) {
        try { out.push(this.decode(bufs[i], client)); } catch (err) { out.push(err); }
      } else out.push(new Envelope(all, w.slice(1), 0, this));
    }
    return out;
  }

  /** Encodes many envelopes in one call; returns Uint8Array per item. */
  encodeMany(list, options = {}, client = -1) {
    const parts = [];
    for (const env of listOf(list)) {
      const [meta, payload] = encodeParts(env);
      parts.push(meta, payload);
    }
    const all = frame(parts.map((s) => (typeof s === 'string' ? enc.encode(s) : s)));
    const autofill = options?.autofill ? AUTOFILL : 0;
    if (autofill) this._entropy(16 * list.length);
    const count = this._check(this.x.q_envelope_encode_batch(this._input1(all), autofill, this.io.now(), client));
    const out = this._out(), odv = new DataView(out.buffer), res = [];
    for (let i = 0, p = 0; i < count; i++) { const n = odv.getUint32(p, true); res.push(out.subarray(p + 4, p + 4 + n)); p += 4 + n; }
    return res;
  }

  /** Creates a client from a config object or JSON text (see README "Configuration"). */
  client(config = {}, options = {}) {
    if (this.module === 'codec') {
      throw new QollectiveError({ type: 'config', code: 'BAD_MODULE', message: 'client(): qollective-codec.wasm has no clients; load qollective.wasm instead' });
    }
    const text = typeof config === 'string' ? config : toJson(config, 'config') ?? 'null';
    const [n] = this._input([text]);
    return new Client(this, this._check(this.x.q_client_new(n)), options);
  }

  /** Memory use of this instance: {limit, footprint, persistent, scratch, clients}. */
  memoryStats() {
    this._check(this.x.q_memory_stats());
    return JSON.parse(this._outText());
  }

  // ---- TLS module (dist/qollective-tls.wasm only) ----------------------------------------
  /** true when the loaded module is the TLS module. */
  get hasTls() { return this.module === 'tls'; }
  _tls() {
    if (!this.hasTls) throw new QollectiveError({ type: 'config', code: 'TLS_UNAVAILABLE', source: 'local', message: 'certificates and signing need the TLS module (dist/qollective-tls.wasm)' });
    return this.x;
  }
  _cert(fn, cert, o, ...rest) {
    const [c, h] = this._input([bytesOf(cert), o.host ?? '']);
    return this._check(fn(o.client?._live() ?? -1, c, h, o.now ?? this.io.now(), ...rest));
  }
  /** What a certificate says (PEM or DER; the leaf of a chain), checked against host and the CA. */
  inspectCertificate(cert, options = {}) {
    const x = this._tls();
    this._cert(x.q_tls_cert_inspect, cert, options, options.refreshMs ?? 0);
    return JSON.parse(this._outText());
  }
  /** Throws the named error (CERT_EXPIRED, CERT_WRONG_HOST, CERT_UNTRUSTED, ...) unless the certificate is good. */
  checkCertificate(cert, options = {}) { this._cert(this._tls().q_tls_cert_check, cert, options); }
  sha256(data) {
    const x = this._tls();
    this._check(x.q_tls_sha256(this._input1(bytesOf(data))));
    return this._out();
  }
  hmacSha256(key, data) {
    const x = this._tls();
    const [k, d] = this._input([bytesOf(key), bytesOf(data)]);
    this._check(x.q_tls_hmac_sha256(k, d));
    return this._out();
  }
  /** Which credentials were compiled in (make CERTS=dir): {ca, cert, key}. */
  embeddedCredentials() {
    this._check(this._tls().q_tls_embedded());
    return JSON.parse(this._outText());
  }
  /** Zeroes the compiled-in private key in linear memory; signing with it fails afterwards. */
  wipeEmbeddedKey() { if (this.hasTls) this.x.q_tls_wipe_embedded(); }
}

/** Batch framing the core reads: [u32le length][bytes] per item. */
function frame(bufs) {
  const all = new Uint8Array(bufs.reduce((n, b) => n + 4 + b.length, 0)), dv = new DataView(all.buffer);
  let at = 0;
  for (const b of bufs) { dv.setUint32(at, b.length, true); all.set(b, at + 4); at += 4 + b.length; }
  return all;
}

const FAIL_NETWORK = 1, FAIL_TIMEOUT = 2, FAIL_ABORTED = 3;

/** Sleeps ms unless signal aborts first; resolves true when it slept. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (v) => { clearTimeout(t); signal?.removeEventListener('abort', onAbort); resolve(v); };
    const onAbort = () => done(false);
    const t = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that aborts when any of the given ones does (AbortSignal.any where available). */
function anySignal(signals) {
  if (AbortSignal.any) return AbortSignal.any(signals);
  const ctl = new AbortController();
  for (const s of signals) {
    if (s.aborted) { ctl.abort(s.reason); break; }
    s.addEventListener('abort', () => ctl.abort(s.reason), { once: true });
  }
  return ctl.signal;
}

/** A configured connection to one Qollective server. Close it to wipe its secrets. */
export class Client {
  constructor(q, handle, options) {
    this.q = q;
    this.h = handle;
    this.auth = options?.auth;         // async () => ({name, token}) consulted before every request
    this._closer = new AbortController(); // close() aborts every send still in flight
  }

  _live() {
    if (this.h < 0) throw new QollectiveError({ type: 'internal', code: 'BAD_HANDLE', message: 'client: closed' });
    return this.h;
  }

  /** Effective configuration (defaults resolved; token values never appear). */
  get config() {
    this.q._check(this.q.x.q_client_config(this._live()));
    return JSON.parse(this.q._outText());
  }

  setToken(name, token) {
    const [n, v] = this.q._input([bytesOf(name), bytesOf(token)]);
    this.q._check(this.q.x.q_token_set(this._live(), n, v));
  }

  clearToken(name) {
    const [n] = this.q._input([bytesOf(name)]);
    return this.q._check(this.q.x.q_token_clear(this._live(), n)) === 1;
  }

  /** TLS module: this client's CA, certificate chain and private key (PEM or DER; any may be
   *  left out). Replaces the compiled-in set for this client; the key is wiped on close(). */
  setCredentials({ ca = '', cert = '', key = '' } = {}) {
    const q = this.q, x = q._tls();
    const [a, c, k] = q._input([bytesOf(ca), bytesOf(cert), bytesOf(key)]);
    q._check(x.q_tls_credentials(this._live(), a, c, k));
  }
  /** TLS module: signs SHA-256(data) with the client's key (ECDSA P-256: raw r||s; RSA: PKCS#1 v1.5). */
  sign(data) {
    const q = this.q, x = q._tls();
    const n = q._input1(bytesOf(data));
    q._entropy(32);
    q._check(x.q_tls_sign(this._live(), n));
    return q._out();
  }
  /** TLS module: the client's certificate as DER (never the key). */
  certificate() {
    const q = this.q;
    q._check(q._tls().q_tls_client_cert(this._live()));
    return q._out();
  }

  /** Frees the client and wipes its secrets; sends still in flight reject with ABORTED. */
  close() {
    if (this.h < 0) return;
    const h = this.h;
    this.h = -1;
    this._closer.abort();
    this.q.x.q_client_free(h);
  }

  /** Sends an envelope over REST; resolves with the reply Envelope or rejects with QollectiveError. */
  async send(envelope, options) {
    const q = this.q, x = q.x, h = this._live();
    options ||= {};
    if (options.signal && !(options.signal instanceof AbortSignal)) throw typeError('signal: not an AbortSignal');
    if (this.auth) {
      let t;
      try { t = await this.auth(); } catch (e) {
        // one error class for every failure; the provider's own error stays the cause
        throw new QollectiveError({ type: 'security', code: 'NO_TOKEN', message: 'auth provider failed' }, e);
      }
      if (t) this.setToken(t.name, t.token);
    }
    // a signal of its own per send: listeners pile up on a shared one (MaxListenersExceededWarning past 10 sends)
    const signal = anySignal(options.signal ? [options.signal, this._closer.signal] : [this._closer.signal]);
    const [meta, payload] = encodeParts(envelope);
    const opts = {};
    if (options.method) opts.method = options.method.toUpperCase?.() ?? options.method;
    if (options.route) opts.route = options.route;
    if (options.timeout !== undefined) opts.timeout_ms = options.timeout;
    if (options.headers) opts.headers = options.headers;
    if (options.idempotent !== undefined) opts.idempotent = options.idempotent;
    q._entropy(20);
    const [m, p, o] = q._input([meta, payload, toJson(opts, 'options')]);
    const len = q._check(x.q_rest_prepare(h, m, p, o, q.io.now()));
    const out = q._out();
    const plan = JSON.parse(dec.decode(out.subarray(0, len)));
    const body = plan.body ? out.subarray(len) : undefined;
    const id = plan.id;

    // Every path below ends the request in the core exactly once (resolve or reject).
    let act = null;
    try {
      for (;;) {
        if (signal?.aborted) { act = this._act(x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now())); break; }
        const ctl = new AbortController();
        let why = 0;
        const onAbort = () => { why = FAIL_ABORTED; ctl.abort(); };
        signal?.addEventListener('abort', onAbort, { once: true });
        const timer = setTimeout(() => { why = FAIL_TIMEOUT; ctl.abort(); }, Math.max(0, plan.deadline - q.io.now()));
        let res, bytes;
        try {
          res = await q.io.fetch(plan.url, { method: plan.method, headers: plan.headers, body, signal: ctl.signal });
          bytes = new Uint8Array(await res.arrayBuffer());
        } catch (e) {
          res = null;
          if (!why) why = FAIL_NETWORK;
        } finally {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        }
        if (res) {
          const ct = res.headers.get('content-type') || '', ra = res.headers.get('retry-after') || '';
          const [b] = q._input([bytes, ct, ra]);
          act = this._act(x.q_rest_response(h, id, res.status, b, enc.encode(ct).length, enc.encode(ra).length, q.io.now()), bytes);
        } else {
          act = this._act(x.q_rest_failure(h, id, why, q.io.now()));
        }
        if (act.action !== 'retry') break;
        if (!(await sleep(act.delay, signal))) { act = this._act(x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now())); break; }
        act = this._act(x.q_rest_attempt(h, id, q.io.now()));
        if (act.action !== 'send') break;
      }
    } catch (e) {
      // A failure on this side (memory for the reply, a closed client) must still end the
      // request in the core, or its in-flight slot would never be freed.
      if (this.h === h) x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now());
      throw e;
    }
    if (act.action === 'resolve') return new Envelope(act.bytes, Int32Array.from(act.record), 0, q);
    const err = new QollectiveError({ ...act.error, requestId: act.requestId, details: act.details });
    if (options.signal?.aborted && act.error.code === 'ABORTED' && options.signal.reason !== undefined) err.cause = options.signal.reason;
    throw err;
  }

  _act(rc, bytes) {
    if (this.h < 0) throw new QollectiveError({ type: 'aborted', code: 'ABORTED', message: 'client closed while the request was in flight' });
    this.q._check(rc);
    const a = JSON.parse(this.q._outText());
    if (bytes) a.bytes = bytes;
    return a;
  }
}

function typeError(message, path, cause) {
  return new QollectiveError({ type: 'validation', code: 'TYPE_MISMATCH', message, path }, cause);
}

function bytesOf(d) {
  if (typeof d === 'string') return enc.encode(d);
  if (d instanceof Uint8Array) return d;
  throw typeError('expected a string or bytes');
}

function listOf(l) {
  if (Array.isArray(l)) return l;
  throw typeError('expected an array');
}

function toJson(v, path) {
  try { return JSON.stringify(v); } catch (e) { throw typeError(`${path}: not serializable as JSON`, path, e); }
}

function encodeParts(env) {
  if (env === null || typeof env !== 'object') throw typeError('envelope: expected an object with meta and payload');
  const meta = env.meta === undefined ? '' : toJson(env.meta, 'meta');
  let payload;
  if (env.payloadJson !== undefined) payload = typeof env.payloadJson === 'string' ? env.payloadJson : bytesOf(env.payloadJson);
  else payload = env.payload === undefined ? 'null' : toJson(env.payload, 'payload');
  if (payload === undefined) payload = 'null'; // functions, symbols
  const error = env.error === undefined || env.error === null ? '' : toJson(env.error, 'error');
  if (meta === undefined || error === undefined) throw typeError('envelope: meta/error must be objects');
  return [meta, payload, error];
}
