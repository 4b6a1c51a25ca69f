// The real dist/qollective-tls.wasm through the glue: certificate inspection and checks
// compared with Node's own X509Certificate, signatures checked by Node's crypto, keys gone
// from linear memory after close(), the compiled-in credentials (make CERTS=dir), and a clear
// error from the plain client module. Certificates: scripts/gen-test-pki.sh (build/pki).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, verify, createHash, createHmac } from 'node:crypto';
import { Qollective, QollectiveError } from '../../js-glue/qollective.js';

const root = new URL('../../', import.meta.url);
execFileSync('bash', [new URL('scripts/gen-test-pki.sh', root).pathname, new URL('build/pki', root).pathname]);
const pki = (f) => readFileSync(new URL(`build/pki/${f}`, root), 'utf8');
const q = await Qollective.load(new URL('dist/qollective-tls.wasm', root));
const NOW = Date.parse('2027-06-01T00:00:00Z');   // inside the generated certificates' validity

test('inspection agrees with Node X509Certificate on every generated certificate', () => {
  for (const f of ['ca.pem', 'server.pem', 'client.pem', 'client-rsa.pem', 'expired.pem', 'future.pem', 'wildcard.pem', 'other-client.pem']) {
    const pem = pki(f), x = new X509Certificate(pem), r = q.inspectCertificate(pem, { now: NOW });
    assert.equal(r.fingerprint256, x.fingerprint256, f);
    assert.equal(r.serial, x.serialNumber.replace(/^0+(?=.)/, '').padStart(r.serial.length, '0'), f);
    assert.equal(r.subject, x.subject.split('\n').join(', '), f);
    assert.equal(r.issuer, x.issuer.split('\n').join(', '), f);
    assert.equal(Date.parse(r.notBefore), Date.parse(x.validFrom), f);
    assert.equal(Date.parse(r.notAfter), Date.parse(x.validTo), f);
    assert.equal(r.isCA, x.ca, f);
    const kind = x.publicKey.asymmetricKeyType;
    assert.equal(r.keyType, kind === 'ec' ? 'EC' : 'RSA', f);
    assert.equal(r.keyBits, kind === 'ec' ? 256 : x.publicKey.asymmetricKeyDetails.modulusLength, f);
    const sans = (x.subjectAltName || '').split(', ').filter(Boolean).map((s) => s.replace(/^DNS:/, 'dns:').replace(/^IP Address:/, 'ip:'));
    const ours = r.sans.map((s) => `${s.type}:${s.value}`);
    assert.deepEqual(ours.map(ipWords), sans.map(ipWords), f);
    // DER in, same record out
    assert.deepEqual(q.inspectCertificate(new Uint8Array(x.raw), { now: NOW }), r, f);
  }
});

// Node prints IPv6 SANs as 0:0:0:0:0:0:0:1, we print RFC 5952 (::1): compare the numbers.
function ipWords(san) {
  if (!san.startsWith('ip:') || !san.slice(3).includes(':')) return san;
  const [head, tail] = san.slice(3).split('::'), h = head ? head.split(':') : [], t = tail !== undefined && tail ? tail.split(':') : [];
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return 'ip6:' + words.map((w) => parseInt(w, 16)).join(',');
}

test('IPv6 SANs are written in RFC 5952 form', () => {
  const sans = q.inspectCertificate(pki('server.pem'), { now: NOW }).sans;
  assert.deepEqual(sans.at(-1), { type: 'ip', value: '::1' });
});

test('host matching, validity, refresh warning and chain check in the record', () => {
  const c = q.client({});
  c.setCredentials({ ca: pki('ca.pem') });
  const s = q.inspectCertificate(pki('server.pem'), { host: 'localhost', client: c, now: NOW });
  assert.equal(s.hostMatch, true);
  assert.equal(s.trusted, true);
  assert.equal(s.validity, 'valid');
  assert.equal(s.refreshDue, false);
  const notAfter = Date.parse(s.notAfter);
  assert.equal(s.expiresInMs, notAfter - NOW);
  assert.equal(q.inspectCertificate(pki('server.pem'), { now: notAfter - 86400000, refreshMs: 7 * 86400000 }).refreshDue, true);
  assert.equal(q.inspectCertificate(pki('server.pem'), { now: notAfter - 8 * 86400000, refreshMs: 7 * 86400000 }).refreshDue, false);
  assert.equal(q.inspectCertificate(pki('server.pem'), { host: 'example.com', now: NOW }).hostMatch, false);
  const other = q.inspectCertificate(pki('other-client.pem'), { client: c, now: NOW });
  assert.equal(other.trusted, false);
  assert.equal(other.trustError.code, 'CERT_UNTRUSTED');
  assert.equal(other.trustError.message, 'not issued by the configured CA');
  const old = q.inspectCertificate(pki('expired.pem'), { client: c, now: NOW });
  assert.equal(old.validity, 'expired');
  assert.equal(old.trustError.code, 'CERT_EXPIRED');
  assert.equal(old.trustError.message, 'a certificate in the chain has expired');
  assert.equal(q.inspectCertificate(pki('future.pem'), { now: NOW }).validity, 'not_yet_valid');
  c.close();
});

