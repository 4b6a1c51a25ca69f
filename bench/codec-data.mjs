// Deterministic benchmark envelopes: a request meta, a compact and a realistic full meta
// (every section of wire-format.md §2), and nested payloads grown to a byte size.
// Objects are built with keys in the Rust struct order, so JSON.stringify of a meta is
// already in our canonical order.

/** A small seeded PRNG (mulberry32), so every run benchmarks the same bytes. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a client sends on an ordinary request. */
export function requestMeta() {
  return {
    timestamp: '2024-03-01T12:00:00.123Z',
    request_id: '0190a3f2-1234-7abc-8def-0123456789ab',
    version: '1.0',
    tenant: 'acme-corp',
    tracing: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', sampled: true },
  };
}

/** Every section present with a few short fields: the smallest "full" meta (~1 KB). */
export function compactFullMeta() {
  return {
    timestamp: '2024-03-01T12:00:00.123Z',
    request_id: '0190a3f2-1234-7abc-8def-0123456789ab',
    version: '1.0',
    duration: 12.5,
    tenant: 'acme',
    on_behalf_of: { originalUser: 'alice', delegatingUser: 'svc-gw', delegatingTenant: 'acme' },
    security: { user_id: 'u-4711', session_id: 's-9f2c', auth_method: 'Jwt', permissions: ['orders:read'], roles: ['user'], token_expires_at: '2024-03-01T13:00:00Z' },
    debug: { trace_enabled: false, db_queries: [{ query: 'SELECT 1', duration: 0.4 }], log_level: 'Info' },
    performance: { db_query_time: 0.4, db_query_count: 1, cache_hit_ratio: 0.9, external_calls: [{ service: 'auth', duration: 3.1, status: 'Success' }], processing_time_ms: 12 },
    monitoring: { server_id: 'api-7', datacenter: 'fra1', environment: 'Production', health_status: 'Healthy', uptime: 86400.5 },
    tracing: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', sampled: true, span_kind: 'Server', span_status: { code: 'Ok' }, tags: { 'http.status_code': 200 } },
    extensions: { region: 'eu-central-1' },
  };
}

/** A realistic full meta: every section, every field, plausible values (~2.5 KB). */
export function fullMeta() {
  return {
    timestamp: '2024-03-01T12:00:00.123456Z',
    request_id: '0190a3f2-1234-7abc-8def-0123456789ab',
    version: '1.0',
    duration: 45.75,
    tenant: 'acme-corp',
    on_behalf_of: { originalUser: 'alice@example.com', delegatingUser: 'svc-gateway', delegatingTenant: 'acme-corp' },
    security: {
      user_id: 'user-4711', session_id: 'sess-9f2c1e7a-55d0', auth_method: 'Jwt',
      permissions: ['orders:read', 'orders:write', 'inventory:read', 'reports:export'],
      ip_address: '203.0.113.42',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36',
      roles: ['admin', 'ops'], token_expires_at: '2024-03-01T13:00:00Z',
    },
    debug: {
      trace_enabled: true,
      db_queries: [
        { query: 'SELECT id, sku, name FROM items WHERE tenant = $1 AND updated_at > $2 ORDER BY id LIMIT 500', duration: 4.25, rows_affected: 500, database: 'catalog' },
        { query: 'SELECT count(*) FROM items WHERE tenant = $1', duration: 1.5, rows_affected: 1, database: 'catalog' },
        { query: 'UPDATE sessions SET last_seen = now() WHERE id = $1', duration: 0.75, rows_affected: 1, database: 'auth' },
      ],
      memory_usage: { heap_used: 48234496, heap_total: 67108864, external: 1048576 },
      stack_trace: 'at handler (src/routes/items.rs:142:9)\n\tat dispatch (src/router.rs:57:13)\n\tat "tokio::runtime" (worker.rs:411)',
      environment_vars: { RUST_LOG: 'info,catalog=debug', REGION: 'eu-central-1', FEATURE_SET: 'v2' },
      request_headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': '203.0.113.42' },
      log_level: 'Debug',
      profiling_data: { cpu_time: 31.2, wall_time: 45.75, allocations: 18233 },
    },
    performance: {
      db_query_time: 6.5, db_query_count: 3, cache_hit_ratio: 0.875,
      cache_operations: { hits: 14, misses: 2, sets: 2 },
      memory_allocated: 2097152, memory_peak: 50331648, cpu_usage: 0.42, network_latency: 1.8,
      external_calls: [
        { service: 'pricing', duration: 12.4, status: 'Success', endpoint: 'https://pricing.internal/v1/quote' },
        { service: 'stock', duration: 30.1, status: 'Timeout', endpoint: 'https://stock.internal/v2/levels' },
      ],
      gc_collections: 2, gc_time: 0.9, thread_count: 16, processing_time_ms: 45,
    },
    monitoring: {
      server_id: 'api-7f9c', datacenter: 'fra1', build_version: '3.14.2+build.2071', deployment_id: 'dep-2024-03-01-01',
      instance_type: 'c6i.xlarge', load_balancer: 'lb-eu-central-1a', environment: 'Production',
      cluster_id: 'k8s-prod-eu', namespace: 'catalog', health_status: 'Healthy', uptime: 1209600.25,
    },
    tracing: {
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', parent_span_id: 'b9c7c989f97918e1',
      baggage: { 'user.tier': 'gold', 'client.app': 'web-shop' },
      sampling_rate: 0.25, sampled: true, trace_state: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      operation_name: 'GET /v1/items', span_kind: 'Server', span_status: { code: 'Ok', message: 'completed' },
      tags: { 'http.method': 'GET', 'http.status_code': 200, 'cache.hit': false, 'db.rows': 500 },
    },
    extensions: {
      feature_flags: { new_pricing: true, beta_search: false },
      client: { name: 'web-shop', version: '5.2.0', locale: 'de-DE' },
      experiments: [{ id: 'exp-12', variant: 'B' }, { id: 'exp-19', variant: null }],
    },
  };
}

