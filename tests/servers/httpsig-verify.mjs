// RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest, the verifier side, written from
// the RFCs with Node's crypto only (independent of the client's C implementation): parses
// Signature-Input / Signature, rebuilds the signature base (§2.5) from the request as received,
// checks Content-Digest against the body, the `created` window and the signature.
import { createHash, createPublicKey, verify } from 'node:crypto';

/** What the client must cover (RFC 9421 §1.4: the verifier decides what it requires). */
export const REQUIRED = ['@method', '@target-uri', 'x-qollective-request-id'];

/** Parses `label=("a" "b");created=1;keyid="k";alg="x"` (the subset of RFC 8941 RFC 9421 uses). */
export function parseSignatureInput(value) {
  const m = /^([a-z*][a-z0-9_\-.*]*)=\(([^)]*)\)((?:;[a-z*][a-z0-9_\-.*]*=(?:"(?:[^"\\]|\\.)*"|-?\d+))*)$/.exec(value ?? '');
  if (!m) return null;
  const components = m[2] === '' ? [] : m[2].split(' ').map((s) => (/^"[^"]*"$/.test(s) ? s.slice(1, -1) : null));
  if (components.includes(null)) return null;
  const params = {};
  for (const p of m[3].matchAll(/;([a-z*][a-z0-9_\-.*]*)=("(?:[^"\\]|\\.)*"|-?\d+)/g)) {
    params[p[1]] = p[2].startsWith('"') ? p[2].slice(1, -1).replace(/\\(.)/g, '$1') : Number(p[2]);
  }
  return { label: m[1], components, params, paramsText: value.slice(m[1].length + 1) };
}

/** `label=:<base64>:` → {label, bytes} */
function parseByteSequence(value) {
  const m = /^([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9+/]*={0,2}):$/.exec(value ?? '');
  return m ? { label: m[1], bytes: Buffer.from(m[2], 'base64') } : null;
}

/** The value of one covered component for this request (RFC 9421 §2.1, §2.2). */
function componentValue(name, req) {
  if (name === '@method') return req.method;
  if (name === '@target-uri') return req.targetUri;
  if (name.startsWith('@')) return null;   // no other derived component is accepted here
  const v = req.headers[name];
  return v === undefined ? null : String(v).trim();
}

/** Verifies a request: {method, targetUri, headers (lower-cased), body (Buffer)}. keyFor(keyid, alg)
 * returns the public key (PEM, KeyObject) or null. Returns {ok:true, keyid} or {ok:false, reason}. */
export function verifyRequest(req, { keyFor, windowSec = 300, now = Date.now(), required = REQUIRED }) {
  const input = parseSignatureInput(req.headers['signature-input']);
  if (!input) return { ok: false, reason: 'no or malformed Signature-Input' };
  const sig = parseByteSequence(req.headers.signature);
  if (!sig || sig.label !== input.label) return { ok: false, reason: 'no or malformed Signature' };
  const need = [...required, ...(req.body.length ? ['content-digest'] : [])];
  for (const c of need) if (!input.components.includes(c)) return { ok: false, reason: `${c} is not covered` };
  if (req.body.length || req.headers['content-digest'] !== undefined) {
    const d = /^sha-256=:([A-Za-z0-9+/]*={0,2}):$/.exec(req.headers['content-digest'] ?? '');
    if (!d) return { ok: false, reason: 'no or malformed Content-Digest' };
    if (!createHash('sha256').update(req.body).digest().equals(Buffer.from(d[1], 'base64'))) return { ok: false, reason: 'Content-Digest does not match the body' };
  }
  const { created, keyid, alg } = input.params;
  if (!Number.isInteger(created)) return { ok: false, reason: 'created is missing' };
  if (Math.abs(now / 1000 - created) > windowSec) return { ok: false, reason: `created is outside the ${windowSec} s window` };
  const lines = [];
  for (const c of input.components) {
    const v = componentValue(c, req);
    if (v === null) return { ok: false, reason: `covered component ${c} is absent` };
    lines.push(`"${c}": ${v}\n`);
  }
  const base = Buffer.from(lines.join('') + `"@signature-params": ${input.paramsText}`);
  const pem = keyFor(keyid, alg);
  if (!pem) return { ok: false, reason: 'unknown keyid' };
  const key = createPublicKey(pem);
  let good;
  if (alg === 'ecdsa-p256-sha256') good = key.asymmetricKeyType === 'ec' && verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, sig.bytes);
  else if (alg === 'rsa-v1_5-sha256') good = key.asymmetricKeyType === 'rsa' && verify('sha256', base, key, sig.bytes);
  else return { ok: false, reason: `unsupported alg ${alg}` };
  return good ? { ok: true, keyid } : { ok: false, reason: 'signature does not verify' };
}
