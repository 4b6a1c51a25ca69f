/* qollective-wasm: the exports of dist/qollective.wasm, one line of contract each.
 *
 * Conventions (design.md "ABI conventions"):
 * - Every call returns a status: >= 0 success (a count, size or handle), < 0 failure.
 *   On failure q_error_ptr()/q_error_len() hold the error record: UTF-8 text fields separated by
 *   NUL bytes (Q_ERROR_RECORD_BYTES below).
 * - Input: the host asks q_buffer(n) for a buffer, writes bytes, then calls. Output: the
 *   region q_output_ptr()/q_output_len() of the last call, valid until the next call.
 * - Any call may grow memory: hosts re-create their views of memory after each call.
 * - Time and randomness come in from the host: now_ms arguments and q_entropy(n) bytes.
 * - Client handles come from q_client_new; -1 where a client is optional means defaults. */
#ifndef QOLLECTIVE_H
#define QOLLECTIVE_H
#include <stdint.h>

/* Words in one decode record (i32 each), in this order. Offsets are into the input buffer.
 * QD_META_NEEDS_TAPE: 1 when an i64/u64 field of the meta is beyond +-(2^53 - 1) (the tape's QT_BIG) or an
 * enum is in map form ({"Jwt":null}, the name on the tape), so a host reading the meta's text
 * without the tape knows it must not parse it with JSON.parse alone. */
#define Q_DECODE_RECORD_WORDS 14
enum {
    QD_META_OFF, QD_META_LEN, QD_PAYLOAD_OFF, QD_PAYLOAD_LEN, QD_ERROR_OFF, QD_ERROR_LEN,
    QD_ERROR_STATUS, QD_ERROR_CODE_OFF, QD_ERROR_CODE_LEN, QD_ERROR_MESSAGE_OFF,
    QD_ERROR_MESSAGE_LEN, QD_REQUEST_ID_OFF, QD_REQUEST_ID_LEN, QD_META_NEEDS_TAPE
};

/* After a single decode's record (q_envelope_decode): one word, the length in words
 * of the meta's tape, then the tape: entries of three words [kind, start, len], start an offset
 * into the meta object, one per key and value as the meta's bytes hold them, so the glue builds
 * the meta object without parsing its text again. Length 0: no tape (the meta needed more than
 * Q_DECODE_TAPE_WORDS words); the glue then parses the text. Kinds (the low 8 bits of kind):
 *   QT_OBJECT, QT_ARRAY  len = its member count; the members follow (an object's: key, value)
 *   QT_STRING            a string value's body as written (escapes possible)
 *   QT_PRIMITIVE         a number's text, true, false or null
 *   QT_FIELD             a key spelled as a meta field's name: kind >> 8 is the field's index in
 *                        the envelope's schema set, [start, start + len) the name
 *   QT_KEY               any other key: its string body as written (escapes possible)
 *   QT_RAW               a value's whole JSON text (extensions, an unknown key's value)
 *   QT_BIG               an i64/u64 field's integer beyond +-(2^53 - 1), its digits: a JS number
 *                        would lose them, so the glue makes it a BigInt (an f64's stays QT_PRIMITIVE) */
enum { QT_OBJECT = 1, QT_ARRAY, QT_STRING, QT_PRIMITIVE, QT_FIELD, QT_KEY, QT_RAW, QT_BIG };

/* The error record behind q_error_ptr()/q_error_len() (src/error.c q_error_record): eight text
 * fields, each but the last followed by a NUL byte, so the core needs no JSON writer for its own
 * failures and the glue splits it in one call:
 *   type \0 code \0 message \0 retryPolicy \0 status \0 offset \0 path \0 source
 * status (HTTP) and offset are decimal, empty when there is none; retryable is
 * retryPolicy != "none". At most Q_ERROR_RECORD_BYTES. */
#define Q_ERROR_RECORD_BYTES (Q_MAX_ERROR_CODE_CHARS + Q_MAX_ERROR_PATH_CHARS + Q_ERROR_MESSAGE_BYTES + 128)