test('each bad input gets its named error', () => {
  const c = q.client({});
  c.setCredentials({ ca: pki('ca.pem') });
  const server = pki('server.pem');
  const der = new Uint8Array(new X509Certificate(server).raw);
  const cases = [
    [server, { host: 'example.com' }, 'CERT_WRONG_HOST'],
    [server, { host: '127.0.0.2' }, 'CERT_WRONG_HOST'],
    [pki('expired.pem'), {}, 'CERT_EXPIRED'],
    [pki('future.pem'), {}, 'CERT_NOT_YET_VALID'],
    [pki('other-client.pem'), {}, 'CERT_UNTRUSTED'],
    [pki('client.key'), {}, 'CERT_WRONG_TYPE'],
    [server.slice(0, server.length / 2), {}, 'CERT_TRUNCATED'],
    [der.subarray(0, der.length - 20), {}, 'CERT_TRUNCATED'],
    [server.replace(/\n(.)/, '\n!'), {}, 'CERT_BAD_PEM'],
    ['not a certificate at all', {}, 'CERT_BAD_PEM'],
    [Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), {}, 'CERT_BAD_DER'],
  ];
  for (const [cert, o, code] of cases) {
    assert.throws(() => q.checkCertificate(cert, { client: c, now: NOW, ...o }), (e) => e instanceof QollectiveError && e.code === code, code);
  }
  q.checkCertificate(server, { client: c, host: 'localhost', now: NOW });
  q.checkCertificate(server, { client: c, host: '::1', now: NOW });
  c.close();
});

