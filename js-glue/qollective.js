// qollective-wasm glue: loads the raw core (.wasm), moves bytes in and out, and performs
// the I/O the core decides on. No protocol logic lives here; see include/qollective.h.

// Numbers the C headers define (include/qollective.h, include/qollective/constants.h): each is named
// here with its C name, and tests/js/constants.test.mjs holds it to the header's value.
const RECORD_WORDS = 14;   // Q_DECODE_RECORD_WORDS
const TAPE_WORDS = 3072;   // Q_DECODE_TAPE_WORDS
const MESSAGE_CHARS = 200;   // Q_MAX_ERROR_MESSAGE_CHARS: error messages and log texts are cut there
const AUTOFILL = 1;   // Q_ENCODE_AUTOFILL
// random bytes (q_entropy) a call needs: a request id's, a jitter seed, a REST request's, a signature's
const REQUEST_ID_BYTES = 16;   // Q_ENTROPY_REQUEST_ID_BYTES
const SEED_BYTES = 4;   // Q_ENTROPY_SEED_BYTES
const PREPARE_BYTES = 20;   // Q_ENTROPY_PREPARE_BYTES
const SIGN_BYTES = 32;   // Q_ENTROPY_BYTES
// random bytes fetched per io.random() call (getRandomValues costs the same for 16 B as for 4 KB)
const ENTROPY_POOL = 4096;   // Q_GLUE_ENTROPY_POOL_BYTES
// bytes of frames a corked `ws` socket collects before they are written (see Socket._send)
const CORK_BYTES = 65536;   // Q_GLUE_WS_CORK_BYTES
// (Node) strings of at least this many UTF-16 units go into the core as units (utf16Into): shorter
// ones cost less through encodeInto when all ASCII (bench/string-input-ab.mjs)
const UTF16_MIN_UNITS = 2048;   // Q_GLUE_UTF16_MIN_UNITS
// a failed fetch's error name and code are kept (details) only as identifiers this long at most
const HOST_IDENT_CHARS = 64;   // Q_GLUE_HOST_IDENT_MAX_CHARS
// a header name in a log record is cut there
const LOG_HEADER_NAME_CHARS = 64;   // Q_GLUE_LOG_HEADER_NAME_CHARS
// (the numbers above come first: esbuild puts a constant's value in its uses only while no
// statement with effects, such as the two below, precedes it)
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

/** The one error class: every failure the library reports is a QollectiveError. */
export class QollectiveError extends Error {
  constructor(r, cause) {
    // the core's messages carry markers for their text (messageText)
    super((typeof r.message === 'string' && messageText(r.message)) || r.code || 'error', cause === undefined ? undefined : { cause });
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
    // who found the failure: 'local' (nothing sent, or the caller aborted), 'network' (no answer),
    // 'envelope' (the server's error envelope), 'frame' (a WebSocket error frame), 'http'
    this.source = r.source ?? null;
  }
}

// The core's error record (include/qollective.h, Q_ERROR_RECORD_BYTES): text fields between NULs.
function errorRecord(text) {
  let [type, code, message, retryPolicy, status, offset, path, source] = text.split('\0');
  if (code[0] === '\x01') code = STATUS_NAMES[code.slice(1)];   // the codec module's: a row (messageText)
  return { type, code, message, retryable: retryPolicy !== 'none', retryPolicy, status: +status || null, offset: offset ? +offset : null, path, source };
}

/** A decoded envelope. meta is parsed on first access; payload too (payloadBytes/payloadText never parse).
 * Decoded from bytes, it keeps views of them; decoded from a string, it keeps the string and the
 * payload's place in it, plus the texts of meta and error when non-ASCII text lies before them
 * or in them (never a copy of the whole input). */
export class Envelope {
  /** data: the bytes, or the string, it was decoded from; rec: the decode record (include/
   * qollective.h) from word `at` on, whose offsets less base are offsets into data. */
  constructor(data, rec, base, q, at = 0) {
    // thousands of replies may be alive at once: the record's words as fields (not a typed array
    // of their own), and what is rarely there in one object of its own (_x)
    this._d = data;
    this._q = q; // the core that decoded it (request ids are canonicalised there)
    this._m0 = rec[at] - base; this._m1 = rec[at + 1];
    this._p0 = rec[at + 2] - base; this._p1 = this._p0 + rec[at + 3];   // payload [p0, p1): string units when from a string
    this._i0 = rec[at + 11] - base; this._i1 = rec[at + 12];
    this._m = this._p = undefined;   // parsed on first access
    // the error's place and status; later t (texts of a string not all ASCII), e, id, pb (caches);
    // b: an i64/u64 field of the meta beyond 2^53 - 1 or an enum in map form (QD_META_NEEDS_TAPE, metaOf)
    this._x = rec[at + 5] ? { e0: rec[at + 4] - base, e1: rec[at + 5], es: rec[at + 6] } : undefined;
    if (rec[at + 13]) this._y.b = 1;
  }
  get _y() { return this._x ??= {}; }
  /** Text of the member at [off, off + n) (meta, error, request id). */
  _text(off, n) {
    const d = this._d, t = this._x?.t;
    return t ? t[off] : d.subarray ? dec.decode(d.subarray(off, off + n)) : d.slice(off, off + n);
  }
  // _m: the meta once made; before, the number of the decode whose tape may still serve it (metaOf)
  get meta() { const m = this._m; return typeof m === 'object' ? m : (this._m = metaOf(m, this._text(this._m0, this._m1), this._m1, this._q, this._x?.b)); }
  get payloadBytes() { const d = this._d; return d.subarray ? d.subarray(this._p0, this._p1) : (this._y.pb ??= enc.encode(this.payloadText)); }
  get payloadText() {
    const d = this._d;
    if (d.subarray) return dec.decode(this.payloadBytes);
    const t = d.slice(this._p0, this._p1), x = this._x;
    return x?.t && !x.wf ? wellFormed(t) : t;   // lone surrogates read as U+FFFD, as the core saw them
  }
  get payload() { return this._p ??= JSON.parse(this.payloadText); }
  get error() {
    const x = this._x;
    if (x?.e1) return x.e ??= JSON.parse(this._text(x.e0, x.e1));
  }
  /** HTTP status of the error object: its http_status_code when 400-599, else derived from its code. */
  get errorStatus() { return this._x?.e1 ? this._x.es : null; }
  /** meta.request_id in canonical form (lowercase, hyphenated), whatever form the sender used. */
  get requestId() {
    const a = this._i0, n = this._i1, d = this._d;
    if (n) return this._y.id ??= this._q._uuidCanonical(d.subarray ? d.subarray(a, a + n) : this._text(a, n));
  }
  toJSON() {
    const o = { meta: this.meta, payload: this.payload };
    if (this.error) o.error = this.error;
    return o;
  }
}

/** The meta object of text s (n bytes of UTF-8) of the Envelope made by decode number `seq`: built
 * from the tape the core wrote while it walked the meta (include/qollective.h QT_*), which core q
 * keeps for its last decode (q.decode). The tape's offsets are bytes, so it serves only an ASCII
 * text; field names are kept by their index in the core's tables. Any other text is parsed, unless
 * its decode said it needs the tape (needsTape, QD_META_NEEDS_TAPE: an i64/u64 field beyond
 * 2^53 - 1, a BigInt by QT_BIG, or an enum in map form, {"Jwt":null}, which is "Jwt"; only the
 * schema knows either): then the core walks the text again for a tape in its UTF-16 units
 * (q_meta_tape; it refuses only a meta deeper than its default limit, which no Rust server parses). */
function metaOf(seq, s, n, q, needsTape) {
  let out = q._tape;
  if (seq !== q._tapeSeq || s.length !== n) {
    if (!needsTape || (n = q.x.q_meta_tape(q._inputText(s))) < 1) return JSON.parse(s);
    out = q._outWords(n);
  }
  const names = q._names;
  let k = 0, e = s.indexOf('\\') >>> 0;
  // a string or key body as written; escapes (rare) are read by JSON.parse. e: the first backslash at
  // or after the body, 2^32 - 1 for none (the tape is in the text's order, and a backslash is only
  // ever in a body or a raw value)
  const text = (a, len) => {
    const v = s.slice(a, a + len);
    if (e < a) e = s.indexOf('\\', a) >>> 0;
    return e < a + len ? JSON.parse(`"${v}"`) : v;
  };
  const value = () => {
    const kind = out[k], a = out[k + 1], len = out[k + 2];
    k += 3;
    switch (kind) {
      case 3: return text(a, len);   // QT_STRING
      case 4: { const c = s.charCodeAt(a); return c === 116 || (c === 102 ? false : c === 110 ? null : globalThis.QOLLECTIVE_CODEC_ONLY ? +s.slice(a, a + len) : numberAt(s, a, len)); }   // QT_PRIMITIVE
      case 7: return JSON.parse(s.slice(a, a + len));   // QT_RAW
      case 8: return BigInt(s.slice(a, a + len));   // QT_BIG
      case 2: { const r = []; for (let i = 0; i < len; i++) r.push(value()); return r; }   // QT_ARRAY
    }
    let o = {};   // QT_OBJECT: its members, each a key (QT_FIELD: a field's index; QT_KEY) and a value
    for (let i = 0; i < len; i++) {
      const f = out[k];
      let key;
      if ((f & 255) === 5) key = names[f >> 8] ??= s.slice(out[k + 1], out[k + 1] + out[k + 2]);
      else key = text(out[k + 1], out[k + 2]);
      k += 3;
      // '__proto__' is an own key to JSON.parse, a prototype to an assignment
      if (key === '__proto__') o = { ...o, [key]: value() };   // a computed key: an own property
      else o[key] = value();
    }
    return o;
  };
  return value();
}

/** (Node; not in the codec glue, whose module has no q_input_utf16) Writes string s's UTF-16 units
 * at address `at` of core q's input buffer (Buffer#write: a copy, where Node's encodeInto writes a
 * string that is not all ASCII a unit at a time) and has the core make them UTF-8 in place. Returns
 * the UTF-8 length, or 0 when that would not fit in place (text dense in 3-byte characters: the
 * caller uses encodeInto). q._wf: done, and no lone surrogate was replaced (envelopeOfText); then
 * q._a and q._z: the UTF-8's bytes before _a and from _z on are ASCII (0 and 2^32 - 1 when not known). */
