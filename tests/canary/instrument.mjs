// Canary instrumentation shared by the node preload (hook.mjs) and the browser pages: every
// client any suite makes logs at debug level into a sink the harness scans, and stores the canary
// token and the canary private key (its Base64 body: a token must be one line), so a leak of
// either through a log record, an error or the console is seen wherever it happens.
// Suites that set their own log level or sink (tests/js/logging.test.mjs) keep theirs.

/** Patches Qollective (the glue class) so every client carries the canaries; scan(text, where) checks text. */
export function instrument(Qollective, { token, keyBody, scan }) {
  const sink = (r) => scan(JSON.stringify(r), `log record ${r.event}`);
  const client = Qollective.prototype.client;
  Qollective.prototype.client = function (config = {}, options = {}) {
    // the suite tests the logger itself, or passes junk options on purpose (bad-input): left as given
    const plain = options === undefined || (options !== null && typeof options === 'object' && !Array.isArray(options));
    const own = !plain || (options !== undefined && 'log' in options) || this.io.log !== undefined;
    const debug = !own && config && typeof config === 'object' && !Array.isArray(config) && config.log === undefined
      ? { ...config, log: { level: 'debug' } } : config;
    const c = checked(() => client.call(this, debug, own ? options : { log: sink, ...options }), scan, 'client()');
    try {
      c.setToken('qollective-canary-token', token);
      c.setToken('qollective-canary-key', keyBody);
    } catch { /* a suite that fills the store or the memory on purpose: that client goes without */ }
    return c;
  };
  // every error a call of the glue throws or rejects with: its message, stack, details and cause
  const check = Qollective.prototype._check;
  Qollective.prototype._check = function (rc) { return checked(() => check.call(this, rc), scan, 'core error'); };
  return Qollective;
}

/** Calls f; scans whatever it throws (message, stack, details, cause) before rethrowing it. */
export function checked(f, scan, where) {
  try { return f(); } catch (e) { scanError(e, scan, where); throw e; }
}

export function scanError(e, scan, where) {
  for (let x = e, depth = 0; x && depth < 4; x = x.cause, depth++) {
    let details = '';
    try { details = JSON.stringify(x.details ?? null); } catch { /* not serialisable */ }
    scan(`${x.message ?? x} ${x.stack ?? ''} ${details}`, where);
  }
}

/** The needles of a PEM private key: its Base64 lines (each is long enough to be unique). */
export function pemNeedles(pem) {
  return pem.split('\n').filter((l) => l.length >= 32 && !l.startsWith('-----'));
}