const NAMES = ['Widget', 'Gadget', 'Sprocket', 'Flange', 'Gizmo', 'Doohickey', 'Bracket', 'Spindle'];
const INTL = ['Müller GmbH', 'Ærøskøbing Værft', 'café naïve', '東京ファクトリー', 'Łódź Sp. z o.o.', 'São Paulo Ltda', 'Κατασκευή ΑΕ', 'Ёлка ООО', 'shipping 📦 fast'];
const CITIES = ['Berlin', 'Zürich', 'Kraków', 'Malmö', 'Lyon', 'Osaka', 'Porto', 'Québec'];
const EVENTS = ['created', 'priced', 'restocked', 'reviewed', 'shipped'];
const WORDS = ['durable', 'lightweight', 'stainless', 'ergonomic', 'modular', 'compact', 'weatherproof', 'certified', 'recycled', 'premium'];

function pick(r, a) { return a[Math.floor(r() * a.length)]; }
function sentence(r, n) {
  const w = [];
  for (let i = 0; i < n; i++) w.push(pick(r, WORDS));
  return w.join(' ');
}

/** One catalogue item: strings (some non-ASCII, some with escapes), numbers, booleans,
 *  nulls, nested objects down to depth 6 (payload > items > item > supplier > address > geo). */
function item(r, i) {
  const intl = r() < 0.3;
  return {
    id: 100000 + i,
    sku: `SKU-${(i * 7919) % 100000}`.padEnd(10, '0'),
    name: `${pick(r, NAMES)} ${intl ? pick(r, INTL) : pick(r, NAMES)} ${i}`,
    description: r() < 0.25
      ? `${sentence(r, 6)}.\nSize: 3/4" \\ M8 — "${pick(r, WORDS)}"\tgrade A`
      : `${sentence(r, 8)}.`,
    price: Math.round(r() * 100000) / 100,
    currency: 'EUR',
    quantity: Math.floor(r() * 1000),
    active: r() < 0.8,
    discontinued_at: r() < 0.9 ? null : '2023-12-31T00:00:00Z',
    rating: r() < 0.2 ? null : Math.round(r() * 50) / 10,
    tags: [pick(r, WORDS), pick(r, WORDS), pick(r, EVENTS)],
    dimensions: { w: Math.round(r() * 500) / 10, h: Math.round(r() * 500) / 10, d: Math.round(r() * 500) / 10, unit: 'cm' },
    supplier: {
      id: `sup-${Math.floor(r() * 5000)}`,
      name: intl ? pick(r, INTL) : `${pick(r, NAMES)} Supplies`,
      address: {
        street: `${Math.floor(r() * 200) + 1} Industriestraße`,
        city: pick(r, CITIES),
        country: pick(r, ['DE', 'CH', 'PL', 'SE', 'FR', 'JP', 'PT', 'CA']),
        geo: { lat: Math.round((r() * 180 - 90) * 1e6) / 1e6, lon: Math.round((r() * 360 - 180) * 1e6) / 1e6, verified: r() < 0.5 },
      },
    },
    history: [
      { at: '2024-02-28T09:15:00Z', event: pick(r, EVENTS), by: { user: 'u-4711', role: 'editor' } },
      { at: '2024-02-29T17:42:31Z', event: pick(r, EVENTS), by: { user: 'u-0815', role: null } },
    ],
  };
}

const te = new TextEncoder();
const byteLen = (env) => te.encode(JSON.stringify(env)).length;

/** A payload of catalogue items such that {meta, payload} is `target` bytes (a trailing
 *  ASCII remark absorbs the rest). Targets below meta + 40 bytes get a tiny payload. */
export function payloadFor(meta, target) {
  const tiny = { ok: true, id: 42, status: 'accepted' };
  if (byteLen({ meta, payload: tiny }) >= target - 40) return tiny;
  const r = rng(0x5eed ^ target);
  const payload = { page: { number: 1, size: 0, total: 0, next: null }, generated_at: '2024-03-01T12:00:00Z', items: [] };
  let size = byteLen({ meta, payload });
  for (let i = 0; ; i++) {
    const it = item(r, i);
    const add = te.encode(JSON.stringify(it)).length + (i ? 1 : 0);
    if (size + add > target - 16) break;
    payload.items.push(it);
    size += add;
  }
  payload.page.size = payload.items.length;
  payload.page.total = payload.items.length * 37;
  payload.remark = '';
  const rest = target - byteLen({ meta, payload });
  let remark = '';
  while (remark.length < rest) remark += `${pick(r, WORDS)} `;
  payload.remark = remark.slice(0, Math.max(0, rest));
  return payload;
}
