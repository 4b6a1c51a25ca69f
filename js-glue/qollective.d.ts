// Types for js-glue/qollective.js — the qollective-wasm client.

/** An i64/u64 meta field (Rust's i64/u64): decoded as a number when it is within
 * +-(2^53 - 1) (exact), as a BigInt with the exact value beyond; encode takes either and writes the
 * digits (a BigInt out of the field's range fails OUT_OF_RANGE with its path, as a number does). */
export type Int64 = number | bigint;

/** The envelope's meta (wire-format.md §2). Every field is optional. Only the Int64 fields can be
 * BigInts: every other number, and `extensions` (user JSON), are what JSON.parse gives. */
export interface Meta {
  timestamp?: string;
  request_id?: string;
  version?: string;
  duration?: number;
  tenant?: string;
  on_behalf_of?: { originalUser: string; delegatingUser: string; delegatingTenant: string };
  security?: {
    user_id?: string; session_id?: string;
    auth_method?: 'Unspecified' | 'OAuth2' | 'Jwt' | 'ApiKey' | 'Basic' | 'Saml' | 'Oidc' | 'None';
    permissions?: string[]; ip_address?: string; user_agent?: string; roles?: string[]; token_expires_at?: string;
  };
  debug?: {
    trace_enabled?: boolean;
    db_queries?: { query: string; duration: number; rows_affected?: number; database?: string }[];
    memory_usage?: { heap_used?: Int64; heap_total?: Int64; external?: Int64 };
    stack_trace?: string;
    environment_vars?: Record<string, string>;
    request_headers?: Record<string, string>;
    log_level?: 'Unspecified' | 'Trace' | 'Debug' | 'Info' | 'Warn' | 'Error';
    profiling_data?: { cpu_time?: number; wall_time?: number; allocations?: Int64 };
  };
  performance?: {
    db_query_time?: number; db_query_count?: number; cache_hit_ratio?: number;
    cache_operations?: { hits?: number; misses?: number; sets?: number };
    memory_allocated?: Int64; memory_peak?: Int64; cpu_usage?: number; network_latency?: number;
    external_calls?: { service: string; duration: number; status: 'Unspecified' | 'Success' | 'Error' | 'Timeout'; endpoint?: string }[];
    gc_collections?: number; gc_time?: number; thread_count?: number; processing_time_ms?: Int64;
  };
  monitoring?: {
    server_id?: string; datacenter?: string; build_version?: string; deployment_id?: string; instance_type?: string;
    load_balancer?: string; environment?: 'Unspecified' | 'Development' | 'Staging' | 'Testing' | 'Production' | 'Canary';
    cluster_id?: string; namespace?: string; health_status?: 'Unspecified' | 'Healthy' | 'Degraded' | 'Unhealthy'; uptime?: number;
  };
  tracing?: {
    trace_id?: string; span_id?: string; parent_span_id?: string; baggage?: Record<string, string>;
    sampling_rate?: number; sampled?: boolean; trace_state?: string; operation_name?: string;
    span_kind?: 'Unspecified' | 'Server' | 'Client' | 'Producer' | 'Consumer' | 'Internal';
    span_status?: { code: 'Unspecified' | 'Ok' | 'Error' | 'Timeout'; message?: string };
    tags?: Record<string, string | number | boolean>;
  };
  extensions?: Record<string, unknown>;
}

/** The error object of an envelope (wire-format.md §3). */
export interface WireError {
  code: string;
  message: string;
  details?: unknown;
  trace?: string;
  http_status_code?: number;
}

/** What you hand to encode/send: payload as a value, or as JSON text in payloadJson. */
export interface EnvelopeInput<P = unknown> {
  meta?: Meta;
  payload?: P;
  payloadJson?: string | Uint8Array;
  error?: WireError | null;
}

