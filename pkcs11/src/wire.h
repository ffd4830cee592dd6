/*
 * The module's side of the socket: configuration (file and environment, docs/pkcs11.md
 * "Configuration"), the log, request building (JSON) and framed request/reply exchange.
 */
#ifndef CUSTODIAN_WIRE_H
#define CUSTODIAN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ck.h"
#include "reply.h"

typedef struct cfg {
  char socket[108];
  char credential[64];
  char purpose[201];
  char requester[201];
  char log[512];
  int quiet;
} cfg;

/* Loads the configuration; 0, or -1 with the reason logged. */
int cfg_load(cfg *c);

/* Appends one line to the log (and to stderr unless quiet). */
void log_line(const cfg *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable request buffer. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  int failed;
} sbuf;

void sb_raw(sbuf *b, const char *s);
void sb_str(sbuf *b, const char *s); /* JSON string with escapes */
void sb_num(sbuf *b, unsigned long v);
void sb_hex(sbuf *b, const uint8_t *d, size_t n);
void sb_free(sbuf *b);

/* Connects and authenticates (hello); the fd, or -1 with *rv set and the reason logged. */
int conn_open(const cfg *c, CK_RV *rv);

/*
 * Sends one request and reads its reply. CKR_OK when a well-formed reply arrived (the server's
 * verdict is then out->rv); CKR_DEVICE_REMOVED when the server went away; CKR_DEVICE_ERROR for
 * a malformed reply. timeout_s bounds the wait for the reply.
 */
CK_RV conn_call(const cfg *c, int fd, const sbuf *req, cp_reply *out, int timeout_s);

#endif