function utf16Into(q, s, at) {
  q._views();
  q._u16.write(s, at, 'utf16le');
  const r = q.x.q_input_utf16(at - q._in, s.length), w = q.x.q_output_ptr() >> 2;
  q._views();   // the output's 8 bytes of scratch may have grown the memory
  q._wf = r > 0 && !(r & 1);
  q._a = w && q._i32[w];
  q._z = w ? q._i32[w + 1] : -1 >>> 0;
  return r >> 1;
}

/** The value of the JSON number s[a, a + n) (validated by the core), as JSON.parse reads it: with at
 * most 15 digits and no exponent, its digits as an integer m (exact) over 10^k for k digits after the
 * point (exact too: 10^k <= 10^15), and one division rounds that once, to the nearest double (Clinger's
 * fast path); anything else by Number(). Not in the codec glue (its brotli budget). */
function numberAt(s, a, n) {
  let m = 0, digits = 0, k = -1, p = 1, i = a + (s.charCodeAt(a) === 45);
  for (; i < a + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c === -2) k = 0;   // '.'
    else if (c >>> 0 > 9 || ++digits > 15) return +s.slice(a, a + n);   // an exponent, or too many digits
    else { m = m * 10 + c; if (k >= 0) { k++; p *= 10; } }
  }
  return s.charCodeAt(a) === 45 ? -(m / p) : m / p;
}

/** The string with lone surrogates replaced by U+FFFD, as TextEncoder writes them. */
const wellFormed = String.prototype.toWellFormed
  ? (t) => t.toWellFormed()
  : (t) => dec.decode(enc.encode(t));

/** The Envelope of a string core q has just decoded (n bytes of UTF-8 in its input buffer);
 * its decode record is rec (an Int32Array) from word `at` on. */
