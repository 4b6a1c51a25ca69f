// The modules built from one source tree (Makefile MODULES): the glue tells them apart by their
// exports, the codec module refuses clients with a clear error, and no client code or text is
// left in the codec module (checked with wasm-objdump -x on the unstripped link, and on the
// shipped bytes). Every "absent from codec" check is paired with "present in client", so a
// renamed symbol or string makes the test fail instead of passing vacuously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';
import { MODULE_FILES } from './module.mjs';

const root = new URL('../../', import.meta.url);
const file = (rel) => new URL(rel, root);
const codec = await Qollective.load(file(MODULE_FILES.codec));
const client = await Qollective.load(file(MODULE_FILES.client));

// Sources only the client module is built from (config, REST, retries, tokens, URLs, Base64).
const CLIENT_ONLY_FUNCTION = /^(config_|rest_|token_|url_|retry_|base64_|client_)/;
const CLIENT_ONLY_EXPORT = /^q_(client_|rest_|token_|ws_)/;
const CLIENT_ONLY_TEXT = ['rest.base_url', 'limits.max_in_flight', 'security.allowed_origins', 'X-Qollective-Request-Id', 'Authorization', 'Bearer'];

function functionNames(names_wasm) {
  const out = execFileSync('wasm-objdump', ['-x', '-j', 'Function', file(names_wasm).pathname], { encoding: 'utf8' });
  return [...out.matchAll(/<([^>]+)>/g)].map((m) => m[1]);
}

function exportNames(rel) {
  return WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(file(rel)))).map((e) => e.name);
}

test('the glue tells the modules apart by their exports', () => {
  assert.equal(codec.module, 'codec');
  assert.equal(client.module, 'client');
});

test('client() on the codec module throws a QollectiveError naming the module to load', () => {
  assert.throws(() => codec.client({}), (e) => {
    assert.ok(e instanceof QollectiveError);
    assert.equal(e.code, 'BAD_MODULE');
    assert.equal(e.type, 'config');
    assert.match(e.message, /qollective-codec\.wasm has no clients; load qollective\.wasm/);
    return true;
  });
  const c = client.client({});   // the same call on the client module works
  c.close();
});

test('a client handle passed to the codec module is refused with BAD_HANDLE, the codec still works', () => {
  const c = client.client({});
  const bytes = '{"meta":{},"payload":1}';
  assert.throws(() => codec.decode(bytes, c.h), { code: 'BAD_HANDLE', message: /codec module has no clients/ });
  assert.equal(client.decode(bytes, c.h).payload, 1);
  c.close();
  assert.equal(codec.decode(bytes).payload, 1);
  assert.equal(codec.memoryStats().clients, 0);
});

test('the codec module exports no client function (wasm exports of the shipped file)', () => {
  const codecExports = exportNames(MODULE_FILES.codec), clientExports = exportNames(MODULE_FILES.client);
  assert.deepEqual(codecExports.filter((n) => CLIENT_ONLY_EXPORT.test(n)), []);
  assert.ok(clientExports.filter((n) => CLIENT_ONLY_EXPORT.test(n)).length >= 8, 'the client module has them');
  // everything else is shared: the codec module is the client module minus the client exports and
  // q_input_utf16 (Node's string input: the glue copies a string's UTF-16 units; not for pages)
  assert.ok(clientExports.includes('q_input_utf16') && !codecExports.includes('q_input_utf16'));
  assert.deepEqual(codecExports.sort(), clientExports.filter((n) => !CLIENT_ONLY_EXPORT.test(n) && n !== 'q_input_utf16').sort());
});

test('no client code is linked into the codec module (wasm-objdump -x, function names)', () => {
  const inCodec = functionNames('build/codec.names.wasm').filter((n) => CLIENT_ONLY_FUNCTION.test(n));
  const inClient = functionNames('build/client.names.wasm').filter((n) => CLIENT_ONLY_FUNCTION.test(n));
  assert.deepEqual(inCodec, []);
  assert.ok(inClient.length > 0, 'the client module has functions of the client-only sources');
});

test('no client text is left in the codec module (shipped bytes)', () => {
  const codecBytes = readFileSync(file(MODULE_FILES.codec)).toString('latin1');
  const clientBytes = readFileSync(file(MODULE_FILES.client)).toString('latin1');
  for (const s of CLIENT_ONLY_TEXT) {
    assert.ok(clientBytes.includes(s), `client module has "${s}"`);
    assert.ok(!codecBytes.includes(s), `codec module has no "${s}"`);
  }
});

// ---- the REST module (dist/qollective-rest.wasm): the client module without WebSocket ----------
const WS_ONLY_FUNCTION = /^(ws_|q_ws_)/;
const WS_ONLY_EXPORT = /^q_ws_/;

test('the glue tells the REST module by its exports; socket() there names the module to load', async () => {
  const rest = await Qollective.load(file(MODULE_FILES.rest));
  assert.equal(rest.module, 'rest');
  const c = rest.client({ websocket: { url: 'ws://127.0.0.1:9/' } });   // the config is the same
  assert.throws(() => c.socket(), (e) => {
    assert.ok(e instanceof QollectiveError);
    assert.equal(e.code, 'BAD_MODULE');
    assert.match(e.message, /qollective-rest\.wasm has no WebSocket; load qollective\.wasm/);
    return true;
  });
  c.close();
  assert.equal(rest.memoryStats().clients, 0);
  // the same call on the client module opens a socket
  const full = client.client({ websocket: { url: 'ws://127.0.0.1:9/', reconnect: false } });
  assert.equal(typeof full.socket().request, 'function');
  full.close();
});

test('the REST module exports everything of the client module but q_ws_*', () => {
  const restExports = exportNames(MODULE_FILES.rest), clientExports = exportNames(MODULE_FILES.client);
  assert.deepEqual(restExports.filter((n) => WS_ONLY_EXPORT.test(n)), []);
  assert.ok(clientExports.filter((n) => WS_ONLY_EXPORT.test(n)).length >= 5, 'the client module has them');
  assert.deepEqual(restExports.sort(), clientExports.filter((n) => !WS_ONLY_EXPORT.test(n)).sort());
});

test('no WebSocket code is linked into the REST module (wasm-objdump -x, function names)', () => {
  const inRest = functionNames('build/rest.names.wasm').filter((n) => WS_ONLY_FUNCTION.test(n));
  const inClient = functionNames('build/client.names.wasm').filter((n) => WS_ONLY_FUNCTION.test(n));
  assert.deepEqual(inRest, []);
  assert.ok(inClient.length > 0, 'the client module has functions of the WebSocket sources');
  // and the REST code is there
  assert.ok(functionNames('build/rest.names.wasm').some((n) => /^rest_/.test(n)));
});

// THIRD_PARTY.md and README: jsmn's tokenizer is linked into the client modules (the origin
// allowlist, src/config.c via tokens_parse, where LTO inlines jsmn_parse), not into the codec
// module, whose envelope walks read spans of the validated bytes.
test('jsmn tokenizes in the client modules, not in the codec module (wasm-objdump -x, function names)', () => {
  const jsmn = (n) => /^(tokens_parse|jsmn_parse)$/.test(n);
  assert.ok(functionNames('build/client.names.wasm').some(jsmn), 'client module');
  assert.ok(functionNames('build/rest.names.wasm').some(jsmn), 'REST module');
  assert.deepEqual(functionNames('build/codec.names.wasm').filter(jsmn), []);
});
