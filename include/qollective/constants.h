/* qollective-wasm: every default and limit in one place.
 * Defaults mirror the Rust configuration (wire-format.md §6) where it has one. */
#ifndef QOLLECTIVE_CONSTANTS_H
#define QOLLECTIVE_CONSTANTS_H

/* ---- Wire protocol -------------------------------------------------------- */
#define Q_PROTOCOL_VERSION            "1.0"      /* meta.version written on new requests */
#define Q_DEFAULT_ROUTE               "/envelope"
#define Q_DEFAULT_REST_PORT           8080
#define Q_ENVELOPE_DATA_PARAM         "envelope_data" /* GET/DELETE query parameter */

/* ---- Timeouts (milliseconds) -------------------------------------------- */
#define Q_DEFAULT_REQUEST_TIMEOUT_MS  30000
#define Q_DEFAULT_CONNECT_TIMEOUT_MS  10000
#define Q_DEFAULT_WS_PING_INTERVAL_MS 30000
#define Q_DEFAULT_WS_MESSAGE_TIMEOUT_MS 10000
#define Q_MAX_TIMEOUT_MS              86400000   /* config upper bound: one day */
#define Q_MAX_TIME_MS                 253402300799999.0 /* latest instant accepted (9999-12-31T23:59:59.999Z) */

/* ---- Retry ---------------------------------------------------------------- */
#define Q_DEFAULT_RETRY_ATTEMPTS      3          /* total attempts, the first included */
#define Q_DEFAULT_RETRY_BASE_MS       1000
#define Q_DEFAULT_RETRY_MAX_MS        30000
#define Q_DEFAULT_RETRY_JITTER_PCT    20         /* +/- percent applied to each delay */
#define Q_DEFAULT_RETRY_POST          0          /* POST/PATCH are not idempotent: no retry unless configured */
#define Q_MAX_RETRY_ATTEMPTS          20

/* ---- Redirects ------------------------------------------------------------ */
#define Q_DEFAULT_MAX_REDIRECTS       5          /* hops the core follows per request (fetch allows 20) */
#define Q_CONFIG_MAX_REDIRECTS        20

/* ---- Sizes ---------------------------------------------------------------- */
#define Q_DEFAULT_MAX_ENVELOPE_BYTES  1048576    /* 1 MiB */
#define Q_DEFAULT_MAX_META_BYTES      65536      /* 64 KiB */
/* Words of the meta's tape a single decode hands the glue (include/qollective.h QT_*: three a key
 * or value; the 3 KB full meta of bench/codec-data.mjs takes 768). A longer meta gets no tape. */
#define Q_DECODE_TAPE_WORDS           3072
#define Q_DEFAULT_MAX_ERROR_BYTES     65536      /* 64 KiB: an envelope's error object, capped like the meta */
#define Q_DEFAULT_MAX_WS_MESSAGE_BYTES 16777216  /* 16 MiB */
#define Q_DEFAULT_MAX_WS_CONNECTIONS  10
#define Q_DEFAULT_WS_MAX_QUEUE        1000       /* sends buffered while (re)connecting */
#define Q_DEFAULT_MAX_DEPTH           127        /* nesting levels of a whole body: serde_json's recursion
                                                    limit (128) rejects the 128th container */
#define Q_DEFAULT_MAX_IN_FLIGHT       4096       /* requests in flight per client */
#define Q_DEFAULT_MAX_HEADER_BYTES    65536      /* the server answers 413 past this */
#define Q_MAX_META_HEADER_BYTES       4096       /* X-Qollective-Meta limit on the server */
#define Q_MAX_ERROR_MESSAGE_CHARS     200        /* user-facing error text, in characters (the glue cuts there) */
#define Q_ERROR_MESSAGE_BYTES         (4 * Q_MAX_ERROR_MESSAGE_CHARS) /* a record's message: room for that many
                                                    characters of 4 bytes, so the core never cuts a server's text short */
#define Q_MAX_ERROR_PATH_CHARS        96         /* key path kept in an error record */
#define Q_MAX_ERROR_CODE_CHARS        128        /* a server's own codes are kept whole up to this (custom codes exist, wire-format.md §3) */
#define Q_MAX_URL_BYTES               8192
#define Q_MAX_HOST_BYTES              253        /* a DNS name; longer hosts are refused */
#define Q_MAX_HEADER_COUNT            64         /* configured default headers */
#define Q_MAX_TOKEN_BYTES             8192
#define Q_MAX_TOKENS                  16         /* named tokens per client */
#define Q_MAX_TOKEN_NAME_BYTES        64
#define Q_MAX_CLIENTS                 64         /* client table size per instance */
#define Q_MAX_BATCH                   65536      /* envelopes per batch call */
#define Q_ENCODE_MAX_F64_FIXES        16         /* ".0"s encode's one-text fast path adds to a meta
                                                    (integral f64s); more and it rewrites the meta */

