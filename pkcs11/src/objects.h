/*
 * The token's objects: for every key on the target a private key, a public key and (when the
 * card holds an X.509 certificate for it) a certificate object, with their attributes
 * (docs/pkcs11.md "Objects").
 */
#ifndef CUSTODIAN_OBJECTS_H
#define CUSTODIAN_OBJECTS_H

#include "../include/ck.h"
#include "reply.h"

enum { OBJ_PRIVATE = 1, OBJ_PUBLIC = 2, OBJ_CERT = 3 };

/* Handle of object `kind` of key `index` in slot `slot`. */
CK_OBJECT_HANDLE obj_handle(CK_SLOT_ID slot, size_t index, int kind);

/* Splits a handle; 0 on success. */
int obj_split(CK_OBJECT_HANDLE h, CK_SLOT_ID *slot, size_t *index, int *kind);

/*
 * The value of attribute `type` of object `kind` of key `k`: CKR_OK with *val and *len set (scalars
 * are written to `scratch`, at least 16 bytes), CKR_ATTRIBUTE_SENSITIVE or
 * CKR_ATTRIBUTE_TYPE_INVALID.
 */
CK_RV obj_attr(const cp_key *k, int kind, CK_ATTRIBUTE_TYPE type, const void **val, size_t *len,
               unsigned char *scratch);

/* Signature length of key `k` (modulus length, or 2 × field length for EC); 0 if unknown. */
size_t obj_sig_len(const cp_key *k);

#endif
