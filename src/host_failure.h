/* What a host's failure identifier says (Node/OpenSSL error codes such as
 * ERR_TLS_CERT_ALTNAME_INVALID): the TLS failures among them are security errors that no
 * retry or reconnect heals. Browsers report no such codes (a TLS failure is a plain network
 * error there). Only the TLS module has the table: elsewhere this returns NULL. */
#ifndef Q_HOST_FAILURE_H
#define Q_HOST_FAILURE_H
#include "base.h"

/* The TLS failure `code` names, as a detail id (QD, for q_fail: "the server certificate names
 * another host"); NULL when it names none (refused, reset, DNS, ...). */
const char *host_tls_failure(const uint8_t *code, uint32_t n);
#endif
