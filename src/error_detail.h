/* Detail texts of error records, one row per text: X(NAME, text). A call site names one as
 * QD(NAME) where q_fail takes its detail, e.g. q_fail(err, Q_ERR(JSON_NUMBER), p, NULL, QD(LEADING_ZERO)).
 *
 * Why ids: the wasm modules carry no message text. QD(NAME) is a small number cast to a
 * pointer (never a valid address: ids stay below Q_DETAIL_COUNT_, far below the first
 * data byte); the wasm record holds a marker for it and the glue (js-glue/qollective.js,
 * DETAILS, in this order) puts the text in. Host builds put the text in at q_fail, so
 * cmocka suites see the same messages. A plain string literal still works as a detail
 * everywhere (it is then carried as text, bytes and all).
 *
 * Append rows at the end and add the text to the glue's DETAILS at the same place:
 * tests/js/error-text.test.mjs checks that both lists agree. */
#ifndef Q_ERROR_DETAIL_H
#define Q_ERROR_DETAIL_H

#define Q_DETAIL_TABLE(X) \
    X(AUTO_FILL_NEEDS_16_ENTROPY_BYTES_PER,     "auto-fill needs 16 entropy bytes per envelope") \
    X(TOO_MANY_ITEMS,                           "too many items") \
    X(ITEM_LENGTH_RUNS_PAST_THE_INPUT,          "item length runs past the input") \
    X(EXPECTED_AN_OBJECT,                       "expected an object") \
    X(META_SIZE_LIMIT,                          "meta size limit") \
    X(ENVELOPE_SIZE_LIMIT,                      "envelope size limit") \
    X(AN_ENVELOPE_IS_A_JSON_OBJECT,             "an envelope is a JSON object") \
    X(OUTPUT_BUFFER,                            "output buffer") \
    X(EXPECTED_A_KEY,                           "expected a key") \
    X(EXPECTED_COLON,                           "expected ':'") \
    X(EXPECTED_COMMA_OR_BRACE,                  "expected ',' or '}'") \
    X(THE_CODEC_MODULE_HAS_NO_CLIENTS_LOAD,     "the codec module has no clients (load qollective.wasm)") \
    X(LENGTH_EXCEEDS_THE_INPUT_BUFFER,          "length exceeds the input buffer") \
    X(JSON_NESTING_STACK,                       "JSON nesting stack") \
    X(NON_ASCII_BYTE_OUTSIDE_A_STRING,          "non-ASCII byte outside a string") \
    X(EXPECTED_A_VALUE,                         "expected a value") \
    X(EXPECTED_COMMA_OR_BRACKET,                "expected ',' or ']'") \
    X(EXPECTED_A_STRING_KEY,                    "expected a string key") \
    X(NO_OUTPUT_BUFFER,                         "no output buffer") \
    X(BYTE_ORDER_MARK,                          "byte order mark") \
    X(EXPECTED_A_HEX_DIGIT,                     "expected a hex digit") \
    X(LONE_LOW_SURROGATE,                       "lone low surrogate") \
    X(HIGH_SURROGATE_WITHOUT_A_LOW_SURROGATE,   "high surrogate without a low surrogate") \
    X(LEADING_ZERO,                             "leading zero") \
    X(EXPECTED_A_DIGIT,                         "expected a digit") \
    X(EXPECTED_A_DIGIT_AFTER_THE_POINT,         "expected a digit after '.'") \
    X(EXPECTED_A_DIGIT_IN_THE_EXPONENT,         "expected a digit in the exponent") \
    X(EXCEEDS_A_64_BIT_FLOAT,                   "exceeds a 64-bit float") \
    X(INVALID_LITERAL,                          "invalid literal") \
    X(NO_TOKENS,                                "no tokens") \
    X(OUTPUT,                                   "output") \
    X(MAP_KEYS,                                 "map keys") \
    X(MINUS_ZERO_IS_A_FLOAT_TO_SERDE_JSON,      "-0 is a float to serde_json") \
    X(TOKEN_ARRAY,                              "token array") \
    X(TOKENIZER_DISAGREED_WITH_VALIDATOR,       "tokenizer disagreed with validator") \
    X(EXPECTED_A_STRING,                        "expected a string") \
    X(EXPECTED_A_NUMBER,                        "expected a number") \
    X(EXPECTED_AN_INTEGER,                      "expected an integer") \
    X(EXPECTED_TRUE_OR_FALSE,                   "expected true or false") \
    X(EXPECTED_AN_ARRAY,                        "expected an array") \
    X(EXPECTED_A_SCALAR,                        "expected a string, number or boolean") \
    X(ENUM_MAP_FORM,                            "a variant in map form is {\"Name\":null}") \
    X(UNEXPECTED_VALUE,                         "unexpected value") \
    X(EXPECTED_A_32_BIT_INTEGER,                "expected a 32-bit integer") \
    X(EXPECTED_A_64_BIT_INTEGER,                "expected a 64-bit integer") \
    X(EXPECTED_AN_UNSIGNED_64_BIT_INTEGER,      "expected an unsigned 64-bit integer") \
    X(EXPECTED_AN_INTEGER_0_65535,              "expected an integer 0..65535") \
    X(EXPECTED_AN_INTEGER_0_4294967295,         "expected an integer 0..4294967295") \
    X(INVALID_OR_TRUNCATED_SEQUENCE,            "invalid or truncated sequence") \
    X(UNEXPECTED_CONTINUATION_BYTE,             "unexpected continuation byte") \
    X(OVERLONG_ENCODING,                        "overlong encoding") \
    X(ENCODED_SURROGATE,                        "encoded surrogate") \
    X(ABOVE_U_10FFFF,                           "above U+10FFFF") \
    X(ERROR_SIZE_LIMIT,                         "max_error_bytes limit") \
    X(CLIENT_TABLE_FULL,                        "client table full") \
    X(PREPARE_NEEDS_20_ENTROPY_BYTES,           "prepare needs 20 entropy bytes") \
    X(ACTIONS,                                  "actions") \
    X(OPEN_NEEDS_4_ENTROPY_BYTES,               "open needs 4 entropy bytes") \
    X(REQUEST_NEEDS_16_ENTROPY_BYTES,           "request needs 16 entropy bytes") \
    X(UNKNOWN_EVENT,                            "unknown event") \
    X(LENGTH_NOT_A_MULTIPLE_OF_4,               "length not a multiple of 4") \
    X(MISPLACED_PADDING,                        "misplaced padding") \
    X(INVALID_CHARACTER,                        "invalid character") \
    X(DATA_AFTER_PADDING,                       "data after padding") \
    X(NON_ZERO_PADDING_BITS,                    "non-zero padding bits") \
    X(ORIGIN_NOT_IN_SECURITY_ALLOWED_ORIGINS,   "origin not in security.allowed_origins") \
    X(MUST_START_WITH_SLASH,                    "must start with '/'") \
    X(A_TOKEN_NAME_OF_1_64_BYTES,               "a token name of 1..64 bytes") \
    X(FOUR_OR_SEVEN,                            "4 or 7") \
    X(AT_LEAST_RETRY_BASE_DELAY_MS,             "must be >= retry.base_delay_ms") \
    X(REQUEST,                                  "request") \
    X(NOT_CONFIGURED,                           "not configured") \
    X(RANGE_1_86400000,                         "1..86400000") \
    X(PAYLOAD_TOO_LARGE_FOR_A_GET_DELETE_QUERY, "payload too large for a GET/DELETE query") \
    X(NOT_AN_HTTP_STATUS,                       "not an HTTP status") \
    X(UNKNOWN_FAILURE_KIND,                     "unknown failure kind") \
    X(CONNECTION_REFUSED_OR_RESET_DNS_TLS_OR,   "connection refused or reset, DNS, TLS or CORS failure") \
    X(NOT_A_3XX_STATUS_OR_0,                    "not a 3xx status (or 0)") \
    X(THE_REPLY_CAME_AFTER_THE_REQUEST,         "the reply came after the request deadline") \
    X(THE_REQUEST_DEADLINE_PASSED,              "the request deadline passed") \
    X(THE_REQUEST_DEADLINE_PASSED_WHILE,        "the request deadline passed while waiting to retry") \
    X(CANNOT_TRAVEL_IN_AN_HTTP_HEADER_CONTROL,  "cannot travel in an HTTP header: control or non-ASCII characters") \
    X(CANNOT_TRAVEL_IN_AN_HTTP_HEADER_LEADING,  "cannot travel in an HTTP header: leading or trailing whitespace") \
    X(THE_CONFIGURED_TOKEN_IS_NOT_SET,          "the configured token is not set") \
    X(REQUEST_HEADERS_EXCEED_LIMITS_MAX_HEADER, "request headers exceed limits.max_header_bytes") \
    X(HEADER_NOT_ALLOWED_FORBIDDEN_BY_FETCH_OR, "header not allowed (forbidden by fetch or reserved)") \
    X(HEADER_IS_WRITTEN_BY_THE_CLIENT_FROM,     "header is written by the client (from meta, the body or the token)") \
    X(NOT_A_VALID_HEADER_NAME,                  "not a valid header name") \
    X(HEADER_VALUE_HAS_CONTROL_OR_NON_ASCII,    "header value has control or non-ASCII characters") \
    X(MORE_THAN_64_EXTRA_HEADERS,               "more than 64 extra headers") \
    X(THE_BROWSER_DOES_NOT_SHOW_WHERE_A,        "the browser does not show where a redirect goes, so it cannot be checked against security.allowed_origins") \
    X(A_REDIRECT_WITHOUT_A_LOCATION,            "a redirect without a Location") \
    X(A_3XX_STATUS_THE_CLIENT_DOES_NOT_FOLLOW,  "a 3xx status the client does not follow") \
    X(MORE_HOPS_THAN_ALLOWED,                   "more hops than allowed") \
    X(REDIRECTS_ARE_NOT_FOLLOWED_0,             "redirects are not followed (0)") \
    X(A_REDIRECT_TO_AN_ORIGIN_NOT_IN_SECURITY,  "a redirect to an origin not in security.allowed_origins; nothing was sent there") \
    X(TOO_MANY_REQUESTS_IN_FLIGHT,              "too many requests in flight") \
    X(UNKNOWN_OR_FINISHED_REQUEST,              "unknown or finished request") \
    X(NO_ATTEMPT_IN_FLIGHT,                     "no attempt in flight") \
    X(NOT_WAITING_TO_RETRY,                     "not waiting to retry") \
    X(NOT_IN_FLIGHT,                            "not in flight") \
    X(RANGE_1_64_BYTES,                         "1..64 bytes") \
    X(RANGE_1_8192_BYTES,                       "1..8192 bytes") \
    X(VISIBLE_ASCII_ONLY,                       "visible ASCII only") \
    X(TOKEN_STORE_FULL,                         "token store full") \
    X(SPACE_CONTROL_OR_NON_ASCII_CHARACTER,     "space, control or non-ASCII character") \
    X(FRAGMENT_NOT_ALLOWED,                     "fragment not allowed") \
    X(QUERY_NOT_ALLOWED_IN_A_BASE_URL,          "query not allowed in a base URL") \
    X(CHARACTER_MUST_BE_PERCENT_ENCODED,        "character must be percent-encoded") \
    X(BAD_PERCENT_ESCAPE,                       "bad percent escape") \
    X(EMPTY,                                    "empty") \
    X(TOO_LONG,                                 "too long") \
    X(SCHEME_MUST_BE_HTTP_OR_HTTPS,             "scheme must be http or https") \
    X(EXPECTED_SCHEME_SLASHES,                  "expected ://") \
    X(CREDENTIALS_IN_URLS_ARE_NOT_ALLOWED,      "credentials in URLs are not allowed") \
    X(BAD_IPV6_LITERAL,                         "bad IPv6 literal") \
    X(MISSING_HOST,                             "missing host") \
    X(PORT_MUST_BE_1_65535,                     "port must be 1-65535") \
    X(INVALID_HOST_CHARACTER,                   "invalid host character") \
    X(ROUTE_MUST_START_WITH_SLASH,              "route must start with '/'") \
    X(ROUTE_MUST_NOT_START_WITH_TWO_SLASHES,    "route must not start with '//'") \
    X(CLOSED,                                   "closed") \
    X(DRAINING_NO_NEW_REQUESTS,                 "draining: no new requests") \
    X(AN_INTEGER_1_86400000,                    "an integer 1..86400000") \
    X(NOT_FOUND_IN_THE_ENCODED_ENVELOPE,        "not found in the encoded envelope") \
    X(THE_FRAME_WOULD_EXCEED_IT_NOTHING_WAS,    "the frame would exceed it; nothing was sent") \
    X(NOT_CONNECTED_AND_THE_QUEUE_IS_FULL,      "not connected and the queue is full; nothing was sent") \
    X(NO_CONNECTION_BEFORE_THE_DEADLINE,        "no connection before the deadline") \
    X(NO_REPLY_BEFORE_THE_DEADLINE,             "no reply before the deadline") \
    X(SOCKET_CLOSED,                            "socket closed") \
    X(CONNECT_TIMEOUT_TIMEOUTS_CONNECT_MS,      "connect timeout (timeouts.connect_ms)") \
    X(THE_CONNECTION_WENT_SILENT_NO_PONG,       "the connection went silent (no pong)") \
    X(A_FRAME_LARGER_THAN_WEBSOCKET_MAX,        "a frame larger than websocket.max_message_bytes arrived") \
    X(THE_CONNECTION_CLOSED_BEFORE_THE_REPLY,   "the connection closed before the reply") \
    X(TOO_MANY_REQUESTS_ON_THIS_SOCKET,         "too many requests on this socket") \
    X(A_REQUEST_WITH_THIS_ID_IS_ALREADY_IN,     "a request with this id is already in flight on this socket") \
    X(REQUEST_TABLE,                            "request table") \
    X(REQUEST_INDEX,                            "request index") \
    X(EXPECTED_A_JSON_OBJECT,                   "expected a JSON object") \
    X(INVALID_KEY,                              "invalid key") \
    X(INVALID_JSON,                             "invalid JSON") \
    X(DUPLICATE_KEY,                            "duplicate key") \
    X(DATA_AFTER_THE_FRAME_OBJECT,              "data after the frame object") \
    X(MISSING,                                  "missing") \
    X(NOT_A_STRING,                             "not a string") \
    X(UNKNOWN_FRAME_TYPE,                       "unknown frame type") \
    X(ENVELOPE_FRAME_WITHOUT_A_PAYLOAD,         "envelope frame without a payload") \
    X(NOT_A_NON_NEGATIVE_INTEGER_OR_NULL,       "not a non-negative integer or null") \
    X(A_WEBSOCKET_URL_STARTS_WITH_WS_OR_WSS,    "a WebSocket URL starts with ws:// or wss://") \
    X(LONGER_THAN_8192_BYTES,                   "longer than 8192 bytes") \
    X(SPACE_CONTROL_CHARACTER_OR_FRAGMENT,      "space, control character or fragment") \
    X(NO_URL_GIVEN_AND_NONE_CONFIGURED,         "no URL given and none configured") \
    X(EVERY_POOLED_SOCKET_HAS_REQUESTS_IN,      "every pooled socket has requests in flight") \
    X(UNKNOWN_OR_CLOSED_SOCKET,                 "unknown or closed socket") \
    X(SERVER_SENT_NO_MESSAGE,                   "server returned an error without a message") \
    X(RESPONSE_IS_NOT_A_VALID_ENVELOPE,         "response is not a valid envelope") \
    X(WITHOUT_AN_ENVELOPE,                      "without an envelope") \
    X(ENVELOPE_INVALID,                         "envelope invalid") \
    X(LARGER_THAN_Q_TLS_MAX_SIGN_BYTES,         "larger than Q_TLS_MAX_SIGN_BYTES") \
    X(NO_PRIVATE_KEY_CONFIGURED_OR_EMBEDDED,    "no private key configured or embedded") \
    X(NO_CERTIFICATE_CONFIGURED_OR_EMBEDDED,    "no certificate configured or embedded") \
    X(CERTIFICATE,                              "certificate") \
    X(THE_DER_STRUCTURE_ENDS_EARLY,             "the DER structure ends early") \
    X(ALGORITHM_NOT_SUPPORTED_BY_THIS_BUILD,    "algorithm not supported by this build (RSA, ECDSA P-256, SHA-256)") \
    X(MALFORMED_X_509_STRUCTURE,                "malformed X.509 structure") \
    X(DATA_AFTER_THE_CERTIFICATE,               "data after the certificate") \
    X(PEM_HEADER_LINE_IS_CUT_OFF,               "PEM header line is cut off") \
    X(EXPECTED_A_CERTIFICATE_BLOCK,             "expected a CERTIFICATE block") \
    X(NO_END_CERTIFICATE_LINE,                  "no -----END CERTIFICATE----- line") \
    X(MORE_CERTIFICATES_THAN_Q_TLS_MAX_CHAIN,   "more certificates than Q_TLS_MAX_CHAIN_CERTS") \
    X(PEM,                                      "PEM") \
    X(INVALID_BASE64_IN_THE_PEM_BLOCK,          "invalid Base64 in the PEM block") \
    X(NO_BEGIN_CERTIFICATE_LINE,                "no -----BEGIN CERTIFICATE----- line") \
    X(LARGER_THAN_Q_TLS_MAX_PEM_BYTES,          "larger than Q_TLS_MAX_PEM_BYTES") \
    X(EMPTY_INPUT,                              "empty input") \
    X(NOTBEFORE_IS_AFTER_NOW,                   "notBefore is after now") \
    X(NOTAFTER_IS_BEFORE_NOW,                   "notAfter is before now") \
    X(NO_SUBJECTALTNAME_MATCHES_THE_HOST,       "no subjectAltName matches the host") \
    X(A_KEY_NEEDS_ITS_CERTIFICATE,              "a key needs its certificate") \
    X(DOES_NOT_MATCH_THE_CERTIFICATE,           "does not match the certificate") \
    X(ENCRYPTED_OR_UNSUPPORTED_KEY_FORMAT_GIVE, "encrypted or unsupported key format (give an unencrypted PKCS#8, SEC1 or PKCS#1 key)") \
    X(NOT_A_PEM_OR_DER_PRIVATE_KEY_RSA_OR_EC_P, "not a PEM or DER private key (RSA or EC P-256)") \
    X(NEEDS_32_ENTROPY_BYTES,                   "needs 32 entropy bytes") \
    X(THE_KEY_CANNOT_SIGN,                      "the key cannot sign") \
    X(THE_CONFIGURED_TOKEN_EXPIRED,             "the configured token expired") \
    X(BAD_IPV6_ADDRESS,                        "bad IPv6 address") \
    X(BAD_IPV6_ADDRESS_TWO,                    "bad IPv6 address: two '::'") \
    X(BAD_IPV4_PART_IN_IPV6_ADDRESS,           "bad IPv4 part in IPv6 address") \
    X(LEADING_ZERO_IN_IPV6_S_IPV4_PART,        "leading zero in IPv6's IPv4 part") \
    X(BAD_IPV6_ADDRESS_FEWER_THAN_8_PIECES,    "bad IPv6 address: fewer than 8 pieces") \
    X(IPV4_ADDRESS_MUST_BE_FOUR_DECIMAL_NUMBER,"IPv4 address must be four decimal numbers") \
    X(IPV4_PART_WITH_A_LEADING_ZERO_READ_AS_OC,"IPv4 part with a leading zero (read as octal)") \
    X(IPV4_ADDRESS_MUST_BE_FOUR_DECIMAL_NUMBER_2,"IPv4 address must be four decimal numbers 0-255") \
    X(EMPTY_URL,                               "empty URL") \
    X(NOT_AN_ABSOLUTE_URL,                     "not an absolute URL") \
    X(SCHEME_MUST_BE_HTTP_HTTPS_WS_OR_WSS,     "scheme must be http, https, ws or wss") \
    X(EXPECTED_AFTER_THE_SCHEME,               "expected :// after the scheme") \
    X(BACKSLASH_IN_THE_HOST_WHATWG_PARSERS_END,"backslash in the host (WHATWG parsers end the host there)") \
    X(PERCENT_ENCODED_HOST_WHATWG_PARSERS_DECO,"percent-encoded host (WHATWG parsers decode it)") \
    X(SPACE_CONTROL_OR_NON_ASCII_CHARACTER_IN, "space, control or non-ASCII character in the host (use the punycode form)") \
    X(UNCLOSED_IPV6_LITERAL,                   "unclosed IPv6 literal") \
    X(NO_WILDCARD_IN_AN_IPV6_LITERAL,          "no wildcard in an IPv6 literal") \
    X(HOST_LONGER_THAN_253_BYTES,              "host longer than 253 bytes") \
    X(EMPTY_LABEL_IN_THE_HOST,                 "empty label in the host") \
    X(HOST_LABEL_LONGER_THAN_63_BYTES,         "host label longer than 63 bytes") \
    X(A_WILDCARD_IS_ONLY_ALLOWED_AS_THE_FIRST, "a wildcard is only allowed as the first label, as \"*.\"") \
    X(CHARACTER_NOT_ALLOWED_IN_A_HOST,         "character not allowed in a host") \
    X(NO_WILDCARD_OVER_AN_IP_ADDRESS,          "no wildcard over an IP address") \
    X(A_WILDCARD_NEEDS_AT_LEAST_TWO_LABELS_AFT,"a wildcard needs at least two labels after \"*.\"") \
    X(UNEXPECTED_CHARACTER_AFTER_THE_HOST,     "unexpected character after the host") \
    X(EMPTY_PORT,                              "empty port") \
    X(AN_ALLOWED_ORIGIN_HAS_NO_PATH_QUERY_OR_F,"an allowed origin has no path, query or fragment") \
    X(ORIGIN_NOT_IN_SECURITY_ALLOWED_ORIGINS_N,"origin not in security.allowed_origins; no socket was opened") \
    X(SERVER_REQUIRES_A_CLIENT_CERTIFICATE,    "the server requires a client certificate; none was sent") \
    X(SERVER_CLOSED_AFTER_THE_HANDSHAKE,       "the server closed the connection after the handshake: client certificate refused") \
    X(SERVER_REFUSED_THE_CLIENT_CERT_EXPIRED,  "the server refused the client certificate as expired") \
    X(SERVER_DOES_NOT_TRUST_THE_CLIENT_CA,     "the server does not trust the client certificate's CA") \
    X(SERVER_REFUSED_THE_CLIENT_CERTIFICATE,   "the server refused the client certificate") \
    X(SERVER_CERTIFICATE_NAMES_ANOTHER_HOST,   "the server certificate names another host") \
    X(SERVER_CERTIFICATE_EXPIRED,              "the server certificate expired") \
    X(SERVER_CERTIFICATE_NOT_YET_VALID,        "the server certificate is not yet valid") \
    X(SERVER_CERTIFICATE_NOT_TRUSTED,          "the server certificate is not trusted") \
    X(SERVER_CERTIFICATE_REFUSED,              "the server certificate was refused") \
    X(TLS_PROTOCOL_FAILURE,                    "TLS protocol failure") \
    X(CHAIN_CHECK,                             "chain check") \
    X(A_CERTIFICATE_IN_THE_CHAIN_HAS_EXPIRED,  "a certificate in the chain has expired") \
    X(A_CERTIFICATE_IN_THE_CHAIN_NOT_YET_VALID, "a certificate in the chain is not valid yet") \
    X(NOT_ISSUED_BY_THE_CONFIGURED_CA,         "not issued by the configured CA") \
    X(SIGNED_WITH_AN_ALGORITHM_OR_KEY_REFUSED, "signed with an algorithm or key this build does not accept") \
    X(A_CA_IN_THE_CHAIN_MAY_NOT_SIGN,          "a CA in the chain may not sign certificates") \
    X(CHAIN_VERIFICATION_FAILED,               "chain verification failed") \
    X(THE_KEY_CAN_SIGN_NEITHER_ALGORITHM,      "the key can sign neither ecdsa-p256-sha256 nor rsa-v1_5-sha256")

typedef enum {
    Q_DETAIL_NONE_ = 0,
#define Q_DETAIL_ENUM_(name, text) Q_DETAIL_##name,
    Q_DETAIL_TABLE(Q_DETAIL_ENUM_)
#undef Q_DETAIL_ENUM_
    Q_DETAIL_COUNT_
} q_detail_id;

#define QD(name) ((const char *)(__UINTPTR_TYPE__)Q_DETAIL_##name)
/* A detail that is an id (QD) rather than text. */
#define Q_DETAIL_IS_ID(detail) ((__UINTPTR_TYPE__)(detail) < (__UINTPTR_TYPE__)Q_DETAIL_COUNT_)

#endif
