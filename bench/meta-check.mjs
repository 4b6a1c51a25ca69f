// The user's alternative to our decoder: what a careful user writes to check a Meta
// object (wire-format.md §2) after JSON.parse. Types of every field, the enums, UUID and
// RFC 3339 regexes, the required fields of nested objects. Throws on the first problem.

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RFC3339_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const AUTH_METHOD = new Set(['Unspecified', 'OAuth2', 'Jwt', 'ApiKey', 'Basic', 'Saml', 'Oidc', 'None']);
const LOG_LEVEL = new Set(['Unspecified', 'Trace', 'Debug', 'Info', 'Warn', 'Error']);
const ENVIRONMENT = new Set(['Unspecified', 'Development', 'Staging', 'Testing', 'Production', 'Canary']);
const HEALTH_STATUS = new Set(['Unspecified', 'Healthy', 'Degraded', 'Unhealthy']);
const SPAN_KIND = new Set(['Unspecified', 'Server', 'Client', 'Producer', 'Consumer', 'Internal']);
const SPAN_STATUS_CODE = new Set(['Unspecified', 'Ok', 'Error', 'Timeout']);
const CALL_STATUS = new Set(['Unspecified', 'Success', 'Error', 'Timeout']);

const I32_MIN = -(2 ** 31), I32_MAX = 2 ** 31 - 1;

function fail(path, what) { throw new TypeError(`${path}: ${what}`); }
const absent = (v) => v === undefined || v === null;
const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v, path) { if (!isObj(v)) fail(path, 'expected an object'); return v; }
function str(v, path) { if (typeof v !== 'string') fail(path, 'expected a string'); }
function num(v, path) { if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'expected a number'); }
function bool(v, path) { if (typeof v !== 'boolean') fail(path, 'expected true or false'); }
function i32(v, path) { if (!Number.isInteger(v) || v < I32_MIN || v > I32_MAX) fail(path, 'expected a 32-bit integer'); }
function i64(v, path) { if (!Number.isSafeInteger(v)) fail(path, 'expected an integer'); }
function u64(v, path) { if (!Number.isSafeInteger(v) || v < 0) fail(path, 'expected a non-negative integer'); }
function uuid(v, path) { str(v, path); if (!UUID_RE.test(v)) fail(path, 'expected a UUID'); }
function timestamp(v, path) { str(v, path); if (!RFC3339_RE.test(v)) fail(path, 'expected an RFC 3339 timestamp'); }
function oneOf(set, v, path) { str(v, path); if (!set.has(v)) fail(path, `unknown value ${JSON.stringify(v)}`); }
function strArray(v, path) {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  for (let i = 0; i < v.length; i++) str(v[i], `${path}[${i}]`);
}
function strMap(v, path) {
  obj(v, path);
  for (const k in v) str(v[k], `${path}.${k}`);
}
function arrayOf(v, path, each) {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  for (let i = 0; i < v.length; i++) each(obj(v[i], `${path}[${i}]`), `${path}[${i}]`);
}

// An optional field: absent or null is fine, anything else must pass check.
function opt(o, key, path, check) {
  const v = o[key];
  if (!absent(v)) check(v, `${path}.${key}`);
}
function req(o, key, path, check) {
  const v = o[key];
  if (absent(v)) fail(`${path}.${key}`, 'missing required field');
  check(v, `${path}.${key}`);
}