function envelopeOfText(q, s, rec, n, at) {
  const env = new Envelope(s, rec, 0, q, at);
  // all ASCII (one byte per UTF-16 unit): byte offsets are string offsets, texts are slices on demand
  if (n === s.length) return env;
  // (Node's UTF-16 input, no lone surrogate) meta, error and the payload's start in the ASCII bytes
  // before the first other one (q._a), and only ASCII after the payload (q._z): the same, but
  // the payload's end counted from the string's end
  if (!globalThis.QOLLECTIVE_CODEC_ONLY && q._wf && env._p0 <= q._a && env._p1 >= q._z && env._m0 + env._m1 <= q._a && !(env._x && env._x.e0 + env._x.e1 > q._a)) {
    env._p1 += s.length - n;
    return env;
  }
  rec = rec.slice(at, at + RECORD_WORDS);   // copied: q_has_replacement below is a call of its own
  const m = q.mem, base = q._in, p0 = rec[2], p1 = rec[2] + rec[3];
  // texts by their byte offset (meta, error, request id: _text); wf: no U+FFFD in the payload's
  // bytes, so no lone surrogate in its slice, which then needs no well-formedness pass
  const x = env._y, t = x.t = [];
  x.wf = (!globalThis.QOLLECTIVE_CODEC_ONLY && q._wf) || !q.x.q_has_replacement(p0, rec[3]);   // _wf: no lone surrogate in the string
  const text = (off, len) => dec.decode(m.subarray(base + off, base + off + len));
  for (const i of [0, 4, 11]) if (rec[i + 1]) t[rec[i]] = text(rec[i], rec[i + 1]);
  // UTF-16 units of bytes [a, b), which hold whole members: meta and error are already text
  const known = [0, 4].filter((i) => rec[i + 1] && rec[i] >= 0).sort((i, j) => rec[i] - rec[j]);
  const units = (a, b) => {
    let c = 0;
    for (const i of known) {
      const r0 = rec[i], r1 = r0 + rec[i + 1];
      if (r0 >= a && r1 <= b) { c += dec.decode(m.subarray(base + a, base + r0)).length + t[r0].length; a = r1; }
    }
    return c + dec.decode(m.subarray(base + a, base + b)).length;
  };
  // count what lies before and after the payload, never the payload itself
  env._p0 = units(0, p0);
  env._p1 = s.length - units(p1, n);
  return env;
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
    // REST module no q_ws_* ones, the TLS module adds the q_tls_* ones.
    this.module = exports.q_tls_cert_inspect ? 'tls' : exports.q_ws_open ? 'client' : exports.q_client_new ? 'rest' : 'codec';
    this.io = {
      random: options.random || ((b) => globalThis.crypto.getRandomValues(b)),
      now: options.now || (() => Date.now()),
      // what only clients use (none in the codec glue)
      ...(!globalThis.QOLLECTIVE_CODEC_ONLY && {
        fetch: options.fetch || globalThis.fetch?.bind(globalThis),
        WebSocket: options.WebSocket || globalThis.WebSocket,
        log: options.log,   // the default log sink of this instance's clients (see Client._log)
        tls: options.tls,   // host TLS transport factory (js-glue/node-tls.js): mTLS in Node
      }),
    };
    this._mem = new Uint8Array(0);
    this._names = [];   // meta field names by their index in the core's schema set (metaOf)
    this._tapeSeq = 1;   // the number of the last decode, whose meta's tape _tape holds (metaOf)
    this._check(this.x.q_init(options.memoryLimit || 0));
  }

  // ---- memory and calls -------------------------------------------------------------
  // Views of the wasm memory, made again only when it has grown (a view per call costs): growing
  // detaches the old buffer, so its views read as empty (memory.buffer itself is a host call)
  _views() {
    if (!this._mem.length) {
      const b = this.x.memory.buffer;
      this._mem = new Uint8Array(b); this._i32 = new Int32Array(b);
      if (!globalThis.QOLLECTIVE_CODEC_ONLY) { this._dv = new DataView(b); if (globalThis.Buffer) this._u16 = Buffer.from(b); }
    }
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
    const ptr = this._in = this.x.q_buffer(bytes.length);
    if (!ptr) this._check(-1);
    this.mem.set(bytes, ptr);
    return bytes.length;
  }
  /** Writes a string as UTF-8 straight into the input buffer; returns its byte length. The buffer
   * grows to the exact size, never to the 3-bytes-a-unit worst case (issue 9: decode memory). */
  _inputText(s) {
    // Node: 2 bytes a unit, made UTF-8 in place (utf16Into); when that room is not there, or the
    // UTF-8 would not fit in place, as below
    if (!globalThis.QOLLECTIVE_CODEC_ONLY) {
      this._wf = false;
      if (s.length >= UTF16_MIN_UNITS && globalThis.Buffer && this.x.q_input_utf16) {
        const at = this._in = this.x.q_buffer(s.length * 2), n = at && utf16Into(this, s, at);
        if (n) return n;
      }
    }
    // ASCII (the usual envelope) fits in s.length bytes: one pass
    let ptr = this.x.q_buffer(s.length);
    if (!ptr) this._check(-1);
    const { read, written } = enc.encodeInto(s, this.mem.subarray(ptr, ptr + s.length));
    this._in = ptr;
    if (read === s.length) return written;
    // the rest, encoded apart: the buffer grows to the exact size (in place when it can)
    const rest = enc.encode(s.slice(read));
    if (!(ptr = this._in = this.x.q_buffer(written + rest.length))) this._check(-1);
    this.mem.set(rest, ptr + written);
    return written + rest.length;
  }
  _check(rc) {
    if (rc < 0) {
      const p = this.x.q_error_ptr(), n = this.x.q_error_len();
      throw new QollectiveError(n ? errorRecord(dec.decode(this.mem.subarray(p, p + n))) : { code: 'INTERNAL', message: `core status ${rc}`, source: 'local' });
    }
    return rc;
  }
  /** Copies parts (strings or bytes) into the input buffer back to back; returns their byte lengths. */
  _input(parts) {
    let bound = 0;
    for (const p of parts) bound += typeof p === 'string' ? p.length * 3 : p.length;
    const ptr = this._in = this.x.q_buffer(bound);
    if (!ptr) this._check(-1);
    const m = this.mem, lens = [];
    let at = ptr;
    for (const p of parts) {
      let n;
      if (typeof p === 'string') n = (!globalThis.QOLLECTIVE_CODEC_ONLY && p.length >= UTF16_MIN_UNITS && globalThis.Buffer && this.x.q_input_utf16 && utf16Into(this, p, at)) || enc.encodeInto(p, m.subarray(at, at + p.length * 3)).written;
      else { m.set(p, at); n = p.length; }
      lens.push(n);
      at += n;
    }
    return lens;
  }
  /** Writes parts (strings or bytes) in the batch framing ([u32le length][bytes] each) straight
   * into the input buffer; returns the framed length. */
  _inputFramed(parts) {
    const size = (exact) => parts.reduce((n, p) => n + 4 + (typeof p !== 'string' ? p.length : exact ? enc.encode(p).length : p.length * 3), 0);
    // room for the worst case (3 bytes a UTF-16 unit); under a tight memoryLimit, the exact size
    let ptr = this.x.q_buffer(size(false));
    if (!ptr) ptr = this.x.q_buffer(size(true));
    if (!ptr) this._check(-1);
    this._in = ptr;
    const m = this.mem, dv = new DataView(m.buffer);
    let at = ptr;
    for (const p of parts) {
      let n = p.length;
      if (typeof p === 'string') n = enc.encodeInto(p, m.subarray(at + 4, at + 4 + p.length * 3)).written;
      else m.set(p, at + 4);
      dv.setUint32(at, n, true);
      at += 4 + n;
    }
    return at - ptr;
  }
  /** Zeroes n bytes of the input buffer from off: what the glue wrote there may be a secret. */
  _wipeInput(off, n) {
    if (n) this.mem.fill(0, this._in + off, this._in + off + n);
  }
  /** Hands the core n random bytes (the default), or writes them to o from at: from a pool filled
   * ENTROPY_POOL bytes at a time, one random() call per ~256 requests, not per request. A byte
   * is used once, then zeroed. */
  _entropy(n, o, at) {
    if (!o) {
      if (!(at = this.x.q_entropy(n))) this._check(-1);
      o = this.mem;
      if (n > ENTROPY_POOL) return void this.io.random(o.subarray(at, at + n));
    }
    const pool = this._pool ??= new Uint8Array(ENTROPY_POOL);
    if (!(this._poolAt + n <= ENTROPY_POOL)) { this.io.random(pool); this._poolAt = 0; }
    for (let k = 0, r = this._poolAt; k < n; k++) { o[at + k] = pool[r + k]; pool[r + k] = 0; }   // a few bytes: no views
    this._poolAt += n;
  }
  _out() {
    const p = this.x.q_output_ptr(), n = this.x.q_output_len();
    return this.mem.slice(p, p + n);
  }
  /** The canonical form of a UUID given as the raw body of a JSON string (the core decides). */
  _uuidCanonical(body) {
    this._check(this.x.q_uuid_canonical(typeof body === 'string' ? this._inputText(body) : this._input1(body)));
    return this._outText();
  }
  _outText() {
    const p = this.x.q_output_ptr(), n = this.x.q_output_len();
    return dec.decode(this.mem.subarray(p, p + n));
  }

  // ---- codec ---------------------------------------------------------------------------
  /** Validates a JSON document (string or UTF-8 bytes); throws QollectiveError when invalid. */
  validateJson(doc, maxDepth = 0) {
    const n = typeof doc === 'string' ? this._inputText(doc) : this._input1(bytesOf(doc));
    this._check(this.x.q_json_validate(n, maxDepth));
  }

  /** Decodes and validates an envelope from bytes or a string. */
  decode(data, client = -1) {
    const text = typeof data === 'string', n = text ? this._inputText(data) : this._input1(data = bytesOf(data));
    this._check(this.x.q_envelope_decode(n, client));
    // the record, then the meta's tape (its length, its words), kept for this Envelope's meta (metaOf)
    // in one array of this instance: a typed array of its own per call would be allocated off the heap
    const w = this.x.q_output_ptr() >> 2;
    this._views();
    const t = this._i32, n1 = t[w + RECORD_WORDS];
    if (n1) (this._tape ??= new Int32Array(TAPE_WORDS)).set(t.subarray(w + RECORD_WORDS + 1, w + RECORD_WORDS + 1 + n1));   // before any other call
    // the record is read where it is (the Envelope keeps its words); a string that is not all ASCII
    // has its record copied first (envelopeOfText calls the core again)
    const env = text ? envelopeOfText(this, data, t, n, w) : new Envelope(data, t, 0, this, w);
    if (n1) env._m = ++this._tapeSeq;   // a number, not the Envelope: the instance keeps no input alive
    else this._tapeSeq++;
    return env;
  }

  /** Encodes {meta, payload, error} to wire bytes. payload may be raw JSON via {payloadJson}. */
  encode(env, options = {}, client = -1) {
    const parts = encodeParts(env);
    const autofill = options?.autofill ? AUTOFILL : 0;
    if (autofill) this._entropy(REQUEST_ID_BYTES);
    const [m, p, e] = this._input(parts);
    this._check(this.x.q_envelope_encode(m, p, e, autofill, this.io.now(), client));
    return this._out();
  }

  /** Decodes many envelopes; returns Envelope or QollectiveError per item: a decode call per item
   * (no module has a batch decode: this loop is less code than one, and as fast, bench/README.md
   * "Codec"). An unknown client fails the whole call, as it did. */
  decodeMany(list, client = -1) {
    return listOf(list).map((b) => {
      // a string goes to decode as it is (its own string path, no TextEncoder copy first); an item
      // neither string nor bytes fails the whole call, as it did
      if (typeof b !== 'string') b = bytesOf(b);
      try { return this.decode(b, client); } catch (err) { if (err.code === 'BAD_HANDLE') throw err; return err; }
    });
  }

  /** Encodes many envelopes in one call; returns Uint8Array per item. */
  encodeMany(list, options = {}, client = -1) {
    const parts = [];
    for (const env of listOf(list)) {
      const [meta, payload] = encodeParts(env);
      parts.push(meta, payload);
    }
    const n = this._inputFramed(parts);
    const autofill = options?.autofill ? AUTOFILL : 0;
    if (autofill) this._entropy(REQUEST_ID_BYTES * list.length);
    const count = this._check(this.x.q_envelope_encode_batch(n, autofill, this.io.now(), client));
    const out = this._out(), odv = new DataView(out.buffer), res = [];
    for (let i = 0, p = 0; i < count; i++) { const n = odv.getUint32(p, true); res.push(out.subarray(p + 4, p + 4 + n)); p += 4 + n; }
    return res;
  }

  /** Creates a client from a config object or JSON text (see README "Configuration"). */
  client(config = {}, options = {}) {
    if (this.module === 'codec') {
      throw new QollectiveError({ type: 'config', code: 'BAD_MODULE', message: 'client(): qollective-codec.wasm has no clients; load qollective.wasm instead' });
    }
    // globalThis.QOLLECTIVE_CODEC_ONLY is a build switch (Makefile: esbuild --define), true in the
    // codec glue (dist/qollective-codec.min.js). An else branch, not code after a throw: that build
    // drops it, and with it Client and Socket.
    if (globalThis.QOLLECTIVE_CODEC_ONLY) {
      throw new QollectiveError({ type: 'config', code: 'BAD_MODULE', message: 'client(): the codec glue has no clients; import qollective-wasm (dist/qollective.min.js) instead' });
    } else {
      const text = typeof config === 'string' ? config : toJson(config, 'config', 1) ?? 'null';
      const [n] = this._input([text]);
      let h;
      try { h = this._check(this.x.q_client_new(n)); } finally { this._wipeInput(0, n); } // rest.headers may hold secrets
      return new Client(this, h, options);
    }
  }

  /** Memory use of this instance: {limit, footprint, persistent, scratch, clients}. */
  memoryStats() {
    this._check(this.x.q_memory_stats());
    const [limit, footprint, persistent, scratch, clients] = Array.from(this._outWords(5), (w) => w >>> 0);   // Q_MEMORY_STATS_WORDS, unsigned
    return { limit, footprint, persistent, scratch, clients };
  }

  // ---- TLS module (dist/qollective-tls.wasm only) ----------------------------------------
  /** true when the loaded module is the TLS module. */
  get hasTls() { return this.module === 'tls'; }
  /** Calls q_tls_<name>(client, ...byte lengths of parts, ...extra); parts go to the input buffer. */
  _tls(name, client, parts, ...extra) {
    if (globalThis.QOLLECTIVE_REST_ONLY || globalThis.QOLLECTIVE_CODEC_ONLY) throw noTls();   // the REST and codec glues: no TLS code (nor in their modules)
    const f = this.x['q_tls_' + name];
    if (!f) throw noTls();
    return this._check(f(client, ...this._input(parts.map(bytesOf)), ...extra));
  }
  /** What a certificate says (PEM or DER; the leaf of a chain), checked against host and the CA. */
  inspectCertificate(cert, o = {}) {
    if (globalThis.QOLLECTIVE_REST_ONLY || globalThis.QOLLECTIVE_CODEC_ONLY) return this._tls();   // the REST and codec glues: throws, the code below is left out
    this._tls('cert_inspect', o.client?._live() ?? -1, [cert, o.host ?? ''], o.now ?? this.io.now(), o.refreshMs ?? 0);
    const r = JSON.parse(this._outText());
    // the core writes a detail marker (no TLS module behind the codec glue: left out there)
    if (!globalThis.QOLLECTIVE_CODEC_ONLY && r.trustError) r.trustError.message = messageText(r.trustError.message);
    return r;
  }
  /** Throws the named error (CERT_EXPIRED, CERT_WRONG_HOST, CERT_UNTRUSTED, ...) unless the certificate is good. */
  checkCertificate(cert, o = {}) { this._tls('cert_check', o.client?._live() ?? -1, [cert, o.host ?? ''], o.now ?? this.io.now()); }
  sha256(data) { this._tls('sha256', -1, [data]); return this._out(); }
  hmacSha256(key, data) { this._tls('hmac_sha256', -1, [key, data]); return this._out(); }
  /** Which credentials were compiled in (make CERTS=dir): {ca, cert, key}. */
  embeddedCredentials() { this._tls('embedded', -1, []); return JSON.parse(this._outText()); }
  /** Zeroes the compiled-in private key in linear memory; signing with it fails afterwards. */
  wipeEmbeddedKey() { this._tls('wipe_embedded', -1, []); }
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

/** What the host told about a failed fetch, for QollectiveError.details: the error's name and
 * its code (Node puts e.g. ECONNREFUSED on the cause). Identifiers only, never messages: a
 * message can quote a URL or a header. */
function hostFailure(e) {
  const ident = (v) => (typeof v === 'string' && RegExp(`^[A-Za-z0-9_.-]{1,${HOST_IDENT_CHARS}}$`).test(v) ? v : undefined);
  const out = {};
  const name = ident(e?.name), code = ident(e?.cause?.code) ?? ident(e?.code);
  if (name) out.name = name;
  if (code) out.code = code;
  return out;
}

// ---- logging: the one logger (issue 12 item 8) -----------------------------------------------
// The level is the client's log.level (config, validated by the core; off by default), records go
// to the sink of the log client/load option (default: the console). A record is {level, event}
// plus only the fields named in LOG_FIELDS, each a number, boolean or short string, with URLs cut
// to origin and path and header lists cut to names: never a header value, token, key, query or
// payload, whatever a call site passes.
const LOG_LEVELS = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };
const LOG_FIELDS = ['requestId', 'method', 'url', 'status', 'attempt', 'delay', 'code', 'type', 'source', 'message',
  'state', 'bytes', 'name', 'expiresAt', 'count', 'headers'];
const consoleSink = (r) => (console[r.level] || console.log)(`qollective ${r.level} ${r.event}`, r);
function logField(k, v) {
  if (k === 'url') {
    try { const u = new URL(v); return u.origin + u.pathname; } catch { return undefined; }   // no userinfo, query or fragment
  }
  if (k === 'headers') return Array.isArray(v) ? v.map((h) => String(Array.isArray(h) ? h[0] : h).slice(0, LOG_HEADER_NAME_CHARS)) : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return typeof v === 'string' ? v.slice(0, MESSAGE_CHARS) : undefined;
}
function logRecord(level, event, fields) {
  const r = { level, event };
  for (const k of LOG_FIELDS) {
    const v = fields?.[k] === undefined ? undefined : logField(k, fields[k]);
    if (v !== undefined) r[k] = v;
  }
  return r;
}

