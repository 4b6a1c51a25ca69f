/* Client configuration: a JSON document (snake_case sections like the Rust config),
 * validated strictly (unknown keys and wrong types are errors naming the key path),
 * range-checked, defaults from constants.h. */
#ifndef Q_CONFIG_H
#define Q_CONFIG_H
#include "base.h"
#include "error.h"
#include "envelope.h"

typedef struct { uint8_t *ptr; uint32_t len; } q_str;   /* owned, persistent, decoded */

typedef enum { HM_GET, HM_POST, HM_PUT, HM_PATCH, HM_DELETE, HM_COUNT_ } q_http_method;

typedef struct {
    /* rest */
    q_str base_url;              /* "" when not configured */
    q_str route;                 /* default Q_DEFAULT_ROUTE */
    uint8_t method;              /* q_http_method, default POST */
    q_str headers_json;          /* compact JSON object of default headers, "" when none */
    uint32_t max_redirects;      /* redirect hops followed per request, 0 = none */
    /* timeouts */
    uint32_t request_timeout_ms, connect_timeout_ms;
    /* retry */
    uint32_t retry_max_attempts, retry_base_ms, retry_max_ms, retry_jitter_pct;
    bool retry_non_idempotent;
    /* websocket */
    q_str ws_url;
    uint32_t ws_ping_interval_ms, ws_message_timeout_ms, ws_max_message_bytes, ws_max_connections, ws_max_queue;
    bool ws_reconnect;
    /* limits */
    env_limits limits;
    uint32_t max_in_flight, max_header_bytes;
    /* meta defaults for outgoing envelopes */
    q_str tenant;
    uint32_t uuid_version;       /* 4 or 7 (a word like the other integer settings) */
    /* security */
    q_str auth_token_name;       /* token store entry sent as Authorization, "" = none */
    q_str auth_scheme;           /* default "Bearer" */
    q_str allowed_origins_json;  /* compact JSON array, "" = any */
    bool client_cert_header;     /* TLS module: send X-Client-Cert (Base64 DER of the client's certificate) */
    bool sign_requests;          /* TLS module: RFC 9421 signatures + RFC 9530 Content-Digest */
    q_str signature_key_id;      /* their keyid, "" = the certificate's SHA-256 (hex) */
    uint32_t token_ttl_ms;       /* lifetime of a token set without an expiry, 0 = none */
    /* log */
    uint8_t log_level;           /* 0 off (default), 1 error, 2 warn, 3 info, 4 debug */
} q_config;

/* Fills defaults only. */
void config_defaults(q_config *c);
/* Parses and validates; on failure the config is left with defaults and nothing leaks. */
int config_parse(q_config *c, const uint8_t *json, uint32_t len, q_error *err);
/* Releases owned strings. */
void config_free(q_config *c);
/* Writes the effective configuration (defaults resolved) as compact JSON. */
int config_to_json(const q_config *c, q_buf *out);

/* Whether a request or socket may go to the origin of the URL url[0..n) (http, https, ws or
 * wss; ws counts as http, wss as https; see origin.h): one matched by security.allowed_origins,
 * or without that list the origin of rest.base_url or websocket.url. *allowed set; Q_OK,
 * INVALID_URL (naming path: a URL no origin can be read from safely) or OUT_OF_MEMORY. */
int config_origin_allowed(const q_config *c, const uint8_t *url, uint32_t n, bool *allowed, const char *path, q_error *err);

/* Validates JSON text js[0..len) (a failure is named `where`) and starts a walk over its value,
 * whitespace trimmed, with key paths under `path`; a value that is no object is TYPE_MISMATCH
 * (the config and a call's options are objects). */
int config_walk_text(schema_walk *w, const uint8_t *js, uint32_t len, const char *where, const char *path, q_error *err);

/* The config's schema tables (the sections and their settings). */
extern const schema_set CONFIG_SCHEMA_SET;
extern const char Q_HTTP_METHOD_LIST[];   /* "GET\0POST\0...": q_http_method order, a schema enum */
/* The method a string token names; a schema ST_ENUM of Q_HTTP_METHOD_LIST validated it (the
 * last method is the only one left when no other matched). */
uint8_t config_method(const schema_walk *w, int tok);
/* Entry i of a NUL-separated list ("a\0b\0"; i in range). */
const char *list_nth(const char *list, unsigned i);
/* The name of method m ("GET", ...). */
const char *config_method_name(uint8_t m);

#endif
