// envelope-wire.mjs — wire-format.md helpers shared by the reference servers: UUID and Base64 rules,
// RFC 3339 stamps, request/response meta, error envelopes, the status-from-code table, meta schema.

import { Ordered, RawNumber, positionOf, stringify } from './serde-json.mjs';

// ------------------------------------------------------------------ constants (wire-format.md §3, §4, §6)
export const MAX_TOTAL_HEADER_BYTES = 65536; // 413 REQUEST_HEADERS_TOO_LARGE above this
export const MAX_META_HEADER_BYTES = 4096; // X-Qollective-Meta limit; also the per-value limit on reply headers
export const MAX_ENVELOPE_BYTES = 1048576;
export const DEFAULT_REST_PORT = 8080;
export const DEFAULT_VERSION = '1.0';
export const CORS_ALLOW_METHODS = 'GET, POST, PUT, DELETE, OPTIONS, PATCH';
export const CORS_MAX_AGE = '86400';

export const HEADER = Object.freeze({
  requestId: 'x-qollective-request-id',
  tenant: 'x-qollective-tenant',
  version: 'x-qollective-version',
  meta: 'x-qollective-meta',
  timestamp: 'x-qollective-timestamp',
  userId: 'x-qollective-user-id',
  sessionId: 'x-qollective-session-id',
  traceId: 'x-qollective-trace-id',
  spanId: 'x-qollective-span-id',
  onBehalfOf: 'x-on-behalf-of',
});

// ------------------------------------------------------------------ UUID
const UUID_HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const UUID_SIMPLE = /^[0-9a-fA-F]{32}$/;

/** Strict wire form: 8-4-4-4-12 hex with hyphens (any case, any version). */
export function isStrictUuid(s) {
  return typeof s === 'string' && UUID_HYPHENATED.test(s);
}

/**
 * Parse like Rust's uuid::Uuid::parse_str (what the server runs on X-Qollective-Request-Id):
 * hyphenated, simple (32 hex), braced {…} and urn:uuid:… forms, hex in any case.
 * Returns the canonical lowercase hyphenated text, or null when it is not a UUID.
 */
export function parseUuid(s) {
  if (typeof s !== 'string') return null;
  let body = s;
  if (s.length === 45 && s.startsWith('urn:uuid:')) body = s.slice(9);
  else if (s.length === 38 && s[0] === '{' && s[37] === '}') body = s.slice(1, 37);
  let hex;
  if (UUID_HYPHENATED.test(body)) hex = body.replace(/-/g, '');
  else if (body === s && UUID_SIMPLE.test(s)) hex = s;
  else return null;
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Error text for a string that parseUuid rejects (shape of the uuid crate's message). */
export function uuidErrorText(s) {
  const bad = [...s].findIndex((c) => !/[0-9a-fA-F-]/.test(c));
  if (bad >= 0) return `UUID parsing failed: invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${[...s][bad]}\` at ${bad + 1}`;
  return `UUID parsing failed: invalid length: expected length 32 for simple format, found ${s.length}`;
}

// ------------------------------------------------------------------ Base64 (Rust base64::STANDARD: padding required, canonical)
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, idx) => [c, idx]));

export function encodeBase64(text) {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Decode standard Base64 exactly as strictly as base64::engine::general_purpose::STANDARD:
 * alphabet A-Z a-z 0-9 + /, '=' padding required and only at the end, no whitespace,
 * zero trailing bits. Returns { ok: true, bytes } or { ok: false, error } with a base64-crate-like text.
 */
export function decodeBase64Strict(s) {
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '=') continue;
    if (!B64_INDEX.has(c)) return { ok: false, error: `Invalid symbol ${s.charCodeAt(k)}, offset ${k}.` };
  }
  const firstPad = s.indexOf('=');
  const data = firstPad < 0 ? s : s.slice(0, firstPad);
  const pad = firstPad < 0 ? '' : s.slice(firstPad);
  if (/[^=]/.test(pad)) {
    return { ok: false, error: `Invalid symbol 61, offset ${firstPad}.` };
  }
  if (data.length % 4 === 1) return { ok: false, error: `Invalid input length: ${data.length}` };
  const wantPad = (4 - (data.length % 4)) % 4;
  if (pad.length !== wantPad) return { ok: false, error: 'Invalid padding' };
  const rem = data.length % 4;
  if (rem) {
    const last = B64_INDEX.get(data[data.length - 1]);
    const mask = rem === 2 ? 0x0f : 0x03; // bits that must be zero in the last symbol
    if (last & mask) {
      return { ok: false, error: `Invalid last symbol ${data.charCodeAt(data.length - 1)}, offset ${data.length - 1}.` };
    }
  }
  return { ok: true, bytes: Buffer.from(s, 'base64') };
}

