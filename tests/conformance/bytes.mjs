// Byte helpers shared by the conformance suites.

/** JSON's four whitespace bytes (RFC 8259). */
export const isWs = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The bytes without surrounding JSON whitespace (a view, not a copy). */
export function trimWs(b) {
  let s = 0, e = b.length;
  while (s < e && isWs(b[s])) s++;
  while (e > s && isWs(b[e - 1])) e--;
  return b.subarray(s, e);
}