/** A decoded, validated envelope. meta and payload are parsed on first access. */
export declare class Envelope<P = unknown> {
  /** A plain object equal to JSON.parse of the meta's text (same values, same key order, unknown keys
   *  kept), except that an Int64 field beyond +-(2^53 - 1) is a BigInt with its exact value; made on
   *  first access from what the core read while validating it (q.decode). */
  readonly meta: Meta;
  /** JSON.parse of the payload's text (user JSON: big integers are rounded numbers, as JSON.parse gives
   *  them; encode writes a BigInt in a payload as its digits). */
  readonly payload: P;
  /** The payload's JSON bytes, not parsed (decoded from bytes: a view of them, copy it to keep it;
   *  decoded from a string: encoded on first access). */
  readonly payloadBytes: Uint8Array;
  /** The payload's JSON text, not parsed (decoded from a string: a slice of it). */
  readonly payloadText: string;
  readonly error: WireError | undefined;
  /** http_status_code of the error when it is 400-599 (as the servers do), else the status derived from its code. */
  readonly errorStatus: number | null;
  readonly requestId: string | undefined;
  toJSON(): { meta: Meta; payload: P; error?: WireError };
}

export type ErrorType =
  | 'validation' | 'serialization' | 'deserialization' | 'config' | 'transport' | 'connection'
  | 'timeout' | 'security' | 'remote' | 'external' | 'internal' | 'aborted' | 'capacity' | 'protocol';

/** Who found the failure: 'local' (this client; nothing was sent, or the caller aborted), 'network'
 * (sent or being sent, no answer: network failure, timeout, connection lost), 'envelope' (the server
 * answered with an error envelope), 'frame' (the server sent a WebSocket error frame, or a frame
 * that is not valid), 'http' (an HTTP status without an envelope, a 2xx body that is not an
 * envelope, or a redirect the client does not follow). */
export type ErrorSource = 'local' | 'network' | 'envelope' | 'frame' | 'http';

/** The one error class of the library. Messages never contain secrets or payloads. */
export declare class QollectiveError extends Error {
  readonly name: 'QollectiveError';
  readonly type: ErrorType;
  /** Stable machine code (ours, e.g. INVALID_UUID, or the server's, e.g. HANDLER_ERROR). */
  readonly code: string;
  /** What went wrong and where, at most 200 characters (Unicode scalar values, as Rust's chars()
   *  counts them; wire-format.md §6), cut at a whole character; a server's own text as it sent it,
   *  U+0000 included (only the marker bytes U+0001-U+0003 read as U+FFFD, tests/js/foreign-text.test.mjs). */
  message: string;
  readonly retryable: boolean;
  readonly retryPolicy: 'none' | 'exponential' | 'linear' | 'immediate';
  /** HTTP status when one applies. */
  readonly status: number | null;
  readonly requestId: string | null;
  /** The server's error details; for a failed fetch, what the host told: { name, code } (e.g. TypeError, ECONNREFUSED). */
  readonly details: unknown;
  /** Byte offset in the input that was wrong, when known. */
  readonly offset: number | null;
  /** Key path that was wrong, e.g. "meta.security.roles[1]". */
  readonly path: string;
  /** Where the failure came from (README "Errors say where they came from"); every failure the
   * core reports has one, null only where not classified. */
  readonly source: ErrorSource | null;
  /** The host's own exception of a failed fetch, the auth provider's error, or the AbortSignal's reason. */
  cause?: unknown;
}

