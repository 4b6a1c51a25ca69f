// Memory scans for secrets, shared by the secret suites: how often a canary's bytes occur in the
// whole wasm linear memory and in every byte array the glue's objects reach.

/** Non-overlapping occurrences of needle in bytes. */
export function count(bytes, needle) {
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Every byte array reachable from the given objects through own properties (not the wasm memory itself). */
export function glueBuffers(roots, memory) {
  const seen = new Set(), out = [];
  const walk = (v, depth) => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 6) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) { if (v.buffer !== memory.buffer) out.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
    if (v instanceof ArrayBuffer) { if (v !== memory.buffer) out.push(new Uint8Array(v)); return; }
    if (v instanceof WebAssembly.Memory || v instanceof AbortSignal) return;
    const values = v instanceof Map || v instanceof Set ? [...v.values(), ...(v instanceof Map ? v.keys() : [])] : Object.values(v);
    for (const x of values) walk(x, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

/** Where the secret is: occurrences in the wasm memory and in the glue's buffers. */
export function find(q, roots, secret) {
  const needle = Buffer.from(secret);
  return {
    wasm: count(new Uint8Array(q.x.memory.buffer), needle),
    glue: glueBuffers([q, ...roots], q.x.memory).reduce((n, b) => n + count(b, needle), 0),
  };
}

export const canary = (what) => `c4nary-${what}-${Math.random().toString(36).slice(2)}`;
