// Docs that cannot drift from the repository (issue 9 item 7): README.md, docs/*.md and
// bench/README.md link only to files inside the repository, every repository path and every
// `make` target they name exists, and README/package.json claim only the transports the core
// implements (a transport exists when the client module exports its q_<name>_* calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p) => readFileSync(join(ROOT, p), 'utf8');
const DOCS = ['README.md', 'bench/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
// top-level entries a repository path in the docs may start with
const TOP = new Set(readdirSync(ROOT).filter((f) => !f.startsWith('.') && f !== 'node_modules'));
const FENCED = /```[\s\S]*?```/g;

/** Repository paths named in a markdown text: link targets and `code` spans that look like paths. */
function pathsIn(text) {
  const out = [];
  text = text.replace(FENCED, '');   // examples hold URLs such as '/qollective.wasm'
  for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) if (!/^[a-z]+:/.test(m[1])) out.push({ path: m[1], how: 'link' });
  for (const m of text.matchAll(/`([A-Za-z0-9_.\/-]+)`/g)) {
    const p = m[1];
    // a leading / is a URL path (`/envelope`) unless it names a file (`/work/x/y.md`)
    const file = /\.[a-z]{1,4}$/.test(p);
    if (p.includes('/') && (TOP.has(p.split('/')[0]) || p.startsWith('../') || (p.startsWith('/') && file))) out.push({ path: p, how: 'code' });
  }
  return out;
}

test('docs link and name only files inside the repository, and they exist', () => {
  let named = 0;
  for (const doc of DOCS) {
    const dir = doc.includes('/') ? doc.slice(0, doc.lastIndexOf('/') + 1) : '';
    for (const { path, how } of pathsIn(read(doc))) {
      named++;
      const resolved = how === 'link' ? normalize(join(dir, path)) : normalize(path);
      assert.ok(!path.startsWith('/') && !resolved.startsWith('..'), `${doc}: ${how} ${path} points outside the repository`);
      // build/ holds what make and the tests generate (build/pki from scripts/gen-test-pki.sh):
      // it exists only after the step that writes it, so only its top folder is checked
      if (resolved.startsWith('build/')) continue;
      assert.ok(existsSync(join(ROOT, resolved)), `${doc}: ${how} ${path} does not exist`);
    }
  }
  assert.ok(named >= 10, `the docs name repository files (${named})`);
});

test('every `make` target the docs name exists', () => {
  const makefiles = ['Makefile', ...readdirSync(join(ROOT, 'mk')).filter((f) => f.endsWith('.mk')).map((f) => `mk/${f}`)];
  const targets = new Set();
  for (const f of makefiles) {
    for (const m of read(f).matchAll(/^([A-Za-z0-9_.%\/ -]+?)\s*::?(?!=)/gm)) for (const t of m[1].split(/\s+/)) targets.add(t);
  }
  let named = 0;
  for (const doc of DOCS) {
    // `make x` in code spans, and command lines in fenced blocks
    const text = read(doc);
    const fenced = (text.match(FENCED) || []).join('\n');
    const spans = [...text.matchAll(/`make ([a-z][a-z0-9-]*)[^`]*`/g), ...fenced.matchAll(/^make ([a-z][a-z0-9-]*)/gm)];
    for (const m of spans) {
      named++;
      assert.ok(targets.has(m[1]), `${doc}: "make ${m[1]}" is not a target of ${makefiles.join(', ')}`);
    }
  }
  assert.ok(named >= 5, `the docs name make targets (${named})`);
});

// Which transports exist: the full client module's exports say.
const exportsOf = (file) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(ROOT, file)))).map((e) => e.name);
const TRANSPORTS = { REST: 'q_rest_', WebSocket: 'q_ws_', NATS: 'q_nats_' };
const NOT_YET = /not implemented|not used|not yet/i;

/** Sentences of prose and rows of tables, each as one string. */
function statements(text) {
  const out = [];
  for (const block of text.replace(FENCED, '').split(/\n\s*\n/)) {
    if (block.trimStart().startsWith('|')) out.push(...block.split('\n'));
    else out.push(...block.replace(/\s*\n\s*/g, ' ').split(/(?<=[.!?])\s+(?=[A-Z`*])/));
  }
  return out;
}

test('README and package.json claim only the transports the core implements', () => {
  const names = exportsOf('dist/qollective.wasm');
  const has = Object.fromEntries(Object.entries(TRANSPORTS).map(([t, prefix]) => [t, names.some((n) => n.startsWith(prefix))]));
  assert.equal(has.REST, true, 'the client module exports the REST calls');
  const pkg = JSON.parse(read('package.json'));
  const texts = { 'README.md': statements(read('README.md')), 'package.json description': [pkg.description] };
  for (const [t, implemented] of Object.entries(has)) {
    // the name as written (not nats-server, the test tool), and config keys of its section
    const mention = new RegExp(`\\b${t}\\b|\\b${t.toLowerCase()}\\.[a-z]`);
    const denial = new RegExp(`${t}( and \\w+)*( is| are)? not (implemented|used)|not yet \\(${t}`, 'i');
    for (const [where, list] of Object.entries(texts)) {
      const hits = list.filter((s) => mention.test(s));
      if (t !== 'REST') assert.ok(hits.length > 0 || where !== 'README.md', `README says nothing about ${t}`);
      for (const s of hits) {
        if (implemented) assert.ok(!denial.test(s), `${where} still calls ${t} not implemented, but the core exports ${TRANSPORTS[t]}*: "${s}"`);
        else assert.ok(NOT_YET.test(s), `${where} mentions ${t}, which the core does not implement, without saying so: "${s}"`);
      }
    }
  }
  assert.match(pkg.description, /REST/);
});

test('the README config table marks what is not used yet, and only that', () => {
  const rows = read('README.md').split('\n').filter((l) => /^\| `/.test(l));
  assert.ok(rows.length >= 8);
  const ws = exportsOf('dist/qollective.wasm').some((n) => n.startsWith('q_ws_'));
  for (const row of rows) {
    const notYet = /not yet/.test(row);
    if (/`websocket\.|connect_ms/.test(row)) assert.equal(notYet, !ws, `websocket/connect row: ${row}`);
    else assert.equal(notYet, false, `a key the REST client uses is marked unused: ${row}`);
  }
});
