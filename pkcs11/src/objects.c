/* Object attributes (see objects.h). */
#include "objects.h"

#include <string.h>

CK_OBJECT_HANDLE obj_handle(CK_SLOT_ID slot, size_t index, int kind) {
  return ((CK_OBJECT_HANDLE)(slot + 1) << 16) | ((CK_OBJECT_HANDLE)index << 2) | (CK_ULONG)kind;
}

int obj_split(CK_OBJECT_HANDLE h, CK_SLOT_ID *slot, size_t *index, int *kind) {
  CK_ULONG s = h >> 16;
  if (s == 0 || s > CP_MAX_SLOTS) return -1;
  *slot = s - 1;
  *index = (size_t)((h & 0xffffUL) >> 2);
  *kind = (int)(h & 3UL);
  return *kind == 0 ? -1 : 0;
}

size_t obj_sig_len(const cp_key *k) {
  if (k->type == CKK_RSA) {
    size_t n = k->modulus_len;
    const uint8_t *m = k->modulus;
    while (n > 0 && *m == 0) {
      m++;
      n--;
    }
    return n;
  }
  size_t hdr = k->ec_point[1] < 0x80 ? 2 : 3;
  return k->ec_point_len > hdr ? k->ec_point_len - hdr - 1 : 0;
}

static CK_RV ulong_val(CK_ULONG v, const void **val, size_t *len, unsigned char *scratch) {
  memcpy(scratch, &v, sizeof v);
  *val = scratch;
  *len = sizeof v;
  return CKR_OK;
}

static CK_RV bool_val(int v, const void **val, size_t *len, unsigned char *scratch) {
  scratch[0] = v ? CK_TRUE : CK_FALSE;
  *val = scratch;
  *len = 1;
  return CKR_OK;
}

static CK_RV bytes_val(const void *p, size_t n, const void **val, size_t *len) {
  *val = p;
  *len = n;
  return CKR_OK;
}

static CK_RV public_part(const cp_key *k, CK_ATTRIBUTE_TYPE type, const void **val, size_t *len,
                         unsigned char *scratch) {
  if (k->type == CKK_RSA) {
    if (type == CKA_MODULUS) return bytes_val(k->modulus, k->modulus_len, val, len);
    if (type == CKA_PUBLIC_EXPONENT) return bytes_val(k->exponent, k->exponent_len, val, len);
    if (type == CKA_MODULUS_BITS) return ulong_val(obj_sig_len(k) * 8, val, len, scratch);
  } else {
    if (type == CKA_EC_PARAMS) return bytes_val(k->ec_params, k->ec_params_len, val, len);
    if (type == CKA_EC_POINT) return bytes_val(k->ec_point, k->ec_point_len, val, len);
  }
  return CKR_ATTRIBUTE_TYPE_INVALID;
}

CK_RV obj_attr(const cp_key *k, int kind, CK_ATTRIBUTE_TYPE type, const void **val, size_t *len,
               unsigned char *scratch) {
  /* Common to all three objects. */
  switch (type) {
    case CKA_CLASS:
      return ulong_val(kind == OBJ_PRIVATE  ? CKO_PRIVATE_KEY
                       : kind == OBJ_PUBLIC ? CKO_PUBLIC_KEY
                                            : CKO_CERTIFICATE,
                       val, len, scratch);
    case CKA_TOKEN:
      return bool_val(1, val, len, scratch);
    case CKA_PRIVATE:
      return bool_val(kind == OBJ_PRIVATE, val, len, scratch);
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_DESTROYABLE:
      return bool_val(0, val, len, scratch);
    case CKA_LABEL:
      return bytes_val(k->label, strlen(k->label), val, len);
    case CKA_ID:
      return bytes_val(k->id, k->id_len, val, len);
    default:
      break;
  }
  if (kind == OBJ_CERT) {
    switch (type) {
      case CKA_CERTIFICATE_TYPE:
        return ulong_val(CKC_X_509, val, len, scratch);
      case CKA_CERTIFICATE_CATEGORY:
        return ulong_val(0, val, len, scratch);
      case CKA_TRUSTED:
        return bool_val(0, val, len, scratch);
      case CKA_VALUE:
        return bytes_val(k->cert.data, k->cert.len, val, len);
      case CKA_SUBJECT:
        return bytes_val(k->cert_subject.data, k->cert_subject.len, val, len);
      case CKA_ISSUER:
        return bytes_val(k->cert_issuer.data, k->cert_issuer.len, val, len);
      case CKA_SERIAL_NUMBER:
        return bytes_val(k->cert_serial.data, k->cert_serial.len, val, len);
      default:
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
  }
  switch (type) {
    case CKA_KEY_TYPE:
      return ulong_val(k->type, val, len, scratch);
    case CKA_SUBJECT:
      return bytes_val(k->cert_subject.data, k->cert_subject.len, val, len);
    case CKA_LOCAL:
      return bool_val(1, val, len, scratch);
    case CKA_DERIVE:
    case CKA_ENCRYPT:
    case CKA_DECRYPT:
    case CKA_WRAP:
    case CKA_UNWRAP:
    case CKA_SIGN_RECOVER:
    case CKA_VERIFY_RECOVER:
      return bool_val(0, val, len, scratch);
    case CKA_SIGN:
      return bool_val(kind == OBJ_PRIVATE, val, len, scratch);
    case CKA_VERIFY:
      return bool_val(kind == OBJ_PUBLIC, val, len, scratch);
    default:
      break;
  }
  if (kind == OBJ_PRIVATE) {
    switch (type) {
      case CKA_SENSITIVE:
      case CKA_ALWAYS_SENSITIVE:
      case CKA_NEVER_EXTRACTABLE:
        return bool_val(1, val, len, scratch);
      case CKA_EXTRACTABLE:
      case CKA_ALWAYS_AUTHENTICATE:
        return bool_val(0, val, len, scratch);
      case CKA_VALUE:
        return CKR_ATTRIBUTE_SENSITIVE;
      default:
        /* CKA_PRIVATE_EXPONENT … CKA_COEFFICIENT (0x123–0x128): held by the card only. */
        if (k->type == CKK_RSA && type >= 0x123 && type <= 0x128) return CKR_ATTRIBUTE_SENSITIVE;
        break;
    }
  }
  return public_part(k, type, val, len, scratch);
}
