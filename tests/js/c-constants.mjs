// The numbers the C headers define (include/qollective/constants.h, include/qollective.h), read
// from the headers, so suites take a default or limit from where it lives instead of repeating it.
import { readFileSync } from 'node:fs';

const HEADERS = ['include/qollective/constants.h', 'include/qollective.h'];

/** name -> value of every #define whose value is a number, or an expression of numbers and such names. */
function numericDefines(text) {
  const out = {};
  for (const [, name, body] of text.matchAll(/^#define\s+(\w+)[ \t]+(.*)$/gm)) {
    const expr = body.replace(/\/\*.*?(\*\/|$)/g, '').replace(/\/\/.*$/, '').trim()
      .replace(/\b(\d+)u\b/g, '$1').replace(/\b(0x[0-9a-fA-F]+)u\b/g, '$1')
      .replace(/\b[A-Z_][A-Z0-9_]*\b/g, (n) => (n in out ? `(${out[n]})` : 'NaN'));
    if (/^[\d\s.()+\-*/]+$/.test(expr.replace(/0x[0-9a-fA-F]+|NaN/g, '0'))) {   // arithmetic only
      const v = Function(`return (${expr});`)();
      if (Number.isFinite(v)) out[name] = v;
    }
  }
  return out;
}

export const C = Object.freeze(numericDefines(HEADERS.map((h) => readFileSync(new URL(`../../${h}`, import.meta.url), 'utf8')).join('\n')));
