// Writes the fixtures of the host harness (bench/core-calls.c, `make bench-core`) from the node
// bench's own data (bench/codec-data.mjs), so the harness walks the bytes node/bench/codec.mjs does:
// DIR/NAME.meta, NAME.payload (the encode's inputs) and NAME.env (the envelope a decode reads) for
//   compact-full  the 1 KB row's meta (1K:compact-full), request  the 1K:request row's,
//   full          the 3 KB full meta (fullMeta) with the small payload payloadFor gives it.
//   node bench/core-fixtures.mjs DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { requestMeta, compactFullMeta, fullMeta, payloadFor } from './codec-data.mjs';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/core-fixtures.mjs DIR');
mkdirSync(dir, { recursive: true });
const CASES = { 'compact-full': [compactFullMeta, 1024], request: [requestMeta, 1024], full: [fullMeta, 3072] };
for (const [name, [metaOf, target]] of Object.entries(CASES)) {
  const meta = metaOf();
  const payload = payloadFor(meta, target);
  writeFileSync(`${dir}/${name}.meta`, JSON.stringify(meta));
  writeFileSync(`${dir}/${name}.payload`, JSON.stringify(payload));
  writeFileSync(`${dir}/${name}.env`, JSON.stringify({ meta, payload }));
}
