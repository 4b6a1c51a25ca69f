// Secrets in the core's own memory (issue 9 item 6, C side): the real .wasm driven through its raw
// exports — no glue wipes in between — and the whole linear memory scanned for canary secrets.
// The core keeps a credential only where it must (the token store, the client's rest.headers) and
// nowhere else: not in the input buffer (config, per-call headers), not in scratch after the next
// call (the plan with Authorization and every header), not in a buffer that moved when it grew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const bytes = await readFile(new URL('../../dist/qollective.wasm', import.meta.url));
const enc = new TextEncoder();

async function core() {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const x = instance.exports;
  assert.equal(x.q_init(0), 0);
  const mem = () => new Uint8Array(x.memory.buffer);
  const input = (...parts) => {
    const all = parts.map((p) => enc.encode(p));
    const ptr = x.q_buffer(all.reduce((n, b) => n + b.length, 0));
    let at = ptr;
    for (const b of all) { mem().set(b, at); at += b.length; }
    return all.map((b) => b.length);
  };
  const count = (secret) => {
    const hay = Buffer.from(x.memory.buffer), needle = Buffer.from(secret);
    let n = 0;
    for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
    return n;
  };
  const out = () => Buffer.from(x.memory.buffer, x.q_output_ptr(), x.q_output_len()).toString();
  return { x, input, count, out };
}

const canary = (what) => `c4nary-${what}-${Math.random().toString(36).slice(2)}`;

test('config headers, per-call headers and the token: only the core\'s own copies stay', async () => {
  const { x, input, count, out } = await core();
  const key = canary('config'), call = canary('call'), token = canary('token');
  const [n] = input(JSON.stringify({ rest: { base_url: 'http://127.0.0.1:9', headers: { 'X-Api-Key': key } }, security: { auth_token: 'api' } }));
  const h = x.q_client_new(n);
  assert.ok(h >= 0);
  assert.equal(count(key), 1, 'rest.headers: the client\'s copy only (the input buffer is wiped)');
  const [tn, tv] = input('api', token);
  assert.equal(x.q_token_set(h, tn, tv, 0, Date.now()), 0);
  assert.equal(count(token), 1, 'the token: the store only');
  for (let i = 0; i < 3; i++) {
    x.q_entropy(20);
    const [m, p, o] = input('{}', '1', JSON.stringify({ headers: { 'X-Call': call } }));
    const len = x.q_rest_prepare(h, m, p, o, Date.now());
    assert.ok(len > 0, out());
    const plan = JSON.parse(out().slice(0, len));
    assert.ok(plan.headers.some(([k, v]) => k === 'Authorization' && v === `Bearer ${token}`));
    assert.ok(plan.headers.some(([k, v]) => k === 'X-Call' && v === call));
    // while the host reads the plan, scratch holds it (and the core's working copies): all of it
    // is wiped when the next call begins; the input buffer no longer has the options
    assert.ok(count(call) >= 1);
    assert.ok(x.q_rest_failure(h, plan.id, 3, Date.now()) > 0);   // aborted: the next call wipes scratch first
    assert.equal(count(call), 0, 'after the next call: nowhere');
    assert.equal(count(key), 1);
    assert.equal(count(token), 1);
  }
  const [cn] = input('api');
  assert.equal(x.q_token_clear(h, cn), 1);
  assert.equal(count(token), 0, 'after clearToken');
  assert.equal(x.q_client_free(h), 0);
  assert.equal(count(key), 0, 'after close');
});

test('a buffer that moves when it grows leaves no copy behind', async () => {
  const { x, input, count } = await core();
  const secret = canary('grow');
  input('-'.repeat(64), secret);      // the secret in a small input buffer (past the free-list header)
  assert.ok(x.q_entropy(4096));        // a block right after it: growing cannot happen in place
  assert.equal(count(secret), 1);
  const big = x.q_buffer(1 << 20);     // a much bigger one: the block moves, its bytes are kept
  assert.ok(big);
  assert.equal(count(secret), 1, 'the old block was wiped when it moved');
});

test('without a token too: a per-call API key is gone from scratch after the next call', async () => {
  const { x, input, count } = await core();
  const call = canary('call-no-token');
  const [n] = input(JSON.stringify({ rest: { base_url: 'http://127.0.0.1:9' } }));
  const h = x.q_client_new(n);
  x.q_entropy(20);
  const [m, p, o] = input('{}', '1', JSON.stringify({ headers: { 'X-Api-Key': call } }));
  const len = x.q_rest_prepare(h, m, p, o, Date.now());
  assert.ok(len > 0);
  const id = JSON.parse(Buffer.from(x.memory.buffer, x.q_output_ptr(), len).toString()).id;
  assert.ok(x.q_rest_failure(h, id, 3, Date.now()) > 0);
  assert.equal(count(call), 0);
  x.q_client_free(h);
});
