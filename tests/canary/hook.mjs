// Node preload for every suite (`node --import ./tests/canary/hook.mjs --test ...`, see the
// Makefile): makes a canary token and a canary EC private key (PEM) for this process, puts them
// into every client (instrument.mjs) with logging at debug level, and scans everything this
// process writes to stdout/stderr (console output, test reports with error messages and stacks),
// every log record and every error the glue throws. A leak is written (without the canary itself)
// to $QOLLECTIVE_CANARY_DIR/leaks.log, which tests/canary/check.mjs turns into a failure.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Qollective, Client, Socket } from '../../js-glue/qollective.js';
import { instrument, scanError, pemNeedles } from './instrument.mjs';

const DIR = process.env.QOLLECTIVE_CANARY_DIR || 'build/canary';
const TOKEN = `qcanary${randomBytes(16).toString('hex')}`;
const KEY = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
const NEEDLES = [TOKEN, ...pemNeedles(KEY)];
const suite = process.argv[1] || '?';
mkdirSync(DIR, { recursive: true });

let leaks = 0;
function scan(text, where) {
  const s = typeof text === 'string' ? text : Buffer.from(text.buffer ?? text, text.byteOffset ?? 0, text.byteLength ?? text.length).toString('latin1');
  const which = NEEDLES.findIndex((n) => s.includes(n));
  if (which < 0) return;
  leaks++;
  appendFileSync(join(DIR, 'leaks.log'), `${suite} (pid ${process.pid}): the canary ${which ? 'private key' : 'token'} appeared in ${where}\n`);
  process.exitCode = 1;
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write;
  const name = stream === process.stdout ? 'stdout' : 'stderr';
  stream.write = function (chunk, ...rest) {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') scan(chunk, name);
    return write.call(this, chunk, ...rest);
  };
}

instrument(Qollective, { token: TOKEN, keyBody: pemNeedles(KEY).join(''), scan });
// rejections of the async calls too
const send = Client.prototype.send;
Client.prototype.send = function (...a) { return send.apply(this, a).catch((e) => { scanError(e, scan, 'send() rejection'); throw e; }); };
const request = Socket.prototype.request;
Socket.prototype.request = function (...a) {
  const p = request.apply(this, a);
  return p && typeof p.catch === 'function' ? p.catch((e) => { scanError(e, scan, 'socket request rejection'); throw e; }) : p;
};
// a suite run on a built glue (QOLLECTIVE_GLUE, e.g. the REST glue): its own copies of the classes
if (process.env.QOLLECTIVE_GLUE && !process.env.QOLLECTIVE_GLUE.startsWith('js-glue/')) {
  const built = await import(new URL(`../../${process.env.QOLLECTIVE_GLUE}`, import.meta.url));
  instrument(built.Qollective, { token: TOKEN, keyBody: pemNeedles(KEY).join(''), scan });
  const builtSend = built.Client?.prototype.send;
  if (builtSend) built.Client.prototype.send = function (...a) { return builtSend.apply(this, a).catch((e) => { scanError(e, scan, 'send() rejection'); throw e; }); };
}
process.on('uncaughtExceptionMonitor', (e) => scanError(e, scan, 'uncaught exception'));

/** For suites that use the canaries on purpose (tests/js/canary.test.mjs, the browser suites). */
globalThis.__qollectiveCanary = { token: TOKEN, key: KEY, keyBody: pemNeedles(KEY).join(''), needles: NEEDLES, scan, leaks: () => leaks };
appendFileSync(join(DIR, 'ran.log'), `${suite}\n`);
