// app.js — the browser example: load the raw core, send a few REST round trips, show what came back.
// No build step: the glue is imported straight from the repository (see `make serve-example`).
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';

const WASM_URL = new URL('../../dist/qollective.wasm', import.meta.url);
const DEFAULT_SERVER = 'http://127.0.0.1:8080';

const $ = (id) => document.getElementById(id);
const serverInput = $('server'), tenantInput = $('tenant'), payloadInput = $('payload');
const statusBox = $('status'), results = $('results');
const buttons = ['post', 'get', 'fail'].map($);

serverInput.value = new URLSearchParams(location.search).get('server') || DEFAULT_SERVER;

let q = null;          // the loaded core
let client = null;     // rebuilt when the server or tenant changes
let clientKey = '';

function setStatus(text, kind = '') {
  statusBox.textContent = text;
  statusBox.className = kind;
}

/** A client for the current server and tenant; config errors surface as QollectiveError. */
function currentClient() {
  const base = serverInput.value.trim().replace(/\/+$/, '');
  const tenant = tenantInput.value.trim();
  const key = `${base}\n${tenant}`;
  if (client && key === clientKey) return client;
  client?.close();
  client = null;
  const config = { rest: { base_url: base } };
  if (tenant) config.meta = { tenant };
  client = q.client(config);
  clientKey = key;
  return client;
}

function el(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  Object.assign(n, props);
  for (const c of children) n.append(c);
  return n;
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function addCard(card) {
  results.querySelector('.empty')?.remove();
  results.prepend(card);
}

function header(what, verdict, ms) {
  return el('div', { className: 'head' },
    el('span', { className: 'what', textContent: what }),
    el('span', { className: 'verdict', textContent: verdict }),
    el('span', { className: 'time', textContent: `${ms.toFixed(0)} ms · ${new Date().toLocaleTimeString()}` }));
}

function showReply(what, reply, ms) {
  const body = el('div', { className: 'body' },
    el('dl', {},
      el('dt', { textContent: 'request_id' }), el('dd', { textContent: reply.meta.request_id ?? '—' }),
      el('dt', { textContent: 'timestamp' }), el('dd', { textContent: reply.meta.timestamp ?? '—' })),
    el('div', { className: 'sub', textContent: 'Reply envelope' }),
    el('pre', { textContent: json(reply.toJSON()) }));
  addCard(el('article', { className: 'card' }, header(what, 'OK', ms), body));
}

function showError(what, e, ms) {
  const rows = [];
  const row = (name, value, cls = '') => rows.push(el('dt', { textContent: name }), el('dd', { className: cls, textContent: value }));
  if (e instanceof QollectiveError) {
    row('type', e.type);
    row('code', e.code);
    // Errors found before sending carry no request id; their status is only the mapped equivalent.
    if (!e.requestId) row('status', e.status ? `${e.status} (equivalent: nothing was sent)` : '— (nothing was sent)');
    else row('status', e.status ?? '— (no HTTP response)');
    row('retryable', e.retryable ? `yes (${e.retryPolicy})` : 'no');
    row('message', e.message, 'message');
    if (e.requestId) row('request id', e.requestId);
    if (e.path) row('where', e.offset !== null ? `${e.path} @ byte ${e.offset}` : e.path);
  } else {
    row('error', `${e?.name ?? 'Error'}: ${e?.message ?? e}`, 'message');
  }
  const body = el('div', { className: 'body' }, el('dl', {}, ...rows));
  if (e?.details != null) body.append(el('div', { className: 'sub', textContent: 'Details' }), el('pre', { textContent: json(e.details) }));
  if (e?.code === 'NETWORK') {
    body.append(el('p', { className: 'hint', textContent: 'No readable HTTP response: the server is down or unreachable, or the browser blocked the reply (CORS). Is the server running (make serve-example)?' }));
  }
  const verdict = e instanceof QollectiveError ? `${e.code}${e.status && e.requestId ? ` (${e.status})` : ''}` : 'failed';
  addCard(el('article', { className: 'card error' }, header(what, verdict, ms), body));
}

async function run(method, route) {
  const what = `${method} ${route}`;
  const t0 = performance.now();
  buttons.forEach((b) => { b.disabled = true; });
  try {
    // payloadJson: the core checks the text itself and names the byte where it goes wrong.
    const reply = await currentClient().send({ payloadJson: payloadInput.value }, { method, route, timeout: 10000 });
    showReply(what, reply, performance.now() - t0);
  } catch (e) {
    showError(what, e, performance.now() - t0);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

$('post').onclick = () => run('POST', '/envelope');
$('get').onclick = () => run('GET', '/envelope');
$('fail').onclick = () => run('POST', '/fail');
$('clear').onclick = () => results.replaceChildren(el('p', { className: 'empty', textContent: 'Press a button to send a request.' }));

buttons.forEach((b) => { b.disabled = true; });
try {
  const t0 = performance.now();
  q = await Qollective.load(WASM_URL);
  setStatus(`Core loaded in ${(performance.now() - t0).toFixed(0)} ms. Requests go to the server above.`, 'ready');
  buttons.forEach((b) => { b.disabled = false; });
} catch (e) {
  setStatus(`Could not load ${WASM_URL.pathname}: ${e.message}`, 'failed');
}
