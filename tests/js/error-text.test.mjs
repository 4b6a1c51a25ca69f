// Message text lives in the glue (src/error.h): the wasm modules write markers, the glue the
// text. These tests keep the glue's lists in step with the C tables and check that what users
// read from the real modules is the whole message, with path and offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WASM, MODULE, GLUE, GLUE_FILE } from './module.mjs';

const { Qollective, QollectiveError } = await import(GLUE);

const root = new URL('../../', import.meta.url);
const read = (p) => readFile(new URL(p, root), 'utf8');
const cString = (s) => JSON.parse(s);   // the tables' texts use no C-only escapes
const STATUS = [...(await read('src/error.h')).matchAll(/X\((\w+),\s*\w+,\s*\d+,\s*("(?:[^"\\]|\\.)*")\)/g)].map((m) => [m[1], cString(m[2])]);
const DETAIL = [...(await read('src/error_detail.h')).matchAll(/X\((\w+),\s*("(?:[^"\\]|\\.)*")\)/g)].map((m) => [m[1], cString(m[2])]);
const text = (message) => new QollectiveError({ message }).message;

// The codec glue carries only the text the codec module's sources use (Makefile CODEC_SRC).
const CODEC_GLUE = GLUE_FILE.endsWith('qollective-codec.min.js');
const codecSources = (await read('Makefile')).match(/^CODEC_SRC\s*:=[^\n]*\n(?:[^\n]*\n)?/m)[0].match(/[\w]+\.c/g);
const headers = (await readdir(new URL('src/', root))).filter((f) => f.endsWith('.h'));   // inline helpers
const codecText = (await Promise.all([...codecSources, ...headers].map((f) => read(`src/${f}`)))).join('\n');
const used = (macro) => new Set([...codecText.matchAll(new RegExp(`${macro}\\((\\w+)\\)`, 'g'))].map((m) => m[1]));
const inGlue = CODEC_GLUE ? { status: used('Q_ERR'), detail: used('QD') } : null;
// The REST glue carries every status message and the details the REST module's sources use
// (Makefile rest_SRC; scripts/glue-rest.mjs leaves the others empty).
const REST_GLUE = GLUE_FILE.endsWith('qollective-rest.min.js');
const restSources = execFileSync('make', ['-s', '--no-print-directory', 'print-src-rest'], { cwd: fileURLToPath(root), encoding: 'utf8' }).trim().split(/\s+/);
const restText = (await Promise.all([...restSources, ...headers.map((h) => `src/${h}`)].map(read))).join('\n');
const restDetails = new Set([...restText.matchAll(/QD\((\w+)\)/g)].map((m) => m[1]));
const restStatuses = new Set([...restText.matchAll(/Q_ERR\((\w+)\)/g)].map((m) => m[1]));
const detailInGlue = (name) => (CODEC_GLUE ? inGlue.detail.has(name) : !REST_GLUE || restDetails.has(name));
const statusInGlue = (name) => (CODEC_GLUE ? inGlue.status.has(name) : !REST_GLUE || restStatuses.has(name));

test('the C tables were read (guards the parsing below)', () => {
  assert.equal(STATUS[0][0], 'OK');
  assert.equal(STATUS.at(-1)[0], 'INTERNAL');
  assert.ok(STATUS.length > 40 && DETAIL.length > 100, `${STATUS.length} statuses, ${DETAIL.length} details`);
});

test(`every status of Q_STATUS_TABLE ${CODEC_GLUE ? 'the codec sources use ' : REST_GLUE ? 'the REST sources use ' : ''}has its C message in the glue`, () => {
  if (CODEC_GLUE) assert.ok(inGlue.status.size > 20 && inGlue.status.has('JSON_SYNTAX'), [...inGlue.status].join());
  assert.ok(restStatuses.size > 30 && restStatuses.has('INVALID_URL') && !restStatuses.has('ERROR_FRAME'), [...restStatuses].join());
  for (const [name, msg] of STATUS) if (statusInGlue(name)) assert.equal(text(`\x01${name}\x02`), msg, name);
});

test('a status named by its row, as the codec module names them, reads as its message and its name is at that row', () => {
  const codecStatuses = used('Q_ERR');
  assert.ok(codecStatuses.has('JSON_SYNTAX') && codecStatuses.has('INTERNAL') && !codecStatuses.has('INVALID_URL'), [...codecStatuses].join());
  STATUS.forEach(([name, msg], row) => {
    if (codecStatuses.has(name)) assert.equal(text(`meta: \x01${row}\x02 at byte 1`), `meta: ${msg} at byte 1`, name);
  });
});

test(`every detail of Q_DETAIL_TABLE ${CODEC_GLUE ? 'the codec sources use ' : REST_GLUE ? 'the REST sources use ' : ''}has its C text in the glue, at its id`, () => {
  if (CODEC_GLUE) assert.ok(inGlue.detail.size > 40 && inGlue.detail.has('LEADING_ZERO'), [...inGlue.detail].join());
  assert.ok(restDetails.size > 100 && restDetails.has('CREDENTIALS_IN_URLS_ARE_NOT_ALLOWED') && !restDetails.has('OPEN_NEEDS_4_ENTROPY_BYTES'), [...restDetails].join());
  DETAIL.forEach(([name, msg], i) => {
    if (detailInGlue(name)) assert.equal(text(`x (\x03${i + 1}\x02)`), `x (${msg})`, name);
  });
});

test('the REST glue leaves out the WebSocket and TLS texts: such a detail reads as its id, a status as its name', { skip: !REST_GLUE }, () => {
  const left = DETAIL.map(([name], i) => [name, i + 1]).filter(([name]) => !restDetails.has(name));
  assert.ok(left.some(([name]) => name === 'OPEN_NEEDS_4_ENTROPY_BYTES'), left.join());
  for (const [name, id] of left) assert.equal(text(`x (\x03${id}\x02)`), `x (detail ${id})`, name);
  const gone = STATUS.filter(([name]) => !restStatuses.has(name));
  assert.ok(gone.some(([name]) => name === 'CERT_EXPIRED'), gone.join());
  for (const [name] of gone) assert.equal(text(`\x01${name}\x02`), name, name);
});

test('a status or detail the glue does not know still reads clearly', () => {
  assert.equal(text('meta: \x01SOME_NEW_CODE\x02 at byte 4'), 'meta: SOME_NEW_CODE at byte 4');
  assert.equal(text(`\x01JSON_SYNTAX\x02 (\x03${DETAIL.length + 1}\x02)`), `invalid JSON syntax (detail ${DETAIL.length + 1})`);
  // cut short by the record's length limit
  assert.equal(text('a.b: \x01JSON_SYN'), 'a.b: JSON_SYN');
  // plain text and other fields pass unchanged
  assert.equal(text('HTTP 503 without an envelope (text/html, 12 bytes)'), 'HTTP 503 without an envelope (text/html, 12 bytes)');
  assert.equal(new QollectiveError({ code: 'X' }).message, 'X');
});

test('the codec module keeps the code of every status its sources return (Q_CODEC_STATUS_ in src/error.c)', async () => {
  const listed = new Set([...(await read('src/error.c')).matchAll(/#define Q_CODEC_STATUS_(\w+)\s/g)].map((m) => m[1]));
  const returned = [...used('Q_ERR')].filter((n) => STATUS.some((r) => r[0] === n));
  assert.ok(returned.length > 20, returned.join());
  for (const n of returned) assert.ok(listed.has(n), `${n} is returned by a codec source but not in the codec's status list`);
});

test('the REST module keeps the code of every status its sources return (Q_REST_DROPS_ in src/error.c)', async () => {
  const dropped = [...(await read('src/error.c')).matchAll(/#define Q_REST_DROPS_(\w+)\s/g)].map((m) => m[1]);
  assert.ok(dropped.includes('ERROR_FRAME') && dropped.includes('CERT_EXPIRED'), dropped.join());
  for (const n of dropped) {
    assert.ok(STATUS.some((r) => r[0] === n), `${n} is not a status`);
    assert.ok(!restStatuses.has(n), `${n} is returned by a REST-module source but its code is left out of that module`);
  }
});

test('the wasm modules carry no message text', async () => {
  const modules = (await read('size-budget.txt')).split('\n').map((l) => l.split(/\s+/)[0]).filter((p) => p.endsWith('.wasm'));
  assert.ok(modules.length >= 2, modules.join());
  const texts = [...STATUS.slice(1).map((r) => r[1]), ...DETAIL.map((r) => r[1])].filter((t) => t.length >= 16);
  for (const m of modules) {
    const bin = (await readFile(new URL(m, root))).toString('latin1');
    for (const t of texts) assert.ok(!bin.includes(t), `${m} contains "${t}"`);
  }
});

test(`errors from the ${MODULE} module read as whole messages with path and offset`, async () => {
  const q = await Qollective.load(WASM);
  const cases = [
    [() => q.decode('{"meta":{},"payload":[01]}'), 'invalid number (leading zero) at byte 23', 23, ''],
    [() => q.decode('{"meta":{"request_id":"x"},"payload":1}'), 'meta.request_id: not a UUID at byte 22', 22, 'meta.request_id'],
    [() => q.decode('{"meta":{},"payload":1e999}'), 'number out of range (exceeds a 64-bit float) at byte 21', 21, ''],
    [() => q.validateJson('{"a":1,}'), 'invalid JSON syntax (expected a string key) at byte 7', 7, ''],
    [() => q.encodeMany([{ meta: {}, payload: 1 }, { meta: { tenant: 5 }, payload: 1 }]), 'batch[1]: meta.tenant: wrong type (expected a string) at byte 10', 10, 'batch[1].meta.tenant'],
  ];
  for (const [call, message, offset, path] of cases) {
    assert.throws(call, (e) => {
      assert.ok(e instanceof QollectiveError);
      assert.equal(e.message, message);
      assert.equal(e.offset, offset);
      assert.equal(e.path, path);
      assert.doesNotMatch(e.message, /[\x00-\x1f]/);
      return true;
    });
  }
});
