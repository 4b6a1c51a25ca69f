// Vectors transcribed from upstream's own tests and serde attributes (jocax/qollective,
// software/src and software/tests), one per line in tests/vectors/upstream-envelopes.jsonl,
// checked against the real modules (tests/js/module.mjs).
//
// A vector is {name, source, kind: decode|encode, input, expect, note?, expectedFailure?, skip?}.
//   decode: input is the wire text; expect.ok → decode succeeds and re-encoding what was decoded
//           gives expect.canonical (the bytes Rust's serde writes for the same value) or, where Rust
//           writes HashMap entries in random order, deep-equals expect.canonicalJson; optional
//           expect.errorStatus / expect.requestId / expect.error (subset of the error object).
//           !expect.ok → decode throws a QollectiveError with expect.code and expect.path
//           (expect.serde is the message upstream's serde gives, for reference only).
//   encode: input is {meta, payload, error} for q.encode(); same expectations on the output.
//   expectedFailure: we differ from upstream today (reason names the discrepancy). Such a vector
//           also carries `ours`, an expectation of the same shape as `expect` giving our exact
//           outcome (our error code and path, or the bytes we write). The test asserts upstream's
//           expectation fails with an assertion (not a crash) AND ours holds exactly; when a fix
//           makes upstream's pass, this test fails: delete the flag and `ours`.
//   skip:   not applicable to the core yet (reason given).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WASM, GLUE } from './module.mjs';

const { Qollective, QollectiveError } = await import(GLUE);

const q = await Qollective.load(WASM);
const te = new TextEncoder(), td = new TextDecoder();
const VECTORS = readFileSync(new URL('../vectors/upstream-envelopes.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

// ---- raw core calls (include/qollective.h), so meta is re-encoded from its exact wire text:
// going through JSON.parse would respell numbers (45.0 -> 45, u64 max -> 18446744073709552000).
const RECORD_WORDS = 14;   // QD_META_OFF .. QD_META_NEEDS_TAPE
function coreCall(parts, call) {
  const bytes = parts.map((p) => te.encode(p));
  const total = bytes.reduce((n, b) => n + b.length, 0);
  const ptr = q.x.q_buffer(total);
  assert.ok(ptr, 'q_buffer');
  let at = ptr;
  for (const b of bytes) { new Uint8Array(q.x.memory.buffer, at, b.length).set(b); at += b.length; }
  const rc = call(...bytes.map((b) => b.length));
  q._check(rc);   // throws the core's error record as a QollectiveError
  return new Uint8Array(q.x.memory.buffer, q.x.q_output_ptr(), q.x.q_output_len()).slice();
}
/** decode → encode of the decoded spans (meta, payload, error), as text. */
function reencode(input) {
  const rec = new Int32Array(coreCall([input], (n) => q.x.q_envelope_decode(n, -1)).buffer, 0, RECORD_WORDS);
  const inBytes = te.encode(input);
  const span = (off, len) => td.decode(inBytes.subarray(off, off + len));
  const out = coreCall([span(rec[0], rec[1]), span(rec[2], rec[3]), rec[5] ? span(rec[4], rec[5]) : ''],
    (m, p, e) => q.x.q_envelope_encode(m, p, e, 0, 0, -1));
  return td.decode(out);
}

function checkOutput(text, expect) {
  if ('canonical' in expect) assert.equal(text, expect.canonical);
  if ('canonicalJson' in expect) assert.deepEqual(JSON.parse(text), expect.canonicalJson);
}

function run(v) {
  if (v.kind === 'decode') {
    if (!v.expect.ok) {
      assert.throws(() => q.decode(v.input), (err) => {
        assert.ok(err instanceof QollectiveError, `expected a QollectiveError, got ${err}`);
        assert.ok(v.expect.code, `${v.name}: a rejecting vector names its code`);
        assert.equal(err.code, v.expect.code, err.message);
        if (v.expect.path !== undefined) assert.equal(err.path, v.expect.path, err.message);
        return true;
      });
      return;
    }
    const env = q.decode(v.input);
    if ('errorStatus' in v.expect) assert.equal(env.errorStatus, v.expect.errorStatus);
    if ('requestId' in v.expect) assert.equal(env.requestId, v.expect.requestId);
    if (v.expect.error) for (const [k, val] of Object.entries(v.expect.error)) assert.deepEqual(env.error[k], val);
    checkOutput(reencode(v.input), v.expect);
    return;
  }
  if (v.kind === 'encode') {
    if (!v.expect.ok) {
      assert.throws(() => q.encode(v.input), (err) => {
        assert.ok(err instanceof QollectiveError, `expected a QollectiveError, got ${err}`);
        assert.ok(v.expect.code, `${v.name}: a rejecting vector names its code`);
        assert.equal(err.code, v.expect.code, err.message);
        if (v.expect.path !== undefined) assert.equal(err.path, v.expect.path, err.message);
        return true;
      });
      return;
    }
    const text = td.decode(q.encode(v.input));
    checkOutput(text, v.expect);
    // what we write, we read back
    checkOutput(reencode(text), v.expect);
    return;
  }
  throw new Error(`unknown kind ${v.kind}`);
}

test('the vector file is well formed', () => {
  assert.ok(VECTORS.length >= 100);
  const names = new Set();
  for (const v of VECTORS) {
    assert.ok(v.name && v.source && v.kind && v.expect, JSON.stringify(v).slice(0, 80));
    assert.ok(!names.has(v.name), `duplicate name ${v.name}`);
    names.add(v.name);
  }
});

for (const v of VECTORS) {
  const title = `${v.name} [${v.source.split(' ')[0]}]`;
  if (v.skip) { test(title, { skip: v.skip }, () => {}); continue; }
  if (v.expectedFailure) {
    test(`${title} (expected failure)`, (t) => {
      assert.ok(v.ours && typeof v.ours.ok === 'boolean', `${v.name}: an expected failure documents our outcome in "ours"`);
      let failure;
      try { run(v); } catch (e) { failure = e; }
      assert.ok(failure, `now passes — remove "expectedFailure" and "ours" from ${v.name} (${v.expectedFailure})`);
      // it fails the documented way: an unmet assertion, or our documented rejection — never a crash
      const documented = failure instanceof assert.AssertionError ||
        (failure instanceof QollectiveError && !v.ours.ok && failure.code === v.ours.code && failure.path === v.ours.path);
      assert.ok(documented, `upstream's expectation fails for an undocumented reason: ${failure?.name}: ${failure?.message}`);
      run({ ...v, expect: v.ours });   // exactly what we do instead
      t.diagnostic(`${v.expectedFailure} | ours: ${JSON.stringify(v.ours).slice(0, 300)}`);
    });
    continue;
  }
  test(title, () => run(v));
}
