// TLS module benchmark: what the mbedtls options of src/tls/mbedtls_config.h cost in time, for
// A/B work on the TLS increment (issue 12). Through the real dist/qollective-tls.wasm and the
// glue: ECDSA P-256 and RSA-2048 signing (Client.sign), loading credentials (PEM parse + key
// pair check), a chain check (ECDSA P-256 signature verify against the CA) and an RSA-signed
// chain check (RSA-2048 verify), certificate inspection. Medians of interleaved rounds, in
// operations per second. Certificates: scripts/gen-test-pki.sh (build/pki) plus an RSA CA made
// here with openssl in a temporary directory.
//
//   node bench/tls.mjs [--wasm FILE[,FILE...]] [--rounds N] [--round-ms MS]
// Several modules (other builds, for A/B) are measured side by side in interleaved rounds.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Qollective } from '../js-glue/qollective.js';

const root = new URL('../', import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i < 0 ? dflt : argv[i + 1]; };
const WASMS = String(opt('wasm', new URL('dist/qollective-tls.wasm', root).pathname)).split(',');
const ROUNDS = Number(opt('rounds', 5));
const ROUND_MS = Number(opt('round-ms', 300));

execFileSync('bash', [new URL('scripts/gen-test-pki.sh', root).pathname, new URL('build/pki', root).pathname]);
const pki = (f) => readFileSync(new URL(`build/pki/${f}`, root), 'utf8');

// An RSA-2048 CA and a leaf it signed (sha256WithRSAEncryption), for the RSA verify row.
const dir = mkdtempSync(join(tmpdir(), 'qtls-bench-'));
const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Bench RSA CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '3650', '-sha256');
const rsaCa = readFileSync(join(dir, 'ca.pem'), 'utf8'), rsaLeaf = readFileSync(join(dir, 'leaf.pem'), 'utf8');
rmSync(dir, { recursive: true, force: true });

const NOW = Date.parse('2027-06-01T00:00:00Z');
// One instance per module, rounds interleaved across them (A/B on a busy machine).
const setups = [];
for (const file of WASMS) {
  const q = await Qollective.load(readFileSync(file));
  const ec = q.client({}), rsa = q.client({}), rsaChain = q.client({}), scratch = q.client({});
  ec.setCredentials({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') });
  rsa.setCredentials({ cert: pki('client-rsa.pem'), key: pki('client-rsa.key') });
  rsaChain.setCredentials({ ca: rsaCa });
  const cases = {
    'ECDSA P-256 sign': () => ec.sign('benchmark message'),
    'RSA-2048 sign': () => rsa.sign('benchmark message'),
    'load EC credentials': () => scratch.setCredentials({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') }),
    'check cert, ECDSA chain': () => q.checkCertificate(pki('server.pem'), { client: ec, host: 'localhost', now: NOW }),
    'check cert, RSA chain': () => q.checkCertificate(rsaLeaf, { client: rsaChain, now: NOW }),
    'inspect cert': () => q.inspectCertificate(pki('server.pem'), { now: NOW }),
  };
  for (const f of Object.values(cases)) for (let i = 0; i < 3; i++) f();   // warm up
  setups.push({ file, cases, samples: Object.fromEntries(Object.keys(cases).map((k) => [k, []])), clients: [ec, rsa, rsaChain, scratch] });
}
const names = Object.keys(setups[0].cases);
for (let r = 0; r < ROUNDS; r++) {
  for (const name of names) {
    for (const s of setups) {
      const f = s.cases[name];
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < ROUND_MS) { f(); n++; t = performance.now(); }
      s.samples[name].push((n * 1000) / (t - t0));
    }
  }
}
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
console.log(`ops/s, median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms`);
console.log(`${''.padEnd(26)}${setups.map((s, i) => `  [${i}]`.padStart(12)).join('')}`);
for (const name of names) console.log(`${name.padEnd(26)}${setups.map((s) => median(s.samples[name]).toFixed(1).padStart(12)).join('')}`);
setups.forEach((s, i) => console.log(`[${i}] ${s.file} (${readFileSync(s.file).length} bytes)`));
for (const s of setups) for (const c of s.clients) c.close();