/* Encode flags. */
#define Q_ENCODE_AUTOFILL 1   /* add timestamp, request_id (needs 16 entropy bytes), version, default tenant */

/* Starts (or restarts) the instance with a memory cap in bytes (0 = default). */
int32_t q_init(uint32_t memory_limit_bytes);
/* Pointer to an input buffer of at least n bytes (0 when out of memory). Keeps contents up to the old size. */
uint32_t q_buffer(uint32_t n);
/* Pointer to an entropy buffer of n bytes the host fills from a CSPRNG before a call that needs it. */
uint32_t q_entropy(uint32_t n);
uint32_t q_output_ptr(void);
uint32_t q_output_len(void);
uint32_t q_error_ptr(void);
uint32_t q_error_len(void);

/* Validates input[0..len) as one JSON document (max_depth 0 = default). */
int32_t q_json_validate(uint32_t len, uint32_t max_depth);
/* Decodes the envelope in input[0..len); output = one decode record, then the meta's tape (QT_*). */
int32_t q_envelope_decode(uint32_t len, int32_t client);
/* The tape (QT_*, as above, with room for all of it) of the meta object in input[0..len), walked
 * with the default limits, its offsets and text lengths in UTF-16 units (the glue's string) instead of
 * bytes: for a meta text the glue holds without its decode's tape (not ASCII, too long for it, from
 * REST or WebSocket, or read after a later decode). Returns its length in words; output = the words. */
int32_t q_meta_tape(uint32_t len);
/* Encodes input = meta | payload | error (lengths given, any may be 0); output = envelope bytes. */
int32_t q_envelope_encode(uint32_t meta_len, uint32_t payload_len, uint32_t error_len, uint32_t flags, double now_ms, int32_t client);
/* Encodes input[0..len) of items [u32le meta_len][meta][u32le payload_len][payload]...;
 * entropy holds 16 bytes per item when autofilling; output = [u32le length][envelope]... .
 * Stops at the first failing item (error record names it by index). Returns the count. */
int32_t q_envelope_encode_batch(uint32_t len, uint32_t flags, double now_ms, int32_t client);
/* Output = the canonical form (36 bytes, lowercase hyphenated) of the UUID whose JSON string
 * body (escapes allowed, any shape the uuid crate accepts) is input[0..len): e.g. the
 * request_id a decode record points at. Returns 36. */
int32_t q_uuid_canonical(uint32_t len);
/* 1 when input[off..off+len) holds U+FFFD (bytes EF BF BD), 0 when not: TextEncoder writes a lone
 * surrogate as U+FFFD, so the glue needs no well-formedness pass over a string's slice without it. */
int32_t q_has_replacement(uint32_t off, uint32_t len);
/* Rewrites the `units` UTF-16LE code units in input[off..off+2*units) as UTF-8 from input[off] on, as
 * TextEncoder writes them (a lone surrogate becomes U+FFFD). Returns the UTF-8 length times 2, plus
 * 1 when a lone surrogate was replaced; 0 when the UTF-8 would not fit in place (text dense in
 * 3-byte characters) or units is 0: the host then encodes the string itself. The output (when not
 * 0): two words, the offset of the UTF-8's first byte >= 0x80 (its length when none) and the offset
 * after its last (0 when none), so the host knows where byte offsets are string offsets. Not in the
 * codec module (Node's fast string input: the glue copies a string's units with Buffer#write). */
int32_t q_input_utf16(uint32_t off, uint32_t units);

