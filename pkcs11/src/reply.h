/*
 * The server's replies on the module socket (docs/pkcs11.md "Wire format"): a frame is a 4-byte
 * big-endian length and a body of TLV items (1-byte tag, 4-byte big-endian length, value);
 * slots and keys are items whose value is again a TLV sequence. The parser is the one piece of
 * the module that reads data from outside the process: it is bounded, copies into fixed-size
 * fields, rejects anything unexpected and never trusts a length (fuzzed in test/fuzz-reply.c).
 */
#ifndef CUSTODIAN_REPLY_H
#define CUSTODIAN_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ck.h"

#define CP_MAX_FRAME (1u << 20)
#define CP_MAX_SLOTS 64
#define CP_MAX_KEYS 255

enum {
  CP_TAG_RV = 0x01,
  CP_TAG_MESSAGE = 0x02,
  CP_TAG_CLIENT = 0x03,
  CP_TAG_SLOT = 0x10,
  CP_TAG_SLOT_NAME = 0x11,
  CP_TAG_SLOT_LABEL = 0x12,
  CP_TAG_SLOT_DEVICE = 0x13,
  CP_TAG_SLOT_FLAGS = 0x14,
  CP_TAG_KEY = 0x20,
  CP_TAG_KEY_REF = 0x21,
  CP_TAG_KEY_TYPE = 0x22,
  CP_TAG_KEY_ID = 0x23,
  CP_TAG_KEY_LABEL = 0x24,
  CP_TAG_KEY_MODULUS = 0x25,
  CP_TAG_KEY_EXPONENT = 0x26,
  CP_TAG_KEY_EC_PARAMS = 0x27,
  CP_TAG_KEY_EC_POINT = 0x28,
  CP_TAG_KEY_CERT = 0x29,
  CP_TAG_KEY_CERT_SUBJECT = 0x2B,
  CP_TAG_KEY_CERT_ISSUER = 0x2C,
  CP_TAG_KEY_CERT_SERIAL = 0x2D,
  CP_TAG_SIGNATURE = 0x30,
  CP_TAG_UNLOCKED = 0x31
};

#define CP_SLOT_CONNECTED 0x01u
#define CP_SLOT_UNLOCKED 0x02u

typedef struct cp_bytes {
  uint8_t *data; /* malloc'd, NULL when absent */
  size_t len;
} cp_bytes;

typedef struct cp_slot {
  char name[65];
  char label[101];
  char device[33];
  unsigned flags;
} cp_slot;

typedef struct cp_key {
  unsigned ref;      /* the card's key id, 1-255 */
  CK_KEY_TYPE type;  /* CKK_RSA or CKK_EC */
  uint8_t id[64];
  size_t id_len;
  char label[101];
  uint8_t modulus[512];
  size_t modulus_len;
  uint8_t exponent[16];
  size_t exponent_len;
  uint8_t ec_params[32];
  size_t ec_params_len;
  uint8_t ec_point[160];
  size_t ec_point_len;
  cp_bytes cert, cert_subject, cert_issuer, cert_serial;
} cp_key;

typedef struct cp_reply {
  CK_RV rv;
  char message[513];
  char client[65];
  cp_slot slots[CP_MAX_SLOTS];
  size_t nslots;
  cp_key *keys; /* malloc'd array */
  size_t nkeys;
  uint8_t signature[1024];
  size_t signature_len;
  int has_signature;
  int unlocked; /* -1 absent, 0, 1 */
} cp_reply;

/* Parses one frame body. Returns 0 and fills `out`, or -1 (malformed; `out` is left empty). */
int cp_parse(const uint8_t *body, size_t len, cp_reply *out);

/* Releases what cp_parse allocated (safe on a zeroed or already freed reply). */
void cp_free(cp_reply *r);

/* True for the return values a server may send (anything else is a malformed reply). */
int cp_rv_allowed(CK_RV rv);

#endif