/** Client configuration (all optional; defaults from include/qollective/constants.h). */
export interface ClientConfig {
  /** max_redirects: hops the core follows per request (default 5, 0-20); see README "Redirects". */
  rest?: { base_url?: string; route?: string; method?: HttpMethod; headers?: Record<string, string>; max_redirects?: number };
  /** request_ms: REST deadlines; connect_ms: the WebSocket connect deadline (see README "Configuration"). */
  timeouts?: { request_ms?: number; connect_ms?: number };
  retry?: { max_attempts?: number; base_delay_ms?: number; max_delay_ms?: number; jitter_percent?: number; retry_non_idempotent?: boolean };
  /** WebSocket transport: see README "What the WebSocket transport does" and "Configuration". */
  websocket?: { url?: string; ping_interval_ms?: number; message_timeout_ms?: number; max_message_bytes?: number; max_connections?: number; max_queue?: number; reconnect?: boolean };
  limits?: { max_envelope_bytes?: number; max_meta_bytes?: number; max_depth?: number; max_in_flight?: number; max_header_bytes?: number; max_error_bytes?: number };
  meta?: { tenant?: string; uuid_version?: 4 | 7 };
  /** client_cert_header (TLS module only, default false): send X-Client-Cert, the Base64 DER of the client's certificate (never the key), for TLS-terminating proxies.
   *  sign_requests (TLS module only, default false): RFC 9421 Signature-Input/Signature and RFC 9530 Content-Digest on every REST request and (with Node's ws) WebSocket handshake;
   *  signature_key_id: their keyid (default: the certificate's SHA-256, hex).
   *  token_ttl_ms: lifetime of a token set without expiresAt (0 = none, at most 30 days). */
  security?: { auth_token?: string; auth_scheme?: string; allowed_origins?: string[]; client_cert_header?: boolean; sign_requests?: boolean; signature_key_id?: string; token_ttl_ms?: number };
  /** level: what the client logs (default "off"); records go to the `log` sink (ClientOptions, LoadOptions). */
  log?: { level?: 'off' | 'error' | 'warn' | 'info' | 'debug' };
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SendOptions {
  method?: HttpMethod | Lowercase<HttpMethod>;
  /** Path on the server, default the configured route or "/envelope". */
  route?: string;
  /** Deadline for the whole call including retries, ms. */
  timeout?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Allow retrying this POST/PATCH (safe to repeat). */
  idempotent?: boolean;
}

/** What an `auth` provider returns; `expiresAt` as in `setToken`. */
export interface AuthToken { name: string; token: string; expiresAt?: number | Date }

export interface ClientOptions {
  /** Consulted before every request; the token is stored under `name` (see security.auth_token). */
  auth?: () => Promise<AuthToken | null | undefined> | AuthToken | null | undefined;
  /** Where this client's log records go (default: the load option `log`, else the console). */
  log?: LogSink;
}

export interface RequestOptions {
  /** Absolute deadline from now, ms (default websocket.message_timeout_ms). */
  timeout?: number;
  signal?: AbortSignal;
  /** Safe to write again on a new connection after a loss (default retry.retry_non_idempotent). */
  idempotent?: boolean;
}

/** A lifecycle event of a socket. */
export interface SocketEvent {
  state: 'connecting' | 'open' | 'reconnecting' | 'stale' | 'closed' | 'overflow' | 'error';
  /** Reconnect attempts since the last open. */
  attempt: number;
  /** reconnecting: ms until the next attempt. */
  delay?: number;
  /** reconnecting/closed: the close code and reason. */
  code?: number;
  reason?: string;
  /** overflow: server pushes refused so far because the buffer (websocket.max_queue) was full. */
  dropped?: number;
  /** error: a frame that answered no request (unsolicited error frame, malformed frame). */
  error?: QollectiveError;
  source?: ErrorSource;
}

/** A pooled WebSocket (wire-format.md §5). Many requests in flight, correlated by request id. */
export declare class Socket {
  /** True once closed for good (drain, close, eviction, or a loss with reconnect off). */
  readonly closed: boolean;
  /** Server push as a callback (no buffering); otherwise use incoming(). */
  onEnvelope: ((envelope: Envelope) => void) | null;
  onStatus: ((event: SocketEvent) => void) | null;
  request<R = unknown, P = unknown>(envelope: EnvelopeInput<P>, options?: RequestOptions): Promise<Envelope<R>>;
  /** Envelopes that answer no request. A full buffer throws QollectiveError OVERFLOW at its place. */
  incoming(): AsyncIterableIterator<Envelope>;
  events(): AsyncIterableIterator<SocketEvent>;
  /** Waits for replies in flight and the send buffer, then closes with 1000. */
  drain(): Promise<void>;
  /** Closes now; requests in flight reject with ABORTED. */
  close(): void;
  readonly info: { state: string; conn: number; queued: number; written: number; tombstones: number; pending: number; pushBuffered: number; pushDropped: number };
}

export declare class Client {
  readonly config: Required<ClientConfig>;
  /** The pooled socket for url (default websocket.url); see README "WebSocket". Throws QollectiveError BAD_MODULE on qollective-rest.wasm and in the REST glue (qollective-wasm/rest). */
  socket(url?: string | URL, options?: { WebSocket?: unknown }): Socket;
  send<R = unknown, P = unknown>(envelope: EnvelopeInput<P>, options?: SendOptions): Promise<Envelope<R>>;
  /** Requests of this client still in flight in the core (prepared, not yet resolved or rejected). */
  readonly inFlight: number;
  /** Stores a token (the core keeps the only copy). At `expiresAt` (ms since the epoch, host clock; default
   *  `security.token_ttl_ms` after now, or never) the core wipes it, on the next event it is fed or by a timer;
   *  a send that needs it then fails `NO_TOKEN` ("expired") unless the `auth` provider gives a new one. */
  setToken(name: string | Uint8Array, token: string | Uint8Array, options?: { expiresAt?: number | Date }): void;
  clearToken(name: string): boolean;
  /** TLS module: this client's CA, certificate chain and private key (PEM or DER); the key is wiped on close(). */
  setCredentials(credentials: { ca?: string | Uint8Array; cert?: string | Uint8Array; key?: string | Uint8Array }): void;
  /** TLS module: signs SHA-256(data) with the client's key: ECDSA P-256 raw r||s (64 bytes) or RSA PKCS#1 v1.5. */
  sign(data: string | Uint8Array): Uint8Array;
  /** TLS module: the client's certificate as DER (never the key). */
  certificate(): Uint8Array;
  /** Ends every request still in flight (each send rejects with ABORTED), frees the client and wipes its tokens and TLS key. */
  close(): void;
}

export interface CertificateOptions {
  /** Host name or IP literal the certificate must match (subjectAltName only, RFC 6125 wildcards). */
  host?: string;
  /** Client whose CA is used for the chain check (default: the compiled-in CA, if any). */
  client?: Client;
  /** Milliseconds since the epoch (default: the load option `now`). */
  now?: number;
}

export interface CertificateInfo {
  subject: string; issuer: string; serial: string; notBefore: string; notAfter: string;
  /** SHA-256 of the DER, upper-case hex with colons (as Node's X509Certificate.fingerprint256). */
  fingerprint256: string;
  sans: ({ type: 'dns' | 'ip'; value: string } | { type: 'other'; tag: number })[];
  keyType: 'EC' | 'RSA' | 'other'; keyBits: number; curve?: 'P-256';
  isCA: boolean; version: number; chainLength: number;
  validity: 'valid' | 'not_yet_valid' | 'expired';
  expiresInMs: number;
  /** true when expired or within refreshMs of notAfter. */
  refreshDue: boolean;
  hostMatch: boolean | null;
  trusted: boolean | null;
  trustError: { code: string; message: string } | null;
}

export interface LoadOptions {
  /** Must honour `redirect: 'manual'` (the core decides every redirect hop). */
  fetch?: typeof fetch;
  /** WebSocket constructor (browser-compatible, e.g. the `ws` package in Node 20, which has no global WebSocket); default globalThis.WebSocket. */
  WebSocket?: unknown;
  /** Fills a buffer with cryptographically strong random bytes (default crypto.getRandomValues). */
  random?: (buf: Uint8Array) => unknown;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** Cap on the core's linear memory, bytes. */
  memoryLimit?: number;
  /** Default log sink of this instance's clients (default: the console); see `ClientConfig.log`. */
  log?: LogSink;
  /** Host TLS transport factory for mutual TLS in Node (`nodeTls` from js-glue/node-tls.js), TLS module only:
   *  called once per client with its credentials (setCredentials, else the compiled-in set), whose byte
   *  copies the glue wipes once it returns. REST and WebSocket of that client then go through it. */
  tls?: (credentials: HostCredentials) => HostTls;
}

/** Credentials handed to the host TLS stack: PEM or DER; any part may be empty. */
export interface HostCredentials { ca: string | Uint8Array; cert: string | Uint8Array; key: string | Uint8Array }
/** What a host TLS factory returns: a fetch (honouring redirect: 'manual'), the WebSocket class wrapper, close(). */
export interface HostTls {
  fetch: typeof fetch;
  socketClass(WebSocket: unknown): unknown;
  close(): void;
}

/** One log record: `level`, `event` (e.g. `rest.send`, `rest.failed`, `token.set`, `ws.status`) and only
 *  these fields; URLs are origin + path, headers are names. Never a token, header value, key or payload. */
export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  event: string;
  requestId?: string; method?: string; url?: string; status?: number; attempt?: number; delay?: number;
  code?: string; type?: string; source?: string; message?: string; state?: string; bytes?: number;
  name?: string; expiresAt?: number; count?: number; headers?: string[];
}
export type LogSink = (record: LogRecord) => void;