/** A configured connection to one Qollective server. Close it to wipe its secrets. */
export class Client {
  constructor(q, handle, options) {
    this.q = q;
    this.h = handle;
    this.auth = options?.auth;         // async () => ({name, token, expiresAt?}) consulted before every request
    // Sends in flight: close() ends each one in the core and aborts its I/O. A set, not one
    // long-lived signal every send listens to: such listeners outlive the sends (issue 9).
    this._sends = new Set();
    this._watched = new Map();         // caller's AbortSignal -> the sends listening to it
    this._sockets = new Map();         // socket handle -> Socket (the pool itself is in the core)
    this._logLevel = q._check(q.x.q_client_log_level(handle));
    this._sink = options?.log || q.io.log || consoleSink;
    this._log('debug', 'client.new', {});
  }

  /** Logs one record when level is within log.level (see LOG_FIELDS: what a record may carry). */
  _log(level, event, fields) {
    if (LOG_LEVELS[level] > this._logLevel) return;
    try { this._sink(logRecord(level, event, fields)); } catch { /* a failing sink never fails a request */ }
  }

  /** The pooled WebSocket for url (default websocket.url): one per URL, see README "WebSocket". */
  socket(url, options) {
    // the REST module has no WebSocket exports; the REST glue (dist/qollective-rest.min.js, built
    // with QOLLECTIVE_REST_ONLY) has no Socket class
    // (the build switch first: in the REST glue the condition is constant and the rest is left out)
    if (globalThis.QOLLECTIVE_REST_ONLY || this.q.module === 'rest') throw noWebSocket(this.q.module);
    const q = this.q, h = this._live();
    if (url !== undefined && typeof url !== 'string' && !(url instanceof URL)) throw typeError('socket: url must be a string or URL');
    if (options?.WebSocket) this._WebSocket = options.WebSocket;
    this._maxBytes ??= this.config.websocket.max_message_bytes;
    q._entropy(SEED_BYTES);
    const [n] = q._input([url === undefined ? '' : String(url)]);
    let sh;
    try { sh = q._check(q.x.q_ws_open(h, n, q.io.now())); } catch (e) {
      this._log('warn', 'ws.refused', e);
      throw e;
    }
    let s = this._sockets.get(sh);
    if (!s) {
      s = globalThis.QOLLECTIVE_REST_ONLY ? null : new Socket(this, sh, this._maxBytes);   // REST glue: never reached, no Socket
      this._sockets.set(sh, s);
    }
    this._wsRun(q.x.q_output_len(), 0);
    return s;
  }

  /** Carries out the actions of a WebSocket call, then throws its failure if it failed: a refused
   * call still outputs what it did before refusing (requests it expired, a connect that timed
   * out). The failure is read first: the actions may call into the core again. */
  _wsCall(rc, inPtr, entry, text) {
    let failure;
    if (rc < 0) try { this.q._check(rc); } catch (e) { failure = e; }
    this._wsRun(rc, inPtr, entry, text);
    if (failure) throw failure;
  }

  /** Carries out the actions of the last WebSocket call: 32-bit word records (layout in
   * include/qollective.h), read without a parse; only the rare actions carry a JSON object.
   * inPtr: where the frame of a message call sits (resolve/push offsets point into it);
   * text: that frame as the string it came in, when it is all ASCII (envelopes are slices of it). */
  _wsRun(rc, inPtr, entry, text) {
    if (globalThis.QOLLECTIVE_REST_ONLY) return;   // the REST glue has no sockets
    const q = this.q, out = q.x.q_output_ptr(), m = q.mem, w = q._i32;
    if (!q.x.q_output_len()) return;
    const tail = out + w[out >> 2];
    let acts, fAt = 0, fN = -1;
    for (let i = (out >> 2) + 1; i < tail >> 2; i += w[i] >>> 8) {
      const op = WA_OPS[w[i] & 0xff];
      let a = entry;
      if (op === 'request') {
        // the frame of a new request (q_ws_request's call: entry is its caller's)
        entry.s = w[i + 1];
        entry.r = w[i + 2];
        // its bytes where the core wrote them [fAt, fAt + fN): framed from there by its send below,
        // else made text after the loop
        fAt = tail + w[i + 4];
        fN = w[i + 5];
        entry.keep = w[i + 6];
      } else if (op === 'send' && !acts && fN >= 0 && w[i + 2] === entry.r) {
        // that request's own send: no action object, no view of its bytes
        if (this._sockets.get(w[i + 1])?._sendAt(m, fAt, fN) && !entry.keep) fN = -1;
        continue;
      } else {
        a = op === 'json' ? JSON.parse(textAt(m, tail, w[i + 2], w[i + 3])) : { op, s: w[i + 1], r: w[i + 2], env: undefined };
        if (op === 'ping') a.text = textAt(m, tail, a.r, w[i + 3]);
        else if (op === 'resolve' || op === 'push') {
          // the decode record is read where it is (words i + 5 on); an ASCII frame (text) is
          // kept whole, the envelope's offsets shifted into it: no copies
          const at = w[i + 3], n = w[i + 4];
          a.env = text === undefined ? new Envelope(m.slice(inPtr + at, inPtr + at + n), w, 0, q, i + 5) : new Envelope(text, w, -at, q, i + 5);
        } else if (a.detailsAt) a.details = jsonAt(m, inPtr, a.detailsAt);   // a reject's details, in the frame
      }
      // In order. A new request, send, ping, timer and resolve run at once: none calls into the
      // core or the caller's code (a promise settles later). From the first other action on
      // (its callbacks may call into the core again), the rest wait until all is copied out.
      if (acts || op === 'json' || op === 'push') (acts ??= []).push(a);
      else this._sockets.get(a.s)?.[a === entry ? '_enter' : '_act'](a);
    }
    if (fN >= 0) entry.frame = dec.decode(m.subarray(fAt, fAt + fN));   // not sent yet, or kept for a resend
    for (const a of acts || []) this._sockets.get(a.s)?.[a === entry ? '_enter' : '_act'](a);
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

  /** Requests of this client the core still tracks (prepared, not yet resolved or rejected). */
  get inFlight() { return this.q._check(this.q.x.q_rest_in_flight(this._live())); }

  /** Stores a token; its bytes go straight into the core's input buffer (which the core wipes), no copy here.
   * options.expiresAt (ms since the epoch, or a Date): the core wipes it then (security.token_ttl_ms otherwise). */
  setToken(name, token, options) {
    if (typeof name !== 'string' && !(name instanceof Uint8Array)) throw typeError('token name: expected a string or bytes');
    if (typeof token !== 'string' && !(token instanceof Uint8Array)) throw typeError('token: expected a string or bytes');
    const at = options?.expiresAt === undefined ? 0 : +options.expiresAt;
    if (!(at >= 0)) throw typeError('token expiresAt: expected ms since the epoch or a Date', 'expiresAt');
    const q = this.q, h = this._live(), [n, v] = q._input([name, token]);
    q._check(q.x.q_token_set(h, n, v, at, q.io.now()));
    const expiry = q.x.q_output_len() === 8 ? new DataView(q.mem.buffer, q.x.q_output_ptr(), 8).getFloat64(0, true) : 0;
    this._log('info', 'token.set', { name: typeof name === 'string' ? name : undefined, expiresAt: at || undefined });
    this._expiryTimer(name, expiry);
  }

  // The core wipes an expired token on the next event it is fed; this timer is that event
  // when nothing else happens. One timer per client, for the earliest expiry of its named
  // tokens (a provider consulted before every send replaces the same name: nothing piles up);
  // at most 2^31-1 ms ahead (setTimeout's limit), then again.
  _expiryTimer(name, at) {
    const key = String(name);
    if (at) (this._expiries ??= new Map()).set(key, at); else this._expiries?.delete(key);
    this._armExpiry();
  }

  _armExpiry() {
    clearTimeout(this._expiryT);
    this._expiryT = undefined;
    if (this.h < 0 || !this._expiries?.size) return;
    const at = Math.min(...this._expiries.values());
    const t = setTimeout(() => {
      this._expiryT = undefined;
      if (this.h < 0) return;
      const now = this.q.io.now();
      if (now >= at) {
        this._log('info', 'token.expired', { count: this.q._check(this.q.x.q_token_expire(this.h, now)) });
        for (const [k, a] of this._expiries) if (a <= now) this._expiries.delete(k);
      }
      this._armExpiry();
    }, Math.min(Math.max(0, at - this.q.io.now()), 0x7fffffff));
    t.unref?.();   // Node: a pending expiry keeps no process alive
    this._expiryT = t;
  }

  clearToken(name) {
    const [n] = this.q._input([bytesOf(name)]);
    const had = this.q._check(this.q.x.q_token_clear(this._live(), n)) === 1;
    this._expiryTimer(name, 0);
    this._log('info', 'token.clear', { name: typeof name === 'string' ? name : undefined, count: +had });
    return had;
  }

  /** TLS module: this client's CA, certificate chain and private key (PEM or DER; any may be
   *  left out). Replaces the compiled-in set for this client; the key is wiped on close(). */
  setCredentials({ ca = '', cert = '', key = '' } = {}) {
    if (globalThis.QOLLECTIVE_REST_ONLY) return this.q._tls();
    this.q._tls('credentials', this._live(), [ca, cert, key]);
    // the core accepted them: the host TLS stack (load option tls) gets the same set
    this._hostClose();
    if (this.q.io.tls) this._tlsHost = this.q.io.tls({ ca, cert, key });
  }
  /** The host TLS transport of this client (load option tls, TLS module): made from the
   *  compiled-in credentials on first use; null without one. */
  _host() {
    if (globalThis.QOLLECTIVE_REST_ONLY) return null;   // the REST glue: no host TLS transport
    const q = this.q;
    if (this._tlsHost === undefined) {
      this._tlsHost = null;
      if (q.io.tls && q.hasTls) {
        const c = this._embeddedCredentials();
        try { this._tlsHost = q.io.tls(c); } finally { for (const b of Object.values(c)) b.fill(0); }
      }
    }
    return this._tlsHost;
  }
  _hostClose() { this._tlsHost?.close(); this._tlsHost = undefined; }
  /** The compiled-in {ca, cert, key} PEM bytes for the host TLS stack; the core's output is wiped here. */
  _embeddedCredentials() {
    if (globalThis.QOLLECTIVE_REST_ONLY) throw noTls();
    const q = this.q;
    q._tls('host_credentials', -1, []);
    const p = q.x.q_output_ptr(), n = q.x.q_output_len(), m = q.mem, dv = new DataView(m.buffer, p, n), out = {};
    let at = 0;
    for (const k of ['ca', 'cert', 'key']) { const len = dv.getUint32(at, true); out[k] = m.slice(p + at + 4, p + at + 4 + len); at += 4 + len; }
    m.fill(0, p, p + n);
    return out;
  }
  /** TLS module: signs SHA-256(data) with the client's key (ECDSA P-256: raw r||s; RSA: PKCS#1 v1.5). */
  sign(data) {
    if (globalThis.QOLLECTIVE_REST_ONLY) return this.q._tls();
    if (this.q.hasTls) this.q._entropy(SIGN_BYTES);
    this.q._tls('sign', this._live(), [data]);
    return this.q._out();
  }
  /** TLS module: the signature headers of a WebSocket handshake to url ({name: value}). */
  _signHandshake(url) {
    if (globalThis.QOLLECTIVE_REST_ONLY) throw noTls();
    const q = this.q;
    q._entropy(SIGN_BYTES);
    q._tls('sign_handshake', this._live(), [url], q.io.now());
    return Object.fromEntries(JSON.parse(q._outText()));   // `ws` takes an object
  }
  /** TLS module: the client's certificate as DER (never the key). */
  certificate() { this.q._tls('client_cert', this._live(), []); return this.q._out(); }

  /** Frees the client and wipes its secrets; sends and socket requests still in flight reject with ABORTED. */
  close() {
    if (this.h < 0) return;
    for (const s of [...this._sockets.values()]) s.close();
    const h = this.h, x = this.q.x;
    this.h = -1;
    // end every request in the core before the client goes, then wake its I/O
    for (const s of this._sends) {
      if (s.id >= 0) x.q_rest_failure(h, s.id, FAIL_ABORTED, this.q.io.now());
      s.stop.abort();
    }
    this._sends.clear();
    clearTimeout(this._expiryT);
    this._hostClose();
    x.q_client_free(h);
    this._log('debug', 'client.close', {});
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
        this._log('error', 'auth.failed', { code: 'NO_TOKEN' });
        throw new QollectiveError({ type: 'security', code: 'NO_TOKEN', message: 'auth provider failed' }, e);
      }
      if (t) this.setToken(t.name, t.token, t);
    }
    const [meta, payload] = encodeParts(envelope);
    const opts = {};
    if (options.method) opts.method = options.method.toUpperCase?.() ?? options.method;
    if (options.route) opts.route = options.route;
    if (options.timeout !== undefined) opts.timeout_ms = options.timeout;
    if (options.headers) opts.headers = options.headers;
    if (options.idempotent !== undefined) opts.idempotent = options.idempotent;
    q._entropy(q.hasTls ? PREPARE_BYTES + SIGN_BYTES : PREPARE_BYTES);   // TLS module: the signature's seed too (security.sign_requests)
    const [m, p, o] = q._input([meta, payload, toJson(opts, 'options', 1)]);
    let len;
    try { len = q._check(x.q_rest_prepare(h, m, p, o, q.io.now())); } catch (e) {
      this._log('warn', 'rest.refused', e);
      throw e;
    } finally { q._wipeInput(m + p, o); } // per-call headers may carry secrets
    const out = q._out();
    const plan = JSON.parse(dec.decode(out.subarray(0, len)));
    out.fill(0, 0, len);                     // our copy of the plan's headers (Authorization)
    let body = plan.body ? out.subarray(len) : undefined;
    let { url, method, headers } = plan;
    const id = plan.id;
    this._log('debug', 'rest.send', { requestId: plan.requestId, method, url, headers, bytes: body?.length ?? 0 });