/** Base64 → UTF-8 text; { ok, text } or { ok: false, error } ("Base64 decode error: …" / "UTF-8 decode error: …"). */
export function decodeBase64Text(s) {
  const r = decodeBase64Strict(s);
  if (!r.ok) return { ok: false, error: `Base64 decode error: ${r.error}` };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(r.bytes) };
  } catch {
    return { ok: false, error: 'UTF-8 decode error: invalid utf-8 sequence' };
  }
}

// ------------------------------------------------------------------ time (chrono formats)
let lastNanos = 0n;
/** Current time as BigInt nanoseconds since the epoch (ms clock plus a monotonic sub-ms part). */
export function nowNanos() {
  const ms = BigInt(Date.now());
  const sub = process.hrtime.bigint() % 1000000n;
  let t = ms * 1000000n + sub;
  if (t <= lastNanos) t = lastNanos + 1n;
  lastNanos = t;
  return t;
}

function fractionAutoSi(nanos) {
  // chrono SecondsFormat::AutoSi: 0, 3, 6 or 9 digits, the fewest that are exact.
  if (nanos === 0) return '';
  if (nanos % 1000000 === 0) return '.' + String(nanos / 1000000).padStart(3, '0');
  if (nanos % 1000 === 0) return '.' + String(nanos / 1000).padStart(6, '0');
  return '.' + String(nanos).padStart(9, '0');
}

/**
 * RFC 3339 UTC text as chrono prints it. `zulu: true` is serde's form for DateTime<Utc> in a body
 * ("…Z"); `zulu: false` is to_rfc3339() used for the x-qollective-timestamp header ("…+00:00").
 */
