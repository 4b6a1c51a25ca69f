#!/usr/bin/env node
// Top size contributors of a wasm module by function body and data segment, read from the
// name section of an unstripped build (a small twiggy-like table). Usage: size-profile.mjs FILE [N]
// N = tsv prints every item as kind<TAB>name<TAB>bytes instead (for scripts).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] || 30);
const b = readFileSync(file);
let p = 8;
const leb = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
const names = new Map(), dataNames = new Map();
let imports = 0, codeBodies = [], dataSegs = [], sections = [];
while (p < b.length) {
  const id = b[p++], size = leb(), start = p, end = p + size;
  let label = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'][id];
  if (id === 0) {
    const nl = leb(); const name = b.subarray(p, p + nl).toString(); p += nl; label = `custom "${name}"`;
    if (name === 'name') {
      while (p < end) {
        const sub = b[p++], ssize = leb(), send = p + ssize;
        if (sub === 1 || sub === 9) {
          const n = leb();
          for (let i = 0; i < n; i++) { const idx = leb(), l = leb(); (sub === 1 ? names : dataNames).set(idx, b.subarray(p, p + l).toString()); p += l; }
        }
        p = send;
      }
    }
  } else if (id === 2) {
    const n = leb();
    for (let i = 0; i < n; i++) { let l = leb(); p += l; l = leb(); p += l; const kind = b[p++]; if (kind === 0) { imports++; leb(); } else if (kind === 1) { p++; const f = b[p++]; leb(); if (f & 1) leb(); } else if (kind === 2) { const f = b[p++]; leb(); if (f & 1) leb(); } else { p += 2; } }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; i++) { const s = leb(); codeBodies.push({ index: imports + i, size: s }); p += s; }
  } else if (id === 11) {
    const n = leb();
    for (let i = 0; i < n; i++) {
      const segStart = p, flags = leb();
      if (flags === 2) leb();
      if (flags !== 1) { while (b[p] !== 0x0b) p++; p++; }
      const l = leb(); p += l;
      dataSegs.push({ index: i, size: p - segStart });
    }
  }
  sections.push({ label, size: size + 1 + (end - start > 127 ? 2 : 1) });
  p = end;
}
const total = b.length;
const rows = [
  ...codeBodies.map(c => ({ name: names.get(c.index) || `func[${c.index}]`, kind: 'code', size: c.size })),
  ...dataSegs.map(d => ({ name: dataNames.get(d.index) || `data[${d.index}]`, kind: 'data', size: d.size })),
].sort((a, b) => b.size - a.size);
if (process.argv[3] === 'tsv') { for (const r of rows) console.log(`${r.kind}\t${r.name}\t${r.size}`); process.exit(0); }
const pct = n => (100 * n / total).toFixed(1).padStart(5);
console.log(`${file}: ${total} bytes (unstripped; dist/ is stripped)`);
console.log('\nsection                    bytes      %');
for (const s of sections) console.log(`${s.label.padEnd(24)} ${String(s.size).padStart(7)} ${pct(s.size)}`);
console.log(`\ntop ${top} items                               bytes      %   cumulative`);
let cum = 0;
for (const r of rows.slice(0, top)) { cum += r.size; console.log(`${(r.kind + ' ' + r.name).slice(0, 40).padEnd(40)} ${String(r.size).padStart(7)} ${pct(r.size)} ${pct(cum)}`); }
