// After the suites: fails when any process of any suite saw a canary (leaks.log), or when the
// hook did not run in the suites it should have (ran.log lists each process that loaded it).
import { readFileSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';

const DIR = process.env.QOLLECTIVE_CANARY_DIR || 'build/canary';
const want = process.argv.slice(2);            // suite files that must have run under the hook
const read = (f) => (existsSync(join(DIR, f)) ? readFileSync(join(DIR, f), 'utf8').split('\n').filter(Boolean) : []);
const leaks = read('leaks.log'), ran = new Set(read('ran.log').map((p) => basename(p)));
const missing = want.map((p) => basename(p)).filter((p) => !ran.has(p));
if (leaks.length) console.error(`canary: ${leaks.length} leak(s):\n  ${leaks.join('\n  ')}`);
if (missing.length) console.error(`canary: the hook did not run in ${missing.join(', ')}`);
if (leaks.length || missing.length) process.exit(1);
console.log(`canary: no leak in ${ran.size} suite processes`);