export function rfc3339(nanos = nowNanos(), { zulu = true } = {}) {
  const ms = Number(nanos / 1000000n);
  const frac = Number(nanos % 1000000000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  return base + fractionAutoSi(frac) + (zulu ? 'Z' : '+00:00');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;
/** chrono-like RFC 3339 check (any offset); returns null when valid, else chrono's error text. */
export function rfc3339Error(s) {
  const m = RFC3339.exec(s);
  if (!m) {
    if (/^[\d:.TtZz +-]*$/.test(s) && s.length < 20) return 'premature end of input';
    return 'input contains invalid characters';
  }
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const dim = [31, (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > dim[mo - 1] || h > 23 || mi > 59 || se > 60) return 'input is out of range';
  const off = m[8];
  if (off.length > 1 && (Number(off.slice(1, 3)) > 23 || Number(off.slice(-2)) > 59)) return 'input is out of range';
  return null;
}

// ------------------------------------------------------------------ errors and status (wire-format.md §3)
const STATUS_RULES = [
  [['AUTH', 'UNAUTHORIZED'], 401],
  [['FORBIDDEN', 'PERMISSION'], 403],
  [['VALIDATION', 'INVALID'], 400],
  [['NOT_FOUND', 'MISSING'], 404],
  [['CONFLICT', 'EXISTS'], 409],
  [['TOO_LARGE', 'SIZE'], 413],
  [['RATE_LIMIT', 'THROTTLE'], 429],
  [['TIMEOUT', 'DEADLINE'], 504],
  [['UNAVAILABLE', 'SERVICE'], 503],
  [['NOT_IMPLEMENTED'], 501],
];

/** Status from an error code when http_status_code is absent: first matching substring wins, else 500. */
export function statusFromCode(code) {
  const up = String(code).toUpperCase();
  for (const [needles, status] of STATUS_RULES) if (needles.some((nd) => up.includes(nd))) return status;
  return 500;
}

/** The server's choice of HTTP status for an error object: http_status_code if in 400..599, else the table. */
export function statusForError(error) {
  const s = error.http_status_code;
  if (Number.isInteger(s) && s >= 400 && s < 600) return s;
  return statusFromCode(error.code);
}

/** Default code used by fault injection for a status (values seen from servers, or HTTP_<n>). */
export function codeForStatus(status) {
  return ({
    400: 'VALIDATION_FAILED', 401: 'AUTHENTICATION_FAILED', 403: 'FORBIDDEN', 404: 'RESOURCE_NOT_FOUND',
    408: 'REQUEST_TIMEOUT', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMIT_EXCEEDED',
    500: 'INTERNAL_SERVER_ERROR', 501: 'NOT_IMPLEMENTED', 502: 'BAD_GATEWAY', 503: 'SERVICE_UNAVAILABLE',
    504: 'GATEWAY_TIMEOUT',
  })[status] ?? `HTTP_${status}`;
}

/** EnvelopeError in serde declaration order: code, message, details?, trace?, http_status_code?. */
export function errorObject({ code, message, details, trace, http_status_code: status }) {
  return new Ordered([
    ['code', code],
    ['message', message],
    ['details', details ?? undefined],
    ['trace', trace ?? undefined],
    ['http_status_code', status ?? undefined],
  ]);
}

// ------------------------------------------------------------------ meta
/**
 * Meta in the Rust struct's field order; absent fields are omitted. Nested on_behalf_of/security/
 * tracing keep their struct order too; free-form maps (baggage, tags, extensions) are sorted on output.
 */
export function metaObject(meta) {
  const obo = meta.on_behalf_of && new Ordered([
    ['originalUser', meta.on_behalf_of.originalUser],
    ['delegatingUser', meta.on_behalf_of.delegatingUser],
    ['delegatingTenant', meta.on_behalf_of.delegatingTenant],
  ]);
  const sec = meta.security && new Ordered([
    'user_id', 'session_id', 'auth_method', 'permissions', 'ip_address', 'user_agent', 'roles', 'token_expires_at',
  ].map((k) => [k, (k === 'permissions' || k === 'roles') && Array.isArray(meta.security[k]) && meta.security[k].length === 0 ? undefined : meta.security[k]]));
  const tr = meta.tracing && new Ordered([
    'trace_id', 'span_id', 'parent_span_id', 'baggage', 'sampling_rate', 'sampled', 'trace_state', 'operation_name',
    'span_kind', 'span_status', 'tags',
  ].map((k) => [k, meta.tracing[k]]));
  return new Ordered([
    ['timestamp', meta.timestamp],
    ['request_id', meta.request_id],
    ['version', meta.version],
    ['duration', meta.duration],
    ['tenant', meta.tenant],
    ['on_behalf_of', obo || undefined],
    ['security', sec || undefined],
    ['debug', meta.debug],
    ['performance', meta.performance],
    ['monitoring', meta.monitoring],
    ['tracing', tr || undefined],
    ['extensions', meta.extensions],
  ]);
}

/**
 * Response meta (wire-format.md §2): keep request_id, tenant, version, on_behalf_of, security,
 * tracing of the request meta; fresh timestamp; drop the rest. With no request meta (error paths)
 * Rust's Meta::preserve_for_response(None) gives only { timestamp, version: "1.0" }.
 */
export function responseMeta(requestMeta, nanos = nowNanos()) {
  const timestamp = rfc3339(nanos, { zulu: true });
  if (!requestMeta) return { timestamp, version: DEFAULT_VERSION };
  const out = { timestamp };
  for (const k of ['request_id', 'tenant', 'version', 'on_behalf_of', 'security', 'tracing']) {
    if (requestMeta[k] !== undefined && requestMeta[k] !== null) out[k] = requestMeta[k];
  }
  return out;
}

/** Full envelope text: {"meta":…,"payload":…[,"error":…]} compact, meta in struct order. */
export function envelopeText({ meta, payload = null, error }, { sortAll = false } = {}) {
  return stringify(new Ordered([
    ['meta', metaObject(meta)],
    ['payload', payload === undefined ? null : payload],
    ['error', error ? errorObject(error) : undefined],
  ]), { sortAll });
}

/** Error envelope text as the Rust server builds it: meta from preserve_for_response(None), payload null. */
export function errorEnvelopeText(error, { meta = responseMeta(null), sortAll = false } = {}) {
  return envelopeText({ meta, payload: null, error }, { sortAll });
}

// ------------------------------------------------------------------ meta schema (serde derive of Meta)
// Field tuples: [name, type, required]. `required` mirrors serde: non-Option fields without
// #[serde(default)] must be present (Vec permissions/roles/db_queries/external_calls are the traps).
const t = {
  str: { k: 'str' }, f64: { k: 'f64' }, bool: { k: 'bool' }, any: { k: 'any' },
  i32: { k: 'int', name: 'i32', min: -(2n ** 31n), max: 2n ** 31n - 1n },
  i64: { k: 'int', name: 'i64', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  u64: { k: 'int', name: 'u64', min: 0n, max: 2n ** 64n - 1n },
  u16: { k: 'int', name: 'u16', min: 0n, max: 65535n },
  ts: { k: 'ts' }, uuid: { k: 'uuid' },
  vec: (of) => ({ k: 'vec', of }), map: (of) => ({ k: 'map', of }),
  en: (name, variants) => ({ k: 'enum', name, variants }),
  st: (name, fields) => ({ k: 'struct', name, fields }),
  traceValue: { k: 'traceValue' },
};
const AUTH = t.en('AuthMethod', ['Unspecified', 'OAuth2', 'Jwt', 'ApiKey', 'Basic', 'Saml', 'Oidc', 'None']);
const LOG = t.en('LogLevel', ['Unspecified', 'Trace', 'Debug', 'Info', 'Warn', 'Error']);
const ENVIRONMENT = t.en('Environment', ['Unspecified', 'Development', 'Staging', 'Testing', 'Production', 'Canary']);
const HEALTH = t.en('HealthStatus', ['Unspecified', 'Healthy', 'Degraded', 'Unhealthy']);
const SPAN_KIND = t.en('SpanKind', ['Unspecified', 'Server', 'Client', 'Producer', 'Consumer', 'Internal']);
const SPAN_CODE = t.en('SpanStatusCode', ['Unspecified', 'Ok', 'Error', 'Timeout']);
const CALL_STATUS = t.en('CallStatus', ['Unspecified', 'Success', 'Error', 'Timeout']);

export const META_SCHEMA = t.st('Meta', [
  ['timestamp', t.ts], ['request_id', t.uuid], ['version', t.str], ['duration', t.f64], ['tenant', t.str],
  ['on_behalf_of', t.st('OnBehalfOfMeta', [
    ['originalUser', t.str, true], ['delegatingUser', t.str, true], ['delegatingTenant', t.str, true]])],
  ['security', t.st('SecurityMeta', [
    ['user_id', t.str], ['session_id', t.str], ['auth_method', AUTH], ['permissions', t.vec(t.str), true],
    ['ip_address', t.str], ['user_agent', t.str], ['roles', t.vec(t.str), true], ['token_expires_at', t.ts]])],
  ['debug', t.st('DebugMeta', [
    ['trace_enabled', t.bool],
    ['db_queries', t.vec(t.st('DbQuery', [['query', t.str, true], ['duration', t.f64, true], ['rows_affected', t.i32], ['database', t.str]])), true],
    ['memory_usage', t.st('MemoryUsage', [['heap_used', t.i64], ['heap_total', t.i64], ['external', t.i64]])],
    ['stack_trace', t.str], ['environment_vars', t.map(t.str), 'default'], ['request_headers', t.map(t.str), 'default'],
    ['log_level', LOG],
    ['profiling_data', t.st('ProfilingData', [['cpu_time', t.f64], ['wall_time', t.f64], ['allocations', t.i64]])]])],
  ['performance', t.st('PerformanceMeta', [
    ['db_query_time', t.f64], ['db_query_count', t.i32], ['cache_hit_ratio', t.f64],
    ['cache_operations', t.st('CacheOperations', [['hits', t.i32], ['misses', t.i32], ['sets', t.i32]])],
    ['memory_allocated', t.i64], ['memory_peak', t.i64], ['cpu_usage', t.f64], ['network_latency', t.f64],
    ['external_calls', t.vec(t.st('ExternalCall', [['service', t.str, true], ['duration', t.f64, true], ['status', CALL_STATUS, true], ['endpoint', t.str]])), true],
    ['gc_collections', t.i32], ['gc_time', t.f64], ['thread_count', t.i32], ['processing_time_ms', t.u64]])],
  ['monitoring', t.st('MonitoringMeta', [
    ['server_id', t.str], ['datacenter', t.str], ['build_version', t.str], ['deployment_id', t.str],
    ['instance_type', t.str], ['load_balancer', t.str], ['environment', ENVIRONMENT], ['cluster_id', t.str],
    ['namespace', t.str], ['health_status', HEALTH], ['uptime', t.f64]])],
  ['tracing', t.st('TracingMeta', [
    ['trace_id', t.str], ['span_id', t.str], ['parent_span_id', t.str], ['baggage', t.map(t.str), 'default'],
    ['sampling_rate', t.f64], ['sampled', t.bool], ['trace_state', t.str], ['operation_name', t.str],
    ['span_kind', SPAN_KIND], ['span_status', t.st('SpanStatus', [['code', SPAN_CODE, true], ['message', t.str]])],
    ['tags', t.map(t.traceValue), 'default']])],
  ['extensions', t.map(t.any)],
]);

export const ERROR_SCHEMA = t.st('EnvelopeError', [
  ['code', t.str, true], ['message', t.str, true], ['details', t.any], ['trace', t.str], ['http_status_code', t.u16],
]);

export const ENVELOPE_SCHEMA = t.st('Envelope', [
  ['meta', META_SCHEMA, true], ['payload', t.any, 'present'], ['error', ERROR_SCHEMA],
]);

// serde's Unexpected display.
function unexpected(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (v instanceof RawNumber) return v.kind === 'f64' ? `floating point \`${v.text}\`` : `integer \`${v.text}\``;
  if (Array.isArray(v)) return 'sequence';
  return 'map';
}

function expecting(type) {
  switch (type.k) {
    case 'str': case 'ts': case 'uuid': return 'a string';
    case 'f64': return 'f64';
    case 'int': return type.name;
    case 'bool': return 'a boolean';
    case 'vec': return 'a sequence';
    case 'map': return 'a map';
    case 'struct': return `struct ${type.name}`;
    default: return 'any value';
  }
}

class DataError extends Error {
  constructor(path, what, at) { super(what); this.path = path; this.what = what; this.at = at; }
}

function pathText(path) {
  if (!path.length) return '.';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += (out ? '.' : '') + seg;
  }
  return out;
}

function check(type, v, path, end, info) {
  const bad = () => { throw new DataError(path, `invalid type: ${unexpected(v)}, expected ${expecting(type)}`, end); };
  switch (type.k) {
    case 'any': return;
    case 'str': if (typeof v !== 'string') bad(); return;
    case 'bool': if (typeof v !== 'boolean') bad(); return;
    case 'f64': if (!(v instanceof RawNumber)) bad(); return;
    case 'int': {
      if (!(v instanceof RawNumber)) bad();
      if (v.kind === 'f64') bad();
      const big = BigInt(v.text);
      if (big < type.min || big > type.max) throw new DataError(path, `invalid value: integer \`${v.text}\`, expected ${type.name}`, end);
      return;
    }
    case 'ts': {
      if (typeof v !== 'string') bad();
      const e = rfc3339Error(v);
      if (e) throw new DataError(path, e, end);
      return;
    }
    case 'uuid': {
      if (typeof v !== 'string') bad();
      if (!parseUuid(v)) throw new DataError(path, uuidErrorText(v), end);
      return;
    }
    case 'enum': {
      // serde_json deserialize_enum: anything but a string (or a map) is a *syntax* error, "expected value".
      if (typeof v !== 'string') throw Object.assign(new DataError(path, 'expected value', end), { syntax: true });
      if (!type.variants.includes(v)) {
        throw new DataError(path, `unknown variant \`${v}\`, expected one of ${type.variants.map((x) => `\`${x}\``).join(', ')}`, end);
      }
      return;
    }
    case 'traceValue':
      if (!(typeof v === 'string' || typeof v === 'boolean' || v instanceof RawNumber)) {
        throw new DataError(path, 'data did not match any variant of untagged enum TraceValue', end);
      }
      return;
    case 'vec': {
      if (!Array.isArray(v)) bad();
      const m = info.get(v);
      v.forEach((item, idx) => check(type.of, item, [...path, idx], m?.childEnd.get(idx) ?? end, info));
      return;
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof RawNumber) bad();
      const m = info.get(v);
      for (const key of Object.keys(v)) check(type.of, v[key], [...path, key], m?.childEnd.get(key) ?? end, info);
      return;
    }
    case 'struct': {
      if (v === null || typeof v !== 'object' || v instanceof RawNumber) bad();
      const m = info.get(v);
      if (Array.isArray(v)) return checkStructSeq(type, v, path, end, info);
      if (m && m.dups.length) {
        const dup = m.dups.find((d) => type.fields.some(([f]) => f === d));
        if (dup) throw new DataError(path, `duplicate field \`${dup}\``, m.childEnd.get(dup));
      }
      for (const [name, ftype, req] of type.fields) {
        const present = Object.prototype.hasOwnProperty.call(v, name);
        if (!present) {
          if (req === true || req === 'present') throw new DataError(path, `missing field \`${name}\``, m?.end ?? end);
          continue;
        }
        const fv = v[name];
        if (fv === null && !req) continue; // Option<T>: null is None (required/default fields reject null below)
        check(ftype, fv, [...path, name], m?.childEnd.get(name) ?? end, info);
      }
      return;
    }
    default: throw new Error(`unknown schema type ${type.k}`);
  }
}

// serde derive also accepts a struct as a JSON array of its fields in order (every field needed).
function checkStructSeq(type, arr, path, end, info) {
  const m = info.get(arr);
  if (arr.length > type.fields.length) throw Object.assign(new DataError(path, 'trailing characters', end), { syntax: true });
  if (arr.length < type.fields.length) {
    throw new DataError(path, `invalid length ${arr.length}, expected struct ${type.name} with ${type.fields.length} elements`, end);
  }
  type.fields.forEach(([name, ftype, req], idx) => {
    const fv = arr[idx];
    if (fv === null && req !== true && ftype.k !== 'any') return;
    check(ftype, fv, [...path, idx], m?.childEnd.get(idx) ?? end, info);
  });
}

/**
 * Validate a parsed body (serde-json parse() result) as Rust's Envelope<serde_json::Value>.
 * Returns null when serde would accept it, else { category: 'data' | 'syntax', message } where message
 * is serde_path_to_error's text ("meta.security: missing field `permissions` at line 1 column 57").
 */
export function validateEnvelope(parsed) {
  try {
    check(ENVELOPE_SCHEMA, parsed.value, [], parsed.end ?? parsed.text.length, parsed.info);
    return null;
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    const { line, column } = positionOf(parsed.text, e.at ?? parsed.text.length);
    const p = pathText(e.path);
    const prefix = p === '.' ? '' : `${p}: `;
    return { category: e.syntax ? 'syntax' : 'data', message: `${prefix}${e.what} at line ${line} column ${column}`, path: p };
  }
}

// ------------------------------------------------------------------ request meta from headers (wire-format.md §4)
/** True when a header value is what http::HeaderValue::to_str accepts (visible ASCII, space, tab). */
export function isVisibleAscii(v) {
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return true;
}

/** Sum of name + value bytes over every request header line, as the Rust server counts them. */
export function totalHeaderBytes(rawHeaders) {
  let total = 0;
  for (let k = 0; k < rawHeaders.length; k += 2) {
    total += Buffer.byteLength(rawHeaders[k], 'latin1') + Buffer.byteLength(rawHeaders[k + 1], 'latin1');
  }
  return total;
}

/**
 * Rebuild the request meta from headers only (the body's meta is ignored), as the Rust server does.
 * `get(name)` returns the FIRST value of a lower-cased header or undefined; `query` is a
 * URLSearchParams used for the request_id/tenant/version fallbacks on GET/DELETE (or null).
 * Returns { meta } or { error: { kind: 'too_large' | 'handler', message } }.
 * With `extended` the optional native-client headers (user/session/trace/span ids, on-behalf-of,
 * timestamp) are read too; upstream's REST extractor itself reads only request-id/tenant/version/meta.
 */
export function metaFromHeaders({ get, rawHeaders, query = null, extended = true, nanos = nowNanos() }) {
  const total = totalHeaderBytes(rawHeaders);
  if (total > MAX_TOTAL_HEADER_BYTES) {
    return { error: { kind: 'too_large', message: `Headers too large: ${total} bytes exceeds limit of ${MAX_TOTAL_HEADER_BYTES} bytes` } };
  }
  const text = (name) => { const v = get(name); return v !== undefined && isVisibleAscii(v) ? v : undefined; };
  const meta = {};
  const lastQuery = (k) => { const all = query ? query.getAll(k) : []; return all.length ? all[all.length - 1] : undefined; };

  // request id: non-UUIDs are silently dropped; the query fallback applies only when the header is absent.
  if (get(HEADER.requestId) !== undefined) {
    const v = text(HEADER.requestId);
    const id = v !== undefined ? parseUuid(v) : null;
    if (id) meta.request_id = id;
  } else if (lastQuery('request_id') !== undefined) {
    const id = parseUuid(lastQuery('request_id'));
    if (id) meta.request_id = id;
  }
  for (const [field, header] of [['tenant', HEADER.tenant], ['version', HEADER.version]]) {
    if (get(header) !== undefined) {
      const v = text(header);
      if (v === undefined) continue;
      const r = decodeBase64Text(v);
      if (!r.ok) return { error: { kind: 'handler', message: `Envelope error: ${r.error}` } };
      meta[field] = r.text;
    } else if (lastQuery(field) !== undefined) {
      meta[field] = lastQuery(field); // query fallback is plain text, not Base64
    }
  }
  const metaHeader = text(HEADER.meta);
  if (metaHeader !== undefined) {
    if (metaHeader.length > MAX_META_HEADER_BYTES) {
      return { error: { kind: 'too_large', message: `Header too large: ${metaHeader.length} bytes exceeds limit of ${MAX_META_HEADER_BYTES} bytes` } };
    }
    // Undecodable or non-object meta JSON is ignored silently (Rust: `if let Ok(..)`).
    const r = decodeBase64Text(metaHeader);
    if (r.ok) {
      try {
        const extra = JSON.parse(r.text);
        if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
          if (typeof extra.tenant === 'string') meta.tenant = extra.tenant;
          if (typeof extra.version === 'string') meta.version = extra.version;
        }
      } catch { /* ignored like upstream */ }
    }
  }
  meta.timestamp = rfc3339(nanos, { zulu: true });
  if (extended) {
    const ts = text(HEADER.timestamp);
    if (ts !== undefined && !rfc3339Error(ts)) meta.timestamp = ts;
    const userId = text(HEADER.userId);
    const sessionId = text(HEADER.sessionId);
    if (userId !== undefined || sessionId !== undefined) {
      meta.security = { user_id: userId, session_id: sessionId, permissions: [], roles: [] };
    }
    const traceId = text(HEADER.traceId);
    const spanId = text(HEADER.spanId);
    if (traceId !== undefined || spanId !== undefined) meta.tracing = { trace_id: traceId, span_id: spanId };
    const obo = text(HEADER.onBehalfOf);
    if (obo !== undefined) {
      try {
        const o = JSON.parse(obo);
        // All three camelCase strings are required (serde derive); otherwise the header is ignored.
        if (o && typeof o.originalUser === 'string' && typeof o.delegatingUser === 'string' && typeof o.delegatingTenant === 'string') {
          meta.on_behalf_of = { originalUser: o.originalUser, delegatingUser: o.delegatingUser, delegatingTenant: o.delegatingTenant };
        }
      } catch { /* malformed header ignored */ }
    }
  }
  return { meta };
}

/**
 * Response headers the Rust server injects after a success: request id, Base64 tenant/version and the
 * timestamp in to_rfc3339() form. A value over 4096 bytes fails (→ METADATA_INJECTION_FAILED).
 */
export function responseMetaHeaders(meta, nanos) {
  const out = [];
  const push = (name, value) => {
    if (value.length > MAX_META_HEADER_BYTES) {
      throw Object.assign(new Error(`Header value too large: ${value.length} bytes exceeds limit of ${MAX_META_HEADER_BYTES} bytes`), { injection: true });
    }
    out.push([name, value]);
  };
  if (meta.request_id) push(HEADER.requestId, meta.request_id);
  if (meta.tenant !== undefined) push(HEADER.tenant, encodeBase64(meta.tenant));
  if (meta.version !== undefined) push(HEADER.version, encodeBase64(meta.version));
  push(HEADER.timestamp, rfc3339(nanos, { zulu: false }));
  return out;
}
