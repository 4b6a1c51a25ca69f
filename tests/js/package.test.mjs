// What ships is what is measured: the file list of `npm pack --dry-run` equals the list in
// size-budget.txt (which scripts/size-gate.sh measures), every module the build makes is in it
// and in package.json's exports, and the shipped glue (dist/qollective.min.js) loads each module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = new URL('../../', import.meta.url);
const read = (rel) => readFileSync(new URL(rel, root), 'utf8');
const pkg = JSON.parse(read('package.json'));

/** The paths of size-budget.txt, the one list of shipped files. */
function budgetPaths() {
  return read('size-budget.txt').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]);
}

/** The module artifacts the Makefile builds (MODULES and <name>_WASM, mk/ fragments included). */
function builtModules() {
  const out = execFileSync('make', ['-s', '--no-print-directory', 'print-modules'], { cwd: root.pathname, encoding: 'utf8' });
  return out.trim().split(/\s+/);
}

test('npm pack ships exactly the files of size-budget.txt (plus package.json)', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root.pathname, encoding: 'utf8' });
  const packed = JSON.parse(out)[0].files.map((f) => f.path).sort();
  assert.deepEqual(packed, [...budgetPaths(), 'package.json'].sort());
});

test('every module the build makes ships, is measured and is exported', () => {
  const modules = builtModules();
  assert.ok(modules.includes('dist/qollective.wasm') && modules.includes('dist/qollective-codec.wasm'), modules.join(' '));
  const budget = budgetPaths();
  for (const wasm of modules) {
    assert.ok(existsSync(new URL(wasm, root)), `${wasm} is built`);
    assert.ok(budget.includes(wasm), `${wasm} has a line in size-budget.txt`);
    assert.ok(pkg.files.includes(wasm), `${wasm} is in package.json files`);
    const name = wasm.replace(/^dist\//, './');
    assert.equal(pkg.exports[name], `./${wasm}`, `package.json exports ${name}`);
  }
  // and nothing is exported that the build does not make
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'string') continue;   // the glue entries: '.' and './codec', below
    assert.ok(modules.includes(target.replace(/^\.\//, '')), `export ${key} -> ${target} is built`);
  }
});

test('the package entry points are the shipped glue and types', () => {
  assert.equal(pkg.main, './dist/qollective.min.js');
  assert.equal(pkg.exports['.'].default, './dist/qollective.min.js');
  assert.equal(pkg.exports['.'].types, pkg.types);
  assert.ok(pkg.files.includes(pkg.types.replace(/^\.\//, '')));
  const min = read('dist/qollective.min.js');
  assert.match(min, /\/\/# sourceMappingURL=qollective\.min\.js\.map\s*$/);
  const map = JSON.parse(read('dist/qollective.min.js.map'));
  assert.deepEqual(map.sources, ['../js-glue/qollective.js']);
  assert.equal(map.sourcesContent[0], read('js-glue/qollective.js'), 'the map carries the readable source');
});

test('the codec glue is an entry point with its own map of the same source', () => {
  assert.deepEqual(pkg.exports['./codec'], { types: pkg.types, default: './dist/qollective-codec.min.js' });
  // the Node mTLS helper ships as it is, with its types
  assert.deepEqual(pkg.exports['./node-tls'], { types: './js-glue/node-tls.d.ts', default: './js-glue/node-tls.js' });
  for (const f of ['js-glue/node-tls.js', 'js-glue/node-tls.d.ts']) assert.ok(pkg.files.includes(f), f);
  assert.ok(pkg.files.includes('dist/qollective-codec.min.js') && pkg.files.includes('dist/qollective-codec.min.js.map'));
  const min = read('dist/qollective-codec.min.js');
  assert.match(min, /\/\/# sourceMappingURL=qollective-codec\.min\.js\.map\s*$/);
  const map = JSON.parse(read('dist/qollective-codec.min.js.map'));
  const at = map.sources.indexOf('../js-glue/qollective.js');
  assert.ok(at >= 0, map.sources.join());
  assert.equal(map.sourcesContent[at], read('js-glue/qollective.js'), 'the map carries the readable source');
  // what only clients reach is left out (each name is in the full glue)
  for (const text of ['AbortSignal', 'setCredentials', 'client table full']) {
    assert.ok(read('dist/qollective.min.js').includes(text), text);
    assert.ok(!min.includes(text), `the codec glue carries ${text}`);
  }
});

test('the codec glue decodes and encodes on every module and refuses clients', async () => {
  const { Qollective, QollectiveError } = await import(new URL('dist/qollective-codec.min.js', root));
  for (const wasm of builtModules()) {
    const q = await Qollective.load(new URL(wasm, root));
    assert.equal(q.decode(q.encode({ meta: {}, payload: [1] })).payload[0], 1, wasm);
    assert.throws(() => q.client({}), (e) => e instanceof QollectiveError && e.code === 'BAD_MODULE' && /qollective\.min\.js|qollective\.wasm/.test(e.message));
  }
});

test('the shipped glue loads each module: the codec everywhere, clients on the client module', async () => {
  const { Qollective, QollectiveError } = await import(new URL('dist/qollective.min.js', root));
  for (const wasm of builtModules()) {
    const q = await Qollective.load(new URL(wasm, root));
    assert.equal(q.decode('{"meta":{},"payload":[1]}').payload[0], 1, wasm);
    if (q.module === 'codec') assert.throws(() => q.client({}), (e) => e instanceof QollectiveError && e.code === 'BAD_MODULE');
    else q.client({}).close();
  }
});

test('the REST glue is an entry point with its own map of the same source, without Socket', () => {
  assert.deepEqual(pkg.exports['./rest'], { types: pkg.types, default: './dist/qollective-rest.min.js' });
  assert.ok(pkg.files.includes('dist/qollective-rest.min.js') && pkg.files.includes('dist/qollective-rest.min.js.map'));
  const min = read('dist/qollective-rest.min.js');
  assert.match(min, /\/\/# sourceMappingURL=qollective-rest\.min\.js\.map\s*$/);
  const map = JSON.parse(read('dist/qollective-rest.min.js.map'));
  const at = map.sources.indexOf('../js-glue/qollective.js');
  assert.ok(at >= 0, map.sources.join());
  // the map carries the readable source, line for line, with the detail texts the REST module
  // never uses emptied (scripts/glue-rest.mjs; tests/js/error-text.test.mjs checks which)
  const src = read('js-glue/qollective.js').split('\n'), got = map.sourcesContent[at].split('\n');
  assert.equal(got.length, src.length);
  const changed = got.filter((l, i) => l !== src[i]);
  assert.ok(changed.length > 20 && got.every((l, i) => l === src[i] || src[i].startsWith(l) || src[i].endsWith(l)), `${changed.length} lines changed`);
  assert.ok(!min.includes('open needs 4 entropy bytes') && read('dist/qollective.min.js').includes('open needs 4 entropy bytes'));
  // the client is there, the WebSocket class is not (each text is in the full glue)
  for (const text of ['AbortSignal', 'client table full']) assert.ok(min.includes(text), `the REST glue carries ${text}`);
  for (const text of ['bufferedAmount', 'binaryType', 'host_credentials', 'sign_handshake']) {
    assert.ok(read('dist/qollective.min.js').includes(text), text);
    assert.ok(!min.includes(text), `the REST glue carries ${text}`);
  }
});

test('the REST glue sends on the REST and client modules and refuses sockets', async () => {
  const { Qollective, QollectiveError, Client } = await import(new URL('dist/qollective-rest.min.js', root));
  assert.equal(typeof Client, 'function');
  for (const wasm of ['dist/qollective-rest.wasm', 'dist/qollective.wasm']) {
    const q = await Qollective.load(new URL(wasm, root));
    const c = q.client({ websocket: { url: 'ws://127.0.0.1:9/' } });
    assert.throws(() => c.socket(), (e) => e instanceof QollectiveError && e.code === 'BAD_MODULE' && /has no WebSocket/.test(e.message), wasm);
    c.close();
  }
  // nor TLS: even on the TLS module its calls say which module (and glue) they need
  const tls = await Qollective.load(new URL('dist/qollective-tls.wasm', root));
  assert.equal(tls.module, 'tls');
  assert.throws(() => tls.sha256('x'), (e) => e instanceof QollectiveError && e.code === 'TLS_UNAVAILABLE' && /REST glue has no TLS/.test(e.message));
  assert.throws(() => tls.inspectCertificate('x'), (e) => e.code === 'TLS_UNAVAILABLE' && /REST glue has no TLS/.test(e.message));
  const c = tls.client({});
  for (const call of [() => c.certificate(), () => c.sign('x'), () => c.setCredentials({ cert: 'x' })])
    assert.throws(call, (e) => e instanceof QollectiveError && e.code === 'TLS_UNAVAILABLE' && /REST glue has no TLS/.test(e.message), String(call));
  c.close();
});

test('the codec glue has no TLS calls either: on the TLS module they say which glue to import', async () => {
  const { Qollective, QollectiveError } = await import(new URL('dist/qollective-codec.min.js', root));
  const tls = await Qollective.load(new URL('dist/qollective-tls.wasm', root));
  assert.equal(tls.module, 'tls');
  for (const call of [() => tls.sha256('x'), () => tls.hmacSha256('k', 'x'), () => tls.inspectCertificate('x'), () => tls.checkCertificate('x'), () => tls.embeddedCredentials(), () => tls.wipeEmbeddedKey()])
    assert.throws(call, (e) => e instanceof QollectiveError && e.code === 'TLS_UNAVAILABLE' && /codec glue has no TLS calls; import qollective-wasm/.test(e.message), String(call));
  assert.deepEqual(Object.keys(tls.io).sort(), ['now', 'random'], 'no client I/O in the codec glue');
});

test('jsmn\'s MIT notice ships', () => {
  assert.ok(pkg.files.includes('THIRD_PARTY.md'));
  const notice = read('THIRD_PARTY.md');
  assert.match(notice, /jsmn/);
  assert.match(notice, /Copyright \(c\) 2010 Serge Zaitsev/);
  assert.match(notice, /Permission is hereby granted, free of charge/);
});