    // This send's own stop: the caller's signal or close() abort it. Every listener added
    // here is removed before send() settles, so nothing outlives the call.
    const run = { id, stop: new AbortController() };
    const fetchImpl = this._host()?.fetch ?? q.io.fetch;
    const stop = run.stop.signal, callerSignal = options.signal;
    this._sends.add(run);
    if (callerSignal) this._watch(callerSignal, run);

    // Every path below ends the request in the core exactly once (resolve or reject).
    let act = null, failure = null;
    try {
      for (;;) {
        if (stop.aborted) { act = this._act(x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now())); break; }
        const ctl = new AbortController();
        let why = 0;
        const onAbort = () => { why = FAIL_ABORTED; ctl.abort(); };
        stop.addEventListener('abort', onAbort, { once: true });
        const timer = setTimeout(() => { why = FAIL_TIMEOUT; ctl.abort(); }, Math.max(0, plan.deadline - q.io.now()));
        let res, bytes, hop;
        failure = null;
        try {
          // redirects come back to the core, which decides every hop (browsers hide them: status 0)
          res = await fetchImpl(url, { method, headers, body, signal: ctl.signal, redirect: 'manual' });
          if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status <= 399)) {
            hop = res; res = null;
            hop.body?.cancel().catch(() => {});
          } else bytes = new Uint8Array(await res.arrayBuffer());
        } catch (e) {
          res = null;
          if (!why) { why = FAIL_NETWORK; failure = e; }
        } finally {
          clearTimeout(timer);
          stop.removeEventListener('abort', onAbort);
        }
        if (hop) {
          if (q.hasTls) q._entropy(SIGN_BYTES);   // a hop to the same origin is signed again (security.sign_requests)
          const [u, l] = q._input([url, hop.headers.get('location') || '']);
          act = this._act(x.q_rest_redirect(h, id, hop.type === 'opaqueredirect' ? 0 : hop.status, u, l, q.io.now()));
          if (act.action !== 'redirect') break;
          ({ url, method } = act);
          this._log('info', 'rest.redirect', { requestId: plan.requestId, status: hop.status, method, url });
          if (!act.body) body = undefined;
          headers = plan.headers.slice(act.headers[0], act.headers[1] || undefined).concat(act.add);
          continue;
        }
        if (res) {
          const ct = res.headers.get('content-type') || '', ra = res.headers.get('retry-after') || '';
          const [b, c, r] = q._input([bytes, ct, ra]);
          this._log('debug', 'rest.response', { requestId: plan.requestId, status: res.status, bytes: bytes.length });
          act = this._act(x.q_rest_response(h, id, res.status, b, c, r, q.io.now()), bytes);
        } else {
          // the host's error code (Node's): the core tells TLS failures from other network ones
          const code = why === FAIL_NETWORK && hostFailure(failure).code;
          act = this._act(code ? x.q_rest_failure_code(h, id, q._input([code])[0], q.io.now()) : x.q_rest_failure(h, id, why, q.io.now()));
        }
        if (act.action !== 'retry') break;
        this._log('info', 'rest.retry', { requestId: plan.requestId, attempt: act.attempt, delay: act.delay });
        if (!(await sleep(act.delay, stop))) { act = this._act(x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now())); break; }
        act = this._act(x.q_rest_attempt(h, id, q.io.now()));
        if (act.action !== 'send') break;
      }
    } catch (e) {
      // A failure on this side (memory for the reply, a closed client) must still end the
      // request in the core, or its in-flight slot would never be freed.
      if (this.h === h) x.q_rest_failure(h, id, FAIL_ABORTED, q.io.now());
      throw e;
    } finally {
      if (callerSignal) this._unwatch(callerSignal, run);
      this._sends.delete(run);
    }
    if (act.action === 'resolve') {
      this._log('debug', 'rest.done', { requestId: plan.requestId });
      return new Envelope(act.bytes, Int32Array.from(act.record), 0, q);
    }
    let details = act.details;
    // the host's own exception stays the cause; its name and code go in details
    if (failure) details = { ...(details && typeof details === 'object' ? details : {}), ...hostFailure(failure) };
    // the core's error record (as q_error_ptr gives it) in a string
    const err = new QollectiveError({ ...errorRecord(act.error), requestId: act.requestId, details }, failure ?? undefined);
    this._log('warn', 'rest.failed', err);
    if (callerSignal?.aborted && err.code === 'ABORTED' && callerSignal.reason !== undefined) err.cause = callerSignal.reason;
    throw err;
  }

  // One listener per caller signal, shared by this client's sends that use it: a page-wide
  // signal passed to many concurrent sends gets one listener, removed when the last one ends.
  _watch(signal, run) {
    if (signal.aborted) { run.stop.abort(); return; }
    let w = this._watched.get(signal);
    if (!w) {
      const runs = new Set();
      w = { runs, onAbort: () => { for (const r of runs) r.stop.abort(); } };
      this._watched.set(signal, w);
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    w.runs.add(run);
  }

  _unwatch(signal, run) {
    const w = this._watched.get(signal);
    if (!w || !w.runs.delete(run) || w.runs.size) return;
    signal.removeEventListener('abort', w.onAbort);
    this._watched.delete(signal);
  }

  _act(rc, bytes) {
    if (this.h < 0) throw new QollectiveError({ type: 'aborted', code: 'ABORTED', message: 'client closed while the request was in flight' });
    this.q._check(rc);
    const a = JSON.parse(this.q._outText());
    if (bytes) a.bytes = bytes;
    if (a.detailsAt) a.details = jsonAt(bytes, 0, a.detailsAt);
    return a;
  }
}

const WS_OPENED = 1, WS_CLOSED = 2, WS_TICK = 3, WS_BINARY = 4, WS_OVERSIZED = 5, WS_FAILED = 6;
// action record codes 1..7 (include/qollective.h)
const WA_OPS = [, 'json', 'request', 'send', 'timer', 'ping', 'resolve', 'push'];
const SLOT_MASK = (1 << 20) - 1;   // request handle = slot | generation << 20 (src/ws_corr.h)