/* Creates a client from the JSON config in input[0..len) (len 0 = defaults). Returns a handle. */
int32_t q_client_new(uint32_t len);
/* Destroys a client, wiping its secrets. */
int32_t q_client_free(int32_t client);
/* Output = the client's effective configuration as JSON. */
int32_t q_client_config(int32_t client);
/* The client's log.level: 0 off, 1 error, 2 warn, 3 info, 4 debug (the glue logs; see README "Logging"). */
int32_t q_client_log_level(int32_t client);
/* Stores a named token: input = name | value (visible ASCII). expires_at_ms (ms since the
 * epoch, host clock) 0 = security.token_ttl_ms after now_ms, or never when that is 0. Every
 * export that takes a client and now_ms first wipes the client's tokens whose expiry is at or
 * before now_ms; a send needing a wiped token fails NO_TOKEN ("expired"). Replaced, cleared
 * and expired values are wiped (volatile stores); a token already expired is not kept.
 * Output = the expiry in effect as a little-endian f64 (0 = none), for the host's timer. */
int32_t q_token_set(int32_t client, uint32_t name_len, uint32_t value_len, double expires_at_ms, double now_ms);
/* Feeds the clock alone (the host's timer at a token's expiry): wipes the client's expired
 * tokens; returns how many it wiped. */
int32_t q_token_expire(int32_t client, double now_ms);
/* Removes a named token (wiped); returns 1 if it existed, 0 if not. */
int32_t q_token_clear(int32_t client, uint32_t name_len);

/* REST (wire-format.md §4). Requests live in the client from prepare until they resolve or
 * reject; every response/failure/attempt call outputs an action JSON:
 *   {"action":"resolve","record":[...decode record words...]}   offsets into the input buffer
 *   {"action":"retry","delay":ms,"attempt":n}                    wait, then q_rest_attempt
 *   {"action":"send","attempt":n}                                send the same request again
 *   {"action":"redirect",...}                                    follow (q_rest_redirect only)
 *   {"action":"reject","error":"<error record>","requestId":"...","details":<json>|null}
 *     (the error record as q_error_ptr gives it, above, in a JSON string: NULs as \u0000)
 * Prepare: input = meta | payload | options JSON ({method, route, timeout_ms, headers, idempotent});
 * entropy = 20 bytes (52 with security.sign_requests: 32 seed the signature). Returns the plan's length; output = plan JSON
 * {method,url,headers,id,timeout,deadline,requestId,body} followed by `body` bytes of request body.
 * A request id is an integer below 2^53 (exact as a JS number), passed back as a double. */
int32_t q_rest_prepare(int32_t client, uint32_t meta_len, uint32_t payload_len, uint32_t options_len, double now_ms);
/* A response: input = body | content type | Retry-After value. */
int32_t q_rest_response(int32_t client, double id, int32_t status, uint32_t body_len, uint32_t type_len, uint32_t retry_after_len, double now_ms);
/* No response: kind 1 network (incl. CORS), 2 timeout, 3 aborted by the caller. */
int32_t q_rest_failure(int32_t client, double id, int32_t kind, double now_ms);
/* A network failure the host names: input = its error identifier (Node's err.code, e.g.
 * ERR_TLS_CERT_ALTNAME_INVALID). TLS failures reject with TLS_HANDSHAKE (kind security, source
 * network, not retried); any other identifier is q_rest_failure kind 1. */
int32_t q_rest_failure_code(int32_t client, double id, uint32_t code_len, double now_ms);
/* A redirect answered the attempt: input = the URL requested | its Location; status 0 when
 * the host hides the target (browser opaque redirect). Output: a redirect action
 * {"action":"redirect","url","method","body":bool,"headers":[from,to],"attempt"} — send the
 * next hop with the plan's headers[from..to) (to -1: to the end), the body only when true —
 * or a reject (ORIGIN_DENIED, TOO_MANY_REDIRECTS, REDIRECT_HIDDEN, HTTP_STATUS). */
int32_t q_rest_redirect(int32_t client, double id, int32_t status, uint32_t url_len, uint32_t location_len, double now_ms);
/* The backoff timer of a retry fired. */
int32_t q_rest_attempt(int32_t client, double id, double now_ms);
/* How many requests of the client are in flight (prepared, not yet resolved or rejected). */
int32_t q_rest_in_flight(int32_t client);

