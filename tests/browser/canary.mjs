// The canary watch of the browser suites (issue 12 item 8): the page gets this process's canary
// token and private key (tests/canary/hook.mjs) before any script runs; harness.mjs puts them into
// every client with logging at debug level, and sends every log record and every error it sees to
// the console. Every console message and page error of the context is scanned here.
import '../canary/hook.mjs';   // already loaded with --import under make; a bare run loads it here

/** Wires a browser context to the canary; returns the hook's handle (scan, leaks()). */
export async function watchCanary(context) {
  const c = globalThis.__qollectiveCanary;
  await context.addInitScript(({ token, keyBody }) => { globalThis.__qollectiveCanary = { token, keyBody }; },
    { token: c.token, keyBody: c.keyBody });
  const seen = { console: 0, records: 0 };
  context.on('console', (m) => {
    const text = m.text();
    seen.console++;
    if (text.startsWith('[canary log record')) seen.records++;
    c.scan(text, 'chromium console');
  });
  context.on('weberror', (e) => c.scan(`${e.error().message} ${e.error().stack}`, 'chromium page error'));
  return { ...c, seen };
}