/** A queue read by an async iterator: values, or errors thrown at their place. */
class Feed {
  constructor() { this.items = []; this.waiters = []; this.done = false; }
  put(item) {
    if (this.done) return false;
    const w = this.waiters.shift();
    if (w) w(item); else this.items.push(item);
    return !!w;
  }
  end() { this.done = true; for (const w of this.waiters.splice(0)) w({ end: true }); }
  next() {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.done) return Promise.resolve({ end: true });
    return new Promise((r) => this.waiters.push(r));
  }
}

/** A pooled WebSocket. The glue owns the socket object and the timer; the core decides
 * everything else (framing, correlation, deadlines, keepalive, reconnect, queue, drain). */
export class Socket {
  constructor(client, handle, maxBytes) {
    this.c = client;
    this.h = handle;
    this.maxBytes = maxBytes;
    this.ws = null;           // the current WebSocket, null between connections
    this.g = 0;               // its connection number (events carry it; the core ignores old ones)
    // requests in flight by slot (the low bits of a handle; the entry keeps the whole handle r):
    // an array indexed by small integers, no hashing. Entry: { resolve, reject, signal, onAbort, s, r, frame, keep }
    this.pending = [];
    this.closed = false;
    this._onEnvelope = null;
    this.onStatus = null;     // (event) => void: lifecycle events
    this._push = new Feed();
    this._events = new Feed();
    this._drained = [];
    this._timer = null;
    this._out = this._outTo = null;   // frames collected for one TCP write (_frame), up to _outAt, and its socket
    this._outAt = 0;
    this._outDv = this._rawFor = this._raw = null;
  }

  /** (envelope) => void: server push as a callback, handed over at once (no buffering). */
  get onEnvelope() { return this._onEnvelope; }
  set onEnvelope(fn) { this._onEnvelope = fn; this._taken(0); }

  /** Sends an envelope; resolves with the reply Envelope or rejects with QollectiveError. */
  request(envelope, options) {
    if (this._failure) return Promise.reject(this._failure);
    try { return this._request(envelope, options); } catch (e) { return Promise.reject(e); }
  }

  _request(envelope, options) {
    const c = this.c, q = c.q, x = q.x, h = c._live();
    options ||= {};
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('signal: not an AbortSignal');
    if (options.timeout !== undefined && typeof options.timeout !== 'number') throw typeError('timeout: not a number', 'options.timeout');
    if (signal?.aborted) {
      return Promise.reject(new QollectiveError({ type: 'aborted', code: 'ABORTED', message: 'aborted by the caller before sending', source: 'local' }, signal.reason));
    }
    const [meta, payload] = encodeParts(envelope);
    q._entropy(REQUEST_ID_BYTES);
    const [m, p] = q._input([meta, payload]);
    const idem = options.idempotent === undefined ? -1 : options.idempotent ? 1 : 0;
    let entry;
    // every field from the start: fields added later would each change the object's shape and
    // take a separate property store (thousands of these live at once)
    const done = new Promise((resolve, reject) => { entry = { resolve, reject, signal, onAbort: null, s: 0, r: 0, frame: null, keep: 0 }; });
    c._wsCall(x.q_ws_request(h, this.h, m, p, options.timeout ?? -1, idem, q.io.now()), 0, entry);
    return done;
  }

  /** A request the core just took (its handle, frame and keep are set): in flight until it ends. */
  _enter(entry) {
    const signal = entry.signal, r = entry.r;
    if (signal) {
      const c = this.c;
      entry.onAbort = () => this._call(c.q.x.q_ws_abort(c.h, this.h, r, c.q.io.now()));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.pending[r & SLOT_MASK] = entry;
  }

  /** The entry of request handle r while it is in flight. */
  _entry(r) {
    const e = this.pending[r & SLOT_MASK];
    return e?.r === r ? e : undefined;
  }

  /** Server push: envelopes that answer no request, in arrival order. An overflow of the
   * buffer (websocket.max_queue) is thrown at its place as QollectiveError OVERFLOW. */
  incoming() {
    const feed = this._push, sock = this;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        const wait = feed.next();
        if (feed.waiters.length) sock._taken(0);   // a consumer waits: a push may come straight to it
        const item = await wait;
        if (item.end) return { done: true, value: undefined };
        if (item.overflow) {
          throw new QollectiveError({ type: 'capacity', code: 'OVERFLOW', source: 'local', details: { dropped: item.overflow },
            message: `server push buffer full (websocket.max_queue): ${item.overflow} envelope(s) dropped in all` });
        }
        if (!item.direct) sock._taken(1);
        return { done: false, value: item.env };
      },
      async return() { return { done: true, value: undefined }; },
    };
  }

  /** Lifecycle events {state: connecting|open|reconnecting|stale|closed|overflow|error, attempt, delay, code, reason}. */
  events() {
    const feed = this._events;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        const item = await feed.next();
        return item.end ? { done: true, value: undefined } : { done: false, value: item };
      },
      async return() { return { done: true, value: undefined }; },
    };
  }

  /** The core's view: {state, conn, queued, written, tombstones, pending, pushBuffered, pushDropped}. */
  get info() {
    const q = this.c.q;
    q._check(q.x.q_ws_info(this.c._live(), this.h));
    return JSON.parse(q._outText());
  }

  /** Waits for every reply in flight, then closes with 1000 once the send buffer is empty. */
  drain() {
    if (this.closed) return Promise.resolve();
    const done = new Promise((r) => this._drained.push(r));
    this._call(this.c.q.x.q_ws_drain(this.c._live(), this.h, this.c.q.io.now()));
    return done;
  }

  /** Closes now: requests still in flight reject with ABORTED; the handle is freed. */
  close() {
    if (this.h < 0) return;
    const c = this.c;
    // a socket the pool already let go (evicted, or closed and replaced) has nothing left to end
    const rc = c.h >= 0 ? c.q.x.q_ws_close(c.h, this.h, c.q.io.now()) : -1;
    if (rc >= 0) c._wsRun(rc, 0);
    this._finish();
    c._sockets.delete(this.h);
    this.h = -1;
  }

  // ---- driven by the core ---------------------------------------------------------------
  _call(rc, inPtr = 0, text) { this.c._wsCall(rc, inPtr, undefined, text); }

  _event(g, kind, code = 0, reason = '') {
    if (this.closed || this.c.h < 0) return; // the core has let this socket go
    const q = this.c.q;
    const [n] = reason ? q._input([reason]) : [0];
    this._call(q.x.q_ws_event(this.c.h, this.h, g, kind, code, n, q.io.now()));
  }

  _message(g, data, bytes) {
    if (this.closed || this.c.h < 0) return;
    if (typeof data !== 'string') return this._event(g, WS_BINARY);
    // a string longer (in UTF-16 units) than the limit has more bytes still: no copy
    if (data.length > this.maxBytes) return this._event(g, WS_OVERSIZED, data.length);
    // the bytes the text came from (Node's `ws`) are copied as they are, not encoded again
    const q = this.c.q, n = bytes ? q._input1(bytes) : q._inputText(data);
    // an ASCII frame (one byte per UTF-16 unit) is kept as the string: no copy out of memory
    this._call(q.x.q_ws_message(this.c.h, this.h, g, n, q.io.now()), q._in, n === data.length ? data : undefined);
  }

  _act(a) {
    switch (a.op) {
      case 'connect': return this._connect(a.g, a.url, a.sign);
      case 'send': {
        const e = this._entry(a.r);
        if (!e || !this.ws) return;
        this._send(e.frame);
        if (!e.keep) e.frame = null;   // never written again (not idempotent): no need to hold it
        return;
      }
      case 'ping': if (this.ws) this._send(a.text); return;
      case 'close': return this._close(a.g, a.code, a.reason, a.flush);
      case 'timer':
        clearTimeout(this._timer);
        this._timer = setTimeout(() => this._event(this.g, WS_TICK), a.r >>> 0);
        return;
      case 'resolve': return this._settle(a.r, true, a.env);
      case 'reject': {
        const e = this._entry(a.r);
        const err = new QollectiveError({ ...a.error, source: a.source, requestId: a.requestId, details: a.details });
        this.c._log('warn', 'ws.failed', err);
        if (e?.signal?.aborted && a.error.code === 'ABORTED' && e.signal.reason !== undefined) err.cause = e.signal.reason;
        return this._settle(a.r, false, err);
      }
      case 'push':
        // r = 1: the core gave it to a consumer said to be waiting (not counted in its buffer)
        if (this._onEnvelope) { this._taken(a.r ? 0 : 1); this._onEnvelope(a.env); } else this._push.put({ env: a.env, direct: a.r === 1 });
        return;
      case 'status': return this._status(a);
    }
  }

  /** Sends a frame. With the `ws` package (Node), frames sent in one turn of the event loop
   * leave in one write: its TCP socket stays corked until the next microtask checkpoint instead
   * of one system call per frame, or until CORK_BYTES have collected: a burst of thousands of
   * frames then does not hold them all in JS memory until the tick ends (the garbage collector
   * copies whatever is held, again and again). Browsers batch a WebSocket's writes on their own.
   * A new request's frame, still in wasm memory, goes through _sendAt instead. */
  _send(text) {
    const ws = this.ws, raw = ws._socket;
    this._flush();
    if (!this._corked && raw?.cork) {
      raw.cork();
      this._corked = 1;
      queueMicrotask(() => { this._corked = 0; raw.uncork(); });
    }
    ws.send(text);
    if (this._corked && (this._corked += text.length) > CORK_BYTES) { this._corked = 0; raw.uncork(); }
  }

  /** Sends a new request's frame, the n bytes at `at` in wasm memory m; false without a socket.
   * Framed here straight from m (_frame) while `ws` reads as open (no Close seen) and negotiated
   * no extension; otherwise made text first (a browser's WebSocket would send bytes as binary, a
   * compressing `ws` would read them later). */
  _sendAt(m, at, n) {
    const ws = this.ws;
    if (!ws) return false;
    if (this._rawFor !== ws) { const raw = ws._socket; this._rawFor = ws; this._raw = raw?.write && !ws.extensions ? raw : null; }
    if (this._raw && ws.readyState === 1) this._frame(this._raw, m, at, n);
    else this._send(dec.decode(m.subarray(at, at + n)));
    return true;
  }

  /** RFC 6455 5.2-5.3: the n bytes at `at` in m as one final text frame, masked with a fresh
   * random key, appended to the output collected for TCP socket raw; it is written in one piece
   * at the next microtask checkpoint or when CORK_BYTES are full (what `ws` would send, without
   * its byte-by-byte mask loop and two queued buffers a frame). */
  _frame(raw, m, at0, n) {
    const hl = n < 126 ? 6 : n < 65536 ? 8 : 14;
    if (this._outTo !== raw || this._outAt + hl + n > this._out.length) {
      this._flush();
      this._out = new Uint8Array(Math.max(CORK_BYTES, hl + n));
      this._outDv = new DataView(this._out.buffer);
      this._outTo = raw;
    }
    // words are read from m through the instance's DataView of the same memory (_views)
    const o = this._out, dv = this._outDv, src = this.c.q._dv, at = this._outAt, p = at + hl;
    if (!at) queueMicrotask(() => this._flush());
    this.c.q._entropy(4, o, p - 4);   // a fresh masking key from the instance's random pool, before the payload
    const key = dv.getInt32(p - 4);   // big-endian: masks whole words in wire order
    o[at] = 0x81;   // FIN, text
    if (hl === 6) o[at + 1] = 0x80 | n;   // MASK bit, length
    else if (hl === 8) { o[at + 1] = 0xfe; dv.setUint16(at + 2, n); }
    else { o[at + 1] = 0xff; dv.setUint32(at + 2, 0); dv.setUint32(at + 6, n); }
    let i = 0;
    for (; i + 4 <= n; i += 4) dv.setInt32(p + i, src.getInt32(at0 + i) ^ key);
    for (; i < n; i++) o[p + i] = m[at0 + i] ^ key >>> 24 - 8 * (i & 3);
    this._outAt = p + n;
  }

  /** Writes the frames _frame collected to the TCP socket they were made for (unless it is gone). */
  _flush() {
    const n = this._outAt, to = this._outTo;
    if (!n) return;
    this._outTo = null;   // the buffer is the socket's now: the next frame starts a new one
    this._outAt = 0;
    if (to.writable) to.write(this._out.subarray(0, n));
  }

  _settle(r, ok, value) {
    const e = this._entry(r);
    if (!e) return;
    this.pending[r & SLOT_MASK] = undefined;
    e.signal?.removeEventListener('abort', e.onAbort);
    if (ok) e.resolve(value); else e.reject(value);
  }

  /** Tells the core n buffered pushes were handed out, and how many consumers wait right now. */
  _taken(n) {
    const ready = this._onEnvelope ? 1 : this._push.waiters.length;
    if (!this.closed && this.c.h >= 0) this.c.q._check(this.c.q.x.q_ws_taken(this.c.h, this.h, n, ready));
  }

  _status(a) {
    const ev = { state: a.state, attempt: a.attempt };
    this.c._log(a.state === 'error' || a.state === 'overflow' ? 'warn' : 'info', 'ws.status', { ...a, code: a.error?.code ?? a.code, count: a.dropped });
    for (const k of ['delay', 'code', 'reason', 'dropped', 'source']) if (a[k] !== undefined) ev[k] = a[k];
    if (a.error) ev.error = new QollectiveError({ ...a.error, source: a.source });
    if (a.state === 'overflow') {
      const last = this._push.items.at(-1);
      if (last?.overflow) last.overflow = a.dropped; else this._push.put({ overflow: a.dropped });
    }
    this._events.put(ev);
    this.onStatus?.(ev);
    if (a.state === 'closed') this._finish();
  }

  _finish() {
    this.closed = true;
    if (this.c._sockets.get(this.h) === this) this.c._sockets.delete(this.h);
    clearTimeout(this._timer);
    this._push.end();
    this._events.end();
    for (const r of this._drained.splice(0)) r();
  }

  async _connect(g, url, sign) {
    this.g = g;
    const auth = this.c.auth;
    if (auth) {
      // consulted at every (re)connect, so a long-lived socket never runs on an expired token
      // (the token is stored, not sent: see README "WebSocket", authentication)
      try {
        const t = await auth();
        if (t && this.c.h >= 0) this.c.setToken(t.name, t.token, t);
      } catch {
        return this._event(g, WS_CLOSED, 4001, 'auth provider failed'); // the core backs off and retries
      }
      if (this.closed || this.g !== g) return;
    }
    let WS = this.c._WebSocket || this.c.q.io.WebSocket;
    this.c._log('debug', 'ws.connect', { url });
    const host = this.c._host();
    if (host && WS) WS = host.socketClass(WS);
    let ws, failed = '', options;
    if (sign && WS && WS !== globalThis.WebSocket) {
      // RFC 9421 headers for the handshake: only a WebSocket class given to the glue (Node's `ws`)
      // takes headers; a browser's cannot send them (README "Request signing")
      try { options = { headers: this.c._signHandshake(url) }; } catch (e) {
        this._failure = e;   // e.g. TLS_NO_CREDENTIALS: this socket's requests reject with it
        for (const p of this.pending.filter(Boolean)) this._settle(p.r, false, e);
        return this.close();
      }
    }
    try {
      ws = options ? new WS(url, undefined, options) : new WS(url); // no subprotocol: the server refuses a handshake that asks for one
    } catch (e) {
      // an unusable URL or no WebSocket at all: the core sees a failed connection
      queueMicrotask(() => this._event(g, WS_CLOSED, 1006, ''));
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { failed = null; this._event(g, WS_OPENED); };
    // Node's `ws` hands a message to an EventEmitter listener without the MessageEvent it wraps it
    // in for onmessage (one object a frame); the text is the same string
    if (ws.on) ws.on('message', (d, binary) => this._message(g, binary ? d : d.toString(), d));
    else ws.onmessage = (ev) => this._message(g, ev.data);
    ws.onclose = (ev) => {
      if (this.ws === ws) this.ws = null;
      // a failure the host named (Node: a TLS error code) goes to the core, which decides
      if (failed) this._event(g, WS_FAILED, ev.code || 1006, failed);
      else this._event(g, WS_CLOSED, ev.code || 1006, ev.reason || '');
    };
    ws.onerror = (ev) => { if (failed !== null) failed = hostFailure(ev?.error).code || ''; }; // a close event follows
  }

  _close(g, code, reason, flush) {
    const ws = this.ws;
    if (!ws || g !== this.g) return;
    this._flush();   // frames collected before the close go first
    this.ws = null; // discarded: whatever it still says is ignored
    const close = () => { try { ws.close(code, reason); } catch { ws.close(); } };
    const OPEN = 1;
    if (!flush) return close();
    // drain(): let the send buffer empty before the closing handshake
    const wait = () => (ws.readyState === OPEN && ws.bufferedAmount > 0 ? setTimeout(wait, 5) : close());
    wait();
  }
}