/* WebSocket (wire-format.md §5; full client module only). Every call below outputs the actions
 * the host carries out, as little-endian 32-bit words the host reads without a parse: first L,
 * the byte length of the words (L itself included), then one record per action, then bytes the
 * records point into ("at" and "n" are offsets into those bytes, which start at output + L, or
 * into the frame the host passed for resolve/push). The output is empty when there is nothing to
 * do. The return value is L (q_ws_open: the socket handle). A record is (op | words << 8), s (the
 * socket handle), then the op's words; `words` counts the whole record:
 *   1 json {at,n}             a rare action whose fields are the JSON object at [at, at+n), with
 *                             "op" and "s" and the fields listed below
 *   2 request {r,id,at,n,keep} the frame of the new request r: keep its text (send it when told);
 *                             its request id is the 36 bytes at `id`; keep 0: it is sent at most
 *                             once (not idempotent), so the text may be dropped after its send
 *   3 send {r}                send request r's frame on the current connection
 *   4 timer {in}              call q_ws_event(TICK) in `in` ms (replaces the socket's timer)
 *   5 ping {at,n}             send these bytes as a text frame
 *   6 resolve {r,at,n,rec[13]} request r's reply: envelope = frame[at..at+n), rec = decode record
 *   7 push {d,at,n,rec[13]}   an envelope no request waits for (server push); d = 1: it went to
 *                             a consumer the host said was waiting (not counted in the buffer)
 * JSON actions:
 *   connect {g,url,sign?}     open a WebSocket (no subprotocol); tag its events with connection g;
 *                             sign: add the headers of q_tls_sign_handshake where the host can
 *   close {g,code,reason,flush} close connection g (flush: once bufferedAmount is 0); discard it
 *   reject {r,source,requestId,error,details}  request r failed; source local|network|envelope|frame
 *   status {state,attempt,...} lifecycle: connecting|open|reconnecting{delay,code,reason}|stale|
 *                             closed{code,reason}|overflow{dropped}|error{source,error}
 * Opens the pooled socket for the URL in input[0..url_len) (0 = websocket.url); entropy = 4 bytes. */
int32_t q_ws_open(int32_t client, uint32_t url_len, double now_ms);
/* New request: input = meta | payload; timeout_ms < 0 = websocket.message_timeout_ms; idempotent
 * -1 = config (retry.retry_non_idempotent), 0/1; entropy = 16 bytes. */
int32_t q_ws_request(int32_t client, int32_t sock, uint32_t meta_len, uint32_t payload_len, double timeout_ms, int32_t idempotent, double now_ms);
/* A text frame of connection conn arrived: input = its UTF-8 bytes. */
int32_t q_ws_message(int32_t client, int32_t sock, uint32_t conn, uint32_t len, double now_ms);
/* A host event of connection conn: kind 1 opened, 2 closed (code, input = reason), 3 timer fired,
 * 4 binary frame, 5 text frame too long to copy (code = its length in UTF-16 units), 6 the
 * connection failed and the host names why (code = close code, input = the host's error
 * identifier): a TLS failure closes the socket for good, rejecting every request with
 * TLS_HANDSHAKE (no reconnect heals a refused certificate); anything else is event 2. */
int32_t q_ws_event(int32_t client, int32_t sock, uint32_t conn, int32_t kind, int32_t code, uint32_t reason_len, double now_ms);
/* The caller aborted request req (nothing happens when it already ended). */
int32_t q_ws_abort(int32_t client, int32_t sock, uint32_t req, double now_ms);
/* No new requests; close with 1000 once nothing is in flight. */
int32_t q_ws_drain(int32_t client, int32_t sock, double now_ms);
/* Closes now: every request rejects ABORTED; the handle is freed. */
int32_t q_ws_close(int32_t client, int32_t sock, double now_ms);
/* The host handed n buffered pushes to the application (frees room in the push buffer), and
 * `ready` consumers wait for a push right now (an iterator's pending next, or a callback: 1):
 * the next `ready` pushes go straight to them, also with websocket.max_queue 0 (no buffer). */