#define Q_MAX_QUERY_URL_BYTES         (Q_MAX_URL_BYTES * 64) /* GET/DELETE URL with envelope_data */
#define Q_MAX_RETRY_AFTER_S           86400      /* Retry-After values are capped at one day */

/* ---- Config ranges (upper bounds of the integer settings) --------------- */
#define Q_CONFIG_MAX_BYTES            0x40000000u /* any byte-size setting: 1 GiB */
#define Q_CONFIG_MAX_CONNECTIONS      1024
#define Q_CONFIG_MAX_QUEUE            1000000
#define Q_CONFIG_MAX_DEPTH            100000
#define Q_CONFIG_MAX_IN_FLIGHT        1000000
#define Q_CONFIG_MAX_TOKEN_TTL_MS     2592000000u /* security.token_ttl_ms upper bound: 30 days */

/* ---- Memory --------------------------------------------------------------- */
#define Q_PAGE_BYTES                  65536      /* WebAssembly page */
#define Q_DEFAULT_MEMORY_LIMIT_BYTES  (256u * 1024u * 1024u) /* arena cap unless configured */
#define Q_MIN_MEMORY_LIMIT_BYTES      (1u * 1024u * 1024u)
#define Q_SCRATCH_CHUNK_BYTES         65536      /* scratch grows in chunks at least this big */
#define Q_ENTROPY_BYTES               32         /* host-supplied random bytes per call that signs (its seed) */
/* Random bytes (q_entropy) the other calls need: a request id's random bits (UUID v4/v7) per
 * auto-filled envelope and per WebSocket request; a jitter seed for a socket's reconnect backoff
 * (q_ws_open) and, after the id, for a REST request's retries (q_rest_prepare). */
#define Q_ENTROPY_REQUEST_ID_BYTES    16
#define Q_ENTROPY_SEED_BYTES          4
#define Q_ENTROPY_PREPARE_BYTES       (Q_ENTROPY_REQUEST_ID_BYTES + Q_ENTROPY_SEED_BYTES)
#define Q_ERROR_JSON_BYTES            4096       /* the serialized error record never exceeds this (room for
                                                    200 escaped U+0000 in a message, 12 bytes each) */

/* ---- TLS module (dist/qollective-tls.wasm) --------------------------------- */
#define Q_TLS_MAX_PEM_BYTES           65536      /* one certificate chain, CA bundle or key */
#define Q_TLS_MAX_CHAIN_CERTS         8          /* certificates accepted in one chain */
#define Q_TLS_DEFAULT_REFRESH_MS      (30.0 * 86400000.0) /* warn this long before notAfter: 30 days */
#define Q_TLS_MAX_SAN_ENTRIES         64         /* SANs listed by inspection */
#define Q_TLS_MAX_SIGN_BYTES          1048576    /* data hashed and signed per call */
#define Q_SIGNATURE_KEY_ID_MAX_BYTES  64         /* security.signature_key_id (an RFC 9421 keyid) */
#define Q_SIGNATURE_LABEL             "sig1"     /* the Signature-Input / Signature member name */

/* ---- Glue (js-glue/qollective.js): the host's own settings. The glue names each as a constant
 * (`const NAME = value;   // Q_...`), and tests/js/constants.test.mjs holds it to the value here. */
#define Q_GLUE_ENTROPY_POOL_BYTES     4096       /* random bytes per io.random() call (getRandomValues costs
                                                    the same for 16 B as for 4 KB) */
#define Q_GLUE_WS_CORK_BYTES          65536      /* frame bytes a corked `ws` socket collects before writing */
#define Q_GLUE_UTF16_MIN_UNITS        2048       /* (Node) strings of at least this many UTF-16 units go into
                                                    the core as units (bench/string-input-ab.mjs) */
#define Q_GLUE_HOST_IDENT_MAX_CHARS   64         /* a failed fetch's error name or code kept in details (identifiers
                                                    only; a longer one is left out) */
#define Q_GLUE_LOG_HEADER_NAME_CHARS  64         /* a header name in a log record is cut there (names only, never values) */

/* ---- Identity ------------------------------------------------------------- */
#define Q_CLIENT_NAME                 "qollective-wasm"
#define Q_CLIENT_VERSION              "0.1.0"

#endif
