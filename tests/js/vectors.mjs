// Reads tests/vectors/*.tsv (code, offset, path, %HH-escaped input) for the node suites.
import { readFileSync } from 'node:fs';

export function loadVectors(name) {
  const text = readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'latin1');
  const cases = [];
  text.split('\n').forEach((line, i) => {
    if (!line || line.startsWith('#')) return;
    const [code, offset, path, ...rest] = line.split('\t');
    const raw = rest.join('\t');
    const bytes = [];
    for (let k = 0; k < raw.length; k++) {
      if (raw[k] === '%' && k + 2 < raw.length + 1 && /^[0-9A-Fa-f]{2}$/.test(raw.slice(k + 1, k + 3))) { bytes.push(parseInt(raw.slice(k + 1, k + 3), 16)); k += 2; }
      else bytes.push(raw.charCodeAt(k));
    }
    cases.push({ line: i + 1, code, offset: Number(offset), path, input: Uint8Array.from(bytes) });
  });
  return cases;
}
