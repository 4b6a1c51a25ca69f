// worker.mjs — a module worker that loads the glue and the raw core and does REST round trips.
// It proves the library needs no `window` or `document`. Input: {base, requestId}; output: plain results.
import { Qollective, QollectiveError } from '/js-glue/qollective.js';

function plainError(e) {
  return { isQollectiveError: e instanceof QollectiveError, type: e?.type, code: e?.code, status: e?.status, message: e?.message };
}

self.onmessage = async ({ data }) => {
  const out = {
    hasWindow: typeof window !== 'undefined',
    hasDocument: typeof document !== 'undefined',
    isWorkerScope: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope,
  };
  let client;
  try {
    const q = await Qollective.load(new URL('/dist/qollective.wasm', self.location.href));
    client = q.client({ rest: { base_url: data.base } });
    const reply = await client.send({ meta: { request_id: data.requestId }, payload: { from: 'worker', n: 7 } });
    out.reply = { meta: reply.meta, payload: reply.payload, requestId: reply.requestId };
    try {
      await client.send({ payload: null }, { route: '/fail' });
      out.failError = null;
    } catch (e) {
      out.failError = plainError(e);
    }
  } catch (e) {
    out.error = plainError(e);
  } finally {
    client?.close();
  }
  self.postMessage(out);
};
