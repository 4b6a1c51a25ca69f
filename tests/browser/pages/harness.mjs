// harness.mjs — helpers the browser suite calls through page.evaluate(). They turn the glue's
// results into plain objects (Envelope and QollectiveError do not cross the CDP boundary).
import { Qollective, QollectiveError, Envelope } from '/js-glue/qollective.js';

import { instrument } from '/tests/canary/instrument.mjs';

export { Qollective, QollectiveError, Envelope };

// The canary (tests/browser/canary.mjs sets it before any script): every client carries it and
// logs at debug level; records and errors go to the console, which the suite scans.
const canary = globalThis.__qollectiveCanary;
if (canary) instrument(Qollective, { ...canary, scan: (text, where) => console.debug(`[canary ${where}] ${text}`) });
export const WASM_URL = '/dist/qollective.wasm';

// Counts the streaming compiles so a test can tell which load path the glue took.
export const spy = { compileStreaming: 0 };
const realCompileStreaming = WebAssembly.compileStreaming;
if (realCompileStreaming) {
  WebAssembly.compileStreaming = function (...args) {
    spy.compileStreaming++;
    return realCompileStreaming.apply(this, args);
  };
}

/** Every field a QollectiveError carries, plus what kind of object it really was. */
export function plainError(e) {
  return {
    isQollectiveError: e instanceof QollectiveError,
    name: e?.name,
    type: e?.type,
    code: e?.code,
    status: e?.status,
    message: e?.message,
    retryable: e?.retryable,
    retryPolicy: e?.retryPolicy,
    requestId: e?.requestId,
    details: e?.details,
    causeName: e?.cause?.name ?? null,
  };
}

export function plainReply(env) {
  return {
    isEnvelope: env instanceof Envelope,
    meta: env.meta,
    payload: env.payload,
    error: env.error ?? null,
    requestId: env.requestId ?? null,
  };
}

/** Awaits a send() and reports {ok, reply, ms} or {ok:false, error, ms}; never throws. */
export async function outcome(promise) {
  const t0 = performance.now();
  try {
    const reply = plainReply(await promise);
    return { ok: true, reply, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: plainError(e), ms: performance.now() - t0 };
  }
}

let shared = null;
/** One core instance per page, loaded from the raw .wasm by URL. */
export function core() {
  shared ??= Qollective.load(WASM_URL);
  return shared;
}

/** A fresh client on the shared core; the caller closes it. */
export async function client(config) {
  return (await core()).client(config);
}

/** Runs the worker round trip: resolves with what worker.mjs posts back. */
export function inWorker(message, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    const t = setTimeout(() => { w.terminate(); reject(new Error('worker did not answer')); }, timeoutMs);
    w.onmessage = (ev) => { clearTimeout(t); w.terminate(); resolve(ev.data); };
    w.onerror = (ev) => { clearTimeout(t); w.terminate(); reject(new Error(`worker error: ${ev.message}`)); };
    w.postMessage(message);
  });
}