test('signatures verify with Node crypto; digests and HMAC match Node', () => {
  const c = q.client({});
  c.setCredentials({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') });
  const data = Buffer.from('POST /envelope\ncontent-digest: sha-256=:x:');
  const sig = c.sign(data);
  assert.equal(sig.length, 64);
  assert.ok(verify('sha256', data, { key: createPublicKey(pki('client.pem')), dsaEncoding: 'ieee-p1363' }, sig));
  assert.ok(!verify('sha256', Buffer.from('tampered'), { key: createPublicKey(pki('client.pem')), dsaEncoding: 'ieee-p1363' }, sig));
  c.setCredentials({ cert: pki('client-rsa.pem'), key: pki('client-rsa.key') });
  const rsa = c.sign(data);
  assert.equal(rsa.length, 256);
  assert.ok(verify('sha256', data, createPublicKey(pki('client-rsa.pem')), rsa));
  assert.deepEqual(Buffer.from(c.certificate()), new X509Certificate(pki('client-rsa.pem')).raw);
  assert.throws(() => c.setCredentials({ cert: pki('client.pem'), key: pki('client-rsa.key') }), (e) => e.code === 'KEY_INVALID');
  assert.throws(() => c.setCredentials({ cert: pki('client.pem'), key: 'not a key' }), (e) => e.code === 'KEY_INVALID');
  c.close();
  for (const s of ['', 'abc', 'x'.repeat(100000)]) assert.equal(Buffer.from(q.sha256(s)).toString('hex'), createHash('sha256').update(s).digest('hex'));
  assert.equal(Buffer.from(q.hmacSha256('key', 'msg')).toString('hex'), createHmac('sha256', 'key').update('msg').digest('hex'));
});

// The bytes of a private key in every form they could take in linear memory: the PEM text,
// the DER, and the secret scalar / exponent big-endian and as little-endian 32-bit limbs.
function keyForms(pem) {
  const k = createPrivateKey(pem), forms = [Buffer.from(pem.split('\n')[1])];
  const jwk = k.export({ format: 'jwk' });
  for (const part of jwk.kty === 'EC' ? ['d'] : ['d', 'p', 'q']) {
    const be = Buffer.from(jwk[part], 'base64url');
    forms.push(be.subarray(0, 24), Buffer.from(be).reverse().subarray(0, 24));
  }
  return forms;
}
const memHas = (q, needle) => Buffer.from(q.x.memory.buffer).indexOf(needle) >= 0;

test('a client key is parsed out of the input buffer and wiped from linear memory by close()', async () => {
  for (const name of ['client', 'client-rsa']) {
    const own = await Qollective.load(new URL('dist/qollective-tls.wasm', root));
    const key = pki(`${name}.key`), [pemLine, ...scalars] = keyForms(key);
    const c = own.client({});
    c.setCredentials({ cert: pki(`${name}.pem`), key });
    c.sign('warm up');
    assert.ok(!memHas(own, pemLine), `${name}: the PEM text stays nowhere`);
    assert.ok(scalars.some((s) => memHas(own, s)), `${name}: the parsed key is in memory while the client lives (the scan can see it)`);
    c.close();
    for (const s of scalars) assert.ok(!memHas(own, s), `${name}: key bytes left after close()`);
  }
});

test('replacing credentials wipes the previous key', async () => {
  const own = await Qollective.load(new URL('dist/qollective-tls.wasm', root));
  const [, ...scalars] = keyForms(pki('client.key'));
  const c = own.client({});
  c.setCredentials({ cert: pki('client.pem'), key: pki('client.key') });
  assert.ok(scalars.some((s) => memHas(own, s)));
  c.setCredentials({ cert: pki('client-rsa.pem'), key: pki('client-rsa.key') });
  for (const s of scalars) assert.ok(!memHas(own, s));
  c.close();
});

test('compiled-in credentials (make CERTS=build/pki/bundle) sign and check until the key is wiped', async () => {
  const own = await Qollective.load(new URL('build/tls/test-bundle/qollective-tls.wasm', root));
  assert.deepEqual(own.embeddedCredentials(), { ca: true, cert: true, key: true });
  const c = own.client({});
  const sig = c.sign('hello');
  assert.ok(verify('sha256', Buffer.from('hello'), { key: createPublicKey(pki('client.pem')), dsaEncoding: 'ieee-p1363' }, sig));
  assert.deepEqual(Buffer.from(c.certificate()), new X509Certificate(pki('client.pem')).raw);
  own.checkCertificate(pki('server.pem'), { host: 'localhost', now: NOW });   // the embedded CA
  assert.throws(() => own.checkCertificate(pki('other-client.pem'), { now: NOW }), (e) => e.code === 'CERT_UNTRUSTED');
  const pemLine = Buffer.from(pki('client.key').split('\n')[1]);
  assert.ok(memHas(own, pemLine));
  own.wipeEmbeddedKey();
  assert.ok(!memHas(own, pemLine));
  assert.deepEqual(own.embeddedCredentials(), { ca: true, cert: true, key: false });
  assert.throws(() => c.sign('hello'), (e) => e.code === 'TLS_NO_CREDENTIALS');
  c.close();
});

test('the plain client module says TLS is unavailable', async () => {
  const plain = await Qollective.load(new URL('dist/qollective.wasm', root));
  assert.equal(plain.hasTls, false);
  assert.equal(q.hasTls, true);
  assert.throws(() => plain.inspectCertificate(pki('server.pem')), (e) => e instanceof QollectiveError && e.code === 'TLS_UNAVAILABLE');
  const c = plain.client({});
  assert.throws(() => c.setCredentials({ ca: pki('ca.pem') }), (e) => e.code === 'TLS_UNAVAILABLE');
  c.close();
});

test('memory stays flat over many inspections and signatures', () => {
  const c = q.client({});
  c.setCredentials({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') });
  for (let i = 0; i < 10; i++) { q.inspectCertificate(pki('server.pem'), { client: c, now: NOW }); c.sign('x'); }
  const before = q.memoryStats();
  for (let i = 0; i < 60; i++) { q.inspectCertificate(pki('server.pem'), { client: c, now: NOW }); c.sign('x'); }
  const after = q.memoryStats();
  assert.equal(after.persistent, before.persistent);
  assert.equal(after.footprint, before.footprint);
  c.close();
});