/** What socket() throws where there is no WebSocket: the REST module, or the REST glue. */
function noWebSocket(module) {
  return new QollectiveError({ type: 'config', code: 'BAD_MODULE', message: `socket(): ${module === 'rest'
    ? 'qollective-rest.wasm has no WebSocket; load qollective.wasm' : 'the REST glue has no WebSocket; import qollective-wasm (dist/qollective.min.js)'} instead` });
}

/** What a TLS call throws without the TLS module (or in the REST glue). */
function noTls() {
  return new QollectiveError({ type: 'config', code: 'TLS_UNAVAILABLE', message: globalThis.QOLLECTIVE_REST_ONLY || globalThis.QOLLECTIVE_CODEC_ONLY
    ? `the ${globalThis.QOLLECTIVE_REST_ONLY ? 'REST' : 'codec'} glue has no TLS calls; import qollective-wasm (dist/qollective.min.js)` : 'certificates and signing need the TLS module (qollective-tls.wasm)' });
}

function typeError(message, path, cause) {
  return new QollectiveError({ type: 'validation', code: 'TYPE_MISMATCH', message, path }, cause);
}

/** The JSON value the core located at [offset, length] in bytes (from base), parsed. */
function jsonAt(bytes, base, [at, n]) { return JSON.parse(dec.decode(bytes.subarray(base + at, base + at + n))); }
function textAt(bytes, base, at, n) { return dec.decode(bytes.subarray(base + at, base + at + n)); }

function bytesOf(d) {
  if (typeof d === 'string') return enc.encode(d);
  if (d instanceof Uint8Array) return d;
  throw typeError('expected a string or bytes');
}

function listOf(l) {
  if (Array.isArray(l)) return l;
  throw typeError('expected an array');
}

/** JSON.stringify's text of v; in an envelope's part (not strict) a BigInt, which it refuses, as its
 * exact digits: only then, v is written twice with every BigInt as 0, then as 1 (no text a string
 * could hold), and the BigInts' digits go where the two differ. Config and options stay strict. */