function onBehalfOf(v, p) {
  obj(v, p);
  req(v, 'originalUser', p, str); req(v, 'delegatingUser', p, str); req(v, 'delegatingTenant', p, str);
}
function security(v, p) {
  obj(v, p);
  opt(v, 'user_id', p, str); opt(v, 'session_id', p, str);
  opt(v, 'auth_method', p, (x, q) => oneOf(AUTH_METHOD, x, q));
  opt(v, 'permissions', p, strArray);   // required on output, lenient on input (§2)
  opt(v, 'ip_address', p, str); opt(v, 'user_agent', p, str);
  opt(v, 'roles', p, strArray);
  opt(v, 'token_expires_at', p, timestamp);
}
function dbQuery(v, p) {
  req(v, 'query', p, str); req(v, 'duration', p, num);
  opt(v, 'rows_affected', p, i32); opt(v, 'database', p, str);
}
function debug(v, p) {
  obj(v, p);
  opt(v, 'trace_enabled', p, bool);
  opt(v, 'db_queries', p, (x, q) => arrayOf(x, q, dbQuery));
  opt(v, 'memory_usage', p, (x, q) => { obj(x, q); opt(x, 'heap_used', q, i64); opt(x, 'heap_total', q, i64); opt(x, 'external', q, i64); });
  opt(v, 'stack_trace', p, str);
  if (v.environment_vars !== undefined) strMap(v.environment_vars, `${p}.environment_vars`);
  if (v.request_headers !== undefined) strMap(v.request_headers, `${p}.request_headers`);
  opt(v, 'log_level', p, (x, q) => oneOf(LOG_LEVEL, x, q));
  opt(v, 'profiling_data', p, (x, q) => { obj(x, q); opt(x, 'cpu_time', q, num); opt(x, 'wall_time', q, num); opt(x, 'allocations', q, i64); });
}
function externalCall(v, p) {
  req(v, 'service', p, str); req(v, 'duration', p, num);
  req(v, 'status', p, (x, q) => oneOf(CALL_STATUS, x, q));
  opt(v, 'endpoint', p, str);
}
function performance(v, p) {
  obj(v, p);
  opt(v, 'db_query_time', p, num); opt(v, 'db_query_count', p, i32); opt(v, 'cache_hit_ratio', p, num);
  opt(v, 'cache_operations', p, (x, q) => { obj(x, q); opt(x, 'hits', q, i32); opt(x, 'misses', q, i32); opt(x, 'sets', q, i32); });
  opt(v, 'memory_allocated', p, i64); opt(v, 'memory_peak', p, i64);
  opt(v, 'cpu_usage', p, num); opt(v, 'network_latency', p, num);
  opt(v, 'external_calls', p, (x, q) => arrayOf(x, q, externalCall));
  opt(v, 'gc_collections', p, i32); opt(v, 'gc_time', p, num); opt(v, 'thread_count', p, i32);
  opt(v, 'processing_time_ms', p, u64);
}
function monitoring(v, p) {
  obj(v, p);
  for (const k of ['server_id', 'datacenter', 'build_version', 'deployment_id', 'instance_type', 'load_balancer', 'cluster_id', 'namespace']) opt(v, k, p, str);
  opt(v, 'environment', p, (x, q) => oneOf(ENVIRONMENT, x, q));
  opt(v, 'health_status', p, (x, q) => oneOf(HEALTH_STATUS, x, q));
  opt(v, 'uptime', p, num);
}
function tracing(v, p) {
  obj(v, p);
  opt(v, 'trace_id', p, str); opt(v, 'span_id', p, str); opt(v, 'parent_span_id', p, str);
  if (v.baggage !== undefined) strMap(v.baggage, `${p}.baggage`);
  opt(v, 'sampling_rate', p, num); opt(v, 'sampled', p, bool);
  opt(v, 'trace_state', p, str); opt(v, 'operation_name', p, str);
  opt(v, 'span_kind', p, (x, q) => oneOf(SPAN_KIND, x, q));
  opt(v, 'span_status', p, (x, q) => { obj(x, q); req(x, 'code', q, (y, r) => oneOf(SPAN_STATUS_CODE, y, r)); opt(x, 'message', q, str); });
  if (v.tags !== undefined) {
    obj(v.tags, `${p}.tags`);
    for (const k in v.tags) {
      const t = typeof v.tags[k];
      if (t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(v.tags[k]))) fail(`${p}.tags.${k}`, 'expected a string, number or boolean');
    }
  }
}

/** Checks a parsed Meta; returns it or throws a TypeError naming the field. */
export function checkMeta(m) {
  const p = 'meta';
  obj(m, p);
  opt(m, 'timestamp', p, timestamp);
  opt(m, 'request_id', p, uuid);
  opt(m, 'version', p, str);
  opt(m, 'duration', p, num);
  opt(m, 'tenant', p, str);
  opt(m, 'on_behalf_of', p, onBehalfOf);
  opt(m, 'security', p, security);
  opt(m, 'debug', p, debug);
  opt(m, 'performance', p, performance);
  opt(m, 'monitoring', p, monitoring);
  opt(m, 'tracing', p, tracing);
  opt(m, 'extensions', p, obj);
  return m;
}

/** Checks a parsed envelope: an object with meta (checked) and payload (any JSON, present). */
export function checkEnvelope(e) {
  if (!isObj(e)) fail('', 'an envelope is a JSON object');
  if (!('meta' in e)) fail('meta', 'missing required field');
  if (!('payload' in e)) fail('payload', 'missing required field');
  checkMeta(e.meta);
  if (!absent(e.error)) {
    obj(e.error, 'error');
    req(e.error, 'code', 'error', str); req(e.error, 'message', 'error', str);
  }
  return e;
}