export interface MemoryStats { limit: number; footprint: number; persistent: number; scratch: number; clients: number }

export declare class Qollective {
  /** Loads a module (qollective.wasm, qollective-rest.wasm, qollective-codec.wasm or qollective-tls.wasm) from a URL, a file path (Node), a Response, bytes or a compiled module. */
  static load(source: string | URL | Response | Promise<Response> | BufferSource | WebAssembly.Module, options?: LoadOptions): Promise<Qollective>;
  /** Which module was loaded, told by its exports: 'client' (qollective.wasm), 'rest' (qollective-rest.wasm: the client without WebSocket), 'codec' (qollective-codec.wasm, no clients) or 'tls' (qollective-tls.wasm: the client plus certificates and signing). */
  readonly module: 'client' | 'rest' | 'codec' | 'tls';
  /** Throws QollectiveError BAD_MODULE on the codec module (load qollective.wasm for clients). */
  client(config?: ClientConfig | string, options?: ClientOptions): Client;
  decode<P = unknown>(data: Uint8Array | string, client?: number): Envelope<P>;
  encode(envelope: EnvelopeInput, options?: { autofill?: boolean }, client?: number): Uint8Array;
  decodeMany(list: (Uint8Array | string)[], client?: number): (Envelope | QollectiveError)[];
  encodeMany(list: EnvelopeInput[], options?: { autofill?: boolean }, client?: number): Uint8Array[];
  validateJson(doc: Uint8Array | string, maxDepth?: number): void;
  memoryStats(): MemoryStats;
  /** true when the loaded module is dist/qollective-tls.wasm; the methods below throw TLS_UNAVAILABLE otherwise. */
  readonly hasTls: boolean;
  inspectCertificate(cert: string | Uint8Array, options?: CertificateOptions & { refreshMs?: number }): CertificateInfo;
  /** Throws CERT_EXPIRED, CERT_NOT_YET_VALID, CERT_WRONG_HOST, CERT_UNTRUSTED or a parse error; returns when good. */
  checkCertificate(cert: string | Uint8Array, options?: CertificateOptions): void;
  sha256(data: string | Uint8Array): Uint8Array;
  hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Uint8Array;
  /** What `make CERTS=dir` compiled in. */
  embeddedCredentials(): { ca: boolean; cert: boolean; key: boolean };
  /** Zeroes the compiled-in private key in linear memory. */
  wipeEmbeddedKey(): void;
}
