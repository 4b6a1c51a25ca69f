// What `meta` must be for a JSON text (README "64-bit integers"): JSON.parse's value, except that an
// i64/u64 field (src/envelope.c ST_I64, ST_U64) beyond +-(2^53 - 1) is a BigInt with its exact value
// and an enum in map form ({"Jwt":null}) is the variant's name.
// Read by a small parser of the tests' own that sees each number's text (Node 20's JSON.parse shows
// a reviver no source text), so no test compares the glue with itself.

/** The meta's i64/u64 fields, by their path from the meta (src/envelope.c). */
export const INT64_FIELDS = [
  'debug.memory_usage.heap_used', 'debug.memory_usage.heap_total', 'debug.memory_usage.external',
  'debug.profiling_data.allocations', 'performance.memory_allocated', 'performance.memory_peak',
];
export const UINT64_FIELDS = ['performance.processing_time_ms'];

/** The value of JSON text (valid JSON) as JSON.parse gives it, but a number at one of `paths` (keys from
 * the root joined by '.', an array element adding '[]') that is an integer beyond +-(2^53 - 1) is a
 * BigInt of its digits. Own keys as JSON.parse makes them (`__proto__` too; the last duplicate wins). */
export function parseLossless(text, paths) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const token = (re) => { re.lastIndex = i; const t = re.exec(text)[0]; i += t.length; return t; };
  const string = () => JSON.parse(token(/"(?:[^"\\]|\\.)*"/y));
  const value = (path) => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const obj = c === '{', out = obj ? {} : [];
      i++;
      ws();
      if (text[i] === (obj ? '}' : ']')) { i++; return out; }
      for (;;) {
        ws();
        if (obj) {
          const key = string();
          ws();
          i++;   // ':'
          Object.defineProperty(out, key, { value: value(path ? `${path}.${key}` : key), writable: true, enumerable: true, configurable: true });
        } else out.push(value(`${path}[]`));
        ws();
        if (text[i++] !== ',') return out;
      }
    }
    if (c === '"') return string();
    const raw = token(/-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null/y), v = JSON.parse(raw);
    return typeof v === 'number' && paths.includes(path) && /^-?\d+$/.test(raw) && !Number.isSafeInteger(v) ? BigInt(raw) : v;
  };
  return value('');
}

/** The meta's enum fields (src/envelope.c FE), by their path from the meta. */
export const ENUM_FIELDS = ['security.auth_method', 'debug.log_level', 'monitoring.environment', 'monitoring.health_status',
  'tracing.span_kind', 'tracing.span_status.code', 'performance.external_calls[].status'];

/** meta with each enum in serde_json's map form, {"Jwt":null}, as the variant's name (as Rust reads it). */
function enumNames(meta) {
  const at = (o, keys) => {
    if (o === null || typeof o !== 'object') return;
    const [k, ...rest] = keys;
    if (k.endsWith('[]')) { if (Array.isArray(o[k.slice(0, -2)])) for (const x of o[k.slice(0, -2)]) at(x, rest); return; }
    if (rest.length) return at(o[k], rest);
    const v = o[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && Object.values(v)[0] === null) o[k] = Object.keys(v)[0];
  };
  if (meta && typeof meta === 'object') for (const p of ENUM_FIELDS) at(meta, p.split('.'));
  return meta;
}

/** The meta a decode must give for the meta's JSON text. */
export const expectedMeta = (metaText) => enumNames(parseLossless(metaText, [...INT64_FIELDS, ...UINT64_FIELDS]));
/** The meta a decode must give for a whole envelope's JSON text. */
export const expectedMetaOf = (envelopeText) => enumNames(parseLossless(envelopeText, [...INT64_FIELDS, ...UINT64_FIELDS].map((p) => `meta.${p}`)).meta);

/** JSON text of a value that may hold BigInts (for key-order checks: a BigInt as `<digits>n`). */
export const orderText = (v) => JSON.stringify(v, (k, x) => typeof x === 'bigint' ? `${x}n` : x);