int32_t q_ws_taken(int32_t client, int32_t sock, uint32_t n, uint32_t ready);
/* Output = {"state","conn","queued","written","tombstones","pending","pushBuffered","pushDropped"}. */
int32_t q_ws_info(int32_t client, int32_t sock);

/* Output = Q_MEMORY_STATS_WORDS u32 words: limit, footprint, persistent, scratch (bytes), clients. */
#define Q_MEMORY_STATS_WORDS 5
int32_t q_memory_stats(void);

/* ---- TLS module only (dist/qollective-tls.wasm; src/tls/api_tls.c) -------------------
 * Every export takes a client first (-1 = none, ignored by those that need none), then the
 * input lengths. Certificates and keys are PEM (one or more blocks) or DER. client -1: the
 * compiled-in credentials (make CERTS=dir) are used. Named errors: CERT_BAD_PEM,
 * CERT_BAD_DER, CERT_TRUNCATED, CERT_WRONG_TYPE, CERT_EXPIRED, CERT_NOT_YET_VALID,
 * CERT_WRONG_HOST, CERT_UNTRUSTED, KEY_INVALID, TLS_NO_CREDENTIALS. */
/* Input = ca | cert chain | key (any may be empty; all empty clears). Replaces the client's
 * set once the new one parsed; the key must match the certificate; key bytes in the input
 * buffer are wiped. The client's key is wiped on q_client_free. */
int32_t q_tls_credentials(int32_t client, uint32_t ca_len, uint32_t cert_len, uint32_t key_len);
/* Input = cert | host (host may be empty). Output = JSON {subject, issuer, serial,
 * notBefore, notAfter, fingerprint256, sans:[{type:"dns"|"ip"|"other",value}], keyType,
 * keyBits, curve?, isCA, version, chainLength, validity:"valid"|"not_yet_valid"|"expired",
 * expiresInMs, refreshDue, hostMatch:bool|null, trusted:bool|null, trustError:{code,message}|null}.
 * refresh_ms <= 0 means Q_TLS_DEFAULT_REFRESH_MS. */
int32_t q_tls_cert_inspect(int32_t client, uint32_t cert_len, uint32_t host_len, double now_ms, double refresh_ms);
/* Input = cert | host. 0, or the first failing check: validity, host, chain to the CA. */
int32_t q_tls_cert_check(int32_t client, uint32_t cert_len, uint32_t host_len, double now_ms);
/* Output = SHA-256 of the input (32 bytes). */
int32_t q_tls_sha256(int32_t client, uint32_t len);
/* Input = key | data. Output = HMAC-SHA-256 (32 bytes); the key is wiped from the input. */
int32_t q_tls_hmac_sha256(int32_t client, uint32_t key_len, uint32_t len);
/* Signs SHA-256(input) with the client's key; entropy = 32 bytes (blinding). Output = ECDSA
 * P-256 r||s (64 bytes) or RSA PKCS#1 v1.5. */
int32_t q_tls_sign(int32_t client, uint32_t len);
/* Output = the client's certificate, DER (never the key). */
int32_t q_tls_client_cert(int32_t client);
/* Output = {"ca":bool,"cert":bool,"key":bool}: what was compiled in. */
int32_t q_tls_embedded(int32_t client);
/* Output = the compiled-in ca, cert and key PEM, each as [u32le length][bytes], for the host's
 * TLS stack only (Node mTLS); the host wipes its copies, scratch is wiped before the next call. */
int32_t q_tls_host_credentials(int32_t client);
/* The RFC 9421 signature headers of a WebSocket handshake (security.sign_requests): input = the
 * socket URL (signed as its http(s) form); entropy = 32 bytes. Output = JSON
 * [["Signature-Input",".."],["Signature",".."]]. */
int32_t q_tls_sign_handshake(int32_t client, uint32_t url_len, double now_ms);
/* Zeroes the compiled-in private key in linear memory. */
int32_t q_tls_wipe_embedded(int32_t client);
#endif