function toJson(v, path, strict) {
  try { return JSON.stringify(v); } catch (e) {
    if (!strict) try {
      const big = [], a = JSON.stringify(v, (k, x) => typeof x === 'bigint' ? (big.push(x), 0) : x), b = JSON.stringify(v, (k, x) => typeof x === 'bigint' ? 1 : x);
      return a.replace(/0/g, (z, at) => b[at] > z ? big.shift() : z);
    } catch {}
    throw typeError(`${path}: not serializable as JSON`, path, e);
  }
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

// ---- message text ------------------------------------------------------------------------
// The wasm modules carry no message text: the core writes markers into a record's message
// and the text lives here (src/error.h). "\x01NAME\x02" is the message of status NAME, one
// line "NAME text" each below (Q_STATUS_TABLE in src/error.h), falling back to NAME for a
// status this list does not know; the codec module writes "\x01row\x02" instead, and "\x01row"
// as its record's code: CODEC_MESSAGES is in row order (an empty line for a row the codec sources
// never return), so its line `row` names the status (STATUS_NAMES); "\x03id\x02" is detail text number id, line id below
// (Q_DETAIL_TABLE in src/error_detail.h, same order). tests/js/error-text.test.mjs checks
// that both lists match the C tables. The codec glue (dist/qollective-codec.min.js) carries
// only the text the codec module's sources use; the REST glue (dist/qollective-rest.min.js,
// scripts/glue-rest.mjs) leaves the detail lines no REST-module source uses empty ("detail N").
const CODEC_MESSAGES = `
JSON_EMPTY empty input
JSON_TRUNCATED unexpected end of input
JSON_SYNTAX invalid JSON syntax
JSON_UTF8 invalid UTF-8
JSON_ESCAPE invalid string escape
JSON_SURROGATE unpaired UTF-16 surrogate escape
JSON_CONTROL_CHAR unescaped control character in string
JSON_NUMBER invalid number
JSON_DEPTH nesting deeper than the limit
JSON_TRAILING unexpected data after the JSON value
DUPLICATE_KEY duplicate key
TOO_LARGE larger than the limit
MISSING_FIELD required field missing
TYPE_MISMATCH wrong type
INVALID_ENUM not an allowed value
INVALID_UUID not a UUID
INVALID_TIMESTAMP not an RFC 3339 timestamp
OUT_OF_RANGE number out of range


UNKNOWN_KEY unknown key


BAD_ARGUMENT bad argument
BAD_HANDLE unknown or closed handle
BAD_STATE call not valid in this state
OUT_OF_MEMORY out of memory
LIMIT_REACHED limit reached

























INTERNAL internal error`;
const CLIENT_MESSAGES = `OK ok
INVALID_BASE64 invalid Base64
INVALID_VALUE invalid value
CONFIG_INVALID invalid configuration
INVALID_URL invalid URL
HTTP_STATUS HTTP error without an envelope
NOT_AN_ENVELOPE response is not an envelope
REMOTE_ERROR server returned an error envelope
NETWORK network failure
TIMEOUT timed out
ABORTED aborted by the caller
NO_TOKEN no token set
ORIGIN_DENIED origin not allowed
REDIRECT_HIDDEN redirect not followed: the host hides its target
TOO_MANY_REDIRECTS too many redirects
PROTOCOL malformed frame from the server
ERROR_FRAME server sent an error frame
CONNECTION_LOST connection lost before the reply
OVERFLOW queue full
CERT_BAD_PEM not a valid PEM certificate
CERT_BAD_DER not a valid DER certificate
CERT_TRUNCATED certificate data is truncated
CERT_WRONG_TYPE PEM block is not of the expected type
CERT_EXPIRED certificate has expired
CERT_NOT_YET_VALID certificate is not valid yet
CERT_WRONG_HOST certificate does not match the host
CERT_UNTRUSTED certificate chain is not trusted
KEY_INVALID not a usable private key
TLS_NO_CREDENTIALS no certificate or key configured
TLS_HANDSHAKE TLS handshake failed`;
// the first 54 details are the codec module's
const CODEC_DETAILS = `auto-fill needs 16 entropy bytes per envelope
too many items
item length runs past the input
expected an object
meta size limit
envelope size limit
an envelope is a JSON object
output buffer
expected a key
expected ':'
expected ',' or '}'
the codec module has no clients (load qollective.wasm)
length exceeds the input buffer
JSON nesting stack
non-ASCII byte outside a string
expected a value
expected ',' or ']'
expected a string key
no output buffer
byte order mark
expected a hex digit
lone low surrogate
high surrogate without a low surrogate
leading zero
expected a digit
expected a digit after '.'
expected a digit in the exponent
exceeds a 64-bit float
invalid literal
no tokens
output
map keys
-0 is a float to serde_json
token array
tokenizer disagreed with validator
expected a string
expected a number
expected an integer
expected true or false
expected an array
expected a string, number or boolean
a variant in map form is {"Name":null}
unexpected value
expected a 32-bit integer
expected a 64-bit integer
expected an unsigned 64-bit integer
expected an integer 0..65535
expected an integer 0..4294967295
invalid or truncated sequence
unexpected continuation byte
overlong encoding
encoded surrogate
above U+10FFFF
max_error_bytes limit`;
const CLIENT_DETAILS = `client table full
prepare needs 20 entropy bytes
actions
open needs 4 entropy bytes
request needs 16 entropy bytes
unknown event
length not a multiple of 4
misplaced padding
invalid character
data after padding
non-zero padding bits
origin not in security.allowed_origins
must start with '/'
a token name of 1..64 bytes
4 or 7
must be >= retry.base_delay_ms
request
not configured
1..86400000
payload too large for a GET/DELETE query
not an HTTP status
unknown failure kind
connection refused or reset, DNS, TLS or CORS failure
not a 3xx status (or 0)
the reply came after the request deadline
the request deadline passed
the request deadline passed while waiting to retry
cannot travel in an HTTP header: control or non-ASCII characters
cannot travel in an HTTP header: leading or trailing whitespace
the configured token is not set
request headers exceed limits.max_header_bytes
header not allowed (forbidden by fetch or reserved)
header is written by the client (from meta, the body or the token)
not a valid header name
header value has control or non-ASCII characters
more than 64 extra headers
the browser does not show where a redirect goes, so it cannot be checked against security.allowed_origins
a redirect without a Location
a 3xx status the client does not follow
more hops than allowed
redirects are not followed (0)
a redirect to an origin not in security.allowed_origins; nothing was sent there
too many requests in flight
unknown or finished request
no attempt in flight
not waiting to retry
not in flight
1..64 bytes
1..8192 bytes
visible ASCII only
token store full
space, control or non-ASCII character
fragment not allowed
query not allowed in a base URL
character must be percent-encoded
bad percent escape
empty
too long
scheme must be http or https
expected ://
credentials in URLs are not allowed
bad IPv6 literal
missing host
port must be 1-65535
invalid host character
route must start with '/'
route must not start with '//'
closed
draining: no new requests
an integer 1..86400000
not found in the encoded envelope
the frame would exceed it; nothing was sent
not connected and the queue is full; nothing was sent
no connection before the deadline
no reply before the deadline
socket closed
connect timeout (timeouts.connect_ms)
the connection went silent (no pong)
a frame larger than websocket.max_message_bytes arrived
the connection closed before the reply
too many requests on this socket
a request with this id is already in flight on this socket
request table
request index
expected a JSON object
invalid key
invalid JSON
duplicate key
data after the frame object
missing
not a string
unknown frame type
envelope frame without a payload
not a non-negative integer or null
a WebSocket URL starts with ws:// or wss://
longer than 8192 bytes
space, control character or fragment
no URL given and none configured
every pooled socket has requests in flight
unknown or closed socket
server returned an error without a message
response is not a valid envelope
without an envelope
envelope invalid
larger than Q_TLS_MAX_SIGN_BYTES
no private key configured or embedded
no certificate configured or embedded
certificate
the DER structure ends early
algorithm not supported by this build (RSA, ECDSA P-256, SHA-256)
malformed X.509 structure
data after the certificate
PEM header line is cut off
expected a CERTIFICATE block
no -----END CERTIFICATE----- line
more certificates than Q_TLS_MAX_CHAIN_CERTS
PEM
invalid Base64 in the PEM block
no -----BEGIN CERTIFICATE----- line
larger than Q_TLS_MAX_PEM_BYTES
empty input
notBefore is after now
notAfter is before now
no subjectAltName matches the host
a key needs its certificate
does not match the certificate
encrypted or unsupported key format (give an unencrypted PKCS#8, SEC1 or PKCS#1 key)
not a PEM or DER private key (RSA or EC P-256)
needs 32 entropy bytes
the key cannot sign
the configured token expired
bad IPv6 address
bad IPv6 address: two '::'
bad IPv4 part in IPv6 address
leading zero in IPv6's IPv4 part
bad IPv6 address: fewer than 8 pieces
IPv4 address must be four decimal numbers
IPv4 part with a leading zero (read as octal)
IPv4 address must be four decimal numbers 0-255
empty URL
not an absolute URL
scheme must be http, https, ws or wss
expected :// after the scheme
backslash in the host (WHATWG parsers end the host there)
percent-encoded host (WHATWG parsers decode it)
space, control or non-ASCII character in the host (use the punycode form)
unclosed IPv6 literal
no wildcard in an IPv6 literal
host longer than 253 bytes
empty label in the host
host label longer than 63 bytes
a wildcard is only allowed as the first label, as "*."
character not allowed in a host
no wildcard over an IP address
a wildcard needs at least two labels after "*."
unexpected character after the host
empty port
an allowed origin has no path, query or fragment
origin not in security.allowed_origins; no socket was opened
the server requires a client certificate; none was sent
the server closed the connection after the handshake: client certificate refused
the server refused the client certificate as expired
the server does not trust the client certificate's CA
the server refused the client certificate
the server certificate names another host
the server certificate expired
the server certificate is not yet valid
the server certificate is not trusted
the server certificate was refused
TLS protocol failure
chain check
a certificate in the chain has expired
a certificate in the chain is not valid yet
not issued by the configured CA
signed with an algorithm or key this build does not accept
a CA in the chain may not sign certificates
chain verification failed
the key can sign neither ecdsa-p256-sha256 nor rsa-v1_5-sha256`;
const MESSAGES = globalThis.QOLLECTIVE_CODEC_ONLY ? CODEC_MESSAGES : CODEC_MESSAGES + '\n' + CLIENT_MESSAGES;
const DETAILS = globalThis.QOLLECTIVE_CODEC_ONLY ? CODEC_DETAILS : CODEC_DETAILS + '\n' + CLIENT_DETAILS;
const STATUS_NAMES = CODEC_MESSAGES.split('\n').map((l) => l.split(' ')[0]);
const MESSAGE_OF = Object.fromEntries(MESSAGES.split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
const DETAIL_OF = DETAILS.split('\n');
function messageText(m) {
  // "\x03\x02" (no id): U+0000 in a server's text (Q_MARK_NUL). At most MESSAGE_CHARS characters, counted as
  // Rust's chars() counts them (Q_MAX_ERROR_MESSAGE_CHARS, wire-format.md §6), whole ones.
  return [...m.replace(/\x01(\w*)\x02?|\x03(\d*)\x02?/g, (_, name, id) => name !== undefined ? MESSAGE_OF[name = STATUS_NAMES[name] || name] ?? name : id ? DETAIL_OF[id - 1] || `detail ${id}` : '\0')].slice(0, MESSAGE_CHARS).join('');
}
